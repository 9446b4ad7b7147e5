"""Benchmark questions in CT Open's shape, from posted analyses (``deepimagine/bench``, template ``bench-v2``).

CT Open (Winter/Summer 2025) asks, per endpoint of a trial, one of (meta label, category):

- ``single_arm`` / ``distinguishable_arm`` — **2-way explicit**, directional: "The study arm X has achieved
  statistically significant improvements over the study arm Y with respect to this specific endpoint." / "The
  study arm X has not achieved ..., either because of no statistical effect or worse effect." (``superiority_2way``);
  or **3-way explicit**: "Study Arm Y is statistically significantly worse than Study Arm X." / the reverse / "No
  statistically significant difference ..." (``comparative_3way``);
- ``no_arm`` — **2-way implicit**: "This endpoint is met." / "This endpoint is not met." (``endpoint_2way``);
- ``no_distinguishable_arm`` — **2-way implicit**: "At least one arm listed here met this endpoint." / "No arm
  listed here met this endpoint." (``endpoint_2way``, the listed arms in ``listed_arms``).

The category is CT Open's (:func:`deepimagine_data.ctopen.question_category`: ``"<options>-way implicit"`` for
``no_arm``/``no_distinguishable_arm``, else explicit). Rules, each dropping what it cannot ask with a counted reason:

1. Only posted analyses (p-value, CI or margin), only comparisons whose answer the record gives, of two protocol
   arms, whose p-value and CI agree (:func:`deepimagine_data.pairs.comparisons.exclusion`).
2. **Endpoint met** (implicit) for a primary outcome whose every experimental arm (by arm type) is compared with the
   same comparator arm, every such comparison with a known result — superiority met or not at the analysis' alpha,
   or, for a non-inferiority/equivalence analysis, shown or not against its margin — and no posted two-group
   analysis of the outcome dropped. "Met" is any arm met. Such an endpoint is asked only this way.
3. Otherwise **one explicit question per comparison**: directional 2-way where the record orients the pair
   (experimental vs comparator by arm type, a control-like title, a higher vs a lower dose), 3-way where it does not;
   a significant result whose direction (or the outcome's polarity) the record does not give cannot be asked either
   way and is dropped (``significant_direction_unknown``), as are non-inferiority analyses of other outcomes.
4. Options name the protocol arms the prompt lists; two questions with the same prompt and options but different
   answers are both dropped, exact repeats kept once.

Example (AACT NCT03584009, test split)::

    {"question_id": "NCT03584009:O0:OG001|OG000:superiority_2way", "category": "2-way explicit",
     "meta_label": "single_arm", "options": ["The study arm Venetoclax + Fulvestrant has achieved statistically
     significant improvements over the study arm Fulvestrant with respect to this specific endpoint.", "..."],
     "answer_index": 1, "p_value": 0.7286, "results_first_posted_date": 2021-..., ...}

Citation: CT Open (ClinicalTrial-OpenChallenge/CT_Open, ``evaluations/evaluation.py``); DeepImagine (arXiv 2604.23054).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow as pa

from .ctopen import question_category
from .pairs.comparisons import COMPARATOR_TYPES, Corpus, exclusion
from .pairs.render import (
    arm_block,
    clean_text,
    clip,
    options_fields,
    options_for,
    outcome_block,
    superiority_options,
    trial_fields,
)
from .pairs.strict import COMPARISON_FIELDS, TRIAL_CONTEXT_FIELDS, trial_context
from .tables import lead_columns

TEMPLATE_VERSION = "bench-v3"
MAX_ARMS_SHOWN = 8
_QUESTION_TEXT = {
    "single_arm": "Which statement about these two study arms on this endpoint is true?",
    "distinguishable_arm": "Which statement about these two study arms on this endpoint is true?",
    "no_arm": "Which statement about this endpoint is true?",
    "no_distinguishable_arm": "Which statement about this endpoint is true for the arms listed here: {arms}?",
}
# Orientations that say which arm is the candidate and which the reference, so "X improved over Y" is the natural
# question; without one (listed order, an estimate's reference) the symmetric 3-way question is asked.
_ORIENTED = ("arm_type", "title", "dose_interventions", "dose_title", "dose_zero")

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()
_ARM = pa.struct([("title", S), ("description", S), ("arm_type", S), ("interventions", pa.list_(S))])
_FROM_PAIRS = [name for name, _ in COMPARISON_FIELDS]
# The published column order: what people use first (ids, the question), then the rest as declared.
QUESTION_LEAD_COLUMNS = ("question_id", "trial_id", "category", "prompt", "options", "answer_index", "answer")
QUESTIONS = lead_columns(
    pa.schema(
        [
            ("question_id", S),
            *TRIAL_CONTEXT_FIELDS,
            ("arms", pa.list_(_ARM)),
            ("outcome_id", S),
            ("outcome_title", S),
            ("outcome_description", S),
            ("outcome_type", S),
            ("outcome_time_frame", S),
            ("outcome_population", S),
            ("unit_of_measure", S),
            ("category", S),
            ("meta_label", S),
            ("arms_mode", S),
            ("question_type", S),
            ("question", S),
            ("options", pa.list_(S)),
            ("answer_index", I),
            ("answer", S),
            # implicit questions: the arms the question is about, their comparisons and each one's result
            ("listed_arms", pa.list_(S)),
            ("listed_comparison_ids", pa.list_(S)),
            ("listed_results", pa.list_(S)),
            *COMPARISON_FIELDS,
            ("prompt", S),
            ("template_version", S),
            ("template_sha256", S),
        ]
    ),
    QUESTION_LEAD_COLUMNS,
)


def _template():
    import hashlib
    from importlib import resources
    from string import Template

    text = (resources.files("deepimagine_data") / "templates" / TEMPLATE_VERSION / "prompt.txt").read_text("utf-8")
    return Template(text), hashlib.sha256(text.encode()).hexdigest()


def endpoint_options(meta_label: str = "no_arm") -> list[str]:
    """CT Open's implicit options, word for word: ``no_arm`` or ``no_distinguishable_arm``."""
    if meta_label == "no_distinguishable_arm":
        return ["At least one arm listed here met this endpoint.", "No arm listed here met this endpoint."]
    return ["This endpoint is met.", "This endpoint is not met."]


