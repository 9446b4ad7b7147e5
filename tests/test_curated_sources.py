"""The curated per-arm sources (llm_meta_analysis, dose_response, clinifact), checked against their raw files.

The raw files are the copies the package ships under ``deepimagine_data/data/`` (llm_meta_analysis and dose_response
byte for byte; CliniFact's three splits in one CSV without the linked articles' title and abstract), plus MBNMAdose's
``ssi_closure`` under ``tests/fixtures/dose_response``; one test checks those copies against the upstream files where
``../shared/data`` holds them. Expected values are recomputed here from the raw CSVs with the standard library's csv
reader (no code shared with the source modules), plus a few values read by hand. Malformed copies of real rows must
give a RecordError naming the trial and the CSV column in strict mode and be skipped and counted in lenient mode.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import EMBEDDED, FIXTURES, SHARED

from deepimagine_data import tables as tbl
from deepimagine_data.errors import RecordError
from deepimagine_data.schema import TABLES
from deepimagine_data.sources import clinifact, dose_response, llm_meta_analysis

LLM_DIR = EMBEDDED / "llm_meta_analysis"
LLM_CSV = LLM_DIR / "annotated_rct_dataset.csv"
DR_EMBEDDED = EMBEDDED / "dose_response"
SSI_CLOSURE = FIXTURES / "dose_response" / "MBNMAdose__ssi_closure.csv"
CF_DIR = EMBEDDED / "clinifact"
CF_CSV = CF_DIR / "clinifact_registry_side.csv"
# The sources as their repositories publish them (../shared/data only): CliniFact's release archive holds the
# articles' abstracts (3.3 MB), more than the tests may vendor.
UPSTREAM = {
    llm_meta_analysis: SHARED / "llm_meta_analysis" / "annotated_rct_dataset.csv",
    dose_response: SHARED / "dose_response" / "MBNMAdose__ssi_closure.csv",
    clinifact: SHARED / "clinifact" / "clinifact_processed.tar.gz",
}

csv.field_size_limit(1 << 30)  # CliniFact rows carry whole article abstracts


def _rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def _by(table: pa.Table, key: str) -> dict:
    return {r[key]: r for r in table.to_pylist()}


def _num(s: str | None) -> float | None:
    return None if s is None or s == "" else float(s.replace(",", ""))


def _read_csv_text(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _check_tables(tables: dict[str, pa.Table]) -> None:
    """Declared schema, unique keys, and every reference resolves."""
    assert set(tables) == set(TABLES)
    for name, t in tables.items():
        assert t.schema.equals(TABLES[name]), name
        # the rows also round-trip through the declared schema (tables.rows_to_table)
        assert tbl.rows_to_table(name, t.to_pylist()).equals(t), name
    tbl.check_unique(tables)
    trial_ids = set(tables["trials"].column("trial_id").to_pylist())
    outcomes = _by(tables["outcomes"], "outcome_id")
    groups = _by(tables["arms"], "group_id")
    for name in TABLES:
        assert set(tables[name].column("trial_id").to_pylist()) <= trial_ids, name
    for g in groups.values():
        if g["group_type"] == "outcome":
            assert g["outcome_id"] in outcomes
        else:
            assert g["group_type"] == "arm" and g["outcome_id"] is None
    for m in _rows(tables["measurements"]):
        assert m["outcome_id"] in outcomes and m["group_id"] in groups
        assert groups[m["group_id"]]["outcome_id"] == m["outcome_id"]
    for a in _rows(tables["analyses"]):
        assert a["outcome_id"] in outcomes
        assert all(g in groups for g in a["group_ids"])
    counts = defaultdict(lambda: [0, 0, 0])
    for g in groups.values():
        if g["group_type"] == "outcome":
            counts[g["outcome_id"]][0] += 1
    for m in _rows(tables["measurements"]):
        counts[m["outcome_id"]][1] += 1
    for a in _rows(tables["analyses"]):
        counts[a["outcome_id"]][2] += 1
    for oid, o in outcomes.items():
        assert [o["n_groups"], o["n_measurements"], o["n_analyses"]] == counts[oid], oid


# --- llm_meta_analysis -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm_raw() -> list[dict]:
    return _read_csv_text(LLM_CSV.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def llm_tables():
    tables, report = llm_meta_analysis.read(LLM_DIR, strict=True)
    return tables, report


def test_llm_counts(llm_raw, llm_tables):
    tables, report = llm_tables
    pmcids = {r["pmcid"] for r in llm_raw}
    assert len(llm_raw) == 699 and len(pmcids) == 120
    assert tables["trials"].num_rows == len(pmcids)
    assert tables["outcomes"].num_rows == len(llm_raw)
    assert tables["measurements"].num_rows == 2 * len(llm_raw)
    assert tables["analyses"].num_rows == 0
    assert report.read == report.kept == len(pmcids) and report.n_skipped == 0
    assert report.rows_read == len(llm_raw)
    trial = _by(tables["trials"], "trial_id")["llm_meta_analysis/PMC57750"]
    assert trial["nct_id"] is None and trial["source"] == "llm_meta_analysis"
    assert trial["source_version"] == llm_meta_analysis.SOURCE_VERSION
    _check_tables(tables)


def test_llm_pmc57750(llm_raw, llm_tables):
    tables, _ = llm_tables
    raw = [r for r in llm_raw if r["pmcid"] == "57750"]
    outs = sorted(
        (o for o in _rows(tables["outcomes"]) if o["trial_id"] == "llm_meta_analysis/PMC57750"),
        key=lambda o: o["outcome_index"],
    )
    assert (
        [o["title"] for o in outs]
        == [r["outcome"] for r in raw]
        == ["Death or myocardial infarction", "Myocardial infarction"]
    )
    assert "evidence_inference_prompt_id=11248" in outs[0]["description"]
    assert "split=DEV" in outs[0]["description"]
    assert outs[0]["param_type"] == "COUNT_OF_PARTICIPANTS"
    ms = [m for m in _rows(tables["measurements"]) if m["outcome_id"] == outs[0]["outcome_id"]]
    assert sorted(m["group_code"] for m in ms) == ["OG000", "OG001"]
    assert {m["group_title"] for m in ms} == {"eptifibatide", "placebo"}
    assert all(m["value"] is None and m["n"] is None for m in ms)  # the article gave no group sizes
    assert all(m["comment"] == raw[0]["notes"] for m in ms)
    arms = [
        a for a in _rows(tables["arms"]) if a["trial_id"] == "llm_meta_analysis/PMC57750" and a["group_type"] == "arm"
    ]
    assert sorted(a["title"] for a in arms) == ["eptifibatide", "placebo"]


def test_llm_every_row(llm_raw, llm_tables):
    """Each ICO row's numbers, recomputed from the raw CSV, sit on its outcome's two measurements."""
    tables, _ = llm_tables
    outcomes = {(o["trial_id"], o["outcome_index"]): o for o in _rows(tables["outcomes"])}
    ms = {(m["outcome_id"], m["group_code"]): m for m in _rows(tables["measurements"])}
    position: dict[str, int] = defaultdict(int)
    for r in llm_raw:
        tid = f"llm_meta_analysis/PMC{r['pmcid']}"
        o = outcomes[(tid, position[r["pmcid"]])]
        position[r["pmcid"]] += 1
        assert o["title"] == r["outcome"]
        assert f"id={r['id']};" in o["description"]
        assert f"evidence_inference_prompt_id={r['evidence_inference_prompt_id']}" in o["description"]
        binary = r["outcome_type"] == "binary"
        assert o["param_type"] == ("COUNT_OF_PARTICIPANTS" if binary else "MEAN")
        assert o["dispersion_type"] == (None if binary else "STANDARD_DEVIATION")
        for code, side in (("OG000", "intervention"), ("OG001", "comparator")):
            m = ms[(o["outcome_id"], code)]
            assert m["group_title"] == r[side]
            assert m["n"] == _num(r[f"{side}_group_size"])
            if binary:
                assert m["value"] == _num(r[f"{side}_events"]) and m["spread"] is None
            else:
                assert m["value"] == _num(r[f"{side}_mean"])
                assert m["spread"] == _num(r[f"{side}_standard_deviation"])
                assert m["dispersion_type"] == "STANDARD_DEVIATION"
            if r["notes"]:
                assert m["comment"].startswith(r["notes"])


def test_llm_binary_and_continuous_values(llm_raw, llm_tables):
    tables, _ = llm_tables
    ms = {(m["trial_id"], m["outcome_id"].rsplit(":", 1)[1], m["group_code"]): m for m in _rows(tables["measurements"])}
    # Row id 10 (read by hand): Amifostine 0/20 vs Control 5/20 grade III/IV stomatitis, third row of PMC2363753.
    r = next(x for x in llm_raw if x["id"] == "10")
    assert (r["intervention_events"], r["intervention_group_size"], r["comparator_events"]) == ("0", "20", "5")
    m0 = ms[("llm_meta_analysis/PMC2363753", "O2", "OG000")]
    m1 = ms[("llm_meta_analysis/PMC2363753", "O2", "OG001")]
    assert (m0["value"], m0["n"], m1["value"], m1["n"]) == (0.0, 20, 5.0, 20)
    # Row id 4 (continuous): WGJ 47.5 (SD 38.9) vs WA 26.5 (SD 27.4), n=30 each, second row of PMC1216327.
    r = next(x for x in llm_raw if x["id"] == "4")
    m0 = ms[("llm_meta_analysis/PMC1216327", "O1", "OG000")]
    m1 = ms[("llm_meta_analysis/PMC1216327", "O1", "OG001")]
    assert (m0["value"], m0["spread"], m0["n"]) == (
        float(r["intervention_mean"]),
        float(r["intervention_standard_deviation"]),
        30,
    )
    assert (m1["value"], m1["spread"], m1["n"]) == (26.5, 27.4, 30)
    # A thousands separator is kept in the raw text and read as a number.
    r = next(x for x in llm_raw if x["intervention_events"] == "1,078")
    m = next(v for v in _rows(tables["measurements"]) if v["value_raw"] == "1,078")
    assert m["value"] == 1078.0 and m["trial_id"] == f"llm_meta_analysis/PMC{r['pmcid']}"


def _llm_bad_copy(tmp_path: Path, llm_raw: list[dict], column: str, value: str) -> Path:
    row = dict(next(r for r in llm_raw if r["pmcid"] == "57750"))
    row[column] = value
    text = LLM_CSV.read_text(encoding="utf-8")
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=list(llm_raw[0])).writerow(row)
    out = tmp_path / "annotated_rct_dataset.csv"
    out.write_text(text.rstrip("\n") + "\n" + buf.getvalue(), encoding="utf-8")
    return out


def test_llm_malformed_group_size(tmp_path, llm_raw):
    bad = _llm_bad_copy(tmp_path, llm_raw, "intervention_group_size", "twenty")
    with pytest.raises(RecordError) as ei:
        llm_meta_analysis.read(bad, strict=True)
    assert ei.value.record == "llm_meta_analysis/PMC57750"
    assert ei.value.field == "intervention_group_size"
    assert "twenty" in str(ei.value)
    tables, report = llm_meta_analysis.read(tmp_path, strict=False)
    assert report.read == 120 and report.kept == 119 and report.n_skipped == 1
    assert report.skipped == {"bad_number:intervention_group_size": 1}
    assert "llm_meta_analysis/PMC57750" not in tables["trials"].column("trial_id").to_pylist()
    assert tables["trials"].num_rows == 119
    _check_tables(tables)


def test_llm_malformed_outcome_type(tmp_path, llm_raw):
    bad = _llm_bad_copy(tmp_path, llm_raw, "outcome_type", "ordinal")
    with pytest.raises(RecordError) as ei:
        llm_meta_analysis.read(bad, strict=True)
    assert (ei.value.record, ei.value.field) == ("llm_meta_analysis/PMC57750", "outcome_type")


# --- dose_response -----------------------------------------------------------------------------------------------


def _dr_raw(name: str) -> list[dict]:
    return _read_csv_text((DR_EMBEDDED / name).read_text(encoding="utf-8"))


def _study(s: str) -> str:
    return s[:-2] if s.endswith(".0") and s[:-2].isdigit() else s


@pytest.fixture(scope="module")
def dr_dir(tmp_path_factory) -> Path:
    """The upstream folder's layout: the embedded CSVs and ssi_closure (which the reader must leave out)."""
    d = tmp_path_factory.mktemp("dose_response")
    for p in [*DR_EMBEDDED.glob("*.csv"), SSI_CLOSURE]:
        shutil.copyfile(p, d / p.name)
    return d


