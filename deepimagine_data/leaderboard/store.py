"""The results store: one parquet row per submission and category in a publishable dataset folder.

:func:`submit` checks, scores and appends a submission to ``STORE/deepimagine/leaderboard`` (one row per category,
``overall`` included, plus a README card with ``configs:``/``dataset_info``), so ``deepimagine publish --folder
leaderboard/deepimagine/leaderboard --repo-id deepimagine/leaderboard --version X`` publishes it as is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..fsutil import sha256_file
from ..scoring.metrics import METRICS, Scored, reliability
from ..scoring.questions import Question, load_questions
from ..scoring.submission import SubmissionError, score
from .checks import check_metadata, check_run
from .markdown import render_card
from .schema import (
    CONFIG,
    DEFAULT_STORE,
    INTERVAL_COLUMNS,
    REPO_ID,
    ROW_CATEGORIES,
    SCHEMA,
    SPLIT,
    LeaderboardError,
    Metadata,
    Submission,
)


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
    from ..hub import read_split

    folder = store_folder(store)
    if not (folder / CONFIG).is_dir():
        if folder.exists() and any(folder.iterdir()):
            raise LeaderboardError(f"{folder} exists but holds no {CONFIG}/ parquet: not a leaderboard store")
        return SCHEMA.empty_table()
    try:
        table = read_split(folder, CONFIG, SPLIT)
        for name in INTERVAL_COLUMNS:  # a store from before the intervals: the columns are there, empty
            if name not in table.column_names:
                table = table.append_column(SCHEMA.field(name), pa.nulls(table.num_rows, SCHEMA.field(name).type))
        return table.select(SCHEMA.names).cast(SCHEMA)
    except (KeyError, ValueError, FileNotFoundError, pa.ArrowException) as e:  # no shard of the split: not ours
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
    from ..hub import write_hub_dataset

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
