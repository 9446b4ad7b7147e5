"""Training settings: package defaults < a recipe YAML < command-line flags, checked against TRL's own configs.

A recipe is a flat YAML mapping, like TRL's own ``--config`` files. Its keys are

- run keys: ``model``, ``dataset``, ``revision``, ``hub_dir``, ``configs``, ``format``, ``eval``, ``limit``,
  ``max_prompt_length`` (GRPO: longer prompts are left out) and ``reward`` (GRPO: ``accuracy`` or ``brier``);
- ``lora:``, a mapping of ``peft.LoraConfig`` fields (``r``, ``lora_alpha``, ``lora_dropout``, ``target_modules``);
- every other key must be a field of ``trl.SFTConfig`` (``train sft``) or ``trl.GRPOConfig`` (``train grpo``):
  an unknown key is an error naming it, so a typo never silently falls back to a default.

On a machine without CUDA, :func:`cpu_safe` turns the GPU-only settings off (``bf16``, ``use_vllm``, flash attention,
8-bit optimizers) and says which, so a GPU recipe still runs a smoke test on a laptop.

>>> recipe = load_recipe(recipe_path("sft-9b.yaml"))  # doctest: +SKIP
>>> run, lora, trainer = split_recipe(recipe, "sft")  # doctest: +SKIP
>>> build_trl_config("sft", cpu_safe(trainer)[0] | {"output_dir": "runs/x"}).bf16  # doctest: +SKIP
False

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

RUN_KEYS = frozenset(
    {
        "model",
        "dataset",
        "revision",
        "hub_dir",
        "configs",
        "format",
        "eval",
        "limit",
        "max_prompt_length",
        "reward",
        "targets",
    }
)
LORA_KEY = "lora"

# LoRA as in most TRL recipes for 7-9B models: r=16 / alpha=32 doubles the adapter's scale relative to r, and
# "all-linear" adapts every projection (attention and MLP) but the output head, which works for any Llama-like model.
LORA_DEFAULTS: dict[str, Any] = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear"}

# Where the package's defaults differ from TRL's: LoRA trains far fewer weights than TRL's full-model defaults assume,
# so it takes a higher learning rate; one log line per step so short runs show their loss and rewards; no trackers.
TRAINER_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {"learning_rate": 1e-4, "logging_steps": 1, "max_length": 4096, "report_to": "none"},
    "grpo": {"learning_rate": 1e-5, "logging_steps": 1, "report_to": "none"},
}
RUN_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {"dataset": "deepimagine/pairs", "hub_dir": "hub", "format": "text", "eval": False},
    "grpo": {
        "dataset": "deepimagine/pairs",
        "hub_dir": "hub",
        "format": "text",
        "eval": False,
        "max_prompt_length": 4096,
        "reward": "accuracy",
    },
}

_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class RecipeError(ValueError):
    """A recipe or setting TRL or peft would not accept; the message names the file and key."""


def recipe_path(name: str) -> Path:
    """A recipe shipped with the package (``sft-9b.yaml``, ``grpo-9b-vllm.yaml``)."""
    return Path(str(resources.files("deepimagine_data.train") / "recipes" / name))


def shipped_recipes() -> list[Path]:
    return sorted(Path(str(resources.files("deepimagine_data.train") / "recipes")).glob("*.yaml"))


def load_recipe(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        # a bare name finds a shipped recipe: --recipe sft-9b.yaml
        shipped = recipe_path(p.name)
        if p.parent == Path(".") and shipped.is_file():
            p = shipped
        else:
            raise RecipeError(f"recipe {path}: no such file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise RecipeError(f"recipe {p}: not valid YAML: {str(e).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {p}: expected a mapping of settings, got {type(data).__name__}")
    return data


def config_class(mode: str) -> type:
    import trl

    if mode == "sft":
        return trl.SFTConfig
    if mode == "grpo":
        return trl.GRPOConfig
    raise ValueError(f"mode must be sft or grpo, got {mode!r}")


def config_fields(mode: str) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(config_class(mode)) if f.init}


def split_recipe(
    recipe: dict[str, Any], mode: str, where: str = "recipe"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(run keys, LoRA keys, TRL config keys) of a recipe; an unknown key raises :class:`RecipeError`."""
    fields = config_fields(mode)
    run: dict[str, Any] = {}
    lora: dict[str, Any] = {}
    trainer: dict[str, Any] = {}
    unknown = []
    for key, value in recipe.items():
        if key in RUN_KEYS:
            run[key] = value
        elif key == LORA_KEY:
            if not isinstance(value, dict):
                raise RecipeError(f"{where}: `lora:` must be a mapping of peft.LoraConfig fields")
            lora = dict(value)
        elif key in fields:
            trainer[key] = value
        else:
            unknown.append(key)
    if unknown:
        cls = config_class(mode).__name__
        raise RecipeError(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))}: not a run key ({', '.join(sorted(RUN_KEYS))}), "
            f"not `lora`, not a field of trl.{cls}"
        )
    if mode == "sft" and ("max_prompt_length" in run or "reward" in run):
        raise RecipeError(f"{where}: max_prompt_length and reward are GRPO settings, not SFT ones")
    return run, lora, trainer


