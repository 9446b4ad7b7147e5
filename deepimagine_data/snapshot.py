"""The embedded snapshot: redistributable real data shipped inside the package (deepimagine_data/data/).

Each folder carries a PROVENANCE.md (repository, commit, license, what was kept); GPL-derived folders carry the
license notice beside the data. ``scripts/make_snapshot.py`` rebuilds it from the original sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


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
    """One shipped source, read by its reader in the source registry."""
    from .sources.registry import by_row_source

    path = path or data_dir() / src.folder
    reader = by_row_source(src.name)
    if src.name == "aact":
        # the AACT reader names its rows after the folder unless told; the curated readers carry their own version
        return reader.read(path, strict=strict, source_version=src.source_version, progress=False)
    return reader.read(path, strict=strict)
