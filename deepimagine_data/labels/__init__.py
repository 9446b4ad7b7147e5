"""Outcome labels from what a registry posted: significance, polarity, direction, and the decision built on them.

A label is only as good as its source. Every function here reads one kind of evidence and answers ``"unknown"``
(or ``None``) when that evidence is missing or ambiguous, instead of filling the gap with a guess:

- :func:`significance` reads a posted p-value *with its modifier* ("<0.001" is not "=0.001") against an alpha;
  :func:`alpha_from_text` finds the alpha a trial stated, e.g. NCT00002597's "one-sided log-rank test at the
  0.025 significance level", and otherwise falls back to :data:`ALPHA_DEFAULT`.
- :func:`outcome_polarity` says whether more of an outcome is better ("Overall Survival") or worse
  ("Percentage of Participants Who Died") from a short list of named keyword rules; "Maximum Tolerated Dose"
  or "Change in Ki67 Levels" stay unknown.
- :func:`reference_from_text` finds which analysis group an estimate compares against which, only where a text
  orders the two groups by name ("HR for Herceptin 1-Year Arm versus Observation Arm", "Reference level =
  RT + cisplatin"); :func:`estimate_direction` then reads the estimate against its null (1 for ratios, 0 for
  differences), and :func:`estimate_polarity` says which way that estimate is better (a hazard ratio on
  "Overall Survival" is better below 1). :func:`favoured_by_text` reads the other kind of statement, which group a
  value of the estimate favours ("A hazard ratio of < 1 favours olaparib"), which gives the direction without an
  ordering or a polarity.
- :func:`compare_arms` tests two arms' posted numbers (Fisher's exact test for counts, Welch's t-test for
  means) where a registry posted no analysis.
- :func:`benefit`, :func:`decide` and :func:`superiority` combine the pieces.

All functions are pure: no I/O, no global state. What is where (import every name from this package):

- ``pvalue.py``: :func:`significance`; ``alpha.py``: :func:`alpha_from_text`, :class:`Alpha`, :data:`ALPHA_FIELDS`;
- ``polarity.py``: :func:`outcome_polarity` and its keyword rules and guards;
- ``groups.py``: which analysis group a span of text names (shared by the next two);
- ``reference.py``: :func:`reference_from_text` (orderings stated by name), :data:`REFERENCE_FIELDS`;
- ``favour.py``: :func:`favoured_by_text` ("< 1 favours X");
- ``estimate.py``: :func:`estimate_null`, :func:`estimate_direction`, :func:`estimate_polarity`;
- ``arms.py``: :func:`compare_arms`, :func:`value_direction` (per-arm tests);
- ``decision.py``: :func:`benefit`, :func:`decide`, :func:`superiority`;
- ``values.py``: the label vocabularies and the check every decision runs on its inputs.

:mod:`deepimagine_data.evidence` runs these on each posted analysis and records which piece decided.
"""

from __future__ import annotations

from .alpha import ALPHA_DEFAULT, ALPHA_FIELDS, Alpha, alpha_from_text
from .arms import ArmTest, ArmValue, compare_arms, value_direction
from .decision import benefit, decide, superiority
from .estimate import estimate_direction, estimate_null, estimate_polarity
from .favour import FAVOUR_VALUES, Favour, favoured_by_text
from .polarity import Polarity, outcome_polarity
from .pvalue import significance
from .reference import REFERENCE_FIELDS, Reference, reference_from_text
from .values import BENEFIT_VALUES, DIRECTION_VALUES, POLARITY_VALUES, SIGNIFICANCE_VALUES

__all__ = [
    "ALPHA_DEFAULT",
    "ALPHA_FIELDS",
    "BENEFIT_VALUES",
    "DIRECTION_VALUES",
    "FAVOUR_VALUES",
    "POLARITY_VALUES",
    "REFERENCE_FIELDS",
    "SIGNIFICANCE_VALUES",
    "Alpha",
    "ArmTest",
    "ArmValue",
    "Favour",
    "Polarity",
    "Reference",
    "alpha_from_text",
    "benefit",
    "compare_arms",
    "decide",
    "estimate_direction",
    "estimate_null",
    "estimate_polarity",
    "favoured_by_text",
    "outcome_polarity",
    "reference_from_text",
    "significance",
    "superiority",
    "value_direction",
]
