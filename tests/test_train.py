"""`deepimagine train sft|grpo` end to end on CPU: a hub folder built by the package's own builders, the tiny Llama.

The hub is built once per module by the real builders with the default options (strict configs, approx,
pathways); in the full suite the pipeline's per-process cache makes that a few seconds, since test_approx has built
the same tables. SFT runs on the default strict configs, GRPO on the default `approx` starting from the SFT adapter;
a folder without approx is refused with a clear error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

pytest.importorskip("trl")
pytest.importorskip("peft")

from deepimagine_data.cli import main  # noqa: E402
from deepimagine_data.train import data as tdata  # noqa: E402
from deepimagine_data.train import recipe as trecipe  # noqa: E402
from deepimagine_data.train import reward as treward  # noqa: E402
from deepimagine_data.train import runner  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Path:
    """A hub root holding deepimagine/pairs as `deepimagine build` writes it (strict configs, approx, pathways).

    The pipeline caches its tables per process, so in the full suite this reuses test_approx's build (alone, the
    first build embeds the trial texts or reads them from the embedding cache)."""
    from deepimagine_data.builders import pairs

    from deepimagine_data import pipeline

    root = tmp_path_factory.mktemp("hub")
    pairs.write(root, pipeline.default_options())
    return root


def _card(hub: Path) -> tuple[str | None, str | None]:
    _, version, fingerprint = tdata.parse_card((hub / "deepimagine/pairs/README.md").read_text("utf-8"), "test")
    return version, fingerprint


def _train_rows(hub: Path, config: str, n: int) -> list[dict]:
    files = sorted((hub / "deepimagine/pairs" / config).glob("train-*.parquet"))
    table = pa.concat_tables([pq.read_table(f, columns=["pair_id", "options", "answer_index"]) for f in files])
    return table.slice(0, n).to_pylist()


@pytest.fixture(scope="module")
def sft_run(hub, tiny_model, tmp_path_factory) -> tuple[Path, int]:
    """The SFT smoke run through the real CLI entry: its output folder and exit code."""
    out = tmp_path_factory.mktemp("runs") / "sft"
    argv = ["train", "sft", "--model", str(tiny_model), "--hub-dir", str(hub), "--revision", "v0.3.0"]
    argv += ["--max-steps", "2", "--limit", "16", "--max-length", "1536", "--output-dir", str(out)]
    return out, main(argv)


def test_sft_smoke(sft_run, hub, tiny_model):
    out, code = sft_run
    assert code == 0

    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "trainer_state.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 16

    run = json.loads((out / runner.RUN_FILE).read_text())
    version, fingerprint = _card(hub)
    assert run["status"] == "finished" and run["mode"] == "sft"
    ds = run["dataset"]
    assert ds["dataset"] == "deepimagine/pairs" and ds["kind"] == "folder"
    assert ds["location"] == str((hub / "deepimagine/pairs").resolve())
    assert ds["revision"] == "v0.3.0" and ds["version"] == version == "0.3.0"
    assert ds["fingerprint"] == fingerprint and len(fingerprint) == 64
    assert ds["configs"] == ["strict_arm", "strict_dose", "strict_outcome"]
    assert run["rows"]["train"]["rows"] + run["rows"]["train"]["dropped_too_long"] == 16
    assert run["rows"]["train"]["target_rules"] == {"smooth:0.2": 16}  # the rule the model was trained with
    assert run["model"]["path"] == str(Path(tiny_model).resolve())
    assert run["training_args"]["max_steps"] == 2 and run["training_args"]["use_cpu"] is True
    assert run["lora"] == {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear"}
    assert run["package_version"] and run["versions"]["trl"]
    assert run["result"]["global_step"] == 2


def test_trained_adapter_evaluates_with_lm_eval(sft_run, hub, tiny_model, tmp_path):
    """train -> evaluate: lm-eval's hf model loads the adapter (peft=) and scores the held-out pairs task."""
    pytest.importorskip("lm_eval")
    import os

    from deepimagine_data.benchmark import utils

    env = {k: v for k, v in os.environ.items() if k != utils.ENV_HUB}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    out = tmp_path / "eval"
    cmd = [
        str(Path(sys.executable).parent / "lm_eval"),
        "--model", "hf",
        "--model_args", f"pretrained={tiny_model},peft={sft_run[0]},dtype=float32",
        "--device", "cpu", "--batch_size", "4",
        "--include_path", str(Path(utils.__file__).parent),
        "--tasks", "deepimagine_pairs_ll",
        "--metadata", json.dumps({"hub_dir": str(hub)}),
        "--limit", "4", "--output_path", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (results,) = out.glob("*/results_*.json")
    doc = json.loads(results.read_text())
    assert doc["config"]["model_args"]["peft"] == str(sft_run[0])
    assert 0.0 <= doc["results"]["deepimagine_pairs_ll"]["balanced_accuracy,none"] <= 1.0


def test_grpo_smoke_rewards_get_the_references(sft_run, hub, tiny_model, tmp_path, monkeypatch, capsys):
    """GRPO from the SFT adapter (the DeepImagine chain): the adapter is trained further, rewards see references."""
    seen: list[dict] = []
    original = treward.decision_reward

    def decision_reward(prompts, completions, reference_index, n_options, **kw):  # same name: TRL logs by __name__
        seen.append({"reference_index": list(reference_index), "n_options": list(n_options), "keys": set(kw)})
        return original(prompts, completions, reference_index, n_options, **kw)

    monkeypatch.setattr(treward, "decision_reward", decision_reward)
    out = tmp_path / "grpo"
    argv = ["train", "grpo", "--model", str(sft_run[0]), "--hub-dir", str(hub)]  # default config: approx
    argv += ["--max-steps", "2", "--num-generations", "2", "--limit", "8", "--max-completion-length", "16"]
    argv += ["--output-dir", str(out)]
    assert main(argv) == 0
    assert "grpo: 2 steps" in capsys.readouterr().out

    assert (out / "adapter_model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    logged = [h for h in state["log_history"] if "rewards/decision_reward/mean" in h]
    assert [h["step"] for h in logged] == [1, 2]
    assert all("rewards/format_reward/mean" in h for h in logged)

    # TRL called the reward with the references of exactly the rows trained on, each repeated per generation
    rows = _train_rows(hub, "approx", 8)
    assert len(seen) == 2
    got_refs = sorted(r for call in seen for r in call["reference_index"])
    assert got_refs == sorted(r["answer_index"] for r in rows for _ in range(2))
    got_sizes = sorted(n for call in seen for n in call["n_options"])
    assert got_sizes == sorted(len(r["options"]) for r in rows for _ in range(2))
    assert "completion" not in seen[0]["keys"] and "answer_index" not in seen[0]["keys"]

    run = json.loads((out / runner.RUN_FILE).read_text())
    assert run["dataset"]["configs"] == ["approx"] and run["dataset"]["version"] == "0.3.0"
    assert run["rewards"] == {"decision_reward": 1.0, "format_reward": treward.FORMAT_WEIGHT}
    assert run["training_args"]["num_generations"] == 2
    assert run["model"]["adapter_of"] == str(tiny_model) and run["lora"]["continued_adapter"] == str(sft_run[0])
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tiny_model)  # one adapter over the base, usable as is


def test_sft_messages_format_with_eval(hub, tiny_model, tmp_path):
    """--format messages: conversational prompt/completion through the chat template; --eval on validation."""
    out = tmp_path / "sft-messages"
    argv = ["train", "sft", "--model", str(tiny_model), "--hub-dir", str(hub), "--config", "strict_dose"]
    argv += ["--format", "messages", "--eval", "--max-steps", "1", "--limit", "4", "--batch-size", "4"]
    argv += [
        "--max-length",
        "2048",
        "--lora-r",
        "4",
        "--lora-target-modules",
        "q_proj,v_proj",
        "--output-dir",
        str(out),
    ]
    assert main(argv) == 0
    run = json.loads((out / runner.RUN_FILE).read_text())
    assert run["run"]["format"] == "messages" and run["dataset"]["eval_split"] == "validation"
    assert run["rows"]["validation"]["rows"] <= 4 and "eval_loss" in run["result"]["eval_metrics"]
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and sorted(adapter["target_modules"]) == ["q_proj", "v_proj"]


def test_wrong_revision_is_refused(hub, tiny_model, tmp_path, capsys):
    out = tmp_path / "never"
    argv = ["train", "sft", "--model", str(tiny_model), "--hub-dir", str(hub), "--output-dir", str(out)]
    assert main([*argv, "--revision", "v0.1.0"]) == 2
    err = capsys.readouterr().err
    assert "--revision v0.1.0 asked, but the card says Version 0.3.0" in err and "deepimagine/pairs" in err
    assert main([*argv, "--revision", "main"]) == 2
    assert "local folder has none" in capsys.readouterr().err
    assert not out.exists()  # refused before anything was written


def test_grpo_default_config_is_approx(hub, tiny_model, tmp_path, capsys):
    # a pairs folder built with --no-approx: the default config is asked for by name and refused clearly
    folder = tmp_path / "pairs"
    shutil.copytree(hub / "deepimagine/pairs", folder)
    text = (folder / "README.md").read_text("utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    meta["configs"] = [c for c in meta["configs"] if c["config_name"] not in ("approx", "pathways")]
    (folder / "README.md").write_text(f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}", "utf-8")
    argv = ["train", "grpo", "--model", str(tiny_model), "--dataset", str(folder), "--output-dir", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "config 'approx' not in its card" in capsys.readouterr().err


def test_bad_input_names_dataset_config_and_field(hub, tmp_path):
    src = tdata.resolve_source("deepimagine/pairs", hub, None)
    with pytest.raises(tdata.TrainDataError, match=r"deepimagine/pairs: config 'nope' not in its card"):
        tdata.sft_dataset(src, ["nope"])
    with pytest.raises(tdata.TrainDataError, match=r"config strict_arm: no split 'dev'"):
        tdata.sft_dataset(src, ["strict_arm"], "dev")
    folder = _with_extra_config(hub, tmp_path, "broken", [{"pair_id": "p1", "prompt": "q", "answer_index": 0}])
    src = tdata.resolve_source(str(folder), None, "0.3.0")
    with pytest.raises(tdata.TrainDataError, match=r"config broken, split train: missing field\(s\) completion"):
        tdata.sft_dataset(src, ["broken"])
    with pytest.raises(tdata.TrainDataError, match=r"config broken, split train: missing field\(s\) options"):
        tdata.grpo_dataset(src, ["broken"])
    with pytest.raises(tdata.TrainDataError, match="not a folder .* and not a hub repo id"):
        tdata.resolve_source("no such folder", tmp_path, None)


def _with_extra_config(hub: Path, tmp_path: Path, name: str, rows: list[dict]) -> Path:
    """A copy of the built pairs folder with one more config (train split only) declared in its card."""
    folder = tmp_path / "pairs"
    shutil.copytree(hub / "deepimagine/pairs", folder)
    (folder / name).mkdir()
    pq.write_table(pa.Table.from_pylist(rows), folder / name / "train-00000-of-00001.parquet")
    text = (folder / "README.md").read_text("utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    meta["configs"].append({"config_name": name, "data_files": [{"split": "train", "path": f"{name}/train-*.parquet"}]})
    (folder / "README.md").write_text(f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}", "utf-8")
    return folder


def test_traces_replace_template_rows(hub, tmp_path):
    strict = pq.read_table(sorted((hub / "deepimagine/pairs/strict_arm").glob("train-*.parquet"))[0])
    first = strict.slice(0, 3).to_pylist()
    traces = []
    for i, r in enumerate([*first, first[0]]):  # the first pair twice: only one of its traces may be kept
        text = f"Trace {i}: the anchor's effect carries over to the target.\n\nDECISION: (0.1, 0.9)"
        traces.append(
            {
                "pair_id": r["pair_id"],
                "prompt": r["prompt"],
                "completion": text,
                "messages": [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": text}],
                "options": r["options"],
                "answer_index": r["answer_index"],
            }
        )
    folder = _with_extra_config(hub, tmp_path, "traces", traces)
    src = tdata.resolve_source(str(folder), None, "v0.3.0")
    configs = tdata.default_configs(src, "sft")
    assert configs == ["strict_arm", "strict_dose", "strict_outcome", "traces"]
    ds, stats = tdata.sft_dataset(src, configs)
    assert stats["replaced_by_trace"] == 3 and stats["duplicate_traces_dropped"] == 1
    assert stats["configs"]["traces"] == {"loaded": 3, "used": 3}
    n_strict = sum(c["loaded"] for k, c in stats["configs"].items() if k != "traces")
    assert ds.num_rows == n_strict - 3 + 3  # each traced pair once, with its trace
    assert sum(c.startswith("Trace ") for c in ds["completion"]) == 3
    assert {c for c in ds["completion"] if c.startswith("Trace ")} == {t["completion"] for t in traces[:3]}

    val, vstats = tdata.sft_dataset(src, configs, "validation")  # traces has no validation split: strict rows only
    assert vstats["configs_without_split"] == ["traces"] and val.num_rows > 0
    msgs, _ = tdata.sft_dataset(src, ["traces"], fmt="messages")
    assert msgs[0]["prompt"][-1]["role"] == "user" and msgs[0]["completion"][0]["role"] == "assistant"


def test_sft_targets_rerender_the_decision_line(hub):
    from deepimagine_data.scoring.decision import parse_decision

    src = tdata.resolve_source("deepimagine/pairs", hub, None)
    built, stats = tdata.sft_dataset(src, ["strict_arm"], limit=40)
    assert stats["target_rules"] == {"smooth:0.2": 40}
    onehot, ostats = tdata.sft_dataset(src, ["strict_arm"], limit=40, targets="onehot")
    assert ostats["target_rules"] == {"onehot": 40}
    rows = _train_rows(hub, "strict_arm", 40)
    for b, o, r in zip(built["completion"], onehot["completion"], rows, strict=True):
        n, ans = len(r["options"]), r["answer_index"]
        assert b.rpartition("DECISION:")[0] == o.rpartition("DECISION:")[0]  # only the decision line changes
        assert max(parse_decision(b, n).probabilities) == 0.8
        assert parse_decision(o, n).probabilities[ans] == 1.0
    msgs, _ = tdata.sft_dataset(src, ["strict_arm"], fmt="messages", limit=5, targets="smooth:0.3")
    assert all(
        m[0]["content"].endswith(("(0.7, 0.3)", "(0.3, 0.7)", "0.7, 0.15)", "0.15, 0.7)", "(0.15, 0.7, 0.15)"))
        for m in msgs["completion"]
    )
    with pytest.raises(tdata.TrainDataError, match="--targets: target rule 'smooth:0.6'"):
        tdata.sft_dataset(src, ["strict_arm"], limit=5, targets="smooth:0.6")


def test_grpo_columns_on_built_approx(hub):
    src = tdata.resolve_source("deepimagine/pairs", hub, None)
    ds, stats = tdata.grpo_dataset(src, tdata.default_configs(src, "grpo"), limit=20)
    assert ds.column_names == ["prompt", "reference_index", "n_options"]
    assert all(0 <= r < n for r, n in zip(ds["reference_index"], ds["n_options"], strict=True))


@pytest.mark.parametrize("path", trecipe.shipped_recipes(), ids=lambda p: p.name)
def test_recipes_build_trl_configs_on_cpu(path, tmp_path):
    mode = "grpo" if path.name.startswith("grpo") else "sft"
    run, lora, trainer = trecipe.split_recipe(trecipe.load_recipe(path), mode, str(path))  # unknown keys raise
    assert run["model"] and "/" in run["model"]
    assert trainer.get("bf16") is True
    safe, changed = trecipe.cpu_safe(trainer, cuda=False)
    assert any(c.startswith("bf16") for c in changed)
    config = trecipe.build_trl_config(mode, {**safe, "output_dir": str(tmp_path)})
    assert config.use_cpu and not config.bf16
    assert trecipe.build_lora_config(lora).r == 16
    if mode == "grpo":
        assert trainer["use_vllm"] is True and trainer["vllm_mode"] == "colocate" and not config.use_vllm
        assert list(config.reward_weights) == list(treward.reward_functions(run["reward"])[1])
    # the GPU config, too, is valid TRL (minus the CPU's refusal of bf16)
    trecipe.build_trl_config(mode, {**trainer, "bf16": False, "output_dir": str(tmp_path)})


def test_recipe_typo_and_precedence(hub, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nlearning_rat: 1.0e-4\n")
    with pytest.raises(trecipe.RecipeError, match="unknown key.*learning_rat.*trl.SFTConfig"):
        runner.plan_run("sft", {"recipe": str(bad)}, cuda=False)
    good = tmp_path / "good.yaml"
    good.write_text("model: from-recipe\nlearning_rate: 1e-3\nmax_steps: 5\nlora:\n  r: 8\n")
    plan = runner.plan_run(
        "sft",
        {"recipe": str(good), "hub_dir": str(hub), "max_steps": 3, "lora_alpha": 64, "set": ["logging_steps=7"]},
        cuda=False,
    )
    assert plan.model == "from-recipe"
    assert plan.trainer["max_steps"] == 3 and plan.trainer["logging_steps"] == 7  # flags beat the recipe
    assert trecipe.coerce("sft", plan.trainer)["learning_rate"] == 1e-3  # YAML's "1e-3" string made a float
    assert plan.lora == {"r": 8, "lora_alpha": 64}
    with pytest.raises(trecipe.RecipeError, match="--set nope"):
        runner.plan_run("sft", {"model": "m", "hub_dir": str(hub), "set": ["nope=1"]}, cuda=False)


def test_help_is_lazy_and_missing_extra_is_explained(monkeypatch, capsys):
    code = (
        "import sys; from deepimagine_data.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'trl', 'peft', 'transformers') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"
    with pytest.raises(SystemExit):
        main(["train", "grpo", "--help"])
    assert "reference_index" in capsys.readouterr().out

    from deepimagine_data.train import cli as tcli

    monkeypatch.setattr(tcli, "_missing_train_deps", lambda: ["trl", "peft"])
    assert main(["train", "sft", "--model", "m"]) == 2
    assert "pip install 'deepimagine-data[train]'" in capsys.readouterr().err
