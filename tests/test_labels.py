"""Labels from posted results (deepimagine_data.labels), tested on real registry values.

Every string below is verbatim from the embedded AACT snapshot (``deepimagine_data.pipeline.corpus``:
the analyses' p_value_comment / statistical_comment / non_inferiority_comment / group_description /
estimate_comment, outcome titles and descriptions, result group titles), except the few marked ``brief`` (the
phrasings quoted in the task). Per-arm numbers are from the measurements table of the dose_response and
llm_meta_analysis sources. The expected answers were written by reading each string, not by running the code;
p-values are checked against an independent computation in this file (hypergeometric sum, Welch's formula).
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from deepimagine_data.labels import (
    ALPHA_DEFAULT,
    ALPHA_FIELDS,
    FAVOUR_VALUES,
    REFERENCE_FIELDS,
    Alpha,
    ArmValue,
    Favour,
    Polarity,
    Reference,
    alpha_from_text,
    benefit,
    compare_arms,
    decide,
    estimate_direction,
    estimate_null,
    estimate_polarity,
    favoured_by_text,
    outcome_polarity,
    reference_from_text,
    significance,
    superiority,
    value_direction,
)

SIG, NOT, UNK = "significant", "not_significant", "unknown"
HIGHER, LOWER = "higher_is_better", "lower_is_better"

# ---------------------------------------------------------------------------------------------------------------
# significance
# ---------------------------------------------------------------------------------------------------------------

# (p_value, modifier, alpha, expected). Posted values: "0.0309" (NCT00002597), "<0.0001", "<=0.001"
# (clinifact/NCT01257347), ">0.05" and ">0.01" (NCT00006392), ">=0.99" (clinifact/NCT00497055), "=0" (NCT00152477).
SIGNIFICANCE_CASES = [
    (0.0309, None, 0.05, SIG),
    (0.0309, None, 0.025, NOT),  # NCT00002597 stated a one-sided 0.025 level
    (0.05, None, 0.05, NOT),  # at alpha exactly: p < alpha is required
    (0.0499, None, 0.05, SIG),
    (0.178, None, 0.05, NOT),
    (0.05, "=", 0.05, NOT),
    (0.0, "=", 0.05, SIG),
    (0.0001, "<", 0.05, SIG),
    (0.05, "<", 0.05, SIG),  # p < 0.05 is surely below 0.05
    (0.1, "<", 0.05, UNK),  # p < 0.1 may be 0.07
    (0.001, "<=", 0.05, SIG),
    (0.05, "<=", 0.05, UNK),  # p may equal 0.05
    (0.001, "≤", 0.05, SIG),
    (0.05, ">", 0.05, NOT),
    (0.01, ">", 0.05, UNK),  # p > 0.01 may be 0.02
    (0.99, ">=", 0.05, NOT),
    (0.05, ">=", 0.05, NOT),  # p >= 0.05 is not below 0.05
    (0.049, ">=", 0.05, UNK),
    (0.01, ">", 0.01, NOT),
    (None, None, 0.05, UNK),
    (None, "<", 0.05, UNK),
    (float("nan"), None, 0.05, UNK),
    (1.5, None, 0.05, UNK),  # not a p-value
    (-0.01, "<", 0.05, UNK),
    (0.01, "~", 0.05, UNK),  # a modifier the schema does not know
]


@pytest.mark.parametrize(("p", "modifier", "alpha", "expected"), SIGNIFICANCE_CASES)
def test_significance(p: float | None, modifier: str | None, alpha: float, expected: str) -> None:
    assert significance(p, modifier, alpha) == expected


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.05, 5.0])
def test_significance_rejects_impossible_alpha(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        significance(0.01, None, alpha)


# ---------------------------------------------------------------------------------------------------------------
# alpha_from_text
# ---------------------------------------------------------------------------------------------------------------

PVC, STC, NIC, GDS, ESC = (
    "p_value_comment",
    "statistical_comment",
    "non_inferiority_comment",
    "group_description",
    "estimate_comment",
)

# NCT00002597:O0:S0 group_description
NCT00002597_DESIGN = (
    "Null hypothesis: 8-year OS rate of 60% radiation therapy (RT) alone vs. 67% with hormone therapy. The study was "
    "designed with 90% power to detect a 7-percentage- point absolute difference in the 8-year survival rate, with "
    "the use of a one-sided log-rank test at the 0.025 significance level, requiring 1980 patients and 716 deaths "
    "for definitive analysis."
)

# (field, text, expected value or None for the default, expected sides)
ALPHA_CASES = [
    (STC, "2-sided significance level = 0.0125", 0.0125, 2),
    (STC, "One-sided 0.025 significance level", 0.025, 1),
    (STC, "One-sided significance level = 0.1803", 0.1803, 1),
    (STC, "Two-sided significance level of 0.017.", 0.017, 2),
    (
        STC,
        "P-value is stratified by the randomization stratification factors and is 1-sided, with a 0.10 threshold "
        "for significance.",
        0.1,
        1,
    ),
    (
        STC,
        "p-value calculated using stratified log-rank test with baseline ECOG status (0-1 vs 2) as stratification "
        "factor. Significance level was two-sided 0.2.",
        0.2,
        2,
    ),
    (PVC, "Chi-square test was used (1-sided, α=0.10)", 0.1, 1),
    (PVC, "Test was performed at 2-sided alpha of 5%. There was no multiplicity adjustment.", 0.05, 2),
    (PVC, "The p value was calculated with a 1-sided significance level of 2.5%.", 0.025, 1),
    (PVC, "A P value of less than 0.05 was considered significant.", 0.05, None),
    (PVC, "Threshold for significance at 0.1 level.", 0.1, None),
    (PVC, "Statistical significance threshold at this analysis was 10%", 0.1, None),
    (
        PVC,
        "The type I error rate used was 0.005 in an attempt to adjust for multiple primary scores being tested.The "
        "type II error rate used was 0.10 (power = 0.9).",
        0.005,
        None,
    ),
    (
        PVC,
        "The study was to be considered positive if the 1-sided log-rank test for PFS, stratified for baseline "
        "stratification factors (ECOG PS, ethnicity, and brain metastases) was significant at the 0.02496level.",
        0.02496,
        None,
    ),
    (
        PVC,
        "If the PFS endpoint was significant, ORR was to be considered significant if 2-sided p-value from Pearson "
        "chi-square test was <= 0.04992.",
        0.04992,
        2,
    ),
    (
        PVC,
        "The p value was based on stratified log rank test, the threshold for significance was two-sided p value of "
        "0.2%.",
        0.002,
        2,
    ),
    (
        PVC,
        "Using an alpha value of 0.05, dof = 60, the null hypothesis of sample mean equivalence was rejected.",
        0.05,
        None,
    ),
    # an observed p-value next to the stated level is not the level
    (PVC, "Actual P-Value = 3.89597E-42. A P-value of <0.05 was considered significant.", 0.05, None),
    (PVC, "Reported p-value of <0.01 is calculated p-value. (p<0.05 was considered significant)", 0.05, None),
    # per-comparison levels set for multiplicity are taken
    (
        PVC,
        "Since there are three primary outcomes (depression, anxiety and coping scores) in the study, the "
        "significance level was set a priori at 0.0167 (alpha = 0.05/3).",
        0.0167,
        None,
    ),
    (PVC, "Bonferoni correction was made so that results with p<0.0167 are considered significant.", 0.0167, None),
    (
        PVC,
        "The Holm step down method of multiple comparisons was used to maintain a study wide type I error of 5% for "
        "prespecified secondary efficacy analyses. The 2-sided type I error rate was 0.0125 for this analysis.",
        0.0125,
        2,
    ),
    (
        PVC,
        "One-sided significance level = 0.046 to preserve overall significance level of 0.05 for the study.",
        0.046,
        1,
    ),
    (
        NIC,
        "Non-inferiority was demonstrated if the upper limit of the 2-sided 97.5% confidence interval (CI) for the "
        "hazard ratio (HR) was less than the predefined limit of 1.23 (the non-inferiority margin). A stratified Cox "
        "model was used. In order to retain an experiment-wise two-sided type I error of 5%, the non-inferiority "
        "analysis for PFS used a two-sided significance level of 2.5%.",
        0.025,
        2,
    ),
    (
        NIC,
        "Comparison of overall survival (OS) (based on local investigator assessment) between the two treatment "
        "groups using a stratified log-rank test at one-sided 2.5% level of significance",
        0.025,
        1,
    ),
    (NIC, "alpha=5%", 0.05, None),
    # a power of .8 next to the alpha is not a level
    (
        NIC,
        "The study was powered based on two former studies utilizing RIAS, (both powered =.8 and alpha =.05). With a "
        "0.6 effect size, the required sample size is 72 patients (36 per group) for a one-tailed test of study "
        "hypotheses (power =.8 and alpha =.05).",
        0.05,
        None,
    ),
    (
        GDS,
        NCT00002597_DESIGN,
        0.025,
        1,
    ),
    (
        GDS,
        "Based on previously published PK data for reference bevacizumab in metastatic colorectal cancer, we assumed "
        "a conservative inter-participant coefficient of variation for AUC of around 35%. A sample size of 51 "
        "patients in each treatment arm could show bioequivalence with a nominal power of 90% and an α of 0·05, if "
        "the 90% CIs for the ratio of BEVZ92 to reference bevacizumab of the geometric means for AUC0-336h and AUCss "
        "were within the acceptance interval of 80%-125%.",
        0.05,
        None,
    ),
    (
        ESC,
        "Significance level is 0.04. Hazard ratio and 95 % CI are estimated by cox proportional hazards model.",
        0.04,
        None,
    ),
    # family-wise, overall, global and allocated levels are not the bar for one comparison
    (
        PVC,
        "One-sided un-adjusted p-values to test if the decrease in treatment arm is greater than the control arm. "
        "Holm's method was performed for multiple comparisons to provide an overall significance level of 5%. Only "
        "significant p-values were reported.",
        None,
        None,
    ),
    (
        PVC,
        "A Hochberg-based gatekeeping procedure was used to control the global family-wise error rate across the "
        "multiple null hypotheses in the strong sense at a 1-sided 0.025 level.",
        None,
        None,
    ),
    (
        GDS,
        "To maintain the family-wise 2-sided type I error rate at 0.05, a parallel testing strategy between OS (with "
        "allocated type I error rate 0.03) and remaining key secondary endpoints (time to PSA progression and time "
        "to first use of new antineoplastic therapy with allocated type I error rate 0.02) was performed. Testing "
        "was performed only if the primary endpoint was statistically significant.",
        None,
        None,
    ),
    # the threshold of another test, and texts that state no level
    (
        PVC,
        "Only risk factors significant at the 0.10 level in univariate analysis were included in the multivariate "
        "model.",
        None,
        None,
    ),
    (PVC, "one-sided log-rank test p value", None, None),
    (PVC, "This p-value is not adjusted for multiple comparisons.", None, None),
    (
        NIC,
        "Non-inferiority limit: -1 day Power: 90% Confidence level: 97.5% Randomization ratio: 1:1 (EP2006:Neupogen)",
        None,
        None,
    ),
    # the task's own examples (brief)
    (STC, "2-sided significance level of 0.05", 0.05, 2),
    (STC, "alpha = 0.025", 0.025, None),
    (STC, "one-sided alpha of 2.5%", 0.025, 1),
    (STC, "α=0.1", 0.1, None),
    (STC, "significance level: 0.10", 0.1, None),
    (STC, "at the 0.01 level", 0.01, None),
    (STC, "Bonferroni-adjusted threshold 0.0167", 0.0167, None),
    (STC, "p-value not adjusted for multiple comparison", None, None),
]


@pytest.mark.parametrize(("field", "text", "value", "sides"), ALPHA_CASES)
def test_alpha_from_text(field: str, text: str, value: float | None, sides: int | None) -> None:
    alpha = alpha_from_text({field: text})
    if value is None:
        assert alpha == Alpha(ALPHA_DEFAULT, "default")
    else:
        assert alpha.source == field
        assert alpha.value == pytest.approx(value)
        assert alpha.sides == sides


def test_alpha_reads_fields_in_order() -> None:
    # NCT00002597:O0:S0 - the p_value_comment states no level, the group_description does.
    row = {
        PVC: None,
        STC: None,
        NIC: None,
        GDS: NCT00002597_DESIGN,
        ESC: "Reference level = Hormone Therapy + Radiation Therapy",
    }
    assert alpha_from_text({f: row[f] for f in ALPHA_FIELDS}) == Alpha(0.025, GDS, 1)
    # the first field that states a level wins, even when a later one states another
    both = {PVC: "Two-sided significance level of 0.01", GDS: "with a two-sided significance level of 0.05"}
    assert alpha_from_text(both) == Alpha(0.01, PVC, 2)
    assert alpha_from_text({}) == Alpha(ALPHA_DEFAULT, "default")


# ---------------------------------------------------------------------------------------------------------------
# outcome_polarity
# ---------------------------------------------------------------------------------------------------------------

# (title, expected value); titles from outcomes.title
POLARITY_CASES = [
    ("Overall Survival", HIGHER),
    ("Overall Survival (OS)", HIGHER),
    ("Progression-free Survival", HIGHER),
    ("Progression Free Survival (PFS)", HIGHER),
    ("Disease-free Survival (DFS)", HIGHER),
    ("Radiographic Progression-free Survival (rPFS)", HIGHER),
    ("Distant Failure-free Survival", HIGHER),
    ("Headache-free at 2 hours", HIGHER),
    ("Pain freedom at 2 hours postdose", HIGHER),
    ("Percentage of Participants Who Were Alive at Year 1", HIGHER),
    ("Objective Response Rate (ORR)", HIGHER),
    ("Duration of Response", HIGHER),
    ("Pathologic Complete Response Rate", HIGHER),
    ("PASI 75 response", HIGHER),
    ("Disease Control Rate (DCR)", HIGHER),
    ("Clinical Benefit Rate (CBR)", HIGHER),
    ("Duration of Stable Disease", HIGHER),
    ("Quality of Life", HIGHER),
    ("Total Pain Relief (TOTPAR) at 5, 10, 15, 30, 45, and 60 Minutes After Dosing", HIGHER),
    ("Number of Participants With Salivary Cotinine-verified Smoking Abstinence at 6 Months", HIGHER),
    ("Response (50% reduction in depressive symptoms)", HIGHER),
    ("Percentage of Subjects Who Achieve Psoriasis Area and Severity Index (PASI) 75 at Week 16", HIGHER),
    ("Number of Subjects Without Progression Disease at Week 12 - Part A", HIGHER),
    ("Percentage of Participants With Pain Response Through Two Years (Phase III)", HIGHER),
    # a population or a programmed-death ligand does not vote
    ("Overall Survival (OS) in Patients With Relapsed or Refractory NSCLC", HIGHER),
    (
        "Overall Survival (OS) in Participants With a Programmed Cell Death Ligand 1 (PD-L1) Combined Positive Score "
        "(CPS) of ≥10%",
        HIGHER,
    ),
    # time to a bad event is better long, time to a good one short
    ("Time to Progression (TTP)", HIGHER),
    ("Time to Treatment Failure", HIGHER),
    ("Time-to-Progression (Early Breast Cancer)", HIGHER),
    ("Time to Deterioration (TTD) in Chest Pain, Dyspnea or Cough", HIGHER),
    ("Median Time to First Skeletal-related Event", HIGHER),
    ("Time to Response", LOWER),
    ("Percentage of Participants Who Died", LOWER),
    ("Number of Participants With Adverse Events", LOWER),
    ("Number of Participants With Serious Adverse Events (SAEs)", LOWER),
    ("Toxicity", LOWER),
    ("Dose-Escalation Phase: Number of Participants With Dose-Limiting Toxicity (DLT)", LOWER),
    ("Percentage of Participants With Disease Progression or Death", LOWER),
    ("Recurrence Rate", LOWER),
    ("WOMAC pain score", LOWER),
    ("Change from baseline in HbA1c", LOWER),
    ("patients discontinued due to lack of efficacy", LOWER),
    ("Incidence of Grade ≥3 Oral Mucositis", LOWER),
    ("30-day Post-operative Mortality Rate", LOWER),
    ("Perioperative Bleeding Volume", LOWER),
    # unknown: not better or worse either way, unreadable, or rules that disagree
    ("Maximum Tolerated Dose (MTD)", UNK),
    ("Maximum Plasma Concentration (Cmax) of MDV3100: Single Dose Period", UNK),
    (
        "Correlation of Global Longitudinal Myocardial Strain With Cardiac Events and Asymptomatic Worsening of "
        "Cardiac Function",
        UNK,
    ),
    ("Baseline hypertension", UNK),
    ("Immune Response", UNK),
    ("Safety and Tolerability", UNK),
    ("Change in Ki67 Levels Before and After Treatment", UNK),
    ("Change from baseline in serum uric acid (SUA)", UNK),
    ("Surgical Completion Rate and Complication Rate", UNK),
    ("Number of Participants With % Left Ventricular Ejection Fraction (LVEF) Decrease From Baseline", UNK),
    ("Time to Second Subsequent Therapy (TSST) in Cohort With Germline BRCA Mutation (gBRCA)", UNK),
    (
        "Number of Participants With Improved, Stable and Deterioration Based on 10-Point Change for EORTC QLQ-C30 "
        "Global QoL",
        UNK,
    ),
    ("Apoptosis (Cleaved Caspase-3) Measured at Baseline and After Completion of Study Treatment", UNK),
    (None, UNK),
    ("", UNK),
]


@pytest.mark.parametrize(("title", "expected"), POLARITY_CASES)
def test_outcome_polarity(title: str | None, expected: str) -> None:
    polarity = outcome_polarity(title)
    assert polarity.value == expected
    if expected != UNK:
        assert polarity.rule  # a known polarity always names its rule


def test_polarity_names_its_rule() -> None:
    assert outcome_polarity("Time to Progression (TTP)") == Polarity(HIGHER, "time_to(progression)")
    assert outcome_polarity("Maximum Tolerated Dose (MTD)") == Polarity(UNK, "dose_finding")
    assert outcome_polarity("Change in Ki67 Levels Before and After Treatment") == Polarity(UNK, None)
    assert outcome_polarity("Surgical Completion Rate and Complication Rate").rule.startswith("conflict(")


# (title, description, expected value, expected rule); an explicit statement of how the score runs
POLARITY_DESCRIPTION_CASES = [
    (
        "Change From Baseline in EQ-5D-VAS Score at Cycle 24",
        "EQ-5D: participant rated questionnaire to assess health-related QoL in terms of a single index value. The "
        "VAS component rates current health state on a scale from 0 mm (worst imaginable health state) to 100 mm "
        "(best imaginable health state); higher scores indicate a better health state.",
        HIGHER,
        "description",
    ),
    (
        "Vitality, SF-36",
        "The SF-36's (RAND Health Survey) energy/fatigue (vitality) scale focuses on the frequency of feelings of "
        "fatigue over the last month.~Standardized scores on the RAND SF-36 vigor/vitality scale range from 0-100, "
        "with higher scores indicating less fatigue.",
        HIGHER,
        "description",
    ),
    (
        "Caregiving Burden-Caregivers",
        "Zarit Burden Interview (ZBI) (12 items). The range of scores is 0-48. Higher scores represent higher burden.",
        LOWER,
        "description",
    ),
    (
        "Change in Cosmesis Evaluations Using the NRG Oncology Cosmesis Scale",
        "Change from baseline rates of cosmesis at 3 years post-treatment as measured by the NRG Oncology cosmesis "
        "scale. The scale is scored from 1 (excellent) to 4 (poor) with a lower number representing better physical "
        "appearance.",
        LOWER,
        "description",
    ),
    # the title says fatigue (worse when higher), the scale says higher is less fatigue: unknown
    (
        "FACIT-Fatigue Scale",
        "The FACIT-Fatigue scale is a13 item scale, full scale 0-52, with higher score indicating better functioning "
        "or less fatigue.",
        UNK,
        "conflict(specific_harm,description)",
    ),
    (
        "Changes in Quality of Life as Measured on the International Prostate Symptom Score (IPSS) Questionnaire.",
        "The International Prostate Symptom Score is composed of seven questions and scored from 0 - 35, with higher "
        "scores indicating more severe symptoms.",
        UNK,
        "conflict(quality_of_life,description)",
    ),
    # a statement that does not say better or worse
    (
        "Self Reported Behavioral Automaticity Index",
        "Measures changes in habit strength, scores range from 1-7 with higher scores indicating a stronger habit",
        UNK,
        None,
    ),
    # the title counts responders; the statement is about the underlying BPI score and is not used
    (
        "Percentage of Participants Achieving Pain Response Assessed Using Brief Pain Inventory-Short Form (BPI-SF) "
        "Pain Intensity Score",
        "Pain response as per BPI-SF was defined as a decrease of at least 30% from Baseline in the average of BPI-SF "
        "pain intensity score observed at 2 consecutive evaluations >=3 weeks apart without increase in analgesic "
        "usage score. The BPI-SF is a self-administered questionnaire developed to assess the severity of pain on a "
        "0-10 categorical scale where 0=no pain, 10=pain as bad as you can imagine. Higher scores indicated worst "
        "outcomes.",
        HIGHER,
        "achieve",
    ),
    # keyword rules never run on a description: "death" here must not make OS lower-is-better
    (
        "Overall Survival Rate (10-year)",
        "Overall survival (OS) was calculated from randomization to the date of death from any cause and overall "
        "survival rates were estimated by the Kaplan-Meier method.",
        HIGHER,
        "survival",
    ),
]


@pytest.mark.parametrize(("title", "description", "value", "rule"), POLARITY_DESCRIPTION_CASES)
def test_outcome_polarity_with_description(title: str, description: str, value: str, rule: str | None) -> None:
    assert outcome_polarity(title, description) == Polarity(value, rule)


# ---------------------------------------------------------------------------------------------------------------
# reference_from_text
# ---------------------------------------------------------------------------------------------------------------

# (analysis, text, group titles in order, expected (compared, reference) or None)
REFERENCE_CASES = [
    (
        "NCT00045032:O0:S1",
        "HR for Herceptin 1-Year Arm versus Observation Arm.",
        ["Observation Arm", "Herceptin 1-Year Arm"],
        (1, 0),
    ),
    (
        "NCT00079001:O1:S0",
        "Zoledronic acid versus placebo group",
        ["Zoledronic Acid + Androgen Deprivation Therapy", "Placebo + Androgen Deprivation Therapy"],
        (0, 1),
    ),
    ("NCT00820248:O1:S0", "hazard ratio for panitumumab vs cisplatin", ["Cisplatin", "Panitumumab"], (1, 0)),
    (
        "NCT01308580:O0:S0",
        "Cabazitaxel 20 mg/m^2 vs Cabazitaxel 25 mg/m^2",
        ["Cabazitaxel 20 mg/m^2", "Cabazitaxel 25 mg/m^2"],
        (0, 1),
    ),
    (
        "NCT02896855:O0:S0",
        "This stratified Hazard Ratio (HR) is calculated as Arm B: Pertuzumab versus Arm A: Placebo. Cox proportional "
        "hazards model, stratified by disease type and hormone-receptor status, was used to estimate HR and its 95% "
        "CI.",
        ["Arm A: Placebo + Trastuzumab + Docetaxel", "Arm B: Pertuzumab + Trastuzumab + Docetaxel"],
        (1, 0),
    ),
    (
        "NCT01120184:O17:S1",
        "Direction of comparison: Trastuzumab Emtansine + Pertuzumab vs Trastuzumab + Taxane",
        ["Trastuzumab + Taxane", "Trastuzumab Emtansine + Pertuzumab"],
        (1, 0),
    ),
    (
        "NCT00095199:O0:S0",
        "The Pemetrexed comparisons (Cetuximab + Pemetrexed vs Pemetrexed) were considered the primary comparisons. "
        "The Docetaxel comparisons (Cetuximab + Docetaxel vs Docetaxel) were considered supportive as Docetaxel "
        "comparisons remained underpowered by design.",
        ["Cetuximab & Pemetrexed", "Pemetrexed"],
        (0, 1),
    ),
    (
        "NCT01268059:O3:S0",
        "Treatment effect Carboplatin/Paclitaxel + MEDI-575 versus Carboplatin/Paclitaxel.",
        [
            "Carboplatin/Paclitaxel - North America/European Union (EU)",
            "Carboplatin/Paclitaxel + MEDI-575 - North America/EU",
        ],
        (1, 0),
    ),
    (
        "NCT02358031:O18:S0",
        "ORR in all participants of the pembro combo arm was compared to ORR in all participants of the control arm. "
        "The comparison was based on Miettinen & Nurminen method stratified by ECOG (0 vs. 1), HPV status (Positive "
        "vs. Negative) and PD-L1 TPS status (Strongly Positive, Not Strongly Positive).",
        ["Pembrolizumab + Chemotherapy (Pembro Combo)", "Cetuximab + Chemotherapy (Control)"],
        (0, 1),
    ),
    ("NCT01712009:O0:S2", "Loratadine minus Naproxen", ["Naproxen 500 mg BID", "Loratadine 10 mg QD"], (1, 0)),
    (
        "NCT02586025:O0:S0",
        "Pertuzumab, Trastuzumab, Docetaxel arm minus Placebo, Trastuzumab, Docetaxel arm. Approximate 95% CI for "
        "difference of two rates using Hauck-Anderson method.",
        ["Pertuzumab, Trastuzumab, Docetaxel", "Placebo, Trastuzumab, Docetaxel"],
        (0, 1),
    ),
    (
        "NCT01774786:O5:S0",
        "Difference in clinical benefit rate was calculated as the pertuzumab arm minus placebo arm.",
        ["Pertuzumab + Trastuzumab + Chemotherapy", "Placebo + Trastuzumab + Chemotherapy"],
        (0, 1),
    ),
    (
        "NCT00332163:O7:S0",
        "Rate difference = Pre-emptive - Reactive",
        ["Pre-emptive Skin Treatment", "Reactive Skin Treatment"],
        (0, 1),
    ),
    (
        "NCT00943722:O2:S11",
        "GMT ratio = GMT for 9- to 15-Year-Old Females (Lot 2) divided by GMT for 9- to 15-Year-Old Females (Lot 3)",
        ["Base Study: 9- to 15-Year-Old Females (Lot 2)", "Base Study: 9- to 15-Year-Old Females (Lot 3)"],
        (0, 1),
    ),
    (
        "NCT01121575:O30:S0",
        "Ratio of crizotinib + dacomitinib / crizotinib alone adjust geometric mean was analyzed using the mixed "
        "effect model and displayed as percentage.",
        ["Crizotinib Alone (Expansion Cohort 1)", "Crizotinib + Dacomitinib (Expansion Cohort 1)"],
        (1, 0),
    ),
    (
        "NCT02157883:O0:S0",
        "AZD9291+itraconazole / AZD9291 alone. Results based on linear mixed-effects model with treatment as fixed "
        "effect and patient as a random effect.",
        ["AZD9291 Alone", "AZD9291+Itraconazole"],
        (1, 0),
    ),
    (
        "NCT00858364:O0:S0",
        "A hazard ratio < 1.0 indicates a lower risk of death for darbepoetin alfa relative to placebo.",
        ["Placebo", "Darbepoetin Alfa"],
        (1, 0),
    ),
    (
        "NCT00829166:O14:S0",
        "HR (relative to Lapatinib + Capecitabine) was estimated by Cox regression.",
        ["Trastuzumab Emtansine", "Lapatinib + Capecitabine"],
        (0, 1),
    ),
    (
        "NCT00854308:O0:S0",
        "The hazard ratio was estimated using Cox Regression and was stratified for smoking status, Eastern "
        "Cooperative Oncology Group (ECOG) performance status and histology. The hazard ratio is relative to Placebo "
        "+ Erlotinib.",
        ["MetMAb + Erlotinib", "Placebo + Erlotinib"],
        (0, 1),
    ),
    ("NCT00567580:O1:S0", "Reference level = PBRT Alone", ["PBRT Alone", "PBRT + STAD"], (1, 0)),
    (
        "NCT00004054:O1:S0",
        "Fine-Gray regression model was used to obtain the hazard ratio. Reference level = Hormones and RT.",
        ["Hormones and RT", "Hormones and RT Plus Chemotherapy"],
        (1, 0),
    ),
    (
        "NCT00533949:O1:S0",
        "Reference level = 60 Gy",
        ["Combined Patients Receiving 60 Gy RT", "Combined Patients Receiving 74 Gy RT"],
        (1, 0),
    ),
    ("NCT02360215:O20:S0", "Reference level = WBRT + Memantine", ["HA-WBRT + Memantine", "WBRT + Memantine"], (0, 1)),
    (
        "NCT02748213:O2:S0",
        "Hazard Ratio (HR) calculated using Herceptin + Taxotere arm as reference.",
        ["Herceptin + Taxotere + Xeloda", "Herceptin + Taxotere"],
        (0, 1),
    ),
    (
        "NCT00066690:O0:S0",
        "Tamoxifen was the reference group in the estimation of the hazard ratio.",
        ["Tamoxifen", "T+OFS"],
        (1, 0),
    ),
    (
        "NCT01598298:O0:S0",
        "The estimation parameter is the model-based coefficient for the treatment term, with placebo as the "
        "reference level.",
        ["Arm I: Duloxetine", "Arm II: Placebo"],
        (0, 1),
    ),
    (
        "NCT03288987:O0:S0",
        "The 90 % CI based on synthesis method is (0.45,1.38). In HR calculation, the AryoGen Pharmed Bevacizumab to "
        "Roche Bevacizumab was reported. (reference group was Roche Bevacizumab)",
        ["Bevacizumab + FOLFIRI-3 (AryoGen Pharmed Bevacizumab)", "Bevacizumab + FOLFIRI-3 (Roche Bevacizumab)"],
        (0, 1),
    ),
    # "<A> over <B>" in a sentence about a ratio, or as the whole text
    ("NCT01673867:O0:S0", "HR = Nivolumab over docetaxel", ["Docetaxel", "Nivolumab"], (1, 0)),
    (
        "NCT02743494:O0:S0",
        "Stratified Cox proportional hazard model. Hazard Ratio is Nivolumab over Placebo.",
        ["Placebo", "Nivolumab"],
        (1, 0),
    ),
    (
        "NCT03143153:O0:S2",
        "Hazard Ratio is Arm B: Nivolumab + Chemotherapy over Arm C: Chemotherapy",
        ["Arm C: Chemotherapy", "Arm B: Nivolumab + Chemotherapy"],
        (1, 0),
    ),
    (
        "NCT00122460:O1:S0",
        "To test the equality of PFS between treatment groups, a two-sided stratified log-rank test (α=5%)was used, "
        "taking into account strata used for randomization (previous CTX [yes/no] and KPS [<80 vs. ≥80]).~Median PFS "
        "time was estimated using the Kaplan-Meier method. The HR of cetuximab + CTX over CTX alone was calculated "
        "using the Cox proportional hazards model stratified by randomization strata.",
        ["Chemotherapy Alone", "Cetuximab Plus Chemotherapy"],
        (1, 0),
    ),
    ("NCT00861614:O0:S0", "Ipilimumab over placebo", ["Placebo + Radiotherapy", "Ipilimumab + Radiotherapy"], (1, 0)),
    # a whole text "<A>/<B>" or "<A>:<B>"
    ("NCT00065442:O0:S0", "sipuleucel-T/placebo", ["APC-Placebo", "Sipuleucel-T"], (1, 0)),
    (
        "NCT01847274:O2:S0",
        "Niraparib:Placebo, based on the stratified Cox Proportional Hazards Model using randomization stratification "
        "factors.",
        ["Non-gBRCA Placebo", "Non-gBRCA Niraparib"],
        (1, 0),
    ),
    # "ratio presented/expressed as", "ratio is for", "ratio of" with parentheses, "the <A>: <B> hazard ratio"
    (
        "NCT00547157:O1:S0",
        "Hazard ratio is presented as panitumumab plus radiotherapy:chemoradiotherapy.",
        ["Chemoradiotherapy", "Panitumumab Plus Radiotherapy"],
        (1, 0),
    ),
    (
        "NCT01204710:O1:S0",
        "Hazard ratio is expressed as Olaratumab + Mitoxantrone / Mitoxantrone and estimated from Cox model.",
        ["Mitoxantrone", "Olaratumab + Mitoxantrone"],
        (1, 0),
    ),
    (
        "NCT01064622:O0:S0",
        "Hazard ratio is for (gemcitabine hydrochloride plus vismodegib)/(gemcitabine hydrochloride plus placebo), "
        "adjusted for Karnofsky performance status (90-100 vs. 80) and disease status (newly diagnosed vs. recurrent "
        "after surgery)",
        ["Arm I (Gemcitabine Hydrochloride and Placebo)", "Arm II (Gemcitabine Hydrochloride and Vismodegib)"],
        (1, 0),
    ),
    (
        "NCT00950300:O0:S0",
        "Ratio of test treatment group (Herceptin SC + Chemotherapy) to reference treatment group (Herceptin IV + "
        "Chemotherapy).",
        ["Herceptin IV + Chemotherapy", "Herceptin SC + Chemotherapy"],
        (1, 0),
    ),
    # "alone" may stand on the side that names only what both groups share
    (
        "NCT00844649:O0:S0",
        "Hazard ratio of Albumin bound paclitaxel + gemcitabine/gemcitabine alone. The associated hazard ratio and "
        "two-sided 95% confidence interval were estimated using a stratified Cox proportional hazard model.",
        ["Gemcitabine", "Albumin-bound Paclitaxel (ABI-007)/Gemcitabine"],
        (1, 0),
    ),
    (
        "NCT02352948:O2:S1",
        "As part of the contribution of components analysis for sub-study B, durvalumab plus tremelimumab treatment "
        "arm was compared with tremelimumab monotherapy.",
        ["Sub-study B: Tremelimumab", "Sub-study B: Durvalumab+Tremelimumab"],
        (1, 0),
    ),
    (
        "NCT01942135:O0:S0",
        "The primary hypothesis to be tested was H0: λ≥1 versus. HA: λ<1, where λ was the palbociclib plus "
        "fulvestrant: placebo plus fulvestrant hazard ratio (HR). A HR less than 1 indicates a reduction in hazard "
        "rate in favor of Palbociclib + Fulvestrant. The study was planned to have 90% power and control the type-I "
        "error rate at 0.025.",
        ["Placebo + Fulvestrant", "Palbociclib + Fulvestrant"],
        (1, 0),
    ),
    # "comparing <A> to/with <B>"
    (
        "NCT01670500:O0:S0",
        "The risk ratio is comparing cisplatin to doxorubicin-cyclophosphamide (AC)",
        ["Cisplatin", "Doxorubicin-Cyclophosphamide"],
        (0, 1),
    ),
    (
        "NCT00567190:O1:S0",
        "Hazard ratio is comparing Pertuzumab arm with Placebo arm.",
        ["Placebo + Trastuzumab + Docetaxel", "Pertuzumab + Trastuzumab + Docetaxel"],
        (1, 0),
    ),
    # the sign of the estimate stated as one group against the other
    (
        "NCT00397930:O0:S0",
        "The negative estimated value indicates that the mean Post-Pre change for the YOCAS group was less than that "
        "of the Control group.",
        ["Standard Care Control Condition", "Yoga Intervention (YOCAS)"],
        (1, 0),
    ),
    # numerator and denominator
    (
        "NCT01905657:O0:S0",
        "Numerator=Pembrolizumab 2 mg/kg Denominator=Docetaxel 75 mg/m^2",
        ["Docetaxel 75 mg/m^2", "Pembrolizumab 2 mg/kg"],
        (1, 0),
    ),
    ("NCT00006392:O1:S0", "The placebo was the denominator.", ["Placebo", "Vitamin E"], (1, 0)),
    (
        "NCT01120236:O0:S0",
        "Arm I (Androgen Deprivation and Cixutumumab) represents the numerator and Arm II (Androgen Deprivation "
        "Therapy) represents the denominator for relative risk.",
        ["Arm II (Androgen Deprivation Therapy)", "Arm I (Androgen Deprivation and Cixutumumab)"],
        (1, 0),
    ),
    (
        "NCT01063517:O0:S0",
        "The numerator of the hazard ratio is hazards of progression in olaparib+paclitaxel group and denominator is "
        "hazards of progression in placebo+paclitaxel group. Confidence intervals are calculated using the "
        "profile-likelihood method.",
        ["Placebo+Paclitaxel", "Olaparib+Paclitaxel"],
        (1, 0),
    ),
    (
        "NCT00089141:O0:S0",
        "For all analyses, MMF arm in numerator, and placebo arm in denominator. Hazard ratio estimate includes 3 "
        "efficacy success events that occurred after two years in the placebo arm.",
        ["Placebo", "Mycophenolate Mofetil"],
        (1, 0),
    ),
    # a reference spelled as its title ("T+OFS" and "E+OFS" share every word), with a parenthesis, a decimal dose,
    # or without the title's label
    (
        "NCT00066703:O0:S0",
        "T+OFS is the reference group in the estimation of the hazard ratio.",
        ["T+OFS", "E+OFS"],
        (1, 0),
    ),
    (
        "NCT00048997:O0:S0",
        "Prophylactic cranial irradiation (PCI) is the reference arm for the hazard ratio.",
        ["Observation", "Prophylactic Cranial Irradiation (PCI)"],
        (0, 1),
    ),
    (
        "NCT00326898:O1:S0",
        "Hazard ratio was estimated using stratified proportional hazards model with Arm C (placebo arm) as the "
        "reference group.",
        ["Arm C (Sunitinib Placebo + Sorafenib Placebo)", "Arm A (Sunitinib + Sorafenib Placebo)"],
        (1, 0),
    ),
    (
        "NCT01641939:O1:S2",
        "The unstratified Cox proportional hazards model was used to estimate the hazard ratio. The 95% CI for median "
        "was computed using the method of Brookmeyer and Crowley. Reference group: Trastuzumab Emtansine 3.6 mg",
        ["Trastuzumab Emtansine 2.4 mg", "Trastuzumab Emtansine 3.6 mg"],
        (0, 1),
    ),
    (
        "NCT01196390:O0:S0",
        "Reference level = Chemoradiation arm",
        ["Chemoradiation (Arm 2)", "Chemoradiation and Trastuzumab (Arm 1)"],
        (1, 0),
    ),
    (
        "NCT00045032:O16:S0",
        "HR for Herceptin 2-Year Arm versus Herceptin 1-Year Arm.",
        ["Herceptin 2-Year Arm", "Herceptin 1-Year Arm"],
        (0, 1),
    ),
    # "relative to <B>" ends before what the value favours
    (
        "NCT01664923:O0:S0",
        "Hazard ratio is based on a Cox regression model (with treatment as the only covariate) stratified by disease "
        "stage at study entry and is relative to bicalutamide with < 1 favoring enzalutamide.",
        ["Bicalutamide", "Enzalutamide"],
        (1, 0),
    ),
    # None: "T" names no group on its own (it is tamoxifen, and "T+OFS" holds a T too)
    (
        "NCT00066690:O2:S0",
        "T was the reference group in the estimation of the hazard ratio.",
        ["Tamoxifen", "T+OFS"],
        None,
    ),
    # None: only stratification factors are ordered
    (
        "NCT02220894:O0:S0",
        "Hazard ratio based on Cox regression model with treatment as a covariate stratified by geographic region "
        "(East Asia vs. non-East Asia), ECOG PS (0 vs. 1), and histology (squamous vs. non-squamous).",
        ["Pembrolizumab", "Chemotherapy (SOC Treatment)"],
        None,
    ),
    # None: the right side names a group that is not in this analysis (16- to 26-year-old females)
    (
        "NCT00943722:O6:S0",
        "Percentage Point Difference = 9- to 15-Year-Old Females (Lot 1) minus 16- to 26-Year-Old Females (Lot 1)",
        ["Base Study: 9- to 15-Year-Old Females (Lot 1)", "Base Study: 9- to 15-Year-Old Males (Lot 1)"],
        None,
    ),
    # None: the words and the formula order the groups both ways
    (
        "NCT00069095:O15:S0",
        "General approach: Testing for superiority was based on the stratified log-rank test and used a two-sided "
        "significance level of 2.5%.The hazard ratio (HR) of bevacizumab in combination with chemotherapy versus "
        "chemotherapy alone [HR(FOLFOX-4+P/XELOX+P)/(FOLFOX-4+BV/XELOX+BV)] was presented.",
        ["FOLFOX-4+P/XELOX+P", "FOLFOX-4+BV/XELOX+BV"],
        None,
    ),
    # None: "cetuximab" is in both titles ("... Receiving No Cetuximab")
    (
        "NCT00533949:O0:S1",
        "Reference level = cetuximab",
        ["Combined Patients Receiving Cetuximab", "Combined Patients From Arms Receiving No Cetuximab"],
        None,
    ),
    # None: the two titles differ only by a comparison sign
    ("NCT00533949:O9:S0", "Reference level = EGFR H-Score < 200", ["EGFR H-Score < 200", "EGFR H-Score >= 200"], None),
    # None: "Alpharadin" is a brand name that no title carries
    (
        "NCT00699751:O0:S0",
        "The hazard ratio (Alpharadin:Placebo) is from a Cox proportional hazards model stratified by total ALP, "
        "current use of bisphosphonates and prior use of Docetaxel.",
        ["Radium-223 Dichloride (Xofigo, BAY88-8223)", "Placebo"],
        None,
    ),
    # None: "Control" and "aromatase inhibitor" are not the titles' words
    (
        "NCT00486525:O0:S1",
        "Yoga minus Control 3 months post-treatment",
        ["Arm I: Yoga Therapy", "Arm II: Wait-List"],
        None,
    ),
    # None: "over" outside a sentence about a ratio orders no estimate
    (
        "NCT00286091:O0:S0",
        "Primary and secondary endpoint analyses were conducted hierarchically. To preserve an overall type I error "
        "rate of 0.05, a 0.0488 2-sided test of bone metastasis-free survival was performed. If superiority of "
        "denosumab over placebo was established, time to first bone metastasis was tested with a 2-sided significance "
        "level of 0.050. If superiority of denosumab over placebo was also established, overall survival time was "
        "tested at a 2-sided significance level of 0.050.",
        ["Placebo", "Denosumab"],
        None,
    ),
    # None: "<A>/<B>" inside a longer text is not the ratio ("[placebo/sipuleucel-T]" codes the treatment variable)
    (
        "NCT00005947:O1:S0",
        "Cox proportional hazards model with treatment as the independent variable [placebo/sipuleucel-T].",
        ["Placebo", "Sipuleucel-T"],
        None,
    ),
    # None: a count is not a group ("numerator=108/70"), and "MD patients" is not a title's word
    (
        "NCT02123797:O0:S0",
        "Odds ratio comparing Multidisciplinary Clinic patients with and without invasive stage confirmation "
        "(numerator=108/70) to Serial Care patients with and without invasive stage confirmation "
        "(denominator=168/180) after adjustment for matched study.",
        ["Serial Care Patients", "Multidisciplinary Clinic Patients"],
        None,
    ),
    # None: "H0: ... versus H1: ..." orders two hypotheses, not the groups (an earlier version read "P/XELOX+P) </= 1.0"
    # as the placebo group)
    (
        "NCT00069095:O11:S0",
        "Superiority of adding bevacizumab to chemotherapy was tested as follows - H0: "
        "OR(FOLFOX-4+BV/XELOX+BV)/(FOLFOX-4+P/XELOX+P) </= 1.0 versus H1: "
        "OR(FOLFOX-4+BV/XELOX+BV)/(FOLFOX-4+P/XELOX+P) > 1.0. The test used a two-sided significance level of 2.5%.",
        ["FOLFOX-4+BV/XELOX+BV", "FOLFOX-4+P/XELOX+P"],
        None,
    ),
    (
        "NCT01896050:O1:S0",
        "Comparison of change in maximum grip strength between baseline and 12 months for aromatase "
        "inhibitor-treated versus tamoxifen-treated patients",
        ["AI Therapy", "Tamoxifen"],
        None,
    ),
]


@pytest.mark.parametrize(
    ("analysis", "text", "titles", "expected"), REFERENCE_CASES, ids=[c[0] for c in REFERENCE_CASES]
)
def test_reference_from_text(analysis: str, text: str, titles: list[str], expected: tuple[int, int] | None) -> None:
    ref = reference_from_text([text], titles)
    if expected is None:
        assert ref is None
    else:
        assert ref == Reference(expected[0], expected[1], text)


def test_reference_reads_every_text_and_needs_them_to_agree() -> None:
    titles = ["Placebo", "Darbepoetin Alfa"]
    agree = "A hazard ratio < 1.0 indicates a lower risk of death for darbepoetin alfa relative to placebo."
    # texts are read in order; None and texts that order nothing are skipped
    ref = reference_from_text([None, "Cox proportional hazards model.", agree], titles)
    assert ref == Reference(1, 0, agree)
    # a second text that orders the groups the other way makes the answer unknown
    assert reference_from_text([agree, "Placebo vs darbepoetin alfa"], titles) is None
    # one group, or none, cannot be ordered
    assert reference_from_text([agree], ["Darbepoetin Alfa"]) is None
    assert reference_from_text([], titles) is None
    assert REFERENCE_FIELDS[0] == "estimate_comment"


# ---------------------------------------------------------------------------------------------------------------
# favoured_by_text
# ---------------------------------------------------------------------------------------------------------------

B, A = "below_null", "above_null"
# (analysis, text, group titles in order, estimate_type, expected (group, values) or None)
FAVOUR_CASES = [
    (
        "NCT01081951:O0:S0",
        "A hazard ratio of < 1 favours olaparib.",
        ["Carboplatin AUC6/Paclitaxel", "Olaparib/Carboplatin AUC4/Paclitaxel"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT00274469:O2:S0",
        "HR<1 favours Fulvestrant",
        ["Anastrozole 1 mg", "Fulvestrant 500 mg"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT01942135:O4:S0",
        "The exact test is testing the null hypothesis that the odds ratio of objective response rate is less than or "
        "equal to 1 vs. the alternative hypothesis that the odds ratio of objective response rate is greater than 1. "
        "An Odds Ratio >1 means better response in favor of palbociclib plus fulvestrant arm.",
        ["Placebo + Fulvestrant", "Palbociclib + Fulvestrant"],
        "Odds Ratio (OR)",
        (1, A),
    ),
    (
        "NCT02000622:O4:S0",
        "Mean difference >0 favours olaparib.",
        ["Chemotherapy", "Olaparib 300 mg bd"],
        "Mean Difference (Final Values)",
        (1, A),
    ),
    (
        "NCT00556374:O4:S0",
        "Values < 1 for odds ratio favor denosumab.",
        ["Placebo", "Denosumab"],
        "Odds Ratio (OR)",
        (1, B),
    ),
    (
        "NCT01193244:O3:S0",
        "Logistic regression model with prognostic factors: region; radiographic disease progression at baseline; age; "
        "race; baseline ECOG score; Gleason score at initial diagnosis; baseline PSA, natural log scale; presence of "
        "visceral disease; alkaline phosphatase; lactate dehydrogenase; and hemoglobin. Odds ratio > 1 favored "
        "orteronel. P-values tested for odds ratio equal to 1.",
        ["Placebo + Prednisone 5 mg", "Orteronel 400 mg + Prednisone 5 mg"],
        "Odds Ratio (OR)",
        (1, A),
    ),
    (
        "NCT01154140:O1:S0",
        "HR was calculated based on the Cox Proportional hazards model stratified by ECOG PS, race group, and brain "
        "metastases. Assuming proportional hazards, a hazard ratio (less than)<1 indicates a reduction in hazard rate "
        "in favor of crizotinib.",
        ["Chemotherapy", "Crizotinib"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT01234337:O1:S0",
        "At the time of PFS final analysis, it was OS interim analysis (IA) with 285 total death events. According to "
        "protocol specified O'Brien-Fleming type alpha spending function and 285 death events at IA, the prespecified "
        "alpha for this analysis was 0.0075 (one-sided). A Hazard ratio < 1 indicates superiority of "
        "Sorafenib+Capecitabine over Placebo+Capecitabine.",
        ["Placebo + Capecitabine", "Sorafenib (Nexavar, BAY43-9006) + Capecitabine"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT01664923:O0:S0",
        "Hazard ratio is based on a Cox regression model (with treatment as the only covariate) stratified by disease "
        "stage at study entry and is relative to bicalutamide with < 1 favoring enzalutamide.",
        ["Bicalutamide", "Enzalutamide"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT01300351:O0:S0",
        "The results of this study would be considered to be consistent with that of the CONFIRM study if the hazard "
        "ratio (HR) point estimate for the treatment comparison was <1 (ie, it favoured fulvestrant 500 mg), without "
        "the requirement for the benefit of fulvestrant 500 mg to be statistically significant.",
        ["Fulvestrant 250 mg", "Fulvestrant 500 mg"],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    (
        "NCT02289690:O17:S1",
        "Hazard ratio estimate was obtained from a Cox proportional hazards model stratified by LDH level. A hazard "
        "ratio of < 1 favors veliparib in combination with carboplatin and etoposide followed by placebo maintenance "
        "monotherapy (Arm B).",
        [
            "Phase 2: Placebo + Carboplatin/Etoposide -> Placebo",
            "Phase 2: Veliparib + Carboplatin/Etoposide -> Placebo",
        ],
        "Hazard Ratio (HR)",
        (1, B),
    ),
    # the sign of a difference
    (
        "NCT01001377:O10:S0",
        "A positive difference between the treatment groups favors the panitumumab group.",
        ["Cetuximab", "Panitumumab"],
        "LS Mean Difference",
        (1, A),
    ),
    # None: a statement about a hazard ratio does not read the odds ratio it was posted with
    (
        "NCT00095199:O2:S0",
        "HR<1 favors Cetuximab arm",
        ["Pemetrexed", "Cetuximab & Pemetrexed"],
        "Odds Ratio (OR)",
        None,
    ),
    # None: "respective combination treatment" names no group, and what follows "than" is not favoured
    (
        "NCT03330847:O1:S1",
        "Proportional hazards models based on prior platinum-based therapy (no, yes). Hazard ratio < 1 favours "
        "respective combination treatment related with a longer PFS than olaparib monotherapy. Here, favours olaparib "
        "+ adavosertib.",
        ["Olaparib + Adavosertib", "Olaparib Monotherapy"],
        "Hazard Ratio (HR)",
        None,
    ),
    # None: a value favours a group, not a group over another ("superiority of denosumab over placebo was established")
    (
        "NCT00286091:O0:S0",
        "Primary and secondary endpoint analyses were conducted hierarchically. To preserve an overall type I error "
        "rate of 0.05, a 0.0488 2-sided test of bone metastasis-free survival was performed. If superiority of "
        "denosumab over placebo was established, time to first bone metastasis was tested with a 2-sided significance "
        "level of 0.050. If superiority of denosumab over placebo was also established, overall survival time was "
        "tested at a 2-sided significance level of 0.050.",
        ["Placebo", "Denosumab"],
        "Hazard Ratio (HR)",
        None,
    ),
]


@pytest.mark.parametrize(
    ("analysis", "text", "titles", "estimate_type", "expected"), FAVOUR_CASES, ids=[c[0] for c in FAVOUR_CASES]
)
def test_favoured_by_text(
    analysis: str, text: str, titles: list[str], estimate_type: str, expected: tuple[int, str] | None
) -> None:
    fav = favoured_by_text([text], titles, estimate_type)
    if expected is None:
        assert fav is None
    else:
        assert fav == Favour(expected[0], expected[1], text)
        assert fav.values in FAVOUR_VALUES


def test_favour_needs_the_estimates_null_and_agreement() -> None:
    titles = ["Anastrozole 1 mg", "Fulvestrant 500 mg"]
    hr = "HR<1 favours Fulvestrant"  # NCT00274469:O2:S0
    # "< 1" is the null of a ratio, not of a log ratio or a difference; an unknown estimate has no null
    assert favoured_by_text([hr], titles, "Hazard Ratio, log") is None
    assert favoured_by_text([hr], titles, "Mean Difference (Final Values)") is None
    assert favoured_by_text([hr], titles, None) is None
    # NCT01942135:O4:S0 says it twice, in its estimate_comment and its group_description: they agree
    palbo = ["Placebo + Fulvestrant", "Palbociclib + Fulvestrant"]
    comment = "An odds ratio > 1 means better clinical benefit response in favor of palbociclib plus fulvestrant arm."
    description = FAVOUR_CASES[2][1]
    assert favoured_by_text([None, comment, description], palbo, "Odds Ratio (OR)") == Favour(1, A, comment)
    # statements that disagree give None; one group, or none, gives None
    other = "HR<1 favours Anastrozole"  # a constructed contradiction
    assert favoured_by_text([hr, other], titles, "Hazard Ratio (HR)") is None
    assert favoured_by_text([hr], ["Fulvestrant 500 mg"], "Hazard Ratio (HR)") is None
    assert favoured_by_text([], titles, "Hazard Ratio (HR)") is None


# ---------------------------------------------------------------------------------------------------------------
# estimate_null, estimate_direction, estimate_polarity
# ---------------------------------------------------------------------------------------------------------------

# estimate_type values as posted (analyses.estimate_type)
ESTIMATE_NULL_CASES = [
    ("Hazard Ratio (HR)", 1.0),
    ("Odds Ratio (OR)", 1.0),
    ("Risk Ratio (RR)", 1.0),
    ("Stratified Hazard Ratio", 1.0),
    ("Cox Proportional Hazard", 1.0),
    ("Geometric mean ratio", 1.0),
    ("GMT ratio", 1.0),
    ("Adjusted rate ratio", 1.0),
    ("Relative risk", 1.0),
    ("Ration of adjust geometric mean", 1.0),  # sic
    ("Mean Difference (Final Values)", 0.0),
    ("Risk Difference (RD)", 0.0),
    ("LS Mean Change Difference", 0.0),
    ("Percentage Point Difference", 0.0),
    ("Difference in Response Rates", 0.0),
    ("Median Difference (Net)", 0.0),
    ("Mean change", 0.0),
    ("Hazard Ratio, log", 0.0),
    ("Odds Ratio, log", 0.0),
    ("Slope", None),
    ("Median", None),
    ("Least Square (LS) Mean", None),
    ("Percent relative risk reduction", None),
    ("lower bound one-sided CI of GMT ratio", None),
    ("Percentage of ratio of geometric mean", None),
    ("Chi-Square Statistic", None),
    ("Fold Difference", None),
    ("Effect size", None),
    ("Pearson Correlation Coefficient", None),
    ("% breasts successfully exchanged", None),
    ("see above", None),
    (None, None),
]


@pytest.mark.parametrize(("estimate_type", "null"), ESTIMATE_NULL_CASES)
def test_estimate_null(estimate_type: str | None, null: float | None) -> None:
    assert estimate_null(estimate_type) == null


# (value, ci_lower, ci_upper, estimate_type, expected); real rows from analyses
ESTIMATE_DIRECTION_CASES = [
    (1.17, 1.01, 1.35, "Hazard Ratio (HR)", "higher"),  # NCT00002597 RT alone vs HT + RT
    (0.69, 0.49, 0.99, "Stratified Hazard Ratio", "lower"),  # NCT02896855
    (0.92, 0.83, 1.01, "Hazard Ratio (HR)", "lower"),  # NCT00858364: below 1 even though the CI crosses it
    (2.2, -8.0, 12.4, "Difference", "higher"),  # NCT01712009 loratadine minus naproxen
    (-12.0, None, None, "Risk Difference (RD)", "lower"),
    (-0.41, None, None, "Hazard Ratio, log", "lower"),
    (1.0, 0.8, 1.25, "Hazard Ratio (HR)", "equal"),
    (0.0, -1.0, 1.0, "Mean Difference (Final Values)", "equal"),
    (0.81, None, None, "Geometric mean ratio", "lower"),
    (-0.01787, None, None, "Cox Proportional Hazard", UNK),  # a coefficient, not a hazard ratio
    (0.0, 0.0, 0.0, "Odds Ratio (OR)", UNK),  # an odds ratio of 0 with a CI of 0 to 0
    (129.81, 119.14, 141.44, "Geometric LS Mean Ratio", UNK),  # a ratio posted as a percentage
    (0.5, 0.6, 0.9, "Hazard Ratio (HR)", UNK),  # the estimate outside its own CI
    (0.85, None, None, "Slope", UNK),
    (None, 0.5, 0.9, "Hazard Ratio (HR)", UNK),
    (float("nan"), None, None, "Hazard Ratio (HR)", UNK),
]


@pytest.mark.parametrize(("value", "lower", "upper", "estimate_type", "expected"), ESTIMATE_DIRECTION_CASES)
def test_estimate_direction(
    value: float | None, lower: float | None, upper: float | None, estimate_type: str, expected: str
) -> None:
    assert estimate_direction(value, lower, upper, estimate_type) == expected


# (title, estimate_type, expected polarity of the estimate)
ESTIMATE_POLARITY_CASES = [
    ("Overall Survival (OS)", "Hazard Ratio (HR)", LOWER),
    (
        "Progression-Free Survival, as Determined by the Investigator Using RECIST v1.1",
        "Stratified Hazard Ratio",
        LOWER,
    ),
    ("Time to Treatment Failure", "Hazard Ratio (HR)", LOWER),
    ("Duration of Response", "Hazard Ratio (HR)", LOWER),
    ("Time to Response", "Hazard Ratio (HR)", HIGHER),  # a higher rate of response is better
    ("Percentage of Participants With Disease Progression or Death", "Hazard Ratio (HR)", LOWER),
    ("Objective Response Rate (ORR)", "Hazard Ratio (HR)", UNK),  # a hazard of what?
    ("Overall Survival (OS)", "Odds Ratio (OR)", HIGHER),
    ("Objective Response Rate (ORR)", "Odds Ratio (OR)", HIGHER),
    ("Percentage of Participants With Bone Pain (All Grades) in Cycle 1", "Difference", LOWER),
    ("Maximum Tolerated Dose (MTD)", "Hazard Ratio (HR)", UNK),
]


@pytest.mark.parametrize(("title", "estimate_type", "expected"), ESTIMATE_POLARITY_CASES)
def test_estimate_polarity(title: str, estimate_type: str, expected: str) -> None:
    assert estimate_polarity(outcome_polarity(title), estimate_type, title) == expected


# ---------------------------------------------------------------------------------------------------------------
# compare_arms
# ---------------------------------------------------------------------------------------------------------------


def _fisher_by_hand(events_a: int, n_a: int, events_b: int, n_b: int) -> float:
    """Two-sided Fisher exact p: the hypergeometric probabilities of every table with the same margins that is
    no more likely than the observed one."""
    k, n = events_a + events_b, n_a + n_b

    def prob(x: int) -> float:  # x events in arm a
        return math.comb(k, x) * math.comb(n - k, n_a - x) / math.comb(n, n_a)

    observed = prob(events_a)
    tables = range(max(0, k - n_b), min(k, n_a) + 1)
    return min(1.0, sum(prob(x) for x in tables if prob(x) <= observed * (1 + 1e-7)))


def _welch_by_hand(mean_a: float, se_a: float, n_a: int, mean_b: float, se_b: float, n_b: int) -> tuple[float, float]:
    """Welch's t for b - a and its two-sided p, from the standard errors of the means."""
    va, vb = se_a**2, se_b**2
    t = (mean_b - mean_a) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return t, 2 * stats.t.sf(abs(t), df)


