"""The GRPO rewards (deepimagine_data.train.reward) against a table of realistic completions.

Each row: (id, completion, reference_index, n_options, decision reward, format reward). The decision reward reads
with the forgiving parser (parse_decision) and wants a unique argmax on the reference; the format reward wants CT
Open's strict reader to get the right number of values from the last ``DECISION:`` line.
"""

from __future__ import annotations

import math

import pytest

from deepimagine_data.train.reward import (
    FORMAT_WEIGHT,
    brier_reward,
    completion_text,
    decision_reward,
    format_reward,
    reward_functions,
)

REASONING = (
    "The anchor trial found a significant benefit of XELOX over 5-FU/LV on overall survival (HR 0.83). "
    "The target compares perioperative 5-FU with none, on a 5-year survival rate in Dukes' B3/C disease. "
    "A perioperative course adds little to adjuvant 5-FU, so a difference is unlikely to reach significance.\n\n"
)

# fmt: off
TABLE = [
    # id, completion, reference, n_options, decision, format
    ("right", REASONING + "DECISION: (0.2, 0.8)", 1, 2, 1.0, 1.0),
    ("wrong", REASONING + "DECISION: (0.8, 0.2)", 1, 2, 0.0, 1.0),
    ("right_one_hot", "DECISION: (0.0, 1.0)", 1, 2, 1.0, 1.0),
    ("right_index0", "DECISION: (0.7, 0.3)", 0, 2, 1.0, 1.0),
    ("hedged_50_50", REASONING + "DECISION: (0.5, 0.5)", 0, 2, 0.0, 1.0),
    ("hedged_50_50_ref1", "DECISION: (0.5, 0.5)", 1, 2, 0.0, 1.0),
    ("three_way_right", "DECISION: (0.1, 0.2, 0.7)", 2, 3, 1.0, 1.0),
    ("three_way_wrong", "DECISION: (0.1, 0.7, 0.2)", 2, 3, 0.0, 1.0),
    ("three_way_tie_top", "DECISION: (0.4, 0.4, 0.2)", 0, 3, 0.0, 1.0),
    ("three_way_tie_low", "DECISION: (0.6, 0.2, 0.2)", 0, 3, 1.0, 1.0),
    ("unnormalized", "DECISION: (2, 6)", 1, 2, 1.0, 1.0),
    ("unnormalized_tie", "DECISION: (1, 1, 2)", 2, 3, 1.0, 1.0),
    ("percentages", "DECISION: (20%, 80%)", 1, 2, 1.0, 0.0),
    ("markdown_bold", REASONING + "**DECISION:** (0.15, 0.85)", 1, 2, 1.0, 1.0),
    ("markdown_heading", "### DECISION: (0.9, 0.1)", 0, 2, 1.0, 1.0),
    ("code_fence", "```\nDECISION: (0.3, 0.7)\n```", 1, 2, 1.0, 1.0),
    ("brackets", "DECISION: [0.3, 0.7]", 1, 2, 1.0, 0.0),
    ("lowercase", "Decision: (0.3, 0.7)", 1, 2, 1.0, 0.0),
    ("two_lines_last_right", "DECISION: (0.9, 0.1)\nOn reflection the dose change dominates.\nDECISION: (0.1, 0.9)",
     1, 2, 1.0, 1.0),
    ("two_lines_last_wrong", "DECISION: (0.1, 0.9)\nWait, the anchor says otherwise.\nDECISION: (0.9, 0.1)", 1, 2,
     0.0, 1.0),
    ("wrong_option_count", "DECISION: (0.2, 0.3, 0.5)", 1, 2, 0.0, 0.0),
    ("too_few_options", "DECISION: (0.2, 0.8)", 1, 3, 0.0, 0.0),
    ("empty", "", 0, 2, 0.0, 0.0),
    ("whitespace", "   \n ", 0, 2, 0.0, 0.0),
    ("no_decision", REASONING + "I think option 1 is more likely.", 1, 2, 0.0, 0.0),
    ("decision_word_no_tuple", "DECISION: option 1", 1, 2, 0.0, 0.0),
    ("json_decision", '{"reasoning": "smaller dose, same drug", "decision": [0.25, 0.75]}', 1, 2, 1.0, 0.0),
    ("json_decision_wrong", '{"decision": [0.75, 0.25]}', 1, 2, 0.0, 0.0),
    ("negative", "DECISION: (-0.2, 1.2)", 1, 2, 0.0, 0.0),
    ("all_zero", "DECISION: (0, 0)", 1, 2, 0.0, 0.0),
    ("trailing_reason", "DECISION: (0.35, 0.65)\n\nREASON: the dose is doubled.", 1, 2, 1.0, 1.0),
    ("indecision_word", "My indecision (0.5, 0.4) is real.", 0, 2, 0.0, 0.0),
    ("trailing_comma", "DECISION: (0.3, 0.7,)", 1, 2, 1.0, 1.0),
    ("last_unreadable", "DECISION: (0.1, 0.9)\nDECISION: (maybe, 0.9)", 1, 2, 1.0, 0.0),
]
# fmt: on


