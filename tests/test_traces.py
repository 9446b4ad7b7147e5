"""`deepimagine traces` end to end: real pair rows, a real OpenAI-compatible server over a fine-tuned tiny model,
scripted servers for the HTTP protocol, and a table of realistic teacher outputs through the keep/reject filter.

The pair rows come from real ClinicalTrials.gov records (the AACT spec fixtures in tests/fixtures/aact_spec) through the
package's own reader and strict-pair builder (2-3 s instead of the ~45 s of the whole embedded snapshot).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from local_http import serve
from openai_server import DROP, ModelServer, ScriptedServer, chat_response

from deepimagine_data.cli import main
from deepimagine_data.errors import RecordError
from deepimagine_data.hub import write_hub_dataset
from deepimagine_data.scoring.decision import parse_decision
from deepimagine_data.traces import verify
from deepimagine_data.traces.cache import ResponseCache, request_key
from deepimagine_data.traces.client import ChatClient, FatalHTTPError, TeacherHTTPError
from deepimagine_data.traces.generate import TRACES, read_pairs
from deepimagine_data.traces.prompt import TEMPLATE_VERSION, templates

FIXED_ANSWER = "No change.\nDECISION: (1.0, 0.0)"  # what the fine-tuned tiny teacher says to any prompt
CARD = "# deepimagine/pairs\n\nTest pairs.\n\n## Counts\n\nsome.\n\n## Citation\n\n```bibtex\n@misc{x}\n```\n"


# ---------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def one_thread():
    # Two cores shared with other jobs: torch's 2-thread kernels then run ~15x slower than one thread (measured).
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def pair_tables(aact_spec_json) -> dict[str, pa.Table]:
    """Strict pairs built by the package from three real ClinicalTrials.gov records."""
    from deepimagine_data.pairs.strict import build_pairs
    from deepimagine_data.sources import ctgov_json

    files = sorted(aact_spec_json.glob("NCT*.json"))
    tables, _ = ctgov_json.read(files)
    return build_pairs(tables)


def _pick(t: pa.Table, n_options: int, answer: int, k: int, skip: int = 0) -> list[int]:
    opts, ans = t.column("options").to_pylist(), t.column("answer_index").to_pylist()
    idx = [i for i in range(t.num_rows) if len(opts[i]) == n_options and ans[i] == answer][skip : skip + k]
    assert len(idx) == k, (n_options, answer, k)
    return idx


def make_hub(root: Path, pair_tables: dict[str, pa.Table]) -> Path:
    """A small deepimagine/pairs folder of real rows: 2- and 3-option questions, answers 0 and 1, two configs."""
    arm, outcome = pair_tables["strict_arm"], pair_tables["strict_outcome"]
    configs = {
        "strict_arm": {
            "train": arm.take(_pick(arm, 2, 0, 2) + _pick(arm, 3, 0, 1) + _pick(arm, 2, 1, 1)),
            "validation": arm.take(_pick(arm, 2, 0, 1, skip=2)),
        },
        "strict_outcome": {
            "train": outcome.take(_pick(outcome, 2, 1, 1) + _pick(outcome, 2, 0, 1)),
            "validation": outcome.take(_pick(outcome, 2, 1, 1, skip=1) + _pick(outcome, 3, 0, 1)),
        },
    }
    return write_hub_dataset(root, "deepimagine/pairs", configs, CARD, card_meta={"license": "other"})


@pytest.fixture(scope="module")
def decision_model(tiny_model, pair_tables, tmp_path_factory, one_thread) -> Path:
    """A copy of the tiny Llama fine-tuned (plain torch, loss on the assistant turn only) to answer FIXED_ANSWER."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from deepimagine_data.traces.prompt import teacher_messages

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    rng = random.Random(0)
    answer = tok(FIXED_ANSWER + tok.eos_token, add_special_tokens=False)["input_ids"]
    examples = []
    # strict_outcome prompts in the teacher template; the test asks about other rows too, so this is "any prompt"
    for prompt in pair_tables["strict_outcome"].column("prompt").to_pylist()[:40]:
        msgs = teacher_messages(prompt, ["outcome"], rng.choice([2, 3]))
        text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        examples.append(tok(text, add_special_tokens=False)["input_ids"][-SERVER_PROMPT_TOKENS:])
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(120):
        batch = [examples[rng.randrange(len(examples))] for _ in range(8)]
        width = max(len(p) for p in batch) + len(answer)
        ids = torch.full((len(batch), width), tok.eos_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, p in enumerate(batch):
            seq = p + answer
            ids[i, : len(seq)] = torch.tensor(seq)
            mask[i, : len(seq)] = 1
            labels[i, len(p) : len(seq)] = torch.tensor(answer)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1, loss.item()
    out = tmp_path_factory.mktemp("decision-llama")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


SERVER_PROMPT_TOKENS = 64  # the tiny model was trained on the last 64 prompt tokens; the server feeds it the same


@pytest.fixture(scope="module")
def model_server(decision_model):
    with ModelServer(decision_model, model_name="tiny-teacher", max_prompt_tokens=SERVER_PROMPT_TOKENS) as srv:
        yield srv


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _front_matter(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


# ------------------------------------------------------------------------------------------- end to end, real model


def test_end_to_end_with_a_real_model_server(model_server, pair_tables, tmp_path, capsys, one_thread):
    from datasets import load_dataset

    folder = make_hub(tmp_path / "hub", pair_tables)
    argv = [
        "traces",
        *("--pairs", "strict_arm,strict_outcome", "--split", "train", "--split", "validation"),
        *("--endpoint", model_server.url + "/v1", "--model", "tiny-teacher"),
        *("--tries", "2", "--concurrency", "2", "--max-tokens", "24", "--seed", "3"),
        *("--hub-dir", str(tmp_path / "hub"), "--cache-dir", str(tmp_path / "cache")),
        *("--price-in", "0.5", "--price-out", "2", "--quiet"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    n_chat = model_server.count()
    assert model_server.count("/v1/models") == 1  # the revision is looked up once, not per request
    # 9 pairs: five 2-option pairs with answer 0 kept at the first sample; the three with answer 1 and the two
    # 3-option questions get 2 samples each, all rejected
    assert n_chat == 4 + 2 * 3 + 2 * 2 == 14

    ds = load_dataset(str(folder), "traces", cache_dir=str(tmp_path / "hf"))
    assert set(ds) == {"train", "validation"}
    rows = [r for split in ds.values() for r in split]
    assert len(rows) == 4 and sorted(ds["train"]["pair_id"]) == ds["train"]["pair_id"]
    for r in rows:
        parsed = parse_decision(r["trace"], len(r["options"]))
        assert parsed.ok and parsed.argmax() == r["answer_index"] == 0
        assert r["completion"] == r["trace"] == FIXED_ANSWER
        assert r["messages"] == [
            {"role": "user", "content": r["prompt"]},
            {"role": "assistant", "content": r["trace"]},
        ]
        assert r["prompt"].rstrip().endswith("giving your probability for each option, in order.")
        assert r["teacher_model"] == "tiny-teacher" and r["teacher_model_revision"] == model_server.revision
        assert (r["template_version"], r["template_sha256"]) == (TEMPLATE_VERSION, templates()[2])
        assert (r["temperature"], r["top_p"], r["max_tokens"], r["seed"], r["tries_used"]) == (0.7, 1.0, 24, 3, 1)
        assert r["decision_probabilities"] == [1.0, 0.0] and r["prompt_tokens"] == SERVER_PROMPT_TOKENS
        assert r["generated_at"] is not None and r["source_config"] in ("strict_arm", "strict_outcome")
        assert r["significance"] == "significant" and r["changed_factors"] in (["arm"], ["outcome"])
    assert ds["train"].features.arrow_schema.field("generated_at").type == pa.date32()

    # the counts add up: every sample is kept or rejected with a reason
    assert re.search(r"^wrong_answer\s+6\s", out, re.M) and re.search(r"^wrong_option_count\s+4\s", out, re.M)
    assert "14 responses received in 15 HTTP requests (0 retries, 1 to /v1/models), 0 samples from the cache" in out
    card = (folder / "README.md").read_text(encoding="utf-8")
    section = card.split("## traces")[1].split("## Citation")[0]
    for needle in (
        "| teacher model | `tiny-teacher` |",
        f"| model revision | `{model_server.revision}` |",
        f"| endpoint host | `{model_server.url.split('//')[1]}` |",
        f"`{TEMPLATE_VERSION}`, sha256 `{templates()[2]}`",
        "temperature 0.7, top_p 1, max_tokens 24, seed 3",
        "| `strict_arm` | train | 4 | 2 | 2 | 6 | 4 | 50.0% |",
        "| wrong_answer | 6 |",
        "| wrong_option_count | 4 |",
        "| tie | 0 |",
    ):
        assert needle in section, needle
    tokens = re.search(r"prompt ([\d,]+), completion ([\d,]+) \(every sample", section)
    assert int(tokens[1].replace(",", "")) == 14 * SERVER_PROMPT_TOKENS
    assert f"${(14 * SERVER_PROMPT_TOKENS * 0.5 + int(tokens[2].replace(',', '')) * 2) / 1e6:,.4f}" in section
    meta = _front_matter(folder)
    assert [c["config_name"] for c in meta["configs"]] == ["strict_arm", "strict_outcome", "traces"]
    assert [c.get("default", False) for c in meta["configs"]] == [True, False, False]
    info = {c["config_name"]: c for c in meta["dataset_info"]}["traces"]
    assert [(s["name"], s["num_examples"]) for s in info["splits"]] == [("train", 3), ("validation", 1)]
    assert len(load_dataset(str(folder), "strict_arm", split="train", cache_dir=str(tmp_path / "hf"))) == 4

    # a rerun over the full cache: zero requests, the same bytes
    before = _files(folder)
    attempts = tmp_path / "attempts.jsonl"
    assert main([*argv, "--attempts", str(attempts)]) == 0
    assert model_server.count() == n_chat and model_server.count("/v1/models") == 1
    assert _files(folder) == before
    rerun = capsys.readouterr().out
    assert "0 responses received in 0 HTTP requests (0 retries, 0 to /v1/models), 14 samples from the cache" in rerun

    # the attempts log holds every sample, kept or not; `analyze traces` reads real accuracy from it
    from deepimagine_data.analysis import analyze, read_traces

    logged = [json.loads(line) for line in attempts.read_text(encoding="utf-8").splitlines()]
    assert len(logged) == 14 and sum(r["kept"] for r in logged) == 4
    assert {r["reason"] for r in logged} == {"kept", "wrong_answer", "wrong_option_count"}
    a = analyze(read_traces([attempts]))
    assert a.n == a.scored == 14 and a.accuracy == pytest.approx(4 / 14)
    # strict_arm: 6 train samples (the card's row above) + 1 validation; strict_outcome the other 7
    assert {k["kind"]: k["traces"] for k in a.kinds} == {"strict_arm": 7, "strict_outcome": 7}
    kept = analyze(read_traces([folder]))
    assert kept.n == 4 and kept.accuracy == 1.0  # verified traces: right by construction


# ------------------------------------------------------------------------------------------ the keep/reject filter

TEACHER_OUTPUTS = [
    # (raw output, n_options, answer_index, expected reason or None for kept)
    ("Adding the higher dose raises exposure, but the trial is small.\n\nDECISION: (0.2, 0.8)", 2, 1, None),
    ("**Reasoning.** The anchor was significant; the new one is noisier.\n\n**DECISION:** (0.35, 0.65)", 2, 1, None),
    ("### Analysis\n- arm: placebo -> active\n\n```\nDECISION: (0.7, 0.2, 0.1)\n```", 3, 0, None),
    ("Likely no difference, I'd say 70/30.\nDECISION: [70%, 30%]", 2, 0, None),
    ("It is hard to say; both outcomes are plausible. DECISION: (0.5, 0.5)", 2, 0, "tie"),
    ("Options 0 and 2 are equally likely.\nDECISION: (0.4, 0.2, 0.4)", 3, 2, "tie"),
    ("The effect probably carries over, with some uncertainty.", 2, 0, "no_decision"),
    ("", 2, 0, "no_decision"),
    ("I would put it as DECISION: (p1, p2) with p1 high.", 2, 0, "no_decision"),
    ("Three scenarios are possible.\nDECISION: (0.6, 0.3, 0.1)", 2, 0, "wrong_option_count"),
    ("Significant difference.\nDECISION: (0.9, 0.1)", 3, 0, "wrong_option_count"),
    ("First guess DECISION: (0.8, 0.2). On reflection the sample is small.\nDECISION: (0.3, 0.7)", 2, 1,
     "multiple_decisions"),
    ("Hedging: maybe significant, maybe not, leaning significant.\nDECISION: (0.55, 0.45)", 2, 1, "wrong_answer"),
    ("The outcome flips to harm.\nDECISION: (0.1, 0.8, 0.1)", 3, 2, "wrong_answer"),
    ("Negative evidence.\nDECISION: (-0.2, 1.2)", 2, 1, "invalid_decision"),
    ('{"reasoning": "dose matters", "decision": [0.1, 0.9]}', 2, 1, None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "n", "answer", "reason"), TEACHER_OUTPUTS)
def test_teacher_outputs_are_kept_or_rejected_with_a_reason(text, n, answer, reason):
    v = verify.judge(text, n, answer)
    assert v.reason == reason, v
    if reason is None:
        assert v.keep and parse_decision(text, n).argmax() == answer


# ----------------------------------------------------------------------------------------- HTTP protocol (scripted)


def test_retries_then_success_and_retry_after_is_honoured():
    script = [
        (429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0.3"}),
        (500, {"error": {"message": "internal error"}}, None),
        DROP,
        (200, b'{"id": "chatcmpl-1", "choices": [{"message": {"content": "DECISION: (0.1', None),  # truncated
        (200, chat_response("Dose up, effect up.\nDECISION: (0.1, 0.9)"), None),
    ]
    with ScriptedServer(lambda n, method, path, body: script[n - 1]) as srv:
        client = ChatClient(srv.url, max_retries=5, backoff_base=0.01, backoff_max=0.05)
        resp = client.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        assert resp["choices"][0]["message"]["content"].endswith("(0.1, 0.9)")
        assert srv.count() == 5 and client.stats.retries == 4 and client.stats.completions == 1
        gaps = [b - a for a, b in zip(srv.times, srv.times[1:], strict=False)]
        assert gaps[0] >= 0.3 and all(g < 0.3 for g in gaps[1:])  # Retry-After, then short jittered backoff
        assert client.stats.by_status == {"429": 1, "500": 1, "ConnectionError": 1, "200": 2}
        assert "Authorization" not in srv.last_headers  # no key set: no Authorization header


def test_gives_up_after_max_retries_and_does_not_retry_other_4xx():
    with ScriptedServer(lambda n, m, p, b: (503, {"error": {"message": "overloaded"}}, None)) as srv:
        client = ChatClient(srv.url, max_retries=2, backoff_base=0.01)
        # the cause first, so a report cut to a column still shows it
        with pytest.raises(
            TeacherHTTPError,
            match=r"^HTTP 503: overloaded \(gave up after 3 attempts; POST http://.*/v1/chat/completions\)$",
        ) as e:
            client.chat({"model": "m", "messages": []})
        assert srv.count() == 3 and e.value.status == 503 and e.value.cause == "status"
    bad = (400, {"error": {"message": "This model's maximum context length is 4096 tokens"}}, None)
    with ScriptedServer(lambda n, m, p, b: bad) as srv:
        with pytest.raises(TeacherHTTPError, match="HTTP 400: This model's maximum context length") as e:
            ChatClient(srv.url, max_retries=5, backoff_base=0.01).chat({"model": "m", "messages": []})
        assert not isinstance(e.value, FatalHTTPError) and srv.count() == 1


def test_401_stops_the_run_with_a_clear_error(pair_tables, tmp_path, capsys, monkeypatch):
    make_hub(tmp_path / "hub", pair_tables)
    monkeypatch.setenv("TEACHER_KEY", "sk-wrong")
    unauthorized = (401, {"error": {"message": "Incorrect API key provided: sk-wr***", "type": "auth"}}, None)
    with ScriptedServer(lambda n, m, p, b: unauthorized) as srv:
        rc = main(
            ["traces", "--pairs", "strict_arm", "--endpoint", srv.url, "--model", "gpt-x", "--api-key-env"]
            + ["TEACHER_KEY", "--hub-dir", str(tmp_path / "hub"), "--cache-dir", str(tmp_path / "c"), "--quiet"]
            + ["--concurrency", "1"]
        )
        assert rc == 2
        assert srv.count() == 1 and srv.count("/v1/models") == 1  # no retry, no further pair
        assert srv.last_headers["Authorization"] == "Bearer sk-wrong"
    err = capsys.readouterr().err
    assert "HTTP 401: Incorrect API key provided" in err and "/v1/chat/completions" in err
    assert not (tmp_path / "hub" / "deepimagine" / "pairs" / "traces").exists()


def _scripted_teacher(fail_after: list[int | None]):
    """Try 0 (seed 0) says (0.0, 1.0), try 1 says (1.0, 0.0); 3-option questions tie at try 0. After
    ``fail_after[0]`` successful chat requests it answers 500 (with Retry-After: 0) until ``fail_after[0]`` is None."""
    ok = [0]

    def script(n, method, path, body):
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": "teacher", "root": "teacher@abc123"}]}, None
        if fail_after[0] is not None and ok[0] >= fail_after[0]:
            return 500, {"error": {"message": "backend down"}}, {"Retry-After": "0"}
        ok[0] += 1
        n_opt = int(re.search(r"(\d) options in the order listed", body["messages"][1]["content"])[1])
        if n_opt == 3:
            text = "DECISION: (0.4, 0.4, 0.2)" if body["seed"] == 0 else "DECISION: (0.6, 0.3, 0.1)"
        else:
            text = "DECISION: (0.0, 1.0)" if body["seed"] == 0 else "DECISION: (1.0, 0.0)"
        return 200, chat_response(f"Reasoning about {n_opt} options.\n{text}", model="teacher"), None

    return script


def _key(body: dict) -> str:
    """The cache key of a request the server saw (try k is sent with seed 0 + k)."""
    return request_key(body, body["seed"])


def test_a_stopped_run_resumes_asking_only_the_missing_requests(pair_tables, tmp_path, capsys):
    fail_after: list[int | None] = [5]
    with ScriptedServer(_scripted_teacher(fail_after)) as srv:

        def run(hub: Path, cache: Path) -> int:
            if not (hub / "deepimagine").exists():
                make_hub(hub, pair_tables)
            return main(
                ["traces", "--pairs", "strict_arm,strict_outcome", "--split", "train,validation"]
                + ["--endpoint", srv.url, "--model", "teacher", "--tries", "2", "--max-retries", "1"]
                + ["--hub-dir", str(hub), "--cache-dir", str(cache), "--quiet"]
            )

        def chat_keys(start: int) -> list[str]:
            return [_key(b) for b in srv.bodies[start:] if "messages" in b]

        # run A: the backend fails for good after 5 answers; nothing is written, the answers are cached
        assert run(tmp_path / "a", tmp_path / "cache") == 1
        assert "pairs stopped on failed requests (last attempt: HTTP 500 " in capsys.readouterr().err
        assert not (tmp_path / "a" / "deepimagine" / "pairs" / "traces").exists()
        lines = (tmp_path / "cache" / "traces" / "teacher.jsonl").read_text().splitlines()
        cached_a = {json.loads(x)["key"] for x in lines}
        assert len(lines) == len(cached_a) == 5
        # run B: the backend is back; only requests not in the cache are sent
        fail_after[0] = None
        a_end = len(srv.bodies)
        assert run(tmp_path / "a", tmp_path / "cache") == 0
        b_keys = chat_keys(a_end)
        # run C: a fresh cache and a healthy backend, for comparison
        b_end = len(srv.bodies)
        assert run(tmp_path / "c", tmp_path / "cache-c") == 0
        c_keys = chat_keys(b_end)

    assert len(set(b_keys)) == len(b_keys)  # nothing asked twice
    assert not cached_a & set(b_keys)  # nothing asked again that run A had received
    assert cached_a | set(b_keys) == set(c_keys) and len(c_keys) == 5 + len(b_keys) == 15
    # resumed or not, the same bytes (the scripted server's `created` is fixed)
    folder_b, folder_c = tmp_path / "a" / "deepimagine" / "pairs", tmp_path / "c" / "deepimagine" / "pairs"
    assert _files(folder_b) == _files(folder_c)
    t = pq.read_table(folder_b / "traces" / "train-00000-of-00001.parquet")
    assert t.schema == TRACES and t.num_rows == 6  # 2-option pairs at try 0 or 1, the 3-option one at try 1
    assert set(t.column("teacher_model_revision").to_pylist()) == {"teacher@abc123"}
    assert sorted(t.column("tries_used").to_pylist()) == [1, 1, 2, 2, 2, 2]
    section = (folder_b / "README.md").read_text().split("## traces")[1]
    assert "| tie | 2 |" in section and "| wrong_answer | 4 |" in section and "| http_error | 0 |" in section
    assert "| generated | 2026-01-01 to 2026-01-01 (UTC" in section


def _traces(srv_url: str, hub: Path, cache: Path, *extra: str) -> int:
    return main(
        ["traces", "--pairs", "strict_arm", "--endpoint", srv_url, "--model", "t", "--tries", "1", "--quiet"]
        + ["--concurrency", "1", "--hub-dir", str(hub), "--cache-dir", str(cache), *extra]
    )


@pytest.mark.parametrize(
    ("reply", "cause", "error"),
    [
        (
            (500, {"error": {"message": "backend down"}}, {"Retry-After": "0"}),
            "HTTP 500",
            r"HTTP 500: backend down \(gave up after 2 attempts; POST http://.*/v1/chat/completions\)",
        ),
        (
            (200, b"<html>proxy login</html>", None),
            "malformed JSON (HTTP 200)",
            r"malformed JSON \(HTTP 200\): Expecting value: line 1 column 1 \(char 0\); the body begins "
            r"b'<html>proxy login</html>' \(gave up after 2 attempts; POST http://.*/v1/chat/completions\)",
        ),
    ],
    ids=["http-500", "malformed-json"],
)
def test_failed_requests_say_what_the_last_attempt_got(pair_tables, tmp_path, capsys, reply, cause, error):
    make_hub(tmp_path / "hub", pair_tables)
    attempts = tmp_path / "attempts.jsonl"
    script = lambda n, m, path, b: (404, {"error": "none"}, None) if path == "/v1/models" else reply  # noqa: E731
    with ScriptedServer(script) as srv:
        rc = _traces(srv.url, tmp_path / "hub", tmp_path / "c", "--limit", "1", "--max-retries", "1")
        rc = rc, _traces(srv.url, tmp_path / "hub", tmp_path / "c", "--limit", "1", "--max-retries", "1",
                         "--attempts", str(attempts))  # fmt: skip
    assert rc == (1, 1)
    out, err = capsys.readouterr()
    # the cause in full, in its own table, not cut to "...: gave up" in the rejected-samples table
    table = out.split("request failed (last attempt got)")[1]
    assert re.search(rf"^{re.escape(cause)}\s+1\s+{error}$", table.splitlines()[1], re.M), table
    assert "http_error" not in out
    assert f"1 pairs stopped on failed requests (last attempt: {cause} 1); nothing written" in err
    if cause.startswith("malformed"):
        assert "HTTP 500" not in out + err and "HTTP error" not in out + err  # a 200 is not an HTTP error
    # --attempts lists the failed attempt with its cause (it used to be empty)
    (row,) = [json.loads(line) for line in attempts.read_text(encoding="utf-8").splitlines()]
    assert (row["reason"], row["kept"], row["text"], row["try_index"], row["cause"]) == (
        "http_error", False, None, 0, cause
    )  # fmt: skip
    assert re.fullmatch(error, row["error"]) and row["pair_id"] and row["options"]
    assert "1 failed requests) -> " in err


def test_a_dripping_teacher_times_out_at_the_request_limit(pair_tables, tmp_path, capsys):
    import time
    from http.server import BaseHTTPRequestHandler

    class Drip(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - /v1/models: none here
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802 - a chat answer one byte every 0.2 s
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            try:
                for _ in range(5000):
                    self.wfile.write(b"{")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass

    make_hub(tmp_path / "hub", pair_tables)
    with serve(Drip) as url:
        t0 = time.monotonic()
        rc = _traces(url, tmp_path / "hub", tmp_path / "c", "--limit", "1", "--max-retries", "0", "--timeout", "1")
        took = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert rc == 1 and took < 5, took  # 1 s for the request, plus the CLI's own work
    assert re.search(
        r"^timeout\s+1\s+timeout: no complete answer within 1 s \(--timeout\); the answer was still arriving, "
        r"\d+ bytes? received \(gave up after 1 attempt; POST ",
        out,
        re.M,
    ), out
    assert "(last attempt: timeout 1); nothing written" in err


def test_written_with_failures_the_card_says_what_failed(pair_tables, tmp_path, capsys):
    folder = make_hub(tmp_path / "hub", pair_tables)

    def script(n, method, path, body):
        if path == "/v1/models":
            return 404, {"error": "none"}, None
        if n == 2:  # the first chat request (after /v1/models)
            return 503, {"error": {"message": "overloaded"}}, {"Retry-After": "0"}
        return 200, chat_response("Same arms, same result.\nDECISION: (1.0, 0.0)"), None

    with ScriptedServer(script) as srv:
        rc = _traces(srv.url, tmp_path / "hub", tmp_path / "c", "--max-retries", "0", "--allow-http-errors")
    assert rc == 1  # written, but some pairs failed
    section = (folder / "README.md").read_text(encoding="utf-8").split("## traces")[1]
    assert "| http_error | 1 |" in section
    assert "Pairs whose requests failed (`http_error`), by what the last attempt got: HTTP 503 1." in section
    assert "HTTP 503 " in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ cache and input


def test_a_torn_cache_line_from_a_killed_run_is_skipped(tmp_path):
    cache = ResponseCache(tmp_path, "org/model")
    cache.put({"pair_id": "p1", "key": "k1", "try": 0, "created": 1, "response": {}})
    with open(cache.path, "ab") as f:
        f.write(b'{"pair_id": "p2", "key": "k2", "cre')  # the process was killed mid-line
    again = ResponseCache(tmp_path, "org/model")
    assert len(again) == 1 and again.torn_lines == 1 and again.get("p2", "k2") is None
    again.put({"pair_id": "p3", "key": "k3", "try": 0, "created": 2, "response": {}})
    third = ResponseCache(tmp_path, "org/model")
    assert third.get("p3", "k3")["created"] == 2 and third.torn_lines == 1
    assert cache.path.name == "org__model.jsonl"


def test_bad_input_names_the_record_and_field(pair_tables, tmp_path, capsys):
    folder = make_hub(tmp_path / "hub", pair_tables)
    with pytest.raises(RecordError, match=r"deepimagine/pairs: config: no config 'approx' .*present: strict_arm"):
        read_pairs(folder, ["approx"], ["train"])
    with pytest.raises(RecordError, match=r"deepimagine/pairs/strict_arm: split: no split 'test'"):
        read_pairs(folder, ["strict_arm"], ["test"])
    rc = main(["traces", "--pairs", "strict_dose", "--endpoint", "http://127.0.0.1:9", "--model", "m"]
              + ["--hub-dir", str(tmp_path / "hub"), "--quiet"])  # fmt: skip
    assert rc == 2 and "no config 'strict_dose'" in capsys.readouterr().err

    arm = pair_tables["strict_arm"].slice(0, 3)
    broken = arm.set_column(arm.schema.get_field_index("prompt"), "prompt", pa.array(["x", None, "y"]))
    write_hub_dataset(tmp_path / "bad", "deepimagine/pairs", {"strict_arm": {"train": broken}}, CARD)
    pid = arm.column("pair_id")[1].as_py()
    with pytest.raises(RecordError, match=re.escape(f"{pid}: prompt: missing or empty")):
        read_pairs(tmp_path / "bad" / "deepimagine" / "pairs", ["strict_arm"], ["train"])
    no_answer = arm.set_column(arm.schema.get_field_index("answer_index"), "answer_index", pa.array([0, 1, None]))
    write_hub_dataset(tmp_path / "bad2", "deepimagine/pairs", {"strict_arm": {"train": no_answer}}, CARD)
    pid = arm.column("pair_id")[2].as_py()
    with pytest.raises(RecordError, match=re.escape(f"{pid}: answer_index: missing")):
        read_pairs(tmp_path / "bad2" / "deepimagine" / "pairs", ["strict_arm"], ["train"])
    with pytest.raises(FileNotFoundError, match="no pairs dataset"):
        read_pairs(tmp_path / "nowhere", ["strict_arm"], ["train"])


def test_limit_takes_a_fixed_hash_sample(pair_tables, tmp_path):
    folder = make_hub(tmp_path / "hub", pair_tables)
    full = read_pairs(folder, ["strict_arm"], ["train"])
    two = read_pairs(folder, ["strict_arm"], ["train"], limit=2)
    assert len(full) == 4 and len(two) == 2 and {t.pair_id for t in two} < {t.pair_id for t in full}
    assert [t.pair_id for t in read_pairs(folder, ["strict_arm"], ["train"], limit=2)] == [t.pair_id for t in two]


def test_a_split_without_a_kept_trace_is_left_out(pair_tables, tmp_path, capsys):
    from datasets import load_dataset

    folder = make_hub(tmp_path / "hub", pair_tables)
    always_1 = (200, chat_response("Nothing changes.\nDECISION: (0.0, 1.0)"), None)  # strict_arm validation: answer 0
    with ScriptedServer(lambda n, m, p, b: always_1) as srv:
        args = ["traces", "--pairs", "strict_arm", "--endpoint", srv.url, "--model", "t", "--tries", "1", "--quiet"]
        args += ["--hub-dir", str(tmp_path / "hub"), "--cache-dir", str(tmp_path / "c")]
        assert main([*args, "--split", "validation"]) == 1
        assert "no trace was kept (validation); nothing written" in capsys.readouterr().err
        assert main([*args, "--split", "train,validation"]) == 0
    assert "not written (no kept trace): validation" in capsys.readouterr().out
    ds = load_dataset(str(folder), "traces", cache_dir=str(tmp_path / "hf"))
    assert list(ds) == ["train"] and ds["train"]["answer_index"] == [1]
    assert (
        "Rows: train 1, validation 0 (a split without a kept trace is not in the config)"
        in (folder / "README.md").read_text()
    )