def _count(events: float | None, n: int | None) -> ArmValue:
    return ArmValue("COUNT_OF_PARTICIPANTS", events, n)


# (source outcome, arm a, arm b); counts are (participants with the event, participants analysed)
COUNT_CASES = [
    ("dose_response/psoriasis/AMAGINE-1:O0 PASI 75, placebo vs brodalumab 210 mg", (6, 220), (185, 222)),
    ("dose_response/psoriasis/ACCEPT:O1 PASI 90, ustekinumab 45 mg vs etanercept", (76, 209), (80, 347)),
    ("dose_response/migraine/NCT00712725:O0 pain freedom, placebo vs dose 2.5", (13, 133), (4, 32)),
    ("llm_meta_analysis/PMC115849:O1 discontinued for lack of efficacy, placebo vs etoricoxib", (90, 357), (44, 353)),
]


@pytest.mark.parametrize(("source", "a", "b"), COUNT_CASES, ids=[c[0].split()[0] for c in COUNT_CASES])
def test_compare_arms_counts(source: str, a: tuple[int, int], b: tuple[int, int]) -> None:
    test = compare_arms(_count(*a), _count(*b))
    assert test is not None
    assert test.method == "fisher_exact"
    assert test.change_kind == "risk_difference"
    assert test.change == pytest.approx(b[0] / b[1] - a[0] / a[1])
    assert test.p_value == pytest.approx(_fisher_by_hand(a[0], a[1], b[0], b[1]), rel=1e-6)
    assert test.statistic == pytest.approx((b[0] * (a[1] - a[0])) / ((b[1] - b[0]) * a[0]))  # odds of b over a


