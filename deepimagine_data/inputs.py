"""What a build reads: ``deepimagine build --input SPEC`` (repeatable), checked before anything is written, and the
one assemble step ``ingest`` and ``build`` share.

SPEC is one of

- ``embedded`` — the real data shipped in the package (the default when no ``--input`` is given);
- ``aact:PATH`` — an AACT dump: a folder or .zip of pipe-delimited ``<table>.txt`` files, or a folder of
  ``<table>.parquet``;
- ``ctgov:PATH`` — ClinicalTrials.gov API v2 studies: a file or folder of ``.json`` / ``.jsonl`` / API pages,
  optionally ``.gz`` (what ``deepimagine download ctgov`` writes);
- ``tables:DIR`` — the six ``<table>.parquet`` files ``deepimagine ingest`` wrote;
- ``<source>:PATH`` for the curated per-arm sources of the registry (``llm_meta_analysis``, ``dose_response``,
  ``clinifact``).

**Duplicate trials.** A trial id (for registry records, the NCT id) that several inputs hold is kept from the input
listed first; the later inputs' rows of that trial are dropped and counted (``duplicate_trial``). List the input you
trust most first: ``--input ctgov:DIR --input embedded`` keeps the API v2 records (with per-arm values) of trials the
embedded AACT subset also holds. The curated sources prefix their ids (``clinifact/NCT...``), so they never collide
with registry records; their overlap with them is handled where it matters (splits key trials by NCT id; the bench
asks a registry trial from its registry record only).

**Versions.** An input other than ``embedded`` is fingerprinted (SHA-256 over its files' relative paths and bytes),
and its rows carry ``source_version = "<kind>:<name>@<fingerprint[:16]>"``, so a card says exactly what it was built
from.

>>> Input.parse("aact:/data/aact.zip")
Input(kind='aact', path='/data/aact.zip')
>>> Input.parse("embedded")
Input(kind='embedded', path=None)
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .errors import IngestReport
from .schema import TABLES
from .sources.registry import SOURCES, Source, by_row_source

EMBEDDED = "embedded"
TABLES_KIND = "tables"
KINDS = (EMBEDDED, TABLES_KIND, *SOURCES)


class InputError(ValueError):
    """An input that is not what its kind says; the message names the input, the file and what was expected."""


@dataclass(frozen=True)
class Input:
    kind: str
    path: str | None = None

    @classmethod
    def parse(cls, spec: str | Input) -> Input:
        if isinstance(spec, Input):
            return spec
        kind, sep, path = spec.partition(":")
        kind = kind.strip().lower().replace("-", "_")
        if kind == "ctgov_json":
            kind = "ctgov"
        if kind not in KINDS:
            raise InputError(f"--input {spec!r}: unknown kind {kind!r} (one of: {', '.join(KINDS)})")
        if kind == EMBEDDED:
            if path:
                raise InputError(f"--input {spec!r}: 'embedded' takes no path")
            return cls(EMBEDDED)
        if not sep or not path.strip():
            raise InputError(f"--input {spec!r}: expected {kind}:PATH")
        return cls(kind, path.strip())

    @property
    def spec(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"

    @property
    def label(self) -> str:
        """The spec with only the path's last part, as cards show it: a published card names no folder of the
        machine that built it (the fingerprint in the version tells inputs apart).

        >>> Input.parse("aact:/home/me/aact/20260601_export").label
        'aact:20260601_export'
        """
        return self.kind if self.path is None else f"{self.kind}:{Path(self.path).name}"

    def files(self) -> list[Path]:
        """The files this input reads, in a fixed order (for its fingerprint)."""
        if self.path is None:
            return []
        p = Path(self.path)
        if p.is_file():
            return [p]
        return sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith("."))

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        root = Path(self.path) if self.path else None
        for f in self.files():
            rel = f.name if root is None or root.is_file() else str(f.relative_to(root))
            h.update(rel.encode() + b"\0")
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
        return h.hexdigest()

    def check(self) -> None:
        """Raise :class:`InputError` where the path is not what the kind reads (before anything is read or written)."""
        if self.kind == EMBEDDED:
            return
        p = Path(self.path)
        what = SOURCES[self.kind].expects if self.kind in SOURCES else "a folder of the six <table>.parquet files"
        where = f"--input {self.spec}"
        if not p.exists():
            raise InputError(f"{where}: no such file or folder {p} (expected {what})")
        if p.is_dir() and not any(q.is_file() for q in p.rglob("*")):
            raise InputError(f"{where}: folder {p} is empty (expected {what})")
        if self.kind == TABLES_KIND:
            missing = [n for n in TABLES if not (p / f"{n}.parquet").is_file()]
            if not p.is_dir() or missing:
                raise InputError(f"{where}: {p} lacks {', '.join(f'{n}.parquet' for n in missing)} (expected {what})")
        elif self.kind == "aact":
            _check_aact(p, where, what)
        elif self.kind == "ctgov":
            files = [p] if p.is_file() else [q for q in self.files() if _is_json(q) and q.name != "manifest.json"]
            if not files or not all(_is_json(f) for f in files):
                bad = next((f for f in files if not _is_json(f)), p)
                raise InputError(f"{where}: {bad} is not a .json/.jsonl file (optionally .gz) (expected {what})")


def _is_json(p: Path) -> bool:
    return p.name.removesuffix(".gz").endswith((".json", ".jsonl"))


def _check_aact(p: Path, where: str, what: str) -> None:
    if p.is_file():
        if not zipfile.is_zipfile(p):
            raise InputError(f"{where}: {p} is not a zip archive, or a truncated one (expected {what})")
        with zipfile.ZipFile(p) as z:
            names = {Path(n).name for n in z.namelist()}
        if "studies.txt" not in names:
            raise InputError(f"{where}: {p} holds no studies.txt (expected {what})")
        _check_aact_tables(p, where)
        return
    if not ((p / "studies.txt").is_file() or (p / "studies.parquet").is_file()):
        raise InputError(f"{where}: {p} holds neither studies.txt nor studies.parquet (expected {what})")
    _check_aact_tables(p, where)


def _check_aact_tables(p: Path, where: str) -> None:
    """The required tables and columns, by name, before any input is read (a header line, a parquet footer)."""
    from .errors import RecordError
    from .sources import aact

    try:
        aact.check_input(p)
    except (RecordError, FileNotFoundError) as e:
        raise InputError(f"{where}: {e}") from None


@dataclass(frozen=True)
class SourceInfo:
    """One row of a card's source table: which input gave which rows, under which license and version."""

    input: str
    source: str  # the rows' `source` value
    license: str
    version: str
    homepage: str


