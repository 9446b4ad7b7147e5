"""Non-inferiority and equivalence margins stated in free text, and whether a posted confidence interval clears them.

A non-inferiority or equivalence analysis is decided by its confidence interval against a margin, not by the
superiority p-value posted next to it. X-ACT (NCT00009737, disease-free survival) posted HR 0.87, 95% CI
0.75-1.00, p = 0.053, and the text "Non-inferiority was tested by comparing the upper limit of the 95% confidence
interval for the hazard ratio to the non-inferiority margin of 1.25 in a first step, and then of 1.20 in a second
step.": the upper limit 1.00 is below both margins, so non-inferiority was shown although p > 0.05.

:func:`read_margin` reads the margin an analysis states in its comments (:data:`MARGIN_FIELDS`) and
:func:`margin_result` compares it with the posted interval. Both follow the rest of the package: an answer is
given only where the text leaves one reading, otherwise :class:`MarginReading` carries a short reason.

What is read, each form from a real AACT string:

- a margin named as such: "the non-inferiority margin of 1.25", "The pre-specified non-inferiority margin
  (1.30)", "Margin for non-inferiority was set to 1.143", "The non-inferiority limit was -10 percentage points",
  "Non-inferiority limit: -1 day", "below the pre-specified 10% non-inferiority boundary", "(10% margin)",
  "the predefined limit of 1.23 (the non-inferiority margin)", "non-inferiority was assessed against a HR of 1.67";
- a confidence limit compared with a number: "the lower bound of the two-sided CI of the GMT ratio was >0.67",
  "the upper limit of the 95% confidence interval (CI) for the hazard ratio was 1.15 or less", "did not exceed
  1.7", "a confidence interval of the hazard ratio of T to CA should be wholly to the left of 1.3";
- a null hypothesis: "H0: HRA/B >/= 1.23 versus H1: HRA/B < 1.23", "Null hypothesis: Hazard Ratio (HR) >= 1.33";
- an equivalence interval: "[0.755, 1.325]", "(0.67, 1.5)", "0.80 to 1.25", "within the range 80%-125%",
  "(0.7586, 1/0.7586)", "(margin ±1 day)".

A margin is a number on the estimate's own scale (:func:`deepimagine_data.labels.estimate_null` gives the
scale): for a ratio it is positive and not 1, and its side follows from its value (1.25 is an upper margin, 0.67 a
lower one); for a difference its side comes from its sign or from the confidence limit the text compares
("lower limit ... above -12.5%"). Where the text does not settle the scale or the side, nothing is read:

- ``no_margin_stated``: no margin in any field.
- ``no_formal_test``: "No formal statistical testing was done.", "not powered for testing non-inferiority"
  (unless a margin is nevertheless applied, as in NCT00069095's "The same margins used for the PFS analysis
  [...] were therefore applied to OS as well").
- ``estimate_scale_unknown``: the posted estimate is not a ratio or a difference ("Kaplan-Meier estimate",
  "Fold Difference", none posted), so a margin cannot be placed.
- ``scale_unclear``: the margin is on another scale than the estimate: "Non-inferiority margin was set as 10%"
  for a risk difference posted as a fraction (-0.0847 to 0.0327, NCT02754661), a percent change for a ratio ("a
  relative difference of <20%"), a difference margin for a ratio, a margin on the log scale, a unitless ratio
  margin for a ratio posted as a percentage.
- ``side_unclear``: an unsigned difference margin with no confidence limit named ("Difference of 7.5 mm in VAS
  score was selected as the threshold value for clinical non-inferiority"), or statements that contradict each
  other on the side ("the lower bound of the interval is less than 1.5").
- ``margins_disagree``: several margins that give different answers for this interval (NCT00904813: "did not
  exceed 1.7", later "not exceeding 2.5 or 3.6"), or an upper and a lower margin for a non-inferiority analysis.

All functions are pure: no I/O, no global state. Regular expressions are compiled once, at import.

>>> reading = read_margin(
...     {"non_inferiority_comment": "Non-inferiority was declared if the upper confidence limit for the hazard "
...      "ratio (darbepoetin alfa to placebo) was less than 1.15 using a 1-sided significance level of 0.025."},
...     "Hazard Ratio (HR)", 0.83, 1.01, "Non-Inferiority")
>>> reading.margin.kind, reading.margin.lower, reading.margin.upper, reading.reason
('non_inferiority', None, 1.15, None)
>>> margin_result(reading.margin, 0.83, 1.01)
'shown'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .labels import estimate_null

__all__ = [
    "MARGIN_FIELDS",
    "MARGIN_REASONS",
    "MARGIN_RESULT_VALUES",
    "Margin",
    "MarginReading",
    "margin_result",
    "read_margin",
]

# The analyses columns that may state a margin, most specific first; the margin returned names its field.
MARGIN_FIELDS = ("non_inferiority_comment", "statistical_comment", "group_description", "p_value_comment",
                 "estimate_comment")  # fmt: skip
MARGIN_RESULT_VALUES = ("shown", "not_shown", "unknown")
MARGIN_REASONS = ("no_margin_stated", "no_formal_test", "estimate_scale_unknown", "scale_unclear", "side_unclear",
                  "margins_disagree")  # fmt: skip

_NI_KIND, _EQ_KIND = "non_inferiority", "equivalence"


@dataclass(frozen=True)
class Margin:
    """A non-inferiority or equivalence margin on the posted estimate's scale.

    ``lower`` is a margin below the null (shown iff the CI's lower limit is above it), ``upper`` one above the null
    (shown iff the CI's upper limit is below it); a non-inferiority margin has one of them, an equivalence margin
    both. ``null`` is the estimate's null on the same scale: 1.0 for a ratio, 100.0 for a ratio posted as a
    percentage ("Geometric mean ratio" 106.05, CI 94.82 to 118.6), 0.0 for a difference. ``ci_level`` is the
    confidence level the statement names ("97.5" for "the 2-sided 97.5% confidence interval"), else None: a
    caller may compare it with the posted interval's level (a one-sided 97.5% and a two-sided 95% limit are the
    same number).
    """

    kind: str
    lower: float | None
    upper: float | None
    source: str
    text: str
    null: float = 0.0
    ci_level: float | None = None


@dataclass(frozen=True)
class MarginReading:
    """The margin read for one analysis, or None and the reason (one of :data:`MARGIN_REASONS`).

    ``margins`` lists every margin read before one was chosen (X-ACT's 1.25 and 1.20), for audit.
    """

    margin: Margin | None
    reason: str | None
    margins: tuple[Margin, ...] = ()


def _finite(x: float | None) -> float | None:
    if x is None or not isinstance(x, (int, float)) or math.isnan(x) or math.isinf(x):
        return None
    return float(x)


def margin_result(margin: Margin, ci_lower: float | None, ci_upper: float | None) -> str:
    """Whether the posted interval clears ``margin``: "shown" | "not_shown" | "unknown".

    Non-inferiority with an upper margin is shown iff the CI's upper limit is strictly below it (X-ACT's 1.00 <
    1.20), not shown iff it is at or above it; with a lower margin, shown iff the lower limit is strictly above it.
    Equivalence needs both limits inside the interval. A limit that the decision needs and that was not posted
    (a one-sided interval such as NCT00041119's "[None, 1.48]" has no lower limit) gives "unknown".

    >>> margin_result(Margin("non_inferiority", None, 1.2, "non_inferiority_comment", "...", 1.0), 0.75, 1.0)
    'shown'
    >>> margin_result(Margin("equivalence", 0.755, 1.325, "non_inferiority_comment", "...", 1.0), 0.9185, 1.2659)
    'shown'
    >>> margin_result(Margin("non_inferiority", -10.0, None, "non_inferiority_comment", "..."), None, 9.2)
    'unknown'
    """
    lo, hi = _finite(ci_lower), _finite(ci_upper)
    checks: list[bool] = []
    if margin.lower is not None:
        if lo is None:
            return "unknown"
        checks.append(lo > margin.lower)
    if margin.upper is not None:
        if hi is None:
            return "unknown"
        checks.append(hi < margin.upper)
    if not checks:
        return "unknown"
    return "shown" if all(checks) else "not_shown"


# --------------------------------------------------------------------------------------------------------------
# Pieces of the patterns
# --------------------------------------------------------------------------------------------------------------


def _num(name: str, after: str = r"\w.,/·") -> str:
    # A number with an optional sign glued to it ("-12.5%", "−5"), a decimal point or a middle dot ("1·25",
    # NCT00072293's "less than 1·25"), and its unit. Not part of a word, a larger number ("10,000"), or a ratio of
    # arms ("HRA/B"): the lookbehind keeps "M1" (NCT01345019's "margin M1") and "θ1" from being numbers.
    return (
        rf"(?<![{after}])(?P<{name}_sign>[-−+])?(?P<{name}>\d+(?:[.·]\d+)?|[.·]\d+)(?!\d|,\d{{3}}\b|[.·]\d)"
        rf"(?P<{name}_unit>\s*(?:%|percent(?:age)?(?:\s+points?)?\b|pp\b))?"
    )


# Comparators, read as what the confidence limit must do. "Lower than" side: the number is an upper margin.
_LT = (
    r"(?:<=|=<|</=|<|≤|≦|less\s+than(?:\s+or\s+equal\s+to)?|(?:lower|smaller)\s+than(?:\s+or\s+equal\s+to)?|below"
    r"|at\s+most|no[t]?\s+(?:greater|more|higher|larger)\s+than|(?:did\s+)?not\s+exceed(?:ing)?"
    r"|to\s+the\s+left\s+of)"
)
# "Greater than" side: the number is a lower margin. "Higher or equal to 2" is NCT00676065's null hypothesis.
_GT = (
    r"(?:>=|=>|>/=|>|≥|≧|greater\s+than(?:\s+or\s+equal\s+to)?|(?:higher|larger|more)\s+than(?:\s+or\s+equal\s+to)?"
    r"|(?:higher|greater|larger)\s+or\s+equal\s+to|above|exceeds?|exceeding|at\s+least"
    r"|no[t]?\s+(?:less|lower|smaller)\s+than|not\s+below|to\s+the\s+right\s+of)"
)
# "less than (<) 1.1765" (NCT01120184), "greater than or equal to (≥) 0.8" (NCT00950300): a symbol repeating the
# words in parentheses.
_COMP = rf"(?:(?P<lt>{_LT})|(?P<gt>{_GT}))\s*(?:\(\s*[<>≤≥=/]+\s*\)\s*)?(?:the\s+)?"

_NI = r"(?:\bnon-?\s?inferiority|\bnoninferiority|\bNI\b|\bequivalence|\bbioequivalence)"

# A margin named as such. "upper"/"lower" only with margin words ("Upper Equivalence Margin=1.5 Lower Equivalence
# Margin=-1.5", NCT02331394), never "upper limit" alone, which is a confidence limit ("lower limit: 0.33").
# "assessed against a HR of 1.67" (NCT00331773) and "compared to 1.25 in 1-sided test of non-inferiority"
# (NCT00072293), the Greek deltas ("Non-inferiority margin is delta = 0.05") and a bare "margin" count only in a
# sentence about non-inferiority or equivalence (checked below): in oncology a margin is as often surgical or a
# radiotherapy planning margin ("PTV margin of 5 mm").
_CUE = (
    rf"(?:(?P<cueside>upper|lower)\s+(?:{_NI}\s+(?:margin|limit|bound|boundary)|margin)s?\b"
    rf"|{_NI}\s+(?:margin|limit|boundary|bound|threshold|criterion)s?\b"
    rf"|\bmargins?\s+(?:of|for)\s+(?:clinical\s+)?{_NI}"
    r"|(?P<weak>\bpre-?(?:defined|specified)\s+(?:limit|bound|boundary|threshold)s?\b|\bmargins?\b"
    r"|(?:assessed|tested|compared)\s+(?:against|to|with)\b|δ|Δ|∆|\bdelta\b))"
)
# The words between a cue and its number: no digits (so a cue never reaches past a first number that is not a
# margin), at most 60 characters ("The margin of non-inferiority to be used in the study is 0.62 day", NCT02643420).
_GAP = r"(?P<gap>[^\d;~±]{0,60}?)"
_CUE_RE = re.compile(rf"(?:{_COMP})?(?:pre-?(?:specified|defined)\s+)?{_CUE}{_GAP}{_num('v')}", re.I)
# Words that mean the number after the cue is something else: "margin ... with a power of 85%", a result ("the
# non-inferiority margin was met: HR 0.85").
_GAP_REJECT = re.compile(
    r"\b(?:power|alpha|significance|sample|patients|participants|subjects|events|assum\w*|expected|median"
    r"|confidence|CI|p-?values?|interval|rate\s+of|met|meets?|achieved|shown|demonstrated|observed|results?"
    r"|estimated|reported|found|obtained|actual)\b|α|β",
    re.I,
)
# A number before its cue: "the pre-specified 10% non-inferiority boundary" (NCT00080912), "(10% margin)"
# (NCT02273141), "The use of 0.8 as margin" (NCT00715078).
_REV_RE = re.compile(
    _num("v") + rf"\s+(?:(?:{_NI}\s+)?(?:margin|boundary)\b|as\s+(?:the\s+)?(?:{_NI}\s+)?margin\b)",
    re.I,
)
# "Difference of 7.5 mm in VAS score was selected as the threshold value for clinical non-inferiority" (NCT00644787).
_THRESHOLD_RE = re.compile(
    r"\bdifference\s+of\s+" + _num("v") + r"[^.;~]{0,60}?\b(?:threshold|margin)\s+(?:value\s+)?for\s+(?:clinical\s+)?"
    r"non-?\s?inferiority",
    re.I,
)
# X-ACT: "the non-inferiority margin of 1.25 in a first step, and then of 1.20 in a second step"; NCT00904813:
# "non-inferiority at an HR not exceeding 2.5 or 3.6".
_CONT_RE = re.compile(r"[^\d;~]{0,30}?\b(?:and\s+then|then|or)\s+(?:of\s+|at\s+|to\s+)?" + _num("v"), re.I)
# A confidence limit compared with a number ("lower bound ... was >0.67"), and a number followed by its comparator
# ("the upper limit of the 95% confidence interval (CI) for the hazard ratio was 1.15 or less", NCT00777101).
_LITERAL_RE = re.compile(_COMP + _num("v"), re.I)
_POST_RE = re.compile(
    _num("v") + r"\s+or\s+(?:(?P<plt>less|lower|smaller|below)|(?P<pgt>more|greater|higher|larger|above))\b", re.I
)
# A null hypothesis with its comparator, which is the opposite of the margin's side: "H0: HRA/B >/= 1.23" is an
# upper margin, "H0: OR(...) </= 0.66" a lower one. The first comparator after the hypothesis is taken, never one
# of the alternative: NCT00079001's "null hypothesis was that the hazard ratio is greater than or equal to 1.0
# versus the alternative hypothesis that the hazard ratio is less than 0.77" reads 1.0 (the null, so nothing).
_H0_RE = re.compile(
    r"(?:\bH0\w?\b|\bHo\b|H₀|\bnull\s+hypothes[ie]s\b)"
    r"(?:(?!\b(?:H1\w?|Ha|alternative|reject\w*|if|when|conclude\w*|bound|limit)\b).){0,250}?" + _COMP + _num("v"),
    re.I,
)

# Equivalence intervals: "[0.755, 1.325]" (NCT03556358), "(0.7586, 1/0.7586)" (NCT01901146), "0.80 to 1.25"
# (NCT01989676), "within the range 80%-125%" (NCT02737332), "within 70-143%" (NCT02163733), "between -15% and
# 15%", "(margin ±1 day)" (NCT01516736).
_RECIP = r"(?P<b_recip>1\s*/\s*)?"
_IV_BRACKET_RE = re.compile(
    r"[\[(]\s*" + _num("a") + r"\s*[,;]\s*" + _RECIP + _num("b", after=r"\w.·") + r"\s*[\])]", re.I
)
_IV_RANGE_RE = re.compile(_num("a") + r"(?P<sep>\s*(?:to|–|—|-)\s*)" + _num("b"), re.I)
_IV_BETWEEN_RE = re.compile(r"\bbetween\s+" + _num("a") + r"\s+and\s+" + _num("b"), re.I)
_IV_PM_RE = re.compile(r"\bmargins?\s*(?::|of|=|is)?\s*(?:±|\+/-|\+/−)\s*" + _num("b"), re.I)
# An interval is a margin only right after words that make it one, within 80 characters and with no number in
# between but a confidence level ("EU equivalence margins (95% CI in -13% to 13%)", NCT02364999): "The 90 % CI
# based on synthesis method is (0.45,1.38)" (NCT03288987) has no such word, "equivalence was shown: HR 0.95
# (0.80-1.12)" has a number in between ...
_IV_CUE = re.compile(r"\b(?:margins?|equivalen\w*|within|contained|range|acceptance|interval|limits)\b", re.I)
# ... and "(95% confidence interval 0.72 to 1.01)" or "95% CI: 0.72-1.01" is a confidence interval.
_IV_IS_CI = re.compile(
    r"(?:\bCIs?|\bC\.I\.|confidence\s+(?:intervals?|limits?)|calculated|estimated)\s*(?:\([^()]*\))?\s*"
    r"(?:\bis\b|\bwas\b|\bwere\b|\bof\b|=|:|,)?\s*$",
    re.I,
)

# Numbers that are not margins, by what follows: a confidence level ("95% CI", "97.5% confidence"), a power, a
# count, an age or a dose ...
_AFTER_REJECT = re.compile(
    r"^\s*(?:%\s*)?(?:(?:one|two|1|2)[\s-]*sided\s+)?(?:CIs?\b|C\.I\.|confidence|repeated\s+confidence|power\b"
    r"|significance|level\b|alpha|type\s+I\b|CLs?\b)"
    r"|^\s*(?:years?|yrs?|mg|mcg|µg|μg|ml|patients|subjects|participants|women|men|events|deaths|cases|-?fold\b"
    r"|x\b)|^-(?:years?|months?|weeks?|days?)\b",
    re.I,
)
# ... and by what precedes: a p-value, an alpha, a power, a sample size, a visit ("Week 12"), a sidedness.
_BEFORE_REJECT = re.compile(
    r"(?:\bp(?:[\s-]*values?)?|\balpha|α|β|\bbeta|\bpower|\bsignificance\s+level|\blevel\s+of|\bn|\bweek|\bday"
    r"|\bcycle|\bvisit|\bmonth|\blot|\btype|\bhpv|\bpart|\barm|\bgroup|\bperiod|\bstage|\bphase|\bgrade"
    r"|(?:one|two|1|2)[\s-]*sided)\s*(?:[=:<>≤≥/]|\bof\b|\bis\b|\bwas\b|\bor\b|\bthan\b|\bequal\b|\bto\b|\s)*$",
    re.I,
)

# Which confidence limit a sentence compares: "lower 1-sided 97.5% confidence limits", "lower bound (LCL)",
# "upper confidence limit", "wholly to the left of 1.3" (NCT00041119: the interval lies below the margin).
_LIMIT = r"(?:\s+[\w%.()-]+){0,4}?\s+(?:limit|bound|boundary|CLs?)s?\b"
_LOWER_CI = re.compile(r"\blower" + _LIMIT + r"|\bLCL\b|to\s+the\s+right\s+of", re.I)
_UPPER_CI = re.compile(r"\bupper" + _LIMIT + r"|\bUCL\b|to\s+the\s+left\s+of", re.I)
# A sentence about non-inferiority or equivalence, and one that names the estimate: a bare comparison counts only
# in such a sentence ("Capecitabine would be considered noninferior to standard chemotherapy if the hazard ratio
# was greater than 0.8046"), never in "a response rate of 60% or less in the single fraction radiation group".
_NI_WORDS = re.compile(r"non-?\s?inferior|noninferior|equivalen|\bNI\b", re.I)
_EST_WORDS = re.compile(r"differen|ratio|\b(?:HR|OR|RR)s?\b|hazard|odds|estimate|\bGMT|contrast", re.I)
# ... and only as said of the estimate or of a confidence limit, named since the previous number: "the lower bound of
# the two-sided 95% CI of the GMT ratio was >0.67", "the hazard ratio was greater than 0.8046", never "in patients
# with ECOG <= 1" or "The p-value for non-inferiority was < 0.001".
_SUBJECT = re.compile(
    r"\b(?:limits?|bounds?|boundary|CIs?|CLs?|interval|confidence|differen\w*|ratios?|HRs?|ORs?|RRs?|hazard|odds"
    r"|estimates?|GMTs?|contrast|margins?|change)\b|[Δδ∆θ]",
    re.I,
)
# Numbers in parentheses ("GMT ratio (9 to 19 years old/20 to 26 years old) was greater than 0.67", NCT03493542)
# or inside names ("AZD9291") do not end the window.
_PARENTHETICAL = re.compile(r"\([^()]*\)")
_PREV_NUMBER = re.compile(r".*(?<![\w.])\d+(?:\.\d+)?(?![\w.])", re.S)
# A stopping boundary is no margin: NCT01798485's "if the lower limit of the 2-sided 99.5% confidence interval (CI)
# for the Hazard Ratio was greater than 0.75, then the study could be stopped for futility".
_FUTILITY = re.compile(r"\bfutil", re.I)
_ALTERNATIVE = re.compile(r"\b(?:alternative|H1\w?|Ha)\b[^.;]{0,60}$", re.I)
_LOG_SCALE = re.compile(r"\blog(?:arithmic)?\s+scale|\blog[\s-]+(?:hazard|odds|risk|rate)?\s*ratio|\blog\s*\(", re.I)
_WORD_DIGITS = re.compile(r"\w*[A-Za-z]\w*")  # "AZD9291", "H0a", "θ1": digits inside a name
_CI_LEVEL = re.compile(
    r"(?<![\d.])(\d{2}(?:\.\d+)?)\s*%\s*(?:(?:one|two|1|2)[\s-]*sided\s+)?(?:CIs?\b|C\.I\.|confidence|repeated\s+conf"
    r"|CLs?\b)",
    re.I,
)

# Text that says the analysis was not formally tested: NCT00069095's "No formal statistical testing was done.",
# "This study was not powered for testing non-inferiority ...", NCT02254486's "Formal hierarchical testing of this
# key secondary endpoints was not performed", NCT03002454's "no statistical analysis was conducted".
_NO_TEST = re.compile(
    r"\bno\s+formal\s+(?:statistical\s+)?(?:hypothesis\s+)?(?:testing|tests?|comparisons?)\b"
    r"|\bformal\s+(?:\w+\s+){0,3}?testing\b[^.;]{0,80}?\b(?:was|were)\s+not\s+(?:performed|done|conducted|applied)"
    r"|\bnot\s+(?:formally\s+tested|(?:powered|designed)\s+(?:for|to)\s+(?:test(?:ing)?\s+|demonstrate\s+|show\s+)?"
    r"(?:the\s+)?(?:non-?\s?inferiority|noninferiority|equivalence))"
    r"|\bno\s+statistical\s+(?:analysis|analyses|testing|comparisons?)\b",
    re.I,
)
# ... unless the margin's own sentence applies it: "were therefore applied to OS as well" (NCT00069095), "the
# pre-specified margin (1.30) was compared with the upper limit" (NCT00069108).
_APPLIED = re.compile(r"\b(?:applied|compared|used)\b", re.I)

# Sentences: split at a full stop, semicolon or "~" (AACT's line break), not inside "vs. OCs" or "i.e., the".
_SENTENCE = re.compile(
    r"(?<!\bvs\.)(?<!\bi\.e\.)(?<!\be\.g\.)(?<!\bal\.)(?<!\bNo\.)(?<=[.;!?])\s+(?=[A-Z(\[])|\s*~\s*|\n+"
)

_PERCENT_TYPE = re.compile(r"percent|%", re.I)
_RISK_TYPE = re.compile(r"risk|proportion|rate|percent|%|probabilit", re.I)
_HAZARD_TYPE = re.compile(r"hazard|\bHR\b|\bcox\b", re.I)
_LOG_TYPE = re.compile(r"\blog\b", re.I)


# --------------------------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cand:
    # One number (or interval) read from one sentence, before it is placed on the estimate's scale.
    how: str  # "cue", "literal", "h0", "interval"
    value: float | None  # a single margin as written (with its sign)
    lo: float | None  # an interval's limits
    hi: float | None
    signed: bool  # the single number was written with a sign
    percent: bool
    side: str | None  # "lower" | "upper" | "conflict" | None: what the words say
    ci_side: str | None  # which confidence limit the sentence names
    source: str
    text: str
    ci_level: float | None
    log: bool


def _to_float(s: str) -> float:
    return float(s.replace("·", "."))


def _signed(m: re.Match, name: str) -> tuple[float, bool]:
    v = _to_float(m.group(name))
    sign = m.group(f"{name}_sign")
    if sign and sign in "-−":
        v = -v
    return v, bool(sign)


def _is_percent(m: re.Match, name: str) -> bool:
    return bool(m.group(f"{name}_unit"))


def _not_a_margin(sentence: str, start: int, end: int) -> bool:
    return bool(_AFTER_REJECT.match(sentence[end:]) or _BEFORE_REJECT.search(sentence[max(0, start - 30) : start]))


def _span_text(sentence: str, start: int, end: int) -> str:
    s = sentence.strip()
    if len(s) <= 300:
        return s
    return sentence[max(0, start - 150) : end + 100].strip()


def _merge_sides(*sides: str | None) -> str | None:
    found = {s for s in sides if s}
    if not found:
        return None
    return found.pop() if len(found) == 1 else "conflict"


def _sentence_candidates(sentence: str, source: str) -> list[_Cand]:
    if not any(ch.isdigit() for ch in sentence):
        return []
    lower_ci, upper_ci = bool(_LOWER_CI.search(sentence)), bool(_UPPER_CI.search(sentence))
    ci_side = "lower" if lower_ci and not upper_ci else "upper" if upper_ci and not lower_ci else None
    ni_sentence = bool(_NI_WORDS.search(sentence))
    futility = bool(_FUTILITY.search(sentence))
    literal_ok = not futility and (
        (lower_ci or upper_ci) or (ni_sentence and bool(_EST_WORDS.search(sentence)) and source != "p_value_comment")
    )
    lv = _CI_LEVEL.search(sentence)
    ci_level = float(lv.group(1)) if lv else None
    log = bool(_LOG_SCALE.search(sentence))
    used: list[tuple[int, int]] = []
    out: list[_Cand] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in used)

    def add(how: str, m: re.Match, value, signed: bool, percent: bool, side, lo=None, hi=None) -> None:
        text = _span_text(sentence, m.start(), m.end())
        out.append(_Cand(how, value, lo, hi, signed, percent, side, ci_side, source, text, ci_level, log))

    # Intervals first, so that "margin of 0.80 to 1.25" is not also read as a single margin of 0.80.
    for rx in (_IV_BRACKET_RE, _IV_BETWEEN_RE, _IV_RANGE_RE):
        for m in rx.finditer(sentence):
            if not free(m.start(), m.end()):
                continue
            before = sentence[max(0, m.start() - 80) : m.start()]
            cues = list(_IV_CUE.finditer(before))
            if not cues or _IV_IS_CI.search(before):
                continue
            if any(ch.isdigit() for ch in _WORD_DIGITS.sub("", _CI_LEVEL.sub("", before[cues[-1].end() :]))):
                continue
            if _not_a_margin(sentence, m.start(), m.end()):
                continue
            a, _ = _signed(m, "a")
            b, _ = _signed(m, "b")
            if m.groupdict().get("b_recip"):
                if b == 0:
                    continue
                b = 1.0 / b
            if rx is _IV_RANGE_RE and m.group("b_sign") and not m.group("sep").strip().lower() == "to":
                continue  # "5.5 - -3" is no range: a signed upper end needs "to" ("-10 to +10") or brackets
            used.append((m.start(), m.end()))
            add("interval", m, None, False, _is_percent(m, "a") or _is_percent(m, "b"), None, a, b)
    for m in _IV_PM_RE.finditer(sentence):
        if free(m.start(), m.end()):
            used.append((m.start(), m.end()))
            b = _to_float(m.group("b"))
            add("interval", m, None, False, _is_percent(m, "b"), None, -b, b)

    def single(how: str, m: re.Match, side: str | None) -> None:
        v, signed = _signed(m, "v")
        if not free(m.start("v"), m.end()) or _not_a_margin(sentence, m.start("v"), m.end()):
            return
        used.append((m.start("v"), m.end()))
        add(how, m, v, signed, _is_percent(m, "v"), side)
        # "... of 1.25 in a first step, and then of 1.20"; "not exceeding 2.5 or 3.6"
        pos = m.end()
        while True:
            c = _CONT_RE.match(sentence, pos)
            if not c or not free(c.start("v"), c.end()) or _not_a_margin(sentence, c.start("v"), c.end()):
                break
            used.append((c.start("v"), c.end()))
            cv, csigned = _signed(c, "v")
            add(how, c, cv, csigned, _is_percent(c, "v"), side)
            pos = c.end()

    if not futility:
        for m in _H0_RE.finditer(sentence):
            single("h0", m, "lower" if m.group("lt") else "upper")
    for rx in (_CUE_RE, _REV_RE, _THRESHOLD_RE):
        for m in rx.finditer(sentence):
            gd = m.groupdict()
            if gd.get("gap") and _GAP_REJECT.search(gd["gap"]):
                continue
            if (gd.get("weak") or rx is not _CUE_RE) and not ni_sentence:
                continue
            cue_side = (gd.get("cueside") or "").lower() or None
            comp_side = "upper" if gd.get("lt") else "lower" if gd.get("gt") else None
            single("cue", m, _merge_sides(cue_side, comp_side))
    if literal_ok:
        for m in _LITERAL_RE.finditer(sentence):
            before = sentence[max(0, m.start() - 150) : m.start()]
            if _ALTERNATIVE.search(before[-60:]):
                continue
            before = _PARENTHETICAL.sub(" ", before)
            prev = _PREV_NUMBER.match(before)
            if not _SUBJECT.search(before[prev.end() :] if prev else before):
                continue
            single("literal", m, "upper" if m.group("lt") else "lower")
    if literal_ok and (lower_ci or upper_ci):
        for m in _POST_RE.finditer(sentence):
            single("literal", m, "upper" if m.group("plt") else "lower")
    return out


def _candidates(fields: Mapping[str, str | None]) -> tuple[list[_Cand], bool]:
    cands: list[_Cand] = []
    no_test = False
    for source in MARGIN_FIELDS:
        text = fields.get(source)
        if not text or not isinstance(text, str):
            continue
        if _NO_TEST.search(text):
            no_test = True
        if not any(ch.isdigit() for ch in text):
            continue
        for sentence in _SENTENCE.split(text):
            if sentence:
                cands.extend(_sentence_candidates(sentence, source))
    return cands, no_test


# --------------------------------------------------------------------------------------------------------------
# Placing a candidate on the estimate's scale
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    null: float  # 1.0 ratio, 0.0 difference (incl. log ratios)
    log_ratio: bool
    hazard: bool
    ratio_percent: bool | None  # a ratio posted as a percentage (CI 94.82 to 118.6); None when it cannot be told
    diff_percent: bool  # a difference posted in percent (type says so, or a limit beyond +-1)
    risk: bool  # a difference of risks, rates or proportions


def _scale(estimate_type: str, null: float, ci_lower: float | None, ci_upper: float | None) -> _Scale:
    limits = [x for x in (ci_lower, ci_upper) if x is not None]
    if not limits:
        ratio_percent = None
    elif all(x > 10 for x in limits):
        ratio_percent = True  # "Geometric mean ratio" 27.16 (24.36, 30.29): AZD9291 with rifampicin, NCT02197247
    elif all(x < 10 for x in limits):
        ratio_percent = False
    else:
        ratio_percent = None
    return _Scale(
        null=null,
        log_ratio=null == 0.0 and bool(_LOG_TYPE.search(estimate_type)),
        hazard=bool(_HAZARD_TYPE.search(estimate_type)),
        ratio_percent=ratio_percent,
        diff_percent=bool(_PERCENT_TYPE.search(estimate_type)) or any(abs(x) > 1 for x in limits),
        risk=bool(_RISK_TYPE.search(estimate_type)),
    )


# The outcome of placing one candidate: a margin, or why not ("drop" = not a margin at all, e.g. the null itself
# or a superiority threshold such as NCT01120184's "Superiority was achieved if the upper bound of the 97.5% CI
# was <1.00"), with the magnitude of an unsided one so that a sided statement of the same number can settle it.
@dataclass(frozen=True)
class _Placed:
    status: str  # "ok" | "drop" | "scale_unclear" | "side_unclear"
    margin: Margin | None = None
    magnitude: float | None = None


def _margin(c: _Cand, kind: str, lower: float | None, upper: float | None, null: float) -> _Placed:
    return _Placed("ok", Margin(kind, lower, upper, c.source, c.text, null, c.ci_level))


def _place_interval(c: _Cand, sc: _Scale) -> _Placed:
    lo, hi = min(c.lo, c.hi), max(c.lo, c.hi)
    if sc.null == 1.0:
        if c.percent:
            # A ratio written as a percentage of the reference, "within the range 80%-125%" (NCT02737332): it has
            # one reading only when it brackets 100%, and it is placed on the posted scale.
            if not lo < 100.0 < hi or sc.ratio_percent is None:
                return _Placed("scale_unclear")
            return (_margin(c, _EQ_KIND, lo, hi, 100.0) if sc.ratio_percent
                    else _margin(c, _EQ_KIND, lo / 100.0, hi / 100.0, 1.0))  # fmt: skip
        if lo <= 0 or sc.ratio_percent:
            return _Placed("scale_unclear")  # "(-5, 5)" for a ratio; "0.8 to 1.25" for a ratio posted as 99.4
        return _margin(c, _EQ_KIND, lo, hi, 1.0) if lo < 1.0 < hi else _Placed("drop")
    if sc.log_ratio and not c.log:
        return _Placed("scale_unclear")
    if c.percent and not sc.diff_percent:
        return _Placed("scale_unclear")
    if not c.percent and max(abs(lo), abs(hi)) < 1 and sc.risk and sc.diff_percent:
        return _Placed("scale_unclear")
    return _margin(c, _EQ_KIND, lo, hi, 0.0) if lo < 0.0 < hi else _Placed("drop")


def _place_single(c: _Cand, sc: _Scale) -> _Placed:
    v = c.value
    side = _merge_sides(c.side, c.ci_side)
    if side == "conflict":
        # NCT02613364: "If the lower bound of the interval is less than 1.5 then we conclude that YOCAS is
        # non-inferior": a lower limit that must stay below a number is no non-inferiority rule.
        return _Placed("side_unclear", magnitude=abs(v))
    if sc.null == 1.0:
        if c.percent:
            # "Upper bound of the 90% CIs below 200%" (NCT02157883), "lower bound of the 90% CIs ... above 50%"
            # (NCT02197247): a ratio as a percentage, readable only with the confidence limit named and on its
            # side of 100%. "non-inferiority margin of 15%" or "a relative difference of <20%" is a percent
            # change of unknown direction.
            by_value = "upper" if v > 100 else "lower" if 0 < v < 100 else None
            if by_value is None or c.ci_side != by_value or sc.ratio_percent is None:
                return _Placed("scale_unclear")
            m = v if sc.ratio_percent else v / 100.0
            null = 100.0 if sc.ratio_percent else 1.0
            return _margin(c, _NI_KIND, m if by_value == "lower" else None, m if by_value == "upper" else None, null)
        if v <= 0 or sc.ratio_percent:
            return _Placed("scale_unclear")  # "greater than -5%" for a ratio; "1.25" for a ratio posted as 106.05
        if v == 1.0:
            return _Placed("drop")
        by_value = "upper" if v > 1 else "lower"
        if side and side != by_value:
            if c.how in ("literal", "h0"):
                return _Placed("drop")  # a threshold on the far side of the null: superiority, not a margin
            return _Placed("side_unclear", magnitude=v)
        return _margin(c, _NI_KIND, v if by_value == "lower" else None, v if by_value == "upper" else None, 1.0)
    # A difference (or a log ratio).
    if sc.log_ratio and not c.log:
        return _Placed("scale_unclear")
    if c.percent and not sc.diff_percent:
        # NCT02754661: "Non-inferiority margin was set as 10%" for a risk difference posted as -0.0847 to 0.0327:
        # 10% may be 0.10 or 10, and either is a guess.
        return _Placed("scale_unclear")
    if not c.percent and abs(v) < 1 and sc.risk and sc.diff_percent:
        return _Placed("scale_unclear")  # a fraction ("-0.10") for a difference of rates posted in percent
    if v == 0:
        return _Placed("drop")
    if c.how in ("literal", "h0"):
        # The number is the threshold as written: "lower limit of the one-sided 97.5% CI was above -12.5%". On the
        # wrong side of the null it is another criterion (NCT03085095's "lower bound of the 95% CI >= 90% for the
        # relugolix group" is a single-arm rate).
        if (side == "lower" and v < 0) or (side == "upper" and v > 0):
            return _margin(c, _NI_KIND, v if side == "lower" else None, v if side == "upper" else None, 0.0)
        return _Placed("drop")
    # A margin named as such: its sign, or the confidence limit named, gives its side; a magnitude written without
    # a sign takes the side of the limit ("a non-inferiority margin of 12.5%" with "lower limit").
    by_sign = ("lower" if v < 0 else "upper") if c.signed else None
    side = _merge_sides(side, by_sign)
    if side in (None, "conflict"):
        return _Placed("side_unclear", magnitude=abs(v))
    m = -abs(v) if side == "lower" else abs(v)
    return _margin(c, _NI_KIND, m if side == "lower" else None, m if side == "upper" else None, 0.0)


def _place(c: _Cand, sc: _Scale) -> _Placed:
    return _place_interval(c, sc) if c.how == "interval" else _place_single(c, sc)


# --------------------------------------------------------------------------------------------------------------
# Choosing one margin
# --------------------------------------------------------------------------------------------------------------


def _ni_type(ni_type: str | None) -> str:
    # AACT spells "Non-Inferiority", "Equivalence", "Non-Inferiority or Equivalence (legacy)"; the normalized
    # tables NON_INFERIORITY, EQUIVALENCE, NON_INFERIORITY_OR_EQUIVALENCE(_LEGACY). Anything else is read as
    # "either".
    key = re.sub(r"[^a-z]+", "_", (ni_type or "").lower()).strip("_")
    if key == "non_inferiority":
        return _NI_KIND
    if key == "equivalence":
        return _EQ_KIND
    return "either"


def _dedupe(margins: list[Margin]) -> list[Margin]:
    seen: set[tuple] = set()
    out = []
    for m in margins:
        key = (m.kind, m.lower, m.upper)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def _agree(margins: list[Margin], ci_lower: float | None, ci_upper: float | None) -> bool:
    return len({margin_result(m, ci_lower, ci_upper) for m in margins}) == 1


def _strictest_single(margins: list[Margin], ci_lower, ci_upper) -> Margin | None:
    # Several margins on one side (X-ACT: 1.25, then 1.20): the one closest to the null, if every one of them
    # gives this interval the same answer; else None (margins_disagree).
    if not margins or not _agree(margins, ci_lower, ci_upper):
        return None
    if margins[0].upper is not None:
        return min(margins, key=lambda m: m.upper)
    return max(margins, key=lambda m: m.lower)


def _choose(ok: list[Margin], kind: str, ci_lower, ci_upper) -> tuple[Margin | None, str | None]:
    intervals = [m for m in ok if m.kind == _EQ_KIND]
    uppers = [m for m in ok if m.kind == _NI_KIND and m.upper is not None]
    lowers = [m for m in ok if m.kind == _NI_KIND and m.lower is not None]
    limits = {x for m in intervals for x in (m.lower, m.upper)}
    # A one-sided statement of an interval's own limit (NCT03556358's "H0a: θ1 / θ2 > 1.325") adds nothing.
    uppers = [m for m in uppers if m.upper not in limits]
    lowers = [m for m in lowers if m.lower not in limits]

    def equivalence() -> tuple[Margin | None, str | None]:
        if intervals:
            if not _agree(intervals, ci_lower, ci_upper):
                return None, "margins_disagree"
            return min(intervals, key=lambda m: m.upper - m.lower), None
        lo = _strictest_single(lowers, ci_lower, ci_upper)
        hi = _strictest_single(uppers, ci_lower, ci_upper)
        if lo is None or hi is None:
            return None, "margins_disagree"
        text = lo.text if lo.text == hi.text else f"{lo.text} … {hi.text}"
        ci_level = lo.ci_level if lo.ci_level == hi.ci_level else None
        return Margin(_EQ_KIND, lo.lower, hi.upper, lo.source, text, lo.null, ci_level), None

    def non_inferiority() -> tuple[Margin | None, str | None]:
        if uppers and lowers:
            return None, "margins_disagree"
        m = _strictest_single(uppers or lowers, ci_lower, ci_upper)
        return (m, None) if m else (None, "margins_disagree")

    singles = bool(uppers or lowers)
    if kind == _EQ_KIND:
        # "Equivalence" with one side only is a one-sided claim (NCT00041119: "For T to be considered equivalent
        # to the standard CA, a confidence interval of the hazard ratio of T to CA should be wholly to the left of
        # 1.3"); with both sides, the two one-sided statements make the interval.
        if intervals or (uppers and lowers):
            return equivalence()
        return non_inferiority()
    if kind == _NI_KIND:
        # NCT01516736 states both: "equivalence ... (margin ±1 day) and ... non-inferiority ... using a tighter
        # margin of -0.6 days"; its non-inferiority analysis takes -0.6.
        return non_inferiority() if singles else equivalence()
    if intervals and not singles:
        return equivalence()
    if singles and not intervals:
        return equivalence() if (uppers and lowers) else non_inferiority()
    eq, reason = equivalence()
    ni, reason_ni = non_inferiority()
    if eq is None or ni is None or margin_result(eq, ci_lower, ci_upper) != margin_result(ni, ci_lower, ci_upper):
        return None, "margins_disagree"
    return eq, None


def read_margin(
    fields: Mapping[str, str | None],
    estimate_type: str | None,
    ci_lower: float | None,
    ci_upper: float | None,
    ni_type: str | None,
) -> MarginReading:
    """The non-inferiority or equivalence margin an analysis states, on its estimate's scale, or why there is none.

    ``fields`` maps the names in :data:`MARGIN_FIELDS` to their texts (missing names are read as empty);
    ``estimate_type`` is the posted estimate's type ("Hazard Ratio (HR)", "Risk Difference (RD)"); the CI limits
    are the posted ones (either may be None, as in one-sided intervals); ``ni_type`` is AACT's
    non_inferiority_type in either spelling ("Non-Inferiority or Equivalence", "EQUIVALENCE"): it picks the
    equivalence interval or the one-sided margin where a text states both, and is otherwise only a hint.

    Several margins on one side (X-ACT: "the non-inferiority margin of 1.25 in a first step, and then of 1.20")
    give the strictest when each gives this interval the same answer, else ``margins_disagree``. An unsigned
    difference margin is settled by a signed statement of the same number in any field (NCT00950300: "margin of
    12.5%" and "lower limit ... above -12.5%"); a margin restated on another scale next to one on the estimate's
    (NCT00041119: "wholly to the left of 1.3, corresponding to a 30% increase in hazard rate") is a translation,
    and is passed over. A lower margin for a hazard ratio gives ``side_unclear``: every hazard-ratio margin in the
    AACT oncology snapshot lies above 1 except NCT00024102's "noninferior ... if the hazard ratio was greater than
    0.8046", whose text puts capecitabine in the numerator and whose posted HR 2.09 (1.38 to 3.17) would then read
    as shown for a trial that found capecitabine inferior.

    >>> fields = {"non_inferiority_comment": "Two one-sided hypothesis tests were performed for pCR in order to show "
    ...           "that TX05 is equivalent to Herceptin:~TEST 1: H0a: θ1 / θ2 > 1.325 vs. H1a: θ1 / θ2 < 1.325~TEST 2: "
    ...           "H0b: θ1 / θ2 < 0.755 vs. H1b: θ1 / θ2 > 0.755~Where θ1 is the proportion of pCR for subjects "
    ...           "randomized to TX05 group, θ2 is the proportion of pCR for subjects randomized to Herceptin. "
    ...           "Equivalence was concluded if the 95% CI of the risk ratio is completely contained within the "
    ...           "pre-defined interval [0.755, 1.325]."}
    >>> r = read_margin(fields, "Risk Ratio (RR)", 0.9185, 1.2659, "Equivalence")
    >>> r.margin.kind, r.margin.lower, r.margin.upper, margin_result(r.margin, 0.9185, 1.2659)
    ('equivalence', 0.755, 1.325, 'shown')
    >>> read_margin({"non_inferiority_comment": "No formal statistical testing was done."}, "Hazard Ratio (HR)",
    ...             0.97, 1.2, "NON_INFERIORITY_OR_EQUIVALENCE").reason
    'no_formal_test'
    """
    cands, no_test = _candidates(fields)
    if no_test:
        # A margin counts only where its own sentence applies it (NCT00069095's OS analysis).
        cands = [c for c in cands if _APPLIED.search(c.text)]
        if not cands:
            return MarginReading(None, "no_formal_test")
    if not cands:
        return MarginReading(None, "no_margin_stated")
    null = estimate_null(estimate_type)
    if null is None or not estimate_type:
        return MarginReading(None, "estimate_scale_unknown")
    lo, hi = _finite(ci_lower), _finite(ci_upper)
    sc = _scale(estimate_type, null, lo, hi)
    placed = [_place(c, sc) for c in cands]
    ok = _dedupe([p.margin for p in placed if p.status == "ok" and p.margin is not None])
    magnitudes = {abs(x) for m in ok for x in (m.lower, m.upper) if x is not None}
    unsided = [p for p in placed if p.status == "side_unclear" and p.magnitude not in magnitudes]
    if unsided:
        return MarginReading(None, "side_unclear", tuple(ok))
    if not ok:
        reason = "scale_unclear" if any(p.status == "scale_unclear" for p in placed) else "no_margin_stated"
        return MarginReading(None, reason)
    margin, reason = _choose(ok, _ni_type(ni_type), lo, hi)
    if margin is not None and sc.hazard and margin.kind == _NI_KIND and margin.lower is not None:
        return MarginReading(None, "side_unclear", tuple(ok))
    return MarginReading(margin, reason, tuple(ok))
