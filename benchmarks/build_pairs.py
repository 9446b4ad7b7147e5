"""Benchmark the pair and benchmark-question build on the embedded snapshot, stage by stage.

Usage: python benchmarks/build_pairs.py

Prints wall time and peak RSS after each stage of the pipeline behind ``deepimagine build`` (ingest of the embedded
snapshot, labelled comparisons, strict pairs with rendered text, questions, approximate pairs and pathways with a
cold and then a warm embedding cache, splits + decontamination, parquet writes), and the rows each stage made.
"""

from __future__ import annotations

import resource
import tempfile
import time


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from deepimagine_data.builders import bench, pairs

    from deepimagine_data import pipeline

    rows = []
    t = time.perf_counter()

    def stage(name: str, n: int) -> None:
        nonlocal t
        now = time.perf_counter()
        rows.append((name, now - t, rss_mb(), n))
        t = now

    tables, _ = pipeline.corpus()
    stage("ingest embedded snapshot (6 tables)", sum(x.num_rows for x in tables.values()))
    comps = pipeline.comparisons()
    stage("labelled comparisons", len(comps))
    sp = pipeline.strict_pairs()
    stage("strict pairs + rendered text", sum(x.num_rows for x in sp.values()))
    q = pipeline.questions()
    stage("benchmark questions", q.num_rows)
    opts = pipeline.default_options()
    from deepimagine_data.pairs.approx import ApproxOptions, build_approx
    from deepimagine_data.splits import assign

    assignment = assign(tables["trials"], opts.cutoffs)
    lists = pipeline.decontamination(opts).lists
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm"):
            res = build_approx(
                tables, pipeline.licenses(), comps, assignment, lists, ApproxOptions(cache_dir=cache, progress=False)
            )
            r = res.retrieval
            n = sum(x.num_rows for x in res.tables.values())
            stage(f"approx + pathways, {label} cache ({r.embedded:,} embedded)", n)
    split, *_ = pipeline.split_all({**sp, "questions": q}, opts)
    stage("splits + decontamination", sum(x.num_rows for s in split.values() for x in s.values()))
    with tempfile.TemporaryDirectory() as d:
        pairs.write(d, opts)
        bench.write(d, opts)
    stage("write pairs + bench (parquet + cards)", 0)

    print(f"{'stage':<48} {'seconds':>8} {'peak RSS MB':>12} {'rows':>9}")
    for name, sec, mb, n in rows:
        print(f"{name:<48} {sec:>8.1f} {mb:>12.0f} {n:>9,}")
    print(f"{'total':<48} {sum(r[1] for r in rows):>8.1f}")


if __name__ == "__main__":
    main()
