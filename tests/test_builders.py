"""One generic test over every builder: constants header, schema == declared features, unique ids, no leakage."""

from __future__ import annotations

import importlib
import pkgutil
import re

import deepimagine_data.builders as builders_pkg
import pyarrow.compute as pc
import pytest

BUILDERS = sorted(m.name for m in pkgutil.iter_modules(builders_pkg.__path__))
LABELLED = [b for b in BUILDERS if hasattr(importlib.import_module(f"{builders_pkg.__name__}.{b}"), "recompute_labels")]
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


def test_labelled_builders_are_the_corpora():
    # the trial model holds no labels; every corpus built on it does, and the test below runs over each
    assert LABELLED == [b for b in BUILDERS if b != "trials"] and LABELLED


@pytest.mark.parametrize("builder", LABELLED, indirect=True)
def test_labels_recompute_from_stored_source_values(builder):
    """Every label field equals what the builder's rule gives from the source values kept in the same row."""
    mod, tables = builder
    checked = 0
    for cfg, splits in tables.items():
        for split, t in splits.items():
            for row in t.to_pylist():
                expected = mod.recompute_labels(cfg, row)
                for k, v in expected.items():
                    assert row[k] == v, (cfg, split, row[mod.ID_COLUMNS[cfg]], k, row[k], v)
                checked += 1
    assert checked > 1000


def test_no_two_rows_share_a_prompt_with_different_answers(builder):
    """Within a config, a prompt and its options determine the answer: two rows that read the same to a model
    never carry different labels (labels-v1 had NCT01924533's full-analysis-set and ATM-negative outcomes)."""
    mod, tables = builder
    checked = 0
    for cfg, splits in tables.items():
        cols = ["prompt", "options", "answer_index"]
        if not all(c in splits["train"].column_names for c in cols):
            continue
        seen: dict[tuple, int] = {}
        for t in splits.values():
            for r in t.select(cols).to_pylist():
                key = (r["prompt"], tuple(r["options"]))
                assert seen.setdefault(key, r["answer_index"]) == r["answer_index"], (cfg, r["prompt"][:200])
                checked += 1
        assert len(seen) == sum(t.num_rows for t in splits.values()), f"{cfg}: a prompt is repeated"
    if mod.__name__.endswith(("pairs", "bench")):
        assert checked > 1000


# Configs whose rows compare two protocol arms (each card says so); strict_dose also holds two dose cohorts of one
# arm (its card says so too).
ARM_CONFIGS = {"strict_arm", "strict_outcome", "approx", "pathways", "questions"}


def test_arm_configs_hold_arm_comparisons_and_dose_pairs_only_in_strict_dose(builder):
    from deepimagine_data.pairs.comparisons import dose_cohorts, title_stem

    mod, tables = builder
    for cfg, splits in tables.items():
        if "group_relation" not in splits["train"].column_names:
            continue
        for t in splits.values():
            for r in t.to_pylist():
                if cfg in ARM_CONFIGS:
                    assert r["group_relation"] == "arms" and r["a_arm_id"] and r["b_arm_id"], (cfg, r["comparison_id"])
                    assert r["a_arm_id"] != r["b_arm_id"]
                else:
                    assert cfg == "strict_dose" and r["dose_match"], (cfg, r["comparison_id"])
                    assert r["group_relation"] == "arms" or dose_cohorts(r)
                if cfg == "strict_arm":
                    assert r["dose_match"] is None, r["comparison_id"]
                    # independently of dose_match: no two titles equal but for a parsed dose
                    a = {"title": r["a_title"], "dose_text": r["a_dose_text"]}
                    b = {"title": r["b_title"], "dose_text": r["b_dose_text"]}
                    sa, sb = title_stem(a), title_stem(b)
                    assert not (sa and sa == sb and r["a_dose_value"] != r["b_dose_value"]), r["comparison_id"]


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CHANGE_MARKERS = (" The changed factor is ", " From the anchor to the target, ", " The walk changes ")


def test_completions_hold_only_what_the_prompt_states(builder):
    """A template completion is what a model may imitate: no number the prompt does not state (the target's
    p-value, estimate, CI, per-arm values), no wording of the target's own result, a decision line that is not
    one-hot under the default rule; and a prompt says "known" of an anchor only where its result is posted."""
    from deepimagine_data.pairs.render import DEFAULT_TARGETS, TargetRule, fmt_num
    from deepimagine_data.scoring.decision import parse_decision

    mod, tables = builder
    rule = TargetRule.parse(DEFAULT_TARGETS)
    checked = 0
    for cfg, splits in tables.items():
        if "completion" not in splits["train"].column_names:
            continue
        for t in splits.values():
            for r in t.to_pylist():
                rid = r[mod.ID_COLUMNS[cfg]]
                body = r["completion"].rpartition("DECISION:")[0]
                for num in _NUMBER.findall(body):
                    assert num in r["prompt"], (cfg, rid, num)
                for k in ("p_value", "estimate_value", "ci_lower", "ci_upper", "b_value", "computed_p_value"):
                    if r[k] is not None and r[k] != 0:
                        assert fmt_num(r[k]) not in body or fmt_num(r[k]) in r["prompt"], (cfg, rid, k)
                assert "p =" not in body and "p <" not in body and r["rationale"] not in body, (cfg, rid)
                # significance wording only in the opening "Known: ..." about the anchor, before what changes
                if "statistically" in body:
                    change = min(body.find(m) for m in _CHANGE_MARKERS if m in body)
                    assert body.startswith("Known:") and body.rfind("statistically") < change, (cfg, rid)
                n = len(r["options"])
                probs = parse_decision(r["completion"], n).probabilities
                assert r["target_rule"] == DEFAULT_TARGETS and max(probs) < 1.0, (cfg, rid)
                assert list(probs) == rule.probabilities(n, r["answer_index"]), (cfg, rid)
                # an anchor's known result: its per-arm value (strict_arm, strict_dose) or its posted result, in the
                # prompt, of known significance or (non-inferiority) of known result
                anchor_known = r["anchor_result"] is not None and r["anchor_result"] in r["prompt"]
                anchor_known = anchor_known and not re.search(r"of unknown (significance|result)", r["anchor_result"])
                if "Anchor (known):" in r["prompt"]:
                    if cfg in ("strict_arm", "strict_dose"):
                        assert r["a_value"] is not None and "per-arm result:" in r["prompt"], (cfg, rid)
                    else:
                        assert anchor_known, (cfg, rid)
                elif cfg in ("strict_arm", "strict_dose"):
                    assert r["a_value"] is None and "Reference arm (its own result is not posted):" in r["prompt"]
                if "Anchor comparison (known):" in r["prompt"]:
                    assert anchor_known, (cfg, rid)
                checked += 1
    if mod.__name__.endswith("pairs"):
        assert checked > 10_000
