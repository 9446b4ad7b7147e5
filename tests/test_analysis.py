"""``deepimagine analyze traces``: the factor lexicon on realistic trace sentences, correctness from the decision
line, the tables' figures recomputed by hand on real pairs, and the CLI's table, JSON and SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from deepimagine_data.analysis import FACTORS, Trace, analyze, factors_in, read_traces
from deepimagine_data.cli import main
from deepimagine_data.errors import RecordError

# (trace text, factors it invokes) — sentences in the register teacher models write
LEXICON_CASES = [
    ("Doubling the dose from 200 mg to 400 mg daily should raise exposure.", {"dose"}),
    ("At 5 mg/kg every 3 weeks the response is unlikely to differ from 2 mg/kg.", {"dose"}),
    ("The higher dosing schedule adds toxicity without benefit.", {"dose"}),
    ("A dose-response relationship was seen in phase 2.", {"dose"}),
    ("The target trial enrolled elderly patients with ECOG performance status 2.", {"population"}),
    ("These are second-line patients refractory to platinum.", {"population"}),
    ("Eligibility required no prior therapy for metastatic disease.", {"population"}),
    ("Patients aged 70 or older tolerate the regimen less well.", {"population"}),
    ("The trial ran mostly in East Asian centres, where EGFR mutations are common.", {"geography"}),
    ("Sites in the United States and Europe may differ in standard of care.", {"geography"}),
    ("A multinational trial across 12 countries.", {"geography"}),
    ("The endpoint changes from overall survival to progression-free survival.", {"outcome definition"}),
    ("Objective response rate per RECIST 1.1 at week 12 is a surrogate.", {"outcome definition"}),
    ("The time frame of 5 years gives more events.", {"outcome definition"}),
    ("As a PD-1 inhibitor, the antibody restores immune activity.", {"mechanism"}),
    ("Both drugs act on the same pathway, so little synergy is expected.", {"mechanism"}),
    ("A targeted therapy against a molecular target.", {"mechanism"}),
    ("Acquired resistance to the kinase inhibitor limits benefit.", {"mechanism"}),
    ("The two arms are compared; the result should be similar.", set()),
    ("Given the anchor was not significant, the target is likely not significant either.", set()),
    ("Patients in the study were randomized to each arm.", set()),  # generic words name no factor
    ("The stage is set for a null result.", set()),  # "stage" alone is not a disease stage
    ("DECISION: (0.25, 0.75)", set()),  # the decision line's numbers are not doses
    ("Higher exposure at 10 mg in Japanese patients; the primary outcome is OS.\nDECISION: (0.6, 0.4)",
     {"dose", "geography", "outcome definition"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), LEXICON_CASES)
def test_lexicon(text, expected):
    assert set(factors_in(text)) == expected


def test_factors_come_back_in_lexicon_order():
    assert factors_in("mechanism of action in Europe at 10 mg") == ("dose", "geography", "mechanism")
    assert list(FACTORS) == ["dose", "population", "geography", "outcome definition", "mechanism"]


@pytest.fixture(scope="module")
def strict_test_rows() -> list[dict]:
    from deepimagine_data.builders import pairs

    from deepimagine_data import pipeline

    tables, _ = pairs.build_tables(replace(pipeline.default_options(), approx=None))
    cols = ["pair_id", "changed_factor", "options", "answer_index", "completion"]
    rows = []
    for config in ("strict_arm", "strict_dose", "strict_outcome"):
        for r in tables[config]["test"].select(cols).to_pylist()[:40]:
            rows.append({**r, "config": config})
    return rows


def _sample(row: dict, text: str) -> dict:
    """An lm-eval --log_samples line of deepimagine_pairs (generate task), as lm-eval 0.4.13 writes it."""
    doc = {"question_id": row["pair_id"], "config": row["config"], "options": row["options"],
           "answer_index": row["answer_index"]}  # fmt: skip
    return {"doc_id": 0, "doc": doc, "target": row["answer_index"], "resps": [[text]], "filtered_resps": [text]}


def _wrong(row: dict) -> str:
    n = len(row["options"])
    probs = [0.0] * n
    probs[(row["answer_index"] + 1) % n] = 1.0
    return f"A dose increase in Asian patients changes the endpoint.\nDECISION: ({', '.join(map(str, probs))})"


def test_lm_eval_samples_are_scored_against_the_known_answer(strict_test_rows, tmp_path):
    rows = strict_test_rows
    f = tmp_path / "samples_deepimagine_pairs.jsonl"
    lines = [_sample(r, r["completion"]) for r in rows[::2]] + [_sample(r, _wrong(r)) for r in rows[1::2]]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    traces = read_traces([f])
    assert len(traces) == len(rows)
    # the pair's own completion carries probability 1 on the known answer; the wrong one on another option
    assert [t.correct for t in traces] == [True] * len(rows[::2]) + [False] * len(rows[1::2])
    a = analyze(traces)
    assert a.accuracy == pytest.approx(len(rows[::2]) / len(rows))
    by = {r["factor"]: r for r in a.factors}
    # every wrong trace invokes dose, geography and outcome; recompute the dose row by hand
    dose = [t for t in traces if "dose" in factors_in(t.text)]
    assert by["dose"]["traces"] == len(dose) >= len(rows[1::2])
    assert by["dose"]["accuracy_invoked"] == pytest.approx(sum(t.correct for t in dose) / len(dose))
    kinds = {r["kind"]: r for r in a.kinds}
    assert set(kinds) == {r["config"] for r in rows}
    for kind, r in kinds.items():
        mine = [t for t in traces if t.kind == kind]
        assert r["traces"] == len(mine)
        assert r["accuracy"] == pytest.approx(sum(t.correct for t in mine) / len(mine))


def test_traces_rows_with_changed_factors_give_the_on_factor_rate():
    traces = [
        Trace("Raising the dose to 400 mg increases toxicity. DECISION: (0.0, 1.0)", True, "strict_dose", ("dose",)),
        Trace("The arms differ. DECISION: (1.0, 0.0)", True, "strict_dose", ("dose",)),
        Trace("The endpoint is now PFS. DECISION: (0.0, 1.0)", False, "approx", ("outcome", "population")),
    ]
    on = {r["changed"]: r for r in analyze(traces).on_factor}
    assert on["dose"]["traces"] == 2 and on["dose"]["names_it"] == 0.5 and on["dose"]["accuracy"] == 1.0
    assert on["outcome"]["names_it"] == 1.0 and on["population"]["names_it"] == 0.0


def test_cli_writes_table_json_and_plot(strict_test_rows, tmp_path, capsys):
    rows = strict_test_rows[:10]
    f = tmp_path / "attempts.jsonl"
    f.write_text("".join(json.dumps({"pair_id": r["pair_id"], "config": r["config"], "text": _wrong(r),
                                     "options": r["options"], "answer_index": r["answer_index"]}) + "\n"
                         for r in rows))  # fmt: skip
    out = tmp_path / "analysis"
    assert main(["analyze", "traces", str(f), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10 traces; accuracy 0.000" in printed
    assert next(ln for ln in printed.splitlines() if ln.startswith("dose ")).split()[1:3] == ["10", "100.0%"]
    doc = json.loads((out / "trace_factors.json").read_text())
    assert doc["n"] == 10 and doc["accuracy"] == 0.0
    svg = ET.parse(out / "trace_factors.svg").getroot()
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}rect")) >= 5
    assert main(["analyze", "traces", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == doc


def test_bad_input_names_the_record(tmp_path, capsys):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "fine. DECISION: (1, 0)", "correct": true}\n{"pair_id": "p2"}\n')
    with pytest.raises(RecordError, match=r"bad.jsonl line 2: text: no text field"):
        read_traces([f])
    assert main(["analyze", "traces", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "empty_ds").mkdir()
    assert main(["analyze", "traces", str(tmp_path / "empty_ds")]) == 2
    assert "no traces config" in capsys.readouterr().err
