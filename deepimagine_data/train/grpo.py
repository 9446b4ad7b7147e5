"""``deepimagine train grpo``: GRPO with a LoRA adapter on the approximate pairs, rewarded by the decision line.

Reads ``deepimagine/pairs`` config ``approx`` (or ``--config``), hands TRL's ``GRPOTrainer`` the ``prompt`` plus the
reward's references ``reference_index`` and ``n_options``, and rewards each sampled completion with
:func:`~deepimagine_data.train.reward.decision_reward` (1.0 for a unique argmax on the known answer; or
``--reward brier``) and :func:`~deepimagine_data.train.reward.format_reward` (a CT Open-readable line), weighted
1.0 and 0.1 through ``GRPOConfig.reward_weights``. Writes the adapter, the tokenizer, ``trainer_state.json`` (with
``rewards/decision_reward/mean`` per logged step) and ``deepimagine_run.json`` to ``--output-dir``.

TRL 1.16's GRPO does not truncate prompts, so prompts over ``--max-length`` tokens are left out and counted.

>>> from deepimagine_data.cli import main
>>> main(["train", "grpo", "--model", "runs/sft", "--max-steps", "2", "--num-generations", "2"])  # doctest: +SKIP
grpo: deepimagine/pairs (folder hub/deepimagine/pairs, version 0.1.0, ...) configs approx; ...

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import time
from typing import Any

from . import data as tdata
from . import recipe as trecipe
from . import reward as treward
from . import runner


def _log(msg: str) -> None:
    print(f"grpo: {msg}", flush=True)


def _prepare(plan: runner.RunPlan, tokenizer: Any, split: str) -> tuple[Any, dict[str, Any]]:
    ds, stats = tdata.grpo_dataset(plan.source, plan.configs, split, plan.run["format"], plan.run.get("limit"))
    if plan.run["format"] == "messages" and not getattr(tokenizer, "chat_template", None):
        raise tdata.TrainDataError(f"--format messages: the tokenizer of {plan.model} has no chat template")
    lengths = runner.token_lengths(tokenizer, ds["prompt"])
    limit = plan.run.get("max_prompt_length")
    ds, dropped = runner.keep_short(ds, lengths, limit)
    stats.update(dropped_too_long=dropped, rows=ds.num_rows, max_tokens=max(lengths))
    if ds.num_rows == 0:
        raise tdata.TrainDataError(
            f"dataset {plan.source.dataset}, split {split}: every prompt is longer than {limit} tokens "
            f"(longest {max(lengths)}); raise --max-length"
        )
    return ds, stats


def train(plan: runner.RunPlan) -> dict[str, Any]:
    """Run GRPO as planned; returns the final run record (also written to ``<output_dir>/deepimagine_run.json``)."""
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    t0 = time.perf_counter()
    _log(runner.banner(plan))
    for change in plan.cpu_changes:
        _log(f"no CUDA: {change}")
    funcs, weights = treward.reward_functions(plan.run.get("reward", treward.DEFAULT_REWARD))
    record = runner.run_record(plan, status="preparing", started=runner.now())
    runner.write_record(plan, record)

    # GRPO generates from the left-padded batch: the tokenizer must pad on the left (TRL does the same when it
    # loads one itself); we load it here to measure prompts and to save it beside the adapter.
    tokenizer = runner.load_tokenizer(AutoTokenizer, plan.model, padding_side="left")
    train_ds, train_stats = _prepare(plan, tokenizer, "train")
    eval_ds, eval_stats = (None, None)
    trainer_kwargs = dict(plan.trainer)
    trainer_kwargs.setdefault("reward_weights", weights)
    if plan.run.get("eval"):
        eval_ds, eval_stats = _prepare(plan, tokenizer, "validation")
        trainer_kwargs.setdefault("eval_strategy", "steps")
    _log(
        f"train prompts {train_stats['rows']} (of {train_stats['available']}; {train_stats['dropped_too_long']} over "
        f"{plan.run.get('max_prompt_length')} tokens); rewards "
        + ", ".join(f"{f.__name__} x{w}" for f, w in zip(funcs, trainer_kwargs["reward_weights"], strict=True))
        + (f"; validation prompts {eval_stats['rows']}" if eval_stats else "")
    )
    config = trecipe.build_trl_config("grpo", trainer_kwargs)
    record.update(
        status="training",
        rows={"train": train_stats, "validation": eval_stats},
        rewards={f.__name__: w for f, w in zip(funcs, config.reward_weights, strict=True)},
    )
    record["training_args"] = config.to_dict()
    runner.write_record(plan, record)

    model, lora = runner.load_model(plan)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=config,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora,  # None: an adapter folder given as --model is trained further
    )
    summary = runner.train_and_save(plan, trainer, tokenizer, evaluate=eval_ds is not None)
    logs = [h for h in trainer.state.log_history if "reward" in h]
    summary["reward_log"] = [
        {k: v for k, v in h.items() if k == "step" or k == "reward" or k.startswith("rewards/")} for h in logs
    ]
    path = runner.finish_record(plan, record, summary, t0)
    last = summary["reward_log"][-1] if summary["reward_log"] else {}
    _log(
        f"{summary['global_step']} steps; last logged reward {last.get('reward')} "
        + " ".join(f"{k.split('/')[1]}={v:.3f}" for k, v in last.items() if k.endswith("/mean"))
        + f"; {record['seconds']} s; adapter and tokenizer -> {plan.output_dir}/; record -> {path}"
    )
    return record