def _accepts(tp: Any, target: type) -> bool:
    if tp is target:
        return True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, target) for a in typing.get_args(tp))
    return False


def coerce(mode: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads ``1e-5`` as a string: turn numeric strings into numbers where the TRL field is a number."""
    hints = typing.get_type_hints(config_class(mode))
    out = dict(kwargs)
    for key, value in kwargs.items():
        if isinstance(value, str) and _FLOAT.match(value.strip()):
            tp = hints.get(key)
            if _accepts(tp, float):
                out[key] = float(value)
            elif _accepts(tp, int) and float(value).is_integer():
                out[key] = int(float(value))
    return out


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """``["logging_steps=5", "bf16=false"]`` -> ``{"logging_steps": 5, "bf16": False}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return out


def cpu_safe(trainer: dict[str, Any], cuda: bool | None = None) -> tuple[dict[str, Any], list[str]]:
    """``trainer`` with GPU-only settings turned off when there is no CUDA device, and what was changed."""
    if cuda is None:
        import torch

        cuda = torch.cuda.is_available()
    if cuda:
        return dict(trainer), []
    out = dict(trainer)
    changed: list[str] = []

    def setv(key: str, value: Any) -> None:
        if out.get(key) != value:
            if key in trainer:
                changed.append(f"{key}: {trainer[key]!r} -> {value!r}")
            out[key] = value

    setv("use_cpu", True)
    # TrainingArguments refuses bf16/fp16 on a CPU-only run and tf32 without an Ampere GPU
    setv("bf16", False)
    setv("fp16", False)
    if "tf32" in out:
        setv("tf32", False)
    if out.get("use_vllm"):
        setv("use_vllm", False)  # generation falls back to transformers' generate()
    optim = str(out.get("optim", ""))
    if "8bit" in optim or "paged" in optim or "bnb" in optim:
        setv("optim", "adamw_torch")
    mik = dict(out.get("model_init_kwargs") or {})
    if mik:
        new = dict(mik)
        if str(new.get("dtype", new.get("torch_dtype", ""))).removeprefix("torch.") in ("bfloat16", "float16"):
            new.pop("torch_dtype", None)
            new["dtype"] = "float32"
        if "flash" in str(new.get("attn_implementation", "")):
            new["attn_implementation"] = "sdpa"
        new.pop("device_map", None)
        if new != mik:
            changed.append(f"model_init_kwargs: {mik!r} -> {new!r}")
            out["model_init_kwargs"] = new
    return out, changed


def build_trl_config(mode: str, trainer: dict[str, Any]) -> Any:
    """``trl.SFTConfig`` / ``trl.GRPOConfig`` from ``trainer``; a wrong key or value raises :class:`RecipeError`."""
    cls = config_class(mode)
    fields = config_fields(mode)
    unknown = [k for k in trainer if k not in fields]
    if unknown:
        raise RecipeError(f"trl.{cls.__name__} has no field(s) {', '.join(unknown)}")
    try:
        return cls(**coerce(mode, trainer))
    except (TypeError, ValueError) as e:
        raise RecipeError(f"trl.{cls.__name__}: {e}") from None


def build_lora_config(lora: dict[str, Any]) -> Any:
    """``peft.LoraConfig`` for a causal LM from :data:`LORA_DEFAULTS` updated with ``lora``."""
    from peft import LoraConfig

    settings = {**LORA_DEFAULTS, **lora}
    settings.setdefault("task_type", "CAUSAL_LM")
    try:
        return LoraConfig(**settings)
    except (TypeError, ValueError) as e:
        raise RecipeError(f"peft.LoraConfig: {e}") from None
