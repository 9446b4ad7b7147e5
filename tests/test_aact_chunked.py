"""AACT reader in chunks of studies: any chunk size, worker count and batch give the same six tables and the same
report as reading every study at once -- on the embedded AACT parquet, the same rows as flat files, frames in
memory and a small registry dump with outcome_measurements/outcome_counts -- and the temporary split directory
is gone after a read, after a strict read that raises, and after an abandoned iter_studies."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

from deepimagine_data.errors import RecordError
from deepimagine_data.sources import aact
from deepimagine_data.sources.aact_flat import write_flat_files

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "deepimagine_data" / "data" / "aact_oncology"
_spec = importlib.util.spec_from_file_location("registry_dump", ROOT / "benchmarks" / "registry_dump.py")
rd = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("registry_dump", rd)
_spec.loader.exec_module(rd)

BAD_P = "NCT00087022"  # an embedded study whose posted p-value exceeds 1: skipped (lenient) or raised (strict)


def same(got, want) -> None:
    (gt, gr), (wt, wr) = got, want
    assert list(gt) == list(wt)
    for name in wt:
        assert gt[name].schema == wt[name].schema, name
        assert gt[name].equals(wt[name]), name
    assert gr == wr
    assert gr.examples == wr.examples


def whole(src, **kw):
    return aact.read(src, progress=False, chunk_studies=None, **kw)


def chunked(src, tmp: Path, **kw):
    """A chunked read whose temporary directory must be gone afterwards."""
    tmp.mkdir(exist_ok=True)
    out = aact.read(src, progress=False, tmp_dir=tmp, **kw)
    assert not any(tmp.iterdir())
    return out


@pytest.fixture(scope="module")
def raw() -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted(EMBEDDED.glob("*.parquet"))}


@pytest.fixture(scope="module")
def ids(raw) -> list[str]:
    """Every 30th embedded study (~190), the bad p-value, and an id AACT lacks."""
    s = sorted(raw["studies"]["nct_id"].to_list())
    return sorted({*s[::30], BAD_P}) + ["NCT99999999"]


@pytest.fixture(scope="module")
def embedded_ref():
    return whole(EMBEDDED)


def test_embedded_parquet_in_chunks_of_500(embedded_ref, tmp_path):
    tables, report = embedded_ref
    assert report.kept > 5000 and report.n_skipped >= 1
    assert tables["measurements"].num_rows == 0  # (the embedded copy has no outcome_measurements)
    same(chunked(EMBEDDED, tmp_path / "t", chunk_studies=500), embedded_ref)


def test_embedded_parquet_in_chunks_of_7(ids, tmp_path):
    want = whole(EMBEDDED, nct_ids=ids)
    assert want[1].skipped["not_found:nct_id"] == 1 and want[1].kept > 180
    for workers in (1, 2):
        same(chunked(EMBEDDED, tmp_path / "t", nct_ids=ids, chunk_studies=7, workers=workers, batch=3), want)


def test_flat_files_and_frames_in_chunks(raw, ids, tmp_path):
    keep = pl.Series(ids).implode()
    tabs = {name: df.filter(pl.col("nct_id").is_in(keep)) for name, df in raw.items()}
    write_flat_files(tabs, tmp_path / "flat")
    sv = "aact:test"
    want = whole(tmp_path / "flat", source_version=sv)
    assert want[1].kept > 180
    same(chunked(tmp_path / "flat", tmp_path / "t", chunk_studies=7, workers=1, source_version=sv), want)
    same(chunked(tmp_path / "flat", tmp_path / "t", chunk_studies=100, source_version=sv), want)
    # frames in memory give the same as the files, in chunks too
    arrow = {k: v.to_arrow() for k, v in tabs.items()}
    same(chunked(arrow, tmp_path / "t", chunk_studies=30, workers=1, source_version=sv), want)


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("regdump")
    rd.write_dump(out, studies=400, with_results=80, progress=False)
    return out


@pytest.mark.parametrize("require_results", [True, False])
def test_registry_dump_in_chunks(dump, tmp_path, require_results):
    want = whole(dump, require_results=require_results)
    assert want[0]["measurements"].num_rows > 1000
    assert want[1].kept == (80 if require_results else 400)
    sizes = [(7, 1), (7, 2)] if require_results else [(13, 1), (60, 2)]
    for size, workers in sizes:
        got = chunked(dump, tmp_path / "t", chunk_studies=size, workers=workers, require_results=require_results)
        same(got, want)


def test_iter_studies_in_chunks(dump, tmp_path):
    want = [r.rows for r in aact.iter_studies(dump, progress=False, chunk_studies=None)]
    it = aact.iter_studies(dump, progress=False, chunk_studies=7, tmp_dir=tmp_path)
    got = [next(it).rows]
    assert any(tmp_path.iterdir())  # the chunked path, with its split on disk
    got += [r.rows for r in it]
    assert got == want and len(want) == 80
    assert not any(tmp_path.iterdir())
    # a caller that stops early and closes the generator leaves nothing behind either
    it = aact.iter_studies(dump, progress=False, chunk_studies=7, tmp_dir=tmp_path)
    next(it)
    it.close()
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("workers", [1, 2])
def test_strict_error_in_a_chunk_removes_the_split(raw, ids, tmp_path, workers):
    """A bad study in the 3rd chunk: strict raises the error a whole read raises, naming study and field."""
    studies = raw["studies"].filter(pl.col("nct_id").is_in(pl.Series(ids).implode())).sort("nct_id")
    bad = studies["nct_id"][40]
    tabs = {name: df.filter(pl.col("nct_id").is_in(studies["nct_id"].implode())) for name, df in raw.items()}
    tabs["studies"] = studies.with_columns(
        phase=pl.when(pl.col("nct_id") == bad).then(pl.lit("Phase 7")).otherwise(pl.col("phase"))
    ).filter(pl.col("nct_id") != BAD_P)
    write_flat_files(tabs, tmp_path / "flat")
    with pytest.raises(RecordError) as want:
        whole(tmp_path / "flat", strict=True)
    assert want.value.record == bad and want.value.field == "phase"
    (tmp_path / "t").mkdir()
    with pytest.raises(RecordError) as got:
        aact.read(
            tmp_path / "flat", strict=True, progress=False, chunk_studies=15, workers=workers, tmp_dir=tmp_path / "t"
        )
    assert str(got.value) == str(want.value)
    assert (got.value.record, got.value.field, got.value.reason) == (bad, "phase", want.value.reason)
    assert not any((tmp_path / "t").iterdir())
    # lenient: skipped and counted, as in a whole read
    same(chunked(tmp_path / "flat", tmp_path / "t", chunk_studies=15, workers=workers), whole(tmp_path / "flat"))


def test_split_error_removes_the_split(raw, tmp_path):
    """An input the split cannot read (an id that is not a number) raises as a whole read does; no files left."""
    tabs = {name: df.head(30) for name, df in raw.items()}
    tabs["outcomes"] = tabs["outcomes"].with_columns(pl.col("id").cast(pl.String).str.replace(r"^", "x"))
    write_flat_files(tabs, tmp_path / "flat")
    with pytest.raises(pl.exceptions.PolarsError):
        whole(tmp_path / "flat")
    (tmp_path / "t").mkdir()
    with pytest.raises(pl.exceptions.PolarsError):
        aact.read(tmp_path / "flat", progress=False, chunk_studies=2, tmp_dir=tmp_path / "t", require_results=False)
    assert not any((tmp_path / "t").iterdir())


def test_bad_arguments():
    with pytest.raises(ValueError, match="chunk_studies"):
        aact.read(EMBEDDED, progress=False, chunk_studies=0)
    with pytest.raises(ValueError, match="workers"):
        aact.read(EMBEDDED, progress=False, nct_ids=["NCT00087022", "NCT00943722"], chunk_studies=1, workers=0)


def test_key_check_names_the_repeated_key(embedded_ref):
    """tables.check_unique (a sort, not a hash table) passes real tables and names the repeated value of a key."""
    import pyarrow as pa

    from deepimagine_data.tables import check_unique

    tables = dict(embedded_ref[0])
    check_unique(tables)
    arms = tables["arms"]
    tables["arms"] = pa.concat_tables([arms, arms.slice(1234, 1)])
    with pytest.raises(RecordError) as got:
        check_unique(tables)
    assert got.value.field == "group_id" and arms.column("group_id")[1234].as_py() in str(got.value)


def test_a_key_into_another_chunk_reads_whole(raw, ids, tmp_path):
    """Keys that name rows of a study in another chunk (never in AACT's own exports): the chunks could not join
    them, so the input is read whole, with a warning, and gives what a whole read gives."""
    keep = pl.Series(ids).implode()
    tabs = {name: df.filter(pl.col("nct_id").is_in(keep)) for name, df in raw.items()}
    first, last = tabs["interventions"].sort("nct_id")["id"][[0, -1]]
    dgi = tabs["design_group_interventions"].sort("id")
    # the last study's first link names the first study's first intervention, and the reverse
    last_row = dgi.filter(pl.col("nct_id") == dgi["nct_id"].max())["id"][0]
    first_row = dgi.filter(pl.col("nct_id") == dgi["nct_id"].min())["id"][0]
    tabs["design_group_interventions"] = dgi.with_columns(
        intervention_id=pl.when(pl.col("id") == last_row)
        .then(pl.lit(first, dtype=dgi["intervention_id"].dtype))
        .when(pl.col("id") == first_row)
        .then(pl.lit(last, dtype=dgi["intervention_id"].dtype))
        .otherwise(pl.col("intervention_id"))
    )
    sv = "aact:test"
    want = whole(tabs, source_version=sv)
    with pytest.warns(UserWarning, match=r"2 row\(s\) refer to rows of studies in other chunks"):
        got = chunked(tabs, tmp_path / "t", chunk_studies=50, source_version=sv)
    same(got, want)


def test_the_crossing_check_is_what_keeps_it_whole(raw, ids, tmp_path, monkeypatch):
    """(The case above without the check: the chunks miss the crossing keys, and the tables differ.)"""
    keep = pl.Series(ids).implode()
    tabs = {name: df.filter(pl.col("nct_id").is_in(keep)) for name, df in raw.items()}
    dgi = tabs["design_group_interventions"].sort("id")
    first = tabs["interventions"].sort("nct_id")["id"][0]
    last_row = dgi.filter(pl.col("nct_id") == dgi["nct_id"].max())["id"][0]
    tabs["design_group_interventions"] = dgi.with_columns(
        intervention_id=pl.when(pl.col("id") == last_row)
        .then(pl.lit(first, dtype=dgi["intervention_id"].dtype))
        .otherwise(pl.col("intervention_id"))
    )
    want = whole(tabs, source_version="x")
    monkeypatch.setattr(aact._Chunks, "_crossing_references", lambda self: 0)
    got = chunked(tabs, tmp_path / "t", chunk_studies=50, source_version="x")
    assert not got[0]["arms"].equals(want[0]["arms"])


# --- the fast paths of the walk give what the checked constructors give ------------------------------------------

_OUTCOME = {
    "trial_id": "NCT00000001",
    "outcome_id": "NCT00000001:O0",
    "param_type": "MEAN",
    "unit_of_measure": "mg",
    "dispersion_type_raw": "95% Confidence Interval",
}
# (argument, values): good, unusual and bad values of every argument of a measurement
_MEASUREMENT_VALUES = [
    (
        "value",
        [
            "12.5",
            "<0.001",
            "≥ 3",
            "1,234.5",
            "NA",
            " 7 ",
            3,
            2.5,
            0.0,
            -0.0,
            float("nan"),
            None,
            True,
            "abc",
            "1,5",
            "1e400",
            float("inf"),
        ],
    ),
    ("spread", ["0.5", "=1", "<5", "x", 1.0, None]),
    ("lower_limit", ["-1.5", "<2", "NA", "y", -0.0, None]),
    ("upper_limit", ["3", ">9", 4, None, "z"]),
    ("n", ["12", "12.0", "3.5", "-1", "<4", "=8", 7.0, 7, None, "n"]),
    ("n_units", ["Participants", "µg", None, "bad\x00", "\ud800", 5]),
    ("group_code", ["OG000", None, 3, "x" * 5001]),
    ("group_title", ["Arm A: 10 mg/kg", None, "é" * 5001, "ok"]),
    ("class_title", ["All", None, 1.5]),
    ("category_title", ["Yes", None, "\ud800"]),
    ("comment", ["not estimable", None, "c" * 5001, "c" * 200_001]),
]


def _row_or_error(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except RecordError as err:
        return ("error", str(err), err.field, err.reason)


def _checked_rows(start: int, rows: list[dict]) -> list[dict]:
    from deepimagine_data.rows import _checked_measurement_row

    return [_checked_measurement_row(outcome=_OUTCOME, index=start + i, **kw) for i, kw in enumerate(rows)]


def test_measurement_rows_are_those_of_the_checked_constructor():
    """Measurements builds a row without its checks' messages and falls back to _checked_measurement_row (the
    constructor as it was): every value, good or bad, gives the same row or the same error."""
    from deepimagine_data.rows import Measurements, _checked_measurement_row, measurement_row

    base = dict(
        group_code="OG000",
        group_title="Arm A",
        value="1.5",
        spread="0.2",
        lower_limit="1",
        upper_limit="2",
        n="10",
        n_units="Participants",
        class_title=None,
        category_title=None,
        comment=None,
    )
    cases = [dict(base, **{arg: v}) for arg, values in _MEASUREMENT_VALUES for v in values]
    for index, kw in enumerate(cases):
        want = _row_or_error(_checked_measurement_row, outcome=_OUTCOME, index=index, **kw)
        # repr: -0.0 and nan compare as themselves
        assert repr(_row_or_error(Measurements(_OUTCOME).row, index=index, **kw)) == repr(want), kw
        assert repr(_row_or_error(measurement_row, outcome=_OUTCOME, index=index, **kw)) == repr(want), kw
    # by column: the rows in order, or the first bad row's error
    for part in (cases[:5], cases, cases[::-1]):
        columns = [[kw[name] for kw in part] for name in base]
        got = _row_or_error(Measurements(_OUTCOME).rows, 3, *columns)
        assert repr(got) == repr(_row_or_error(_checked_rows, 3, part))


def test_runs_hand_out_each_study_across_slices():
    """_Runs walks a frame in slices; a study whose rows straddle slices, and rows of studies that are not asked
    for, give the rows a filter gives."""
    df = pl.DataFrame(
        {
            "nct_id": ["A", "A", "B", "B", "B", "B", "B", "C", "E", "E", "F"],
            "x": list(range(11)),
            "tags": [[str(i)] for i in range(11)],
        }
    )
    for chunk in (1, 2, 3, 4, 100):
        runs = aact._Runs(df, chunk)
        for nct in ["A", "B", "D", "E", "G"]:  # C, F: not asked for; D, G: no rows
            got = runs.take(nct)
            want = df.filter(pl.col("nct_id") == nct)
            assert len(got) == want.height
            assert list(got) == want.to_dicts()
            assert got.column("x") == want["x"].to_list() and got.column("nope") == [None] * want.height
    assert list(aact._Runs(None).take("A")) == []


def test_sort_of_sorted_rows_is_the_take():
    """sort_table skips the sort of rows already in order: the same table, one chunk a column, as the take."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from deepimagine_data.schema import SORT_KEYS
    from deepimagine_data.tables import sort_table

    t = pa.table({"trial_id": ["A", "A", "B", "B", "C"], "measurement_id": ["A:M0", "A:M1", "B:M0", "B:M10", "C:M2"]})
    for table in (t, pa.concat_tables([t.slice(0, 2), t.slice(2)]), t.take([1, 0, 2, 4, 3]), t.take([2, 3, 0, 1, 4])):
        want = table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in SORT_KEYS["measurements"]]))
        got = sort_table("measurements", table)
        assert got.equals(want) and all(c.num_chunks == 1 for c in got.columns)
    nulls = pa.table({"trial_id": ["A", None, "B"], "measurement_id": ["x", "y", "z"]})
    assert sort_table("measurements", nulls)["trial_id"].to_pylist() == ["A", "B", None]


