"""The shared build pipeline behind the ``pairs`` and ``bench`` builders.

embedded snapshot -> six tables -> labelled comparisons (label rules ``labels-v2``, with the funnel of what each
step kept and dropped) -> (pairs | questions) -> temporal splits -> training splits decontaminated of CT Open's
trials (the shipped id lists of both editions, plus the pickles where ``--ctopen-source`` points at them) and any
user exclusion list.

A command makes one :class:`BuildContext`: it reads the inputs once and labels and pairs the trials partition by
partition (:data:`PARTITION_TRIALS` at a time), so memory follows the partition, not the registry. Callers outside a
command share a context per set of inputs (:func:`context`).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa

from .funnel import Funnel
from .pairs.approx import ApproxOptions
from .pairs.render import DEFAULT_TARGETS, TargetRule
from .splits import Cutoffs, SplitAssignment, assign, split_table
from .tables import PackedTable, pieces_of

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


# Trials labelled and paired together: the Python records of one partition are what the build holds at once, so
# memory follows this, not the registry. Every rule is per trial except two filters across trials (one source per
# NCT id, repeated prompts), applied over all partitions at the end; any partition size gives the same rows.
# 750 rather than 1,500: each forked worker holds one partition, and halving it cut the embedded build's memory over
# all processes from 1.00 to 0.88 GiB (a tenth of the registry: 2.3 to 1.9 GiB) at the same time; selecting a
# partition's rows costs ~0.04 s per table at registry size.
PARTITION_TRIALS = 750


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (``getrusage``; KiB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def give_back_memory() -> None:
    """Hand freed memory back to the system between stages (the C heap keeps what a stage's Python objects freed,
    and the next stage's peak would sit on top of it)."""
    import ctypes
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


class Stages:
    """Wall time and peak memory of a command's stages, in order (``deepimagine build --timings FILE``)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    @contextmanager
    def __call__(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - t, 3)
            self.rows.append({"stage": name, "seconds": seconds, "peak_rss": peak_rss_bytes()})

    def seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.rows:
            out[r["stage"]] = round(out.get(r["stage"], 0.0) + r["seconds"], 3)
        return out


@dataclass
class Products:
    """The per-trial products of a build, made partition by partition and merged."""

    strict: dict[str, PackedTable]  # kind -> all strict pairs (before splitting), packed partition by partition
    strict_counts: dict[str, Counter]  # kind -> dropped by reason (after the comparisons' own funnel)
    questions: pa.Table
    question_counts: Counter
    labelled: object  # pairs.comparisons.Labelled: the merged tallies and drops (no comparisons, no corpus)
    usable: list[dict]  # comparisons that may be an approx target or anchor (pairs.approx.labelled)
    partitions: int


@dataclass
class _Partition:
    """What one partition of trials gives (:func:`_label_partition`), merged in partition order."""

    labelled: object  # pairs.comparisons.Labelled: tallies and drops only
    strict: dict[str, pa.Table]
    strict_counts: dict[str, Counter]
    questions: pa.Table
    question_counts: Counter
    usable: list[dict]


def _label_partition(tables: dict[str, pa.Table], licenses: dict[str, str], targets: str) -> _Partition:
    """Label one partition's trials and make its strict pairs, questions and approx-usable comparisons (the
    filters that look across trials run on the merged partitions)."""
    from .pairs.approx import labelled as approx_usable
    from .pairs.comparisons import Corpus, Labelled, label_corpus
    from .pairs.strict import build_pairs
    from .question_rows import build_questions

    lab = label_corpus(Corpus.from_tables(tables))
    strict_counts: dict[str, Counter] = {}
    question_counts: Counter = Counter()
    sp = build_pairs(tables, licenses, lab.comparisons, strict_counts, lab.corpus, targets, dedupe=False)
    q = build_questions(tables, lab.comparisons, licenses, question_counts, lab.corpus, across_trials=False)
    tallies = Labelled([], None, lab.tallies, lab.drops)
    return _Partition(tallies, sp, strict_counts, q, question_counts, approx_usable(lab.comparisons))


# (context, licenses, targets) of the build whose partitions forked workers label: set before the fork, so each
# worker reads the parent's tables from its own copy-on-write pages
_FORKED: tuple | None = None


def _label_forked(ids: pa.Array) -> _Partition:
    ctx, licenses, targets = _FORKED
    return _label_partition(ctx.partition_tables(ids), licenses, targets)


def default_workers() -> int:
    """Processes that label partitions at once: 2 where this Linux process may run on 2 or more cores, else 1.
    Not more by default: each worker holds a partition's Python objects (~0.3 GB at the default size), and
    forking is only safe where it is the platform's default (Linux)."""
    from .cores import usable_cores

    if not sys.platform.startswith("linux"):
        return 1
    return 2 if usable_cores() >= 2 else 1


