"""Fitting, predicting and selection on a validation split for the baseline models of :mod:`.registry`.

Every model is a scikit-learn estimator with ``predict_proba``; seeds are fixed, so a rerun gives the same figures.
``knn`` is the retrieval baseline: the distance-weighted label of the nearest training items by cosine similarity
of their features (sentence embeddings when the caller gives them), Laplace-smoothed (one pseudo-vote per class), so
that a unanimous neighbourhood gives a confident probability, never exactly 0 or 1 (see :func:`predict_proba`).

>>> [len(grid(m)) for m in MODELS]
[4, 4, 4, 4]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .registry import REGISTRY, spec

MODELS = tuple(REGISTRY)
NAMES = {name: s.title for name, s in REGISTRY.items()}


def grid(name: str) -> list[dict[str, Any]]:
    """The hyperparameters tried for ``name`` (the spec's ``grid``; small on purpose: 2 cores, minutes a run)."""
    return [dict(p) for p in spec(name).grid]


def make(name: str, params: dict[str, Any], seed: int = 0):
    """An unfitted estimator (the spec's ``build``). Sparse input is fine for every model but those whose spec says
    ``dense`` (gbm: HistGradientBoosting), which :func:`fit` and :func:`predict_proba` densify for."""
    return spec(name).build(params, seed)


def threads(name: str):
    """The OpenMP thread limit of ``name``'s spec as a context (gbm: one thread; others: none)."""
    from contextlib import nullcontext

    limit = spec(name).threads
    if limit is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit, user_api="openmp")


def _dense(name: str, x):
    return x.toarray() if spec(name).dense and hasattr(x, "toarray") else x


def fit(name: str, model, x, y):
    """Fit ``model`` (from :func:`make`) with the thread limit :func:`select` uses; densifies where the spec says."""
    x = _dense(name, x)
    with threads(name):
        return model.fit(x, np.asarray(y))


def predict_proba(name: str, model, x) -> np.ndarray:
    """``model.predict_proba(x)`` with the same densifying and thread limit as :func:`fit`, then the spec's
    ``calibrate`` map: for knn one pseudo-vote per class, ``(k p + 1) / (k + C)`` for ``k`` neighbours and ``C``
    classes (why: :func:`deepimagine_data.baselines.registry._laplace`)."""
    x = _dense(name, x)
    s = spec(name)
    with threads(name):
        p = model.predict_proba(x)
    if s.calibrate is not None:
        p = s.calibrate(model, p)
    return p


@dataclass
class Selection:
    name: str
    params: dict[str, Any]
    score: float
    tried: list[tuple[dict[str, Any], float]]
    model: Any  # fitted on the training split with the chosen params


def select(
    name: str,
    x_train,
    y_train: Sequence[int],
    x_valid,
    y_valid: Sequence[int],
    score: Callable[[np.ndarray, np.ndarray], float],
    seed: int = 0,
) -> Selection:
    """Fit every grid point on train, score ``score(y_valid, proba_valid)`` on validation (higher is better), keep
    the best (ties: the first in grid order). The validation split is never trained on."""
    tried = []
    best = None
    for params in grid(name):
        if not spec(name).fits(params, x_train.shape[0]):
            continue
        model = fit(name, make(name, params, seed), x_train, y_train)
        s = float(score(np.asarray(y_valid), predict_proba(name, model, x_valid)))
        tried.append((params, s))
        if best is None or s > best[1]:
            best = (params, s, model)
    if best is None:
        raise ValueError(f"{name}: no hyperparameter setting could be fitted ({x_train.shape[0]} training items)")
    return Selection(name, best[0], best[1], tried, best[2])