@pytest.fixture(scope="module")
def dr_tables(dr_dir):
    return dose_response.read(dr_dir, strict=True)


def test_dose_response_alog_nct01263470(dr_tables):
    tables, _ = dr_tables
    tid = "dose_response/alog_pcfb/NCT01263470"
    raw = [r for r in _dr_raw("MBNMAdose__alog_pcfb.csv") if r["studyID"] == "NCT01263470"]
    assert [float(r["dose"]) for r in raw] == [0.0, 6.25, 12.5, 25.0, 50.0]
    trial = _by(tables["trials"], "trial_id")[tid]
    assert trial["nct_id"] == "NCT01263470"
    assert trial["source_version"] == dose_response.SOURCE_VERSIONS["MBNMAdose"]
    arms = sorted(
        (a for a in _rows(tables["arms"]) if a["trial_id"] == tid and a["group_type"] == "arm"),
        key=lambda a: a["group_id"],
    )
    assert [a["title"] for a in arms] == [
        "Placebo",
        "alogliptin 6.25",
        "alogliptin 12.5",
        "alogliptin 25",
        "alogliptin 50",
    ]
    assert "dose (units not stated in source): 6.25" in arms[1]["description"]
    # the source states no unit: the number is kept, the unit stays unknown (never guessed); placebo is dose 0
    assert [a["dose_value"] for a in arms] == [0.0, 6.25, 12.5, 25.0, 50.0]
    assert arms[0]["dose_text"] == "0 (placebo)"
    assert all(a["dose_unit"] is None for a in arms)
    (o,) = [o for o in _rows(tables["outcomes"]) if o["trial_id"] == tid]
    assert o["title"] == "Change from baseline in HbA1c"
    assert (o["param_type"], o["dispersion_type"]) == ("MEAN", "STANDARD_ERROR")
    ms = {m["group_title"]: m for m in _rows(tables["measurements"]) if m["trial_id"] == tid}
    r625 = next(r for r in raw if float(r["dose"]) == 6.25)
    m = ms["alogliptin 6.25"]
    assert m["value"] == -0.51 == float(r625["y"])
    assert m["spread"] == float(r625["se"]) and m["dispersion_type"] == "STANDARD_ERROR"
    assert m["n"] == 79 == int(float(r625["n"]))
    ivs = {i["name"]: i for i in _rows(tables["interventions"]) if i["trial_id"] == tid}
    assert set(ivs) == {"alogliptin", "Placebo"}
    assert sorted(ivs["alogliptin"]["arm_labels"]) == sorted(
        ["alogliptin 6.25", "alogliptin 12.5", "alogliptin 25", "alogliptin 50"]
    )


