"""Factor diff rules, each on a table of real record pairs, and the whole diff on real comparisons of the corpus.

The rule tests copy the values they need from real records, so they run without the corpus:

- AACT oncology subset (embedded): trial rows and comparisons (``pipeline.comparisons()``), by NCT id;
- MBNMAdose / DoseFinding, CliniFact, llm-meta-analysis (embedded): comparisons, by their trial_id;
- ClinicalTrials.gov records of the AACT loader fixtures (tests/fixtures/aact_spec: API v2 JSON and legacy XML):
  the only records here with countries, sex, ages and eligibility text;
- ClinicalTrials.gov eligibility text of two NSCLC trials (records' own text; found via HINT's files, which are
  never committed).

The integration test loads the embedded corpus once (about 15 s) and checks the diff on real comparisons of 100
trials.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from deepimagine_data import pipeline
from deepimagine_data.pairs import factors as F
from deepimagine_data.pairs.comparisons import Corpus, all_comparisons
from deepimagine_data.pairs.factors import (
    FACTORS,
    Side,
    age_years,
    conditions_rule,
    country_name,
    design_rule,
    diff,
    dose_rule,
    geography_rule,
    intervention_rule,
    outcome_rule,
    phase_rule,
    population_rule,
    prior_treatment,
    region,
    side_from_records,
    sides_from_tables,
    time_point_hours,
)

# ------------------------------------------------------------------------------------------------------------------
# Real trial records (trials-table columns; only the fields a rule reads)
# ------------------------------------------------------------------------------------------------------------------

AACT = {  # embedded AACT oncology subset
    "NCT00050960": dict(
        conditions=["Non-small Cell Lung Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00095199": dict(
        conditions=["Non Small Cell Lung Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00065182": dict(
        conditions=["Lung Cancer, Non-Small Cell", "Non-Small-Cell Lung Cancer"],
        phases=["PHASE2"],
        allocation="RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00094835": dict(
        conditions=["Lung Cancer", "Non-Small Cell Lung Cancer"],
        phases=["PHASE1", "PHASE2"],
        phase="PHASE1/PHASE2",
        allocation="NON_RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00138658": dict(
        conditions=["Non-small Cell Lung Cancer"],
        phases=["PHASE1", "PHASE2"],
        allocation="NA",
        masking="NONE",
        intervention_model="SINGLE_GROUP",
        primary_purpose="TREATMENT",
    ),
    "NCT00102804": dict(
        conditions=["Non-Small Cell Lung Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="QUADRUPLE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00130728": dict(
        conditions=["Non-Small Cell Lung Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="DOUBLE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT00172042": dict(
        conditions=["Non-Small-Cell Lung Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="PREVENTION",
    ),
    "NCT01797471": dict(conditions=["Non-Small Cell Lung Cancer", "NSCLC"], phases=["NA"]),
    "NCT00476645": dict(conditions=["Prostatic Neoplasms", "Prostate Cancer"], phases=["PHASE2"]),
    "NCT00002597": dict(conditions=["Prostate Cancer"], phases=["PHASE3"]),
    "NCT00063570": dict(conditions=["Breast Cancer", "Breast Neoplasms"], phases=["PHASE2"]),
    "NCT00003042": dict(conditions=["Breast Cancer"], phases=["PHASE2"]),
    "NCT00003404": dict(conditions=["Breast Cancer"], phases=["NA"]),
    "NCT02966223": dict(conditions=["HCC", "Liver Cancer"], phases=["NA"]),
    "NCT00242502": dict(conditions=["Hepatocellular Carcinoma", "Liver Cancer"], phases=["PHASE2"]),
    # FIRST and FALCON: fulvestrant 500 mg vs anastrozole 1 mg
    "NCT00274469": dict(
        conditions=["Metastatic Breast Cancer"],
        phases=["PHASE2"],
        allocation="RANDOMIZED",
        masking="NONE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
    "NCT01602380": dict(
        conditions=["Hormone Receptor Positive Breast Cancer"],
        phases=["PHASE3"],
        allocation="RANDOMIZED",
        masking="QUADRUPLE",
        intervention_model="PARALLEL",
        primary_purpose="TREATMENT",
    ),
}
CURATED = {  # embedded curated sources: MBNMAdose (dose_response) states condition and allocation only
    "dose_response/psoriasis/UNCOVER 2": dict(conditions=["Moderate-to-severe psoriasis"], allocation="RANDOMIZED"),
    "clinifact/NCT00066573": dict(),
}
CTGOV = {  # ClinicalTrials.gov records of the AACT loader fixtures (API v2 JSON: J, legacy XML: X)
    # J NCT00763412.json and its copy study_data_initialize.json (NCT000001, phase changed)
    "NCT00763412": dict(
        conditions=["Cystic Fibrosis Related Diabetes", "Pancreatic Insufficiency"],
        mesh_conditions=[
            "Cystic Fibrosis",
            "Exocrine Pancreatic Insufficiency",
            "Diabetes Mellitus",
            "Prediabetic State",
            "Glucose Intolerance",
            "Fibrosis",
        ],
        countries=["United States"],
        sex="ALL",
        minimum_age="12 Years",
        maximum_age="24 Years",
        healthy_volunteers=False,
        eligibility_criteria="Inclusion Criteria:\n\n* Male or females 12 -24 years old\n* Diagnosis of Cystic "
        "Fibrosis by sweat test with exocrine pancreatic insufficiency",
        phases=["NA"],
        allocation="RANDOMIZED",
        masking="QUADRUPLE",
        intervention_model="PARALLEL",
        primary_purpose="OTHER",
    ),
    "NCT02299791": dict(  # J initialize_participant_flow_data.json
        conditions=["Diabetes Mellitus", "Cardiovascular Diseases"],
        mesh_conditions=["Cardiovascular Diseases"],
        countries=[],
        sex="ALL",
        minimum_age="18 Years",
        maximum_age="75 Years",
        healthy_volunteers=False,
        eligibility_criteria="Inclusion Criteria:\n\n* Convenience sample of 11 community health clinics (CHCs) that "
        "are members of OCHIN, Inc.",
    ),
    "NCT02210780": dict(  # J
        conditions=["Atopic Dermatitis"],
        mesh_conditions=["Dermatitis, Atopic", "Dermatitis", "Eczema"],
        countries=["United States"],
        sex="ALL",
        minimum_age="18 Years",
        maximum_age="64 Years",
        healthy_volunteers=False,
        phases=["PHASE2"],
    ),
    "NCT02552212": dict(  # J NCT02278341.json
        conditions=["Axial Spondyloarthritis", "Nonradiographic Axial Spondyloarthritis", "Nr-axSpA"],
        countries=[
            "Australia",
            "Bulgaria",
            "Canada",
            "Czechia",
            "Hungary",
            "Poland",
            "Russian Federation",
            "Taiwan",
            "United States",
        ],
        sex="ALL",
        minimum_age="18 Years",
        healthy_volunteers=False,
    ),
    "NCT00023673": dict(  # X
        conditions=["Lung Cancer"],
        mesh_conditions=["Lung Neoplasms", "Carcinoma, Non-Small-Cell Lung"],
        countries=["Canada", "United States"],
        sex="ALL",
        healthy_volunteers=False,
        phases=["PHASE1", "PHASE2"],
    ),
    "NCT01642004": dict(  # X
        conditions=["Squamous Cell Non-small Cell Lung Cancer"],
        mesh_conditions=["Lung Neoplasms", "Carcinoma, Non-Small-Cell Lung"],
        sex="ALL",
        minimum_age="18 Years",
    ),
    "NCT00277524": dict(countries=["United States"], sex="ALL", minimum_age="18 Years"),  # X
    "NCT01298141": dict(countries=["Canada"], conditions=["Fabry Disease"], sex="ALL"),  # X
    "NCT01207388": dict(  # X
        countries=[
            "Austria",
            "Belgium",
            "France",
            "Germany",
            "Italy",
            "Netherlands",
            "Poland",
            "Romania",
            "Russian Federation",
            "Spain",
            "United Kingdom",
        ]
    ),
    "NCT01380080": dict(  # X
        countries=[
            "Brazil",
            "Haiti",
            "India",
            "Kenya",
            "Malawi",
            "Peru",
            "South Africa",
            "Tanzania",
            "Uganda",
            "Zambia",
            "Zimbabwe",
        ]
    ),
    "NCT01357915": dict(  # X
        conditions=["Infections, Cytomegalovirus"],
        mesh_conditions=["Cytomegalovirus Infections"],
        sex="MALE",
        minimum_age="18 Years",
        maximum_age="45 Years",
        healthy_volunteers=True,
        countries=["Belgium"],
    ),
    "NCT02389088": dict(  # X
        conditions=["Polycystic Ovary Syndrome"],
        mesh_conditions=["Polycystic Ovary Syndrome"],
        sex="FEMALE",
        minimum_age="18 Years",
        maximum_age="40 Years",
        healthy_volunteers=True,
        countries=[],
    ),
    "NCT01174550": dict(conditions=["Chest Pain"], phases=["NA"], sex="ALL", minimum_age="45 Years"),  # X: "N/A"
    "NCT02028676": dict(  # X
        conditions=["Human Immunodeficiency Virus"], sex="ALL", minimum_age="3 Months", maximum_age="17 Years"
    ),
    "NCT03191552": dict(  # X
        conditions=["Cerebral Palsy", "Postural; Defect"], sex="ALL", minimum_age="3 Years", maximum_age="12 Years"
    ),
}
CTGOV["NCT000001"] = {**CTGOV["NCT00763412"], "phases": ["PHASE1"]}

# Inclusion criteria as posted on ClinicalTrials.gov (two NSCLC trials; record text, not HINT's data)
HINT = {
    "NCT00415818": dict(
        conditions=["carcinoma, non-small-cell lung"],
        eligibility_criteria="Inclusion Criteria:\n\n - Histologically confirmed non-small cell carcinoma of the lung\n"
        ' - Patients will have stage IIIb "wet" (with pleural or pericardial effusion) or IV\n disease, with no prior '
        "systemic therapy for advanced disease except for adjuvant\n treatment.",
    ),
    "NCT01027676": dict(
        conditions=["non-small-cell lung carcinoma"],
        eligibility_criteria="Inclusion Criteria:\n\n - Stage IV or selected stage IIIB (with positive pleural "
        "effusion or multiple ipsilateral lung nodules)\n - Previously treated with at least one platinum-based "
        "chemotherapy.",
    ),
}

RECORDS = {**AACT, **CURATED, **CTGOV, **HINT}


def trial(tid: str) -> Side:
    return side_from_records({"trial_id": tid, **RECORDS[tid]})


# ------------------------------------------------------------------------------------------------------------------
# Real comparisons (the fields of pipeline.comparisons() a rule reads) and their outcomes
# ------------------------------------------------------------------------------------------------------------------


def arms(a_title, a_names, b_title, b_names, a_dose=(None, None, None), b_dose=(None, None, None)) -> dict:
    keys = ("value", "unit", "frequency")
    return {
        "a_title": a_title,
        "a_interventions": a_names,
        "b_title": b_title,
        "b_interventions": b_names,
        **{f"a_dose_{k}": v for k, v in zip(keys, a_dose, strict=True)},
        **{f"b_dose_{k}": v for k, v in zip(keys, b_dose, strict=True)},
    }


COMPARISONS = {
    "NCT01111058:O0:OG001|OG000": arms("Placebo", ["Placebo"], "Everolimus", ["Everolimus (RAD 001)"]),
    "NCT01133678:O0:OG001|OG000": arms("Placebo", ["Placebo"], "Everolimus", ["Everolimus"]),
    "NCT00668707:O0:OG001|OG000": arms(
        "Placebo", ["placebo"], "Melatonin", ["melatonin"], (20.0, "mg", "QD"), (20.0, "mg", "QD")
    ),
    "NCT01355523:O0:OG001|OG000": arms(
        "Placebo",
        ["Placebo"],
        "Melatonin",
        ["Melatonin (N-acetyl-5-methoxytryptamine)"],
        (6.0, "mg", "QD"),
        (6.0, "mg", "QD"),
    ),  # fmt: skip
    "NCT00373425:O0:OG001|OG000": arms(
        "Placebo", ["Placebo"], "Erlotinib", ["Erlotinib"], b_dose=(150.0, "mg/day", None)
    ),
    # result groups not linked to a protocol arm: interventions are read from the titles
    "NCT00883779:O0:OG000|OG001": arms(
        "Placebo", [], "Erlotinib", [], (1250.0, "mg/m2", "QD"), (1250.0, "mg/m2", None)
    ),
    "NCT00066573:O0:OG001|OG000": arms(
        "Anastrozole", ["anastrozole"], "Exemestane", ["exemestane"], (1.0, "mg", "QD"), (25.0, "mg", "QD")
    ),
    "clinifact/NCT00066573:O0:OG001|OG000": arms(
        "Anastrozole", [], "Exemestane", [], (1.0, "mg", "QD"), (25.0, "mg", "QD")
    ),
    "NCT00090857:O0:OG001|OG000": arms("Placebo", ["Placebo"], "Letrozole", ["Letrozole"], b_dose=(2.5, "mg", "QD")),
    "NCT00128102:O0:OG001|OG000": arms(
        "Placebo", ["Placebo"], "Vorinostat", ["Vorinostat"], b_dose=(100.0, "mg", "BID")
    ),
    "NCT00588770:O0:OG001|OG000": arms("Chemotherapy+Bevacizumab (Arm B)", [], "Chemotherapy Arm (Arm A)", []),
    "NCT00700102:O0:OG000|OG001": arms(
        "Chemotherapy", ["Chemotherapy"], "Chemotherapy + Bevacizumab", ["Chemotherapy", "Bevacizumab"]
    ),
    "clinifact/NCT01996813:O0:OG001|OG000": arms("Historical Control", [], "Prospective Case", []),
    "NCT01494506:O0:OG003|OG002": arms(
        "5-FU + Leucovorin (Combo Therapy Comparison)",
        [],
        "MM-398 + 5-FU + Leucovorin(Arm C) Combo Therapy Comparison",
        [],
    ),
    "dose_response/ssri/120:O0:OG000|OG001": arms(
        "Placebo", ["placebo"], "fluoxetine 20 mg", ["fluoxetine"], (0.0, None, None), (20.0, "mg", None)
    ),
    "dose_response/ssri/545:O0:OG000|OG001": arms(
        "Placebo", ["placebo"], "fluoxetine 5 mg", ["fluoxetine"], (0.0, None, None), (5.0, "mg", None)
    ),
    "dose_response/ssri/205:O0:OG000|OG001": arms(
        "Placebo", ["placebo"], "fluoxetine 20 mg", ["fluoxetine"], (0.0, None, None), (20.0, "mg", None)
    ),
    "llm_meta_analysis/PMC5771543:O0:OG001|OG000": arms("placebo", [], "fluoxetine", []),
    "dose_response/psoriasis/UNCOVER 1:O0:OG002|OG000": arms(
        "Placebo", ["Placebo"], "Ixekizumab 80 mg Q2W", ["Ixekizumab"], (0.0, None, None), (80.0, "mg", "Q2W")
    ),
    "dose_response/psoriasis/UNCOVER 2:O0:OG003|OG000": arms(
        "Placebo", ["Placebo"], "Ixekizumab 80 mg Q2W", ["Ixekizumab"], (0.0, None, None), (80.0, "mg", "Q2W")
    ),
    "dose_response/psoriasis/UNCOVER 2:O0:OG003|OG001": arms(
        "Placebo", ["Placebo"], "Ixekizumab 80 mg Q4W", ["Ixekizumab"], (0.0, None, None), (80.0, "mg", "Q4W")
    ),
    "dose_response/psoriasis/UNCOVER 3:O0:OG003|OG000": arms(
        "Placebo", ["Placebo"], "Ixekizumab 80 mg Q2W", ["Ixekizumab"], (0.0, None, None), (80.0, "mg", "Q2W")
    ),
    "NCT00274469:O0:OG001|OG000": arms("Anastrozole", [], "Fulvestrant", [], (1.0, "mg", None), (500.0, "mg", None)),
    "NCT01602380:O0:OG001|OG000": arms("Anastrozole", [], "Fulvestrant", [], (1.0, "mg", None), (500.0, "mg", None)),
    "NCT00110994:O0:OG001|OG000": arms(
        "Placebo + Dacarbazine",
        ["Placebo", "Dacarbazine"],
        "Sorafenib (Nexavar, BAY43-9006) + Dacarbazine",
        ["Sorafenib (Nexavar, BAY43-9006)", "Dacarbazine"],
        (1000.0, "mg/m2", "BID"),
        (200.0, "mg", "BID"),
    ),  # fmt: skip
    "clinifact/NCT00110994:O0:OG001|OG000": arms(
        "Placebo + Dacarbazine",
        [],
        "Sorafenib (Nexavar, BAY43-9006) + Dacarbazine",
        [],
        (1000.0, "mg", "BID"),
        (200.0, "mg", "BID"),
    ),  # fmt: skip
    "NCT01212991:O0:OG001|OG000": arms(
        "Placebo", ["Placebo"], "Enzalutamide", ["Enzalutamide"], b_dose=(160.0, "mg", "QD")
    ),
    "NCT02003924:O0:OG001|OG000": arms(
        "Placebo", ["Placebo"], "Enzalutamide 160 mg", [], (40.0, "mg", None), (160.0, "mg", None)
    ),
}
# Intervention names the corpus knows (normalized_name values of the embedded interventions table), for titles.
VOCABULARY = {
    n: n
    for n in (
        "placebo",
        "erlotinib",
        "anastrozole",
        "exemestane",
        "fulvestrant",
        "chemotherapy",
        "bevacizumab",
        "leucovorin",
        "fluoxetine",
        "dacarbazine",
        "sorafenib",
        "enzalutamide",
    )
}

OUTCOMES = {  # title, time_frame, param_type, unit_of_measure
    "NCT01478594:O0": ("Investigator-assessed Progression-Free Survival (PFS)", "From randomization until the "
                       "analysis cut-off date of 13 September 2013; median time on study drug was 167 days in the "
                       "tivozanib group and 162 days in the bevacizumab group.", "MEDIAN", "months"),
    "NCT00623233:O0": ("Progression Free Survival (PFS) Time", "Baseline to measured PD or death from any cause. "
                       "Tumor assessments were performed every 8 weeks during therapy and every 2 months during "
                       "post-therapy until documented PD (up to 34 months).", "MEDIAN", "months"),
    "NCT00048997:O0": ("Overall Survival", "From randomization to last follow-up. Analysis occurred after all "
                       "patients had been on study for at least 12 months. Maximum follow-up at time of analysis was "
                       "96 months.", "MEDIAN", "months"),
    "NCT00082433:O6": ("Overall Survival (OS)", "from date of randomization until death", "MEDIAN", "months"),
    "NCT00022516:O1": ("Overall Survival", "5-year estimates, reported at a median follow-up of 6.9 years", "NUMBER",
                       "percentage of participants"),
    "clinifact/NCT00082381:O0": ("Change in Glycosylated Hemoglobin (HbA1c)", None, None, None),
    "clinifact/NCT00082407:O0": ("Change in Glcosylated Hemoglobin (HbA1c)", None, None, None),
    "clinifact/NCT00078819:O0": ("Percentage of Participants Achieving a ≥ 75% Improvement in Psoriasis Area and "
                                 "Severity Index Score (PASI 75) at Week 12", None, None, None),
    "clinifact/NCT00658606:O0": ("Percentage of Subjects Who Achieve Psoriasis Area and Severity Index (PASI) 75 at "
                                 "Week 16", None, None, None),
    "dose_response/psoriasis/ACCEPT:O0": ("PASI 75 response", "12 weeks", "COUNT_OF_PARTICIPANTS", "Participants"),
    "dose_response/psoriasis/ACCEPT:O1": ("PASI 90 response", "12 weeks", "COUNT_OF_PARTICIPANTS", "Participants"),
    "dose_response/triptans/1:O0": ("Headache-free at 2 hours", "2 hours", "COUNT_OF_PARTICIPANTS", "Participants"),
    "dose_response/triptans/10:O0": ("Headache-free at 2 hours", "2 hours", "COUNT_OF_PARTICIPANTS", "Participants"),
    "dose_response/ssri/120:O0": ("Response (50% reduction in depressive symptoms)", "8 weeks",
                                  "COUNT_OF_PARTICIPANTS", "Participants"),
    "dose_response/ssri/545:O0": ("Response (50% reduction in depressive symptoms)", "6 weeks",
                                  "COUNT_OF_PARTICIPANTS", "Participants"),
    "NCT00274469:O0": ("Clinical Benefit Rate", "From randomisation to data cut off (DCO) for primary analysis.",
                       "NUMBER", "Percentage of Participants"),
    "NCT01602380:O0": ("Comparison of Progression Free Survival (PFS) in Patients Treated With Fulvestrant With Those "
                       "Treated With Anastrozole", "Baseline RECIST 1.1 assessments and then every 12 weeks until the "
                       "earliest of disease progression evident, patient dies or has surgery/radiotherapy for their "
                       "disease (up to approximately 38 months for the primary analysis data cut-off).", "MEDIAN",
                       "Months"),
}  # fmt: skip


def comparison(cid: str) -> Side:
    """The side of one real comparison: its trial record where one is copied above, its arms, its outcome."""
    tid, oid = cid.split(":")[0], ":".join(cid.split(":")[:2])
    o = OUTCOMES.get(oid)
    outcome = dict(zip(("title", "time_frame", "param_type", "unit_of_measure"), o, strict=True)) if o else None
    rec = {"comparison_id": cid, "trial_id": tid, "outcome_id": oid, **COMPARISONS.get(cid, {})}
    return side_from_records({"trial_id": tid, **RECORDS.get(tid, {})}, rec, outcome, vocabulary=VOCABULARY)


def outcome_only(oid: str) -> Side:
    o = dict(zip(("title", "time_frame", "param_type", "unit_of_measure"), OUTCOMES[oid], strict=True))
    return side_from_records({"trial_id": oid.split(":")[0]}, {"outcome_id": oid}, o)


def check(rule, a: Side, b: Side, expected: str) -> None:
    assert rule(a, b) == expected
    assert rule(b, a) == expected  # every rule is symmetric


# ------------------------------------------------------------------------------------------------------------------
# intervention
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected"),
    [
        # spelling variants of one drug: a code name in brackets, a chemical name in brackets, a brand and code
        ("NCT01111058:O0:OG001|OG000", "NCT01133678:O0:OG001|OG000", "same"),
        ("NCT00668707:O0:OG001|OG000", "NCT01355523:O0:OG001|OG000", "same"),
        # no protocol arm linked: "Placebo" / "Erlotinib" read from the result-group titles
        ("NCT00373425:O0:OG001|OG000", "NCT00883779:O0:OG000|OG001", "same"),
        # one trial in two sources: AACT names the arms, CliniFact only titles them
        ("NCT00066573:O0:OG001|OG000", "clinifact/NCT00066573:O0:OG001|OG000", "same"),
        ("NCT00110994:O0:OG001|OG000", "clinifact/NCT00110994:O0:OG001|OG000", "same"),
        # letrozole vs placebo against vorinostat vs placebo
        ("NCT00090857:O0:OG001|OG000", "NCT00128102:O0:OG001|OG000", "changed"),
        # chemotherapy +/- bevacizumab, with the reference arm the other way round
        ("NCT00588770:O0:OG001|OG000", "NCT00700102:O0:OG000|OG001", "changed"),
        # titles that name no intervention, or name one only in part ("5-FU" is no name the corpus was given)
        ("clinifact/NCT01996813:O0:OG001|OG000", "NCT00090857:O0:OG001|OG000", "unknown"),
        ("NCT01494506:O0:OG003|OG002", "NCT00090857:O0:OG001|OG000", "unknown"),
    ],
)
def test_intervention_rule(anchor, target, expected):
    check(intervention_rule, comparison(anchor), comparison(target), expected)


def test_intervention_reasons():
    swapped = diff(comparison("NCT00588770:O0:OG001|OG000"), comparison("NCT00700102:O0:OG000|OG001"))
    assert swapped.details["intervention"] == "intervention: arms swapped (chemotherapy vs bevacizumab + chemotherapy)"
    d = diff(comparison("NCT00090857:O0:OG001|OG000"), comparison("NCT00128102:O0:OG001|OG000"))
    assert d.details["intervention"] == "intervention: compared letrozole -> vorinostat"
    s = comparison("NCT00883779:O0:OG000|OG001")
    assert (s.reference, s.compared, s.interventions_from) == ({"placebo"}, {"erlotinib"}, ("title", "title"))


# ------------------------------------------------------------------------------------------------------------------
# dose
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected", "reason"),
    [
        # fluoxetine 20 mg vs 5 mg against placebo (MBNMAdose codes placebo as dose 0)
        ("dose_response/ssri/120:O0:OG000|OG001", "dose_response/ssri/545:O0:OG000|OG001", "changed",
         "dose: compared 20 mg -> 5 mg"),
        # ixekizumab 80 mg every 2 weeks vs every 4 weeks
        ("dose_response/psoriasis/UNCOVER 1:O0:OG002|OG000", "dose_response/psoriasis/UNCOVER 2:O0:OG003|OG001",
         "changed", "dose: compared 80 mg Q2W -> 80 mg Q4W"),
        # melatonin 20 mg vs 6 mg daily; the placebo arms' parsed "doses" are not compared
        ("NCT00668707:O0:OG001|OG000", "NCT01355523:O0:OG001|OG000", "changed", "dose: compared 20 mg QD -> 6 mg QD"),
        ("dose_response/psoriasis/UNCOVER 2:O0:OG003|OG000", "dose_response/psoriasis/UNCOVER 3:O0:OG003|OG000",
         "same", None),
        ("NCT00274469:O0:OG001|OG000", "NCT01602380:O0:OG001|OG000", "same", None),
        # dacarbazine 1000 mg/m2 (AACT) vs 1000 mg (CliniFact's parse of the same arm): no body surface to convert
        ("NCT00110994:O0:OG001|OG000", "clinifact/NCT00110994:O0:OG001|OG000", "unknown",
         "dose: reference units differ (mg/m2 vs mg)"),
        # enzalutamide 160 mg once daily vs 160 mg with no frequency stated
        ("NCT01212991:O0:OG001|OG000", "NCT02003924:O0:OG001|OG000", "unknown",
         "dose: compared frequency stated on one side only (160 mg QD vs 160 mg)"),
        # llm-meta-analysis states no dose
        ("dose_response/ssri/205:O0:OG000|OG001", "llm_meta_analysis/PMC5771543:O0:OG001|OG000", "unknown",
         "dose: compared dose not stated"),
        # different drugs: dose is not a factor of its own
        ("NCT00090857:O0:OG001|OG000", "NCT00128102:O0:OG001|OG000", "unknown",
         "dose: not comparable (interventions differ or are not stated)"),
    ],
)  # fmt: skip
def test_dose_rule(anchor, target, expected, reason):
    a, b = comparison(anchor), comparison(target)
    check(dose_rule, a, b, expected)
    assert diff(a, b).details.get("dose") == reason


# ------------------------------------------------------------------------------------------------------------------
# outcome
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected"),
    [
        # how PFS was assessed or summarised is not another outcome
        ("NCT01478594:O0", "NCT00623233:O0", "same"),
        ("NCT00048997:O0", "NCT00082433:O6", "same"),
        # a typo in CliniFact's title
        ("clinifact/NCT00082381:O0", "clinifact/NCT00082407:O0", "same"),
        ("dose_response/triptans/1:O0", "dose_response/triptans/10:O0", "same"),
        # PASI 75 vs PASI 90; PASI 75 at week 12 vs week 16 (in the titles); response at 8 vs 6 weeks (time frame)
        ("dose_response/psoriasis/ACCEPT:O0", "dose_response/psoriasis/ACCEPT:O1", "changed"),
        ("clinifact/NCT00078819:O0", "clinifact/NCT00658606:O0", "changed"),
        ("dose_response/ssri/120:O0", "dose_response/ssri/545:O0", "changed"),
        # median OS in months vs the 5-year OS rate
        ("NCT00048997:O0", "NCT00022516:O1", "changed"),
        ("NCT00274469:O0", "NCT01602380:O0", "changed"),
    ],
)
def test_outcome_rule(anchor, target, expected):
    check(outcome_rule, outcome_only(anchor), outcome_only(target), expected)


def test_outcome_unknown_without_an_outcome():
    check(outcome_rule, trial("NCT00050960"), outcome_only("NCT00048997:O0"), "unknown")


def test_outcome_reasons():
    d = diff(outcome_only("dose_response/ssri/120:O0"), outcome_only("dose_response/ssri/545:O0"))
    assert d.details["outcome"] == "outcome time point: 8 weeks -> 6 weeks"
    d = diff(outcome_only("NCT00048997:O0"), outcome_only("NCT00022516:O1"))
    assert d.details["outcome"] == "outcome measure: months -> percentage of participants"


@pytest.mark.parametrize(
    ("time_frame", "hours"),
    [("12 weeks", 2016.0), ("2 hours", 2.0), ("2 years", 17532.0), ("3 days", 72.0), ("Baseline up to 333 weeks", None),
     ("Baseline, 4, 6, 9 and 15 months from randomization", None), ("15 minutes after dosing", None), (None, None)],
)  # fmt: skip
def test_time_point_hours(time_frame, hours):
    assert time_point_hours(time_frame) == hours


# ------------------------------------------------------------------------------------------------------------------
# population
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected"),
    [
        ("NCT00050960", "NCT00065182", "same"),  # "Lung Cancer, Non-Small Cell" (inverted)
        ("NCT00050960", "NCT01797471", "same"),  # "NSCLC"
        ("NCT00050960", "NCT00415818", "same"),  # "carcinoma, non-small-cell lung" (MeSH heading as a condition)
        ("NCT00476645", "NCT00002597", "same"),  # "Prostatic Neoplasms"
        ("NCT00063570", "NCT00003042", "same"),  # "Breast Neoplasms"
        ("NCT02966223", "NCT00242502", "same"),  # "HCC" / "Hepatocellular Carcinoma"
        # "Non-Small Cell Lung Cancer" is found among the MeSH terms of NCT00023673 ("Carcinoma, Non-Small-Cell Lung")
        ("NCT00094835", "NCT00023673", "same"),
        # a broader condition is not the narrower one: lung cancer vs NSCLC, NSCLC vs squamous NSCLC
        ("NCT00050960", "NCT00094835", "changed"),
        ("NCT00023673", "NCT01642004", "changed"),
        ("NCT00274469", "NCT01602380", "changed"),
        # MeSH terms serve the other side only: NCT02299791's "Diabetes Mellitus" is found in NCT00763412's MeSH
        # terms, but NCT00763412's "Cystic Fibrosis Related Diabetes" is not found in NCT02299791
        ("NCT00763412", "NCT02299791", "changed"),
        ("NCT00050960", "clinifact/NCT00066573", "unknown"),  # CliniFact states no conditions
    ],
)
def test_conditions_rule(anchor, target, expected):
    check(conditions_rule, trial(anchor), trial(target), expected)


def test_conditions_reason_names_what_is_not_found():
    # NCT02299791's "Diabetes Mellitus" is among NCT00763412's MeSH terms, so it is not listed
    d = diff(trial("NCT00763412"), trial("NCT02299791"))
    assert (
        "conditions cystic fibrosis related diabetes; pancreatic insufficiency -> cardiovascular"
        in d.details["population"]
    )


@pytest.mark.parametrize(
    ("anchor", "target", "expected", "reason_part"),
    [
        # the fixture's copy of NCT00763412: every part stated and equal
        ("NCT00763412", "NCT000001", "same", None),
        ("NCT01357915", "NCT02389088", "changed", "sex MALE -> FEMALE"),
        # 18-64 vs 18 and over: the second enrols older adults
        ("NCT02210780", "NCT02552212", "changed", "ages adult -> adult, older adult"),
        ("NCT02028676", "NCT03191552", "changed", None),  # children only on both sides, other conditions
        # same NSCLC, untreated vs pretreated inclusion criteria
        ("NCT00415818", "NCT01027676", "changed", "prior treatment untreated -> pretreated"),
        # AACT: the same condition, but sex, ages and eligibility are not in the source
        ("NCT00050960", "NCT00065182", "unknown", "sex not stated; ages not stated; eligibility not stated"),
        ("NCT00274469", "NCT01602380", "changed", "conditions metastatic breast cancer -> hormone receptor positive"),
    ],
)
def test_population_rule(anchor, target, expected, reason_part):
    a, b = trial(anchor), trial(target)
    check(population_rule, a, b, expected)
    if reason_part:
        assert reason_part in diff(a, b).details["population"]


def test_ages_compare_by_age_group():
    # 3 months-17 years and 3-12 years are both children only; 18-75 and 45 and over both adults and older adults
    d = diff(trial("NCT02028676"), trial("NCT03191552"))
    assert "ages" not in d.details["population"]
    assert "ages" not in diff(trial("NCT02299791"), trial("NCT01174550")).details["population"]


@pytest.mark.parametrize(
    ("age", "years"),
    [("18 Years", 18.0), ("3 Months", 0.25), ("5 Days", 5 / 365.25), ("N/A", None), (None, None)],
)
def test_age_years(age, years):
    assert age_years(age) == (pytest.approx(years) if years is not None else None)


@pytest.mark.parametrize(
    ("nct", "criteria", "expected"),
    [
        ("NCT00003152", "DISEASE CHARACTERISTICS: Previously untreated follicular stage III or IV non-Hodgkin's "
         "lymphoma At least one measurable mass", "untreated"),
        ("NCT00423696", "PRIOR CONCURRENT THERAPY:\n - No prior chemotherapy for metastatic disease\n - At least 6 "
         "months since prior adjuvant chemotherapy", "untreated"),
        ("NCT00783471", "2. Patients must have not been previously treated with anticancer drugs for advanced\n "
         "disease.", "untreated"),
        ("NCT00723346", "Inclusion Criteria:\n - Subject with acute lymphoblastic leukaemia or lymphoblastic lymphoma "
         "(excluded burkitt lymphoma) who have relapsed after first remission", "pretreated"),
        ("NCT01154335", "Inclusion Criteria:\n - Metastatic cancer of the colon or rectum that has progressed on or "
         "for which the patient is intolerant to or not a candidate for: fluoropyrimidines", "pretreated"),
        # "refractory" only under the exclusion criteria
        ("NCT03191552", "Inclusion Criteria:\n 1. being classified at Gross Motor Function Classification System "
         "(GMFCS) level III-IV\n Exclusion Criteria:\n 1. serious respiratory restriction\n 2. having refractory "
         "cyanosis or circulatory disorder", None),
        ("NCT00763412", CTGOV["NCT00763412"]["eligibility_criteria"], None),
    ],
)  # fmt: skip
def test_prior_treatment(nct, criteria, expected):
    assert prior_treatment(criteria) == expected


# ------------------------------------------------------------------------------------------------------------------
# geography
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected"),
    [
        ("NCT00023673", "NCT00277524", "same"),  # Canada + United States vs United States
        ("NCT00763412", "NCT02210780", "same"),
        ("NCT01298141", "NCT00277524", "changed"),  # Canada vs United States: no shared site
        ("NCT02552212", "NCT02210780", "changed"),  # 9 countries on 4 continents vs United States
        ("NCT01207388", "NCT01380080", "changed"),  # Europe vs Africa, Latin America and India
        ("NCT02389088", "NCT00277524", "unknown"),  # NCT02389088 lists no location
        ("NCT00050960", "NCT00065182", "unknown"),  # AACT oncology subset: no countries
    ],
)
def test_geography_rule(anchor, target, expected):
    check(geography_rule, trial(anchor), trial(target), expected)


@pytest.mark.parametrize(
    ("name", "country", "where"),
    [
        ("Russian Federation", "Russia", "Europe"),  # NCT01207388, NCT02552212
        ("Czech Republic", "Czechia", "Europe"),  # NCT01642004 lists both spellings
        ("Czechia", "Czechia", "Europe"),
        ("Former Serbia and Montenegro", "Former Serbia and Montenegro", "Europe"),  # NCT01076361
        ("Taiwan", "Taiwan", "Eastern Asia"),  # NCT02552212
        ("Tanzania", "Tanzania", "Africa"),  # NCT01380080
    ],
)
def test_country_names_and_regions(name, country, where):
    assert country_name(name) == country
    assert region(country) == where


# ------------------------------------------------------------------------------------------------------------------
# phase and design
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "target", "expected"),
    [
        ("NCT00050960", "NCT00095199", "same"),
        ("NCT00094835", "NCT00138658", "same"),  # PHASE1/PHASE2 both
        ("NCT01174550", "NCT00003404", "same"),  # not applicable ("N/A" / "NA") both
        ("NCT00050960", "NCT00065182", "changed"),  # PHASE3 vs PHASE2
        ("NCT00094835", "NCT00065182", "changed"),  # PHASE1/PHASE2 vs PHASE2
        ("NCT00003404", "NCT00003042", "changed"),  # NA vs PHASE2
        ("dose_response/psoriasis/UNCOVER 2", "NCT00050960", "unknown"),  # MBNMAdose states no phase
    ],
)
def test_phase_rule(anchor, target, expected):
    check(phase_rule, trial(anchor), trial(target), expected)


def test_phase_from_the_phase_string():
    # the trials table carries both "phases" (list) and "phase" ("PHASE1/PHASE2"); either gives the same phases
    only_string = side_from_records({"trial_id": "NCT00094835", "phase": AACT["NCT00094835"]["phase"]})
    assert only_string.phases == trial("NCT00094835").phases == ("PHASE1", "PHASE2")


@pytest.mark.parametrize(
    ("anchor", "target", "expected", "reason"),
    [
        ("NCT00050960", "NCT00095199", "same", None),
        # QUADRUPLE vs DOUBLE: both blinded (registries count masked roles inconsistently)
        ("NCT00102804", "NCT00130728", "same", None),
        ("NCT00130728", "NCT00050960", "changed", "design: masking blinded -> open label"),
        ("NCT00172042", "NCT00050960", "changed", "design: primary purpose PREVENTION -> TREATMENT"),
        ("NCT00138658", "NCT00050960", "changed",
         "design: allocation NA -> RANDOMIZED; intervention model SINGLE_GROUP -> PARALLEL"),
        # MBNMAdose states allocation only: equal there, the rest unknown
        ("dose_response/psoriasis/UNCOVER 2", "NCT00050960", "unknown",
         "design: masking not stated; intervention model not stated; primary purpose not stated"),
        ("dose_response/psoriasis/UNCOVER 2", "NCT00138658", "changed", "design: allocation RANDOMIZED -> NA"),
    ],
)  # fmt: skip
def test_design_rule(anchor, target, expected, reason):
    a, b = trial(anchor), trial(target)
    check(design_rule, a, b, expected)
    assert diff(a, b).details.get("design") == reason


# ------------------------------------------------------------------------------------------------------------------
# the whole diff
# ------------------------------------------------------------------------------------------------------------------


def test_diff_first_vs_falcon():
    d = diff(comparison("NCT00274469:O0:OG001|OG000"), comparison("NCT01602380:O0:OG001|OG000"))
    assert d.changed == ("outcome", "population", "phase", "design")
    assert d.unknown == ("geography",)
    assert d.same == ("intervention", "dose")
    assert d.details["phase"] == "phase: PHASE2 -> PHASE3"
    assert d.details["design"] == "design: masking open label -> blinded"
    assert d.details["geography"] == "geography: countries not stated"
    assert set(d.details) == set(d.changed) | set(d.unknown)


@pytest.mark.parametrize("cid", sorted(COMPARISONS))
def test_diff_with_itself_changes_nothing(cid):
    s = comparison(cid)
    assert diff(s, s).changed == ()


# ------------------------------------------------------------------------------------------------------------------
# integration: real comparisons of the embedded corpus
# ------------------------------------------------------------------------------------------------------------------

N_TRIALS, N_PAIRS = 100, 200


def _subset(tables: dict[str, pa.Table], trial_ids: list[str]) -> dict[str, pa.Table]:
    keep = pa.array(trial_ids)
    return {k: t.filter(pc.is_in(t["trial_id"], keep)) for k, t in tables.items()}


@pytest.fixture(scope="module")
def sample() -> tuple[dict[str, pa.Table], list[dict], list[tuple[dict, dict]], F.SideIndex]:
    tables, _ = pipeline.corpus()
    # Comparisons are built per trial (posted analyses or per-arm values of one trial's outcomes), so those of a
    # sample of trials with any are the records pipeline.comparisons() gives for them, without its 20 s for all.
    with_results = set(tables["analyses"]["trial_id"].to_pylist()) | set(tables["measurements"]["trial_id"].to_pylist())
    rng = random.Random(3)
    trial_ids = rng.sample(sorted(with_results), N_TRIALS)
    comps = all_comparisons(Corpus.from_tables(_subset(tables, trial_ids)))
    pairs = []
    while len(pairs) < N_PAIRS:
        a, b = rng.sample(comps, 2)
        if a["trial_id"] != b["trial_id"]:
            pairs.append((a, b))
    return tables, comps, pairs, sides_from_tables(tables)


@pytest.mark.slow
def test_diff_on_real_comparisons(sample):
    tables, comps, pairs, idx = sample
    sources = dict(zip(tables["trials"]["trial_id"].to_pylist(), tables["trials"]["source"].to_pylist(), strict=True))
    assert len({c["trial_id"] for c in comps}) > 60 and len({sources[c["trial_id"]] for c in comps}) >= 3

    sides = {c["comparison_id"]: idx.side(c) for c in comps}
    for s in sides.values():
        assert diff(s, s).changed == ()

    counts: Counter[str] = Counter()
    aact_pairs = 0
    for a, b in pairs:
        sa, sb = sides[a["comparison_id"]], sides[b["comparison_id"]]
        d, r = diff(sa, sb), diff(sb, sa)
        assert (d.changed, d.unknown) == (r.changed, r.unknown)
        assert set(d.details) == set(d.changed) | set(d.unknown)
        counts.update(d.changed)
        if sources[a["trial_id"]] == sources[b["trial_id"]] == "aact":
            aact_pairs += 1
            assert "geography" in d.unknown
    assert aact_pairs >= 50
    # across different trials, most factors do change somewhere in the sample
    assert {"intervention", "outcome", "population", "phase", "design"} <= set(counts)


@pytest.mark.slow
def test_two_indexes_agree(sample):
    tables, comps, pairs, one = sample
    # the second index is built from the tables it reads, in reverse row order
    reverse = {
        k: tables[k].take(pa.array(range(tables[k].num_rows - 1, -1, -1)))
        for k in ("trials", "interventions", "outcomes")
    }
    two = sides_from_tables(reverse)
    for a, b in pairs:
        d1 = diff(one.side(a), one.side(b))
        d2 = diff(two.side(a), two.side(b))
        assert d1 == d2
        assert one.side(a) == two.side(a)


def test_factor_order():
    assert FACTORS == ("intervention", "dose", "outcome", "population", "geography", "phase", "design")
    assert list(F._EXPLAIN) == list(FACTORS)


_BLANK = {name: getattr(Side("x"), name) for name in Side.__dataclass_fields__ if name != "trial_id"}


def _reads_only_its_fields(sa: Side, sb: Side) -> None:
    # Differ caches a verdict by RULE_FIELDS: a rule given sides that keep only those fields must give the same
    # verdict and reason
    for f, names in F.RULE_FIELDS.items():
        a, b = (replace(s, **{k: v for k, v in _BLANK.items() if k not in names}) for s in (sa, sb))
        assert F._EXPLAIN[f](a, b) == F._EXPLAIN[f](sa, sb), (f, sa, sb)


def test_each_rule_reads_only_its_fields():
    # every pair of the hand-copied records above: they state what the embedded sample lacks (sex, ages,
    # eligibility criteria, countries, doses), so a field a rule reads but RULE_FIELDS omits changes some verdict
    assert set(F.RULE_FIELDS) == set(FACTORS)
    sides = [trial(t) for t in RECORDS] + [comparison(c) for c in COMPARISONS]
    for sa in sides:
        for sb in sides:
            _reads_only_its_fields(sa, sb)


@pytest.mark.slow
def test_each_rule_reads_only_its_fields_on_real_comparisons(sample):
    _, comps, pairs, idx = sample
    for a, b in pairs:
        _reads_only_its_fields(idx.side(a), idx.side(b))


@pytest.mark.slow
def test_differ_equals_diff(sample):
    _, comps, pairs, idx = sample
    differ = F.Differ()
    for _ in range(2):  # the second round reads every verdict from the cache
        for a, b in pairs:
            sa, sb = idx.side(a), idx.side(b)
            assert differ(sa, sb) == diff(sa, sb)
    assert 0 < len(differ.cache) <= 7 * len(pairs)
