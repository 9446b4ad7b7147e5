"""Predictions in, figures out: read a submission in any of its three shapes, check it against the questions, score.

Shapes (``read_predictions`` tells them apart by content):

1. CT Open's own: a pickle of ``{(nct_id, outcome_measure, question_index): "DECISION: (...)\\n\\nREASON: ..."}``,
   read with the restricted unpickler of :mod:`deepimagine_data.ctopen` (no class can be loaded).
2. JSONL, one object per line: ``{"nct_id", "outcome_measure", "question_index", "output"}`` (or, for the
   deepimagine bench, ``{"question_id", "output"}``); a line ``deepimagine questions`` wrote, with ``output``
   added, is one too.
3. lm-eval's ``--log_samples`` file (``samples_<task>_<time>.jsonl``): each line's ``doc`` carries ``nct_id``,
   ``outcome_measure`` and ``question_index``; the output is the generation (``resps``) or, for the log-likelihood
   variant, the softmax of the options' log-likelihoods written as a decision line.

Several files are several runs (CT Open averages its metrics over runs). Each scored question carries its trial
(:attr:`Question.trial`, the ``nct_id``), the cluster of the trial-clustered bootstrap behind the intervals.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .decision import DecisionError, ctopen_probabilities
from .metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    MIN_CATEGORY_QUESTIONS,
    Scored,
    evaluate_runs,
    unreadable_prediction,
)
from .questions import Question

Key = tuple[str, str, int]
SHOWN_FIELDS = ("category", "options", "prompt")  # in a `deepimagine questions` line besides its key


class SubmissionError(ValueError):
    """A submission that cannot be scored as given; the message names the file, line or key."""


@dataclass
class Predictions:
    """One run: key -> raw output text, in file order, with where each came from."""

    source: str
    outputs: dict[Key, str] = field(default_factory=dict)
    duplicates: list[Key] = field(default_factory=list)
    by_question_id: dict[str, str] = field(default_factory=dict)


def _key(nct: object, measure: object, index: object, where: str) -> Key:
    if not isinstance(nct, str) or not nct:
        raise SubmissionError(f"{where}: nct_id must be a non-empty string, got {nct!r:.60}")
    if not isinstance(measure, str):
        raise SubmissionError(f"{where}: outcome_measure must be a string, got {measure!r:.60}")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise SubmissionError(f"{where}: question_index must be a non-negative integer, got {index!r:.60}")
    return (nct, measure, index)


def _add(p: Predictions, key: Key, output: object, where: str) -> None:
    if not isinstance(output, str):
        raise SubmissionError(f"{where}: output for {key[0]} question {key[2]} is {type(output).__name__}, not text")
    if key in p.outputs:
        p.duplicates.append(key)
    p.outputs[key] = output


def _from_pickle(path: Path) -> Predictions:
    from ..ctopen import CTOpenError, safe_load

    try:
        obj = safe_load(path.read_bytes(), str(path))
    except CTOpenError as e:
        raise SubmissionError(str(e)) from None
    if not isinstance(obj, dict):
        raise SubmissionError(f"{path}: a CT Open submission is a dict keyed (nct_id, outcome_measure, index)")
    p = Predictions(str(path))
    for k, v in obj.items():
        if not isinstance(k, tuple) or len(k) != 3:
            raise SubmissionError(f"{path}: key {k!r:.120} is not (nct_id, outcome_measure, question_index)")
        _add(p, _key(*k, where=f"{path}: key {k!r:.80}"), v, f"{path}")
    return p


def _softmax_decision(lls: list[float]) -> str:
    m = max(lls)
    e = [math.exp(x - m) for x in lls]
    s = sum(e)
    return "DECISION: (" + ", ".join(repr(x / s) for x in e) + ")"


def _lm_eval_output(rec: dict, where: str) -> str:
    resps = rec.get("resps")
    if not isinstance(resps, list) or not resps:
        raise SubmissionError(f"{where}: lm-eval sample without resps")
    # generate_until: [[text]]; loglikelihood: [[[ll, greedy]], [[ll, greedy]], ...] (one per option), which
    # lm-eval 0.4.13 writes as strings ([[["-12.70", "False"]], ...])
    if all(isinstance(r, list) and r and isinstance(r[0], list) and r[0] for r in resps):
        lls = [_float(r[0][0]) for r in resps]
        if all(x is not None for x in lls):
            return _softmax_decision(lls)
    first = resps[0]
    if isinstance(first, list) and first and isinstance(first[0], str):
        return first[0]
    raise SubmissionError(f"{where}: cannot read the model output from resps {json.dumps(resps)[:120]}")


def _float(x: object) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None


def _add_record(p: Predictions, rec: object, where: str) -> None:
    if not isinstance(rec, dict):
        raise SubmissionError(f"{where}: a line must be a JSON object")
    if "doc" in rec and isinstance(rec["doc"], dict):  # lm-eval --log_samples
        d = rec["doc"]
        _add(p, _key(d.get("nct_id"), d.get("outcome_measure"), d.get("question_index"), where),
             _lm_eval_output(rec, where), where)  # fmt: skip
        return
    # a line of `deepimagine questions` with an output added is a submission: what it shows the model is ignored
    unknown = set(rec) - {"nct_id", "outcome_measure", "question_index", "output", "question_id", *SHOWN_FIELDS}
    if unknown:
        raise SubmissionError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if "output" not in rec:
        raise SubmissionError(f"{where}: no 'output'")
    if "question_id" in rec and "nct_id" not in rec:
        qid = rec["question_id"]
        if not isinstance(qid, str) or qid in p.by_question_id:
            raise SubmissionError(f"{where}: question_id {qid!r:.80} is not a string or is repeated")
        if not isinstance(rec["output"], str):
            raise SubmissionError(f"{where}: output for {qid} is {type(rec['output']).__name__}, not text")
        p.by_question_id[qid] = rec["output"]
        return
    key = _key(rec.get("nct_id"), rec.get("outcome_measure"), rec.get("question_index"), where)
    _add(p, key, rec["output"], where)


def _from_jsonl(path: Path, lines: list[str]) -> Predictions:
    p = Predictions(str(path))
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise SubmissionError(f"{where}: not JSON ({e.msg})") from None
        _add_record(p, rec, where)
    return p


def predictions_from_records(records: Iterable[dict], name: str = "predictions") -> Predictions:
    """One run from records shaped like the lines of a JSONL submission (e.g. ``deepimagine_data.questions()``'s
    records with an ``output`` added); errors name ``name`` and the record's position (from 1)."""
    p = Predictions(name)
    for n, rec in enumerate(records, start=1):
        _add_record(p, rec, f"{name}[{n}]")
    return p