# values that are not plain (see aact._PLAIN_NUMBER / _plain_text): each study holding one goes row by row
_ODD_MEASUREMENTS = {
    "param_value": [" 12", "1,234", "≥3", "~4", "abc", "1e5", ".5", "5.", "NA ", "n/a", "", "-0", "<=0.001", "١٢"],
    "dispersion_value": ["<2", "=1.5", "x", "NR", "1" * 20],
    "dispersion_lower_limit_raw": [">-3", "low", "1.0e-3"],
    "dispersion_upper_limit": ["9999999999999999.5", "--"],
    "ctgov_group_code": [None, "OG999"],
    "classification": ["a\x00b", "é" * 5001],
    "explanation_of_na": ["n" * 200_001, "fine: é"],
}
_ODD_COUNTS = {"count": ["3.5", "-1", "=8", "12.0", "1" * 16, "NA"], "units": ["p" * 5001]}


def _with_odd_values(df: pl.DataFrame, odd: dict[str, list], first: int = 0) -> pl.DataFrame:
    """``df`` with each value of ``odd`` written into the first row of another study (from the ``first``-th study
    on, in nct_id order)."""
    rows = df.with_row_index("_row").group_by("nct_id").agg(pl.col("_row").first()).sort("nct_id")["_row"]
    at = first
    for column, values in odd.items():
        for v in values:
            hit = pl.int_range(pl.len()) == rows[at]
            df = df.with_columns(pl.when(hit).then(pl.lit(v, pl.String)).otherwise(pl.col(column)).alias(column))
            at += 1
    return df


