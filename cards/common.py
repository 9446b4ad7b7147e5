"""Pieces of dataset cards shared by the corpora (tables as Markdown rows)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def source_rows(rows: pa.Table) -> str:
    """| source | rows | trials | license | version | over every row of a corpus."""
    from deepimagine_data.snapshot import EMBEDDED

    out = ["| source | rows | trials | license | version |", "|---|---:|---:|---|---|"]
    for s in EMBEDDED:
        t = rows.filter(pc.equal(rows.column("source"), s.name))
        if not t.num_rows:
            continue
        n_trials = pc.count_distinct(t.column("trial_id")).as_py()
        out.append(f"| {s.name} | {t.num_rows:,} | {n_trials:,} | {s.license} | `{s.source_version}` |")
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


def split_corpus_fields(tables: dict[str, dict[str, pa.Table]], info: dict) -> dict[str, str]:
    """The card sections every split corpus (pairs, bench) shows: split rule, decontamination, sources."""
    # only the columns the source table reads: configs of one corpus may have different schemas
    cols = ["source", "trial_id"]
    all_rows = pa.concat_tables([t.select(cols) for by_split in tables.values() for t in by_split.values()])
    return {
        "split_rule": split_rule(info["assignment"]),
        "decontamination_rows": decontamination_rows(info["decontamination"], info["removed"]),
        "source_rows": source_rows(all_rows),
    }