def test_compare_arms_counts_read_as_expected() -> None:
    big = compare_arms(_count(6, 220), _count(185, 222))
    small = compare_arms(_count(13, 133), _count(4, 32))
    assert big is not None and small is not None
    assert big.p_value < 1e-60 and big.change > 0.8
    assert 0.5 < small.p_value <= 1.0  # 12.5% against 9.8% in 32 participants: no evidence


# (source outcome, arm a, arm b) as (param_type, mean, spread, dispersion_type, n)
MEAN_CASES = [
    (
        "dose_response/alog_pcfb/NCT00286429:O0 HbA1c change, placebo vs alogliptin 25",
        ("MEAN", -0.27, 0.07305140612272933, "STANDARD_ERROR", 126),
        ("MEAN", -0.81, 0.07305140612272933, "STANDARD_ERROR", 126),
    ),
    (
        "dose_response/glycobrom/NCT00501852:O0 placebo vs glycopyrronium 12.5",
        ("LEAST_SQUARES_MEAN", 1.243, 0.0156, "STANDARD_ERROR", 49),
        ("LEAST_SQUARES_MEAN", 1.317, 0.0145, "STANDARD_ERROR", 55),
    ),
    (
        "llm_meta_analysis/PMC1216327:O1 duration of illness, water vs white grape juice",
        ("MEAN", 26.5, 27.4, "STANDARD_DEVIATION", 30),
        ("MEAN", 47.5, 38.9, "STANDARD_DEVIATION", 30),
    ),
    (
        "llm_meta_analysis/PMC1574360:O1 cost of the food, control vs automated advice",
        ("MEAN", 0.62, 0.36, "STANDARD_DEVIATION", 246),
        ("MEAN", 0.63, 0.4, "STANDARD_DEVIATION", 251),
    ),
]


