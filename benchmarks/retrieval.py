"""Benchmark trial retrieval on the AACT oncology subset (Merck aactreveal, 42,216 studies with and without results).

Usage: python benchmarks/retrieval.py [path/to/aact_oncology_merck] [--limit N] [--batch-size 64] [--queries 1000]

Measures, in one process: reading AACT, building the text views, embedding every text with all-MiniLM-L6-v2 on
CPU into an empty (temporary) cache, the same embedding again from a fresh Embedder on that cache (all hits), then
build time, query time per 1,000 queries and recall@10 against the exact index for flat / hnsw / ivf, with the
queries drawn at random (fixed seed) from the indexed trials themselves (each query's own vector is in both top-10
lists, as when a user asks for the trials most like a given one). ``--limit N`` embeds a random sample of N trials
and prints the projected time for all of them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model needs no network; never wait on a hub timeout

DEFAULT = "/work/shared/data/aact_oncology_merck"


WIDTHS = (30, 10, 14, 12, 11, 13)


def row(*cells: object) -> str:
    """One table row: the label left-aligned, numbers right-aligned."""
    return "".join(
        f"{c!s:<{w}}" if i == 0 else f"{c!s:>{w}}" for i, (c, w) in enumerate(zip(cells, WIDTHS, strict=True))
    )


def tie_aware_recall(approx, exact, queries: np.ndarray, k: int = 10, eps: float = 1e-6) -> float:
    """Like ``recall_at_k``, but any returned neighbour scoring at least the exact k-th score counts as found.

    Identical texts have identical vectors: when a tie straddles rank k, which of the tied ids the exact index
    lists is arbitrary, and an approximate index returning another of them is not wrong. On AACT 1,519 trials share
    their text with another one (189 observational trials read "Conditions: Breast Cancer. Design: observational.").
    """
    truth_scores, _ = exact.search(queries, k)
    scores, ids = approx.search(queries, k)
    kth = truth_scores[:, -1:] - eps
    good = (scores >= kth) & (ids >= 0)
    return float(good.sum(axis=1).clip(max=k).mean() / k)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=DEFAULT)
    ap.add_argument("--limit", type=int, default=None, help="embed a random sample of N trials (fixed seed)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", default=None, help="keep the embeddings here (default: a temporary directory)")
    args = ap.parse_args()

    import torch

    from deepimagine_data.retrieval import TEXT_VERSION, trial_texts
    from deepimagine_data.retrieval.embed import Embedder
    from deepimagine_data.retrieval.index import VectorIndex, _cpu_count, recall_at_k
    from deepimagine_data.sources import aact

    print(f"cpus: {_cpu_count()}   torch threads: {torch.get_num_threads()}   text view: {TEXT_VERSION}")
    t0 = time.perf_counter()
    tables, report = aact.read(args.path, require_results=False, progress=False)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    texts = trial_texts(tables)
    t_text = time.perf_counter() - t0
    ids = sorted(texts)
    n_all = len(ids)
    rng = np.random.default_rng(args.seed)
    if args.limit and args.limit < n_all:
        ids = sorted(rng.choice(ids, size=args.limit, replace=False).tolist())
    batch = [texts[i] for i in ids]
    lengths = np.array([len(t) for t in batch])
    print(f"trials read: {n_all:,} in {t_read:.1f} s   text views: {t_text:.2f} s")
    print(
        f"embedding {len(batch):,} texts ({len(set(batch)):,} distinct), chars mean {lengths.mean():.0f}"
        f" / p90 {np.percentile(lengths, 90):.0f} / max {lengths.max()}"
    )

    with tempfile.TemporaryDirectory(prefix="retrieval-bench-") as tmp:
        cache = args.cache_dir or tmp
        if any(Path(cache).glob("embeddings/*/*.npz")):
            print(f"note: {cache} already holds embeddings, so the 'cold' run below is not cold")
        emb = Embedder(cache_dir=cache, batch_size=args.batch_size, progress=True)
        t0 = time.perf_counter()
        emb._load()
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = emb.embed(batch)
        t_cold = time.perf_counter() - t0
        computed = emb.stats["computed"]

        again = Embedder(cache_dir=cache, batch_size=args.batch_size, progress=False)
        t0 = time.perf_counter()
        vectors2 = again.embed(batch)
        t_hit = time.perf_counter() - t0
        assert again.stats["computed"] == 0 and vectors2.tobytes() == vectors.tobytes()
        shard_bytes = sum(p.stat().st_size for p in emb.shard_dir.glob("*.npz"))

    n = len(vectors)
    q_idx = rng.choice(n, size=min(args.queries, n), replace=False)
    queries = vectors[q_idx]

    configs = [("flat", {}, None), ("hnsw", {}, [16, 32, 64, 128]), ("ivf", {}, [4, 8, 16, 32])]
    results = []
    exact = None
    for kind, kw, sweep in configs:
        t0 = time.perf_counter()
        index = VectorIndex.build(vectors, kind=kind, seed=args.seed, **kw)
        t_build = time.perf_counter() - t0
        if kind == "flat":
            exact = index
        for setting in sweep or [None]:
            label = kind
            if kind == "hnsw":
                index.ef_search = setting
                label = f"hnsw M=32 efSearch={setting}"
            elif kind == "ivf":
                index.nprobe = setting
                label = f"ivf nlist={index.nlist} nprobe={setting}"
            index.search(queries[:10], 10)  # warm-up: first faiss call allocates thread pools
            t0 = time.perf_counter()
            index.search(queries, 10)
            t_query = (time.perf_counter() - t0) * 1000 / len(queries)
            t0 = time.perf_counter()
            singles = queries[:200]
            for q in singles:
                index.search(q, 10)
            t_single = (time.perf_counter() - t0) * 1000 / len(singles)
            rec = recall_at_k(index, exact, queries, k=10)
            results.append((label, t_build, t_query, t_single, rec, tie_aware_recall(index, exact, queries, k=10)))

    cold_rate = computed / t_cold if t_cold else float("nan")
    print()
    print("== embedding (all-MiniLM-L6-v2, CPU) ==")
    print(f"model               {emb.model_name} @ {emb.model_revision}   dim {emb.dim}   batch {args.batch_size}")
    print(f"model load          {t_load:8.1f} s")
    print(f"cold cache          {t_cold:8.1f} s   {computed:,} computed   {cold_rate:6.1f} texts/s")
    print(f"cache-hit re-run    {t_hit:8.2f} s   0 computed   {len(batch) / t_hit:,.0f} texts/s   (fresh Embedder)")
    print(f"cache on disk       {shard_bytes / 1e6:8.1f} MB   {emb.stats['shards_written']} shards")
    if len(batch) < n_all:
        print(f"projected, all {n_all:,} trials: {n_all / cold_rate / 60:.1f} min cold")
    print()
    print(f"== index ({n:,} x {vectors.shape[1]}, {len(queries):,} queries, k=10, {_cpu_count()} faiss threads) ==")
    print(row("index", "build s", "ms/1k queries", "ms/1 query", "recall@10", "tie-aware"))
    for label, t_build, t_query, t_single, rec, rec_ties in results:
        cells = (f"{t_build:.2f}", f"{t_query * 1000:.1f}", f"{t_single:.3f}", f"{rec:.4f}", f"{rec_ties:.4f}")
        print(row(label, *cells))
    print("ms/1k queries: one batched search call; ms/1 query: one call per query, mean of the first 200.")
    print("recall@10: share of the exact top-10 ids found; tie-aware: neighbours scoring >= the exact 10th score.")
    print("build s repeats across the settings of one index: efSearch / nprobe change at query time only.")


if __name__ == "__main__":
    main()
