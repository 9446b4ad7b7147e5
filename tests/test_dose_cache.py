"""parse_dose caches its result by text (the registry repeats its arm and intervention texts): the cached result is
the parse's own, shared safely (a Dose is frozen), and blank input never reaches the cache."""

from __future__ import annotations

import dataclasses

import pytest

from deepimagine_data.normalize import dose
from deepimagine_data.normalize.dose import Dose, parse_dose

TEXTS = [
    "Dupilumab 300 mg qw",
    "Carboplatin AUC 5 or 6 plus Paclitaxel 175 mg/m2, every 3 weeks, 6 cycles.",
    "Cabazitaxel 25 mg/m2 IV + abiraterone acetate 1000 mg po daily",
    "Placebo qw",
    "Arm A",
    "0.5ml(25mg) carbon nanoparticle solution",
]


def test_cached_parse_is_the_parse():
    for text in TEXTS:
        want = dose._parse_dose.__wrapped__(text)  # the parse itself, not cached
        assert parse_dose(text) == want
        hits = dose._parse_dose.cache_info().hits
        assert parse_dose(text) is parse_dose(text)  # the same object from the cache
        assert dose._parse_dose.cache_info().hits == hits + 2


def test_cached_dose_cannot_be_changed():
    d = parse_dose("Dupilumab 300 mg qw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.unit = "g"  # no caller can change what the next caller of the same text gets
    assert parse_dose("Dupilumab 300 mg qw") == Dose(300.0, "mg", "QW", None, "300 mg")


def test_blank_input_is_not_cached():
    before = dose._parse_dose.cache_info()
    assert parse_dose(None) is None and parse_dose("") is None and parse_dose("   ") is None
    after = dose._parse_dose.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)