DR_FILES = {  # file -> (outcome-description prefix, value col, spread col, n col)
    "MBNMAdose__alog_pcfb.csv": ("MBNMAdose::alog_pcfb", "y", "se", "n"),
    "MBNMAdose__gout.csv": ("MBNMAdose::gout", "y", "se", None),
    "MBNMAdose__osteopain.csv": ("MBNMAdose::osteopain", "y", "se", "n"),
    "MBNMAdose__psoriasis75.csv": ("MBNMAdose::psoriasis75", "r", None, "n"),
    "MBNMAdose__psoriasis90.csv": ("MBNMAdose::psoriasis90", "r", None, "n"),
    "MBNMAdose__psoriasis100.csv": ("MBNMAdose::psoriasis100", "r", None, "n"),
    "MBNMAdose__ssri.csv": ("MBNMAdose::ssri", "r", None, "n"),
    "MBNMAdose__triptans.csv": ("MBNMAdose::triptans", "r", None, "n"),
    "DoseFinding__glycobrom.csv": ("DoseFinding::glycobrom", "fev1", "sdev", "n"),
    "DoseFinding__migraine.csv": ("DoseFinding::migraine", "painfree", None, "ntrt"),
}


def test_dose_response_every_value(dr_tables):
    """Per trial and outcome, the multiset of (value, spread, n) equals the raw rows of that study."""
    tables, report = dr_tables
    outcomes = _rows(tables["outcomes"])
    ms_by_outcome = defaultdict(list)
    for m in _rows(tables["measurements"]):
        ms_by_outcome[m["outcome_id"]].append((m["value"], m["spread"], m["n"]))
    total = 0
    for fname, (prefix, vcol, scol, ncol) in DR_FILES.items():
        raw = _dr_raw(fname)
        total += len(raw)
        by_study = defaultdict(list)
        for r in raw:
            study = _study(r["studyID"]) if "studyID" in r else None
            by_study[study].append(
                (float(r[vcol]), _num(r[scol]) if scol else None, int(float(r[ncol])) if ncol else None)
            )
        for study, expected in by_study.items():
            cands = [
                o for o in outcomes if o["description"].startswith(prefix + (f" studyID={study}." if study else "."))
            ]
            assert len(cands) == 1, (fname, study)
            assert sorted(ms_by_outcome[cands[0]["outcome_id"]]) == sorted(expected), (fname, study)
    assert tables["measurements"].num_rows == total == report.rows_read
    ids = tables["trials"].column("trial_id").to_pylist()
    assert not any("ssi_closure" in t or "IBScovars" in t for t in ids)
    _check_tables(tables)


