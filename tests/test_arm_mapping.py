"""Result groups -> protocol arms (:mod:`deepimagine_data.pairs.arms`).

Each case is one outcome of a real trial of the embedded corpus: its protocol arms (title, arm type, intervention
names; the description where a rule reads it) and its result groups (title; description where read), copied from
``tables["arms"]`` (and ``tables["interventions"]`` where the arm labels matter), with the link each group of the
tested pair should get (the arm's title and the rule) and the pair's relation, written from reading the records.
The corpus test checks the invariants over every outcome and every two-group analysis of the embedded corpus.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest

from deepimagine_data.pairs.arms import (
    RELATIONS,
    RULES,
    ArmLink,
    link_outcome_groups,
    pair_relation,
    prepare_arms,
)

KINDS = {"arm", "pooled", "subgroup", "responders", "time_point", "case_control"}
CURATED = {"clinifact", "dose_response", "llm_meta_analysis"}


@dataclass
class Case:
    nct: str
    arms: list  # [title, arm_type, intervention_names] (+ description)
    groups: list  # title, or [title, description]
    pair: tuple[str, str]  # the two result groups compared
    links: tuple  # per group of the pair: (protocol arm title or None, rule)
    relation: str
    interventions: list = field(default_factory=list)  # [name, other_names, arm_labels]
    kinds: tuple | None = None  # ArmLink.kind of the pair's groups, where checked
    also: list = field(default_factory=list)  # more pairs of the same outcome: (title, title, relation)

    def rows(self):
        arms = [
            {
                "group_id": f"A{i}",
                "group_type": "arm",
                "title": a[0],
                "arm_type": a[1],
                "intervention_names": a[2],
                "description": a[3] if len(a) > 3 else None,
            }
            for i, a in enumerate(self.arms)
        ]
        groups = [
            {
                "group_id": f"OG{i:03d}",
                "group_type": "outcome",
                "title": g if isinstance(g, str) else g[0],
                "description": None if isinstance(g, str) else g[1],
            }
            for i, g in enumerate(self.groups)
        ]
        ivs = [{"name": n, "other_names": o, "arm_labels": labels} for n, o, labels in self.interventions]
        return arms, groups, ivs


CASES = [
    # NCT01998919, outcome 0: 'Chemotherapy' stands for gemcitabine/platinum; erlotinib is in the intervention names
    Case(
        "NCT01998919",
        arms=[
            [
                "Tarceva + gemcitabine/platinum",
                "EXPERIMENTAL",
                ["erlotinib [Tarceva]", "gemcitabine", "cisplatin", "carboplatin"],
            ],
            [
                "Placebo + gemcitabine/platinum",
                "PLACEBO_COMPARATOR",
                ["placebo", "gemcitabine", "cisplatin", "carboplatin"],
            ],
        ],
        groups=["Placebo Plus Chemotherapy", "Erlotinib Plus Chemotherapy"],
        pair=("Placebo Plus Chemotherapy", "Erlotinib Plus Chemotherapy"),
        links=(
            ("Placebo + gemcitabine/platinum", "title_tokens"),
            ("Tarceva + gemcitabine/platinum", "interventions"),
        ),
        relation="arms",
    ),
    # NCT02000622, outcome 0: dose and frequency words dropped; 'Chemotherapy' found in one arm title
    Case(
        "NCT02000622",
        arms=[
            ["Olaparib", "EXPERIMENTAL", ["Olaparib"]],
            [
                "Physician's choice chemotherapy",
                "ACTIVE_COMPARATOR",
                ["Physician's choice chemotherapy"],
            ],
        ],
        groups=["Olaparib 300 mg bd", "Chemotherapy"],
        pair=("Olaparib 300 mg bd", "Chemotherapy"),
        links=(("Olaparib", "title_tokens"), ("Physician's choice chemotherapy", "title_tokens")),
        relation="arms",
    ),
    # NCT02349412, outcome 0: arm labels; '(Usual Care)' is only a description
    Case(
        "NCT02349412",
        arms=[
            ["Arm 1", "EXPERIMENTAL", ["Early palliative care"]],
            ["Arm 2", "EXPERIMENTAL", ["Early palliative care"]],
        ],
        groups=["Arm 1 (Early Palliative Care)", "Arm 2 (Usual Care)"],
        pair=("Arm 1 (Early Palliative Care)", "Arm 2 (Usual Care)"),
        links=(("Arm 1", "label"), ("Arm 2", "label")),
        relation="arms",
    ),
    # NCT02360215, outcome 0: 'HA' picks the HA-WBRT arm; the titles win over the (swapped) descriptions
    Case(
        "NCT02360215",
        arms=[
            [
                "WBRT + Memantine",
                "EXPERIMENTAL",
                ["Memantine", "Whole brain radiation therapy"],
                "Whole brain radiation therapy (WBRT) and memantine",
            ],
            [
                "HA-WBRT/IMRT+ Memantine",
                "EXPERIMENTAL",
                ["Whole brain radiation therapy with hippocampal avoidance", "Memantine"],
                (
                    "Whole brain radiation therapy with hippocampal avoidance (HA-WBRT) using "
                    "intensity modulated radiation therapy (IMRT) and memantine"
                ),
            ],
        ],
        groups=[
            ["HA-WBRT + Memantine", "Whole brain radiation therapy (WBRT) and memantine"],
            [
                "WBRT + Memantine",
                "Whole brain radiation therapy with hippocampal avoidance (HA-WBRT) and memantine",
            ],
        ],
        pair=("HA-WBRT + Memantine", "WBRT + Memantine"),
        links=(("HA-WBRT/IMRT+ Memantine", "title_tokens"), ("WBRT + Memantine", "exact_title")),
        relation="arms",
    ),
    # NCT00556712, outcome 11: '150 mg/Day' is a dose
    Case(
        "NCT00556712",
        arms=[
            ["Erlotinib", "EXPERIMENTAL", ["erlotinib [Tarceva]"]],
            ["Placebo", "PLACEBO_COMPARATOR", ["Placebo"]],
        ],
        groups=["Placebo", "Erlotinib, 150 mg/Day"],
        pair=("Placebo", "Erlotinib, 150 mg/Day"),
        links=(("Placebo", "exact_title"), ("Erlotinib", "title_tokens")),
        relation="arms",
    ),
    # NCT00956813, outcome 0: arms titled only 'Arm I'/'Arm II': intervention names and arm type decide
    Case(
        "NCT00956813",
        arms=[["Arm I", "EXPERIMENTAL", ["flaxseed"]], ["Arm II", "PLACEBO_COMPARATOR", ["placebo"]]],
        groups=["Flaxseed", "Placebo"],
        pair=("Flaxseed", "Placebo"),
        links=(("Arm I", "interventions"), ("Arm II", "title_tokens")),
        relation="arms",
    ),
    # NCT02007512, outcome 0: 'Cohort 1' is a label no arm carries; 'Placebo' / 'Enzalutamide' decide
    Case(
        "NCT02007512",
        arms=[
            ["Enzalutamide & exemestane", "EXPERIMENTAL", ["Enzalutamide", "exemestane"]],
            [
                "Placebo & exemestane",
                "ACTIVE_COMPARATOR",
                ["exemestane", "Placebo (for enzalutamide)"],
            ],
        ],
        groups=[
            "Cohort 1: Enzalutamide 160 mg + Exemestane 50 mg",
            "Cohort 1: Placebo + Exemestane 25 mg",
            "Cohort 2: Enzalutamide 160 mg + Exemestane 50 mg",
            "Cohort 2: Placebo + Exemestane 25 mg",
        ],
        pair=(
            "Cohort 1: Placebo + Exemestane 25 mg",
            "Cohort 1: Enzalutamide 160 mg + Exemestane 50 mg",
        ),
        links=(("Placebo & exemestane", "title_tokens"), ("Enzalutamide & exemestane", "title_tokens")),
        relation="arms",
    ),
    # NCT02759146, outcome 0: 'Patients' is filler
    Case(
        "NCT02759146",
        arms=[
            ["Reflexology", "EXPERIMENTAL", ["Reflexology"]],
            ["Meditative Practice", "EXPERIMENTAL", ["Meditative Practices"]],
            ["Control", "NO_INTERVENTION", []],
        ],
        groups=["Reflexology Patients", "Meditative Practice Patients", "Control Patients"],
        pair=("Control Patients", "Reflexology Patients"),
        links=(("Control", "title_tokens"), ("Reflexology", "title_tokens")),
        relation="arms",
    ),
    # NCT02099864, outcome 1: responders vs non-responders of a single-arm trial
    Case(
        "NCT02099864",
        arms=[["Treatment (Enzalutamide)", "EXPERIMENTAL", ["Enzalutamide"]]],
        groups=["Responders", "PSA Non-responders"],
        pair=("Responders", "PSA Non-responders"),
        links=(
            ("Treatment (Enzalutamide)", "single_arm_trial"),
            ("Treatment (Enzalutamide)", "single_arm_trial"),
        ),
        relation="same_arm",
        kinds=("responders", "responders"),
    ),
    # NCT00508404, outcome 0: biomarker subgroups of a single-arm trial
    Case(
        "NCT00508404",
        arms=[["Panitumumab plus FOLFIRI", "EXPERIMENTAL", ["Panitumumab", "FOLFIRI"]]],
        groups=["Wild-type KRAS", "Mutant KRAS"],
        pair=("Wild-type KRAS", "Mutant KRAS"),
        links=(
            ("Panitumumab plus FOLFIRI", "single_arm_trial"),
            ("Panitumumab plus FOLFIRI", "single_arm_trial"),
        ),
        relation="same_arm",
        kinds=("subgroup", "subgroup"),
    ),
    # NCT00181363, outcome 0: two positions of the same participants, single-arm trial
    Case(
        "NCT00181363",
        arms=[["Mamma board", "EXPERIMENTAL", ["Mamma board"]]],
        groups=["Prone", "Supine"],
        pair=("Prone", "Supine"),
        links=(("Mamma board", "single_arm_trial"), ("Mamma board", "single_arm_trial")),
        relation="same_arm",
        kinds=("time_point", "time_point"),
    ),
    # NCT00041119, outcome 1: arms pooled by the title
    Case(
        "NCT00041119",
        arms=[
            [
                "Arm I (CA for 4 courses)",
                "ACTIVE_COMPARATOR",
                ["AC regimen", "doxorubicin hydrochloride"],
            ],
            [
                "Arm II (CA for 6 courses [closed to accrual 12/15/2007])",
                "EXPERIMENTAL",
                ["AC regimen", "cyclophosphamide", "doxorubicin hydrochloride"],
            ],
            ["Arm III (paclitaxel for 4 courses)", "EXPERIMENTAL", ["AC regimen", "paclitaxel"]],
            [
                "Arm IV (paclitaxel for 6 courses [closed 12/15/2007])",
                "EXPERIMENTAL",
                ["AC regimen", "paclitaxel"],
            ],
        ],
        groups=["Arm V (Arm I and Arm II Combined)", "Arm VI (Arm III and Arm IV) Combined"],
        pair=("Arm V (Arm I and Arm II Combined)", "Arm VI (Arm III and Arm IV) Combined"),
        links=((None, "pooled"), (None, "pooled")),
        relation="pooled_arms",
        kinds=("pooled", "pooled"),
    ),
    # NCT00041119, outcome 2: factorial margins: each title fits two arms
    Case(
        "NCT00041119",
        arms=[
            [
                "Arm I (CA for 4 courses)",
                "ACTIVE_COMPARATOR",
                ["AC regimen", "doxorubicin hydrochloride"],
            ],
            [
                "Arm II (CA for 6 courses [closed to accrual 12/15/2007])",
                "EXPERIMENTAL",
                ["AC regimen", "cyclophosphamide", "doxorubicin hydrochloride"],
            ],
            ["Arm III (paclitaxel for 4 courses)", "EXPERIMENTAL", ["AC regimen", "paclitaxel"]],
            [
                "Arm IV (paclitaxel for 6 courses [closed 12/15/2007])",
                "EXPERIMENTAL",
                ["AC regimen", "paclitaxel"],
            ],
        ],
        groups=["Cyclophosphamide and Doxorubicin Hydrochloride", "Paclitaxel"],
        interventions=[
            [
                "AC regimen",
                None,
                [
                    "Arm I (CA for 4 courses)",
                    "Arm II (CA for 6 courses [closed to accrual 12/15/2007])",
                    "Arm III (paclitaxel for 4 courses)",
                    "Arm IV (paclitaxel for 6 courses [closed 12/15/2007])",
                ],
            ],
            [
                "cyclophosphamide",
                None,
                ["Arm II (CA for 6 courses [closed to accrual 12/15/2007])"],
            ],
            [
                "doxorubicin hydrochloride",
                None,
                [
                    "Arm I (CA for 4 courses)",
                    "Arm II (CA for 6 courses [closed to accrual 12/15/2007])",
                ],
            ],
            [
                "paclitaxel",
                None,
                [
                    "Arm III (paclitaxel for 4 courses)",
                    "Arm IV (paclitaxel for 6 courses [closed 12/15/2007])",
                ],
            ],
        ],
        pair=("Cyclophosphamide and Doxorubicin Hydrochloride", "Paclitaxel"),
        links=((None, "ambiguous"), (None, "ambiguous")),
        relation="unmapped_group",
    ),
    # NCT00116753, outcome 0: exact once spacing is dropped (today's fuzzy match took the 240@40/240@40 arm)
    Case(
        "NCT00116753",
        arms=[
            ["Degarelix 240@40/240@40 (1,3,6,9)", "ACTIVE_COMPARATOR", ["Degarelix"]],
            ["Degarelix 240@40/240@60(1,3,6,9)", "ACTIVE_COMPARATOR", ["Degarelix"]],
            ["Degarelix 240@40/240@60(1,4,7,10)", "ACTIVE_COMPARATOR", ["Degarelix"]],
        ],
        groups=[
            "Degarelix 240@40/240@40 (1,3,6,9)",
            "Degarelix 240@40/240@60 (1,3,6,9)",
            "Degarelix 240@40/240@60 (1,4,7,10)",
        ],
        pair=("Degarelix 240@40/240@60 (1,3,6,9)", "Degarelix 240@40/240@60 (1,4,7,10)"),
        links=(
            ("Degarelix 240@40/240@60(1,3,6,9)", "exact_title"),
            ("Degarelix 240@40/240@60(1,4,7,10)", "exact_title"),
        ),
        relation="arms",
    ),
    # NCT00091832, outcome 0: the numbers pick among five denosumab arms; Q4W = every 4 weeks
    Case(
        "NCT00091832",
        arms=[
            ["Denosumab 60 mg every 12 weeks", "EXPERIMENTAL", ["Denosumab"]],
            ["Denosumab 120 mg every 4 weeks", "EXPERIMENTAL", ["Denosumab"]],
            ["Denosumab 180 mg every 4 weeks", "EXPERIMENTAL", ["Denosumab"]],
            ["IV bisphosphonates every 4 weeks", "ACTIVE_COMPARATOR", ["IV Bisphosphonates"]],
            ["Denosumab 180 mg every 12 weeks", "EXPERIMENTAL", ["Denosumab"]],
            ["Denosumab 30 mg every 4 weeks", "EXPERIMENTAL", ["Denosumab"]],
        ],
        groups=[
            "Bisphosphonate IV Q4W",
            "Denosumab 30 mg Q4W",
            "Denosumab 120 mg Q4W",
            "Denosumab 180 mg Q4W",
            "Denosumab 60 mg Q12W",
            "Denosumab 180 mg Q12W",
        ],
        pair=("Bisphosphonate IV Q4W", "Denosumab 30 mg Q4W"),
        links=(
            ("IV bisphosphonates every 4 weeks", "title_tokens"),
            ("Denosumab 30 mg every 4 weeks", "title_tokens"),
        ),
        relation="arms",
    ),
    # NCT00940875, outcome 1: both arms give gemcitabine: the arm whose own words are all in the title
    Case(
        "NCT00940875",
        arms=[
            ["1", "EXPERIMENTAL", ["erlotinib [Tarceva]", "gemcitabine"]],
            ["2", "ACTIVE_COMPARATOR", ["gemcitabine"]],
        ],
        groups=["Gemcitabine Monotherapy", "Gemcitabine + Erlotinib"],
        pair=("Gemcitabine Monotherapy", "Gemcitabine + Erlotinib"),
        links=(("2", "interventions"), ("1", "interventions")),
        relation="arms",
    ),
    # NCT00107172, outcome 0: labels A/B against I/II are no evidence; the description decides, then elimination
    Case(
        "NCT00107172",
        arms=[
            [
                "Arm I",
                "ACTIVE_COMPARATOR",
                ["surgery"],
                (
                    "Patients undergo open or thoracoscopic sublobar resection comprising either a "
                    "wedge resection or anatomical segmentectomy."
                ),
            ],
            [
                "Arm II",
                "EXPERIMENTAL",
                ["surgery", "brachytherapy"],
                (
                    "Patients undergo surgery as in arm I. Patients also undergo intraoperative "
                    "brachytherapy comprising an iodine I 125 implant at the resection margin."
                ),
            ],
        ],
        groups=[
            [
                "Arm A (SR)",
                (
                    "Patients undergo open or thoracoscopic sublobar resection (SR) comprising either "
                    "a wedge resection or anatomical segmentectomy."
                ),
            ],
            ["Arm B (SR + BX)", "Patients undergo sublobar resection plus brachytherapy (SR + BX)"],
        ],
        pair=("Arm A (SR)", "Arm B (SR + BX)"),
        links=(("Arm I", "description"), ("Arm II", "elimination")),
        relation="arms",
    ),
    # NCT03143153, outcome 0: the one group left takes the one arm left
    Case(
        "NCT03143153",
        arms=[
            ["Nivolumab + Ipilimumab", "EXPERIMENTAL", ["Nivolumab", "Ipilimumab"]],
            [
                "Nivolumab + Cisplatin + Fluorouacil",
                "EXPERIMENTAL",
                ["Nivolumab", "Cisplatin", "Fluorouracil"],
            ],
            ["Cisplatin + Fluorouracil", "ACTIVE_COMPARATOR", ["Cisplatin", "Fluorouracil"]],
        ],
        groups=["Arm A: Nivolumab + Ipilimumab", "Arm B: Nivolumab + Chemotherapy", "Arm C: Chemotherapy"],
        pair=("Arm B: Nivolumab + Chemotherapy", "Arm C: Chemotherapy"),
        links=(
            ("Nivolumab + Cisplatin + Fluorouacil", "title_tokens"),
            ("Cisplatin + Fluorouracil", "elimination"),
        ),
        relation="arms",
    ),
    # NCT00364013, outcome 0: one subgroup of two randomized arms
    Case(
        "NCT00364013",
        arms=[
            ["FOLFOX + Panitumumab", "EXPERIMENTAL", ["Panitumumab", "FOLFOX regimen"]],
            ["FOLFOX", "ACTIVE_COMPARATOR", ["FOLFOX regimen"]],
        ],
        groups=[
            "Wild-type KRAS - FOLFOX + Panitumumab",
            "Wild-type KRAS - FOLFOX",
            "Mutant KRAS - FOLFOX + Panitumumab",
            "Mutant KRAS - FOLFOX",
        ],
        pair=("Wild-type KRAS - FOLFOX + Panitumumab", "Wild-type KRAS - FOLFOX"),
        links=(("FOLFOX + Panitumumab", "title_tokens"), ("FOLFOX", "title_tokens")),
        relation="subgroup_arms",
        kinds=("subgroup", "subgroup"),
        also=[("Mutant KRAS - FOLFOX", "Wild-type KRAS - FOLFOX", "same_arm")],
    ),
    # NCT01982448, outcome 0: biomarker subgroups of one labelled arm
    Case(
        "NCT01982448",
        arms=[
            ["Arm A: Cisplatin", "EXPERIMENTAL", ["Cisplatin"]],
            ["Arm B: Paclitaxel", "EXPERIMENTAL", ["Paclitaxel"]],
        ],
        groups=[
            "Arm A: Cisplatin With HRD+",
            "Arm A: Cisplatin With HRD-",
            "Arm B: Paclitaxel With HRD+",
            "Arm B: Paclitaxel With HRD-",
        ],
        pair=("Arm A: Cisplatin With HRD+", "Arm A: Cisplatin With HRD-"),
        links=(("Arm A: Cisplatin", "label"), ("Arm A: Cisplatin", "label")),
        relation="same_arm",
    ),
    # NCT02711553, outcome 0: a pooled placebo group
    Case(
        "NCT02711553",
        arms=[
            [
                "8 mg/kg Ramucirumab + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
                "EXPERIMENTAL",
                ["Ramucirumab", "Cisplatin", "Gemcitabine"],
            ],
            [
                "Placebo IV + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
                "PLACEBO_COMPARATOR",
                ["Cisplatin", "Gemcitabine", "Placebo IV"],
            ],
            [
                "80 mg Merestinib + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
                "EXPERIMENTAL",
                ["Merestinib", "Cisplatin", "Gemcitabine"],
            ],
            [
                "Placebo Oral + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
                "PLACEBO_COMPARATOR",
                ["Cisplatin", "Gemcitabine", "Placebo Oral"],
            ],
        ],
        groups=[
            "8 mg/kg Ramucirumab + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
            "80 mg Merestinib + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine",
            "Pooled Placebo",
        ],
        pair=("8 mg/kg Ramucirumab + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine", "Pooled Placebo"),
        links=(
            ("8 mg/kg Ramucirumab + 25 mg/m² Cisplatin + 1000 mg/m² Gemcitabine", "exact_title"),
            (None, "pooled"),
        ),
        relation="pooled_arms",
    ),
    # NCT00616967, outcome 3: responders pooled across arms
    Case(
        "NCT00616967",
        arms=[
            [
                "Arm I",
                "ACTIVE_COMPARATOR",
                [
                    "carboplatin",
                    "paclitaxel albumin-stabilized nanoparticle formulation",
                    "placebo",
                ],
            ],
            [
                "Arm II",
                "EXPERIMENTAL",
                [
                    "carboplatin",
                    "paclitaxel albumin-stabilized nanoparticle formulation",
                    "vorinostat",
                ],
            ],
        ],
        groups=["Responders", "Non-Responders"],
        pair=("Responders", "Non-Responders"),
        links=((None, "unmapped"), (None, "unmapped")),
        relation="responders",
    ),
    # NCT02157168, outcome 4: two time points; 'Intervention Group' is filler, so no arm
    Case(
        "NCT02157168",
        arms=[
            ["Control Group", "NO_INTERVENTION", []],
            ["Intervention Group", "OTHER", ["Community health worker"]],
        ],
        groups=[
            "Baseline: Intervention Group (IG1)",
            "6-Month Follow-up: Intervention Group (IG1)",
            "6-Month Follow-up: Control Group (CG)&Intervention Group (IG2)",
        ],
        pair=("Baseline: Intervention Group (IG1)", "6-Month Follow-up: Intervention Group (IG1)"),
        links=((None, "unmapped"), (None, "unmapped")),
        relation="time_points",
        kinds=("time_point", "time_point"),
    ),
    # NCT02521376, outcome 0: a healthy control group of one cohort against another cohort
    Case(
        "NCT02521376",
        arms=[
            ["Cohort 1 (Moderate Hepatic Impairment)", "EXPERIMENTAL", ["Entospletinib"]],
            ["Cohort 2 (Severe Hepatic Impairment)", "EXPERIMENTAL", ["Entospletinib"]],
            ["Cohort 3 (Mild Hepatic Impairment)", "EXPERIMENTAL", ["Entospletinib"]],
        ],
        groups=[
            "Cohort 1: Moderate Hepatic Impairment Smoking",
            "Cohort 1: Moderate Hepatic Impairment Non-smoking",
            "Cohort 1: Healthy Control Matched to Smoking",
            "Cohort 1: Healthy Control Matched to Non-smoking",
            "Cohort 2: Severe Hepatic Impairment",
            "Cohort 2: Healthy Control",
            "Cohort 3: Mild Hepatic Impairment",
            "Cohort 3: Healthy Control",
        ],
        pair=("Cohort 2: Healthy Control", "Cohort 3: Mild Hepatic Impairment"),
        links=(
            ("Cohort 2 (Severe Hepatic Impairment)", "label"),
            ("Cohort 3 (Mild Hepatic Impairment)", "exact_title"),
        ),
        relation="cases_controls",
        also=[
            (
                "Cohort 1: Moderate Hepatic Impairment Smoking",
                "Cohort 1: Healthy Control Matched to Smoking",
                "same_arm",
            ),
        ],
    ),
    # NCT00092521, outcome 0: label and words disagree (arm 3 is the HPV 16 vaccine, arm 2 the placebo)
    Case(
        "NCT00092521",
        arms=[
            ["1", "EXPERIMENTAL", ["V501"]],
            ["2", "PLACEBO_COMPARATOR", ["Comparator: Placebo"]],
            ["3", "EXPERIMENTAL", ["Human Papillomavirus (HPV) 16 Monovalent"]],
        ],
        groups=[
            "Group 1 - Base Study Quadrivalent Human Papillomavirus Vaccine",
            "Group 3 - Base Study Placebo",
        ],
        pair=(
            "Group 1 - Base Study Quadrivalent Human Papillomavirus Vaccine",
            "Group 3 - Base Study Placebo",
        ),
        links=((None, "conflict"), (None, "conflict")),
        relation="unmapped_group",
    ),
    # NCT00006392, outcome 0: factorial arms told apart by the short descriptions
    Case(
        "NCT00006392",
        arms=[
            [
                "Vitamin E + selenium placebo",
                "EXPERIMENTAL",
                ["Vitamin E", "selenium placebo"],
                "vitamin E and selenium placebo daily for 7-12 years",
            ],
            [
                "Selenium + vitamin E placebo",
                "EXPERIMENTAL",
                ["Selenium", "Vitamin E placebo"],
                "selenium and vitamin E placebo daily for 7-12 years",
            ],
            [
                "Vitamin E + selenium",
                "EXPERIMENTAL",
                ["Vitamin E", "Selenium"],
                "vitamin E and selenium placebo daily for 7-12 years",
            ],
            [
                "Vitamin E placebo + selenium placebo",
                "PLACEBO_COMPARATOR",
                ["Vitamin E placebo", "selenium placebo"],
                "vitamine E placebo and selenium placebo daily for 7-12 years",
            ],
        ],
        groups=[
            ["Vitamin E", "Vitamin E + matching placebo for selenium"],
            ["Selenium", "Selenium + matching placebo for vitamin E"],
            ["Combination", "Vitamin E + selenium"],
            ["Placebo", "Matching placebo for vitamin E + matching placebo for selenium"],
        ],
        pair=("Vitamin E", "Placebo"),
        links=(
            ("Vitamin E + selenium placebo", "description"),
            ("Vitamin E placebo + selenium placebo", "description"),
        ),
        relation="arms",
    ),
    # NCT00706121, outcome 4: factorial margins ('+/- selenium'): no single arm
    Case(
        "NCT00706121",
        arms=[
            [
                "Vitamin E + selenium placebo",
                "EXPERIMENTAL",
                ["Vitamin E", "selenium placebo"],
                "Vitamin E and selenium placebo daily for 7 - 12 years",
            ],
            [
                "Selenium + vitamin E placebo",
                "EXPERIMENTAL",
                ["Selenium", "Vitamin E placebo"],
                "Selenium and vitamin E placebo daily for 7 - 12 years",
            ],
            [
                "Vitamin E + selenium",
                "EXPERIMENTAL",
                ["Vitamin E", "Selenium"],
                "Vitamin E and selenium daily for 7 - 12 years",
            ],
            [
                "Vitamin E placebo + selenium placebo",
                "PLACEBO_COMPARATOR",
                ["Vitamin E placebo", "selenium placebo"],
                "Vitamin E placebo and selenium placebo daily for 7 - 12 years",
            ],
        ],
        groups=[
            ["Active Vitamin E", "Active vitamin E +/- selenium"],
            ["Vitamin E Placebo", "Vitamin E placebo +/- selenium"],
        ],
        pair=("Active Vitamin E", "Vitamin E Placebo"),
        links=((None, "ambiguous"), (None, "ambiguous")),
        relation="unmapped_group",
    ),
    # NCT00065182, outcome 0: the registry lists no arm
    Case(
        "NCT00065182",
        arms=[],
        groups=["IV Topotecan + IV Docetaxel", "IV Docetaxel"],
        pair=("IV Topotecan + IV Docetaxel", "IV Docetaxel"),
        links=((None, "no_arms"), (None, "no_arms")),
        relation="unmapped_group",
    ),
    # NCT00928434, outcome 0: 'Total Continuous' pools two arms
    Case(
        "NCT00928434",
        arms=[
            ["DI (Degarelix Intermittent)", "EXPERIMENTAL", ["Degarelix"]],
            ["DC (Degarelix Continuous)", "EXPERIMENTAL", ["Degarelix"]],
            ["LC (Leuprolide Continuous)", "ACTIVE_COMPARATOR", ["Leuprolide"]],
        ],
        groups=["DI (Degarelix Intermittent)", "Total Continuous"],
        pair=("DI (Degarelix Intermittent)", "Total Continuous"),
        links=(("DI (Degarelix Intermittent)", "exact_title"), (None, "pooled")),
        relation="pooled_arms",
    ),
    # NCT01478594, outcome 17: two different biomarker subgroups of two arms
    Case(
        "NCT01478594",
        arms=[
            ["Tivozanib + mFOLFOX6", "EXPERIMENTAL", ["Tivozanib", "mFOLFOX6"]],
            ["Bevacizumab + mFOLFOX6", "ACTIVE_COMPARATOR", ["Bevacizumab", "mFOLFOX6"]],
        ],
        groups=[
            "Tivozanib: VEGF-C RNA < Median",
            "Tivozanib: VEGF-C RNA ≥ Median",
            "Bevacizumab: VEGF-C RNA < Median",
            "Bevacizumab: VEGF-A RNA ≥ Median",
        ],
        pair=("Tivozanib: VEGF-C RNA ≥ Median", "Bevacizumab: VEGF-A RNA ≥ Median"),
        links=(("Tivozanib + mFOLFOX6", "title_tokens"), ("Bevacizumab + mFOLFOX6", "title_tokens")),
        relation="subgroups",
        also=[("Tivozanib: VEGF-C RNA < Median", "Bevacizumab: VEGF-C RNA < Median", "subgroup_arms")],
    ),
    # NCT02649439, outcome 6: 'A/' label; two time points of one arm
    Case(
        "NCT02649439",
        arms=[
            ["A/PROSTVAC treatment", "EXPERIMENTAL", ["PROSTVAC -V", "PROSTVAC-F"]],
            ["B/ Delayed PROSTVAC treatment", "EXPERIMENTAL", ["PROSTVAC -V", "PROSTVAC-F"]],
        ],
        groups=[
            "A/PROSTVAC Treatment Day 1",
            "A/PROSTVAC Treatment Day 29",
            "B/ Delayed PROSTVAC Treatment Day 1",
            "B/ Delayed PROSTVAC Treatment Day 29",
        ],
        pair=("A/PROSTVAC Treatment Day 1", "A/PROSTVAC Treatment Day 29"),
        links=(("A/PROSTVAC treatment", "label"), ("A/PROSTVAC treatment", "label")),
        relation="same_arm",
        also=[("A/PROSTVAC Treatment Day 29", "B/ Delayed PROSTVAC Treatment Day 29", "arms")],
    ),
    # NCT00296036, outcome 0: 'Placebo Cream' takes words from two interventions of arm II; the description: arm VI
    Case(
        "NCT00296036",
        arms=[
            [
                "Arm I (closed to accrual as of 10/24/2007)",
                "EXPERIMENTAL",
                ["pyridoxine hydrochloride", "urea/lactic acid-based topical cream"],
                (
                    "Patients receive topical urea/lactic acid-based cream applied to palms and soles "
                    "twice daily and oral pyridoxine once daily on days 1-21."
                ),
            ],
            [
                "Arm II (closed to accrual as of 10/24/2007)",
                "EXPERIMENTAL",
                ["urea/lactic acid-based topical cream", "placebo"],
                (
                    "Patients receive topical urea/lactic acid-based cream as in arm I (closed to "
                    "accrual as of 10/24/2007) and oral placebo once daily on days 1-21."
                ),
            ],
            [
                "Arm III (closed to accrual as of 10/24/2007)",
                "EXPERIMENTAL",
                ["pyridoxine hydrochloride", "placebo"],
                (
                    "Patients receive placebo cream applied to palms and soles twice daily and "
                    "pyridoxine as in arm I (closed to accrual as of 10/24/2007)."
                ),
            ],
            [
                "Arm IV (closed to accrual as of 10/24/2007)",
                "PLACEBO_COMPARATOR",
                ["placebo"],
                (
                    "Patients receive placebo cream as in arm III and oral placebo as in arm II "
                    "(closed to accrual as of 10/24/2007)."
                ),
            ],
            [
                "Arm V",
                "EXPERIMENTAL",
                ["urea/lactic acid-based topical cream"],
                (
                    "Patients receive topical urea/lactic acid-based cream applied to palms and soles "
                    "twice daily on days 1-21."
                ),
            ],
            [
                "Arm VI",
                "PLACEBO_COMPARATOR",
                ["placebo"],
                "Patients receive placebo cream applied to palms and soles twice daily on days 1-21.",
            ],
        ],
        groups=[
            [
                "Urea/Lactic Acid Cream",
                ("Patients receive topical urea/lactic acid-based cream applied to palms and soles twice daily."),
            ],
            [
                "Placebo Cream",
                "Patients receive placebo cream applied to palms and soles twice daily.",
            ],
        ],
        pair=("Urea/Lactic Acid Cream", "Placebo Cream"),
        links=(("Arm V", "description"), ("Arm VI", "description")),
        relation="arms",
    ),
    # NCT00567580, outcome 0: a misspelt title: fuzzy, same numbers
    Case(
        "NCT00567580",
        arms=[
            ["PBRT Alone", "ACTIVE_COMPARATOR", ["PBRT"]],
            ["PBRT + STAD", "EXPERIMENTAL", ["PBRT", "AA", "LHRH agonist"]],
            ["PLNRT + PBRT + STADT", "EXPERIMENTAL", ["PBRT", "PLNRT", "AA", "LHRH agonist"]],
        ],
        groups=["PBRT Alone", "PBRT + STAD", "PLNRT + PBRT + STAD"],
        pair=("PBRT Alone", "PLNRT + PBRT + STAD"),
        links=(("PBRT Alone", "exact_title"), ("PLNRT + PBRT + STADT", "fuzzy_title")),
        relation="arms",
    ),
    # NCT01156142, outcome 0: crossover sequences are protocol arms
    Case(
        "NCT01156142",
        arms=[
            ["Arm I", "EXPERIMENTAL", ["doxepin hydrochloride"]],
            ["Arm II", "PLACEBO_COMPARATOR", ["placebo"]],
        ],
        groups=["Arm I (Doxepin-Placebo)", "Arm II (Placebo-Doxepin)"],
        pair=("Arm I (Doxepin-Placebo)", "Arm II (Placebo-Doxepin)"),
        links=(("Arm I", "label"), ("Arm II", "label")),
        relation="arms",
    ),
    # NCT01847274, outcome 0: both arms within the gBRCA cohort
    Case(
        "NCT01847274",
        arms=[
            ["Niraparib", "ACTIVE_COMPARATOR", ["Active comparator: Niraparib"]],
            ["Placebo", "PLACEBO_COMPARATOR", ["placebo"]],
        ],
        groups=["gBRCA Niraparib", "gBRCA Placebo"],
        pair=("gBRCA Niraparib", "gBRCA Placebo"),
        links=(("Niraparib", "title_tokens"), ("Placebo", "title_tokens")),
        relation="subgroup_arms",
    ),
    # NCT01235962, outcome 14: 'ITT All' is the analysis population, not a subgroup
    Case(
        "NCT01235962",
        arms=[
            ["pazopanib", "EXPERIMENTAL", ["pazopanib", "pazopanib"]],
            ["placebo", "PLACEBO_COMPARATOR", ["placebo", "placebo"]],
        ],
        groups=["ITT All - Pazopanib", "ITT All - Placebo"],
        pair=("ITT All - Pazopanib", "ITT All - Placebo"),
        links=(("pazopanib", "title_tokens"), ("placebo", "title_tokens")),
        relation="arms",
        kinds=("arm", "arm"),
    ),
    # NCT02278120, outcome 0: 'LEE011 placebo' is a placebo, not LEE011
    Case(
        "NCT02278120",
        arms=[
            [
                "Ribociclib (LEE011) + NSAI/tamoxifen + goserelin",
                "EXPERIMENTAL",
                ["LEE011", "Tamoxifen", "Letrozole", "Anastrozole", "Goserelin"],
            ],
            [
                "LEE011 placebo+NSAI/tamoxifen+goserelin",
                "PLACEBO_COMPARATOR",
                ["Tamoxifen", "Letrozole", "Anastrozole", "Goserelin", "LEE011 Placebo"],
            ],
        ],
        groups=["LEE011 + NSAI/Tamoxifen + Goserelin", "LEE011 Placebo + NSAI/Tamoxifen+ Goserelin"],
        pair=("LEE011 + NSAI/Tamoxifen + Goserelin", "LEE011 Placebo + NSAI/Tamoxifen+ Goserelin"),
        links=(
            ("Ribociclib (LEE011) + NSAI/tamoxifen + goserelin", "title_tokens"),
            ("LEE011 placebo+NSAI/tamoxifen+goserelin", "exact_title"),
        ),
        relation="arms",
    ),
    # NCT00089674, outcome 0: denosumab is AMG 162: elimination
    Case(
        "NCT00089674",
        arms=[["AMG 162", "EXPERIMENTAL", ["AMG 162"]], ["Placebo", "PLACEBO_COMPARATOR", ["Placebo"]]],
        groups=["Placebo", "Denosumab 60 mg Q6M"],
        pair=("Placebo", "Denosumab 60 mg Q6M"),
        links=(("Placebo", "exact_title"), ("AMG 162", "elimination")),
        relation="arms",
    ),
    # NCT00265941, outcome 10: biomarker subgroups across arms
    Case(
        "NCT00265941",
        arms=[
            [
                "RT + cisplatin",
                "ACTIVE_COMPARATOR",
                [
                    "cisplatin",
                    "Accelerated Fractionation by Concomitant Boost",
                    "Intensity-modulated radiation therapy",
                ],
            ],
            [
                "RT + cisplatin + cetuximab",
                "EXPERIMENTAL",
                [
                    "cetuximab",
                    "cisplatin",
                    "Accelerated Fractionation by Concomitant Boost",
                    "Intensity-modulated radiation therapy",
                ],
            ],
        ],
        groups=["Low EGFR", "High EGFR"],
        pair=("Low EGFR", "High EGFR"),
        links=((None, "unmapped"), (None, "unmapped")),
        relation="subgroups",
    ),
    # clinifact/NCT00923559, outcome 0: curated source: its arms differ only in spacing; the exact string decides
    Case(
        "clinifact/NCT00923559",
        arms=[
            ["Mother-infant Psychoanalytic Treatment; MIP", "EXPERIMENTAL", []],
            ["Treatment as Usual at Child Health Centres", "ACTIVE_COMPARATOR", []],
            ["Mother-Infant Psychoanalytic Treatment;MIP", "EXPERIMENTAL", []],
            ["Treatment as Usual at Child Health Centre", "ACTIVE_COMPARATOR", []],
        ],
        groups=[
            "Mother-infant Psychoanalytic Treatment; MIP",
            "Treatment as Usual at Child Health Centres",
        ],
        pair=(
            "Mother-infant Psychoanalytic Treatment; MIP",
            "Treatment as Usual at Child Health Centres",
        ),
        links=(
            ("Mother-infant Psychoanalytic Treatment; MIP", "exact_title"),
            ("Treatment as Usual at Child Health Centres", "exact_title"),
        ),
        relation="arms",
    ),
    # NCT00343382, outcome 0: '4 Times Per Day' is arm I's schedule (its description); placebo arms pooled
    Case(
        "NCT00343382",
        arms=[
            [
                "Arm I",
                "EXPERIMENTAL",
                ["pilocarpine hydrochloride"],
                (
                    "Patients receive oral pilocarpine hydrochloride once a day for 3 days, twice a "
                    "day for 3 days, three times a day for 3 days, and then 4 times a day for up to 6 "
                    "weeks in the absence of unacceptable toxicity."
                ),
            ],
            [
                "Arm II",
                "EXPERIMENTAL",
                ["pilocarpine hydrochloride"],
                (
                    "Patients receive oral pilocarpine hydrochloride once a day for 3 days and then "
                    "twice a day for up to 6 weeks in the absence of unacceptable toxicity."
                ),
            ],
            [
                "Arm III",
                "PLACEBO_COMPARATOR",
                ["placebo"],
                (
                    "Patients receive oral placebo once a day for 3 days, twice a day for 3 days, "
                    "three times a day for 3 days, and then 4 times a day for up to 6 weeks in the "
                    "absence of unacceptable toxicity."
                ),
            ],
            [
                "Arm IV",
                "PLACEBO_COMPARATOR",
                ["placebo"],
                (
                    "Patients receive oral placebo once a day for 3 days and then twice a day for up "
                    "to 6 weeks in the absence of unacceptable toxicity."
                ),
            ],
        ],
        groups=[
            [
                "Collective Placebo",
                (
                    "Patients receive 1 capsule of placebo 2 times per day for 6 weeks and; patients "
                    "receive 1 capsule of placebo 4 times per day for 6 weeks."
                ),
            ],
            [
                "Pilocarpine 2 Times Per Day",
                "Patients receive 5mg of Pilocarpine 2 times per day for 6 weeks.",
            ],
            [
                "Pilocarpine 4 Times Per Day",
                "Patients receive 5mg of Pilocarpine 4 times per day for 6 weeks.",
            ],
        ],
        pair=("Collective Placebo", "Pilocarpine 4 Times Per Day"),
        links=((None, "pooled"), ("Arm I", "interventions")),
        relation="pooled_arms",
    ),
    # NCT01138124, outcome 0: cases and controls of one observational cohort
    Case(
        "NCT01138124",
        arms=[["UK GPRD 1993-2008", None, ["Gabapentin prescriptions"]]],
        groups=["Cases", "Controls"],
        pair=("Cases", "Controls"),
        links=(("UK GPRD 1993-2008", "single_arm_trial"), ("UK GPRD 1993-2008", "single_arm_trial")),
        relation="same_arm",
        kinds=("case_control", "case_control"),
    ),
    # NCT01373164, outcome 1: 'Phase 2' narrows to two arms, the words to one
    Case(
        "NCT01373164",
        arms=[
            [
                "Phase 1b: 80 mg Galunisertib + Gemcitabine",
                "EXPERIMENTAL",
                ["Galunisertib", "Gemcitabine"],
            ],
            [
                "Phase 1b: 160 mg Galunisertib + Gemcitabine",
                "EXPERIMENTAL",
                ["Galunisertib", "Gemcitabine"],
            ],
            [
                "Phase 1b: 300 mg Galunisertib + Gemcitabine",
                "EXPERIMENTAL",
                ["Galunisertib", "Gemcitabine"],
            ],
            [
                "Phase 2: Recommended dose of Galunisertib + Gemcitabine",
                "EXPERIMENTAL",
                ["Galunisertib", "Gemcitabine"],
            ],
            ["Phase 2: Placebo + Gemcitabine", "EXPERIMENTAL", ["Gemcitabine", "Placebo"]],
        ],
        groups=["Phase 2: 300 mg Galunisertib + Gemcitabine", "Phase 2: Placebo + Gemcitabine"],
        pair=("Phase 2: 300 mg Galunisertib + Gemcitabine", "Phase 2: Placebo + Gemcitabine"),
        links=(
            ("Phase 2: Recommended dose of Galunisertib + Gemcitabine", "title_tokens"),
            ("Phase 2: Placebo + Gemcitabine", "exact_title"),
        ),
        relation="arms",
    ),
]


def _link(case: Case):
    arms, groups, ivs = case.rows()
    links = link_outcome_groups(groups, arms, ivs)
    by_title = {g["title"]: g for g in groups}
    arm_title = {a["group_id"]: a["title"] for a in arms}
    return links, by_title, arm_title


@pytest.mark.parametrize("case", CASES, ids=[f"{c.nct}:{c.pair[0][:30]}" for c in CASES])
def test_real_cases(case):
    links, by_title, arm_title = _link(case)
    got = []
    for title in case.pair:
        lk = links[by_title[title]["group_id"]]
        got.append((arm_title.get(lk.arm_id), lk.rule))
    assert tuple(got) == tuple(tuple(x) for x in case.links)
    ga, gb = (by_title[t] for t in case.pair)
    la, lb = links[ga["group_id"]], links[gb["group_id"]]
    assert pair_relation(ga, gb, la, lb) == case.relation
    assert pair_relation(gb, ga, lb, la) == case.relation  # symmetric
    if case.kinds is not None:
        assert (la.kind, lb.kind) == case.kinds
    for ta, tb, relation in case.also:
        ga, gb = by_title[ta], by_title[tb]
        assert pair_relation(ga, gb, links[ga["group_id"]], links[gb["group_id"]]) == relation, (ta, tb)


def test_cases_cover_every_rule_and_relation():
    rules = {r for c in CASES for _, r in c.links}
    assert rules == set(RULES), set(RULES) - rules
    relations = {c.relation for c in CASES} | {r for c in CASES for *_, r in c.also}
    assert relations == set(RELATIONS)
    assert len(CASES) >= 30


def test_prepared_arms_and_lists_agree():
    """A :class:`TrialArms` parsed once gives what the lists give."""
    for case in CASES:
        arms, groups, ivs = case.rows()
        assert link_outcome_groups(groups, prepare_arms(arms, ivs)) == link_outcome_groups(groups, arms, ivs)


def test_pair_relation_reads_only_the_links():
    a, b = ArmLink("g1", "A0", "label"), ArmLink("g2", "A1", "title_tokens")
    assert pair_relation({}, {}, a, b) == "arms"
    assert pair_relation({}, {}, a, ArmLink("g2", "A0", "label")) == "same_arm"
    assert pair_relation({}, {}, a, ArmLink("g2", None, "unmapped")) == "unmapped_group"
    assert pair_relation({}, {}, a, ArmLink("g2", None, "pooled", "pooled")) == "pooled_arms"
    t1, t2 = ArmLink("g1", "A0", "label", "time_point", "29"), ArmLink("g2", "A1", "label", "time_point", "29")
    assert pair_relation({}, {}, t1, t2) == "arms"  # one time point of two arms
    assert pair_relation({}, {}, t1, ArmLink("g2", "A1", "label", "time_point", "1")) == "time_points"


def test_empty_and_missing_fields():
    assert link_outcome_groups([], []) == {}
    links = link_outcome_groups([{"group_id": "g", "title": None}], [{"group_id": "A0", "title": "Arm 1"}])
    assert links["g"].arm_id == "A0" and links["g"].rule == "single_arm_trial"
    links = link_outcome_groups([{"group_id": "g", "title": "Placebo"}], [])
    assert (links["g"].arm_id, links["g"].rule) == (None, "no_arms")


# ---------------------------------------------------------------------------------------------------------------
# the whole embedded corpus
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_links():
    from deepimagine_data import pipeline

    tables, _ = pipeline.corpus()
    source = {r["trial_id"]: r["source"] for r in tables["trials"].select(["trial_id", "source"]).to_pylist()}
    protocol, outcomes = defaultdict(list), defaultdict(list)
    for r in tables["arms"].to_pylist():
        if r["group_type"] == "arm":
            protocol[r["trial_id"]].append(r)
        else:
            outcomes[r["outcome_id"]].append(r)
    interventions = defaultdict(list)
    for r in tables["interventions"].to_pylist():
        interventions[r["trial_id"]].append(r)
    links, groups = {}, {}
    for rows in outcomes.values():
        tid = rows[0]["trial_id"]
        links.update(link_outcome_groups(rows, protocol[tid], interventions[tid]))
        groups.update((r["group_id"], r) for r in rows)
    analyses = tables["analyses"].select(["trial_id", "group_ids"]).to_pylist()
    return source, protocol, outcomes, links, groups, analyses


def test_corpus_links_are_well_formed(corpus_links):
    _, _, outcomes, links, groups, _ = corpus_links
    assert set(links) == set(groups)
    for lk in links.values():
        assert lk.rule in RULES and lk.kind in KINDS
        assert (lk.arm_id is None) == (lk.rule in {"unmapped", "ambiguous", "conflict", "pooled", "no_arms"})


def test_curated_sources_map_by_exact_title(corpus_links):
    source, _, _, links, groups, _ = corpus_links
    curated = [g for g in groups.values() if source[g["trial_id"]] in CURATED]
    assert curated
    assert Counter(links[g["group_id"]].rule for g in curated) == Counter({"exact_title": len(curated)})


def test_one_arm_per_group_unless_parts_of_it(corpus_links):
    _, protocol, outcomes, links, _, _ = corpus_links
    for rows in outcomes.values():
        arms = {a["group_id"] for a in protocol[rows[0]["trial_id"]]}
        for ga, gb in itertools.combinations(rows, 2):
            la, lb = links[ga["group_id"]], links[gb["group_id"]]
            assert la.arm_id is None or la.arm_id in arms
            if la.arm_id is not None and la.arm_id == lb.arm_id:
                assert pair_relation(ga, gb, la, lb) == "same_arm"


def test_two_group_analyses(corpus_links):
    source, protocol, _, links, groups, analyses = corpus_links
    relations = Counter()
    for an in analyses:
        if len(an["group_ids"]) != 2:
            continue
        ga, gb = (groups[g] for g in an["group_ids"])
        relation = pair_relation(ga, gb, links[ga["group_id"]], links[gb["group_id"]])
        assert relation in RELATIONS
        if len(protocol[an["trial_id"]]) <= 1:
            assert relation != "arms"  # a one-arm trial never compares two arms
        relations[relation] += 1
    # most two-group analyses compare two arms (7,485 of 9,478 when this was written; 5,448 before the module)
    assert relations["arms"] > 0.7 * sum(relations.values())
    assert {"same_arm", "pooled_arms", "subgroups", "unmapped_group"} <= set(relations)
