"""The normalized trial model: six Arrow tables, declared once.

Every source (ClinicalTrials.gov API v2 JSON, AACT, the curated per-arm sources) writes exactly these
tables. Parsed fields sit next to the raw text they were parsed from (`*_raw`), so every number a later
label is computed from can be traced back to what the registry said.

Keys
----
- ``trial_id`` is unique across a build. Registry sources use the NCT id itself; curated sources that are
  not keyed by an NCT id use ``"<source>/<native id>"`` and carry the NCT id in ``trials.nct_id`` where known.
- ``outcome_id`` = ``"<trial_id>:O<index>"`` (index = position of the outcome measure in the source).
- ``group_id`` = ``"<trial_id>:A<index>"`` for protocol arm groups and ``"<outcome_id>:<code>"`` for the
  result groups of one outcome (ClinicalTrials.gov numbers result groups per outcome: OG000 of one outcome
  need not be OG000 of another).
- ``measurement_id`` = ``"<outcome_id>:M<index>"``; ``analysis_id`` = ``"<outcome_id>:S<index>"``.
"""

from __future__ import annotations

import pyarrow as pa

S = pa.string()
F = pa.float64()
I = pa.int64()  # noqa: E741
D = pa.date32()
B = pa.bool_()
LS = pa.list_(pa.string())

TRIALS = pa.schema(
    [
        ("trial_id", S),
        ("nct_id", S),
        ("source", S),
        ("source_version", S),
        ("brief_title", S),
        ("official_title", S),
        ("acronym", S),
        ("overall_status", S),
        ("overall_status_raw", S),
        ("study_type", S),
        ("study_type_raw", S),
        ("phases", LS),
        ("phase", S),
        ("phase_raw", S),
        ("conditions", LS),
        ("keywords", LS),
        ("mesh_conditions", LS),
        ("mesh_interventions", LS),
        ("countries", LS),
        ("enrollment", I),
        ("enrollment_raw", S),
        ("enrollment_type", S),
        ("allocation", S),
        ("allocation_raw", S),
        ("intervention_model", S),
        ("intervention_model_raw", S),
        ("primary_purpose", S),
        ("primary_purpose_raw", S),
        ("masking", S),
        ("masking_raw", S),
        ("eligibility_criteria", S),
        ("sex", S),
        ("minimum_age", S),
        ("maximum_age", S),
        ("healthy_volunteers", B),
        ("lead_sponsor", S),
        ("sponsor_class", S),
        ("start_date", D),
        ("start_date_raw", S),
        ("primary_completion_date", D),
        ("primary_completion_date_raw", S),
        ("completion_date", D),
        ("completion_date_raw", S),
        ("results_first_posted_date", D),
        ("results_first_posted_date_raw", S),
        ("has_results", B),
    ]
)

ARMS = pa.schema(
    [
        ("trial_id", S),
        ("group_id", S),
        ("group_type", S),  # "arm" (protocol arm group) | "outcome" (result group of one outcome)
        ("outcome_id", S),
        ("code", S),  # OG000 / O1 for result groups; null for protocol arms
        ("title", S),
        ("description", S),
        ("arm_type", S),
        ("arm_type_raw", S),
        ("intervention_names", LS),
        ("dose_value", F),
        ("dose_unit", S),
        ("dose_frequency", S),
        ("dose_route", S),
        ("dose_text", S),  # the span the dose was parsed from
    ]
)

INTERVENTIONS = pa.schema(
    [
        ("trial_id", S),
        ("intervention_id", S),
        ("type", S),
        ("type_raw", S),
        ("name", S),
        ("normalized_name", S),
        ("other_names", LS),
        ("description", S),
        ("arm_labels", LS),
        ("dose_value", F),
        ("dose_unit", S),
        ("dose_frequency", S),
        ("dose_route", S),
        ("dose_text", S),
    ]
)

OUTCOMES = pa.schema(
    [
        ("trial_id", S),
        ("outcome_id", S),
        ("outcome_index", I),
        ("outcome_type", S),
        ("outcome_type_raw", S),
        ("title", S),
        ("description", S),
        ("time_frame", S),
        ("population_description", S),
        ("param_type", S),
        ("param_type_raw", S),
        ("dispersion_type", S),
        ("dispersion_type_raw", S),
        ("unit_of_measure", S),
        ("reporting_status", S),
        ("n_groups", I),
        ("n_measurements", I),
        ("n_analyses", I),
    ]
)

MEASUREMENTS = pa.schema(
    [
        ("trial_id", S),
        ("outcome_id", S),
        ("measurement_id", S),
        ("group_id", S),
        ("group_code", S),
        ("group_title", S),
        ("class_title", S),
        ("category_title", S),
        ("param_type", S),
        ("value", F),
        ("value_modifier", S),
        ("value_raw", S),
        ("dispersion_type", S),
        ("dispersion_ci_percent", F),
        ("spread", F),
        ("spread_raw", S),
        ("lower_limit", F),
        ("lower_limit_raw", S),
        ("upper_limit", F),
        ("upper_limit_raw", S),
        ("n", I),
        ("n_raw", S),
        ("n_units", S),
        ("unit_of_measure", S),
        ("comment", S),
    ]
)

ANALYSES = pa.schema(
    [
        ("trial_id", S),
        ("outcome_id", S),
        ("analysis_id", S),
        ("analysis_index", I),
        ("group_codes", LS),
        ("group_ids", LS),
        ("group_description", S),
        ("non_inferiority_type", S),
        ("non_inferiority_type_raw", S),
        ("non_inferiority_comment", S),
        ("p_value", F),
        ("p_value_modifier", S),
        ("p_value_raw", S),
        ("p_value_comment", S),
        ("statistical_method", S),
        ("statistical_comment", S),
        ("estimate_type", S),
        ("estimate_value", F),
        ("estimate_value_raw", S),
        ("estimate_comment", S),
        ("dispersion_type", S),
        ("dispersion_value", F),
        ("dispersion_value_raw", S),
        ("ci_percent", F),
        ("ci_percent_raw", S),
        ("ci_sides", S),
        ("ci_sides_raw", S),
        ("ci_lower", F),
        ("ci_lower_raw", S),
        ("ci_upper", F),
        ("ci_upper_raw", S),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "trials": TRIALS,
    "arms": ARMS,
    "interventions": INTERVENTIONS,
    "outcomes": OUTCOMES,
    "measurements": MEASUREMENTS,
    "analyses": ANALYSES,
}

# Row order of every written table, so that reruns give the same bytes.
SORT_KEYS: dict[str, list[str]] = {
    "trials": ["trial_id"],
    "arms": ["trial_id", "group_id"],
    "interventions": ["trial_id", "intervention_id"],
    "outcomes": ["trial_id", "outcome_index"],
    "measurements": ["trial_id", "measurement_id"],
    "analyses": ["trial_id", "analysis_id"],
}

PRIMARY_KEYS: dict[str, str] = {
    "trials": "trial_id",
    "arms": "group_id",
    "interventions": "intervention_id",
    "outcomes": "outcome_id",
    "measurements": "measurement_id",
    "analyses": "analysis_id",
}
