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
a sortable table per benchmark and edition that fits 1366 px with one line per entry, the per-category columns behind
a toggle, chance and majority reference rows, a calibration plot per submission) and ``DIR/leaderboard.md``.

Every stored figure has its 95% interval (``<metric>_ci95_low`` / ``<metric>_ci95_high``, the scorer's trial-clustered
bootstrap: :data:`~deepimagine_data.scoring.metrics.BOOTSTRAP_RESAMPLES` resamples of the trials, seed
:data:`~deepimagine_data.scoring.metrics.BOOTSTRAP_SEED`), and each row its ``trials`` and whether the category is part
of ``overall`` (``in_overall``: categories under
:data:`~deepimagine_data.scoring.metrics.MIN_CATEGORY_QUESTIONS` questions are not). The page shows each interval
beside its figure, smaller, the Markdown in brackets (``0.6123 (0.550–0.670)``). A store written before these
columns existed reads with them empty (null), and its entries are shown without intervals.

>>> sub = submit(["run1.jsonl"], benchmark="ctopen", edition="winter2025", model_name="my-model",
...              model_revision="abc123", training_cutoff="2024-06-30", store="leaderboard")  # doctest: +SKIP
>>> sub.submission_id[:12], sub.results["overall"]["balanced_accuracy"]  # doctest: +SKIP
('5f0c1e9a2b7d', 0.6312)
>>> render("leaderboard", "site")  # doctest: +SKIP
(PosixPath('site/index.html'), PosixPath('site/leaderboard.md'))

The package's modules follow the data flow: :mod:`.schema` (the stored row, the cutoffs, the error),
:mod:`.checks` (metadata, decisions, runs), :mod:`.store` (read, write, submit), :mod:`.standings` (boards and
ranks), :mod:`.references` (chance and majority rows), :mod:`.page` and :mod:`.markdown` (the renders, the store's
card), :mod:`.site` (both written) and :mod:`.cli`.
"""

from __future__ import annotations

from ..fsutil import sha256_file
from ..scoring.decision import DecisionError, ctopen_literal, ctopen_probabilities
from ..scoring.metrics import (
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
from ..scoring.questions import EDITIONS, Question, load_questions
from ..scoring.submission import SubmissionError, check, read_predictions, score, scored
from .checks import check_decision, check_metadata, check_run, parse_date, submission_time
from .cli import add_cli, cmd_leaderboard, cmd_submit, main
from .markdown import md_escape, render_card, render_markdown
from .page import SOLID_BIN, bin_opacity, calibration_svg, render_html
from .references import REFERENCE_DESCRIPTIONS, References, board_references, reference_entries
from .schema import (
    BENCH_EDITION,
    BENCHMARK_CUTOFFS,
    BENCHMARK_LABELS,
    CONFIG,
    DEFAULT_STORE,
    INTERVAL_COLUMNS,
    LOWER_IS_BETTER,
    MAX_NAME,
    MAX_NOTES,
    RELIABILITY_BIN,
    REPO_ID,
    ROW_CATEGORIES,
    SCHEMA,
    SPLIT,
    LeaderboardError,
    Metadata,
    Submission,
)
from .site import render
from .standings import Board, Entry, boards, col_id, fmt, fmt_interval, fmt_with_interval, overall_rule
from .store import _rows, questions_fingerprint, read_store, store_folder, submission_id, submit, write_store

__all__ = [
    # the store and the checks
    "REPO_ID", "CONFIG", "SPLIT", "DEFAULT_STORE", "BENCHMARK_CUTOFFS", "BENCH_EDITION", "ROW_CATEGORIES",
    "LOWER_IS_BETTER", "BENCHMARK_LABELS", "MAX_NAME", "MAX_NOTES", "RELIABILITY_BIN", "SCHEMA", "INTERVAL_COLUMNS",
    "LeaderboardError", "Metadata", "Submission", "parse_date", "submission_time", "check_metadata",
    "check_decision", "check_run", "questions_fingerprint", "submission_id", "store_folder", "read_store",
    "write_store", "submit",
    # the renders
    "Entry", "Board", "boards", "fmt", "fmt_interval", "fmt_with_interval", "overall_rule", "col_id",
    "calibration_svg", "bin_opacity", "SOLID_BIN", "render_html", "md_escape", "render_markdown", "render",
    "render_card", "References", "REFERENCE_DESCRIPTIONS", "board_references", "reference_entries",
    # the command lines
    "cmd_submit", "cmd_leaderboard", "add_cli", "main",
    # the scorer's names this module held before it was split, still importable from here
    "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "CATEGORIES", "CI_LEVEL", "METRIC_LABELS", "METRICS",
    "MIN_CATEGORY_QUESTIONS", "EDITIONS", "Scored", "reliability", "Question", "load_questions", "SubmissionError",
    "check", "read_predictions", "score", "scored", "sha256_file", "DecisionError", "ctopen_literal",
    "ctopen_probabilities",
    "_rows",  # tests build rows without a submit
]  # fmt: skip
