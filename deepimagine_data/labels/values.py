"""The label vocabularies, and the check that keeps a misspelt value out of them.

Every step of a label answers from a closed list: significance ("significant" | "not_significant" | "unknown"),
polarity, direction and benefit. The decision functions check what they are given against these lists, because a
misspelt value would otherwise fall through to "unknown" and hide a bug:

>>> from deepimagine_data.labels import decide
>>> decide("signficant", "better")
Traceback (most recent call last):
...
ValueError: significance must be one of ('significant', 'not_significant', 'unknown'), got 'signficant'
"""

from __future__ import annotations

SIGNIFICANCE_VALUES = ("significant", "not_significant", "unknown")
POLARITY_VALUES = ("higher_is_better", "lower_is_better", "unknown")
DIRECTION_VALUES = ("higher", "lower", "equal", "unknown")
BENEFIT_VALUES = ("better", "worse", "no_difference", "unknown")


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    # A typo in a label value would otherwise fall through to "unknown" silently and hide a bug.
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


# The polarity values by short name; _FLIP turns one into the other (a hazard ratio on a time does, see estimate.py).
_HIGHER, _LOWER, _UNKNOWN = "higher_is_better", "lower_is_better", "unknown"
_FLIP = {_HIGHER: _LOWER, _LOWER: _HIGHER}
