"""``deepimagine train sft``: supervised fine-tuning with a LoRA adapter on the strict counterfactual pairs.

Reads the SFT configs of ``deepimagine/pairs`` (``strict_arm``, ``strict_dose``, ``strict_outcome``, and ``traces``
when the card has it, a verified trace replacing the template answer of its pair), trains TRL's ``SFTTrainer`` on
``prompt``/``completion`` with the loss on the completion only, and writes the adapter, the tokenizer,
``trainer_state.json`` and ``deepimagine_run.json`` to ``--output-dir``.

The decision line of a template completion puts the probabilities of the dataset's target rule on the options
(``target_rule`` column; default ``smooth:0.2``, never one-hot: a model trained on one-hot targets learns to state a
certainty it cannot have, which CT Open's cross-entropy punishes); ``--targets`` re-renders them with another rule
without a rebuild. The rule trained with is printed and kept in the run record (``rows.train.target_rules``).

Examples whose prompt plus completion exceed ``max_length`` tokens are left out (and counted in the run record)
rather than truncated: TRL truncates from the end, which would cut off the ``DECISION:`` line being learned.

>>> from deepimagine_data.cli import main
>>> main(["train", "sft", "--model", "runs/tiny-llama", "--max-steps", "2", "--limit", "16"])  # doctest: +SKIP
sft: deepimagine/pairs (folder hub/deepimagine/pairs, version 0.1.0, fingerprint 14ccbc68c81dd7ae) ...

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

import time
from typing import Any

from . import data as tdata
from . import recipe as trecipe
from . import runner


def _log(msg: str) -> None:
    print(f"sft: {msg}", flush=True)


def _prepare(plan: runner.RunPlan, tokenizer: Any, split: str) -> tuple[Any, dict[str, Any]]:
    ds, stats = tdata.sft_dataset(
        plan.source, plan.configs, split, plan.run["format"], plan.run.get("limit"), plan.run.get("targets")
    )
    if plan.run["format"] == "messages" and not getattr(tokenizer, "chat_template", None):
        raise tdata.TrainDataError(f"--format messages: the tokenizer of {plan.model} has no chat template")
    lengths = runner.token_lengths(tokenizer, ds["prompt"], ds["completion"])
    ds, dropped = runner.keep_short(ds, lengths, plan.trainer.get("max_length"))
    stats["dropped_too_long"] = dropped
    stats["rows"] = ds.num_rows
    stats["max_tokens"] = max(lengths)
    if ds.num_rows == 0:
        raise tdata.TrainDataError(
            f"dataset {plan.source.dataset}, split {split}: every example is longer than max_length "
            f"{plan.trainer.get('max_length')} tokens (longest {max(lengths)}); raise --max-length"
        )
    return ds, stats


def train(plan: runner.RunPlan) -> dict[str, Any]:
    """Run SFT as planned; returns the final run record (also written to ``<output_dir>/deepimagine_run.json``)."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    t0 = time.perf_counter()
    _log(runner.banner(plan))
    for change in plan.cpu_changes:
        _log(f"no CUDA: {change}")
    record = runner.run_record(plan, status="preparing", started=runner.now())
    runner.write_record(plan, record)

    tokenizer = runner.load_tokenizer(AutoTokenizer, plan.model)
    train_ds, train_stats = _prepare(plan, tokenizer, "train")
    eval_ds, eval_stats = (None, None)
    trainer_kwargs = dict(plan.trainer)
    if plan.run.get("eval"):
        eval_ds, eval_stats = _prepare(plan, tokenizer, "validation")
        trainer_kwargs.setdefault("eval_strategy", "steps")
    _log(
        f"train rows {train_stats['rows']} (of {train_stats['available']}; {train_stats['dropped_too_long']} over "
        f"max_length {plan.trainer.get('max_length')}, {train_stats['replaced_by_trace']} replaced by a trace)"
        + (f"; validation rows {eval_stats['rows']}" if eval_stats else "")
    )
    rules = ", ".join(f"{k} ({v:,} rows)" for k, v in train_stats["target_rules"].items()) or "none (traces only)"
    _log(f"decision targets of the template completions: {rules}")
    config = trecipe.build_trl_config("sft", trainer_kwargs)
    record.update(status="training", rows={"train": train_stats, "validation": eval_stats})
    record["training_args"] = config.to_dict()
    runner.write_record(plan, record)

    model, lora = runner.load_model(plan)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora,  # None: an adapter folder given as --model is trained further
    )
    summary = runner.train_and_save(plan, trainer, tokenizer, evaluate=eval_ds is not None)
    path = runner.finish_record(plan, record, summary, t0)
    loss = summary["train_metrics"].get("train_loss")
    _log(
        f"{summary['global_step']} steps, train_loss {loss if loss is None else round(loss, 4)}, "
        f"{record['seconds']} s; adapter and tokenizer -> {plan.output_dir}/; record -> {path}"
    )
    return record
