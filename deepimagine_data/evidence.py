"""The label engine: what a posted analysis states, read as a biostatistician would sign it (label rules ``labels-v2``).

A comparison's significance is decided here, from the values an analysis posted and the statements it makes about
them, never from a default where the record says otherwise:

- **sidedness** (:func:`p_value_sides`): a p-value is one-sided only where a text says so of *the p-value or its
  test* ("One-sided p-value based on log-rank test", method "1-sided Log Rank", "t-test, 1 sided"); a sided
  significance level ("One-sided significance level of 0.025") is the alpha's, and a power calculation ("designed
  with 90% power ... one-sided log-rank test at the 0.025 significance level") describes the design, not the posted
  number. Otherwise two-sided, recorded as ``"default"``.
- **alpha** (:func:`stated_alpha`): the analysis' own level (``labels.alpha_from_text`` over every text field, the
  group description included), with its sides; a level with no sides is read on the p-value's scale; else 0.05
  two-sided. A one-sided p is judged against the one-sided level, a two-sided p against the two-sided one.
- **one-sided p above 0.5** tests the other direction: it is "no difference" only where 1 - p is itself at or
  above the one-sided level; closer to 1 the arms may differ the other way, which only the confidence interval can
  tell (discrete tests make 2(1 - p) unsafe).
- **p = 0 with no modifier** (an AACT data-entry artefact) is unreadable: the interval decides, else unknown.
- **a CI at another level and no stated alpha**: the p-value must give the same answer at 0.05 and at the level the
  interval implies (a 97.5% CI with p = 0.0262), else unknown (``alpha_unclear``).
- **p and CI that disagree** in the record (p < alpha while the CI includes the null, or the reverse) are flagged
  (``p_ci_check == "disagree"``); the label stays the p-value's and the row is kept out of the bench and the
  default training configs.
- **non-inferiority and equivalence** are decided from the posted CI against the margin the record states
  (:mod:`deepimagine_data.margins`), never from a p-value; no margin, no answer.

:func:`judge` is a pure function of values stored in every comparison row, so a row's label can be recomputed from
the row alone; the text readers run once, when the comparison is made.

Example (KEYNOTE-048, NCT02358031, PFS in CPS >= 20: HR 0.76, 95% CI 0.58 to 1.01, p = 0.02951, "One-sided p-value
based on log-rank test stratified by ECOG and HPV status"): one-sided p 0.0295 against the one-sided 0.025 of the
default two-sided 0.05 is not significant, and the interval, which reaches 1.01, agrees.

>>> rec = dict(p_value=0.02951, p_value_modifier=None, p_value_sides=1, alpha=0.05, alpha_sides=2,
...            alpha_source="default", ci_lower=0.58, ci_upper=1.01, ci_percent=95.0, ci_sides="TWO_SIDED",
...            estimate_type="Hazard Ratio (HR)", estimate_value=0.76, is_non_inferiority=False)
>>> j = judge(rec)
>>> (j.significance, j.source, j.p_ci_check)
('not_significant', 'posted_p_value', 'agree')

Citation: DeepImagine (arXiv 2604.23054); ClinicalTrials.gov results data element definitions (statistical
analysis: p-value, method, confidence interval, non-inferiority or equivalence analysis).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import labels as L

LABEL_VERSION = "labels-v2"
# What changed from the labels of release 0.1.0 (labels-v1); the cards print it.
LABEL_CHANGES = (
    "sidedness read from the p-value's own description and method; a one-sided p judged against the one-sided "
    "alpha, and a one-sided p above 0.5 never read as no difference where the CI excludes the null",
    "the analysis' stated alpha read from every text field (the group description included), with its sides",
    "p = 0 with no modifier read as unreadable (the CI decides, else unknown)",
    "a CI at another level than 95% with no stated alpha: the label must be the same at both levels, else unknown",
    "p-values and CIs that disagree flagged (p_ci_check) and kept out of the bench and the default pairs",
    "non-inferiority and equivalence decided from the CI against the posted margin, else unknown and not asked",
)

SIDES_DEFAULT = 2
# The fields a p-value's sidedness is read from, most specific first: the p-value's own description, the test's
# name ("1-sided Log Rank"), then the comments about the analysis. They are every free text an analysis has.
SIDES_FIELDS = (
    "p_value_comment",
    "statistical_method",
    "statistical_comment",
    "group_description",
    "estimate_comment",
    "non_inferiority_comment",
)
# Every text of an analysis that may state its significance level, most specific first.
ALPHA_TEXT_FIELDS = (
    "p_value_comment",
    "statistical_comment",
    "non_inferiority_comment",
    "group_description",
    "estimate_comment",
)

_SIDED = re.compile(r"\b(?P<k>one|two|1|2)[\s-]*(?:sided|side|tailed)\b|\b(?P<u>unilateral|bilateral)\b", re.I)
# What a sided word qualifies when it comes right before it: a level ("one-sided significance level of 0.025",
# "1-sided alpha=0.15", "two-sided type I error") is the alpha's; a p-value or a test is the p-value's.
_ALPHA_NEXT = re.compile(
    r"^[\s,(]*(?:\d+(?:\.\d+)?\s*%?\s*)?(?:(?:overall|nominal|family[\s-]?wise)\s+)?(?:significance|alpha|α|"
    r"type[\s-]*(?:i|1|one)\b|level|error|confidence|ci\b)",
    re.I,
)
_TEST_NEXT = re.compile(r"^[\s,(]*(?:[\w'-]+\s+){0,4}?(?:p[\s-]*values?|tests?|log[\s-]?rank|t-test)\b", re.I)
_P_WORD = re.compile(r"\bp[\s-]*values?\b|\bp\s*[<=>≤≥]", re.I)
_TEST_WORD = re.compile(r"\btest(?:s|ed|ing)?\b|\blog[\s-]?rank\b", re.I)
# A sentence about the design (power, sample size) or about an interval says nothing of the posted p-value.
_DESIGN = re.compile(r"\b(?:power|sample\s+size|designed|required|requiring|detect|accru\w*|enrol\w*|powered)\b", re.I)
_CI_WORD = re.compile(r"\bconfidence\s+(?:interval|limit|bound)s?\b|\bCIs?\b")
_SENTENCE = re.compile(r"[^.;~]+(?:[.;~]|$)")
# The whole field is a bare statement of sides: "One-sided", "(one-sided)", "1-sided", "One-sided test".
_BARE = re.compile(r"^\W*(?:one|two|1|2)[\s-]*(?:sided|side|tailed)(?:\s+(?:test|p[\s-]*values?))?\W*$", re.I)


@dataclass(frozen=True)
class Sides:
    """1 or 2, and the field that said so (``"default"``: no text did)."""

    sides: int
    source: str


def _sides_of(word: re.Match[str]) -> int:
    k = (word.group("k") or word.group("u")).lower()
    return 1 if k in ("one", "1", "unilateral") else 2


def _p_sides_in(field: str, text: str) -> int | None:
    """The sides a text states of the p-value or its test; None when it states none or both."""
    if _BARE.match(text):
        return _sides_of(_SIDED.search(text))  # type: ignore[arg-type]
    found: set[int] = set()
    for sm in _SENTENCE.finditer(text):
        sentence = sm.group(0)
        if _DESIGN.search(sentence):
            continue
        for m in _SIDED.finditer(sentence):
            after = sentence[m.end() : m.end() + 60]
            if _ALPHA_NEXT.match(after):
                continue  # the level's sides ("One-sided significance level of 0.025")
            if _TEST_NEXT.match(after) or field == "statistical_method":
                found.add(_sides_of(m))  # "1-sided Log Rank", "One-sided p-value", "t-test, 1 sided"
            elif _P_WORD.search(sentence) or (_TEST_WORD.search(sentence) and not _CI_WORD.search(sentence)):
                found.add(_sides_of(m))  # "Reported p-values are unadjusted and 1-sided"
    return found.pop() if len(found) == 1 else None


def p_value_sides(fields: Mapping[str, str | None]) -> Sides:
    """Whether the posted p-value is one- or two-sided, read from ``fields`` in the order of :data:`SIDES_FIELDS`.

    The first field that states the sides of the p-value or its test decides. Real statements (AACT):

    >>> p_value_sides({"p_value_comment": "One-sided p-value based on log-rank test stratified by ECOG, HPV status"})
    Sides(sides=1, source='p_value_comment')
    >>> p_value_sides({"statistical_method": "1-sided Log Rank"})
    Sides(sides=1, source='statistical_method')
    >>> p_value_sides({"p_value_comment": "One-sided significance level of 0.025"})  # the alpha's sides
    Sides(sides=2, source='default')
    """
    for name in SIDES_FIELDS:
        text = fields.get(name)
        if text:
            s = _p_sides_in(name, text)
            if s is not None:
                return Sides(s, name)
    return Sides(SIDES_DEFAULT, "default")


def stated_alpha(fields: Mapping[str, str | None], p_sides: int) -> tuple[float, str, int]:
    """(alpha, source, sides) of an analysis: the level it states (sides as stated, else on the p-value's own
    scale), else 0.05 two-sided.

    >>> stated_alpha({"group_description": "Testing for superiority was based on the stratified log-rank test and "
    ...               "used a two-sided significance level of 2.5%."}, 2)
    (0.025, 'group_description', 2)
    >>> stated_alpha({}, 1)
    (0.05, 'default', 2)
    """
    a = L.alpha_from_text({f: fields.get(f) for f in ALPHA_TEXT_FIELDS})
    if a.source == "default":
        return L.ALPHA_DEFAULT, "default", 2
    return a.value, a.source, a.sides or p_sides


# --------------------------------------------------------------------------------------------------------------
# The confidence interval
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A readable two-sided interval: its level as a two-sided alpha (95% -> 0.05) and where it lies against the
    estimate's null: "excludes", "includes" or "touches" (a limit equals the null, as rounding leaves it)."""

    alpha: float
    position: str


