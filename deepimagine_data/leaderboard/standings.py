"""The standings as the page and the Markdown show them: one board per benchmark and edition, its entries best first.

Shared by :mod:`.page` (HTML) and :mod:`.markdown`, so both rank, round and describe a board the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import pyarrow as pa

from ..scoring.metrics import CATEGORIES, CI_LEVEL, MIN_CATEGORY_QUESTIONS
from .schema import BENCHMARK_LABELS


@dataclass(frozen=True)
class Entry:
    """One submission on one board: its identity and, per category, its stored row."""

    submission_id: str
    model_name: str
    model_revision: str
    training_cutoff: dt.date | None  # None for a reference row
    submitted_at: dt.datetime | None
    runs: int
    flagged: bool
    notes: str
    by_category: dict[str, dict]
    reference: bool = False  # a reference row (chance, majority): shown for comparison, never ranked

    @property
    def questions(self) -> int | None:
        """The questions behind the overall figures (``None`` without an overall row)."""
        row = self.by_category.get("overall")
        return None if row is None else row["questions"]

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
    # chance and majority, computed from the board's questions (see .references); what kept any out, in words
    references: tuple[Entry, ...] = ()
    reference_note: str = ""

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

    def standing(self) -> list[tuple[int | None, Entry]]:
        """Each entry with its rank, best first, and the reference rows (rank ``None``) where their overall balanced
        accuracy falls among them, so a reader sees who beats chance; an entry tied with a reference comes first."""
        rows = [(_ba(e), 0, i, (i + 1, e)) for i, e in enumerate(self.entries)]
        rows += [(_ba(r), 1, i, (None, r)) for i, r in enumerate(self.references)]
        return [row for *_, row in sorted(rows, key=lambda r: (-r[0], r[1], r[2]))]

    def bootstrap(self) -> tuple[int, int] | None:
        """(resamples, seed) of the stored intervals, when every entry has the same."""
        got = {
            (r.get("bootstrap_resamples"), r.get("bootstrap_seed"))
            for e in self.entries
            for r in e.by_category.values()
            if r.get("bootstrap_resamples")
        }
        return next(iter(got)) if len(got) == 1 else None


def _ba(e: Entry) -> float:
    ba = e.value("overall", "balanced_accuracy")
    return ba if ba is not None else -math.inf


def _rank_key(e: Entry) -> tuple:
    return (-_ba(e), e.submitted_at, e.submission_id)


def boards(table: pa.Table, references: dict | None = None) -> list[Board]:
    """The store's rows as one board per benchmark and edition, entries best first (overall balanced accuracy).

    ``references`` maps ``(benchmark, edition)`` to a :class:`~deepimagine_data.leaderboard.references.References`
    (its reference rows and a note on any left out), see :func:`~deepimagine_data.leaderboard.board_references`.
    """
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
        refs = (references or {}).get((bench, edition))
        out.append(
            Board(
                bench,
                edition,
                rows[0]["benchmark_cutoff"],
                entries,
                tuple(refs.entries) if refs else (),
                refs.note if refs else "",
            )
        )
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
