"""GRPO rewards for DeepImagine pairs: is the model's ``DECISION: (p1, p2[, p3])`` line right, and is it readable?

TRL's ``GRPOTrainer`` calls every reward function as ``f(prompts, completions, completion_ids, **columns)``, where
``columns`` are the other dataset columns repeated once per generation (TRL drops a column named ``completion``,
so the gold answer travels as ``reference_index`` with ``n_options``, see :mod:`deepimagine_data.train.data`).
Completions are strings for a text prompt and lists of message dicts for a conversational one; both are read.

- :func:`decision_reward` (default, weight 1.0): 1.0 when the parsed decision has a *unique* highest probability on
  the known answer, else 0.0. A tie for the top (a hedged 50/50) earns nothing: the scorer would break it towards
  the lower index, and rewarding that would teach the model to hedge whenever option 0 is the usual answer.
- :func:`brier_reward` (``--reward brier``): ``1 - Brier/2`` in [0, 1], a proper scoring rule, for calibrated
  probabilities. The "probability on the correct option" reward is not used because it is not proper: its optimum
  is to put all mass on the likeliest option, i.e. it trains the same overconfidence as the 0/1 reward.
  **The calibration-sensitive choice**: the 0/1 reward is blind to the probabilities (0.51 and 1.0 on the right
  option earn the same), so it neither teaches nor punishes overconfidence, while CT Open's cross-entropy, the
  Brier score and ECE all read them; train with ``--reward brier`` when those metrics matter.
- :func:`format_reward` (weight :data:`FORMAT_WEIGHT` = 0.1): 1.0 when CT Open's own reader
  (:func:`~deepimagine_data.scoring.decision.ctopen_probabilities`: the text after the last ``DECISION:``) reads
  the right number of valid probabilities, else 0.0. The forgiving parser decides correctness, CT Open's strict
  reader decides format: a model is nudged to the line the benchmark scores, a percent sign is not punished twice.

>>> decision_reward(["q"], ["The dose doubles ...\\nDECISION: (0.2, 0.8)"], reference_index=[1], n_options=[2])
[1.0]
>>> format_reward(["q"], [[{"role": "assistant", "content": "Decision: [20%, 80%]"}]], n_options=[2])
[0.0]

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..scoring.decision import DecisionError, ctopen_probabilities, parse_decision

# GRPO's reward is sum(weight_i * reward_i). The format term must stay well below one correct answer, or a model
# learns to print a tidy but wrong line; 0.1 lets it break ties between equally wrong completions early in training.
FORMAT_WEIGHT = 0.1
DECISION_WEIGHT = 1.0


def completion_text(completion: Any) -> str:
    """The text a model produced: a string as is, or the assistant content of TRL's conversational completion."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts: list[str] = []
    for msg in completion:
        if isinstance(msg, str):
            parts.append(msg)
            continue
        if not isinstance(msg, dict) or msg.get("role", "assistant") != "assistant":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # multimodal-style [{"type": "text", "text": ...}]
            parts.extend(c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text")
    return "\n".join(parts)


def _broadcast(values: Any, n: int, name: str) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        return [values] * n
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} values for {n} completions")
    return list(values)


def decision_score(text: Any, reference_index: int, n_options: int) -> float:
    """1.0 when the decision in ``text`` has a unique argmax equal to ``reference_index``, else 0.0."""
    return 1.0 if parse_decision(completion_text(text), int(n_options)).decided() == int(reference_index) else 0.0


def brier_score_reward(text: Any, reference_index: int, n_options: int) -> float:
    """``1 - Brier/2`` of the parsed decision (1 = all mass on the answer, 0 = all mass elsewhere); 0.0 unreadable."""
    parsed = parse_decision(completion_text(text), int(n_options))
    if not parsed.ok:
        return 0.0
    ref = int(reference_index)
    brier = sum((p - (1.0 if i == ref else 0.0)) ** 2 for i, p in enumerate(parsed.probabilities))
    return 1.0 - brier / 2.0


def format_score(text: Any, n_options: int) -> float:
    """1.0 when CT Open's reader gets ``n_options`` probabilities from the last ``DECISION:`` line, else 0.0.

    The values must also be probabilities (the forgiving parser accepts them): CT Open silently clips a negative
    value to 1e-12, which is readable but not a format worth rewarding.
    """
    text = completion_text(text)
    try:
        probs = ctopen_probabilities(text)
    except DecisionError:
        return 0.0
    return 1.0 if len(probs) == int(n_options) and parse_decision(text, int(n_options)).ok else 0.0


def _per_completion(
    score: Callable[[Any, int, int], float], completions: Sequence[Any], reference_index: Any, n_options: Any
) -> list[float]:
    """``score(completion, reference, n_options)`` for each completion, the references broadcast or matched."""
    n = len(completions)
    refs = _broadcast(reference_index, n, "reference_index")
    sizes = _broadcast(n_options, n, "n_options")
    return [score(c, r, k) for c, r, k in zip(completions, refs, sizes, strict=True)]


def decision_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    reference_index: Sequence[int],
    n_options: Sequence[int],
    **kwargs: Any,
) -> list[float]:
    """TRL reward: 1.0 per completion whose decision has a unique argmax on ``reference_index``, else 0.0."""
    return _per_completion(decision_score, completions, reference_index, n_options)


def brier_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    reference_index: Sequence[int],
    n_options: Sequence[int],
    **kwargs: Any,
) -> list[float]:
    """TRL reward: ``1 - Brier/2`` of each completion's decision against ``reference_index`` (0.0 if unreadable)."""
    return _per_completion(brier_score_reward, completions, reference_index, n_options)


def format_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    n_options: Sequence[int],
    **kwargs: Any,
) -> list[float]:
    """TRL reward: 1.0 per completion whose last ``DECISION:`` line CT Open reads with ``n_options`` values."""
    sizes = _broadcast(n_options, len(completions), "n_options")
    return [format_score(c, k) for c, k in zip(completions, sizes, strict=True)]


# name -> reward functions and their GRPOConfig.reward_weights
REWARDS: dict[str, tuple[tuple[Callable[..., list[float]], ...], tuple[float, ...]]] = {
    "accuracy": ((decision_reward, format_reward), (DECISION_WEIGHT, FORMAT_WEIGHT)),
    "brier": ((brier_reward, format_reward), (DECISION_WEIGHT, FORMAT_WEIGHT)),
}
DEFAULT_REWARD = "accuracy"


def reward_functions(name: str = DEFAULT_REWARD) -> tuple[list[Callable[..., list[float]]], list[float]]:
    """The reward functions and weights of a named reward (``accuracy`` or ``brier``).

    Looked up in this module's namespace at call time so a wrapped function (a test's spy) is the one TRL gets.
    """
    if name not in REWARDS:
        raise ValueError(f"unknown reward {name!r}; choose from {', '.join(REWARDS)}")
    funcs, weights = REWARDS[name]
    current = globals()
    return [current[f.__name__] for f in funcs], list(weights)