def _by_column(tabs) -> aact._ColumnMeasurements:
    from deepimagine_data.errors import IngestReport

    inp = aact._Input(tabs)
    columns = aact._ColumnMeasurements.of(
        aact._Prepared(inp, aact._select(inp, IngestReport(), False, True, None)).collect()
    )
    assert columns is not None
    return columns


def test_measurements_by_column_are_those_row_by_row(dump):
    """read() builds the measurements of plain studies by column (_ColumnMeasurements); iter_studies builds every
    measurement row by row: the same tables and report, on the dump, on a copy with values that are not plain in
    some studies (row by row for those), and without outcome_counts."""
    from deepimagine_data.errors import IngestReport
    from deepimagine_data.tables import collect

    frames = {p.stem: pl.read_csv(p, separator="|", infer_schema=False, quote_char='"') for p in dump.glob("*.txt")}

    def by_row(tabs):
        report = IngestReport()
        return collect(aact.iter_studies(tabs, progress=False, report=report, source_version="x"), report), report

    def check(tabs):
        want = by_row(tabs)
        same(aact.read(tabs, progress=False, source_version="x"), want)
        same(aact.read(tabs, progress=False, source_version="x", chunk_studies=9, workers=1), want)
        return want

    tables, report = check(frames)
    assert tables["measurements"].num_rows > 1000 and report.kept == 80
    assert _by_column(frames).other.height == 0  # every study plain

    odd = dict(frames)
    odd["outcome_measurements"] = _with_odd_values(
        frames["outcome_measurements"],
        {**_ODD_MEASUREMENTS, "outcome_id": ["1"]},  # "1": no outcome of the study
    )
    odd["outcome_counts"] = _with_odd_values(frames["outcome_counts"], _ODD_COUNTS, first=40)
    tables, report = check(odd)
    columns = _by_column(odd)
    assert columns.other["nct_id"].n_unique() > 10 and columns.counts["nct_id"].n_unique() > 40  # both ways
    assert report.kept < 75 and tables["measurements"].num_rows > 1000
    assert {k.split(":")[0] for k in report.skipped} >= {"bad_number", "too_long", "bad_text", "bad_reference"}

    check({k: v for k, v in odd.items() if k != "outcome_counts"})
