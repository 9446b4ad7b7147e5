"""Strict pairs on the embedded real data: counts, real records, labels recomputed by hand from source values."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from deepimagine_data import pipeline
from deepimagine_data.pairs import comparisons as cmp
from deepimagine_data.pairs.render import TargetRule, template_dir, templates
from deepimagine_data.scoring.decision import parse_decision


@pytest.fixture(scope="module")
def pairs() -> dict[str, list[dict]]:
    return {k: t.to_pylist() for k, t in pipeline.strict_pairs().items()}


def _one(rows, **kw):
    hits = [r for r in rows if all(r[k] == v for k, v in kw.items())]
    assert len(hits) == 1, (kw, len(hits))
    return hits[0]


def test_counts_meet_the_issue(pairs):
    assert len(pairs["strict_arm"]) >= 5000
    assert len(pairs["strict_outcome"]) >= 5000
    with_values = [r for r in pairs["strict_dose"] if r["a_value"] is not None and r["b_value"] is not None]
    assert len(with_values) >= 300


def test_posted_analysis_pair_nct03584009(pairs):
    # AACT: Venetoclax + Fulvestrant vs Fulvestrant (ACTIVE_COMPARATOR), Cochran-Mantel-Haenszel p = 0.7286
    r = _one(pairs["strict_arm"], pair_id="strict_arm:NCT03584009:O0:OG001|OG000")
    assert (r["a_title"], r["a_arm_type"], r["b_title"]) == (
        "Fulvestrant",
        "ACTIVE_COMPARATOR",
        "Venetoclax + Fulvestrant",
    )
    assert r["roles_source"] == "arm_type"
    assert (r["p_value"], r["p_value_modifier"], r["alpha"]) == (0.7286, None, 0.05)
    assert r["significance"] == "not_significant" and r["significance_source"] == "posted_p_value"
    assert r["statistical_method"] == "Cochran-Mantel-Haenszel"
    # no per-arm values in AACT and no posted text naming the reference: direction is not claimed
    assert r["direction"] == "unknown" and r["question_type"] == "difference_2way"
    assert r["options"][r["answer_index"]].startswith("There is no statistically significant difference")
    assert r["completion"].endswith("DECISION: (0.2, 0.8)") and r["target_rule"] == "smooth:0.2"
    assert (r["source"], r["license"]) == ("aact", "GPL-3.0-or-later (compilation); ClinicalTrials.gov records")
    assert r["source_version"].startswith("aact_oncology_merck@")


def test_dose_pair_welch_by_hand(pairs):
    # MBNMAdose alog_pcfb NCT00286429: alogliptin 12.5 (-0.84, SE 0.0719, n 130) vs 25 (-0.81, SE 0.0731, n 126)
    r = _one(pairs["strict_dose"], pair_id="strict_dose:dose_response/alog_pcfb/NCT00286429:O0:OG001|OG002")
    assert (r["a_dose_value"], r["b_dose_value"], r["a_dose_unit"]) == (12.5, 25.0, None)  # unit not in source
    assert r["dose_match"] == "interventions" and r["computed_test"] == "welch_t"
    sa, sb = r["a_spread"] * math.sqrt(r["a_n"]), r["b_spread"] * math.sqrt(r["b_n"])
    va, vb = sa**2 / r["a_n"], sb**2 / r["b_n"]
    t = (r["b_value"] - r["a_value"]) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (r["a_n"] - 1) + vb**2 / (r["b_n"] - 1))
    assert r["computed_p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)
    assert r["change"] == pytest.approx(0.03) and r["change_kind"] == "mean_difference"
    assert r["significance"] == "not_significant"
    # HbA1c change: lower is better, so the higher dose's (non-significantly) higher value is "worse"
    assert (r["direction"], r["polarity"], r["benefit"]) == ("higher", "lower_is_better", "worse")
    assert r["question_type"] == "comparative_3way" and r["answer_index"] == 2


def test_frequency_pair_fisher_by_hand(pairs):
    # psoriasis (Langley 2018): ixekizumab 80 mg Q2W 545/611 vs Q4W 510/616 reach PASI 75
    r = _one(pairs["strict_dose"], pair_id="strict_dose:dose_response/psoriasis/Langley et al (2018):O0:OG001|OG000")
    assert (r["a_dose_frequency"], r["b_dose_frequency"]) == ("Q2W", "Q4W")
    a, n1, b, n2 = int(r["a_value"]), r["a_n"], int(r["b_value"]), r["b_n"]
    total, k = n1 + n2, a + b

    def pmf(x):
        return math.comb(n1, x) * math.comb(n2, k - x) / math.comb(total, k)

    p_obs = pmf(a)
    p = sum(pmf(x) for x in range(max(0, k - n2), min(k, n1) + 1) if pmf(x) <= p_obs * (1 + 1e-7))
    assert r["computed_p_value"] == pytest.approx(p, rel=1e-6)
    assert r["significance"] == "significant" and r["benefit"] == "worse" and r["answer_index"] == 1
    assert "dosing frequency changes from Q2W to Q4W" in r["prompt"]


def test_zero_dose_only_in_dose_ranging_trials(pairs):
    zero = [r for r in pairs["strict_dose"] if r["dose_match"] == "zero"]
    assert zero and all(r["a_title"] == "Placebo" and r["a_dose_value"] == 0 for r in zero)
    dose_pairs = {r["trial_id"] for r in pairs["strict_dose"] if r["dose_match"] in ("interventions", "title")}
    # a placebo arm is dose 0 only where the trial gives the drug at two or more doses
    assert {r["trial_id"] for r in zero} <= dose_pairs


def test_dose_pairs_of_an_unnamed_drug_are_strict_dose_only(pairs):
    # DoseFinding's migraine trial (NCT00712725) names no drug: "Dose 2.5" ... "Dose 200" are doses of one study
    # drug, and placebo is its dose 0. labels-v1 put all 28 comparisons in strict_arm.
    migraine = "dose_response/migraine/NCT00712725"
    assert not [r for r in pairs["strict_arm"] if r["trial_id"] == migraine]
    dose = {r["pair_id"]: r for r in pairs["strict_dose"] if r["trial_id"] == migraine}
    assert len(dose) == 28  # 8 arms, every two of them
    r = dose["strict_dose:dose_response/migraine/NCT00712725:O0:OG001|OG002"]
    assert (r["a_title"], r["b_title"], r["dose_match"], r["roles_source"]) == (
        "Dose 2.5",
        "Dose 5",
        "title",
        "dose_title",
    )
    assert dose["strict_dose:dose_response/migraine/NCT00712725:O0:OG000|OG001"]["dose_match"] == "zero"


def test_dose_cohorts_of_one_arm_from_aact(pairs):
    # NCT00283439 has one protocol arm and reports its dose cohorts: two doses of one drug (strict_dose), never two
    # arms (no strict_arm row, no benchmark question)
    r = _one(pairs["strict_dose"], pair_id="strict_dose:NCT00283439:O0:OG000|OG001")
    assert (r["a_title"], r["b_title"]) == ("Romiplostim 100 µg", "Romiplostim 300 µg")
    assert r["dose_match"] == "interventions" and r["a_interventions"] == r["b_interventions"] == [
        "AMG 531"
    ]  # romiplostim
    assert r["group_relation"] == "same_arm" and r["a_arm_id"] == r["b_arm_id"]
    assert r["p_value"] == 0.7133 and r["significance"] == "not_significant"
    assert not [x for x in pairs["strict_arm"] if x["trial_id"] == "NCT00283439"]


def test_ci_significance_without_p_value(pairs):
    from deepimagine_data.evidence import judge

    # NCT00052910: Cox HR 0.99 (95% CI 0.79 to 1.24), no p-value posted -> the CI covers 1 -> not significant
    r = _one(pairs["strict_arm"], pair_id="strict_arm:NCT00052910:O0:OG000|OG001")
    assert r["p_value"] is None and (r["ci_percent"], r["ci_sides"]) == (95.0, "TWO_SIDED")
    assert r["significance_source"] == "posted_ci" and r["significance"] == "not_significant"
    assert judge(dict(r, ci_lower=1.05, ci_upper=1.9, estimate_value=1.4)).significance == "significant"
    # a 90% CI that covers 1 says p >= 0.10 (not significant at 0.05); one that excludes it cannot say p < 0.05
    assert judge(dict(r, ci_percent=90.0)).significance == "not_significant"
    excl90 = dict(r, ci_percent=90.0, ci_lower=1.01, ci_upper=1.3, estimate_value=1.1)
    assert (judge(excl90).significance, judge(excl90).reason) == ("unknown", "alpha_unclear")


def test_outcome_pairs_share_arms_and_anchor_result(pairs):
    rows = pairs["strict_outcome"]
    by_cmp = {r["comparison_id"]: r for r in pairs["strict_arm"] + pairs["strict_dose"]}
    for r in rows:
        assert r["anchor_outcome_id"] != r["outcome_id"]
        assert r["anchor_outcome_id"].rsplit(":O", 1)[0] == r["trial_id"]
        anchor = by_cmp.get(r["anchor_comparison_id"])
        if anchor is not None and anchor["a_title"] == r["a_title"]:
            assert anchor["significance"] == r["anchor_significance"]
    # anchors are the first three outcomes of an arm pair: quadratic growth is cut
    per_target: dict[str, int] = {}
    for r in rows:
        per_target[r["comparison_id"]] = per_target.get(r["comparison_id"], 0) + 1
    assert max(per_target.values()) <= cmp_anchors()


def cmp_anchors() -> int:
    from deepimagine_data.pairs.strict import OUTCOME_ANCHORS

    return OUTCOME_ANCHORS


def test_outcome_pair_reoriented_to_anchor_roles():
    """Same two arms listed the other way round on another outcome: the target is re-derived with the anchor's
    a/b, so "b better than a" means the same arm on both outcomes."""
    tables, _ = pipeline.corpus()
    c = cmp.Corpus.from_tables(tables)
    rows = pipeline.strict_pairs()["strict_outcome"].to_pylist()
    flipped = 0
    for r in rows:
        o = r["outcome_id"]
        target_first = [a for a in c.analyses.get(o, []) if a["analysis_id"] == r["analysis_id"]]
        if target_first and r["roles_source"] == "listed_order":
            listed_b = c.groups[target_first[0]["group_ids"][0]]["title"]
            if cmp.norm_title(listed_b) != cmp.norm_title(r["b_title"]):
                flipped += 1
        anchor_cmp = r["anchor_comparison_id"]
        a_code, b_code = anchor_cmp.rsplit(":", 1)[1].split("|")
        ao = r["anchor_outcome_id"]
        # the same protocol arm is "a" (and "b") on the anchor's outcome and on the target's
        assert c.links[f"{ao}:{a_code}"].arm_id == r["a_arm_id"] and c.links[f"{ao}:{b_code}"].arm_id == r["b_arm_id"]
    assert flipped > 0


def test_rendering_is_trl_standard_and_decision_matches_answer(pairs):
    _, _, sha = templates()
    for rows in pairs.values():
        for r in rows[:: max(1, len(rows) // 300)]:
            assert r["messages"] == [
                {"role": "user", "content": r["prompt"]},
                {"role": "assistant", "content": r["completion"]},
            ]
            n = len(r["options"])
            parsed = parse_decision(r["completion"], n)
            assert parsed.ok and n == (3 if "3way" in r["question_type"] else 2)
            assert parsed.decided() == r["answer_index"]
            assert list(parsed.probabilities) == TargetRule.parse(r["target_rule"]).probabilities(n, r["answer_index"])
            assert r["completion"].rstrip().splitlines()[-1].startswith("DECISION: (")
            assert all(o in r["prompt"] for o in r["options"])
            assert r["template_version"] == "pairs-v3" and r["template_sha256"] == sha
            assert r["source"] and r["source_version"] and r["license"]
    assert (template_dir() / "prompt.txt").is_file()


def test_pair_ids_are_unique_across_kinds(pairs):
    ids = [r["pair_id"] for rows in pairs.values() for r in rows]
    assert len(ids) == len(set(ids))


def test_unknown_labels_are_not_pairs(pairs):
    for rows in pairs.values():
        for r in rows:
            assert cmp.answer_known(r) and cmp.exclusion(r, dose_cohorts_ok=True) is None, r["pair_id"]
            if r["is_non_inferiority"]:  # answered by the margin, never by a p-value
                assert r["ni_result"] in ("shown", "not_shown") and r["significance"] == "unknown"
            else:
                assert r["significance"] != "unknown"


def test_pairs_schema_is_one_for_all_kinds():
    from deepimagine_data.pairs.strict import PAIRS

    t = pipeline.strict_pairs()
    # every kind has rows, and every kind's table is the declared schema (the builders and cards read PAIRS)
    assert set(t) == {"strict_arm", "strict_dose", "strict_outcome"} and all(v.num_rows for v in t.values())
    assert all(v.schema.equals(PAIRS) for v in t.values()), {k: v.schema for k, v in t.items()}


@pytest.mark.parametrize(
    ("spec", "n", "answer", "probs"),
    [
        ("smooth:0.2", 2, 1, [0.2, 0.8]),
        ("smooth:0.2", 3, 0, [0.8, 0.1, 0.1]),
        ("smooth:0.3", 3, 2, [0.15, 0.15, 0.7]),
        ("onehot", 3, 1, [0.0, 1.0, 0.0]),
        (None, 2, 0, [0.8, 0.2]),  # the default
    ],
)
def test_target_rule(spec, n, answer, probs):
    assert TargetRule.parse(spec).probabilities(n, answer) == probs


@pytest.mark.parametrize("spec", ["smooth:0.5", "smooth:-0.1", "smooth", "soft:0.2", "smooth:x"])
def test_target_rule_refuses_what_would_not_keep_the_answer_on_top(spec):
    with pytest.raises(ValueError, match="target rule"):
        TargetRule.parse(spec)


def test_registry_text_is_clean_in_the_prompts(pairs):
    """NCT00002525 (AACT): every result group's description ends with the registry's "<intervention>: <description>"
    lines, so the control arm "No Perioperative 5-FU" showed the perioperative 600 mg/m^2/d schedule; both arms
    parse the shared adjuvant dose 425 mg/m^2, which hid the difference."""
    r = _one(pairs["strict_arm"], pair_id="strict_arm:NCT00002525:O0:OG001|OG000")
    anchor = r["prompt"].split("Reference arm (its own result is not posted):\n")[1].split("\n\n")[0]
    assert anchor.startswith('study arm "No Perioperative 5-FU" — Patients receive no perioperative fluorouracil. ')
    assert "600 mg/m^2/d" not in r["prompt"] and "~" not in r["prompt"]
    assert "(dose:" not in r["prompt"]  # 425 mg/m^2 in both arms is not the difference
    assert r["a_description"].endswith("leucovorin calcium was given at a dose of 20mg/m^2 IV push on days 1-5")
    # a dose that differs is shown (once: in the description or after it): strict_dose rows name both doses
    for d in pairs["strict_dose"]:
        assert d["a_dose_text"] in d["prompt"] and d["b_dose_text"] in d["prompt"], d["pair_id"]
        assert d["prompt"].count(f"(dose: {d['b_dose_text']}") <= 1
    alog = _one(pairs["strict_dose"], pair_id="strict_dose:dose_response/alog_pcfb/NCT00286429:O0:OG001|OG002")
    assert 'study arm "alogliptin 25" — agent=alogliptin; dose (units not stated in source): 25; same' in alog["prompt"]
    import re

    from deepimagine_data.pairs.render import clean_text, clip

    n_clipped = 0
    for rows in pairs.values():
        for p in rows:
            # AACT's line separators are gone; "~" stays only as "approximately" before a number
            assert not re.search(r"~(?! ?\d)", p["prompt"]), p["pair_id"]
            for side in ("a", "b"):
                text = clean_text(p[f"{side}_description"])
                if not text or text == p[f"{side}_title"]:
                    continue
                shown = clip(text).rstrip(".;, ")
                assert f'study arm "{p[f"{side}_title"]}" — {shown}' in p["prompt"], p["pair_id"]
                if shown.endswith("…"):
                    # cut at a word boundary: a prefix of the text that ends where a word ends
                    head = shown[:-1]
                    assert text.startswith(head) and text[len(head)] in " ,;:-—", (p["pair_id"], head[-30:])
                    n_clipped += 1
    assert n_clipped > 100


@pytest.mark.parametrize(
    ("text", "interventions", "expected"),
    [
        # NCT00002525's control group (AACT outcome group OG001)
        (
            "Patients receive no perioperative fluorouracil.~After surgery, 5-FU was given~fluorouracil: "
            "Perioperative 5-FU: 600 mg/m^2/d x 7 days~After surgery, 5-FU was given 425 mg/m^2~leucovorin "
            "calcium: given after surgery",
            [
                ("fluorouracil", "Perioperative 5-FU: 600 mg/m^2/d x 7 days~After surgery, 5-FU was given 425 mg/m^2"),
                ("leucovorin calcium", "given after surgery"),
            ],
            "Patients receive no perioperative fluorouracil.~After surgery, 5-FU was given",
        ),
        # an arm's own "<drug>: <dose>" line is not the intervention's description: it stays
        ("Cisplatin: 75 mg/m2 on day 1", [("Cisplatin", "Platinum agent")], "Cisplatin: 75 mg/m2 on day 1"),
        # a description that is nothing but the appended lines keeps them (better than nothing)
        ("Drug X: tablets", [("Drug X", "tablets")], "Drug X: tablets"),
        (None, [("A", "b")], None),
    ],
)
def test_strip_intervention_lines(text, interventions, expected):
    from deepimagine_data.pairs.render import strip_intervention_lines

    assert strip_intervention_lines(text, interventions) == expected