@pytest.mark.parametrize(("source", "a", "b"), MEAN_CASES, ids=[c[0].split()[0] for c in MEAN_CASES])
def test_compare_arms_means(source: str, a: tuple, b: tuple) -> None:
    arm_a, arm_b = ArmValue(a[0], a[1], a[4], a[2], a[3]), ArmValue(b[0], b[1], b[4], b[2], b[3])
    test = compare_arms(arm_a, arm_b)
    assert test is not None
    assert (test.method, test.change_kind) == ("welch_t", "mean_difference")
    assert test.change == pytest.approx(b[1] - a[1])
    se_a = a[2] if a[3] == "STANDARD_ERROR" else a[2] / math.sqrt(a[4])
    se_b = b[2] if b[3] == "STANDARD_ERROR" else b[2] / math.sqrt(b[4])
    t, p = _welch_by_hand(a[1], se_a, a[4], b[1], se_b, b[4])
    assert test.statistic == pytest.approx(t)
    assert test.p_value == pytest.approx(p, rel=1e-6)


def test_compare_arms_means_read_as_expected() -> None:
    hba1c = compare_arms(
        ArmValue("MEAN", -0.27, 126, 0.07305140612272933, "STANDARD_ERROR"),
        ArmValue("MEAN", -0.81, 126, 0.07305140612272933, "STANDARD_ERROR"),
    )
    food = compare_arms(
        ArmValue("MEAN", 0.62, 246, 0.36, "STANDARD_DEVIATION"), ArmValue("MEAN", 0.63, 251, 0.4, "STANDARD_DEVIATION")
    )
    assert hba1c is not None and food is not None
    assert hba1c.p_value < 1e-6 and hba1c.statistic < 0  # alogliptin lowered HbA1c more
    assert food.p_value > 0.5


