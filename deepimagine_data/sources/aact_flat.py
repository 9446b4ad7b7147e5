"""AACT's pipe-delimited flat-file format: write tables in it, read them back (with their types).

The format (the "pipe-delimited files" of https://aact.ctti-clinicaltrials.org/downloads) is one
``<table>.txt`` per table, ``|`` separated, a header row, UTF-8, CSV-style double-quote quoting for fields
that contain ``|``, ``"`` or a line break (a quote inside a quoted field is doubled). AACT produces it with
PostgreSQL ``COPY <table> TO STDOUT WITH DELIMITER '|' CSV HEADER`` and then post-processes every row
(ctti-clinicaltrials/aact, ``Util::TableExporter#export_table_to_csv``): it deletes every ``""`` and turns
line breaks inside values into ``~``.

Null versus empty string
------------------------
PostgreSQL's CSV mode writes NULL as an empty unquoted field and an empty string as ``""``; AACT's
post-processing then deletes the ``""``, so **in a real AACT export an empty field is null** and an empty
string cannot occur (it became null). This module keeps PostgreSQL's convention, which is lossless and agrees
with AACT on everything AACT can produce:

- writer: null -> empty unquoted field; empty string -> ``""``; quotes and line breaks kept (quoted, quotes
  doubled), not stripped or replaced by ``~`` as AACT does;
- reader: empty unquoted field -> null, ``""`` -> empty string (never seen in AACT's own files).

Types
-----
A flat file carries no types. :func:`write_flat_files` therefore also writes ``_schema.json`` (the Arrow
type of every column, e.g. ``{"outcome_analyses": {"p_value": "double", ...}}``), and :func:`read_flat_files`
casts back to it, so a table written and read back equals the original (columns, types, values, nulls).
Without that file (AACT's own export) every column is read as text. Values are written as AACT writes them:
whole-valued floats without ``.0`` (AACT ids are integers; R-converted copies hold them as doubles), other
floats in Python's shortest round-trip form, booleans as ``t``/``f``, dates ``YYYY-MM-DD``, timestamps
``YYYY-MM-DD HH:MM:SS.fffffffff``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, NamedTuple

import polars as pl
import pyarrow as pa

from ..errors import RecordError

SEPARATOR = "|"
SCHEMA_FILE = "_schema.json"
_TS_FORMAT = "%Y-%m-%d %H:%M:%S%.f"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "string_view": pa.string_view(),
    "double": pa.float64(),
    "float": pa.float32(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "bool": pa.bool_(),
    "date32[day]": pa.date32(),
    "null": pa.null(),
}
_TS_RE = re.compile(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$")


def arrow_type(name: str) -> pa.DataType:
    """``"double"`` -> ``pa.float64()``: the type names ``_schema.json`` holds (``str(arrow_type)``)."""
    if name in _ARROW_TYPES:
        return _ARROW_TYPES[name]
    m = _TS_RE.match(name)
    if m:
        return pa.timestamp(m.group(1), tz=m.group(2))
    raise TypeError(f"flat files: unsupported column type {name!r}")


# --- writing -------------------------------------------------------------------------------------------


def _fmt_float(x: float) -> str:
    # the same text deepimagine_data.parse.raw_text gives a typed number: 12.0 -> "12", 1e-05 -> "1e-05"
    if math.isnan(x):
        return "NaN"
    if x.is_integer() and abs(x) < 1e16:
        return "-0" if x == 0 and math.copysign(1.0, x) < 0 else str(int(x))
    return repr(x)


def _as_text(s: pl.Series) -> pl.Series:
    dt = s.dtype
    if dt in (pl.String, pl.Categorical) or isinstance(dt, pl.Enum):
        return s.cast(pl.String)
    if dt.is_float():
        s64 = s.cast(pl.Float64)
        text = s64.cast(pl.Int64, strict=False).cast(pl.String)  # right for whole values, fixed below otherwise
        odd = (~(s64.is_finite() & (s64 == s64.round()) & (s64.abs() < 1e16) & (s64 != 0))).fill_null(False)
        if odd.any():
            idx = odd.arg_true()
            text = text.scatter(idx, pl.Series([_fmt_float(v) for v in s64.gather(idx).to_list()], dtype=pl.String))
        return text.alias(s.name)
    if dt.is_integer():
        return s.cast(pl.String)
    if dt == pl.Boolean:
        return pl.select(pl.when(s).then(pl.lit("t")).when(~s).then(pl.lit("f"))).to_series().alias(s.name)
    if dt == pl.Date:
        return s.dt.to_string("%Y-%m-%d")
    if isinstance(dt, pl.Datetime):
        if dt.time_zone is not None:
            raise TypeError(f"flat files: column {s.name!r} has a time zone ({dt.time_zone}); not supported")
        return s.dt.to_string(_TS_FORMAT)
    if dt == pl.Null:
        return s.cast(pl.String)
    raise TypeError(f"flat files: column {s.name!r} of type {dt} cannot be written")


def _to_arrow(table: pl.DataFrame | pa.Table) -> pa.Table:
    return table if isinstance(table, pa.Table) else table.to_arrow()


def write_flat_rows(table: pl.DataFrame | pa.Table, fh: BinaryIO, *, header: bool = True) -> None:
    """Rows of one table -> an open binary file, in the flat-file format (row order kept); ``header=False`` appends
    a further chunk of the same table."""
    df = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    text = pl.DataFrame([_as_text(df[c]) for c in df.columns]) if df.width else df
    text.write_csv(
        fh,
        separator=SEPARATOR,
        quote_char='"',
        quote_style="necessary",
        null_value="",
        line_terminator="\n",
        include_header=header,
    )


def write_flat_table(table: pl.DataFrame | pa.Table, path: str | os.PathLike) -> Path:
    """One table -> ``path`` in the flat-file format (row order kept), written whole or not at all."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write_flat_rows(table, fh)
    os.replace(tmp, path)
    return path


