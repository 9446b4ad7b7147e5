"""The correlational baselines (issue 6) on the real bench and on CT Open Winter 2025, offline.

Every model runs once per benchmark in a module fixture (lr and knn on every training question, rf and gbm on a
fixed sample of ``TREE_MAX_TRAIN`` per category so the file stays within CI's budget on 2 cores; the reported
figures in the README use every question). The bench comes from ``./hub`` when it holds a build, else it is built
into a temporary folder. knn's sentence embeddings are cached under ``~/.cache/deepimagine`` after the first run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import CTOPEN_MISSING

pytest.importorskip("sklearn")

from deepimagine_data.baselines import bench as bl  # noqa: E402
from deepimagine_data.baselines.cli import main  # noqa: E402
from deepimagine_data.baselines.features import (  # noqa: E402
    CTOPEN_ANSWER_FIELDS,
    FeatureSpace,
    bench_rows,
    ctopen_rows,
)
from deepimagine_data.baselines.models import MODELS  # noqa: E402
from deepimagine_data.scoring.questions import load_questions  # noqa: E402
from deepimagine_data.scoring.submission import check, read_predictions, score  # noqa: E402

REPO_HUB = Path(__file__).resolve().parents[1] / "hub"
TREE_MAX_TRAIN = {"rf": 800, "gbm": 800}
CATEGORIES = ("2-way implicit", "2-way explicit", "3-way explicit")


def _has_build(root: Path) -> bool:
    d = root / "deepimagine"
    return any((d / "bench" / "questions").glob("test-*.parquet")) and any(
        (d / "trials" / "trials").glob("train-*.parquet")
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Path:
    if _has_build(REPO_HUB):
        return REPO_HUB
    from deepimagine_data.builders import bench, trials

    root = tmp_path_factory.mktemp("hub")
    trials.write(root)
    bench.write(root)
    return root


@pytest.fixture(scope="module")
def ctopen_source() -> str:
    src = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    if not src or not (Path(src) / "Winter_2025.pickle").is_file():
        pytest.skip(CTOPEN_MISSING)
    return src


@pytest.fixture(scope="module")
def rows(hub) -> dict[str, list[dict]]:
    return bench_rows(hub)


@pytest.fixture(scope="module")
def bench_runs(hub, tmp_path_factory) -> dict[str, bl.RunResult]:
    out = tmp_path_factory.mktemp("baselines-bench")
    return {m: bl.run(m, "bench", hub=hub, out=out, max_train=TREE_MAX_TRAIN.get(m)) for m in MODELS}


@pytest.fixture(scope="module")
def ctopen_runs(hub, ctopen_source, tmp_path_factory) -> dict[str, bl.RunResult]:
    out = tmp_path_factory.mktemp("baselines-ctopen")
    kw = {"edition": "winter2025", "source": ctopen_source, "hub": hub, "out": out}
    return {m: bl.run(m, "ctopen", max_train=TREE_MAX_TRAIN.get(m), **kw) for m in MODELS}


def _questions(result: bl.RunResult, hub: Path, source: str | None = None):
    if result.benchmark == "bench":
        return load_questions("deepimagine", None, hub, "test")
    return load_questions("ctopen", "winter2025", source)


def _check_run(result: bl.RunResult, questions) -> None:
    # the figures reported (returned and written) are the package scorer's on the written file
    assert score(questions, [result.submission]).results == result.results
    written = json.loads(result.figures_path.read_text())
    assert written["results"] == json.loads(json.dumps(result.results))
    assert written["model_name"] == f"baseline-{result.model}"
    # every question answered exactly once, no unknown key, every decision readable with one probability per option
    c = check(questions, read_predictions(result.submission))
    assert not c.missing and not c.unknown and not c.duplicates
    assert len(c.outputs) == len(questions) == len(result.submission.read_text().splitlines())
    from deepimagine_data.leaderboard import check_decision

    by_key = {q.key: q for q in questions}
    for key, output in c.outputs.items():
        probs = check_decision(output, by_key[key].n_options)
        assert abs(sum(probs) - 1.0) < 1e-9
        assert f"baseline-{result.model}" in output.split("REASON:", 1)[1]
    assert set(result.results) == {*CATEGORIES, "overall"}
    for cat in CATEGORIES:
        assert 0.0 <= result.results[cat]["balanced_accuracy"] <= 1.0
    # one model per category, each selected on validation questions of that category
    assert set(result.baseline.fits) == set(CATEGORIES)
    for fit in result.baseline.fits.values():
        assert fit.valid_ids and fit.valid_score is not None and fit.params in [p for p, _ in fit.tried]


@pytest.mark.parametrize("model", MODELS)
def test_bench_every_model(model, bench_runs, hub):
    r = bench_runs[model]
    questions = _questions(r, hub)
    assert len(questions) == len(r.rows) >= 300
    _check_run(r, questions)
    assert r.document["feature_set"] == "full"
    n_train = sum(len(f.train_ids) for f in r.baseline.fits.values())
    assert n_train == r.counts["train"] == (r.counts["bench_train"] if model not in TREE_MAX_TRAIN else n_train)
    if model in TREE_MAX_TRAIN:
        assert all(len(f.train_ids) <= TREE_MAX_TRAIN[model] for f in r.baseline.fits.values())


@pytest.mark.parametrize("model", MODELS)
def test_ctopen_every_model(model, ctopen_runs, hub, ctopen_source):
    r = ctopen_runs[model]
    questions = _questions(r, hub, ctopen_source)
    assert len(questions) == 605
    _check_run(r, questions)
    assert r.document["feature_set"] == "text"
    assert {k: v["questions"] for k, v in r.results.items() if k != "overall"} == {
        "2-way implicit": 80,
        "2-way explicit": 470,
        "3-way explicit": 55,
    }


def test_same_seed_same_figures(bench_runs, hub, tmp_path):
    # rf is the model with randomness (bootstrap, feature sampling): the seed must pin all of it
    first = bench_runs["rf"]
    again = bl.run("rf", "bench", hub=hub, out=tmp_path, max_train=TREE_MAX_TRAIN["rf"], seed=first.seed)
    assert again.results == first.results
    assert again.submission.read_bytes() == first.submission.read_bytes()
    chosen = {c: f.params for c, f in first.baseline.fits.items()}
    assert {c: f.params for c, f in again.baseline.fits.items()} == chosen


def test_no_test_trial_reaches_training(bench_runs, rows):
    train_ids = {r["question_id"] for r in rows["train"]}
    valid_ids = {r["question_id"] for r in rows["validation"]}
    test_ids = {r["question_id"] for r in rows["test"]}
    test_ncts = {r["nct_id"] for r in rows["test"]}
    by_id = {r["question_id"]: r for r in rows["train"]}
    assert len(test_ncts) > 80
    for model, run in bench_runs.items():
        space = run.baseline.space
        assert space.train_ids <= train_ids and not space.train_ids & (test_ids | valid_ids), model
        for fit in run.baseline.fits.values():
            # trained on train questions, selected on validation questions, never a test question
            assert fit.train_ids <= space.train_ids
            assert fit.valid_ids <= valid_ids
            assert not (fit.train_ids | fit.valid_ids) & test_ids
            assert not {by_id[q]["nct_id"] for q in fit.train_ids} & test_ncts
        # undated rows (curated per-arm sources carry no registry dates) go to train by the split rule
        dates = [by_id[q]["posted"] for q in space.train_ids if by_id[q]["posted"] is not None]
        assert dates and max(dates) < dt.date(2020, 1, 1)
        assert dt.date.fromisoformat(run.document["training_cutoff"]) < dt.date(2021, 1, 1)


def test_vocabulary_categories_and_scale_fitted_on_train_only(bench_runs, rows):
    space = bench_runs["lr"].baseline.space
    analyze = space.analyzer()
    words = {}
    for split in ("train", "test"):
        words[split] = {w for r in rows[split] for t in space.row_texts(r).values() for w in analyze(t)}
    only_test = words["test"] - words["train"]
    assert len(only_test) > 50  # real words that only test questions use ...
    assert not only_test & space.vocabulary()  # ... none of which the fitted space knows
    assert space.vocabulary() <= words["train"]
    assert space.scaler.n_samples_seen_ == len(rows["train"]) == space.n_train
    for i, name in enumerate(space.cat_names):
        seen = {_cat(r, name) for r in rows["train"]}
        assert set(space.onehot.categories_[i]) <= seen, name
    for name, top in space.topk.items():
        assert top.items, name
    # refitting on train alone gives the same columns: nothing else went into the space
    again = FeatureSpace("full").fit(rows["train"])
    assert again.feature_names() == space.feature_names()


def _cat(row: dict, name: str) -> str:
    from deepimagine_data.baselines.features import _categorical

    return _categorical(row, True)[name]


def test_knn_index_holds_exactly_the_train_items(bench_runs, rows):
    run = bench_runs["knn"]
    space = run.baseline.space
    assert space.view == "embedding"
    for cat, fit in run.baseline.fits.items():
        train_cat = [r for r in rows["train"] if r["category"] == cat]
        assert fit.model.n_samples_fit_ == len(train_cat) == len(fit.train_ids)
        assert {r["question_id"] for r in train_cat} == fit.train_ids
        assert np.array_equal(fit.model._fit_X, space.transform(train_cat))
        assert sorted(fit.model.classes_.tolist()) == sorted({r["answer_index"] for r in train_cat})


def test_knn_probabilities_are_laplace_smoothed(bench_runs, rows):
    run = bench_runs["knn"]
    test = rows["test"]
    probs = run.baseline.predict(test)
    # never exactly 0 (cross-entropy stays finite), and the smoothing keeps scikit-learn's argmax
    assert min(p.min() for p in probs) > 0.0
    for cat, fit in run.baseline.fits.items():
        idx = [i for i, r in enumerate(test) if r["category"] == cat]
        raw = fit.model.predict_proba(run.baseline.space.transform([test[i] for i in idx]))
        k, c = fit.model.n_neighbors, raw.shape[1]
        for j, i in enumerate(idx):
            assert np.allclose(probs[i][fit.classes], (k * raw[j] + 1) / (k + c))
            assert np.argmax(probs[i][fit.classes]) == np.argmax(raw[j])
    assert run.results["overall"]["cross_entropy"] < 5.0, run.results["overall"]


def test_features_never_read_the_answer(bench_runs, rows):
    space = bench_runs["lr"].baseline.space
    test = rows["test"][:200]
    flipped = [{**r, "answer_index": 1 - r["answer_index"] if r["answer_index"] < 2 else 0} for r in test]
    a, b = space.transform(test), space.transform(flipped)
    assert (a != b).nnz == 0


def test_ctopen_rows_and_decontamination(ctopen_runs, ctopen_source, rows):
    ct = ctopen_rows("winter2025", ctopen_source)
    assert len(ct) == 605
    for r in ct:
        assert r["design"] is None and not set(CTOPEN_ANSWER_FIELDS) & set(r)
    explicit = [r for r in ct if r["category"] != "2-way implicit"]
    # the compared arms are read off CT Open's option wording and found among the trial's arms
    assert all(r["arm_b"] is not None for r in explicit)
    assert sum(r["arm_b"]["arm_type"] is not None for r in explicit) / len(explicit) > 0.95
    assert {r["question_type"] for r in ct} == {"endpoint_2way", "superiority_2way", "comparative_3way"}
    ct_ncts = {r["nct_id"] for r in ct}
    by_id = {r["question_id"]: r for r in rows["train"] + rows["validation"]}
    for run in ctopen_runs.values():
        for fit in run.baseline.fits.values():
            assert not {by_id[q]["nct_id"] for q in fit.train_ids | fit.valid_ids} & ct_ncts
    # the 'full' set needs the trial model, which CT Open records do not have
    with pytest.raises(ValueError, match="text"):
        FeatureSpace("full").fit(ct)
    space = ctopen_runs["lr"].baseline.space
    flipped = [{**r, "answer_index": (r["answer_index"] + 1) % len(r["options"])} for r in ct]
    assert (space.transform(ct) != space.transform(flipped)).nnz == 0


def test_cli_run_json_submit_and_report(hub, tmp_path, capsys):
    out, store = tmp_path / "out", tmp_path / "lb"
    argv = ["run", "--model", "lr", "--benchmark", "bench", "--hub", str(hub), "--out", str(out), "--quiet"]
    assert main([*argv, "--max-train", "400", "--json", "--submit", "--store", str(store)]) == 0
    doc = json.loads(capsys.readouterr().out)
    sub = out / "bench-test-lr.jsonl"
    report = score(load_questions("deepimagine", None, hub, "test"), [sub])
    assert {k: v for k, v in doc.items() if k != "meta"} == report.results
    n_test = len(load_questions("deepimagine", None, hub, "test"))
    assert doc["meta"]["predictions"] == [str(sub)] and doc["meta"]["answered"] == n_test >= 300
    from deepimagine_data.leaderboard import read_store

    stored = read_store(store).to_pylist()
    assert stored and {r["model_name"] for r in stored} == {"baseline-lr"}
    from deepimagine_data import __version__

    assert {r["model_revision"] for r in stored} == {f"{__version__}+seed0"}
    cutoff = json.loads((out / "bench-test-lr.json").read_text())["training_cutoff"]
    assert {str(r["training_cutoff"]) for r in stored} == {cutoff}
    assert dt.date(2020, 1, 1) <= dt.date.fromisoformat(cutoff) < dt.date(2021, 1, 1)
    # the baseline appears on the rendered leaderboard with the scorer's overall figure
    from deepimagine_data.leaderboard import render

    html, md = render(store, tmp_path / "site")
    row = next(ln for ln in md.read_text().splitlines() if "baseline-lr" in ln)
    assert f"{report.results['overall']['balanced_accuracy']:.4f}" in row
    assert "baseline-lr" in html.read_text()

    assert main(["report", "--out", str(out), "--hub", str(hub)]) == 0
    table = capsys.readouterr().out
    line = next(ln for ln in table.splitlines() if ln.startswith("bench ") and " lr " in ln)
    assert f"{report.results['overall']['balanced_accuracy']:.4f}" in line
    low, high = report.results["overall"]["balanced_accuracy_ci95"]  # the scorer's trial-clustered interval
    assert f"[{low:.2f}, {high:.2f}]" in line and low <= report.results["overall"]["balanced_accuracy"] <= high
    # a category below the scorer's minimum is marked and left out of overall
    small = [c for c in report.results if c not in ("overall",) and c not in report.results["overall"]["categories"]]
    assert all(f"{report.results[c]['balanced_accuracy']:.4f}*" in line for c in small)
    # each benchmark is headed by its reference rows, computed from the bench itself
    from deepimagine_data.baselines.reference import reference_results
    from deepimagine_data.scoring.questions import bench_questions

    refs = reference_results(bench_questions(hub, "test"), bench_questions(hub, "train"))
    for model in ("chance", "majority"):
        ref = next(ln for ln in table.splitlines() if ln.startswith("bench ") and f" {model} " in ln)
        assert f"{refs[model]['overall']['balanced_accuracy']:.4f}" in ref and "reference" in ref
    assert "max_train 400" in line
    assert main(["report", "--out", str(tmp_path / "empty"), "--hub", str(tmp_path / "no-hub")]) == 1


def test_cli_top(tmp_path, capsys, hint_top_dir):
    train, valid = hint_top_dir / "phase_I_train.csv.gz", hint_top_dir / "phase_I_valid.csv.gz"
    if not train.is_file() or not valid.is_file():
        pytest.skip("HINT's TOP phase I files (TOP/HINT, not redistributable) are not in ../shared/data/hint_top")
    argv = ["run", "--model", "lr", "--benchmark", "top", "--phase", "I", "--train", str(train), "--valid", str(valid)]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"pr_auc", "roc_auc", "f1"} <= set(doc) and doc["evaluated_on"] == "valid"
    assert 0.0 <= doc["pr_auc"] <= 1.0
    assert main(["report", "--out", str(tmp_path)]) == 0
    assert "PR-AUC" in capsys.readouterr().out


def test_cli_run_all_models_then_one_table(hub, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--model", "all", "--benchmark", "bench", "--hub", str(hub), "--out", str(out), "--quiet"]
    assert main([*argv, "--max-train", "60"]) == 0
    printed = capsys.readouterr().out
    table = printed.split("balanced accuracy per category", 1)[1].splitlines()
    runs = [ln.split()[2] for ln in table if ln.startswith("bench ")]
    assert runs == list(MODELS)
    assert sorted(p.name for p in out.glob("*.jsonl")) == sorted(f"bench-test-{m}.jsonl" for m in MODELS)
    assert main([*argv[:-1], "--json"]) == 2  # one JSON document per command: --model all refuses --json
