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


def _embedded() -> list[EmbeddedSource]:
    from .sources.registry import SOURCES

    return [
        EmbeddedSource(s.row_source, e.folder, e.license, e.version, e.homepage)
        for s in SOURCES.values()
        if (e := s.embedded) is not None
    ]


# What the default build reads, in the source registry's order (a source declares its shipped sample there).
EMBEDDED = _embedded()


def read_source(src: EmbeddedSource, path: Path | None = None, strict: bool = False):
    """One shipped source, read by its reader in the source registry."""
    from .sources.registry import by_row_source

    path = path or data_dir() / src.folder
    reader = by_row_source(src.name)
    if src.name == "aact":
        # the AACT reader names its rows after the folder unless told; the curated readers carry their own version
        return reader.read(path, strict=strict, source_version=src.source_version, progress=False)
    return reader.read(path, strict=strict)
