"""Benchmark NameNormalizer on every intervention name of the AACT oncology subset (Merck aactreveal, 83,911 rows).

Usage: python benchmarks/normalize_names.py [path/to/interventions.parquet] [--threshold 92] [--workers -1]

Prints wall time of fit (which includes canonicalization) and transform, the number of distinct raw, canonical
and normalized names, 10 example merged groups (the 5 largest, then the 5 largest single-word ones) and, with
--bands, fuzzy pairs by merge-score band (the evidence behind the default threshold). The Merck subset has no
otherNames column, so this measures the canonical + fuzzy stages only.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from deepimagine_data.normalize.names import NameNormalizer, _guard, canonical_name, match_key, merge_score

DEFAULT = "/work/shared/data/aact_oncology_merck/interventions.parquet"


def bands(names: list[str], lo: float, hi: float, per_band: int) -> None:
    """Print sample pairs of distinct match keys whose merge score lies in [lo, hi), by 1-point band.

    The merge score is the highest threshold at which NameNormalizer would merge the pair (see ``merge_score``);
    pairs are only compared within one guard block, as in ``fit``.
    """
    keys = sorted({match_key(c) for c in (canonical_name(n) for n in names) if c})
    blocks: dict[tuple, list[str]] = defaultdict(list)
    for k in keys:
        blocks[_guard(k)].append(k)
    found: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for members in blocks.values():
        if len(members) < 2:
            continue
        s = process.cdist(members, members, scorer=fuzz.ratio, score_cutoff=lo, workers=-1)
        for r, c in zip(*np.nonzero(s), strict=True):
            if r < c:
                score = merge_score(members[r], members[c])
                if lo <= score < hi:
                    found[int(score)].append((members[r], members[c], score))
    for band in sorted(found):
        print(f"  [{band}, {band + 1}): {len(found[band])} pairs")
        for a, b, sc in found[band][:per_band]:
            print(f"      {sc:5.1f}  {a!r}  ~  {b!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=DEFAULT)
    ap.add_argument("--threshold", type=float, default=92.0)
    ap.add_argument("--workers", type=int, default=-1)
    ap.add_argument("--bands", action="store_true", help="print fuzzy pairs between 85 and 100 by score band")
    args = ap.parse_args()

    df = pl.read_parquet(args.path, columns=["name"])
    names = df["name"].to_list()
    print(f"interventions: {len(names):,}   cpus: {os.cpu_count()}   workers: {args.workers}")

    t0 = time.perf_counter()
    nn = NameNormalizer(threshold=args.threshold, workers=args.workers).fit((n, None) for n in names)
    t1 = time.perf_counter()
    normalized = nn.transform(names)
    t2 = time.perf_counter()

    raw = {n for n in names if n is not None}
    canon = set(nn.mapping)
    norm = {n for n in normalized if n is not None}
    print(f"fit: {t1 - t0:.2f} s   transform: {t2 - t1:.2f} s   total: {t2 - t0:.2f} s")
    print(f"distinct raw names:        {len(raw):,}")
    print(f"distinct canonical names:  {len(canon):,}")
    print(f"distinct normalized names: {len(norm):,}")

    groups = nn.groups()
    print(f"merged groups (2+ canonical names): {len(groups):,}")
    # the 5 largest groups (mostly combinations written in many orders) and the 5 largest single-word ones
    by_size = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    single = [kv for kv in by_size if " " not in kv[0] and not set(kv[0]) & set("/,+&")]
    by_size = by_size[:5] + [kv for kv in single if kv not in by_size[:5]][:5]
    raw_by_norm: dict[str, set[str]] = defaultdict(set)
    for r, n in zip(names, normalized, strict=True):
        if r is not None and n is not None:
            raw_by_norm[n].add(r)
    print("10 example merged groups (normalized <- canonical forms merged; raw spellings):")
    for norm_name, members in by_size[:10]:
        raws = sorted(raw_by_norm[norm_name])
        print(f"  {norm_name!r} <- {members[:8]}{' ...' if len(members) > 8 else ''}")
        print(f"      {len(raws)} raw spellings, e.g. {raws[:6]}")
    if args.bands:
        print("fuzzy pairs by merge-score band (same guard block):")
        bands(names, 85.0, 100.0, per_band=25)


if __name__ == "__main__":
    main()
