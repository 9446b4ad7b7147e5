"""deepimagine/bench: the package's own outcome-prediction benchmark, questions in CT Open's shape.

From posted analyses of real trials (:mod:`deepimagine_data.question_rows`): CT Open's directional 2-way explicit
questions, its 3-way questions where the record gives no experimental/comparator orientation, and its 2-way implicit
"endpoint met" questions (meta labels ``no_arm``, ``no_distinguishable_arm``) where the posted analyses decide them;
one question per comparison. The temporal ``test`` split (results first posted from 2021-01-01) is the benchmark;
``train``/``validation`` exist for baselines, with CT Open's trials removed from ``train``.

Example record (config ``questions``, split ``test``; AACT NCT03584009)::

    {"question_id": "NCT03584009:O0:OG001|OG000:superiority_2way", "category": "2-way explicit",
     "meta_label": "single_arm", "question_type": "superiority_2way", "arms_mode": "explicit", "answer_index": 1,
     "p_value": 0.7286, "alpha": 0.05, "significance": "not_significant", "prompt": "You predict the results ...", ...}
"""

from __future__ import annotations

import os
from collections import Counter

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
from deepimagine_data.pipeline import BuildContext, BuildOptions, default_options
from deepimagine_data.question_rows import QUESTIONS, cap_per_trial

_NAME = "deepimagine/bench"
_DESCRIPTION = (
    "Clinical-trial outcome prediction questions in CT Open's shape (2-way/3-way, explicit/implicit arms) from "
    "posted analyses of real trials, split by results-first-posted date."
)
_CITATION = CITATION
_LICENSE = "per source, in the `license` column; the card's `license` is computed from the sources of its rows"
_HOMEPAGE = "https://clinicaltrials.gov"
SOURCE_VERSION = "embedded-snapshot-1"
VERSION = "0.3.0"
CONFIGS = ["questions"]
SPLITS = ["train", "validation", "test"]
SCHEMAS = {"questions": QUESTIONS}  # in its published order (question_rows.QUESTION_LEAD_COLUMNS first)
FEATURES: dict[str, Features] = {k: Features.from_arrow_schema(s) for k, s in SCHEMAS.items()}
ID_COLUMNS = {"questions": "question_id"}


def build_tables(
    options: BuildOptions | None = None, ctx: BuildContext | None = None
) -> tuple[dict[str, dict[str, pa.Table]], dict]:
    """split -> table of questions, plus the build info the card shows; ``ctx`` is the command's build context
    (default: the shared one of ``options``' inputs)."""
    from deepimagine_data import pipeline

    opts = options or default_options()
    ctx = pipeline.context_for(opts, ctx)
    products = ctx.products(opts.targets)
    questions = ctx.take_questions(opts.targets)
    funnel = ctx.comparison_funnel("deepimagine/bench", opts.targets)
    listed = questions.filter(pc.equal(questions.column("arms_mode"), "implicit")).column("listed_comparison_ids")
    funnel.add(
        f"questions ({pc.sum(pc.list_value_length(listed)).as_py() or 0:,} comparisons in {len(listed):,} endpoint "
        "questions)",
        questions.num_rows,
        products.question_counts,
    )
    split, assignment, deco, removed = pipeline.split_all({"questions": questions}, opts, ctx)
    test = split["questions"]["test"]
    split["questions"]["test"], capped = cap_per_trial(test, opts.bench_max_per_trial)
    cap = opts.bench_max_per_trial
    funnel.add(
        f"test split: at most {cap} questions per trial" if cap else "test split: no cap on questions per trial",
        split["questions"]["test"].num_rows,
        capped,
    )
    pipeline.add_split_steps(funnel, split, removed)
    return split, {
        "max_per_trial": opts.bench_max_per_trial,
        "sources": ctx.assembled().sources,
        "reports": ctx.reports,
        "assignment": assignment,
        "decontamination": deco,
        "removed": removed,
        "funnel": funnel,
    }


def recompute_labels(config: str, row: dict) -> dict:
    from deepimagine_data.ctopen import question_category
    from deepimagine_data.pairs.comparisons import recompute_label
    from deepimagine_data.question_rows import endpoint_options, explicit_question, met

    out = recompute_label(row)
    merged = {**row, **out}
    if row["question_type"] == "endpoint_2way":
        # the representative comparison's own result, recomputed, in its place among the listed ones
        results = list(row["listed_results"])
        results[row["listed_comparison_ids"].index(row["comparison_id"])] = met(merged)
        out["listed_results"] = results
        out["options"] = endpoint_options(row["meta_label"])
        out["answer_index"] = 0 if "met" in results else 1
    else:
        out["question_type"], out["options"], out["answer_index"] = explicit_question(merged)
    out["category"] = question_category(len(out["options"]), row["meta_label"])
    return out


