"""The README's quick start, CT Open half: ``deepimagine questions --template uniform`` writes a submission that
``deepimagine score`` takes whole (605 questions of Winter 2025), with the uniform guess' known figures; from any
working directory, offline with ``$DEEPIMAGINE_CTOPEN_DIR``, and without it a message that says where to point.

CT Open's questions are never shipped (its repository states no license): these tests need a local copy, which
conftest points ``$DEEPIMAGINE_CTOPEN_DIR`` at when ``../shared/data/ct_open`` is there.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepimagine_data import ctopen

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def ctopen_dir() -> Path:
    d = os.environ.get(ctopen.ENV_DIR)
    if not d or not (Path(d) / ctopen.EDITIONS["winter2025"]).is_file():
        pytest.skip("CT Open Winter 2025 questions (not redistributable) are not on this machine")
    return Path(d)


def _run(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "deepimagine"), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_uniform_template_round_trips_on_ctopen_winter(ctopen_dir, tmp_path):
    env = {**os.environ, ctopen.ENV_DIR: str(ctopen_dir), "HF_HUB_OFFLINE": "1"}
    q = _run(["questions", "--benchmark", "ctopen", "--edition", "winter2025", "--template", "uniform", "--out",
              "uniform.jsonl"], tmp_path, env)  # fmt: skip
    assert q.returncode == 0, q.stderr
    lines = [json.loads(x) for x in (tmp_path / "uniform.jsonl").read_text().splitlines()]
    assert len(lines) == 605
    assert not {"answer_index", "answer", "meta_label"} & set(lines[0])
    s = _run(["score", "--benchmark", "ctopen", "--edition", "winter2025", "--predictions", "uniform.jsonl",
              "--json", "--bootstrap", "0"], tmp_path, env)  # fmt: skip
    assert s.returncode == 0, s.stderr
    doc = json.loads(s.stdout)
    assert doc["meta"]["answered"] == 605
    # uniform probabilities: chance balanced accuracy, cross-entropy ln k per category (ln 2 or ln 3)
    for cat, k in (("2-way explicit", 2), ("2-way implicit", 2), ("3-way explicit", 3)):
        assert doc[cat]["balanced_accuracy"] == pytest.approx(0.5)
        assert doc[cat]["cross_entropy"] == pytest.approx(math.log(k))


def test_offline_without_a_source_says_where_to_point(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != ctopen.ENV_DIR}
    env.update(HF_HUB_OFFLINE="1")
    # no network here: the fetch fails, and the message names --source and the environment variable
    q = _run(["questions", "--benchmark", "ctopen", "--edition", "winter2025", "--out", "q.jsonl", "--timeout", "5"],
             tmp_path, env)  # fmt: skip
    if q.returncode == 0:
        pytest.skip("this machine reached CT Open's repository over the network")
    assert q.returncode != 0 and "Traceback" not in q.stderr
    assert "--source" in q.stderr and ctopen.ENV_DIR in q.stderr, q.stderr
