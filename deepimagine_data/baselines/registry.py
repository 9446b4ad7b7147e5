"""The baseline models, one :class:`ModelSpec` each in :data:`REGISTRY`: adding a baseline is one entry here and its
test (``tests/test_baseline_registry.py`` runs every entry).

A spec holds everything the rest of the package switches on: the name the CLI, the file names and the leaderboard use
(``baseline-<name>``), the grid :func:`~deepimagine_data.baselines.models.select` tries, the constructor, the bench
feature view (:data:`~deepimagine_data.baselines.features.VIEWS`), the TOP feature caps, and how to fit and predict
(densify, an OpenMP thread limit, a map applied to the probabilities). Nothing else names a model.

>>> [(s.name, s.view, len(s.grid)) for s in REGISTRY.values()]
[('lr', 'sparse', 4), ('rf', 'compact', 4), ('gbm', 'compact', 4), ('knn', 'embedding', 4)]
>>> spec("gbm").threads, spec("gbm").dense, spec("knn").fits({"n_neighbors": 25}, 20)
(1, True, False)

Why one place: the models used to live in if-chains across ``models.py``, ``features.py`` and ``top.py``, so a new
model had to be added to each, and a missed branch fell through to another model's behaviour silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def _any_size(params: Mapping[str, Any], n_train: int) -> bool:
    return True


@dataclass(frozen=True)
class ModelSpec:
    """One baseline model.

    - ``name``: the short name (CLI ``--model``, ``baseline-<name>``, file names); ``title``: how tables print it.
    - ``grid``: the hyperparameters tried, in order (ties go to the first); small on purpose (2 cores, minutes a run).
    - ``build(params, seed)``: an unfitted estimator with ``predict_proba`` (scikit-learn imported inside, since it is
      the optional ``[baselines]`` extra).
    - ``view``: the bench feature view (``"sparse"``, ``"compact"`` or ``"embedding"``, see
      :class:`~deepimagine_data.baselines.features.FeatureSpace`). On TOP, ``"embedding"`` means sentence embeddings
      only (:class:`~deepimagine_data.baselines.top.EmbeddingFeatures`); any other view gets
      :class:`~deepimagine_data.baselines.top.TopFeatures` with ``top_max_features`` (None: its defaults).
    - ``dense``: densify sparse input before fitting and predicting.
    - ``threads``: an OpenMP thread limit while fitting and predicting (None: no limit).
    - ``fits(params, n_train)``: whether a grid point can be fitted on ``n_train`` items (kNN needs k of them).
    - ``calibrate(model, proba)``: a map applied to ``predict_proba``'s output (None: none).
    """

    name: str
    title: str
    grid: tuple[Mapping[str, Any], ...]
    build: Callable[[Mapping[str, Any], int], Any]
    view: str
    top_max_features: Mapping[str, int] | None = None
    dense: bool = False
    threads: int | None = None
    fits: Callable[[Mapping[str, Any], int], bool] = _any_size
    calibrate: Callable[[Any, np.ndarray], np.ndarray] | None = None


def _lr(params: Mapping[str, Any], seed: int):
    from sklearn.linear_model import LogisticRegression

    # class_weight balanced: the metrics are balanced accuracy and macro-F1, and labels are skewed
    return LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed, **params)


def _rf(params: Mapping[str, Any], seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(class_weight="balanced", n_jobs=2, random_state=seed, **params)


def _gbm(params: Mapping[str, Any], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(class_weight="balanced", random_state=seed, **params)


def _knn(params: Mapping[str, Any], seed: int):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(metric="cosine", weights="distance", algorithm="brute", **params)


def _laplace(model, p: np.ndarray) -> np.ndarray:
    """kNN's probabilities with one pseudo-vote per class, ``(k p + 1) / (k + C)`` for ``k`` neighbours and ``C``
    classes: scikit-learn gives exactly 0 to a class no neighbour has (8-19% of the bench and CT Open questions with
    distance weights), which makes cross-entropy infinite (clipped at the 1e-12 floor). The map is increasing in ``p``,
    so the argmax, and with it accuracy and F1, is unchanged."""
    k, c = model.n_neighbors, p.shape[1]
    return (k * p + 1.0) / (k + c)


# gbm densifies and histograms every column at each of its 200 iterations: on TOP it gets the most frequent terms
# only (~600 columns; the full ~6,300 would take ~15 minutes on 2 cores).
GBM_MAX_FEATURES = {
    "criteria_max_features": 300,
    "diseases_max_features": 100,
    "drugs_max_features": 100,
    "icd_max_features": 100,
}

REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec("lr", "logistic regression", tuple({"C": c} for c in (0.1, 0.3, 1.0, 3.0)), _lr, view="sparse"),
        ModelSpec(
            "rf",
            "random forest",
            tuple({"n_estimators": 300, "max_depth": d, "min_samples_leaf": m} for d in (None, 20) for m in (1, 3)),
            _rf,
            view="compact",
        ),
        ModelSpec(
            "gbm",
            "gradient boosting",
            tuple({"learning_rate": lr, "max_iter": 200, "max_leaf_nodes": n} for lr in (0.05, 0.1) for n in (15, 31)),
            _gbm,
            view="compact",
            top_max_features=GBM_MAX_FEATURES,
            # HistGradientBoosting needs dense input; and its two threads on a 2-core machine with anything else
            # running were measured 25-40x slower than one (42 s against 1.7 s for 20 iterations)
            dense=True,
            threads=1,
        ),
        ModelSpec(
            "knn",
            "retrieval kNN",
            tuple({"n_neighbors": k} for k in (5, 10, 25, 50)),
            _knn,
            view="embedding",
            fits=lambda params, n_train: params["n_neighbors"] <= n_train,
            calibrate=_laplace,
        ),
    )
}


def spec(name: str) -> ModelSpec:
    """The spec of ``name``; a clear error naming the known models otherwise.

    >>> spec("lr").title
    'logistic regression'
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}") from None
