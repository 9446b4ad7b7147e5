"""What every column of the published tables means, declared once beside the schemas.

The schemas themselves live where the rows are made (:mod:`deepimagine_data.schema` for the six trial tables,
:mod:`deepimagine_data.pairs.strict` and :mod:`deepimagine_data.pairs.approx` for the pairs,
:mod:`deepimagine_data.question_rows` for the benchmark questions); the cards' Dataset Structure sections read the
descriptions from here, and ``tests/test_cards.py`` fails when a published column has none (or a description names
a column no table has), so a new column cannot ship undescribed.

>>> describe("analyses", "p_value_modifier")
'the modifier posted before the p-value: `<`, `<=`, `=`, `>`, `>=`, or null'
>>> describe("pairs", "a_title").startswith("side `a` (the reference arm)")
True
"""

from __future__ import annotations

import pyarrow as pa

# A name that means the same in every table that has it.
COMMON: dict[str, str] = {
    # ids and provenance
    "trial_id": "the trial's id, unique in a build: the NCT id for registry sources, `<source>/<native id>` for "
    "curated sources not keyed by one",
    "nct_id": "the ClinicalTrials.gov NCT id, where the source states it (null for curated trials without one)",
    "source": "the source reader the row came from: `aact`, `ctgov_api_v2`, `clinifact`, `dose_response`, "
    "`llm_meta_analysis`",
    "source_version": "the version of the source data read: a repository commit, or the SHA-256 fingerprint of an "
    "input's files",
    "license": "the license of the row's source data (see the card's License section)",
    "outcome_id": "the outcome measure's id, `<trial_id>:O<index>`",
    "analysis_id": "the posted analysis' id, `<outcome_id>:S<index>` (null where no analysis was posted)",
    "results_first_posted_date": "the date the trial's results were first posted on ClinicalTrials.gov (null for "
    "curated sources that give none); the temporal splits are cut on it",
    "brief_title": "the trial's brief title",
    "phase": "the trial phase, normalized (`PHASE1`, `PHASE1/PHASE2`, `PHASE2`, `PHASE3`, `PHASE4`, "
    "`EARLY_PHASE1`, `NA`)",
    "conditions": "the conditions the trial studies, as registered",
    "unit_of_measure": "the unit the outcome is measured in, as posted",
    "param_type": "the kind of value posted (`MEAN`, `MEDIAN`, `NUMBER`, `COUNT_OF_PARTICIPANTS`, "
    "`LEAST_SQUARES_MEAN`, ...)",
    "dose_value": "the dose parsed from the text (number), null where none is stated",
    "dose_unit": "the parsed dose's unit (`mg`, `mg/kg`, `mg/m2`, ...)",
    "dose_frequency": "the parsed dosing frequency (`QD`, `BID`, `QW`, `Q3W`, ...)",
    "dose_route": "the parsed route of administration",
    "dose_text": "the span of text the dose was parsed from",
    "statistical_method": "the statistical method as posted (e.g. `Log Rank`, `Cochran-Mantel-Haenszel`)",
    "estimate_type": "the type of the posted estimate (e.g. `Hazard Ratio (HR)`, `Risk Difference (RD)`)",
    "estimate_value": "the posted estimate's value",
    "ci_percent": "the level of the posted confidence interval, in percent",
    "ci_sides": "the posted interval's sides: `TWO_SIDED` or `ONE_SIDED`",
    "ci_lower": "the posted confidence interval's lower limit",
    "ci_upper": "the posted confidence interval's upper limit",
    "p_value": "the posted p-value, parsed (a posted `<0.001` is 0.001 with modifier `<`)",
    "p_value_modifier": "the modifier posted before the p-value: `<`, `<=`, `=`, `>`, `>=`, or null",
    "p_value_raw": "the p-value exactly as posted",
    "non_inferiority_type": "the analysis type as posted: `SUPERIORITY`, `NON_INFERIORITY`, `EQUIVALENCE`, "
    "`OTHER`, or a legacy combined value",
    # the outcome a pair or question is about
    "outcome_title": "the outcome measure's title",
    "outcome_type": "the outcome's type: `PRIMARY`, `SECONDARY`, `OTHER_PRE_SPECIFIED`, `POST_HOC`",
    "outcome_time_frame": "the outcome's time frame, as posted",
    "outcome_description": "the outcome measure's description",
    "outcome_population": "the analysis population the outcome was measured in, as posted",
    # a labelled comparison (pairs and questions)
    "comparison_id": "the comparison's id, `<outcome_id>:<code of a>|<code of b>`: arm `b` compared with arm `a` on "
    "one outcome",
    "label_version": "the label rules the label was computed with (`labels-v2`)",
    "roles_source": "how side `a` (the reference) was chosen: `arm_type` (a comparator arm type), `title` (a "
    "control-like title), `estimate_text` (a posted text names the reference), `dose_*` (the lower dose), or "
    "`listed_order` only",
    "dose_match": "why the two arms are two doses of one intervention: `interventions`, `title`, `frequency`, "
    "`zero` (a placebo coded as dose 0); null for other pairs",
    "group_relation": "`arms` (each result group is linked to a different protocol arm) or `same_arm` (two dose "
    "cohorts of one protocol arm, `strict_dose` only)",
    "n_posted_analyses": "how many posted analyses compare these two groups on this outcome (their answers agree)",
    "is_non_inferiority": "true where the analysis is a non-inferiority or equivalence analysis (answered by "
    "`ni_result`, not by significance)",
    "p_value_sides": "1 or 2: the p-value's sides, as a posted text states (else 2)",
    "p_value_sides_source": "which field of the analysis stated the sides (`default`: none did)",
    "alpha": "the significance level the p-value is judged against: the analysis' own, else 0.05",
    "alpha_source": "which field of the analysis stated the alpha (`default`: none did, 0.05)",
    "alpha_sides": "1 or 2: the alpha's sides",
    "p_ci_check": "whether the posted p-value and confidence interval agree: `agree`, or `not_checkable` (only "
    "one of them, or no null to compare); rows where they disagree are not published",
    "ni_margin_lower": "the non-inferiority/equivalence margin's lower bound, read from the posted text, on the "
    "estimate's scale",
    "ni_margin_upper": "the margin's upper bound, read from the posted text, on the estimate's scale",
    "ni_margin_text": "the posted text the margin was read from",
    "ni_result": "for a non-inferiority/equivalence analysis: `shown` or `not_shown` (its CI against the margin)",
    "reference_text": "the posted text that names the estimate's reference group (or says which arm is favoured)",
    "computed_test": "the test the package computed from per-arm values where no analysis is posted: "
    "`fisher_exact` (counts) or `welch_t` (means)",
    "computed_p_value": "the p-value of `computed_test`",
    "change": "the difference of `b` from `a` computed from per-arm values (risk or mean difference)",
    "change_kind": "`risk_difference` or `mean_difference`",
    "significance": "the label: `significant`, `not_significant` or `unknown` at `alpha`",
    "significance_source": "what decided it: `posted_p_value`, `posted_ci`, `posted_margin` or `computed_test`",
    "label_note": "why a label is qualified or unknown (e.g. `p_zero_without_modifier`, `one_sided_p_other_direction`)",
    "direction": "whether arm `b`'s value is `higher`, `lower` or `equal` to arm `a`'s, or `unknown`",
    "direction_source": "what gave the direction: `per_arm_values`, `estimate_with_reference`, "
    "`estimate_favour_statement`, `one_sided_superiority_test`, or `conflicting_texts` (then unknown)",
    "polarity": "whether a higher value of the outcome is better: `higher_is_better`, `lower_is_better`, `unknown`",
    "polarity_rule": "the rule that gave the polarity (e.g. `response`, `time_to(progression)`)",
    "benefit_polarity": "the polarity on the estimate's scale (a hazard ratio flips it for times to an event)",
    "benefit": "whether arm `b` did `better`, `worse` or showed `no_difference` against arm `a`, or `unknown`",
    "decision3": "the 3-way answer: `compared_better`, `compared_worse`, `no_significant_difference`, `unknown`",
    "superiority": "whether `b` showed a significant improvement over `a`: `met`, `not_met`, `unknown`",
    # text and question
    "question_type": "the question asked: `difference_2way`, `comparative_3way`, `non_inferiority_2way`, "
    "`superiority_2way` or `endpoint_2way`",
    "options": "the answer options, in order (`answer_index` points into them)",
    "answer_index": "the index of the true option in `options`",
    "rationale": "the target's posted evidence in words (for checking, never in the prompt or completion)",
    "prompt": "the model's input (TRL prompt-completion format); asks for a final line `DECISION: (p1, p2[, p3])`",
    "completion": "a template reasoning from the prompt's facts, ending with the decision line",
    "messages": "the same text as a conversation (`role`, `content`): the user turn, then the assistant's answer",
    "target_rule": "the rule that turned the answer into the decision line's probabilities (e.g. `smooth:0.2`)",
    "template_version": "the version of the prompt template",
    "template_sha256": "the SHA-256 of the prompt template's text",
    # anchors (strict_outcome: another outcome of the same trial; approx, pathways: an earlier similar trial)
    "anchor_outcome_id": "the anchor comparison's outcome (`strict_outcome`: another outcome of the same trial)",
    "anchor_outcome_title": "the anchor outcome's title",
    "anchor_comparison_id": "the anchor comparison's id",
    "anchor_analysis_id": "the anchor's posted analysis",
    "anchor_p_value": "the anchor's posted p-value",
    "anchor_p_value_modifier": "the anchor p-value's modifier",
    "anchor_alpha": "the alpha the anchor was judged at",
    "anchor_significance": "the anchor's significance label",
    "anchor_significance_source": "what decided the anchor's significance",
    "anchor_benefit": "the anchor's benefit label",
    "anchor_direction": "the anchor's direction label",
    "anchor_result": "the anchor's posted result in words (shown in the prompt)",
    "anchor_trial_id": "the anchor trial (an earlier, similar trial of the same split)",
    "anchor_nct_id": "the anchor trial's NCT id",
    "anchor_source": "the anchor trial's source",
    "anchor_results_first_posted_date": "the anchor's results-first-posted date (always before the target's)",
    "anchor_brief_title": "the anchor trial's brief title",
    "anchor_phase": "the anchor trial's phase",
    "anchor_conditions": "the anchor trial's conditions",
    "anchor_a_title": "the anchor comparison's reference arm",
    "anchor_b_title": "the anchor comparison's compared arm",
    "anchor_param_type": "the kind of value the anchor outcome posts",
    "target_nct_id": "the target trial's NCT id",
    "changed_factors": "the factors that differ from anchor to target (`intervention`, `dose`, `outcome`, "
    "`population`, `geography`, `phase`, `design`)",
    "unknown_factors": "the factors the records cannot compare (e.g. a source that states no countries)",
    "factor_details": "one entry per factor: `factor`, `verdict` (changed, same, unknown) and `detail` "
    "(anchor -> target)",
    "similarity": "the cosine similarity of the two trials' text views",
    "outcome_similarity": "the similarity of the anchor's outcome to the target's",
    "retrieval_rank": "the anchor trial's rank among the target's neighbours by similarity alone",
    "anchor_rank": "the anchor's rank after the factor rule (fewest factors not known equal, then fewest changed)",
    "retrieval_model": "the sentence-embedding model of the retrieval",
    "retrieval_model_revision": "the embedding model's revision",
    "text_version": "the version of the trial text view that was embedded",
    "order": "the order the changed factors are stepped through",
    "n_steps": "the number of steps",
    "steps": "one struct per changed factor in `order`: `step`, `factor`, `detail`, `verifiable` (only the last step "
    "reaches the target and has its label) and a local counterfactual `prompt`",
    # questions
    "arms": "the protocol arms the prompt lists: `title`, `description`, `arm_type`, `interventions`",
    "category": "CT Open's category: `2-way explicit`, `3-way explicit` or `2-way implicit`",
    "meta_label": "CT Open's meta label: `single_arm`, `distinguishable_arm`, `no_arm`, `no_distinguishable_arm`",
    "arms_mode": "`explicit` (options name two arms) or `implicit` (whether the endpoint was met)",
    "question": "the question line of the prompt",
    "answer": "the text of the true option",
    "listed_arms": "implicit questions: the arms the question is about",
    "listed_comparison_ids": "implicit questions: their comparisons with the comparator arm",
    "listed_results": "implicit questions: each comparison's result (`met`, `not_met`)",
    # pairs
    "pair_id": "the pair's id: `<config>:<comparison_id>`; an `approx` id adds `<` and the anchor's comparison_id",
    "pathway_id": "the pathway's id: the target comparison and the anchor comparison",
    "question_id": "the question's id (accepted by `deepimagine score`)",
    "kind": "the config the row belongs to",
    "changed_factor": "the one factor that changes inside the trial: `arm`, `dose` or `outcome`",
}

