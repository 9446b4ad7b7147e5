"""The lm-eval tasks' Python side: loading docs, the decision filter, CT Open's metrics.

lm-eval imports this file by path (``!function utils.xxx`` in the YAMLs next to it), so it imports the package
absolutely. Every doc carries the submission key ``(nct_id, outcome_measure, question_index)`` plus ``category``,
``options`` and ``answer_index``, which is what ``deepimagine score`` reads back from ``--log_samples`` files.

Sources (``--metadata '{"ctopen_source": ..., "hub_dir": ...}'``, else the environment):

- ``ctopen_source``: CT Open's pickle, a folder holding it, or a URL; else ``$DEEPIMAGINE_CTOPEN_DIR``, else the
  download cache, then the pinned commit (see :func:`deepimagine_data.ctopen.load_edition`);
- ``hub_dir``: a folder written by ``deepimagine build`` (``hub``, holding ``deepimagine/bench`` and
  ``deepimagine/pairs``); else ``$DEEPIMAGINE_HUB_DIR``; else the datasets are built in memory from the embedded
  snapshot (about a minute).

One real doc (``ctopen_winter2025``, abbreviated)::

    {"nct_id": "NCT05799287",
     "outcome_measure": "{'measure': 'Change from baseline in urine protein creatinine ratio (UPCR)', ...}",
     "question_index": 0, "category": "2-way explicit", "answer_index": 0,
     "options": ["The study arm Telitacicept has achieved statistically significant improvements over ...", ...],
     "prompt": "You predict the results of clinical trials. ...\\nDECISION: (p1, p2)\\ngiving your probability ..."}
"""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from string import Template

import numpy as np

from deepimagine_data.hub import dataset_folder, read_split
from deepimagine_data.pairs.kinds import STRICT
from deepimagine_data.scoring.decision import CLIP, parse_decision
from deepimagine_data.scoring.metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    Scored,
    evaluate_runs,
    unreadable_prediction,
)

ENV_HUB = "DEEPIMAGINE_HUB_DIR"
PAIR_CONFIGS = STRICT  # the held-out strict pairs: every strict kind of the pair-kind registry

# The wording of deepimagine_data/templates/bench-v1/prompt.txt, less what CT Open's records do not hold
# (phase, conditions), plus what they do (interventions, the endpoint's description).
CTOPEN_PROMPT = Template(
    """You predict the results of clinical trials. Read the trial and the endpoint, then judge which statement holds.

Trial $nct_id: $brief_title
Study arms:
$arms_block

Endpoint: $endpoint_block

$question
$options_block

Explain your reasoning, then end with one line
DECISION: ($decision_slots)
giving your probability for each option, in order."""
)
_QUESTION = {
    "explicit": "Which statement about these two study arms on this endpoint is true?",
    "implicit": "Which statement about this endpoint is true?",
}
# The closing instruction of every generate prompt (bench-v1, pairs-v1 and CTOPEN_PROMPT); the log-likelihood
# variant swaps it for a one-token answer so the options are scored, not a written decision.
_INSTRUCTION = re.compile(
    r"\n\nExplain [^\n]*\nDECISION: \([^()\n]*\)\ngiving your probability for each option, in order\.\s*\Z"
)
LL_SUFFIX = "\n\nAnswer with the number of the statement that holds.\nAnswer:"


# --- docs ------------------------------------------------------------------------------------------------------


def _clip(text: str, n: int) -> str:
    from deepimagine_data.pairs.render import clean_text, clip

    return clip(clean_text(text), n)


def _ctopen_arm(arm: dict) -> str:
    from deepimagine_data.pairs.render import arm_block

    line = "- " + arm_block(str(arm.get("label") or "(unnamed)"), arm.get("description"), None, None)
    if arm.get("type"):
        line += f" [{str(arm['type']).lower().replace('_', ' ')}]"
    names = [
        f"{iv['name']} ({str(iv.get('type') or 'other').lower().replace('_', ' ')})"
        for iv in arm.get("interventions") or []
        if isinstance(iv, dict) and iv.get("name")
    ] or [str(n) for n in arm.get("interventionNames") or []]
    if names:
        line += "; interventions: " + ", ".join(names)
    return line