class BuildContext:
    """What one command builds from one set of inputs: the inputs read once, then everything derived from them,
    kept on this object (not on the module), so a command makes one context and hands it to every builder.

    >>> ctx = BuildContext(inputs=("embedded",))  # doctest: +SKIP
    >>> ctx.products().strict["strict_arm"].num_rows  # doctest: +SKIP
    5620
    """

    def __init__(
        self,
        strict: bool = False,
        inputs: tuple[str, ...] | list[str] = EMBEDDED_INPUTS,
        partition_trials: int = PARTITION_TRIALS,
        progress: bool = False,
        release: bool = False,
        workers: int | None = 1,
    ):
        if partition_trials < 1:
            raise ValueError(f"partition_trials must be >= 1, got {partition_trials}")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1 (or None for the default), got {workers}")
        # partitions labelled at once, each in a forked process (None: default_workers())
        self.workers = default_workers() if workers is None else workers
        self.strict = strict
        self.inputs = canonical_inputs(tuple(inputs))
        self.partition_trials = partition_trials
        self.progress = progress
        # a command's context hands each product to its one builder and forgets it (take_*), so the build never
        # holds a config twice (before and after the split); a shared context keeps everything
        self.release = release
        self.stages = Stages()
        self._assembled = None
        self._labelled = None
        self._products: dict[str, Products] = {}
        self._approx: dict[BuildOptions, object] = {}

    def assembled(self):
        """The inputs read, checked and merged (:class:`~deepimagine_data.inputs.Assembled`)."""
        if self._assembled is None:
            from .inputs import read_inputs

            with self.stages("read inputs"):
                self._assembled = read_inputs(self.inputs, strict=self.strict)
        return self._assembled

    @property
    def tables(self) -> dict[str, pa.Table]:
        return self.assembled().tables

    @property
    def reports(self) -> dict:
        return self.assembled().reports

    def licenses(self) -> dict[str, str]:
        return self.assembled().licenses()

    def labelled(self):
        """Every comparison of the whole corpus in one piece, with its corpus (for tools and tests that look up
        comparisons; the build itself labels partition by partition, :meth:`products`)."""
        if self._labelled is None:
            from .pairs.comparisons import Corpus, label_corpus

            self._labelled = label_corpus(Corpus.from_tables(self.tables))
        return self._labelled

    def partitions(self) -> list[pa.Array]:
        """The trial ids of each partition, ``partition_trials`` at a time, in the order of their rows' ids (every
        id of a trial's rows starts with ``<trial_id>:``), so the partitions' sorted outputs concatenate into one
        sorted output."""
        ids = sorted(self.tables["trials"].column("trial_id").to_pylist(), key=lambda t: t + ":")
        n = self.partition_trials
        return [pa.array(ids[i : i + n], pa.string()) for i in range(0, len(ids), n)]

    def partition_tables(self, ids: pa.Array) -> dict[str, pa.Table]:
        from .tables import of_trials

        if len(ids) == self.tables["trials"].num_rows:
            return self.tables
        return of_trials(self.tables, ids)

    def products(self, targets: str = DEFAULT_TARGETS) -> Products:
        """Strict pairs, questions and approx-usable comparisons of every partition, merged."""
        targets = TargetRule.parse(targets).name
        if targets in self._products:
            return self._products[targets]
        parts = self.partitions()
        with self.stages("label and pair"):
            p = self._products_of(parts, targets)
        self._products[targets] = p
        give_back_memory()
        return p

    def _labelled_partitions(self, parts: list[pa.Array], targets: str) -> Iterator[_Partition]:
        """Each partition's products, in partition order: here, or in ``workers`` forked processes that inherit the
        read tables (nothing is copied to them; each sends back its partition's products)."""
        global _FORKED

        licenses = self.licenses()
        workers = min(self.workers, len(parts))
        if workers < 2:
            for ids in parts:
                yield _label_partition(self.partition_tables(ids), licenses, targets)
            return
        import multiprocessing as mp

        _FORKED = (self, licenses, targets)
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                yield from pool.imap(_label_forked, parts)
        finally:
            _FORKED = None

    def _products_of(self, parts: list[pa.Array], targets: str) -> Products:
        from tqdm.auto import tqdm

        from .pairs.comparisons import Labelled
        from .question_rows import filter_across_trials, keep_rows, kept_across_trials, row_keys

        strict_parts: dict[str, PackedTable] = {}
        strict_keys: dict[str, list[dict]] = {}
        strict_counts: dict[str, Counter] = {}
        q_parts: list[pa.Table] = []
        q_keys: list[dict] = []
        q_counts: Counter = Counter()
        merged = Labelled([], None)
        usable: list[dict] = []
        quiet = not self.progress or len(parts) < 2
        bar = tqdm(total=len(parts), desc="label and pair", unit="partition", disable=quiet)
        for part in self._labelled_partitions(parts, targets):
            merged.add(part.labelled)
            for kind, c in part.strict_counts.items():
                strict_counts.setdefault(kind, Counter()).update(c)
            for kind, table in part.strict.items():
                strict_parts.setdefault(kind, PackedTable(table.schema)).append(table)
                strict_keys.setdefault(kind, []).extend(row_keys(table, "pair_id"))
            q_counts.update(part.question_counts)
            q_parts.append(part.questions)
            q_keys.extend(row_keys(part.questions, "question_id"))
            usable.extend(part.usable)
            bar.update()
            del part
        bar.close()
        strict = {}
        for kind, packed in strict_parts.items():
            keep = kept_across_trials(strict_keys.pop(kind), "pair_id", strict_counts[kind])
            strict[kind] = PackedTable.of((keep_rows(t, keep, "pair_id") for t in packed), packed.schema)
            strict_parts[kind] = None  # the unfiltered pieces go before the next kind is unpacked
        questions = filter_across_trials(pa.concat_tables(q_parts), q_keys, "question_id", q_counts, one_source=True)
        return Products(strict, strict_counts, questions, q_counts, merged, usable, len(parts))

    def take_strict(self, targets: str = DEFAULT_TARGETS) -> dict[str, PackedTable]:
        """kind -> strict pairs, for the one builder that writes them (forgotten here if ``release``)."""
        p = self.products(targets)
        out = dict(p.strict)
        if self.release:
            p.strict.clear()
        return out

    def take_questions(self, targets: str = DEFAULT_TARGETS) -> pa.Table:
        """The questions, for the one builder that writes them (forgotten here if ``release``)."""
        p = self.products(targets)
        out = p.questions
        if self.release:
            p.questions = out.schema.empty_table()
        return out

    def approx_pairs(self, opts: BuildOptions):
        """``approx`` and ``pathways`` before splitting (an :class:`~deepimagine_data.pairs.approx.ApproxResult`).

        Anchors are filtered with the split assignment and exclusion lists of ``opts``, so the result depends on
        them."""
        if opts in self._approx:
            return self._approx[opts]
        from .pairs.approx import build_approx

        if opts.approx is None:
            raise ValueError("BuildOptions.approx is None: approximate pairs were not asked for")
        require_embed()
        usable = self.products(opts.targets).usable
        with self.stages("approx and pathways"):
            res = build_approx(
                self.tables,
                self.licenses(),
                usable,
                assign(self.tables["trials"], opts.cutoffs),
                decontamination(opts).lists,
                opts.approx,
                opts.targets,
            )
        if self.release:
            self._products[TargetRule.parse(opts.targets).name].usable.clear()
        self._approx[opts] = res
        give_back_memory()
        return res

    def drop_inputs(self) -> None:
        """Once every product of a command is made: keep of the inputs only what the split assignment reads (three
        columns of ``trials``). At registry scale the read tables are ~4 GiB that writing the datasets never reads.
        Only a command's context (``release``) may do this; later calls that need the tables fail loudly."""
        if not self.release:
            raise RuntimeError("drop_inputs: only a command's build context (release=True) forgets its inputs")
        a = self.assembled()
        a.tables = {"trials": a.tables["trials"].select(["trial_id", "nct_id", "results_first_posted_date"])}
        give_back_memory()

    def comparison_funnel(self, name: str, targets: str = DEFAULT_TARGETS) -> Funnel:
        """The steps every corpus shares: posted analyses -> comparisons -> known answers -> arms -> p/CI agree."""
        f = Funnel(name)
        for step, kept, dropped in self.products(targets).labelled.steps:
            f.add(step, kept, dropped)
        return f


