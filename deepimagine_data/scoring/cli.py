"""``deepimagine score``: score predictions against a benchmark, print a table or a JSON results document."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .metrics import CATEGORIES


def results_table(results: dict) -> str:
    cols = f"{'questions':>9} {'bal. acc':>9} {'macro F1':>9} {'x-entropy':>10} {'Brier':>7} {'ECE':>7}"
    head = f"{'category':<16} {cols}"
    lines = [head, "-" * len(head)]
    for cat in [*CATEGORIES, "overall"]:
        r = results.get(cat)
        if r is None:
            continue
        lines.append(
            f"{cat:<16} {r['questions']:>9,} {r['balanced_accuracy']:>9.4f} {r['macro_f1']:>9.4f} "
            f"{r['cross_entropy']:>10.4f} {r['brier']:>7.4f} {r['ece']:>7.4f}"
        )
    return "\n".join(lines)


def results_document(report, benchmark: str, edition: str | None, paths: list[str]) -> dict:
    doc = {k: v for k, v in report.results.items()}
    doc["meta"] = {
        "benchmark": benchmark,
        "edition": edition,
        "runs": report.runs,
        "questions": report.questions,
        "answered": report.answered,
        "unreadable": len(report.unreadable),
        "predictions": paths,
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
        report = score(questions, args.predictions, partial=args.partial)
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
    print(results_table(report.results))
    if report.unreadable:
        print(f"\n{len(report.unreadable):,} unreadable decision(s), counted wrong; first ones:")
        for key, why in report.unreadable[:5]:
            print(f"  {key[0]} {key[1][:50]!r} q{key[2]}: {why}")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "score",
        help="score predictions on CT Open or the deepimagine bench",
        description="Reads predictions (CT Open's submission pickle keyed (nct_id, outcome_measure, "
        "question_index), JSONL with one {nct_id, outcome_measure, question_index, output} per line, or "
        "lm-eval --log_samples output; several files = several runs) and the benchmark's questions (CT Open "
        "pickles from --source / $DEEPIMAGINE_CTOPEN_DIR / the pinned commit, or a built deepimagine/bench). "
        "Prints CT Open's metrics per category (balanced accuracy, macro-F1, cross-entropy) plus Brier score and "
        "ECE; --json prints the results document. Writes nothing.",
    )
    s.add_argument("--benchmark", choices=["ctopen", "deepimagine"], required=True)
    s.add_argument("--edition", choices=["winter2025", "summer2025"], help="CT Open edition (ctopen only)")
    s.add_argument(
        "--source",
        default=None,
        help="ctopen: pickles (folder, file or URL; default $DEEPIMAGINE_CTOPEN_DIR, the cache, the pinned commit); "
        "deepimagine: a built bench folder or hub root (default: build it in memory)",
    )
    s.add_argument("--split", default="test", help="deepimagine bench split (default test)")
    s.add_argument("--predictions", type=Path, nargs="+", required=True, help="one file per run")
    s.add_argument("--partial", action="store_true", help="score only the answered questions (default: all needed)")
    s.add_argument("--json", action="store_true", help="print the results document as JSON")
    s.add_argument("--plot", type=Path, default=None, help="also write a reliability diagram (SVG) to this file")
    s.set_defaults(func=cmd_score)
