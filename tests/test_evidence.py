"""The label engine (deepimagine_data.evidence) on real registry analyses.

Every string and number below is verbatim from the embedded AACT snapshot (analyses' p_value_comment =
``p_value_description``, statistical_method = ``method``, statistical_comment = ``method_description``,
group_description = ``groups_description``; p-values, estimates and CIs as posted). The expected answers were
written by reading each record, not by running the code.
"""

from __future__ import annotations

import pytest

from deepimagine_data import evidence as E
from deepimagine_data.pairs import comparisons as cmp

SIG, NOT, UNK = "significant", "not_significant", "unknown"
PVC, MET, STC, GDS = "p_value_comment", "statistical_method", "statistical_comment", "group_description"

# --------------------------------------------------------------------------------------------------------------
# sidedness of the posted p-value
# --------------------------------------------------------------------------------------------------------------

BOTH_SIDES = "Note that the 2-sided p-value for log rank is reported, which is <0.001, hence 1-sided p-value is <0.001."
SIDES_CASES = [
    # NCT02358031 (KEYNOTE-048): the p-value's own description
    ({PVC: "One-sided p-value based on log-rank test stratified by ECOG and HPV status."}, 1, PVC),
    ({MET: "1-sided Log Rank"}, 1, MET),
    ({MET: "t-test, 1 sided"}, 1, MET),
    ({PVC: "One-sided"}, 1, PVC),  # NCT00096265: the whole description
    ({PVC: "1-sided"}, 1, PVC),  # NCT01457846
    ({STC: "(one-sided)"}, 1, STC),
    ({PVC: "This is a one sided p-value, which corresponds to the null hypothesis."}, 1, PVC),  # NCT00473889
    ({PVC: "P-value is for a one-sided hypothesis test."}, 1, PVC),  # NCT01666444
    ({PVC: "p-value from 1-sided log-rank test, stratified by ECOG performance status"}, 1, PVC),  # NCT00457691
    ({STC: "The 1-sided p-value is from the stratified exact test."}, 1, STC),
    ({STC: "Reported p-values are unadjusted and 1-sided"}, 1, STC),
    ({PVC: "One-sided test at significance level of 0.05"}, 1, PVC),  # NCT00979212: a one-sided test
    # a sided *level* is the alpha's, not the p-value's (NCT00063882 posts p = 0.95 for HR 0.99, 0.63 to 1.54:
    # a two-sided p)
    ({PVC: "One-sided significance level of 0.025"}, 2, "default"),
    ({PVC: "1-sided significance level was 0.20."}, 2, "default"),  # NCT00437294
    ({STC: "One-sided significance level = 0.05"}, 2, "default"),
    ({PVC: "One-sided alpha of 0.1."}, 2, "default"),  # NCT01743469
    # a power calculation describes the design, not the posted number (NCT00002597: p = 0.0309 with HR 1.17,
    # 95% CI 1.01 to 1.35, which is a two-sided p)
    (
        {
            GDS: "Null hypothesis: 8-year OS rate of 60% radiation therapy (RT) alone vs. 67% with hormone therapy. "
            "The study was designed with 90% power to detect a 7-percentage- point absolute difference in the "
            "8-year survival rate, with the use of a one-sided log-rank test at the 0.025 significance level, "
            "requiring 1980 patients and 716 deaths for definitive analysis."
        },
        2,
        "default",
    ),
    (
        {
            GDS: "120 patients per arm required to detect a 33% reduction in hazard rate corresponding to "
            "improvement in MST of 5.9 (null hypothesis) to 8.9 months with a one-sided type I error rate of "
            "0.025 and 85% power."
        },
        2,
        "default",
    ),
    # both sides stated of the reported numbers: no reading
    (
        {STC: BOTH_SIDES},
        2,
        "default",
    ),
    ({MET: "Log Rank"}, 2, "default"),
    ({PVC: "Two-sided p-value from stratified log-rank test"}, 2, PVC),
    # the first field that speaks decides
    ({PVC: "One-sided p-value", MET: "2-sided Log Rank"}, 1, PVC),
]


@pytest.mark.parametrize(("fields", "sides", "source"), SIDES_CASES)
def test_p_value_sides(fields: dict, sides: int, source: str) -> None:
    assert E.p_value_sides(fields) == E.Sides(sides, source)