@lru_cache(maxsize=2)
def context(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> BuildContext:
    """A shared context for callers outside a command (tests, notebooks, the lm-eval tasks' in-memory fallback);
    a command makes its own :class:`BuildContext`."""
    return BuildContext(strict, canonical_inputs(inputs))


def context_for(opts: BuildOptions, ctx: BuildContext | None = None) -> BuildContext:
    """``ctx`` if given (it must read ``opts``' inputs), else the shared context of ``opts``."""
    if ctx is None:
        return context(opts.strict, opts.inputs)
    if (ctx.strict, ctx.inputs) != (opts.strict, opts.inputs):
        raise ValueError(f"the build context reads {ctx.inputs} (strict={ctx.strict}), the options {opts.inputs}")
    return ctx


def assembled(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS):
    """The build's inputs read, checked and merged (:class:`~deepimagine_data.inputs.Assembled`)."""
    return context(strict, canonical_inputs(inputs)).assembled()


def corpus(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> tuple[dict[str, pa.Table], dict]:
    """(the six tables, the ingest reports by source or input) of the build's inputs."""
    a = assembled(strict, inputs)
    return a.tables, a.reports


def licenses(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> dict[str, str]:
    """``source`` (and ``source|version``) -> the license of the rows (from the source registry, or the embedded
    data's own provenance)."""
    return assembled(strict, inputs).licenses()


def labelled(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS):
    """Every comparison of the corpus with its label and corpus
    (:class:`~deepimagine_data.pairs.comparisons.Labelled`)."""
    return context(strict, canonical_inputs(inputs)).labelled()


def comparisons(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> list[dict]:
    return labelled(strict, inputs).comparisons


def strict_pairs(
    strict: bool = False, targets: str = DEFAULT_TARGETS, inputs: tuple[str, ...] = EMBEDDED_INPUTS
) -> dict[str, pa.Table]:
    """kind -> all strict pairs (before splitting), unpacked from the shared context."""
    return {k: t.to_table() for k, t in context(strict, canonical_inputs(inputs)).products(targets).strict.items()}


def strict_pair_counts(
    strict: bool = False, targets: str = DEFAULT_TARGETS, inputs: tuple[str, ...] = EMBEDDED_INPUTS
) -> dict[str, Counter]:
    """kind -> what building that kind dropped, by reason (after the comparisons' own funnel)."""
    return context(strict, canonical_inputs(inputs)).products(targets).strict_counts


def questions(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> pa.Table:
    return context(strict, canonical_inputs(inputs)).products().questions


def question_counts(strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS) -> Counter:
    return context(strict, canonical_inputs(inputs)).products().question_counts


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


def approx_pairs(opts: BuildOptions, ctx: BuildContext | None = None):
    """``approx`` and ``pathways`` before splitting (:meth:`BuildContext.approx_pairs`)."""
    return context_for(opts, ctx).approx_pairs(opts)


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
    configs: dict, opts: BuildOptions, ctx: BuildContext | None = None
) -> tuple[dict[str, dict], SplitAssignment, Decontamination, dict[str, dict[str, int]]]:
    """config -> split -> table, the assignment, the exclusion lists and the rows removed per config and list
    (``configs`` is emptied). A ``PackedTable`` config is split piece by piece into packed splits."""
    assignment = assign(context_for(opts, ctx).tables["trials"], opts.cutoffs)
    deco = decontamination(opts)
    out, removed = {}, {}
    for cfg in list(configs):
        # taken out of ``configs`` one at a time, so a config's rows are not held twice for longer than its split
        t = configs.pop(cfg)
        packed = isinstance(t, PackedTable)
        by_split: dict = {}
        rem: Counter = Counter()
        for piece in pieces_of(t):
            if "results_first_posted_date" in piece.column_names:
                # the date the split is made on: the earliest any source gives for the registry trial (a CliniFact
                # row of a trial AACT also holds carries AACT's date, not null)
                dates = [assignment.date[assignment.key[tid]] for tid in piece.column("trial_id").to_pylist()]
                i = piece.schema.get_field_index("results_first_posted_date")
                piece = piece.set_column(i, piece.schema.field(i), pa.array(dates, pa.date32()))
            parts, r = split_table(piece, assignment, deco.lists)
            rem.update(r)
            for s, part in parts.items():
                if not packed:
                    by_split[s] = part
                else:
                    by_split.setdefault(s, PackedTable(part.schema)).append(part)
        if packed and not by_split:
            by_split = {s: PackedTable(t.schema) for s in ("train", "validation", "test")}
        out[cfg], removed[cfg] = by_split, dict(rem)
    return out, assignment, deco, removed


def comparison_funnel(
    name: str, strict: bool = False, inputs: tuple[str, ...] = EMBEDDED_INPUTS, targets: str = DEFAULT_TARGETS
) -> Funnel:
    """The steps every corpus shares: posted analyses -> comparisons -> known answers -> arms -> p/CI agree."""
    return context(strict, canonical_inputs(inputs)).comparison_funnel(name, targets)


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
