"""The shared build pipeline behind the ``pairs`` and ``bench`` builders.

embedded snapshot -> six tables -> labelled comparisons -> (pairs | questions) -> temporal splits -> training splits
decontaminated of CT Open's trials and any user exclusion list.

One process builds the corpus once (``corpus()`` is cached), so ``deepimagine build`` ingests the snapshot once for
all datasets.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa

from .splits import Cutoffs, SplitAssignment, assign, split_table


@dataclass(frozen=True)
class BuildOptions:
    cutoffs: Cutoffs = Cutoffs()
    # CT Open editions removed from training splits; where an edition cannot be loaded (no network, no local
    # copy) the build goes on only if ``ctopen_missing == "skip"``, and the card says which edition was skipped.
    ctopen_editions: tuple[str, ...] = ("winter2025", "summer2025")
    ctopen_source: str | None = None
    ctopen_missing: str = "skip"
    exclude_files: tuple[str, ...] = ()
    strict: bool = False


@dataclass
class Decontamination:
    lists: dict[str, set[str]] = field(default_factory=dict)  # list name -> NCT ids
    skipped: dict[str, str] = field(default_factory=dict)  # list name -> why it could not be loaded

    def summary(self) -> list[tuple[str, int, str]]:
        rows = [(name, len(ids), "loaded") for name, ids in sorted(self.lists.items())]
        rows += [(name, 0, f"skipped: {why}") for name, why in sorted(self.skipped.items())]
        return rows


def default_options() -> BuildOptions:
    src = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    return BuildOptions(ctopen_source=src)


@lru_cache(maxsize=2)
def corpus(strict: bool = False) -> tuple[dict[str, pa.Table], dict]:
    from .snapshot import ingest_embedded

    return ingest_embedded(strict=strict)


def licenses() -> dict[str, str]:
    from .snapshot import EMBEDDED

    return {s.name: s.license for s in EMBEDDED}


@lru_cache(maxsize=2)
def comparisons(strict: bool = False) -> list[dict]:
    from .pairs.comparisons import Corpus, all_comparisons

    tables, _ = corpus(strict)
    return all_comparisons(Corpus.from_tables(tables))


@lru_cache(maxsize=8)
def decontamination(opts: BuildOptions) -> Decontamination:
    from . import ctopen

    lists, skipped = ctopen.exclusion_ids(
        opts.ctopen_editions, opts.ctopen_source, extra_files=opts.exclude_files, missing=opts.ctopen_missing
    )
    d = Decontamination({k: set(v) for k, v in lists.items()}, {f"ctopen_{e}": why for e, why in skipped.items()})
    for name, why in d.skipped.items():
        print(f"warning: decontamination list {name} not loaded ({why}); the card records it", file=sys.stderr)
    return d


def split_all(
    configs: dict[str, pa.Table], opts: BuildOptions
) -> tuple[dict[str, dict[str, pa.Table]], SplitAssignment, Decontamination, dict[str, dict[str, int]]]:
    """config -> split -> table, the assignment, the exclusion lists and the rows removed per config and list."""
    tables, _ = corpus(opts.strict)
    assignment = assign(tables["trials"], opts.cutoffs)
    deco = decontamination(opts)
    out, removed = {}, {}
    for cfg, t in configs.items():
        out[cfg], rem = split_table(t, assignment, deco.lists)
        removed[cfg] = dict(rem)
    return out, assignment, deco, removed


def parse_date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {s!r}") from e
