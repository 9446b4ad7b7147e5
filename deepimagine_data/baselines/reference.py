"""Reference rows for every baseline table: chance and majority, per category, scored by the package's scorer.

- ``chance``: the uniform distribution over a question's options (every option 1/k). Its balanced accuracy is that
  of always choosing option 0 (the scorer's argmax takes the first on ties), its cross-entropy ln 2 or ln 3.
- ``majority``: per category, the answer shares of the bench ``train`` split, Laplace-smoothed ((n_k + 1) / (N + k)),
  as probabilities: the argmax is the majority answer of train, and the probabilities are the train prior, so
  cross-entropy and calibration mean something. The same train shares are used on CT Open (never CT Open's own
  answers, which are the evaluated ones).

A model that does not beat both rows on a category has learned nothing usable there. Example (bench test, one
2-way explicit question answered 1 and a train split answered 1 three times in four)::

    >>> from deepimagine_data.scoring.questions import Question
    >>> q = Question(("NCT1", "NCT1:O0", 0), ("met", "not met"), 1, "2-way explicit", "q")
    >>> answers = [1, 1, 1, 0]
    >>> train = [Question(("T", f"T:O{i}", 0), ("a", "b"), a, "2-way explicit", f"t{i}") for i, a in enumerate(answers)]
    >>> round(majority_probabilities(train)["2-way explicit"][1], 4)
    0.6667
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..scoring.metrics import BOOTSTRAP_RESAMPLES, Scored, evaluate_runs
from ..scoring.questions import Question

REFERENCE_MODELS = ("chance", "majority")


def majority_probabilities(train: Sequence[Question]) -> dict[str, tuple[float, ...]]:
    """category -> Laplace-smoothed answer shares of ``train`` (one probability per option)."""
    counts: dict[str, Counter] = {}
    n_opts: dict[str, int] = {}
    for q in train:
        counts.setdefault(q.category, Counter())[q.answer_index] += 1
        n_opts[q.category] = max(n_opts.get(q.category, 0), q.n_options)
    out = {}
    for cat, c in counts.items():
        k, total = n_opts[cat], sum(c.values())
        out[cat] = tuple((c.get(i, 0) + 1) / (total + k) for i in range(k))
    return out


def _probabilities(model: str, q: Question, prior: dict[str, tuple[float, ...]]) -> tuple[float, ...]:
    if model == "chance" or q.category not in prior or len(prior[q.category]) != q.n_options:
        return tuple(1.0 / q.n_options for _ in range(q.n_options))
    return prior[q.category]


def reference_results(questions: Sequence[Question], train: Sequence[Question]) -> dict[str, dict]:
    """model -> the scorer's results (per category and ``overall``) of ``chance`` and ``majority``."""
    prior = majority_probabilities(train)
    out = {}
    for model in REFERENCE_MODELS:
        run = [Scored(q.category, q.answer_index, _probabilities(model, q, prior), cluster=q.trial) for q in questions]
        out[model] = evaluate_runs([run], bootstrap=BOOTSTRAP_RESAMPLES)
    return out


def reference_rows(benchmark: str, edition: str | None, questions: Sequence[Question], train: Sequence[Question]):
    """Rows in the shape ``baseline report`` prints (``benchmark``, ``edition``, ``model``, ``results``)."""
    return [
        {"benchmark": benchmark, "edition": edition or "-", "model": model, "results": results, "reference": True}
        for model, results in reference_results(questions, train).items()
    ]