def test_dose_response_psoriasis_merge(dr_tables):
    tables, _ = dr_tables
    studies = set()
    for f in ("MBNMAdose__psoriasis75.csv", "MBNMAdose__psoriasis90.csv", "MBNMAdose__psoriasis100.csv"):
        studies |= {r["studyID"] for r in _dr_raw(f)}
    trials = [t for t in tables["trials"].column("trial_id").to_pylist() if t.startswith("dose_response/psoriasis/")]
    assert sorted(trials) == sorted(f"dose_response/psoriasis/{s}" for s in studies)
    tid = "dose_response/psoriasis/UNCOVER 1"
    outs = sorted((o for o in _rows(tables["outcomes"]) if o["trial_id"] == tid), key=lambda o: o["outcome_index"])
    assert [o["title"] for o in outs] == ["PASI 75 response", "PASI 90 response", "PASI 100 response"]
    arms = {a["title"]: a for a in _rows(tables["arms"]) if a["trial_id"] == tid and a["group_type"] == "arm"}
    assert set(arms) == {"Ixekizumab 80 mg Q2W", "Ixekizumab 80 mg Q4W", "Placebo"}
    assert (arms["Ixekizumab 80 mg Q2W"]["dose_value"], arms["Ixekizumab 80 mg Q2W"]["dose_unit"]) == (80.0, "mg")
    assert "dose (mg/week, per MBNMAdose documentation): 40" in arms["Ixekizumab 80 mg Q2W"]["description"]
    raw75 = next(r for r in _dr_raw("MBNMAdose__psoriasis75.csv") if r["studyID"] == "UNCOVER 1" and r["freq"] == "Q2W")
    m = next(
        m
        for m in _rows(tables["measurements"])
        if m["outcome_id"] == outs[0]["outcome_id"] and m["group_title"] == "Ixekizumab 80 mg Q2W"
    )
    assert (m["value"], m["n"], m["param_type"]) == (float(raw75["r"]), int(float(raw75["n"])), "COUNT_OF_PARTICIPANTS")
    # registry id only where the source's studyID is one
    by_id = _by(tables["trials"], "trial_id")
    assert by_id["dose_response/psoriasis/NCT01646073"]["nct_id"] == "NCT01646073"
    assert by_id[tid]["nct_id"] is None
    # the weight-banded ustekinumab dose is not read as "90 mg"; infliximab's mg/kg is
    all_arms = [a for a in _rows(tables["arms"]) if a["group_type"] == "arm"]
    uste = [a for a in all_arms if a["title"] == "Ustekinumab 45/90 mg Q12W"]
    assert uste and all(a["dose_value"] is None for a in uste)
    infl = [a for a in all_arms if a["title"].startswith("Infliximab 5 mg/kg")]
    assert infl and all((a["dose_value"], a["dose_unit"]) == (5.0, "mg/kg") for a in infl)


