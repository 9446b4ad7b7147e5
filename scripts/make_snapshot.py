"""Build the embedded snapshot under deepimagine_data/data/ from ../shared/data (run by maintainers, not users).

Only redistributable sources go in (license rule: ClinicalTrials.gov/AACT records, MIT, Apache, GPL with its
notice beside it). Each source folder gets a PROVENANCE.md naming repository, commit, license and what was kept.

    python scripts/make_snapshot.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from deepimagine_data.hub import _plain_strings
from deepimagine_data.sources.aact import REQUIRED

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "deepimagine_data" / "data"

# AACT tables the reader uses; baseline_* (171k rows of baseline characteristics) are left out to stay small.
AACT_TABLES = [*REQUIRED, "keywords", "browse_interventions"]


def _write(df: pl.DataFrame, path: Path) -> None:
    pq.write_table(
        _plain_strings(df.to_arrow()), path, compression="zstd", compression_level=19, row_group_size=1 << 20
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def aact(shared: Path) -> list[str]:
    src = shared / "aact_oncology_merck"
    out = DEST / "aact_oncology"
    out.mkdir(parents=True, exist_ok=True)
    studies = pl.read_parquet(src / "studies.parquet")
    keep = studies.filter(pl.col("results_first_posted_date").is_not_null())["nct_id"].sort()
    lines = []
    for name in AACT_TABLES:
        df = pl.read_parquet(src / f"{name}.parquet")
        df = df.filter(pl.col("nct_id").is_in(keep.implode()))
        sort = ["nct_id", "id"] if "id" in df.columns else ["nct_id"]
        df = df.sort(sort)
        _write(df, out / f"{name}.parquet")
        lines.append(f"| {name} | {df.height:,} | `{_sha(out / f'{name}.parquet')[:16]}` |")
    (out / "LICENSE.GPL-3").write_text(GPL_NOTICE)
    (out / "PROVENANCE.md").write_text(
        "# AACT oncology studies with posted results\n\n"
        "- Source: Merck/bards-aactreveal (R package aactreveal), `data/*.rda`, commit "
        "140dae356379ec2eb9c1613d00167354a9bcb371 (2023-06-14). Underlying data: AACT "
        "(https://aact.ctti-clinicaltrials.org), itself ClinicalTrials.gov records.\n"
        "- License: GPL (>= 3) for the package's compilation (notice in LICENSE.GPL-3 beside this file); the "
        "records are ClinicalTrials.gov data.\n"
        '- Subset rule of the source: studies whose condition matches "oncology|malignant neoplasm|cancer" '
        "(42,218 studies).\n"
        f"- Kept here: the {keep.len():,} studies with a results_first_posted_date, and every row of the tables "
        "below that belongs to them. Columns unchanged (large_string cast to string); rows sorted by nct_id, id.\n"
        "- Left out: baseline_counts, baseline_measurements (baseline characteristics, not used by the trial "
        "model). Missing in the source itself: outcome_measurements, brief_summaries, countries, eligibilities "
        "(so per-arm outcome values, countries and eligibility text are unknown for these studies).\n\n"
        "| table | rows | sha256 (first 16) |\n|---|---:|---|\n" + "\n".join(lines) + "\n"
    )
    return [f"aact_oncology: {keep.len()} studies"]


GPL_NOTICE = """This folder holds data converted from a package licensed under the GNU General Public License,
version 3 or later. You may redistribute and/or modify it under the terms of the GNU GPL as published by the
Free Software Foundation, either version 3 of the License, or (at your option) any later version. It is
distributed WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A
PARTICULAR PURPOSE. See <https://www.gnu.org/licenses/gpl-3.0.txt> for the full license text.
"""


def curated(shared: Path) -> list[str]:
    notes = []
    # llm_meta_analysis (Apache-2.0): the annotated per-arm CSV, unchanged.
    out = DEST / "llm_meta_analysis"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared / "llm_meta_analysis" / "annotated_rct_dataset.csv", out / "annotated_rct_dataset.csv")
    (out / "PROVENANCE.md").write_text(
        "# llm-meta-analysis annotated RCT dataset\n\n- Source: hyesunyun/llm-meta-analysis, "
        "evaluation/data/annotated_rct_dataset.csv, commit ca9404c2ec57590c5a1ae53b15b5287d0e51d715 (2024-07-28)\n"
        "- License: Apache-2.0\n- Kept: the CSV unchanged (699 ICO rows over 120 RCTs, per-arm events/n or "
        "mean/SD/n).\n"
    )
    notes.append("llm_meta_analysis: copied")

    # dose_response (GPL-3): the per-arm CSVs of real trials, unchanged.
    out = DEST / "dose_response"
    out.mkdir(parents=True, exist_ok=True)
    kept = []
    for f in sorted((shared / "dose_response").glob("*.csv")):
        if f.name in ("MBNMAdose__ssi_closure.csv",):  # closure methods, not doses
            continue
        shutil.copyfile(f, out / f.name)
        kept.append(f.name)
    (out / "LICENSE.GPL-3").write_text(GPL_NOTICE)
    (out / "PROVENANCE.md").write_text(
        "# Dose-response trials (per dose arm)\n\n"
        "- hugaped/MBNMAdose, data/*.rda, commit cc415a218fc119db71e857fd11a525852af76a89 (2025-05-22), GPL-3\n"
        "- cran/DoseFinding, data/*.rda, commit 0e4e9aa9c8b12e0c3b9c3e00415f98f501c2d48b (2025-07-09), GPL-3\n"
        "- Converted .rda -> .csv with pyreadr (columns unchanged). Notice: LICENSE.GPL-3 beside this file.\n"
        "- Kept: " + ", ".join(kept) + "\n- Left out: MBNMAdose ssi_closure (wound-closure methods, no doses).\n"
    )
    notes.append(f"dose_response: {len(kept)} files")

    # clinifact (MIT per README): the three split CSVs without the linked publication's abstract/title
    # (the trial model needs the registry side: groups, outcome, p-values).
    out = DEST / "clinifact"
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    with tarfile.open(shared / "clinifact" / "clinifact_processed.tar.gz") as tar:
        for split in ("train", "validation", "test"):
            m = tar.getmember(f"data/processed/primary_outcome_publication_dataset/{split}_set.csv")
            df = pl.read_csv(io.BytesIO(tar.extractfile(m).read()), infer_schema=False)
            frames.append(df.with_columns(pl.lit(split).alias("split")))
    df = pl.concat(frames).drop(["article_abstract", "article_title"], strict=False)
    df.write_csv(out / "clinifact_registry_side.csv")
    (out / "PROVENANCE.md").write_text(
        "# CliniFact (registry side)\n\n- Source: ds4dh/CliniFact, data/processed/primary_outcome_publication_"
        "dataset/{train,validation,test}_set.csv, commit 77f8c19844fd4113aa051f867b4d7a8ce5c3a879 (2025-04-11)\n"
        "- License: MIT (stated in the repository README)\n"
        f"- Kept: all {df.height:,} rows of the three splits (column `split` added), without `article_abstract` "
        "and `article_title` (text of the linked publications, not needed by the trial model).\n"
    )
    notes.append(f"clinifact: {df.height} rows")
    return notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    DEST.mkdir(parents=True, exist_ok=True)
    for n in aact(args.shared) + curated(args.shared):
        print(n)
    total = sum(p.stat().st_size for p in DEST.rglob("*") if p.is_file())
    print(f"snapshot size: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
