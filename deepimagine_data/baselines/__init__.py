"""Correlational baselines (logistic regression, random forest, gradient boosting, retrieval kNN) on every benchmark.

Trained on training splits only, hyperparameters chosen on a validation split only, scored by the package's scorer.
Needs the ``[baselines]`` extra (scikit-learn).
"""
