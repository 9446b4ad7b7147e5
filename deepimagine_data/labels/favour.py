"""Which group a value of the estimate favours, where a text says so: :func:`favoured_by_text`.

Some registries state the reading of an estimate instead of ordering its groups: "A hazard ratio of < 1 favours
olaparib." That gives the direction of benefit without knowing which group is the reference or which way the outcome
is better:

>>> titles = ["Carboplatin AUC6/Paclitaxel", "Olaparib/Carboplatin AUC4/Paclitaxel"]
>>> favoured_by_text(["A hazard ratio of < 1 favours olaparib."], titles, "Hazard Ratio (HR)").group
1

Why a caller cross-checks it: a statement can be copied from another estimate (NCT00900627 posts an odds ratio with
the sentence written for its hazard ratio), so where an ordering and a polarity also give a benefit the two must agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .estimate import estimate_null
from .groups import _HARD, _SENTENCE, _Groups, _name, _right_spans


@dataclass(frozen=True)
class Favour:
    """A stated reading of an estimate: its values on one side of the null (``values``, "below_null" or
    "above_null") favour the group ``group``, an index into the analysis's group titles; and the text that said so."""

    group: int
    values: str
    source_text: str


FAVOUR_VALUES = ("below_null", "above_null")
# "A hazard ratio of < 1 favours olaparib", "Values < 1 for odds ratio favor denosumab", "an HR < 1 indicates a
# reduction in the HR in favor of tivozanib", "Odds ratio greater than (>)1 favored orteronel", "A Hazard ratio < 1
# indicates superiority of Sorafenib+Capecitabine over Placebo+Capecitabine". The words between the value and the
# verb hold no other value and no negation ("not").
_BELOW_OP = r"<=?|≤|=<|\b(?:less|lower|smaller)\s+than\b|\bbelow\b"
_ABOVE_OP = r">=?|≥|=>|\b(?:greater|higher|larger|more)\s+than\b|\babove\b"
_FAVOUR_VERB = r"(?:\bin\s+favou?r\s+of|\bfavou?r(?:s|ed|ing)?|\bsuperiority\s+of)\b(?:\s+favou?rs?\b)?\s*"
_FAVOUR = re.compile(
    rf"(?:(?P<below>{_BELOW_OP})|(?P<above>{_ABOVE_OP}))\s*(?:\(\s*(?:<=?|>=?|≤|≥)\s*\)\s*)?(?P<num>[01](?:\.0+)?)"
    rf"(?!\.?\d)(?P<mid>(?:(?!\bnot\b|[<>≤≥])[^.;~]){{0,80}}?){_FAVOUR_VERB}",
    re.I,
)
# For a difference: "A positive difference between the treatment groups favors the panitumumab group."
_SIGN_FAVOUR = re.compile(
    rf"\b(?P<sign>negative|positive)\b(?P<mid>(?:(?!\bnot\b|[<>≤≥])[^.;~]){{0,60}}?){_FAVOUR_VERB}", re.I
)
# What a statement says it reads, against what was posted: a statement about an odds ratio does not read a hazard
# ratio posted next to it.
_KINDS = (
    re.compile(r"(?i:\bhazard)|\bHR\b"),
    re.compile(r"(?i:\bodds\b)|\bOR\b"),
    re.compile(r"(?i:\b(?:risk|rate|incidence)\s+ratio)|\b(?:RR|IRR)\b"),
    re.compile(r"(?i:\bdifference|\bmeans?\b|\bchange\b)|\b(?:LS|MD|RD)\b"),
)
# The favoured group ends where a comparison or a consequence starts: "favours respective combination treatment
# related with a longer PFS than olaparib monotherapy".
_FAVOUR_END = re.compile(
    rf"{_HARD.pattern}|\b(?:than|over|to\s+be|when|if|which|because)\b|,"
    r"|\b(?:with|and)\s+(?:a|the)\s+(?:longer|shorter|lower|higher|reduc\w*|better|greater)\b",
    re.I,
)


def favoured_by_text(texts: Sequence[str | None], titles: Sequence[str], estimate_type: str | None) -> Favour | None:
    """Which group a value of the estimate favours, where a text says so explicitly; else None.

    ``titles`` are the analysis's group titles and ``texts`` its free-text fields, as for :func:`reference_from_text`;
    ``estimate_type`` the posted estimate's type. Statements read, each from a real AACT comment:

    - "<estimate> <op> <null> favours/favoured/favoring/in favor of <group>": "A hazard ratio of < 1 favours
      olaparib.", "HR<1 favours Fulvestrant", "Mean difference >0 favours olaparib.", "An Odds Ratio >1 means better
      response in favor of palbociclib plus fulvestrant arm.", "a hazard ratio less than 1 indicates a reduction in
      hazard rate in favor of crizotinib", "... and is relative to bicalutamide with < 1 favoring enzalutamide.";
    - "<op> <null> indicates superiority of <group> over ...": "A Hazard ratio < 1 indicates superiority of
      Sorafenib+Capecitabine over Placebo+Capecitabine.";
    - for a difference, "a positive/negative difference favours <group>": "A positive difference between the
      treatment groups favors the panitumumab group."

    The value must be the null of ``estimate_type`` (:func:`estimate_null`: 1 for ratios, 0 for differences), so a
    statement about a hazard ratio does not read a log hazard ratio or a difference; a statement that names another
    kind of estimate ("HR<1 favors Cetuximab arm" posted with an odds ratio) is passed over, as is one with "not" in
    it. The group is named as in :func:`reference_from_text`; what follows "than" or "over" is not the favoured group.
    Every statement in every text must agree (for two groups, "< 1 favours A" agrees with "> 1 favours B");
    otherwise None.

    A registry's statement can be wrong: NCT00900627 posts an odds ratio of response with "a odds ratio <1 favours
    AZD8931 40mg + paclitaxel", copied from its hazard ratio. Where an ordering and the outcome's polarity also give a
    benefit, a caller should require the two to agree.

    >>> favoured_by_text(["A hazard ratio of < 1 favours olaparib."],
    ...                  ["Carboplatin AUC6/Paclitaxel", "Olaparib/Carboplatin AUC4/Paclitaxel"], "Hazard Ratio (HR)")
    Favour(group=1, values='below_null', source_text='A hazard ratio of < 1 favours olaparib.')
    """
    null = estimate_null(estimate_type)
    if null is None or len(titles) < 2:
        return None
    kinds = {i for i, k in enumerate(_KINDS) if k.search(estimate_type or "")}
    g = _Groups.of(titles)
    found: list[Favour] = []
    for text in texts:
        if not text:
            continue
        for m in [*_FAVOUR.finditer(text), *_SIGN_FAVOUR.finditer(text)]:
            if "sign" in m.re.groupindex:
                if null != 0.0:
                    continue
                values = "below_null" if m.group("sign").lower() == "negative" else "above_null"
            else:
                if float(m.group("num")) != null:
                    continue
                values = "below_null" if m.group("below") else "above_null"
            begin = max((s.end() for s in _SENTENCE.finditer(text, 0, m.start())), default=0)
            said = {i for i, k in enumerate(_KINDS) if k.search(text, begin, m.end())}
            if said and not said & kinds:
                continue
            group, _ = _name(_right_spans(text, m.end(), _FAVOUR_END), g)
            if group is not None:
                found.append(Favour(group, values, text))
    # For two groups, "< 1 favours A" and "> 1 favours B" say the same.
    canon = {(f.group, f.values) if len(titles) != 2 or f.values == "below_null" else (1 - f.group, "below_null")
             for f in found}  # fmt: skip
    return found[0] if len(canon) == 1 else None
