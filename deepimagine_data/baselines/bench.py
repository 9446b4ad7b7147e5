"""Correlational baselines on the deepimagine bench and on CT Open: fit, select, predict, write, score.

One model per category (``2-way implicit``, ``2-way explicit``, ``3-way explicit``) — the scorer's and CT Open's
unit — with the question type as a feature: per question type would leave the CT Open-shaped types tiny (364
superiority and 29 endpoint questions in bench train), while a category model learns from all 5,089 2-way explicit
questions and still tells the types apart. Each category model is fitted on the bench ``train`` split, its
hyperparameters (:func:`deepimagine_data.baselines.models.grid`) chosen on ``validation`` only by the scorer's
balanced accuracy of the answer (3-way collapsed to "significant either way" vs "none", as the scorer does; ties
keep the first grid point); the chosen model, fitted on train only, predicts the ``test`` split (``bench``, feature
set ``full``) or a CT Open edition (``ctopen``, feature set ``text``; bench rows of the edition's trials are removed
from train and validation first). The probabilities go into a submission JSONL in CT Open's shape and the file is
scored by :func:`deepimagine_data.scoring.submission.score` — the figures are the scorer's, nothing else.

>>> result = run("lr", "bench", hub="hub", out="baselines")  # doctest: +SKIP
>>> round(result.results["2-way explicit"]["balanced_accuracy"], 4)  # doctest: +SKIP
0.6265
>>> result.submission  # doctest: +SKIP
PosixPath('baselines/bench-test-lr.jsonl')
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import models
from .features import VIEW, FeatureSpace, bench_rows, ctopen_rows
from .models import MODELS, NAMES, grid, make, select

BENCHMARKS = ("bench", "ctopen", "top")
FEATURE_SET = {"bench": "full", "ctopen": "text"}
CATEGORY_OPTIONS = {"2-way implicit": 2, "2-way explicit": 2, "3-way explicit": 3}
DEFAULT_OUT = Path("baselines")


def selection_score(category: str, classes: Sequence[int]) -> Callable[[np.ndarray, np.ndarray], float]:
    """The validation metric of ``category``: the scorer's balanced accuracy of the argmax answer.

    ``classes`` maps ``predict_proba`` columns to option indices (a class absent from train has no column).

    >>> f = selection_score("3-way explicit", [0, 1, 2])
    >>> f(np.array([0, 2]), np.array([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]))  # 1 -> "significant", like 0
    1.0
    """
    from ..scoring.metrics import balanced_accuracy

    cls = np.asarray(classes)

    def score(y: np.ndarray, proba: np.ndarray) -> float:
        pred = cls[np.argmax(proba, axis=1)].tolist()
        truth = [int(v) for v in y]
        if category == "3-way explicit":  # the scorer collapses 3-way answers the same way
            pred = [1 if p in (0, 1) else 0 for p in pred]
            truth = [1 if t in (0, 1) else 0 for t in truth]
        return balanced_accuracy(truth, pred)

    return score


@dataclass
class CategoryFit:
    """One category's model and how it was chosen."""

    category: str
    n_options: int
    classes: list[int]
    params: dict[str, Any]
    valid_score: float | None  # None: no validation question in this category, first grid point kept
    tried: list[tuple[dict[str, Any], float]]
    model: Any
    train_ids: frozenset[str]
    valid_ids: frozenset[str]
    train_labels: dict[int, int]
    valid_labels: dict[int, int]

    def summary(self) -> dict:
        return {
            "params": self.params,
            "valid_balanced_accuracy": self.valid_score,
            "tried": [[p, s] for p, s in self.tried],
            "n_train": len(self.train_ids),
            "n_valid": len(self.valid_ids),
            "train_labels": {str(k): v for k, v in sorted(self.train_labels.items())},
            "valid_labels": {str(k): v for k, v in sorted(self.valid_labels.items())},
        }


