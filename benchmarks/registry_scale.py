"""The whole registry through the package: write a registry-sized AACT dump, then time reading, ingesting and
building from it, stage by stage, with peak memory.

    python benchmarks/registry_scale.py --out /tmp/registry                   # 572,000 studies, 76,600 with results
    python benchmarks/registry_scale.py --out /tmp/registry --studies 57200   # a tenth of every table
    python benchmarks/registry_scale.py --out /tmp/registry --json            # last line: one JSON object

Steps, each in its own process (so each peak RSS is its own):

1. ``dump``: ``benchmarks/registry_dump.py`` writes ``OUT/aact/<table>.txt`` (AACT's pipe-delimited layout) from the
   embedded AACT studies and the API v2 fixture studies, replicated under fresh ``NCT9…`` ids, dates spread over
   2008-2026 (its docstring says how, and why its per-arm values mean nothing). Skipped when the folder already
   holds a dump of the same size (``--fresh`` rewrites it).
2. ``raw read``: polars reads every table file, all columns as text -- the floor for any reader of these bytes.
3. ``ingest``: ``deepimagine ingest aact OUT/aact --out OUT/tables``.
4. ``build``: ``deepimagine build --input aact:OUT/aact --out OUT/hub --timings …`` with a cold embedding cache
   (``OUT/embeddings``, emptied first), then again with that cache warm. ``build_s`` is the warm build; ``embed_s`` is
   the cold build's approx stage less the warm one's (the time spent embedding), reported with texts/s.
   ``--no-approx`` builds without the approx and pathways configs (no embedding at all).

The JSON object has ``studies``, ``studies_with_results``, ``outcomes``, ``outcome_measurements``,
``outcome_analyses``, ``raw_read_s``, ``ingest_s``, ``build_s``, ``embed_s``, ``embedded_texts``, ``texts_per_s``,
``peak_rss_bytes`` (the largest process of any step), ``peak_rss_by_step``, ``peak_tree_bytes`` and
``peak_tree_by_step`` (the memory of a step's whole process tree, workers included), ``stages`` (the warm build's
stage -> seconds) and ``rows`` (config -> rows in all splits).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_STUDIES = 572_000
REGISTRY_WITH_RESULTS = 76_600

# Runs a command and prints its wall time, the peak RSS of its largest process (RUSAGE_CHILDREN is the largest
# descendant, not their sum) and the peak memory of its whole process tree: the sum of every process's PSS (shared
# pages split between their sharers, so forked workers are not counted twice), sampled every second from
# /proc/PID/smaps_rollup (Linux; 0 elsewhere). Not more often: reading it walks a process's page tables, and at
# 5 samples/s of a 7 GiB build the sampler took a third of a core from the build it measured.
_WRAP = """
import json, os, resource, subprocess, sys, threading, time

def tree(pid):
    out = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [q for k in fh.read().split() for q in tree(int(k))]
    except OSError:
        pass
    return out

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(l.split()[1]) * 1024 for l in fh if l.startswith("Pss:")), 0)
    except OSError:
        return 0

peak, done = [0], threading.Event()
t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:])

def sample():
    while not done.wait(1.0):
        peak[0] = max(peak[0], sum(pss(q) for q in tree(proc.pid)))

threading.Thread(target=sample, daemon=True).start()
rc = proc.wait()
done.set()
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - t, "peak_tree_bytes": peak[0],
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""

_RAW_READ = """
import sys, pathlib, polars as pl
rows = 0
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.txt")):
    rows += pl.read_csv(f, separator="|", infer_schema=False, raise_if_empty=False, quote_char='"').height
print(rows)
"""


