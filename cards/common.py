"""Pieces of dataset cards shared by the corpora (tables as Markdown rows)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def source_rows(rows: pa.Table, sources) -> str:
    """| input | source | rows | trials | license | version | over every row of a corpus, one line per source of
    each input the build read (``sources``: :class:`~deepimagine_data.inputs.SourceInfo`)."""
    out = ["| input | source | rows | trials | license | version |", "|---|---|---:|---:|---|---|"]
    for s in sources:
        t = rows.filter(pc.equal(rows.column("source"), s.source))
        if not t.num_rows:
            continue
        n_trials = pc.count_distinct(t.column("trial_id")).as_py()
        out.append(f"| `{s.input}` | {s.source} | {t.num_rows:,} | {n_trials:,} | {s.license} | `{s.version}` |")
    return "\n".join(out)


def split_rule(assignment) -> str:
    c = assignment.cutoffs
    counts = assignment.counts()
    return (
        f"Splits are temporal, by the trial's results-first-posted date: `train` before {c.validation_start}, "
        f"`validation` from {c.validation_start} to before {c.test_start}, `test` from {c.test_start}. A trial is "
        "keyed by its NCT id, so one registry trial read from two sources lands in one split, and every row of a "
        f"trial (both sides of a pair) shares it. Trials over all sources: train {counts['train']:,}, validation "
        f"{counts['validation']:,}, test {counts['test']:,}; {assignment.undated:,} trial keys carry no "
        "results-posted date (the curated per-arm sources) and are in `train`."
    )


def decontamination_rows(deco, removed: dict[str, dict[str, int]]) -> str:
    """| exclusion list | trial ids | status | rows removed from train (per config) |"""
    configs = list(removed)
    head = "| exclusion list | trial ids | status | " + " | ".join(f"removed from `{c}` train" for c in configs) + " |"
    sep = "|---|---:|---|" + "---:|" * len(configs)
    out = [head, sep]
    for name, n, status in deco.summary():
        cells = " | ".join(f"{removed[c].get(name, 0):,}" for c in configs)
        out.append(f"| {name} | {n:,} | {status} | {cells} |")
    return "\n".join(out)


# The label rules (labels-v2) as a short table: what decides each label, and when a row is dropped. The README
# shows the same table (tests/test_build.py checks that they agree).
_RULES = [
    (
        "significance",
        (
            "the posted p-value with its modifier, against the analysis' own alpha (stated in any of its texts, "
            "with its sides; else 0.05 two-sided); a one-sided p (its description or method says so) against the "
            "one-sided alpha; the two-sided CI against the estimate's null where no p-value is posted or it is "
            "`0` with no modifier; per-arm Fisher/Welch tests where no analysis is posted"
        ),
        (
            "no p-value and no readable CI; a one-sided p near 1 with no CI (the arms may differ the other way); "
            "a CI at another level than 95% and no stated alpha, when the two levels disagree (`alpha_unclear`)"
        ),
    ),
    (
        "direction, benefit",
        (
            "per-arm values, an estimate whose reference group a posted text names, or a one-sided superiority "
            "test of the experimental arm; benefit adds the outcome's polarity (a hazard ratio flips it for times"
            " to an event)"
        ),
        (
            "none of these is posted: a significant result of unknown direction is not asked in CT Open's "
            "directional wording"
        ),
    ),
    (
        "non-inferiority, equivalence",
        (
            "the posted CI against the margin the record states, on the estimate's scale (NI: the CI's limit "
            "beyond the margin; equivalence: the CI inside both margins), never the p-value"
        ),
        ("no margin stated, a margin on another scale or of unclear side, margins that disagree"),
    ),
    (
        "which analysis",
        ("the one posted analysis of the outcome and the two groups; several only where their answers agree"),
        ("their answers disagree (`analyses_disagree`): the prompt could not say which one is asked"),
    ),
    (
        "which groups",
        ("two result groups linked to two different protocol arms"),
        ("subgroups, responders, time points, cohorts of one arm, pooled or unmapped groups (`not_two_arms:*`)"),
    ),
    (
        "consistency",
        ("the p-value and the CI the record posts agree (`p_ci_check`)"),
        ("they disagree (`p_and_ci_disagree`): flagged, kept out of the pairs and the bench"),
    ),
    (
        "the question",
        ("one question per comparison"),
        ("two rows with the same prompt and options and different answers are both dropped"),
    ),
]
LABEL_RULES = "\n".join(
    ["| what | decided by | unknown (and not asked) when |", "|---|---|---|"]
    + [f"| {what} | {by} | {unknown} |" for what, by, unknown in _RULES]
)


def label_changes() -> str:
    from deepimagine_data.evidence import LABEL_CHANGES

    return "\n".join(f"- {c}" for c in LABEL_CHANGES)


def split_corpus_fields(tables: dict[str, dict[str, pa.Table]], info: dict) -> dict[str, str]:
    """The card sections every split corpus (pairs, bench) shows: split rule, decontamination, sources, the label
    rules and what changed in them, and the funnel of the build."""
    from deepimagine_data.evidence import LABEL_VERSION

    # only the columns the source table reads: configs of one corpus may have different schemas
    cols = ["source", "trial_id"]
    all_rows = pa.concat_tables([t.select(cols) for by_split in tables.values() for t in by_split.values()])
    return {
        "split_rule": split_rule(info["assignment"]),
        "decontamination_rows": decontamination_rows(info["decontamination"], info["removed"]),
        "source_rows": source_rows(all_rows, info["sources"]),
        "label_version": LABEL_VERSION,
        "label_rules": LABEL_RULES,
        "label_changes": label_changes(),
        "funnel": info["funnel"].markdown(),
    }
