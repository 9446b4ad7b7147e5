"""deepimagine/pairs: counterfactual pairs with TRL-standard text, strict (inside one trial) and approximate.

Configs ``strict_arm`` (two arms, one outcome), ``strict_dose`` (two doses of one intervention, one outcome) and
``strict_outcome`` (same two arms, two outcomes); ``approx`` (a target comparison and a retrieved anchor from an
earlier, similar trial, with the factors that differ) and ``pathways`` (the single-factor steps from up to seven
anchors to a target). Splits by results-first-posted date; CT Open's trials and user exclusion lists removed from
``train``. Every row keeps the source values its label was computed from.

Example record (config ``strict_dose``; MBNMAdose ``alog_pcfb``, trial NCT00286429)::

    {"pair_id": "strict_dose:dose_response/alog_pcfb/NCT00286429:O0:OG001|OG002", "kind": "strict_dose",
     "changed_factor": "dose", "a_title": "alogliptin 12.5", "b_title": "alogliptin 25", "a_value": -0.84,
     "b_value": -0.81, "computed_test": "welch_t", "significance": "not_significant",
     "prompt": "You predict the results of clinical trials ...", "completion": "... DECISION: (0.0, 1.0)", ...}
"""

from __future__ import annotations

import math
import os

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
from deepimagine_data.pairs.approx import APPROX, PATHWAYS
from deepimagine_data.pairs.kinds import MEANING
from deepimagine_data.pairs.strict import KINDS, PAIRS
from deepimagine_data.pipeline import BuildContext, BuildOptions, default_options
from deepimagine_data.tables import unpacked

_NAME = "deepimagine/pairs"
_DESCRIPTION = (
    "Counterfactual pairs from real trials with posted results: strict pairs (two arms, two doses, or two outcome "
    "measures of one trial) and approximate pairs and pathways (an earlier similar trial as anchor, the factors that "
    "differ named), labelled from the posted analysis or the per-arm values, with prompt/completion text."
)
_CITATION = CITATION
_LICENSE = "per source, in the `license` column; the card's `license` is computed from the sources of its rows"
_HOMEPAGE = "https://clinicaltrials.gov"
SOURCE_VERSION = "embedded-snapshot-1"
VERSION = "0.3.0"
APPROX_CONFIGS = ["approx", "pathways"]
CONFIGS = [*KINDS, *APPROX_CONFIGS]
SPLITS = ["train", "validation", "test"]
# Each in its published order (pairs.kinds.LEAD_COLUMNS first): the schemas are declared that way.
SCHEMAS = {**{k: PAIRS for k in KINDS}, "approx": APPROX, "pathways": PATHWAYS}
FEATURES: dict[str, Features] = {k: Features.from_arrow_schema(s) for k, s in SCHEMAS.items()}
ID_COLUMNS = {**{k: "pair_id" for k in KINDS}, "approx": "pair_id", "pathways": "pathway_id"}


def build_tables(
    options: BuildOptions | None = None, ctx: BuildContext | None = None, packed: bool = False
) -> tuple[dict[str, dict[str, pa.Table]], dict]:
    """config -> split -> table, plus the build info the card shows (splits, exclusions, removed rows); ``ctx`` is
    the command's build context (default: the shared one of ``options``' inputs). ``packed=True`` leaves the strict
    configs as ``PackedTable`` (what :func:`write` streams to parquet); by default every table is unpacked."""
    from deepimagine_data import pipeline

    opts = options or default_options()
    ctx = pipeline.context_for(opts, ctx)
    products = ctx.products(opts.targets)
    configs = ctx.take_strict(opts.targets)
    funnel = ctx.comparison_funnel("deepimagine/pairs", opts.targets)
    for kind, dropped in products.strict_counts.items():
        funnel.add(f"{kind} pairs", configs[kind].num_rows, dropped)
    approx = None
    if opts.approx is not None:
        approx = ctx.approx_pairs(opts)
        configs.update(approx.tables)
        funnel.add(
            f"approx pairs ({approx.targets:,} targets, {approx.without_anchor:,} without an anchor)",
            approx.tables["approx"].num_rows,
            approx.dropped.get("approx"),
        )
        funnel.add(
            "pathways",
            approx.tables["pathways"].num_rows,
            approx.dropped.get("pathways"),
        )
        if ctx.release:
            approx.tables = {}  # now only in ``configs``: held once while split
    split, assignment, deco, removed = pipeline.split_all(configs, opts, ctx)
    pipeline.add_split_steps(funnel, split, removed)
    info = {"reports": ctx.reports, "assignment": assignment, "decontamination": deco, "removed": removed}
    info["sources"] = ctx.assembled().sources
    if not packed:
        split = {cfg: {s: unpacked(t) for s, t in by.items()} for cfg, by in split.items()}
    return split, {**info, "approx": approx, "funnel": funnel}


