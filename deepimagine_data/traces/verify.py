"""Keep or reject one teacher sample: a filter returns ``None`` (keep) or a reason, and reasons are counted.

A sample is kept only when its decision line parses with one probability per option, it has exactly one decision
line, the highest probability is unique, and that option is the known ``answer_index``. Ties are rejected even
though :meth:`ParsedDecision.argmax` breaks them toward the lower index: a tie is no prediction, and keeping it would
teach the student that (0.5, 0.5) "means" option 0.

>>> judge("The arm change keeps the effect.\\nDECISION: (0.2, 0.8)", 2, 1).reason is None
True
>>> judge("DECISION: (0.5, 0.5)", 2, 0).reason
'tie'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..scoring.decision import parse_decision

KEPT = "kept"
NO_DECISION = "no_decision"
WRONG_OPTION_COUNT = "wrong_option_count"
INVALID_DECISION = "invalid_decision"
MULTIPLE_DECISIONS = "multiple_decisions"
TIE = "tie"
WRONG_ANSWER = "wrong_answer"
HTTP_ERROR = "http_error"

# Report order: from "the teacher said nothing usable" to "the teacher was usable but wrong", then infrastructure.
REASONS = (NO_DECISION, WRONG_OPTION_COUNT, INVALID_DECISION, MULTIPLE_DECISIONS, TIE, WRONG_ANSWER, HTTP_ERROR)

_MARKUP = re.compile(r"[*#_`>]+")
# A decision followed by a bracket and a number: "use the DECISION: (p1, p2) format" in prose is not a decision.
_DECISION_WITH_NUMBER = re.compile(r"\bdecision\s*[:=]?\s*[(\[{]\s*[+-]?\.?\d", re.I)


@dataclass(frozen=True)
class Verdict:
    """``reason`` is None for a kept sample; ``probabilities`` whenever the decision line parsed."""

    reason: str | None
    probabilities: tuple[float, ...] | None = None
    detail: str = ""

    @property
    def keep(self) -> bool:
        return self.reason is None


def count_decisions(text: str) -> int:
    """How many decision lines with numbers ``text`` holds (markdown emphasis ignored).

    >>> count_decisions("**DECISION:** (0.7, 0.3)\\nOn reflection: DECISION: (0.2, 0.8)")
    2
    """
    return len(_DECISION_WITH_NUMBER.findall(_MARKUP.sub(" ", text or "")))


def judge(text: str | None, n_options: int, answer_index: int) -> Verdict:
    """The verdict on one sample for a question with ``n_options`` options whose known answer is ``answer_index``.

    >>> judge("I think option 1.", 2, 1).reason
    'no_decision'
    >>> judge("DECISION: (0.1, 0.2, 0.7)", 2, 1).reason
    'wrong_option_count'
    >>> judge("DECISION: (0.9, 0.1)", 2, 1).reason
    'wrong_answer'
    """
    parsed = parse_decision(text, n_options)
    if not parsed.ok:
        why = parsed.reason
        if why in ("empty output", "no DECISION line"):
            return Verdict(NO_DECISION, detail=why)
        if why.startswith("DECISION has") and "values, the question has" in why:
            return Verdict(WRONG_OPTION_COUNT, detail=why)
        return Verdict(INVALID_DECISION, detail=why)
    probs = parsed.probabilities
    if count_decisions(text or "") > 1:
        # The student imitates the trace: a second (changed) decision would teach it to contradict itself.
        return Verdict(MULTIPLE_DECISIONS, probs, "more than one DECISION line")
    best = parsed.decided()
    if best is None:
        return Verdict(TIE, probs, f"highest probability {max(probs):.3g} shared")
    if best != answer_index:
        return Verdict(WRONG_ANSWER, probs, f"chose option {best}")
    return Verdict(None, probs)