def met(rec: dict) -> str | None:
    """Whether the compared arm met the endpoint against the reference arm: "met" / "not_met", or None where
    the record cannot say (a non-inferiority analysis answers with its margin)."""
    if rec["is_non_inferiority"]:
        return {"shown": "met", "not_shown": "not_met"}.get(rec["ni_result"])
    return rec["superiority"] if rec["superiority"] in ("met", "not_met") else None


def arm_name(rec: dict, side: str) -> str:
    """The protocol arm's title (what the prompt lists), else the result group's."""
    return rec[f"{side}_arm_title"] or rec[f"{side}_title"]


def explicit_question(rec: dict) -> tuple[str, list[str], int | None]:
    """(question_type, options, answer_index) of the one explicit question a comparison is asked as."""
    a, b = arm_name(rec, "a"), arm_name(rec, "b")
    if rec["roles_source"] in _ORIENTED:
        m = met(rec)
        return "superiority_2way", superiority_options(a, b), None if m is None else (0 if m == "met" else 1)
    qt, opts, ans = options_for(rec, a, b)
    if qt != "comparative_3way":
        return qt, opts, None
    return qt, opts, ans


def _endpoint_comparisons(recs: list[dict], experimental: set[str]) -> bool:
    """Whether an outcome's comparisons are every experimental arm against one comparator arm, each with a known
    result (the condition for an implicit "endpoint met" question)."""
    if not recs or not experimental:
        return False
    refs = {r["a_arm_id"] for r in recs}
    if len(refs) != 1:
        return False
    for r in recs:
        if r["roles_source"] != "arm_type" or r["a_arm_type"] not in COMPARATOR_TYPES:
            return False
        if r["b_arm_type"] != "EXPERIMENTAL" or met(r) is None:
            return False
    b_arms = [r["b_arm_id"] for r in recs]
    return len(set(b_arms)) == len(b_arms) and set(b_arms) == experimental


