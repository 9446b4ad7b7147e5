"""deepimagine/bench: the package's own outcome-prediction benchmark, questions in CT Open's shape.

From posted analyses of real trials: 3-way comparative questions where the benefit is known, 2-way any-difference
questions otherwise, non-inferiority questions for non-inferiority analyses, and implicit-arm "endpoint met"
questions where derivable. The temporal ``test`` split (results first posted from 2021-01-01) is the benchmark;
``train``/``validation`` exist for baselines, with CT Open's trials removed from ``train``.

Example record (config ``questions``, split ``test``; AACT NCT03584009)::

    {"question_id": "NCT03584009:O0:OG001|OG000:difference_2way", "category": "2-way explicit",
     "question_type": "difference_2way", "arms_mode": "explicit", "answer_index": 1, "p_value": 0.7286,
     "alpha": 0.05, "significance": "not_significant", "prompt": "You predict the results of clinical trials...", ...}
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
from datasets import DatasetDict, Features

from deepimagine_data import __version__
from deepimagine_data.builder_kit import CITATION, card_template, to_dataset_dict, write_corpus
from deepimagine_data.pipeline import BuildOptions, default_options
from deepimagine_data.questions import QUESTIONS

_NAME = "deepimagine/bench"
_DESCRIPTION = (
    "Clinical-trial outcome prediction questions in CT Open's shape (2-way/3-way, explicit/implicit arms) from "
    "posted analyses of real trials, split by results-first-posted date."
)
_CITATION = CITATION
_LICENSE = "other"
_HOMEPAGE = "https://clinicaltrials.gov"
SOURCE_VERSION = "embedded-snapshot-1"
VERSION = "0.1.0"
CONFIGS = ["questions"]
SPLITS = ["train", "validation", "test"]
FEATURES: dict[str, Features] = {"questions": Features.from_arrow_schema(QUESTIONS)}
ID_COLUMNS = {"questions": "question_id"}


def build_tables(options: BuildOptions | None = None) -> tuple[dict[str, dict[str, pa.Table]], dict]:
    from deepimagine_data import pipeline

    opts = options or default_options()
    _, reports = pipeline.corpus(opts.strict)
    split, assignment, deco, removed = pipeline.split_all({"questions": pipeline.questions(opts.strict)}, opts)
    return split, {"reports": reports, "assignment": assignment, "decontamination": deco, "removed": removed}


def recompute_labels(config: str, row: dict) -> dict:
    from deepimagine_data.pairs.comparisons import recompute_label
    from deepimagine_data.pairs.render import options_for, superiority_options
    from deepimagine_data.questions import endpoint_options

    out = recompute_label(row)
    merged = {**row, **out}
    if row["question_type"] == "endpoint_2way":
        out["options"] = endpoint_options()
        out["answer_index"] = {"met": 0, "not_met": 1}.get(out["superiority"])
    elif row["question_type"] == "superiority_2way":
        out["options"] = superiority_options(row["a_title"], row["b_title"])
        out["answer_index"] = {"met": 0, "not_met": 1}.get(out["superiority"])
    else:
        _, out["options"], out["answer_index"] = options_for(merged, row["a_title"], row["b_title"])
    return out


def build(config: str = "questions", options: BuildOptions | None = None) -> DatasetDict:
    """The questions as a DatasetDict with splits train/validation/test."""
    tables, _ = build_tables(options)
    return to_dataset_dict(tables[config], FEATURES[config])


def render_card(tables: dict[str, dict[str, pa.Table]], info: dict, fingerprint: str) -> tuple[str, dict]:
    from deepimagine_data.cards.common import split_corpus_fields

    rows = []
    for split in SPLITS:
        t = tables["questions"][split]
        if not t.num_rows:
            rows.append(f"| {split} | - | 0 | 0 | - |")
            continue
        for cat in ("2-way explicit", "3-way explicit", "2-way implicit"):
            s = t.filter(pc.equal(t.column("category"), cat))
            n_trials = pc.count_distinct(s.column("trial_id")).as_py() if s.num_rows else 0
            vc = pc.value_counts(s.column("answer_index")).to_pylist() if s.num_rows else []
            bal = (
                ", ".join(
                    f"option {d['values']}: {d['counts'] / s.num_rows:.0%}"
                    for d in sorted(vc, key=lambda d: d["values"])
                )
                or "-"
            )
            rows.append(f"| {split} | {cat} | {s.num_rows:,} | {n_trials:,} | {bal} |")
    body = card_template("bench").substitute(
        **split_corpus_fields(tables, info),
        version=VERSION,
        count_rows="\n".join(rows),
        citation=_CITATION,
        package_version=__version__,
        fingerprint=fingerprint,
    )
    meta = {
        "license": _LICENSE,
        "pretty_name": "DeepImagine trial-outcome benchmark",
        "language": ["en"],
        "task_categories": ["question-answering", "text-classification"],
        "tags": ["clinical-trials", "benchmark", "ct-open", "medical"],
        "size_categories": ["1K<n<10K"],
    }
    return body, meta


def write(out_root: str | os.PathLike, options: BuildOptions | None = None):
    """Write ``out_root/deepimagine/bench`` (parquet per split + README card)."""
    tables, info = build_tables(options)
    return write_corpus(out_root, _NAME, tables, info, render_card, "questions"), tables, info
