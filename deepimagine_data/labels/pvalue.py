"""Whether a posted p-value is significant: :func:`significance` reads it *with its modifier* against an alpha.

A registry posts a p-value as a number and a modifier: NCT00002597 posted "0.0309", others "<0.001" or ">0.05". The
modifier bounds the true p, and the answer is only as sure as that bound, so "<0.1" against 0.05 stays unknown
instead of being read as 0.1. NCT00002597 also stated a one-sided 0.025 level (:mod:`.alpha` finds it), which turns
its p-value from significant to not:

>>> significance(0.0309, None, 0.05), significance(0.0309, None, 0.025), significance(0.1, "<", 0.05)
('significant', 'not_significant', 'unknown')
"""

from __future__ import annotations

import math

_MODIFIERS = {None: "=", "": "=", "=": "=", "<": "<", "<=": "<=", "≤": "<=", "=<": "<=", ">": ">", ">=": ">=",
              "≥": ">=", "=>": ">="}  # fmt: skip


def significance(p_value: float | None, modifier: str | None, alpha: float) -> str:
    """Whether a posted p-value is significant at ``alpha``: "significant" | "not_significant" | "unknown".

    Significant means the true p is surely below alpha; not significant means it is surely at or above it.
    The modifier bounds the true p, so the answer is only as sure as that bound:

    - ``=`` or no modifier (NCT00002597 posted "0.0309"): p < alpha is significant, otherwise not significant.
    - ``<`` v (true p < v, e.g. "<0.001"): significant when v <= alpha; "<0.1" at alpha 0.05 is unknown.
    - ``<=`` v (true p <= v): significant only when v < alpha, since p could equal v.
    - ``>`` v (true p > v, e.g. ">0.05"): not significant when v >= alpha; ">0.01" at 0.05 is unknown.
    - ``>=`` v (true p >= v): not significant when v >= alpha.

    A missing p-value, one outside [0, 1] or an unrecognised modifier gives "unknown".

    >>> significance(0.0001, "<", 0.05)
    'significant'
    >>> significance(0.05, None, 0.05)
    'not_significant'
    >>> significance(0.1, "<", 0.05)
    'unknown'
    """
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if p_value is None or math.isnan(p_value) or not (0.0 <= p_value <= 1.0):
        return "unknown"
    mod = _MODIFIERS.get(modifier.strip() if isinstance(modifier, str) else modifier)
    if mod == "=":
        return "significant" if p_value < alpha else "not_significant"
    if mod == "<":
        return "significant" if p_value <= alpha else "unknown"
    if mod == "<=":
        return "significant" if p_value < alpha else "unknown"
    if mod in (">", ">="):
        return "not_significant" if p_value >= alpha else "unknown"
    return "unknown"
