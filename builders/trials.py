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
    card_template,
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
_LICENSE = "other"  # per-source licenses (GPL-3.0-or-later, Apache-2.0, MIT, ClinicalTrials.gov terms): see card
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


def render_card(tables: dict[str, dict[str, pa.Table]], info: dict, fingerprint: str) -> tuple[str, dict]:
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
    body = card_template("trials").substitute(
        version=VERSION,
        config_rows="\n".join(cfg_rows),
        source_rows="\n".join(src_rows),
        skip_rows=skip,
        absent=_absent(tables),
        citation=_CITATION,
        package_version=__version__,
        fingerprint=fingerprint,
    )
    meta = {
        "license": _LICENSE,
        "pretty_name": "DeepImagine trials",
        "language": ["en"],
        "tags": ["clinical-trials", "clinicaltrials.gov", "aact", "medical"],
        "size_categories": size_categories(tables),
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
