"""``deepimagine score``: score predictions against a benchmark, print a table or a JSON results document.

Every figure comes with its 95% interval from a trial-clustered bootstrap (:mod:`.metrics`: 1000 resamples of the
trials, seed 0; ``--bootstrap N`` / ``--seed S`` change them, ``--bootstrap 0`` turns the intervals off). The table
shows each category's questions and trials, ``value [low, high]`` per metric, and under it how overall is made; the
JSON document has ``<metric>_ci95: [low, high]`` beside every metric of every category and overall, and the
bootstrap settings and overall's rule in ``meta``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CATEGORIES,
    CI_LEVEL,
    METRIC_LABELS,
    METRICS,
    MIN_CATEGORY_QUESTIONS,
    cluster_keys,
    describe_overall,
)


def _cell(r: dict, metric: str) -> str:
    text = f"{r[metric]:.4f}"
    ci = r.get(f"{metric}_ci95")
    return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def results_table(results: dict, min_category: int = MIN_CATEGORY_QUESTIONS, bootstrap_note: str = "") -> str:
    """The results as a text table: per category its questions and trials, each metric as ``value [low, high]``
    (the 95% interval, when the results have one), and under the table how overall is made and, with
    ``bootstrap_note``, the resamples behind the intervals."""
    rows = []
    for cat in [*CATEGORIES, "overall"]:
        r = results.get(cat)
        if r is None:
            continue
        trials = r.get("trials")
        rows.append(
            [cat, f"{r['questions']:,}", "" if trials is None else f"{trials:,}", *(_cell(r, m) for m in METRICS)]
        )
    head = ["category", "questions", "trials", *(METRIC_LABELS[m] for m in METRICS)]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    widths[0] = max(widths[0], 16)

    def line(cells: list[str]) -> str:
        return " ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(head), "-" * len(line(head)), *(line(r) for r in rows)]
    if "overall" in results:
        out.append(f"overall: {describe_overall(results, min_category)}")
    if any(f"{m}_ci95" in r for r in results.values() if isinstance(r, dict) for m in METRICS):
        how = bootstrap_note or "see `deepimagine score --help`"
        out.append(f"[low, high]: {CI_LEVEL:.0%} interval, trial-clustered bootstrap ({how})")
    return "\n".join(out)


def results_document(report, benchmark: str, edition: str | None, paths: list[str]) -> dict:
    doc = {k: v for k, v in report.results.items()}
    trials = len(set(cluster_keys(report.items[0]))) if report.items else None
    doc["meta"] = {
        "benchmark": benchmark,
        "edition": edition,
        "runs": report.runs,
        "questions": report.questions,
        "answered": report.answered,
        "trials": trials,
        "unreadable": len(report.unreadable),
        "predictions": paths,
        "overall": describe_overall(report.results, report.min_category),
        "min_category_questions": report.min_category,
        "bootstrap": {
            "resamples": report.bootstrap,
            "seed": report.seed,
            "level": CI_LEVEL,
            "unit": "trial (nct_id): the questions of a drawn trial come along, in every category and run",
            "method": "percentile interval of the replicates",
        },
    }
    return doc


def cmd_score(args: argparse.Namespace) -> int:
    from .questions import load_questions
    from .submission import SubmissionError, score

    source = args.source
    if source is None and args.benchmark == "ctopen":
        source = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    try:
        questions = load_questions(args.benchmark, args.edition, source, args.split)
        if args.bootstrap < 0:
            raise ValueError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
        report = score(
            questions,
            args.predictions,
            partial=args.partial,
            bootstrap=args.bootstrap,
            seed=args.seed,
            min_category=args.min_category,
        )
    except (SubmissionError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    doc = results_document(report, args.benchmark, args.edition, [str(p) for p in args.predictions])
    if args.plot:
        from ..fsutil import atomic_write_bytes
        from ..leaderboard import calibration_svg
        from .metrics import reliability

        pooled = [x for run in report.items for x in run]
        label = f"{args.benchmark} {args.edition or args.split}: reliability, all questions of {report.runs} run(s)"
        atomic_write_bytes(args.plot, calibration_svg(reliability(pooled), label, size=320).encode())
        print(f"reliability diagram -> {args.plot}", file=sys.stderr)
    if args.json:
        print(json.dumps(doc, indent=1, sort_keys=False))
        return 0
    name = f"{args.benchmark} {args.edition or args.split}"
    print(f"{name}: {report.runs} run(s), {report.answered:,} of {report.questions:,} questions answered")
    note = f"{report.bootstrap:,} resamples of the {doc['meta']['trials']:,} trials, seed {report.seed}"
    print(results_table(report.results, report.min_category, note))
    if report.unreadable:
        print(f"\n{len(report.unreadable):,} unreadable decision(s), counted wrong; first ones:")
        for key, why in report.unreadable[:5]:
            print(f"  {key[0]} {key[1][:50]!r} q{key[2]}: {why}")
    return 0


def cmd_questions(args: argparse.Namespace) -> int:
    from ..fsutil import atomic_write_bytes
    from .questions import question_records, template_output

    source = args.source
    if source is None and args.benchmark == "ctopen":
        source = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    try:
        records = question_records(args.benchmark, args.edition, source)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    lines = []
    for r in records:
        if args.template:
            r = {**r, "output": template_output(len(r["options"]), args.template)}
        lines.append(json.dumps(r, ensure_ascii=False))
    atomic_write_bytes(args.out, ("\n".join(lines) + "\n").encode())
    name = f"{args.benchmark} {args.edition}" if args.edition else args.benchmark
    what = f"predictions ({args.template})" if args.template else "questions"
    print(f"{name}: {len(records):,} {what} -> {args.out}")
    if args.template:
        print(f"score them: deepimagine score --benchmark {args.benchmark} ... --predictions {args.out}")
    else:
        print('add an "output" (a text ending in a DECISION line, one probability per option) to each line and '
              f"score the file: deepimagine score --benchmark {args.benchmark} ... --predictions FILE")  # fmt: skip
    return 0


def _benchmark_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--benchmark", choices=["ctopen", "deepimagine"], required=True)
    s.add_argument("--edition", choices=["winter2025", "summer2025"], help="CT Open edition (ctopen only)")
    s.add_argument(
        "--source",
        default=None,
        help="ctopen: pickles (folder, file or URL; default $DEEPIMAGINE_CTOPEN_DIR, the cache, the pinned commit); "
        "deepimagine: a built bench folder or hub root (default: build it in memory)",
    )


def add_questions_cli(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser(
        "questions",
        help="write a benchmark's questions (prompts, options, keys; no answers) to score your own model",
        description="Reads the benchmark's questions (CT Open pickles from --source / $DEEPIMAGINE_CTOPEN_DIR / the "
        "pinned commit, or a built deepimagine/bench; the test split) and writes --out, one JSON line per question: "
        "question_id, nct_id, outcome_measure, question_index (the key `deepimagine score` matches), category, "
        "options and prompt, exactly as the lm-eval tasks show them. Never the answer. Add an `output` to each line "
        "(your model's text ending in 'DECISION: (p1, p2[, p3])', one probability per option) and the file is a "
        "submission for `deepimagine score --predictions`. --template uniform adds an output already (equal "
        "probabilities): a valid submission to start from.",
    )
    _benchmark_args(q)
    q.add_argument("--out", type=Path, required=True, help="the JSONL file to write")
    q.add_argument(
        "--template", choices=["uniform"], default=None, help="add an output to every line: a complete submission"
    )
    q.set_defaults(func=cmd_questions)


def add_cli(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "score",
        help="score predictions on CT Open or the deepimagine bench",
        description="Reads predictions (CT Open's submission pickle keyed (nct_id, outcome_measure, "
        "question_index), JSONL with one {nct_id, outcome_measure, question_index, output} per line, or "
        "lm-eval --log_samples output; several files = several runs) and the benchmark's questions (CT Open "
        "pickles from --source / $DEEPIMAGINE_CTOPEN_DIR / the pinned commit, or a built deepimagine/bench). "
        "Prints a table: per category (2-way implicit, 2-way explicit, 3-way explicit) and overall, the questions "
        "and trials scored and CT Open's metrics (balanced accuracy, macro-F1, cross-entropy; averaged over runs) "
        "plus Brier score and ECE, each as 'value [low, high]' with its 95% interval from a trial-clustered "
        "bootstrap (the trials, i.e. nct_ids, are resampled with replacement, a trial's questions move together in "
        f"every category and run; {BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}, percentile interval). "
        f"Overall is the plain mean of the categories with at least {MIN_CATEGORY_QUESTIONS} questions "
        "(--min-category); smaller ones are shown but left out, and a line under the table says which. --json "
        "prints the results document instead: each metric with a sibling <metric>_ci95 [low, high], questions "
        "and trials per category, and in meta the bootstrap settings and how overall is made. Writes nothing.",
    )
    _benchmark_args(s)
    s.add_argument("--split", default="test", help="deepimagine bench split (default test)")
    s.add_argument("--predictions", type=Path, nargs="+", required=True, help="one file per run")
    s.add_argument("--partial", action="store_true", help="score only the answered questions (default: all needed)")
    s.add_argument("--json", action="store_true", help="print the results document as JSON")
    s.add_argument("--plot", type=Path, default=None, help="also write a reliability diagram (SVG) to this file")
    s.add_argument(
        "--bootstrap",
        type=int,
        default=BOOTSTRAP_RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples behind the 95%% intervals (default {BOOTSTRAP_RESAMPLES}; 0: no intervals)",
    )
    s.add_argument("--seed", type=int, default=BOOTSTRAP_SEED, help=f"bootstrap seed (default {BOOTSTRAP_SEED})")
    s.add_argument(
        "--min-category",
        type=int,
        default=MIN_CATEGORY_QUESTIONS,
        metavar="N",
        help=f"overall leaves out categories with fewer questions (default {MIN_CATEGORY_QUESTIONS}; 0: CT Open's "
        "plain mean of every category)",
    )
    s.set_defaults(func=cmd_score)
