"""Bad input to the ClinicalTrials.gov API v2 reader, built from real fixture studies with one field changed.

Every case runs twice: strict (a RecordError naming the NCT id and the field) and lenient (the study is skipped,
its reason counted in the IngestReport, the other, good studies kept exactly as they read on their own).
Also: not-available and comparator p-values that are *not* errors, unicode round-trips, the speed of a
10-million-character field, and the all-or-nothing write of ``tables.write_tables``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deepimagine_data import tables as tbl
from deepimagine_data.errors import RecordError
from deepimagine_data.sources import ctgov_json

BAD = "NCT02210780"  # the study that gets broken (it has analyses, spreads and class denominators)
GOOD = {"NCT00763412.json": "NCT00763412", "design_outcome_empty.json": "NCT01234567"}


@pytest.fixture(scope="session")
def json_dir(aact_spec_json) -> Path:
    return aact_spec_json


@pytest.fixture(scope="session")
def base(json_dir) -> dict:
    return json.loads((json_dir / f"{BAD}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def good(json_dir) -> list[dict]:
    return [json.loads((json_dir / n).read_text(encoding="utf-8")) for n in GOOD]


@pytest.fixture(scope="session")
def good_tables(json_dir):
    tables, report = ctgov_json.read([json_dir / n for n in GOOD], strict=True)
    assert report.kept == len(GOOD)
    return tables


def om(study: dict, i: int = 0) -> dict:
    return study["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][i]


def write_jsonl(path: Path, studies: list) -> Path:
    # ensure_ascii (the default) keeps a lone surrogate writable, as "\ud800" in the JSON text
    path.write_text("".join(json.dumps(s) + "\n" for s in studies), encoding="utf-8")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_good_kept(tables, good_tables) -> None:
    """The lenient run kept exactly the good studies, row for row, and nothing of the bad one."""
    assert sorted(tables["trials"].column("trial_id").to_pylist()) == sorted(GOOD.values())
    for name, t in tables.items():
        assert BAD not in set(t.column("trial_id").to_pylist()), name
        assert t.equals(good_tables[name]), name


def check_both_modes(tmp_path, good, good_tables, bad_study, field: str, reason: str, record: str = BAD) -> RecordError:
    """Strict: RecordError naming the record and field. Lenient: skipped, counted, good studies kept."""
    path = write_jsonl(tmp_path / "studies.jsonl", [good[0], bad_study, good[1]])
    with pytest.raises(RecordError) as ei:
        ctgov_json.read([path], strict=True)
    err = ei.value
    assert record in str(err) and field in str(err), str(err)
    assert err.record == record and err.reason == reason
    assert field in err.field

    tables, report = ctgov_json.read([path], strict=False)
    assert report.read == 3 and report.kept == 2 and report.n_skipped == 1
    (key,) = report.skipped
    assert key == f"{reason}:{err.field}"
    assert record in report.examples[key]
    assert key in report.format()
    assert_good_kept(tables, good_tables)
    return err


def mutated(base: dict, change: Callable[[dict], object]) -> dict:
    s = copy.deepcopy(base)
    change(s)
    return s


def analysis(study: dict) -> dict:
    return om(study, 3)["analyses"][0]  # p "<0.0001", CI 24.29-43.75 (90%), groups OG000/OG001


def measurement(study: dict) -> dict:
    return om(study, 0)["classes"][0]["categories"][0]["measurements"][1]  # OG001, "83.3"


# --- malformed JSON ---------------------------------------------------------------------------------------


def test_malformed_json_line(tmp_path, base, good, good_tables):
    text = json.dumps(base)
    lines = [json.dumps(good[0]), text[: len(text) // 2], json.dumps(good[1])]  # line 2 cut off mid-object
    path = tmp_path / "page1.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecordError) as ei:
        ctgov_json.read([path], strict=True)
    assert "page1.jsonl:2" in str(ei.value) and ei.value.field == "json" and ei.value.reason == "bad_json"

    tables, report = ctgov_json.read([path], strict=False)
    assert report.read == 3 and report.kept == 2
    assert dict(report.skipped) == {"bad_json:json": 1}
    assert "page1.jsonl:2" in report.examples["bad_json:json"]
    assert_good_kept(tables, good_tables)


def test_malformed_single_json_file(tmp_path, base, json_dir, good_tables):
    text = json.dumps(base)
    (tmp_path / "broken.json").write_text(text[:-10], encoding="utf-8")
    for n in GOOD:
        (tmp_path / n).write_bytes((json_dir / n).read_bytes())
    with pytest.raises(RecordError, match="broken.json"):
        ctgov_json.read([tmp_path / "broken.json"], strict=True)
    tables, report = ctgov_json.read([tmp_path], strict=False)
    assert dict(report.skipped) == {"bad_json:json": 1} and report.kept == 2
    assert_good_kept(tables, good_tables)


# --- structure --------------------------------------------------------------------------------------------


def test_study_without_results(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: s.pop("resultsSection"))
    check_both_modes(tmp_path, good, good_tables, bad, "resultsSection", "no_results")


@pytest.mark.parametrize("where", ["location", "mesh", "denom count", "measurement groupId", "analysis groupIds"])
def test_wrong_json_type_is_a_record_error_not_a_crash(tmp_path, base, good, good_tables, where):
    def change(s):
        if where == "location":
            s["protocolSection"]["contactsLocationsModule"] = {"locations": ["United States"]}
        elif where == "mesh":
            s["derivedSection"]["conditionBrowseModule"]["meshes"] = ["Dermatitis"]
        elif where == "denom count":
            om(s, 0)["denoms"][0]["counts"][1] = {"groupId": ["OG001"], "value": "90"}
        elif where == "measurement groupId":
            measurement(s)["groupId"] = ["OG001"]
        else:
            analysis(s)["groupIds"] = [["OG000"], "OG001"]

    fields = {
        "location": "locations",
        "mesh": "conditionBrowseModule.meshes",
        "denom count": "denoms[0].counts",
        "measurement groupId": "measurements.groupId",
        "analysis groupIds": "analyses[0].groupIds",
    }
    reasons = {
        "location": "bad_type",
        "mesh": "bad_type",
        "denom count": "bad_type",
        "measurement groupId": "bad_reference",
        "analysis groupIds": "bad_reference",
    }
    check_both_modes(tmp_path, good, good_tables, mutated(base, change), fields[where], reasons[where])


# --- unknown enum values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("study_data_phases.json", "phase", "PHASE5"),
        ("study_data_interventional.json", "studyType", "EXPANDED_ACCESS_INTERVENTIONAL"),
    ],
)
def test_unknown_enum_in_real_fixture(tmp_path, json_dir, good, good_tables, name, field, value):
    bad = json.loads((json_dir / name).read_text(encoding="utf-8"))
    err = check_both_modes(tmp_path, good, good_tables, bad, field, "unknown_enum", record="NCT000001")
    assert value in str(err)


def test_unknown_outcome_type(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: om(s, 1).__setitem__("type", "TERTIARY"))
    err = check_both_modes(tmp_path, good, good_tables, bad, "outcomeMeasures[1].type", "unknown_enum")
    assert "TERTIARY" in str(err)


# --- numbers ----------------------------------------------------------------------------------------------


def test_measurement_value_not_a_number(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: measurement(s).__setitem__("value", "abc"))
    err = check_both_modes(tmp_path, good, good_tables, bad, "value", "bad_number")
    assert err.field.endswith("measurements[1].value") and "abc" in str(err)


def test_denominator_not_a_number(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: om(s, 0)["denoms"][0]["counts"][1].__setitem__("value", "many"))
    err = check_both_modes(tmp_path, good, good_tables, bad, "denom", "bad_number")
    assert err.field.endswith("measurements[1].denom") and "many" in str(err)


def test_p_value_out_of_range(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: analysis(s).__setitem__("pValue", "1.7"))
    err = check_both_modes(tmp_path, good, good_tables, bad, "pValue", "bad_number")
    assert err.field == f"{BAD}:O3.analyses[0].pValue" and "1.7" in str(err)


@pytest.mark.parametrize(
    ("posted", "p", "modifier"),
    [
        ("NA", None, None),
        ("<0.001", 0.001, "<"),
        ("0.05", 0.05, None),
        ("<=0.05", 0.05, "<="),
        ("=0.247", 0.247, "="),
    ],
)
def test_p_value_not_an_error(tmp_path, base, good, posted, p, modifier):
    """'NA' is posted on purpose (-> None); a comparator is kept as the modifier. Neither is an error."""
    bad = mutated(base, lambda s: analysis(s).__setitem__("pValue", posted))
    path = write_jsonl(tmp_path / "studies.jsonl", [good[0], bad, good[1]])
    for strict in (True, False):
        tables, report = ctgov_json.read([path], strict=strict)
        assert report.kept == 3 and report.n_skipped == 0
        (row,) = [r for r in tables["analyses"].to_pylist() if r["analysis_id"] == f"{BAD}:O3:S0"]
        assert row["p_value"] == p and row["p_value_modifier"] == modifier and row["p_value_raw"] == posted
        assert (row["ci_lower"], row["ci_upper"]) == (24.29, 43.75)  # the rest of the analysis is untouched


def test_measurement_value_na_is_not_an_error(tmp_path, base, good):
    bad = mutated(base, lambda s: measurement(s).__setitem__("value", "NA"))
    path = write_jsonl(tmp_path / "studies.jsonl", [good[0], bad, good[1]])
    tables, report = ctgov_json.read([path], strict=True)
    (row,) = [
        r for r in tables["measurements"].to_pylist() if r["outcome_id"] == f"{BAD}:O0" and r["group_code"] == "OG001"
    ]
    assert row["value"] is None and row["value_raw"] == "NA" and row["n"] == 90


# --- unicode ----------------------------------------------------------------------------------------------

UNICODE_TITLE = "≥4-fold rise, 300 µg qw — 杜匹鲁单抗 (デュピルマブ) 💉🧪 ‘quoted’ é"


def test_unicode_round_trip_byte_exact(tmp_path, base, good):
    def change(s):
        om(s, 0)["title"] = UNICODE_TITLE
        om(s, 0)["groups"][1]["title"] = "Dupilumab 300 µg qw 💊"
        om(s, 0)["unitOfMeasure"] = "µg/mL ≥ 0.1 单位"
        s["protocolSection"]["armsInterventionsModule"]["armGroups"][0]["label"] = "安慰剂 placebo ≥ 1 🩹"
        s["protocolSection"]["identificationModule"]["briefTitle"] = UNICODE_TITLE

    bad = mutated(base, change)
    path = write_jsonl(tmp_path / "studies.jsonl", [good[0], bad, good[1]])
    tables, report = ctgov_json.read([path], strict=True)
    assert report.kept == 3
    paths = tbl.write_tables(tables, tmp_path / "out")
    back = tbl.read_tables(tmp_path / "out")
    for name in tables:
        assert back[name].equals(tables[name]), name

    (o,) = [r for r in back["outcomes"].to_pylist() if r["outcome_id"] == f"{BAD}:O0"]
    assert o["title"].encode("utf-8") == UNICODE_TITLE.encode("utf-8")
    assert o["unit_of_measure"] == "µg/mL ≥ 0.1 单位"
    (g,) = [r for r in back["arms"].to_pylist() if r["group_id"] == f"{BAD}:O0:OG001"]
    assert g["title"] == "Dupilumab 300 µg qw 💊"
    (m,) = [
        r for r in back["measurements"].to_pylist() if r["outcome_id"] == f"{BAD}:O0" and r["group_code"] == "OG001"
    ]
    assert m["group_title"] == "Dupilumab 300 µg qw 💊" and m["unit_of_measure"] == "µg/mL ≥ 0.1 单位"
    (a,) = [r for r in back["arms"].to_pylist() if r["group_id"] == f"{BAD}:A0"]
    assert a["title"] == "安慰剂 placebo ≥ 1 🩹"
    (t,) = [r for r in back["trials"].to_pylist() if r["trial_id"] == BAD]
    assert t["brief_title"] == UNICODE_TITLE
    # and a second write of what was read back is byte-identical
    again = tbl.write_tables(back, tmp_path / "out2")
    assert {n: sha256(p) for n, p in again.items()} == {n: sha256(p) for n, p in paths.items()}


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("outcome title", "outcomeMeasures[0].title"),
        ("brief title", "briefTitle"),
        ("group title", "groups[OG001].title"),
    ],
)
def test_lone_surrogate_is_an_error(tmp_path, base, good, good_tables, where, field):
    def change(s):
        if where == "outcome title":
            om(s, 0)["title"] = "Percentage \ud800 of participants"
        elif where == "brief title":
            s["protocolSection"]["identificationModule"]["briefTitle"] = "Dupilumab \ud800"
        else:
            om(s, 0)["groups"][1]["title"] = "Dupilumab \ud800 300 mg qw"

    bad = mutated(base, change)
    err = check_both_modes(tmp_path, good, good_tables, bad, field, "bad_text")
    assert "surrogate" in str(err)


# --- absurdly long fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("outcome description", "outcomeMeasures[0].description"),
        ("outcome title", "outcomeMeasures[0].title"),
        ("eligibility", "eligibilityCriteria"),
    ],
)
def test_ten_million_character_field(tmp_path, base, good, good_tables, where, field):
    huge = "Lorem ipsum dolor sit amet. " * (10_000_000 // 28 + 1)
    huge = huge[:10_000_000]

    def change(s):
        if where == "outcome description":
            om(s, 0)["description"] = huge
        elif where == "outcome title":
            om(s, 0)["title"] = huge
        else:
            s["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = huge

    bad = mutated(base, change)
    t0 = time.perf_counter()
    err = check_both_modes(tmp_path, good, good_tables, bad, field, "too_long")
    elapsed = time.perf_counter() - t0
    assert "10,000,000" in str(err)
    assert len(str(err)) < 500  # the message names the field, it does not repeat the text
    assert elapsed < 10, f"two reads of a 10 MB study took {elapsed:.1f} s"


# --- references -------------------------------------------------------------------------------------------


def test_measurement_group_not_in_outcome(tmp_path, base, good, good_tables):
    # OG002 is a real-looking id, but outcome O0 has only OG000 and OG001
    bad = mutated(base, lambda s: measurement(s).__setitem__("groupId", "OG002"))
    err = check_both_modes(tmp_path, good, good_tables, bad, "measurements.groupId", "bad_reference")
    assert "OG002" in str(err) and "outcomeMeasures[0]" in err.field


@pytest.mark.parametrize(("change_id", "reason"), [("OG000", "duplicate"), (None, "no_id")])
def test_result_group_id_duplicate_or_missing(tmp_path, base, good, good_tables, change_id, reason):
    """Two groups of one outcome with one id (or none) would give two arms rows with one group_id."""
    bad = mutated(base, lambda s: om(s, 0)["groups"][1].__setitem__("id", change_id))
    check_both_modes(tmp_path, good, good_tables, bad, "outcomeMeasures[0].groups.id", reason)


def test_analysis_group_not_in_outcome(tmp_path, base, good, good_tables):
    bad = mutated(base, lambda s: analysis(s).__setitem__("groupIds", ["OG000", "OG002"]))
    err = check_both_modes(tmp_path, good, good_tables, bad, "analyses[0].groupIds", "bad_reference")
    assert "OG002" in str(err)


# --- all-or-nothing write -----------------------------------------------------------------------------------


def test_failed_write_keeps_previous_tables(tmp_path, json_dir, good_tables, monkeypatch):
    out = tmp_path / "tables"
    first = tbl.write_tables(good_tables, out)
    before = {n: sha256(p) for n, p in first.items()}
    listing = sorted(p.name for p in out.iterdir())
    assert len(before) == 6

    new_tables, _ = ctgov_json.read([json_dir / "NCT02210780.json"], strict=True)
    real = tbl.write_parquet
    calls = []

    def failing(table, path, *level):
        calls.append(Path(path).name)
        if len(calls) == 4:
            # leave a half-written file behind, as a crash would
            Path(path).write_bytes(b"PAR1 truncated")
            raise OSError("disk full (injected)")
        real(table, path, *level)

    monkeypatch.setattr(tbl, "write_parquet", failing)
    with pytest.raises(OSError, match="injected"):
        tbl.write_tables(new_tables, out)
    assert len(calls) == 4
    assert {n: sha256(out / f"{n}.parquet") for n in before} == before
    assert sorted(p.name for p in out.iterdir()) == listing  # no stray file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]  # the temp folder beside it removed too
    back = tbl.read_tables(out)
    for name, t in good_tables.items():
        assert back[name].equals(t), name

    # the injected failure gone, the same call replaces every table
    monkeypatch.setattr(tbl, "write_parquet", real)
    tbl.write_tables(new_tables, out)
    back = tbl.read_tables(out)
    assert back["trials"].column("trial_id").to_pylist() == ["NCT02210780"]
    assert sorted(p.name for p in out.iterdir()) == listing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]
