"""The source registry: every reader of real trial records, by the name an ``--input`` or ``ingest`` uses.

A source is one module under ``deepimagine_data/sources/`` with a BigBIO-style constants header (``_NAME``,
``_DESCRIPTION``, ``_CITATION``, ``_LICENSE``, ``_HOMEPAGE``) and ``read(path, *, strict, source_version)`` returning
the six tables and an :class:`~deepimagine_data.errors.IngestReport`; adding one is that module plus its entry in
:data:`SOURCES`. ``ingest``, ``build --input``, the cards and the rows' ``license`` column all read this registry.

>>> SOURCES["aact"].row_source, SOURCES["ctgov"].row_source
('aact', 'ctgov_api_v2')
>>> by_row_source("clinifact").kind
'clinifact'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class Embedded:
    """Where a source's shipped sample sits under ``deepimagine_data/data/`` and what the cards say of it."""

    folder: str
    license: str  # the shipped files' terms (a GPL compilation can differ from the records' own terms)
    version: str  # repository@commit the files were taken from (scripts/make_snapshot.py)
    homepage: str


@dataclass(frozen=True)
class Source:
    kind: str  # the --input prefix and the `ingest` subcommand ("aact", "ctgov", "clinifact", ...)
    module: str  # deepimagine_data.sources.<module>
    expects: str  # what the path must be, for the error of an input that is not
    # a shipped sample the default build reads (None: nothing shipped); SOURCES' order is the embedded read order
    embedded: Embedded | None = None
    # True: `deepimagine ingest <kind>` is the generic PATH --out DIR --strict parser; False: cli.py has its own
    generic_ingest: bool = True

    @property
    def ingest_name(self) -> str:
        """The ``deepimagine ingest`` subcommand (``llm_meta_analysis`` -> ``llm-meta-analysis``)."""
        return self.kind.replace("_", "-")

    @cached_property
    def mod(self) -> ModuleType:
        return importlib.import_module(f"deepimagine_data.sources.{self.module}")

    @property
    def row_source(self) -> str:
        """The ``source`` value the rows of this reader carry."""
        return self.mod._NAME

    @property
    def license(self) -> str:
        return self.mod._LICENSE

    @property
    def homepage(self) -> str:
        return self.mod._HOMEPAGE

    @property
    def citation(self) -> str:
        return self.mod._CITATION

    @property
    def description(self) -> str:
        return self.mod._DESCRIPTION

    def read(self, path: Path, *, strict: bool = False, source_version: str | None = None, **kw):
        if self.kind == "ctgov":
            return self.mod.read([path], strict=strict, source_version=source_version or "api-v2")
        if source_version is None:
            return self.mod.read(path, strict=strict, **kw)
        return self.mod.read(path, strict=strict, source_version=source_version, **kw)


SOURCES: dict[str, Source] = {
    s.kind: s
    for s in (
        Source(
            "aact",
            "aact",
            "an AACT dump: a folder or .zip of <table>.txt pipe-delimited files, or <table>.parquet",
            Embedded(
                "aact_oncology",
                "GPL-3.0-or-later (compilation); ClinicalTrials.gov records",
                "aact_oncology_merck@140dae356379ec2eb9c1613d00167354a9bcb371",
                "https://github.com/Merck/bards-aactreveal",
            ),
            generic_ingest=False,
        ),
        Source(
            "ctgov",
            "ctgov_json",
            "ClinicalTrials.gov API v2 studies: .json / .jsonl / API pages, optionally .gz",
            generic_ingest=False,
        ),
        Source(
            "llm_meta_analysis",
            "llm_meta_analysis",
            "annotated_rct_dataset.csv of hyesunyun/llm-meta-analysis (per-arm events/n or mean/SD/n)",
            Embedded(
                "llm_meta_analysis",
                "Apache-2.0",
                "hyesunyun/llm-meta-analysis@ca9404c2ec57590c5a1ae53b15b5287d0e51d715",
                "https://github.com/hyesunyun/llm-meta-analysis",
            ),
        ),
        Source(
            "dose_response",
            "dose_response",
            "the per-dose-arm CSVs of MBNMAdose/DoseFinding (a folder)",
            Embedded(
                "dose_response",
                "GPL-3.0",
                "MBNMAdose@cc415a218fc119db71e857fd11a525852af76a89+DoseFinding@0e4e9aa9c8b12e0c3b9c3e00415f98f501c2d48b",
                "https://github.com/hugaped/MBNMAdose",
            ),
        ),
        Source(
            "clinifact",
            "clinifact",
            "CliniFact's processed CSVs (tar.gz, folder or CSV): arm pairs with p-values",
            Embedded(
                "clinifact",
                "MIT",
                "ds4dh/CliniFact@77f8c19844fd4113aa051f867b4d7a8ce5c3a879",
                "https://github.com/ds4dh/CliniFact",
            ),
        ),
    )
}


def by_row_source(name: str) -> Source:
    """The registry entry whose rows carry ``source == name``."""
    for s in SOURCES.values():
        if s.row_source == name:
            return s
    raise KeyError(f"no source in the registry writes rows with source {name!r}")