def measured(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` (stdout and stderr to ``log``); its seconds and peak RSS."""
    with open(log, "w") as fh:
        res = subprocess.run([sys.executable, "-c", _WRAP, *cmd], stdout=subprocess.PIPE, stderr=fh, text=True)
    lines = res.stdout.strip().splitlines()
    out = json.loads(lines[-1])
    log.write_text(log.read_text() + "\n".join(lines[:-1]))
    if out["rc"] != 0:
        raise SystemExit(f"failed ({out['rc']}): {' '.join(cmd)}; see {log}")
    return out


def deepimagine(*args: str) -> list[str]:
    return [sys.executable, "-m", "deepimagine_data.cli", *args]


def dump(out: Path, studies: int, with_results: int, fresh: bool) -> dict:
    marker = out / "counts.json"
    if marker.is_file() and not fresh:
        counts = json.loads(marker.read_text())
        if (counts.get("studies"), counts.get("studies_with_results")) == (studies, with_results):
            print(f"dump: reusing {out} ({studies:,} studies)", file=sys.stderr)
            return counts
    shutil.rmtree(out, ignore_errors=True)
    sys.path.insert(0, str(ROOT))
    from benchmarks.registry_dump import write_dump

    t = time.perf_counter()
    counts = write_dump(out, studies, with_results)
    counts["dump_s"] = round(time.perf_counter() - t, 1)
    marker.write_text(json.dumps(counts, indent=1) + "\n")
    return counts


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="working folder (the dump, tables, hub, logs)")
    ap.add_argument("--studies", type=int, default=REGISTRY_STUDIES, help="studies in the dump (every table scales)")
    ap.add_argument(
        "--with-results",
        type=int,
        default=None,
        help="of those, with posted results (default: in "
        f"proportion, {REGISTRY_WITH_RESULTS:,} of {REGISTRY_STUDIES:,})",
    )
    ap.add_argument("--no-approx", action="store_true", help="build without approx/pathways (no embedding)")
    ap.add_argument("--fresh", action="store_true", help="rewrite the dump even if one of this size is there")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args(argv)
    with_results = args.with_results
    if with_results is None:
        with_results = round(args.studies * REGISTRY_WITH_RESULTS / REGISTRY_STUDIES)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    aact_dir, logs = out / "aact", out / "logs"
    logs.mkdir(exist_ok=True)

    counts = dump(aact_dir, args.studies, with_results, args.fresh)
    steps: dict[str, dict] = {}
    steps["raw read"] = measured([sys.executable, "-c", _RAW_READ, str(aact_dir)], logs / "raw_read.log")
    steps["ingest"] = measured(
        deepimagine("ingest", "aact", str(aact_dir), "--out", str(out / "tables")), logs / "ingest.log"
    )
    build = ["build", "--input", f"aact:{aact_dir}", "--out", str(out / "hub")]
    timings: dict[str, dict] = {}
    if args.no_approx:
        runs = [("build", [*build, "--no-approx"])]
    else:
        cache = out / "embeddings"
        shutil.rmtree(cache, ignore_errors=True)
        runs = [(f"build ({label} cache)", [*build, "--cache-dir", str(cache)]) for label in ("cold", "warm")]
    for name, cmd in runs:
        tfile = logs / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".json")
        steps[name] = measured(deepimagine(*cmd, "--timings", str(tfile)), logs / (tfile.stem + ".log"))
        timings[name] = json.loads(tfile.read_text())
    last = list(timings)[-1]
    warm = timings[last]
    embed_s = texts = None
    if not args.no_approx:
        cold = timings["build (cold cache)"]
        embed_s = round(cold["stages"]["approx and pathways"] - warm["stages"]["approx and pathways"], 1)
        log = (logs / "build_cold_cache.log").read_text()
        texts = next(
            (
                int(line.split(";")[1].split()[0].replace(",", ""))
                for line in log.splitlines()
                if line.startswith("approx retrieval:")
            ),
            None,
        )
    result = {
        "studies": counts["studies"],
        "studies_with_results": counts["studies_with_results"],
        "outcomes": counts["outcomes"],
        "outcome_measurements": counts["outcome_measurements"],
        "outcome_analyses": counts["outcome_analyses"],
        "raw_read_s": round(steps["raw read"]["seconds"], 1),
        "ingest_s": round(steps["ingest"]["seconds"], 1),
        "build_s": round(steps[last]["seconds"], 1),
        "embed_s": embed_s,
        "embedded_texts": texts,
        "texts_per_s": round(texts / embed_s, 1) if texts and embed_s else None,
        "peak_rss_bytes": max(s["peak_rss_bytes"] for s in steps.values()),
        "peak_rss_by_step": {k: s["peak_rss_bytes"] for k, s in steps.items()},
        # the whole process tree (parent and workers), sampled: the figure to hold against the memory target
        "peak_tree_bytes": max(s["peak_tree_bytes"] for s in steps.values()),
        "peak_tree_by_step": {k: s["peak_tree_bytes"] for k, s in steps.items()},
        "stages": warm["stages"],
        "rows": {cfg: sum(by.values()) for cfg, by in warm["rows"].items()},
        "partitions": warm["partitions"],
    }
    gib = 2**30
    print(f"\n{'step':<22} {'seconds':>9} {'peak RSS GiB':>13} {'all processes GiB':>18}")
    for k, s in steps.items():
        print(f"{k:<22} {s['seconds']:>9.1f} {s['peak_rss_bytes'] / gib:>13.2f} {s['peak_tree_bytes'] / gib:>18.2f}")
    print(f"\nstages of the {last}:")
    for r in warm["stage_rows"]:
        print(f"  {r['stage']:<26} {r['seconds']:>9.1f} s   peak so far {r['peak_rss'] / gib:.2f} GiB")
    print(f"\nrows: {', '.join(f'{k} {v:,}' for k, v in result['rows'].items())}")
    print(
        f"ingest / raw read: {result['ingest_s'] / max(result['raw_read_s'], 1e-9):.1f}x"
        + (f"; cold embedding {texts:,} texts in {embed_s} s ({result['texts_per_s']}/s)" if texts else "")
    )
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