def _ctopen_endpoint(rec) -> str:
    from deepimagine_data.pairs.render import outcome_block

    if rec.measure is None:  # an endpoint string that does not parse is shown as posted
        return _clip(rec.endpoint, 600)
    kind = (rec.outcome_type or "").removesuffix("Outcomes").upper() or None
    block = outcome_block({"title": rec.measure, "outcome_type": kind, "time_frame": rec.time_frame})
    if rec.description:
        block += f"; description: {_clip(rec.description, 400)}"
    return block


def ctopen_prompt(rec, raw: dict, question: int) -> str:
    """The generate prompt of question ``question`` of a CT Open record (``raw``: its dict in the pickle).

    For Winter 2025's NCT05799287 it starts ``Trial NCT05799287: A Study of Telitacicept in Patients with ...``,
    lists ``- study arm "Telitacicept" — Subjects will be given Telitacicept 240 mg SC ... [experimental];
    interventions: Telitacicept (biological)``, and ends with ``DECISION: (p1, p2)``.
    """
    from deepimagine_data.pairs.render import options_fields

    arms = [a for a in raw.get("arms") or [] if isinstance(a, dict)]
    group = rec.categories[question].split()[-1]
    return CTOPEN_PROMPT.substitute(
        nct_id=rec.nct_id,
        brief_title=rec.brief_title or "(no title posted)",
        arms_block="\n".join(_ctopen_arm(a) for a in arms) or "(no arms listed)",
        endpoint_block=_ctopen_endpoint(rec),
        question=_QUESTION[group],
        **options_fields(list(rec.questions[question])),
    )


def ctopen_docs(edition: str, source) -> list[dict]:
    """Every question of a CT Open edition as the ``ctopen_*`` tasks show it (prompt, options, key, answer); also
    what ``deepimagine questions`` writes, less the answer. Raises ctopen's errors as they are."""
    from deepimagine_data import ctopen

    raw = ctopen.load_edition(edition, source)
    recs = ctopen.records(edition, source)
    docs = []
    for rec in recs:
        for i, options in enumerate(rec.questions):
            docs.append(
                {
                    "nct_id": rec.nct_id,
                    "outcome_measure": rec.endpoint,
                    "question_index": i,
                    "question_id": f"{rec.nct_id}|{rec.endpoint}|{i}",
                    "category": rec.categories[i],
                    "options": list(options),
                    "answer_index": rec.answer_index[i],
                    "meta_label": rec.meta_label,
                    "prompt": ctopen_prompt(rec, raw[rec.key], i),
                }
            )
    return docs


def _dataset(docs: list[dict]):
    from datasets import Dataset, DatasetDict

    return DatasetDict({"test": Dataset.from_list(docs)})


def _source(kwargs: dict, key: str, env: str | None = None) -> str | None:
    value = kwargs.get(key) or (os.environ.get(env) if env else None)
    return os.fspath(value) if value else None


def load_ctopen_winter2025(**kwargs):
    """``custom_dataset`` of ``ctopen_winter2025``: 605 questions (561 endpoints, 314 trials), split ``test``.

    ``kwargs`` is the task's metadata (lm-eval also passes the model arguments); ``ctopen_source`` is read.
    """
    return _dataset(_cached_ctopen("winter2025", _source(kwargs, "ctopen_source")))


def load_ctopen_summer2025(**kwargs):
    """``custom_dataset`` of ``ctopen_summer2025`` (CT Open gives 857 questions); the file is fetched as above."""
    return _dataset(_cached_ctopen("summer2025", _source(kwargs, "ctopen_source")))


