"""Every baseline model in the registry (deepimagine_data/baselines/registry.py) runs end to end on real records.

A spec is all the package knows about a model, so each one is built, fitted through its own feature view on a small
matrix from the package's bundled AACT oncology sample and listed by the CLI. The matrix: 60 posted analyses that are
significant at 0.05 and 60 that are not (the first by analysis id), each as a 2-way implicit row of the ``text``
feature set (trial title, arms, endpoint), labelled by :func:`deepimagine_data.labels.significance`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("sklearn")

import deepimagine_data  # noqa: E402
from deepimagine_data.baselines import cli, features, models  # noqa: E402
from deepimagine_data.baselines.features import VIEWS, FeatureSpace  # noqa: E402
from deepimagine_data.baselines.registry import REGISTRY, ModelSpec, spec  # noqa: E402
from deepimagine_data.labels import ALPHA_DEFAULT, significance  # noqa: E402

AACT = Path(deepimagine_data.__file__).parent / "data" / "aact_oncology"
PER_LABEL = 60


def _read(name: str, columns: list[str]) -> list[dict]:
    return pq.read_table(AACT / f"{name}.parquet", columns=columns).to_pylist()


@pytest.fixture(scope="module")
def rows() -> tuple[list[dict], np.ndarray]:
    """(rows, labels): 1 = significant, 0 = not significant, ``PER_LABEL`` of each."""
    titles = {r["nct_id"]: r["brief_title"] for r in _read("studies", ["nct_id", "brief_title"])}
    outcomes = {r["id"]: r for r in _read("outcomes", ["id", "outcome_type", "title", "description", "time_frame"])}
    arms: dict[str, list[dict]] = {}
    for g in _read("design_groups", ["nct_id", "group_type", "title", "description"]):
        arm_type = (g["group_type"] or "").upper().replace(" ", "_") or None
        arms.setdefault(g["nct_id"], []).append(
            {"title": g["title"] or "", "description": g["description"] or "", "arm_type": arm_type,
             "interventions": []}
        )  # fmt: skip
    picked: dict[int, list[dict]] = {0: [], 1: []}
    analyses = _read("outcome_analyses", ["id", "nct_id", "outcome_id", "p_value", "p_value_modifier"])
    for a in sorted(analyses, key=lambda a: a["id"]):
        sig = significance(a["p_value"], a["p_value_modifier"], ALPHA_DEFAULT)
        if sig == "unknown" or a["outcome_id"] not in outcomes:
            continue
        label = int(sig == "significant")
        if len(picked[label]) == PER_LABEL:
            continue
        o = outcomes[a["outcome_id"]]
        picked[label].append(
            {
                "question_id": f"{a['nct_id']}:analysis{a['id']}",
                "source": "aact_oncology",
                "category": "2-way implicit",
                "question_type": "endpoint_2way",
                "options": ["Yes", "No"],
                "brief_title": titles.get(a["nct_id"]) or "",
                "arms": arms.get(a["nct_id"], []),
                "arm_b": None,
                "arm_a": None,
                "outcome_title": o["title"] or "",
                "outcome_description": o["description"] or "",
                "outcome_time_frame": o["time_frame"] or "",
                "outcome_type": (o["outcome_type"] or "").upper() or None,
                "design": None,
            }
        )
        if all(len(v) == PER_LABEL for v in picked.values()):
            break
    assert all(len(v) == PER_LABEL for v in picked.values()), {k: len(v) for k, v in picked.items()}
    # interleaved, so that any prefix holds both labels
    out = [r for pair in zip(picked[0], picked[1], strict=True) for r in pair]
    return out, np.array([0, 1] * PER_LABEL)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepimagine")
    cli.add_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def _choices(parser: argparse.ArgumentParser, *path: str) -> dict[str, list[str]]:
    """``--option -> choices`` of the subcommand at ``path``."""
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return {a.option_strings[0]: list(a.choices) for a in parser._actions if a.option_strings and a.choices}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_model_fits_real_features_through_its_spec(name, rows):
    s = spec(name)
    if s.view == "embedding":
        pytest.importorskip("sentence_transformers")
    data, y = rows
    train, valid = slice(0, 80), slice(80, None)
    space = FeatureSpace("text", view=s.view).fit(data[train])
    x = space.transform(data)
    assert x.shape == (len(data), len(space.feature_names()))

    def accuracy(y_true: np.ndarray, proba: np.ndarray) -> float:
        return float((proba.argmax(axis=1) == y_true).mean())

    sel = models.select(name, x[train], y[train], x[valid], y[valid], accuracy, seed=0)
    assert sel.params in models.grid(name)
    assert [p for p, _ in sel.tried] == [p for p in models.grid(name) if s.fits(p, 80)]
    p_train = models.predict_proba(name, sel.model, x[train])
    assert p_train.shape == (80, 2)
    assert np.allclose(p_train.sum(axis=1), 1.0) and (p_train >= 0).all() and (p_train <= 1).all()
    # the fitted model learned its own training rows (40 of each label: chance is 0.5)
    assert accuracy(y[train], p_train) > 0.6, (name, sel.params)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_model_is_named_everywhere_the_package_lists_models(name):
    s = spec(name)
    assert isinstance(s, ModelSpec) and s.name == name
    run = _choices(_parser(), "baseline", "run")
    assert name in run["--model"]
    assert s.view in VIEWS and s.view in run["--view"]
    assert models.NAMES[name] == s.title and features.VIEW[name] == s.view
    assert len(s.grid) >= 1 and all(s.fits(p, 10_000) for p in s.grid)
    # a fresh list each call: a caller that edits its params cannot change the registry
    models.grid(name)[0]["edited"] = True
    assert "edited" not in models.grid(name)[0]


def test_cli_lists_exactly_the_registry_and_rejects_other_models(capsys):
    assert _choices(_parser(), "baseline", "run")["--model"] == [*REGISTRY, "all"]
    with pytest.raises(ValueError, match=re.escape(f"unknown model 'svm'; known: {', '.join(REGISTRY)}")):
        spec("svm")
    with pytest.raises(SystemExit):
        _parser().parse_args(["baseline", "run", "--model", "svm", "--benchmark", "bench"])
    assert "invalid choice: 'svm'" in capsys.readouterr().err