def interval(rec: Mapping) -> Interval | None:
    """The posted CI of ``rec`` where it can be read: two-sided, a level in (50%, 100%), both limits, lower <=
    upper, an estimate type with a known null (``labels.estimate_null``), a ratio's limits above 0, and the
    estimate (where posted) inside its interval."""
    lo, hi, pct = rec["ci_lower"], rec["ci_upper"], rec["ci_percent"]
    if rec["ci_sides"] != "TWO_SIDED" or pct is None or not (50.0 < pct < 100.0):
        return None
    null = L.estimate_null(rec["estimate_type"])
    if lo is None or hi is None or null is None or math.isnan(lo) or math.isnan(hi) or lo > hi:
        return None
    if null == 1.0 and lo <= 0 and not re.search(r"\blog\b", rec["estimate_type"] or "", re.I):
        return None
    est = rec["estimate_value"]
    if est is not None and L.estimate_direction(est, lo, hi, rec["estimate_type"]) == "unknown":
        return None
    position = "touches" if null in (lo, hi) else "excludes" if (lo > null or hi < null) else "includes"
    return Interval(round(1.0 - pct / 100.0, 10), position)


def _two_sided(alpha: float, alpha_sides: int) -> float:
    """The two-sided level a stated alpha amounts to: a one-sided 0.025 is a two-sided 0.05."""
    return min(alpha * 2 if alpha_sides == 1 else alpha, 0.999999)