def build(config: str = "questions", options: BuildOptions | None = None) -> DatasetDict:
    """The questions as a DatasetDict with splits train/validation/test."""
    tables, _ = build_tables(options)
    return to_dataset_dict(tables[config], FEATURES[config])


CATEGORIES = ("2-way explicit", "2-way implicit", "3-way explicit")


def category_shares(t: pa.Table) -> dict[str, dict]:
    """category -> {"questions": n, "answers": counts per option} of a questions table."""
    out = {}
    for cat in CATEGORIES:
        s = t.filter(pc.equal(t.column("category"), cat)) if t.num_rows else t
        n_opts = 3 if cat.startswith("3") else 2
        answers = Counter(s.column("answer_index").to_pylist()) if s.num_rows else Counter()
        out[cat] = {"questions": s.num_rows, "answers": tuple(answers.get(i, 0) for i in range(n_opts))}
    return out


def _pct(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "-"


def ctopen_comparison(t: pa.Table) -> str:
    """A Markdown table: category shares and answer shares of a bench split beside CT Open's editions."""
    from deepimagine_data.ctopen import REFERENCE_COUNTS

    ours = category_shares(t)
    cols = [("bench test", ours), *((f"CT Open {e}", REFERENCE_COUNTS[e]) for e in ("winter2025", "summer2025"))]
    head = "| category | " + " | ".join(f"{name}: share" for name, _ in cols) + " | "
    head += " | ".join(f"{name}: answers (option 0 / 1 / 2)" for name, _ in cols) + " |"
    lines = [head, "|---|" + "---:|" * len(cols) + "---|" * len(cols)]
    for cat in CATEGORIES:
        cells = []
        for _, counts in cols:
            total = sum(v["questions"] for v in counts.values())
            cells.append(f"{_pct(counts[cat]['questions'], total)} ({counts[cat]['questions']:,})")
        for _, counts in cols:
            a, n = counts[cat]["answers"], counts[cat]["questions"]
            cells.append(" / ".join(_pct(x, n) for x in a) if a is not None and n else "-")
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    meta = Counter(t.column("meta_label").to_pylist()) if t.num_rows else Counter()
    lines += ["", "Meta labels of the test split: " + ", ".join(f"`{k}` {v:,}" for k, v in sorted(meta.items()))]
    return "\n".join(lines)


def scoring_rule() -> str:
    """How the scorer reports figures on this bench (from its own constants)."""
    from deepimagine_data.scoring.metrics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, MIN_CATEGORY_QUESTIONS

    return (
        "`deepimagine score --benchmark deepimagine --predictions FILE` (or the lm-eval task `deepimagine_bench`) "
        "reports CT Open's metrics per category with the number of questions and trials, each with a 95% interval "
        f"from a trial-clustered bootstrap ({BOOTSTRAP_RESAMPLES:,} resamples of the trials with replacement, seed "
        f"{BOOTSTRAP_SEED}, percentile interval; a trial's questions move together). Overall is the plain mean of "
        f"the categories with at least {MIN_CATEGORY_QUESTIONS} questions; a smaller category is reported but left "
        "out of it. With a few trials per category, read every figure with its interval."
    )


def contamination(test: pa.Table, info: dict) -> str:
    """Which models the test split is clean for, from the dates it was built with."""
    a = info["assignment"]
    start = a.cutoffs.test_start
    dates = sorted(d for d in test.column("results_first_posted_date").to_pylist() if d is not None)
    latest = max((d for d in a.date.values() if d is not None), default=None)
    span = f" (first {dates[0]}, last {dates[-1]})" if dates else ""
    cap = info.get("max_per_trial")
    return (
        f"The `test` split holds {test.num_rows:,} questions from "
        f"{pc.count_distinct(test.column('trial_id')).as_py() if test.num_rows else 0:,} trials whose results were "
        f"first posted on ClinicalTrials.gov from {start}{span}"
        + (f", at most {cap} questions per trial" if cap else "")
        + f". **It is clean for a model whose training data ends before {start}**: such a model cannot have read "
        "these results in the registry. Results can appear earlier elsewhere (a journal article or a conference "
        "abstract before the registry posting), so the date bounds the registry, not the literature. A model "
        "trained on later data may have seen them: the leaderboard flags such submissions "
        "(`training_cutoff_after_benchmark`). For such a model, build a test split after its cutoff from a newer "
        "registry snapshot, e.g. `deepimagine build --validation-start 2025-01-01 --test-start 2025-07-01`"
        + (
            f"; the data this release was built from ends at {latest} (its latest results-posted date), so a "
            "later split needs registry data newer than that."
            if latest
            else "."
        )
    )


def _limitations(tables: dict[str, dict[str, pa.Table]], info: dict) -> str:
    """Bias, risks and limitations, each figure read from this build's rows."""
    from deepimagine_data.cards.common import oncology_share

    from deepimagine_data.scoring.metrics import MIN_CATEGORY_QUESTIONS

    test = tables["questions"]["test"]
    lines = [x for x in [oncology_share({"questions": {"test": test}}, info, "test questions")] if x]
    shares = category_shares(test)
    small = [f"{c} {v['questions']:,}" for c, v in shares.items() if v["questions"] < MIN_CATEGORY_QUESTIONS]
    n_trials = pc.count_distinct(test.column("trial_id")).as_py() if test.num_rows else 0
    lines.append(
        f"- **A small test set.** {test.num_rows:,} questions from {n_trials:,} trials; questions of one trial "
        "are not independent, so the scorer's intervals resample trials"
        + (
            f". Categories under {MIN_CATEGORY_QUESTIONS} questions ({', '.join(small)}) are reported but left out "
            "of overall."
            if small
            else "."
        )
    )
    explicit = shares["2-way explicit"]
    if explicit["questions"]:
        not_achieved = explicit["answers"][1] / explicit["questions"]
        lines.append(
            f'- **"Has not achieved" is the common answer.** {not_achieved:.0%} of the test\'s 2-way explicit '
            "questions: AACT posts no per-arm values, so a significant result is asked only where a posted text "
            'gives its direction, and the others drop out (see Beside CT Open). A model that always answers "not '
            'achieved" scores that share in accuracy; balanced accuracy, the headline metric, does not reward it.'
        )
    lines += [
        "- **Labels from registry postings.** The answer is what the sponsor posted, read by the label rules "
        "above; a posting can be wrong, and a rule can misread it (every value used is in the row to check). A "
        "publication may report another analysis of the same endpoint.",
        "- **Selected by what was posted.** Only comparisons whose answer the record gives are asked: trials "
        "that post analyses with p-values or margins, and arms of known type, are over-represented (the funnel "
        "above counts the rest).",
    ]
    return "\n".join(lines)


def render_card(tables: dict[str, dict[str, pa.Table]], info: dict, fingerprint: str) -> tuple[str, dict]:
    from deepimagine_data.cards.common import split_corpus_fields

    rows = []
    for split in SPLITS:
        t = tables["questions"][split]
        if not t.num_rows:
            rows.append(f"| {split} | - | 0 | 0 | - |")
            continue
        per_trial = Counter(t.column("trial_id").to_pylist())
        rows.append(
            f"| **{split}** | **all** (at most {max(per_trial.values())} per trial) | **{t.num_rows:,}** | "
            f"**{len(per_trial):,}** | |"
        )
        for cat in CATEGORIES:
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
    from deepimagine_data.cards.common import OUT_OF_SCOPE, PERSONAL_INFO, columns_table, corpus_license, example_block

    lic_meta, lic_section = corpus_license(tables, info, "questions")
    structure = [example_block(info.get("example"))]
    structure.append(f"### Columns\n\n{columns_table('questions', SCHEMAS['questions'])}")
    body = card_template("bench").substitute(
        **split_corpus_fields(tables, info),
        version=VERSION,
        paper=PAPER_URL,
        count_rows="\n".join(rows),
        ctopen_rows=ctopen_comparison(tables["questions"]["test"]),
        contamination=contamination(tables["questions"]["test"], info),
        scoring=scoring_rule(),
        structure="\n\n".join(structure),
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
        "pretty_name": "DeepImagine trial-outcome benchmark",
        "language": ["en"],
        "task_categories": ["question-answering", "text-classification"],
        "task_ids": ["multiple-choice-qa"],
        "source_datasets": ["extended|deepimagine/trials"],
        "tags": ["clinical-trials", "benchmark", "ct-open", "medical", "arxiv:2604.23054"],
        "size_categories": size_categories(tables),
        **deepimagine_meta(VERSION, fingerprint),
    }
    return body, meta


def write(out_root: str | os.PathLike, options: BuildOptions | None = None, ctx: BuildContext | None = None):
    """Write ``out_root/deepimagine/bench`` (parquet per split + README card)."""
    tables, info = build_tables(options, ctx)
    return write_corpus(out_root, _NAME, tables, info, render_card, "questions", "test"), tables, info