def write_flat_files(tables: Mapping[str, pl.DataFrame | pa.Table], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``<out_dir>/<table>.txt`` for every table, plus ``_schema.json`` (the column types, so that
    :func:`read_flat_files` restores them). Returns ``{table: path}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    schemas, paths = {}, {}
    for name in sorted(tables):
        t = tables[name]
        schema = _to_arrow(t).schema if isinstance(t, pa.Table) else t.head(0).to_arrow().schema
        for f in schema:
            arrow_type(str(f.type))  # refuse a type the reader could not restore, before writing anything
        schemas[name] = {f.name: str(f.type) for f in schema}
    for name in sorted(tables):
        paths[name] = write_flat_table(tables[name], out / f"{name}.txt")
    (out / SCHEMA_FILE).write_text(json.dumps(schemas, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return paths


# --- reading -------------------------------------------------------------------------------------------


class Ragged(NamedTuple):
    """A row whose field count is not the header's: where it is, and the studies it names."""

    table: str
    file: str
    line: int | None  # the physical line the row starts on (the header is line 1)
    fields: int
    expected: int
    ncts: tuple[str, ...]  # its nct_id field, and any other field that looks like an NCT id

    @property
    def what(self) -> str:
        at = f"line {self.line:,}" if self.line is not None else "a row"
        return f"{at} has {self.fields} fields where the header has {self.expected}"

    def error(self) -> RecordError:
        """The error of a strict run: the file and line first."""
        studies = f" (study {', '.join(self.ncts)})" if self.ncts else ""
        return RecordError(
            self.file, "fields", f"{self.what}{studies}: a field lost, or a '|' outside quotes", "ragged_row"
        )

    def skip(self, nct: str) -> RecordError:
        """The reason a lenient run skips study ``nct``."""
        return RecordError(nct, self.file, self.what, "ragged_row")


_NCT = re.compile(r"NCT\d{8}")


class FlatSource:
    """A directory or a .zip of ``<table>.txt`` files (members may sit in a sub-folder of the zip)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self.members: dict[str, str | Path] = {}
        if self.path.is_dir():
            for p in sorted(self.path.glob("*.txt")):
                self.members[p.stem] = p
            schema_path = self.path / SCHEMA_FILE
            self._schema_text = schema_path.read_bytes() if schema_path.exists() else None
        elif zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise FileNotFoundError(f"{self.path}: not a readable .zip of AACT flat files ({e})") from None
            self._schema_text = None
            for info in self._zip.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base.endswith(".txt") and not info.is_dir():
                    self.members.setdefault(base[:-4], info.filename)
                elif base == SCHEMA_FILE:
                    self._schema_text = self._member_bytes(info.filename)
        elif self.path.is_file():
            raise FileNotFoundError(
                f"{self.path}: not a .zip of AACT flat files, or a truncated one (no zip directory at its end)"
            )
        else:
            raise FileNotFoundError(f"not a directory or .zip of AACT flat files: {self.path}")
        self.schemas: dict[str, dict[str, str]] = self._read_schemas(self._schema_text) if self._schema_text else {}

    def _read_schemas(self, data: bytes) -> dict[str, dict[str, str]]:
        """``_schema.json``, every type checked, or an error naming the file."""
        try:
            schemas = json.loads(data.decode("utf-8"))
            for types in schemas.values():
                for name in types.values():
                    arrow_type(name)
        except (UnicodeDecodeError, ValueError, TypeError, AttributeError) as e:
            raise RecordError(
                SCHEMA_FILE, "json", f"not the column types write_flat_files writes ({e})", "bad_schema"
            ) from None
        return schemas

    def tables(self) -> list[str]:
        return sorted(self.members)

    def file(self, table: str) -> str:
        """The table's file as messages name it: ``studies.txt``, or ``export.zip:dir/studies.txt``."""
        m = self.members[table]
        return f"{self.path.name}:{m}" if self._zip is not None else Path(m).name

    def header(self, table: str) -> list[str]:
        try:
            with self._open(table) as fh:
                first = fh.readline().decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise RecordError(
                f"{self.file(table)}:1", "header", f"invalid UTF-8 at byte {e.start:,} of the header", "bad_utf8"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise self._zip_error(table, e) from None
        return next(iter(_csv_rows(first)), [])

    def _open(self, table: str):
        m = self.members[table]
        return self._zip.open(m) if self._zip is not None else open(m, "rb")

    def _zip_error(self, table: str, e: BaseException) -> RecordError:
        return RecordError(self.file(table), "zip", f"corrupt or truncated zip member ({e})", "bad_zip")

    def _member_bytes(self, member: str) -> bytes:
        assert self._zip is not None
        try:
            return self._zip.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise RecordError(
                f"{self.path.name}:{member}", "zip", f"corrupt or truncated zip member ({e})", "bad_zip"
            ) from None

    def scan(
        self, table: str, columns: list[str] | None = None, typed: bool = True, truncate_ragged: bool = False
    ) -> pl.LazyFrame:
        """The table as text columns (or typed, from ``_schema.json``, where it names the table).
        ``truncate_ragged``: a row with too many fields is cut rather than refused (for a table whose ragged rows
        :meth:`ragged_rows` found and the caller leaves out)."""
        header = self.header(table)
        if columns is not None:
            missing = [c for c in columns if c not in header]
            if missing:
                raise KeyError(f"{table}.txt has no column(s) {missing}")
        kw = dict(
            separator=SEPARATOR,
            quote_char='"',
            has_header=True,
            infer_schema=False,
            empty_string_is_null=True,
            encoding="utf8",
            raise_if_empty=False,
            truncate_ragged_lines=truncate_ragged,
        )
        m = self.members[table]
        if self._zip is None:
            lf = pl.scan_csv(m, **kw)
        else:
            lf = pl.read_csv(io.BytesIO(self._member_bytes(m)), columns=columns, **kw).lazy()
        if columns is not None:
            lf = lf.select(columns)
        if typed and table in self.schemas:
            types = self.schemas[table]
            lf = lf.with_columns([_from_text(c, arrow_type(types[c])) for c in (columns or header) if c in types])
        return lf

    def ragged_rows(self, tables: list[str]) -> list[Ragged]:
        """Rows of these tables whose field count differs from their header's, in table order.

        Polars reads a short row with nulls for the fields it lacks and cuts (or, read whole, refuses without a
        line) a long one; Arrow's CSV parser tells each such row to a handler, so a clean file costs one pass of
        C++ parsing (one column converted, the tables on as many threads as there are cores) and only the bad rows
        reach Python."""
        from concurrent.futures import ThreadPoolExecutor

        from ..cores import usable_cores

        if not tables:
            return []
        with ThreadPoolExecutor(max(1, min(len(tables), usable_cores()))) as pool:
            found = list(pool.map(self._ragged, tables))
        return [r for rows in found for r in rows]

    def _ragged(self, table: str) -> list[Ragged]:
        import pyarrow.csv as pcsv

        header = self.header(table)
        if not header:
            return []
        found: list[tuple[int | None, int, str]] = []

        def handler(row) -> str:
            found.append((row.number, row.actual_columns, row.text))
            return "skip"

        names = [f"c{i}" for i in range(len(header))]
        m = self.members[table]
        try:
            with contextlib.ExitStack() as stack:
                src = str(m) if self._zip is None else stack.enter_context(self._open(table))
                reader = pcsv.open_csv(
                    src,
                    read_options=pcsv.ReadOptions(
                        use_threads=False, block_size=16 << 20, column_names=names, skip_rows=1
                    ),
                    parse_options=pcsv.ParseOptions(
                        delimiter=SEPARATOR, quote_char='"', newlines_in_values=True, invalid_row_handler=handler
                    ),
                    convert_options=pcsv.ConvertOptions(
                        include_columns=names[:1], column_types={names[0]: pa.binary()}
                    ),
                )
                for _ in reader:
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise self._zip_error(table, e) from None
        if not found:
            return []
        lines = self._lines(table, [n for n, _, _ in found if n is not None])
        at = header.index("nct_id") if "nct_id" in header else None
        out = []
        for number, fields, text in found:
            values = next(iter(_csv_rows(text)), [])
            ncts = {v.strip() for v in values if _NCT.fullmatch(v.strip())}
            if at is not None and at < len(values) and values[at].strip():
                ncts.add(values[at].strip())
            out.append(Ragged(table, self.file(table), lines.get(number), fields, len(header), tuple(sorted(ncts))))
        return out

    def _lines(self, table: str, rows: list[int]) -> dict[int, int]:
        """Row number (the header is row 1, blank lines are no rows, as Arrow counts them) -> the physical line the
        row starts on. A Python pass, up to the last row asked: only files with a bad row get here."""
        want = sorted(set(rows))
        out: dict[int, int] = {}
        if not want:
            return out
        row, start, quoted = 0, 0, False
        with self._open(table) as fh:
            for line, raw in enumerate(fh, 1):
                if not quoted:
                    if not raw.strip(b"\r\n"):
                        continue
                    row, start = row + 1, line
                if raw.count(b'"') & 1:  # a quoted field goes on (or ends) past this line
                    quoted = not quoted
                if not quoted and row == want[len(out)]:
                    out[row] = start
                    if len(out) == len(want):
                        break
        return out

    def bad_utf8(self, tables: list[str]) -> RecordError | None:
        """The first invalid UTF-8 byte of these tables, as an error naming the file, line and byte offset (read
        only after Polars refused a table: it names neither)."""
        for table in tables:
            base, line, tail = 0, 1, b""
            with self._open(table) as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    data = tail + chunk
                    try:
                        data.decode("utf-8")
                        ok, tail = len(data), b""
                    except UnicodeDecodeError as e:
                        if e.end == len(data) and len(data) - e.start < 4 and e.reason == "unexpected end of data":
                            ok, tail = e.start, data[e.start :]  # a character cut by the chunk boundary
                        else:
                            return self._utf8_error(
                                table, line + data.count(b"\n", 0, e.start), base + e.start, data[e.start]
                            )
                    line += data.count(b"\n", 0, ok)
                    base += ok
            if tail:
                return self._utf8_error(table, line, base, tail[0])
        return None

    def _utf8_error(self, table: str, line: int, offset: int, byte: int) -> RecordError:
        return RecordError(
            self.file(table),
            f"line {line:,}",
            f"invalid UTF-8 (byte 0x{byte:02x} at byte {offset:,} of the file)",
            "bad_utf8",
        )


def _csv_rows(text: str):
    import csv

    return csv.reader(io.StringIO(text), delimiter=SEPARATOR, quotechar='"')


_TRUE = {"t": True, "true": True, "f": False, "false": False}


def _from_text(col: str, t: pa.DataType) -> pl.Expr:
    c = pl.col(col)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return c
    if pa.types.is_floating(t):
        return c.cast(pl.Float64).cast(pl.Float32 if t == pa.float32() else pl.Float64)
    if pa.types.is_integer(t):
        return c.cast(pl.Int64).cast(pl.from_arrow(pa.array([], t)).dtype)
    if pa.types.is_boolean(t):
        return c.str.to_lowercase().replace_strict(_TRUE, return_dtype=pl.Boolean)
    if pa.types.is_date32(t):
        return c.str.to_date("%Y-%m-%d")
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            raise TypeError(f"flat files: column {col!r} has a time zone; not supported")
        if t.unit == "s":
            raise TypeError(f"flat files: column {col!r}: timestamp[s] is not supported")
        return c.str.to_datetime(_TS_FORMAT, time_unit=t.unit)
    if pa.types.is_null(t):
        return c.cast(pl.Null)
    raise TypeError(f"flat files: column {col!r}: unsupported type {t}")


def read_flat_table(src: FlatSource | str | os.PathLike, table: str) -> pa.Table:
    """One table, cast back to the Arrow schema of ``_schema.json`` when it names the table."""
    src = src if isinstance(src, FlatSource) else FlatSource(src)
    df = src.scan(table).collect()
    at = df.to_arrow()
    if table in src.schemas:
        schema = pa.schema([(c, arrow_type(src.schemas[table][c])) for c in df.columns])
        at = at.cast(schema)
    return at


def read_flat_files(path: str | os.PathLike, tables: list[str] | None = None) -> dict[str, pa.Table]:
    """Every ``<table>.txt`` of a directory or .zip -> ``{table: pyarrow.Table}`` (types restored from
    ``_schema.json`` where present, otherwise text)."""
    src = FlatSource(path)
    names = tables if tables is not None else src.tables()
    return {name: read_flat_table(src, name) for name in names}
