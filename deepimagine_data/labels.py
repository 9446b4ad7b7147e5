"""Outcome labels from what a registry posted: significance, polarity, direction, and the decision built on them.

A label is only as good as its source. Every function here reads one kind of evidence and answers ``"unknown"``
(or ``None``) when that evidence is missing or ambiguous, instead of filling the gap with a guess:

- :func:`significance` reads a posted p-value *with its modifier* ("<0.001" is not "=0.001") against an alpha;
  :func:`alpha_from_text` finds the alpha a trial stated, e.g. NCT00002597's "one-sided log-rank test at the
  0.025 significance level", and otherwise falls back to :data:`ALPHA_DEFAULT`.
- :func:`outcome_polarity` says whether more of an outcome is better ("Overall Survival") or worse
  ("Percentage of Participants Who Died") from a short list of named keyword rules; "Maximum Tolerated Dose"
  or "Change in Ki67 Levels" stay unknown.
- :func:`reference_from_text` finds which analysis group an estimate compares against which, only where a text
  orders the two groups by name ("HR for Herceptin 1-Year Arm versus Observation Arm", "Reference level =
  RT + cisplatin"); :func:`estimate_direction` then reads the estimate against its null (1 for ratios, 0 for
  differences), and :func:`estimate_polarity` says which way that estimate is better (a hazard ratio on
  "Overall Survival" is better below 1). :func:`favoured_by_text` reads the other kind of statement, which group a
  value of the estimate favours ("A hazard ratio of < 1 favours olaparib"), which gives the direction without an
  ordering or a polarity.
- :func:`compare_arms` tests two arms' posted numbers (Fisher's exact test for counts, Welch's t-test for
  means) where a registry posted no analysis.
- :func:`benefit`, :func:`decide` and :func:`superiority` combine the pieces.

All functions are pure: no I/O, no global state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

__all__ = [
    "ALPHA_DEFAULT",
    "ALPHA_FIELDS",
    "FAVOUR_VALUES",
    "REFERENCE_FIELDS",
    "Alpha",
    "ArmTest",
    "ArmValue",
    "Favour",
    "Polarity",
    "Reference",
    "alpha_from_text",
    "benefit",
    "compare_arms",
    "decide",
    "estimate_direction",
    "estimate_null",
    "estimate_polarity",
    "favoured_by_text",
    "outcome_polarity",
    "reference_from_text",
    "significance",
    "superiority",
    "value_direction",
]

ALPHA_DEFAULT = 0.05

# The analyses columns worth reading for a stated alpha, most specific first: a p_value_comment speaks about
# this very p-value, a group_description often about the trial's design.
ALPHA_FIELDS = ("p_value_comment", "statistical_comment", "non_inferiority_comment", "group_description",
                "estimate_comment")  # fmt: skip
# The analyses columns that may order the two groups of an estimate; estimate_comment describes the estimate.
REFERENCE_FIELDS = ("estimate_comment", "group_description", "statistical_comment", "p_value_comment")

SIGNIFICANCE_VALUES = ("significant", "not_significant", "unknown")
POLARITY_VALUES = ("higher_is_better", "lower_is_better", "unknown")
DIRECTION_VALUES = ("higher", "lower", "equal", "unknown")
BENEFIT_VALUES = ("better", "worse", "no_difference", "unknown")


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    # A typo in a label value would otherwise fall through to "unknown" silently and hide a bug.
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


# --------------------------------------------------------------------------------------------------------------
# Significance
# --------------------------------------------------------------------------------------------------------------

_MODIFIERS = {None: "=", "": "=", "=": "=", "<": "<", "<=": "<=", "≤": "<=", "=<": "<=", ">": ">", ">=": ">=",
              "≥": ">=", "=>": ">="}  # fmt: skip


def significance(p_value: float | None, modifier: str | None, alpha: float) -> str:
    """Whether a posted p-value is significant at ``alpha``: "significant" | "not_significant" | "unknown".

    Significant means the true p is surely below alpha; not significant means it is surely at or above it.
    The modifier bounds the true p, so the answer is only as sure as that bound:

    - ``=`` or no modifier (NCT00002597 posted "0.0309"): p < alpha is significant, otherwise not significant.
    - ``<`` v (true p < v, e.g. "<0.001"): significant when v <= alpha; "<0.1" at alpha 0.05 is unknown.
    - ``<=`` v (true p <= v): significant only when v < alpha, since p could equal v.
    - ``>`` v (true p > v, e.g. ">0.05"): not significant when v >= alpha; ">0.01" at 0.05 is unknown.
    - ``>=`` v (true p >= v): not significant when v >= alpha.

    A missing p-value, one outside [0, 1] or an unrecognised modifier gives "unknown".

    >>> significance(0.0001, "<", 0.05)
    'significant'
    >>> significance(0.05, None, 0.05)
    'not_significant'
    >>> significance(0.1, "<", 0.05)
    'unknown'
    """
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if p_value is None or math.isnan(p_value) or not (0.0 <= p_value <= 1.0):
        return "unknown"
    mod = _MODIFIERS.get(modifier.strip() if isinstance(modifier, str) else modifier)
    if mod == "=":
        return "significant" if p_value < alpha else "not_significant"
    if mod == "<":
        return "significant" if p_value <= alpha else "unknown"
    if mod == "<=":
        return "significant" if p_value < alpha else "unknown"
    if mod in (">", ">="):
        return "not_significant" if p_value >= alpha else "unknown"
    return "unknown"


# --------------------------------------------------------------------------------------------------------------
# Alpha stated in free text
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Outcome polarity
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Polarity:
    """Whether a higher value of an outcome is better; ``rule`` names the rule that decided (None: no rule)."""

    value: str
    rule: str | None


_HIGHER, _LOWER, _UNKNOWN = "higher_is_better", "lower_is_better", "unknown"
_FLIP = {_HIGHER: _LOWER, _LOWER: _HIGHER}

# Outcomes that are not better or worse in either direction, checked before anything else: a pharmacokinetic
# parameter, a dose-finding result, a diagnostic or correlative measure, a baseline characteristic. Their titles
# often carry polarity words that must not fire ("The Maximum Tolerated Dose (MTD) ... Measured by Treatment
# Adverse Events", "Correlation of Global Longitudinal Myocardial Strain With Cardiac Events").
_GUARDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "pharmacokinetics",
        re.compile(
            r"\b(?:pharmacokinetics?|pk|cmax|cmin|c\s?trough|ctrough|tmax|t1/2|half[\s-]?life|auc\w*|area under the"
            r"|clearance|volume of distribution|concentrations?|bioavailability|exposure|accumulation ratio"
            r"|residence time|pharmacodynamics?)\b"
        ),
    ),
    (
        "dose_finding",
        re.compile(
            r"\b(?:maximum tolerated dose|maximally tolerated dose|mtd|recommended phase (?:2|ii) dose|rp2d"
            r"|optimal (?:biological )?dose|dose[\s-]finding|dose escalation)\b"
        ),
    ),
    (
        "diagnostic_or_correlative",
        re.compile(
            r"\b(?:correlat\w*|associations?|relationships?|concordance|agreement|sensitivity|specificity|accuracy|predictive"
            r"|predict\w*|prognostic|kappa|biomarkers?|detection rate)\b"
        ),
    ),
    ("feasibility", re.compile(r"\b(?:feasibility|accrual|enrol(?:l)?ment|recruitment)\b")),
    ("baseline_characteristic", re.compile(r"^\s*baseline\b(?!.*\b(?:change|to|through|until|versus|vs)\b)")),
    (
        "non_clinical_response",
        re.compile(
            r"\b(?:immune|immunologic(?:al)?|t[\s-]?cell|antibody|humoral|cellular|inflammatory|stress"
            r"|hypersensitivity|infusion|dose|cytokine|glucose|insulin|hormonal|ventilatory|dth)[\s-]+respon\w*"
        ),
    ),
]

# Named keyword rules, in order. A rule that matches claims its span, so later rules cannot fire inside it:
# "progression-free" is claimed before "progression", "pain relief" before "pain". Constructions ("time to X",
# "reduction in X") take their polarity from X and are handled in _polarity_of.
_RULES: list[tuple[str, str, re.Pattern[str]]] = [
    # "Headache-free at 2 hours", "Progression-free Survival", "Pain freedom at 2 hours postdose",
    # "Percentage of Patients Free From Breast Cancer". Not "cell-free DNA", "free testosterone".
    (
        "event_free",
        _HIGHER,
        re.compile(
            r"\b(?!(?:cell|fat|sugar|gluten|lactose|salt|serum|cost|latex|preservative|the|a)\b)[a-z0-9]+[\s-]"
            r"(?:free|freedom)\b(?!\s+(?:dna|fatty|mass|fraction|testosterone|psa|t3|t4|thyroxine|light|water"
            r"|radical|cortisol|estradiol|hemoglobin|haemoglobin))"
            r"|\bfree(?:dom)?\s+(?:from|of)\s+[a-z\s-]+"
        ),
    ),
    ("non_response", _LOWER, re.compile(r"\bnon[\s-]?respon\w*|\black of (?:response|efficacy|effect)\b")),
    ("transfusion_independence", _HIGHER, re.compile(r"\btransfusion[\s-]independen\w*")),
    ("dose_modification", _LOWER, re.compile(r"\bdose (?:reductions?|interruptions?|delays?|modifications?)\b")),
    ("blood_loss", _LOWER, re.compile(r"\bblood loss\b")),
    # "Overall Survival", "Percentage of Participants Who Were Alive at Year 1"
    ("survival", _HIGHER, re.compile(r"\b(?:survival|surviving|alive)\b")),
    # "Median PFS Time Based on Different Subgroups"
    ("survival_acronym", _HIGHER, re.compile(r"\b(?:os|pfs2?|dfs|idfs|efs|rfs|mfs|dmfs|bfs|ffs|lrfs|ttp|ttf)\b")),
    # "Objective Response Rate (ORR)", "PASI 75 response", "Pathological Complete Response Rate", "Duration of
    # Response" (longer is better). "Percentage of Participants With Pain Response": the word before names what
    # responded, so "pain" cannot vote against it.
    (
        "response",
        _HIGHER,
        re.compile(
            r"(?:\b(?:pain|symptom|symptomatic|psa|clinical|tumou?r)\s+)?\brespon(?:se|ses|ders?)\b"
            r"|\b(?:orr|dcr|cbr|bor|dor|cr|ccr)\b"
        ),
    ),
    ("remission", _HIGHER, re.compile(r"\bremissions?\b")),
    ("disease_control", _HIGHER, re.compile(r"\b(?:disease|tumou?r|local|locoregional|loco-regional) control\b")),
    ("clinical_benefit", _HIGHER, re.compile(r"\bclinical benefit\b|\bbenefit rate\b")),
    ("stable_disease", _HIGHER, re.compile(r"\bstable disease\b")),
    # "eradication rate of H. pylori", "Pain relief at 2 hours", "Time to resolution of symptoms": the rule
    # claims the word before and the "of X" after, so that "pain" or "symptoms" cannot vote against it.
    (
        "cure_or_relief",
        _HIGHER,
        re.compile(
            r"\b(?:[a-z]+\s+)?(?:relief|healing|healed|cure|cured|eradication|success|successful|abstinen\w*"
            r"|cessation|seroconversion|seroprotection|resolution)\b(?:\s+(?:of|from|in)\s+[a-z\s-]+)?"
        ),
    ),
    (
        "quality_of_life",
        _HIGHER,
        re.compile(r"\b(?:quality of life|hr-?qol|qol|well[\s-]?being|global health status|functioning)\b"),
    ),
    (
        "satisfaction_or_adherence",
        _HIGHER,
        re.compile(
            r"\b(?:satisfaction|adherence|compliance|completion rate"
            r"|(?:treatment|therapy|chemotherapy|radiotherapy|surgical|protocol|course|cycle)\s+completion)\b"
        ),
    ),
    # "Percentage of Participants Who Died", "Mortality"
    # Not "Programmed Death Ligand 1", "programmed cell death".
    (
        "death",
        _LOWER,
        re.compile(r"\b(?<!programmed\s)(?<!cell\s)(?:deaths?|died|dying|mortality|fatal(?:ity|ities)?|deceased)\b"),
    ),
    (
        "adverse_events",
        _LOWER,
        re.compile(
            r"\badverse (?:events?|reactions?|effects?|drug reactions?)\b|\b(?:aes?|saes?|teaes?|adrs?)\b"
            r"|\bside[\s-]effects?\b"
        ),
    ),
    ("toxicity", _LOWER, re.compile(r"toxicit(?:y|ies)\b|\bdlts?\b|\bdose[\s-]limiting\b")),
    ("complications", _LOWER, re.compile(r"\b(?:complications?|morbidity)\b")),
    # Not the population ("Relapsed or Refractory Multiple Myeloma").
    (
        "relapse_or_recurrence",
        _LOWER,
        re.compile(r"\b(?:relapses?|relapsed(?!\s*(?:or|/|and)\s*refractory)|recurrences?|recurred)\b"),
    ),
    # As an event: "Percentage of Participants With Disease Progression or Death" (not "progression-free", which
    # event_free claims first, nor "time to progression", a construction).
    ("progression", _LOWER, re.compile(r"\b(?:progression|progressions|progressed|progressive disease)\b")),
    ("failure", _LOWER, re.compile(r"\bfailures?\b")),
    ("discontinuation", _LOWER, re.compile(r"\b(?:discontinu\w*|withdr[ae]w\w*|drop[\s-]?outs?)\b")),
    (
        "hospitalization",
        _LOWER,
        re.compile(r"\b(?:hospitali[sz]\w*|length of (?:hospital )?stay|readmissions?)\b"),
    ),
    ("infection", _LOWER, re.compile(r"\b(?:infections?|sepsis)\b")),
    ("bleeding", _LOWER, re.compile(r"\b(?:bleed(?:ing|s)?|ha?emorrhag\w*)\b")),
    # A pain score: "WOMAC pain score", "Pain Score (10 Point VAS)" ("pain relief", "pain-free" claimed above).
    ("pain", _LOWER, re.compile(r"\b(?:pain|painful|headaches?|migraines?)\b")),
    ("symptoms", _LOWER, re.compile(r"\b(?:symptoms?|symptomatic|distress|severity|disability|difficult(?:y|ies))\b")),
    (
        "specific_harm",
        _LOWER,
        re.compile(
            r"\b(?:nausea|vomiting|emesis|mucositis|stomatitis|diarrho?ea|neutropenia|an(?:a)?emia"
            r"|thrombocytopenia|neuropathy|fatigue|insomnia|dyspn(?:o)?ea|pruritus|itch\w*|rash|o?edema"
            r"|constipation|hypoglyc(?:a)?emi\w*|hot (?:flash|flush)\w*|osteonecrosis|fractures?"
            r"|thrombo(?:sis|ses|embolism|embolic)|vte|dvt|stroke|myocardial infarction|exacerbations?"
            r"|depressi\w*|anxiety)\b"
        ),
    ),
    (
        "clinical_events",
        _LOWER,
        re.compile(
            r"\b(?:skeletal[\s-]related|cardiovascular|cardiac|thromboembolic|mace|hypoglyc\w+|clinical)\s+events?\b"
        ),
    ),
    # Glycaemic control in diabetes trials: "Change from baseline in HbA1c"
    (
        "hba1c",
        _LOWER,
        re.compile(r"\b(?:hb\s?a1c|a1c|glyc(?:ated|osylated) ha?emoglobin|fasting (?:plasma |blood )?glucose)\b"),
    ),
]
_RESPONSE_LIKE = frozenset({"response", "remission"})

# "Time to Progression" is better when longer; "Time to Response" when shorter.
_TIME_TO = re.compile(r"\btime[\s-]+(?:taken[\s-]+)?(?:to|until)[\s-]+(?P<x>.+)")
# "Number of Subjects Without Progression Disease at Week 12"
_WITHOUT = re.compile(r"\b(?:without|absence\s+of)\s+(?P<x>.+)")
# A responder: "Percentage of Participants Achieving 50 Percent Reduction From Baseline in PSA (PSA50) Response",
# "Percentage of Subjects Who Achieve PASI 75", "Participants Who Achieved A >=2.0 g/dL Increase In Hemoglobin".
_ACHIEVE = re.compile(r"\b(?:achiev\w*|attain\w*)\b(?P<x>.*)$")
# "Response (50% reduction in depressive symptoms)": a reduction of something bad is good.
_LESS_OF = re.compile(
    r"\b(?:reductions?|decreases?|declines?|fall|drop|lowering)\s+(?:from\s+baseline\s+)?"
    r"(?:in|of)\s+(?P<x>.+)"
)
_MORE_OF = re.compile(r"\b(?:increases?|rises?|elevation|gain)\s+(?:from\s+baseline\s+)?(?:in|of)\s+(?P<x>.+)")
# "Symptom Improvement", "Percent Improvement From Eligibility Baseline In Mean NRS Average Pain Score": the
# construction claims the word before it and everything after.
_BETTER_OF = re.compile(r"(?:\b[a-z]+\s+)?\b(?:improvement|improvements|improved)\b(?P<x>.*)$")
_WORSE_OF = re.compile(r"(?:\b[a-z]+\s+)?\b(?:worsening|deterioration|worsened)\b(?P<x>.*)$")
# A direction word with nothing to attach it to ("All-cause Dose Reductions" aside): no polarity can be read.
_BARE_DIRECTION = re.compile(
    r"\b(?:reductions?|decreases?|declines?|increases?|rises?|gain|lowering|increased|decreased|reduced|elevated)\b"
)
# Who was measured, not what: "Overall Survival (OS) in Patients With Relapsed or Refractory NSCLC", "Progression
# Free Survival (PFS) in Participants With ... Breast Cancer Who Progress".
_POPULATION_TAIL = re.compile(
    r"\b(?:in|among|for)\s+(?:the\s+)?(?:[a-z0-9+-]+\s+){0,3}?(?:patients|participants|subjects|population|cohort"
    r"|individuals|women|men|children|adults|pts)\b.*$"
)
# Method tails say how, not what: "... as Assessed by Investigator", "... Per RECIST v1.1".
_METHOD_TAIL = re.compile(
    r"\b(?:as\s+)?(?:measured|assessed|evaluated|determined|graded|defined|scored|rated|documented|confirmed"
    r"|classified)\s+(?:by|using|with|per|according|as|in|on)\b.*$"
    r"|\b(?:according\s+to|based\s+on|per)\b.*$"
)


def _normalize_title(text: str) -> str:
    text = text.lower().replace("_", " ")
    text = _METHOD_TAIL.sub(" ", text)
    text = _POPULATION_TAIL.sub(" ", text)
    # An acronym that repeats the words before it ("Time to Progression (TTP)") would vote twice, once out of place.
    text = re.sub(r"\(\s*[a-z0-9-]{2,8}\s*\)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# Constructions, in order: (name, pattern, how X's polarity maps to the whole). "flip" and "same" read X, a
# polarity value is the answer whatever X is.
_CONSTRUCTIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("time_to", _TIME_TO, "flip"),
    ("without", _WITHOUT, "flip"),
    ("achieve", _ACHIEVE, _HIGHER),
    ("less_of", _LESS_OF, "flip"),
    ("more_of", _MORE_OF, "same"),
    ("better_of", _BETTER_OF, _HIGHER),
    ("worse_of", _WORSE_OF, _LOWER),
]


def _polarity_of(text: str) -> tuple[str, str | None, bool]:
    """(value, rule, matched_any) for normalized text; value is _UNKNOWN on a guard, a conflict or no rule."""
    for name, pattern in _GUARDS:
        if pattern.search(text):
            return _UNKNOWN, name, True
    if _BETTER_OF.search(text) and _WORSE_OF.search(text):
        # Both claim the rest of the title: "Number of Participants With Improved, Stable and Deterioration ..."
        return _UNKNOWN, "conflict(better_of,worse_of)", True
    votes: list[tuple[str, str]] = []
    rest = text
    for name, pattern, build in _CONSTRUCTIONS:
        m = pattern.search(rest)
        if not m:
            continue
        rest = rest[: m.start()] + " | " + rest[m.end() :]
        if build in (_HIGHER, _LOWER):
            votes.append((name, build))
            continue
        value, rule, matched = _polarity_of(m.group("x"))
        if not matched:
            # Nothing is known about X ("Time to Second Subsequent Therapy"); the rest of the title may still
            # speak ("Overall Survival [Time to Event]").
            continue
        if value == _UNKNOWN or (name == "less_of" and rule in _RESPONSE_LIKE):
            # X is unreadable, or "response" names the responder, not what was reduced ("50% Decrease in PSA
            # Response").
            votes.append((name, _UNKNOWN))
        else:
            votes.append((f"{name}({rule})", _FLIP[value] if build == "flip" else value))
    if _BARE_DIRECTION.search(rest):
        votes.append(("direction_word", _UNKNOWN))
    for name, value, pattern in _RULES:
        if pattern.search(rest):
            votes.append((name, value))
            rest = pattern.sub(" | ", rest)
    if not votes:
        return _UNKNOWN, None, False
    values = {v for _, v in votes}
    if len(values) == 1 and _UNKNOWN not in values:
        return values.pop(), votes[0][0], True
    # Rules that disagree ("Surgical Completion Rate and Complication Rate") or a part that cannot be read.
    names = ",".join(n for n, _ in votes)
    return _UNKNOWN, f"conflict({names})" if len(values - {_UNKNOWN}) > 1 else f"unknown({names})", True


# A description that says which way its score runs: "higher scores indicating better quality of life", "Higher
# values indicate more severe withdrawal symptoms", "lower scores denote a healthier sleep quality".
_SCORE_STATEMENT = re.compile(
    r"\b(?P<dir>higher|greater|increased|larger|high|lower|smaller|decreased|reduced|low)\s+"
    r"(?:(?:total|overall|summary|mean|subscale|domain|index|raw)\s+)?(?:scores?|values?|ratings?|numbers?|results?)"
    r"\b[^.;:~]{0,40}?\b(?:indicat\w*|represent\w*|reflect\w*|means?|signif\w*|correspond\w*(?:\s+to)?|denot\w*"
    r"|suggest\w*|equals?|=)\s+(?P<meaning>[^.;~]{1,80})",
    re.I,
)
_GOOD_WORD = re.compile(r"\b(?:better|improved|improvement|healthier|favou?rable|best)\b")
_BAD_WORD = re.compile(r"\b(?:worse|worst|poorer|unfavou?rable|more severe|greater severity)\b")
_LESS_WORD = re.compile(r"^(?:less|fewer|lower|reduced|decreased|lesser|minimal|decreasing)\b")
_MORE_WORD = re.compile(r"^(?:more|greater|higher|increased|increasing|high|larger|stronger|severe)\b")
_GOOD_NOUN = re.compile(
    r"\b(?:health|healthy|functioning|function|quality|well[\s-]?being|benefits?|satisfaction|ability|performance"
    r"|independence|mobility|vitality|energy)\b"
)
_BAD_NOUN = re.compile(
    r"\b(?:severity|severe|symptoms?|symptomatology|pain|burden|impairment|impaired|distress|difficult(?:y|ies)"
    r"|anxiety|depression|fatigue|toxicity|bother|disability|dysfunction|problems?|limitations?|dependence|risk"
    r"|insomnia|stress|nausea)\b"
)
# The title counts, times, rates or changes something in one direction; a statement about the underlying score
# does not describe it ("Percentage of Participants Achieving Pain Response Assessed Using Brief Pain Inventory":
# "Higher scores indicated worst outcomes" is about the BPI, not the percentage).
_NOT_A_SCORE = re.compile(
    r"\b(?:number|percentage|proportion|incidence|frequency|count)\s+of\b|\brate\b|\btime\b|\bduration\b"
    r"|\bresponders?\b|\b(?:participants|patients|subjects)\s+(?:with|who|achieving|experiencing)\b"
    r"|\b(?:reductions?|decreases?|declines?|improvements?|increases?|worsening|deterioration)\b"
)


def _meaning(phrase: str) -> int:
    """+1 if the phrase describes a good state, -1 a bad one, 0 if it cannot tell."""
    phrase = re.sub(r"^(?:an?|the)\s+", "", phrase.strip().lower())
    head = " ".join(phrase.split()[:6])
    good, bad = bool(_GOOD_WORD.search(head)), bool(_BAD_WORD.search(head))
    if good != bad:
        return 1 if good else -1
    if good:
        return 0
    sign = -1 if _LESS_WORD.search(phrase) else 1 if _MORE_WORD.search(phrase) else 0
    noun_good, noun_bad = bool(_GOOD_NOUN.search(head)), bool(_BAD_NOUN.search(head))
    if sign == 0 or noun_good == noun_bad:
        return 0
    return sign if noun_good else -sign


def _stated_polarity(description: str) -> str:
    values = set()
    for m in _SCORE_STATEMENT.finditer(description):
        meaning = _meaning(m.group("meaning"))
        if meaning == 0:
            values.add(_UNKNOWN)
            continue
        higher = m.group("dir").lower() in ("higher", "greater", "increased", "larger", "high")
        values.add(_HIGHER if (meaning > 0) == higher else _LOWER)
    # Several scales described at once ("a high score for a functional scale represents a high level of
    # functioning ... a high score for a symptom scale represents a high level of symptomatology") disagree.
    return values.pop() if len(values) == 1 else _UNKNOWN


def outcome_polarity(title: str | None, description: str | None = None) -> Polarity:
    """Whether a higher value of an outcome is better: a :class:`Polarity`.

    Named keyword rules read the title, conservatively, and every rule that fires must agree:

    - higher is better: "Overall Survival", "Progression-free Survival (PFS)", "Headache-free at 2 hours",
      "Objective Response Rate (ORR)", "Duration of Response", "Pathological Complete Response Rate",
      "Disease Control Rate (DCR)", "Quality of Life", "Pain freedom at 2 hours postdose".
    - lower is better: "Percentage of Participants Who Died", "Number of Participants With Adverse Events",
      "Toxicity", "Percentage of Participants With Disease Progression or Death", "WOMAC pain score",
      "Change from baseline in HbA1c".
    - constructions take X's polarity: "Change From Baseline in X" inherits it (only when X's is known), "Time
      to X" flips it ("Time to Progression" is better longer, "Time to Response" shorter), "Reduction in X" and
      "Without X" flip it, "Improvement in X" and achieving something are better, "Worsening of X" is worse.
    - unknown: pharmacokinetics ("Cmax"), dose finding ("Maximum Tolerated Dose (MTD)"), correlative measures,
      "Baseline hypertension", "Immune Response", "Safety", "Change in Ki67 Levels", and any title whose rules
      disagree ("Surgical Completion Rate and Complication Rate").

    Who was measured and how are cut off first ("... in Patients With Relapsed or Refractory NSCLC", "... as
    Assessed by Investigator"), so that a population or a method cannot vote.

    The description is read only for an explicit statement of how its score runs ("higher scores indicating
    better quality of life", "Higher values indicate more severe withdrawal symptoms"), and only when the title
    is a score rather than a count, rate or time. Such a statement decides a title no rule could read (rule
    "description"), and makes a title rule that it contradicts unknown ("Changes in Quality of Life as Measured
    on the International Prostate Symptom Score": "higher scores indicating more severe symptoms"). Keyword rules
    are never run on descriptions: they define endpoints through their events ("OS is defined as the time from
    randomization to death") and were wrong about half the time on the AACT sample.

    >>> outcome_polarity("Time to Progression (TTP)")
    Polarity(value='higher_is_better', rule='time_to(progression)')
    >>> outcome_polarity("Maximum Tolerated Dose (MTD)")
    Polarity(value='unknown', rule='dose_finding')
    """
    if not title:
        return Polarity(_UNKNOWN, None)
    text = _normalize_title(title)
    value, rule, _ = _polarity_of(text)
    is_guard = rule in {name for name, _ in _GUARDS}
    if not description or is_guard or _NOT_A_SCORE.search(title.lower()):
        return Polarity(value, rule)
    stated = _stated_polarity(description)
    if stated == _UNKNOWN:
        return Polarity(value, rule)
    if value == _UNKNOWN:
        return Polarity(stated, "description")
    if value != stated:
        return Polarity(_UNKNOWN, f"conflict({rule},description)")
    return Polarity(value, rule)


# --------------------------------------------------------------------------------------------------------------
# Which group is compared with which
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """An ordered comparison: indices into the analysis's group titles, and the text that ordered them."""

    compared: int
    reference: int
    source_text: str


_STOP = frozenset(
    "the a an of and or with plus in on for to at by vs versus arm arms group groups cohort cohorts patient "
    "participant subject treated receiving who were was".split()
)
# "Arm A", "Period 2", "Group 1": a one-character label only means something next to its noun.
_LABELLED = re.compile(r"\b(arm|group|cohort|period|part|phase|level|stage|day|lot)\s+([a-z0-9]{1,3})\b")
# "3.6 mg" is one number: "Trastuzumab Emtansine 3.6 mg" is not "Trastuzumab Emtansine 2.4 mg".
_DECIMAL_POINT = re.compile(r"(?<=\d)[.·](?=\d)")
# What a loose side may add to the words both groups share: "gemcitabine alone" for "Gemcitabine".
_ALONE = frozenset({"alone", "only", "monotherapy"})


def _tokens(text: str) -> frozenset[str]:
    text = _LABELLED.sub(lambda m: f" {m.group(1)}_{m.group(2)} ", text.lower())
    text = _DECIMAL_POINT.sub("p", text)
    out = set()
    for tok in re.findall(r"[a-z0-9_]+", text):
        if len(tok) > 3 and tok.endswith("s") and "_" not in tok:
            tok = tok[:-1]  # "practices" ~ "practice", "Responders" ~ "Responder"
        if tok in _STOP or (len(tok) < 2 and "_" not in tok):
            continue
        out.add(tok)
    return frozenset(out)


def _flat(text: str) -> str:
    # A side spelled as a title, letter for letter: "T+OFS" (not "E+OFS", though both are {"ofs"} as words).
    # Letters and digits only: titles that differ by a sign alone ("EGFR H-Score < 200", ">= 200") stay apart.
    text = re.sub(r"^\W*(?:the\s+)?|(?:\s+(?:arm|group))?\W*$", "", text.lower())
    return re.sub(r"[\W_]+", "", text)


def _has(tok: str, pool: frozenset[str]) -> bool:
    if tok in pool:
        return True
    # Misspellings of drug names in the registry ("Trastuzumab Emtasine"): long tokens only.
    return len(tok) >= 6 and any(len(p) >= 6 and fuzz.ratio(tok, p) >= 88 for p in pool)


@dataclass(frozen=True)
class _Groups:
    """The group titles as the side matcher reads them."""

    toks: list[frozenset[str]]
    unique: list[frozenset[str]]  # words of a title that no other title has
    bare: list[frozenset[str]]  # words without the labels ("arm_2")
    flat: list[str]

    @classmethod
    def of(cls, titles: Sequence[str]) -> _Groups:
        toks = [_tokens(t) for t in titles]
        unique = [t - frozenset().union(*(o for j, o in enumerate(toks) if j != i)) for i, t in enumerate(toks)]
        bare = [frozenset(w for w in t if "_" not in w) for t in toks]
        return cls(toks, unique, bare, [_flat(t) for t in titles])


def _same(side: frozenset[str], title: frozenset[str]) -> bool:
    return bool(title) and all(_has(w, title) for w in side) and all(_has(w, side) for w in title)


def _match_side(side: frozenset[str], g: _Groups) -> int | None:
    """The one title this side names, -1 if it names several or a number none has, None if it names none."""
    # The same words, allowing a typo ("Reference level = WBRT + Memantin"), and without the title's label
    # where the side has none ("Reference level = Chemoradiation arm" for "Chemoradiation (Arm 2)").
    equal = [i for i, t in enumerate(g.toks) if _same(side, t)]
    if not equal and not any("_" in w for w in side):
        equal = [i for i, t in enumerate(g.bare) if _same(side, t)]
    if len(equal) == 1:
        return equal[0]
    hits = [i for i, u in enumerate(g.unique) if any(_has(t, u) for t in side)]
    if len(hits) > 1:
        return -1
    if not hits:
        return None
    # A number names a dose, an age or a period: one the group title lacks names another group ("16- to
    # 26-Year-Old Females" is not "9- to 15-Year-Old Females").
    if any(t.isdigit() and t not in g.toks[hits[0]] for t in side):
        return -1
    return hits[0]


def _completes(loose: frozenset[str], known: frozenset[str], other: frozenset[str], extra_ok: frozenset[str]) -> bool:
    # "Carboplatin/Paclitaxel + MEDI-575 versus Carboplatin/Paclitaxel": the loose side names only what both
    # groups share, and the known side adds to it only words unique to its own group. Words in neither title
    # ("Treatment effect") do not count; "alone" may stand on the loose side ("... / gemcitabine alone").
    loose = loose - _ALONE
    if not loose or not all(_has(t, other) and _has(t, known) for t in loose):
        return False
    extra = {t for t in known if not _has(t, loose) and (_has(t, other) or _has(t, extra_ok))}
    return bool(extra) and all(_has(t, extra_ok) for t in extra)


_SIDE_CAP = 90
# Soft boundaries: a side may end (or start) at any of them, and grows past them until it names a group.
_LEFT_CUT = re.compile(
    r"[:,(\[]|\b(?:of|for|between|comparing|is|was|were|that|as|by|using|with|calculated|hr|or|ratio|in)\b", re.I
)
# "... relative to placebo with < 1 favoring enzalutamide", "Olaratumab + Mitoxantrone / Mitoxantrone and estimated
# from Cox model", "Hazard of Ipilimumab over Placebo with 2-sided 95% confidence intervals".
_RIGHT_CUT = re.compile(
    r"[:)\],(]|\b(?:for|in|at|on|was|were|is|are|will|based|stratified|adjusted|using|from|by|respectively"
    r"|with\s+(?:the|a|\d)|and\s+(?:the|a|estimated|calculated|derived|obtained)|favou?r\w*)\b"
    r"|\bwith\s*(?=[<>≤≥])",
    re.I,
)
# Hard boundaries: a side never crosses a sentence or another ordering.
_HARD = re.compile(
    r"\.(?=\s|$)|[;~]|\bvs\.?(?=\s)|\bversus\b|\bcompared\b|\brelative\s+to\b|\bminus\b|\bdivided\s+by\b", re.I
)
_ORDERING = re.compile(
    r"\bvs\.?(?=\s)|\bversus\b|\b(?:(?:was|were|is|are|be)\s+)?(?:as\s+)?compared\s+(?:to|with|against)\b"
    r"|\bin\s+comparison\s+(?:to|with)\b|\bdivided\s+by\b|\bminus\b|\s[-–−/]\s|(?P<rel>\brelative\s+to\b)",
    re.I,
)
# A decimal point ends no side ("Reference level = 70.2 Gy arm").
_DOT = r"(?<=\d)\.(?=\d)"
# A side of a ratio may hold a parenthesis: "Ratio of test treatment group (Herceptin SC + Chemotherapy) to ...".
_RSIDE = rf"(?:[^.;()]|{_DOT}|\([^()]{{0,80}}\))"
_RATIO_OF = re.compile(
    r"(?:\b(?i:ratio)|\b(?:HR|OR))\s+(?:\([^()]{0,12}\)\s+)?(?:(?i:is|was)\s+)?"
    r"(?i:(?:presented|expressed|defined|calculated|reported)\s+as|of|for)\s+"
    rf"(?P<a1>{_RSIDE}{{1,80}}?)\s*(?:\b(?i:to|over)\b|/|:)\s*(?P<b1>{_RSIDE}{{1,80}})"
    r"|\b(?i:ratio)\s+\(\s*(?P<a2>[^()/:]{1,60}?)\s*[/:]\s*(?P<b2>[^()/:]{1,60}?)\s*\)",
)
# "where λ was the palbociclib plus fulvestrant: placebo plus fulvestrant hazard ratio (HR)"
_COLON_RATIO = re.compile(r"(?<=\S):\s*(?P<b>[^.;:()~]{1,60}?)\s+(?:hazard|odds|risk|rate)\s+ratio\b", re.I)
# "HR = Nivolumab over docetaxel", "Hazard Ratio is Nivolumab over Placebo": "over" orders two groups only in
# a sentence about a ratio, or in a text that is nothing else ("Ipilimumab over placebo"); "superiority of
# denosumab over placebo was established" orders no estimate.
_OVER = re.compile(r"\bover\b", re.I)
_RATIO_CUE = re.compile(r"(?i:\bratios?\b|\bhazards?\b|\bodds\b)|\b(?:HR|OR|RR|IRR)\b")
_SENTENCE = re.compile(r"\.(?=\s|$)|[;~]")
# "The risk ratio is comparing cisplatin to doxorubicin-cyclophosphamide (AC)"
_COMPARING = re.compile(
    rf"\bcomparing\s+(?P<a>(?:[^.;~]|{_DOT}){{1,80}}?)\s+(?:to|with|against)\s+(?P<b>(?:[^.;~]|{_DOT}){{1,80}})", re.I
)
# A sign that says which group is first: "The negative estimated value indicates that the mean Post-Pre change for
# the YOCAS group was less than that of the Control group."
_SIGN_ORDER = re.compile(
    r"\b(?P<sign>negative|positive)\s+(?:[\w-]+\s+){0,3}?(?:values?|differences?|estimates?)\s+"
    r"(?:indicates?|means?|shows?|suggests?)\s+(?:that\s+)?(?P<a>[^.;~]{1,120}?)\s+(?:(?:was|were|is|are)\s+)?"
    r"(?P<cmp>less|lower|smaller|fewer|greater|higher|larger|more)\s+than\s+(?:(?:that|those)\s+(?:of|in|for)\s+)?"
    r"(?P<b>[^.;~]{1,80})",
    re.I,
)
# A text that is nothing but "<A>/<B>" or "<A>:<B>", the ratio written out: "sipuleucel-T/placebo",
# "Niraparib:Placebo, based on the stratified Cox Proportional Hazards Model ...".
_WHOLE_RATIO = re.compile(r"^\s*(?P<a>[^.;:,/()~]{1,60}?\S)[/:](?P<b>\S[^.;:,/()~]{0,60}?)\s*(?:[.,]|$)")
_TEXT = rf"(?:[^.;()~]|{_DOT})"
_REF_AFTER = re.compile(
    rf"\breference\s*(?:level|group|arm|category|treatment|regimen)?\s*(?:=|:|is|was|being)\s*(?P<b>{_TEXT}{{1,80}})",
    re.I,
)
# The side before may hold a parenthesis: "with Arm C (placebo arm) as the reference group",
# "Prophylactic cranial irradiation (PCI) is the reference arm".
_LSIDE = rf"(?:[^.;:()~]|{_DOT}|\([^()]{{0,40}}\))"
_REF_BEFORE = re.compile(
    rf"(?P<b>{_LSIDE}{{1,80}}?)\s*(?:\(\s*reference\s*\)|\b(?:was|is|as|being|served\s+as)\s+(?:the\s+)?reference\b)",
    re.I,
)
# The numerator of a ratio is the compared group, the denominator the reference: "Numerator=Pembrolizumab 2 mg/kg
# Denominator=Docetaxel 75 mg/m^2", "The placebo was the denominator.", "Arm I (...) represents the numerator".
# A count is not a group ("(numerator=108/70)").
_PART_AFTER = re.compile(
    r"\b(?P<w>numerator|denominator)(?:\s+of\s+the\s+(?:[a-z]+\s+){0,2}ratio)?\s*(?:=|:|\bis\b|\bwas\b)(?!\s*\d)\s*"
    rf"(?P<x>(?:(?!\b(?:numerator|denominator)\b){_TEXT}){{1,80}})",
    re.I,
)
_PART_BEFORE = re.compile(
    rf"(?P<x>(?:{_LSIDE}){{1,80}}?)\s*\b(?:is|was|as|represents|in)\s+(?:the\s+)?(?P<w>numerator|denominator)\b",
    re.I,
)


def _left_spans(text: str, end: int) -> list[str]:
    # Shortest first: "HR of Bevacizumab Plus Capecitabine" -> "Bevacizumab Plus Capecitabine", then longer
    # ("Pertuzumab, Trastuzumab, Docetaxel arm" needs its commas).
    chunk = text[max(0, end - _SIDE_CAP) : end]
    hard = list(_HARD.finditer(chunk))
    if hard:
        chunk = chunk[hard[-1].end() :]
    starts = sorted({m.end() for m in _LEFT_CUT.finditer(chunk)} | {0}, reverse=True)
    return [chunk[i:] for i in starts]


def _right_spans(text: str, start: int, hard_re: re.Pattern[str] = _HARD) -> list[str]:
    # Shortest first: "the rate in the chemoradiotherapy arm" -> "the rate", then "the rate in the
    # chemoradiotherapy arm".
    chunk = text[start : start + _SIDE_CAP]
    hard = hard_re.search(chunk)
    if hard:
        chunk = chunk[: hard.start()]
    ends = sorted({m.start() for m in _RIGHT_CUT.finditer(chunk)} | {len(chunk)})
    return [chunk[:i] for i in ends]


def _name(spans: list[str], g: _Groups) -> tuple[int | None, frozenset[str]]:
    """The group a side names, growing the side until it names one, with that side's words; else None and the
    shortest side's words."""
    first: frozenset[str] = frozenset()
    for span in spans:
        tok = _tokens(span)
        flat = _flat(span)
        if flat and g.flat.count(flat) == 1:
            return g.flat.index(flat), tok
        if not tok:
            continue
        first = first or tok
        i = _match_side(tok, g)
        if i == -1:
            return None, first  # it grew into a second group's name, or a number no group has
        if i is not None:
            return i, tok
    return None, first


def _orderings(text: str, g: _Groups) -> list[tuple[int, int]]:
    n = len(g.toks)
    out: list[tuple[int, int]] = []

    def pair(a_spans: list[str], b_spans: list[str], ref_only_ok: bool) -> None:
        b, b_tok = _name(b_spans, g)
        a, a_tok = _name(a_spans, g)
        if n == 2 and (a is None) != (b is None):
            known, known_tok, loose = (a, a_tok, b_tok) if a is not None else (b, b_tok, a_tok)
            other = 1 - known  # type: ignore[operator]
            if _completes(loose, known_tok, g.toks[other], g.unique[known]):  # type: ignore[index]
                a, b = (known, other) if a is not None else (other, known)
        if b is not None and a is None and n == 2 and ref_only_ok:
            a = 1 - b
        if a is not None and b is not None and a != b:
            out.append((a, b))

    def one(spans: list[str], compared: bool) -> None:
        # One side named, of two groups: the other is the other side.
        i, _ = _name(spans, g)
        if i is not None and n == 2:
            out.append((i, 1 - i) if compared else (1 - i, i))

    for m in _ORDERING.finditer(text):
        pair(_left_spans(text, m.start()), _right_spans(text, m.end()), ref_only_ok=bool(m.group("rel")))
    for m in _RATIO_OF.finditer(text):
        a_text, b_text = (m.group("a1"), m.group("b1")) if m.group("a1") else (m.group("a2"), m.group("b2"))
        if _ORDERING.search(a_text):
            continue  # "The hazard ratio (HR) of bevacizumab ... versus chemotherapy alone [HR(...)/(...)]"
        pair(_left_spans(a_text, len(a_text)), _right_spans(b_text, 0), ref_only_ok=False)
    for m in _COLON_RATIO.finditer(text):
        pair(_left_spans(text, m.start()), _right_spans(m.group("b"), 0), ref_only_ok=False)
    for m in _OVER.finditer(text):
        begin = max((s.end() for s in _SENTENCE.finditer(text, 0, m.start())), default=0)
        alone = not _SENTENCE.search(text.strip(), 0, len(text.strip()) - 1) and len(text) <= 80
        if alone or _RATIO_CUE.search(text, begin, m.start()):
            pair(_left_spans(text, m.start()), _right_spans(text, m.end()), ref_only_ok=False)
    for m in _COMPARING.finditer(text):
        pair(_left_spans(m.group("a"), len(m.group("a"))), _right_spans(m.group("b"), 0), ref_only_ok=False)
    for m in _SIGN_ORDER.finditer(text):
        first, second = _left_spans(m.group("a"), len(m.group("a"))), _right_spans(m.group("b"), 0)
        if (m.group("sign").lower() == "negative") == (m.group("cmp").lower() in ("less", "lower", "smaller", "fewer")):
            pair(first, second, ref_only_ok=False)  # negative: the first is lower, so the estimate is first - second
        else:
            pair(second, first, ref_only_ok=False)
    if m := _WHOLE_RATIO.match(text):
        pair(_left_spans(m.group("a"), len(m.group("a"))), _right_spans(m.group("b"), 0), ref_only_ok=False)
    # the "before" patterns try every start position (a lazy side of up to 80 characters, then the keyword): ~0.6 ms
    # a text, most of the labelling time; they cannot match without their keyword, so a text without it skips them
    low = text.lower()
    if "reference" in low:
        for m in _REF_AFTER.finditer(text):
            one(_right_spans(m.group("b"), 0), compared=False)
        for m in _REF_BEFORE.finditer(text):
            one(_left_spans(m.group("b"), len(m.group("b"))), compared=False)
    if "numerator" in low or "denominator" in low:
        for m in _PART_AFTER.finditer(text):
            one(_right_spans(m.group("x"), 0), compared=m.group("w").lower() == "numerator")
        for m in _PART_BEFORE.finditer(text):
            one(_left_spans(m.group("x"), len(m.group("x"))), compared=m.group("w").lower() == "numerator")
    return out


def reference_from_text(texts: Sequence[str | None], titles: Sequence[str]) -> Reference | None:
    """Which group an analysis compares with which, where a text orders them by name; else None.

    ``titles`` are the analysis's group titles in order; ``texts`` its free-text fields, most telling first (see
    :data:`REFERENCE_FIELDS`). Orderings read, each from a real AACT comment:

    - "<A> vs <B>", "<A> versus <B>", "<A> compared to/with <B>", "<A> relative to <B>", "<A> divided by <B>",
      "<A> minus <B>", "<A> / <B>": "HR for Herceptin 1-Year Arm versus Observation Arm.", "AZD9291+rifampicin /
      AZD9291 alone", "HR is the hazard rate of Bevacizumab Plus Capecitabine divided by hazard rate of ...".
    - "ratio of/for <A> to/over/ / <B>", "ratio presented/expressed as <A>:<B>", "ratio (<A>:<B>)", "the <A>:<B>
      hazard ratio": "The hazard ratio (Alpharadin:Placebo) is from ...", "Hazard ratio is for (gemcitabine
      hydrochloride plus vismodegib)/(gemcitabine hydrochloride plus placebo)", "Ratio of test treatment group
      (Herceptin SC + Chemotherapy) to reference treatment group (Herceptin IV + Chemotherapy)."
    - "<A> over <B>" in a sentence about a ratio, or as the whole text: "HR = Nivolumab over docetaxel",
      "Hazard Ratio is Nivolumab over Placebo.", "Ipilimumab over placebo"; and a whole text "<A>/<B>" or
      "<A>:<B>": "sipuleucel-T/placebo".
    - "comparing <A> to/with <B>": "Hazard ratio is comparing Pertuzumab arm with Placebo arm."; and a sign stated
      as one group against the other: "The negative estimated value indicates that the mean Post-Pre change for the
      YOCAS group was less than that of the Control group."
    - the numerator and the denominator: "Numerator=Pembrolizumab 2 mg/kg Denominator=Docetaxel 75 mg/m^2", and,
      for two groups, either alone: "WBRT + SRS is the denominator of the hazard ratio."
    - a reference alone, for two groups: "Reference level = RT + cisplatin", "Reference group: Standard Taxane
      Therapy.", "calculated using Herceptin + Taxotere arm as reference", "The hazard ratio is relative to FDG
      Non-Responders.", "T+OFS is the reference group in the estimation of the hazard ratio."

    A side names a group when it spells the group's title ("T+OFS"), when its words equal the title's (without
    the title's label, "Arm 2", if the side has none), or when it holds words found in that title and in no
    other ("the pertuzumab arm" for "Pertuzumab + Trastuzumab + Chemotherapy" against "Placebo + ..."). One-letter
    words count only as labels ("Arm A"), so "T was the reference group" (T = tamoxifen, against "T+OFS") names
    nothing; a decimal is one word ("Trastuzumab Emtansine 3.6 mg" is not "... 2.4 mg"). For two groups, one side
    may name only what both share, with "alone" or "monotherapy", when the other names its group ("... compared
    with tremelimumab monotherapy"). Each side must name exactly one group, the two must differ, and every ordering
    found in any of the texts must agree; otherwise None. Stratification factors ("ECOG PS (0 vs. 1)") name no group
    and are passed over.

    >>> titles = ["Zoledronic Acid + Androgen Deprivation Therapy", "Placebo + Androgen Deprivation Therapy"]
    >>> reference_from_text(["Zoledronic acid versus placebo group"], titles)
    Reference(compared=0, reference=1, source_text='Zoledronic acid versus placebo group')
    """
    if len(titles) < 2:
        return None
    g = _Groups.of(titles)
    found: set[tuple[int, int]] = set()
    source: str | None = None
    for text in texts:
        if not text:
            continue
        pairs = _orderings(text, g)
        if pairs and source is None:
            source = text
        found.update(pairs)
    if len(found) != 1 or source is None:
        return None
    compared, reference = found.pop()
    return Reference(compared, reference, source)


# --------------------------------------------------------------------------------------------------------------
# Direction of a posted estimate
# --------------------------------------------------------------------------------------------------------------

_RATIO = re.compile(r"(?i:\bratios?\b|\bration\b|\bhazard\b|\brelative risk\b)|\b(?:HR|OR|RR|GMR|IRR)\b")
_DIFFERENCE = re.compile(r"(?i:\bdifferences?\b|\bchange\b)|\b(?:RD|MD)\b")
# Not an estimate of the comparison, or one on a scale this module cannot place: a confidence bound, a ratio
# posted as a percentage ("Percentage of ratio of geometric mean"), a relative risk reduction, a log-rank
# statistic, an effect size without a stated sign convention, a fold change.
_NOT_ESTIMATE = re.compile(r"\b(?:bound|limit|reduction|statistic|effect size|fold|correlation|coefficient)\b", re.I)
_PERCENT = re.compile(r"\bpercent\w*|%", re.I)
_LOG = re.compile(r"\blog\b", re.I)
_GEOMETRIC = re.compile(r"\bgeometric|\bgmr\b|\bgmt\b", re.I)


def estimate_null(estimate_type: str | None) -> float | None:
    """The value of ``estimate_type`` that means no difference: 1.0 for ratios, 0.0 for differences, else None.

    "Hazard Ratio (HR)", "Odds Ratio (OR)", "Risk Ratio (RR)", "Geometric mean ratio", "Cox Proportional Hazard"
    give 1.0; "Mean Difference (Final Values)", "Risk Difference (RD)", "LS Mean Change Difference" and log ratios
    ("Hazard Ratio, log") give 0.0. Anything else is an unknown kind of estimate and gives None: "Slope",
    "Median", "Percent relative risk reduction", "lower bound one-sided CI of GMT ratio", "Chi-Square Statistic",
    and a name that says both ratio and difference.

    >>> estimate_null("Hazard Ratio (HR)"), estimate_null("Mean Difference (Final Values)"), estimate_null("Slope")
    (1.0, 0.0, None)
    """
    if not estimate_type or _NOT_ESTIMATE.search(estimate_type):
        return None
    ratio, difference = bool(_RATIO.search(estimate_type)), bool(_DIFFERENCE.search(estimate_type))
    if ratio and _PERCENT.search(estimate_type):
        return None  # "Percentage of ratio of geometric mean": null 100, and the scale is not always stated
    if ratio and _LOG.search(estimate_type):
        return 0.0
    if ratio and not difference:
        return 1.0
    if difference and not ratio:
        return 0.0
    return None


def estimate_direction(
    estimate_value: float | None, ci_lower: float | None, ci_upper: float | None, estimate_type: str | None
) -> str:
    """Whether the compared group's measure is "higher", "lower" or "equal" to the reference's, or "unknown".

    The estimate is read against its null (:func:`estimate_null`): HR 0.73 is "lower", a mean difference of 8.0
    is "higher", exactly the null is "equal". Unknown when the null or the value is missing, and when the numbers
    cannot be what the type says: a ratio at or below 0 ("Cox Proportional Hazard" posted as -0.01787, a log
    coefficient), an estimate outside its own confidence interval, or a geometric mean ratio above 10, which
    AACT posts as a percentage (NCT's "Geometric LS Mean Ratio 129.81, CI 119.14 to 141.44") as often as not.

    >>> estimate_direction(0.73, 0.6, 0.89, "Hazard Ratio (HR)")
    'lower'
    """
    null = estimate_null(estimate_type)
    if null is None or estimate_value is None or math.isnan(estimate_value):
        return "unknown"
    if null == 1.0 and not _LOG.search(estimate_type or ""):
        if estimate_value <= 0 or (_GEOMETRIC.search(estimate_type or "") and estimate_value > 10):
            return "unknown"
    lo = ci_lower if ci_lower is not None and not math.isnan(ci_lower) else None
    hi = ci_upper if ci_upper is not None and not math.isnan(ci_upper) else None
    if (lo is not None and estimate_value < lo) or (hi is not None and estimate_value > hi):
        return "unknown"
    if estimate_value > null:
        return "higher"
    if estimate_value < null:
        return "lower"
    return "equal"


_HAZARD = re.compile(r"\bhazard", re.I)
# Titles that report a time (survival, time to an event, a duration): a hazard ratio measures the rate of the
# event that ends that time, so its polarity is the opposite of the title's.
_TIME_TITLE = re.compile(r"\b(?:survival|duration|time[\s-]+(?:taken[\s-]+)?(?:to|until)|[a-z]+[\s-]free)\b", re.I)
_TIME_RULES = ("survival", "survival_acronym", "event_free", "time_to")
# Titles that count the event itself ("Percentage of Participants With Disease Progression or Death"): a hazard
# ratio of that event runs the same way.
_EVENT_RULES = frozenset(
    {"death", "adverse_events", "toxicity", "complications", "relapse_or_recurrence", "progression", "failure",
     "discontinuation", "hospitalization", "infection", "bleeding", "specific_harm", "clinical_events"}
)  # fmt: skip


def estimate_polarity(polarity: Polarity, estimate_type: str | None, title: str | None) -> str:
    """The polarity of what an estimate measures, which for a hazard ratio is not the outcome's.

    A hazard ratio compares event rates: on "Overall Survival" (higher is better) a hazard ratio of 0.92 for
    darbepoetin alfa against placebo (NCT00858364) is a *lower* hazard of death, which is better. So for hazard
    estimates ("Hazard Ratio (HR)", "Stratified Hazard Ratio", "Cox Proportional Hazard") the polarity flips when
    the title reports a time (survival, "-free", "Time to ...", "Duration of ...") and stays when it counts the
    event ("Percentage of Participants With Disease Progression or Death"); anything else is unknown. Every other
    estimate (odds ratio, risk or mean difference) measures the outcome itself and keeps its polarity.

    >>> os_ = outcome_polarity("Overall Survival (OS)")
    >>> estimate_polarity(os_, "Hazard Ratio (HR)", "Overall Survival (OS)")
    'lower_is_better'
    >>> estimate_polarity(os_, "Odds Ratio (OR)", "Overall Survival (OS)")
    'higher_is_better'
    """
    _check("polarity", polarity.value, POLARITY_VALUES)
    if polarity.value == _UNKNOWN or not _HAZARD.search(estimate_type or ""):
        return polarity.value
    rule = polarity.rule or ""
    if rule.startswith(_TIME_RULES) or _TIME_TITLE.search(title or ""):
        return _FLIP[polarity.value]
    if rule in _EVENT_RULES:
        return polarity.value
    return _UNKNOWN


# --------------------------------------------------------------------------------------------------------------
# Which group a value of the estimate favours
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Per-arm comparison
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmValue:
    """One arm's posted measurement. For COUNT_OF_PARTICIPANTS, ``value`` is the number of participants with the
    event and ``n`` the number analysed; for means, ``spread`` is the SD or SE named by ``dispersion_type``."""

    param_type: str | None
    value: float | None
    n: int | None
    spread: float | None = None
    dispersion_type: str | None = None


@dataclass(frozen=True)
class ArmTest:
    """A two-sided test of arm b against arm a. ``change`` is b − a: a difference of proportions
    (``change_kind`` "risk_difference") or of means ("mean_difference"). ``statistic`` is the sample odds ratio
    for Fisher's test and Welch's t for b − a; None where it is infinite."""

    method: str
    p_value: float
    statistic: float | None
    change: float
    change_kind: str


_MEANS = frozenset({"MEAN", "LEAST_SQUARES_MEAN"})


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _count(arm: ArmValue) -> tuple[int, int] | None:
    if not (_finite(arm.value) and arm.n is not None):
        return None
    events = float(arm.value)  # type: ignore[arg-type]
    if events != round(events) or events < 0 or arm.n <= 0 or events > arm.n:
        return None
    return int(events), int(arm.n)


def _mean_sd(arm: ArmValue) -> tuple[float, float, int] | None:
    if not (_finite(arm.value) and _finite(arm.spread) and arm.n is not None and arm.n >= 2):
        return None
    spread = float(arm.spread)  # type: ignore[arg-type]
    if spread < 0:
        return None
    if arm.dispersion_type == "STANDARD_DEVIATION":
        sd = spread
    elif arm.dispersion_type == "STANDARD_ERROR":
        sd = spread * math.sqrt(arm.n)
    else:
        # A confidence interval or a range cannot be turned into an SD without assumptions.
        return None
    return float(arm.value), sd, int(arm.n)  # type: ignore[arg-type]


def compare_arms(a: ArmValue, b: ArmValue) -> ArmTest | None:
    """Test arm b against arm a from their posted numbers; None where no sound test applies.

    - Both COUNT_OF_PARTICIPANTS: Fisher's exact test, two-sided, on the 2x2 table of events and non-events
      (scipy.stats.fisher_exact). E.g. the PASI 75 responses of AMAGINE-1, brodalumab 210 mg 185/222 against
      placebo 6/220.
    - Both means (MEAN or LEAST_SQUARES_MEAN) with an SD or an SE (SE = SD/sqrt(n)) and n >= 2: Welch's t-test,
      two-sided (scipy.stats.ttest_ind_from_stats, equal_var=False). E.g. the change in HbA1c of NCT00286429,
      alogliptin 25 mg -0.81 (SE 0.0731, n 126) against placebo -0.27 (SE 0.0731, n 126).
    - Anything else gives None: medians, other param types, mixed types, a missing value, n or spread, n <= 1,
      more events than participants, negative or fractional counts, a zero spread in both arms.
    """
    from scipy import stats  # scipy.stats takes ~1.5 s to import, and only this function needs it

    if a.param_type == "COUNT_OF_PARTICIPANTS" and b.param_type == "COUNT_OF_PARTICIPANTS":
        ca, cb = _count(a), _count(b)
        if ca is None or cb is None:
            return None
        (ea, na), (eb, nb) = ca, cb
        odds, p = stats.fisher_exact([[eb, nb - eb], [ea, na - ea]], alternative="two-sided")
        return ArmTest("fisher_exact", float(min(p, 1.0)), float(odds) if math.isfinite(odds) else None,
                       eb / nb - ea / na, "risk_difference")  # fmt: skip
    if a.param_type in _MEANS and b.param_type in _MEANS:
        ma, mb = _mean_sd(a), _mean_sd(b)
        if ma is None or mb is None or (ma[1] == 0 and mb[1] == 0):
            return None
        res = stats.ttest_ind_from_stats(mb[0], mb[1], mb[2], ma[0], ma[1], ma[2], equal_var=False)
        t, p = float(res.statistic), float(res.pvalue)
        if not math.isfinite(p):
            return None
        return ArmTest("welch_t", p, t if math.isfinite(t) else None, mb[0] - ma[0], "mean_difference")
    return None


def value_direction(a: float | None, b: float | None) -> str:
    """Whether b is "higher", "lower" or "equal" to a; "unknown" if either is missing or NaN."""
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return "unknown"
    return "higher" if b > a else "lower" if b < a else "equal"


# --------------------------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------------------------


def benefit(direction: str, polarity: str) -> str:
    """Whether the compared side did "better", "worse", showed "no_difference", or "unknown".

    ``direction`` is the compared side's measure relative to the reference (:func:`estimate_direction` or
    :func:`value_direction`) and ``polarity`` the polarity of that same measure: the outcome's for a per-arm
    value or a risk difference, :func:`estimate_polarity` for a posted estimate. HR 0.703 for trastuzumab
    emtansine on "Time to Treatment Failure" (NCT00829166) is direction "lower" with polarity "lower_is_better",
    so "better". "equal" is no difference whatever the polarity.
    """
    _check("direction", direction, DIRECTION_VALUES)
    _check("polarity", polarity, POLARITY_VALUES)
    if direction == "equal":
        return "no_difference"
    if direction == "unknown" or polarity == _UNKNOWN:
        return "unknown"
    higher_better = polarity == _HIGHER
    return "better" if (direction == "higher") == higher_better else "worse"


def decide(significance: str, benefit: str) -> str:
    """The 3-way outcome: "compared_better" | "compared_worse" | "no_significant_difference" | "unknown".

    Significant and better or worse gives the side; not significant gives no significant difference whatever the
    direction; a significant result whose direction is unknown (or sits exactly on the null) stays unknown.
    """
    _check("significance", significance, SIGNIFICANCE_VALUES)
    _check("benefit", benefit, BENEFIT_VALUES)
    if significance == "not_significant":
        return "no_significant_difference"
    if significance == "significant" and benefit == "better":
        return "compared_better"
    if significance == "significant" and benefit == "worse":
        return "compared_worse"
    return "unknown"


def superiority(significance: str, benefit: str) -> str:
    """The 2-way label: "met" (significant and better), "not_met" (not significant, or significant and worse),
    or "unknown" (significance unknown, or significant with an unknown direction)."""
    _check("significance", significance, SIGNIFICANCE_VALUES)
    _check("benefit", benefit, BENEFIT_VALUES)
    if significance == "significant" and benefit == "better":
        return "met"
    if significance == "not_significant" or (significance == "significant" and benefit == "worse"):
        return "not_met"
    return "unknown"
