"""Strict counterfactual pairs: inside one trial, exactly one factor changes.

- ``strict_arm`` — one outcome, two protocol arms (treatment vs comparator, or any posted comparison of two groups
  that are two protocol arms): the anchor is arm ``a`` on the outcome, the target is arm ``b``; the label is the
  comparison of ``b`` against ``a``. Subgroups, time points, pooled and unmapped groups are in no config.
- ``strict_dose`` — the same, where both arms give the same single intervention at different parsed doses (same
  unit, or both of unstated unit), or two dose cohorts of one protocol arm; ``a`` is the lower dose. Dose pairs are
  never in ``strict_arm``.
- ``strict_outcome`` — the same two arms, two outcome measures: the anchor is the comparison on one outcome (its
  result known), the target the comparison on another. Anchors are the first three outcomes of the arm pair
  (primary outcomes first), so a trial with many outcomes adds pairs linearly, not quadratically.

Example (``strict_arm``, AACT NCT03584009)::

    {"pair_id": "strict_arm:NCT03584009:O0:OG001|OG000", "kind": "strict_arm", "changed_factor": "arm",
     "a_title": "Fulvestrant", "b_title": "Venetoclax + Fulvestrant", "p_value": 0.7286, "alpha": 0.05,
     "significance": "not_significant", "question_type": "difference_2way", "answer_index": 1,
     "completion": "... DECISION: (0.0, 1.0)", "source": "aact", ...}

Citation: DeepImagine (arXiv 2604.23054), section on strict counterfactual pairs.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow as pa

from ..tables import lead_columns
from .comparisons import Corpus, all_comparisons, comparison, exclusion
from .kinds import LEAD_COLUMNS, STRICT
from .render import (
    TargetRule,
    arm_pair_blocks,
    arm_value_text,
    known_result,
    options_for,
    outcome_block,
    render_pair,
    result_text,
)

KINDS = STRICT  # the strict kinds of the pair-kind registry (pairs/kinds.py)
OUTCOME_ANCHORS = 3

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()
LS = pa.list_(S)
_SIDE = [
    ("group_id", S),
    ("title", S),
    ("description", S),
    ("arm_id", S),
    ("arm_title", S),
    ("arm_type", S),
    ("interventions", LS),
    ("dose_value", F),
    ("dose_unit", S),
    ("dose_text", S),
    ("dose_frequency", S),
    ("value", F),
    ("n", I),
    ("spread", F),
    ("dispersion_type", S),
]
# The trial a row is about, with the provenance of its source (pairs and benchmark questions alike).
TRIAL_CONTEXT_FIELDS = [
    ("trial_id", S),
    ("nct_id", S),
    ("source", S),
    ("source_version", S),
    ("license", S),
    ("results_first_posted_date", D),
    ("brief_title", S),
    ("phase", S),
    ("conditions", LS),
]


def trial_context(trial: dict, licenses: dict[str, str]) -> dict:
    """The ``TRIAL_CONTEXT_FIELDS`` of a row, from its trial record; the license of its input where two inputs
    share a source name (``source|source_version``, :meth:`~deepimagine_data.inputs.Assembled.licenses`), else of
    its source."""
    ctx = {name: trial.get(name) for name, _ in TRIAL_CONTEXT_FIELDS}
    exact = licenses.get(f"{trial['source']}|{trial.get('source_version')}")
    ctx["license"] = exact or licenses.get(trial["source"], "see source")
    return ctx


# A labelled comparison as stored in a row: its label and every source value the label was computed from
# (shared with the benchmark questions).
COMPARISON_FIELDS = [
    ("comparison_id", S),
    ("label_version", S),
    ("roles_source", S),
    ("dose_match", S),
    ("group_relation", S),
    *[(f"a_{k}", t) for k, t in _SIDE],
    *[(f"b_{k}", t) for k, t in _SIDE],
    ("param_type", S),
    ("analysis_id", S),
    ("n_posted_analyses", I),
    ("non_inferiority_type", S),
    ("is_non_inferiority", B),
    ("p_value", F),
    ("p_value_modifier", S),
    ("p_value_raw", S),
    ("p_value_sides", I),
    ("p_value_sides_source", S),
    ("alpha", F),
    ("alpha_source", S),
    ("alpha_sides", I),
    ("statistical_method", S),
    ("estimate_type", S),
    ("estimate_value", F),
    ("ci_lower", F),
    ("ci_upper", F),
    ("ci_percent", F),
    ("ci_sides", S),
    ("p_ci_check", S),
    ("ni_margin_lower", F),
    ("ni_margin_upper", F),
    ("ni_margin_text", S),
    ("ni_result", S),
    ("reference_text", S),
    ("computed_test", S),
    ("computed_p_value", F),
    ("change", F),
    ("change_kind", S),
    ("significance", S),
    ("significance_source", S),
    ("label_note", S),
    ("direction", S),
    ("direction_source", S),
    ("polarity", S),
    ("polarity_rule", S),
    ("benefit_polarity", S),
    ("benefit", S),
    ("decision3", S),
    ("superiority", S),
]
# The outcome a row's label is about.
OUTCOME_FIELDS = [
    ("outcome_id", S),
    ("outcome_title", S),
    ("outcome_type", S),
    ("outcome_time_frame", S),
    ("unit_of_measure", S),
]
# The question and its TRL-standard text (prompt/completion and messages), shared by every pair config.
TEXT_FIELDS = [
    ("question_type", S),
    ("options", LS),
    ("answer_index", I),
    ("rationale", S),
    ("prompt", S),
    ("completion", S),
    ("messages", pa.list_(pa.struct([("role", S), ("content", S)]))),
    ("target_rule", S),
    ("template_version", S),
    ("template_sha256", S),
]
# One schema for the three strict configs, so they concatenate; fields a kind does not use are null. Declared in
# the order it is published (kinds.LEAD_COLUMNS first).
PAIRS = lead_columns(
    pa.schema(
        [
            ("pair_id", S),
            ("kind", S),
            ("changed_factor", S),
            *TRIAL_CONTEXT_FIELDS,
            *OUTCOME_FIELDS,
            *COMPARISON_FIELDS,
            ("anchor_outcome_id", S),
            ("anchor_outcome_title", S),
            ("anchor_comparison_id", S),
            ("anchor_analysis_id", S),
            ("anchor_p_value", F),
            ("anchor_p_value_modifier", S),
            ("anchor_alpha", F),
            ("anchor_significance", S),
            ("anchor_significance_source", S),
            ("anchor_benefit", S),
            ("anchor_result", S),
            *TEXT_FIELDS,
        ]
    ),
    LEAD_COLUMNS,
)
_ANCHOR_KEYS = [n for n in PAIRS.names if n.startswith("anchor_")]


def _base(c: Corpus, rec: dict, kind: str, factor: str, licenses: dict[str, str]) -> dict:
    t, o = c.trials[rec["trial_id"]], c.outcomes[rec["outcome_id"]]
    row = {k: rec.get(k) for k in PAIRS.names if k in rec}
    row.update(
        pair_id=f"{kind}:{rec['comparison_id']}",
        kind=kind,
        changed_factor=factor,
        **trial_context(t, licenses),
        outcome_title=o["title"],
        outcome_type=o["outcome_type"],
        outcome_time_frame=o["time_frame"],
        unit_of_measure=o["unit_of_measure"],
    )
    for k in _ANCHOR_KEYS:
        row[k] = None
    qt, opts, ans = options_for(rec, rec["a_title"], rec["b_title"])
    row.update(question_type=qt, options=opts, answer_index=ans, rationale=result_text(rec))
    return row


KNOWN_HEADING = "Anchor (known)"
REFERENCE_HEADING = "Reference arm (its own result is not posted)"


def arm_pair(c: Corpus, rec: dict, kind: str, licenses: dict[str, str], targets: TargetRule | None = None) -> dict:
    factor = "dose" if kind == "strict_dose" else "arm"
    row = _base(c, rec, kind, factor, licenses)
    o = c.outcomes[rec["outcome_id"]]
    a_block, b_block = arm_pair_blocks(rec)
    va = arm_value_text(rec, "a")
    # the anchor is "known" only where its own result is posted; otherwise nothing about this comparison is
    heading = KNOWN_HEADING if va else REFERENCE_HEADING
    anchor = f"{a_block}; {outcome_block(o)}" + (f"; per-arm result: {va}." if va else ".")
    if kind != "strict_dose":
        change = f'the arm changes from "{rec["a_title"]}" to "{rec["b_title"]}"'
    elif rec["a_dose_value"] == rec["b_dose_value"]:
        change = (
            f"the dosing frequency changes from {rec['a_dose_frequency']} to {rec['b_dose_frequency']} "
            f"(same intervention, same dose {rec['a_dose_text']})"
        )
    else:
        change = f"the dose changes from {rec['a_dose_text']} to {rec['b_dose_text']} (same intervention)"
    target = f"{b_block}; same outcome measure, compared with the {'anchor' if va else 'reference'} arm."
    known = (
        f'Known: "{rec["a_title"]}" posted {va} on this outcome; the target arm\'s result is what is predicted.'
        if va
        else f'Nothing about this comparison\'s result is given: "{rec["a_title"]}" is a reference arm whose own '
        "result is not posted, so the prediction rests on what the change itself does to this outcome."
    )
    reasoning = f'The changed factor is the {factor}: {change}, on "{o["title"]}". {known}'
    row.update(render_pair(row, heading, anchor, change, target, reasoning, targets))
    return row


def outcome_pair(
    c: Corpus, anchor: dict, target: dict, licenses: dict[str, str], targets: TargetRule | None = None
) -> dict:
    row = _base(c, target, "strict_outcome", "outcome", licenses)
    row["pair_id"] = f"strict_outcome:{anchor['outcome_id']}>{target['comparison_id']}"
    ao, to = c.outcomes[anchor["outcome_id"]], c.outcomes[target["outcome_id"]]
    row.update(
        anchor_outcome_id=anchor["outcome_id"],
        anchor_outcome_title=ao["title"],
        anchor_comparison_id=anchor["comparison_id"],
        anchor_analysis_id=anchor["analysis_id"],
        anchor_p_value=anchor["p_value"]
        if anchor["significance_source"] == "posted_p_value"
        else anchor["computed_p_value"],
        anchor_p_value_modifier=anchor["p_value_modifier"],
        anchor_alpha=anchor["alpha"],
        anchor_significance=anchor["significance"],
        anchor_significance_source=anchor["significance_source"],
        anchor_benefit=anchor["benefit"],
        anchor_result=result_text(anchor),
    )
    a_arm, b_arm = arm_pair_blocks(target)
    a_block = f"{b_arm} compared with {a_arm}; {outcome_block(ao)}. Result: {row['anchor_result']}"
    change = f'the outcome measure changes from "{ao["title"]}" to "{to["title"]}" (same two arms)'
    t_block = f"the same two arms; {outcome_block(to)}."
    reasoning = (
        f'Known: on "{ao["title"]}", {known_result(anchor)}. The changed factor is the outcome measure: '
        f'{change}; the target is "{to["title"]}".'
    )
    row.update(render_pair(row, KNOWN_HEADING, a_block, change, t_block, reasoning, targets))
    return row


def build_pairs(
    tables: dict[str, pa.Table],
    licenses: dict[str, str] | None = None,
    comparisons: list[dict] | None = None,
    counts: dict[str, Counter] | None = None,
    corpus: Corpus | None = None,
    targets: TargetRule | str | None = None,
    dedupe: bool = True,
) -> dict[str, pa.Table]:
    """kind -> table of pairs (schema ``PAIRS``), rows sorted by ``pair_id``.

    Only comparisons that may make an arm pair (:func:`~deepimagine_data.pairs.comparisons.exclusion`: a known
    answer, two protocol arms, p-value and CI that agree) are paired; a comparison of two doses of one intervention
    goes to ``strict_dose`` only. ``counts`` (kind -> Counter) receives what each kind dropped by reason;
    ``corpus`` is ``tables`` indexed once already (:class:`~deepimagine_data.pairs.comparisons.Labelled`);
    ``targets`` is the decision-line rule of the completions (:class:`~deepimagine_data.pairs.render.TargetRule`).
    ``dedupe=False`` leaves repeated prompts in: a partitioned build removes them across all partitions at the end
    (:func:`~deepimagine_data.question_rows.filter_across_trials`).
    """
    targets = TargetRule.parse(targets)
    c = corpus if corpus is not None else Corpus.from_tables(tables)
    comps = comparisons if comparisons is not None else all_comparisons(c)
    licenses = licenses or {}
    counts = counts if counts is not None else {}
    for k in KINDS:
        counts.setdefault(k, Counter())
    rows: dict[str, list[dict]] = {k: [] for k in KINDS}
    usable = []
    for rec in comps:
        if exclusion(rec, dose_cohorts_ok=True) is not None:
            continue  # counted once, in the comparisons' own funnel (comparisons.label_corpus)
        kind = "strict_dose" if rec["dose_match"] else "strict_arm"
        usable.append(rec)
        row = arm_pair(c, rec, kind, licenses, targets)
        if row["answer_index"] is None:
            counts[kind]["no_question_for_this_answer"] += 1
            continue
        rows[kind].append(row)

    groups: dict[tuple, list[dict]] = defaultdict(list)
    for rec in usable:
        if rec["group_relation"] != "arms":
            continue  # dose cohorts of one arm: the arm id cannot tell the two cohorts apart across outcomes
        groups[(rec["trial_id"], frozenset((rec["a_arm_id"], rec["b_arm_id"])))].append(rec)
    for _, recs in sorted(groups.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        if len(recs) < 2:
            continue
        if len({r["outcome_id"] for r in recs}) != len(recs):
            # one outcome comparing the same two arms twice cannot say which comparison is the anchor
            counts["strict_outcome"]["arm_pair_repeated_in_one_outcome"] += len(recs)
            continue
        recs.sort(
            key=lambda r: (
                c.outcomes[r["outcome_id"]]["outcome_type"] != "PRIMARY",
                c.outcomes[r["outcome_id"]]["outcome_index"],
            )
        )
        first = recs[0]
        oriented = [first]
        for r in recs[1:]:
            if r["a_arm_id"] != first["a_arm_id"]:
                # same arms, listed the other way round: re-derive the label with the anchor's roles
                analysis = _analysis(c, r["analysis_id"])
                r = comparison(
                    c,
                    r["outcome_id"],
                    r["b_group_id"],
                    r["a_group_id"],
                    first["roles_source"],
                    analysis,
                    r["n_posted_analyses"],
                )
            oriented.append(r)
        for anchor in oriented[:OUTCOME_ANCHORS]:
            for target in oriented:
                if target is anchor:
                    continue
                row = outcome_pair(c, anchor, target, licenses, targets)
                if row["answer_index"] is None:
                    counts["strict_outcome"]["no_question_for_this_answer"] += 1
                    continue
                rows["strict_outcome"].append(row)

    from ..question_rows import dedupe_prompts

    out = {}
    for k, rs in rows.items():
        if dedupe:
            rs = dedupe_prompts(rs, "pair_id", counts[k])
        rs.sort(key=lambda r: r["pair_id"])
        out[k] = pa.Table.from_pylist(rs, schema=PAIRS)
    return out


def _analysis(c: Corpus, analysis_id: str | None) -> dict | None:
    if analysis_id is None:
        return None
    outcome_id = analysis_id.rsplit(":", 1)[0]
    return next(r for r in c.analyses[outcome_id] if r["analysis_id"] == analysis_id)
