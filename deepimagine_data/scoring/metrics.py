"""CT Open's metrics, exactly, plus calibration, and trial-clustered bootstrap intervals for every figure.

CT Open (ClinicalTrial-OpenChallenge/CT_Open, ``evaluations/evaluation.py``, ``evaluate_multiple_runs`` at commit
f36b643) scores each run per category, then averages over runs, then over categories:

- categories: ``2-way implicit`` (CT Open's "Endpoint"), ``2-way explicit`` ("Superiority"), ``3-way explicit``
  ("ComparativeEffect"); a question's category comes from its number of options and its record's ``meta_label``;
- predicted class: argmax of the normalized probabilities (the first on ties);
- ``balanced_accuracy`` ("Weighted_Accuracy"): the mean recall over the true classes present; for 3-way questions
  after collapsing options 0 and 1 (a significant difference either way) to 1 and option 2 (none) to 0;
- ``macro_f1``: scikit-learn's ``f1_score(average="macro", zero_division=0)`` over the labels present in truth or
  prediction, on the collapsed labels for 3-way;
- ``cross_entropy``: the mean of ``-log(max(p_true, 1e-12))`` over questions (3-way not collapsed);
- a category is averaged over the runs in which it has questions; CT Open's ``overall`` is the plain mean over the
  categories that have any.

Added here (not in CT Open): ``brier`` (mean over questions of the squared error of the probability vector against
the one-hot truth, all options) and ``ece`` (expected calibration error of the top-option confidence, 10 equal-width
bins), with the reliability table behind it; both averaged over runs and categories like the others.

**Overall** is the plain (unweighted) mean of the categories that hold at least :data:`MIN_CATEGORY_QUESTIONS` (30)
questions; a smaller category is still reported, with its questions, trials and interval, but left out of overall,
because a handful of questions would otherwise weigh a third of the score. When no category reaches the minimum (a
partial run, lm-eval's ``--limit``) overall is the plain mean of every category present. CT Open's own editions keep
CT Open's figure: their smallest category holds 55 (Winter 2025) and 49 (Summer 2025) questions, so overall is CT
Open's plain mean of all three there (the golden test checks it); ``min_category=0`` gives CT Open's plain mean on
any question set. ``results["overall"]["categories"]`` names the categories it is made of, :func:`describe_overall`
says it in words.

**Intervals** (``<metric>_ci95: [low, high]`` beside every metric of every category and of overall): a 95%
percentile interval from a trial-clustered bootstrap, :data:`BOOTSTRAP_RESAMPLES` (1000) resamples drawn with
``numpy.random.default_rng(BOOTSTRAP_SEED)`` (seed 0), so the same predictions always give the same interval.

- The unit resampled is the trial (:attr:`Scored.cluster`, the question's ``nct_id``): one replicate draws as many
  trials as there are, with replacement, out of every trial of the question set, and every question of a drawn trial
  comes along, in every category, as often as its trial was drawn. Questions of one trial are not independent (one
  bench trial gives 54 of its questions), so resampling questions would make the intervals too narrow.
- Trials are drawn once per replicate for the whole set, not per category: a trial with questions in two categories
  moves with both, so overall's interval keeps the correlation between its categories. Each category is then scored
  on its questions of the replicate, each run on the same drawn trials, averaged over runs as the point estimate is,
  and overall is recomputed from the replicate's categories (the categories the point estimate is made of).
- A replicate that draws no trial of a category leaves that category out of that replicate (and overall too, when
  the category is one of overall's); ``ci95_resamples`` counts the replicates behind each interval.
- A question without a trial id (``cluster=None``) is its own cluster, matched across runs by its position in the run.
- Balanced accuracy and macro-F1 on a replicate come from weighted confusion counts (a drawn trial's multiplicity
  is its questions' weight), the other metrics from weighted means, all with numpy over every replicate at once:
  1000 resamples of a thousand questions take well under a second. With weights all 1 they equal the point figures.
- The interval is the 2.5th and 97.5th percentiles of the replicates (numpy's linear interpolation). For ECE, which
  is biased upwards on small samples, the percentile interval of a well-calibrated model can sit above its point
  estimate; it is reported as it is.

Unreadable decisions never crash the scorer: :func:`unreadable_prediction` makes them wrong in every metric, and the
results count them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .decision import CLIP

CATEGORIES = ("2-way implicit", "2-way explicit", "3-way explicit")
METRICS = ("balanced_accuracy", "macro_f1", "cross_entropy", "brier", "ece")
# how a table head names each metric (the scorer's table, the leaderboard's page and Markdown)
METRIC_LABELS = {
    "balanced_accuracy": "bal. acc",
    "macro_f1": "macro F1",
    "cross_entropy": "x-entropy",
    "brier": "Brier",
    "ece": "ECE",
}
ECE_BINS = 10

BOOTSTRAP_RESAMPLES = 1000  # replicates of the trial-clustered bootstrap (``deepimagine score --bootstrap N``)
BOOTSTRAP_SEED = 0  # numpy.random.default_rng seed of the replicates (``deepimagine score --seed``)
CI_LEVEL = 0.95  # the intervals are the 2.5th and 97.5th percentiles of the replicates
MIN_CATEGORY_QUESTIONS = 30  # a category with fewer questions is reported but left out of overall


@dataclass(frozen=True)
class Scored:
    """One answered question of one run: its category, the true option, the probabilities (normalized), and the
    trial it comes from (``cluster``: the ``nct_id``; ``None``: the question is its own cluster in the bootstrap)."""

    category: str
    answer: int
    probabilities: tuple[float, ...]
    readable: bool = True
    cluster: str | None = None

    @property
    def predicted(self) -> int:
        return int(np.argmax(np.asarray(self.probabilities)))

    @property
    def p_true(self) -> float:
        return float(self.probabilities[self.answer])


def unreadable_prediction(category: str, answer: int, n_options: int, cluster: str | None = None) -> Scored:
    """A question whose output has no readable decision: the wrong option with probability 1.

    Wrong in the collapsed 3-way sense too (a "significant either way" truth gets "no difference", and the reverse),
    and the true option gets CT Open's floor 1e-12 in cross-entropy.
    """
    if n_options == 3:
        wrong = 2 if answer in (0, 1) else 0
    else:
        wrong = (answer + 1) % n_options
    probs = np.full(n_options, CLIP)
    probs[wrong] = 1.0
    probs = probs / probs.sum()
    return Scored(category, answer, tuple(float(x) for x in probs), readable=False, cluster=cluster)


def _collapse(labels: Iterable[int]) -> list[int]:
    return [1 if x in (0, 1) else 0 for x in labels]


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """scikit-learn's ``f1_score(y_true, y_pred, average="macro", zero_division=0)``.

    >>> macro_f1([0, 0, 1, 1], [0, 1, 1, 1])
    0.7333333333333334
    """
    labels = sorted(set(y_true) | set(y_pred))
    if not labels:
        return 0.0
    t, p = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for lab in labels:
        tp = float(np.sum((t == lab) & (p == lab)))
        fp = float(np.sum((t != lab) & (p == lab)))
        fn = float(np.sum((t == lab) & (p != lab)))
        denom = 2 * tp + fp + fn
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def balanced_accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Mean recall over the classes present in ``y_true`` (CT Open's "Weighted_Accuracy")."""
    accs = []
    for cls in sorted(set(y_true)):
        idx = [i for i, v in enumerate(y_true) if v == cls]
        accs.append(sum(y_pred[i] == cls for i in idx) / len(idx))
    return float(np.mean(accs)) if accs else 0.0


