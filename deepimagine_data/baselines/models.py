"""The four baseline models, their hyperparameter grids, and selection on a validation split.

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

MODELS = ("lr", "rf", "gbm", "knn")
NAMES = {
    "lr": "logistic regression",
    "rf": "random forest",
    "gbm": "gradient boosting",
    "knn": "retrieval kNN",
}


def grid(name: str) -> list[dict[str, Any]]:
    """The hyperparameters tried for ``name`` (small on purpose: 2 cores, minutes per baseline)."""
    if name == "lr":
        return [{"C": c} for c in (0.1, 0.3, 1.0, 3.0)]
    if name == "rf":
        return [{"n_estimators": 300, "max_depth": d, "min_samples_leaf": m} for d in (None, 20) for m in (1, 3)]
    if name == "gbm":
        return [{"learning_rate": lr, "max_iter": 200, "max_leaf_nodes": n} for lr in (0.05, 0.1) for n in (15, 31)]
    if name == "knn":
        return [{"n_neighbors": k} for k in (5, 10, 25, 50)]
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")


def make(name: str, params: dict[str, Any], seed: int = 0):
    """An unfitted estimator. Sparse input is fine for lr, rf and knn; gbm densifies (HistGradientBoosting)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    if name == "lr":
        # class_weight balanced: the metrics are balanced accuracy and macro-F1, and labels are skewed
        return LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed, **params)
    if name == "rf":
        return RandomForestClassifier(class_weight="balanced", n_jobs=2, random_state=seed, **params)
    if name == "gbm":
        return HistGradientBoostingClassifier(class_weight="balanced", random_state=seed, **params)
    if name == "knn":
        return KNeighborsClassifier(metric="cosine", weights="distance", algorithm="brute", **params)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")


def threads(name: str):
    """One OpenMP thread for gbm: HistGradientBoosting's two threads on a 2-core machine with anything else running
    were measured 25-40x slower than one (42 s against 1.7 s for 20 iterations)."""
    from contextlib import nullcontext

    if name != "gbm":
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def fit(name: str, model, x, y):
    """Fit ``model`` (from :func:`make`) with the thread limit :func:`select` uses; densifies for gbm."""
    x = x.toarray() if name == "gbm" and hasattr(x, "toarray") else x
    with threads(name):
        return model.fit(x, np.asarray(y))


def predict_proba(name: str, model, x) -> np.ndarray:
    """``model.predict_proba(x)`` with the same densifying and thread limit as :func:`fit`; for knn, Laplace-smoothed.

    kNN's probabilities are smoothed with one pseudo-vote per class, ``(k p + 1) / (k + C)`` for ``k`` neighbours and
    ``C`` classes: scikit-learn gives exactly 0 to a class no neighbour has (8-19% of the bench and CT Open questions
    with distance weights), which makes cross-entropy infinite (clipped at the 1e-12 floor). The map is increasing in
    ``p``, so the argmax, and with it accuracy and F1, is unchanged.
    """
    x = x.toarray() if name == "gbm" and hasattr(x, "toarray") else x
    with threads(name):
        p = model.predict_proba(x)
    if name == "knn":
        k, c = model.n_neighbors, p.shape[1]
        p = (k * p + 1.0) / (k + c)
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
        if name == "knn" and params["n_neighbors"] > x_train.shape[0]:
            continue
        model = fit(name, make(name, params, seed), x_train, y_train)
        s = float(score(np.asarray(y_valid), predict_proba(name, model, x_valid)))
        tried.append((params, s))
        if best is None or s > best[1]:
            best = (params, s, model)
    if best is None:
        raise ValueError(f"{name}: no hyperparameter setting could be fitted ({x_train.shape[0]} training items)")
    return Selection(name, best[0], best[1], tried, best[2])
