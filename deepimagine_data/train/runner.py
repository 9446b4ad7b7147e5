"""What ``deepimagine train sft|grpo`` share: the settings of a run and its record, ``deepimagine_run.json``.

:func:`plan_run` merges package defaults, the recipe and the command line (in that order), resolves the dataset and
checks its version before any model is loaded, so a wrong ``--revision`` or config fails in a second. The record,
written into the output folder before training and completed after it, holds the resolved dataset (source, configs,
version, card fingerprint, row counts), the model, every TRL/LoRA setting, the recipe and the package versions.

>>> plan = plan_run("sft", {"model": "runs/tiny", "max_steps": 2, "limit": 16})  # doctest: +SKIP
>>> plan.source.version, plan.trainer["max_steps"]  # doctest: +SKIP
('0.1.0', 2)

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from . import data as tdata
from . import recipe as trecipe

RUN_FILE = "deepimagine_run.json"
# command-line option -> peft.LoraConfig field
LORA_FLAGS = {
    "lora_r": "r",
    "lora_alpha": "lora_alpha",
    "lora_dropout": "lora_dropout",
    "lora_target_modules": "target_modules",
}


@dataclass
class RunPlan:
    mode: str  # "sft" or "grpo"
    model: str
    source: tdata.DatasetSource
    configs: list[str]
    run: dict[str, Any]  # format, eval, limit, max_prompt_length, reward, ...
    lora: dict[str, Any]
    trainer: dict[str, Any]  # TRL config fields, after cpu_safe
    output_dir: Path
    recipe: dict[str, Any] | None = None
    recipe_file: str | None = None
    cpu_changes: list[str] = field(default_factory=list)
    command_line: dict[str, Any] = field(default_factory=dict)


def default_output_dir(mode: str) -> Path:
    return Path("runs") / f"{mode}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def plan_run(mode: str, cli: dict[str, Any], *, cuda: bool | None = None) -> RunPlan:
    """Merge defaults < recipe < ``cli`` (only the options the user gave, None = not given) into a :class:`RunPlan`.

    ``cli`` keys: ``recipe``, the run keys of :data:`~deepimagine_data.train.recipe.RUN_KEYS`, ``lora_*``, ``set``
    (a list of ``KEY=VALUE`` TRL overrides) and TRL field names (``max_steps``, ``learning_rate``, ...).
    """
    given = {k: v for k, v in cli.items() if v is not None}
    recipe: dict[str, Any] = {}
    recipe_file = None
    if given.get("recipe"):
        recipe = trecipe.load_recipe(given["recipe"])
        recipe_file = str(given["recipe"])
    r_run, r_lora, r_trainer = trecipe.split_recipe(recipe, mode, where=f"recipe {recipe_file}")

    run = {**trecipe.RUN_DEFAULTS[mode], **r_run}
    lora = dict(r_lora)
    trainer = {**trecipe.TRAINER_DEFAULTS[mode], **r_trainer}

    for key in trecipe.RUN_KEYS:
        if key in given:
            run[key] = given[key]
    for flag, key in LORA_FLAGS.items():
        if flag in given:
            lora[key] = given[flag]
    fields = trecipe.config_fields(mode)
    for key, value in given.items():
        if key in fields:
            trainer[key] = value
    overrides = trecipe.parse_set(given.get("set"))
    bad = [k for k in overrides if k not in fields]
    if bad:
        raise trecipe.RecipeError(f"--set {', '.join(bad)}: not a field of trl.{trecipe.config_class(mode).__name__}")
    trainer.update(overrides)
    if mode == "grpo" and "max_length" in given:
        # GRPOConfig has no prompt limit (TRL 1.16 does not truncate prompts): --max-length leaves long ones out
        run["max_prompt_length"] = given["max_length"]

    model = run.pop("model", None)
    if not model:
        raise trecipe.RecipeError("no model: pass --model PATH (or set `model:` in the recipe)")
    if adapter_base(str(model)) is not None:
        # an adapter folder is trained further as it is: its own rank and targets apply, not ours
        saved = json.loads((Path(str(model)) / "adapter_config.json").read_text(encoding="utf-8"))
        lora = {k: saved.get(k) for k in ("r", "lora_alpha", "lora_dropout", "target_modules")}
        lora["continued_adapter"] = str(Path(str(model)).resolve())
    if run["format"] not in tdata.FORMATS:
        raise tdata.TrainDataError(f"--format must be one of {', '.join(tdata.FORMATS)}, got {run['format']!r}")
    out = Path(given.get("output_dir") or trainer.get("output_dir") or default_output_dir(mode))
    trainer["output_dir"] = str(out)
    trainer, changes = trecipe.cpu_safe(trainer, cuda)

    source = tdata.resolve_source(str(run["dataset"]), run.get("hub_dir"), run.get("revision"))
    configs = tdata.parse_configs(run.get("configs")) or tdata.default_configs(source, mode)
    for cfg in configs:  # fail before loading a model, naming the config
        if cfg not in source.splits:
            raise tdata.TrainDataError(
                f"dataset {source.dataset}: config {cfg!r} not in its card (configs: {', '.join(source.configs)})"
            )
    return RunPlan(
        mode=mode,
        model=str(model),
        source=source,
        configs=configs,
        run=run,
        lora=lora,
        trainer=trainer,
        output_dir=out,
        recipe=recipe or None,
        recipe_file=recipe_file,
        cpu_changes=changes,
        command_line={k: v for k, v in given.items() if k != "func"},
    )


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"deepimagine-data": __version__, "python": platform.python_version()}
    for dist in ("trl", "peft", "transformers", "torch", "datasets", "accelerate", "vllm"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def load_tokenizer(auto: Any, model: str, **kwargs: Any) -> Any:
    """``auto.from_pretrained(model)``; a model that is neither a folder nor reachable on the hub is one clear line."""
    try:
        return auto.from_pretrained(model, **kwargs)
    except OSError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise trecipe.RecipeError(f"--model {model}: cannot load its tokenizer ({first})") from None


def adapter_base(model: str) -> str | None:
    """The base model of a LoRA adapter folder (a previous run's output), or None when ``model`` is a full model."""
    cfg = Path(model) / "adapter_config.json"
    if not cfg.is_file():
        return None
    base = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise trecipe.RecipeError(f"--model {model}: adapter_config.json names no base_model_name_or_path")
    return str(base)


def load_model(plan: RunPlan) -> tuple[Any, Any]:
    """``(model, peft_config)`` for the TRL trainer: a model path and a new LoRA, or an adapter folder continued.

    Chaining ``train sft`` -> ``train grpo --model runs/sft`` is the DeepImagine recipe. The SFT adapter is loaded
    trainable on its base and GRPO goes on training it (``peft_config`` None), so the result is again one adapter
    over the base model, usable as is (``peft=`` in lm-eval, vLLM's LoRA); merging it first and adding a second
    adapter would leave an adapter that only fits a merged model nobody saved. The base is loaded with TRL's own
    loader (architecture from the config, as the SFT run did), so a VLM such as Qwen3.5 keeps the module names the
    adapter was trained with.
    """
    from . import recipe as trecipe

    base = adapter_base(plan.model)
    if base is None:
        return plan.model, trecipe.build_lora_config(plan.lora)
    from peft import PeftModel
    from trl.trainer.utils import create_model_from_path

    kwargs = dict(plan.trainer.get("model_init_kwargs") or {})
    model = create_model_from_path(base, **kwargs)
    return PeftModel.from_pretrained(model, plan.model, is_trainable=True), None


def _model_record(model: str) -> dict[str, Any]:
    p = Path(model)
    return {
        "argument": model,
        "path": str(p.resolve()) if p.exists() else None,
        "hub_id": None if p.exists() else model,
        "adapter_of": adapter_base(model) if p.exists() else None,  # an adapter folder, trained further on this base
    }


def run_record(plan: RunPlan, **extra: Any) -> dict[str, Any]:
    """The JSON-ready record of a run (see the module docstring)."""
    return {
        "deepimagine_run": 1,
        "mode": plan.mode,
        "package_version": __version__,
        "versions": _versions(),
        "dataset": {
            **plan.source.record(),
            "configs": plan.configs,
            "train_split": "train",
            "eval_split": "validation" if plan.run.get("eval") else None,
        },
        "model": _model_record(plan.model),
        "run": plan.run,
        "lora": plan.lora if "continued_adapter" in plan.lora else {**trecipe.LORA_DEFAULTS, **plan.lora},
        "training_args": plan.trainer,
        "cpu_changes": plan.cpu_changes,
        "recipe_file": plan.recipe_file,
        "recipe": plan.recipe,
        "command_line": plan.command_line,
        **extra,
    }


def write_record(plan: RunPlan, record: dict[str, Any]) -> Path:
    from ..fsutil import atomic_write_bytes

    plan.output_dir.mkdir(parents=True, exist_ok=True)
    path = plan.output_dir / RUN_FILE
    atomic_write_bytes(path, (json.dumps(record, indent=1, default=str, sort_keys=False) + "\n").encode("utf-8"))
    return path


def mark_failed(plan: RunPlan, error: BaseException) -> None:
    """Set ``status: failed`` and the error in an existing run record (nothing to do before one was written)."""
    path = plan.output_dir / RUN_FILE
    if not path.is_file():
        return
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return
    record.update(status="failed", failed=now(), error=f"{type(error).__name__}: {error}")
    write_record(plan, record)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def banner(plan: RunPlan) -> str:
    """One line saying what a run trains on: dataset, source, version, fingerprint, configs, model, device."""
    src = plan.source
    cont = "continued_adapter" in plan.lora
    return (
        f"{src.dataset} ({src.kind} {src.location}, version {src.version}, "
        f"fingerprint {(src.fingerprint or '-')[:16]}) configs {', '.join(plan.configs)}; "
        f"model {plan.model}"
        + (f" (a LoRA adapter over {adapter_base(plan.model)}: trained further, its own r/targets)" if cont else "")
        + f"; device {device_name()}"
    )


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({os.cpu_count()} cores)"


def token_lengths(tokenizer: Any, prompts: list[Any], completions: list[Any] | None = None) -> list[int]:
    """Tokens per example as TRL will see them: chat template for conversations, + EOS after a completion."""
    conversational = bool(prompts) and isinstance(prompts[0], list)
    if conversational:
        if completions is None:
            texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
        else:
            pairs = zip(prompts, completions, strict=True)
            texts = [tokenizer.apply_chat_template(p + c, tokenize=False) for p, c in pairs]
        enc = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(x) for x in enc]
    lengths = [len(x) for x in tokenizer(list(prompts))["input_ids"]]
    if completions is not None:
        comp = tokenizer(list(completions), add_special_tokens=False)["input_ids"]
        lengths = [a + len(b) + 1 for a, b in zip(lengths, comp, strict=True)]
    return lengths


