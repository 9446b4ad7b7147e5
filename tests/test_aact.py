"""AACT source on real records of Merck's oncology compilation: the 5,557 studies with posted results that the package
embeds, plus 78 without results vendored under tests/fixtures (the ``aact_oncology`` fixture joins the two), and the
full 42,218-study copy where ../shared/data holds it.

Expected figures are counted directly in the raw parquet with polars, next to the ingest's output.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from deepimagine_data.errors import RecordError
from deepimagine_data.rows import result_group_row
from deepimagine_data.sources import aact
from deepimagine_data.sources.aact_flat import SCHEMA_FILE, read_flat_files, write_flat_files
from deepimagine_data.tables import table_fingerprint

SV = "aact_oncology_merck@140dae3"

# Real studies used below: many analyses with '<' modifiers and CI bounds; the study test_build also names.
GMT = "NCT00943722"  # 16 outcomes, 90 analyses, 5 arms
OR = "NCT01138124"  # 8 outcomes, 80 analyses, 1 arm
RD = "NCT03584009"  # 8 outcomes, 3 analyses, 2 arms
# Studies whose text holds '|' (interventions, outcomes, outcome_analyses); the last two have no results.
PIPES = ["NCT00471718", "NCT02440139", "NCT00084929", "NCT00514540", "NCT00572728", "NCT00058058"]
PIPES_NO_RESULTS = ["NCT03386045", "NCT03650595"]
BAD_P = {"NCT00087022": 1.012, "NCT03125902": 1.1411}  # posted p-values above 1


@pytest.fixture(scope="module")
def merck(aact_oncology) -> Path:
    return aact_oncology


@pytest.fixture(scope="module")
def raw(merck) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in sorted(merck.glob("*.parquet"))}


@pytest.fixture(scope="module")
def full(raw, merck):
    return aact.read(merck, source_version=SV, progress=False)


@pytest.fixture(scope="module")
def sample_ids(raw) -> list[str]:
    s = raw["studies"].sort("nct_id")
    res = s.filter(pl.col("results_first_posted_date").is_not_null())["nct_id"].to_list()
    nores = s.filter(pl.col("results_first_posted_date").is_null())["nct_id"].to_list()
    ids = set(res[::20]) | set(nores[::3]) | {GMT, OR, RD, *PIPES, *PIPES_NO_RESULTS, *BAD_P}
    return sorted(ids)


def subset(raw, ids) -> dict[str, pa.Table]:
    keep = pl.Series(ids)
    return {name: df.filter(pl.col("nct_id").is_in(keep.implode())).to_arrow() for name, df in raw.items()}


@pytest.fixture(scope="module")
def flat_dir(raw, sample_ids, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aact_flat")
    write_flat_files(subset(raw, sample_ids), out)
    return out


# --- flat files ----------------------------------------------------------------------------------------


def test_flat_files_round_trip_real_rows(raw, sample_ids, flat_dir):
    """~300 real studies, every table: written and read back identically."""
    original = subset(raw, sample_ids)
    assert 250 <= len(sample_ids) <= 400
    back = read_flat_files(flat_dir)
    assert set(back) == set(original)
    for name, t in original.items():
        assert back[name].schema == t.schema, name
        assert back[name].equals(t), name
    # the sample exercises quoting ('|' in real text), unicode, nulls, null-typed columns, dates, timestamps
    text = (flat_dir / "outcome_analyses.txt").read_text(encoding="utf-8")
    assert sum(t.num_rows for t in original.values()) > 10_000
    piped = original["outcome_analyses"].column("param_type").to_pylist()
    assert any(v and "|" in v for v in piped) and '"' in text
    descriptions = original["interventions"].column("description").to_pylist()
    assert any(any(ord(ch) > 127 for ch in v or "") for v in descriptions)
    assert original["studies"].column("nlm_download_date_description").null_count == original["studies"].num_rows
    assert original["studies"].schema.field("created_at").type == pa.timestamp("ns")
    assert original["outcome_analyses"].column("p_value").null_count > 0


def test_flat_files_null_vs_empty_and_hard_text(raw, tmp_path):
    """The real data holds no empty strings, quotes or line breaks (AACT's exporter strips quotes and turns
    line breaks into '~'); injected into a copy of real rows they survive the format, and null stays null."""
    iv = raw["interventions"].filter(pl.col("nct_id") == RD)
    hard = ["", 'say "hi" | bye', "line1\nline2\r\nline3\r", '"', "  padded  ", "ü€😀 ≥ 5 mg/m²", None, "NA", "~"]
    rows = pl.concat([iv] * 5).head(len(hard)).with_columns(description=pl.Series(hard, dtype=pl.String))
    t = rows.to_arrow()
    write_flat_files({"interventions": t}, tmp_path)
    data = (tmp_path / "interventions.txt").read_bytes()
    assert b'|""\n' in data or b'|""|' in data  # empty string is written as ""
    back = read_flat_files(tmp_path)["interventions"]
    assert back.equals(t)
    assert back.column("description").to_pylist() == hard
    # without _schema.json (AACT's own export) every column is text; an empty field is still null
    (tmp_path / SCHEMA_FILE).unlink()
    text = read_flat_files(tmp_path)["interventions"]
    assert text.column("description").to_pylist() == hard
    assert text.column("id").to_pylist() == [str(int(x)) for x in iv["id"].to_list() * 5][: len(hard)]


def test_flat_zip_reads_the_same(flat_dir, tmp_path, sample_ids):
    z = tmp_path / "20230601_export.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(flat_dir.iterdir()):
            zf.write(p, f"export/{p.name}")
    a = read_flat_files(z)
    b = read_flat_files(flat_dir)
    assert all(a[n].equals(b[n]) for n in b)
    ta, _ = aact.read(z, source_version=SV, progress=False)
    tb, _ = aact.read(flat_dir, source_version=SV, progress=False)
    assert table_fingerprint(ta) == table_fingerprint(tb)


# --- parquet vs flat -----------------------------------------------------------------------------------


def test_parquet_and_flat_inputs_give_identical_tables(merck, flat_dir, sample_ids, tmp_path):
    p, rp = aact.read(merck, source_version=SV, progress=False, nct_ids=sample_ids)
    f, rf = aact.read(flat_dir, source_version=SV, progress=False)
    assert p["analyses"].num_rows > 100
    for name in p:
        assert f[name].equals(p[name]), name
    assert (rp.kept, dict(rp.skipped)) == (rf.kept, dict(rf.skipped))
    # AACT's own export has no _schema.json: all text in, the same tables out
    bare = tmp_path / "bare"
    shutil.copytree(flat_dir, bare)
    (bare / SCHEMA_FILE).unlink()
    t, _ = aact.read(bare, source_version=SV, progress=False)
    assert table_fingerprint(t) == table_fingerprint(p)


def test_default_source_version_from_path(flat_dir):
    t, _ = aact.read(flat_dir, nct_ids=[RD], progress=False)
    assert t["trials"].column("source_version").to_pylist() == [f"aact:{flat_dir.name}"]


# --- real studies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("nct", [GMT, OR, RD])
def test_counts_match_raw_tables(full, raw, nct):
    tables, _ = full

    def n_raw(table):
        return raw[table].filter(pl.col("nct_id") == nct).height

    def rows(table):
        return [r for r in tables[table].to_pylist() if r["trial_id"] == nct]

    outcomes, analyses, arms = rows("outcomes"), rows("analyses"), rows("arms")
    assert len(outcomes) == n_raw("outcomes")
    assert len(analyses) == n_raw("outcome_analyses")
    assert len([a for a in arms if a["group_type"] == "arm"]) == n_raw("design_groups")
    assert len(rows("interventions")) == n_raw("interventions")
    # result groups of an outcome = the distinct groups its analyses name
    an = raw["outcome_analyses"].filter(pl.col("nct_id") == nct).select(pl.col("id").alias("aid"), "outcome_id")
    g = raw["outcome_analysis_groups"].join(an, left_on="outcome_analysis_id", right_on="aid")
    expected = g.select("outcome_id", "ctgov_group_code").unique().height
    assert len([a for a in arms if a["group_type"] == "outcome"]) == expected
    per_outcome = {o["outcome_id"]: o for o in outcomes}
    for o in outcomes:
        assert o["n_analyses"] == sum(a["outcome_id"] == o["outcome_id"] for a in analyses)
    assert sum(o["n_analyses"] for o in per_outcome.values()) == len(analyses)
    # outcome_index follows AACT id order
    ids = raw["outcomes"].filter(pl.col("nct_id") == nct).sort("id")["title"].to_list()
    assert [o["title"] for o in sorted(outcomes, key=lambda o: o["outcome_index"])] == ids


def test_specific_analysis_values(full):
    tables, _ = full
    by_id = {r["analysis_id"]: r for r in tables["analyses"].to_pylist() if r["trial_id"] in (GMT, OR, RD)}
    a = by_id[f"{OR}:O0:S0"]  # outcome_analyses id 3769073
    assert (a["p_value"], a["p_value_modifier"], a["p_value_raw"]) == (0.0001, "<", "<0.0001")
    assert (a["estimate_type"], a["estimate_value"]) == ("Unadjusted Odds Ratio", 2.04)
    assert (a["ci_lower"], a["ci_upper"], a["ci_percent"], a["ci_sides"]) == (1.51, 2.75, 95.0, "TWO_SIDED")
    assert a["non_inferiority_type"] == "SUPERIORITY_OR_OTHER"
    assert a["statistical_method"].startswith("Conditional Logistic Regressio")
    assert a["group_codes"] == sorted(a["group_codes"]) and a["group_ids"][0].startswith(f"{OR}:O0:")
    b = by_id[f"{OR}:O0:S1"]  # same p-value posted without a modifier
    assert (b["p_value"], b["p_value_modifier"], b["estimate_type"]) == (0.0001, None, "Adjusted Odds Ratio")
    c = by_id[f"{GMT}:O0:S0"]
    assert (c["p_value"], c["p_value_modifier"], c["estimate_type"], c["estimate_value"]) == (
        0.001,
        "<",
        "GMT ratio",
        1.9,
    )
    assert (c["ci_lower"], c["ci_upper"], c["non_inferiority_type"]) == (1.7, 2.14, "NON_INFERIORITY")
    d = by_id[f"{RD}:O0:S0"]
    assert (d["p_value"], d["p_value_modifier"], d["statistical_method"]) == (0.7286, None, "Cochran-Mantel-Haenszel")
    assert (d["estimate_type"], d["estimate_value"], d["ci_lower"], d["ci_upper"]) == (
        "Risk Difference (RD)",
        -1.96,
        -16.86,
        12.94,
    )
    assert d["group_codes"] == ["OG000", "OG001"] and d["p_value_comment"].startswith("P-value is based on Strat")


def test_trial_arm_and_intervention_fields(full):
    tables, _ = full
    (t,) = [r for r in tables["trials"].to_pylist() if r["trial_id"] == RD]
    assert (t["source"], t["source_version"], t["phase"], t["overall_status"]) == ("aact", SV, "PHASE2", "COMPLETED")
    assert (t["enrollment"], t["enrollment_raw"], t["lead_sponsor"]) == (103, "103", "Hoffmann-La Roche")
    assert (str(t["start_date"]), t["start_date_raw"], t["has_results"]) == ("2018-09-06", "2018-09-06", True)
    assert t["keywords"] == [] and len(t["mesh_interventions"]) == 2  # mesh-list rows only, not ancestors
    # tables this AACT copy lacks -> unknown (null), not "none"
    assert t["countries"] is None and t["mesh_conditions"] is None and t["eligibility_criteria"] is None
    arms = {r["title"]: r for r in tables["arms"].to_pylist() if r["trial_id"] == RD and r["group_type"] == "arm"}
    assert arms["Venetoclax + Fulvestrant"]["intervention_names"] == ["Venetoclax", "Fulvestrant"]
    assert arms["Fulvestrant"]["intervention_names"] == ["Fulvestrant"]
    ivs = {r["name"]: r for r in tables["interventions"].to_pylist() if r["trial_id"] == RD}
    assert ivs["Fulvestrant"]["arm_labels"] == ["Fulvestrant", "Venetoclax + Fulvestrant"]
    assert ivs["Venetoclax"]["other_names"] is None  # intervention_other_names absent: unknown


def test_result_group_rows_are_those_of_the_constructor(full):
    """Rows of a result group shared by several outcomes are built once and re-keyed; check they equal what
    result_group_row gives for each outcome."""
    tables, _ = full
    groups = [r for r in tables["arms"].to_pylist() if r["group_type"] == "outcome" and r["trial_id"] in (GMT, OR, RD)]
    assert len(groups) > 20
    for r in groups:
        assert r == result_group_row(
            trial_id=r["trial_id"],
            outcome_id=r["outcome_id"],
            code=r["code"],
            title=r["title"],
            description=r["description"],
        )


def test_totals_over_the_shipped_set(full, raw):
    tables, report = full
    s = raw["studies"]
    with_results = s.filter(pl.col("results_first_posted_date").is_not_null()).height
    assert (s.height, with_results, raw["outcome_analyses"].height) == (5_557 + 78, 5_557, 9_600)
    assert report.read == 5_635
    assert report.skipped["no_results:results_first_posted_date"] == 78
    # Two studies posted a p-value above 1: the shared analysis_row refuses it and a lenient run drops the whole
    # study (same contract as the API v2 source), i.e. their 18 analyses.
    bad = {k: v for k, v in report.skipped.items() if not k.startswith("no_results")}
    assert bad == {"bad_number:NCT00087022:O1.analyses[0].pValue": 1, "bad_number:NCT03125902:O3.analyses[0].pValue": 1}
    assert report.kept == 5_555 and tables["trials"].num_rows == 5_555
    dropped = raw["outcome_analyses"].filter(pl.col("nct_id").is_in(list(BAD_P)))
    assert dropped.height == 18
    assert set(dropped["p_value"].to_list()) >= set(BAD_P.values())
    assert tables["analyses"].num_rows == 9_600 - 18 == 9_582
    kept_outcomes = raw["outcomes"].filter(~pl.col("nct_id").is_in(list(BAD_P))).height
    assert tables["outcomes"].num_rows == kept_outcomes == 36_198
    assert tables["measurements"].num_rows == 0  # outcome_measurements is missing from this AACT copy


def test_full_compilation_reads_as_the_shipped_studies(aact_oncology_full, full):
    """The whole compilation (42,218 studies) gives the same six tables as the shipped studies with results: the
    studies without results are skipped and counted, nothing else differs."""
    tables, report = aact.read(aact_oncology_full, source_version=SV, progress=False)
    assert report.read == 42_218 and report.kept == 5_555
    assert report.skipped["no_results:results_first_posted_date"] == 42_218 - 5_557
    shipped_tables, shipped_report = full
    assert {k: v for k, v in report.skipped.items() if not k.startswith("no_results")} == {
        k: v for k, v in shipped_report.skipped.items() if not k.startswith("no_results")
    }
    assert table_fingerprint(tables) == table_fingerprint(shipped_tables)


# --- modes ---------------------------------------------------------------------------------------------


def test_lenient_counts_skipped_no_results_studies(merck, raw, sample_ids):
    nores = set(raw["studies"].filter(pl.col("results_first_posted_date").is_null())["nct_id"].to_list())
    n_nores = len(set(sample_ids) & nores)
    assert n_nores >= 20
    tables, report = aact.read(merck, nct_ids=[*sample_ids, "NCT99999999"], progress=False)
    assert report.skipped["no_results:results_first_posted_date"] == n_nores
    assert report.skipped["not_found:nct_id"] == 1
    assert report.read == len(sample_ids) + 1
    assert not (set(tables["trials"].column("trial_id").to_pylist()) & nores)
    # require_results=False keeps them (no outcomes, has_results False), also in strict mode
    t2, r2 = aact.read(
        merck, nct_ids=sorted(set(sample_ids) - set(BAD_P)), require_results=False, strict=True, progress=False
    )
    assert r2.n_skipped == 0 and r2.kept == len(sample_ids) - len(BAD_P)
    no = [t for t in t2["trials"].to_pylist() if t["trial_id"] in nores]
    assert len(no) == n_nores and not any(t["has_results"] for t in no)
    assert not (set(t2["outcomes"].column("trial_id").to_pylist()) & nores)
    piped = [
        r
        for r in t2["interventions"].to_pylist()
        if r["trial_id"] in PIPES_NO_RESULTS and "|" in (r["name"] or "") + (r["description"] or "")
    ]
    assert piped


def test_strict_raises_on_a_corrupted_row_lenient_skips_it(merck, raw, tmp_path):
    ids = [GMT, OR, RD]
    tabs = subset(raw, ids)
    studies = pl.from_arrow(tabs["studies"])
    tabs["studies"] = studies.with_columns(
        phase=pl.when(pl.col("nct_id") == OR).then(pl.lit("Phase 7")).otherwise(pl.col("phase"))
    ).to_arrow()
    write_flat_files(tabs, tmp_path)
    with pytest.raises(RecordError) as ei:
        aact.read(tmp_path, strict=True, progress=False)
    assert ei.value.record == OR and ei.value.field == "phase" and "Phase 7" in str(ei.value)
    tables, report = aact.read(tmp_path, progress=False)
    assert report.kept == 2 and dict(report.skipped) == {"unknown_enum:phase": 1}
    assert OR in report.examples["unknown_enum:phase"]
    assert sorted(tables["trials"].column("trial_id").to_pylist()) == [GMT, RD]
    # a real out-of-range p-value raises in strict mode too, naming study and field
    with pytest.raises(RecordError) as ei:
        aact.read(merck, nct_ids=["NCT00087022"], strict=True, progress=False)
    assert ei.value.record == "NCT00087022" and ei.value.field.endswith("pValue") and "1.012" in str(ei.value)


def test_missing_required_table(raw, tmp_path):
    tabs = subset(raw, [RD])
    del tabs["outcomes"]
    write_flat_files(tabs, tmp_path)
    with pytest.raises(FileNotFoundError, match="outcomes"):
        aact.read(tmp_path, progress=False)


def test_optional_tables_when_present(raw, tmp_path):
    """The full AACT export's outcome_measurements/outcome_counts/countries/eligibilities/browse_conditions/
    intervention_other_names are missing from this copy: SYNTHETIC rows in their AACT layout are added to the
    real rows of one study to check the mapping."""
    tabs = subset(raw, [RD])
    o0, o1 = 6770435, 6770436  # the study's first two outcomes (AACT ids); groups OG000/OG001 -> 10114696/7
    s = pl.String
    tabs["outcome_measurements"] = pl.DataFrame(
        {
            "id": ["1", "2", "3"],
            "nct_id": [RD] * 3,
            "outcome_id": [str(o0), str(o0), str(o1)],
            "result_group_id": ["10114696", "10114697", "10114696"],
            "ctgov_group_code": ["OG000", "OG001", "OG000"],
            "classification": [None, None, "Week 24"],
            "category": [None, None, None],
            "title": ["t"] * 3,
            "description": [None] * 3,
            "units": ["percentage of participants"] * 3,
            "param_type": ["Number"] * 3,
            "param_value": ["68.1", "NA", "11.2"],
            "param_value_num": ["68.1", None, "11.2"],
            "dispersion_type": ["95% Confidence Interval"] * 3,
            "dispersion_value": [None] * 3,
            "dispersion_value_num": [None] * 3,
            "dispersion_lower_limit": ["52.9", None, "9"],
            "dispersion_upper_limit": ["80.9", None, "14"],
            "explanation_of_na": [None, "No participant reached", None],
            "dispersion_upper_limit_raw": ["80.9", None, "14.0"],
            "dispersion_lower_limit_raw": ["52.9", None, "9.0"],
        },
        schema_overrides={
            "classification": s,
            "category": s,
            "description": s,
            "dispersion_value": s,
            "dispersion_value_num": s,
        },
    )
    tabs["outcome_counts"] = pl.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "nct_id": [RD] * 4,
            "outcome_id": [str(o0)] * 3 + [str(o1)],
            "result_group_id": ["10114696", "10114697", "10114696", "10114696"],
            "ctgov_group_code": ["OG000", "OG001", "OG000", "OG000"],
            "scope": ["Measure"] * 4,
            "units": ["Participants", "Participants", "Tumors", "Participants"],
            "count": ["47", "51", "60", "40"],
        }
    )
    tabs["countries"] = pl.DataFrame(
        {
            "id": ["1", "2", "3"],
            "nct_id": [RD] * 3,
            "name": ["United States", "Spain", "Australia"],
            "removed": [None, "f", "t"],
        },
        schema_overrides={"removed": s},
    )
    tabs["eligibilities"] = pl.DataFrame(
        {
            "id": ["1"],
            "nct_id": [RD],
            "sampling_method": [None],
            "gender": ["Female"],
            "minimum_age": ["18 Years"],
            "maximum_age": ["N/A"],
            "healthy_volunteers": ["No"],
            "population": [None],
            "criteria": ["Inclusion Criteria:\n- ER+ ..."],
        },
        schema_overrides={"sampling_method": s, "population": s},
    )
    tabs["browse_conditions"] = pl.DataFrame(
        {
            "id": ["1", "2"],
            "nct_id": [RD] * 2,
            "mesh_term": ["Breast Neoplasms", "Neoplasms"],
            "mesh_type": ["mesh-list", "mesh-ancestor"],
        }
    )
    tabs["intervention_other_names"] = pl.DataFrame(
        {"id": ["1"], "nct_id": [RD], "intervention_id": ["12216509"], "name": ["ABT-199"]}
    )
    write_flat_files(tabs, tmp_path)
    tables, report = aact.read(tmp_path, strict=True, progress=False)
    (t,) = tables["trials"].to_pylist()
    assert t["countries"] == ["Spain", "United States"]  # removed country left out; sorted as in trial_row
    assert t["mesh_conditions"] == ["Breast Neoplasms"]
    assert (t["sex"], t["minimum_age"], t["maximum_age"], t["healthy_volunteers"]) == (
        "FEMALE",
        "18 Years",
        "N/A",
        False,
    )
    assert t["eligibility_criteria"].startswith("Inclusion Criteria:\n")
    ivs = {r["name"]: r["other_names"] for r in tables["interventions"].to_pylist()}
    assert ivs == {"Venetoclax": ["ABT-199"], "Fulvestrant": []}
    m = tables["measurements"].to_pylist()
    assert [x["measurement_id"] for x in m] == [f"{RD}:O0:M0", f"{RD}:O0:M1", f"{RD}:O1:M0"]
    assert (m[0]["value"], m[0]["lower_limit"], m[0]["upper_limit"], m[0]["n"], m[0]["n_units"]) == (
        68.1,
        52.9,
        80.9,
        47,
        "Participants",
    )  # first count row (Participants), not the later 'Tumors' one
    assert (m[0]["group_title"], m[0]["dispersion_type"], m[0]["dispersion_ci_percent"]) == (
        "Venetoclax + Fulvestrant",
        "CONFIDENCE_INTERVAL",
        95.0,
    )
    assert (m[1]["value"], m[1]["value_raw"], m[1]["comment"], m[1]["n"]) == (None, "NA", "No participant reached", 51)
    assert (m[2]["class_title"], m[2]["lower_limit_raw"], m[2]["n"]) == ("Week 24", "9.0", 40)
    outs = {o["outcome_index"]: o for o in tables["outcomes"].to_pylist()}
    assert (outs[0]["n_measurements"], outs[0]["n_groups"], outs[1]["n_measurements"]) == (2, 2, 1)