# Inputs with no sound test
DEGENERATE_CASES = [
    # dose_response/gout/1102:O0 posts a mean and SE but no n
    (
        "no n",
        ArmValue("MEAN", -0.533, None, 0.247532, "STANDARD_ERROR"),
        ArmValue("MEAN", -1.3745, 40, 0.1807, "STANDARD_ERROR"),
    ),
    # llm_meta_analysis/PMC1475568 posts an n but no count
    ("no count", _count(None, 59), _count(33, 64)),
    (
        "no spread",
        ArmValue("MEAN", 26.5, 30, None, "STANDARD_DEVIATION"),
        ArmValue("MEAN", 47.5, 30, 38.9, "STANDARD_DEVIATION"),
    ),
    (
        "n of 1",
        ArmValue("MEAN", 26.5, 1, 27.4, "STANDARD_DEVIATION"),
        ArmValue("MEAN", 47.5, 30, 38.9, "STANDARD_DEVIATION"),
    ),
    ("medians", ArmValue("MEDIAN", 5.5, 100), ArmValue("MEDIAN", 7.2, 100)),
    ("a number", ArmValue("NUMBER", 12.0, 50), ArmValue("NUMBER", 20.0, 50)),
    (
        "a CI",
        ArmValue("MEAN", 1.2, 50, 0.4, "CONFIDENCE_INTERVAL"),
        ArmValue("MEAN", 1.5, 50, 0.4, "CONFIDENCE_INTERVAL"),
    ),
    ("no dispersion type", ArmValue("MEAN", 1.2, 50, 0.4), ArmValue("MEAN", 1.5, 50, 0.4)),
    ("more events than n", _count(14, 13), _count(4, 32)),
    ("negative count", _count(-1, 30), _count(4, 32)),
    ("fractional count", _count(4.5, 30), _count(4, 32)),
    ("zero n", _count(0, 0), _count(4, 32)),
    ("count against mean", _count(13, 133), ArmValue("MEAN", 0.2, 133, 0.1, "STANDARD_ERROR")),
    (
        "negative spread",
        ArmValue("MEAN", 1.2, 50, -0.4, "STANDARD_ERROR"),
        ArmValue("MEAN", 1.5, 50, 0.4, "STANDARD_ERROR"),
    ),
    (
        "zero spreads",
        ArmValue("MEAN", 1.0, 50, 0.0, "STANDARD_ERROR"),
        ArmValue("MEAN", 1.5, 50, 0.0, "STANDARD_ERROR"),
    ),
]


