"""deepimagine/bench questions on the embedded real data: CT Open's shape, answers from the posted analyses."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from deepimagine_data.builders import bench

from deepimagine_data import pipeline
from deepimagine_data.pairs.render import parse_decision


@pytest.fixture(scope="module")
def questions():
    tables, _ = bench.build_tables()
    return {s: t.to_pylist() for s, t in tables["questions"].items()}


def test_test_split_size_and_dates(questions):
    test = questions["test"]
    assert len(test) >= 800
    assert all(q["results_first_posted_date"] >= dt.date(2021, 1, 1) for q in test)
    assert all(
        dt.date(2020, 1, 1) <= q["results_first_posted_date"] < dt.date(2021, 1, 1) for q in questions["validation"]
    )


def test_categories_follow_ct_open(questions):
    allq = [q for rows in questions.values() for q in rows]
    cats = Counter((q["category"], q["question_type"], len(q["options"]), q["arms_mode"]) for q in allq)
    assert set(cats) <= {
        ("2-way explicit", "difference_2way", 2, "explicit"),
        ("2-way explicit", "non_inferiority_2way", 2, "explicit"),
        ("2-way explicit", "superiority_2way", 2, "explicit"),
        ("3-way explicit", "comparative_3way", 3, "explicit"),
        ("2-way implicit", "endpoint_2way", 2, "implicit"),
    }
    assert {c[0] for c in cats} == {"2-way explicit", "3-way explicit", "2-way implicit"}


def test_answers_are_the_options_and_prompts_carry_them(questions):
    for q in questions["test"]:
        assert q["answer"] == q["options"][q["answer_index"]]
        assert all(o in q["prompt"] for o in q["options"])
        assert f"DECISION: ({', '.join(f'p{i + 1}' for i in range(len(q['options'])))})" in q["prompt"]
        assert q["significance_source"] in ("posted_p_value", "posted_ci")
        assert q["nct_id"] and q["nct_id"] in q["prompt"]


def test_real_question_nct03584009(questions):
    q = next(q for q in questions["test"] if q["question_id"] == "NCT03584009:O0:OG001|OG000:difference_2way")
    assert q["category"] == "2-way explicit" and q["answer_index"] == 1
    assert (q["p_value"], q["alpha"], q["statistical_method"]) == (0.7286, 0.05, "Cochran-Mantel-Haenszel")
    assert {a["title"] for a in q["arms"]} == {"Venetoclax + Fulvestrant", "Fulvestrant"}


def test_three_way_options_are_ct_open_wording(questions):
    q = next(q for q in questions["test"] if q["question_type"] == "comparative_3way")
    a, b = q["a_title"], q["b_title"]
    assert q["options"] == [
        f"Study Arm {a} is statistically significantly worse than Study Arm {b}.",
        f"Study Arm {b} is statistically significantly worse than Study Arm {a}.",
        f"No statistically significant difference between Study Arm {b} and Study Arm {a}.",
    ]
    assert q["benefit"] in ("better", "worse", "no_difference")


def test_endpoint_questions_are_primary_experimental_vs_comparator(questions):
    eps = [q for rows in questions.values() for q in rows if q["question_type"] == "endpoint_2way"]
    assert eps
    for q in eps:
        assert q["outcome_type"] == "PRIMARY" and q["b_arm_type"] == "EXPERIMENTAL"
        assert q["roles_source"] == "arm_type" and q["superiority"] in ("met", "not_met")
        assert q["options"] == ["This endpoint is met.", "This endpoint is not met."]


def test_question_set_does_not_depend_on_answers():
    """A comparison with a posted answer gives exactly one explicit question, whatever its answer: significant
    comparisons with an unknown direction are asked as 2-way, not dropped."""
    comps = pipeline.comparisons()
    q = pipeline.questions().to_pylist()
    explicit = Counter(
        r["comparison_id"] for r in q if r["arms_mode"] == "explicit" and r["question_type"] != ("superiority_2way")
    )
    posted = [
        c
        for c in comps
        if c["significance_source"] in ("posted_p_value", "posted_ci") and c["significance"] != "unknown"
    ]
    assert len(explicit) == len(posted) and max(explicit.values()) == 1
    sig_unknown_dir = [c for c in posted if c["significance"] == "significant" and c["benefit"] == "unknown"]
    assert sig_unknown_dir and all(c["comparison_id"] in explicit for c in sig_unknown_dir)
    # the superiority form exists exactly where the benefit is known, whatever the answer
    sup = {r["comparison_id"]: r for r in q if r["question_type"] == "superiority_2way"}
    three = {r["comparison_id"] for r in q if r["question_type"] == "comparative_3way"}
    assert set(sup) == three and {r["answer_index"] for r in sup.values()} == {0, 1}


def test_superiority_wording_is_ct_opens(shared_data):
    from deepimagine_data import ctopen
    from deepimagine_data.pairs.render import superiority_options

    # CT Open Winter 2025, NCT05799287: Telitacicept vs Placebo on UPCR change
    rec = next(r for r in ctopen.records("winter2025", shared_data / "ct_open") if r.nct_id == "NCT05799287")
    assert list(rec.questions[0]) == superiority_options("Placebo", "Telitacicept")


def test_model_output_round_trip(questions):
    q = questions["test"][0]
    raw = f"The arms differ little.\n\n**DECISION: ({', '.join(['0.5'] * len(q['options']))})**"
    assert parse_decision(raw) == [0.5] * len(q["options"])