# Side `a` (the reference arm) and side `b` (the compared arm) of a comparison share these columns.
_SIDE = {
    "group_id": "result group id (`<outcome_id>:<code>`)",
    "title": "result group title, as posted",
    "description": "result group description (else its protocol arm's)",
    "arm_id": "linked protocol arm id (`<trial_id>:A<index>`)",
    "arm_title": "linked protocol arm's title (what the prompt lists)",
    "arm_type": "protocol arm type (`EXPERIMENTAL`, `ACTIVE_COMPARATOR`, `PLACEBO_COMPARATOR`, ...)",
    "interventions": "the arm's interventions",
    "dose_value": "parsed dose",
    "dose_unit": "parsed dose unit",
    "dose_text": "the text the dose was parsed from",
    "dose_frequency": "parsed dosing frequency",
    "value": "per-arm value of the outcome, where posted (AACT posts none)",
    "n": "per-arm number analysed",
    "spread": "per-arm dispersion value",
    "dispersion_type": "per-arm dispersion type (`STANDARD_DEVIATION`, `STANDARD_ERROR`, ...)",
}
_WHO = {"a": "side `a` (the reference arm)", "b": "side `b` (the compared arm)"}
COMMON.update({f"{s}_{k}": f"{_WHO[s]}: {v}" for s in _WHO for k, v in _SIDE.items()})

