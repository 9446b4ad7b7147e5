"""CT Open's metrics, exactly, plus calibration.

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
- a category is averaged over the runs in which it has questions; ``overall`` is the plain mean over the categories
  that have any.

Added here (not in CT Open): ``brier`` (mean over questions of the squared error of the probability vector against
the one-hot truth, all options) and ``ece`` (expected calibration error of the top-option confidence, 10 equal-width
bins), with the reliability table behind it; both averaged over runs and categories like the others.

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
ECE_BINS = 10


@dataclass(frozen=True)
class Scored:
    """One answered question of one run: its category, the true option, the probabilities (normalized)."""

    category: str
    answer: int
    probabilities: tuple[float, ...]
    readable: bool = True

    @property
    def predicted(self) -> int:
        return int(np.argmax(np.asarray(self.probabilities)))

    @property
    def p_true(self) -> float:
        return float(self.probabilities[self.answer])


def unreadable_prediction(category: str, answer: int, n_options: int) -> Scored:
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
    return Scored(category, answer, tuple(float(x) for x in probs), readable=False)


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


def evaluate_runs(runs: Sequence[Sequence[Scored]]) -> dict:
    """CT Open's aggregation: per run and category, then the mean over runs, then the mean over categories.

    Returns ``{category: {metric: value, "questions": n, "unreadable": n}, ..., "overall": {metric: value}}`` for
    the categories that have questions.
    """
    if not runs:
        raise ValueError("no runs to score")
    per_cat: dict[str, list[dict]] = {c: [] for c in CATEGORIES}
    counts: dict[str, list[tuple[int, int]]] = {c: [] for c in CATEGORIES}
    for run in runs:
        by: dict[str, list[Scored]] = {c: [] for c in CATEGORIES}
        for x in run:
            if x.category not in by:
                raise ValueError(f"unknown category {x.category!r}; expected one of {', '.join(CATEGORIES)}")
            by[x.category].append(x)
        for c, items in by.items():
            if items:
                per_cat[c].append(category_metrics(c, items))
                counts[c].append((len(items), sum(not x.readable for x in items)))
    out: dict[str, dict] = {}
    for c in CATEGORIES:
        if not per_cat[c]:
            continue
        out[c] = {m: float(np.mean([r[m] for r in per_cat[c]])) for m in METRICS}
        out[c]["questions"] = counts[c][0][0]
        out[c]["unreadable"] = sum(u for _, u in counts[c])
    valid = [c for c in CATEGORIES if c in out]
    out["overall"] = {m: float(np.mean([out[c][m] for c in valid])) for m in METRICS}
    out["overall"]["questions"] = sum(out[c]["questions"] for c in valid)
    out["overall"]["unreadable"] = sum(out[c]["unreadable"] for c in valid)
    return out
