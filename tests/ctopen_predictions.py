"""Constructed predictions for CT Open's questions: the cases the scorer must score exactly as CT Open does.

Shared by tests/test_scoring.py and scripts/make_ctopen_golden.py (which ran CT Open's own evaluation on them), so
the golden figures and the test see the same outputs. Deterministic: a seeded RNG per run, questions in file order.

Cases (by the question's position and run): the right answer one-hot, a wrong one-hot, exact ties (argmax takes
the first), unnormalized scores (``(2, 6)``), percentages written as whole numbers (``(30, 70)``), a zero
probability on the true class (clipped to 1e-12), a tiny probability (``1e-15``), markdown bold and headings around
the decision line, a python code fence, REASON text on the next line, two DECISION lines (the last counts), and
random probabilities.
"""

from __future__ import annotations

import random

RUNS = 3
SEEDS = (11, 23, 47)


def _fmt(vals: list[float]) -> str:
    return "(" + ", ".join(repr(v) for v in vals) + ")"


def _probs(rng: random.Random, n: int, answer: int, case: int) -> list[float]:
    wrong = (answer + 1) % n
    if case == 0:  # right, one-hot
        return [1.0 if i == answer else 0.0 for i in range(n)]
    if case == 1:  # wrong, one-hot: zero on the truth, clipped to 1e-12
        return [1.0 if i == wrong else 0.0 for i in range(n)]
    if case == 2:  # exact tie over all options
        return [1.0 / n] * n
    if case == 3:  # tie between the truth and a wrong option; argmax takes the lower index
        v = [0.0] * n
        v[answer], v[wrong] = 0.45, 0.45
        if n == 3:
            v[3 - answer - wrong] = 0.1
        return v
    if case == 4:  # unnormalized scores
        return [float(rng.randint(0, 9)) + 1.0 for _ in range(n)]
    if case == 5:  # percentages as whole numbers
        cut = sorted(rng.sample(range(1, 100), n - 1))
        bounds = [0, *cut, 100]
        return [float(bounds[i + 1] - bounds[i]) for i in range(n)]
    if case == 6:  # a degenerate tiny value on the truth
        v = [1.0] * n
        v[answer] = 1e-15
        return v
    return [round(rng.random(), 3) + 0.001 for _ in range(n)]


def _wrap(rng: random.Random, decision: str, case: int, other: str) -> str:
    style = case % 6
    if style == 0:
        return f"The arms differ in dose.\nDECISION: {decision}\n\nREASON: dose response."
    if style == 1:
        return f"**Reasoning.** Similar trials succeeded.\n\n**DECISION:** {decision}\n\nREASON: prior trials."
    if style == 2:
        return f"## Answer\n```python\nDECISION: {decision}\n```\nREASON: none."
    if style == 3:
        return f"DECISION: {other}\nOn reflection, revising.\nDECISION: {decision}\nREASON: revised."
    if style == 4:
        return f"### DECISION: {decision}"
    return f"DECISION: {decision} REASON: on the same line."


def predictions(questions: list[tuple[tuple, int, int]], run: int) -> dict[tuple, str]:
    """key -> output for one run; ``questions`` are (key, n_options, answer_index) in file order."""
    rng = random.Random(SEEDS[run])
    out = {}
    for i, (key, n, answer) in enumerate(questions):
        case = (i + 3 * run) % 9
        probs = _probs(rng, n, answer, case)
        other = _fmt(_probs(rng, n, answer, 1))
        out[key] = _wrap(rng, _fmt(probs), i + run, other)
    return out
