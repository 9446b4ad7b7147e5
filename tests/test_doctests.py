"""Every docstring example in the package runs and gives what it shows (examples marked +SKIP need network or data
outside the repository)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import deepimagine_data

MODULES = sorted(m.name for m in pkgutil.walk_packages(deepimagine_data.__path__, "deepimagine_data."))
assert len(MODULES) > 60, MODULES  # the walk found the package's modules (builders, scoring, traces, train, ...)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
