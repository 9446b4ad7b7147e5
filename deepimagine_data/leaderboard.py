"""The leaderboard: check and score a submission, keep it in a publishable results dataset, render the standings.

``deepimagine submit`` validates a submission strictly (more strictly than ``deepimagine score``, which counts an
unreadable decision wrong and goes on): every question answered exactly once, every decision readable by CT Open's
own reading with one finite, non-negative probability per option summing to more than 0, no unknown key, and the
model's metadata (name, revision, training cutoff) present and well formed. A bad submission is refused (exit code
2, nothing written) with a message naming the problem. A good one is scored with
:func:`deepimagine_data.scoring.submission.score` and appended to the results store, ``STORE/deepimagine/leaderboard``
(default ``./leaderboard``): one parquet row per submission and category (``overall`` included) plus a README card
with ``configs:``/``dataset_info``, so ``deepimagine publish --folder leaderboard/deepimagine/leaderboard --repo-id
deepimagine/leaderboard --version X`` publishes it as is.

``deepimagine leaderboard --out DIR`` renders the store as ``DIR/index.html`` (self-contained: inline CSS, JS and SVG,
a sortable table per benchmark and edition, a calibration plot per submission) and ``DIR/leaderboard.md``.

Every stored figure has its 95% interval (``<metric>_ci95_low`` / ``<metric>_ci95_high``, the scorer's trial-clustered
bootstrap: :data:`~deepimagine_data.scoring.metrics.BOOTSTRAP_RESAMPLES` resamples of the trials, seed
:data:`~deepimagine_data.scoring.metrics.BOOTSTRAP_SEED`), and each row its ``trials`` and whether the category is part
of ``overall`` (``in_overall``: categories under
:data:`~deepimagine_data.scoring.metrics.MIN_CATEGORY_QUESTIONS` questions are not). The page shows each interval
under its figure, the Markdown beside it (``0.6123 (0.550–0.670)``). A store written before these columns existed
reads with them empty (null), and its entries are shown without intervals.

>>> sub = submit(["run1.jsonl"], benchmark="ctopen", edition="winter2025", model_name="my-model",
...              model_revision="abc123", training_cutoff="2024-06-30", store="leaderboard")  # doctest: +SKIP
>>> sub.submission_id[:12], sub.results["overall"]["balanced_accuracy"]  # doctest: +SKIP
('5f0c1e9a2b7d', 0.6312)
>>> render("leaderboard", "site")  # doctest: +SKIP
(PosixPath('site/index.html'), PosixPath('site/leaderboard.md'))
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import html
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .fsutil import sha256_file
from .scoring.decision import DecisionError, ctopen_literal, ctopen_probabilities
from .scoring.metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CATEGORIES,
    CI_LEVEL,
    METRIC_LABELS,
    METRICS,
    MIN_CATEGORY_QUESTIONS,
    Scored,
    reliability,
)
from .scoring.questions import EDITIONS, Question, load_questions
from .scoring.submission import SubmissionError, check, read_predictions, score, scored

REPO_ID = "deepimagine/leaderboard"
CONFIG = "results"
SPLIT = "train"
DEFAULT_STORE = Path("leaderboard")

# The date after which a benchmark's answers could be public: a model whose training data reaches that date may have
# seen them. CT Open's editions from their challenge calendars; the deepimagine bench's test split starts at the
# build's default --test-start (results first posted on or after it).
BENCHMARK_CUTOFFS: dict[tuple[str, str], dt.date] = {
    ("ctopen", "winter2025"): dt.date(2025, 2, 1),
    ("ctopen", "summer2025"): dt.date(2025, 9, 1),
    ("deepimagine", "test"): dt.date(2021, 1, 1),
}
# The deepimagine bench has no editions; its rows carry the split they were scored on.
BENCH_EDITION = "test"

ROW_CATEGORIES = ("overall", *CATEGORIES)
LOWER_IS_BETTER = frozenset({"cross_entropy", "brier", "ece"})
BENCHMARK_LABELS = {"ctopen": "CT Open", "deepimagine": "deepimagine bench"}

MAX_NAME = 200
MAX_NOTES = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

RELIABILITY_BIN = pa.struct(
    [
        ("bin", pa.int64()),
        ("lower", pa.float64()),
        ("upper", pa.float64()),
        ("count", pa.int64()),
        ("confidence", pa.float64()),
        ("accuracy", pa.float64()),
    ]
)
SCHEMA = pa.schema(
    [
        ("submission_id", pa.string()),
        ("model_name", pa.string()),
        ("model_revision", pa.string()),
        ("training_cutoff", pa.date32()),
        ("submitted_at", pa.timestamp("us", tz="UTC")),
        ("benchmark", pa.string()),
        ("edition", pa.string()),
        ("benchmark_cutoff", pa.date32()),
        ("training_cutoff_after_benchmark", pa.bool_()),
        ("category", pa.string()),
        ("questions", pa.int64()),
        ("runs", pa.int64()),
        *[(m, pa.float64()) for m in METRICS],
        ("reliability", pa.list_(RELIABILITY_BIN)),
        ("predictions_sha256", pa.list_(pa.string())),
        ("questions_sha256", pa.string()),
        ("notes", pa.string()),
        ("scorer_version", pa.string()),
        # added with the intervals; a store written before them reads them as null (see read_store)
        ("trials", pa.int64()),
        ("in_overall", pa.bool_()),
        *[(f"{m}_ci95_{end}", pa.float64()) for m in METRICS for end in ("low", "high")],
        ("bootstrap_resamples", pa.int64()),
        ("bootstrap_seed", pa.int64()),
    ]
)
INTERVAL_COLUMNS = ("trials", "in_overall", *(f"{m}_ci95_{e}" for m in METRICS for e in ("low", "high")),
                    "bootstrap_resamples", "bootstrap_seed")  # fmt: skip


class LeaderboardError(ValueError):
    """A submission or store the leaderboard refuses; the message names the file, key or field."""


@dataclass(frozen=True)
class Metadata:
    """What a submitter states about the model, checked (see :func:`check_metadata`)."""

    model_name: str
    model_revision: str
    training_cutoff: dt.date
    benchmark: str
    edition: str
    notes: str
    submitted_at: dt.datetime

    @property
    def benchmark_cutoff(self) -> dt.date:
        return BENCHMARK_CUTOFFS[(self.benchmark, self.edition)]

    @property
    def possibly_contaminated(self) -> bool:
        return self.training_cutoff >= self.benchmark_cutoff


@dataclass(frozen=True)
class Submission:
    """A stored submission: its id, the scorer's results document, and the rows appended to the store."""

    submission_id: str
    metadata: Metadata
    results: dict
    rows: list[dict]
    folder: Path