@lru_cache(maxsize=4)
def _cached_ctopen(edition: str, source: str | None) -> list[dict]:
    # one load per edition and source, shared by the generate and log-likelihood variants
    from deepimagine_data import ctopen

    try:
        return ctopen_docs(edition, source)
    except (FileNotFoundError, ctopen.CTOpenDownloadError) as e:
        raise FileNotFoundError(
            f'ctopen_{edition}: {e} (lm-eval: --metadata \'{{"ctopen_source": "PATH_OR_URL"}}\')'
        ) from e


@lru_cache(maxsize=4)
def bench_docs(hub: str | None) -> list[dict]:
    from deepimagine_data.scoring.questions import bench_questions

    cols = ["question_id", "prompt", "question_type"]
    if hub is None:
        from deepimagine_data.builders import bench

        tables, _ = bench.build_tables()
        table = tables["questions"]["test"].select(cols)
        questions = bench_questions(None)  # the same build, from the pipeline's caches
    else:
        folder = dataset_folder(hub, "bench")
        table = read_split(folder, "questions", "test", cols)
        questions = bench_questions(folder)
    rows = {r["question_id"]: r for r in table.to_pylist()}
    docs = []
    for q in questions:
        row = rows[q.question_id]
        docs.append(
            {
                "nct_id": q.key[0],
                "outcome_measure": q.key[1],
                "question_index": q.key[2],
                "question_id": q.question_id,
                "category": q.category,
                "options": list(q.options),
                "answer_index": q.answer_index,
                "question_type": row["question_type"],
                "prompt": row["prompt"],
            }
        )
    return docs


def load_bench(**kwargs):
    """``custom_dataset`` of ``deepimagine_bench``: the ``test`` split of ``deepimagine/bench`` (912 questions in
    the README's build), keyed as :func:`deepimagine_data.scoring.questions.bench_questions` keys them."""
    return _dataset(bench_docs(_source(kwargs, "hub_dir", ENV_HUB)))


def pair_category(n_options: int) -> str:
    """The CT Open category a strict pair is scored in: ``pair_category(3) == "3-way explicit"``."""
    if n_options not in (2, 3):
        raise ValueError(f"a pair question has 2 or 3 options, not {n_options}")
    return f"{n_options}-way explicit"


@lru_cache(maxsize=4)
def _pair_docs(hub: str | None) -> list[dict]:
    cols = ["pair_id", "nct_id", "trial_id", "outcome_id", "question_type", "options", "answer_index", "prompt"]
    if hub is None:
        from dataclasses import replace

        from deepimagine_data.builders import pairs

        from deepimagine_data import pipeline

        tables, _ = pairs.build_tables(replace(pipeline.default_options(), approx=None))
        splits = {c: tables[c]["test"].select(cols) for c in PAIR_CONFIGS}
    else:
        folder = dataset_folder(hub, "pairs")
        splits = {c: read_split(folder, c, "test", cols) for c in PAIR_CONFIGS}
    docs = []
    for config, table in splits.items():
        for r in table.to_pylist():
            docs.append(
                {
                    "nct_id": r["nct_id"] or r["trial_id"],
                    "outcome_measure": r["pair_id"],
                    "question_index": 0,
                    "question_id": r["pair_id"],
                    "category": pair_category(len(r["options"])),
                    "options": list(r["options"]),
                    "answer_index": r["answer_index"],
                    "config": config,
                    "trial_id": r["trial_id"],
                    "outcome_id": r["outcome_id"],
                    "question_type": r["question_type"],
                    "prompt": r["prompt"],
                }
            )
    return docs


def load_pairs(**kwargs):
    """``custom_dataset`` of ``deepimagine_pairs``: the ``test`` splits of ``strict_arm``, ``strict_dose`` and
    ``strict_outcome`` (851 + 3 + 1,838 pairs in the README's build), one question per pair."""
    return _dataset(_pair_docs(_source(kwargs, "hub_dir", ENV_HUB)))


# --- prompts ---------------------------------------------------------------------------------------------------