def recompute_labels(config: str, row: dict) -> dict:
    """The label fields and answer index recomputed from the source values stored in ``row``."""
    from deepimagine_data.pairs.comparisons import recompute_label
    from deepimagine_data.pairs.render import options_for

    out = recompute_label(row)
    _, options, answer = options_for({**row, **out}, row["a_title"], row["b_title"])
    out["options"], out["answer_index"] = options, answer
    return out


def build(config: str = "strict_arm", options: BuildOptions | None = None) -> DatasetDict:
    """One config as a DatasetDict with splits train/validation/test."""
    tables, _ = build_tables(options)
    return to_dataset_dict(tables[config], FEATURES[config])


def _balance(t: pa.Table) -> str:
    """Shares of the answers: significance, and for non-inferiority/equivalence rows their result."""
    from collections import Counter

    rows = t.select(["is_non_inferiority", "significance", "ni_result"]).to_pylist()
    c = Counter(f"ni_{r['ni_result']}" if r["is_non_inferiority"] else r["significance"] for r in rows)
    n = t.num_rows or 1
    return ", ".join(f"{k} {v / n:.0%}" for k, v in sorted(c.items()))


def render_card(tables: dict[str, dict[str, pa.Table]], info: dict, fingerprint: str) -> tuple[str, dict]:
    from deepimagine_data.cards.common import split_corpus_fields

    rows = []
    for cfg in [c for c in CONFIGS if c in tables]:
        for split in SPLITS:
            t = tables[cfg][split]
            n_trials = pc.count_distinct(t.column("trial_id")).as_py() if t.num_rows else 0
            per_arm = pc.sum(pc.is_valid(t.column("a_value"))).as_py() or 0 if t.num_rows else 0
            bal = _balance(t) if t.num_rows else "-"
            qt = pc.value_counts(t.column("question_type")).to_pylist() if t.num_rows else []
            qts = ", ".join(f"{d['values']} {d['counts']:,}" for d in sorted(qt, key=lambda d: d["values"])) or "-"
            rows.append(f"| `{cfg}` | {split} | {t.num_rows:,} | {n_trials:,} | {per_arm:,} | {bal} | {qts} |")
    from deepimagine_data.cards.common import OUT_OF_SCOPE, PERSONAL_INFO, corpus_license

    lic_meta, lic_section = corpus_license(tables, info, "rows")
    body = card_template("pairs").substitute(
        **split_corpus_fields(tables, info),
        version=VERSION,
        paper=PAPER_URL,
        meaning_rows="\n".join(f"| `{k}` | {v} |" for k, v in MEANING.items() if k in tables),
        approx_section=_approx_section(tables, info.get("approx")),
        targets_section=targets_section(tables),
        count_rows="\n".join(rows),
        structure=_structure(tables, info),
        out_of_scope=OUT_OF_SCOPE,
        personal=PERSONAL_INFO,
        limitations=_limitations(tables, info),
        license=lic_section,
        citation=_CITATION,
        package_version=__version__,
        fingerprint=fingerprint,
    )
    meta = {
        **lic_meta,
        "pretty_name": "DeepImagine counterfactual pairs",
        "language": ["en"],
        "task_categories": ["text-generation", "question-answering", "text-classification"],
        "task_ids": ["multiple-choice-qa"],
        "source_datasets": ["extended|deepimagine/trials"],
        "tags": ["clinical-trials", "counterfactual", "trl", "medical", "arxiv:2604.23054"],
        "size_categories": size_categories(tables),
        **deepimagine_meta(VERSION, fingerprint),
    }
    return body, meta


