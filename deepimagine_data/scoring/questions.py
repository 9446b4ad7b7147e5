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


def _ctopen_unavailable(edition: str, e: Exception) -> FileNotFoundError:
    from .. import ctopen

    return FileNotFoundError(
        f"CT Open {edition}: {e}. Offline, point at CT Open's pickles: --source FOLDER (a clone of "
        f"https://github.com/{ctopen.REPO}, or a folder holding {ctopen._file_of(edition)}), or ${ctopen.ENV_DIR}"
    )


def ctopen_questions(edition: str, source: str | os.PathLike | None = None) -> list[Question]:
    """Every question of a CT Open edition (``source``: a folder, pickle, URL, or None for the cache/pinned URL)."""
    from .. import ctopen

    try:
        recs = ctopen.records(edition, source)
    except (FileNotFoundError, ctopen.CTOpenDownloadError) as e:
        raise _ctopen_unavailable(edition, e) from e
    out = []
    for rec in recs:
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
        from ..hub import dataset_folder, read_split

        # a folder holding the config (whatever its name), else a build root or a hub repo id (ORG/NAME@REV)
        p = Path(path) if (Path(path) / "questions").is_dir() else dataset_folder(path, "bench")
        t = read_split(p, "questions", split, cols)
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


# What `deepimagine questions` writes per question, in this order: the key `score` matches (nct_id, outcome_measure,
# question_index, or question_id alone), then what the model is shown. Never the answer.
RECORD_FIELDS = ("question_id", "nct_id", "outcome_measure", "question_index", "category", "options", "prompt")
TEMPLATES = ("uniform",)


def question_records(benchmark: str, edition: str | None = None, source: str | os.PathLike | None = None) -> list[dict]:
    """Every test question of ``benchmark`` as the lm-eval tasks show it, keyed for ``deepimagine score``, without
    its answer. A bench record (abbreviated)::

        {"question_id": "NCT03584009:O0:OG001|OG000:superiority_2way", "nct_id": "NCT03584009",
         "outcome_measure": "NCT03584009:O0", "question_index": 0, "category": "2-way explicit",
         "options": ["...", "..."], "prompt": "Trial NCT03584009: ..."}
    """
    from ..benchmark import utils

    src = os.fspath(source) if source is not None else None
    if benchmark == "ctopen":
        if edition not in EDITIONS:
            raise ValueError(f"--edition must be one of {', '.join(EDITIONS)} for ctopen, got {edition!r}")
        from .. import ctopen

        try:
            docs = utils.ctopen_docs(edition, src)
        except (FileNotFoundError, ctopen.CTOpenDownloadError) as e:
            raise _ctopen_unavailable(edition, e) from e
    elif benchmark == "deepimagine":
        docs = utils.bench_docs(src)
    else:
        raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
    return [{k: d[k] for k in RECORD_FIELDS} for d in docs]


def template_output(n_options: int, template: str = "uniform") -> str:
    """A decision line ``deepimagine score`` reads: ``template_output(2) == "DECISION: (0.5, 0.5)"``."""
    if template != "uniform":
        raise ValueError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    return "DECISION: (" + ", ".join(repr(1 / n_options) for _ in range(n_options)) + ")"