def reliability(items: Sequence[Scored], bins: int = ECE_BINS) -> list[dict]:
    """Per confidence bin: count, mean confidence (top probability), accuracy of the top option."""
    out = []
    conf = np.array([max(x.probabilities) for x in items])
    correct = np.array([x.predicted == x.answer for x in items], dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for b in range(bins):
        lo, hi = edges[b], edges[b + 1]
        mask = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        n = int(mask.sum())
        out.append(
            {
                "bin": b,
                "lower": float(lo),
                "upper": float(hi),
                "count": n,
                "confidence": float(conf[mask].mean()) if n else None,
                "accuracy": float(correct[mask].mean()) if n else None,
            }
        )
    return out


def ece(items: Sequence[Scored], bins: int = ECE_BINS) -> float:
    n = len(items)
    return float(
        sum(r["count"] / n * abs(r["accuracy"] - r["confidence"]) for r in reliability(items, bins) if r["count"])
    )


def brier(items: Sequence[Scored]) -> float:
    total = 0.0
    for x in items:
        p = np.asarray(x.probabilities)
        y = np.zeros_like(p)
        y[x.answer] = 1.0
        total += float(np.sum((p - y) ** 2))
    return total / len(items)


def category_metrics(category: str, items: Sequence[Scored]) -> dict:
    """The metrics of one category in one run (``items`` non-empty)."""
    y_t = [x.answer for x in items]
    y_p = [x.predicted for x in items]
    if category == "3-way explicit":
        y_t, y_p = _collapse(y_t), _collapse(y_p)
    return {
        "balanced_accuracy": balanced_accuracy(y_t, y_p),
        "macro_f1": macro_f1(y_t, y_p),
        "cross_entropy": float(np.mean([-np.log(max(x.p_true, CLIP)) for x in items])),
        "brier": brier(items),
        "ece": ece(items),
    }


def _by_category(run: Sequence[Scored]) -> dict[str, list[Scored]]:
    by: dict[str, list[Scored]] = {c: [] for c in CATEGORIES}
    for x in run:
        if x.category not in by:
            raise ValueError(f"unknown category {x.category!r}; expected one of {', '.join(CATEGORIES)}")
        by[x.category].append(x)
    return by


def cluster_keys(run: Sequence[Scored]) -> list[str]:
    """Each item's bootstrap cluster: its trial, or for an item without one ``"#question <position in the run>"``
    (its own cluster, the same one in every run at the same position)."""
    return [x.cluster if x.cluster is not None else f"#question {i}" for i, x in enumerate(run)]


def overall_categories(results: dict, min_category: int = MIN_CATEGORY_QUESTIONS) -> list[str]:
    """The categories overall is the mean of: those with ``>= min_category`` questions, else every one present."""
    present = [c for c in CATEGORIES if c in results]
    big = [c for c in present if results[c]["questions"] >= min_category]
    return big or present


def describe_overall(results: dict, min_category: int = MIN_CATEGORY_QUESTIONS) -> str:
    """How ``overall`` is made, in words (printed under the table, ``meta.overall`` of the JSON document).

    >>> describe_overall({"2-way explicit": {"questions": 295}, "3-way explicit": {"questions": 24},
    ...                   "overall": {"categories": ["2-way explicit"]}})
    'plain mean of the categories with >= 30 questions: 2-way explicit; left out: 3-way explicit (24 questions)'
    """
    made = results["overall"].get("categories") or overall_categories(results, min_category)
    left = [c for c in CATEGORIES if c in results and c not in made]
    if not any(results[c]["questions"] >= min_category for c in made):
        return f"plain mean of every category (none has >= {min_category} questions): {', '.join(made)}"
    text = f"plain mean of the categories with >= {min_category} questions: {', '.join(made)}"
    if left:
        text += "; left out: " + ", ".join(f"{c} ({results[c]['questions']:,} questions)" for c in left)
    return text


def evaluate_runs(
    runs: Sequence[Sequence[Scored]],
    *,
    bootstrap: int = 0,
    seed: int = BOOTSTRAP_SEED,
    min_category: int = MIN_CATEGORY_QUESTIONS,
) -> dict:
    """CT Open's aggregation: per run and category, then the mean over runs, then the mean over categories.

    Returns ``{category: {metric: value, "questions": n, "trials": n, "unreadable": n}, ..., "overall": {metric:
    value, ..., "categories": [...]}}`` for the categories that have questions; overall is the mean over
    :func:`overall_categories` (see the module docstring), and its questions, trials and unreadable count those
    categories. ``trials`` is the number of distinct clusters (:func:`cluster_keys`). With ``bootstrap`` > 0 every
    metric gets a sibling ``<metric>_ci95: [low, high]`` (``None`` if no replicate holds the category) and each
    entry ``ci95_resamples``, from :func:`bootstrap_replicates` with that many resamples and ``seed``.
    """
    if not runs:
        raise ValueError("no runs to score")
    per_cat: dict[str, list[dict]] = {c: [] for c in CATEGORIES}
    counts: dict[str, list[tuple[int, int]]] = {c: [] for c in CATEGORIES}
    trials: dict[str, list[set[str]]] = {c: [] for c in CATEGORIES}
    for run in runs:
        by = _by_category(run)
        keys = cluster_keys(run)
        for c, items in by.items():
            if items:
                per_cat[c].append(category_metrics(c, items))
                counts[c].append((len(items), sum(not x.readable for x in items)))
                trials[c].append({k for k, x in zip(keys, run, strict=True) if x.category == c})
    out: dict[str, dict] = {}
    for c in CATEGORIES:
        if not per_cat[c]:
            continue
        out[c] = {m: float(np.mean([r[m] for r in per_cat[c]])) for m in METRICS}
        out[c]["questions"] = counts[c][0][0]
        out[c]["trials"] = len(trials[c][0])  # like questions: the first run that has the category
        out[c]["unreadable"] = sum(u for _, u in counts[c])
    valid = overall_categories(out, min_category)
    out["overall"] = {m: float(np.mean([out[c][m] for c in valid])) for m in METRICS}
    out["overall"]["questions"] = sum(out[c]["questions"] for c in valid)
    out["overall"]["trials"] = len(set().union(*(trials[c][0] for c in valid)))
    out["overall"]["unreadable"] = sum(out[c]["unreadable"] for c in valid)
    out["overall"]["categories"] = valid
    if bootstrap > 0:
        reps = bootstrap_replicates(runs, bootstrap, seed, valid)
        for name, by_metric in reps.items():
            for m in METRICS:
                out[name][f"{m}_ci95"] = percentile_interval(by_metric[m])
            out[name]["ci95_resamples"] = int(np.isfinite(by_metric[METRICS[0]]).sum())
    return out


def percentile_interval(values: np.ndarray, level: float = CI_LEVEL) -> list[float] | None:
    """The central ``level`` percentile interval of the finite replicates; ``None`` when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    lo, hi = np.percentile(v, [50 * (1 - level), 50 * (1 + level)])
    return [float(lo), float(hi)]


@dataclass(frozen=True)
class _Block:
    """One category of one run as arrays: what the weighted metrics of a replicate need, per question."""

    cluster: np.ndarray  # index of the question's trial among all trials
    truth: np.ndarray  # labels as balanced accuracy and macro-F1 see them (3-way collapsed)
    pred: np.ndarray
    labels: int
    nll: np.ndarray  # -log(max(p_true, 1e-12))
    sq: np.ndarray  # squared error of the probability vector
    bin_gap: np.ndarray  # (questions, ECE bins): accuracy minus confidence in the question's bin, 0 elsewhere


def _block(category: str, items: Sequence[Scored], cluster: np.ndarray) -> _Block:
    y_t = [x.answer for x in items]
    y_p = [x.predicted for x in items]
    if category == "3-way explicit":
        y_t, y_p = _collapse(y_t), _collapse(y_p)
    truth, pred = np.asarray(y_t, dtype=int), np.asarray(y_p, dtype=int)
    nll = np.array([-np.log(max(x.p_true, CLIP)) for x in items])
    sq = np.empty(len(items))
    for i, x in enumerate(items):
        p = np.asarray(x.probabilities)
        y = np.zeros_like(p)
        y[x.answer] = 1.0
        sq[i] = float(np.sum((p - y) ** 2))
    # the bins of reliability(): [0, 0.1], (0.1, 0.2], ..., (0.9, 1]
    conf = np.array([max(x.probabilities) for x in items])
    correct = np.array([x.predicted == x.answer for x in items], dtype=float)
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    bin_gap = np.zeros((len(items), ECE_BINS))
    for b in range(ECE_BINS):
        lo, hi = edges[b], edges[b + 1]
        mask = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        bin_gap[mask, b] = correct[mask] - conf[mask]
    labels = int(max(truth.max(), pred.max())) + 1
    return _Block(cluster, truth, pred, labels, nll, sq, bin_gap)


def weighted_metrics(block: _Block, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of one category of one run on each replicate: ``weights`` is (replicates, trials), how often
    each trial is drawn. NaN where a replicate holds none of the category's questions."""
    w = weights[:, block.cluster].astype(float)  # (replicates, questions)
    total = w.sum(axis=1)
    empty = total == 0
    denom = np.where(empty, 1.0, total)
    recall_sum = np.zeros(len(w))
    recall_n = np.zeros(len(w))
    f1_sum = np.zeros(len(w))
    f1_n = np.zeros(len(w))
    for k in range(block.labels):
        is_t, is_p = block.truth == k, block.pred == k
        tp = w @ (is_t & is_p).astype(float)
        support = w @ is_t.astype(float)
        predicted = w @ is_p.astype(float)
        has_t = support > 0
        recall_sum += np.where(has_t, tp / np.where(has_t, support, 1.0), 0.0)
        recall_n += has_t
        present = (support + predicted) > 0  # in truth or prediction: 2tp + fp + fn = support + predicted
        f1_sum += np.where(present, 2 * tp / np.where(present, support + predicted, 1.0), 0.0)
        f1_n += present
    out = {
        "balanced_accuracy": np.where(recall_n > 0, recall_sum / np.maximum(recall_n, 1), 0.0),
        "macro_f1": np.where(f1_n > 0, f1_sum / np.maximum(f1_n, 1), 0.0),
        "cross_entropy": (w @ block.nll) / denom,
        "brier": (w @ block.sq) / denom,
        "ece": np.abs(w @ block.bin_gap).sum(axis=1) / denom,
    }
    return {m: np.where(empty, np.nan, v) for m, v in out.items()}


def resample_weights(n_trials: int, resamples: int, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, trials): how often each trial is drawn when ``n_trials`` are drawn with replacement."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_trials, size=(resamples, n_trials))
    offsets = (np.arange(resamples) * n_trials)[:, None]
    return np.bincount((draws + offsets).ravel(), minlength=resamples * n_trials).reshape(resamples, n_trials)


def bootstrap_replicates(
    runs: Sequence[Sequence[Scored]],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    overall: Sequence[str] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """The trial-clustered bootstrap replicates of every metric: ``{category or "overall": {metric: (resamples,)}}``.

    One draw of trials per replicate, shared by every category and run (see the module docstring); a category is
    averaged over the runs that have questions of it in the replicate, overall over the ``overall`` categories (by
    default :func:`overall_categories` of the point figures). NaN marks a replicate without the category.
    """
    keys = [cluster_keys(run) for run in runs]
    trials = sorted(set().union(*keys))
    index = {t: i for i, t in enumerate(trials)}
    weights = resample_weights(len(trials), resamples, seed)
    per_cat: dict[str, list[dict[str, np.ndarray]]] = {c: [] for c in CATEGORIES}
    for run, run_keys in zip(runs, keys, strict=True):
        by: dict[str, tuple[list[Scored], list[int]]] = {c: ([], []) for c in CATEGORIES}
        for x, k in zip(run, run_keys, strict=True):
            if x.category not in by:
                raise ValueError(f"unknown category {x.category!r}; expected one of {', '.join(CATEGORIES)}")
            by[x.category][0].append(x)
            by[x.category][1].append(index[k])
        for c, (items, idx) in by.items():
            if items:
                per_cat[c].append(weighted_metrics(_block(c, items, np.asarray(idx)), weights))
    out: dict[str, dict[str, np.ndarray]] = {}
    for c, per_run in per_cat.items():
        if per_run:
            out[c] = {m: _mean_present(np.stack([r[m] for r in per_run])) for m in METRICS}
    if overall is None:  # the point figures' rule: a category's size is its questions in the first run holding it
        sizes: dict[str, dict] = {}
        for c in out:
            n = next(n for n in (sum(x.category == c for x in run) for run in runs) if n)
            sizes[c] = {"questions": n}
        overall = overall_categories(sizes)
    out["overall"] = {m: np.mean(np.stack([out[c][m] for c in overall]), axis=0) for m in METRICS}
    return out


def _mean_present(values: np.ndarray) -> np.ndarray:
    """Column means over the finite rows (the runs holding the category in that replicate); NaN where none does."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)