def test_dose_response_dosefinding(dr_tables):
    tables, _ = dr_tables
    by_id = _by(tables["trials"], "trial_id")
    assert by_id["dose_response/glycobrom/NCT00501852"]["nct_id"] == "NCT00501852"
    assert by_id["dose_response/migraine/NCT00712725"]["nct_id"] == "NCT00712725"
    (o,) = [o for o in _rows(tables["outcomes"]) if o["trial_id"] == "dose_response/glycobrom/NCT00501852"]
    assert (o["param_type"], o["dispersion_type"], o["outcome_type"]) == (
        "LEAST_SQUARES_MEAN",
        "STANDARD_ERROR",
        "PRIMARY",
    )
    raw = _dr_raw("DoseFinding__glycobrom.csv")
    ms = {m["group_title"]: m for m in _rows(tables["measurements"]) if m["outcome_id"] == o["outcome_id"]}
    r = next(x for x in raw if float(x["dose"]) == 12.5)
    assert (ms["Glycopyrronium bromide 12.5"]["value"], ms["Glycopyrronium bromide 12.5"]["spread"]) == (
        float(r["fev1"]),
        float(r["sdev"]),
    )
    assert ms["Placebo"]["value"] == 1.243
    raw = _dr_raw("DoseFinding__migraine.csv")
    ms = {
        m["group_title"]: m
        for m in _rows(tables["measurements"])
        if m["trial_id"] == "dose_response/migraine/NCT00712725"
    }
    assert len(ms) == len(raw) == 8
    assert (ms["Dose 200"]["value"], ms["Dose 200"]["n"]) == (21.0, 58)