def ll_prompt(doc: dict) -> str:
    """The log-likelihood prompt: the generate prompt with its DECISION instruction replaced by ``Answer:``.

    ``"...\\n1. No arm listed here met this endpoint.\\n\\nExplain your reasoning, then end with one line\\nDECISION:
    (p1, p2)\\ngiving your probability for each option, in order."`` becomes ``"...\\n1. No arm listed here met
    this endpoint.\\n\\nAnswer with the number of the statement that holds.\\nAnswer:"``.
    """
    prompt = doc["prompt"]
    m = _INSTRUCTION.search(prompt)
    if m is None:
        raise ValueError(f"{doc.get('question_id')}: the prompt does not end with the DECISION instruction")
    return prompt[: m.start()] + LL_SUFFIX


def ll_choices(doc: dict) -> list[str]:
    """The options as their numbers (``["0", "1", "2"]``): one short continuation each, so the softmax over the
    options' log-likelihoods is not driven by how long each statement is."""
    return [str(i) for i in range(len(doc["options"]))]


# --- the decision filter ---------------------------------------------------------------------------------------


def read_decision(text: str | None, n_options: int) -> dict:
    """One output read with :func:`parse_decision`, as a JSON-friendly dict.

    >>> read_decision("...so the arm wins.\\n**DECISION:** (0.7, 0.3)", 2)
    {'probabilities': [0.7, 0.3], 'reason': ''}
    """
    parsed = parse_decision(text, n_options)
    probs = None if parsed.probabilities is None else [float(p) for p in parsed.probabilities]
    return {"probabilities": probs, "reason": parsed.reason}


def decision_filter(resps, docs) -> list[list[dict]]:
    """``filter_fn`` of the generate tasks: each generation -> :func:`read_decision` with the doc's option count.

    ``resps`` holds one list of generations per doc (one per repeat); the filter keeps that shape.
    """
    return [[read_decision(r, len(doc["options"])) for r in rs] for rs, doc in zip(resps, docs, strict=True)]


# --- metrics ---------------------------------------------------------------------------------------------------
#
# What lm-eval shows, and what it cannot. Each task reports CT Open's five figures (``balanced_accuracy`` ...
# ``ece``, computed by deepimagine_data.scoring.metrics.evaluate_runs, the scorer's own code) and, as ten more
# metrics, their 95% trial-clustered bootstrap interval: ``<metric>_ci95_low`` and ``<metric>_ci95_high`` (the
# scorer's bootstrap: 1000 resamples of the trials, seed 0, whatever lm-eval's --bootstrap_iters says; the numbers
# equal `deepimagine score --json`'s ``<metric>_ci95`` on the --log_samples file). lm-eval's own Stderr column stays
# "N/A" for all of them: lm-eval 0.4.13 computes a stderr only for its own aggregation functions (``mean`` and
# ``acc_all`` in closed form; ``median``, ``f1``, ``mcc``, ``perplexity``, ``bleu``, ... by bootstrap), matched by
# identity against a list local to ``lm_eval.api.metrics.stderr_for_metric`` that no registry call extends, and its
# bootstrap resamples documents independently, which would ignore that the questions of one trial move together.
# ``unparseable`` (aggregation ``mean``) gets lm-eval's closed-form stderr (documents taken as independent).

METRICS = ("balanced_accuracy", "macro_f1", "cross_entropy", "brier", "ece")
INTERVAL_METRICS = tuple(f"{m}_ci95_{end}" for m in METRICS for end in ("low", "high"))


def _ctopen_normalized(values) -> tuple[float, ...]:
    # CT Open's evaluation divides by the sum, clips to [1e-12, 1] and divides again (decision.ctopen_probabilities);
    # doing the same here makes these figures equal to `deepimagine score` on the --log_samples file.
    raw = np.asarray(values, dtype=np.float64)
    probs = np.clip(raw / raw.sum(), CLIP, 1.0)
    return tuple(float(x) for x in probs / probs.sum())


