"""ClinicalTrials.gov API v2 JSON -> tables, checked against the real AACT spec fixtures.

For every full API v2 study with results in the shared fixtures, an independent walker (written here, sharing no
code with ``deepimagine_data.sources.ctgov_json``) traverses the JSON and checks that every arm, intervention,
outcome, result group, measurement (with its denominator) and analysis is in the tables with its values.
A few values are also hard-coded after reading the JSON by hand.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from deepimagine_data import tables as tbl
from deepimagine_data.errors import RecordError
from deepimagine_data.sources import ctgov_json

# The full API v2 studies with results in the archive (top-level protocolSection + resultsSection + nctId).
FULL_STUDIES = {
    "NCT00763412.json": "NCT00763412",
    "NCT02210780.json": "NCT02210780",
    "NCT02278341.json": "NCT02552212",
    "design_outcome_empty.json": "NCT01234567",
    "initialize_participant_flow_data.json": "NCT02299791",
    "study_data_initialize.json": "NCT000001",
    "study_data_interventional.json": "NCT000001",
    "study_data_patient_registry.json": "NCT000001",
    "study_data_phases.json": "NCT000001",
}
# Two variants carry values that are not API v2 enum values: the first one met -> (bad value, field named).
# (study_data_phases.json has both phase PHASE5 and studyType EXPANDED_ACCESS_INTERVENTIONAL; the phase is read
# first.)
INVALID_ENUMS = {
    "study_data_phases.json": ("PHASE5", "phase"),
    "study_data_interventional.json": ("EXPANDED_ACCESS_INTERVENTIONAL", "studyType"),
}
VALID_STUDIES = [f for f in FULL_STUDIES if f not in INVALID_ENUMS]
# Distinct trials (the study_data_* variants all share NCT000001; keep one of them).
DISTINCT = [
    "NCT00763412.json",
    "NCT02210780.json",
    "NCT02278341.json",
    "design_outcome_empty.json",
    "initialize_participant_flow_data.json",
    "study_data_initialize.json",
]


@pytest.fixture(scope="session")
def json_dir(aact_spec_json) -> Path:
    return aact_spec_json


def load(json_dir: Path, name: str) -> dict:
    return json.loads((json_dir / name).read_text(encoding="utf-8"))


def repaired(json_dir: Path, name: str) -> dict:
    """The study as posted, with the not-an-enum values (if any) replaced by valid ones."""
    study = load(json_dir, name)
    design = study["protocolSection"]["designModule"]
    design["phases"] = [p for p in design.get("phases", []) if p != "PHASE5"]
    if design.get("studyType") == "EXPANDED_ACCESS_INTERVENTIONAL":
        design["studyType"] = "INTERVENTIONAL"
    return study


def rows(table, **where) -> list[dict]:
    out = table.to_pylist()
    return [r for r in out if all(r[k] == v for k, v in where.items())]


def suffix_index(ident: str, letter: str) -> int:
    m = re.search(rf":{letter}(\d+)$", ident)
    assert m, ident
    return int(m.group(1))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(paths: dict[str, Path]) -> dict[str, str]:
    return {name: sha256(p) for name, p in paths.items()}


# --- an independent reading of the JSON ------------------------------------------------------------------


def num(text):
    """float(text) for a plain number, else None ("NA" and other not-a-number text)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def p_value(text):
    """'<0.0001' -> (0.0001, '<'); '=0.247' -> (0.247, '='); '0.399' -> (0.399, None); 'NA' -> (None, None)."""
    if text is None:
        return None, None
    m = re.fullmatch(r"\s*(<=|>=|<|>|=)?\s*([0-9.eE+-]+)\s*", text)
    if not m:
        return None, None
    return float(m.group(2)), m.group(1)