def test_dose_response_single_file(dr_dir):
    tables, report = dose_response.read(dr_dir / "MBNMAdose__gout.csv", strict=True)
    assert tables["trials"].num_rows == 10 and report.kept == 10
    assert {o["unit_of_measure"] for o in _rows(tables["outcomes"])} == {"mg/dL"}
    with pytest.raises(ValueError, match="not doses"):
        dose_response.read(dr_dir / "MBNMAdose__ssi_closure.csv")


def test_dose_response_malformed_n(tmp_path, dr_dir):
    d = tmp_path / "dose_response"
    shutil.copytree(dr_dir, d)
    f = d / "MBNMAdose__alog_pcfb.csv"
    f.chmod(0o644)
    lines = f.read_text(encoding="utf-8").splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("NCT01263470,alogliptin,6.25,"))
    lines[i] = lines[i].rsplit(",", 1)[0] + ",seventy-nine"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecordError) as ei:
        dose_response.read(d, strict=True)
    assert (ei.value.record, ei.value.field) == ("dose_response/alog_pcfb/NCT01263470", "n")
    assert "seventy-nine" in str(ei.value)
    tables, report = dose_response.read(d, strict=False)
    assert report.skipped == {"bad_number:n": 1} and report.kept == report.read - 1
    ids = tables["trials"].column("trial_id").to_pylist()
    assert "dose_response/alog_pcfb/NCT01263470" not in ids
    assert sum(t.startswith("dose_response/alog_pcfb/") for t in ids) == 13
    _check_tables(tables)


