"""benchmarks/registry_dump.py: a registry-sized AACT dump of replicated real records (tested here at a few hundred
studies): exact counts, unique ids, keys that resolve, synthetic NCT ids, dates in range, read back by the package's
AACT reader, the fixture conversion agreeing with the API v2 reader, byte-identical reruns."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from deepimagine_data.sources import aact, ctgov_json

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("registry_dump", ROOT / "benchmarks" / "registry_dump.py")
rd = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("registry_dump", rd)
_spec.loader.exec_module(rd)

STUDIES, WITH_RESULTS = 300, 60
FIXTURE_NCTS = {"NCT00763412", "NCT02210780", "NCT02552212"}
# embedded studies whose own posted p-values exceed 1: the reader skips them, and so their replicas
BAD_TEMPLATES = {"NCT00087022", "NCT03125902"}


def _tables(path: Path) -> dict[str, pl.DataFrame]:
    return {
        p.stem: pl.read_csv(p, separator="|", infer_schema=False, quote_char='"') for p in sorted(path.glob("*.txt"))
    }


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("regdump")
    return out, rd.write_dump(out, STUDIES, WITH_RESULTS, progress=False)


@pytest.fixture(scope="module")
def tables(dump) -> dict[str, pl.DataFrame]:
    return _tables(dump[0])


@pytest.fixture(scope="module")
def replicas(dump) -> pl.DataFrame:
    return pl.read_csv(dump[0] / "_replicas.csv")


def test_counts_are_exact(dump, tables):
    out, counts = dump
    assert sorted(tables) == sorted(rd.TABLES)
    assert counts["studies"] == tables["studies"].height == STUDIES
    assert counts["studies_with_results"] == WITH_RESULTS
    assert tables["studies"]["results_first_posted_date"].is_not_null().sum() == WITH_RESULTS
    for t, df in tables.items():
        assert counts[t] == df.height, t
    for key in ("outcomes", "outcome_measurements", "outcome_analyses"):
        assert counts[key] > 0


def test_ids_unique_and_keys_resolve(tables):
    for t, df in tables.items():
        if "id" in df.columns:
            assert df["id"].null_count() == 0 and df["id"].n_unique() == df.height, t
            assert df["id"].cast(pl.Int64).max() < 2**53, t  # exact through the reader's Float64 parse
    ncts = set(tables["studies"]["nct_id"])
    for t, df in tables.items():
        assert set(df["nct_id"]) <= ncts, t
        for col, target in rd.FOREIGN_KEYS.items():
            if col not in df.columns or (t == target and col == "id"):
                continue
            ref = df.filter(pl.col(col).is_not_null()).select("nct_id", pl.col(col).alias("id"))
            hit = ref.join(tables[target].select("id", pl.col("nct_id").alias("owner")), on="id", how="left")
            assert hit["owner"].null_count() == 0, f"{t}.{col} names a missing {target} row"
            assert (hit["owner"] == hit["nct_id"]).all(), f"{t}.{col} names another study's {target} row"


def test_synthetic_ids_and_dates(tables, replicas):
    s = tables["studies"]
    assert s["nct_id"].n_unique() == STUDIES
    assert s["nct_id"].str.contains(r"^NCT9\d{7}$").all()
    assert s["nct_id"].to_list() == [f"NCT9{i:07d}" for i in range(STUDIES)]
    posted = s["results_first_posted_date"].drop_nulls().str.to_date()
    assert posted.min() >= dt.date(2008, 1, 1) and posted.max() <= dt.date(2026, 6, 30)
    first = s.filter(pl.col("results_first_posted_date").is_null())["study_first_posted_date"].str.to_date()
    assert first.min() >= dt.date(2008, 1, 1) and first.max() <= dt.date(2026, 6, 30)
    # every *_month_year is the text of its (moved) date: 'Month YYYY' at month precision, else 'Month D, YYYY'
    for name in rd.MONTH_YEAR:
        both = s.select(
            pl.col(f"{name}_date").str.to_date().alias("d"), pl.col(f"{name}_month_year").alias("t")
        ).drop_nulls()
        day = both.filter(pl.col("t").str.contains(","))
        month = both.filter(~pl.col("t").str.contains(","))
        assert (day["d"].dt.strftime("%B %-d, %Y") == day["t"]).all(), name
        assert (month["d"].dt.strftime("%B %Y") == month["t"]).all(), name
        assert (month["d"] == month["d"].dt.month_end()).all(), name
    # the plan: templates from the embedded set and the fixtures; the fixtures among the results replicas
    assert replicas["nct_id"].to_list() == s["nct_id"].to_list()
    results = replicas.filter(
        pl.col("nct_id").is_in(s.filter(pl.col("results_first_posted_date").is_not_null())["nct_id"].to_list())
    )
    assert set(results["template"]) & FIXTURE_NCTS
    assert not set(replicas.filter(~pl.col("nct_id").is_in(results["nct_id"].to_list()))["template"]) & FIXTURE_NCTS


def test_aact_reader_reads_it(dump, replicas):
    out, counts = dump
    t, report = aact.read(out, progress=False)
    bad = {k: n for k, n in report.skipped.items() if not k.startswith("no_results:")}
    skipped = {k.split(":")[1] for k in bad}
    assert set(replicas.filter(pl.col("nct_id").is_in(skipped))["template"]) <= BAD_TEMPLATES
    assert report.skipped["no_results:results_first_posted_date"] == STUDIES - WITH_RESULTS
    assert report.kept == WITH_RESULTS - sum(bad.values())
    assert t["trials"].num_rows == report.kept
    m = pl.from_arrow(t["measurements"])
    assert m.height > 0 and m["value_raw"].is_not_null().all()

    # the fixture replicas carry their study's own per-arm values, in order
    real, _ = ctgov_json.read([rd.FIXTURES / f for f in rd.FIXTURE_FILES])
    real_m = pl.from_arrow(real["measurements"])
    fixture_replicas = replicas.filter(pl.col("template").is_in(FIXTURE_NCTS))
    assert fixture_replicas.height >= 1
    cols = ["group_code", "class_title", "category_title", "value_raw", "spread_raw", "lower_limit_raw"]
    for nct, template in fixture_replicas.select("nct_id", "template").iter_rows():
        got = m.filter(pl.col("trial_id") == nct).select(cols)
        want = real_m.filter(pl.col("trial_id") == template).select(cols)
        assert got.height == want.height > 0
        assert got.equals(want), nct
    # the embedded replicas get grafted rows for every outcome that has a group
    other = replicas.filter(
        ~pl.col("template").is_in(FIXTURE_NCTS) & pl.col("nct_id").is_in(m["trial_id"].unique().to_list())
    )
    assert other.height > 0


def _class_denoms(path: Path) -> set[tuple[str, int]]:
    study = json.loads(path.read_text(encoding="utf-8"))
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    oms = study["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]
    return {(nct, i) for i, om in enumerate(oms) if any(c.get("denoms") for c in om.get("classes", []))}


def test_fixture_conversion_agrees_with_the_api_v2_reader(tmp_path):
    paths = [rd.FIXTURES / f for f in rd.FIXTURE_FILES]
    rd.write_fixture_dump(tmp_path, paths)
    got, got_report = aact.read(tmp_path, progress=False)
    want, want_report = ctgov_json.read(paths)
    assert got_report.kept == want_report.kept == 3 and not got_report.skipped
    for t in ("trials", "outcomes", "measurements", "analyses", "interventions"):
        assert got[t].num_rows == want[t].num_rows, t
    assert got["measurements"].num_rows == 30 + 28 + 66

    o_cols = ["outcome_id", "outcome_type", "title", "param_type", "dispersion_type", "unit_of_measure"]
    assert pl.from_arrow(got["outcomes"]).select(o_cols).equals(pl.from_arrow(want["outcomes"]).select(o_cols))

    m_cols = [
        "measurement_id",
        "group_id",
        "group_title",
        "class_title",
        "category_title",
        "value",
        "value_modifier",
        "value_raw",
        "spread_raw",
        "lower_limit_raw",
        "upper_limit_raw",
        "comment",
    ]
    gm, wm = pl.from_arrow(got["measurements"]), pl.from_arrow(want["measurements"])
    assert gm.select(m_cols).equals(wm.select(m_cols))
    # n: AACT's outcome_counts hold the outcome's denominators only; a class's own denominators (one outcome
    # here) are not in AACT, so there the two readers differ by design
    own = _class_denoms(paths[0]) | _class_denoms(paths[1]) | _class_denoms(paths[2])
    assert len(own) == 1
    skip = pl.concat_str([pl.col("trial_id"), pl.col("outcome_id").str.split(":").list.last()], separator=":")
    own_ids = {f"{nct}:O{i}" for nct, i in own}
    keep_g, keep_w = gm.filter(~skip.is_in(own_ids)), wm.filter(~skip.is_in(own_ids))
    assert keep_g.height == keep_w.height > 100
    assert keep_g.select("n", "n_units").equals(keep_w.select("n", "n_units"))

    a_cols = [
        "analysis_id",
        "group_codes",
        "p_value",
        "p_value_modifier",
        "p_value_raw",
        "non_inferiority_type",
        "statistical_method",
        "estimate_type",
        "estimate_value",
        "ci_percent",
        "ci_sides",
        "ci_lower",
        "ci_upper",
    ]
    ga, wa = pl.from_arrow(got["analyses"]), pl.from_arrow(want["analyses"])
    assert ga.height == 19
    assert ga.select(a_cols).equals(wa.select(a_cols))

    t_cols = ["nct_id", "brief_title", "overall_status", "phase", "enrollment", "allocation", "masking"]
    assert pl.from_arrow(got["trials"]).select(t_cols).equals(pl.from_arrow(want["trials"]).select(t_cols))
    assert pl.from_arrow(got["trials"])["results_first_posted_date"].equals(
        pl.from_arrow(want["trials"])["results_first_posted_date"]
    )


def test_same_arguments_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ca = rd.write_dump(a, 200, 50, seed=3, progress=False, chunk=70)
    cb = rd.write_dump(b, 200, 50, seed=3, progress=False)  # other chunking, same files
    assert ca == cb
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    rd.write_dump(c, 200, 50, seed=4, progress=False)
    assert (c / "studies.txt").read_bytes() != (a / "studies.txt").read_bytes()


def test_cli_scales_with_results_with_studies(tmp_path, capsys):
    counts = rd.main(["--out", str(tmp_path), "--studies", "1000", "--no-progress"])
    assert counts["studies"] == 1000
    assert counts["studies_with_results"] == round(1000 * 76_600 / 572_000) == 134
    assert "outcome_measurements" in capsys.readouterr().out