def build_questions(
    tables: dict[str, pa.Table],
    comparisons: list[dict],
    licenses: dict[str, str] | None = None,
    counts: Counter | None = None,
    corpus: Corpus | None = None,
    across_trials: bool = True,
) -> pa.Table:
    """One table of questions (schema ``QUESTIONS``) from the comparisons, sorted by ``question_id``; ``counts``
    receives the comparisons and questions dropped at this step, by reason; ``corpus`` is ``tables`` indexed once
    already. ``across_trials=False`` leaves out the two filters that look across trials (one source per NCT id,
    repeated prompts): a partitioned build applies them over all partitions (:func:`filter_across_trials`)."""
    c = corpus if corpus is not None else Corpus.from_tables(tables)
    licenses = licenses or {}
    counts = counts if counts is not None else Counter()
    tmpl, sha = _template()
    arms_by_trial: dict[str, list[dict]] = defaultdict(list)
    for a in tables["arms"].to_pylist():
        if a["group_type"] == "arm":
            arms_by_trial[a["trial_id"]].append(a)

    usable: dict[str, list[dict]] = defaultdict(list)
    incomplete: set[str] = set()
    for r in comparisons:
        if r["analysis_id"] is None:  # a test of the package's own on per-arm values, not a posted answer
            if exclusion(r, dose_cohorts_ok=True) is None:
                counts["per_arm_test_not_a_posted_analysis"] += 1
            continue
        if exclusion(r) is not None:
            # counted once, in the comparisons' own funnel (comparisons.label_corpus), but for the dose cohorts
            # of one arm that strict_dose keeps: the bench asks about protocol arms
            if exclusion(r, dose_cohorts_ok=True) is None:
                counts["dose_cohorts_of_one_arm"] += 1
            incomplete.add(r["outcome_id"])
            continue
        usable[r["outcome_id"]].append(r)

    rows = []
    for outcome_id in sorted(usable):
        recs = sorted(usable[outcome_id], key=lambda r: r["comparison_id"])
        t, o = c.trials[recs[0]["trial_id"]], c.outcomes[outcome_id]
        arms = arms_by_trial.get(t["trial_id"], [])
        experimental = {a["group_id"] for a in arms if a["arm_type"] == "EXPERIMENTAL"}
        items: list[tuple[str, str, list[str], int, dict, list[dict]]] = []
        if (
            o["outcome_type"] == "PRIMARY"
            and outcome_id not in incomplete
            and _endpoint_comparisons(recs, experimental)
        ):
            results = [met(r) for r in recs]
            label = "no_arm" if len(recs) == 1 else "no_distinguishable_arm"
            rep = next((r for r in recs if met(r) == "met"), recs[0])
            items.append(("endpoint_2way", label, endpoint_options(label), 0 if "met" in results else 1, rep, recs))
        else:
            asked = []
            for r in recs:
                if r["is_non_inferiority"]:
                    counts["non_inferiority_asked_only_as_an_endpoint"] += 1
                    continue
                qt, opts, ans = explicit_question(r)
                if ans is None:
                    counts["significant_direction_unknown"] += 1
                    continue
                asked.append((qt, opts, ans, r))
            label = "single_arm" if len(asked) == 1 else "distinguishable_arm"
            items += [(qt, label, opts, ans, r, [r]) for qt, opts, ans, r in asked]
        for qt, label, opts, ans, rec, listed in items:
            implicit = qt == "endpoint_2way"
            row = {k: rec[k] for k in _FROM_PAIRS}
            listed_names = [arm_name(r, "b") for r in listed] if label == "no_distinguishable_arm" else []
            question = _QUESTION_TEXT[label].format(arms="; ".join(f'"{n}"' for n in listed_names))
            row.update(
                question_id=f"{outcome_id}:endpoint" if implicit else f"{rec['comparison_id']}:{qt}",
                **trial_context(t, licenses),
                arms=[
                    {
                        "title": a["title"],
                        "description": a["description"],
                        "arm_type": a["arm_type"],
                        "interventions": list(a["intervention_names"] or []),
                    }
                    for a in arms
                ],
                outcome_id=outcome_id,
                outcome_title=o["title"],
                outcome_description=o["description"],
                outcome_type=o["outcome_type"],
                outcome_time_frame=o["time_frame"],
                outcome_population=o["population_description"],
                unit_of_measure=o["unit_of_measure"],
                category=question_category(len(opts), label),
                meta_label=label,
                arms_mode="implicit" if implicit else "explicit",
                question_type=qt,
                question=question,
                options=opts,
                answer_index=ans,
                answer=opts[ans],
                listed_arms=listed_names,
                listed_comparison_ids=[r["comparison_id"] for r in listed] if implicit else [],
                listed_results=[met(r) for r in listed] if implicit else [],
                template_version=TEMPLATE_VERSION,
                template_sha256=sha,
            )
            # at most 8 arms, and always the ones the question names
            named = {rec["a_arm_title"], rec["b_arm_title"], *listed_names}
            shown = [a for i, a in enumerate(row["arms"]) if i < MAX_ARMS_SHOWN or a["title"] in named]
            arms_block = "\n".join(
                f"- {arm_block(a['title'], a['description'], None, None)}"
                + (f" [{a['arm_type'].lower().replace('_', ' ')}]" if a["arm_type"] else "")
                for a in shown
            )
            endpoint = outcome_block(o)
            if o["description"]:
                endpoint += f"; description: {clip(clean_text(o['description']), 400)}"
            row["prompt"] = tmpl.substitute(
                **trial_fields(t),
                **options_fields(opts),
                arms_block=arms_block,
                endpoint_block=endpoint,
                question=question,
            ).strip()
            rows.append(row)
    if across_trials:
        rows = one_source_per_trial(rows, counts)
        rows = dedupe_prompts(rows, "question_id", counts)
    rows.sort(key=lambda r: r["question_id"])
    return pa.Table.from_pylist(rows, schema=QUESTIONS)


# When one registry trial is read from several sources (an AACT study that CliniFact also holds), its comparisons
# would be asked twice: the registry record is kept, whole, and the other source's questions are counted out.
REGISTRY_SOURCES = ("aact", "ctgov_api_v2")