def test_table_is_big_enough():
    assert len(TABLE) >= 25
    assert len({row[0] for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize("rid,text,ref,n,want_decision,want_format", TABLE, ids=[r[0] for r in TABLE])
def test_reward_table(rid, text, ref, n, want_decision, want_format):
    assert decision_reward(["prompt"], [text], reference_index=[ref], n_options=[n]) == [want_decision]
    assert format_reward(["prompt"], [text], n_options=[n]) == [want_format]


@pytest.mark.parametrize("rid,text,ref,n,want_decision,want_format", TABLE, ids=[r[0] for r in TABLE])
def test_conversational_completions_read_the_same(rid, text, ref, n, want_decision, want_format):
    conv = [{"role": "assistant", "content": text}]
    assert decision_reward([[{"role": "user", "content": "q"}]], [conv], reference_index=[ref], n_options=[n]) == [
        want_decision
    ]
    assert format_reward([[{"role": "user", "content": "q"}]], [conv], n_options=[n]) == [want_format]


def test_batch_as_trl_calls_it():
    """TRL passes whole batches and extra keyword columns (trainer_state, log_metric, ...)."""
    texts = [row[1] for row in TABLE]
    refs = [row[2] for row in TABLE]
    sizes = [row[3] for row in TABLE]
    kw = {"completion_ids": [[1, 2]] * len(TABLE), "trainer_state": None, "log_metric": lambda *a: None}
    got = decision_reward(["p"] * len(TABLE), texts, reference_index=refs, n_options=sizes, **kw)
    assert got == [row[4] for row in TABLE]
    assert format_reward(["p"] * len(TABLE), texts, n_options=sizes, **kw) == [row[5] for row in TABLE]


def test_weighted_total_keeps_format_small():
    funcs, weights = reward_functions("accuracy")
    assert [f.__name__ for f in funcs] == ["decision_reward", "format_reward"]
    assert weights == [1.0, FORMAT_WEIGHT]
    # a tidy wrong answer earns less than an untidy right one
    wrong_tidy = TABLE[1][4] * weights[0] + TABLE[1][5] * weights[1]
    right_untidy = TABLE[12][4] * weights[0] + TABLE[12][5] * weights[1]
    assert wrong_tidy == pytest.approx(0.1) and right_untidy == pytest.approx(1.0)


def test_brier_reward():
    got = brier_reward(
        ["p"] * 5,
        ["DECISION: (0.0, 1.0)", "DECISION: (1.0, 0.0)", "DECISION: (0.5, 0.5)", "DECISION: (0.2, 0.8)", "none"],
        reference_index=[1, 1, 1, 1, 1],
        n_options=[2] * 5,
    )
    assert got[:3] == [1.0, 0.0, 0.75]
    assert math.isclose(got[3], 1 - (0.2**2 + 0.2**2) / 2)
    assert got[4] == 0.0


def test_completion_text_shapes():
    assert completion_text(None) == ""
    assert completion_text({"role": "assistant", "content": "x"}) == "x"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "DECISION: (1, 0)"}]}]) == (
        "DECISION: (1, 0)"
    )
    assert completion_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]) == "a"


def test_mismatched_columns_raise():
    with pytest.raises(ValueError, match="reference_index has 1 values for 2 completions"):
        decision_reward(["p", "p"], ["a", "b"], reference_index=[0], n_options=[2, 2])
    with pytest.raises(ValueError, match="unknown reward"):
        reward_functions("nope")
