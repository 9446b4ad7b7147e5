"""One generic test over every builder: constants header, schema == declared features, unique ids, no leakage."""

from __future__ import annotations

import importlib
import pkgutil

import deepimagine_data.builders as builders_pkg
import pyarrow.compute as pc
import pytest

BUILDERS = sorted(m.name for m in pkgutil.iter_modules(builders_pkg.__path__))
HEADER = [
    "_NAME",
    "_DESCRIPTION",
    "_CITATION",
    "_LICENSE",
    "_HOMEPAGE",
    "SOURCE_VERSION",
    "VERSION",
    "CONFIGS",
    "FEATURES",
    "ID_COLUMNS",
]


@pytest.fixture(scope="module", params=BUILDERS)
def builder(request):
    mod = importlib.import_module(f"deepimagine_data.builders.{request.param}")
    tables, _ = mod.build_tables()
    return mod, tables


def test_there_are_builders():
    assert "trials" in BUILDERS


def test_constants_header(builder):
    mod, _ = builder
    for name in HEADER:
        assert getattr(mod, name, None), f"{mod.__name__} lacks {name}"
    assert set(mod.FEATURES) == set(mod.CONFIGS)


def test_schema_equals_declared_features(builder):
    from datasets import Features

    mod, tables = builder
    assert set(tables) == set(mod.CONFIGS)
    for cfg, splits in tables.items():
        for split, t in splits.items():
            assert Features.from_arrow_schema(t.schema) == mod.FEATURES[cfg], (cfg, split)


def test_ids_unique(builder):
    mod, tables = builder
    for cfg, splits in tables.items():
        ids = [x for t in splits.values() for x in t.column(mod.ID_COLUMNS[cfg]).to_pylist()]
        assert len(ids) == len(set(ids)), cfg
        assert None not in ids


def test_no_trial_in_two_splits(builder):
    _, tables = builder
    for cfg, splits in tables.items():
        seen: dict[str, str] = {}
        for split, t in splits.items():
            keys = ["trial_id"] + (["nct_id"] if "nct_id" in t.column_names else [])
            for key in keys:
                for tid in pc.unique(t.column(key)).to_pylist():
                    if tid is not None:
                        assert seen.setdefault(f"{key}:{tid}", split) == split, (cfg, key, tid)


def test_splits_are_declared(builder):
    mod, tables = builder
    for cfg, splits in tables.items():
        assert list(splits) == list(mod.SPLITS), cfg


def test_labels_recompute_from_stored_source_values(builder):
    """Every label field equals what the builder's rule gives from the source values kept in the same row."""
    mod, tables = builder
    if not hasattr(mod, "recompute_labels"):
        pytest.skip(f"{mod.__name__} has no labels")
    checked = 0
    for cfg, splits in tables.items():
        for split, t in splits.items():
            for row in t.to_pylist():
                expected = mod.recompute_labels(cfg, row)
                for k, v in expected.items():
                    assert row[k] == v, (cfg, split, row[mod.ID_COLUMNS[cfg]], k, row[k], v)
                checked += 1
    assert checked > 1000