# Names that mean something else in one table than elsewhere (the six trial tables reuse short names).
BY_TABLE: dict[str, dict[str, str]] = {
    "trials": {
        "official_title": "the official title",
        "acronym": "the trial's acronym",
        "overall_status": "the recruitment status, normalized (e.g. `COMPLETED`, `TERMINATED`)",
        "overall_status_raw": "the status as the source states it",
        "study_type": "`INTERVENTIONAL` or `OBSERVATIONAL`, normalized",
        "study_type_raw": "the study type as the source states it",
        "phases": "every phase the trial registers",
        "phase_raw": "the phase as the source states it",
        "keywords": "registered keywords",
        "mesh_conditions": "MeSH terms of the conditions",
        "mesh_interventions": "MeSH terms of the interventions",
        "countries": "countries with sites (empty where the source states none)",
        "enrollment": "the number of participants enrolled",
        "enrollment_raw": "the enrollment as stated",
        "enrollment_type": "`ACTUAL` or `ESTIMATED`",
        "allocation": "`RANDOMIZED`, `NON_RANDOMIZED` or `NA`, normalized",
        "allocation_raw": "the allocation as stated",
        "intervention_model": "e.g. `PARALLEL`, `SINGLE_GROUP`, `CROSSOVER`, normalized",
        "intervention_model_raw": "the intervention model as stated",
        "primary_purpose": "e.g. `TREATMENT`, `PREVENTION`, normalized",
        "primary_purpose_raw": "the primary purpose as stated",
        "masking": "e.g. `NONE`, `DOUBLE`, `QUADRUPLE`, normalized",
        "masking_raw": "the masking as stated",
        "eligibility_criteria": "the eligibility text (null where the source has none)",
        "sex": "the sexes eligible",
        "minimum_age": "the minimum age, as stated",
        "maximum_age": "the maximum age, as stated",
        "healthy_volunteers": "whether healthy volunteers are accepted",
        "lead_sponsor": "the lead sponsor's name",
        "sponsor_class": "the lead sponsor's class (e.g. `INDUSTRY`, `NIH`, `OTHER`)",
        "start_date": "the study start date, parsed",
        "start_date_raw": "the start date as stated",
        "primary_completion_date": "the primary completion date, parsed",
        "primary_completion_date_raw": "the primary completion date as stated",
        "completion_date": "the study completion date, parsed",
        "completion_date_raw": "the completion date as stated",
        "results_first_posted_date_raw": "the results-first-posted date as stated",
        "has_results": "whether the trial has posted results",
    },
    "arms": {
        "group_id": "`<trial_id>:A<index>` for a protocol arm, `<outcome_id>:<code>` for a result group",
        "group_type": "`arm` (a protocol arm group) or `outcome` (a result group of one outcome)",
        "code": "the result group's code in its outcome (`OG000`, ...); null for protocol arms",
        "title": "the group's title",
        "description": "the group's description",
        "arm_type": "the protocol arm type, normalized (`EXPERIMENTAL`, `ACTIVE_COMPARATOR`, ...)",
        "arm_type_raw": "the arm type as stated",
        "intervention_names": "the interventions the arm gives",
    },
    "interventions": {
        "intervention_id": "`<trial_id>:I<index>`",
        "type": "the intervention type, normalized (`DRUG`, `BIOLOGICAL`, `PROCEDURE`, ...)",
        "type_raw": "the type as stated",
        "name": "the intervention's name as registered",
        "normalized_name": "the name normalized across sources (spelling variants merged)",
        "other_names": "other names registered",
        "description": "the intervention's description",
        "arm_labels": "the titles of the arms that give it",
    },
    "outcomes": {
        "outcome_index": "the outcome's position in the source",
        "outcome_type": "`PRIMARY`, `SECONDARY`, `OTHER_PRE_SPECIFIED`, `POST_HOC`",
        "outcome_type_raw": "the outcome type as stated",
        "title": "the outcome measure's title",
        "description": "the outcome measure's description",
        "time_frame": "the time frame, as stated",
        "population_description": "the analysis population, as stated",
        "param_type_raw": "the parameter type as stated",
        "dispersion_type": "the dispersion posted with the values, normalized",
        "dispersion_type_raw": "the dispersion type as stated",
        "reporting_status": "whether the outcome's results are posted",
        "n_groups": "the number of result groups",
        "n_measurements": "the number of measurement rows",
        "n_analyses": "the number of posted analyses",
    },
    "measurements": {
        "measurement_id": "`<outcome_id>:M<index>`",
        "group_id": "the result group the value belongs to",
        "group_code": "the result group's code",
        "group_title": "the result group's title",
        "class_title": "the class (e.g. a subgroup or time point) the value is in, as posted",
        "category_title": "the category (e.g. a response level) the value is in, as posted",
        "value": "the value, parsed",
        "value_modifier": "a modifier posted with the value",
        "value_raw": "the value as posted",
        "dispersion_type": "the dispersion type (`STANDARD_DEVIATION`, ...)",
        "dispersion_ci_percent": "the level where the dispersion is a confidence interval",
        "spread": "the dispersion value, parsed",
        "spread_raw": "the dispersion as posted",
        "lower_limit": "the lower limit (of an interval or range), parsed",
        "lower_limit_raw": "the lower limit as posted",
        "upper_limit": "the upper limit, parsed",
        "upper_limit_raw": "the upper limit as posted",
        "n": "the number analysed, parsed",
        "n_raw": "the number analysed as posted",
        "n_units": "the unit analysed where not participants (e.g. lesions)",
        "comment": "a comment posted with the value",
    },
    "analyses": {
        "analysis_index": "the analysis' position in its outcome",
        "group_codes": "the codes of the result groups compared",
        "group_ids": "the ids of the result groups compared",
        "group_description": "the posted description of the comparison",
        "non_inferiority_type_raw": "the analysis type as stated",
        "non_inferiority_comment": "the posted comment on the non-inferiority/equivalence test (often the margin)",
        "p_value_comment": "the posted comment on the p-value",
        "statistical_comment": "the posted comment on the method",
        "estimate_value_raw": "the estimate as posted",
        "estimate_comment": "the posted comment on the estimate (often its reference group)",
        "dispersion_type": "the dispersion posted with the estimate",
        "dispersion_value": "that dispersion's value",
        "dispersion_value_raw": "that dispersion as posted",
        "ci_percent_raw": "the interval level as posted",
        "ci_sides_raw": "the interval's sides as posted",
        "ci_lower_raw": "the lower limit as posted",
        "ci_upper_raw": "the upper limit as posted",
    },
}


def describe(table: str, column: str) -> str:
    """The description of ``column`` of ``table`` (a trial table name, ``pairs``, ``approx``, ``pathways`` or
    ``questions``)."""
    d = BY_TABLE.get(table, {}).get(column) or COMMON.get(column)
    if d is None:
        raise KeyError(f"{table}.{column}: no description in deepimagine_data/schema_docs.py")
    return d


def published_schemas() -> dict[str, pa.Schema]:
    """Every published table's schema by the name :func:`describe` takes."""
    from .pairs.approx import APPROX, PATHWAYS
    from .pairs.strict import PAIRS
    from .question_rows import QUESTIONS
    from .schema import TABLES

    return {**TABLES, "pairs": PAIRS, "approx": APPROX, "pathways": PATHWAYS, "questions": QUESTIONS}


def type_name(t: pa.DataType) -> str:
    """A short name of an Arrow type for a card: ``string``, ``list<string>``, ``list<struct{role, content}>``.

    >>> type_name(pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))
    'list<struct{role, content}>'
    """
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"list<{type_name(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct{" + ", ".join(t.field(i).name for i in range(t.num_fields)) + "}"
    return {"double": "float64", "date32[day]": "date", "bool": "bool"}.get(str(t), str(t))