def targets_section(tables: dict[str, dict[str, pa.Table]]) -> str:
    """The decision-target rule of this build and what it means for cross-entropy."""
    from collections import Counter

    from deepimagine_data.pairs.render import TargetRule

    rules = Counter(r for by in tables.values() for t in by.values() for r in t.column("target_rule").to_pylist())
    names = ", ".join(f"`{k}`" for k in sorted(rules)) or "-"
    rule = TargetRule.parse(sorted(rules)[0]) if len(rules) == 1 else TargetRule()
    accs = (0.5, 0.6, 0.7, 0.8, 0.9)
    onehot = TargetRule(0.0)
    lines = [
        f"Decision targets of this build: {names} (`target_rule` column). `smooth:EPS` puts `1 - EPS` on the known "
        "answer and shares `EPS` equally among the other options; `onehot` is `smooth:0`. The known answer always "
        "keeps the highest probability, so accuracy-type metrics read the same label. Choose another rule at build "
        "time (`deepimagine build --targets onehot|smooth:EPS`) or at training time without a rebuild "
        "(`deepimagine train sft --targets ...`); the run record says which rule trained the model.",
        "",
        "Why not one-hot: a model that learns to reproduce the targets states their confidence. CT Open's "
        "cross-entropy of such a model, by how often its chosen option is right (uniform guess: "
        f"{math.log(2):.2f} for 2 options, {math.log(3):.2f} for 3):",
        "",
        "| targets | options | " + " | ".join(f"right {a:.0%}" for a in accs) + " |",
        "|---|---:|" + "---:|" * len(accs),
    ]
    for r in (rule, onehot):
        for n in (2, 3):
            ce = " | ".join(f"{r.expected_cross_entropy(n, a):.2f}" for a in accs)
            lines.append(f"| `{r.name}` | {n} | {ce} |")
    lines += [
        "",
        "The default `smooth:0.2` keeps a model that is right 60-70% of the time near a uniform guess on 2-way "
        "questions and far from one-hot's ~10; GRPO's `--reward brier` is the calibration-sensitive reward.",
    ]
    return "\n".join(lines)


def _structure(tables: dict[str, dict[str, pa.Table]], info: dict) -> str:
    """Dataset Structure: the example row, then every column: the strict configs' schema in full, and what
    ``approx`` and ``pathways`` add to it."""
    from deepimagine_data.cards.common import columns_table, example_block

    strict = SCHEMAS[KINDS[0]]
    parts = [example_block(info.get("example"))]
    parts.append(
        f"### Columns of `{'`, `'.join(KINDS)}` (one schema)\n\nFields a kind does not use are null (the "
        f"`anchor_*` columns are `strict_outcome`'s).\n\n{columns_table('pairs', strict)}"
    )
    for cfg in APPROX_CONFIGS:
        if cfg not in tables:
            continue
        extra = [n for n in SCHEMAS[cfg].names if n not in strict.names]
        gone = [n for n in strict.names if n not in SCHEMAS[cfg].names]
        lacks = f" It has no `{'`, `'.join(gone)}`." if gone else ""
        parts.append(
            f"### `{cfg}` adds\n\nEvery column above describes the target comparison; `anchor_*` columns the "
            f"anchor from an earlier trial.{lacks}\n\n{columns_table(cfg, SCHEMAS[cfg], extra)}"
        )
    return "\n\n".join(parts)