def test_stated_alpha_reads_the_group_description() -> None:
    # NCT00069095: the level is only in the group description (labels-v1 did not read it)
    text = (
        "Testing for superiority was based on the stratified log-rank test and used a two-sided significance "
        "level of 2.5%.The hazard ratio (HR) of bevacizumab in combination with chemotherapy versus chemotherapy "
        "alone [HR(FOLFOX-4+P/XELOX+P)/(FOLFOX-4+BV/XELOX+BV)] was presented."
    )
    assert E.stated_alpha({GDS: text}, 2) == (0.025, GDS, 2)
    # a level with no sides is read on the p-value's own scale
    assert E.stated_alpha({PVC: "significance level 0.05"}, 1) == (0.05, PVC, 1)
    assert E.stated_alpha({}, 1) == (0.05, "default", 2)


# --------------------------------------------------------------------------------------------------------------
# the judgement, on whole analyses
# --------------------------------------------------------------------------------------------------------------


def _rec(p, mod, sides, alpha, alpha_sides, est_type, est, lo, hi, pct=95.0, ci_sides="TWO_SIDED", source=None):
    return {
        "p_value": p,
        "p_value_modifier": mod,
        "p_value_sides": sides,
        "alpha": alpha,
        "alpha_sides": alpha_sides,
        "alpha_source": source or ("default" if alpha == 0.05 and alpha_sides == 2 else "group_description"),
        "estimate_type": est_type,
        "estimate_value": est,
        "ci_lower": lo,
        "ci_upper": hi,
        "ci_percent": pct,
        "ci_sides": ci_sides,
        "is_non_inferiority": False,
    }


