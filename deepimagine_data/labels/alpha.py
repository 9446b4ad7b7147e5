"""The significance level a trial stated in free text: :func:`alpha_from_text`, else :data:`ALPHA_DEFAULT` (0.05).

A p-value is significant only against the bar the trial set for it. NCT00002597 posted p = 0.0309 and stated a
"one-sided log-rank test at the 0.025 significance level": against the default 0.05 that p is significant, against
its own level it is not.

>>> alpha_from_text({"statistical_comment": "one-sided log-rank test at the 0.025 significance level"})
Alpha(value=0.025, source='statistical_comment', sides=1)

Why the phrasings are a closed list: a comment carries many numbers (a power, a confidence level, a family-wise level,
the threshold of another test), and a wrong alpha flips a label silently. ``sides`` is reported, not acted on: only
the caller knows whether the posted p-value is one- or two-sided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ALPHA_DEFAULT = 0.05

# The analyses columns worth reading for a stated alpha, most specific first: a p_value_comment speaks about
# this very p-value, a group_description often about the trial's design.
ALPHA_FIELDS = ("p_value_comment", "statistical_comment", "non_inferiority_comment", "group_description",
                "estimate_comment")  # fmt: skip


@dataclass(frozen=True)
class Alpha:
    """A significance level and where it came from ("default" or the field it was read from).

    ``sides`` is 1 or 2 where the statement says one- or two-sided ("One-sided significance level of 0.025"),
    else None: a one-sided 0.025 and a two-sided 0.05 are the same bar, and only the caller knows whether the
    posted p-value is one- or two-sided.
    """

    value: float
    source: str
    sides: int | None = None


# "0.05", ".05", "0·05" (middle dot), "5%", "2.5 percent", "0.05/3" (a Bonferroni split written out).
_NUM = r"(?P<num>\d+(?:[.·]\d+)?|[.·]\d+)(?:\s*/\s*(?P<div>\d+)\b)?(?:\s*(?P<pct>%|percent\b))?"
_SIDED = r"(?:one|two|1|2)[\s-]*(?:sided|side|tailed)"
# Words that may stand between a cue and its number: "significance level was set a priori at 0.0167",
# "threshold for significance was two-sided p value of 0.2%". A closed list, so that a cue cannot reach an
# unrelated number ("alpha and beta 10%", "Type I error α) when θ≥ 7%").
_CONN = (
    r"(?:\s*(?:<=|≤|=<|<|=|:|,|of|is|was|were|be|been|set|to|at|a|an|the|priori|apriori|value|level|rate|used"
    r"|assigned|this|analysis|p[\s-]*values?|p|less\s+than|or\s+equal\s+to|at\s+most|" + _SIDED + r"))*?\s*"
)
_CUE = (
    r"(?:significan(?:ce|t)\s+level|level\s+of\s+(?:statistical\s+)?significance"
    r"|(?:statistical\s+)?significance\s+threshold|threshold\s+(?:for|of)\s+(?:statistical\s+)?significance"
    r"|(?:statistical\s+)?significance\s+(?:was|is|will\s+be)\s+(?:set|defined|declared|accepted)\s+(?:at|as)"
    r"|(?:adjusted|corrected)\s+threshold|\balpha(?:\s+level|\s+value)?\b|α"
    r"|type[\s-]*(?:i|1|one)\s+error(?:\s+(?:rate|probability|level))?)"
)
_SIGNIF = r"(?:statistically\s+)?significan(?:t|ce)"
_ALPHA_PATTERNS = [
    # "alpha = 0.025", "2-sided significance level of 0.05", "Threshold for significance at 0.1 level."
    ("cue_then_number", re.compile(r"(?P<cue>" + _CUE + r")" + _CONN + _NUM, re.I)),
    # "One-sided 0.025 significance level", "at one-sided 2.5% level of significance", "a two-sided 0.050 alpha
    # test", "1-sided p-value <0.025, the threshold for statistical significance"
    (
        "number_then_cue",
        re.compile(_NUM + r"\s*(?:\(\s*|,\s*(?:the\s+)?)?(?:" + _SIDED + r"\s+)?(?P<cue>" + _CUE + r")", re.I),
    ),
    # "tested using an unstratified 2-sided log-rank test at the 0.05 level", "significant at the 0.02496level"
    (
        "at_level",
        re.compile(
            r"\bat\s+(?:the\s+|an?\s+)?(?:" + _SIDED + r"[\s,]+)?" + _NUM + r"\s*(?:" + _SIDED + r"\s+)?level\b", re.I
        ),
    ),
    # "A P value of less than 0.05 was considered significant", "Two-sided p-values <0.05 considered ..."
    (
        "p_considered",
        re.compile(
            r"\bp(?:[\s-]*values?)?\s*(?:of\s+)?(?:<=|≤|=<|<|=|less\s+than(?:\s+or\s+equal\s+to)?|below)?\s*"
            + _NUM
            + r"\s*\)?\s*(?:(?:was|were|is|are|will\s+be|to\s+be)\s+)?(?:considered|regarded|deemed|declared)\s+"
            + _SIGNIF,
            re.I,
        ),
    ),
    # "ORR was to be considered significant if 2-sided p-value from Pearson chi-square test was <= 0.04992"
    (
        "considered_if_p",
        re.compile(
            r"(?:considered|deemed|declared)\s+" + _SIGNIF + r"\s+if\b[^.;]{0,60}?\bp(?:[\s-]*values?)?\b[^.;]{0,40}?"
            r"(?:<=|≤|=<|<|less\s+than(?:\s+or\s+equal\s+to)?)\s*" + _NUM,
            re.I,
        ),
    ),
]
# A family-wise, overall or global level is not the bar for one comparison ("Holm's method was performed for
# multiple comparisons to provide an overall significance level of 5%"); it is skipped, and a per-comparison
# level stated next to it is taken instead ("In order to retain an experiment-wise two-sided type I error of 5%,
# the non-inferiority analysis for PFS used a two-sided significance level of 2.5%"). So is a level allocated to
# one endpoint of several ("parallel testing strategy between OS (with allocated type I error rate 0.03) and ...").
_FAMILYWISE = re.compile(
    r"\b(?:overall|global)\b(?!\s+(?:survival|response|health|tumou?r|population))|\ballocated\b"
    r"|\b(?:family|experiment|study|trial)[\s-]*(?:wise|wide)\b",
    re.I,
)
# Thresholds of other tests: "Only risk factors significant at the 0.10 level in univariate analysis were
# included in the multivariate model."
_OTHER_TEST = re.compile(
    r"\b(?:univariat\w*|multivariat\w*|univariable|multivariable|stepwise|interaction|heterogeneity"
    r"|goodness[\s-]*of[\s-]*fit|normality)\b",
    re.I,
)
_ONE_SIDED = re.compile(r"\b(?:one|1)[\s-]*(?:sided|side|tailed)\b|\bunilateral\b", re.I)
_TWO_SIDED = re.compile(r"\b(?:two|2)[\s-]*(?:sided|side|tailed)\b|\bbilateral\b", re.I)
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|~")


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    m = _SENTENCE_END.search(text, end)
    return left, (m.start() if m else len(text))


def _sides(text: str, start: int, end: int, s_left: int, s_right: int) -> int | None:
    # The match itself speaks first ("2-sided significance level = 0.05"), then the words just before it
    # ("a one-sided alpha of 0.025"), then a parenthesis just after ("alpha level of 0.025 (1-sided)").
    windows = [text[start:end], text[max(s_left, start - 40) : start]]
    after = re.match(r"\s*[(,]\s*(?:" + _SIDED + r")", text[end : min(s_right, end + 25)], re.I)
    if after:
        windows.append(after.group(0))
    for w in windows:
        one, two = bool(_ONE_SIDED.search(w)), bool(_TWO_SIDED.search(w))
        if one != two:
            return 1 if one else 2
    return None


def _alpha_value(m: re.Match[str]) -> float | None:
    num = m.group("num").replace("·", ".")
    value = float(num)
    if m.group("div"):
        div = int(m.group("div"))
        if div == 0:
            return None
        value /= div
    if m.group("pct"):
        value /= 100.0
    # An alpha above 0.5 is not a significance level (it is a power, a confidence level or a score).
    return value if 0.0 < value <= 0.5 else None


def _alpha_in(text: str) -> tuple[float, int | None] | None:
    found: list[tuple[int, float, int | None]] = []
    cue_spans_with_number: set[tuple[int, int]] = set()
    matches: list[tuple[str, re.Match[str]]] = []
    for name, pattern in _ALPHA_PATTERNS:
        for m in pattern.finditer(text):
            matches.append((name, m))
            if name == "cue_then_number":
                cue_spans_with_number.add(m.span("cue"))
    for name, m in matches:
        # "HR 0.45, alpha 0.05": the cue has its own number, so the number before it is something else.
        if name == "number_then_cue" and m.span("cue") in cue_spans_with_number:
            continue
        value = _alpha_value(m)
        if value is None:
            continue
        s_left, s_right = _sentence_bounds(text, m.start(), m.end())
        # The qualifier must sit in the same clause: "In order to retain an experiment-wise two-sided type I
        # error of 5%, the non-inferiority analysis for PFS used a two-sided significance level of 2.5%".
        clause = max([s_left, m.start() - 120] + [c.end() for c in re.finditer(r"[,;(]", text[: m.start()])])
        before = text[clause : m.start()]
        cue = m.group("cue") if "cue" in m.re.groupindex else ""
        if _FAMILYWISE.search(before) or _FAMILYWISE.search(m.group(0).replace(cue, "")):
            continue
        if _OTHER_TEST.search(text[s_left:s_right]):
            continue
        found.append((m.start(), value, _sides(text, m.start(), m.end(), s_left, s_right)))
    if not found:
        return None
    _, value, sides = min(found, key=lambda f: f[0])
    return value, sides


def alpha_from_text(fields: Mapping[str, str | None]) -> Alpha:
    """The significance level a trial stated in free text, else ``Alpha(ALPHA_DEFAULT, "default")``.

    ``fields`` maps a field name to its text and is read in its own order (see :data:`ALPHA_FIELDS`); the first
    field that states a level wins, and within a field the first statement. Real phrasings it reads:

    - "Two-sided significance level = 0.05", "One-sided significance level of 0.025", "significance level 0.05"
    - "alpha=0.05", "Chi-square test was used (1-sided, α=0.10)", "Test was performed at 2-sided alpha of 5%."
    - "One-sided 0.025 significance level", "a stratified log-rank test at one-sided 2.5% level of significance"
    - "The analysis was conducted at the 0.05 level", "Threshold for significance at 0.1 level."
    - "The type I error rate used was 0.005", "A P value of less than 0.05 was considered significant."

    Decisions, each from a real comment:

    - A per-comparison level set for multiplicity *is* taken: "the significance level was set a priori at 0.0167
      (alpha = 0.05/3)" gives 0.0167, "results with p<0.0167 are considered significant" and "Bonferroni-adjusted
      threshold 0.0167" too. AACT p-values are as a rule unadjusted ("This p-value is not adjusted for multiple
      comparisons"), and that level is the bar the trial itself set for them ("0.05/3" alone is divided out).
    - A family-wise / overall / global level is skipped ("to provide an overall significance level of 5%"), and
      so are thresholds of other tests ("significant at the 0.10 level in univariate analysis").
    - Statements about p-values that give no level ("p-value not adjusted for multiple comparison"), adjusted
      p-values and observed p-values ("p = 0.03") give nothing.
    - Values outside (0, 0.5] are ignored (a 95% confidence level, 80% power); percents are divided by 100.

    >>> alpha_from_text({"statistical_comment": "2-sided significance level of 0.05"})
    Alpha(value=0.05, source='statistical_comment', sides=2)
    >>> alpha_from_text({"p_value_comment": "one-sided log-rank test p value"})
    Alpha(value=0.05, source='default', sides=None)
    """
    for name, text in fields.items():
        if not text:
            continue
        hit = _alpha_in(text)
        if hit is not None:
            return Alpha(hit[0], name, hit[1])
    return Alpha(ALPHA_DEFAULT, "default")