def one_source_per_trial(rows: list[dict], counts: Counter) -> list[dict]:
    """Questions of each NCT id from one source only: a registry source (:data:`REGISTRY_SOURCES`) first, else the
    first by name (``trial_also_in_another_source`` counts the rest)."""
    sources: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["nct_id"]:
            sources[r["nct_id"]].add(r["source"])
    keep = {
        nct: min(
            s, key=lambda x: (x not in REGISTRY_SOURCES, REGISTRY_SOURCES.index(x) if x in REGISTRY_SOURCES else 0, x)
        )
        for nct, s in sources.items()
    }
    out = []
    for r in rows:
        if r["nct_id"] and r["source"] != keep[r["nct_id"]]:
            counts["trial_also_in_another_source"] += 1
            continue
        out.append(r)
    return out


def dedupe_prompts(rows: list[dict], id_column: str, counts: Counter) -> list[dict]:
    """Rows whose prompt and options repeat another's: all dropped where their answers differ
    (``same_prompt_different_answers``: the prompt does not say which is asked), else kept once
    (``repeated_prompt``, the first by id kept)."""
    by_text: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by_text[(r["prompt"], tuple(r["options"]))].append(r)
    out = []
    for group in by_text.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        if len({r["answer_index"] for r in group}) > 1:
            counts["same_prompt_different_answers"] += len(group)
            continue
        group.sort(key=lambda r: r[id_column])
        counts["repeated_prompt"] += len(group) - 1
        out.append(group[0])
    return out


def row_keys(table: pa.Table, id_column: str, batch: int = 65_536) -> list[dict]:
    """What :func:`one_source_per_trial` and :func:`dedupe_prompts` read of each row, with the prompt and options
    as one 16-byte digest: a partitioned build keeps these for every row instead of the rows' text."""
    import hashlib

    cols = [id_column, "prompt", "options", "answer_index"]
    extra = [c for c in ("nct_id", "source") if c in table.column_names]
    out = []
    for b in table.select(cols + extra).to_batches(batch):
        for r in b.to_pylist():
            h = hashlib.blake2b(r.pop("prompt").encode(), digest_size=16)
            for o in r.pop("options"):
                h.update(b"\x00" + o.encode())
            out.append({**r, "prompt": h.digest(), "options": ()})
    return out


def kept_across_trials(keys: list[dict], id_column: str, counts: Counter, one_source: bool = False) -> set[str]:
    """The ids :func:`one_source_per_trial` (where ``one_source``) and :func:`dedupe_prompts` keep, judged on
    :func:`row_keys` of every partition's rows."""
    kept = one_source_per_trial(keys, counts) if one_source else keys
    return {r[id_column] for r in dedupe_prompts(kept, id_column, counts)}


def keep_rows(table: pa.Table, keep: set[str], id_column: str) -> pa.Table:
    """The rows of ``table`` whose id is in ``keep``, in their order."""
    ids = table.column(id_column).to_pylist()
    if all(i in keep for i in ids):
        return table
    return table.filter(pa.array([i in keep for i in ids], pa.bool_()))


def filter_across_trials(
    table: pa.Table, keys: list[dict], id_column: str, counts: Counter, one_source: bool = False
) -> pa.Table:
    """``table`` (the partitions' rows concatenated in id order) less what :func:`one_source_per_trial` (where
    ``one_source``) and :func:`dedupe_prompts` drop, judged on :func:`row_keys`; the row order is kept, so the
    result equals one unpartitioned build's."""
    return keep_rows(table, kept_across_trials(keys, id_column, counts, one_source), id_column)


def cap_per_trial(table: pa.Table, max_per_trial: int | None) -> tuple[pa.Table, Counter]:
    """At most ``max_per_trial`` questions of each registry trial (NCT id, else trial id), so that no trial
    dominates a score; the dropped ones counted as ``over_per_trial_cap``.

    Which questions stay never depends on their answers: primary outcomes first, then an order fixed by the
    SHA-256 of the question id (not the outcome's position, which would keep a trial's first outcomes only).
    The kept rows stay in ``question_id`` order.
    """
    import hashlib

    counts: Counter = Counter()
    if max_per_trial is None or table.num_rows == 0:
        return table, counts
    cols = table.select(["question_id", "nct_id", "trial_id", "outcome_type"]).to_pylist()
    by_trial: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(cols):
        by_trial[r["nct_id"] or r["trial_id"]].append(i)
    keep: list[int] = []
    for idx in by_trial.values():
        idx.sort(
            key=lambda i: (
                cols[i]["outcome_type"] != "PRIMARY",
                hashlib.sha256(cols[i]["question_id"].encode()).hexdigest(),
            )
        )
        keep += idx[:max_per_trial]
        counts["over_per_trial_cap"] += max(0, len(idx) - max_per_trial)
    return table.take(pa.array(sorted(keep), pa.int64())), counts
