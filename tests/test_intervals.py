"""The trial-clustered bootstrap intervals of ``deepimagine score``, on CT Open Winter 2025's real 605 questions.

The forecasters here are seeded and constructed on the real questions (their categories, answers and trials): one is
right or wrong per *trial* (so questions of a trial are correlated, as a model's answers on one trial are), and
tests/ctopen_predictions.py's three runs are the ones CT Open's own evaluation scored for the golden figures.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepimagine_data.scoring import metrics as M
from deepimagine_data.scoring.questions import Question, ctopen_questions
from deepimagine_data.scoring.submission import score

sys.path.insert(0, str(Path(__file__).parent))
from ctopen_predictions import RUNS, predictions  # noqa: E402

GOLDEN = Path(__file__).parent / "data" / "ctopen_winter2025_golden.json"
TRIAL_METRICS = M.METRICS


@pytest.fixture(scope="module")
def winter(ctopen_dir) -> list[Question]:
    return ctopen_questions("winter2025", ctopen_dir)


@pytest.fixture(scope="module")
def golden_runs(winter, tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("runs")
    qs = [(q.key, q.n_options, q.answer_index) for q in winter]
    paths = []
    for r in range(RUNS):
        p = d / f"run{r}.pickle"
        p.write_bytes(pickle.dumps(predictions(qs, r)))
        paths.append(p)
    return paths


def per_trial_forecaster(questions: list[Question], seed: int = 7, cluster=lambda iq: iq[1].trial) -> list[M.Scored]:
    """Right (0.7 on the right option) on every question of 60% of the trials, wrong on every question of the rest;
    ``cluster((position, question))`` gives each answer's trial id (default the question's own; ``None``: the
    question is its own cluster in the bootstrap, but keeps its real trial's right or wrong)."""
    clusters = [cluster((i, q)) for i, q in enumerate(questions)]
    units = [q.trial if c is None else c for c, q in zip(clusters, questions, strict=True)]
    rng = np.random.default_rng(seed)
    right = {t: rng.random() < 0.6 for t in sorted(set(units))}
    out = []
    for q, c, unit in zip(questions, clusters, units, strict=True):
        n = q.n_options
        pick = q.answer_index if right[unit] else (q.answer_index + 1) % n
        p = [0.3 / (n - 1)] * n
        p[pick] = 0.7
        out.append(M.Scored(q.category, q.answer_index, tuple(p), cluster=c))
    return out


def _width(results: dict, category: str, metric: str) -> float:
    lo, hi = results[category][f"{metric}_ci95"]
    return hi - lo


def test_points_are_unchanged_and_intervals_hold_them(winter, golden_runs):
    """CT Open's figures stay CT Open's (the golden file, to 1e-9) with intervals on; each interval holds its point."""
    golden = json.loads(GOLDEN.read_text())["figures"]
    plain = score(winter, golden_runs, bootstrap=0).results
    report = score(winter, golden_runs)
    assert report.bootstrap == M.BOOTSTRAP_RESAMPLES == 1000 and report.seed == M.BOOTSTRAP_SEED == 0
    for cat in [*M.CATEGORIES, "overall"]:
        for m in M.METRICS:
            assert report.results[cat][m] == plain[cat][m]  # the bootstrap does not touch the point figures
            assert f"{m}_ci95" not in plain[cat]
            if m in golden[cat]:
                assert report.results[cat][m] == pytest.approx(golden[cat][m], abs=1e-9)
            lo, hi = report.results[cat][f"{m}_ci95"]
            assert lo <= report.results[cat][m] <= hi, (cat, m)
            assert lo < hi
        assert report.results[cat]["ci95_resamples"] == 1000
    assert report.results["overall"]["categories"] == list(M.CATEGORIES)


def test_same_seed_same_intervals_other_seed_other_intervals(winter, golden_runs):
    a = score(winter, golden_runs).results
    b = score(winter, golden_runs).results
    c = score(winter, golden_runs, seed=1).results
    assert a == b
    for cat in [*M.CATEGORIES, "overall"]:
        assert [a[cat][m] for m in M.METRICS] == [c[cat][m] for m in M.METRICS]
        assert a[cat]["balanced_accuracy_ci95"] != c[cat]["balanced_accuracy_ci95"]
        # another seed moves an interval's ends a little, not much
        assert np.allclose(a[cat]["cross_entropy_ci95"], c[cat]["cross_entropy_ci95"], rtol=0.05)