def _ci_decides(ci: Interval, alpha2: float) -> str:
    """Significance at the two-sided level ``alpha2`` from an interval at its own level: an interval that
    excludes the null at a level at least as strict as alpha2 is significant; one that includes it at a level
    at least as loose is not; anything else the interval cannot say."""
    if ci.position == "excludes" and ci.alpha <= alpha2 + 1e-12:
        return "significant"
    if ci.position == "includes" and ci.alpha >= alpha2 - 1e-12:
        return "not_significant"
    return "unknown"


# --------------------------------------------------------------------------------------------------------------
# The p-value
# --------------------------------------------------------------------------------------------------------------

_NEEDS_CI = "needs_ci"


def _bounds(p: float, mod: str | None) -> tuple[float, float, bool]:
    """(lowest, highest, highest_is_open) value the true p can take given its modifier."""
    m = (mod or "=").strip()
    if m in ("<", "<="):
        return 0.0, p, m == "<"
    if m in (">", ">="):
        return p, 1.0, False
    return p, p, False


def p_significance(p: float, mod: str | None, sides: int, alpha: float, alpha_sides: int) -> str:
    """Significance of a readable p-value at ``alpha`` (stated with ``alpha_sides``): "significant",
    "not_significant", "unknown", or "needs_ci" for a one-sided p so close to 1 that the arms may differ in the
    direction the test did not look at.

    >>> p_significance(0.0307, None, 2, 0.025, 2)  # NCT00069095: two-sided 2.5% stated
    'not_significant'
    >>> p_significance(0.9983, None, 1, 0.05, 2)  # KEYNOTE-048 PFS, pembro mono: HR 1.29 (1.09 to 1.53)
    'needs_ci'
    """
    if sides == 2:
        return L.significance(p, mod, _two_sided(alpha, alpha_sides))
    a1 = alpha if alpha_sides == 1 else alpha / 2
    lo, hi, open_hi = _bounds(p, mod)
    if hi < a1 or (open_hi and hi <= a1):
        return "significant"
    if lo >= a1:
        # not significant in the tested direction; the other direction's p is at least 1 - p (equal for a
        # continuous statistic, larger for a discrete one)
        return "not_significant" if 1.0 - hi >= a1 else _NEEDS_CI
    return "unknown"


def p_readable(p: float | None, mod: str | None) -> str:
    """ "read", "not_posted" or "zero_without_modifier" (AACT's "0" with no "<": a placeholder, not a p-value)."""
    if p is None or math.isnan(p):
        return "not_posted"
    if p == 0.0 and (mod or "=").strip() not in (">", ">="):
        return "zero_without_modifier"
    return "read"


