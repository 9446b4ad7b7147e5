"""What the leaderboard stores and refuses: the results schema, the benchmark cutoffs, the error, the metadata."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..scoring.metrics import CATEGORIES, METRICS

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


# Raised and caught as deepimagine_data.leaderboard.LeaderboardError since before the split; tracebacks keep that name.
LeaderboardError.__module__ = "deepimagine_data.leaderboard"


@dataclass(frozen=True)
class Metadata:
    """What a submitter states about the model, checked (see :func:`~deepimagine_data.leaderboard.check_metadata`)."""

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