@dataclass
class Baseline:
    """A fitted baseline: the feature space (fitted on train) and one selected model per category."""

    model: str
    feature_set: str
    seed: int
    space: FeatureSpace
    fits: dict[str, CategoryFit]

    def predict(self, rows: Sequence[dict]) -> list[np.ndarray]:
        """One probability vector per row (length = its number of options), in row order."""
        out: list[np.ndarray | None] = [None] * len(rows)
        by_cat: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            by_cat.setdefault(r["category"], []).append(i)
        for cat, idx in by_cat.items():
            fit = self.fits.get(cat)
            if fit is None:
                raise ValueError(f"no {cat} model: the training split has no {cat} question")
            proba = models.predict_proba(self.model, fit.model, self.space.transform([rows[i] for i in idx]))
            for j, i in enumerate(idx):
                p = np.zeros(fit.n_options)
                p[fit.classes] = proba[j]
                if len(rows[i]["options"]) != fit.n_options:
                    raise ValueError(f"{rows[i]['question_id']}: {len(rows[i]['options'])} options in {cat}")
                out[i] = p
        return out  # type: ignore[return-value]

    def reason(self, category: str) -> str:
        f = self.fits[category]
        params = ", ".join(f"{k}={v}" for k, v in f.params.items())
        return (
            f"baseline-{self.model} ({NAMES[self.model]}; {params}) on '{self.feature_set}' features, trained on "
            f"{len(f.train_ids):,} bench-train {category} questions; correlational, no reasoning."
        )


def sample(rows: Sequence[dict], per_category: int) -> list[dict]:
    """At most ``per_category`` rows of each category: those whose sha256(question_id) sort first.

    A fixed sample that depends neither on row order nor on the seed (so a rerun trains on the same questions).

    >>> rows = [{"question_id": f"q{i}", "category": "2-way explicit"} for i in range(5)]
    >>> [r["question_id"] for r in sample(rows, 2)]
    ['q0', 'q4']
    """
    import hashlib

    if per_category < 1:
        raise ValueError(f"max_train must be >= 1, got {per_category}")
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    keep = set()
    for items in by_cat.values():
        items = sorted(items, key=lambda r: hashlib.sha256(r["question_id"].encode()).hexdigest())
        keep.update(r["question_id"] for r in items[:per_category])
    return [r for r in rows if r["question_id"] in keep]