def iso_date(text):
    if text is None:
        return None
    parts = [int(x) for x in text.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def walk_measurements(om: dict):
    """Yield (class, category, measurement, n text, n units) in posted order."""
    denoms = om.get("denoms") or []
    for cl in om.get("classes") or []:
        use = cl.get("denoms") or denoms
        counts = {c["groupId"]: c["value"] for c in use[0]["counts"]} if use else {}
        units = use[0].get("units") if use else None
        for cat in cl.get("categories") or []:
            for m in cat.get("measurements") or []:
                yield cl, cat, m, counts.get(m["groupId"]), units


def check_study(study: dict, t: dict) -> None:
    ps = study["protocolSection"]
    nct = ps["identificationModule"]["nctId"]

    # trials
    (trial,) = rows(t["trials"], trial_id=nct)
    design = ps.get("designModule", {})
    dinfo = design.get("designInfo", {})
    status = ps.get("statusModule", {})
    assert trial["nct_id"] == nct
    assert trial["brief_title"] == ps["identificationModule"].get("briefTitle")
    assert trial["overall_status"] == status.get("overallStatus")
    assert trial["study_type"] == design.get("studyType")
    assert trial["phases"] == design.get("phases", [])
    assert trial["phase"] == ("/".join(design["phases"]) if design.get("phases") else None)
    assert trial["conditions"] == ps.get("conditionsModule", {}).get("conditions", [])
    locations = ps.get("contactsLocationsModule", {}).get("locations", [])
    assert trial["countries"] == sorted({loc["country"] for loc in locations if loc.get("country")})
    assert trial["enrollment"] == design.get("enrollmentInfo", {}).get("count")
    assert trial["enrollment_raw"] == str(design.get("enrollmentInfo", {}).get("count"))
    assert trial["allocation"] == trial["allocation_raw"] == dinfo.get("allocation")
    assert trial["masking"] == trial["masking_raw"] == dinfo.get("maskingInfo", {}).get("masking")
    assert trial["intervention_model"] == dinfo.get("interventionModel")
    assert trial["primary_purpose"] == dinfo.get("primaryPurpose")
    assert trial["lead_sponsor"] == ps["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
    for col, key in [
        ("start_date", "startDateStruct"),
        ("primary_completion_date", "primaryCompletionDateStruct"),
        ("completion_date", "completionDateStruct"),
        ("results_first_posted_date", "resultsFirstPostDateStruct"),
    ]:
        text = status.get(key, {}).get("date")
        assert trial[f"{col}_raw"] == text, col
        assert trial[col] == iso_date(text), col
    assert trial["results_first_posted_date"] is not None
    assert trial["has_results"] is True

    # protocol arm groups and interventions
    aim = ps.get("armsInterventionsModule", {})
    arm_groups = aim.get("armGroups", [])
    arms = sorted(rows(t["arms"], trial_id=nct, group_type="arm"), key=lambda r: suffix_index(r["group_id"], "A"))
    assert len(arms) == len(arm_groups)
    for row, ag in zip(arms, arm_groups, strict=True):
        assert row["title"] == ag["label"]
        assert row["arm_type_raw"] == ag.get("type")
        assert row["arm_type"] == ag.get("type")
        assert row["description"] == ag.get("description")
        assert row["intervention_names"] == ag.get("interventionNames", [])
        assert row["outcome_id"] is None and row["code"] is None
    ivs = aim.get("interventions", [])
    iv_rows = rows(t["interventions"], trial_id=nct)
    assert len(iv_rows) == len(ivs)
    assert Counter(r["name"] for r in iv_rows) == Counter(iv["name"] for iv in ivs)
    assert Counter((r["name"], r["type"], tuple(r["arm_labels"]), tuple(r["other_names"])) for r in iv_rows) == Counter(
        (iv["name"], iv["type"], tuple(iv.get("armGroupLabels", [])), tuple(iv.get("otherNames", []))) for iv in ivs
    )

    # outcomes
    oms = study["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]
    outcomes = sorted(rows(t["outcomes"], trial_id=nct), key=lambda r: r["outcome_index"])
    assert len(outcomes) == len(oms)
    all_groups = rows(t["arms"], trial_id=nct, group_type="outcome")
    all_meas = rows(t["measurements"], trial_id=nct)
    all_an = rows(t["analyses"], trial_id=nct)
    n_meas = n_an = n_groups = 0
    for oi, (o, om) in enumerate(zip(outcomes, oms, strict=True)):
        oid = o["outcome_id"]
        assert o["outcome_index"] == oi
        assert o["title"] == om["title"]
        assert o["outcome_type_raw"] == om["type"] and o["outcome_type"] == om["type"]
        assert o["unit_of_measure"] == om.get("unitOfMeasure")
        assert o["param_type_raw"] == om.get("paramType")
        assert o["dispersion_type_raw"] == om.get("dispersionType")
        assert o["time_frame"] == om.get("timeFrame")
        assert o["description"] == om.get("description")
        assert o["reporting_status"] == om.get("reportingStatus")

        # result groups of this outcome
        groups = om.get("groups", [])
        g_rows = {r["code"]: r for r in all_groups if r["outcome_id"] == oid}
        assert len(g_rows) == len(groups)
        titles = {}
        for g in groups:
            assert g["id"] in g_rows, (oid, g["id"])
            assert g_rows[g["id"]]["title"] == g["title"]
            assert g_rows[g["id"]]["description"] == g.get("description")
            titles[g["id"]] = g["title"]
        n_groups += len(groups)
        assert o["n_groups"] == len(groups)

        # measurements, in posted order
        expected = list(walk_measurements(om))
        m_rows = sorted(
            (r for r in all_meas if r["outcome_id"] == oid), key=lambda r: suffix_index(r["measurement_id"], "M")
        )
        assert len(m_rows) == len(expected), oid
        assert o["n_measurements"] == len(expected)
        n_meas += len(expected)
        for r, (cl, cat, m, n_text, units) in zip(m_rows, expected, strict=True):
            assert r["group_code"] == m["groupId"]
            assert r["group_id"] in {g["group_id"] for g in all_groups if g["outcome_id"] == oid}
            assert r["group_title"] == titles[m["groupId"]]
            assert r["class_title"] == cl.get("title")
            assert r["category_title"] == cat.get("title")
            assert r["value_raw"] == m.get("value")
            assert r["value"] == num(m.get("value"))
            assert r["spread_raw"] == m.get("spread")
            assert r["spread"] == num(m.get("spread"))
            assert r["lower_limit_raw"] == m.get("lowerLimit")
            assert r["lower_limit"] == num(m.get("lowerLimit"))
            assert r["upper_limit_raw"] == m.get("upperLimit")
            assert r["upper_limit"] == num(m.get("upperLimit"))
            assert r["comment"] == m.get("comment")
            assert r["n_raw"] == n_text
            assert r["n"] == (int(n_text) if n_text is not None else None)
            assert r["n_units"] == units
            assert r["unit_of_measure"] == om.get("unitOfMeasure")

        # analyses
        analyses = om.get("analyses", [])
        a_rows = sorted((r for r in all_an if r["outcome_id"] == oid), key=lambda r: r["analysis_index"])
        assert len(a_rows) == len(analyses)
        assert o["n_analyses"] == len(analyses)
        n_an += len(analyses)
        for ai, (r, an) in enumerate(zip(a_rows, analyses, strict=True)):
            assert r["analysis_index"] == ai
            assert r["group_codes"] == an["groupIds"]
            assert set(r["group_ids"]) <= {g["group_id"] for g in all_groups if g["outcome_id"] == oid}
            assert [gid.rsplit(":", 1)[1] for gid in r["group_ids"]] == an["groupIds"]
            assert r["p_value_raw"] == an.get("pValue")
            p, mod = p_value(an.get("pValue"))
            assert r["p_value"] == p
            assert r["p_value_modifier"] == mod
            assert r["non_inferiority_type_raw"] == an.get("nonInferiorityType")
            assert r["statistical_method"] == an.get("statisticalMethod")
            assert r["group_description"] == an.get("groupDescription")
            assert r["estimate_type"] == an.get("paramType")
            assert r["estimate_value_raw"] == an.get("paramValue")
            assert r["estimate_value"] == num(an.get("paramValue"))
            assert r["dispersion_type"] == an.get("dispersionType")
            assert r["dispersion_value"] == num(an.get("dispersionValue"))
            assert r["ci_percent_raw"] == an.get("ciPctValue")
            assert r["ci_percent"] == num(an.get("ciPctValue"))
            assert r["ci_sides_raw"] == an.get("ciNumSides")
            assert r["ci_lower_raw"] == an.get("ciLowerLimit")
            assert r["ci_lower"] == num(an.get("ciLowerLimit"))
            assert r["ci_upper_raw"] == an.get("ciUpperLimit")
            assert r["ci_upper"] == num(an.get("ciUpperLimit"))

    # nothing extra: every row of the trial was accounted for
    assert len(all_groups) == n_groups
    assert len(all_meas) == n_meas
    assert len(all_an) == n_an


# --- tests ----------------------------------------------------------------------------------------------


def test_fixture_inventory(json_dir):
    """The walker's list of full API v2 studies with results is exactly what the archive holds."""
    found = {}
    for p in sorted(json_dir.glob("*.json")):
        obj = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(obj, dict):
            continue
        nct = obj.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
        if "protocolSection" in obj and "resultsSection" in obj and nct:
            found[p.name] = nct
    assert found == FULL_STUDIES


@pytest.mark.parametrize("name", VALID_STUDIES)
def test_every_row_of_the_json_is_in_the_tables(json_dir, name):
    tables, report = ctgov_json.read([json_dir / name], strict=True)
    assert (report.read, report.kept, report.n_skipped) == (1, 1, 0)
    study = load(json_dir, name)
    check_study(study, tables)
    # a study with results must produce outcomes and measurements (guards against a vacuous walk)
    assert tables["outcomes"].num_rows > 0 and tables["measurements"].num_rows > 0


@pytest.mark.parametrize("name", sorted(INVALID_ENUMS))
def test_invalid_enum_variants_rejected_and_otherwise_complete(json_dir, name, tmp_path):
    bad, field = INVALID_ENUMS[name]
    with pytest.raises(RecordError) as ei:
        ctgov_json.read([json_dir / name], strict=True)
    assert "NCT000001" in str(ei.value) and field in str(ei.value) and bad in str(ei.value)
    # with the one bad value replaced, everything else of the study is read in full
    study = repaired(json_dir, name)
    path = tmp_path / name
    path.write_text(json.dumps(study), encoding="utf-8")
    tables, _ = ctgov_json.read([path], strict=True)
    check_study(study, tables)


def test_hand_checked_nct02210780(json_dir):
    t, _ = ctgov_json.read([json_dir / "NCT02210780.json"], strict=True)
    (trial,) = t["trials"].to_pylist()
    assert trial["phase"] == "PHASE2" and trial["phases"] == ["PHASE2"]
    assert trial["enrollment"] == 194
    assert trial["masking"] == "TRIPLE" and trial["allocation"] == "RANDOMIZED"
    assert trial["start_date"] == dt.date(2014, 8, 5)
    assert trial["results_first_posted_date"] == dt.date(2020, 5, 7)
    assert trial["results_first_posted_date_raw"] == "2020-05-07"

    # primary outcome O0: tetanus response; OG001 = Dupilumab 300 mg qw, n 90, 83.3 %
    (o0,) = rows(t["outcomes"], outcome_id="NCT02210780:O0")
    assert o0["outcome_type"] == "PRIMARY" and o0["unit_of_measure"] == "Percentage of participants"
    assert o0["title"].startswith("Percentage of Participants With a Positive Response (\u22654-Fold Increase)")
    (g,) = rows(t["arms"], group_id="NCT02210780:O0:OG001")
    assert g["title"] == "Dupilumab 300 mg qw" and g["group_type"] == "outcome"
    (m,) = rows(t["measurements"], outcome_id="NCT02210780:O0", group_code="OG001")
    assert (m["value"], m["value_raw"], m["n"], m["n_units"]) == (83.3, "83.3", 90, "Participants")
    (m,) = rows(t["measurements"], outcome_id="NCT02210780:O0", group_code="OG000")
    assert (m["value"], m["n"], m["group_title"]) == (83.7, 92, "Placebo qw")

    # the study's first analysis (outcome O3, IGA 0/1 at week 16; the primary outcome itself has none)
    assert rows(t["analyses"], outcome_id="NCT02210780:O0") == []
    (a,) = rows(t["analyses"], analysis_id="NCT02210780:O3:S0")
    assert a["p_value_raw"] == "<0.0001" and a["p_value"] == 0.0001 and a["p_value_modifier"] == "<"
    assert (a["ci_lower"], a["ci_upper"], a["ci_percent"], a["ci_sides"]) == (24.29, 43.75, 90.0, "TWO_SIDED")
    assert (a["estimate_type"], a["estimate_value"]) == ("Percentage Difference", 34.0)
    assert a["statistical_method"] == "Cochran-Mantel-Haenszel"
    assert a["non_inferiority_type"] == "SUPERIORITY"
    assert a["group_ids"] == ["NCT02210780:O3:OG000", "NCT02210780:O3:OG001"]

    # O8 (GISS components): the class "Erythema" carries its own denominators (79/87), not the outcome's (97/97)
    (m,) = rows(t["measurements"], outcome_id="NCT02210780:O8", class_title="Erythema", group_code="OG000")
    assert (m["value"], m["spread"], m["n"]) == (-0.4, 0.08, 79)
    assert m["dispersion_type"] == "STANDARD_ERROR" and m["param_type"] == "LEAST_SQUARES_MEAN"
    (m,) = rows(t["measurements"], outcome_id="NCT02210780:O8", class_title="Erythema", group_code="OG001")
    assert (m["value"], m["n"]) == (-0.9, 87)


def test_hand_checked_nct00763412(json_dir):
    t, _ = ctgov_json.read([json_dir / "NCT00763412.json"], strict=True)
    (trial,) = t["trials"].to_pylist()
    assert trial["phase"] == "NA" and trial["study_type"] == "INTERVENTIONAL"
    assert trial["conditions"] == ["Cystic Fibrosis Related Diabetes", "Pancreatic Insufficiency"]
    assert trial["countries"] == ["United States"]
    assert trial["enrollment"] == 31 and trial["enrollment_type"] == "ACTUAL"
    assert trial["masking"] == "QUADRUPLE" and trial["allocation"] == "RANDOMIZED"
    assert trial["start_date_raw"] == "2006-11" and trial["start_date"] == dt.date(2006, 11, 1)
    assert trial["completion_date"] == dt.date(2013, 1, 1)
    assert trial["results_first_posted_date"] == dt.date(2017, 6, 5)

    assert sorted(r["title"] for r in rows(t["arms"], group_type="arm")) == ["1 Placebo", "2. repaglinide"]
    assert sorted(r["name"] for r in t["interventions"].to_pylist()) == ["placebo", "repaglinide"]

    (bmi,) = rows(t["outcomes"], outcome_id="NCT00763412:O0")
    assert (bmi["title"], bmi["unit_of_measure"], bmi["outcome_type"]) == ("BMI", "Kg/m^2", "PRIMARY")
    assert (bmi["param_type"], bmi["dispersion_type"]) == ("MEAN", "FULL_RANGE")
    cols = ["group_code", "group_title", "value", "lower_limit", "upper_limit", "n", "unit_of_measure"]
    got = {tuple(r[c] for c in cols) for r in rows(t["measurements"], outcome_id="NCT00763412:O0")}
    assert got == {
        ("OG000", "1 Placebo", 19.63, 15.56, 22.64, 4, "Kg/m^2"),
        ("OG001", "2. Repaglinide", 21.19, 20.78, 21.8, 4, "Kg/m^2"),
    }
    assert t["analyses"].num_rows == 0


def test_hand_checked_nct02552212(json_dir):
    """NCT02278341.json holds NCT02552212: an 'NA' value kept as text, a '=0.247' p-value."""
    t, _ = ctgov_json.read([json_dir / "NCT02278341.json"], strict=True)
    (trial,) = t["trials"].to_pylist()
    assert trial["trial_id"] == "NCT02552212" and trial["phase"] == "PHASE3" and trial["enrollment"] == 317
    assert trial["countries"] == [
        "Australia",
        "Bulgaria",
        "Canada",
        "Czechia",
        "Hungary",
        "Poland",
        "Russian Federation",
        "Taiwan",
        "United States",
    ]
    assert trial["start_date"] == dt.date(2015, 9, 1) and trial["results_first_posted_date"] == dt.date(2020, 8, 17)
    (m,) = rows(t["measurements"], outcome_id="NCT02552212:O10", group_code="OG001")
    assert m["value"] is None and m["value_raw"] == "NA" and m["lower_limit"] is None and m["upper_limit_raw"] == "NA"
    assert m["comment"] == "Values were below the level of quantification."
    assert m["unit_of_measure"] == "\u00b5g/mL"
    (a,) = rows(t["analyses"], analysis_id="NCT02552212:O27:S0")
    assert (a["p_value"], a["p_value_modifier"], a["p_value_raw"]) == (0.247, "=", "=0.247")
    assert (a["estimate_value"], a["ci_lower"], a["ci_upper"], a["ci_percent"]) == (0.484, 0.142, 1.653, 95.0)


def _write_variants(json_dir: Path, d: Path) -> dict[str, list[Path]]:
    studies = [load(json_dir, n) for n in DISTINCT]
    lines = "".join(json.dumps(s) + "\n" for s in studies)
    page = json.dumps({"studies": studies, "nextPageToken": None})
    (d / "single").mkdir(parents=True)
    singles = []
    for n in DISTINCT:
        p = d / "single" / n
        p.write_bytes((json_dir / n).read_bytes())
        singles.append(p)
    (d / "studies.jsonl").write_text(lines, encoding="utf-8")
    (d / "page.json").write_text(page, encoding="utf-8")
    with gzip.open(d / "studies.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(lines)
    with gzip.open(d / "page.json.gz", "wt", encoding="utf-8") as fh:
        fh.write(page)
    (d / "gz").mkdir()
    gz_singles = []
    for n in DISTINCT:
        p = d / "gz" / (n + ".gz")
        with gzip.open(p, "wb") as fh:
            fh.write((json_dir / n).read_bytes())
        gz_singles.append(p)
    return {
        "single files": singles,
        "directory": [d / "single"],
        "jsonl": [d / "studies.jsonl"],
        "api page": [d / "page.json"],
        "jsonl.gz": [d / "studies.jsonl.gz"],
        "api page .gz": [d / "page.json.gz"],
        "single .json.gz": gz_singles,
    }


def test_same_tables_from_every_file_layout(json_dir, tmp_path):
    variants = _write_variants(json_dir, tmp_path)
    results = {}
    for label, paths in variants.items():
        t, report = ctgov_json.read(paths, strict=True)
        assert (report.read, report.kept, report.n_skipped) == (len(DISTINCT), len(DISTINCT), 0), label
        results[label] = t
    ref = results["single files"]
    assert ref["trials"].num_rows == len(DISTINCT)
    for label, t in results.items():
        for name in ref:
            assert t[name].equals(ref[name]), (label, name)
    # the combined read is the per-study reads put together
    for n in DISTINCT:
        one, _ = ctgov_json.read([json_dir / n], strict=True)
        check_study(load(json_dir, n), one)
        nct = FULL_STUDIES[n]
        for name in ref:
            assert rows(ref[name], trial_id=nct) == one[name].to_pylist(), (n, name)


def test_rewrite_gives_identical_bytes(json_dir, tmp_path):
    variants = _write_variants(json_dir, tmp_path / "in")
    t1, _ = ctgov_json.read(variants["single files"], strict=True)
    t2, _ = ctgov_json.read(variants["jsonl.gz"], strict=True)
    h1 = hashes(tbl.write_tables(t1, tmp_path / "out1"))
    h2 = hashes(tbl.write_tables(t2, tmp_path / "out2"))
    assert h1 == h2
    assert set(h1) == {"trials", "arms", "interventions", "outcomes", "measurements", "analyses"}
    # read back and write again: same bytes, same tables
    back = tbl.read_tables(tmp_path / "out1")
    for name in t1:
        assert back[name].equals(t1[name]), name
    h3 = hashes(tbl.write_tables(back, tmp_path / "out3"))
    assert h3 == h1
    # overwrite in place with the same tables: same bytes, and no temporary directory left behind
    h4 = hashes(tbl.write_tables(t1, tmp_path / "out1"))
    assert h4 == h1
    assert sorted(p.name for p in (tmp_path / "out1").iterdir()) == sorted(f"{n}.parquet" for n in h1)


def test_lenient_directory_read_of_all_fixtures(json_dir):
    """The whole fixture folder read leniently: module-level fragments and API v1 files are skipped with a
    reason, the invalid-enum variants are skipped, duplicate NCT000001 variants are skipped, the rest kept."""
    tables, report = ctgov_json.read([json_dir], strict=False)
    kept = sorted(tables["trials"].column("trial_id").to_pylist())
    assert kept == sorted({FULL_STUDIES[n] for n in DISTINCT})
    assert report.kept == len(DISTINCT)
    assert report.read == report.kept + report.n_skipped
    assert report.skipped["unknown_enum:phase"] == 1
    assert report.skipped["unknown_enum:studyType"] == 1
    assert report.skipped["duplicate:trial_id"] == 1  # study_data_patient_registry.json (NCT000001 again)
    assert report.skipped["no_id:identificationModule.nctId"] >= 1
    for name, t in tables.items():
        assert set(t.column("trial_id").to_pylist()) <= set(kept), name


def test_trial_fields_of_every_study_match_json(json_dir):
    """Spot check of the trial columns the labels depend on, across all full studies (repaired variants too)."""
    for name in FULL_STUDIES:
        study = repaired(json_dir, name)
        rows_ = ctgov_json.study_rows(copy.deepcopy(study), name).rows
        (trial,) = rows_["trials"]
        design = study["protocolSection"]["designModule"]
        status = study["protocolSection"]["statusModule"]
        assert trial["phases"] == design["phases"], name
        assert trial["enrollment"] == design["enrollmentInfo"]["count"], name
        assert trial["masking"] == design["designInfo"]["maskingInfo"]["masking"], name
        assert trial["allocation"] == design["designInfo"].get("allocation"), name
        assert trial["results_first_posted_date"] == iso_date(status["resultsFirstPostDateStruct"]["date"]), name