def read_predictions(path: str | os.PathLike) -> Predictions:
    """One run's predictions from a CT Open pickle, a JSONL file, or an lm-eval samples file."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: no such file")
    data = path.read_bytes()
    if data[:1] == b"\x80":  # pickle protocol 2+
        return _from_pickle(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{path}: neither a pickle nor UTF-8 JSON lines") from None
    return _from_jsonl(path, text.splitlines())


@dataclass
class Checked:
    """Predictions matched to questions: per question the raw output, and what is wrong with the submission."""

    outputs: dict[Key, str]
    missing: list[Question]
    unknown: list[Key]
    duplicates: list[Key]


def match(questions: list[Question], preds: Predictions) -> Checked:
    by_key = {q.key: q for q in questions}
    by_qid = {q.question_id: q for q in questions}
    outputs = dict(preds.outputs)
    unknown = [k for k in outputs if k not in by_key]
    for qid, out in preds.by_question_id.items():
        q = by_qid.get(qid)
        if q is None:
            unknown.append(("question_id", qid, -1))
        elif q.key in outputs:
            preds.duplicates.append(q.key)
        else:
            outputs[q.key] = out
    missing = [q for q in questions if q.key not in outputs]
    return Checked({k: v for k, v in outputs.items() if k in by_key}, missing, unknown, list(preds.duplicates))


def _name(key: Key) -> str:
    return f"({key[0]}, {key[1]!r}, {key[2]})"  # whole: a user copies it into their file


def check(questions: list[Question], preds: Predictions, *, partial: bool = False) -> Checked:
    """Match and raise :class:`SubmissionError` naming the first problems (unknown keys, duplicates, missing)."""
    c = match(questions, preds)
    problems = []
    if c.unknown:
        problems.append(f"{len(c.unknown)} unknown key(s), e.g. {_name(c.unknown[0])}")
    if c.duplicates:
        problems.append(f"{len(c.duplicates)} duplicate answer(s), e.g. {_name(c.duplicates[0])}")
    if c.missing and not partial:
        problems.append(f"{len(c.missing)} question(s) not answered, e.g. {_name(c.missing[0].key)}")
    if problems:
        raise SubmissionError(
            f"{preds.source}: " + "; ".join(problems) + " (`deepimagine questions --benchmark ... --out FILE` lists "
            "every key; --partial scores only the answered questions)"
        )
    return c


def scored(questions: list[Question], c: Checked) -> tuple[list[Scored], list[tuple[Key, str]]]:
    """Scored items of the answered questions and the unreadable decisions (key, why)."""
    items, bad = [], []
    for q in questions:
        out = c.outputs.get(q.key)
        if out is None:
            continue
        try:
            probs = ctopen_probabilities(out)
            if len(probs) != q.n_options:
                raise DecisionError(f"{len(probs)} probabilities for {q.n_options} options")
            items.append(Scored(q.category, q.answer_index, tuple(float(x) for x in probs), cluster=q.trial))
        except DecisionError as e:
            bad.append((q.key, str(e)))
            items.append(unreadable_prediction(q.category, q.answer_index, q.n_options, q.trial))
    return items, bad


@dataclass
class ScoreReport:
    results: dict
    runs: int
    answered: int
    questions: int
    unreadable: list[tuple[Key, str]]
    items: list[list[Scored]] = field(default_factory=list)  # per run, for calibration plots
    bootstrap: int = 0  # resamples behind the intervals (0: none)
    seed: int = BOOTSTRAP_SEED
    min_category: int = MIN_CATEGORY_QUESTIONS


def score(
    questions: list[Question],
    paths: list[str | os.PathLike | Predictions],
    *,
    partial: bool = False,
    bootstrap: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    min_category: int = MIN_CATEGORY_QUESTIONS,
) -> ScoreReport:
    """Score one or more runs of predictions (files, or :class:`Predictions`) against ``questions`` (CT Open's
    averaging over runs), with 95% trial-clustered bootstrap intervals from ``bootstrap`` resamples (0: none) drawn
    with ``seed``; overall leaves out the categories with fewer than ``min_category`` questions
    (:func:`~.metrics.evaluate_runs`)."""
    runs, unreadable, answered = [], [], []
    for run in paths:
        preds = run if isinstance(run, Predictions) else read_predictions(run)
        c = check(questions, preds, partial=partial)
        items, bad = scored(questions, c)
        if not items:
            raise SubmissionError(f"{preds.source}: no question of the benchmark is answered")
        runs.append(items)
        unreadable.extend(bad)
        answered.append(len(items))
    results = evaluate_runs(runs, bootstrap=bootstrap, seed=seed, min_category=min_category)
    return ScoreReport(
        results, len(runs), min(answered), len(questions), unreadable, runs, bootstrap, seed, min_category
    )
