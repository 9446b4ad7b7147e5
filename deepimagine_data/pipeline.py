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

from .pairs.approx import ApproxOptions
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
    # the approx and pathways configs (embedding retrieval, needs the [embed] extra); None: not built
    approx: ApproxOptions | None = ApproxOptions()


@dataclass
class Decontamination:
    lists: dict[str, set[str]] = field(default_factory=dict)  # list name -> NCT ids
    skipped: dict[str, str] = field(default_factory=dict)  # list name -> why it could not be loaded

    def summary(self) -> list[tuple[str, int, str]]:
        rows = [(name, len(ids), "loaded") for name, ids in sorted(self.lists.items())]
        rows += [(name, 0, f"not loaded: {_short(why)}") for name, why in sorted(self.skipped.items())]
        return rows


def _short(why: str) -> str:
    """The first clause of a loader's message (the full text goes to stderr during the build)."""
    if why.startswith("could not download"):
        return "download failed (no network?)"
    if "not found" in why:
        return "no local copy, " + why.split(" not found")[0].rsplit("/", 1)[-1] + " not found"
    return why.split(". ")[0][:120]


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


@lru_cache(maxsize=2)
def strict_pairs(strict: bool = False) -> dict[str, pa.Table]:
    """kind -> all strict pairs (before splitting); cached, tables are immutable."""
    from .pairs.strict import build_pairs

    tables, _ = corpus(strict)
    return build_pairs(tables, licenses(), comparisons(strict))


@lru_cache(maxsize=2)
def questions(strict: bool = False) -> pa.Table:
    from .questions import build_questions

    tables, _ = corpus(strict)
    return build_questions(tables, comparisons(strict), licenses())


EMBED_MISSING = (
    "the approx and pathways configs retrieve similar trials with sentence embeddings, which need the [embed] "
    "extra: pip install 'deepimagine-data[embed]' (or build without them: deepimagine build --no-approx)"
)


def require_embed() -> None:
    """A clear error, before any work, when the [embed] extra is not installed."""
    import importlib.util

    missing = [m for m in ("sentence_transformers", "faiss", "numpy") if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(f"{EMBED_MISSING}; missing: {', '.join(missing)}")


@lru_cache(maxsize=2)
def approx_pairs(opts: BuildOptions):
    """``approx`` and ``pathways`` before splitting (an :class:`~deepimagine_data.pairs.approx.ApproxResult`).

    Anchors are filtered with the split assignment and exclusion lists of ``opts``, so the result depends on them.
    """
    from .pairs.approx import build_approx

    if opts.approx is None:
        raise ValueError("BuildOptions.approx is None: approximate pairs were not asked for")
    require_embed()
    tables, _ = corpus(opts.strict)
    assignment = assign(tables["trials"], opts.cutoffs)
    deco = decontamination(opts)
    return build_approx(tables, licenses(), comparisons(opts.strict), assignment, deco.lists, opts.approx)


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
        if "results_first_posted_date" in t.column_names:
            # the date the split is made on: the earliest any source gives for the registry trial (a CliniFact
            # row of a trial AACT also holds carries AACT's date, not null)
            dates = [assignment.date[assignment.key[tid]] for tid in t.column("trial_id").to_pylist()]
            i = t.schema.get_field_index("results_first_posted_date")
            t = t.set_column(i, t.schema.field(i), pa.array(dates, pa.date32()))
        out[cfg], rem = split_table(t, assignment, deco.lists)
        removed[cfg] = dict(rem)
    return out, assignment, deco, removed


def parse_date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {s!r}") from e