HR = "Hazard Ratio (HR)"
# (analysis, record, significance, source, reason, p_ci_check)
JUDGE_CASES = [
    # KEYNOTE-048 PFS CPS >= 20, pembro combo: one-sided p 0.02951 against the one-sided 0.025 of the default level;
    # labels-v1 called it significant. The CI reaches 1.01 and agrees.
    ("NCT02358031:O2:S0", _rec(0.02951, None, 1, 0.05, 2, HR, 0.76, 0.58, 1.01), NOT, "posted_p_value", None, "agree"),
    # KEYNOTE-048 PFS all participants, pembro mono: one-sided p 0.9983 tests the other way; the CI (1.09 to 1.53)
    # excludes 1, so the arms differ (pembrolizumab worse). labels-v1 called it "no difference".
    (
        "NCT02358031:O6:S0",
        _rec(0.9983, None, 1, 0.05, 2, HR, 1.29, 1.09, 1.53),
        SIG,
        "posted_ci",
        "one_sided_p_other_direction",
        "not_checkable",
    ),
    # the same, CPS >= 1: one-sided p 0.8958, 1 - p = 0.104 is above 0.025 either way: no difference
    ("NCT02358031:O7:S0", _rec(0.8958, None, 1, 0.05, 2, HR, 1.13, 0.94, 1.36), NOT, "posted_p_value", None, "agree"),
    # NCT00069095: two-sided 2.5% stated in the group description, 97.5% CI 0.66 to 1.01: p 0.0307 is not
    # significant (labels-v1: significant at 0.05)
    (
        "NCT00069095:O19:S0",
        _rec(0.0307, None, 2, 0.025, 2, HR, 0.82, 0.66, 1.01, 97.5),
        NOT,
        "posted_p_value",
        None,
        "agree",
    ),
    (
        "NCT00069095:O6:S0",
        _rec(0.0015, None, 2, 0.025, 2, HR, 0.83, 0.72, 0.95, 97.5),
        SIG,
        "posted_p_value",
        None,
        "agree",
    ),  # fmt: skip
    # NCT01924533 (full analysis set): p 0.0262 and a 97.5% CI (0.63 to 1.00), no level stated: significant at 0.05,
    # not at the 0.025 the interval implies -> unknown
    (
        "NCT01924533:O0:S0",
        _rec(0.0262, None, 2, 0.05, 2, HR, 0.79, 0.63, 1.0, 97.5),
        UNK,
        None,
        "alpha_unclear",
        "agree",
    ),
    # NCT00063882: "One-sided significance level of 0.025" (the alpha's sides); p 0.95 is two-sided: no difference
    (
        "NCT00063882:O1:S0",
        _rec(0.95, None, 2, 0.025, 1, HR, 0.99, 0.63, 1.54, source=PVC),
        NOT,
        "posted_p_value",
        None,
        "agree",
    ),
    # NCT00002597: a one-sided 0.025 design level is a two-sided 0.05 for the two-sided p 0.0309; CI 1.01 to 1.35
    (
        "NCT00002597:O0:S0",
        _rec(0.0309, None, 2, 0.025, 1, HR, 1.17, 1.01, 1.35),
        SIG,
        "posted_p_value",
        None,
        "agree",
    ),
    # p = 0 with modifier "=" (AACT's placeholder): the interval decides. NCT00856375: 0.4 to 1.041 -> no difference
    # (labels-v1: significant); NCT00883779: 0.63 to 0.99 -> significant
    (
        "NCT00856375:O0:S0",
        _rec(0.0, "=", 2, 0.05, 2, HR, 0.645, 0.4, 1.041),
        NOT,
        "posted_ci",
        "p_zero_without_modifier",
        "not_checkable",
    ),
    (
        "NCT00883779:O10:S0",
        _rec(0.0, "=", 2, 0.05, 2, HR, 0.79, 0.63, 0.99),
        SIG,
        "posted_ci",
        "p_zero_without_modifier",
        "not_checkable",
    ),
    # p and CI that disagree: NCT00566852 p = 0.025 with HR 1.06 (0.86 to 1.31); NCT00567580 p = 0.01 with a 97.5% CI
    # reaching 1.01 ("One-sided significance level = 0.0125")
    (
        "NCT00566852:O5:S0",
        _rec(0.025, None, 2, 0.05, 2, HR, 1.06, 0.86, 1.31),
        SIG,
        "posted_p_value",
        None,
        "disagree",
    ),  # fmt: skip
    (
        "NCT00567580:O3:S0",
        _rec(0.01, None, 2, 0.0125, 1, HR, 0.37, 0.14, 1.01, 97.5, source=PVC),
        SIG,
        "posted_p_value",
        None,
        "disagree",
    ),
    # a modifier: "<0.001" at 0.05 is significant; "<0.1" cannot say
    ("NCT00002597:O4:S0", _rec(0.001, "<", 2, 0.05, 2, HR, 1.74, 1.48, 2.04), SIG, "posted_p_value", None, "agree"),
    (
        "(constructed)",
        _rec(0.1, "<", 2, 0.05, 2, None, None, None, None),
        UNK,
        None,
        "p_bound_straddles_alpha",
        "not_checkable",
    ),  # fmt: skip
    # no p-value: the CI at the analysis' level (NCT01712009:O0:S2, risk difference 2.2, -8.0 to 12.4)
    (
        "NCT01712009:O0:S2",
        _rec(None, None, 2, 0.05, 2, "Difference", 2.2, -8.0, 12.4),
        NOT,
        "posted_ci",
        None,
        "not_checkable",
    ),  # fmt: skip
    # a one-sided CI cannot be read against a two-sided question; no p either -> unknown
    (
        "(constructed)",
        _rec(None, None, 2, 0.05, 2, HR, 0.8, None, 0.95, 97.5, "ONE_SIDED"),
        UNK,
        None,
        "no_p_value_or_ci",
        "not_checkable",
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("analysis", "rec", "sig", "source", "reason", "check"), JUDGE_CASES, ids=[c[0] for c in JUDGE_CASES]
)
def test_judge(analysis: str, rec: dict, sig: str, source: str | None, reason: str | None, check: str) -> None:
    j = E.judge(rec)
    assert (j.significance, j.source, j.reason, j.p_ci_check) == (sig, source, reason, check)


def test_one_sided_p_near_one_without_ci_is_unknown() -> None:
    # NCT00437294: "1-sided significance level was 0.20", p = 1.0 and no CI: the arms may differ the other way
    j = E.judge(_rec(1.0, None, 1, 0.2, 1, None, None, None, None))
    assert (j.significance, j.reason) == (UNK, "one_sided_p_may_favour_the_other_arm")
    # far from 1, a one-sided p says "no difference" with no CI: 1 - 0.9 = 0.1 is above the one-sided 0.025
    assert E.judge(_rec(0.9, None, 1, 0.05, 2, None, None, None, None)).significance == NOT


def test_p_significance_bounds() -> None:
    assert E.p_significance(0.02, None, 1, 0.05, 2) == SIG  # one-sided 0.02 below the one-sided 0.025
    assert E.p_significance(0.03, None, 1, 0.05, 2) == NOT
    assert E.p_significance(0.03, None, 2, 0.025, 1) == SIG  # two-sided 0.03 below the two-sided 0.05
    assert E.p_significance(0.0001, "<", 1, 0.05, 2) == SIG
    assert E.p_significance(0.05, ">", 2, 0.05, 2) == NOT
    assert E.p_significance(0.99, ">", 1, 0.05, 2) == "needs_ci"


# --------------------------------------------------------------------------------------------------------------
# the whole embedded corpus: every comparison's label recomputes from the values it keeps
# --------------------------------------------------------------------------------------------------------------


def test_every_comparison_recomputes_and_states_why_unknown() -> None:
    from deepimagine_data import pipeline

    comps = pipeline.comparisons()
    assert len(comps) > 5000
    for c in comps:
        again = cmp.recompute_label(c)
        for k, v in again.items():
            assert c[k] == v, (c["comparison_id"], k, c[k], v)
        if not cmp.answer_known(c):
            assert c["label_note"], c["comparison_id"]
        if c["significance_source"] == "posted_p_value":
            assert c["p_value_sides"] in (1, 2) and c["alpha_sides"] in (1, 2)


# --------------------------------------------------------------------------------------------------------------
# which analysis, which groups, which prompt: real records through the pipeline
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def by_id() -> dict[str, dict]:
    from deepimagine_data import pipeline

    return {c["comparison_id"]: c for c in pipeline.comparisons()}


def test_analyses_that_disagree_are_dropped_and_agreeing_ones_merged(by_id) -> None:
    from deepimagine_data import pipeline

    # NCT02763566 (EORTC QLQ-C30): one outcome, the same two arms, 15+ analyses of its subscales: Global Health
    # Status p = 0.287, Appetite p = 0.001. labels-v1 took the first; no single answer exists, so no comparison.
    assert not [k for k in by_id if k.startswith("NCT02763566:O7:")]
    assert "NCT02763566:O6:OG001|OG000" in by_id  # its other outcomes stay
    steps = {name.split(" (")[0]: dropped for name, _, dropped in pipeline.labelled().steps}
    assert steps["comparisons"]["analyses_disagree"] >= 100
    merged = [c for c in by_id.values() if c["n_posted_analyses"] > 1]
    assert merged and all(cmp.answer_known(c) for c in merged if c["significance"] != "unknown")


def test_groups_that_are_not_two_arms_are_labelled_but_not_paired(by_id) -> None:
    from deepimagine_data import pipeline

    # NCT02099864: responders vs non-responders of one arm
    rel = {c["comparison_id"]: c["group_relation"] for c in by_id.values() if c["trial_id"] == "NCT02099864"}
    assert rel and set(rel.values()) == {"same_arm"}
    arm = pipeline.strict_pairs()["strict_arm"]
    assert "NCT02099864" not in set(arm.column("trial_id").to_pylist())
    assert cmp.exclusion(by_id["NCT02099864:O8:OG001|OG000"]) == "not_two_arms:same_arm"


def test_outcomes_that_differ_only_by_population_say_so(by_id) -> None:
    from deepimagine_data import pipeline

    # NCT01924533: O2 (FAS) and O3 (ATM-negative FAS) have the same title, description and time frame; labels-v1
    # rendered the same prompt for both. The outcome block now names the analysis population.
    rows = {r["pair_id"]: r for r in pipeline.strict_pairs()["strict_arm"].to_pylist()}
    fas, atm = rows["strict_arm:NCT01924533:O2:OG001|OG000"], rows["strict_arm:NCT01924533:O3:OG001|OG000"]
    assert fas["outcome_title"] == atm["outcome_title"] and fas["prompt"] != atm["prompt"]
    assert "analysis population: FAS analysis set population" in fas["prompt"]
    assert "analysis population: FAS analysis set - ATM negative population" in atm["prompt"]
    # its primary OS (O0): p 0.0262 with a 97.5% CI and no stated level -> unknown, not asked
    assert (by_id["NCT01924533:O0:OG001|OG000"]["label_note"], by_id["NCT01924533:O0:OG001|OG000"]["significance"]) == (
        "alpha_unclear",
        "unknown",
    )


def test_benefit_from_a_posted_favour_statement(by_id) -> None:
    # NCT00753545 (olaparib maintenance, Study 19): "HR < 1 favours olaparib", HR 0.35: olaparib better, significant
    c = by_id["NCT00753545:O0:OG001|OG000"]
    assert (c["direction_source"], c["reference_text"], c["estimate_value"]) == (
        "estimate_favour_statement",
        "HR < 1 favours olaparib",
        0.35,
    )
    assert (c["b_title"], c["benefit"], c["superiority"]) == ("Olaparib 400 mg bd", "better", "met")
    assert cmp.recompute_label(c)["benefit"] == "better"
    # NCT00900627:O2: "... ie a odds ratio <1 favours AZD8931 ..." posted for a response odds ratio (copied from the
    # hazard ratio's comment) contradicts the ordering read with the outcome's polarity: no benefit is claimed
    c = by_id["NCT00900627:O2:OG001|OG000"]
    assert (c["direction_source"], c["benefit"], c["direction"]) == ("conflicting_texts", "unknown", "unknown")