# --- clinifact ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cf_raw() -> dict[str, list[dict]]:
    """The rows of each split (train/validation/test), as the release's ``<split>_set.csv`` holds them."""
    out: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    for r in _read_csv_text(CF_CSV.read_text(encoding="utf-8")):
        out[r.pop("split")].append(r)
    return out


@pytest.fixture(scope="module")
def cf_tables():
    return clinifact.read(CF_DIR, strict=True)


def _literal_list(s: str) -> list[str]:
    import ast

    v = ast.literal_eval(s)
    assert isinstance(v, list) and all(isinstance(x, str) for x in v)
    return v


def test_clinifact_counts_and_schema(cf_raw, cf_tables):
    tables, report = cf_tables
    rows = [r for split in cf_raw.values() for r in split]
    assert len(rows) == 1970 == report.rows_read
    ncts = {r["nctId"] for r in rows}
    assert len(ncts) == 992 == tables["trials"].num_rows == report.kept
    keys = {(r["nctId"], r["outcome_type"], r["outcome_title"], r["outcome_description"]) for r in rows}
    assert tables["outcomes"].num_rows == len(keys)
    analyses = defaultdict(set)
    for r in rows:
        p, m, ni = (_literal_list(r[c]) for c in ("pValues", "statisticalMethods", "nonInferiorityTypes"))
        ni = ni * len(p) if len(ni) == 1 else ni
        analyses[(r["nctId"], r["outcome_type"], r["outcome_title"], r["outcome_description"])].update(
            zip(p, m, ni, strict=True)
        )
    assert tables["analyses"].num_rows == sum(len(v) for v in analyses.values())
    assert tables["measurements"].num_rows == 0
    trial = _by(tables["trials"], "trial_id")["clinifact/NCT00271596"]
    assert trial["nct_id"] == "NCT00271596" and trial["source"] == "clinifact"
    _check_tables(tables)


def test_clinifact_nct00271596(cf_raw, cf_tables):
    tables, _ = cf_tables
    (r,) = [r for split in cf_raw.values() for r in split if r["nctId"] == "NCT00271596"]
    assert _literal_list(r["pValues"]) == ["0.092"]
    tid = "clinifact/NCT00271596"
    (o,) = [o for o in _rows(tables["outcomes"]) if o["trial_id"] == tid]
    assert o["title"] == r["outcome_title"] and o["outcome_type"] == "PRIMARY"
    (a,) = [a for a in _rows(tables["analyses"]) if a["trial_id"] == tid]
    assert a["p_value"] == 0.092 and a["p_value_raw"] == "0.092" and a["p_value_modifier"] is None
    assert a["statistical_method"] == "2-tailed linear treatment contrast"
    assert a["non_inferiority_type"] == "SUPERIORITY_OR_OTHER"
    assert a["group_codes"] == ["OG000", "OG001"]
    groups = {g["code"]: g for g in _rows(tables["arms"]) if g["outcome_id"] == o["outcome_id"]}
    assert (groups["OG000"]["title"], groups["OG001"]["title"]) == ("Citalopram", "Placebo")
    assert groups["OG000"]["description"] == "20mg daily citalopram"
    arms = {a["title"]: a for a in _rows(tables["arms"]) if a["trial_id"] == tid and a["group_type"] == "arm"}
    assert arms["Citalopram"]["arm_type"] == "EXPERIMENTAL"
    assert arms["Placebo"]["arm_type"] == "PLACEBO_COMPARATOR"


def test_clinifact_every_pvalue(cf_raw, cf_tables):
    """Every p-value of every row is an analysis of that row's outcome, with its method."""
    tables, _ = cf_tables
    outcomes = {(o["trial_id"], o["title"], o["description"]): o["outcome_id"] for o in _rows(tables["outcomes"])}
    have = defaultdict(set)
    for a in _rows(tables["analyses"]):
        have[a["outcome_id"]].add((a["p_value_raw"], a["statistical_method"]))
    for split in cf_raw.values():
        for r in split:
            oid = outcomes[(f"clinifact/{r['nctId']}", r["outcome_title"], r["outcome_description"] or None)]
            for p, m in zip(_literal_list(r["pValues"]), _literal_list(r["statisticalMethods"]), strict=True):
                assert (p, m) in have[oid], (r["nctId"], p)


