"""Reading a model's ``DECISION: (p1, p2[, p3])`` line.

Two readers, on purpose:

- :func:`ctopen_probabilities` is CT Open's own reading (``evaluations/evaluation.py`` of
  ClinicalTrial-OpenChallenge/CT_Open), step for step: strip ``*``, ``#``, code fences; take the text after the last
  ``DECISION:`` up to the end of that line and the first ``)``; ``ast.literal_eval`` it; divide by the sum, clip to
  [1e-12, 1], divide by the sum again. The scorer uses it, so its figures equal CT Open's.
- :func:`parse_decision` is the forgiving reader for raw generations (the lm-eval answer filter, trace checks):
  markdown, code fences, brackets instead of parentheses, percentages, a decision in a JSON object, prose around it.
  It returns the normalized probabilities or ``None`` with the reason, never raises.

>>> ctopen_probabilities("Reasoning...\\n**DECISION:** (2, 6)\\n\\nREASON: ...").tolist()
[0.25, 0.75]
>>> parse_decision("```\\nDecision: [20%, 80%]\\n```", 2).probabilities
(0.2, 0.8)
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CLIP = 1e-12  # CT Open's floor for a probability (and for the probability of the true class in cross-entropy)


class DecisionError(ValueError):
    """A decision line CT Open's evaluation cannot read (it would raise; the scorer counts the question wrong)."""


def ctopen_clean(output: str) -> str:
    return output.replace("*", "").replace("#", "").replace("```python", "").replace("```", "")


def ctopen_literal(output: str) -> tuple[str, object]:
    """(the text after the last ``DECISION:`` on its line, the Python literal CT Open's evaluation reads from it).

    Raises :class:`DecisionError` where ``ast.literal_eval`` fails, as CT Open's evaluation would.
    """
    if not isinstance(output, str):
        raise DecisionError(f"output is {type(output).__name__}, not a string")
    out = ctopen_clean(ctopen_clean(output))  # CT Open cleans twice (once on reading, once before parsing)
    conf_str = out.split("DECISION:")[-1].strip().split("\n")[0].strip()
    try:
        return conf_str, ast.literal_eval(conf_str.split(")")[0] + ")")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise DecisionError(f"no readable DECISION tuple in {conf_str[:80]!r} ({type(e).__name__})") from None


