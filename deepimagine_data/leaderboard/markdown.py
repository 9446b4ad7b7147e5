"""The standings in Markdown: ``leaderboard.md`` beside the page, and the store's README card."""

from __future__ import annotations

import re

import pyarrow as pa

from ..scoring.metrics import CATEGORIES, CI_LEVEL, METRIC_LABELS, METRICS, MIN_CATEGORY_QUESTIONS
from .schema import CONFIG, REPO_ID, SCHEMA, SPLIT
from .standings import boards, fmt_with_interval, overall_rule

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>])")


def md_escape(text: str) -> str:
    """Text safe in a Markdown table cell: one line, Markdown and HTML specials backslash-escaped.

    >>> md_escape("a|b <i>_x_</i>")
    'a\\\\|b \\\\<i\\\\>\\\\_x\\\\_\\\\</i\\\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(table: pa.Table, heading_level: int = 2, references: dict | None = None) -> str:
    """One Markdown table per board: rank by overall balanced accuracy, overall metrics, balanced accuracy per
    category; a dagger marks a training cutoff on or after the benchmark cutoff. ``references`` (see
    :func:`~deepimagine_data.leaderboard.board_references`) adds the chance and majority rows, unranked (``—``)."""
    out = []
    h = "#" * heading_level
    for b in boards(table, references):
        cats = [c for c in CATEGORIES if any(c in e.by_category for e in b.entries)]
        head = ["#", "model", "revision", "training cutoff", "runs", *(METRIC_LABELS[m] for m in METRICS)]
        head += [f"{c} bal. acc" for c in cats]
        out.append(f"{h} {b.title}\n")
        out.append(f"{len(b.entries)} submission(s), {b.questions:,} questions, benchmark cutoff {b.cutoff}.")
        sizes = "; ".join(f"{c}: {b.category_sizes(c)}" + (" (not in overall)" if b.left_out(c) else "") for c in cats)
        out.append(f"Questions per category: {sizes}. {md_escape(overall_rule(b))}\n")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---:|" + "---|" * 3 + "---:|" * (len(head) - 4))
        for rank, e in b.standing():
            if e.reference:
                cells = ["—", f"*{md_escape(e.model_name)}* (reference)", "–", "–", "–"]
            else:
                name = md_escape(e.model_name) + (" †" if e.flagged else "")
                cells = [str(rank), name, md_escape(e.model_revision), str(e.training_cutoff), str(e.runs)]
            cells += [fmt_with_interval(e.value("overall", m), e.interval("overall", m)) for m in METRICS]
            cells += [
                fmt_with_interval(e.value(c, "balanced_accuracy"), e.interval(c, "balanced_accuracy")) for c in cats
            ]
            out.append("| " + " | ".join(cells) + " |")
        if any(e.flagged for e in b.entries):
            out.append(f"\n† training cutoff on or after the benchmark cutoff ({b.cutoff}): possibly contaminated.")
        if b.references:
            what = "; ".join(f"*{md_escape(r.model_name)}*: {md_escape(r.notes)}" for r in b.references)
            out.append(f"\nReference rows (not ranked), scored on this board's questions: {what}.")
        if b.reference_note:
            out.append(f"\n{md_escape(b.reference_note)}")
        out.append("")
    return "\n".join(out) if out else "No submissions yet.\n"


def render_card(table: pa.Table) -> tuple[str, dict]:
    """The store's README card body (standings included) and its YAML front matter."""
    n = len(set(table["submission_id"].to_pylist()))
    cols = "\n".join(f"| `{f.name}` | `{f.type}` |" for f in SCHEMA)
    body = f"""# deepimagine/leaderboard

Scored submissions to the benchmarks of **deepimagine-data** (CT Open's editions and the deepimagine bench): {n}
submission(s), one row per submission and category (`overall`, {", ".join(f"`{c}`" for c in CATEGORIES)}).
Written by `deepimagine submit`, which refuses a submission unless every question is answered exactly once with a
valid `DECISION: (p1, p2[, p3])` and the model's name, revision and training cutoff are given; the figures are
`deepimagine score`'s (CT Open's metrics, averaged over runs, plus Brier score and ECE), and `reliability` holds the
reliability-diagram bins over all runs' answers. `<metric>_ci95_low`/`_high` is each figure's {CI_LEVEL:.0%} interval
from a trial-clustered bootstrap (`bootstrap_resamples` resamples of the trials with replacement, a trial's questions
moving together, seed `bootstrap_seed`; percentile interval); `trials` counts the trials behind a row. `overall` is the
plain mean of the categories with at least {MIN_CATEGORY_QUESTIONS} questions (`in_overall`); smaller ones are stored
but left out of it. Rows stored before these columns existed have them null.

`training_cutoff_after_benchmark` is true when the model's training cutoff is on or after `benchmark_cutoff` (CT Open
Winter 2025: 2025-02-01, Summer 2025: 2025-09-01; deepimagine bench test split: 2021-01-01): its training data may
hold the answers. `submission_id` is the sha256 of the prediction files and the model's identity, so a submission is
stored once; `questions_sha256` identifies the question set scored.

```python
from datasets import load_dataset

results = load_dataset("{REPO_ID}", "{CONFIG}", split="{SPLIT}")
```

## Standings

{render_markdown(table, heading_level=3)}

## Columns

| column | type |
|---|---|
{cols}
"""
    meta = {
        "license": "other",
        "pretty_name": "DeepImagine leaderboard",
        "language": ["en"],
        "tags": ["clinical-trials", "leaderboard", "ct-open", "evaluation"],
        "size_categories": ["n<1K"],
    }
    return body, meta