def fit(
    model: str,
    train: Sequence[dict],
    valid: Sequence[dict],
    *,
    feature_set: str,
    seed: int = 0,
    view: str | None = None,
    embedder: Any = None,
    max_train: int | None = None,
    log: Callable[[str], None] | None = None,
) -> Baseline:
    """Fit the feature space on ``train``, then per category select on ``valid`` (see the module docstring).

    ``view``: the feature view (default :data:`~deepimagine_data.baselines.features.VIEW` of the model: sparse for
    lr, compact for rf and gbm, embedding for knn). ``max_train``: keep at most this many training questions per
    category (:func:`sample`) — for quick checks; reported figures use every question.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    if max_train is not None:
        train = sample(train, max_train)
    space = FeatureSpace(feature_set, view=view or VIEW[model], embedder=embedder).fit(train)
    x_train, x_valid = space.transform(train), space.transform(valid)
    fits = {}
    for cat, n_options in CATEGORY_OPTIONS.items():
        ti = [i for i, r in enumerate(train) if r["category"] == cat]
        vi = [i for i, r in enumerate(valid) if r["category"] == cat]
        if not ti:
            continue
        y_t = np.array([train[i]["answer_index"] for i in ti])
        y_v = np.array([valid[i]["answer_index"] for i in vi])
        classes = sorted(set(y_t.tolist()))
        if len(classes) < 2:
            raise ValueError(f"{cat}: every training question has answer {classes[0]}; nothing to learn")
        # train labels as given (option indices); predict_proba's columns follow ``classes``
        if vi:
            sel = select(model, x_train[ti], y_t, x_valid[vi], y_v, selection_score(cat, classes), seed)
            params, score, tried, fitted = sel.params, sel.score, sel.tried, sel.model
        else:
            params = next(p for p in grid(model) if models.spec(model).fits(p, len(ti)))
            fitted = models.fit(model, make(model, params, seed), x_train[ti], y_t)
            score, tried = None, []
        if hasattr(fitted, "n_jobs"):
            # rf sums its trees' probabilities in whichever order its threads finish, which changes the last bits;
            # predicting on one thread makes the written probabilities identical from run to run
            fitted.set_params(n_jobs=1)
        fits[cat] = CategoryFit(
            category=cat,
            n_options=n_options,
            classes=[int(c) for c in fitted.classes_],
            params=params,
            valid_score=score,
            tried=tried,
            model=fitted,
            train_ids=frozenset(train[i]["question_id"] for i in ti),
            valid_ids=frozenset(valid[i]["question_id"] for i in vi),
            train_labels=dict(Counter(y_t.tolist())),
            valid_labels=dict(Counter(y_v.tolist())),
        )
        if log:
            answers = dict(sorted(Counter(y_t.tolist()).items()))
            shown = "n/a" if score is None else f"{score:.4f}"
            log(
                f"  {cat:<15} trained on {len(ti):>5,} questions (answers {answers}), "
                f"selected on {len(vi):>4,}: {params} -> valid bal. acc {shown}"
            )
    return Baseline(model, feature_set, seed, space, fits)


def decision_output(probs: Sequence[float], reason: str) -> str:
    """CT Open's output shape: the decision line, a blank line, a short reason.

    >>> decision_output([0.25, 0.75], "baseline-lr")
    'DECISION: (0.25, 0.75)\\n\\nREASON: baseline-lr'
    """
    return "DECISION: (" + ", ".join(repr(float(p)) for p in probs) + ")\n\nREASON: " + reason


def write_submission(
    rows: Sequence[dict], probs: Sequence[np.ndarray], path: str | os.PathLike, baseline: Baseline
) -> Path:
    """One JSONL line per row, keyed ``(nct_id, outcome_measure, question_index)`` as the scorer keys questions."""
    from ..fsutil import atomic_write_bytes

    lines = []
    for r, p in zip(rows, probs, strict=True):
        nct, measure, index = r["key"]
        out = decision_output(p, baseline.reason(r["category"]))
        lines.append(json.dumps({"nct_id": nct, "outcome_measure": measure, "question_index": index, "output": out}))
    path = Path(path)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def training_cutoff(rows: Sequence[dict]) -> dt.date:
    """The latest results-first-posted date among the questions a baseline was fitted or selected on.

    Validation labels chose the hyperparameters, so they count: the cutoff is the last date of any label that
    shaped the predictions (2020-12-23 for the bench splits built here), not the end of the train split. Undated
    rows (curated per-arm sources carry no registry date; the split rule puts them in train) cannot move it.
    """
    dates = [r["posted"] for r in rows if r.get("posted") is not None]
    if not dates:
        raise ValueError("no results-first-posted date among the training rows")
    return max(dates)


@dataclass
class RunResult:
    model: str
    benchmark: str
    edition: str
    seed: int
    baseline: Baseline
    rows: list[dict]
    submission: Path
    figures_path: Path
    results: dict  # the scorer's results document
    document: dict  # everything written to figures_path
    counts: dict = field(default_factory=dict)


def default_name(benchmark: str, edition: str | None, model: str) -> str:
    """``<benchmark>-<edition>-<model>`` (the bench's edition is its ``test`` split).

    >>> default_name("ctopen", "winter2025", "rf"), default_name("bench", None, "lr")
    ('ctopen-winter2025-rf', 'bench-test-lr')
    """
    return f"{benchmark}-{edition or 'test'}-{model}"


def load_split_rows(
    benchmark: str, *, hub: str | os.PathLike = "hub", edition: str | None = None, source: Any = None
) -> tuple[list[dict], list[dict], list[dict], dict]:
    """(train, validation, evaluated rows, counts): bench train/validation and the rows to predict.

    For ``ctopen`` the bench rows of the edition's trials are dropped from train and validation (counted).
    """
    rows = bench_rows(hub, ("train", "validation", "test") if benchmark == "bench" else ("train", "validation"))
    train, valid = rows["train"], rows["validation"]
    counts: dict[str, Any] = {"bench_train": len(train), "bench_validation": len(valid)}
    if benchmark == "bench":
        target = rows["test"]
    elif benchmark == "ctopen":
        if edition is None:
            raise ValueError("ctopen needs an edition (winter2025 or summer2025)")
        target = ctopen_rows(edition, source)
        ids = {r["nct_id"] for r in target}
        before = (len(train), len(valid))
        train = [r for r in train if r["nct_id"] not in ids]
        valid = [r for r in valid if r["nct_id"] not in ids]
        counts["removed_ctopen_trials"] = {"train": before[0] - len(train), "validation": before[1] - len(valid)}
    else:
        raise ValueError(f"benchmark {benchmark!r}: bench or ctopen (top has its own runner)")
    counts["evaluated"] = len(target)
    counts["evaluated_by_category"] = dict(sorted(Counter(r["category"] for r in target).items()))
    return train, valid, target, counts


def run(
    model: str,
    benchmark: str,
    *,
    edition: str | None = None,
    source: Any = None,
    hub: str | os.PathLike = "hub",
    seed: int = 0,
    out: str | os.PathLike = DEFAULT_OUT,
    view: str | None = None,
    embedder: Any = None,
    max_train: int | None = None,
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Fit, select, predict, write ``<out>/<name>.jsonl`` and ``<out>/<name>.json`` and score the file.

    ``benchmark``: ``bench`` (hub's test split) or ``ctopen`` (``edition``, ``source`` as for
    :func:`deepimagine_data.ctopen.load_edition`; default ``$DEEPIMAGINE_CTOPEN_DIR``).
    """
    from .. import __version__
    from ..scoring.questions import load_questions
    from ..scoring.submission import score

    if benchmark == "ctopen" and source is None:
        source = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    t0, c0 = time.perf_counter(), time.process_time()
    train, valid, target, counts = load_split_rows(benchmark, hub=hub, edition=edition, source=source)
    if max_train is not None:
        train = sample(train, max_train)
    counts["train"], counts["validation"] = len(train), len(valid)
    t_load = time.perf_counter()
    if log:
        log(
            f"{NAMES[model]} on {benchmark} {edition or 'test'}: features '{FEATURE_SET[benchmark]}', "
            f"{len(train):,} train / {len(valid):,} validation questions -> {len(target):,} to predict"
        )
    # train is already sampled (max_train), so fit gets none
    baseline = fit(
        model, train, valid, feature_set=FEATURE_SET[benchmark], seed=seed, view=view, embedder=embedder, log=log
    )
    t_fit = time.perf_counter()
    probs = baseline.predict(target)
    t_pred = time.perf_counter()
    name = default_name(benchmark, edition if benchmark == "ctopen" else None, model)
    out = Path(out)
    submission = write_submission(target, probs, out / f"{name}.jsonl", baseline)
    if benchmark == "bench":
        questions = load_questions("deepimagine", None, bench_dir(hub), "test")
    else:
        questions = load_questions("ctopen", edition, source)
    report = score(questions, [submission])
    t_score = time.perf_counter()
    results = {k: v for k, v in report.results.items()}
    doc = {
        "model": model,
        "model_name": f"baseline-{model}",
        "benchmark": benchmark,
        "edition": edition if benchmark == "ctopen" else "test",
        "seed": seed,
        "package_version": __version__,
        "feature_set": baseline.feature_set,
        "view": baseline.space.view,
        "max_train": max_train,
        "n_features": len(baseline.space.feature_names()),
        "features": baseline.space.summary(),
        "training_cutoff": training_cutoff([*train, *valid]).isoformat(),
        "counts": counts,
        "selection": {cat: f.summary() for cat, f in baseline.fits.items()},
        "results": results,
        "submission": str(submission),
        "wall_s": {
            "load": round(t_load - t0, 2),
            "fit_select": round(t_fit - t_load, 2),
            "predict": round(t_pred - t_fit, 2),
            "score": round(t_score - t_pred, 2),
            "total": round(t_score - t0, 2),
            "cpu_total": round(time.process_time() - c0, 2),  # all threads of this process
        },
    }
    figures = out / f"{name}.json"
    from ..fsutil import atomic_write_bytes

    atomic_write_bytes(figures, (json.dumps(doc, indent=1, default=str) + "\n").encode("utf-8"))
    return RunResult(
        model, benchmark, doc["edition"], seed, baseline, list(target), submission, figures, results, doc, counts
    )


def bench_dir(hub: str | os.PathLike) -> Path:
    """The bench folder of a built hub root (``hub/deepimagine/bench``) or of its ``deepimagine`` folder."""
    p = Path(hub)
    return p / "deepimagine" / "bench" if (p / "deepimagine" / "bench").is_dir() else p / "bench"