def _cf_bad_dir(tmp_path: Path, cf_raw, **cells) -> Path:
    """An extracted-looking directory with test_set.csv (where NCT00271596 is) plus a bad copy of its row."""
    row = dict(next(r for r in cf_raw["test"] if r["nctId"] == "NCT00271596"))
    row.update(cells)
    d = tmp_path / "clinifact"
    d.mkdir()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cf_raw["test"][0]))
    w.writeheader()
    w.writerows(cf_raw["test"] + [row])
    (d / "test_set.csv").write_text(buf.getvalue(), encoding="utf-8")
    return d


def test_clinifact_malformed_pvalues(tmp_path, cf_raw):
    d = _cf_bad_dir(tmp_path, cf_raw, pValues="['0.1', __import__('os')]")
    with pytest.raises(RecordError) as ei:
        clinifact.read(d, strict=True)
    assert (ei.value.record, ei.value.field) == ("clinifact/NCT00271596", "pValues")
    tables, report = clinifact.read(d, strict=False)
    n_trials = len({r["nctId"] for r in cf_raw["test"]})
    assert report.read == n_trials and report.kept == n_trials - 1
    assert report.skipped == {"bad_list:pValues": 1}
    assert report.rows_read == len(cf_raw["test"]) + 1
    assert "clinifact/NCT00271596" not in tables["trials"].column("trial_id").to_pylist()
    _check_tables(tables)


@pytest.mark.parametrize(
    "cells, field",
    [
        ({"pValues": "['0.1', '0.2']"}, "statisticalMethods"),  # two p-values, one method
        ({"nonInferiorityTypes": "['Superiority', 'Equivalence']"}, "nonInferiorityTypes"),  # 2 types for 1 p-value
        ({"statisticalMethods": "[1]"}, "statisticalMethods"),
        ({"pValues": "'0.092'"}, "pValues"),
        ({"pValues": "['1.7']"}, "pValues"),
        ({"nonInferiorityTypes": "['Better']"}, "nonInferiorityTypes"),
    ],
)
def test_clinifact_malformed_lists(tmp_path, cf_raw, cells, field):
    d = _cf_bad_dir(tmp_path, cf_raw, **cells)
    with pytest.raises(RecordError) as ei:
        clinifact.read(d, strict=True)
    assert (ei.value.record, ei.value.field) == ("clinifact/NCT00271596", field)
    _, report = clinifact.read(d, strict=False)
    assert report.n_skipped == 1 and list(report.skipped)[0].endswith(f":{field}")


def test_sources_combine(llm_tables, dr_tables, cf_tables):
    """The three sources merge into one table set without id clashes (trial ids are source-prefixed)."""
    merged = tbl.concat_tables([llm_tables[0], dr_tables[0], cf_tables[0]])
    assert merged["trials"].num_rows == sum(t[0]["trials"].num_rows for t in (llm_tables, dr_tables, cf_tables))
    assert set(merged["trials"].column("source").to_pylist()) == {"llm_meta_analysis", "dose_response", "clinifact"}
    _check_tables(merged)


def test_embedded_snapshot_reads_like_the_upstream_files():
    """The copies the package ships (deepimagine_data/data/<source>) give the tables of the files as the source
    repositories publish them, for each of the three sources."""
    missing = [str(p) for p in UPSTREAM.values() if not p.exists()]
    if missing:
        pytest.skip(f"the curated sources' upstream files are not in ../shared/data: {', '.join(missing)}")
    for module, upstream in UPSTREAM.items():
        raw, _ = module.read(upstream.parent, strict=True)
        embedded, report = module.read(EMBEDDED / module.SOURCE, strict=True)
        assert report.n_skipped == 0 and embedded["trials"].num_rows > 0, module.SOURCE
        for name in TABLES:
            assert embedded[name].equals(raw[name]), (module.SOURCE, name)
