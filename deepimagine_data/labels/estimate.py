"""Which way a posted estimate points, and which way is better for it.

:func:`estimate_null` gives the value of no difference (1 for ratios, 0 for differences), :func:`estimate_direction`
reads the estimate against it, and :func:`estimate_polarity` says which way that estimate is better, which for a hazard
ratio is not the outcome's own way. NCT00858364 posted a hazard ratio of 0.92 for darbepoetin alfa against placebo on
"Overall Survival": a lower hazard of death, which is better although survival is better higher:

>>> from deepimagine_data.labels import outcome_polarity
>>> os_ = outcome_polarity("Overall Survival")
>>> estimate_direction(0.92, None, None, "Hazard Ratio (HR)")
'lower'
>>> estimate_polarity(os_, "Hazard Ratio (HR)", "Overall Survival")
'lower_is_better'

Why an estimate has its own polarity: read with the outcome's, every hazard ratio on a survival or time-to-event
outcome would be labelled the wrong way round.
"""

from __future__ import annotations

import math
import re

from .polarity import Polarity
from .values import _FLIP, _UNKNOWN, POLARITY_VALUES, _check

_RATIO = re.compile(r"(?i:\bratios?\b|\bration\b|\bhazard\b|\brelative risk\b)|\b(?:HR|OR|RR|GMR|IRR)\b")
_DIFFERENCE = re.compile(r"(?i:\bdifferences?\b|\bchange\b)|\b(?:RD|MD)\b")
# Not an estimate of the comparison, or one on a scale this module cannot place: a confidence bound, a ratio
# posted as a percentage ("Percentage of ratio of geometric mean"), a relative risk reduction, a log-rank
# statistic, an effect size without a stated sign convention, a fold change.
_NOT_ESTIMATE = re.compile(r"\b(?:bound|limit|reduction|statistic|effect size|fold|correlation|coefficient)\b", re.I)
_PERCENT = re.compile(r"\bpercent\w*|%", re.I)
_LOG = re.compile(r"\blog\b", re.I)
_GEOMETRIC = re.compile(r"\bgeometric|\bgmr\b|\bgmt\b", re.I)


def estimate_null(estimate_type: str | None) -> float | None:
    """The value of ``estimate_type`` that means no difference: 1.0 for ratios, 0.0 for differences, else None.

    "Hazard Ratio (HR)", "Odds Ratio (OR)", "Risk Ratio (RR)", "Geometric mean ratio", "Cox Proportional Hazard"
    give 1.0; "Mean Difference (Final Values)", "Risk Difference (RD)", "LS Mean Change Difference" and log ratios
    ("Hazard Ratio, log") give 0.0. Anything else is an unknown kind of estimate and gives None: "Slope",
    "Median", "Percent relative risk reduction", "lower bound one-sided CI of GMT ratio", "Chi-Square Statistic",
    and a name that says both ratio and difference.

    >>> estimate_null("Hazard Ratio (HR)"), estimate_null("Mean Difference (Final Values)"), estimate_null("Slope")
    (1.0, 0.0, None)
    """
    if not estimate_type or _NOT_ESTIMATE.search(estimate_type):
        return None
    ratio, difference = bool(_RATIO.search(estimate_type)), bool(_DIFFERENCE.search(estimate_type))
    if ratio and _PERCENT.search(estimate_type):
        return None  # "Percentage of ratio of geometric mean": null 100, and the scale is not always stated
    if ratio and _LOG.search(estimate_type):
        return 0.0
    if ratio and not difference:
        return 1.0
    if difference and not ratio:
        return 0.0
    return None


