"""The package from Python: the questions of a benchmark, a score for your model's answers, the pairs to train on.

The whole loop, for any model that maps a prompt to text ending in a ``DECISION: (p1, p2[, p3])`` line::

    import deepimagine_data as di

    qs = di.questions("ctopen", edition="winter2025", source="CT_Open/datasets")
    answers = [{**q, "output": my_model(q["prompt"])} for q in qs]
    print(di.score(answers, "ctopen", edition="winter2025", source="CT_Open/datasets")["overall"])
    pairs = di.load_pairs("strict_arm", hub_dir="hub")  # what `deepimagine build --out hub` wrote

Each function is the command of the same name (``deepimagine questions``, ``deepimagine score``) without files in
between; the same keys, the same checks, the same figures.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path


def _source(benchmark: str, source: str | os.PathLike | None) -> str | os.PathLike | None:
    if source is None and benchmark == "ctopen":
        return os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    return source


def questions(benchmark: str, edition: str | None = None, source: str | os.PathLike | None = None) -> list[dict]:
    """Every test question of ``benchmark`` (``"ctopen"`` with an ``edition``, or ``"deepimagine"``) as a dict: its
    key (``question_id``, ``nct_id``, ``outcome_measure``, ``question_index``), ``category``, ``options`` and
    ``prompt``; never the answer. ``source``: CT Open's pickles (folder, file or URL; default
    ``$DEEPIMAGINE_CTOPEN_DIR``, the cache, the pinned commit), or a built bench folder / hub root (default: built in
    memory from the embedded data, about a minute)."""
    from .scoring.questions import question_records

    return question_records(benchmark, edition, _source(benchmark, source))


def score(
    predictions: Iterable[dict] | str | os.PathLike | Sequence[Iterable[dict] | str | os.PathLike],
    benchmark: str,
    edition: str | None = None,
    source: str | os.PathLike | None = None,
    *,
    partial: bool = False,
    bootstrap: int | None = None,
    seed: int | None = None,
    min_category: int | None = None,
) -> dict:
    """Score one run (records with an ``output`` each, as :func:`questions` gives them plus the model's text, or a
    predictions file) or several (a list of runs), exactly as ``deepimagine score --json`` does; returns that
    document: per category and ``overall`` the metrics with ``<metric>_ci95`` intervals, and ``meta``. ``bootstrap``,
    ``seed`` and ``min_category`` default to the command's defaults."""
    from .scoring import metrics
    from .scoring.cli import results_document
    from .scoring.questions import load_questions
    from .scoring.submission import Predictions, predictions_from_records
    from .scoring.submission import score as score_runs

    def run(x, i: int) -> Predictions | str | os.PathLike:
        return x if isinstance(x, (str, os.PathLike)) else predictions_from_records(x, f"predictions[{i}]")

    if isinstance(predictions, (str, os.PathLike)):
        runs = [predictions]
    else:
        items = list(predictions)
        runs = [items] if items and isinstance(items[0], dict) else items  # one run of records, or several runs
    if not runs:
        raise ValueError("no predictions: give records with an 'output' each, a predictions file, or a list of runs")
    runs = [run(x, i) for i, x in enumerate(runs)]
    qs = load_questions(benchmark, edition, _source(benchmark, source))
    report = score_runs(
        qs,
        runs,
        partial=partial,
        bootstrap=metrics.BOOTSTRAP_RESAMPLES if bootstrap is None else bootstrap,
        seed=metrics.BOOTSTRAP_SEED if seed is None else seed,
        min_category=metrics.MIN_CATEGORY_QUESTIONS if min_category is None else min_category,
    )
    names = [r.source if isinstance(r, Predictions) else str(r) for r in runs]
    return results_document(report, benchmark, edition, names)


def load_pairs(
    config: str = "strict_arm",
    split: str | None = None,
    *,
    hub_dir: str | os.PathLike | None = "hub",
    dataset: str = "deepimagine/pairs",
    revision: str | None = None,
):
    """A config of the pairs as a ``datasets.DatasetDict`` (or one split's ``Dataset``), from any directory:
    ``<hub_dir>/deepimagine/pairs`` where ``deepimagine build --out <hub_dir>`` wrote it, else the folder or hub repo
    ``dataset`` names (at ``revision``, checked against the card's version)."""
    from datasets import DatasetDict

    from .train.data import load_split, resolve_source

    src = resolve_source(dataset, Path(hub_dir).expanduser() if hub_dir is not None else None, revision)
    if split is not None:
        return load_split(src, config, split)
    splits = src.splits.get(config) or ["train", "validation", "test"]
    return DatasetDict({s: load_split(src, config, s) for s in splits})