@pytest.mark.parametrize(("case", "a", "b"), DEGENERATE_CASES, ids=[c[0] for c in DEGENERATE_CASES])
def test_compare_arms_refuses(case: str, a: ArmValue, b: ArmValue) -> None:
    assert compare_arms(a, b) is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (-0.27, -0.81, "lower"),
        (13 / 133, 4 / 32, "higher"),
        (0.5, 0.5, "equal"),
        (None, 1.0, UNK),
        (1.0, float("nan"), UNK),
    ],
)
def test_value_direction(a: float | None, b: float | None, expected: str) -> None:
    assert value_direction(a, b) == expected


# ---------------------------------------------------------------------------------------------------------------
# benefit, decide, superiority
# ---------------------------------------------------------------------------------------------------------------

BENEFIT_CASES = [
    ("higher", HIGHER, "better"),
    ("lower", HIGHER, "worse"),
    ("higher", LOWER, "worse"),
    ("lower", LOWER, "better"),
    ("equal", HIGHER, "no_difference"),
    ("equal", UNK, "no_difference"),
    ("higher", UNK, UNK),
    (UNK, HIGHER, UNK),
]


@pytest.mark.parametrize(("direction", "polarity", "expected"), BENEFIT_CASES)
def test_benefit(direction: str, polarity: str, expected: str) -> None:
    assert benefit(direction, polarity) == expected


