"""The lm-eval tasks in ``benchmark/``: every task loads through lm-eval's TaskManager with the right docs, and
``lm_eval`` runs them end to end on a tiny random causal LM, writing samples that ``deepimagine score`` reads back.

The bench and pairs tasks are checked both ways: built in memory (no ``hub_dir``) and read from a hub folder that
the package's builders write here; the two must give the same docs. CT Open needs ``../shared/data/ct_open``
(or ``$DEEPIMAGINE_CTOPEN_DIR``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from deepimagine_data.benchmark import utils  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from deepimagine_data import ctopen  # noqa: E402
from deepimagine_data.scoring.questions import bench_questions, ctopen_questions  # noqa: E402
from deepimagine_data.scoring.submission import score  # noqa: E402

TASKS_DIR = Path(str(resources.files("deepimagine_data.benchmark"))).resolve()
GENERATE = ("ctopen_winter2025", "ctopen_summer2025", "deepimagine_bench", "deepimagine_pairs")
ALL_TASKS = (*GENERATE, *(f"{t}_ll" for t in GENERATE))
KEY_FIELDS = ("nct_id", "outcome_measure", "question_index", "category", "options", "answer_index")
BIN = Path(sys.executable).parent


def _manager(**metadata) -> TaskManager:
    return TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata=metadata or None)


def _docs(loaded: dict, task: str) -> list[dict]:
    return list(loaded["tasks"][task].test_docs())


def _check_doc(doc: dict) -> None:
    assert all(doc[f] is not None for f in KEY_FIELDS), doc
    assert isinstance(doc["question_index"], int) and doc["question_index"] >= 0
    assert len(doc["options"]) in (2, 3)
    assert 0 <= doc["answer_index"] < len(doc["options"])
    assert doc["category"].startswith(f"{len(doc['options'])}-way ")
    slots = ", ".join(f"p{i + 1}" for i in range(len(doc["options"])))
    assert doc["prompt"].endswith(f"DECISION: ({slots})\ngiving your probability for each option, in order.")


@pytest.fixture(scope="module")
def no_hub_env():
    # a user's $DEEPIMAGINE_HUB_DIR must not turn the in-memory path into the folder path
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(utils.ENV_HUB, raising=False)
        yield


@pytest.fixture(scope="module")
def in_memory(no_hub_env) -> dict:
    """bench and pairs built in memory from the embedded snapshot, as a user without a hub folder gets them."""
    return _manager().load(["deepimagine_bench", "deepimagine_bench_ll", "deepimagine_pairs", "deepimagine_pairs_ll"])


@pytest.fixture(scope="module")
def hub(in_memory, tmp_path_factory) -> Path:
    """A hub folder written by the package's builders (the pipeline's caches make this a few seconds)."""
    from deepimagine_data.builders import bench, pairs

    from deepimagine_data import pipeline

    out = tmp_path_factory.mktemp("hub")
    bench.write(out)
    pairs.write(out, replace(pipeline.default_options(), approx=None))
    return out


# --- loading ---------------------------------------------------------------------------------------------------


def test_tasks_path_is_the_task_folder():
    out = subprocess.run([str(BIN / "deepimagine"), "tasks-path"], capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == TASKS_DIR


def test_index_has_every_task_and_both_groups():
    tm = _manager()
    assert set(ALL_TASKS) <= set(tm.all_subtasks)
    assert {"deepimagine", "deepimagine_ll"} <= set(tm.all_groups)
    assert tm.task_index["deepimagine"].cfg["task"] == list(GENERATE)
    assert tm.task_index["deepimagine_ll"].cfg["task"] == [f"{t}_ll" for t in GENERATE]


def test_ctopen_winter2025_docs(ctopen_dir):
    loaded = _manager(ctopen_source=str(ctopen_dir)).load(["ctopen_winter2025", "ctopen_winter2025_ll"])
    docs = _docs(loaded, "ctopen_winter2025")
    assert len(docs) == 605
    assert len({(d["nct_id"], d["outcome_measure"]) for d in docs}) == 561
    assert len({d["nct_id"] for d in docs}) == 314
    assert Counter(d["category"] for d in docs) == {"2-way implicit": 80, "2-way explicit": 470, "3-way explicit": 55}
    for d in docs:
        _check_doc(d)
    # the keys, options and answers are the scorer's, in the scorer's order
    questions = ctopen_questions("winter2025", ctopen_dir)
    assert [(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs] == [q.key for q in questions]
    assert [(tuple(d["options"]), d["answer_index"]) for d in docs] == [(q.options, q.answer_index) for q in questions]

    first = docs[0]
    assert first["nct_id"] == "NCT05799287"
    assert "Trial NCT05799287: A Study of Telitacicept" in first["prompt"]
    assert '- study arm "Telitacicept" — Subjects will be given Telitacicept 240 mg SC' in first["prompt"]
    assert "[experimental]; interventions: Telitacicept (biological)" in first["prompt"]
    endpoint = (
        "Endpoint: outcome measure: Change from baseline in urine protein creatinine ratio (UPCR); type: primary; "
        "time frame: 39 weeks; description: Based on a 24-hour urine collections."
    )
    assert endpoint in first["prompt"]
    implicit = next(d for d in docs if d["category"] == "2-way implicit")
    assert "Which statement about this endpoint is true?" in implicit["prompt"]

    ll = loaded["tasks"]["ctopen_winter2025_ll"]
    ll_docs = _docs(loaded, "ctopen_winter2025_ll")
    assert ll_docs == docs
    text = ll.doc_to_text(first)
    assert text.endswith("with respect to this specific endpoint, either because of no statistical effect or worse "
                         "effect.\n\nAnswer with the number of the statement that holds.\nAnswer:")  # fmt: skip
    assert "DECISION" not in text
    assert ll.doc_to_choice(first) == ["0", "1"]
    assert ll.doc_to_target(first) == first["answer_index"]


def test_ctopen_summer2025_missing_file_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        _manager(ctopen_source=str(tmp_path)).load(["ctopen_summer2025"])
    msg = str(e.value)
    assert msg.startswith("ctopen_summer2025: ")
    assert str(tmp_path / "Summer_2025.pickle") in msg
    assert ctopen.source_url("summer2025") in msg
    assert '"ctopen_source"' in msg


def test_group_needs_every_edition(ctopen_dir):
    if (ctopen_dir / ctopen.EDITIONS["summer2025"]).is_file():
        loaded = _manager(ctopen_source=str(ctopen_dir)).load(["deepimagine"])
        assert loaded["group_map"]["deepimagine"] == list(GENERATE)
        return
    with pytest.raises(FileNotFoundError, match="ctopen_summer2025: .*Summer_2025.pickle not found"):
        _manager(ctopen_source=str(ctopen_dir)).load(["deepimagine"])


def test_ctopen_summer2025_docs(ctopen_dir):
    if not (ctopen_dir / ctopen.EDITIONS["summer2025"]).is_file():
        pytest.skip("CT Open Summer 2025 questions and answers (not redistributable) are not here, nor a network")
    loaded = _manager(ctopen_source=str(ctopen_dir)).load(["ctopen_summer2025", "ctopen_summer2025_ll"])
    docs = _docs(loaded, "ctopen_summer2025")
    questions = ctopen_questions("summer2025", ctopen_dir)
    assert [(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs] == [q.key for q in questions]
    for d in docs:
        _check_doc(d)


def test_bench_docs_in_memory(in_memory):
    docs = _docs(in_memory, "deepimagine_bench")
    questions = bench_questions(None)
    assert len(docs) == len(questions) >= 300
    assert [(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs] == [q.key for q in questions]
    assert [d["question_id"] for d in docs] == [q.question_id for q in questions]
    assert len({(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs}) == len(docs)
    for d in docs:
        _check_doc(d)
        assert d["category"] in ("2-way implicit", "2-way explicit", "3-way explicit")
    assert _docs(in_memory, "deepimagine_bench_ll") == docs
    ll = in_memory["tasks"]["deepimagine_bench_ll"]
    assert ll.doc_to_text(docs[0]).endswith("\n\nAnswer with the number of the statement that holds.\nAnswer:")


def test_pairs_docs_in_memory(in_memory):
    from deepimagine_data.builders import pairs

    from deepimagine_data import pipeline

    docs = _docs(in_memory, "deepimagine_pairs")
    tables, _ = pairs.build_tables(replace(pipeline.default_options(), approx=None))
    sizes = {c: tables[c]["test"].num_rows for c in utils.PAIR_CONFIGS}
    assert Counter(d["config"] for d in docs) == {c: n for c, n in sizes.items() if n}
    assert len(docs) == sum(sizes.values()) > 1000
    assert len({(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs}) == len(docs)
    for d in docs:
        _check_doc(d)
        assert d["question_index"] == 0 and d["outcome_measure"] == d["question_id"]
        assert d["category"] == {2: "2-way explicit", 3: "3-way explicit"}[len(d["options"])]
    assert {d["category"] for d in docs} == {"2-way explicit", "3-way explicit"}
    ll = in_memory["tasks"]["deepimagine_pairs_ll"]
    three = next(d for d in docs if len(d["options"]) == 3)
    assert ll.doc_to_choice(three) == ["0", "1", "2"]
    assert "Explain how the changed factor" not in ll.doc_to_text(three)


def test_hub_folder_gives_the_same_docs(in_memory, hub):
    from_hub = _manager(hub_dir=str(hub)).load(["deepimagine_bench", "deepimagine_pairs"])
    for task in ("deepimagine_bench", "deepimagine_pairs"):
        assert _docs(from_hub, task) == _docs(in_memory, task)


def test_hub_folder_without_the_dataset_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no deepimagine/bench under this folder"):
        _manager(hub_dir=str(tmp_path)).load(["deepimagine_bench"])


# --- end to end: the lm_eval CLI on a tiny random model ---------------------------------------------------------


def _offline_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != utils.ENV_HUB}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


@pytest.fixture(scope="module")
def ctopen_available() -> Path | None:
    # conftest points $DEEPIMAGINE_CTOPEN_DIR at ../shared/data/ct_open when it is there; bench and pairs run anyway
    d = os.environ.get(ctopen.ENV_DIR)
    return Path(d) if d and (Path(d) / ctopen.EDITIONS["winter2025"]).is_file() else None


@pytest.fixture(scope="module")
def lm_eval_run(tiny_model, hub, ctopen_available, tmp_path_factory) -> dict:
    """One ``lm_eval`` call over every task available here (5 docs each); returns results and samples."""
    base = ["deepimagine_bench", "deepimagine_pairs"] + (["ctopen_winter2025"] if ctopen_available else [])
    tasks = [t for b in base for t in (b, f"{b}_ll")]
    metadata = {"hub_dir": str(hub)}
    if ctopen_available:
        metadata["ctopen_source"] = str(ctopen_available)
    out = tmp_path_factory.mktemp("lm_eval_out")
    cmd = [
        str(BIN / "lm_eval"),
        "--model", "hf",
        "--model_args", f"pretrained={tiny_model},dtype=float32",
        "--device", "cpu",
        "--batch_size", "4",
        "--include_path", str(TASKS_DIR),
        "--tasks", ",".join(tasks),
        "--metadata", json.dumps(metadata),
        "--limit", "5",
        "--gen_kwargs", "max_gen_toks=8",
        "--log_samples",
        "--output_path", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_offline_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (results_file,) = out.glob("*/results_*.json")
    samples = {}
    for task in tasks:
        (f,) = out.glob(f"*/samples_{task}_2*.jsonl")
        samples[task] = f
    return {"tasks": tasks, "results": json.loads(results_file.read_text())["results"], "samples": samples,
            "stdout": proc.stdout}  # fmt: skip


def test_lm_eval_writes_every_metric(lm_eval_run):
    results = lm_eval_run["results"]
    for task in lm_eval_run["tasks"]:
        r = results[task]
        metrics = [*utils.METRICS, *utils.INTERVAL_METRICS] + ([] if task.endswith("_ll") else ["unparseable"])
        flt = "none" if task.endswith("_ll") else "decision"
        for m in metrics:
            assert isinstance(r[f"{m},{flt}"], float), (task, m, r)
        assert 0 <= r[f"balanced_accuracy,{flt}"] <= 1 and r[f"cross_entropy,{flt}"] > 0
        for m in utils.METRICS:
            # each figure's trial-clustered interval as two metrics; lm-eval's own Stderr cannot be had for them
            # (1e-12: a replicate that redraws the same questions reproduces the figure up to rounding)
            assert r[f"{m}_ci95_low,{flt}"] - 1e-12 <= r[f"{m},{flt}"] <= r[f"{m}_ci95_high,{flt}"] + 1e-12, (task, m)
            assert r[f"{m}_stderr,{flt}"] == "N/A" and r[f"{m}_ci95_low_stderr,{flt}"] == "N/A"
        if not task.endswith("_ll"):
            assert isinstance(r["unparseable_stderr,decision"], float)  # lm-eval's `mean` has its closed form
        if not task.endswith("_ll"):
            # a random model writes no decision: every doc is counted unparseable, and wrong
            assert r["unparseable,decision"] == 1.0
            assert r["balanced_accuracy,decision"] == 0.0
    assert "|deepimagine_bench_ll" in lm_eval_run["stdout"]
    assert "|balanced_accuracy_ci95_low " in lm_eval_run["stdout"]


def test_samples_carry_the_submission_key(lm_eval_run):
    for task, path in lm_eval_run["samples"].items():
        lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        assert len(lines) == 5, task
        for rec in lines:
            _check_doc(rec["doc"])
            if task.endswith("_ll"):
                assert len(rec["resps"]) == len(rec["doc"]["options"])
            else:
                assert len(rec["resps"]) == 1 and isinstance(rec["resps"][0][0], str)


def _overall(results: dict, task: str) -> dict:
    flt = "none" if task.endswith("_ll") else "decision"
    return {m: results[task][f"{m},{flt}"] for m in utils.METRICS}


def _intervals(results: dict, task: str) -> dict:
    flt = "none" if task.endswith("_ll") else "decision"
    return {(m, end): results[task][f"{m}_ci95_{end},{flt}"] for m in utils.METRICS for end in ("low", "high")}


def _flat(intervals: dict) -> dict:
    return {(m, end): v for m, ci in intervals.items() for end, v in zip(("low", "high"), ci, strict=True)}


def _score(questions, path):
    return score(questions, [path], partial=True)


@pytest.mark.parametrize("task", ["ctopen_winter2025", "ctopen_winter2025_ll"])
def test_score_cli_reads_ctopen_samples(lm_eval_run, ctopen_available, task):
    if task not in lm_eval_run["samples"]:
        pytest.skip("CT Open Winter 2025 questions and answers (not redistributable) are not here")
    path = lm_eval_run["samples"][task]
    _score(ctopen_questions("winter2025", ctopen_available), path)
    cmd = [str(BIN / "deepimagine"), "score", "--benchmark", "ctopen", "--edition", "winter2025",
           "--source", str(ctopen_available), "--predictions", str(path), "--partial", "--json"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_offline_env(), check=True)
    doc = json.loads(proc.stdout)
    assert doc["meta"]["answered"] == 5 and doc["meta"]["questions"] == 605
    assert doc["meta"]["unreadable"] == (0 if task.endswith("_ll") else 5)
    # the task's metrics are CT Open's: the scorer gets the same figures from the samples
    expected = _overall(lm_eval_run["results"], task)
    assert {m: doc["overall"][m] for m in utils.METRICS} == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # and the same intervals (the same trials, resamples and seed)
    got = _flat({m: doc["overall"][f"{m}_ci95"] for m in utils.METRICS})
    assert got == pytest.approx(_intervals(lm_eval_run["results"], task), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("task", ["deepimagine_bench", "deepimagine_bench_ll"])
def test_score_reads_bench_samples(lm_eval_run, hub, task):
    questions = bench_questions(hub)
    report = _score(questions, lm_eval_run["samples"][task])
    assert report.answered == 5 and report.questions == len(questions)
    assert len(report.unreadable) == (0 if task.endswith("_ll") else 5)
    expected = _overall(lm_eval_run["results"], task)
    assert {m: report.results["overall"][m] for m in utils.METRICS} == pytest.approx(expected, rel=1e-9, abs=1e-12)
    got = _flat({m: report.results["overall"][f"{m}_ci95"] for m in utils.METRICS})
    assert got == pytest.approx(_intervals(lm_eval_run["results"], task), rel=1e-9, abs=1e-12)


def test_pair_samples_keys_are_unique_and_known(lm_eval_run, hub):
    docs = _docs(_manager(hub_dir=str(hub)).load(["deepimagine_pairs"]), "deepimagine_pairs")
    keys = {(d["nct_id"], d["outcome_measure"], d["question_index"]) for d in docs}
    for task in ("deepimagine_pairs", "deepimagine_pairs_ll"):
        recs = [json.loads(x) for x in lm_eval_run["samples"][task].read_text().splitlines() if x.strip()]
        got = [(r["doc"]["nct_id"], r["doc"]["outcome_measure"], r["doc"]["question_index"]) for r in recs]
        assert len(set(got)) == 5 and set(got) <= keys


# --- scoring your own model: deepimagine questions, the Python API ----------------------------------------------


def test_questions_command_writes_the_tasks_docs_without_answers(hub, tmp_path):
    from deepimagine_data.cli import main
    from deepimagine_data.scoring.questions import RECORD_FIELDS

    out = tmp_path / "q.jsonl"
    assert main(["questions", "--benchmark", "deepimagine", "--source", str(hub), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    docs = utils.bench_docs(str(hub))
    assert len(lines) == len(docs) >= 300
    for line, doc in zip(lines, docs, strict=True):
        assert tuple(line) == RECORD_FIELDS  # the key first, then what the model is shown; no answer
        assert line == {k: doc[k] for k in RECORD_FIELDS}
    # a line is a submission once it has an output: the file with every answer right scores 1.0
    right = [
        {
            **x,
            "output": "DECISION: (" + ", ".join("1" if i == q.answer_index else "0" for i in range(q.n_options)) + ")",
        }
        for x, q in zip(lines, bench_questions(hub), strict=True)
    ]
    answers = tmp_path / "right.jsonl"
    answers.write_text("".join(json.dumps(x) + "\n" for x in right))
    doc = score(bench_questions(hub), [answers], bootstrap=0).results
    assert doc["overall"]["balanced_accuracy"] == 1.0


def test_questions_template_is_a_submission_and_missing_keys_are_named_whole(hub, tmp_path, capsys):
    from deepimagine_data.cli import main

    out = tmp_path / "uniform.jsonl"
    args = ["--benchmark", "deepimagine", "--source", str(hub)]
    assert main(["questions", *args, "--template", "uniform", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert all(json.loads(x)["output"] in ("DECISION: (0.5, 0.5)", f"DECISION: ({1 / 3!r}, {1 / 3!r}, {1 / 3!r})")
               for x in lines)  # fmt: skip
    capsys.readouterr()
    assert main(["score", *args, "--bootstrap", "0", "--predictions", str(out)]) == 0
    assert f"{len(lines):,} of {len(lines):,} questions answered" in capsys.readouterr().out
    dropped = json.loads(lines[-1])
    out.write_text("\n".join(lines[:-1]) + "\n")
    assert main(["score", *args, "--predictions", str(out)]) == 2
    err = capsys.readouterr().err
    key = f"({dropped['nct_id']}, {dropped['outcome_measure']!r}, {dropped['question_index']})"
    assert "1 question(s) not answered, e.g. " + key in err and "deepimagine questions" in err


def test_python_api_questions_score_load_pairs(hub, tmp_path, monkeypatch):
    import deepimagine_data as di

    qs = di.questions("deepimagine", source=hub)
    assert qs == [json.loads(json.dumps(q)) for q in qs] and "answer_index" not in qs[0]
    first = [{**q, "output": "DECISION: (" + ", ".join(["1"] + ["0"] * (len(q["options"]) - 1)) + ")"} for q in qs]
    doc = di.score(first, "deepimagine", source=hub, bootstrap=0)
    by_file = score(bench_questions(hub), [_jsonl(tmp_path / "first.jsonl", first)], bootstrap=0).results
    assert doc["overall"] == by_file["overall"] and doc["meta"]["answered"] == len(qs)
    with pytest.raises(ValueError, match=r"predictions\[0\]\[3\]: no 'output'"):
        di.score([first[0], {**first[1]}, {k: v for k, v in first[2].items() if k != "output"}], "deepimagine",
                 source=hub)  # fmt: skip
    monkeypatch.chdir(tmp_path)  # any directory: the hub folder is named, not the working directory
    pairs = di.load_pairs("strict_arm", hub_dir=hub)
    assert set(pairs) == {"train", "validation", "test"} and pairs["train"].num_rows > 0
    assert {"prompt", "completion", "messages"} <= set(pairs["train"].column_names)


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_ctopen_questions_match_the_tasks_and_offline_says_where_to_point(ctopen_dir, tmp_path):
    import deepimagine_data as di

    qs = di.questions("ctopen", "winter2025", ctopen_dir)
    docs = utils.ctopen_docs("winter2025", str(ctopen_dir))
    assert len(qs) == len(docs) == 605
    assert [q["prompt"] for q in qs] == [d["prompt"] for d in docs]
    assert not {"answer_index", "meta_label"} & set(qs[0])
    with pytest.raises(FileNotFoundError, match=r"--source FOLDER .*Winter_2025\.pickle.*DEEPIMAGINE_CTOPEN_DIR"):
        di.questions("ctopen", "winter2025", tmp_path / "nothing-here")
