"""``deepimagine baseline run|report``: the correlational baselines on the bench, CT Open and TOP.

``run`` fits one model on one benchmark, prints its figures as a table, writes the submission (bench, ctopen) and a
JSON of the figures to ``--out`` (default ``./baselines``, files ``<benchmark>-<edition>-<model>.{jsonl,json}``) and
with ``--submit`` appends the submission to a leaderboard store. ``report`` prints every run found in ``--out``.

>>> main(["run", "--model", "lr", "--benchmark", "ctopen", "--edition", "winter2025", "--json"])  # doctest: +SKIP
{"2-way implicit": {"balanced_accuracy": ...}, ..., "overall": {...}, "meta": {...}}
>>> main(["report"])  # doctest: +SKIP
benchmark  edition     model  ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..scoring.metrics import BOOTSTRAP_RESAMPLES, CATEGORIES, MIN_CATEGORY_QUESTIONS
from .bench import DEFAULT_OUT, bench_dir, default_name
from .features import VIEW, VIEWS
from .models import MODELS, NAMES

TOP_PHASES = ("I", "II", "III")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _run_top(args: argparse.Namespace) -> int:
    from ..fsutil import atomic_write_bytes
    from .top import format_comparison, run_top

    if args.train is None or (args.valid is None and args.test is None):
        msg = "--benchmark top needs --train CSV and --valid CSV and/or --test CSV (HINT's TOP files)"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    if args.submit:
        print("error: TOP has no leaderboard here (--submit is for bench and ctopen)", file=sys.stderr)
        return 2
    phase = args.phase or "I"
    result = run_top(args.model, phase, args.train, valid=args.valid, test=args.test, seed=args.seed)
    out = Path(args.out)
    edition = _edition_label(args)  # the name `--model all` looks for, too
    path = out / f"{default_name('top', edition, args.model)}.json"
    doc = {"benchmark": "top", "edition": edition, "model_name": f"baseline-{args.model}", **result}
    atomic_write_bytes(path, (json.dumps(doc, indent=1, default=str) + "\n").encode("utf-8"))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "predictions"}, indent=1, default=str))
    else:
        print(format_comparison([result]))
        print(f"figures -> {path}")
    return 0


def _submit(args: argparse.Namespace, result) -> str:
    from .. import __version__
    from ..leaderboard import submit

    benchmark = "deepimagine" if result.benchmark == "bench" else "ctopen"
    source = bench_dir(args.hub) if benchmark == "deepimagine" else args.source
    sub = submit(
        [result.submission],
        benchmark=benchmark,
        edition=None if benchmark == "deepimagine" else args.edition,
        source=source,
        model_name=f"baseline-{result.model}",
        model_revision=f"{__version__}+seed{result.seed}",
        training_cutoff=result.document["training_cutoff"],
        store=args.store,
        notes=(
            f"{NAMES[result.model]} on '{result.document['feature_set']}' features ({result.document['view']} view), "
            "one model per category, trained on deepimagine/bench train, hyperparameters chosen on validation "
            "(training cutoff = last results-first-posted date among those questions); deepimagine baseline run"
        ),
    )
    return sub.submission_id


def cmd_run(args: argparse.Namespace) -> int:
    if args.model != "all":
        return _run_one(args)
    if args.json:
        print("error: --json needs one --model (with --model all, read `deepimagine baseline report`)", file=sys.stderr)
        return 2
    # every model in turn, as if run one by one; the report then lists them side by side
    for model in MODELS:
        print(f"== {NAMES[model]} ({model}) ==", flush=True)
        rc = _run_one(argparse.Namespace(**{**vars(args), "model": model}))
        if rc:
            return rc
        print(flush=True)
    names = {default_name(args.benchmark, _edition_label(args), m) for m in MODELS}
    rows = [d for d in report_rows(args.out) if Path(d["_path"]).stem in names]
    print(report_table(rows))
    return 0


def _edition_label(args: argparse.Namespace) -> str | None:
    if args.benchmark == "top":
        return "phase" + (args.phase or "I")
    return args.edition if args.benchmark == "ctopen" else "test"


def _run_one(args: argparse.Namespace) -> int:
    from ..scoring.cli import results_table
    from ..scoring.submission import SubmissionError

    if args.benchmark == "top":
        return _run_top(args)
    from .bench import run

    if args.benchmark == "ctopen" and args.edition is None:
        print("error: --benchmark ctopen needs --edition winter2025|summer2025", file=sys.stderr)
        return 2
    try:
        result = run(
            args.model,
            args.benchmark,
            edition=args.edition if args.benchmark == "ctopen" else None,
            source=args.source,
            hub=args.hub,
            seed=args.seed,
            out=args.out,
            view=args.view,
            max_train=args.max_train,
            log=None if args.quiet else _log,
        )
    except (FileNotFoundError, ValueError, SubmissionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    submitted = None
    if args.submit:
        from ..leaderboard import LeaderboardError

        try:
            submitted = _submit(args, result)
        except LeaderboardError as e:
            print(f"error: not submitted: {e}", file=sys.stderr)
            return 2
    if args.json:
        from ..scoring.cli import results_document
        from ..scoring.questions import load_questions
        from ..scoring.submission import score

        if result.benchmark == "bench":
            name, edition, source = "deepimagine", None, bench_dir(args.hub)
        else:
            name, edition, source = "ctopen", args.edition, args.source or os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
        # the scorer's own document of the written file (the same figures run() stored)
        report = score(load_questions(name, edition, source), [result.submission])
        doc = results_document(report, name, edition, [str(result.submission)])
        print(json.dumps(doc, indent=1))
        return 0
    d = result.document
    print(
        f"{NAMES[result.model]} (baseline-{result.model}, seed {result.seed}) on {result.benchmark} "
        f"{result.edition}: '{d['feature_set']}' features, {d['view']} view, {d['n_features']:,} columns"
    )
    print(results_table(result.results))
    wall = d["wall_s"]
    print(
        f"wall {wall['total']:.1f} s (fit + selection {wall['fit_select']:.1f} s), cpu {wall['cpu_total']:.1f} s; "
        f"training cutoff {d['training_cutoff']}"
    )
    print(f"submission -> {result.submission}\nfigures -> {result.figures_path}")
    if submitted:
        print(f"accepted {submitted[:12]} into {args.store}")
    return 0


def report_rows(out: str | os.PathLike) -> list[dict]:
    """The figures documents written by ``run`` in ``out``, sorted by benchmark, edition, model."""
    rows = []
    for path in sorted(Path(out).glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("benchmark") in ("bench", "ctopen", "top") and "model" in doc:
            doc["_path"] = str(path)
            rows.append(doc)
    order = {m: i for i, m in enumerate(MODELS)}
    return sorted(rows, key=lambda d: (d["benchmark"], str(d.get("edition")), order.get(d["model"], 9)))


def _f(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def _ci(r: dict, metric: str) -> str:
    ci = r.get(f"{metric}_ci95")
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "-"


def report_table(rows: Sequence[dict]) -> str:
    """Balanced accuracy per category and overall, with overall's 95% interval (macro-F1, cross-entropy, ECE
    overall) of bench and CT Open runs, then TOP runs with PR-AUC, ROC-AUC and F1."""
    lines = []
    scored = [d for d in rows if d["benchmark"] != "top"]
    if scored:
        head = (
            f"{'benchmark':<9} {'edition':<10} {'model':<8} {'2w-impl':>7} {'2w-expl':>7} {'3w-expl':>7} "
            f"{'overall':>7} {'95% interval':>12} {'macroF1':>7} {'x-ent':>6} {'ECE':>6} {'time':>7} note"
        )
        title = (
            "balanced accuracy per category (CT Open's metric); overall = mean of the categories with >= "
            f"{MIN_CATEGORY_QUESTIONS} questions (* left out); interval: trial-clustered bootstrap, "
            f"{BOOTSTRAP_RESAMPLES:,} resamples"
        )
        lines += [title, head, "-" * len(head)]
        for d in scored:
            r = d["results"]
            o = r["overall"]
            left_out = set(CATEGORIES) - set(o.get("categories", CATEGORIES))
            cat = [
                _f(r.get(c, {}).get("balanced_accuracy")) + ("*" if c in left_out and c in r else "")
                for c in CATEGORIES
            ]
            note = f"max_train {d['max_train']}" if d.get("max_train") else ""
            if d.get("reference"):
                note, wall = "reference (uniform)" if d["model"] == "chance" else "reference (bench-train shares)", "-"
            else:
                wall = f"{d['wall_s']['total']:.1f}s"
            lines.append(
                f"{d['benchmark']:<9} {d['edition']:<10} {d['model']:<8} {cat[0]:>7} {cat[1]:>7} {cat[2]:>7} "
                f"{o['balanced_accuracy']:>7.4f} {_ci(o, 'balanced_accuracy'):>12} {o['macro_f1']:>7.4f} "
                f"{o['cross_entropy']:>6.3f} {o['ece']:>6.3f} {wall:>7} {note}"
            )
    top = [d for d in rows if d["benchmark"] == "top"]
    if top:
        from .top import format_comparison

        lines += ["", format_comparison(top)] if lines else [format_comparison(top)]
    return "\n".join(lines) if lines else "no baseline run yet"


def reference_report_rows(hub: str, source: str | None) -> tuple[list[dict], list[str]]:
    """Chance and majority rows for the bench (from ``hub``) and each CT Open edition that can be loaded (majority
    from the bench train split), and a note per benchmark left out."""
    from ..scoring.questions import bench_questions, ctopen_questions
    from .reference import reference_rows

    rows, notes = [], []
    bench = bench_dir(hub)
    if not (bench / "questions").is_dir():
        notes.append(f"chance/majority: no bench under {hub} (deepimagine build --out {hub})")
        return rows, notes
    train = bench_questions(bench, "train")
    rows += reference_rows("bench", "test", bench_questions(bench, "test"), train)
    if source is None:
        notes.append("chance/majority on CT Open: no --source (or $DEEPIMAGINE_CTOPEN_DIR) with its pickles")
        return rows, notes
    for edition in ("winter2025", "summer2025"):
        try:
            qs = ctopen_questions(edition, source)
        except Exception as e:  # noqa: BLE001 - a missing edition only leaves its reference rows out
            notes.append(f"chance/majority on CT Open {edition}: not loaded ({str(e).split('. ')[0][:120]})")
            continue
        rows += reference_rows("ctopen", edition, qs, train)
    return rows, notes


def cmd_report(args: argparse.Namespace) -> int:
    rows = report_rows(args.out)
    source = args.source or os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    refs, notes = reference_report_rows(args.hub, source)
    if not rows and not refs:
        print(f"no baseline figures in {args.out} (run `deepimagine baseline run ...` first)", file=sys.stderr)
        return 1
    order = {"chance": 0, "majority": 1}
    merged = sorted(
        [*refs, *rows],
        key=lambda d: (d["benchmark"], str(d.get("edition")), 0 if d.get("reference") else 1, order.get(d["model"], 9)),
    )
    print(report_table(merged))
    for n in notes:
        print(n)
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register ``baseline`` (with ``run`` and ``report``) on the ``deepimagine`` subcommand parser."""
    p = sub.add_parser(
        "baseline",
        help=f"correlational baselines ({', '.join(MODELS)}) on the bench, CT Open and TOP",
        description="Train on the bench train split (TOP: its training file), choose hyperparameters on validation "
        "only, predict the evaluated questions, write a submission and score it with the package's scorer.",
    )
    bsub = p.add_subparsers(dest="baseline_command", required=True)
    r = bsub.add_parser(
        "run",
        help="fit one model on one benchmark, print and write its figures",
        description="Reads the bench and trials folders under --hub (bench), CT Open's pickles (--source; ctopen) or "
        "HINT's TOP CSVs (--train/--valid/--test; top). Fits on training data only, selects hyperparameters on "
        "validation only, prints the scorer's figures and writes --out/<benchmark>-<edition>-<model>.jsonl (the "
        "submission, bench and ctopen) and .json (the figures); --submit also appends the submission to the "
        f"leaderboard store --store. --model all runs {', '.join(MODELS)} in turn and prints one table.",
    )
    r.add_argument(
        "--model", choices=[*MODELS, "all"], required=True, help="one model, or all of them in turn (then a table)"
    )
    r.add_argument("--benchmark", choices=["bench", "ctopen", "top"], required=True)
    r.add_argument("--edition", choices=["winter2025", "summer2025"], help="CT Open edition (ctopen)")
    r.add_argument("--source", default=None, help="CT Open pickles (default $DEEPIMAGINE_CTOPEN_DIR, cache, URL)")
    r.add_argument("--hub", default="hub", help="built hub folder with deepimagine/bench and deepimagine/trials")
    r.add_argument("--phase", choices=TOP_PHASES, default=None, help="TOP phase (default I)")
    r.add_argument("--train", default=None, help="TOP training CSV")
    r.add_argument("--valid", default=None, help="TOP validation CSV (selection, or the figures without --test)")
    r.add_argument("--test", default=None, help="TOP test CSV (the figures)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the submission and figures (./baselines)")
    r.add_argument(
        "--view",
        choices=list(VIEWS),
        default=None,
        help=f"feature view (default: the model's own: {', '.join(f'{v} for {m}' for m, v in VIEW.items())})",
    )
    r.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="at most N training questions per category (a fixed hash sample; quick checks only)",
    )
    r.add_argument("--json", action="store_true", help="print one JSON document (scorer's results; TOP: figures)")
    r.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    r.add_argument("--submit", action="store_true", help="also append the submission to a leaderboard store")
    r.add_argument("--store", default="leaderboard", help="leaderboard store folder (with --submit)")
    from .. import ctopen

    ctopen.add_timeout_argument(r)
    r.set_defaults(func=cmd_run)
    rep = bsub.add_parser(
        "report",
        help="table of every baseline run written to --out",
        description="Reads the figures files (*.json) that `deepimagine baseline run` wrote to --out, the bench under "
        "--hub and CT Open's pickles (--source), and prints one table: balanced accuracy per category and overall "
        "metrics for bench and CT Open, each benchmark headed by two reference rows computed here (chance: uniform "
        "probabilities; majority: the bench train split's answer shares per category), and PR-AUC/ROC-AUC/F1 next "
        "to the published figures for TOP. Writes nothing.",
    )
    rep.add_argument("--out", default=str(DEFAULT_OUT))
    rep.add_argument("--hub", default="hub", help="built hub folder with deepimagine/bench (the reference rows)")
    rep.add_argument("--source", default=None, help="CT Open pickles (default $DEEPIMAGINE_CTOPEN_DIR)")
    ctopen.add_timeout_argument(rep)
    rep.set_defaults(func=cmd_report)


def main(argv: Sequence[str] | None = None) -> int:
    """``deepimagine baseline ...`` on its own (``main(["run", ...])``), for tests and ``python -m``."""
    parser = argparse.ArgumentParser(prog="deepimagine")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["baseline", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
