"""``deepimagine train sft|grpo``: LoRA fine-tuning of a causal LM on deepimagine/pairs with TRL.

trl, peft and torch are imported inside the commands, so ``deepimagine --help`` stays fast and works without the
``[train]`` extra; without it a command says what to install.

>>> main(["sft", "--model", "runs/tiny-llama", "--max-steps", "2", "--limit", "16"])  # doctest: +SKIP
>>> main(["grpo", "--recipe", "grpo-9b-vllm.yaml", "--model", "runs/sft-merged"])  # doctest: +SKIP

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

TRAIN_EXTRA = "pip install 'deepimagine-data[train]'"

_COMMON_DESC = (
    "Reads the dataset --dataset (default deepimagine/pairs): the folder <--hub-dir>/<dataset> (default ./hub, as "
    "`deepimagine build` writes it), else that folder, else the Hugging Face hub at --revision. A local folder's "
    "card must state the version --revision names (v0.2.0 matches `deepimagine: {{version: 0.2.0}}` in the card's "
    "YAML). Writes to --output-dir "
    "(default runs/{mode}-<timestamp>): the LoRA adapter (adapter_config.json, adapter_model.safetensors), the "
    "tokenizer, trainer_state.json and deepimagine_run.json (dataset, configs, version, card fingerprint, row "
    "counts, model, every training setting, package versions). Settings: package defaults < --recipe YAML < flags. "
    "Without CUDA, bf16/vLLM/flash attention are turned off and the run uses the CPU."
)


def _missing_train_deps() -> list[str]:
    return [m for m in ("torch", "trl", "peft") if importlib.util.find_spec(m) is None]


def _common(p: argparse.ArgumentParser, mode: str) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=None, help="hub repo id or folder (default deepimagine/pairs)")
    g.add_argument("--hub-dir", type=Path, default=None, help="local hub root searched first (default ./hub)")
    g.add_argument(
        "--revision",
        default=None,
        help="hub: branch, tag or commit passed to load_dataset; local folder: must equal the card's version",
    )
    g.add_argument(
        "--config",
        dest="configs",
        action="append",
        default=None,
        help="config(s), comma-separated or repeated (default: "
        + ("strict_arm,strict_dose,strict_outcome, plus traces when the card has it)" if mode == "sft" else "approx)"),
    )
    g.add_argument(
        "--format",
        choices=("text", "messages"),
        default=None,
        help="text: prompt/completion strings (default); messages: the conversation, with the model's chat template",
    )
    g.add_argument("--limit", type=int, default=None, help="use the first N training (and validation) rows")
    g.add_argument("--eval", action="store_true", default=None, help="also evaluate on the validation split")
    m = p.add_argument_group("model and training")
    m.add_argument("--model", default=None, help="base model: a folder or hub id (required unless the recipe sets it)")
    m.add_argument("--recipe", default=None, help="YAML of TRL config fields, `lora:` and run keys (see recipes/)")
    m.add_argument("--output-dir", default=None, help=f"where to write (default runs/{mode}-<timestamp>)")
    m.add_argument("--max-steps", type=int, default=None, help="stop after N optimizer steps")
    m.add_argument("--learning-rate", type=float, default=None)
    m.add_argument("--seed", type=int, default=None)
    m.add_argument("--batch-size", dest="per_device_train_batch_size", type=int, default=None)
    m.add_argument("--grad-accum", dest="gradient_accumulation_steps", type=int, default=None)
    m.add_argument(
        "--max-length",
        type=int,
        default=None,
        help=(
            "longest prompt+completion in tokens (default 4096); longer examples are left out, not truncated"
            if mode == "sft"
            else "longest prompt in tokens (default 4096); longer prompts are left out"
        ),
    )
    m.add_argument(
        "--set",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help=f"any trl.{'SFTConfig' if mode == 'sft' else 'GRPOConfig'} field, value read as YAML; repeatable",
    )
    lo = p.add_argument_group("LoRA (defaults r=16, alpha=32, dropout 0.05, all-linear)")
    lo.add_argument("--lora-r", type=int, default=None)
    lo.add_argument("--lora-alpha", type=int, default=None)
    lo.add_argument("--lora-dropout", type=float, default=None)
    lo.add_argument(
        "--lora-target-modules",
        default=None,
        help="all-linear or a comma-separated list of module names (q_proj,k_proj,v_proj,o_proj)",
    )


def _cli_settings(args: argparse.Namespace) -> dict:
    out = {k: v for k, v in vars(args).items() if k not in ("func", "command", "train_command")}
    tm = out.get("lora_target_modules")
    if tm and tm != "all-linear":
        out["lora_target_modules"] = [x.strip() for x in tm.split(",") if x.strip()]
    if out.get("hub_dir") is not None:
        out["hub_dir"] = str(out["hub_dir"])
    return out


def _run(mode: str):
    def run(args: argparse.Namespace) -> int:
        missing = _missing_train_deps()
        if missing:
            print(
                f"error: training needs the [train] extra ({', '.join(missing)} missing): {TRAIN_EXTRA}",
                file=sys.stderr,
            )
            return 2
        from . import data, recipe, runner

        try:
            plan = runner.plan_run(mode, _cli_settings(args))
            if mode == "sft":
                from . import sft as module
            else:
                from . import grpo as module
            try:
                module.train(plan)
            except BaseException as e:  # a record left saying "training" would lie about a dead run
                runner.mark_failed(plan, e)
                raise
        except (data.TrainDataError, recipe.RecipeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0

    return run


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = subparsers.add_parser(
        "train",
        help="fine-tune a model on deepimagine/pairs (SFT or GRPO, LoRA; the [train] extra)",
        description="LoRA fine-tuning with TRL on deepimagine/pairs: `train sft` on the strict pairs (and traces), "
        "`train grpo` on the approximate pairs with a reward for the right DECISION line. Needs the [train] extra: "
        f"{TRAIN_EXTRA}. GPU recipes ship in the package: --recipe sft-9b.yaml, --recipe grpo-9b-vllm.yaml.",
    )
    tsub = t.add_subparsers(dest="train_command", required=True)
    s = tsub.add_parser(
        "sft",
        help="supervised fine-tuning on strict pairs (+ traces)",
        description="Supervised fine-tuning (trl.SFTTrainer, LoRA) on the train split of deepimagine/pairs configs "
        "strict_arm, strict_dose, strict_outcome and, when present, traces (a verified trace replaces the template "
        "answer of its pair; a pair is never trained twice). Loss on the completion only. "
        + _COMMON_DESC.format(mode="sft"),
    )
    _common(s, "sft")
    s.add_argument(
        "--targets",
        default=None,
        help="decision-line probabilities of the template completions: smooth:EPS (1-EPS on the known answer) or "
        "onehot (default: as built, the dataset's target_rule column, smooth:0.2 by default)",
    )
    s.set_defaults(func=_run("sft"))
    g = tsub.add_parser(
        "grpo",
        help="GRPO on approximate pairs, rewarded by the decision line",
        description="GRPO (trl.GRPOTrainer, LoRA) on the train split of deepimagine/pairs config approx: each "
        "prompt is sampled --num-generations times and rewarded 1.0 when the DECISION line's unique top "
        "probability is on the known answer (decision_reward; --reward brier for 1 - Brier/2) plus 0.1 for a line "
        "CT Open's reader accepts (format_reward). The dataset's answer_index and options travel as the columns "
        "reference_index and n_options. " + _COMMON_DESC.format(mode="grpo"),
    )
    _common(g, "grpo")
    g.add_argument("--num-generations", type=int, default=None, help="completions per prompt (TRL default 8)")
    g.add_argument("--max-completion-length", type=int, default=None, help="tokens per completion (TRL default 512)")
    g.add_argument(
        "--reward",
        choices=("accuracy", "brier"),
        default=None,
        help="decision reward (default accuracy, blind to the probabilities; brier is the calibration-sensitive "
        "choice: a proper scoring rule that rewards probabilities as CT Open's cross-entropy reads them)",
    )
    g.set_defaults(func=_run("grpo"))
    return t


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="deepimagine-train")
    sub = p.add_subparsers(dest="command", required=True)
    add_cli(sub)
    args = p.parse_args(["train", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)