def test_unit_weights_give_the_point_figures(winter, golden_runs):
    """The weighted-count formulas of a replicate equal CT Open's metrics when every trial is drawn once."""
    report = score(winter, golden_runs, bootstrap=0)
    for run in report.items:
        keys = M.cluster_keys(run)
        index = {t: i for i, t in enumerate(sorted(set(keys)))}
        ones = np.ones((1, len(index)), dtype=int)
        for cat in M.CATEGORIES:
            items = [x for x in run if x.category == cat]
            idx = np.array([index[k] for k, x in zip(keys, run, strict=True) if x.category == cat])
            got = M.weighted_metrics(M._block(cat, items, idx), ones)
            want = M.category_metrics(cat, items)
            for m in M.METRICS:
                assert got[m][0] == pytest.approx(want[m], abs=1e-12), (cat, m)


def test_intervals_shrink_as_questions_grow(winter):
    trials = sorted({q.trial for q in winter})
    widths = {}
    for frac in (4, 1):
        keep = set(trials[: len(trials) // frac])
        results = M.evaluate_runs([per_trial_forecaster([q for q in winter if q.trial in keep])], bootstrap=1000)
        widths[frac] = {m: _width(results, "2-way explicit", m) for m in M.METRICS}
    for m in M.METRICS:
        # four times the trials: about half the width (1/sqrt(4))
        assert widths[1][m] < 0.75 * widths[4][m], (m, widths)


def test_clustering_widens_the_interval_when_trials_dominate(winter):
    """Answers correlated within a trial: resampling trials gives wider intervals than resampling questions, and
    much wider when one trial holds most questions (the bench has a trial with 54 questions)."""
    clustered = M.evaluate_runs([per_trial_forecaster(winter)], bootstrap=1000)
    independent = M.evaluate_runs([per_trial_forecaster(winter, cluster=lambda iq: None)], bootstrap=1000)
    assert independent["2-way explicit"]["trials"] == 470  # without a trial id each question is its own cluster
    assert clustered["2-way explicit"]["trials"] == 249
    for m in M.METRICS:
        assert _width(clustered, "overall", m) > 1.15 * _width(independent, "overall", m), m
        assert _width(clustered, "2-way explicit", m) > 1.3 * _width(independent, "2-way explicit", m), m
    # the same answers, but 54% of the 2-way explicit questions come from one trial
    explicit = [q for q in winter if q.category == "2-way explicit"]
    big = int(0.54 * len(explicit))
    dominated = per_trial_forecaster(explicit, cluster=lambda iq: "NCT-ONE" if iq[0] < big else iq[1].trial)
    spread = per_trial_forecaster(explicit)
    d = M.evaluate_runs([dominated], bootstrap=1000)
    s = M.evaluate_runs([spread], bootstrap=1000)
    gone = {q.trial for q in explicit[:big]} - {q.trial for q in explicit[big:]}
    assert d["2-way explicit"]["trials"] == s["2-way explicit"]["trials"] - len(gone) + 1
    for m in M.METRICS:
        assert _width(d, "2-way explicit", m) > 2 * _width(s, "2-way explicit", m), m


def test_runs_share_the_trial_draws(winter, golden_runs):
    """Every run is scored on the same drawn trials: two identical runs give one run's intervals, and the
    replicates of three runs are the mean of each run's replicates."""
    run = per_trial_forecaster(winter)
    one = M.bootstrap_replicates([run], 300, seed=3)
    two = M.bootstrap_replicates([run, list(run)], 300, seed=3)
    for cat in [*M.CATEGORIES, "overall"]:
        for m in M.METRICS:
            np.testing.assert_allclose(two[cat][m], one[cat][m], rtol=0, atol=1e-12)
    runs = score(winter, golden_runs, bootstrap=0).items
    joint = M.bootstrap_replicates(runs, 300, seed=3)
    alone = [M.bootstrap_replicates([r], 300, seed=3) for r in runs]
    for cat in M.CATEGORIES:
        np.testing.assert_allclose(joint[cat]["macro_f1"], np.mean([a[cat]["macro_f1"] for a in alone], axis=0))
    # overall is recomputed on each replicate from its categories
    np.testing.assert_allclose(joint["overall"]["brier"], np.mean([joint[c]["brier"] for c in M.CATEGORIES], axis=0))


def test_one_draw_of_trials_serves_every_category():
    """A trial's questions in two categories come along together: on every replicate the two categories of a set whose
    trials each hold one question of each category see the same trials, so their figures move in step."""
    items = []
    for t in range(40):
        right = t % 3 != 0
        for cat in ("2-way implicit", "2-way explicit"):
            answer = t % 2
            p = (0.8, 0.2) if (answer == 0) == right else (0.2, 0.8)
            items.append(M.Scored(cat, answer, p, cluster=f"NCT{t:08d}"))
    reps = M.bootstrap_replicates([items], 200, seed=0)
    np.testing.assert_array_equal(reps["2-way implicit"]["brier"], reps["2-way explicit"]["brier"])
    assert np.std(reps["2-way implicit"]["brier"]) > 0


def test_resample_weights():
    w = M.resample_weights(159, 1000, seed=0)
    assert w.shape == (1000, 159) and (w.sum(axis=1) == 159).all()
    assert (w == M.resample_weights(159, 1000, seed=0)).all()
    assert 0.3 < (w == 0).mean() < 0.44  # a trial is left out of a resample with probability (1 - 1/n)^n ~ 0.37


def test_small_categories_are_reported_but_left_out_of_overall(winter):
    """3-way explicit cut to 12 questions: shown with its n and interval, left out of overall; min_category=0 is
    CT Open's plain mean; when no category has 30 questions overall is the plain mean of all."""
    three = [q for q in winter if q.category == "3-way explicit"][:12]
    subset = [q for q in winter if q.category != "3-way explicit"] + three
    run = per_trial_forecaster(subset)
    r = M.evaluate_runs([run], bootstrap=200)
    assert r["3-way explicit"]["questions"] == 12 and r["3-way explicit"]["balanced_accuracy_ci95"] is not None
    assert r["overall"]["categories"] == ["2-way implicit", "2-way explicit"]
    for m in M.METRICS:
        assert r["overall"][m] == pytest.approx((r["2-way implicit"][m] + r["2-way explicit"][m]) / 2, abs=1e-15)
    assert r["overall"]["questions"] == 80 + 470
    assert M.describe_overall(r) == (
        "plain mean of the categories with >= 30 questions: 2-way implicit, 2-way explicit; "
        "left out: 3-way explicit (12 questions)"
    )
    ctopen = M.evaluate_runs([run], min_category=0)
    assert ctopen["overall"]["balanced_accuracy"] == pytest.approx(
        np.mean([r[c]["balanced_accuracy"] for c in M.CATEGORIES]), abs=1e-15
    )
    tiny = M.evaluate_runs([run[:5] + run[-5:]], bootstrap=200)
    assert tiny["overall"]["categories"] == ["2-way explicit", "3-way explicit"]
    assert M.describe_overall(tiny).startswith("plain mean of every category (none has >= 30 questions)")
    assert all(tiny["overall"][f"{m}_ci95"] is not None for m in M.METRICS)


def test_a_thousand_resamples_are_fast(winter, golden_runs):
    runs = score(winter, golden_runs, bootstrap=0).items
    start = time.perf_counter()
    M.evaluate_runs(runs, bootstrap=1000)
    assert time.perf_counter() - start < 5.0  # ~0.1 s here: 3 runs x 605 questions x 1000 resamples


def test_score_json_has_an_interval_beside_every_metric(winter, golden_runs, ctopen_dir):
    cmd = [sys.executable, "-m", "deepimagine_data.cli", "score", "--benchmark", "ctopen", "--edition", "winter2025",
           "--source", str(ctopen_dir), "--predictions", *map(str, golden_runs)]  # fmt: skip
    res = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    expected = score(winter, golden_runs).results
    for cat in [*M.CATEGORIES, "overall"]:
        for m in M.METRICS:
            lo, hi = doc[cat][f"{m}_ci95"]
            assert [lo, hi] == pytest.approx(expected[cat][f"{m}_ci95"], abs=1e-12)
            assert lo <= doc[cat][m] <= hi
        assert isinstance(doc[cat]["trials"], int) and doc[cat]["questions"] >= doc[cat]["trials"] > 0
    meta = doc["meta"]
    assert meta["bootstrap"]["resamples"] == 1000 and meta["bootstrap"]["seed"] == 0 and meta["trials"] == 314
    assert meta["min_category_questions"] == 30
    assert meta["overall"] == (
        "plain mean of the categories with >= 30 questions: 2-way implicit, 2-way explicit, 3-way explicit"
    )
    # --bootstrap / --seed are the knobs; --bootstrap 0 turns the intervals off
    other = json.loads(subprocess.run([*cmd, "--json", "--bootstrap", "200", "--seed", "5"], capture_output=True,
                                      text=True, timeout=300, check=True).stdout)  # fmt: skip
    assert other["meta"]["bootstrap"]["resamples"] == 200 and other["overall"]["ci95_resamples"] == 200
    assert other["overall"]["brier_ci95"] != doc["overall"]["brier_ci95"]
    off = json.loads(subprocess.run([*cmd, "--json", "--bootstrap", "0"], capture_output=True, text=True,
                                    timeout=300, check=True).stdout)  # fmt: skip
    assert not any(k.endswith("_ci95") for cat in [*M.CATEGORIES, "overall"] for k in off[cat])
    # the table: n, trials and each figure with its interval
    table = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
    line = next(ln for ln in table.splitlines() if ln.startswith("2-way explicit"))
    r = doc["2-way explicit"]
    lo, hi = r["balanced_accuracy_ci95"]
    assert line.split()[2:6] == ["470", "249", f"{r['balanced_accuracy']:.4f}", f"[{lo:.3f},"]
    assert f"{r['ece']:.4f} [{r['ece_ci95'][0]:.3f}, {r['ece_ci95'][1]:.3f}]" in line
    assert "overall: plain mean of the categories with >= 30 questions" in table
    assert "1,000 resamples of the 314 trials, seed 0" in table
    help_text = subprocess.run([sys.executable, "-m", "deepimagine_data.cli", "score", "--help"],
                               capture_output=True, text=True, timeout=300, check=True).stdout  # fmt: skip
    assert "trial-clustered" in " ".join(help_text.split()) and "--bootstrap N" in help_text


def test_bench_intervals_without_shared_data():
    """On the bench built from the embedded data (no ../shared needed): a seeded forecaster right on 70% of the
    trials gets an interval around each figure, the trials are the capped test split's, and the small 3-way
    category is reported but left out of overall."""
    from collections import Counter

    from deepimagine_data.scoring.questions import bench_questions

    qs = bench_questions(None, "test")
    per_trial = Counter(q.trial for q in qs)
    assert max(per_trial.values()) <= 10  # the test split's cap
    rng = np.random.default_rng(0)
    right = {t: rng.random() < 0.7 for t in sorted(per_trial)}
    run = []
    for q in qs:
        pick = q.answer_index if right[q.trial] else (q.answer_index + 1) % q.n_options
        probs = tuple(0.8 if i == pick else 0.2 / (q.n_options - 1) for i in range(q.n_options))
        run.append(M.Scored(q.category, q.answer_index, probs, cluster=q.trial))
    res = M.evaluate_runs([run], bootstrap=500, seed=0)
    assert res["overall"]["trials"] <= len(per_trial)
    for cat in [*(c for c in M.CATEGORIES if c in res), "overall"]:
        for m in M.METRICS:
            low, high = res[cat][f"{m}_ci95"]
            assert low <= res[cat][m] <= high, (cat, m)
        assert res[cat]["questions"] > 0
    small = [c for c in M.CATEGORIES if c in res and res[c]["questions"] < M.MIN_CATEGORY_QUESTIONS]
    assert small and not set(small) & set(res["overall"]["categories"])
    # the clustered interval of the big category is wider than resampling its questions one by one would give
    big = max((c for c in M.CATEGORIES if c in res), key=lambda c: res[c]["questions"])
    alone = [M.Scored(x.category, x.answer, x.probabilities, cluster=None) for x in run]
    flat = M.evaluate_runs([alone], bootstrap=500, seed=0)
    width = np.diff(res[big]["cross_entropy_ci95"])[0]
    assert width > np.diff(flat[big]["cross_entropy_ci95"])[0]
