"""``deepimagine traces``: verified teacher traces for pair rows, written as the ``traces`` config of the pairs dataset.

>>> from deepimagine_data.cli import main
>>> main(["traces", "--pairs", "strict_arm,strict_dose", "--endpoint", "http://127.0.0.1:8000",
...       "--model", "Qwen/Qwen2.5-72B-Instruct", "--limit", "100"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DATASET_NAME = "deepimagine/pairs"
DESCRIPTION = (
    "Reads the pair rows of --pairs CONFIG[,CONFIG] (splits --split, default train) from "
    "HUB_DIR/deepimagine/pairs (written by `deepimagine build`), asks an OpenAI-compatible chat endpoint "
    "(POST ENDPOINT/v1/chat/completions) for a reasoning trace per pair with the trace-v1 teacher template, and keeps "
    "a sample only when its DECISION line's unique highest probability is the pair's known answer (up to --tries "
    "samples per pair; the answer is never shown to the teacher). Writes the `traces` config (one split per source "
    "split, parquet) into HUB_DIR/deepimagine/pairs atomically and updates its README.md card (configs:, "
    "dataset_info: and a '## traces' provenance section). Every response is appended to "
    "CACHE_DIR/traces/<model>.jsonl: a killed run resumes where it stopped, and a rerun over a full cache sends "
    "no request and writes the same bytes. Prints a summary table, rejected samples by reason and failed requests by "
    "what their last attempt got (HTTP status, malformed JSON, timeout, connection error). Exit status: 0 "
    "written; 1 some pairs' requests failed (nothing written unless --allow-http-errors; rerun to resume); "
    "2 bad input or a fatal HTTP error (401/403/404)."
)


def _csv(values: list[str] | None, default: list[str]) -> list[str]:
    out: list[str] = []
    for v in values or default:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return list(dict.fromkeys(out))


def cmd_traces(args: argparse.Namespace) -> int:
    """Run the traces subcommand; returns the exit status."""
    from ..errors import RecordError
    from ..hub import add_config
    from .cache import ResponseCache, default_cache_dir
    from .client import ChatClient, FatalHTTPError, endpoint_host
    from .generate import Generator, Sampling, attempt_rows, build_tables, dataset_folder, read_pairs, tally
    from .report import Provenance, card_section, failure_counts, format_summary, request_failures

    if args.tries < 1 or args.concurrency < 1 or args.max_tokens < 1 or args.max_retries < 0:
        print("error: --tries, --concurrency and --max-tokens must be >= 1, --max-retries >= 0", file=sys.stderr)
        return 2
    if not args.timeout > 0:
        print("error: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 0:
        print("error: --limit must be >= 0", file=sys.stderr)
        return 2
    configs = _csv([args.pairs], [])
    splits = _csv(args.split, ["train"])
    if not configs:
        print("error: --pairs names no config (e.g. --pairs strict_arm,approx)", file=sys.stderr)
        return 2
    folder = dataset_folder(args.hub_dir)
    try:
        host = endpoint_host(args.endpoint)
    except ValueError as e:
        print(f"error: --endpoint: {e}", file=sys.stderr)
        return 2
    tasks = read_pairs(folder, configs, splits, args.limit)  # RecordError / FileNotFoundError: main() prints them
    sampling = Sampling(args.temperature, args.top_p, args.max_tokens, args.seed, args.tries)
    cache = ResponseCache(args.cache_dir or default_cache_dir(), args.model)
    client = ChatClient(
        args.endpoint,
        api_key=os.environ.get(args.api_key_env) or None,
        timeout=args.timeout,
        max_retries=args.max_retries,
    )
    gen = Generator(client, cache, args.model, sampling, model_revision=args.model_revision, endpoint_host=host)
    print(
        f"traces: {len(tasks):,} pairs from {', '.join(configs)} ({', '.join(splits)}) -> {args.model} at {host}; "
        f"cache {cache.path} ({len(cache):,} responses"
        + (f", {cache.torn_lines} torn line(s) skipped" if cache.torn_lines else "")
        + ")",
        file=sys.stderr,
    )
    try:
        results = gen.run(tasks, concurrency=args.concurrency, progress=not args.quiet)
    except FatalHTTPError as e:
        print(f"error: {e}", file=sys.stderr)
        print(f"(responses received so far are cached in {cache.path}; nothing was written)", file=sys.stderr)
        return 2
    t = tally(results)
    failures = request_failures(results)
    print(format_summary(t, price_in=args.price_in, price_out=args.price_out, failures=failures))
    st = client.stats
    print(
        f"this run: {st.completions:,} responses received in {st.requests:,} HTTP requests ({st.retries:,} retries, "
        f"{st.model_lookups} to /v1/models), {gen.cache_hits:,} samples from the cache"
    )
    failed = sum(t.http_failed.values())
    if args.attempts is not None:
        import json

        from ..fsutil import atomic_write_bytes

        rows = attempt_rows(results)
        atomic_write_bytes(args.attempts, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
        print(
            f"attempts ({len(rows) - failed:,} samples, kept or not"
            + (f", and {failed:,} failed requests" if failed else "")
            + f") -> {args.attempts}",
            file=sys.stderr,
        )
    if failed and not args.allow_http_errors:
        print(
            f"{failed:,} pairs stopped on failed requests (last attempt: {failure_counts(failures)}); nothing written. "
            f"Rerun the same command to resume (the {len(cache):,} responses received are cached), or pass "
            "--allow-http-errors to write without them.",
            file=sys.stderr,
        )
        return 1
    built = build_tables(results, args.model, sampling, args.model_revision)
    # A split without a kept trace is left out: datasets 5.2 cannot load a 0-row parquet split ("BatchSize must be
    # greater than 0"), so writing it would make the whole config unloadable.
    tables = {s: built[s] for s in splits if s in built and built[s].num_rows}
    empty = [s for s in splits if s not in tables]
    if not tables:
        print(f"no trace was kept ({', '.join(splits)}); nothing written", file=sys.stderr)
        return 1
    prov = Provenance(args.model, sampling, args.model_revision, args.price_in, args.price_out)
    section = card_section(t, prov, {s: tables[s].num_rows if s in tables else 0 for s in splits}, failures)
    try:
        out = add_config(folder, "traces", tables, section=section)
    except ValueError as e:
        raise RecordError(str(folder), "README.md", str(e)) from e
    counts = ", ".join(f"{s} {tb.num_rows:,}" for s, tb in tables.items())
    print(f"{DATASET_NAME} traces -> {Path(out) / 'traces'}: {counts}")
    if empty:
        print(f"not written (no kept trace): {', '.join(empty)}")
    return 1 if failed else 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register ``traces`` on the ``deepimagine`` subcommand parser."""
    p = sub.add_parser(
        "traces",
        help="verified teacher reasoning traces for pairs (an OpenAI-compatible endpoint), as the traces config",
        description=DESCRIPTION,
    )
    p.add_argument("--pairs", required=True, metavar="CONFIG[,CONFIG]", help="pair configs to trace, e.g. strict_arm")
    p.add_argument("--endpoint", required=True, help="OpenAI-compatible server, with or without /v1")
    p.add_argument("--model", required=True, help="teacher model name sent in each request")
    p.add_argument(
        "--split",
        action="append",
        metavar="SPLIT",
        help="source split(s), repeatable or comma-separated (default: train); one traces split each",
    )
    p.add_argument("--limit", type=int, default=None, help="at most N pairs per config and split (a fixed hash sample)")
    p.add_argument("--tries", type=int, default=4, help="samples per pair before giving up on it (default 4)")
    p.add_argument("--concurrency", type=int, default=4, help="pairs in flight at once (default 4)")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (default 0.7)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0)")
    p.add_argument("--max-tokens", type=int, default=1024, help="completion tokens per sample (default 1024)")
    p.add_argument("--seed", type=int, default=0, help="sample k of a pair is sent with seed + k (default 0)")
    p.add_argument("--hub-dir", type=Path, default=Path("hub"), help="hub root with deepimagine/pairs (default ./hub)")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="response cache root (default: $DEEPIMAGINE_CACHE or ~/.cache/deepimagine); file traces/<model>.jsonl",
    )
    p.add_argument(
        "--model-revision",
        default=None,
        help="teacher revision for the provenance (default: what /v1/models reports as root, else 'unknown')",
    )
    p.add_argument("--price-in", type=float, default=None, help="USD per million prompt tokens (for the cost)")
    p.add_argument("--price-out", type=float, default=None, help="USD per million completion tokens (for the cost)")
    p.add_argument("--max-retries", type=int, default=5, help="retries per request on 429/5xx/network (default 5)")
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one HTTP request may take in all, connecting and reading the answer included (default 120); "
        "a server that stays silent or drips its answer past it is a timeout, retried up to --max-retries",
    )
    p.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key, sent as a Bearer token when set (default OPENAI_API_KEY)",
    )
    p.add_argument(
        "--allow-http-errors",
        action="store_true",
        help="write the traces config even when some pairs failed with HTTP errors (counted in the card)",
    )
    p.add_argument(
        "--attempts",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="also write every attempt as JSONL: each sample (kept or rejected, with its reason), for `deepimagine "
        "analyze traces`, and each pair's failed request (reason http_error, text null, with its cause and error)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_traces)
