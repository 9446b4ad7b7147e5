"""Temporal splits by results-first-posted date, and decontamination of training splits.

A trial is keyed by its NCT id where it has one (else its ``trial_id``), so the same registry trial read from two
sources (AACT and CliniFact, say) lands in one split. Its date is the earliest results-first-posted date any source
gives for that key. Trials no source dates (the curated per-arm sources carry no registry dates) go to ``train``
and are counted as ``undated``: they cannot be placed after a cutoff, and none of them is a benchmark test trial.

Every row of every config inherits its trial's split, so both sides of a pair share it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Cutoffs:
    """train: before ``validation_start``; validation: up to ``test_start``; test: from ``test_start``."""

    validation_start: dt.date = dt.date(2020, 1, 1)
    test_start: dt.date = dt.date(2021, 1, 1)

    def __post_init__(self) -> None:
        if not self.validation_start <= self.test_start:
            raise ValueError(f"cutoffs out of order: validation {self.validation_start} > test {self.test_start}")

    def split_of(self, date: dt.date | None) -> str:
        if date is None or date < self.validation_start:
            return "train"
        return "validation" if date < self.test_start else "test"


@dataclass
class SplitAssignment:
    split: dict[str, str]  # trial_id -> split
    key: dict[str, str]  # trial_id -> split key (NCT id or trial_id)
    date: dict[str, dt.date | None]  # split key -> date used
    cutoffs: Cutoffs
    undated: int = 0
    excluded: dict[str, set[str]] = field(default_factory=dict)  # list name -> split keys removed from train

    def counts(self) -> Counter:
        return Counter(self.split.values())


def trial_key(trial_id: str, nct_id: str | None) -> str:
    return nct_id or trial_id


def assign(trials: pa.Table, cutoffs: Cutoffs | None = None) -> SplitAssignment:
    cutoffs = cutoffs or Cutoffs()
    key, date = {}, {}
    for r in trials.select(["trial_id", "nct_id", "results_first_posted_date"]).to_pylist():
        k = trial_key(r["trial_id"], r["nct_id"])
        key[r["trial_id"]] = k
        d = r["results_first_posted_date"]
        if d is not None and (date.get(k) is None or d < date[k]):
            date[k] = d
        date.setdefault(k, None)
    split = {t: cutoffs.split_of(date[k]) for t, k in key.items()}
    undated = sum(1 for d in date.values() if d is None)
    return SplitAssignment(split, key, date, cutoffs, undated)


def split_table(
    table: pa.Table, assignment: SplitAssignment, exclude: dict[str, set[str]] | None = None
) -> tuple[dict[str, pa.Table], Counter]:
    """Rows of ``table`` (with ``trial_id``) by split; rows of excluded trials are dropped from ``train`` only.

    Returns (split -> table, Counter of removed rows per exclusion list name). ``exclude`` maps a list name to
    NCT ids / trial ids; a row is removed when its split key is in any list.
    """
    exclude = exclude or {}
    ids = table.column("trial_id").to_pylist()
    by_split: dict[str, list[int]] = {s: [] for s in SPLITS}
    removed: Counter = Counter()
    for i, t in enumerate(ids):
        if t not in assignment.split:
            raise KeyError(f"row {i}: trial_id {t!r} is not in the trials table the splits were assigned from")
        s = assignment.split[t]
        if s == "train":
            hit = [name for name, keys in exclude.items() if assignment.key[t] in keys]
            if hit:
                for name in hit:
                    removed[name] += 1
                continue
        by_split[s].append(i)
    return {s: table.take(pa.array(idx, pa.int64())) for s, idx in by_split.items()}, removed