# --------------------------------------------------------------------------------------------------------------
# The judgement
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """What an analysis shows. ``significance`` answers "do the two groups differ" (superiority analyses);
    ``ni_result`` answers "is non-inferiority/equivalence shown" (those analyses only, else None); ``reason``
    says why the answer is unknown, or what the label rests on when the p-value could not be used."""

    significance: str
    source: str | None
    reason: str | None
    p_ci_check: str
    ni_result: str | None = None


def _p_ci_check(p: float, mod: str | None, sides: int, ci: Interval | None) -> str:
    if ci is None:
        return "not_checkable"
    expected = p_significance(p, mod, sides, ci.alpha, 2)
    if expected not in ("significant", "not_significant"):
        return "not_checkable"
    if ci.position == "touches":  # a limit on the null, as rounding leaves it, fits either reading
        return "agree"
    return "disagree" if (expected == "significant") != (ci.position == "excludes") else "agree"


def judge(rec: Mapping) -> Judgement:
    """The label of one analysis from the values stored in ``rec`` (a comparison or a row built from it):
    ``p_value``, ``p_value_modifier``, ``p_value_sides``, ``alpha``, ``alpha_sides``, ``alpha_source``, the CI
    and estimate fields, ``is_non_inferiority`` and, for those, ``ni_margin_lower`` / ``ni_margin_upper``.

    >>> j = judge(dict(p_value=0.0, p_value_modifier=None, p_value_sides=2, alpha=0.05, alpha_sides=2,
    ...                alpha_source="default", ci_lower=0.8, ci_upper=1.3, ci_percent=95.0, ci_sides="TWO_SIDED",
    ...                estimate_type="Hazard Ratio (HR)", estimate_value=1.02, is_non_inferiority=False))
    >>> (j.significance, j.source, j.reason)
    ('not_significant', 'posted_ci', 'p_zero_without_modifier')
    """
    if rec.get("is_non_inferiority"):
        from .margins import Margin, margin_result

        lo_m, hi_m = rec.get("ni_margin_lower"), rec.get("ni_margin_upper")
        if lo_m is None and hi_m is None:
            return Judgement("unknown", None, "no_margin", "not_checkable", "unknown")
        kind = "equivalence" if (lo_m is not None and hi_m is not None) else "non_inferiority"
        res = margin_result(Margin(kind, lo_m, hi_m, "", ""), rec["ci_lower"], rec["ci_upper"])
        return Judgement("unknown", "posted_margin", None if res != "unknown" else "ci_missing", "not_checkable", res)

    ci = interval(rec)
    p, mod = rec["p_value"], rec["p_value_modifier"]
    state = p_readable(p, mod)
    alpha, alpha_sides, default_alpha = rec["alpha"], rec["alpha_sides"], rec["alpha_source"] == "default"
    alpha2 = _two_sided(alpha, alpha_sides)
    if state == "read":
        sides = rec["p_value_sides"]
        sig = p_significance(p, mod, sides, alpha, alpha_sides)
        check = _p_ci_check(p, mod, sides, ci)
        if sig == _NEEDS_CI:
            sig = _ci_decides(ci, alpha2) if ci is not None else "unknown"
            if sig == "unknown":
                return Judgement("unknown", None, "one_sided_p_may_favour_the_other_arm", check)
            # the one-sided p tested the other direction: the interval says whether the arms differ this way
            return Judgement(sig, "posted_ci", "one_sided_p_other_direction", check)
        if sig == "unknown":
            return Judgement("unknown", None, "p_bound_straddles_alpha", check)
        if default_alpha and ci is not None and abs(ci.alpha - L.ALPHA_DEFAULT) > 1e-9:
            other = p_significance(p, mod, sides, ci.alpha, 2)
            if other != sig:
                return Judgement("unknown", None, "alpha_unclear", check)
        return Judgement(sig, "posted_p_value", None, check)

    note = "p_zero_without_modifier" if state == "zero_without_modifier" else None
    if ci is None:
        return Judgement("unknown", None, note or ("no_p_value_or_ci" if rec["ci_lower"] is None else "ci_unreadable"),
                         "not_checkable")  # fmt: skip
    sig = _ci_decides(ci, alpha2)
    if default_alpha and abs(ci.alpha - L.ALPHA_DEFAULT) > 1e-9 and sig != _ci_decides(ci, ci.alpha):
        sig = "unknown"
    if sig == "unknown":
        return Judgement("unknown", None, "ci_touches_null" if ci.position == "touches" else "alpha_unclear",
                         "not_checkable")  # fmt: skip
    return Judgement(sig, "posted_ci", note, "not_checkable")
