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
    card_template,
    size_categories,
    to_dataset_dict,
    write_corpus,
)
from deepimagine_data.pairs.approx import APPROX, PATHWAYS
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
_LICENSE = "other"  # per-source licenses in the `license` column and the card
_HOMEPAGE = "https://clinicaltrials.gov"
SOURCE_VERSION = "embedded-snapshot-1"
VERSION = "0.3.0"
APPROX_CONFIGS = ["approx", "pathways"]
CONFIGS = [*KINDS, *APPROX_CONFIGS]
SPLITS = ["train", "validation", "test"]
FEATURES: dict[str, Features] = {
    **{k: Features.from_arrow_schema(PAIRS) for k in KINDS},
    "approx": Features.from_arrow_schema(APPROX),
    "pathways": Features.from_arrow_schema(PATHWAYS),
}
ID_COLUMNS = {**{k: "pair_id" for k in KINDS}, "approx": "pair_id", "pathways": "pathway_id"}

_MEANING = {
    "strict_arm": "two protocol arms of one trial on one outcome (two doses of one intervention are in "
    "`strict_dose` only; subgroups, time points and groups that map to no protocol arm are left out)",
    "strict_dose": "two doses of one intervention in one trial, one outcome: two protocol arms, or two dose cohorts "
    "of one protocol arm (a dose-escalation trial reporting each dose level; `group_relation` `same_arm`)",
    "strict_outcome": "the same two arms of one trial on two outcome measures",
    "approx": "a target comparison and an anchor comparison (result known) from an earlier, similar trial of the "
    "same split, with the factors that differ (`changed_factors`, `unknown_factors`)",
    "pathways": "one anchor -> target walk: the changed factors as ordered single-factor steps, each step a prompt",
}


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
    body = card_template("pairs").substitute(
        **split_corpus_fields(tables, info),
        version=VERSION,
        meaning_rows="\n".join(f"| `{k}` | {v} |" for k, v in _MEANING.items() if k in tables),
        approx_section=_approx_section(tables, info.get("approx")),
        targets_section=targets_section(tables),
        count_rows="\n".join(rows),
        citation=_CITATION,
        package_version=__version__,
        fingerprint=fingerprint,
    )
    meta = {
        "license": _LICENSE,
        "pretty_name": "DeepImagine counterfactual pairs",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": ["clinical-trials", "counterfactual", "trl", "medical"],
        "size_categories": size_categories(tables),
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