# ---------------------------------------------------------------------------------------------------------- checks


def _text_field(value: object, field: str, option: str, limit: int, *, multiline: bool = False) -> str:
    if value is None:
        raise LeaderboardError(f"{field} is missing (give {option})")
    if not isinstance(value, str):
        raise LeaderboardError(f"{field} must be text, got {type(value).__name__}")
    text = value.strip()
    if not text and not multiline:
        raise LeaderboardError(f"{field} is empty (give {option})")
    if len(text) > limit:
        raise LeaderboardError(f"{field} is {len(text)} characters long; at most {limit}")
    bad = _CONTROL.search(text.replace("\n", "").replace("\t", "") if multiline else text)
    if bad:
        raise LeaderboardError(f"{field} {text[:60]!r} holds a control character ({bad.group(0)!r})")
    return text


def parse_date(value: object, field: str = "training_cutoff") -> dt.date:
    """A strict ISO calendar date ``YYYY-MM-DD``.

    >>> parse_date("2024-06-30")
    datetime.date(2024, 6, 30)
    """
    if value is None:
        raise LeaderboardError(f"{field} is missing (give --training-cutoff YYYY-MM-DD)")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise LeaderboardError(f"{field} {text[:40]!r} is not an ISO date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise LeaderboardError(f"{field} {text!r} is not a calendar date ({e})") from None


def submission_time(value: str | dt.datetime | None = None) -> dt.datetime:
    """When the submission is recorded (UTC): ``value``, else ``$SOURCE_DATE_EPOCH``, else now.

    ``SOURCE_DATE_EPOCH`` (reproducible-builds convention) makes stores written in tests and CI byte-identical.

    >>> submission_time("2025-06-01T12:00:00Z")
    datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime):
        t = value
    elif value is not None:
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LeaderboardError(f"submitted_at {value[:40]!r} is not an ISO timestamp") from None
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        raw = os.environ["SOURCE_DATE_EPOCH"]
        if not raw.strip().isdigit():
            raise LeaderboardError(f"$SOURCE_DATE_EPOCH {raw[:40]!r} is not a number of seconds")
        t = dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)
    else:
        t = dt.datetime.now(dt.timezone.utc)
    # a timestamp without an offset is read as UTC, the store's zone
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def check_metadata(
    *,
    model_name: object,
    model_revision: object,
    training_cutoff: object,
    benchmark: str,
    edition: str | None,
    notes: object = "",
    submitted_at: str | dt.datetime | None = None,
) -> Metadata:
    """Check what the submitter states; raise :class:`LeaderboardError` naming the first missing or bad field.

    >>> check_metadata(model_name="m", model_revision="r1", training_cutoff="2024-13-01", benchmark="ctopen",
    ...                edition="winter2025")
    Traceback (most recent call last):
    ...
    deepimagine_data.leaderboard.LeaderboardError: training_cutoff '2024-13-01' is not a calendar date (month must be in 1..12)
    """  # noqa: E501 - a doctest's expected line cannot wrap
    name = _text_field(model_name, "model_name", "--model-name", MAX_NAME)
    revision = _text_field(model_revision, "model_revision", "--model-revision", MAX_NAME)
    cutoff = parse_date(training_cutoff)
    if benchmark == "ctopen":
        if edition not in EDITIONS:
            raise LeaderboardError(f"edition {edition!r}: ctopen needs --edition {' or '.join(EDITIONS)}")
    elif benchmark == "deepimagine":
        if edition not in (None, BENCH_EDITION):
            raise LeaderboardError(f"edition {edition!r}: the deepimagine bench has no editions (leave out --edition)")
        edition = BENCH_EDITION
    else:
        raise LeaderboardError(f"benchmark {benchmark!r} is not one of ctopen, deepimagine")
    text = _text_field("" if notes is None else notes, "notes", "--notes", MAX_NOTES, multiline=True)
    when = submission_time(submitted_at)
    if cutoff > when.date():
        raise LeaderboardError(f"training_cutoff {cutoff} is after the submission time {when:%Y-%m-%d}")
    return Metadata(name, revision, cutoff, benchmark, edition, text, when)


def _key_text(key: tuple) -> str:
    return f"({key[0]}, {str(key[1])[:60]!r}, {key[2]})"


def _decision_line(output: str) -> str:
    """The text a reader of the message needs to find the bad decision: its DECISION line, else the output's start."""
    lines = [ln.strip() for ln in output.splitlines() if "DECISION" in ln.upper()]
    return (lines[-1] if lines else output.strip())[:100]


def check_decision(output: str, n_options: int) -> tuple[float, ...]:
    """The stated probabilities of one output, refused unless the leaderboard can take them as given.

    CT Open's reading (:func:`ctopen_probabilities`) must accept it, and its literal must be exactly ``n_options``
    real numbers, each finite and non-negative, summing to more than 0: CT Open's reading would quietly clip a
    negative value or read ``("0.2", "0.8")``, which a leaderboard should not pass off as a forecast.

    >>> check_decision("Reasoning ...\\nDECISION: (0.3, 0.7)", 2)
    (0.3, 0.7)
    >>> check_decision("DECISION: (0.3, 0.7)", 3)
    Traceback (most recent call last):
    ...
    deepimagine_data.scoring.decision.DecisionError: 2 probabilities for 3 options
    """
    ctopen_probabilities(output)  # CT Open's own refusals first, with its reasons
    values = tuple(ctopen_literal(output)[1])  # the literal CT Open's reading evaluates
    if len(values) != n_options:
        raise DecisionError(f"{len(values)} probabilities for {n_options} options")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise DecisionError(f"{v!r:.30} is not a number")
        if not math.isfinite(v):
            raise DecisionError(f"{v!r} is not finite")
        if v < 0:
            raise DecisionError(f"{v!r} is negative")
    if sum(values) <= 0:
        raise DecisionError("the probabilities sum to 0")
    return tuple(float(v) for v in values)


def check_run(questions: list[Question], path: str | os.PathLike) -> list[Scored]:
    """Read one run and refuse it unless every question is answered once with a valid decision; its scored items."""
    try:
        checked = check(questions, read_predictions(path))
    except SubmissionError as e:
        raise LeaderboardError(str(e)) from None
    bad = []
    for q in questions:
        out = checked.outputs[q.key]
        try:
            check_decision(out, q.n_options)
        except DecisionError as e:
            bad.append(f"{_key_text(q.key)}: {_decision_line(out)!r} ({e})")
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise LeaderboardError(f"{path}: {len(bad)} invalid decision(s): " + "; ".join(bad[:3]) + more)
    items, unreadable = scored(questions, checked)
    if unreadable:  # cannot happen after the checks above; a scorer change that reads less must not slip through
        raise LeaderboardError(f"{path}: the scorer cannot read {_key_text(unreadable[0][0])}: {unreadable[0][1]}")
    return items


# ---------------------------------------------------------------------------------------------------------- store


def questions_fingerprint(questions: list[Question]) -> str:
    """sha256 over the scored question set (ids, answers, categories): which questions the figures are about."""
    h = hashlib.sha256()
    for q in sorted(questions, key=lambda q: q.question_id):
        h.update(json.dumps([q.question_id, q.answer_index, q.category, q.n_options]).encode())
    return h.hexdigest()


def submission_id(file_hashes: Sequence[str], meta: Metadata) -> str:
    """sha256 of the prediction files (in run order) and the model's identity on this benchmark.

    Neither the submission time nor the notes take part, so sending the same predictions for the same model again
    gives the same id and is refused as a duplicate.
    """
    ident = {
        "predictions_sha256": list(file_hashes),
        "model_name": meta.model_name,
        "model_revision": meta.model_revision,
        "training_cutoff": meta.training_cutoff.isoformat(),
        "benchmark": meta.benchmark,
        "edition": meta.edition,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def store_folder(store: str | os.PathLike = DEFAULT_STORE) -> Path:
    """The dataset folder inside a store root: ``STORE/deepimagine/leaderboard``."""
    return Path(store) / REPO_ID


def read_store(store: str | os.PathLike = DEFAULT_STORE) -> pa.Table:
    """Every stored row (an empty table when the store does not exist yet)."""
    from .hub import read_config

    folder = store_folder(store)
    if not (folder / CONFIG).is_dir():
        if folder.exists() and any(folder.iterdir()):
            raise LeaderboardError(f"{folder} exists but holds no {CONFIG}/ parquet: not a leaderboard store")
        return SCHEMA.empty_table()
    try:
        table = read_config(folder, CONFIG, SPLIT)
        for name in INTERVAL_COLUMNS:  # a store from before the intervals: the columns are there, empty
            if name not in table.column_names:
                table = table.append_column(SCHEMA.field(name), pa.nulls(table.num_rows, SCHEMA.field(name).type))
        return table.select(SCHEMA.names).cast(SCHEMA)
    except (KeyError, ValueError, pa.ArrowException) as e:
        raise LeaderboardError(f"{folder}: not a leaderboard store of this version ({e})") from None


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    """Serialize read-check-append on one store, so two submits at once cannot drop each other's rows."""
    lock_dir = store_folder(store).parent
    lock_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; submits there must not run concurrently
        yield
        return
    with open(lock_dir / ".leaderboard.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _interval_columns(r: dict) -> dict[str, float | None]:
    """``<metric>_ci95_low`` / ``_high`` of a results entry (null when the scorer computed no interval)."""
    out: dict[str, float | None] = {}
    for m in METRICS:
        ci = r.get(f"{m}_ci95")
        out[f"{m}_ci95_low"] = None if ci is None else float(ci[0])
        out[f"{m}_ci95_high"] = None if ci is None else float(ci[1])
    return out


def _rows(
    sid: str,
    meta: Metadata,
    report,
    runs: list[list[Scored]],
    hashes: list[str],
    qsha: str,
) -> list:
    results = report.results
    made_of = results["overall"]["categories"]
    rows = []
    for cat in ROW_CATEGORIES:
        r = results.get(cat)
        if r is None:
            continue
        # The plot pools the items of every run (a bin's count is over runs); the metrics are the scorer's means.
        # Overall's plot pools the categories overall is made of.
        pooled = [x for run in runs for x in run if x.category == cat or (cat == "overall" and x.category in made_of)]
        rows.append(
            {
                "submission_id": sid,
                "model_name": meta.model_name,
                "model_revision": meta.model_revision,
                "training_cutoff": meta.training_cutoff,
                "submitted_at": meta.submitted_at,
                "benchmark": meta.benchmark,
                "edition": meta.edition,
                "benchmark_cutoff": meta.benchmark_cutoff,
                "training_cutoff_after_benchmark": meta.possibly_contaminated,
                "category": cat,
                "questions": int(r["questions"]),
                "runs": len(runs),
                **{m: float(r[m]) for m in METRICS},
                "reliability": reliability(pooled),
                "predictions_sha256": hashes,
                "questions_sha256": qsha,
                "notes": meta.notes,
                "scorer_version": f"deepimagine-data {__version__}",
                "trials": int(r["trials"]),
                "in_overall": None if cat == "overall" else cat in made_of,
                **_interval_columns(r),
                "bootstrap_resamples": report.bootstrap,
                "bootstrap_seed": report.seed,
            }
        )
    return rows


def _sort_store(table: pa.Table) -> pa.Table:
    order = {c: i for i, c in enumerate(ROW_CATEGORIES)}
    idx = sorted(
        range(table.num_rows),
        key=lambda i: (
            table["submitted_at"][i].value,
            table["submission_id"][i].as_py(),
            order.get(table["category"][i].as_py(), len(order)),
        ),
    )
    return table.take(idx)


def write_store(store: str | os.PathLike, table: pa.Table) -> Path:
    """Write ``table`` (every row) as the store's dataset folder with its card; atomic (built beside, renamed in)."""
    from .hub import write_hub_dataset

    table = _sort_store(table.cast(SCHEMA))
    body, meta = render_card(table)
    return write_hub_dataset(Path(store), REPO_ID, {CONFIG: {SPLIT: table}}, body, card_meta=meta)


def submit(
    predictions: Sequence[str | os.PathLike],
    *,
    benchmark: str,
    edition: str | None = None,
    source: str | os.PathLike | None = None,
    model_name: object,
    model_revision: object,
    training_cutoff: object,
    store: str | os.PathLike = DEFAULT_STORE,
    notes: object = "",
    submitted_at: str | dt.datetime | None = None,
) -> Submission:
    """Check, score and store one submission (one prediction file per run); raise :class:`LeaderboardError`.

    Nothing is written unless every check passes. See the module docstring for an example.
    """
    meta = check_metadata(
        model_name=model_name,
        model_revision=model_revision,
        training_cutoff=training_cutoff,
        benchmark=benchmark,
        edition=edition,
        notes=notes,
        submitted_at=submitted_at,
    )
    if not predictions:
        raise LeaderboardError("no prediction file given (--predictions FILE [FILE ...], one per run)")
    paths = [Path(p) for p in predictions]
    for p in paths:
        if not p.is_file():
            raise LeaderboardError(f"{p}: no such file")
    if source is None and benchmark == "ctopen":
        source = os.environ.get("DEEPIMAGINE_CTOPEN_DIR")
    try:
        questions = load_questions(benchmark, None if benchmark == "deepimagine" else edition, source)
    except (FileNotFoundError, ValueError) as e:
        raise LeaderboardError(f"cannot load the {benchmark} questions: {e}") from None
    hashes = [sha256_file(p) for p in paths]
    if len(set(hashes)) < len(hashes):
        dup = next(p for p, h in zip(paths, hashes, strict=True) if hashes.count(h) > 1)
        raise LeaderboardError(f"{dup}: the same predictions are given twice as two runs")
    runs = [check_run(questions, p) for p in paths]
    sid = submission_id(hashes, meta)
    with _locked(Path(store)):
        existing = read_store(store)
        if sid in set(existing["submission_id"].to_pylist()):
            prev = existing.filter(pc.equal(existing["submission_id"], sid)).slice(0, 1).to_pylist()[0]
            raise LeaderboardError(
                f"duplicate submission {sid[:12]}: {prev['model_name']} {prev['model_revision']} with these "
                f"predictions is already on the {benchmark} {meta.edition} leaderboard (submitted "
                f"{prev['submitted_at']:%Y-%m-%d %H:%M} UTC)"
            )
        try:
            report = score(questions, paths)
        except SubmissionError as e:  # the files changed since they were checked
            raise LeaderboardError(str(e)) from None
        if report.unreadable or [len(r) for r in runs] != [len(questions)] * len(runs):
            raise LeaderboardError("the predictions changed while they were being checked; submit again")
        rows = _rows(sid, meta, report, runs, hashes, questions_fingerprint(questions))
        table = pa.concat_tables([existing, pa.Table.from_pylist(rows, schema=SCHEMA)])
        folder = write_store(store, table)
    return Submission(sid, meta, report.results, rows, folder)


# ---------------------------------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class Entry:
    """One submission on one board: its identity and, per category, its stored row."""

    submission_id: str
    model_name: str
    model_revision: str
    training_cutoff: dt.date
    submitted_at: dt.datetime
    runs: int
    flagged: bool
    notes: str
    by_category: dict[str, dict]

    def value(self, category: str, metric: str) -> float | None:
        row = self.by_category.get(category)
        return None if row is None else row[metric]

    def interval(self, category: str, metric: str) -> tuple[float, float] | None:
        """The stored 95% interval of a figure; ``None`` for a store written before intervals were stored."""
        row = self.by_category.get(category)
        if row is None or row.get(f"{metric}_ci95_low") is None or row.get(f"{metric}_ci95_high") is None:
            return None
        return (row[f"{metric}_ci95_low"], row[f"{metric}_ci95_high"])


@dataclass(frozen=True)
class Board:
    benchmark: str
    edition: str
    cutoff: dt.date
    entries: list[Entry]

    @property
    def title(self) -> str:
        label = BENCHMARK_LABELS.get(self.benchmark, self.benchmark)
        return f"{label} {self.edition}" if self.benchmark != "deepimagine" else f"{label} ({self.edition} split)"

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.benchmark}-{self.edition}".lower())

    @property
    def questions(self) -> int:
        """The questions scored: the sum over the categories (overall may leave a small category out)."""
        return max(
            (sum(r["questions"] for c, r in e.by_category.items() if c != "overall") for e in self.entries), default=0
        )

    def category_sizes(self, category: str) -> str:
        """``"80 questions, 53 trials"`` for a category (several sizes joined by " / " if the entries differ)."""
        seen = []
        for e in self.entries:
            r = e.by_category.get(category)
            if r is None:
                continue
            text = f"{r['questions']:,} questions" + ("" if r.get("trials") is None else f", {r['trials']:,} trials")
            if text not in seen:
                seen.append(text)
        return " / ".join(seen)

    def left_out(self, category: str) -> bool:
        """Whether the entries leave this category out of overall (too few questions)."""
        return any(e.by_category.get(category, {}).get("in_overall") is False for e in self.entries)

    def overall_of(self) -> list[str]:
        """The categories overall is the mean of (``[]`` for a store written before ``in_overall`` was stored)."""
        return [c for c in CATEGORIES if any(e.by_category.get(c, {}).get("in_overall") for e in self.entries)]

    def bootstrap(self) -> tuple[int, int] | None:
        """(resamples, seed) of the stored intervals, when every entry has the same."""
        got = {
            (r.get("bootstrap_resamples"), r.get("bootstrap_seed"))
            for e in self.entries
            for r in e.by_category.values()
            if r.get("bootstrap_resamples")
        }
        return next(iter(got)) if len(got) == 1 else None


def _rank_key(e: Entry) -> tuple:
    ba = e.value("overall", "balanced_accuracy")
    return (-(ba if ba is not None else -math.inf), e.submitted_at, e.submission_id)


def boards(table: pa.Table) -> list[Board]:
    """The store's rows as one board per benchmark and edition, entries best first (overall balanced accuracy)."""
    by_board: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for row in table.to_pylist():
        by_board.setdefault((row["benchmark"], row["edition"]), {}).setdefault(row["submission_id"], []).append(row)
    out = []
    for (bench, edition), subs in sorted(by_board.items()):
        entries = []
        for sid, rows in subs.items():
            r0 = rows[0]
            entries.append(
                Entry(
                    sid,
                    r0["model_name"],
                    r0["model_revision"],
                    r0["training_cutoff"],
                    r0["submitted_at"],
                    r0["runs"],
                    r0["training_cutoff_after_benchmark"],
                    r0["notes"] or "",
                    {r["category"]: r for r in rows},
                )
            )
        entries.sort(key=_rank_key)
        out.append(Board(bench, edition, rows[0]["benchmark_cutoff"], entries))
    return out


def fmt(value: float | None) -> str:
    """How a metric is shown (HTML and Markdown): four decimals, an en dash when the category has no questions.

    >>> fmt(0.71234), fmt(None)
    ('0.7123', '–')
    """
    return "–" if value is None else f"{value:.4f}"


def fmt_interval(interval: tuple[float, float] | None) -> str:
    """A 95% interval as shown: three decimals joined by an en dash, ``""`` when none is stored.

    >>> fmt_interval((0.5512, 0.6731)), fmt_interval(None)
    ('0.551–0.673', '')
    """
    return "" if interval is None else f"{interval[0]:.3f}–{interval[1]:.3f}"


def fmt_with_interval(value: float | None, interval: tuple[float, float] | None) -> str:
    """A figure and its interval on one line, as the Markdown shows it.

    >>> fmt_with_interval(0.61234, (0.5512, 0.6731)), fmt_with_interval(0.61234, None)
    ('0.6123 (0.551–0.673)', '0.6123')
    """
    return fmt(value) + (f" ({fmt_interval(interval)})" if interval is not None and value is not None else "")


def overall_rule(board: Board) -> str:
    """How a board's overall is made, and where its intervals come from, in words (page and Markdown)."""
    made = board.overall_of()
    left = [c for c in CATEGORIES if board.left_out(c)]
    text = f"Overall is the plain mean of the categories with at least {MIN_CATEGORY_QUESTIONS} questions"
    if made:
        text += f" ({', '.join(made)})"
    if left:
        text += f"; left out (too few questions): {', '.join(left)}"
    boot = board.bootstrap()
    if boot:
        text += (
            f". Intervals: {CI_LEVEL:.0%}, trial-clustered bootstrap ({boot[0]:,} resamples of the trials, "
            f"seed {boot[1]}; a trial's questions move together)"
        )
    return text + "."


def _slug(category: str) -> str:
    return category.replace("-", "").replace(" ", "_")


def col_id(category: str, metric: str) -> str:
    """The ``data-col`` of a metric column in the HTML table: ``col_id("2-way explicit", "ece")`` -> ``2way_explicit.ece``."""  # noqa: E501
    return f"{_slug(category)}.{metric}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def calibration_svg(bins: list[dict], label: str, size: int = 240) -> str:
    """An inline SVG reliability diagram: accuracy per confidence bin as bars, the diagonal of perfect calibration.

    ``bins`` are :func:`deepimagine_data.scoring.metrics.reliability`'s rows; empty bins draw nothing. Each bar's
    ``<title>`` (a tooltip) gives its count, mean confidence and accuracy.
    """
    m = 38  # room left of the plot for the tick labels and the rotated axis title
    w = size - m - 8
    x0, y0 = m, 8 + w  # origin (confidence 0, accuracy 0) in SVG coordinates, y grows downwards

    def px(v: float) -> str:
        return f"{x0 + v * w:.1f}"

    def py(v: float) -> str:
        return f"{y0 - v * w:.1f}"

    parts = [
        f'<svg class="calibration" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label="{_e(label)}">',
        f"<title>{_e(label)}</title>",
        f'<rect x="{x0}" y="8" width="{w}" height="{w}" fill="#fff" stroke="#d0d7de"/>',
    ]
    for t in (0.25, 0.5, 0.75):
        parts.append(f'<line x1="{px(t)}" y1="8" x2="{px(t)}" y2="{y0}" stroke="#eaeef2"/>')
        parts.append(f'<line x1="{x0}" y1="{py(t)}" x2="{x0 + w}" y2="{py(t)}" stroke="#eaeef2"/>')
    for b in bins:
        if not b["count"]:
            continue
        lo, hi, acc = b["lower"], b["upper"], b["accuracy"]
        parts.append(
            f'<rect class="bin" x="{px(lo)}" y="{py(acc)}" width="{(hi - lo) * w - 1:.1f}" height="{acc * w:.1f}" '
            f'fill="#0969da" fill-opacity="0.55"><title>confidence {lo:.1f}–{hi:.1f}: {b["count"]:,} answers, '
            f"mean confidence {b['confidence']:.3f}, accuracy {acc:.3f}</title></rect>"
        )
        parts.append(f'<circle cx="{px(b["confidence"])}" cy="{py(acc)}" r="2.5" fill="#1b1f24"/>')
    parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#cf222e" stroke-dasharray="4 3"/>')
    for t in (0, 0.5, 1):
        parts.append(f'<text x="{px(t)}" y="{y0 + 12}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{x0 - 4}" y="{float(py(t)) + 3:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{x0 + w / 2:.1f}" y="{size - 2}" text-anchor="middle">confidence</text>')
    parts.append(
        f'<text x="10" y="{8 + w / 2:.1f}" text-anchor="middle" transform="rotate(-90 10 {8 + w / 2:.1f})">'
        "accuracy</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _header_cell(col: str, label: str, numeric: bool, first: str, sort: str | None = None, rowspan: int = 1) -> str:
    attrs = f' data-col="{col}" data-type="{"num" if numeric else "text"}" data-first="{first}"'
    if sort:
        attrs += f' aria-sort="{sort}"'
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    return f'<th scope="col"{attrs}><button type="button">{_e(label)}</button></th>'


def _board_html(board: Board) -> str:
    cats = [c for c in ROW_CATEGORIES if any(c in e.by_category for e in board.entries)]
    fixed = [
        ("model", "model", False, "ascending"),
        ("revision", "revision", False, "ascending"),
        ("training_cutoff", "training cutoff", False, "descending"),
        ("submitted_at", "submitted (UTC)", False, "descending"),
        ("runs", "runs", True, "descending"),
    ]
    head1 = [_header_cell(c, label, num, first, rowspan=2) for c, label, num, first in fixed]
    for c in cats:
        made = board.overall_of()
        sizes = board.category_sizes(c) if c != "overall" else ("mean of " + ", ".join(made) if made else "")
        note = " · not in overall" if board.left_out(c) else ""
        small = f'<span class="n">{_e(sizes + note)}</span>' if sizes or note else ""
        head1.append(f'<th scope="colgroup" colspan="{len(METRICS)}">{_e(c)}{small}</th>')
    head1.append('<th scope="col" rowspan="2">notes</th>')
    head2 = []
    for c in cats:
        for m in METRICS:
            best = "ascending" if m in LOWER_IS_BETTER else "descending"
            arrow = "↓" if m in LOWER_IS_BETTER else "↑"
            sort = "descending" if (c, m) == ("overall", "balanced_accuracy") else None
            head2.append(_header_cell(col_id(c, m), f"{METRIC_LABELS[m]} {arrow}", True, best, sort))
    body = []
    for e in board.entries:
        flag = (
            ' <span class="flag" title="training cutoff on or after the benchmark cutoff '
            f'{board.cutoff}: the model may have seen the answers">⚠ cutoff</span>'
            if e.flagged
            else ""
        )
        cells = [
            f'<td data-col="model" data-v="{_e(e.model_name)}"><span class="name">{_e(e.model_name)}</span>{flag}</td>',
            f'<td data-col="revision" data-v="{_e(e.model_revision)}">{_e(e.model_revision)}</td>',
            f'<td data-col="training_cutoff" data-v="{e.training_cutoff}">{e.training_cutoff}</td>',
            f'<td data-col="submitted_at" data-v="{e.submitted_at.isoformat()}">{e.submitted_at:%Y-%m-%d %H:%M}</td>',
            f'<td class="num" data-col="runs" data-v="{e.runs}">{e.runs}</td>',
        ]
        for c in cats:
            for m in METRICS:
                v = e.value(c, m)
                raw = "" if v is None else repr(v)  # full precision for sorting; the text is rounded
                ci = e.interval(c, m)
                ci_html = (
                    f'<span class="ci" title="{CI_LEVEL:.0%} interval">{_e(fmt_interval(ci))}</span>'
                    if ci is not None and v is not None
                    else ""
                )
                cells.append(
                    f'<td class="num" data-col="{col_id(c, m)}" data-v="{raw}"><span class="v">{fmt(v)}</span>'
                    f"{ci_html}</td>"
                )
        cells.append(f'<td class="notes">{_e(e.notes)}</td>')
        body.append(f'<tr data-submission="{_e(e.submission_id)}">{"".join(cells)}</tr>')
    plots = []
    for e in board.entries:
        overall = e.by_category.get("overall")
        if overall is None:
            continue
        label = f"Calibration of {e.model_name} {e.model_revision} on {board.title}"
        plots.append(
            f'<figure data-submission="{_e(e.submission_id)}">{calibration_svg(overall["reliability"], label)}'
            f"<figcaption><strong>{_e(e.model_name)}</strong> {_e(e.model_revision)}: all questions"
            f"{' of ' + str(e.runs) + ' runs' if e.runs > 1 else ''}; overall ECE {fmt(overall['ece'])}"
            "</figcaption></figure>"
        )
    n = len(board.entries)
    return (
        f'<section class="board" id="{board.anchor}">'
        f"<h2>{_e(board.title)}</h2>"
        f'<p class="meta">{n} submission{"s" if n != 1 else ""} · {board.questions:,} questions · '
        f"benchmark cutoff {board.cutoff}</p>"
        f'<p class="meta rule">{_e(overall_rule(board))}</p>'
        f'<div class="scroll"><table class="lb" data-board="{board.anchor}">'
        f"<thead><tr>{''.join(head1)}</tr><tr>{''.join(head2)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f'<h3>Calibration (reliability diagram, overall)</h3><div class="plots">{"".join(plots)}</div>'
        "</section>"
    )


def render_html(table: pa.Table) -> str:
    """The whole self-contained page for the store's rows."""
    page = (resources.files("deepimagine_data") / "templates" / "leaderboard" / "page.html").read_text("utf-8")
    bs = boards(table)
    latest = max((e.submitted_at for b in bs for e in b.entries), default=None)
    intro = (
        "<h1>DeepImagine leaderboard</h1>"
        f'<p class="meta">{sum(len(b.entries) for b in bs)} submission(s)'
        f"{f', latest {latest:%Y-%m-%d %H:%M} UTC' if latest else ''}. Metrics are CT Open's (balanced accuracy, "
        "macro-F1, cross-entropy; averaged over runs, then over categories for <em>overall</em>) plus Brier score and "
        f"expected calibration error. Under each figure, its {CI_LEVEL:.0%} interval from a trial-clustered "
        f"bootstrap (the trials are resampled, {BOOTSTRAP_RESAMPLES:,} times by default, seed {BOOTSTRAP_SEED}); "
        f"<em>overall</em> leaves out categories with fewer than {MIN_CATEGORY_QUESTIONS} questions. Click a column "
        "header to sort.</p>"
        '<p class="legend"><span class="flag">⚠ cutoff</span>: the model\'s training cutoff is on or after the '
        "benchmark cutoff, so its training data may hold the answers.</p>"
    )
    nav = "".join(f'<li><a href="#{b.anchor}">{_e(b.title)}</a></li>' for b in bs)
    body = intro + (f"<nav><ul>{nav}</ul></nav>" if len(bs) > 1 else "") + "".join(_board_html(b) for b in bs)
    if not bs:
        body += "<p>No submissions yet.</p>"
    return (
        page.replace("<!--TITLE-->", "DeepImagine leaderboard")
        .replace("<!--GENERATOR-->", _e(f"deepimagine-data {__version__}"))
        .replace("<!--BODY-->", body)
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>])")


def md_escape(text: str) -> str:
    """Text safe in a Markdown table cell: one line, Markdown and HTML specials backslash-escaped.

    >>> md_escape("a|b <i>_x_</i>")
    'a\\\\|b \\\\<i\\\\>\\\\_x\\\\_\\\\</i\\\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(table: pa.Table, heading_level: int = 2) -> str:
    """One Markdown table per board: rank by overall balanced accuracy, overall metrics, balanced accuracy per
    category; a dagger marks a training cutoff on or after the benchmark cutoff."""
    out = []
    h = "#" * heading_level
    for b in boards(table):
        cats = [c for c in CATEGORIES if any(c in e.by_category for e in b.entries)]
        head = ["#", "model", "revision", "training cutoff", "runs", *(METRIC_LABELS[m] for m in METRICS)]
        head += [f"{c} bal. acc" for c in cats]
        out.append(f"{h} {b.title}\n")
        out.append(f"{len(b.entries)} submission(s), {b.questions:,} questions, benchmark cutoff {b.cutoff}.")
        sizes = "; ".join(f"{c}: {b.category_sizes(c)}" + (" (not in overall)" if b.left_out(c) else "") for c in cats)
        out.append(f"Questions per category: {sizes}. {md_escape(overall_rule(b))}\n")
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---:|" + "---|" * 3 + "---:|" * (len(head) - 4))
        for rank, e in enumerate(b.entries, start=1):
            name = md_escape(e.model_name) + (" †" if e.flagged else "")
            cells = [str(rank), name, md_escape(e.model_revision), str(e.training_cutoff), str(e.runs)]
            cells += [fmt_with_interval(e.value("overall", m), e.interval("overall", m)) for m in METRICS]
            cells += [
                fmt_with_interval(e.value(c, "balanced_accuracy"), e.interval(c, "balanced_accuracy")) for c in cats
            ]
            out.append("| " + " | ".join(cells) + " |")
        if any(e.flagged for e in b.entries):
            out.append(f"\n† training cutoff on or after the benchmark cutoff ({b.cutoff}): possibly contaminated.")
        out.append("")
    return "\n".join(out) if out else "No submissions yet.\n"


def render(store: str | os.PathLike = DEFAULT_STORE, out: str | os.PathLike = "site") -> tuple[Path, Path]:
    """Write ``out/index.html`` and ``out/leaderboard.md`` from the store (each atomically); their paths."""
    from .fsutil import atomic_write_bytes

    folder = store_folder(store)
    if not (folder / CONFIG).is_dir():
        raise LeaderboardError(f"no leaderboard store at {folder} (run `deepimagine submit` first, or pass --store)")
    table = read_store(store)
    out = Path(out)
    page, md = out / "index.html", out / "leaderboard.md"
    atomic_write_bytes(page, render_html(table).encode("utf-8"))
    atomic_write_bytes(md, ("# DeepImagine leaderboard\n\n" + render_markdown(table)).encode("utf-8"))
    return page, md


def render_card(table: pa.Table) -> tuple[str, dict]:
    """The store's README card body (standings included) and its YAML front matter."""
    n = len(set(table["submission_id"].to_pylist()))
    cols = "\n".join(f"| `{f.name}` | `{f.type}` |" for f in SCHEMA)
    body = f"""# deepimagine/leaderboard

Scored submissions to the benchmarks of **deepimagine-data** (CT Open's editions and the deepimagine bench): {n}
submission(s), one row per submission and category (`overall`, {", ".join(f"`{c}`" for c in CATEGORIES)}).
Written by `deepimagine submit`, which refuses a submission unless every question is answered exactly once with a
valid `DECISION: (p1, p2[, p3])` and the model's name, revision and training cutoff are given; the figures are
`deepimagine score`'s (CT Open's metrics, averaged over runs, plus Brier score and ECE), and `reliability` holds the
reliability-diagram bins over all runs' answers. `<metric>_ci95_low`/`_high` is each figure's {CI_LEVEL:.0%} interval
from a trial-clustered bootstrap (`bootstrap_resamples` resamples of the trials with replacement, a trial's questions
moving together, seed `bootstrap_seed`; percentile interval); `trials` counts the trials behind a row. `overall` is the
plain mean of the categories with at least {MIN_CATEGORY_QUESTIONS} questions (`in_overall`); smaller ones are stored
but left out of it. Rows stored before these columns existed have them null.

`training_cutoff_after_benchmark` is true when the model's training cutoff is on or after `benchmark_cutoff` (CT Open
Winter 2025: 2025-02-01, Summer 2025: 2025-09-01; deepimagine bench test split: 2021-01-01): its training data may
hold the answers. `submission_id` is the sha256 of the prediction files and the model's identity, so a submission is
stored once; `questions_sha256` identifies the question set scored.

```python
from datasets import load_dataset

results = load_dataset("{REPO_ID}", "{CONFIG}", split="{SPLIT}")
```

## Standings

{render_markdown(table, heading_level=3)}

## Columns

| column | type |
|---|---|
{cols}
"""
    meta = {
        "license": "other",
        "pretty_name": "DeepImagine leaderboard",
        "language": ["en"],
        "tags": ["clinical-trials", "leaderboard", "ct-open", "evaluation"],
        "size_categories": ["n<1K"],
    }
    return body, meta


# ---------------------------------------------------------------------------------------------------------- CLI


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        sub = submit(
            args.predictions,
            benchmark=args.benchmark,
            edition=args.edition,
            source=args.source,
            model_name=args.model_name,
            model_revision=args.model_revision,
            training_cutoff=args.training_cutoff,
            store=args.store,
            notes=args.notes,
            submitted_at=args.submitted_at,
        )
    except LeaderboardError as e:
        print(f"error: submission refused: {e}", file=sys.stderr)
        return 2
    from .scoring.cli import results_table

    m = sub.metadata
    print(f"accepted {sub.submission_id[:12]}: {m.model_name} {m.model_revision} on {m.benchmark} {m.edition}")
    print(results_table(sub.results))
    if m.possibly_contaminated:
        print(
            f"note: training cutoff {m.training_cutoff} is on or after the benchmark cutoff {m.benchmark_cutoff}; "
            "the entry is flagged as possibly contaminated"
        )
    print(f"stored in {sub.folder} ({len(sub.rows)} rows)")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    try:
        page, md = render(args.store, args.out)
    except LeaderboardError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {page} and {md}")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register ``submit`` and ``leaderboard`` on the ``deepimagine`` subcommand parser."""
    s = sub.add_parser(
        "submit",
        help="check, score and store a leaderboard submission",
        description="Checks a submission strictly (every question answered exactly once, every decision readable "
        "with one finite non-negative probability per option, no unknown key, model name, revision and training "
        "cutoff given) and refuses it with exit code 2 and a message naming the problem, writing nothing. A good "
        "one is scored as `deepimagine score` scores it and appended to STORE/deepimagine/leaderboard (parquet + "
        "README card; publish it with `deepimagine publish`). The same predictions for the same model are refused "
        "as a duplicate.",
    )
    s.add_argument("--predictions", type=Path, nargs="+", required=True, help="one file per run")
    s.add_argument("--benchmark", choices=["ctopen", "deepimagine"], required=True)
    s.add_argument("--edition", choices=list(EDITIONS), help="CT Open edition (ctopen only)")
    s.add_argument(
        "--source",
        default=None,
        help="ctopen: pickles (folder, file or URL; default $DEEPIMAGINE_CTOPEN_DIR, the cache, the pinned commit); "
        "deepimagine: a built bench folder or hub root (default: build it in memory)",
    )
    s.add_argument("--model-name", help="the model's name (required)")
    s.add_argument("--model-revision", help="the model's revision: a commit, tag or version (required)")
    s.add_argument("--training-cutoff", help="the model's training-data cutoff, YYYY-MM-DD (required)")
    s.add_argument("--notes", default="", help="free text shown with the entry")
    s.add_argument("--store", type=Path, default=DEFAULT_STORE, help="store root (default ./leaderboard)")
    s.add_argument(
        "--submitted-at",
        default=None,
        help="record this ISO timestamp as the submission time (default $SOURCE_DATE_EPOCH, else now; UTC)",
    )
    from . import ctopen

    ctopen.add_timeout_argument(s)
    s.set_defaults(func=cmd_submit)

    lb = sub.add_parser(
        "leaderboard",
        help="render the leaderboard as a static page and a Markdown table",
        description="Reads STORE/deepimagine/leaderboard and writes OUT/index.html (self-contained: inline CSS, JS "
        "and SVG; a sortable table per benchmark and edition, each figure with its 95% trial-clustered bootstrap "
        "interval under it, each category's questions and trials, and a calibration plot per submission) and "
        "OUT/leaderboard.md (figures as 'value (low–high)').",
    )
    lb.add_argument("--out", type=Path, required=True, help="output folder")
    lb.add_argument("--store", type=Path, default=DEFAULT_STORE, help="store root (default ./leaderboard)")
    lb.set_defaults(func=cmd_leaderboard)


def main(argv: list[str] | None = None) -> int:
    """``submit`` / ``leaderboard`` on their own (``deepimagine`` wires :func:`add_cli` in its parser)."""
    p = argparse.ArgumentParser(prog="deepimagine")
    add_cli(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