def ctopen_probabilities(output: str) -> np.ndarray:
    """CT Open's probabilities for one output, exactly as its evaluation computes them (float64 array).

    Raises :class:`DecisionError` where CT Open's evaluation raises (no tuple after ``DECISION:``, a literal that is
    not a sequence of numbers) and where it would silently produce NaN (all zeros, a sum of 0 or a NaN): those are
    unreadable decisions, not a prediction.
    """
    conf_str, scores = ctopen_literal(output)
    try:
        raw = np.array(scores, dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise DecisionError(f"no readable DECISION tuple in {conf_str[:80]!r} ({type(e).__name__})") from None
    if raw.ndim != 1 or raw.size < 2:
        raise DecisionError(f"DECISION {conf_str[:80]!r} is not a tuple of at least two numbers")
    total = raw.sum()
    if not np.isfinite(total) or total == 0 or np.isnan(raw).any():
        raise DecisionError(f"DECISION {conf_str[:80]!r} does not normalize (sum {total})")
    probs = raw / total
    probs = np.clip(probs, CLIP, 1.0)
    return probs / probs.sum()


@dataclass(frozen=True)
class ParsedDecision:
    """``probabilities`` (normalized, one per option) or None, and why not."""

    probabilities: tuple[float, ...] | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.probabilities is not None

    def argmax(self) -> int | None:
        if self.probabilities is None:
            return None
        return max(range(len(self.probabilities)), key=lambda i: (self.probabilities[i], -i))

    def decided(self) -> int | None:
        """The option with the single highest probability; None if unreadable or the top is shared (a tie is no
        answer, whereas :meth:`argmax` breaks it toward the lower index as CT Open's scorer does)."""
        return None if self.probabilities is None else unique_argmax(self.probabilities)


# Normalizing (0.5, 0.5) or (1, 1, 2) by their sum leaves float noise; within this of the top counts as a tie.
TIE_EPS = 1e-9


def unique_argmax(probabilities: Sequence[float]) -> int | None:
    """Index of the single highest probability, or None when two or more share the top (within :data:`TIE_EPS`).

    One definition for every place that asks "which answer did it give": trace verification, the GRPO reward and
    the trace analysis.

    >>> unique_argmax((0.2, 0.8)), unique_argmax((0.4, 0.4, 0.2)), unique_argmax((1 / 3, 1 / 3 + 1e-12, 1 / 3))
    (1, None, None)
    """
    top = max(probabilities)
    best = [i for i, p in enumerate(probabilities) if top - p <= TIE_EPS]
    return best[0] if len(best) == 1 else None


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*")
_MARKUP = re.compile(r"[*#_`>]+")
_DECISION = re.compile(r"\bdecision\s*[:=]?\s*", re.I)  # \b: "indecision (0.5, 0.5)" is no decision
_GROUP = re.compile(r"[(\[{]([^()\[\]{}]*)[)\]}]")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*%?$")


def _numbers(body: str) -> list[float] | None:
    parts = [p.strip().strip("\"'") for p in body.split(",")]
    if len(parts) > 2 and not parts[-1]:  # (0.7, 0.3,) is a Python tuple, and CT Open reads it
        parts.pop()
    if any(not p for p in parts):
        return None
    vals = []
    for p in parts:
        p = re.split(r"[:=]", p)[-1].strip().strip("\"'")  # {"p1": 0.2}, "option 1: 0.2" or "p1=0.2"
        if not _NUMBER.match(p):
            return None
        v = float(p.rstrip("%").strip())
        vals.append(v / 100.0 if p.endswith("%") else v)
    return vals


def parse_decision(text: str | None, n_options: int) -> ParsedDecision:
    """The last readable decision in ``text`` with ``n_options`` probabilities, normalized; never raises.

    Accepted: ``DECISION: (0.2, 0.8)``, ``**DECISION:** [0.2, 0.8]``, ``Decision = (20%, 80%)``, a decision inside
    a code fence or a JSON object (``{"decision": [0.2, 0.8]}``), prose before and after. Refused (``None`` with
    a reason): no decision, the wrong number of options, negative, NaN or infinite values, an all-zero tuple.

    >>> parse_decision("**DECISION:** (0.3, 0.5, 0.2)", 3).probabilities
    (0.3, 0.5, 0.2)
    >>> parse_decision("DECISION: (0.3, 0.5)", 3).reason
    'DECISION has 2 values, the question has 3 options'
    """
    if not isinstance(text, str) or not text.strip():
        return ParsedDecision(None, "empty output")
    if n_options < 2:
        raise ValueError(f"n_options must be >= 2, got {n_options}")
    clean = _MARKUP.sub(" ", _FENCE.sub(" ", text))
    candidates: list[list[float]] = []
    wrong_len: list[int] = []
    for m in _DECISION.finditer(clean):
        g = _GROUP.search(clean, m.end(), min(len(clean), m.end() + 400))
        if g is None or clean[m.end() : g.start()].strip(" :=\t\n\"'"):
            continue
        vals = _numbers(g.group(1))
        if vals is None:
            continue
        if len(vals) == n_options:
            candidates.append(vals)
        else:
            wrong_len.append(len(vals))
    if not candidates:
        # a JSON object with a "decision" key anywhere in the text
        for m in re.finditer(r"\{[^{}]*\}", text):
            try:
                obj = json.loads(m.group(0))
            except ValueError:
                continue
            vals = next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == "decision"), None)
            if isinstance(vals, list) and all(isinstance(v, int | float) for v in vals):
                if len(vals) == n_options:
                    candidates.append([float(v) for v in vals])
                else:
                    wrong_len.append(len(vals))
    if not candidates:
        if wrong_len:
            return ParsedDecision(None, f"DECISION has {wrong_len[-1]} values, the question has {n_options} options")
        return ParsedDecision(None, "no DECISION line")
    vals = candidates[-1]
    if any(not math.isfinite(v) for v in vals):
        return ParsedDecision(None, "DECISION has a value that is not finite")
    if any(v < 0 for v in vals):
        return ParsedDecision(None, "DECISION has a negative value")
    total = sum(vals)
    if total <= 0:
        return ParsedDecision(None, "DECISION values sum to 0")
    return ParsedDecision(tuple(v / total for v in vals))
