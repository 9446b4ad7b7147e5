"""The decision reader behind the lm-eval answer filter: realistic model outputs in, probabilities or a reason out.

Each row is an output a model actually writes for ``DECISION: (p1, p2[, p3])`` prompts (markdown, fences, JSON,
hedging, truncation, echoing the instruction). ``parse_decision`` is checked directly, and through the filter and
``process_results`` of ``benchmark/utils.py`` that lm-eval calls.
"""

from __future__ import annotations

import math

import pytest
from deepimagine_data.benchmark import utils

from deepimagine_data.scoring.decision import ctopen_probabilities, parse_decision

REASONING = (
    "The trial compares telitacicept with placebo in IgA nephropathy. B-cell modulators lowered proteinuria in "
    "phase 2, and 39 weeks is long enough to see a change in UPCR, so a significant improvement is likely.\n\n"
)

# (raw output, number of options, expected probabilities or None, expected reason when None)
CASES = [
    (REASONING + "DECISION: (0.7, 0.3)", 2, (0.7, 0.3), ""),
    (REASONING + "**DECISION:** (0.2, 0.8)", 2, (0.2, 0.8), ""),
    (REASONING + "**DECISION: (0.6, 0.4)**", 2, (0.6, 0.4), ""),
    (REASONING + "```\nDECISION: (0.65, 0.35)\n```", 2, (0.65, 0.35), ""),
    (REASONING + "```python\nDECISION = (0.5, 0.5)\n```", 2, (0.5, 0.5), ""),
    (REASONING + "Decision: (0.25, 0.75)", 2, (0.25, 0.75), ""),
    (REASONING + "DECISION: [0.1, 0.9]", 2, (0.1, 0.9), ""),
    (REASONING + "DECISION: (70%, 30%)", 2, (0.7, 0.3), ""),
    (REASONING + "DECISION: (70 %, 30 %)", 2, (0.7, 0.3), ""),
    (REASONING + "DECISION: (2, 6)", 2, (0.25, 0.75), ""),
    ('{"reasoning": "Placebo-controlled, large effect in phase 2.", "decision": [0.8, 0.2]}', 2, (0.8, 0.2), ""),
    ('{"DECISION": {"option_0": 0.15, "option_1": 0.85}}', 2, (0.15, 0.85), ""),
    ("DECISION: (0.9, 0.1)\n\nOn reflection, underpowered.\nDECISION: (0.4, 0.6)", 2, (0.4, 0.6), ""),
    ("DECISION: (0.8, 0.2) REASON: the drug lowered UPCR by 40% in phase 2 (p<0.05)", 2, (0.8, 0.2), ""),
    (REASONING + "DECISION: (0.8, 0.2).", 2, (0.8, 0.2), ""),
    (REASONING + "DECISION: (0.7, 0.3,)", 2, (0.7, 0.3), ""),
    (REASONING + "DECISION: (p1=0.3, p2=0.7)", 2, (0.3, 0.7), ""),
    (REASONING + "### DECISION\n(0.3, 0.7)", 2, (0.3, 0.7), ""),
    ("<think>Superiority is plausible.</think>\n<answer>DECISION: (0.75, 0.25)</answer>", 2, (0.75, 0.25), ""),
    ("I will end with one line DECISION: (p1, p2) as asked.\n\nDECISION: (0.35, 0.65)", 2, (0.35, 0.65), ""),
    ("The decision is hard here: the arms overlap.\nDECISION: (0.1, 0.2, 0.7)", 3, (0.1, 0.2, 0.7), ""),
    (REASONING + "DECISION: (.05, .15, .8)", 3, (0.05, 0.15, 0.8), ""),
    (REASONING + "DECISION: (1, 0)", 2, (1.0, 0.0), ""),
    # refused
    (REASONING + "I think the arm probably met the endpoint, maybe 70% likely.", 2, None, "no DECISION line"),
    ("After some indecision (0.5, 0.5) I cannot say.", 2, None, "no DECISION line"),
    (REASONING + "DECISION: (0.3, 0.7)", 3, None, "DECISION has 2 values, the question has 3 options"),
    (REASONING + "DECISION: (-0.2, 1.2)", 2, None, "DECISION has a negative value"),
    (REASONING + "DECISION: (0, 0)", 2, None, "DECISION values sum to 0"),
    (REASONING + "DECISION: (1e400, 1)", 2, None, "DECISION has a value that is not finite"),
    ("", 2, None, "empty output"),
    ("   \n\n  ", 3, None, "empty output"),
    (None, 2, None, "empty output"),
    (REASONING + "DECISION: (0.3, 0.7", 2, None, "no DECISION line"),  # cut off by max_gen_toks
    (REASONING + "DECISION: (p1, p2)", 2, None, "no DECISION line"),  # the instruction echoed, no numbers
    (REASONING + "Decision: option 0, with 70% confidence.", 2, None, "no DECISION line"),
    (REASONING + "DECISION: I am not sure.\n(0.3, 0.7)", 2, None, "no DECISION line"),
]
IDS = [f"{i:02d}-{(c[0] or 'None')[-40:]!r}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize(("text", "n", "expected", "reason"), CASES, ids=IDS)
def test_parse_decision(text, n, expected, reason):
    parsed = parse_decision(text, n)
    if expected is None:
        assert parsed.probabilities is None
        assert parsed.reason == reason
        assert not parsed.ok
    else:
        assert parsed.probabilities == pytest.approx(expected, abs=1e-12)
        assert math.isclose(sum(parsed.probabilities), 1.0)
        assert parsed.reason == ""


@pytest.mark.parametrize(("text", "n", "expected", "reason"), CASES, ids=IDS)
def test_decision_filter(text, n, expected, reason):
    doc = {"category": "3-way explicit" if n == 3 else "2-way explicit", "answer_index": 0,
           "options": [f"statement {i}" for i in range(n)]}  # fmt: skip
    # lm-eval hands the filter one list of generations per doc and expects the same shape back
    (out,) = utils.decision_filter([[text]], [doc])
    assert len(out) == 1
    decision = out[0]
    assert decision["reason"] == reason
    if expected is None:
        assert decision["probabilities"] is None
    else:
        assert decision["probabilities"] == pytest.approx(expected, abs=1e-12)

    per_doc = utils.process_results_generate(doc, [decision])
    assert set(per_doc) == {*utils.METRICS, *utils.INTERVAL_METRICS, "unparseable"}
    assert per_doc["unparseable"] == (1.0 if expected is None else 0.0)
    item = per_doc["cross_entropy"]
    assert item["readable"] is (expected is not None)
    assert math.isclose(sum(item["probabilities"]), 1.0)
    if expected is None:
        # counted wrong: the true option gets CT Open's floor
        assert item["probabilities"][0] == pytest.approx(1e-12)
    else:
        assert item["probabilities"] == pytest.approx(expected, abs=1e-11)


def test_filter_keeps_repeats_and_docs_apart():
    docs = [{"options": ["a", "b"]}, {"options": ["a", "b", "c"]}]
    out = utils.decision_filter([["DECISION: (1, 3)", "no idea"], ["DECISION: (1, 1, 2)"]], docs)
    assert out == [
        [{"probabilities": [0.25, 0.75], "reason": ""}, {"probabilities": None, "reason": "no DECISION line"}],
        [{"probabilities": [0.25, 0.25, 0.5], "reason": ""}],
    ]


def test_probabilities_match_ct_opens_reading_where_both_read():
    # Where CT Open's strict reader also reads the output, the task's metrics and `deepimagine score` see the same
    # probabilities (both clip to 1e-12 and renormalize).
    doc = {"category": "2-way explicit", "answer_index": 1, "options": ["a", "b"]}
    for text in (REASONING + "**DECISION:** (2, 6)\n\nREASON: ...", "DECISION: (1, 0)", "DECISION: (0.7, 0.3,)"):
        item = utils.process_results_generate(doc, [utils.read_decision(text, 2)])["brier"]
        assert item["probabilities"] == pytest.approx(ctopen_probabilities(text).tolist(), abs=1e-15)


def test_aggregation_is_ct_opens_per_category_mean():
    docs = [
        ({"category": "2-way explicit", "answer_index": 0, "options": ["a", "b"]}, "DECISION: (0.9, 0.1)"),
        ({"category": "2-way explicit", "answer_index": 1, "options": ["a", "b"]}, "DECISION: (0.6, 0.4)"),
        ({"category": "3-way explicit", "answer_index": 2, "options": ["a", "b", "c"]}, "no decision at all"),
    ]
    items = [utils.process_results_generate(d, [utils.read_decision(t, len(d["options"]))]) for d, t in docs]
    # 2-way: recall 1 on class 0, 0 on class 1 -> 0.5; 3-way: unreadable -> 0; overall: mean over categories
    assert utils.agg_balanced_accuracy([x["balanced_accuracy"] for x in items]) == pytest.approx(0.25)
    ce_2way = (-math.log(0.9) - math.log(0.4)) / 2
    assert utils.agg_cross_entropy([x["cross_entropy"] for x in items]) == pytest.approx(
        (ce_2way - math.log(1e-12)) / 2, rel=1e-12
    )
    assert sum(x["unparseable"] for x in items) / len(items) == pytest.approx(1 / 3)