def _item(doc: dict, probabilities) -> dict:
    n = len(doc["options"])
    trial = doc.get("nct_id")  # the scorer's Question.trial: the bootstrap resamples trials
    if probabilities is None:
        s = unreadable_prediction(doc["category"], doc["answer_index"], n, trial)
    else:
        s = Scored(doc["category"], doc["answer_index"], _ctopen_normalized(probabilities), cluster=trial)
    return {
        "category": s.category,
        "answer": s.answer,
        "probabilities": list(s.probabilities),
        "readable": s.readable,
        "cluster": s.cluster,
    }


def _per_metric(item: dict) -> dict:
    return dict.fromkeys((*METRICS, *INTERVAL_METRICS), item)


def process_results_generate(doc: dict, results: list) -> dict:
    """Per doc: the scored item under every metric (the aggregations need the whole set) and ``unparseable``."""
    decision = results[0]
    item = _item(doc, decision["probabilities"])
    return {**_per_metric(item), "unparseable": float(decision["probabilities"] is None)}


def softmax(lls) -> list[float]:
    """``softmax([-1.0, -1.0]) == [0.5, 0.5]``: the options' log-likelihoods as probabilities."""
    m = max(lls)
    e = [math.exp(x - m) for x in lls]
    s = sum(e)
    return [x / s for x in e]


def process_results_ll(doc: dict, results: list) -> dict:
    """Per doc of a ``_ll`` task: ``results`` is one ``(loglikelihood, is_greedy)`` per option."""
    return _per_metric(_item(doc, softmax([float(r[0]) for r in results])))


@lru_cache(maxsize=8)
def _evaluated(items: tuple) -> dict:
    # lm-eval hands every metric its own list of the same items: one evaluation (and one bootstrap) per task
    scored = [Scored(c, a, p, r, k) for c, a, p, r, k in items]
    return evaluate_runs([scored], bootstrap=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)["overall"]


def _overall(items: list[dict]) -> dict:
    key = tuple((x["category"], x["answer"], tuple(x["probabilities"]), x["readable"], x.get("cluster")) for x in items)
    return _evaluated(key)


def agg_balanced_accuracy(items: list[dict]) -> float:
    """CT Open's balanced accuracy (3-way collapsed to significant / not), per category, then the category mean
    (overall's rule: categories under 30 questions are left out unless none has 30)."""
    return _overall(items)["balanced_accuracy"]


def agg_macro_f1(items: list[dict]) -> float:
    return _overall(items)["macro_f1"]


def agg_cross_entropy(items: list[dict]) -> float:
    return _overall(items)["cross_entropy"]


def agg_brier(items: list[dict]) -> float:
    return _overall(items)["brier"]


def agg_ece(items: list[dict]) -> float:
    return _overall(items)["ece"]


def _interval_end(metric: str, end: int):
    def agg(items: list[dict]) -> float:
        ci = _overall(items)[f"{metric}_ci95"]
        return math.nan if ci is None else ci[end]

    agg.__name__ = agg.__qualname__ = f"agg_{metric}_ci95_{('low', 'high')[end]}"
    agg.__doc__ = f"The {('lower', 'upper')[end]} end of overall {metric}'s 95% trial-clustered bootstrap interval."
    return agg


agg_balanced_accuracy_ci95_low = _interval_end("balanced_accuracy", 0)
agg_balanced_accuracy_ci95_high = _interval_end("balanced_accuracy", 1)
agg_macro_f1_ci95_low = _interval_end("macro_f1", 0)
agg_macro_f1_ci95_high = _interval_end("macro_f1", 1)
agg_cross_entropy_ci95_low = _interval_end("cross_entropy", 0)
agg_cross_entropy_ci95_high = _interval_end("cross_entropy", 1)
agg_brier_ci95_low = _interval_end("brier", 0)
agg_brier_ci95_high = _interval_end("brier", 1)
agg_ece_ci95_low = _interval_end("ece", 0)
agg_ece_ci95_high = _interval_end("ece", 1)
