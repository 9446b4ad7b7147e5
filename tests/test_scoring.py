"""The scorer against CT Open's own evaluation, on the shared Winter 2025 edition, and its submission checks."""

from __future__ import annotations

import json
import math
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepimagine_data.scoring import metrics as M
from deepimagine_data.scoring.decision import DecisionError, ctopen_probabilities
from deepimagine_data.scoring.questions import ctopen_questions
from deepimagine_data.scoring.submission import SubmissionError, read_predictions, score

sys.path.insert(0, str(Path(__file__).parent))
from ctopen_predictions import RUNS, predictions  # noqa: E402

GOLDEN = Path(__file__).parent / "data" / "ctopen_winter2025_golden.json"


@pytest.fixture(scope="module")
def winter(ctopen_dir):
    return ctopen_questions("winter2025", ctopen_dir)


@pytest.fixture(scope="module")
def run_files(winter, tmp_path_factory):
    """The constructed predictions as files: run 0 as CT Open's pickle, runs 1 and 2 as JSONL."""
    d = tmp_path_factory.mktemp("preds")
    qs = [(q.key, q.n_options, q.answer_index) for q in winter]
    paths = []
    for r in range(RUNS):
        preds = predictions(qs, r)
        if r == 0:
            p = d / "run0.pickle"
            p.write_bytes(pickle.dumps(preds))
        else:
            p = d / f"run{r}.jsonl"
            with p.open("w") as f:
                for (nct, measure, i), out in preds.items():
                    f.write(json.dumps({"nct_id": nct, "outcome_measure": measure, "question_index": i, "output": out}))
                    f.write("\n")
        paths.append(p)
    return paths


def test_winter_questions_are_the_edition(winter):
    assert len(winter) == 605
    cats = {c: sum(q.category == c for q in winter) for c in M.CATEGORIES}
    assert cats == {"2-way implicit": 80, "2-way explicit": 470, "3-way explicit": 55}


def test_scorer_equals_ctopen_evaluation(winter, run_files):
    """Figures equal CT Open's evaluate_multiple_runs (commit f36b643) on the same 3 runs, to 1e-9."""
    golden = json.loads(GOLDEN.read_text())
    assert golden["provenance"]["questions"] == len(winter)
    report = score(winter, run_files)
    assert report.runs == 3 and report.answered == 605 and not report.unreadable
    for cat, figures in golden["figures"].items():
        for metric, value in figures.items():
            assert math.isclose(report.results[cat][metric], value, rel_tol=0, abs_tol=1e-9), (cat, metric)


def test_constructed_cases_cover_what_ctopen_scores_specially(winter):
    """The golden runs hold ties, unnormalized, percentage, zero-on-truth and tiny values in every category."""
    qs = [(q.key, q.n_options, q.answer_index) for q in winter]
    cat = {q.key: q.category for q in winter}
    seen = {c: set() for c in M.CATEGORIES}
    for r in range(RUNS):
        for key, out in predictions(qs, r).items():
            p = ctopen_probabilities(out)
            raw = out.split("DECISION:")[-1]
            if len(set(np.round(p, 12))) < len(p):
                seen[cat[key]].add("tie")
            if np.isclose(p.min(), 1e-12 / (1 + 1e-12 * (len(p) - 1)), rtol=1e-3) or p.min() < 1e-11:
                seen[cat[key]].add("clipped")
            if any(x in raw for x in ("(2.0", "(3.0", "(4.0", "(5.0", "(6.0", "(7.0", "(8.0", "(9.0", "(10.0")):
                seen[cat[key]].add("unnormalized")
    for c in M.CATEGORIES:
        assert {"tie", "clipped", "unnormalized"} <= seen[c], c


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("DECISION: (0.2, 0.8)\n\nREASON: ...", [0.2, 0.8]),
        ("**DECISION:** (2, 6)", [0.25, 0.75]),
        ("## DECISION: (1, 0, 0)", [1 / (1 + 2e-12), 1e-12 / (1 + 2e-12), 1e-12 / (1 + 2e-12)]),
        ("```python\nDECISION: (30, 70)\n```", [0.3, 0.7]),
        ("DECISION: (0.9, 0.1)\nthen\nDECISION: (0.1, 0.9)", [0.1, 0.9]),
        ("DECISION: (0.5, 0.5) REASON: coin", [0.5, 0.5]),
    ],
)
def test_ctopen_reading(output, expected):
    assert np.allclose(ctopen_probabilities(output), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "output",
    ["no decision at all", "DECISION: maybe", "DECISION: (0, 0)", "DECISION: (1.0)", "DECISION: [0.2, 0.8]", ""],
)
def test_ctopen_reading_refuses(output):
    with pytest.raises(DecisionError):
        ctopen_probabilities(output)


def test_macro_f1_equals_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = random.Random(5)
    for _ in range(200):
        n = rng.randint(1, 30)
        k = rng.choice([2, 3])
        t = [rng.randrange(k) for _ in range(n)]
        p = [rng.randrange(k) for _ in range(n)]
        assert math.isclose(M.macro_f1(t, p), sk.f1_score(t, p, average="macro", zero_division=0), abs_tol=1e-12)


