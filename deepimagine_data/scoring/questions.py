"""The question sets the scorer knows, each question keyed the way CT Open keys a submission.

A key is ``(nct_id, outcome_measure, question_index)``:

- CT Open: ``outcome_measure`` is the edition's endpoint string (the second element of its pickle key) and
  ``question_index`` the position in that endpoint's ``question_list_of_lists`` (:meth:`CTOpenRecord.prediction_key`).
- ``deepimagine`` bench: ``nct_id`` (or the trial id for a trial without one), the question's ``outcome_id``, and the
  position of the question among that outcome's questions in ``question_id`` order. A JSONL submission may give
  ``question_id`` instead.

>>> qs = ctopen_questions("winter2025", "../shared/data/ct_open")  # doctest: +SKIP
>>> len(qs), qs[0].category  # doctest: +SKIP
(605, '2-way explicit')
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = ("ctopen", "deepimagine")
EDITIONS = ("winter2025", "summer2025")


@dataclass(frozen=True)
class Question:
    key: tuple[str, str, int]
    options: tuple[str, ...]
    answer_index: int
    category: str
    question_id: str  # CT Open: "nct_id|endpoint|i"; bench: its question_id

    @property
    def n_options(self) -> int:
        return len(self.options)

    @property
    def trial(self) -> str:
        """The trial the question comes from (its ``nct_id``, or the bench's trial id for a trial without one): the
        cluster the scorer's bootstrap resamples (see :mod:`deepimagine_data.scoring.metrics`)."""
        return self.key[0]


def ctopen_questions(edition: str, source: str | os.PathLike | None = None) -> list[Question]:
    """Every question of a CT Open edition (``source``: a folder, pickle, URL, or None for the cache/pinned URL)."""
    from .. import ctopen

    out = []
    for rec in ctopen.records(edition, source):
        for i, opts in enumerate(rec.questions):
            key = rec.prediction_key(i)
            out.append(Question(key, opts, rec.answer_index[i], rec.categories[i], f"{rec.nct_id}|{rec.endpoint}|{i}"))
    return out


def bench_questions(path: str | os.PathLike | None = None, split: str = "test") -> list[Question]:
    """The questions of ``deepimagine/bench`` (config ``questions``), from a built folder.

    ``path`` is the dataset folder (``hub/deepimagine/bench``) or a hub root holding ``deepimagine/bench``; ``None``
    builds the bench from the embedded snapshot in memory (about a minute).
    """
    import pyarrow as pa

    cols = ["question_id", "nct_id", "trial_id", "outcome_id", "options", "answer_index", "category"]
    if path is None:
        from ..builders import bench

        tables, _ = bench.build_tables()
        t: pa.Table = tables["questions"][split]
    else:
        import pyarrow.parquet as pq

        p = Path(path)
        if (p / "deepimagine" / "bench").is_dir():
            p = p / "deepimagine" / "bench"
        files = sorted((p / "questions").glob(f"{split}-*.parquet"))
        if not files:
            raise FileNotFoundError(f"no {split} split of config 'questions' under {p} (run `deepimagine build`)")
        t = pa.concat_tables([pq.read_table(f, columns=cols) for f in files])
    rows = sorted(t.select(cols).to_pylist(), key=lambda r: r["question_id"])
    index: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for r in rows:
        trial = r["nct_id"] or r["trial_id"]
        i = index[(trial, r["outcome_id"])]
        index[(trial, r["outcome_id"])] += 1
        out.append(Question((trial, r["outcome_id"], i), tuple(r["options"]), r["answer_index"], r["category"],
                            r["question_id"]))  # fmt: skip
    return out


def load_questions(
    benchmark: str, edition: str | None = None, source: str | os.PathLike | None = None, split: str = "test"
) -> list[Question]:
    """Questions of ``benchmark`` (``ctopen`` with an ``edition``, or ``deepimagine``)."""
    if benchmark == "ctopen":
        if edition not in EDITIONS:
            raise ValueError(f"--edition must be one of {', '.join(EDITIONS)} for ctopen, got {edition!r}")
        return ctopen_questions(edition, source)
    if benchmark == "deepimagine":
        return bench_questions(source, split)
    raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
