"""The `deepimagine` command line: ingest, download, build, publish."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import __version__

EPILOG = "Every subcommand has --help saying what it reads and writes."


def _report_and_write(tables, report, out: Path, label: str, source: str) -> int:
    from .inputs import Input, Part, assemble
    from .tables import OutputRefused, count_table, write_tables

    if tables["trials"].num_rows == 0:
        # an input that gives nothing is no result: the tables an earlier run wrote to --out stay
        print(report.format())
        why = ", ".join(f"{k} {v:,}" for k, v in report.skipped.most_common(3))
        what = f"{report.read:,} record(s), all skipped: {why}" if report.read else "no record found"
        print(
            f"error: {label}: no trial read from {source} ({what}); nothing written, {out} left as it was",
            file=sys.stderr,
        )
        return 2
    # the assemble step `build --input` runs too (intervention names normalized), so `ingest` then
    # `build --input tables:OUT` gives the same tables as `build --input <kind>:PATH`
    tables = assemble([Part(Input(label), tables, {label: report}, [])]).tables
    try:
        write_tables(tables, out)
    except OutputRefused as e:
        print(f"error: --out: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: --out {out}: cannot write the tables ({e}); nothing replaced", file=sys.stderr)
        return 2
    print(f"{label}: wrote {len(tables)} tables to {out}/<table>.parquet")
    print(count_table(tables))
    print(report.format())
    return 0


def _output_refused(out: Path) -> int | None:
    """2 (after an error line) where --out is a folder ingest will not replace; checked before reading, after what a
    killed ingest left there is undone."""
    from .tables import OutputRefused, prepare_output

    try:
        prepare_output(out)
    except OutputRefused as e:
        print(f"error: --out: {e}", file=sys.stderr)
        return 2
    return None


def cmd_ingest_ctgov_json(args: argparse.Namespace) -> int:
    from .sources import ctgov_json

    if (refused := _output_refused(args.out)) is not None:
        return refused
    tables, report = ctgov_json.read(args.paths, strict=args.strict, source_version=args.source_version)
    return _report_and_write(tables, report, args.out, "ctgov-json", ", ".join(str(p) for p in args.paths))


def cmd_ingest_aact(args: argparse.Namespace) -> int:
    from .sources import aact

    if (refused := _output_refused(args.out)) is not None:
        return refused
    try:
        tables, report = aact.read(
            args.path,
            strict=args.strict,
            require_results=not args.all_studies,
            source_version=args.source_version,
            progress=not args.quiet,
        )
    except aact.TABLE_ERRORS as e:  # a value Polars cannot read (an id that is no number, a broken quote)
        print(f"error: aact: {args.path}: {aact.table_error(e)}", file=sys.stderr)
        return 2
    return _report_and_write(tables, report, args.out, "aact", str(args.path))


def _cmd_curated(module: str):
    def run(args: argparse.Namespace) -> int:
        import importlib

        if (refused := _output_refused(args.out)) is not None:
            return refused
        mod = importlib.import_module(f".sources.{module}", __package__)
        tables, report = mod.read(args.path, strict=args.strict)
        return _report_and_write(tables, report, args.out, module, str(args.path))

    return run


def _build_options(args: argparse.Namespace):
    from .pairs.approx import ApproxOptions
    from .pipeline import BuildOptions, parse_date
    from .splits import Cutoffs

    approx = None
    if not args.no_approx:
        approx = ApproxOptions(
            model=args.embedding_model,
            cache_dir=str(args.cache_dir) if args.cache_dir else None,
            neighbours=args.neighbours,
            approx_anchors=args.approx_anchors,
            pathway_anchors=args.pathway_anchors,
            order=args.pathway_order,
            device=args.embedding_device,
        )
    return BuildOptions(
        inputs=tuple(args.input or ()) or ("embedded",),
        cutoffs=Cutoffs(parse_date(args.validation_start), parse_date(args.test_start)),
        ctopen_source=args.ctopen_source,
        ctopen_missing="error" if args.require_ctopen else "skip",
        exclude_files=tuple(str(p) for p in args.exclude),
        strict=args.strict,
        approx=approx,
        targets=args.targets,
        bench_max_per_trial=args.bench_max_per_trial or None,
    )


def _check_exclude_files(opts) -> str | None:
    """The message of the first --exclude file that cannot be read, else None (checked before any input is read)."""
    from . import ctopen

    for f in opts.exclude_files:
        try:
            ctopen.read_id_file(f)
        except UnicodeDecodeError as e:
            return f"--exclude {f}: not UTF-8 text (byte {e.start}: {e.reason})"
        except OSError as e:
            return f"--exclude {f}: {e.strerror or e}"
        except ctopen.CTOpenError as e:
            return f"--exclude: {e}"
    return None


def _check_ctopen(opts) -> str | None:
    """Load the build's exclusion lists (CT Open's pickles, or the shipped id lists) once, before anything is
    written: the message where a required --ctopen-source cannot be read, else None. Cached, so the pairs and
    bench builders reuse them."""
    from . import ctopen
    from .pipeline import decontamination

    try:
        decontamination(opts)
    except (ctopen.CTOpenDownloadError, OSError) as e:
        why = (
            " (--require-ctopen; without it the shipped id lists are applied)" if opts.ctopen_missing == "error" else ""
        )
        return f"CT Open from --ctopen-source {opts.ctopen_source}: {e}{why}"
    except ctopen.CTOpenError as e:
        return str(e)
    return None


def cmd_build(args: argparse.Namespace) -> int:
    from .hub import BuildError, BuildTransaction
    from .inputs import InputError

    t0 = time.perf_counter()
    try:
        opts = _build_options(args)
    except (InputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if opts.approx is not None:
        from .pipeline import require_embed

        try:
            require_embed()
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    from .inputs import check_inputs

    # a bad input writes nothing, not even the folder (the exclusion lists are read under the build lock: a second
    # build into the same folder is told so before it reads CT Open)
    try:
        check_inputs(opts.inputs)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # every dataset is written into a staging folder and the three appear together at commit: a build that fails
    # or is killed leaves the previous ones as they were
    tx = BuildTransaction(args.out, say=lambda note: print(f"note: {note}", file=sys.stderr))
    try:
        with tx:
            return _build(args, opts, tx, t0)
    except BrokenPipeError:
        raise
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, a folder that went away: the build is not half written
        print(f"error: {e}" + ("" if tx.committed else f"; {tx.live} is as it was"), file=sys.stderr)
        return 2


def _build(args: argparse.Namespace, opts, tx, t0: float) -> int:
    from .builders import bench, pairs, trials
    from .errors import RecordError
    from .hub import folder_fingerprint
    from .inputs import InputError
    from .pipeline import BuildContext
    from .tables import count_table

    problem = _check_exclude_files(opts)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    # one context for the whole command: every input checked and read before anything is written, and the
    # builders reuse what was read and labelled
    ctx = BuildContext(
        opts.strict,
        opts.inputs,
        partition_trials=args.partition_trials,
        progress=True,
        release=True,
        workers=args.workers,
    )
    try:
        ctx.assembled()
    except (InputError, RecordError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problem = _check_ctopen(opts)  # after the inputs: an input's own error comes first, before any CT Open warning
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    out = Path(args.out) / "deepimagine"
    with ctx.stages("write trials"):
        folder, tables, reports = trials.write(tx.staging, strict=args.strict, inputs=opts.inputs, ctx=ctx)
    flat = {n: s["train"] for n, s in tables.items()}
    trials_t = flat["trials"]
    import pyarrow.compute as pc

    with_results = pc.sum(pc.is_valid(trials_t.column("results_first_posted_date"))).as_py() or 0
    print(f"deepimagine/trials -> {out / 'trials'}")
    print(count_table(flat))
    print()
    width = max(18, *(len(n) for n in reports))
    print(f"{'source':<{width}}  {'read':>7}  {'kept':>7}  {'skipped':>7}")
    for name, rep in reports.items():
        print(f"{name:<{width}}  {rep.read:>7,}  {rep.kept:>7,}  {rep.n_skipped:>7,}")
    for spec, n in sorted(ctx.assembled().duplicates.items()):
        print(f"{spec}: {n:,} trial(s) dropped, already read from an earlier input")
    print()
    print(f"studies with posted results: {with_results:,}   analyses: {flat['analyses'].num_rows:,}")
    del tables, flat, trials_t  # the context holds the inputs until every product is made, then drops them
    print(f"fingerprint: {folder_fingerprint(folder)[:16]}")
    print()

    ctx.products(opts.targets)
    if opts.approx is not None:
        ctx.approx_pairs(opts)
    ctx.drop_inputs()  # every product is made: writing reads none of the input tables
    with ctx.stages("split and write pairs"):
        pfolder, ptables, info = pairs.write(tx.staging, opts, ctx)
    with ctx.stages("split and write bench"):
        bfolder, btables, binfo = bench.write(tx.staging, opts, ctx)
    fingerprints = folder_fingerprint(pfolder), folder_fingerprint(bfolder)
    # a rebuild writes the pairs folder anew; a traces config added by `deepimagine traces` is not part of the build
    had_traces = (tx.live / "pairs" / "traces").is_dir()
    tx.commit()
    print(f"deepimagine/pairs -> {out / 'pairs'}        deepimagine/bench -> {out / 'bench'}")
    print(f"{'config':<16} {'train':>8} {'validation':>11} {'test':>8}")
    for cfg, splits in [*ptables.items(), ("bench:questions", btables["questions"])]:
        print(
            f"{cfg:<16} "
            + " ".join(f"{splits[s].num_rows:>{w},}" for s, w in (("train", 8), ("validation", 11), ("test", 8)))
        )
    print()
    from .pipeline import label_version

    print(f"what each step kept and dropped (label rules {label_version()}; the cards list every reason):")
    print(info["funnel"].text())
    print()
    print(binfo["funnel"].text())
    print()
    from .builders.bench import CATEGORIES, category_shares
    from .ctopen import REFERENCE_COUNTS

    ours, winter = category_shares(btables["questions"]["test"]), REFERENCE_COUNTS["winter2025"]
    n_ours, n_winter = (sum(v["questions"] for v in x.values()) for x in (ours, winter))
    print(
        "bench test: "
        + ", ".join(f"{c} {ours[c]['questions']:,} ({ours[c]['questions'] / max(n_ours, 1):.1%})" for c in CATEGORIES)
        + " (CT Open Winter 2025: "
        + " / ".join(f"{winter[c]['questions'] / n_winter:.1%}" for c in CATEGORIES)
        + "; the card compares answers too)"
    )
    print()
    print(f"{'exclusion list':<24} {'ids':>6}  status")
    for name, n, status in info["decontamination"].summary():
        removed = sum(r.get(name, 0) for r in info["removed"].values())
        print(f"{name:<24} {n:>6,}  {status}; {removed:,} pair rows removed from train")
    if info.get("approx") is not None:
        a = info["approx"]
        r = a.retrieval
        print(
            f"approx retrieval: {r.model_name} @ {r.model_revision[:12]}, {r.text_version}; "
            f"{r.embedded:,} texts embedded, {r.cache_hits:,} from the cache; "
            f"{a.targets:,} targets, {a.without_anchor:,} without an anchor; index {r.index_summary()}"
        )
    print(f"fingerprints: pairs {fingerprints[0][:16]}  bench {fingerprints[1][:16]}")
    print(f"time: {time.perf_counter() - t0:.1f} s")
    if args.timings is not None:
        from .fsutil import atomic_write_bytes
        from .pipeline import peak_rss_bytes

        record = {
            "seconds": round(time.perf_counter() - t0, 3),
            "peak_rss_bytes": peak_rss_bytes(),
            "partitions": ctx.products(opts.targets).partitions,
            "stages": ctx.stages.seconds(),
            "stage_rows": ctx.stages.rows,
            "rows": {cfg: {s: t.num_rows for s, t in sp.items()} for cfg, sp in ptables.items()}
            | {"bench:questions": {s: t.num_rows for s, t in btables["questions"].items()}},
        }
        try:
            atomic_write_bytes(args.timings, (json.dumps(record, indent=1) + "\n").encode())
        except OSError as e:
            print(f"error: --timings {args.timings}: {e.strerror or e} (the datasets were written)", file=sys.stderr)
            return 2
        print(f"timings -> {args.timings}")
    if had_traces:
        print(
            "note: the rebuilt deepimagine/pairs has no `traces` config; rerun your `deepimagine traces ...` command "
            "to add it back (its responses are cached: no request is sent for pairs already traced)"
        )
    # load_pairs names the shards: datasets' own folder form would serve an earlier build from its cache
    print(
        'load it (any directory): python -c "import deepimagine_data as di; '
        f"print(di.load_pairs('strict_arm', hub_dir='{Path(args.out).resolve()}'))\""
    )
    return 0


def cmd_tasks_path(args: argparse.Namespace) -> int:
    from importlib import resources

    print(Path(str(resources.files("deepimagine_data.benchmark"))).resolve())
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .pairs.render import DEFAULT_TARGETS
    from .pipeline import PARTITION_TRIALS

    p = argparse.ArgumentParser(
        prog="deepimagine",
        description="Data and benchmarks for predicting clinical-trial outcomes by counterfactual imagining.",
        epilog=EPILOG,
    )
    p.add_argument("--version", action="version", version=f"deepimagine-data {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser(
        "ingest",
        help="read a source into the six normalized tables",
        description="Read trials from a source and write DIR/<table>.parquet for the six tables "
        "(trials, arms, interventions, outcomes, measurements, analyses), then print "
        "a count table and the skipped records by reason.",
    )
    isub = ing.add_subparsers(dest="source", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--out", type=Path, required=True, help="output directory (tables written atomically)")
        sp.add_argument(
            "--strict",
            action="store_true",
            help="stop at the first bad record with an error naming it (default: skip and count)",
        )

    c = isub.add_parser(
        "ctgov-json",
        help="ClinicalTrials.gov API v2 JSON",
        description="Reads ClinicalTrials.gov API v2 studies: single study .json files, .jsonl "
        "(one study per line, as `download ctgov` writes), API page files "
        '({"studies": [...]}), optionally .gz, or directories of them. Writes the six '
        "tables to --out.",
    )
    c.add_argument("paths", nargs="+", type=Path)
    c.add_argument("--source-version", default="api-v2", help="recorded in trials.source_version")
    common(c)
    c.set_defaults(func=cmd_ingest_ctgov_json)

    a = isub.add_parser(
        "aact",
        help="AACT flat files or parquet tables",
        description="Reads AACT tables: a directory (or .zip) of the pipe-delimited flat-file "
        "export (<table>.txt) or a directory of <table>.parquet. Only studies with "
        "posted results unless --all-studies. Writes the six tables to --out.",
    )
    a.add_argument("path", type=Path)
    a.add_argument("--all-studies", action="store_true", help="also studies without posted results")
    a.add_argument("--source-version", default=None, help="recorded in trials.source_version")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    common(a)
    a.set_defaults(func=cmd_ingest_aact)

    from .sources.registry import SOURCES

    for src in SOURCES.values():
        if not src.generic_ingest:
            continue
        sp = isub.add_parser(
            src.ingest_name, help=src.expects, description=f"Reads {src.expects}. Writes the six tables to --out."
        )
        sp.add_argument("path", type=Path)
        common(sp)
        sp.set_defaults(func=_cmd_curated(src.module))

    dl = sub.add_parser(
        "download",
        help="download trial records from a registry",
        description="Download records from a live registry API into JSONL shards plus a manifest.",
    )
    dsub = dl.add_subparsers(dest="registry", required=True)
    from .sources import ctgov_download

    ctgov_download.add_cli(dsub)

    b = sub.add_parser(
        "build",
        help="build the hub datasets from the embedded real data or your own inputs",
        description="Reads its inputs (--input, repeatable; default: the embedded snapshot of AACT oncology "
        "studies with posted results and the curated per-arm sources; every input is checked and read before "
        "anything is written) and writes three datasets under OUT as parquet plus a README.md card "
        "with `configs:`: OUT/deepimagine/trials (the six tables), OUT/deepimagine/pairs (strict_arm, "
        "strict_dose, strict_outcome, approx, pathways; train/validation/test by results-first-posted date) and "
        "OUT/deepimagine/bench (questions). Removes CT Open's trials (both editions) from training splits with the "
        "NCT id lists shipped in the package (no network), plus the ids of its pickles where --ctopen-source or "
        "$DEEPIMAGINE_CTOPEN_DIR points at them. Prints what each step kept and dropped, by reason. "
        "approx and pathways embed each trial's text view (the [embed] extra; vectors cached under --cache-dir). "
        "Load from any directory with deepimagine_data.load_pairs('strict_arm', hub_dir=OUT), offline.",
    )
    b.add_argument(
        "--input",
        action="append",
        default=None,
        metavar="SPEC",
        help="what to build from, repeatable: embedded (the default), aact:PATH (AACT dump folder/.zip or parquet "
        "folder), ctgov:PATH (API v2 .json/.jsonl/.gz files or a `download ctgov` folder), tables:DIR (what "
        "`deepimagine ingest` wrote), or llm_meta_analysis:PATH, dose_response:PATH, clinifact:PATH; a trial "
        "two inputs hold is kept from the one listed first",
    )
    b.add_argument("--out", type=Path, default=Path("hub"), help="hub root directory (default: ./hub)")
    b.add_argument("--strict", action="store_true", help="fail on the first bad record")
    b.add_argument("--validation-start", default="2020-01-01", help="first results-posted date of validation")
    b.add_argument("--test-start", default="2021-01-01", help="first results-posted date of test")
    b.add_argument(
        "--ctopen-source",
        default=os.environ.get("DEEPIMAGINE_CTOPEN_DIR"),
        help="CT Open pickles whose ids are added to the shipped id lists: a directory, a .pickle file or a URL "
        "(default: $DEEPIMAGINE_CTOPEN_DIR; without either, the shipped lists alone are applied, offline)",
    )
    b.add_argument(
        "--require-ctopen",
        action="store_true",
        help="fail if a CT Open pickle named by --ctopen-source cannot be loaded (default: apply the shipped id "
        "list, warn, and say so in the cards)",
    )
    from . import ctopen

    ctopen.add_timeout_argument(b)  # --timeout: the deadline of a --ctopen-source download
    b.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        help="a file of NCT ids (one per line, or CSV/JSONL with nct_id) removed from training splits; repeatable",
    )
    b.add_argument(
        "--targets",
        default=DEFAULT_TARGETS,
        help="probabilities of the decision line in the pairs' completions: smooth:EPS (1-EPS on the known answer, "
        f"EPS shared by the other options; 0 <= EPS < 0.5) or onehot (default {DEFAULT_TARGETS})",
    )
    b.add_argument(
        "--bench-max-per-trial",
        type=int,
        default=10,
        help="questions of one trial kept in the bench test split (default 10; 0: no cap)",
    )
    b.add_argument(
        "--timings",
        type=Path,
        default=None,
        help="write the wall time and peak memory of each build stage, and the rows per config, to this JSON file",
    )
    b.add_argument(
        "--partition-trials",
        type=int,
        default=PARTITION_TRIALS,
        help=f"trials labelled and paired at once (default {PARTITION_TRIALS:,}): memory follows this, not the "
        "size of the inputs; any value gives the same datasets",
    )
    b.add_argument(
        "--workers",
        type=int,
        default=None,
        help="partitions labelled at once, each in a forked process (default: 2 on Linux with 2 or more cores, "
        "else 1); any value gives the same datasets",
    )
    g = b.add_argument_group("approximate pairs and pathways")
    g.add_argument("--no-approx", action="store_true", help="build without the approx and pathways configs")
    g.add_argument(
        "--embedding-model",
        default=None,
        help="sentence-transformers model name or folder (default: the bundled all-MiniLM-L6-v2, offline)",
    )
    g.add_argument(
        "--embedding-device",
        default="cpu",
        help="where the embedding model runs: cpu (default), cuda, cuda:1, mps, or several comma-separated "
        "(cuda:0,cuda:1: sentence-transformers' multi-process pool, one process per device)",
    )
    g.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache root (default: $DEEPIMAGINE_CACHE or ~/.cache/deepimagine)",
    )
    g.add_argument("--neighbours", type=int, default=20, help="similar earlier trials kept per target (default 20)")
    g.add_argument("--approx-anchors", type=int, default=1, help="anchors per target comparison in approx (1)")
    g.add_argument("--pathway-anchors", type=int, default=7, help="anchors per target in pathways (default 7)")
    g.add_argument(
        "--pathway-order",
        default="arm,outcome,population,geography,other",
        help="step order: factors intervention, dose, outcome, population, geography, phase, design, or arm "
        "(= intervention,dose) and other (= phase,design); unnamed factors follow in default order",
    )
    b.set_defaults(func=cmd_build)

    # the rest in the order of the data flow: traces -> publish -> evaluate -> train -> analyze
    from . import analysis, leaderboard, publish
    from .baselines import cli as baselines_cli
    from .scoring import cli as scoring_cli
    from .traces import cli as traces_cli
    from .train import cli as train_cli

    traces_cli.add_cli(sub)
    publish.add_cli(sub)
    scoring_cli.add_questions_cli(sub)
    scoring_cli.add_cli(sub)
    for name in ("score", "questions"):  # they read CT Open, which may be a download
        if name in sub.choices:
            ctopen.add_timeout_argument(sub.choices[name])
    leaderboard.add_cli(sub)
    baselines_cli.add_cli(sub)
    train_cli.add_cli(sub)
    analysis.add_cli(sub)

    tp = sub.add_parser(
        "tasks-path",
        help="print the folder of the package's lm-eval tasks",
        description="Prints the folder holding the lm-eval task YAMLs (ctopen_winter2025, ctopen_summer2025, "
        "deepimagine_bench, deepimagine_pairs, the group deepimagine): "
        'lm_eval --include_path "$(deepimagine tasks-path)" --tasks deepimagine ...',
    )
    tp.set_defaults(func=cmd_tasks_path)
    return p


def _ctopen_deadline(args: argparse.Namespace):
    """The deadline a command's --timeout sets for its CT Open downloads (see ctopen.add_timeout_argument)."""
    import contextlib

    seconds = getattr(args, "ctopen_timeout", None)
    if seconds is None:
        return contextlib.nullcontext()
    from .ctopen import download_deadline

    return download_deadline(seconds)


def main(argv: list[str] | None = None) -> int:
    # Arrow allocates from jemalloc, not its default mimalloc, which keeps freed pages: a build frees each
    # partition's rows before the next, and with mimalloc its peak would grow as if it had not (embedded build:
    # 1.12 GiB with mimalloc, 1.04 with jemalloc). Read when pyarrow is first imported; the user's setting wins.
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    args = build_parser().parse_args(argv)
    try:
        with _ctopen_deadline(args):
            return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `deepimagine ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except Exception as e:  # one clear line for record errors; a traceback for bugs
        from .errors import RecordError

        if isinstance(e, (RecordError, FileNotFoundError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