# (significance, benefit, decide, superiority)
DECISION_CASES = [
    (SIG, "better", "compared_better", "met"),
    (SIG, "worse", "compared_worse", "not_met"),
    (SIG, "no_difference", UNK, UNK),
    (SIG, UNK, UNK, UNK),
    (NOT, "better", "no_significant_difference", "not_met"),
    (NOT, "worse", "no_significant_difference", "not_met"),
    (NOT, UNK, "no_significant_difference", "not_met"),
    (UNK, "better", UNK, UNK),
    (UNK, UNK, UNK, UNK),
]


@pytest.mark.parametrize(("sig", "ben", "three_way", "two_way"), DECISION_CASES)
def test_decide_and_superiority(sig: str, ben: str, three_way: str, two_way: str) -> None:
    assert decide(sig, ben) == three_way
    assert superiority(sig, ben) == two_way


@pytest.mark.parametrize(
    "call",
    [
        lambda: benefit("up", HIGHER),
        lambda: benefit("higher", "higher"),
        lambda: decide("significant!", "better"),
        lambda: superiority(SIG, "good"),
    ],
)
def test_label_values_are_checked(call) -> None:
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------------------------------------------
# The pieces together, on real analyses
# ---------------------------------------------------------------------------------------------------------------

# (analysis, outcome title, group titles, analysis row, compared group, decide at the stated alpha, at 0.05)
END_TO_END_CASES = [
    (
        # HR 1.17 for RT alone against HT + RT; p 0.0309 is above the stated one-sided 0.025, below 0.05
        "NCT00002597:O0:S0",
        "Overall Survival Rate (10-year)",
        ["Hormone Therapy + Radiation Therapy", "Radiation Therapy Alone"],
        {
            GDS: NCT00002597_DESIGN,
            ESC: "Reference level = Hormone Therapy + Radiation Therapy",
            "p_value": 0.0309,
            "p_value_modifier": None,
            "estimate_type": "Hazard Ratio (HR)",
            "estimate_value": 1.17,
            "ci_lower": 1.01,
            "ci_upper": 1.35,
        },
        1,
        "no_significant_difference",
        "compared_worse",
    ),
    (
        "NCT00829166:O14:S0",
        "Time to Treatment Failure",
        ["Trastuzumab Emtansine", "Lapatinib + Capecitabine"],
        {
            ESC: "HR (relative to Lapatinib + Capecitabine) was estimated by Cox regression.",
            "p_value": 0.0001,
            "p_value_modifier": "<",
            "estimate_type": "Hazard Ratio (HR)",
            "estimate_value": 0.703,
            "ci_lower": 0.602,
            "ci_upper": 0.82,
        },
        0,
        "compared_better",
        "compared_better",
    ),
    (
        # no p-value posted
        "NCT01712009:O0:S2",
        "Percentage of Participants With Bone Pain (All Grades) in Cycle 1",
        ["Naproxen 500 mg BID", "Loratadine 10 mg QD"],
        {
            ESC: "Loratadine minus Naproxen",
            "p_value": None,
            "p_value_modifier": None,
            "estimate_type": "Difference",
            "estimate_value": 2.2,
            "ci_lower": -8.0,
            "ci_upper": 12.4,
        },
        1,
        UNK,
        UNK,
    ),
]


@pytest.mark.parametrize(
    ("analysis", "title", "groups", "row", "compared", "at_stated", "at_default"),
    END_TO_END_CASES,
    ids=[c[0] for c in END_TO_END_CASES],
)
def test_end_to_end(
    analysis: str, title: str, groups: list[str], row: dict, compared: int, at_stated: str, at_default: str
) -> None:
    ref = reference_from_text([row.get(f) for f in REFERENCE_FIELDS], groups)
    assert ref is not None and ref.compared == compared
    polarity = estimate_polarity(outcome_polarity(title), row["estimate_type"], title)
    direction = estimate_direction(row["estimate_value"], row["ci_lower"], row["ci_upper"], row["estimate_type"])
    ben = benefit(direction, polarity)
    stated = alpha_from_text({f: row.get(f) for f in ALPHA_FIELDS}).value
    for alpha, expected in ((stated, at_stated), (ALPHA_DEFAULT, at_default)):
        assert decide(significance(row["p_value"], row["p_value_modifier"], alpha), ben) == expected
