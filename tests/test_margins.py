"""Margins of non-inferiority and equivalence analyses (deepimagine_data.margins), tested on real registry strings.

Every case in CASES is one analysis of the embedded AACT oncology snapshot
(``deepimagine_data/data/aact_oncology/outcome_analyses.parquet``): all of its non-empty comment fields, verbatim
(``test_cases_are_verbatim`` checks each against the parquet), under the package's field names, with its estimate
type, posted confidence interval and non_inferiority_type. The expected margin or reason and the expected result
were written by reading the strings, not by running the code.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

import deepimagine_data
from deepimagine_data.margins import (
    MARGIN_FIELDS,
    MARGIN_REASONS,
    MARGIN_RESULT_VALUES,
    Margin,
    margin_result,
    read_margin,
)

PARQUET = Path(deepimagine_data.__file__).parent / "data" / "aact_oncology" / "outcome_analyses.parquet"
# The AACT column behind each field name the package's normalized tables use.
AACT = {"non_inferiority_comment": "non_inferiority_description", "statistical_comment": "method_description",
        "group_description": "groups_description", "p_value_comment": "p_value_description",
        "estimate_comment": "estimate_description"}  # fmt: skip
NI_TYPES = (
    "Non-Inferiority",
    "Equivalence",
    "Non-Inferiority or Equivalence",
    "Non-Inferiority or Equivalence (legacy)",
)


def NI(lower, upper, result):
    return ("non_inferiority", lower, upper, None, result)


def EQ(lower, upper, result):
    return ("equivalence", lower, upper, None, result)


def WHY(reason):
    return (None, None, None, reason, "unknown")


CASES = [
    # NCT00009737: X-ACT DFS: 1.25 then 1.20, the strictest; the p-value comment's '< 0.001' is no margin
    dict(
        id=3689111,
        nct="NCT00009737",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.75, 1.0),
        expect=NI(None, 1.20, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was tested by comparing the upper limit of the 95% confidence interval for "
                "the hazard ratio to the non-inferiority margin of 1.25 in a first step, and then of 1.20 in "
                "a second step."
            ),
            "p_value_comment": "For difference between arms, < 0.001 for non-inferiority",
        },
    ),
    # NCT03556358: two one-sided hypotheses and the interval [0.755, 1.325]
    dict(
        id=3678311,
        nct="NCT03556358",
        ni_type="Equivalence",
        est="Risk Ratio (RR)",
        ci=(0.9185, 1.2659),
        expect=EQ(0.755, 1.325, "shown"),
        fields={
            "non_inferiority_comment": (
                "Two one-sided hypothesis tests were performed for pCR in order to show that TX05 is "
                "equivalent to Herceptin:~TEST 1: H0a: θ1 / θ2 > 1.325 vs. H1a: θ1 / θ2 < 1.325~TEST 2: H0b: "
                "θ1 / θ2 < 0.755 vs. H1b: θ1 / θ2 > 0.755~Where θ1 is the proportion of pCR for subjects "
                "randomized to TX05 group, θ2 is the proportion of pCR for subjects randomized to Herceptin. "
                "Equivalence was concluded if the 95% CI of the risk ratio is completely contained within the "
                "pre-defined interval [0.755, 1.325]."
            ),
        },
    ),
    # NCT00069095: PFS: 'less than the predefined limit of 1.23'; H0 '>/= 1.23'; '5%' and '2.5%' are alpha
    dict(
        id=3690599,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.94, 1.18),
        expect=NI(None, 1.23, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was demonstrated if the upper limit of the 2-sided 97.5% confidence interval "
                "(CI) for the hazard ratio (HR) was less than the predefined limit of 1.23 (the "
                "non-inferiority margin). A stratified Cox model was used. In order to retain an "
                "experiment-wise two-sided type I error of 5%, the non-inferiority analysis for PFS used a "
                "two-sided significance level of 2.5%."
            ),
            "group_description": (
                "Equivalence of treatment arm A ('XELOX') to treatment arm B ('FOLFOX-4') was tested via the "
                "following hypotheses - H0: HRA/B >/= 1.23 versus H1: HRA/B < 1.23. HRA/B denotes the hazard "
                "of disease progression or death under treatment A ('XELOX') divided by the hazard of disease "
                "progression or death under treatment B ('FOLFOX-4')."
            ),
        },
    ),
    # NCT00069095: same texts, upper limit 1.42 >= 1.23
    dict(
        id=3690600,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(1.05, 1.42),
        expect=NI(None, 1.23, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was demonstrated if the upper limit of the 2-sided 97.5% confidence interval "
                "(CI) for the hazard ratio (HR) was less than the predefined limit of 1.23 (the "
                "non-inferiority margin). A stratified Cox model was used. In order to retain an "
                "experiment-wise two-sided type I error of 5%, the non-inferiority analysis for PFS used a "
                "two-sided significance level of 2.5%."
            ),
            "group_description": (
                "Equivalence of treatment arm A ('XELOX') to treatment arm B ('FOLFOX-4') was tested via the "
                "following hypotheses - H0: HRA/B >/= 1.23 versus H1: HRA/B < 1.23. HRA/B denotes the hazard "
                "of disease progression or death under treatment A ('XELOX') divided by the hazard of disease "
                "progression or death under treatment B ('FOLFOX-4')."
            ),
        },
    ),
    # NCT00069095: 'No formal statistical testing was therefore applied.'
    dict(
        id=3690602,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(1.07, 1.44),
        expect=WHY("no_formal_test"),
        fields={
            "non_inferiority_comment": (
                "Fewer events were expected in the 'on-treatment analysis', thus leading to reduced power. No "
                "formal statistical testing was therefore applied."
            ),
            "group_description": (
                "HRs and 97.5% confidence interval were reported for treatment arm A (XELOX/XELOX+P/XELOX+BV) "
                "versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)."
            ),
        },
    ),
    # NCT00069095: same PFS texts
    dict(
        id=3690604,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.92, 1.15),
        expect=NI(None, 1.23, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was demonstrated if the upper limit of the 2-sided 97.5% confidence interval "
                "(CI) for the hazard ratio (HR) was less than the predefined limit of 1.23 (the "
                "non-inferiority margin). A stratified Cox model was used. In order to retain an "
                "experiment-wise two-sided type I error of 5%, the non-inferiority analysis for PFS used a "
                "two-sided significance level of 2.5%."
            ),
            "group_description": (
                "Equivalence of treatment arm A ('XELOX') to treatment arm B ('FOLFOX-4') was tested via the "
                "following hypotheses - H0: HRA/B >/= 1.23 versus H1: HRA/B < 1.23. HRA/B denotes the hazard "
                "of disease progression or death under treatment A ('XELOX') divided by the hazard of disease "
                "progression or death under treatment B ('FOLFOX-4')."
            ),
        },
    ),
    # NCT00069095: OS: 'not powered for testing non-inferiority' yet 'The same margins ... were therefore applied'
    dict(
        id=3690606,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.84, 1.14),
        expect=NI(None, 1.23, "shown"),
        fields={
            "non_inferiority_comment": (
                "This study was not powered for testing non-inferiority of XELOX vs FOLFOX-4 with respect to "
                "overall survival and no margin could be derived following the effect retention concept. The "
                "same margins used for the PFS analysis [Non-inferiority was demonstrated if the upper limit "
                "of the 2-sided 97.5% confidence interval (CI) for the hazard ratio (HR) was less than the "
                "predefined limit of 1.23 (the non-inferiority margin)] were therefore applied to OS as well."
            ),
            "group_description": (
                "HRs and 97.5% confidence interval were reported for treatment arm A (XELOX/XELOX+P/XELOX+BV) "
                "versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)."
            ),
        },
    ),
    # NCT00069095: ORR: odds ratio, 'lower limit ... above 0.66'; H0 '</= 0.66'
    dict(
        id=3690609,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Odds Ratio (OR)",
        ci=(0.72, 1.09),
        expect=NI(0.66, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The analysis was based on the two-sided 97.5% confidence interval for "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV). Non-inferiority of XELOX "
                "with/without bevacizumab to FOLFOX-4 with/without bevacizumab was concluded if the lower "
                "limit of this confidence interval is above 0.66."
            ),
            "group_description": (
                "Non-inferiority of XELOX with/without bevacizumab to FOLFOX-4 with/without bevacizumab was "
                "tested by the pair of hypotheses - H0: "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV) </= 0.66 versus H1: "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV) > 0.66, where OR denotes Odds "
                "ratio."
            ),
        },
    ),
    # NCT00069095: ORR, second population
    dict(
        id=3690611,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Odds Ratio (OR)",
        ci=(0.76, 1.16),
        expect=NI(0.66, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The analysis was based on the two-sided 97.5% confidence interval for "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV). Non-inferiority of XELOX "
                "with/without bevacizumab to FOLFOX-4 with/without bevacizumab shall be concluded if the "
                "lower limit of this confidence interval is above 0.66."
            ),
            "group_description": (
                "Non-inferiority of XELOX with/without bevacizumab to FOLFOX-4 with/without bevacizumab was "
                "tested by the pair of hypotheses - H0: "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV) </= 0.66 versus H1: "
                "OR(XELOX/XELOX+P/XELOX+BV)/(FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV) > 0.66"
            ),
        },
    ),
    # NCT00069095: 'No formal statistical testing was done.'
    dict(
        id=3690613,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.97, 1.2),
        expect=WHY("no_formal_test"),
        fields={
            "non_inferiority_comment": "No formal statistical testing was done.",
            "group_description": (
                "General approach: HRs and 97.5% confidence interval were reported for treatment arm A "
                "(XELOX/XELOX+P/XELOX+BV) versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)"
            ),
        },
    ),
    # NCT00069095: 'no formal statistical testing was performed'
    dict(
        id=3690614,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.98, 1.23),
        expect=WHY("no_formal_test"),
        fields={
            "non_inferiority_comment": (
                "Fewer events were expected in analyses using the on-treatment approach than in the analyses "
                "using the general approach, thus leading to reduced power.Therefore, no formal statistical "
                "testing was performed."
            ),
            "group_description": (
                "On-treatment Approach: HRs and 97.5% confidence interval were reported for treatment arm A "
                "(XELOX/XELOX+P/XELOX+BV) versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)."
            ),
        },
    ),
    # NCT00069095: 'No formal statistical testing was performed for duration of overall response.'
    dict(
        id=3690617,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.86, 1.22),
        expect=WHY("no_formal_test"),
        fields={
            "non_inferiority_comment": (
                "No formal statistical testing was performed for duration of overall response."
            ),
            "group_description": (
                "HRs and 97.5% confidence interval were reported for treatment arm A (XELOX/XELOX+P/XELOX+BV) "
                "versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)"
            ),
        },
    ),
    # NCT00069095: 'No formal statistical testing was done.'
    dict(
        id=3690619,
        nct="NCT00069095",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.09, 1.39),
        expect=WHY("no_formal_test"),
        fields={
            "non_inferiority_comment": "No formal statistical testing was done.",
            "group_description": (
                "HRs and 97.5% confidence interval were reported for treatment arm A (XELOX/XELOX+P/XELOX+BV) "
                "versus treatment arm B (FOLFOX-4/FOLFOX-4+P/FOLFOX-4+BV)."
            ),
        },
    ),
    # NCT00069108: 'not designed to demonstrate non-inferiority' yet 'the pre-specified margin (1.30) was compared'
    dict(
        id=3690622,
        nct="NCT00069108",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.74, 1.17),
        expect=NI(None, 1.30, "shown"),
        fields={
            "non_inferiority_comment": (
                "While the study was not designed to demonstrate non-inferiority in PFS based on IRC "
                "assessments the pre-specified margin (1.30) was compared with the upper limit of the 95% "
                "confidence interval (CI) of the hazard ratio (HR, XELOX vs FOLFOX-4) in the population."
            ),
            "estimate_comment": (
                "The pre-specified non-inferiority margin (1.30) was compared with the upper limit of the 95% "
                "confidence interval (CI) of the hazard ratio (HR, XELOX vs FOLFOX-4) in the population"
            ),
        },
    ),
    # NCT00858364: 'upper confidence limit ... less than 1.15'; '0.025' is the alpha
    dict(
        id=3748452,
        nct="NCT00858364",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.83, 1.01),
        expect=NI(None, 1.15, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was declared if the upper confidence limit for the hazard ratio (darbepoetin "
                "alfa to placebo) was less than 1.15 using a 1-sided significance level of 0.025."
            ),
            "group_description": (
                "The primary analysis used the Cox Proportional Hazard Model stratified by the randomization "
                "stratification factors (geographic region, histology, and screening hemoglobin), with "
                "treatment group as the only covariate."
            ),
            "estimate_comment": (
                "A hazard ratio < 1.0 indicates a lower risk of death for darbepoetin alfa relative to placebo."
            ),
        },
    ),
    # NCT00777101: 'was 1.15 or less'
    dict(
        id=3741796,
        nct="NCT00777101",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.89, 1.6),
        expect=NI(None, 1.15, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority of neratinib vs lapatinib + capecitabine was to be concluded if the upper "
                "limit of the 95% confidence interval (CI) for the hazard ratio was 1.15 or less."
            ),
            "statistical_comment": "The log-rank test comparing treatment groups is stratified by region.",
            "estimate_comment": (
                "The hazard ratio is estimated by stratified Cox model. The Cox model is stratified by region."
            ),
        },
    ),
    # NCT00041119: typed Equivalence, one-sided: 'wholly to the left of 1.3'; the '30% increase' restates it; no
    #   lower limit posted
    dict(
        id=3689618,
        nct="NCT00041119",
        ni_type="Equivalence",
        est="Hazard Ratio (HR)",
        ci=(None, 1.48),
        expect=NI(None, 1.3, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "For T to be considered equivalent to the standard CA, a confidence interval of the hazard "
                "ratio of T to CA should be wholly to the left of 1.3, corresponding to a 30% increase in "
                "hazard rate. If the 5-year DFS for CA is 88% then an increase of 30% in hazard rate for T "
                "corresponds to 5-year DFS of 84.7%. The null hypothesis is that the hazard ratio of T to CA "
                "exceeds 1.3. The alternative hypothesis is that the two hazard rates are equivalent."
            ),
        },
    ),
    # NCT00072293: 'a hazard ratio (HR) of less than 1·25'; 'α=0·10', '90% power', '70%' are not margins
    dict(
        id=3690784,
        nct="NCT00072293",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.55, 1.11),
        expect=NI(None, 1.25, "shown"),
        fields={
            "non_inferiority_comment": (
                "As originally designed, target accrual was 1960 patients with analysis planned after 558 "
                "events. These targets were based on having 90% power to detect non-inferiority of no "
                "axillary dissection with a one-sided statistical signifi cance level of 10% (ie, α=0·10) "
                "under the assumption that 5-year disease-free survival with axillary dissection was 70% and "
                "defining non-inferiority as a hazard ratio (HR) of less than 1·25 (no axillary dissection "
                "relative to axillary dissection)."
            ),
            "p_value_comment": (
                "Test for non-inferiority of no axillary dissection. Stratified logrank test compared groups. "
                "HR (no-AD vs AD) estimated from test statistic and variance as HR=exp([O-E]/V), compared to "
                "1.25 in 1-sided test of non-inferiority."
            ),
            "estimate_comment": "Hazard Ratio is no axillary dissection/axillary dissection.",
        },
    ),
    # NCT00600340: 'Null hypothesis: Hazard Ratio (HR) >= 1.33'; 'male <=50 years of age' is no margin; one-sided CI
    dict(
        id=3729853,
        nct="NCT00600340",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(None, 1.261),
        expect=NI(None, 1.33, "shown"),
        fields={
            "non_inferiority_comment": (
                "Null hypothesis: Hazard Ratio (HR) >= 1.33~Based on Cox proportional hazards model adjusted "
                "by stratification factors at randomization:~estrogen and/or progesterone status (positive "
                "vs. other)~country~menopausal status (premenopausal or male <=50 years of age vs. "
                "postmenopausal or male >50 years of age)"
            ),
            "group_description": (
                "HR of Bevacizumab Plus Capecitabine vs. Bevacizumab plus Paclitaxel for OS (final, stratified)."
            ),
            "p_value_comment": (
                "Based on approach using repeated confidence intervals, with one-sided 97.5% repeated "
                "confidence intervals. Non-inferiority margin was a HR of 1.33."
            ),
            "estimate_comment": (
                "HR is the hazard rate of Bevacizumab Plus Capecitabine divided by hazard rate of Bevacizumab "
                "plus Paclitaxel."
            ),
        },
    ),
    # NCT00600340: same null hypothesis, upper limit 1.37
    dict(
        id=3729859,
        nct="NCT00600340",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(None, 1.37),
        expect=NI(None, 1.33, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "Null hypothesis: Hazard Ratio (HR) >= 1.33 Based on Cox proportional hazards model."
            ),
            "group_description": (
                "HR of Bevacizumab Plus Capecitabine vs. Bevacizumab plus Paclitaxel for OS (final, unstratified)."
            ),
            "p_value_comment": (
                "Based on approach using repeated confidence intervals, with one-sided 97.5% repeated "
                "confidence intervals"
            ),
            "estimate_comment": (
                "HR is the hazard rate of Bevacizumab Plus Capecitabine divided by hazard rate of Bevacizumab "
                "plus Paclitaxel."
            ),
        },
    ),
    # NCT00676065: 'Tested null hypotheses: ... higher or equal to 2.'; '<1 per 1,000' and 'power (1-β) of 0.80' are
    #   not margins
    dict(
        id=3734731,
        nct="NCT00676065",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.8, 1.7),
        expect=NI(None, 2.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "The LASS study was designed to analyse rare events (incidence rate <1 per 1,000 woman-years "
                "and ≥ 1 per 10,000 WY). 300,000 WY of observation would be sufficient to exclude a two-fold "
                "risk of rare events in users of DRSP compared to other oral contraceptives with a power "
                "(1-β) of 0.80 and an one-sided α of 0.05."
            ),
            "group_description": (
                "Tested null hypotheses: the VTE hazard ratio for DRSP/E2 vs. OCs containing LNG is higher or "
                "equal to 2."
            ),
            "estimate_comment": (
                "Hazard ratio was adjusted for age, BMI, current duration of use, and family history of VTE."
            ),
        },
    ),
    # NCT00904813: 'did not exceed 1.7', then 'not exceeding 2.5 or 3.6': upper limit 2.56 clears only 3.6
    dict(
        id=3751108,
        nct="NCT00904813",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.06, 2.56),
        expect=WHY("margins_disagree"),
        fields={
            "non_inferiority_comment": (
                "In the initial protocol treatment groups were deemed non-inferior if the upper limit of a "
                "two-sided 90% CI for the hazard ratio did not exceed 1.7. With a cumulative incidence of "
                "local recurrence at 15%, a sample size of 840 participants were determined to provide a "
                "power of 80%. However, due to lower recurrence rate, the trial was re-powered in the "
                "amendment 1999 to deem non-inferiority at an HR not exceeding 2.5 or 3.6 depending on the "
                "frequency of local recurrence."
            ),
            "statistical_comment": "An overall p-value was calculated.",
            "group_description": (
                "The effect of treatment regimen on local recurrence as first event in the three-armed group "
                "comparison (n = 385) was estimated with proportional hazards regression, stratified by "
                "participating centre."
            ),
            "p_value_comment": "The threshold for statistical significance was p=0.05.",
            "estimate_comment": (
                "SRT was used as reference group. Estimation described above is for SRT-delay. For LRT-delay "
                "HR (90% CI) was 1.22 with lower limit: 0.33, and upper limit: 3.45."
            ),
        },
    ),
    # NCT00904813: same texts, upper limit 1.35 clears all three: the strictest, 1.7
    dict(
        id=3751109,
        nct="NCT00904813",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.64, 1.35),
        expect=NI(None, 1.7, "shown"),
        fields={
            "non_inferiority_comment": (
                "In the initial protocol treatment groups were deemed non-inferior if the upper limit of a "
                "two-sided 90% CI for the hazard ratio did not exceed 1.7. With a cumulative incidence of "
                "local recurrence at 15%, a sample size of 840 participants were determined to provide a "
                "power of 80%. However, due to lower recurrence rate, the trial was re-powered in the "
                "amendment 1999 to deem non-inferiority at an HR not exceeding 2.5 or 3.6 depending on the "
                "frequency of local recurrence."
            ),
            "statistical_comment": "An overall p-value was calculated.",
            "group_description": (
                "The effect of treatment regimen on recurrence-free survival in the three armed randomisation "
                "comparison (n = 385) was estimated with proportional hazards regression, stratified by "
                "participating centre."
            ),
            "p_value_comment": "The threshold for statistical significance was p=0.05.",
            "estimate_comment": (
                "SRT was used as reference group (1.00). Estimation described above is for SRT-delay. For "
                "LRT-delay HR (95% CI) was 0.99 with lower limit: 0.68, and upper limit: 1.42."
            ),
        },
    ),
    # NCT01644890: 'fell below the non-inferiority margin of 1.215 (<1.215)'
    dict(
        id=3803501,
        nct="NCT01644890",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.989, 1.592),
        expect=NI(None, 1.215, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "The primary PFS analysis was confirmed whether or not the upper limit of the 95% confidence "
                "interval (CI) for the hazard ratio (HR) for NK105 relative to PTX fell below the "
                "non-inferiority margin of 1.215 (<1.215) by fitting a Cox proportional hazards model that "
                "included allocation adjustment factors other than the study site as covariates."
            ),
            "group_description": (
                "Based on the results of previous studies, the expected median PFS was 5.5 months for PTX and "
                "6.35 months for NK105. Assuming a randomization period of 18 months, a follow-up period of "
                "12 months, a one-sided significance level of 2.5%, a power of 85% and the non-inferiority "
                "margin of 1.215, the number of patients was estimated to 172 pts per group, a total of 344 "
                "patients. Considering an expected withdrawal/dropout rate of approximately 20%, the target "
                "sample size was set at 414."
            ),
            "estimate_comment": (
                "History of chemotherapy for metastatic or recurrent breast cancer (yes/no), History of "
                "treatment using a taxane anticancer drug (yes/no), ER status [(+) or (-)], and Disease free "
                "interval (<12 months or ≥12 months) were covariates for adjustment."
            ),
        },
    ),
    # NCT02702388: odds ratio, 'lower limit of the 95% CI for the odds ratio is greater than 0.4'; 'Week 24', '18
    #   mg' are not margins
    dict(
        id=3859302,
        nct="NCT02702388",
        ni_type="Non-Inferiority",
        est="Odds Ratio (OR)",
        ci=(0.26, 0.96),
        expect=NI(0.4, None, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "Odds ratio of ORR as of Week 24 response (18 mg vs 24 mg) along with its 95% confidence "
                "interval (CI) using the Cochran-Mantel-Haenszel (CMH) method, stratified by the "
                "randomization stratification factors. The test was performed per the 95% CI using the "
                "noninferiority margin of 0.4. Noninferiority will be declared if the lower limit of the 95% "
                "CI for the odds ratio is greater than 0.4."
            ),
        },
    ),
    # NCT00943722: GMT ratio, 'lower bound ... greater than 0.67'; 'alpha=0.025' and 'Anti-HPV 6' are not margins
    dict(
        id=3687297,
        nct="NCT00943722",
        ni_type="Non-Inferiority",
        est="GMT ratio",
        ci=(1.7, 2.14),
        expect=NI(0.67, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "non-inferiority requires that the lower bound of two-sided 95% confidence interval (CI) of "
                "GMT ratio be greater than 0.67."
            ),
            "statistical_comment": (
                "model with a response of log individual titers and a fixed effect for comparison group"
            ),
            "group_description": "Anti-HPV 6",
            "p_value_comment": (
                "one-sided tests of non-inferiority conducted at the alpha=0.025 level; model with a response "
                "of log individual titers and a fixed effect for comparison group"
            ),
            "estimate_comment": (
                "GMT ratio = GMT for 9- to 15-Year-Old Females (Lot 1) divided by GMT for 16- to 26-Year-Old "
                "Females (Lot 1)"
            ),
        },
    ),
    # NCT00943722: 'entirely contained within the interval (0.5, 2.0)'
    dict(
        id=3687315,
        nct="NCT00943722",
        ni_type="Equivalence",
        est="GMT ratio",
        ci=(0.88, 1.08),
        expect=EQ(0.5, 2.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "equivalence requires that the two-sided 95% CI for the ratio of the GMTs be entirely "
                "contained within the interval (0.5, 2.0)"
            ),
            "group_description": "Anti-HPV 6",
            "estimate_comment": (
                "GMT ratio = GMT for 9- to 15-Year-Old Females (Lot 1) divided by GMT for 9- to 15-Year-Old "
                "Females (Lot 2)"
            ),
        },
    ),
    # NCT00943722: percentage point difference, 'lower limit ... greater than -5'
    dict(
        id=3687342,
        nct="NCT00943722",
        ni_type="Non-Inferiority",
        est="Percentage Point Difference",
        ci=(-0.8, 1.5),
        expect=NI(-5.0, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Noninferiority is demonstrated if the lower limit of the 95% CI for the percentage point "
                "difference is greater than -5."
            ),
            "group_description": "Anti-HPV 6",
            "estimate_comment": (
                "Percentage Point Difference = 9- to 15-Year-Old Females (Lot 1) minus 16- to 26-Year-Old "
                "Females (Lot 1)"
            ),
        },
    ),
    # NCT00943722: 'within the interval (-5, 5)'
    dict(
        id=3687360,
        nct="NCT00943722",
        ni_type="Equivalence",
        est="Percentage Point Difference",
        ci=(-0.9, 0.9),
        expect=EQ(-5.0, 5.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "equivalence requires that the two-sided 95% CI for the difference in percentages between "
                "lots be entirely contained within the interval (-5, 5)."
            ),
            "group_description": "Anti-HPV 6",
            "estimate_comment": (
                "Percentage Point Difference = 9- to 15-Year-Old Females (Lot 1) minus 9- to 15-Year-Old "
                "Females (Lot 2)"
            ),
        },
    ),
    # NCT00950300: 'greater than or equal to (≥) 0.8'; the sample-size '(>) 5%' is no margin
    dict(
        id=3754449,
        nct="NCT00950300",
        ni_type="Non-Inferiority",
        est="Geometric mean ratio",
        ci=(1.24, 1.44),
        expect=NI(0.8, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was concluded if the lower limit of the 90% confidence interval (CI) was "
                "greater than or equal to (≥) 0.8 for the geometric mean ratio."
            ),
            "group_description": (
                "PK sample size calculations based on percentage of coefficient of variation (CV%) for "
                "Ctrough of trastuzumab from previous metastatic breast cancer (MBC) and early breast cancer "
                "(EBC) studies. Because pre-surgery situation was comparable to MBC setting, interpatient CV% "
                "of 60 percent (%) was assumed and 130 participants per arm (260 participants total) were "
                "needed to demonstrate Ctrough comparability with 80% power if the true means of the two "
                "formulations did not differ by greater than (>) 5%."
            ),
            "estimate_comment": (
                "Ratio of test treatment group (Herceptin SC + Chemotherapy) to reference treatment group "
                "(Herceptin IV + Chemotherapy)."
            ),
        },
    ),
    # NCT00950300: 'above -12.5%' and the unsigned 'margin of 12.5%' agree; one-sided CI
    dict(
        id=3754450,
        nct="NCT00950300",
        ni_type="Non-Inferiority",
        est="Difference in response rates",
        ci=(-4.0, None),
        expect=NI(-12.5, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was concluded if the lower limit of the one-sided 97.5% CI was above -12.5% "
                "for the difference in response (pCR) rates."
            ),
            "group_description": (
                "Assuming pCR rates of at least 40% in both arms, 552 participants were necessary to conclude "
                "non-inferiority in pCR rate with a power of 80% using a one-sided 97.5% CI for the "
                "difference of the response rates and a non-inferiority margin of 12.5%."
            ),
            "estimate_comment": (
                "The one-sided 97.5% CI for the difference in response (pCR) rates was calculated using the "
                "Anderson-Hauck continuity correction."
            ),
        },
    ),
    # NCT00928434: 'lower bound (LCL) ... of greater than -12.5%'
    dict(
        id=3753071,
        nct="NCT00928434",
        ni_type="Non-Inferiority or Equivalence",
        est="Percentage difference",
        ci=(-0.19, 3.33),
        expect=NI(-12.5, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was defined as a lower bound (LCL) of the 95% confidence interval for the "
                "difference between the intermittent and pooled continuous treatments, CADT, (intermittent - "
                "continuous) of greater than -12.5%."
            ),
        },
    ),
    # NCT00295750: '-10 percentage points' for a difference posted in percent (limits beyond 1)
    dict(
        id=3703145,
        nct="NCT00295750",
        ni_type="Non-Inferiority or Equivalence",
        est="Difference in cumulative probability",
        ci=(-1.8, 5.7),
        expect=NI(-10.0, None, "shown"),
        fields={
            "non_inferiority_comment": "The non-inferiority limit was -10 percentage points.",
            "group_description": (
                "A non-inferiority assessment determined whether degarelix was non-inferior to leuprolide "
                "with respect to the cumulative probability of testosterone <=0.5 ng/mL from Day 28 to Day "
                "364."
            ),
        },
    ),
    # NCT00925600: unsigned 'non-inferiority bound of 10%' with 'upper bound' named
    dict(
        id=3752817,
        nct="NCT00925600",
        ni_type="Non-Inferiority or Equivalence",
        est="Risk Difference (RD)",
        ci=(-6.3, 7.2),
        expect=NI(None, 10.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority was demonstrated if the upper bound of the 97.5% one-sided confidence "
                "interval, or equivalently upper bound of two-sided 95% confidence interval was less than the "
                "pre-specified non-inferiority bound of 10%."
            ),
            "group_description": (
                "The primary endpoint was summarized with the point estimate of absolute risk difference "
                "(difference in incidence rates, denosumab minus placebo) and the corresponding 95% "
                "confidence interval using the Mantel-Haenszel method adjusting for the stratification "
                "factors: baseline LOCS III status (< 3.0 at all sites [P, C, and NO] vs. ≥ 3.0 at any of "
                "these sites), age group (< 75, ≥ 75 years), and patient-reported history of cataract "
                "(yes/no)."
            ),
        },
    ),
    # NCT00080912: '(non-inferiority margin =10%)' unsided; the estimate comment's 'upper limit ... below the pre-
    #   specified 10% non-inferiority boundary' sides it; '9.2%' is the result
    dict(
        id=3690990,
        nct="NCT00080912",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Risk Difference (RD)",
        ci=(None, 9.2),
        expect=NI(None, 10.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "The original sample size was determined based on the non-inferiority. The original sample "
                "size is based on assumption of response rate on the multiple fraction arm is 70%, 260 "
                "patients were required in each treatment arm to have 80% power to exclude, with a one sided "
                "alpha of 0.05, a response rate of 60% or less in the single fraction radiation group "
                "(non-inferiority margin =10%). Given an inevaluability rate of 30%, 850 patients (425 for "
                "each treatment arm) were randomized to the study."
            ),
            "p_value_comment": "p-value is for one-sided non-inferiority test",
            "estimate_comment": (
                "The upper limit of one-sided 95% CI for the response rate difference was 9.2%, which was "
                "below the pre-specified 10% non-inferiority boundary"
            ),
        },
    ),
    # NCT01073865: 'greater than or equal to -17.5%'
    dict(
        id=3763841,
        nct="NCT01073865",
        ni_type="Non-Inferiority or Equivalence",
        est="Risk Difference (RD)",
        ci=(-11.4, 13.9),
        expect=NI(-17.5, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The lower limit of the CI of the difference is greater than or equal to -17.5%. This "
                "non-inferiority margin was pre-defined in the study protocol."
            ),
            "group_description": (
                "CI for the difference (10.8 mg-3.6 mg) in %PFS at 24 weeks calculated using the score method "
                "recommended by Newcombe et al"
            ),
            "estimate_comment": "%PFS at 24 weeks for Zoladex 10.8mg - %PFS at 24 weeks for Zoladex 3.6mg",
        },
    ),
    # NCT01516736: typed Equivalence: '(margin ±1 day)'; the non-inferiority '-0.6 days' is the other analysis
    dict(
        id=3795405,
        nct="NCT01516736",
        ni_type="Equivalence",
        est="Mean Difference (Net)",
        ci=(-0.4, 0.08),
        expect=EQ(-1.0, 1.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "The testing procedure was set up in a hierarchical structure, where first equivalence "
                "between LA-EP2006 and Neulasta® was assessed (margin ±1 day) and only if this was "
                "successfully established, non-inferiority between the two products was tested using a "
                "tighter margin of -0.6 days."
            ),
            "statistical_comment": "The primary endpoints was analyzed with analysis of covariance (ANCOVA).",
            "group_description": (
                "The primary objective of the study was to compare LA-EP2006 and Neulasta in terms of the DSN "
                "in Cycle 1. It was to be shown in a hierarchical way:~that LA-EP2006 is equivalent (margin: "
                "±1 day) to Neulasta® with respect to DSN duration in Cycle 1 and, if this was successfully "
                "established,~that LA-EP2006 is non-inferior (margin: -0.6 days) to Neulasta® with respect to "
                "DSN duration in Cycle 1."
            ),
        },
    ),
    # NCT01516736: typed Non-Inferiority, same texts: 'a tighter margin of -0.6 days'
    dict(
        id=3795406,
        nct="NCT01516736",
        ni_type="Non-Inferiority",
        est="Mean Difference (Net)",
        ci=(-0.4, 0.08),
        expect=NI(-0.6, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The testing procedure was set up in a hierarchical structure, where first equivalence "
                "between LA-EP2006 and Neulasta® was assessed (margin ±1 day) and only if this was "
                "successfully established, non-inferiority between the two products was tested using a "
                "tighter margin of -0.6 days."
            ),
            "statistical_comment": "The primary endpoints was analyzed with analysis of covariance (ANCOVA).",
            "group_description": (
                "The primary objective of the study was to compare LA-EP2006 and Neulasta in terms of the DSN "
                "in Cycle 1. It was to be shown in a hierarchical way:~that LA-EP2006 is equivalent (margin: "
                "±1 day) to Neulasta® with respect to DSN duration in Cycle 1 and, if this was successfully "
                "established,~that LA-EP2006 is non-inferior (margin: -0.6 days) to Neulasta® with respect to "
                "DSN duration in Cycle 1."
            ),
        },
    ),
    # NCT01519700: 'Non-inferiority limit: -1 day'; 'Power: 90%' and 'Confidence level: 97.5%' are not margins
    dict(
        id=3795531,
        nct="NCT01519700",
        ni_type="Non-Inferiority or Equivalence",
        est="Mean Difference (Net)",
        ci=(-0.26, None),
        expect=NI(-1.0, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority limit: -1 day Power: 90% Confidence level: 97.5% Randomization ratio: 1:1 "
                "(EP2006:Neupogen)"
            ),
            "estimate_comment": "The one-sided 97.5% Confidence Interval: [-0.26, ∞).",
        },
    ),
    # NCT00644787: 'Difference of 7.5 mm ... threshold value for clinical non-inferiority': no sign, no limit named
    dict(
        id=3732362,
        nct="NCT00644787",
        ni_type="Non-Inferiority or Equivalence",
        est="Mean Difference (Final Values)",
        ci=(-3.5, 6.23),
        expect=WHY("side_unclear"),
        fields={
            "non_inferiority_comment": (
                "Difference of 7.5 mm in VAS score was selected as the threshold value for clinical "
                "non-inferiority of Fentanyl 1-day transdermal patch to Fentanyl 3-day transdermal patch."
            ),
        },
    ),
    # NCT02254486: 'no greater than 10% ... using lower 1-sided 97.5% confidence limits': the words and the limit
    #   disagree
    dict(
        id=3836526,
        nct="NCT02254486",
        ni_type="Non-Inferiority or Equivalence",
        est="Difference in success rate",
        ci=(-8.15, None),
        expect=WHY("side_unclear"),
        fields={
            "non_inferiority_comment": (
                "The confidence limits were adjusted for multiple comparisons (two alternative primary "
                "endpoints): To be declared non-inferior, the primary endpoint must show a difference in "
                "success rates of no greater than 10% in favor of Trisulfate Solution using lower 1-sided "
                "97.5% confidence limits. Calculated using exact Clopper-Pearson confidence limits."
            ),
            "group_description": (
                "The hypothesis was to demonstrate NI of NER1006 to Trisulfate Solution (TS) (10% margin). "
                "Success rate was number of patients with successful overall bowel cleansing as proportion of "
                "number of patients in each group. Treatment effect was NER1006 success rate - TS success "
                "rate. A Hochberg procedure was used to control Type I error since there were 2 alternative "
                "primary endpoints. An alpha level of 1.25% 1-sided was used. A closed testing procedure used "
                "to evaluate superiority if NI was met."
            ),
            "p_value_comment": (
                "P-value adjusted for multiple comparisons (two alternative primary endpoints): To be "
                "declared superior, the primary endpoint must demonstrate non-inferiority with 1-sided "
                "p-value <0.025, the threshold for statistical significance."
            ),
        },
    ),
    # NCT00024102: 'noninferior ... if the hazard ratio was greater than 0.8046' with capecitabine in the numerator
    dict(
        id=3689422,
        nct="NCT00024102",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(1.38, 3.17),
        expect=WHY("side_unclear"),
        fields={
            "non_inferiority_comment": (
                "The primary measure of efficacy was the hazard ratio for disease recurrence or death in the "
                "capecitabine group as compared with the standard chemotherapy group. Capecitabine would be "
                "considered noninferior to standard chemotherapy if the hazard ratio was greater than 0.8046. "
                "(With the use of a 5-year landmark for descriptive purposes, this ratio corresponds to a "
                "5-year rate of relapse-free survival of 60% for standard chemotherapy and 53% for "
                "capecitabine.)"
            ),
            "p_value_comment": (
                "Multivariate proportional hazards regression used to test for an arm effect was adjusted for "
                "tumor size, number of lymph nodes and hormone-receptor status. A priori formal monitoring "
                "for futility and noninferiority was planned at accrual milestones"
            ),
        },
    ),
    # NCT01543776: 'non-inferiority margin of 15%' for a mean difference of log ratios posted as -0.1111
    dict(
        id=3796791,
        nct="NCT01543776",
        ni_type="Non-Inferiority",
        est="Mean Difference (Final Values)",
        ci=(-0.1111, None),
        expect=WHY("scale_unclear"),
        fields={
            "non_inferiority_comment": (
                "The above criteria for non-inferiority corresponds to a response rate in the low dose arm "
                "that is no more than 15% lower than the response rate in the high dose arm (i.e., "
                "non-inferiority margin of 15%), under the assumption that the log ratios are approximately "
                "normally distributed."
            ),
            "p_value_comment": "Calculated p-value.",
        },
    ),
    # NCT01901146: 'fixed margin of (-13%, 13%)'; upper limit 13.4
    dict(
        id=3817312,
        nct="NCT01901146",
        ni_type="Equivalence",
        est="Risk Difference (RD)",
        ci=(1.2, 13.4),
        expect=EQ(-13.0, 13.0, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "The clinical equivalence between ABP 980 and trastuzumab was first evaluated by comparing "
                "the 2-sided 90% CI of the risk difference of pCR between ABP 980 and trastuzumab with a "
                "fixed margin of (-13%, 13%)."
            ),
            "statistical_comment": ("Generalized linear model adjusted for the randomization stratification factors."),
            "group_description": (
                "The clinical equivalence between ABP 980 and trastuzumab was first evaluated by comparing "
                "the 2-sided 90% confidence interval (CI) of the Risk Difference (RD; ABP 980 - Trastuzumab) "
                "of pCR between ABP 980 and trastuzumab with a fixed margin of (-13%, 13%), estimated using a "
                "generalized linear model adjusted for stratification factors tumor (T)-stage, nodal status, "
                "hormone receptor status, planned paclitaxel dosing schedule, and geographic region."
            ),
        },
    ),
    # NCT01901146: 'the margin of (0.7586, 1/0.7586)'; upper limit 1.366 > 1/0.7586
    dict(
        id=3817313,
        nct="NCT01901146",
        ni_type="Equivalence",
        est="Risk Ratio (RR)",
        ci=(1.0327, 1.366),
        expect=EQ(0.7586, 1 / 0.7586, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "If the test of equivalence on the RD of pCR was successful, then equivalence was tested on "
                "the risk ratio of pCR at a 2-sided significance level of 0.05 by comparing the 2-sided 90% "
                "CI of the RR of pCR between ABP 980 and trastuzumab estimated using a generalized linear "
                "model adjusted for stratification factors, with the margin of (0.7586, 1/0.7586). If the "
                "test of equivalence on the RD was not successful, the RR of pCR and 90% CI were considered "
                "to be descriptive."
            ),
            "statistical_comment": ("Generalized linear model adjusted for the randomization stratification factors."),
            "group_description": (
                "If the test of equivalence on the RD of pCR was successful, then equivalence was tested on "
                "the Risk Ratio (RR; ABP 980 / Trastuzumab) of pCR at a 2-sided significance level of 0.05 by "
                "comparing the 2-sided 90% CI of the RR of pCR between ABP 980 and trastuzumab, estimated "
                "using a generalized linear model adjusted for stratification factors: tumor (T)-stage, nodal "
                "status, hormone receptor status, planned paclitaxel dosing schedule, and geographic region."
            ),
        },
    ),
    # NCT03511378: 'margin of -0.10' for a difference posted as a fraction
    dict(
        id=3660580,
        nct="NCT03511378",
        ni_type="Non-Inferiority",
        est="Difference in proportions",
        ci=(-0.076, None),
        expect=NI(-0.1, None, "shown"),
        fields={
            "non_inferiority_comment": "Non-inferiority was assessed using a margin of -0.10",
            "statistical_comment": ("Binomial proportion used to present difference in proportion in treatments"),
            "group_description": "Analysis population : ITT",
        },
    ),
    # NCT03511378: 'a margin of 10 percentage points' for a difference posted as a fraction: 0.10 or 10?
    dict(
        id=3660581,
        nct="NCT03511378",
        ni_type="Non-Inferiority",
        est="Difference in proportions",
        ci=(-0.0092, None),
        expect=WHY("scale_unclear"),
        fields={
            "non_inferiority_comment": "Noninferiority is assessed using a margin of 10 percentage points.",
            "group_description": "Analysis population: ITT",
            "estimate_comment": "Difference of proportion analysed with one sided 95% confidence interval",
        },
    ),
    # NCT02754661: 'Non-inferiority margin was set as 10%' for a risk difference posted as a fraction
    dict(
        id=3862775,
        nct="NCT02754661",
        ni_type="Non-Inferiority",
        est="Risk Difference (RD)",
        ci=(-0.0847, 0.0327),
        expect=WHY("scale_unclear"),
        fields={
            "non_inferiority_comment": "Non-inferiority margin was set as 10%",
            "estimate_comment": "Based on Farrington-Manning Method",
        },
    ),
    # NCT02754661: same
    dict(
        id=3862776,
        nct="NCT02754661",
        ni_type="Non-Inferiority",
        est="Risk Difference (RD)",
        ci=(-0.1249, 0.1249),
        expect=WHY("scale_unclear"),
        fields={
            "non_inferiority_comment": "Non-inferiority margin was set as 10%",
            "estimate_comment": "Based on Farrington-Manning Method",
        },
    ),
    # NCT02643420: 'margin of non-inferiority ... is 0.62 day' and 'upper bound ... <0.62 days'
    dict(
        id=3683854,
        nct="NCT02643420",
        ni_type="Non-Inferiority",
        est="Mean Difference (Final Values)",
        ci=(-0.266, -0.031),
        expect=NI(None, 0.62, "shown"),
        fields={
            "non_inferiority_comment": (
                "The margin of non-inferiority to be used in the study is 0.62 day. The non-inferiority of "
                "SPI-2012 to Pegfilgrastim was declared if the upper bound of 95% confidence interval (CI) of "
                "the difference in mean DSN between the treatment arms was <0.62 days."
            ),
            "statistical_comment": (
                "The p-values are based on the calculated t-statistics from the bootstrapped sample mean and "
                "standard deviation."
            ),
        },
    ),
    # NCT01966003: 'equivalence margin of (0.67, 1.5)'
    dict(
        id=3821395,
        nct="NCT01966003",
        ni_type="Non-Inferiority or Equivalence",
        est="Risk Ratio (RR)",
        ci=(0.8, 1.09),
        expect=EQ(0.67, 1.5, "shown"),
        fields={
            "non_inferiority_comment": (
                "Clinical equivalence of the primary endpoint was demonstrated by comparing the 2-sided 90% "
                "CI of the risk ratio in objective response rate between ABP 215 and bevacizumab with an "
                "equivalence margin of (0.67, 1.5)."
            ),
            "group_description": (
                "The risk ratio (ABP 215/Bevacizumab) and 90% confidence interval (CI) were estimated using a "
                "generalized linear model adjusted for the stratification factors (region, sex, and ECOG "
                "performance status)."
            ),
        },
    ),
    # NCT01989676: 'margin of 0.80 to 1.25'; 'Week 25 (+/-14 days)' is a visit window
    dict(
        id=3673199,
        nct="NCT01989676",
        ni_type="Equivalence",
        est="Risk Ratio (RR)",
        ci=(0.842, 1.049),
        expect=EQ(0.8, 1.25, "shown"),
        fields={
            "non_inferiority_comment": (
                "The hypothesis to be tested in this study was that the risk ratio of ORR of PF-05280014 "
                "versus that of trastuzumab-EU by Week 25 (+/-14 days) was within a pre-specified margin of "
                "0.80 to 1.25."
            ),
            "group_description": (
                "Risk Ratio and associated 95% confidence interval (CI) are unstratified and based on the "
                "Miettinen and Nurminen method."
            ),
        },
    ),
    # NCT01257425: 'Equivalence margin defined as 0.8 to 1.25'
    dict(
        id=3777737,
        nct="NCT01257425",
        ni_type="Non-Inferiority or Equivalence",
        est="Ratio of AUC values",
        ci=(0.88, 1.08),
        expect=EQ(0.8, 1.25, "shown"),
        fields={
            "non_inferiority_comment": "Equivalence margin defined as 0.8 to 1.25",
        },
    ),
    # NCT02737332: 'within the range 80%-125%' for a ratio posted as a fraction
    dict(
        id=3862009,
        nct="NCT02737332",
        ni_type="Equivalence",
        est="Geometric mean ratio",
        ci=(0.338, 1.939),
        expect=EQ(0.8, 1.25, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "The bioequivalence between the two products was concluded if the 90% CIs (based on log "
                "transformed data and anti-logged) for the ratio of the geometric means lie completely within "
                "the range 80%-125%."
            ),
            "p_value_comment": (
                "One-way ANOVA model with treatment as the independent variable, and the least-square means "
                "and standard error of Testosterone levels under each treatment and the between-treatment "
                "difference in LS means was reported."
            ),
            "estimate_comment": (
                "Geometric mean ratio of experimental and reference product was determined by exponentiating "
                "least-squares means of log-transformed value."
            ),
        },
    ),
    # NCT02069704: 'within the range 80%-125%' for a ratio posted as a percentage (99.4, CI 90.5 to 109.0)
    dict(
        id=3827158,
        nct="NCT02069704",
        ni_type="Equivalence",
        est="ratio BEVZ92 to Avastin",
        ci=(90.5, 109.0),
        expect=EQ(80.0, 125.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "Two treatments are judged not to be different from one another if the 90% CI of the ratio of "
                "a log-transformed exposure measure (AUC) falls completely within the range 80%-125%."
            ),
            "group_description": (
                "Based on previously published PK data for reference bevacizumab in metastatic colorectal "
                "cancer, we assumed a conservative inter-participant coefficient of variation for AUC of "
                "around 35%. A sample size of 51 patients in each treatment arm could show bioequivalence "
                "with a nominal power of 90% and an α of 0·05, if the 90% CIs for the ratio of BEVZ92 to "
                "reference bevacizumab of the geometric means for AUC0-336h and AUCss were within the "
                "acceptance interval of 80%-125%."
            ),
            "estimate_comment": (
                "For the ratio: BEVZ92 represents the numerator and reference bevacizumab the denominator"
            ),
        },
    ),
    # NCT02197247: 'lower bound of the 90% confidence intervals ... above 50%' for a ratio posted as a percentage;
    #   '33% decrease' is an assumption
    dict(
        id=3833922,
        nct="NCT02197247",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Geometric least-squares (LS) mean ratio",
        ci=(24.36, 30.29),
        expect=NI(50.0, None, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "No effect on the PK of AZD9291 after co-administration of rifampicin was concluded if the "
                "lower bound of the 90% confidence intervals (CIs) for the ratios (Period 2 versus Period 1) "
                "of AZD9291 AUCtau and Css,max were both above 50%. The experiment-wide power for the ratios "
                "being above 50% was 90% (95% power for each parameter)."
            ),
            "group_description": (
                "Natural log-transformed Css,max values were compared between periods using a mixed effects "
                "analysis of variance (ANOVA) with period as fixed effect and patient as random effect. It "
                "was assumed the within-patient coefficient of variation for AZD9291 in both area under the "
                "plasma concentration-time curve during the dosing interval (AUCtau) and Cmax was 34%. A 33% "
                "decrease in exposure for AZD9291 when given with rifampicin was also assumed."
            ),
            "estimate_comment": "AZD9291+rifampicin / AZD9291 alone (Period 2 versus Period 1).",
        },
    ),
    # NCT02157883: 'Upper bound of the 90% CIs below 200%'; '50% increase' is an assumption
    dict(
        id=3676930,
        nct="NCT02157883",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Geometric mean ratio",
        ci=(114.61, 134.53),
        expect=NI(None, 200.0, "shown"),
        fields={
            "non_inferiority_comment": "Upper bound of the 90% CIs below 200%.",
            "group_description": (
                "Study sized so experiment-wise power for the upper bound of the 90% CIs of geometric mean "
                "ratios for both AUC and Cmax of AZD9291 being below 200% was 90% (95% for each parameter). "
                "Within patient CV assumed to be 34%. A 50% increase in exposure was also assumed."
            ),
            "estimate_comment": (
                "AZD9291+itraconazole / AZD9291 alone. Results based on linear mixed-effects model with "
                "treatment as fixed effect and patient as a random effect."
            ),
        },
    ),
    # NCT02364999: 'EU equivalence margins (95% CI in -13% to 13%)'
    dict(
        id=3842387,
        nct="NCT02364999",
        ni_type="Equivalence",
        est="Risk Difference (RD)",
        ci=(-6.608, 7.9082),
        expect=EQ(-13.0, 13.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "Calculated based on 2-sided Miettinen and Nurminen method without strata for risk difference "
                "for confirmed response. EU equivalence margins (95% CI in -13% to 13%)."
            ),
            "estimate_comment": "PF-06439535 vs Bevacizumab-EU",
        },
    ),
    # NCT03296163: 'equivalence margin predefined [0.73, 1.36]'; '95% CI was also calculated: (0.758, 1.092)' is a
    #   CI
    dict(
        id=3654057,
        nct="NCT03296163",
        ni_type="Equivalence",
        est="Risk Ratio (RR)",
        ci=(0.78, 1.06),
        expect=EQ(0.73, 1.36, "shown"),
        fields={
            "non_inferiority_comment": (
                "Equivalence analysis was based on the risk ratio (RR) (MB02/EU-approved Avastin) with an "
                "equivalence margin predefined [0.73, 1.36].~The ORR estimate was stratified using the "
                "Cochran-Mantel-Haenszel estimate of the RR and corresponding 2-sided 90% confidence interval "
                "(CI)."
            ),
            "estimate_comment": (
                "Direction of comparison is: For RR: MB02/EU-approved Avastin. 95% CI was also calculated: "
                "(0.758, 1.092)"
            ),
        },
    ),
    # NCT03296163: 'equivalence margin predefined [-12%, 12%]'
    dict(
        id=3654058,
        nct="NCT03296163",
        ni_type="Equivalence",
        est="Risk Difference (RD)",
        ci=(-10.51, 2.47),
        expect=EQ(-12.0, 12.0, "shown"),
        fields={
            "non_inferiority_comment": (
                "The ORR estimate was stratified using the Cochran-Mantel-Haenszel estimate of the risk "
                "difference (RD) (MB02-EU-approved Avastin) with an equivalence margin predefined [-12%, 12%] "
                "and corresponding 2-sided 95% CI."
            ),
            "estimate_comment": (
                "Direction of comparison is: For RD: MB02 - EU-approved Avastin. 95% CI was also calculated: "
                "(-11.76, 3.71)"
            ),
        },
    ),
    # NCT03085095: 'noninferiority margin of -10%'; 'lower bound of the 95% CI ≥ 90% for the relugolix group' is a
    #   single-arm rate
    dict(
        id=3678475,
        nct="NCT03085095",
        ni_type="Non-Inferiority",
        est="Treatment difference",
        ci=(4.1, 11.8),
        expect=NI(-10.0, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The lower bound of the 95% CI for the difference in the cumulative probability of sustained "
                "profound castration rate between the 2 treatment groups was calculated with a noninferiority "
                "margin of -10%."
            ),
            "group_description": (
                "Following statistical analysis of the lower bound of the 95% CI ≥ 90% for the relugolix "
                "group, secondary statistical analysis of non-inferiority was conducted."
            ),
            "estimate_comment": "Treatment difference= Relugolix - Leuprolide acetate",
        },
    ),
    # NCT01120184: 'less than (<) 1.1765'; 'Superiority ... <1.00' and the power 'HR equal to 0.75' are not margins
    dict(
        id=3767089,
        nct="NCT01120184",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.73, 1.13),
        expect=NI(None, 1.1765, "shown"),
        fields={
            "non_inferiority_comment": (
                "The study was powered for superiority with target hazard ratio (HR) equal to 0.75, as well "
                "as for non-inferiority with HR equal to 1.1765 for comparison between each of the "
                "trastuzumab emtansine-containing arms and the trastuzumab + taxane arm. Non-inferiority was "
                "established if the upper bound of the 97.5% CI was less than (<) 1.1765. Superiority was "
                "achieved if the upper bound of the 97.5% CI was <1.00."
            ),
            "group_description": (
                "Stratified Analysis: Stratification factors included world region (United States, Western "
                "Europe/Canada/Australia-Pacific, Eastern Europe, Asia, others); prior adjuvant/neoadjuvant "
                "therapy (no, yes [trastuzumab and/or lapatinib], yes [no trastuzumab and/or lapatinib]), and "
                "visceral disease (present, absent)."
            ),
            "p_value_comment": (
                "Test and p-value apply for superiority test. Two-sided significance level of 2.5% was used "
                "to adjust for independent comparison between each of the trastuzumab emtansine-containing "
                "arms and the trastuzumab + taxane arm."
            ),
            "estimate_comment": ("Direction of comparison: Trastuzumab Emtansine + Placebo vs. Trastuzumab + Taxane"),
        },
    ),
    # NCT01120184: only the power statement 'powered ... for non-inferiority with HR equal to 1.1765'
    dict(
        id=3767091,
        nct="NCT01120184",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.73, 1.13),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "The study was powered for superiority with target HR equal to 0.75, as well as for "
                "non-inferiority with HR equal to 1.1765 for comparison between each of the trastuzumab "
                "emtansine-containing arms and the trastuzumab + taxane arm."
            ),
            "group_description": (
                "Stratified Analysis: Stratification factors included world region (United States, Western "
                "Europe/Canada/Australia-Pacific, Eastern Europe, Asia, others); prior adjuvant/neoadjuvant "
                "therapy (no, yes [trastuzumab and/or lapatinib], yes [no trastuzumab and/or lapatinib]), and "
                "visceral disease (present, absent)."
            ),
            "p_value_comment": (
                "Test and p-value apply for superiority test. Primary endpoint did not meet superiority of "
                "PFS for trastuzumab emtansine + pertuzumab versus trastuzumab + taxane (two-sided "
                "significance level 2.5%); thus, tests and p-value are considered descriptive."
            ),
            "estimate_comment": (
                "Direction of comparison: Trastuzumab Emtansine + Pertuzumab vs. Trastuzumab Emtansine + Placebo"
            ),
        },
    ),
    # NCT00831233: 'smaller ... than Δ=3 points' in a sentence that never names non-inferiority; 'Week 12' is a
    #   visit
    dict(
        id=3746638,
        nct="NCT00831233",
        ni_type="Non-Inferiority or Equivalence",
        est="Mean Difference (Final Values)",
        ci=(-7.51, 1.61),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "The trial was positive if the treatment contrast of degarelix versus goserelin plus "
                "bicalutamide in adjusted (for baseline total IPSS, age, and country) mean change from "
                "baseline in total IPSS was statistically significantly smaller (two-sided at α=0.05 level) "
                "than Δ=3 points in both the FAS and the PP analysis set.~If the Week 12 treatment assessment "
                "of IPSS was missing the LOCF approach was used, i.e., the IPSS closest to and before Week 12 "
                "was used."
            ),
            "statistical_comment": (
                "The baseline score, age, and country were used as covariates and treatment was used as a "
                "factor in the analysis."
            ),
            "group_description": (
                "Estimates from analysis of variance with treatment and country as factors and age and "
                "baseline value as covariates."
            ),
            "p_value_comment": "FAS.",
        },
    ),
    # NCT03158220: 'Fold Difference': 'lower limit ... greater than 0.5' cannot be placed
    dict(
        id=3879970,
        nct="NCT03158220",
        ni_type="Non-Inferiority",
        est="Fold Difference",
        ci=(0.63, 0.77),
        expect=WHY("estimate_scale_unknown"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority of GMT in 27-45 year-olds relative to 16-26 year-olds was demonstrated if "
                "the lower limit of the 95% confidence interval (CI) for the fold difference was greater than "
                "0.5."
            ),
            "group_description": "Anti HPV 16",
            "p_value_comment": (
                "Analysis of variance (ANOVA) model with response of log individual titers and a fixed effect "
                "for age groups."
            ),
            "estimate_comment": "Fold difference calculated as GMT 27-45 year-olds/GMT 16-26 year-olds",
        },
    ),
    # NCT00715078: 'is >0.8' and '0.8 as margin'; 'a relative difference of <20%' restates it
    dict(
        id=3737798,
        nct="NCT00715078",
        ni_type="Non-Inferiority or Equivalence",
        est="the ratio of geometric means",
        ci=(0.813, 1.013),
        expect=NI(0.8, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "Cohort C is considered non-inferior to Cohort A if the lower limit of the 90% confidence "
                "interval for the ratio of Cohort C vs. Cohort A in the geometric mean of cumulative CD54 "
                "upregulation ratio is >0.8. The use of one-sided CI is based on an assumption that a higher "
                "concentration will correspond to a higher CD54 upregulation ratio. The use of 0.8 as margin "
                "is based on the assumption that a relative difference of <20% in upregulation ratios may not "
                "be clinically significant."
            ),
            "group_description": (
                "The sample size determination is based on a standard deviation of 0.45 for the log "
                "transformed CD54 upregulation ratio estimated from previous studies assuming there is no "
                "difference in central values between the two compared cohorts. A sample size of 38 subjects "
                "per cohort will provide 70% power for the non-inferiority test for the two pairwise "
                "comparisons (Cohort B vs. Cohort A and Cohort C vs. Cohort A)."
            ),
        },
    ),
    # NCT02613364: 'less than 1.15' but also 'If the lower bound of the interval is less than 1.5 then ... non-
    #   inferior'
    dict(
        id=3855516,
        nct="NCT02613364",
        ni_type="Non-Inferiority",
        est="Mean Difference (Final Values)",
        ci=(2.66, 4.37),
        expect=WHY("side_unclear"),
        fields={
            "non_inferiority_comment": (
                "Non-inferiority is established if the difference in mean change on the ISI between YOCAS©® "
                "and CBT-I is less than 1.15. Using ANCOVA to estimate differences in mean change between "
                "YOCAS©® and CBT-I, a correlation of 0.576 (from our prior study), and a sample of 168 "
                "subjects per group, we will have sufficient (80%) power to detect non-inferiority using a "
                "margin of 1.15 at p = 0.025."
            ),
            "group_description": (
                "Constructed a 95% confidence interval on the mean change of ISI from baseline between the "
                "arms (YOCAS - CBT-I). If the lower bound of the interval is less than 1.5 then we conclude "
                "that YOCAS is non-inferior."
            ),
            "p_value_comment": (
                "The p-value shown above is from the Least Squares Mean between YOCAS - CBT-I from the Mixed Model."
            ),
            "estimate_comment": "The comparison is YOCAS - CBT-I",
        },
    ),
    # NCT00563316: 'within the interval of 70% to 143%' for a ratio posted as a fraction
    dict(
        id=3726575,
        nct="NCT00563316",
        ni_type="Non-Inferiority or Equivalence",
        est="Least Squares Geometric Mean Ratio",
        ci=(0.894, 1.074),
        expect=EQ(0.7, 1.43, "shown"),
        fields={
            "non_inferiority_comment": (
                "It would be concluded that panitumumab did not have a clinically important effect on the "
                "pharmacokinetics of irinotecan if the 90% confidence intervals of the ratio of geometric "
                "means for the Cmax and AUC values for irinotecan with and without concomitant panitumumab "
                "administration fell within the interval of 70% to 143%."
            ),
            "estimate_comment": "Ratio of Cycle 2 : Cycle 1",
        },
    ),
    # NCT02331394: 'Upper Equivalence Margin=1.5 Lower Equivalence Margin=-1.5' with no estimate posted
    dict(
        id=3841145,
        nct="NCT02331394",
        ni_type="Equivalence",
        est=None,
        ci=(None, None),
        expect=WHY("estimate_scale_unknown"),
        fields={
            "non_inferiority_comment": (
                "The equivalence assumes that the true mean difference between the paired samples is zero. "
                "Under this model, all observable differences are explained by random variation.Equality "
                "margins are:~Upper Equivalence Margin=1.5 Lower Equivalence Margin=-1.5"
            ),
            "group_description": (
                "Comparisons of repeated measures were made using paired sample t test, which compared "
                "subjects data at 2 different times: baseline and end of the study. A P value of 0.05 was "
                "considered statistically significant"
            ),
        },
    ),
    # NCT00002651: 'hypothesis that the hazard ratio ... is 1.2' names no comparison; missed on purpose
    dict(
        id=3687193,
        nct="NCT00002651",
        ni_type="Non-Inferiority or Equivalence",
        est="Hazard Ratio (HR)",
        ci=(0.99, 1.23),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "The overall type I error rate used is 0.05. The type II error rate is 0.10 (power = 0.9). "
                "The trial planned for a one-sided test of the hypothesis that the hazard ratio of "
                "intermittent CAD to continuous CAD is 1.2. A hazard ratio of 1.0 was used as the specific "
                "alternative in the trial size computations. Thus, rejection of the hypothesis will be "
                "evidence against the possibility that the intermittent CAD hazard ratio is larger than the "
                "continuous CAD hazard ratio by 20% or more."
            ),
        },
    ),
    # NCT00079001: null HR 1.0 and the alternative 'less than 0.77' are no margins
    dict(
        id=3690972,
        nct="NCT00079001",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Hazard Ratio (HR)",
        ci=(0.0, 1.174),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "Superiority and futility analysis were conducted for time to first SRE. Lan-Demets analog of "
                "the Emerson-Fleming sequential boundary was used to maintain overall significance level of α "
                "= .05 while conducting interim analyses on time to first SRE."
            ),
            "group_description": (
                "The null hypothesis was that the hazard ratio is greater than or equal to 1.0 versus the "
                "alternative hypothesis that the hazard ratio is less than 0.77. With a target of 470 SREs, "
                "log-rank statistic had 88% power to detect a 23% decrease in hazard of SRE (equivalent to an "
                "increase in median time to SRE from 30 months to 39 months), assuming a one-sided type I "
                "error rate of .05."
            ),
            "p_value_comment": (
                "Because of early termination, conditional power was performed under the alternative "
                "hypothesis. This is the probability that zoledronic acid is superior to placebo, given time "
                "to first SRE data at interim analysis under alternative hypothesis."
            ),
            "estimate_comment": (
                "Patients randomly assigned to zoledronic acid were compared with patients assigned to placebo"
            ),
        },
    ),
    # NCT01345019: 'margin M1, ie, the lower bound of the two-sided 95% confidence interval 1.28' (synthesis method)
    #   is not read
    dict(
        id=3784433,
        nct="NCT01345019",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.85, 1.14),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "A two-stage approach was used for the non-inferiority test. First, the fixed margin approach "
                "was used to ensure denosumab has an effect greater than placebo (ie, the non-inferiority "
                "margin M1, ie, the lower bound of the two-sided 95% confidence interval 1.28, is ruled out). "
                "Next, a synthesis method was used for the non-inferiority test of the hypothesis that "
                "denosumab preserved at least 50% of the effect of zoledronic acid (HR [95% CI] of 1.48 "
                "[1.28, 1.71] for placebo vs zoledronic acid."
            ),
            "statistical_comment": (
                "Based on a Cox proportional hazards model stratified by the randomization stratification factors."
            ),
            "estimate_comment": "A hazard ratio (denosumab:zoledronic acid) < 1 favors denosumab",
        },
    ),
    # NCT00331773: 'not lower than Arm 1 by more than 7.65% (hazard ratio [HR] , 1.52)': no margin words
    dict(
        id=3671205,
        nct="NCT00331773",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Hazard Ratio (HR)",
        ci=(0.64, 1.14),
        expect=WHY("no_margin_stated"),
        fields={
            "non_inferiority_comment": (
                "This trial was designed to establish with 90% power and a two-sided significance level of "
                "0.05 that Arm 2 (Hypofractionated 3D-CRT) results in a 5-year DFS that is not lower than Arm "
                "1 by more than 7.65% (hazard ratio [HR] , 1.52). Patients analyzed according to assignment, "
                "with time-to event duration originating at random assignment. DFS distributions calculated "
                "using the Kaplan-Meier method. Treatment efficacy for DFS was tested by comparing "
                "cause-specific hazards with the log-rank statistic."
            ),
            "estimate_comment": "Reference arm = Conventional 3D-CRT",
        },
    ),
    # NCT00331773: 'non-inferiority was assessed against a HR of 1.67'
    dict(
        id=3671206,
        nct="NCT00331773",
        ni_type="Non-Inferiority or Equivalence (legacy)",
        est="Hazard Ratio (HR)",
        ci=(0.51, 1.17),
        expect=NI(None, 1.67, "shown"),
        fields={
            "non_inferiority_comment": (
                "Patients who died without biochemical failure were considered as competing risk at the time "
                "of death. Patients alive without biochemical failure at last follow-up were censored at that "
                "date. Estimates were calculated using cumulative risk and non-inferiority was assessed "
                "against a HR of 1.67. The log-rank test was used with a two-sided p-value of 0.05."
            ),
            "estimate_comment": "Reference arm = Conventional 3D-CRT",
        },
    ),
    # NCT03288987: statistical comment 'lower than the noninferiority margin (1.44)'; '(0.45,1.38)' is a CI
    dict(
        id=3653918,
        nct="NCT03288987",
        ni_type="Non-Inferiority",
        est="Hazard Ratio (HR)",
        ci=(0.46, 1.35),
        expect=NI(None, 1.44, "shown"),
        fields={
            "non_inferiority_comment": (
                "Noninferiority was declared by comparing the 90% CI for the hazard ratio (HR) of the AryoGen "
                "Pharmed Bevacizumab to the reference product (Roche Bevacizumab) to the point-estimate "
                "margin and was based on the synthesis method."
            ),
            "statistical_comment": "Upper limit of CI is lower than the noninferiority margin (1.44).",
            "estimate_comment": (
                "The 90 % CI based on synthesis method is (0.45,1.38). In HR calculation, the AryoGen Pharmed "
                "Bevacizumab to Roche Bevacizumab was reported. (reference group was Roche Bevacizumab)"
            ),
        },
    ),
    # NCT00842829: 'upper limit of the 90% CI was <8%', a difference posted beyond +-1
    dict(
        id=3747060,
        nct="NCT00842829",
        ni_type="Non-Inferiority or Equivalence",
        est="Mean Difference (Net)",
        ci=(None, 1.4),
        expect=NI(None, 8.0, "shown"),
        fields={
            "non_inferiority_comment": ("Non-inferiority was established if the upper limit of the 90% CI was <8%."),
            "group_description": "Treatment comparison difference (100 mcg - 200 mcg)",
            "estimate_comment": (
                "The upper bound of the 2-sided 90% confidence interval is equivalent to the upper bound of "
                "the 1-sided 95% confidence interval."
            ),
        },
    ),
    # NCT02073682: Cox hazard ratio, 'less than 1.5'
    dict(
        id=3827304,
        nct="NCT02073682",
        ni_type="Non-Inferiority",
        est="Cox Proportional Hazard",
        ci=(0.696, 1.359),
        expect=NI(None, 1.5, "shown"),
        fields={
            "non_inferiority_comment": (
                "Edoxaban Group was considered non-inferior to the Dalteparin Group if the upper limit of the "
                "2-sided 95% confidence interval (CI) for the Hazard Ratio ([LMW] Edoxaban Group to "
                "Dalteparin Group) was less than 1.5."
            ),
        },
    ),
    # NCT02317016: 'within the range of 70% to 143%', ratio posted as a percentage
    dict(
        id=3840605,
        nct="NCT02317016",
        ni_type="Non-Inferiority or Equivalence",
        est="Geometric least-squares (LS) mean ratio",
        ci=(145.94, 202.53),
        expect=EQ(70.0, 143.0, "not_shown"),
        fields={
            "non_inferiority_comment": (
                "No effect on the PK of rosuvastatin after co-administration of AZD9291 was concluded if the "
                "2-sided 90% confidence intervals (CIs) for the ratios of rosuvastatin AUC and Cmax were "
                "within the range of 70% to 143%."
            ),
            "group_description": (
                "Natural log-transformed Cmax values were compared between treatments using a mixed effects "
                "analysis of variance (ANOVA) with treatment as a fixed effect and patient as a random "
                "effect. It was assumed the within-patient coefficient of variation for rosuvastatin in both "
                "area under the plasma concentration-time curve (AUC) and Cmax was 41%. No change in the "
                "exposure for rosuvastatin when given with AZD9291 was also assumed."
            ),
            "estimate_comment": "AZD9291+ rosuvastatin / rosuvastatin alone (Day 32 versus Day 1).",
        },
    ),
    # NCT03493542: 'greater than -5 percentage points'; ages '9 to 19 years old' are no interval
    dict(
        id=3660157,
        nct="NCT03493542",
        ni_type="Non-Inferiority",
        est="Difference in percentages (%)",
        ci=(-1.1, 1.2),
        expect=NI(-5.0, None, "shown"),
        fields={
            "non_inferiority_comment": (
                "The statistical criterion for non-inferiority required that the lower bound of two-sided 95% "
                "confidence interval for the difference (9 to 19 years old minus 20 to 26 years old) in "
                "seroconversion percentages being greater than -5 percentage points for each HPV type."
            ),
            "group_description": "Anti-HPV 6",
            "estimate_comment": "Difference in % = (9-19 year old %) minus (20-26 year-old %)",
        },
    ),
    # NCT01798485: a futility boundary, 'greater than 0.75, then the study could be stopped for futility'
    dict(
        id=3812930,
        nct="NCT01798485",
        ni_type="Superiority or Other",
        est="Hazard Ratio (HR)",
        ci=(0.821, 1.503),
        expect=WHY("no_margin_stated"),
        fields={
            "group_description": (
                "Futility analysis for the first Interim Analysis which had a database cutoff of 19 October "
                "2015. For the first interim analysis, if the lower limit of the 2-sided 99.5% confidence "
                "interval (CI) for the Hazard Ratio was greater than 0.75, then the study could be stopped "
                "for futility, based on Data Monitoring Committee recommendation.~Hazard ratio and 99.5% CI "
                "were calculated using the stratified Cox Proportional Hazards model (strata: screening LDH, "
                "screening ECOG and geographic region)."
            ),
        },
    ),
]


@pytest.fixture(scope="module")
def analyses() -> pl.DataFrame:
    return pl.read_parquet(PARQUET)


def _read(case):
    return read_margin(case["fields"], case["est"], *case["ci"], case["ni_type"])


def _close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))


def test_cases_are_verbatim(analyses):
    ids = [float(c["id"]) for c in CASES]
    rows = {int(r["id"]): r for r in analyses.filter(pl.col("id").is_in(ids)).iter_rows(named=True)}
    assert len(rows) == len(CASES) == len({c["id"] for c in CASES})
    for case in CASES:
        row = rows[case["id"]]
        assert (row["nct_id"], row["non_inferiority_type"], row["param_type"]) == (
            case["nct"],
            case["ni_type"],
            case["est"],
        )
        assert (row["ci_lower_limit"], row["ci_upper_limit"]) == case["ci"]
        assert case["fields"] == {k: row[v] for k, v in AACT.items() if row[v]}


def test_enough_real_cases():
    expected = [c["expect"] for c in CASES]
    assert len(CASES) >= 30
    assert {e[0] for e in expected} == {"non_inferiority", "equivalence", None}
    assert {e[3] for e in expected} >= set(MARGIN_REASONS) - {None}
    assert {e[4] for e in expected} == set(MARGIN_RESULT_VALUES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['nct']}-{c['id']}" for c in CASES])
def test_read_margin(case):
    kind, lower, upper, reason, result = case["expect"]
    reading = _read(case)
    assert reading.reason == reason
    if kind is None:
        assert reading.margin is None
        return
    m = reading.margin
    assert m is not None and m.kind == kind and _close(m.lower, lower) and _close(m.upper, upper), m
    assert m.source in MARGIN_FIELDS and m.text and m.text in case["fields"][m.source]
    assert margin_result(m, *case["ci"]) == result


def _case(nct, **kw):
    (case,) = [c for c in CASES if c["nct"] == nct and all(c[k] == v for k, v in kw.items())]
    return case


def test_xact_keeps_both_margins_and_returns_the_strictest():
    # NCT00009737: HR 0.87, 95% CI 0.75-1.00, p = 0.053, yet non-inferior against 1.25 and 1.20.
    case = _case("NCT00009737")
    reading = _read(case)
    assert sorted(m.upper for m in reading.margins) == [1.2, 1.25]
    assert (reading.margin.null, reading.margin.ci_level, reading.margin.source) == (
        1.0,
        95.0,
        "non_inferiority_comment",
    )
    # The margin stored gives the same answer as every margin stated ...
    assert {margin_result(m, *case["ci"]) for m in reading.margins} == {margin_result(reading.margin, *case["ci"])}
    # ... and where the two would answer differently (an upper limit of 1.22), none is chosen.
    other = read_margin(case["fields"], case["est"], 0.8, 1.22, case["ni_type"])
    assert (other.margin, other.reason) == (None, "margins_disagree")


def test_brief_equivalence_example():
    reading = _read(_case("NCT03556358"))
    assert (reading.margin.lower, reading.margin.upper) == (0.755, 1.325)
    assert margin_result(reading.margin, 0.9185, 1.2659) == "shown"


def test_all_analyses_of_nct00069095_are_cases(analyses):
    ni = analyses.filter((pl.col("nct_id") == "NCT00069095") & pl.col("non_inferiority_type").is_in(NI_TYPES))
    ids = {int(i) for i in ni["id"]}
    assert ids == {c["id"] for c in CASES if c["nct"] == "NCT00069095"}
    assert len(ids) == 11


def test_scale_and_source_details():
    # A ratio posted as a percentage keeps the margin on that scale, with its null at 100.
    m = _read(_case("NCT02069704")).margin
    assert (m.lower, m.upper, m.null) == (80.0, 125.0, 100.0)
    # NCT00080912: the only sided statement of the 10% margin is in the estimate comment.
    assert _read(_case("NCT00080912")).margin.source == "estimate_comment"
    # The confidence level a statement names: "(95% CI in -13% to 13%)", "the 2-sided 90% CI of the RR".
    assert _read(_case("NCT02364999")).margin.ci_level == 95.0
    assert _read(_case("NCT01901146", est="Risk Ratio (RR)")).margin.ci_level == 90.0


def test_ni_type_in_either_spelling_picks_the_same_margin():
    # NCT01516736 states an equivalence margin (±1 day) and a non-inferiority margin (-0.6 days).
    case = _case("NCT01516736", ni_type="Equivalence")
    spellings = [("Equivalence", (-1.0, 1.0)), ("EQUIVALENCE", (-1.0, 1.0)), ("Non-Inferiority", (-0.6, None)),
                 ("NON_INFERIORITY", (-0.6, None))]  # fmt: skip
    for spelling, expected in spellings:
        m = read_margin(case["fields"], case["est"], *case["ci"], spelling).margin
        assert (m.lower, m.upper) == expected
    # "Either" (or anything else) with both stated: they agree on this interval, so the equivalence interval.
    either = read_margin(case["fields"], case["est"], *case["ci"], "NON_INFERIORITY_OR_EQUIVALENCE").margin
    assert (either.kind, either.lower, either.upper) == ("equivalence", -1.0, 1.0)
    # ... and where they would not (lower limit -0.8: within ±1, below -0.6), neither is chosen.
    disagree = read_margin(case["fields"], case["est"], -0.8, 0.08, None)
    assert (disagree.margin, disagree.reason) == (None, "margins_disagree")


def test_empty_and_missing_inputs():
    assert read_margin({}, "Hazard Ratio (HR)", 0.8, 1.1, None).reason == "no_margin_stated"
    assert read_margin({"non_inferiority_comment": None, "other": "x"}, None, None, None, None).reason == (
        "no_margin_stated"
    )
    case = _case("NCT00858364")
    assert read_margin(case["fields"], None, *case["ci"], case["ni_type"]).reason == "estimate_scale_unknown"
    assert read_margin(case["fields"], "Slope", *case["ci"], case["ni_type"]).reason == "estimate_scale_unknown"
    # NaN limits are missing limits.
    assert margin_result(_read(case).margin, float("nan"), float("nan")) == "unknown"


@pytest.mark.parametrize(
    ("margin", "ci", "expected"),
    [
        (Margin("non_inferiority", None, 1.2, "s", "t", 1.0), (0.75, 1.0), "shown"),
        (Margin("non_inferiority", None, 1.2, "s", "t", 1.0), (0.9, 1.2), "not_shown"),  # at the margin: not shown
        (Margin("non_inferiority", None, 1.2, "s", "t", 1.0), (0.9, None), "unknown"),
        (Margin("non_inferiority", None, 1.2, "s", "t", 1.0), (None, 1.1), "shown"),  # one-sided, upper posted
        (Margin("non_inferiority", 0.66, None, "s", "t", 1.0), (0.66, 1.1), "not_shown"),
        (Margin("non_inferiority", 0.66, None, "s", "t", 1.0), (0.67, None), "shown"),
        (Margin("non_inferiority", -10.0, None, "s", "t"), (None, 9.2), "unknown"),
        (Margin("equivalence", 0.8, 1.25, "s", "t", 1.0), (0.81, 1.24), "shown"),
        (Margin("equivalence", 0.8, 1.25, "s", "t", 1.0), (0.79, 1.1), "not_shown"),
        (Margin("equivalence", 0.8, 1.25, "s", "t", 1.0), (0.9, None), "unknown"),
    ],
)
def test_margin_result(margin, ci, expected):
    assert margin_result(margin, *ci) == expected


def test_every_ni_analysis_in_the_snapshot(analyses, capsys):
    # Every non-inferiority or equivalence analysis: read_margin never raises, a margin lies on its side of the
    # null (a ratio's above 0), an equivalence margin has both limits, a reason names why there is none, and the
    # margin returned gives the same answer as every margin read on its side.
    ni = analyses.filter(pl.col("non_inferiority_type").is_in(NI_TYPES))
    assert ni.height > 400
    read = 0
    for row in ni.iter_rows(named=True):
        fields = {k: row[v] for k, v in AACT.items()}
        lo, hi = row["ci_lower_limit"], row["ci_upper_limit"]
        reading = read_margin(fields, row["param_type"], lo, hi, row["non_inferiority_type"])
        assert (reading.margin is None) == (reading.reason is not None), row["id"]
        if reading.margin is None:
            assert reading.reason in MARGIN_REASONS
            continue
        read += 1
        m = reading.margin
        assert m.kind in ("non_inferiority", "equivalence") and m.source in MARGIN_FIELDS and m.text
        assert (m.lower is not None) + (m.upper is not None) == (2 if m.kind == "equivalence" else 1)
        assert m.lower is None or m.lower < m.null
        assert m.upper is None or m.upper > m.null
        if m.null in (1.0, 100.0):
            assert all(x > 0 for x in (m.lower, m.upper) if x is not None)
        result = margin_result(m, lo, hi)
        assert result in MARGIN_RESULT_VALUES
        same_side = [x for x in reading.margins if x.kind == m.kind and (x.lower is None) == (m.lower is None)]
        if m.kind == "non_inferiority":
            assert {margin_result(x, lo, hi) for x in same_side} == {result}
    assert read >= 200  # 227 of the 503 when this was written
    assert capsys.readouterr() == ("", "")