def estimate_direction(
    estimate_value: float | None, ci_lower: float | None, ci_upper: float | None, estimate_type: str | None
) -> str:
    """Whether the compared group's measure is "higher", "lower" or "equal" to the reference's, or "unknown".

    The estimate is read against its null (:func:`estimate_null`): HR 0.73 is "lower", a mean difference of 8.0
    is "higher", exactly the null is "equal". Unknown when the null or the value is missing, and when the numbers
    cannot be what the type says: a ratio at or below 0 ("Cox Proportional Hazard" posted as -0.01787, a log
    coefficient), an estimate outside its own confidence interval, or a geometric mean ratio above 10, which
    AACT posts as a percentage (NCT's "Geometric LS Mean Ratio 129.81, CI 119.14 to 141.44") as often as not.

    >>> estimate_direction(0.73, 0.6, 0.89, "Hazard Ratio (HR)")
    'lower'
    """
    null = estimate_null(estimate_type)
    if null is None or estimate_value is None or math.isnan(estimate_value):
        return "unknown"
    if null == 1.0 and not _LOG.search(estimate_type or ""):
        if estimate_value <= 0 or (_GEOMETRIC.search(estimate_type or "") and estimate_value > 10):
            return "unknown"
    lo = ci_lower if ci_lower is not None and not math.isnan(ci_lower) else None
    hi = ci_upper if ci_upper is not None and not math.isnan(ci_upper) else None
    if (lo is not None and estimate_value < lo) or (hi is not None and estimate_value > hi):
        return "unknown"
    if estimate_value > null:
        return "higher"
    if estimate_value < null:
        return "lower"
    return "equal"


_HAZARD = re.compile(r"\bhazard", re.I)
# Titles that report a time (survival, time to an event, a duration): a hazard ratio measures the rate of the
# event that ends that time, so its polarity is the opposite of the title's.
_TIME_TITLE = re.compile(r"\b(?:survival|duration|time[\s-]+(?:taken[\s-]+)?(?:to|until)|[a-z]+[\s-]free)\b", re.I)
_TIME_RULES = ("survival", "survival_acronym", "event_free", "time_to")
# Titles that count the event itself ("Percentage of Participants With Disease Progression or Death"): a hazard
# ratio of that event runs the same way.
_EVENT_RULES = frozenset(
    {"death", "adverse_events", "toxicity", "complications", "relapse_or_recurrence", "progression", "failure",
     "discontinuation", "hospitalization", "infection", "bleeding", "specific_harm", "clinical_events"}
)  # fmt: skip


def estimate_polarity(polarity: Polarity, estimate_type: str | None, title: str | None) -> str:
    """The polarity of what an estimate measures, which for a hazard ratio is not the outcome's.

    A hazard ratio compares event rates: on "Overall Survival" (higher is better) a hazard ratio of 0.92 for
    darbepoetin alfa against placebo (NCT00858364) is a *lower* hazard of death, which is better. So for hazard
    estimates ("Hazard Ratio (HR)", "Stratified Hazard Ratio", "Cox Proportional Hazard") the polarity flips when
    the title reports a time (survival, "-free", "Time to ...", "Duration of ...") and stays when it counts the
    event ("Percentage of Participants With Disease Progression or Death"); anything else is unknown. Every other
    estimate (odds ratio, risk or mean difference) measures the outcome itself and keeps its polarity.

    >>> from deepimagine_data.labels import outcome_polarity
    >>> os_ = outcome_polarity("Overall Survival (OS)")
    >>> estimate_polarity(os_, "Hazard Ratio (HR)", "Overall Survival (OS)")
    'lower_is_better'
    >>> estimate_polarity(os_, "Odds Ratio (OR)", "Overall Survival (OS)")
    'higher_is_better'
    """
    _check("polarity", polarity.value, POLARITY_VALUES)
    if polarity.value == _UNKNOWN or not _HAZARD.search(estimate_type or ""):
        return polarity.value
    rule = polarity.rule or ""
    if rule.startswith(_TIME_RULES) or _TIME_TITLE.search(title or ""):
        return _FLIP[polarity.value]
    if rule in _EVENT_RULES:
        return polarity.value
    return _UNKNOWN
