"""The embedded snapshot: redistributable real data shipped inside the package (deepimagine_data/data/).

Each folder carries a PROVENANCE.md (repository, commit, license, what was kept); GPL-derived folders carry the
license notice beside the data. ``scripts/make_snapshot.py`` rebuilds it from the original sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pyarrow as pa

from .errors import IngestReport


def data_dir() -> Path:
    return Path(str(resources.files("deepimagine_data") / "data"))


@dataclass(frozen=True)
class EmbeddedSource:
    name: str  # the `source` value its rows carry
    folder: str
    license: str
    source_version: str
    homepage: str


EMBEDDED = [
    EmbeddedSource(
        "aact",
        "aact_oncology",
        "GPL-3.0-or-later (compilation); ClinicalTrials.gov records",
        "aact_oncology_merck@140dae356379ec2eb9c1613d00167354a9bcb371",
        "https://github.com/Merck/bards-aactreveal",
    ),
    EmbeddedSource(
        "llm_meta_analysis",
        "llm_meta_analysis",
        "Apache-2.0",
        "hyesunyun/llm-meta-analysis@ca9404c2ec57590c5a1ae53b15b5287d0e51d715",
        "https://github.com/hyesunyun/llm-meta-analysis",
    ),
    EmbeddedSource(
        "dose_response",
        "dose_response",
        "GPL-3.0",
        "MBNMAdose@cc415a218fc119db71e857fd11a525852af76a89+DoseFinding@0e4e9aa9c8b12e0c3b9c3e00415f98f501c2d48b",
        "https://github.com/hugaped/MBNMAdose",
    ),
    EmbeddedSource(
        "clinifact",
        "clinifact",
        "MIT",
        "ds4dh/CliniFact@77f8c19844fd4113aa051f867b4d7a8ce5c3a879",
        "https://github.com/ds4dh/CliniFact",
    ),
]


def read_source(src: EmbeddedSource, path: Path | None = None, strict: bool = False):
    path = path or data_dir() / src.folder
    if src.name == "aact":
        from .sources import aact

        return aact.read(path, strict=strict, source_version=src.source_version, progress=False)
    if src.name == "llm_meta_analysis":
        from .sources import llm_meta_analysis as mod
    elif src.name == "dose_response":
        from .sources import dose_response as mod
    elif src.name == "clinifact":
        from .sources import clinifact as mod
    else:  # pragma: no cover
        raise KeyError(src.name)
    return mod.read(path, strict=strict)


def ingest_embedded(strict: bool = False) -> tuple[dict[str, pa.Table], dict[str, IngestReport]]:
    """All embedded sources -> one set of the six tables (trial ids are unique across sources)."""
    from .tables import concat_tables

    parts, reports = [], {}
    for src in EMBEDDED:
        tables, report = read_source(src, strict=strict)
        parts.append(tables)
        reports[src.name] = report
    from .normalize.names import normalize_interventions

    tables = concat_tables(parts)
    # spelling variants are merged over the whole corpus, so this runs after all sources are in
    tables["interventions"] = normalize_interventions(tables["interventions"])
    return tables, reports