def test_calibration_figures_by_hand():
    items = [
        M.Scored("2-way explicit", 0, (0.9, 0.1)),
        M.Scored("2-way explicit", 1, (0.8, 0.2)),
        M.Scored("2-way explicit", 1, (0.3, 0.7)),
    ]
    # Brier: (0.01+0.01) + (0.64+0.64) + (0.09+0.09) / 3
    assert math.isclose(M.brier(items), (0.02 + 1.28 + 0.18) / 3)
    # bins: 0.7 -> (0.6,0.7] right; 0.8 -> (0.7,0.8] wrong; 0.9 -> (0.8,0.9] right
    assert math.isclose(M.ece(items), (abs(1 - 0.7) + abs(0 - 0.8) + abs(1 - 0.9)) / 3)


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rows(winter, out="DECISION: (0.6, 0.4)"):
    rows = []
    for q in winter:
        o = out if q.n_options == 2 else "DECISION: (0.2, 0.2, 0.6)"
        rows.append({"nct_id": q.key[0], "outcome_measure": q.key[1], "question_index": q.key[2], "output": o})
    return rows


def test_missing_duplicate_and_unknown_are_named(winter, tmp_path):
    rows = _rows(winter)
    missing = _write_jsonl(tmp_path / "missing.jsonl", rows[1:])
    with pytest.raises(SubmissionError, match=r"1 question\(s\) not answered, e\.g\. \(NCT05799287"):
        score(winter, [missing])
    dup = _write_jsonl(tmp_path / "dup.jsonl", [*rows, rows[3]])
    with pytest.raises(SubmissionError, match=rf"1 duplicate answer\(s\), e\.g\. \({rows[3]['nct_id']}"):
        score(winter, [dup])
    unknown = _write_jsonl(tmp_path / "unknown.jsonl", [*rows, {**rows[0], "nct_id": "NCT00000000"}])
    with pytest.raises(SubmissionError, match=r"unknown key\(s\), e\.g\. \(NCT00000000"):
        score(winter, [unknown])
    extra = _write_jsonl(tmp_path / "extra.jsonl", [{**rows[0], "probability": 0.3}])
    with pytest.raises(SubmissionError, match=r"extra.jsonl:1: unknown field\(s\) probability"):
        read_predictions(extra)
    # a partial run is scored on what it answers, when asked
    assert score(winter, [missing], partial=True).answered == 604


def test_unreadable_decisions_count_wrong_and_are_reported(winter, tmp_path):
    rows = _rows(winter)
    bad = {0, 5, 100}
    for i in bad:
        rows[i]["output"] = "I cannot tell."
    report = score(winter, [_write_jsonl(tmp_path / "bad.jsonl", rows)])
    assert len(report.unreadable) == 3 and report.results["overall"]["unreadable"] == 3
    assert {k for k, _ in report.unreadable} == {winter[i].key for i in bad}
    right = M.unreadable_prediction("3-way explicit", 0, 3)
    assert right.predicted == 2 and right.p_true < 1e-11


def test_cli_json_document(run_files, ctopen_dir):
    cmd = [sys.executable, "-m", "deepimagine_data.cli", "score", "--benchmark", "ctopen", "--edition", "winter2025"]
    cmd += ["--source", str(ctopen_dir), "--json", "--predictions", *map(str, run_files)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    golden = json.loads(GOLDEN.read_text())["figures"]
    for cat in [*M.CATEGORIES, "overall"]:
        assert set(doc[cat]) >= {"balanced_accuracy", "macro_f1", "cross_entropy", "brier", "ece"}
        assert math.isclose(doc[cat]["macro_f1"], golden[cat]["macro_f1"], abs_tol=1e-9)
        # every metric has its 95% interval beside it, and each category its trials
        for m in M.METRICS:
            lo, hi = doc[cat][f"{m}_ci95"]
            assert lo <= doc[cat][m] <= hi
        assert doc[cat]["trials"] <= doc[cat]["questions"]
    assert doc["meta"]["runs"] == 3 and doc["meta"]["questions"] == 605
    assert doc["meta"]["bootstrap"]["resamples"] == M.BOOTSTRAP_RESAMPLES and "overall" in doc["meta"]


def test_cli_table_and_clear_error(run_files, ctopen_dir, tmp_path):
    base = [sys.executable, "-m", "deepimagine_data.cli", "score", "--benchmark", "ctopen", "--edition", "winter2025"]
    base += ["--source", str(ctopen_dir)]
    plot = tmp_path / "reliability.svg"
    res = subprocess.run(
        [*base, "--predictions", str(run_files[1]), "--plot", str(plot)], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    assert "3-way explicit" in res.stdout and "overall" in res.stdout and "605 of 605" in res.stdout
    svg = plot.read_text()
    assert svg.startswith("<svg") and "reliability" in svg and svg.count("<rect") >= 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    res = subprocess.run([*base, "--predictions", str(broken)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "broken.jsonl:1: not JSON" in res.stderr
