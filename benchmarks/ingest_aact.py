"""Benchmark the AACT source: ingest throughput next to merely reading the same bytes.

    python benchmarks/ingest_aact.py                       # the Merck AACT parquet tables (42,218 studies)
    python benchmarks/ingest_aact.py --flat /tmp/aact_flat --make-flat   # write them as flat files first
    python benchmarks/ingest_aact.py --flat /path/to/20240101_export.zip # an AACT flat-file export

Each measurement runs in a fresh Python process, so the peak RSS (``resource.getrusage``) is its own:
- ``read``: read every table file of the input into Arrow and discard it (parquet: pyarrow; flat files:
  polars' CSV reader, all columns as text) -- the floor for any ingest of these bytes;
- ``ingest``: ``aact.read(...)`` to the six Arrow tables, with ``require_results=False`` and ``True``.
MB/s is over the bytes of all table files in the input (baseline_* included, though the ingest skips them).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MERCK = ROOT.parent / "shared" / "data" / "aact_oncology_merck"


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(path.glob("*.parquet")) or sorted(path.glob("*.txt"))
    if not files:
        raise SystemExit(f"no *.parquet or *.txt tables in {path}")
    return files


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one(kind: str, path: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    out: dict = {"kind": kind}
    if kind == "read":
        import pyarrow.parquet as pq

        rows = 0
        for f in _files(path):
            if f.suffix == ".parquet":
                t = pq.read_table(f)
            elif f.suffix == ".zip":
                from deepimagine_data.sources.aact_flat import FlatSource

                src = FlatSource(f)
                t = None
                for name in src.tables():
                    tt = src.scan(name, typed=False).collect().to_arrow()
                    rows += tt.num_rows
                    del tt
            else:
                import polars as pl

                t = pl.read_csv(f, separator="|", infer_schema=False, raise_if_empty=False).to_arrow()
            if t is not None:
                rows += t.num_rows
            del t
        out["rows"] = rows
    else:
        from deepimagine_data.sources import aact

        tables, report = aact.read(path, require_results=(kind == "ingest_results"), progress=False)
        out.update(
            read=report.read,
            kept=report.kept,
            skipped=report.n_skipped,
            rows={k: v.num_rows for k, v in tables.items()},
        )
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _run(kind: str, path: Path) -> dict:
    res = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def make_flat(src: Path, out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import pyarrow.parquet as pq

    from deepimagine_data.sources.aact_flat import write_flat_files

    t0 = time.perf_counter()
    write_flat_files({p.stem: pq.read_table(p) for p in sorted(src.glob("*.parquet"))}, out)
    print(f"wrote flat files of {src} to {out} in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=MERCK, help="AACT parquet directory (default: Merck)")
    ap.add_argument("--flat", type=Path, help="benchmark this flat-file directory or .zip instead")
    ap.add_argument("--make-flat", action="store_true", help="first write PATH's parquet tables to --flat")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest is kept)")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]))))
        return 0
    path = args.path
    if args.flat:
        if args.make_flat:
            make_flat(args.path, args.flat)
        path = args.flat
    nbytes = sum(f.stat().st_size for f in _files(path))
    mb = nbytes / 1e6
    print(f"input: {path}  ({len(_files(path))} files, {mb:.1f} MB)")

    results = {}
    for kind in ("read", "ingest_all", "ingest_results"):
        runs = [_run(kind, path) for _ in range(max(1, args.repeat))]
        results[kind] = min(runs, key=lambda r: r["seconds"])
    base = results["read"]["seconds"]
    print()
    print(
        f"{'measurement':<34} {'seconds':>8} {'studies/s':>10} {'kept/s':>9} {'MB/s':>8} {'peak RSS MB':>12} "
        f"{'x read':>7}"
    )
    label = {
        "read": "read bytes -> arrow (discard)",
        "ingest_all": "ingest require_results=False",
        "ingest_results": "ingest require_results=True",
    }
    for kind, r in results.items():
        s = r["seconds"]
        studies = f"{r['read'] / s:>10,.0f}" if "read" in r and kind != "read" else f"{'':>10}"
        kept = f"{r['kept'] / s:>9,.0f}" if "kept" in r else f"{'':>9}"
        print(
            f"{label[kind]:<34} {s:>8.2f} {studies} {kept} {mb / s:>8.1f} {r['peak_rss_mb']:>12,.0f} {s / base:>7.1f}"
        )
    print()
    for kind in ("ingest_all", "ingest_results"):
        r = results[kind]
        print(f"{kind}: studies read {r['read']:,}, kept {r['kept']:,}, skipped {r['skipped']:,}; rows {r['rows']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
