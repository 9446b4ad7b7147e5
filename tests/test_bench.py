"""deepimagine/bench questions on the embedded real data: CT Open's shape and wording, answers from the posted
analyses, one question per comparison."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from deepimagine_data.builders import bench

from deepimagine_data import pipeline
from deepimagine_data.ctopen import IMPLICIT_META_LABELS, question_category
from deepimagine_data.pairs.comparisons import COMPARATOR_TYPES, exclusion
from deepimagine_data.pairs.render import superiority_options
from deepimagine_data.question_rows import endpoint_options
from deepimagine_data.scoring.decision import parse_decision


@pytest.fixture(scope="module")
def questions():
    tables, _ = bench.build_tables()
    return {s: t.to_pylist() for s, t in tables["questions"].items()}


def _all(questions) -> list[dict]:
    return [q for rows in questions.values() for q in rows]


def test_test_split_size_and_dates(questions):
    test = questions["test"]
    # the embedded AACT subset posts no per-arm values, so a significant result is asked only where a text gives its
    # direction; what the bench cannot ask is counted in the card's funnel, and the test split keeps at most 10
    # questions of a trial (issue 14: the cap wins over size)
    assert len(test) >= 300
    assert all(q["results_first_posted_date"] >= dt.date(2021, 1, 1) for q in test)
    assert all(
        dt.date(2020, 1, 1) <= q["results_first_posted_date"] < dt.date(2021, 1, 1) for q in questions["validation"]
    )


def test_at_most_ten_questions_per_trial_in_test(questions):
    per_trial = Counter(q["nct_id"] or q["trial_id"] for q in questions["test"])
    assert max(per_trial.values()) == 10  # the cap binds on the embedded data (one trial had 54 questions)
    # the cap never looks at answers: a trial's kept questions are its primary outcomes' first
    uncapped, _ = bench.build_tables(pipeline.BuildOptions(approx=None, bench_max_per_trial=None))
    full = Counter(r["nct_id"] or r["trial_id"] for r in uncapped["questions"]["test"].to_pylist())
    assert max(full.values()) > 10 and sum(full.values()) > len(questions["test"])
    for trial, n in full.items():
        assert per_trial[trial] == min(n, 10)
    rows = uncapped["questions"]["test"].to_pylist()
    primary = Counter((r["nct_id"] or r["trial_id"]) for r in rows if r["outcome_type"] == "PRIMARY")
    kept_primary = Counter((q["nct_id"] or q["trial_id"]) for q in questions["test"] if q["outcome_type"] == "PRIMARY")
    for trial, n in primary.items():
        assert kept_primary[trial] == min(n, 10)
    with pytest.raises(ValueError, match="bench_max_per_trial"):
        pipeline.BuildOptions(bench_max_per_trial=0)


def test_categories_are_computed_as_ct_open_computes_them(questions):
    kinds = Counter((q["category"], q["meta_label"], q["question_type"], len(q["options"])) for q in _all(questions))
    assert set(kinds) <= {
        ("2-way explicit", "single_arm", "superiority_2way", 2),
        ("2-way explicit", "distinguishable_arm", "superiority_2way", 2),
        ("3-way explicit", "single_arm", "comparative_3way", 3),
        ("3-way explicit", "distinguishable_arm", "comparative_3way", 3),
        ("2-way implicit", "no_arm", "endpoint_2way", 2),
        ("2-way implicit", "no_distinguishable_arm", "endpoint_2way", 2),
    }
    for q in _all(questions):
        assert q["category"] == question_category(len(q["options"]), q["meta_label"])
        assert (q["arms_mode"] == "implicit") == (q["meta_label"] in IMPLICIT_META_LABELS)
    assert {k[1] for k in kinds} == {"single_arm", "distinguishable_arm", "no_arm", "no_distinguishable_arm"}


def test_implicit_share_of_the_test_split(questions):
    test = questions["test"]
    implicit = sum(q["category"] == "2-way implicit" for q in test)
    assert implicit / len(test) >= 0.10


def test_wording_is_ct_opens(questions):
    for q in _all(questions):
        if q["question_type"] == "superiority_2way":
            a, b = q["a_arm_title"], q["b_arm_title"]
            assert q["options"] == superiority_options(a, b)
            assert q["options"][0] == (
                f"The study arm {b} has achieved statistically significant improvements over the study arm {a} "
                "with respect to this specific endpoint."
            )
        elif q["question_type"] == "comparative_3way":
            a, b = q["a_arm_title"], q["b_arm_title"]
            assert q["options"] == [
                f"Study Arm {a} is statistically significantly worse than Study Arm {b}.",
                f"Study Arm {b} is statistically significantly worse than Study Arm {a}.",
                f"No statistically significant difference between Study Arm {b} and Study Arm {a}.",
            ]
        else:
            assert q["options"] == endpoint_options(q["meta_label"])
    # no non-directional "any difference" question is left (CT Open never asks it)
    assert not [q for q in _all(questions) if "There is a statistically significant difference" in q["prompt"]]


def test_answers_are_the_options_and_prompts_carry_them(questions):
    for q in questions["test"]:
        assert q["answer"] == q["options"][q["answer_index"]]
        assert all(o in q["prompt"] for o in q["options"])
        assert f"DECISION: ({', '.join(f'p{i + 1}' for i in range(len(q['options'])))})" in q["prompt"]
        assert q["significance_source"] in ("posted_p_value", "posted_ci", "posted_margin")
        assert q["nct_id"] and q["nct_id"] in q["prompt"]
        # the options name protocol arms the prompt lists
        if q["arms_mode"] == "explicit":
            assert f'study arm "{q["a_arm_title"]}"' in q["prompt"] and f'study arm "{q["b_arm_title"]}"' in q["prompt"]


def test_one_question_per_comparison(questions):
    """No comparison is asked twice, in any split: an endpoint question takes its comparisons, every other
    comparison gives at most one explicit question (labels-v1 asked each 3-way comparison again as a 2-way one)."""
    seen: Counter = Counter()
    for q in _all(questions):
        ids = q["listed_comparison_ids"] if q["arms_mode"] == "implicit" else [q["comparison_id"]]
        seen.update(ids)
        if q["arms_mode"] == "implicit":
            assert q["comparison_id"] in ids and len(ids) == len(q["listed_results"])
    assert max(seen.values()) == 1
    # one registry trial read from two sources (AACT and CliniFact) is asked from one of them only
    sources: dict[str, set] = {}
    for q in _all(questions):
        sources.setdefault(q["nct_id"], set()).add(q["source"])
    assert all(len(s) == 1 for s in sources.values())


def test_every_question_is_an_arm_comparison_the_record_answers(questions):
    for q in _all(questions):
        assert exclusion(q) is None, q["question_id"]
        assert q["group_relation"] == "arms" and q["a_arm_id"] != q["b_arm_id"]
        assert q["p_ci_check"] != "disagree"


def test_endpoint_questions_are_primary_experimental_vs_one_comparator(questions):
    eps = [q for q in _all(questions) if q["question_type"] == "endpoint_2way"]
    assert {q["meta_label"] for q in eps} == {"no_arm", "no_distinguishable_arm"}
    for q in eps:
        assert q["outcome_type"] == "PRIMARY" and q["b_arm_type"] == "EXPERIMENTAL"
        assert q["a_arm_type"] in COMPARATOR_TYPES and q["roles_source"] == "arm_type"
        assert set(q["listed_results"]) <= {"met", "not_met"}
        assert q["answer_index"] == (0 if "met" in q["listed_results"] else 1)
        assert len(q["listed_arms"]) == (len(q["listed_comparison_ids"]) if q["meta_label"] != "no_arm" else 0)
        if q["meta_label"] == "no_distinguishable_arm":
            assert all(f'"{name}"' in q["question"] for name in q["listed_arms"])


def test_real_endpoint_questions():
    rows = {q["question_id"]: q for q in pipeline.questions().to_pylist()}
    # NCT03584009 (venetoclax + fulvestrant vs fulvestrant), primary outcome, CMH p = 0.7286: not met
    q = rows["NCT03584009:O0:endpoint"]
    assert (q["meta_label"], q["answer_index"], q["p_value"], q["alpha"]) == ("no_arm", 1, 0.7286, 0.05)
    assert q["options"] == ["This endpoint is met.", "This endpoint is not met."]
    # its secondary outcomes are asked explicitly, one question each, in CT Open's directional wording
    q = rows["NCT03584009:O1:OG001|OG000:superiority_2way"]
    assert q["options"][1].startswith("The study arm Venetoclax + Fulvestrant has not achieved statistically")
    assert (q["answer_index"], q["meta_label"]) == (1, "single_arm")
    # NCT03556358 (TX05 vs Herceptin, pCR): equivalence shown, RR 1.0783 (0.9185 to 1.2659) inside 0.755 to 1.325
    q = rows["NCT03556358:O0:endpoint"]
    assert (q["ni_result"], q["ni_margin_lower"], q["ni_margin_upper"], q["answer_index"]) == ("shown", 0.755, 1.325, 0)
    # X-ACT (NCT00009737): non-inferiority shown against the posted margin although the superiority p is 0.053
    q = rows["NCT00009737:O0:endpoint"]
    assert (q["ni_result"], q["p_value"], q["ci_upper"], q["answer_index"]) == ("shown", 0.053, 1.0, 0)


def test_keynote_048_is_read_with_its_sidedness():
    rows = {q["question_id"]: q for q in pipeline.questions().to_pylist()}
    # PFS CPS >= 20, pembro combo vs control: one-sided p 0.02951 is above the one-sided 0.025: not achieved
    q = rows["NCT02358031:O2:OG002|OG001:superiority_2way"]
    assert (q["p_value_sides"], q["significance"], q["answer_index"]) == (1, "not_significant", 1)
    # PFS all participants, pembro mono vs control: one-sided p 0.9983 and a CI above 1: significant, the other way
    q = rows["NCT02358031:O6:OG002|OG000:superiority_2way"]
    assert (q["significance"], q["benefit"], q["answer_index"]) == ("significant", "worse", 1)
    assert q["label_note"] == "one_sided_p_other_direction"
    # OS CPS >= 20, pembro mono vs control: one-sided p 0.0001, met
    q = rows["NCT02358031:O11:OG002|OG000:superiority_2way"]
    assert (q["significance"], q["benefit"], q["answer_index"]) == ("significant", "better", 0)


def test_superiority_wording_is_ct_opens(ctopen_dir):
    from deepimagine_data import ctopen

    # CT Open Winter 2025, NCT05799287: Telitacicept vs Placebo on UPCR change
    rec = next(r for r in ctopen.records("winter2025", ctopen_dir) if r.nct_id == "NCT05799287")
    assert list(rec.questions[0]) == superiority_options("Placebo", "Telitacicept")


def test_card_sets_the_shares_beside_ct_opens(questions):
    import pyarrow as pa

    from deepimagine_data.ctopen import REFERENCE_COUNTS
    from deepimagine_data.question_rows import QUESTIONS

    table = bench.ctopen_comparison(pa.Table.from_pylist(questions["test"], schema=QUESTIONS))
    test = questions["test"]
    n_implicit = sum(q["category"] == "2-way implicit" for q in test)
    assert f"{n_implicit / len(test):.1%} ({n_implicit:,})" in table
    winter = REFERENCE_COUNTS["winter2025"]
    assert f"{80 / 605:.1%} ({winter['2-way implicit']['questions']:,})" in table  # 13.2% (80)
    assert "Meta labels of the test split" in table


def test_model_output_round_trip(questions):
    q = questions["test"][0]
    raw = f"The arms differ little.\n\n**DECISION: ({', '.join(['0.5'] * len(q['options']))})**"
    assert parse_decision(raw, len(q["options"])).probabilities == tuple([0.5] * len(q["options"]))
