"""Collect rows of many studies into the six tables; write them atomically and deterministically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import IngestReport, RecordError
from .rows import StudyRows
from .schema import PRIMARY_KEYS, SORT_KEYS, TABLES


class TableSet:
    """Rows of the six tables, appended study by study."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict]] = {t: [] for t in TABLES}
        self._seen: set[str] = set()
        self.report = IngestReport()

    def add(self, study: StudyRows) -> None:
        trial_ids = [r["trial_id"] for r in study.rows["trials"]]
        for tid in trial_ids:
            if tid in self._seen:
                raise RecordError(tid, "trial_id", "the same trial was read twice", "duplicate")
        self._seen.update(trial_ids)
        study.finalize()
        for t, rows in study.rows.items():
            self._rows[t].extend(rows)

    def extend(self, studies: Iterable[StudyRows]) -> TableSet:
        for s in studies:
            self.add(s)
        return self

    def to_arrow(self) -> dict[str, pa.Table]:
        return {name: rows_to_table(name, self._rows[name]) for name in TABLES}


def rows_to_table(name: str, rows: list[dict]) -> pa.Table:
    schema = TABLES[name]
    table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    return sort_table(name, table)


def sort_table(name: str, table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    idx = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in SORT_KEYS[name]])
    return table.take(idx)


def concat_tables(parts: Iterable[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """Merge table sets from several sources; a trial id present in two of them is an error."""
    parts = list(parts)
    out = {}
    for name in TABLES:
        ts = [p[name].cast(TABLES[name]) for p in parts if name in p]
        t = pa.concat_tables(ts) if ts else TABLES[name].empty_table()
        out[name] = sort_table(name, t)
    check_unique(out)
    return out


def check_unique(tables: dict[str, pa.Table]) -> None:
    for name, key in PRIMARY_KEYS.items():
        col = tables[name].column(key)
        if pc.count_distinct(col).as_py() != len(col):
            counts = pc.value_counts(col)
            dup = next(v["values"] for v in counts.to_pylist() if v["counts"] > 1)
            raise RecordError(str(dup), key, f"duplicate {key} in table {name}", "duplicate")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Same table -> same bytes: fixed compression, no pandas metadata, one row group per 64k rows.

    An empty table is written with no row group at all: datasets' parquet reader sizes its batches from the first
    row group, and an empty one (0 rows) makes ``load_dataset`` fail on the whole config ("BatchSize must be
    greater than 0"), which a small build (a few trials, all in one split) meets."""
    opts = dict(compression="zstd", compression_level=9, write_statistics=True, store_schema=True, use_dictionary=True)
    if table.num_rows == 0:
        pq.ParquetWriter(path, table.schema, **opts).close()
        return
    pq.write_table(table, path, row_group_size=65_536, **opts)


def write_tables(tables: dict[str, pa.Table], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``<out_dir>/<table>.parquet`` for every table, all-or-nothing.

    The files are first written to a temporary directory beside ``out_dir`` and then renamed into place, so an
    interrupted run leaves the previous tables (or none), never a truncated parquet file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-ingest-", dir=out))
    try:
        for name in TABLES:
            write_parquet(tables[name].cast(TABLES[name]), tmp / f"{name}.parquet")
        paths = {}
        for name in TABLES:
            dst = out / f"{name}.parquet"
            os.replace(tmp / f"{name}.parquet", dst)
            paths[name] = dst
        return paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_tables(in_dir: str | os.PathLike) -> dict[str, pa.Table]:
    d = Path(in_dir)
    return {name: pq.read_table(d / f"{name}.parquet").cast(TABLES[name]) for name in TABLES}


def count_table(tables: dict[str, pa.Table]) -> str:
    """A table a person can read: rows per table, and distinct trials."""
    width = max(len(n) for n in TABLES)
    lines = [f"{'table':<{width}}  {'rows':>9}  {'trials':>7}", f"{'-' * width}  {'-' * 9}  {'-' * 7}"]
    for name in TABLES:
        t = tables[name]
        n_trials = pc.count_distinct(t.column("trial_id")).as_py() if t.num_rows else 0
        lines.append(f"{name:<{width}}  {t.num_rows:>9,}  {n_trials:>7,}")
    return "\n".join(lines)


def collect(studies: Iterator[StudyRows], report: IngestReport, strict: bool = False) -> dict[str, pa.Table]:
    """Studies -> the six tables. A trial read twice is an error in strict mode; in lenient mode the second copy
    is skipped and counted in ``report`` like any other bad record."""
    ts = TableSet()
    for rows in studies:
        try:
            ts.add(rows)
        except RecordError as err:
            if strict:
                raise
            report.kept -= 1
            report.skip(err)
    return ts.to_arrow()


def table_fingerprint(tables: dict[str, pa.Table]) -> str:
    """sha256 over the tables' contents (Arrow IPC bytes in table order): same rows, same fingerprint."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as w:
            w.write_table(tables[name].combine_chunks())
        h.update(name.encode())
        h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()
