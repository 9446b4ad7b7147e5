"""Collect rows of many studies into the six tables; write them atomically and deterministically."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import IngestReport, RecordError
from .fsutil import swap_into_place, temp_dir
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
    """Row dicts -> the table ``name``, sorted. A key a row lacks is null; keys the schema lacks are ignored."""
    schema = TABLES[name]
    if not rows:
        return schema.empty_table()
    # The dicts are read in C++ as one struct array, row by row: the same values as Table.from_pylist, which pulls
    # each column out of every dict in Python first (4x the time, most of it cache misses on millions of dicts).
    rows_array = pa.array(rows, type=pa.struct(schema))
    chunks = rows_array.chunks if isinstance(rows_array, pa.ChunkedArray) else [rows_array]  # chunked past 2 GB
    table = pa.Table.from_batches([pa.RecordBatch.from_struct_array(c) for c in chunks], schema=schema)
    return sort_table(name, table)


def sort_table(name: str, table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    keys = SORT_KEYS[name]
    if _is_sorted(table, keys):
        # A stable sort of sorted rows is the identity: the same table as the take below (one chunk a column, as a
        # take makes it), without sorting and gathering every column (a registry's tables, read sorted, take ~5 s).
        return table.combine_chunks()
    idx = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
    return table.take(idx)


def _is_sorted(table: pa.Table, keys: list[str]) -> bool:
    """Whether the rows are in ascending order of ``keys`` (ties allowed), compared as sort_indices compares them.
    False, to be sorted, where a key has nulls or is floating point (null and NaN placement)."""
    n = table.num_rows
    if n < 2:
        return True
    in_order = None  # row i <= row i + 1 on the keys compared so far, last key first
    for k in reversed(keys):
        col = table.column(k)
        if col.null_count or pa.types.is_floating(col.type):
            return False
        a, b = col.slice(0, n - 1), col.slice(1)
        if in_order is None:
            in_order = pc.less_equal(a, b)
        else:
            in_order = pc.or_(pc.less(a, b), pc.and_(pc.equal(a, b), in_order))
    return in_order is None or pc.all(in_order).as_py()


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
    """Every primary key unique and present, else a :class:`RecordError` naming a repeated value.

    Checked with a sort (neighbours equal), not a hash table: ``count_distinct`` over the registry's 4.8 M
    measurement ids took up to 10 s and +1.5 GB; the counting runs only to name the value that repeats.
    """
    for name, key in PRIMARY_KEYS.items():
        col = tables[name].column(key)
        repeats = False
        if len(col) > 1 and not col.null_count:
            s = col.take(pc.sort_indices(col))
            repeats = pc.any(pc.equal(s.slice(1), s.slice(0, len(s) - 1))).as_py()
        if (col.null_count or repeats) and pc.count_distinct(col).as_py() != len(col):
            counts = pc.value_counts(col)
            dup = next(v["values"] for v in counts.to_pylist() if v["counts"] > 1)
            raise RecordError(str(dup), key, f"duplicate {key} in table {name}", "duplicate")


PARQUET_OPTIONS = dict(
    compression="zstd", compression_level=9, write_statistics=True, store_schema=True, use_dictionary=True
)


# The tables `ingest` writes are a working format read back by `build --input tables:`, not a published dataset:
# zstd level 3 writes the registry's six tables in 5.7 s instead of 14.2 s (level 9), 5% larger.
INGEST_COMPRESSION_LEVEL = 3


def write_parquet(table: pa.Table, path: Path, compression_level: int = PARQUET_OPTIONS["compression_level"]) -> None:
    """Same table -> same bytes: fixed compression, no pandas metadata, one row group per 64k rows.

    An empty table is written with no row group at all: datasets' parquet reader sizes its batches from the first
    row group, and an empty one (0 rows) makes ``load_dataset`` fail on the whole config ("BatchSize must be
    greater than 0"), which a small build (a few trials, all in one split) meets."""
    options = PARQUET_OPTIONS | {"compression_level": compression_level}
    if table.num_rows == 0:
        pq.ParquetWriter(path, table.schema, **options).close()
        return
    pq.write_table(table, path, row_group_size=ROW_GROUP, **options)


class OutputRefused(ValueError):
    """An output folder :func:`write_tables` will not replace (it holds files that are not the six tables)."""


_TMP, _OLD = ".tmp-ingest-", ".old-ingest-"


def write_tables(tables: dict[str, pa.Table], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``<out_dir>/<table>.parquet`` for every table, all six or none.

    The tables are written into a folder beside ``out_dir`` (``.tmp-ingest-<name>-<pid>-*``) and the folders swapped
    (:func:`~deepimagine_data.fsutil.swap_into_place`; where two renames are needed, the old one goes through
    ``.old-ingest-<name>-<pid>``): a reader sees the previous six tables or the new six, never a mix. What a killed
    run leaves is cleaned at the next call: its temp folder removed, and a previous folder renamed away but not
    replaced put back. ``out_dir`` holding anything but the six tables is refused (:class:`OutputRefused`): the
    whole folder is replaced.
    """
    out = prepare_output(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir(f"{_TMP}{out.name}-{os.getpid()}-", out.parent)
    try:
        for name in TABLES:
            path = tmp / f"{name}.parquet"
            write_parquet(tables[name].cast(TABLES[name]), path, INGEST_COMPRESSION_LEVEL)
            _fsync(path)
        _fsync(tmp)
        swap_into_place(tmp, out, out.with_name(f"{_OLD}{out.name}-{os.getpid()}"))
        _fsync(out.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: out / f"{name}.parquet" for name in TABLES}


def prepare_output(out_dir: str | os.PathLike) -> Path:
    """The folder :func:`write_tables` replaces, resolved (a symlink: its target, the link kept), after undoing
    what a killed run left beside it; :class:`OutputRefused` where it is a file or holds anything but the six
    tables. Cheap: ``ingest`` calls it before reading, so a refused or failed run also puts back what a killed one
    took away."""
    out = Path(out_dir).resolve()
    if out.parent.is_dir():
        _clean_leftovers(out)
    if out.exists():
        if not out.is_dir():
            raise OutputRefused(f"{out} is a file, not a folder of tables")
        mine = {f"{n}.parquet" for n in TABLES}
        # a temp folder an earlier version of write_tables left inside out_dir counts as ours
        other = sorted(p.name for p in out.iterdir() if p.name not in mine and not p.name.startswith(_TMP))
        if other:
            raise OutputRefused(
                f"{out} holds {len(other)} file(s) besides the six tables ({', '.join(other[:3])}"
                f"{', ...' if len(other) > 3 else ''}); the whole folder is replaced: give an empty or new folder"
            )
    return out


def _clean_leftovers(out: Path) -> None:
    """Undo what a killed :func:`write_tables` into ``out`` left: put back a previous folder renamed away but not
    replaced; remove temp folders and previous folders of processes that are gone (a running one keeps its own)."""
    import re

    name = re.escape(out.name)
    tmp_re = re.compile(rf"{re.escape(_TMP)}{name}-(\d+)-[^-]+")
    old_re = re.compile(rf"{re.escape(_OLD)}{name}-(\d+)")

    def gone(p: Path, pattern: re.Pattern) -> bool:
        m = pattern.fullmatch(p.name)
        if m is None:
            return False  # another folder's (``out-2``), or no leftover at all
        pid = int(m.group(1))
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # alive, another user's
            return False
        return False

    entries = list(out.parent.iterdir())
    olds = sorted((p for p in entries if gone(p, old_re)), key=lambda p: p.stat().st_mtime)
    if olds and not os.path.lexists(out):
        os.rename(olds.pop(), out)
    for p in [*olds, *(q for q in entries if gone(q, tmp_re))]:
        shutil.rmtree(p, ignore_errors=True)


def _fsync(path: Path) -> None:
    """Flush a file or a folder's entries to disk (best effort: not every platform opens a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


def collect(studies: Iterable[StudyRows], report: IngestReport, strict: bool = False) -> dict[str, pa.Table]:
    """Studies -> the six tables. A trial read twice is an error in strict mode; in lenient mode the second copy
    is skipped and counted in ``report`` like any other bad record."""
    (tables,) = collect_batches(studies, report, strict)
    return tables


def collect_batches(
    studies: Iterable[StudyRows], report: IngestReport, strict: bool = False, batch: int | None = None
) -> Iterator[dict[str, pa.Table]]:
    """:func:`collect` in batches: the six tables of every ``batch`` studies kept (Python row dicts cost ~10x their
    Arrow size), and once more at the end (the only time where ``batch`` is None). A trial read twice within a
    batch is handled as by :func:`collect`."""
    ts = TableSet()
    n = 0
    for rows in studies:
        try:
            ts.add(rows)
        except RecordError as err:
            if strict:
                raise
            report.kept -= 1
            report.skip(err)
            continue
        n += 1
        if batch is not None and n % batch == 0:
            yield ts.to_arrow()
            ts = TableSet()
    yield ts.to_arrow()


# Rows per Parquet row group, and per Arrow batch of a fingerprint: a table streamed in pieces is cut at the same
# rows as the whole table, so both give the same bytes.
ROW_GROUP = 65_536


def of_trials(tables: dict[str, pa.Table], trial_ids: Iterable[str] | pa.Array) -> dict[str, pa.Table]:
    """The rows of these trials in every table (each table has a ``trial_id`` column)."""
    ids = trial_ids if isinstance(trial_ids, pa.Array) else pa.array(list(trial_ids), pa.string())
    return {k: t.filter(pc.is_in(t.column("trial_id"), value_set=ids)) for k, t in tables.items()}


def rechunk(pieces: Iterable[pa.Table], size: int | None = None) -> Iterator[pa.Table]:
    """The rows of ``pieces`` in order, as tables of exactly ``size`` rows (default :data:`ROW_GROUP`; the last one
    shorter), each one chunk."""
    size = size or ROW_GROUP
    buf: list[pa.Table] = []
    n = 0
    for t in pieces:
        while t.num_rows:
            take = t.slice(0, size - n)
            buf.append(take)
            n += take.num_rows
            t = t.slice(take.num_rows)
            if n == size:
                yield fresh_table(buf)
                buf, n = [], 0
    if n:
        yield fresh_table(buf)


def fresh_table(parts: list[pa.Table]) -> pa.Table:
    """One table of new, unsliced arrays: serialized, a slice can differ from a copy of the same rows."""
    t = pa.concat_tables(parts)
    return pa.Table.from_arrays([pa.concat_arrays(c.chunks) for c in t.columns], schema=t.schema)


def zero_null_slots(a: pa.Array) -> pa.Array:
    """``a`` with zeros under its nulls, its children too. TableDigest hashes Arrow IPC bytes, null slots included:
    arrays built from Python hold zeros there, but the parquet reader leaves whatever it decoded (a ``dose_value``
    null read back as 0.5), so the same rows read from a ``tables:`` input or a published shard would give another
    fingerprint."""
    import numpy as np
    import pyarrow.compute as pc

    t = a.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.Array.from_buffers(t, len(a), a.buffers()[:2], a.null_count, a.offset, [zero_null_slots(a.values)])
    if pa.types.is_struct(t):
        a = pa.concat_arrays([a]) if a.offset else a
        children = [zero_null_slots(a.field(i)) for i in range(t.num_fields)]
        return pa.Array.from_buffers(t, len(a), a.buffers()[:1], a.null_count, 0, children)
    if not a.null_count or not pa.types.is_primitive(t) or pa.types.is_null(t):
        return a
    valid = a.is_valid()
    if pa.types.is_boolean(t):
        data = pc.and_(pc.fill_null(a, False), valid).buffers()[1]
    else:
        width = t.bit_width // 8
        raw = np.frombuffer(a.buffers()[1], dtype=np.uint8)[a.offset * width : (a.offset + len(a)) * width]
        raw = raw.reshape(len(a), width).copy()
        raw[~valid.to_numpy(zero_copy_only=False)] = 0
        data = pa.py_buffer(raw.tobytes())
    return pa.Array.from_buffers(t, len(a), [valid.buffers()[1], data], a.null_count)


class TableDigest:
    """sha256 of a table's rows as an Arrow IPC stream in batches of :data:`ROW_GROUP` rows, fed batch by batch."""

    def __init__(self, schema: pa.Schema):
        import hashlib

        self.h = hashlib.sha256()
        self._sink = pa.PythonFile(_HashWriter(self.h), mode="w")
        self._w = pa.ipc.new_stream(self._sink, schema)

    def update(self, chunk: pa.Table) -> None:
        for b in chunk.to_batches():
            if any(c.null_count for c in b.columns):
                b = pa.RecordBatch.from_arrays([zero_null_slots(c) for c in b.columns], schema=b.schema)
            self._w.write_batch(b)

    def digest(self) -> bytes:
        self._w.close()
        return self.h.digest()


def combine_digests(digests: dict[str, bytes]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name in sorted(digests):
        h.update(name.encode())
        h.update(digests[name])
    return h.hexdigest()


def table_fingerprint(tables: dict[str, pa.Table]) -> str:
    """sha256 over the tables' contents (name, then the rows as Arrow IPC in batches of :data:`ROW_GROUP`): same
    rows, same fingerprint, whether a table is whole or streamed in pieces (:class:`PackedTable`)."""
    digests = {}
    for name, t in tables.items():
        d = TableDigest(t.schema)
        for chunk in rechunk([t]):
            d.update(chunk)
        digests[name] = d.digest()
    return combine_digests(digests)


class PackedTable:
    """Rows kept as zstd-compressed Arrow IPC pieces (a partition each) and unpacked one piece at a time: a build
    holds a corpus at a fraction of its size and never a whole config unpacked.

    >>> t = PackedTable(pa.schema([("x", pa.int64())]))
    >>> t.append(pa.table({"x": [1, 2]})); t.append(pa.table({"x": [3]})); t.num_rows
    3
    >>> t.to_table().column("x").to_pylist()
    [1, 2, 3]
    """

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.pieces: list[pa.Buffer] = []
        self.num_rows = 0

    @classmethod
    def of(cls, pieces: Iterable[pa.Table], schema: pa.Schema) -> PackedTable:
        out = cls(schema)
        for t in pieces:
            out.append(t)
        return out

    def append(self, t: pa.Table) -> None:
        if t.num_rows == 0:
            return
        if t.schema != self.schema:
            raise ValueError(f"piece schema differs from the table's: {t.schema} != {self.schema}")
        sink = pa.BufferOutputStream()
        opts = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_file(sink, self.schema, options=opts) as w:
            w.write_table(t)
        self.pieces.append(sink.getvalue())
        self.num_rows += t.num_rows

    def __iter__(self) -> Iterator[pa.Table]:
        for buf in self.pieces:
            yield pa.ipc.open_file(buf).read_all()

    @property
    def nbytes(self) -> int:
        """Bytes of the rows unpacked (what ``pa.Table.nbytes`` would say), summed piece by piece."""
        return sum(t.nbytes for t in self)

    @property
    def column_names(self) -> list[str]:
        return self.schema.names

    def select(self, columns: list[str]) -> pa.Table:
        """Some columns of every row, unpacked (the small ones a card reads)."""
        return pa.concat_tables([t.select(columns) for t in self] or [self.schema.empty_table().select(columns)])

    def column(self, name: str) -> pa.ChunkedArray:
        return self.select([name]).column(name)

    def to_table(self) -> pa.Table:
        return pa.concat_tables(list(self) or [self.schema.empty_table()])


def unpacked(t: pa.Table | PackedTable) -> pa.Table:
    return t.to_table() if isinstance(t, PackedTable) else t


def pieces_of(t: pa.Table | PackedTable) -> Iterable[pa.Table]:
    return t if isinstance(t, PackedTable) else [t]


class _HashWriter:
    """A write-only file object that feeds what is written to a hash."""

    closed = False

    def __init__(self, h):
        self.h = h

    def write(self, b) -> int:
        self.h.update(b)
        return len(b)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def lead_columns(schema: pa.Schema, first: list[str]) -> pa.Schema:
    """``schema`` with the columns of ``first`` (those it has) moved to the front, the rest in their order: the
    published tables open with what people use first (ids, prompt, options, answer_index), not ~100 columns later:
    the corpora's schemas are declared through it, so every table is made in the order it is published.

    >>> schema = pa.schema([("a", pa.int64()), ("prompt", pa.string()), ("id", pa.string())])
    >>> lead_columns(schema, ["id", "prompt"]).names
    ['id', 'prompt', 'a']
    """
    head = [n for n in first if n in schema.names]
    return pa.schema([schema.field(n) for n in head] + [f for f in schema if f.name not in head])
