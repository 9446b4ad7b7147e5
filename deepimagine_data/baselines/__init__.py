"""Correlational baselines (logistic regression, random forest, gradient boosting, retrieval kNN) on every benchmark.

Trained on training splits only, hyperparameters chosen on a validation split only, scored by the package's scorer.
Needs the ``[baselines]`` extra (scikit-learn).

What is where:

- ``registry.py``: one :class:`~deepimagine_data.baselines.registry.ModelSpec` per model (name, grid, constructor,
  feature view, threads, ...); a new baseline is one entry there plus its test;
- ``models.py``: fitting, predicting and hyperparameter selection, read from the specs;
- ``features.py``: the bench / CT Open feature space; ``top.py``: HINT's TOP benchmark (reader, features, protocol);
- ``bench.py``: a run on the bench or CT Open (submission and figures); ``reference.py``: the chance and majority rows;
- ``cli.py``: ``deepimagine baseline run|report``.
"""
