"""The README's lm-eval path for a model behind an OpenAI-compatible server (how a ``vllm serve`` model is scored):
lm-eval's ``local-chat-completions`` sends each bench question's prompt to a real HTTP server on 127.0.0.1 that
generates from a local causal LM (``tests/openai_server.py``), and the ``--log_samples`` file it writes is a
submission ``deepimagine score`` reads, with the same figures lm-eval printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from deepimagine_data.benchmark import utils  # noqa: E402
from openai_server import ModelServer  # noqa: E402

from deepimagine_data.scoring.questions import bench_questions  # noqa: E402

TASKS_DIR = Path(str(resources.files("deepimagine_data.benchmark"))).resolve()
BIN = Path(sys.executable).parent
LIMIT = 4


def test_lm_eval_local_chat_completions_against_a_server(tiny_model, built_bench, tmp_path):
    bench_hub = built_bench
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != utils.ENV_HUB}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with ModelServer(tiny_model, model_name="tiny-chat") as srv:
        cmd = [
            str(BIN / "lm_eval"),
            "--model", "local-chat-completions",
            "--model_args", f"model=tiny-chat,base_url={srv.url}/v1/chat/completions,num_concurrent=2,max_retries=1",
            "--apply_chat_template",
            "--include_path", str(TASKS_DIR),
            "--tasks", "deepimagine_bench",
            "--metadata", json.dumps({"hub_dir": str(bench_hub)}),
            "--limit", str(LIMIT),
            "--gen_kwargs", "max_gen_toks=8",
            "--log_samples",
            "--output_path", str(out),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
        # every question went over HTTP as a chat request holding the task's prompt
        assert srv.count() == LIMIT
        sent = [b for b in srv.bodies if "messages" in b]
        assert all(b["model"] == "tiny-chat" and b["messages"][-1]["role"] == "user" for b in sent)
    questions = {q.key: q for q in bench_questions(bench_hub)}
    (samples,) = out.glob("*/samples_deepimagine_bench_*.jsonl")
    lines = [json.loads(x) for x in samples.read_text().splitlines() if x.strip()]
    assert len(lines) == LIMIT
    prompts = {b["messages"][-1]["content"] for b in sent}
    for rec in lines:
        key = (rec["doc"]["nct_id"], rec["doc"]["outcome_measure"], rec["doc"]["question_index"])
        assert key in questions and rec["doc"]["prompt"] in prompts
    (results_file,) = out.glob("*/results_*.json")
    lm = json.loads(results_file.read_text())["results"]["deepimagine_bench"]
    # the scorer reads lm-eval's sample log as a submission and agrees with the figures lm-eval printed
    score = subprocess.run(
        [str(BIN / "deepimagine"), "score", "--benchmark", "deepimagine", "--source", str(bench_hub),
         "--predictions", str(samples), "--partial", "--json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    report = json.loads(score.stdout)
    for m in utils.METRICS:
        assert report["overall"][m] == pytest.approx(lm[f"{m},decision"], rel=1e-9, abs=1e-12), m
    # a random model writes no decision line: lm-eval and the scorer both count every answer unreadable
    assert lm["unparseable,decision"] == 1.0
