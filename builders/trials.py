"""deepimagine/trials: the normalized trial model (six tables) built from the embedded real data.

Example record (config ``analyses``; NCT03584009, as read from AACT)::

    {"trial_id": "NCT03584009", "outcome_id": "NCT03584009:O0", "analysis_id": "NCT03584009:O0:S0",
     "group_codes": ["OG000", "OG001"], "non_inferiority_type": "SUPERIORITY", "p_value": 0.7286,
     "p_value_modifier": None, "statistical_method": "Cochran-Mantel-Haenszel",
     "estimate_type": "Risk Difference (RD)", "estimate_value": -1.96, "ci_percent": 95.0,
     "ci_lower": -16.86, "ci_upper": 12.94, ...}
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from datasets import DatasetDict, Features

from deepimagine_data import __version__
from deepimagine_data.builder_kit import (
    CITATION,
    PAPER_URL,
    card_template,
    deepimagine_meta,
    size_categories,
    to_dataset_dict,
    write_corpus,
)
from deepimagine_data.pipeline import BuildContext
from deepimagine_data.schema import PRIMARY_KEYS, TABLES

_NAME = "deepimagine/trials"
_DESCRIPTION = (
    "Real clinical trials with posted results in one normalized model: trials, arms, interventions, "
    "outcomes, measurements, analyses."
)
_CITATION = CITATION
# per source; the card's `license` is computed from the sources a build read (cards.common.license_meta)
_LICENSE = "per source: GPL-3.0, MIT, Apache-2.0 with the embedded data; ClinicalTrials.gov records are public domain"
_HOMEPAGE = "https://clinicaltrials.gov"
SOURCE_VERSION = "embedded-snapshot-1"
VERSION = "0.1.0"
CONFIGS = list(TABLES)
SPLITS = ["train"]
FEATURES: dict[str, Features] = {name: Features.from_arrow_schema(schema) for name, schema in TABLES.items()}
ID_COLUMNS = dict(PRIMARY_KEYS)

_ROW_MEANING = {
    "trials": "a trial: phase, conditions, design, enrollment, dates, sponsor",
    "arms": "a protocol arm group, or a result group of one outcome (with parsed dose)",
    "interventions": "an intervention with its normalized name and parsed dose",
    "outcomes": "an outcome measure: type, title, time frame, parameter, unit",
    "measurements": "a per-group value of an outcome with dispersion and n",
    "analyses": "a posted comparison: groups, p-value (+modifier), estimate, CI, method",
}


def build_tables(
    strict: bool = False, inputs: tuple[str, ...] | None = None, ctx: BuildContext | None = None
) -> tuple[dict[str, dict[str, pa.Table]], dict]:
    """config -> split -> Arrow table, plus the ingest reports and sources of the build's inputs (read through
    ``ctx``, the command's build context, so the pairs and bench builders reuse what was read)."""
    from deepimagine_data import pipeline

    if ctx is None:
        ctx = pipeline.context(strict, pipeline.canonical_inputs(inputs))
    a = ctx.assembled()
    return {name: {"train": a.tables[name]} for name in CONFIGS}, {
        "reports": a.reports,
        "sources": a.sources,
        "duplicates": a.duplicates,
    }


def build(config: str = "trials") -> DatasetDict:
    """One config as a DatasetDict (split ``train``)."""
    tables, _ = build_tables()
    return to_dataset_dict(tables[config], FEATURES[config])


def _by_source(trials: pa.Table) -> dict[str, int]:
    return {r["values"]: r["counts"] for r in pc.value_counts(trials.column("source")).to_pylist()}


def _label(report: str) -> str:
    """A report's name as the card shows it: an input by its kind and last path part, an embedded source by name."""
    from deepimagine_data.inputs import Input, InputError

    try:
        return Input.parse(report).label
    except InputError:
        return report


def _absent(tables: dict[str, dict[str, pa.Table]]) -> str:
    """Which fields each source of this build leaves empty (null, never guessed), read from the rows themselves."""
    trials = tables["trials"]["train"]
    with_values = set(pc.unique(tables["measurements"]["train"].column("trial_id")).to_pylist())
    lines = []
    for src in sorted(_by_source(trials)):
        t = trials.filter(pc.equal(trials.column("source"), src))
        ids = t.column("trial_id").to_pylist()
        missing = []
        if not with_values.intersection(ids):
            missing.append("per-arm outcome values")
        for col, what in (("countries", "countries"), ("eligibility_criteria", "eligibility text")):
            values = t.column(col)
            if col == "countries":
                values = pc.list_value_length(values)
            if pc.max(values).as_py() in (None, 0):
                missing.append(what)
        if missing:
            listed = ", ".join(missing[:-1]) + (" or " if len(missing) > 1 else "") + missing[-1]
            lines.append(f"`{src}` rows have no {listed}")
    return "; ".join(lines) if lines else "every source of this build states them"


