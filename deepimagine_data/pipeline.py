"""The shared build pipeline behind the ``pairs`` and ``bench`` builders.

embedded snapshot -> six tables -> labelled comparisons (label rules ``labels-v2``, with the funnel of what each
step kept and dropped) -> (pairs | questions) -> temporal splits -> training splits decontaminated of CT Open's
trials (the shipped id lists of both editions, plus the pickles where ``--ctopen-source`` points at them) and any
user exclusion list.

One process builds the corpus once (``corpus()`` is cached), so ``deepimagine build`` ingests the snapshot once for
all datasets.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa

from .funnel import Funnel
from .pairs.approx import ApproxOptions
from .pairs.render import DEFAULT_TARGETS, TargetRule
from .splits import Cutoffs, SplitAssignment, assign, split_table

EMBEDDED_INPUTS = ("embedded",)


@dataclass(frozen=True)
class BuildOptions:
    # what the build reads (deepimagine_data.inputs: "embedded", "aact:PATH", "ctgov:PATH", "tables:DIR", ...)
    inputs: tuple[str, ...] = EMBEDDED_INPUTS
    cutoffs: Cutoffs = Cutoffs()
    # CT Open editions removed from training splits: always from the id lists shipped with the package; where
    # ``ctopen_source`` points at the pickles, their ids are added. A pickle that cannot be loaded fails the build
    # only if ``ctopen_missing == "error"``; otherwise the card says the shipped list alone was applied.
    ctopen_editions: tuple[str, ...] = ("winter2025", "summer2025")
    ctopen_source: str | None = None
    ctopen_missing: str = "skip"
    exclude_files: tuple[str, ...] = ()
    strict: bool = False
    # the approx and pathways configs (embedding retrieval, needs the [embed] extra); None: not built
    approx: ApproxOptions | None = ApproxOptions()
    # the decision line of the pairs' completions (pairs.render.TargetRule): "smooth:EPS" or "onehot"
    targets: str = DEFAULT_TARGETS
    # questions of one trial kept in the bench test split (None: no cap), so no trial dominates a score
    bench_max_per_trial: int | None = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", canonical_inputs(self.inputs))
        object.__setattr__(self, "targets", TargetRule.parse(self.targets).name)
        if self.bench_max_per_trial is not None and self.bench_max_per_trial < 1:
            raise ValueError(f"bench_max_per_trial must be >= 1 (or None), got {self.bench_max_per_trial}")


@dataclass
class Decontamination:
    lists: dict[str, set[str]] = field(default_factory=dict)  # list name -> NCT ids
    sources: dict[str, str] = field(default_factory=dict)  # list name -> where its ids came from
    skipped: dict[str, str] = field(default_factory=dict)  # list name -> why a pickle could not be loaded

    def summary(self) -> list[tuple[str, int, str]]:
        """(list, ids, status) per list: "applied: <where from>"."""
        rows = []
        for name, ids in sorted(self.lists.items()):
            status = f"applied: {self.sources.get(name, 'user file')}"
            if name in self.skipped:
                status += f"; pickle not loaded: {_short(self.skipped[name])}"
            rows.append((name, len(ids), status))
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


def canonical_inputs(inputs: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """The inputs as canonical specs (``ctgov-json:x`` -> ``ctgov:x``), so that equal inputs share one cache."""
    from .inputs import Input

    return tuple(Input.parse(i).spec for i in (inputs or EMBEDDED_INPUTS))


@lru_cache(maxsize=2)
def assembled(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS):
    """The build's inputs read, checked and merged (:class:`~deepimagine_data.inputs.Assembled`); one read per
    process and set of inputs."""
    from .inputs import read_inputs

    return read_inputs(inputs, strict=strict)


def corpus(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> tuple[dict[str, pa.Table], dict]:
    """(the six tables, the ingest reports by source or input) of the build's inputs."""
    a = assembled(strict, canonical_inputs(inputs))
    return a.tables, a.reports