@dataclass
class Part:
    input: Input
    tables: dict[str, pa.Table]
    reports: dict[str, IngestReport]  # label -> report
    sources: list[SourceInfo]


def read_input(inp: Input, strict: bool = False) -> Part:
    """Read one input, checked already (:func:`read_inputs` checks every input before reading any), into the six
    tables (names not yet normalized: :func:`assemble` does that once, over all)."""
    if inp.kind == EMBEDDED:
        from .snapshot import EMBEDDED as SHIPPED
        from .snapshot import read_source
        from .tables import concat_tables

        parts, reports, sources = [], {}, []
        for s in SHIPPED:
            tables, report = read_source(s, strict=strict)
            parts.append(tables)
            reports[s.name] = report
            sources.append(SourceInfo(EMBEDDED, s.name, s.license, s.source_version, s.homepage))
        return Part(inp, concat_tables(parts), reports, sources)
    name = Path(inp.path).name
    version = f"{inp.kind}:{name}@{inp.fingerprint()[:16]}"
    if inp.kind == TABLES_KIND:
        from .tables import read_tables

        try:
            tables = read_tables(inp.path)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, KeyError) as e:
            raise InputError(f"--input {inp.spec}: not the six tables `deepimagine ingest` writes: {e}") from None
        kept = tables["trials"].num_rows
        report = IngestReport(read=kept, kept=kept)
        sources = []
        for src in sorted(set(tables["trials"].column("source").to_pylist()) - {None}):
            versions = pc.unique(
                tables["trials"].filter(pc.equal(tables["trials"].column("source"), src)).column("source_version")
            ).to_pylist()
            try:
                entry: Source | None = by_row_source(src)
            except KeyError:
                entry = None
            lic = entry.license if entry else "see source"
            home = entry.homepage if entry else ""
            vers = ", ".join(sorted(v for v in versions if v)) or version
            sources.append(SourceInfo(inp.label, src, lic, f"{vers} (read from {version})", home))
        return Part(inp, tables, {inp.spec: report}, sources)
    src = SOURCES[inp.kind]
    if inp.kind == "aact":
        from .sources import aact

        try:
            tables, report = src.read(Path(inp.path), strict=strict, source_version=version)
        except aact.TABLE_ERRORS as e:
            raise InputError(f"--input {inp.spec}: {aact.table_error(e)}") from None
    else:
        tables, report = src.read(Path(inp.path), strict=strict, source_version=version)
    if report.kept == 0:
        reasons = ", ".join(f"{k} {v:,}" for k, v in report.skipped.most_common(3)) or "no record found"
        raise InputError(
            f"--input {inp.spec}: no trial read from {inp.path} ({report.read:,} records: {reasons}); expected "
            f"{src.expects}"
        )
    return Part(inp, tables, {inp.spec: report}, [SourceInfo(inp.label, src.row_source, src.license, version,
                                                              src.homepage)])  # fmt: skip


