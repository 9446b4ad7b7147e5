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


def test_key_check_raises_as_tables_check_unique(embedded_ref):
    """The sort-based key check of a chunked read passes and fails as tables.check_unique, with its error."""
    import pyarrow as pa

    from deepimagine_data.tables import check_unique

    tables = dict(embedded_ref[0])
    aact._check_unique(tables)
    arms = tables["arms"]
    tables["arms"] = pa.concat_tables([arms, arms.slice(1234, 1)])
    with pytest.raises(RecordError) as want:
        check_unique(tables)
    with pytest.raises(RecordError) as got:
        aact._check_unique(tables)
    assert str(got.value) == str(want.value) and got.value.field == "group_id"


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