def licenses(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> dict[str, str]:
    """``source`` (and ``source|version``) -> the license of the rows (from the source registry, or the embedded
    data's own provenance)."""
    return assembled(strict, canonical_inputs(inputs)).licenses()


@lru_cache(maxsize=2)
def _labelled(strict: bool, inputs: tuple[str, ...]):
    from .pairs.comparisons import Corpus, label_corpus

    tables, _ = corpus(strict, inputs)
    return label_corpus(Corpus.from_tables(tables))


def labelled(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS):
    """Every comparison of the corpus with its label, and the funnel steps that made them
    (:class:`~deepimagine_data.pairs.comparisons.Labelled`)."""
    return _labelled(strict, canonical_inputs(inputs))


def comparisons(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> list[dict]:
    return labelled(strict, inputs).comparisons


@lru_cache(maxsize=2)
def _strict(strict: bool, targets: str, inputs: tuple[str, ...]) -> tuple[dict[str, pa.Table], dict[str, Counter]]:
    from .pairs.strict import build_pairs

    tables, _ = corpus(strict, inputs)
    counts: dict[str, Counter] = {}
    lab = labelled(strict, inputs)
    return build_pairs(tables, licenses(strict, inputs), lab.comparisons, counts, lab.corpus, targets), counts


def strict_pairs(
    strict: bool = False, targets: str = DEFAULT_TARGETS, inputs: tuple[str, ...] = EMBEDDED_INPUTS
) -> dict[str, pa.Table]:
    """kind -> all strict pairs (before splitting); cached, tables are immutable."""
    return _strict(strict, TargetRule.parse(targets).name, canonical_inputs(inputs))[0]


def strict_pair_counts(
    strict: bool = False, targets: str = DEFAULT_TARGETS, inputs: tuple[str, ...] = EMBEDDED_INPUTS
) -> dict[str, Counter]:
    """kind -> what building that kind dropped, by reason (after the comparisons' own funnel)."""
    return _strict(strict, TargetRule.parse(targets).name, canonical_inputs(inputs))[1]


@lru_cache(maxsize=2)
def _questions(strict: bool, inputs: tuple[str, ...]) -> tuple[pa.Table, Counter]:
    from .questions import build_questions

    tables, _ = corpus(strict, inputs)
    counts: Counter = Counter()
    lab = labelled(strict, inputs)
    return build_questions(tables, lab.comparisons, licenses(strict, inputs), counts, lab.corpus), counts


def questions(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> pa.Table:
    return _questions(strict, canonical_inputs(inputs))[0]


def question_counts(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> Counter:
    return _questions(strict, canonical_inputs(inputs))[1]


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
    tables, _ = corpus(opts.strict, opts.inputs)
    assignment = assign(tables["trials"], opts.cutoffs)
    deco = decontamination(opts)
    return build_approx(
        tables,
        licenses(opts.strict, opts.inputs),
        comparisons(opts.strict, opts.inputs),
        assignment,
        deco.lists,
        opts.approx,
        opts.targets,
    )


@lru_cache(maxsize=8)
def decontamination(opts: BuildOptions) -> Decontamination:
    """The exclusion lists of a build: each CT Open edition's shipped id list (no network needed), plus its
    pickle's ids where ``opts.ctopen_source`` is given, plus the user's files."""
    from . import ctopen

    d = Decontamination()
    for edition in opts.ctopen_editions:
        name = f"ctopen_{edition}"
        d.lists[name] = ctopen.shipped_ids(edition)
        d.sources[name] = ctopen.shipped_source(edition)
    if opts.ctopen_source is not None:
        lists, skipped = ctopen.exclusion_ids(opts.ctopen_editions, opts.ctopen_source, missing=opts.ctopen_missing)
        for name, ids in lists.items():
            edition = name.removeprefix("ctopen_")
            added = len(ids - d.lists[name])
            d.lists[name] |= ids
            d.sources[name] = (
                f"pickle from {opts.ctopen_source} ({ctopen.EDITIONS[edition]}) and the shipped id list"
                + (f" ({added} ids only in the pickle)" if added else "")
            )
        for edition, why in skipped.items():
            d.skipped[f"ctopen_{edition}"] = why
            print(
                f"warning: CT Open {edition} pickle not loaded ({why}); its shipped id list is applied", file=sys.stderr
            )
    user, _ = ctopen.exclusion_ids((), extra_files=opts.exclude_files)  # no edition: the user's files only
    for f in opts.exclude_files:
        from pathlib import Path

        d.sources[f"user:{Path(f).name}"] = f"user file {f}"
    d.lists.update(user)
    return d


def split_all(
    configs: dict[str, pa.Table], opts: BuildOptions
) -> tuple[dict[str, dict[str, pa.Table]], SplitAssignment, Decontamination, dict[str, dict[str, int]]]:
    """config -> split -> table, the assignment, the exclusion lists and the rows removed per config and list."""
    tables, _ = corpus(opts.strict, opts.inputs)
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


def comparison_funnel(name: str, strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> Funnel:
    """The steps every corpus shares: posted analyses -> comparisons -> known answers -> arms -> p/CI agree."""
    f = Funnel(name)
    for step, kept, dropped in labelled(strict, inputs).steps:
        f.add(step, kept, dropped)
    return f


def add_split_steps(f: Funnel, tables: dict[str, dict[str, pa.Table]], removed: dict[str, dict[str, int]]) -> None:
    """One step per config: its rows by split, and the train rows the exclusion lists removed."""
    for cfg, by_split in tables.items():
        n = {s: t.num_rows for s, t in by_split.items()}
        label = " / ".join(f"{v:,}" for v in n.values())
        f.add(f"{cfg} train / validation / test: {label}", sum(n.values()), Counter(removed.get(cfg, {})))


def label_version() -> str:
    from .evidence import LABEL_VERSION

    return LABEL_VERSION


def parse_date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {s!r}") from e
