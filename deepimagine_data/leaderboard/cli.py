"""``deepimagine submit`` and ``deepimagine leaderboard``: the command lines over the store and the page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..scoring.questions import EDITIONS
from .schema import DEFAULT_STORE, LeaderboardError
from .site import render
from .store import submit


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        sub = submit(
            args.predictions,
            benchmark=args.benchmark,
            edition=args.edition,
            source=args.source,
            model_name=args.model_name,
            model_revision=args.model_revision,
            training_cutoff=args.training_cutoff,
            store=args.store,
            notes=args.notes,
            submitted_at=args.submitted_at,
        )
    except LeaderboardError as e:
        print(f"error: submission refused: {e}", file=sys.stderr)
        return 2
    from ..scoring.cli import results_table

    m = sub.metadata
    print(f"accepted {sub.submission_id[:12]}: {m.model_name} {m.model_revision} on {m.benchmark} {m.edition}")
    print(results_table(sub.results))
    if m.possibly_contaminated:
        print(
            f"note: training cutoff {m.training_cutoff} is on or after the benchmark cutoff {m.benchmark_cutoff}; "
            "the entry is flagged as possibly contaminated"
        )
    print(f"stored in {sub.folder} ({len(sub.rows)} rows)")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    try:
        page, md = render(args.store, args.out, source=args.source, hub=args.hub)
    except LeaderboardError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {page} and {md}")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register ``submit`` and ``leaderboard`` on the ``deepimagine`` subcommand parser."""
    s = sub.add_parser(
        "submit",
        help="check, score and store a leaderboard submission",
        description="Checks a submission strictly (every question answered exactly once, every decision readable "
        "with one finite non-negative probability per option, no unknown key, model name, revision and training "
        "cutoff given) and refuses it with exit code 2 and a message naming the problem, writing nothing. A good "
        "one is scored as `deepimagine score` scores it and appended to STORE/deepimagine/leaderboard (parquet + "
        "README card; publish it with `deepimagine publish`). The same predictions for the same model are refused "
        "as a duplicate.",
    )
    s.add_argument("--predictions", type=Path, nargs="+", required=True, help="one file per run")
    s.add_argument("--benchmark", choices=["ctopen", "deepimagine"], required=True)
    s.add_argument("--edition", choices=list(EDITIONS), help="CT Open edition (ctopen only)")
    s.add_argument(
        "--source",
        default=None,
        help="ctopen: pickles (folder, file or URL; default $DEEPIMAGINE_CTOPEN_DIR, the cache, the pinned commit); "
        "deepimagine: a built bench folder or hub root (default: build it in memory)",
    )
    s.add_argument("--model-name", help="the model's name (required)")
    s.add_argument("--model-revision", help="the model's revision: a commit, tag or version (required)")
    s.add_argument("--training-cutoff", help="the model's training-data cutoff, YYYY-MM-DD (required)")
    s.add_argument("--notes", default="", help="free text shown with the entry")
    s.add_argument("--store", type=Path, default=DEFAULT_STORE, help="store root (default ./leaderboard)")
    s.add_argument(
        "--submitted-at",
        default=None,
        help="record this ISO timestamp as the submission time (default $SOURCE_DATE_EPOCH, else now; UTC)",
    )
    from .. import ctopen

    ctopen.add_timeout_argument(s)
    s.set_defaults(func=cmd_submit)

    lb = sub.add_parser(
        "leaderboard",
        help="render the leaderboard as a static page and a Markdown table",
        description="Reads STORE/deepimagine/leaderboard and writes OUT/index.html (self-contained: inline CSS, JS "
        "and SVG; a sortable table per benchmark and edition, one line per entry at 1366 px with each overall "
        "figure's 95% trial-clustered bootstrap interval beside it, the per-category columns behind a toggle, notes "
        "in an expandable detail, chance and majority reference rows, and a calibration plot per submission whose "
        "bars show how many answers each bin holds) and OUT/leaderboard.md (figures as 'value (low–high)'). The "
        "reference rows are scored on each board's own questions, read offline: CT Open's pickles (--source, "
        "$DEEPIMAGINE_CTOPEN_DIR or the download cache) and a built bench (--hub; its train split gives majority's "
        "answer shares); a board whose questions are not found says so instead.",
    )
    lb.add_argument("--out", type=Path, required=True, help="output folder")
    lb.add_argument("--store", type=Path, default=DEFAULT_STORE, help="store root (default ./leaderboard)")
    lb.add_argument(
        "--source",
        default=None,
        help="CT Open's pickles (folder or file) for the reference rows (default $DEEPIMAGINE_CTOPEN_DIR, else the "
        "download cache; never downloads)",
    )
    lb.add_argument(
        "--hub",
        default="hub",
        help="built hub root (or its deepimagine/bench folder) for the bench's questions and majority's train "
        "shares (default ./hub)",
    )
    lb.set_defaults(func=cmd_leaderboard)


def main(argv: list[str] | None = None) -> int:
    """``submit`` / ``leaderboard`` on their own (``deepimagine`` wires :func:`add_cli` in its parser)."""
    p = argparse.ArgumentParser(prog="deepimagine")
    add_cli(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)
