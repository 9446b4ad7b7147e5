"""Benchmark questions in CT Open's shape, from posted analyses (``deepimagine/bench``).

Each labelled comparison with a posted analysis gives one question:

- ``comparative_3way`` (CT Open's "3-way explicit"): "Study Arm A is statistically significantly worse than Study
  Arm B." / the reverse / "No statistically significant difference ..." — only where the benefit is known from the
  data (direction from per-arm values or a referenced estimate, and the outcome's polarity);
- ``difference_2way`` ("2-way explicit") otherwise: a significant difference or not — CT Open's own metric
  collapses 3-way questions to exactly this, and asking it for every comparison keeps the set of questions
  independent of the answers;
- ``non_inferiority_2way`` ("2-way explicit") for non-inferiority/equivalence analyses: shown or not;
- ``superiority_2way`` ("2-way explicit"), CT Open's superiority wording ("The study arm B has achieved
  statistically significant improvements over the study arm A ..."), in addition, where the benefit is known.

And, where derivable, an implicit-arm question (CT Open's "2-way implicit", ``endpoint_2way``): "This endpoint is
met." / "This endpoint is not met." for a primary outcome whose only posted two-group comparison is an
experimental arm against a comparator arm (by arm type) with a known benefit.

Example (AACT NCT03584009, test split)::

    {"question_id": "NCT03584009:O0:OG001|OG000:difference_2way", "category": "2-way explicit",
     "options": ["There is a statistically significant difference between study arm Venetoclax + Fulvestrant and
     study arm Fulvestrant for this endpoint.", "There is no statistically significant difference ..."],
     "answer_index": 1, "p_value": 0.7286, "results_first_posted_date": 2021-..., ...}
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

from .pairs.comparisons import Corpus
from .pairs.render import arm_block, options_fields, options_for, outcome_block, superiority_options, trial_fields
from .pairs.strict import COMPARISON_FIELDS, TRIAL_CONTEXT_FIELDS, trial_context

TEMPLATE_VERSION = "bench-v1"
CATEGORY = {
    "comparative_3way": "3-way explicit",
    "difference_2way": "2-way explicit",
    "non_inferiority_2way": "2-way explicit",
    "superiority_2way": "2-way explicit",
    "endpoint_2way": "2-way implicit",
}
_QUESTION_TEXT = {
    "comparative_3way": "Which statement about these two study arms on this endpoint is true?",
    "difference_2way": "Which statement about these two study arms on this endpoint is true?",
    "non_inferiority_2way": "The trial tested non-inferiority (or equivalence) on this endpoint. Which is true?",
    "superiority_2way": "Which statement about these two study arms on this endpoint is true?",
    "endpoint_2way": "Which statement about this endpoint is true?",
}

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()
_ARM = pa.struct([("title", S), ("description", S), ("arm_type", S), ("interventions", pa.list_(S))])
_FROM_PAIRS = [name for name, _ in COMPARISON_FIELDS]
QUESTIONS = pa.schema(
    [
        ("question_id", S),
        *TRIAL_CONTEXT_FIELDS,
        ("arms", pa.list_(_ARM)),
        ("outcome_id", S),
        ("outcome_title", S),
        ("outcome_description", S),
        ("outcome_type", S),
        ("outcome_time_frame", S),
        ("unit_of_measure", S),
        ("category", S),
        ("arms_mode", S),
        ("question_type", S),
        ("question", S),
        ("options", pa.list_(S)),
        ("answer_index", I),
        ("answer", S),
        *COMPARISON_FIELDS,
        ("prompt", S),
        ("template_version", S),
        ("template_sha256", S),
    ]
)


def _template():
    import hashlib
    from importlib import resources
    from string import Template

    text = (resources.files("deepimagine_data") / "templates" / TEMPLATE_VERSION / "prompt.txt").read_text("utf-8")
    return Template(text), hashlib.sha256(text.encode()).hexdigest()


def _protocol_arms(tables_arms: dict[str, list[dict]], trial_id: str) -> list[dict]:
    return [
        {
            "title": a["title"],
            "description": a["description"],
            "arm_type": a["arm_type"],
            "interventions": list(a["intervention_names"] or []),
        }
        for a in tables_arms.get(trial_id, [])
    ]


def endpoint_options() -> list[str]:
    return ["This endpoint is met.", "This endpoint is not met."]


def build_questions(
    tables: dict[str, pa.Table], comparisons: list[dict], licenses: dict[str, str] | None = None
) -> pa.Table:
    """One table of questions (schema ``QUESTIONS``) from the posted comparisons, sorted by ``question_id``."""
    c = Corpus.from_tables(tables)
    licenses = licenses or {}
    tmpl, sha = _template()
    arms_by_trial: dict[str, list[dict]] = defaultdict(list)
    for a in tables["arms"].to_pylist():
        if a["group_type"] == "arm":
            arms_by_trial[a["trial_id"]].append(a)
    posted = [
        r
        for r in comparisons
        if r["significance_source"] in ("posted_p_value", "posted_ci") and r["significance"] != "unknown"
    ]
    per_outcome: dict[str, list[dict]] = defaultdict(list)
    for r in posted:
        per_outcome[r["outcome_id"]].append(r)

    rows = []
    for rec in posted:
        t, o = c.trials[rec["trial_id"]], c.outcomes[rec["outcome_id"]]
        arms = _protocol_arms(arms_by_trial, rec["trial_id"])
        items = []
        qt, opts, ans = options_for(rec, rec["a_title"], rec["b_title"])
        if ans is not None:
            items.append((qt, opts, ans, "explicit"))
        if qt == "comparative_3way" and rec["superiority"] in ("met", "not_met"):
            sup = superiority_options(rec["a_title"], rec["b_title"])
            items.append(("superiority_2way", sup, 0 if rec["superiority"] == "met" else 1, "explicit"))
        if (
            o["outcome_type"] == "PRIMARY"
            and len(per_outcome[rec["outcome_id"]]) == 1
            and rec["roles_source"] == "arm_type"
            and rec["b_arm_type"] == "EXPERIMENTAL"
            and not rec["is_non_inferiority"]
            and rec["benefit"] in ("better", "worse", "no_difference")
            and rec["superiority"] in ("met", "not_met")
        ):
            items.append(("endpoint_2way", endpoint_options(), 0 if rec["superiority"] == "met" else 1, "implicit"))
        for qt, opts, ans, mode in items:
            row = {k: rec[k] for k in _FROM_PAIRS}
            row.update(
                question_id=f"{rec['comparison_id']}:{qt}",
                **trial_context(t, licenses),
                arms=arms,
                outcome_id=rec["outcome_id"],
                outcome_title=o["title"],
                outcome_description=o["description"],
                outcome_type=o["outcome_type"],
                outcome_time_frame=o["time_frame"],
                unit_of_measure=o["unit_of_measure"],
                category=CATEGORY[qt],
                arms_mode=mode,
                question_type=qt,
                question=_QUESTION_TEXT[qt],
                options=opts,
                answer_index=ans,
                answer=opts[ans],
                template_version=TEMPLATE_VERSION,
                template_sha256=sha,
            )
            listed = arms or [
                {"title": rec["a_title"], "description": rec["a_description"], "arm_type": rec["a_arm_type"]},
                {"title": rec["b_title"], "description": rec["b_description"], "arm_type": rec["b_arm_type"]},
            ]
            arms_block = "\n".join(
                f"- {arm_block(a['title'], a['description'], None, None)}"
                + (f" [{a['arm_type'].lower().replace('_', ' ')}]" if a["arm_type"] else "")
                for a in listed[:8]
            )
            row["prompt"] = tmpl.substitute(
                **trial_fields(t),
                **options_fields(opts),
                arms_block=arms_block,
                endpoint_block=outcome_block(o),
                question=row["question"],
            ).strip()
            rows.append(row)
    rows.sort(key=lambda r: r["question_id"])
    return pa.Table.from_pylist(rows, schema=QUESTIONS)