@dataclass
class Assembled:
    """The six tables of a build's inputs, merged, and what the cards say about them."""

    tables: dict[str, pa.Table]
    reports: dict[str, IngestReport]
    sources: list[SourceInfo]
    inputs: tuple[str, ...]
    duplicates: Counter = field(default_factory=Counter)  # input spec -> trials dropped as duplicates

    def licenses(self) -> dict[str, str]:
        """``source`` -> license, and ``source|version`` -> license for rows whose source two inputs share."""
        out: dict[str, str] = {}
        for s in self.sources:
            out.setdefault(s.source, s.license)
            out[f"{s.source}|{s.version}"] = s.license
        return out


def assemble(parts: list[Part]) -> Assembled:
    """Merge the inputs' tables under the duplicate-trial rule (first input wins) and normalize intervention names
    once over everything (spelling variants are merged across sources)."""
    from .normalize.names import normalize_interventions
    from .tables import concat_tables

    seen: set[str] = set()
    kept, duplicates = [], Counter()
    for part in parts:
        ids = part.tables["trials"].column("trial_id")
        dup = pc.is_in(ids, value_set=pa.array(sorted(seen), pa.string())) if seen else None
        if dup is not None and pc.any(dup).as_py():
            drop = set(pc.filter(ids, dup).to_pylist())
            duplicates[part.input.label] += len(drop)
            part.tables = {
                n: t.filter(pc.invert(pc.is_in(t.column("trial_id"), value_set=pa.array(sorted(drop), pa.string()))))
                for n, t in part.tables.items()
            }
        seen.update(part.tables["trials"].column("trial_id").to_pylist())
        kept.append(part.tables)
    tables = concat_tables(kept)
    tables["interventions"] = normalize_interventions(tables["interventions"])
    reports = {k: v for p in parts for k, v in p.reports.items()}
    sources = [s for p in parts for s in p.sources]
    return Assembled(tables, reports, sources, tuple(p.input.spec for p in parts), duplicates)


def check_inputs(specs: tuple[str, ...] | list[str] | None) -> list[Input]:
    """Parse and check every input without reading one (``None`` or empty: the embedded data); raises
    :class:`InputError` naming the first bad one."""
    inputs = [Input.parse(s) for s in (specs or (EMBEDDED,))]
    dup = [s for s, n in Counter(i.spec for i in inputs).items() if n > 1]
    if dup:
        raise InputError(f"--input {dup[0]} is given twice")
    for i in inputs:
        i.check()  # every input, before any is read: a bad third input fails at once, not after an hour
    return inputs


def read_inputs(specs: tuple[str, ...] | list[str] | None, strict: bool = False) -> Assembled:
    """Check every input, then read and assemble them (``None`` or empty: the embedded data)."""
    return assemble([read_input(i, strict) for i in check_inputs(specs)])
