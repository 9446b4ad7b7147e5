"""A test of two arms' posted numbers where a registry posted no analysis: :func:`compare_arms`.

Many records post each arm's value but no comparison of them. Counts get Fisher's exact test, means with an SD or an
SE get Welch's t-test. AMAGINE-1's PASI 75 responses, placebo 6/220 against brodalumab 210 mg 185/222:

>>> t = compare_arms(ArmValue("COUNT_OF_PARTICIPANTS", 6, 220), ArmValue("COUNT_OF_PARTICIPANTS", 185, 222))
>>> t.method, t.p_value < 1e-60, round(t.change, 3)
('fisher_exact', True, 0.806)

Why only these two tests: each needs nothing the record does not state. An SD cannot be recovered from a confidence
interval or a range without assumptions, and a median has no such test, so those arms get None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ArmValue:
    """One arm's posted measurement. For COUNT_OF_PARTICIPANTS, ``value`` is the number of participants with the
    event and ``n`` the number analysed; for means, ``spread`` is the SD or SE named by ``dispersion_type``."""

    param_type: str | None
    value: float | None
    n: int | None
    spread: float | None = None
    dispersion_type: str | None = None


@dataclass(frozen=True)
class ArmTest:
    """A two-sided test of arm b against arm a. ``change`` is b − a: a difference of proportions
    (``change_kind`` "risk_difference") or of means ("mean_difference"). ``statistic`` is the sample odds ratio
    for Fisher's test and Welch's t for b − a; None where it is infinite."""

    method: str
    p_value: float
    statistic: float | None
    change: float
    change_kind: str


_MEANS = frozenset({"MEAN", "LEAST_SQUARES_MEAN"})


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _count(arm: ArmValue) -> tuple[int, int] | None:
    if not (_finite(arm.value) and arm.n is not None):
        return None
    events = float(arm.value)  # type: ignore[arg-type]
    if events != round(events) or events < 0 or arm.n <= 0 or events > arm.n:
        return None
    return int(events), int(arm.n)


def _mean_sd(arm: ArmValue) -> tuple[float, float, int] | None:
    if not (_finite(arm.value) and _finite(arm.spread) and arm.n is not None and arm.n >= 2):
        return None
    spread = float(arm.spread)  # type: ignore[arg-type]
    if spread < 0:
        return None
    if arm.dispersion_type == "STANDARD_DEVIATION":
        sd = spread
    elif arm.dispersion_type == "STANDARD_ERROR":
        sd = spread * math.sqrt(arm.n)
    else:
        # A confidence interval or a range cannot be turned into an SD without assumptions.
        return None
    return float(arm.value), sd, int(arm.n)  # type: ignore[arg-type]


def compare_arms(a: ArmValue, b: ArmValue) -> ArmTest | None:
    """Test arm b against arm a from their posted numbers; None where no sound test applies.

    - Both COUNT_OF_PARTICIPANTS: Fisher's exact test, two-sided, on the 2x2 table of events and non-events
      (scipy.stats.fisher_exact). E.g. the PASI 75 responses of AMAGINE-1, brodalumab 210 mg 185/222 against
      placebo 6/220.
    - Both means (MEAN or LEAST_SQUARES_MEAN) with an SD or an SE (SE = SD/sqrt(n)) and n >= 2: Welch's t-test,
      two-sided (scipy.stats.ttest_ind_from_stats, equal_var=False). E.g. the change in HbA1c of NCT00286429,
      alogliptin 25 mg -0.81 (SE 0.0731, n 126) against placebo -0.27 (SE 0.0731, n 126).
    - Anything else gives None: medians, other param types, mixed types, a missing value, n or spread, n <= 1,
      more events than participants, negative or fractional counts, a zero spread in both arms.
    """
    from scipy import stats  # scipy.stats takes ~1.5 s to import, and only this function needs it

    if a.param_type == "COUNT_OF_PARTICIPANTS" and b.param_type == "COUNT_OF_PARTICIPANTS":
        ca, cb = _count(a), _count(b)
        if ca is None or cb is None:
            return None
        (ea, na), (eb, nb) = ca, cb
        odds, p = stats.fisher_exact([[eb, nb - eb], [ea, na - ea]], alternative="two-sided")
        return ArmTest("fisher_exact", float(min(p, 1.0)), float(odds) if math.isfinite(odds) else None,
                       eb / nb - ea / na, "risk_difference")  # fmt: skip
    if a.param_type in _MEANS and b.param_type in _MEANS:
        ma, mb = _mean_sd(a), _mean_sd(b)
        if ma is None or mb is None or (ma[1] == 0 and mb[1] == 0):
            return None
        res = stats.ttest_ind_from_stats(mb[0], mb[1], mb[2], ma[0], ma[1], ma[2], equal_var=False)
        t, p = float(res.statistic), float(res.pvalue)
        if not math.isfinite(p):
            return None
        return ArmTest("welch_t", p, t if math.isfinite(t) else None, mb[0] - ma[0], "mean_difference")
    return None


def value_direction(a: float | None, b: float | None) -> str:
    """Whether b is "higher", "lower" or "equal" to a; "unknown" if either is missing or NaN."""
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return "unknown"
    return "higher" if b > a else "lower" if b < a else "equal"
