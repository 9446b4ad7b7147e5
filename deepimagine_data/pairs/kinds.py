"""The pair kinds: one entry per config of ``deepimagine/pairs``, read by the builders, the card, the lm-eval tasks
and training.

A kind says what one row is (the card's table), whether it is a strict pair (both sides posted in one trial: held
out as the ``deepimagine_pairs`` task's test docs, trained on by SFT) or an approximate one (anchor and target from
two trials: trained on by GRPO, whose reward checks the target's posted answer). Adding a kind is its entry here and
the code that makes its rows (``pairs/strict.py`` for a strict kind, ``pairs/approx.py`` for an approximate one).

>>> STRICT
('strict_arm', 'strict_dose', 'strict_outcome')
>>> KINDS["strict_outcome"].meaning
'the same two arms of one trial on two outcome measures'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PairKind:
    name: str
    meaning: str  # what a row is, for the card
    strict: bool  # both sides from one trial's posted results (else: an anchor from another, earlier trial)
    sft: bool  # trained on by `deepimagine train sft`
    grpo: bool  # trained on by `deepimagine train grpo` (a verifiable answer per prompt)


KINDS: dict[str, PairKind] = {
    k.name: k
    for k in (
        PairKind(
            "strict_arm",
            "two protocol arms of one trial on one outcome (two doses of one intervention are in `strict_dose` "
            "only; subgroups, time points and groups that map to no protocol arm are left out)",
            strict=True,
            sft=True,
            grpo=False,
        ),
        PairKind(
            "strict_dose",
            "two doses of one intervention in one trial, one outcome: two protocol arms, or two dose cohorts of one "
            "protocol arm (a dose-escalation trial reporting each dose level; `group_relation` `same_arm`)",
            strict=True,
            sft=True,
            grpo=False,
        ),
        PairKind(
            "strict_outcome",
            "the same two arms of one trial on two outcome measures",
            strict=True,
            sft=True,
            grpo=False,
        ),
        PairKind(
            "approx",
            "a target comparison and an anchor comparison (result known) from an earlier, similar trial of the same "
            "split, with the factors that differ (`changed_factors`, `unknown_factors`)",
            strict=False,
            sft=False,
            grpo=True,
        ),
        PairKind(
            "pathways",
            "one anchor -> target walk: the changed factors as ordered single-factor steps, each step a prompt",
            strict=False,
            sft=False,
            grpo=False,
        ),
    )
}

# The columns every pair config opens with (those it has), before the label's source values: what people use first.
LEAD_COLUMNS = (
    "pair_id", "pathway_id", "kind", "trial_id", "prompt", "options", "answer_index", "completion", "messages",
)  # fmt: skip

STRICT = tuple(k for k, v in KINDS.items() if v.strict)
SFT = tuple(k for k, v in KINDS.items() if v.sft)
GRPO = tuple(k for k, v in KINDS.items() if v.grpo)
MEANING = {k: v.meaning for k, v in KINDS.items()}