def keep_short(dataset: Any, lengths: list[int], max_tokens: int | None) -> tuple[Any, int]:
    """``dataset`` without the rows longer than ``max_tokens`` (None: all kept), and how many went."""
    if not max_tokens:
        return dataset, 0
    keep = [i for i, n in enumerate(lengths) if n <= max_tokens]
    return (dataset.select(keep) if len(keep) < len(lengths) else dataset), len(lengths) - len(keep)


def trainer_summary(trainer: Any, train_output: Any) -> dict[str, Any]:
    state = trainer.state
    return {
        "global_step": state.global_step,
        "epoch": state.epoch,
        "train_metrics": dict(getattr(train_output, "metrics", {}) or {}),
        "last_log": state.log_history[-1] if state.log_history else None,
    }


def saved_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_file())


def train_and_save(plan: RunPlan, trainer: Any, tokenizer: Any, evaluate: bool) -> dict[str, Any]:
    """Train, save the adapter, tokenizer and ``trainer_state.json`` to the output folder; the run's summary (with
    ``eval_metrics`` when ``evaluate``). The same for SFT and GRPO, so both leave the same files behind."""
    output = trainer.train()
    trainer.save_model(str(plan.output_dir))  # the adapter (adapter_config.json, adapter_model.safetensors)
    tokenizer.save_pretrained(str(plan.output_dir))
    trainer.save_state()  # trainer_state.json: global step and the log history
    summary = trainer_summary(trainer, output)
    if evaluate:
        summary["eval_metrics"] = trainer.evaluate()
    return summary


def finish_record(plan: RunPlan, record: dict[str, Any], summary: dict[str, Any], started: float) -> Path:
    """Mark ``record`` finished with the summary, the time since ``started`` (perf_counter) and the saved files."""
    import time

    record.update(
        status="finished",
        finished=now(),
        seconds=round(time.perf_counter() - started, 1),
        result=summary,
        files=saved_files(plan.output_dir),
    )
    return write_record(plan, record)
