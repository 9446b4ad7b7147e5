"""Factor diff between an anchor and a target: which named factors of two comparisons differ.

DeepImagine predicts a target comparison from an anchor whose result is known, walking from the anchor to the
target one factor at a time. This module says which factors that walk has to change. A side is one trial plus one
of its comparisons (two arms and one outcome, as in :func:`deepimagine_data.pipeline.comparisons`); its facts are a
frozen :class:`Side`. Every factor has its own rule, ``<factor>_rule(a, b) -> "same" | "changed" | "unknown"``:

- ``"unknown"`` whenever either side lacks what the rule needs (the AACT oncology subset has no countries, sex, ages
  or eligibility text, so its geography is always unknown). A rule never guesses from a missing value.
- ``"changed"`` needs one difference both sides state; ``"same"`` needs every part of the factor stated on both
  sides and equal. So a factor made of several parts (population, design) with one part known on one side only is
  ``"changed"`` if another part differs, else ``"unknown"``.
- Every rule is symmetric: ``rule(a, b) == rule(b, a)``.

Spelling variants are not differences: interventions compare by the corpus-normalized name
(:mod:`deepimagine_data.normalize.names`), conditions and outcome titles by normalized tokens with a small fuzzy
tolerance, countries by their ClinicalTrials.gov aliases. Each threshold is justified next to it.

Example: fulvestrant 500 mg against anastrozole 1 mg in FIRST (NCT00274469, phase 2, open label, metastatic breast
cancer) and FALCON (NCT01602380, phase 3, double-blind, hormone receptor positive breast cancer), first outcome of
each (AACT, comparisons from :func:`deepimagine_data.pipeline.comparisons`)::

    >>> from deepimagine_data import pipeline
    >>> tables, _ = pipeline.corpus()
    >>> by_id = {c["comparison_id"]: c for c in pipeline.comparisons()}
    >>> idx = sides_from_tables(tables)
    >>> d = diff(idx.side(by_id["NCT00274469:O0:OG001|OG000"]), idx.side(by_id["NCT01602380:O0:OG001|OG000"]))
    >>> d.changed, d.unknown
    (('outcome', 'population', 'phase', 'design'), ('geography',))
    >>> d.details["phase"], d.details["design"]
    ('phase: PHASE2 -> PHASE3', 'design: masking open label -> blinded')

The module is pure: :func:`sides_from_tables` reads only the tables it is given.

What is where (import every name from this package):

- ``sides.py``: :class:`Side`, :class:`Dose`, :func:`side_from_records`, :class:`SideIndex` / :func:`sides_from_tables`
  (the facts of one side, read from records or from a corpus's tables);
- ``words.py``: the word lists and normalizers the rules compare by (:func:`condition_key`, :func:`country_name`,
  :func:`region`, :func:`age_years`, :func:`prior_treatment`, :func:`outcome_key`, :func:`time_point_hours`, and the
  intervention-name matching);
- ``rules.py``: one ``<factor>_rule`` per factor in :data:`FACTORS`, :func:`diff`, :class:`FactorDiff`, the caching
  :class:`Differ` and :data:`RULE_FIELDS`.
"""

from __future__ import annotations

from .rules import _EXPLAIN as _EXPLAIN  # each rule with its reason, by factor (tests/test_factors.py reads it)
from .rules import (
    CHANGED,
    FACTORS,
    RULE_FIELDS,
    SAME,
    UNKNOWN,
    Differ,
    FactorDiff,
    Verdict,
    changed_factors_of,
    conditions_rule,
    design_rule,
    diff,
    dose_rule,
    geography_rule,
    intervention_rule,
    outcome_rule,
    phase_rule,
    population_rule,
)
from .sides import Dose, Side, SideIndex, side_from_records, sides_from_tables
from .words import age_years, condition_key, country_name, outcome_key, prior_treatment, region, time_point_hours

__all__ = [
    "FACTORS",
    "SAME",
    "CHANGED",
    "UNKNOWN",
    "Dose",
    "Side",
    "SideIndex",
    "FactorDiff",
    "side_from_records",
    "sides_from_tables",
    "intervention_rule",
    "dose_rule",
    "outcome_rule",
    "population_rule",
    "conditions_rule",
    "geography_rule",
    "phase_rule",
    "design_rule",
    "diff",
    "condition_key",
    "country_name",
    "region",
    "age_years",
    "prior_treatment",
    "outcome_key",
    "time_point_hours",
    "RULE_FIELDS",
    "Differ",
    "Verdict",
    "changed_factors_of",
]
