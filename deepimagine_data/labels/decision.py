"""The decision built on the other pieces: :func:`benefit` (direction and polarity), then :func:`decide` (3-way)
and :func:`superiority` (2-way) with the significance.

NCT00829166 posted a hazard ratio of 0.703 for trastuzumab emtansine on "Time to Treatment Failure": the hazard is
lower and a lower hazard of failure is better, so the compared arm did better, and with a significant p-value:

>>> b = benefit("lower", "lower_is_better")
>>> b, decide("significant", b), superiority("significant", b)
('better', 'compared_better', 'met')

Why three steps: each answers "unknown" on its own missing evidence, so a label is known only where every piece it
needs is; a result that is not significant is "no_significant_difference" whatever its direction.
"""

from __future__ import annotations

from .values import _HIGHER, _UNKNOWN, BENEFIT_VALUES, DIRECTION_VALUES, POLARITY_VALUES, SIGNIFICANCE_VALUES, _check


def benefit(direction: str, polarity: str) -> str:
    """Whether the compared side did "better", "worse", showed "no_difference", or "unknown".

    ``direction`` is the compared side's measure relative to the reference (:func:`estimate_direction` or
    :func:`value_direction`) and ``polarity`` the polarity of that same measure: the outcome's for a per-arm
    value or a risk difference, :func:`estimate_polarity` for a posted estimate. HR 0.703 for trastuzumab
    emtansine on "Time to Treatment Failure" (NCT00829166) is direction "lower" with polarity "lower_is_better",
    so "better". "equal" is no difference whatever the polarity.
    """
    _check("direction", direction, DIRECTION_VALUES)
    _check("polarity", polarity, POLARITY_VALUES)
    if direction == "equal":
        return "no_difference"
    if direction == "unknown" or polarity == _UNKNOWN:
        return "unknown"
    higher_better = polarity == _HIGHER
    return "better" if (direction == "higher") == higher_better else "worse"


def decide(significance: str, benefit: str) -> str:
    """The 3-way outcome: "compared_better" | "compared_worse" | "no_significant_difference" | "unknown".

    Significant and better or worse gives the side; not significant gives no significant difference whatever the
    direction; a significant result whose direction is unknown (or sits exactly on the null) stays unknown.
    """
    _check("significance", significance, SIGNIFICANCE_VALUES)
    _check("benefit", benefit, BENEFIT_VALUES)
    if significance == "not_significant":
        return "no_significant_difference"
    if significance == "significant" and benefit == "better":
        return "compared_better"
    if significance == "significant" and benefit == "worse":
        return "compared_worse"
    return "unknown"


def superiority(significance: str, benefit: str) -> str:
    """The 2-way label: "met" (significant and better), "not_met" (not significant, or significant and worse),
    or "unknown" (significance unknown, or significant with an unknown direction)."""
    _check("significance", significance, SIGNIFICANCE_VALUES)
    _check("benefit", benefit, BENEFIT_VALUES)
    if significance == "significant" and benefit == "better":
        return "met"
    if significance == "not_significant" or (significance == "significant" and benefit == "worse"):
        return "not_met"
    return "unknown"