def _limitations(tables: dict[str, dict[str, pa.Table]], info: dict) -> str:
    """Bias, risks and limitations, each figure read from this build's rows."""
    trials = tables["trials"]["train"]
    n = trials.num_rows
    by_source = _by_source(trials)
    lines = []
    onc = [s for s in info["sources"] if "aact_oncology" in s.version]
    if onc:
        k = sum(by_source.get(s.source, 0) for s in onc)
        lines.append(
            f"- **Oncology-heavy.** {k:,} of {n:,} trials ({k / max(n, 1):.0%}) come from the embedded AACT snapshot, "
            "which holds only oncology studies (conditions matching oncology, malignant neoplasm or cancer) with "
            "posted results up to its 2023 extraction; other areas come only from the curated sources. A model or "
            "statistic fitted here describes oncology trials registered on ClinicalTrials.gov, not trials at large."
        )
    with_values = set(pc.unique(tables["measurements"]["train"].column("trial_id")).to_pylist())
    none = [
        src
        for src in sorted(by_source)
        if not with_values.intersection(
            trials.filter(pc.equal(trials.column("source"), src)).column("trial_id").to_pylist()
        )
    ]
    lines.append(
        f"- **Per-arm values are rare.** `measurements` covers {len(with_values):,} of {n:,} trials "
        f"({len(with_values) / max(n, 1):.0%})"
        + (f"; {', '.join(f'`{x}`' for x in none)} rows carry none" if none else "")
        + ", so most results are known only through the posted analyses (p-value, estimate, CI), and `arms` "
        "holds their groups without values."
    )
    dates = [d for d in trials.column("results_first_posted_date").to_pylist() if d is not None]
    if dates:
        lines.append(
            f"- **Time span.** Results first posted from {min(dates)} to {max(dates)}; {n - len(dates):,} trials "
            "(the curated per-arm sources) carry no such date. Reporting practice changed over these years "
            "(e.g. results posting required by FDAAA from 2008, its final rule from 2017)."
        )
    skipped = sum(sum(r.skipped.values()) for r in info["reports"].values())
    lines.append(
        "- **As posted, parsed by rules.** Values are what sponsors posted, errors included "
        f"({skipped:,} record(s) with impossible values were skipped, listed above); doses, phases and "
        "statuses are parsed from text by rules that can miss or misread, so the raw text sits beside each parsed "
        "field. Trials without posted results are not here at all: the data is biased toward sponsors who post."
    )
    return "\n".join(lines)


def render_card(tables: dict[str, dict[str, pa.Table]], info: dict, fingerprint: str) -> tuple[str, dict]:
    from deepimagine_data.cards.common import (
        OUT_OF_SCOPE,
        PERSONAL_INFO,
        columns_table,
        example_block,
        license_meta,
        license_section,
        source_counts,
    )

    reports = info["reports"]
    cfg_rows = []
    for name in CONFIGS:
        t = tables[name]["train"]
        n_trials = pc.count_distinct(t.column("trial_id")).as_py() if t.num_rows else 0
        cfg_rows.append(f"| `{name}` | {t.num_rows:,} | {n_trials:,} | {_ROW_MEANING[name]} |")
    trials = tables["trials"]["train"]
    by_source = _by_source(trials)
    src_rows = [
        f"| `{s.input}` | {s.source} | {by_source.get(s.source, 0):,} | {s.license} | `{s.version}` |"
        for s in info["sources"]
    ]
    for spec, n in sorted(info.get("duplicates", {}).items()):
        src_rows.append(f"| `{spec}` | (duplicate trials, kept from an earlier input) | -{n:,} | | |")
    skip_rows = []
    for name, rep in reports.items():
        if rep.skipped:
            for reason, n in sorted(rep.skipped.items()):
                skip_rows.append(f"| {_label(name)} | `{reason}` | {n:,} |")
    skip = ("| source | reason | records |\n|---|---|---:|\n" + "\n".join(skip_rows)) if skip_rows else "none"
    counts = source_counts(trials.select(["source"]), info["sources"])
    structure = [example_block(info.get("example"))]
    for name in CONFIGS:
        structure.append(f"### `{name}`\n\n{columns_table(name, TABLES[name])}")
    body = card_template("trials").substitute(
        version=VERSION,
        paper=PAPER_URL,
        config_rows="\n".join(cfg_rows),
        structure="\n\n".join(structure),
        source_rows="\n".join(src_rows),
        skip_rows=skip,
        absent=_absent(tables),
        out_of_scope=OUT_OF_SCOPE,
        personal=PERSONAL_INFO,
        limitations=_limitations(tables, info),
        license=license_section(counts, "trials", "the `source` column of every table names it"),
        citation=_CITATION,
        package_version=__version__,
        fingerprint=fingerprint,
    )
    meta = {
        **license_meta(counts),
        "pretty_name": "DeepImagine trials",
        "language": ["en"],
        "task_categories": ["tabular-classification"],
        "source_datasets": [f"extended|{s.source}" for s, _ in counts],
        "tags": ["clinical-trials", "clinicaltrials.gov", "aact", "medical", "arxiv:2604.23054"],
        "size_categories": size_categories(tables),
        **deepimagine_meta(VERSION, fingerprint),
    }
    return body, meta


def write(
    out_root: str | os.PathLike,
    strict: bool = False,
    inputs: tuple[str, ...] | None = None,
    ctx: BuildContext | None = None,
) -> tuple[Path, dict[str, dict[str, pa.Table]], dict]:
    """Write ``out_root/deepimagine/trials`` (parquet per config + README card); returns the folder, the tables and
    the ingest reports by source or input."""
    tables, info = build_tables(strict=strict, inputs=inputs, ctx=ctx)
    return write_corpus(out_root, _NAME, tables, info, render_card, "trials"), tables, info["reports"]
