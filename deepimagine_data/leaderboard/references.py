"""Reference rows for each board: ``chance`` and ``majority``, scored on the very questions the board was scored on.

The store keeps figures, not questions, so the rows are computed when the page is rendered, from the questions
found offline: CT Open's pickles (``source``, else ``$DEEPIMAGINE_CTOPEN_DIR``, else the download cache; never a
download) and a built bench (``hub``: its ``test`` split for the bench's board, its ``train`` split for majority's
answer shares on every board, as ``deepimagine baseline report`` computes them, see
:mod:`deepimagine_data.baselines.reference`). A board gets them only when the questions found have the sha256 its
entries were scored on (``questions_sha256``); otherwise, or when something is missing, ``References.note`` says
what, and the page and the Markdown print it under the board.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .. import ctopen
from ..baselines.reference import reference_results
from ..scoring.metrics import METRICS
from ..scoring.questions import Question, bench_questions, ctopen_questions
from .schema import BENCH_EDITION
from .standings import Entry
from .store import questions_fingerprint

# What each reference row is, as the page's detail and the Markdown's footnote say it.
REFERENCE_DESCRIPTIONS = {
    "chance": "uniform probabilities over each question's k options (balanced accuracy 0.5; cross-entropy ln k per "
    "question)",
    "majority": "per category, the answer shares of the deepimagine bench train split (Laplace-smoothed): its pick "
    "is the train majority, its probabilities the train prior; never the evaluated answers",
}


@dataclass(frozen=True)
class References:
    """A board's reference rows (``chance`` first, then ``majority`` when the bench train split was found) and, when
    any is left out, why."""

    entries: tuple[Entry, ...]
    note: str = ""


def reference_entries(questions: Sequence[Question], train: Sequence[Question] | None) -> tuple[Entry, ...]:
    """``chance`` (and ``majority`` when ``train`` is given) as board entries, with the scorer's figures and intervals.

    >>> from deepimagine_data.scoring.questions import Question
    >>> qs = [Question((f"NCT{i}", "O", 0), ("met", "not met"), i % 2, "2-way explicit", f"q{i}") for i in range(4)]
    >>> [(e.model_name, e.reference, round(e.value("overall", "cross_entropy"), 4))
    ...  for e in reference_entries(qs, None)]
    [('chance', True, 0.6931)]
    """
    results = reference_results(questions, train or [])
    models = ("chance", "majority") if train else ("chance",)
    return tuple(_entry(model, results[model]) for model in models)


def _entry(model: str, results: dict) -> Entry:
    made_of = results["overall"]["categories"]
    by_category = {}
    for cat, r in results.items():
        row = {m: float(r[m]) for m in METRICS}
        for m in METRICS:
            ci = r.get(f"{m}_ci95")
            row[f"{m}_ci95_low"], row[f"{m}_ci95_high"] = (None, None) if ci is None else (ci[0], ci[1])
        row["questions"], row["trials"] = r["questions"], r["trials"]
        row["in_overall"] = None if cat == "overall" else cat in made_of
        by_category[cat] = row
    return Entry(f"reference-{model}", model, "reference", None, None, 1, False, REFERENCE_DESCRIPTIONS[model],
                 by_category, reference=True)  # fmt: skip


def _bench_folder(hub: str | os.PathLike | None) -> Path | None:
    if hub is None:
        return None
    p = Path(hub)
    for folder in (p / "deepimagine" / "bench", p / "bench", p):
        if (folder / "questions").is_dir():
            return folder
    return None


def board_references(
    table: pa.Table, *, source: str | os.PathLike | None = None, hub: str | os.PathLike | None = None
) -> dict[tuple[str, str], References]:
    """``(benchmark, edition)`` -> :class:`References` for every board of the store's rows (see the module docstring).

    ``source``: CT Open's pickles (a folder or file); ``hub``: a built hub root, or the ``deepimagine/bench`` folder.
    """
    fingerprints: dict[tuple[str, str], set[str]] = {}
    for b, e, q in zip(*(table[c].to_pylist() for c in ("benchmark", "edition", "questions_sha256")), strict=True):
        fingerprints.setdefault((b, e), set()).add(q)
    bench = _bench_folder(hub)
    train, train_note = None, ""
    if bench is None:
        where = f"no deepimagine/bench under {hub}" if hub is not None else "no bench given"
        train_note = f"majority needs the bench train split ({where}: render with --hub HUB from `deepimagine build`)"
    else:
        try:
            train = bench_questions(bench, "train")
        except (FileNotFoundError, OSError, pa.ArrowException) as e:
            train_note = f"majority needs the bench train split ({str(e)[:160]})"
    out = {}
    for (benchmark, edition), seen in sorted(fingerprints.items()):
        questions, why = _questions(benchmark, edition, source, bench)
        if questions is None:
            out[(benchmark, edition)] = References((), f"No reference rows: {why}.")
            continue
        if questions_fingerprint(questions) not in seen:
            out[(benchmark, edition)] = References(
                (),
                f"No reference rows: the {len(questions):,} questions found are not those this board was scored on "
                "(their sha256 differs from the entries' questions_sha256).",
            )
            continue
        note = "" if train is not None else f"Chance only: {train_note}."
        out[(benchmark, edition)] = References(reference_entries(questions, train), note)
    return out


def _questions(
    benchmark: str, edition: str, source: str | os.PathLike | None, bench: Path | None
) -> tuple[list[Question] | None, str]:
    """A board's questions found offline, or None and what is missing."""
    if benchmark == "ctopen":
        # the file a default `deepimagine submit` downloaded counts too; rendering never downloads one itself
        src = ctopen.local_source(edition, source)
        if src is None:
            return None, (
                f"CT Open {edition}'s questions are not here (render with --source FOLDER holding its pickles, or set "
                "$DEEPIMAGINE_CTOPEN_DIR)"
            )
        try:
            return ctopen_questions(edition, src), ""
        except (FileNotFoundError, ValueError, OSError) as e:
            return None, f"CT Open {edition}'s questions could not be read ({str(e).split('. ')[0][:160]})"
    if benchmark == "deepimagine":
        if bench is None:
            return None, "the bench's test questions are not here (render with --hub HUB from `deepimagine build`)"
        try:
            return bench_questions(bench, edition or BENCH_EDITION), ""
        except (FileNotFoundError, OSError, pa.ArrowException) as e:
            return None, f"the bench's {edition} questions could not be read ({str(e)[:160]})"
    return None, f"unknown benchmark {benchmark!r}"