def _limitations(tables: dict[str, dict[str, pa.Table]], info: dict) -> str:
    """Bias, risks and limitations, each figure read from this build's rows."""
    from deepimagine_data.cards.common import oncology_share, small_splits

    lines = [x for x in [oncology_share(tables, info, "rows")] if x]
    strict = [t for cfg in KINDS if cfg in tables for t in tables[cfg].values()]
    n = sum(t.num_rows for t in strict)
    per_arm = sum(pc.sum(pc.is_valid(t.column("a_value"))).as_py() or 0 for t in strict if t.num_rows)
    lines.append(
        f"- **Few per-arm values.** {per_arm:,} of {n:,} strict pairs ({per_arm / max(n, 1):.0%}) carry per-arm "
        "values; AACT posts none, so most labels come from the posted analysis alone (p-value, estimate, CI) "
        "and the direction of a result is often `unknown`."
    )
    small = small_splits({c: tables[c] for c in CONFIGS if c in tables})
    if small:
        lines.append(
            "- **Small evaluation splits.** " + ", ".join(small) + " rows: a figure on so few rows (often from a "
            "handful of trials) has a wide interval; report it with the number of rows and trials, or pool splits."
        )
    arm_train = tables.get("strict_arm", {}).get("train")
    if arm_train is not None and arm_train.num_rows:
        ns = pc.sum(pc.equal(arm_train.column("significance"), "not_significant")).as_py() or 0
        lines.append(
            f"- **Unbalanced answers.** {ns / arm_train.num_rows:.0%} of `strict_arm` train rows are not "
            "significant; a constant guess scores that share, so read accuracy beside balanced accuracy."
        )
    lines += [
        "- **Selected by what was posted.** Only comparisons whose answer the record gives are kept (the funnel "
        "above counts the rest): trials that post analyses, margins and arm types are over-represented, and "
        "labels follow rules over posted text that can misread it (every value used is in the row to check).",
        "- **Template text, not expert reasoning.** `completion` is built from the prompt's facts by a template; "
        "approximate anchors come from text similarity and rule-based factor comparisons, not from a clinician's "
        "judgement of which trials are comparable.",
    ]
    return "\n".join(lines)


def _approx_section(tables: dict[str, dict[str, pa.Table]], approx) -> str:
    if approx is None:
        return "Not built in this release (`deepimagine build --no-approx`)."
    from collections import Counter

    r, o = approx.retrieval, approx.options
    lines = [
        f"Retrieval: `{r.model_name}` at revision `{r.model_revision}` over the text view `{r.text_version}` "
        f"(columns `retrieval_model`, `retrieval_model_revision`, `text_version`); {o.neighbours} neighbour trials "
        f"per target; `approx` keeps the best {o.approx_anchors} anchor(s) per target comparison, `pathways` the "
        f"best {o.pathway_anchors} per target trial; step order `{', '.join(o.order)}`. Search per split: "
        f"{r.index_summary()} (exact up to {o.exact_max:,} trials a split; above, HNSW with its recall@10 against "
        "the exact search on a sample of 1,000 queries).",
        "",
        f"Of {approx.targets:,} dated, labelled target comparisons, {approx.without_anchor:,} had no earlier anchor "
        "of their split with a changed factor.",
        "",
        "| config | changed factor | rows |",
        "|---|---|---:|",
    ]
    for cfg in APPROX_CONFIGS:
        c = Counter(f for t in tables[cfg].values() for fs in t.column("changed_factors").to_pylist() for f in fs)
        lines += [f"| `{cfg}` | {f} | {n:,} |" for f, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]
    p = tables["pathways"]
    per_target = Counter(x for t in p.values() for x in t.column("comparison_id").to_pylist())
    lines += [
        "",
        f"`pathways`: {len(per_target):,} targets, {sum(1 for n in per_target.values() if n >= 3):,} of them with "
        "three or more anchors.",
    ]
    return "\n".join(lines)


def write(out_root: str | os.PathLike, options: BuildOptions | None = None, ctx: BuildContext | None = None):
    """Write ``out_root/deepimagine/pairs`` (parquet per config and split + README card)."""
    tables, info = build_tables(options, ctx, packed=True)
    return write_corpus(out_root, _NAME, tables, info, render_card, "strict_arm"), tables, info
