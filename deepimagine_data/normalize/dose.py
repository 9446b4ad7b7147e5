"""Dose parsing from intervention and arm text (value, unit, frequency, route).

The registry states doses as free text ("Dupilumab 300 mg qw", "Carboplatin AUC 5 on Day 1 every 3 weeks",
"Cabozantinib 40 MG oral once a day"). :func:`parse_dose` reads the first *single-valued* dose in a string and
normalizes it:

* value: a float; "1,000 mg" -> 1000.0, "2,5 mg" (decimal comma) -> 2.5, "0.03 mg/kg" -> 0.03.
* unit: one of a small canonical set, built as ``base[/kg|/m2][/day|/week]``:
  bases ``mg g µg ng IU MIU units mL Gy cGy GBq MBq mCi µCi`` and ``AUC`` (carboplatin "AUC 5", or the
  equivalent "5 mg/mL/min"). "mg/m^2", "mg/m²", "mg/sqm" and "milligrams per square meter" all become
  "mg/m2"; "mcg", "ug", "μg" become "µg" (U+00B5); "UI" (French) becomes "IU". A per-day unit ("60 mg/day",
  "1 mg/d") stays a unit ("mg/day"): a total daily dose says nothing about how often it is split.
* frequency: a canonical code -- QD, BID, TID, QID, QOD, QW, BIW (twice weekly), TIW, QnW (Q2W, Q3W, Q4W,
  Q6W...), QnD for other day intervals, QnH for other hour intervals, QM / QnM (months), PRN, ONCE.
  Ambiguous wordings ("biweekly", "3-4 times a day", "9 weekly") give None rather than a guess, as does a
  cycle description like "days 1-14 of each 21-day cycle".
* route: ORAL, IV, SC, IM, TOPICAL, TRANSDERMAL, INHALED, INTRANASAL, SUBLINGUAL, INTRATHECAL, INTRAVESICAL,
  INTRAPERITONEAL, INTRATUMORAL, INTRALESIONAL, INTRADERMAL, INTRA_ARTERIAL, INTRAPLEURAL, RECTAL, VAGINAL.

Decisions (documented because the callers rely on them):

* Ranges and alternatives ("100-200 mg", "200 or 400 mg", "20/36 mg/m²", "30 - 40 Gy", "AUC 5 or 6") are not a
  dose: the :class:`Dose` dataclass has no room for "unknown value", and taking the first number would invent a
  dose that no participant may have received. They are skipped and the next single-valued dose, if any, is read
  ("Carboplatin AUC 5 or 6 plus Paclitaxel 175 mg/m2" -> 175 mg/m2).
* Concentrations and rates are not doses: "10 MG/ML", "5 mg/dL", "0.01 mcg/kg/min", "4 USP Units/mL".
* Lab thresholds are not doses: a number after a comparison ("> 7 g/dL", "≥ 1500/mm3") is skipped, and
  counts such as "Phase 2", "Grade 3", "18 years", "Day 15", "2019", "0.25%" carry no unit, so they never
  match. A volume of a sample ("5 ml of venous blood", "240 milliliter of water") is not a dose either.
* Frequency and route may be stated anywhere: they are looked for first in the dose's own clause (after the
  dose, then before it), then in the clauses of the text that mention no other dose. Clauses are split at
  "~" (AACT's line break), ";", "+", "plus" and sentence ends, so in "Cabazitaxel 25 mg/m2 IV + abiraterone
  acetate 1000 mg po daily" the "po daily" of abiraterone is not given to cabazitaxel. Inside the clause the
  search stops at a mention with another unit (another drug) but not at one with the same unit (the same drug's
  loading dose or total: "Dupilumab 300 mg (for a total of 600 mg) ... qw" -> QW) nor at a diluent volume.
* A volume is the dose only when nothing else is: "0.5ml(25mg) carbon nanoparticle solution" -> 25 mg.
* "3.0 × 105 IU" (10^5 with the exponent flattened) is not read as 105 IU.
* When no dose is stated the result is None, even if a frequency or route is ("Placebo qw" -> None). A unit is
  never guessed; a route is inferred from a dosage form only as a last resort ("tablets" -> ORAL,
  "cream" -> TOPICAL, "infusion" -> IV), after every explicit route word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Dose", "dose_spans", "parse_dose"]


@dataclass(frozen=True)
class Dose:
    """One normalized dose.

    >>> parse_dose("Dupilumab 300 mg qw")
    Dose(value=300.0, unit='mg', frequency='QW', route=None, text='300 mg')
    """

    value: float
    unit: str
    frequency: str | None
    route: str | None
    text: str  # the span of the input the dose was read from ("300 mg", "AUC 5", "2,300 mg/m²")


# --------------------------------------------------------------------------------------------------------------
# Dose value + unit
# --------------------------------------------------------------------------------------------------------------

# Thousands separators first ("1,000", "10,000"), then a decimal comma ("2,5" -- European registries), then a
# plain number. The decimal comma takes one or two digits only, so "1,000" is never read as 1.0.
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+,\d{1,2}(?![\d,])|\d+(?:\.\d+)?|\.\d+)"

# Unit bases, most specific first. The AUC spellings of carboplatin dosing ("mg/mL/min", "mg/ml.min",
# "mg·min/mL") must be tried before "mg", which they start with.
_AUC_UNIT = (
    r"mg\s*/\s*m[lL]\s*(?:/|\.|·|∙|•|x|×|\*)?\s*min(?:ute)?s?"
    r"|mg\s*/\s*min\s*/\s*m[lL]"
    r"|mg\s*(?:·|∙|•|\.|\*|x|×)?\s*min\s*/\s*m[lL]"
)
_BASES: list[tuple[str, str]] = [
    (r"mil+i?g(?:ram)?s?\b|mgs?", "mg"),
    (r"micrograms?|mcg|µg|μg|ug", "µg"),
    (r"nanograms?|ng", "ng"),
    (r"grams?|gm|g", "g"),
    (r"MIU|million\s+(?:international\s+)?units", "MIU"),
    (r"international\s+units?|I\.U\.|IU|UI", "IU"),
    (r"(?:USP\s+)?units?", "units"),
    (r"milli-?lit(?:er|re)s?|mls?|cc", "mL"),
    (r"cGy|centigray", "cGy"),
    (r"Gy\s*\(RBE\)|GyE|CGE|Gy|gray", "Gy"),
    (r"GBq", "GBq"),
    (r"MBq", "MBq"),
    (r"mCi|millicuries?", "mCi"),
    (r"µCi|μCi|uCi|microcuries?", "µCi"),
]
_BASE_RE = "|".join(f"(?:{p})" for p, _ in _BASES)
# A bare "U" is too common a letter to be a unit on its own, but "U/kg" and "U/m2" (asparaginase) are clear.
_U_BASE = r"U(?=\s*/\s*(?:kg|m))"
_DEN_M2 = (
    r"\s*(?:/|per)\s*(?:m\s*\^?\s*2|m²|m\*\*2|sq\.?\s*m(?:eters?|etres?)?|square\s+met(?:er|re)s?"
    r"|body\s+surface\s+area|BSA)"
    # "85 mg m 2", "1600mg∙m2": the slash lost in copy-paste from a PDF.
    r"|\s*[\s·∙•]\s*m\s*\^?\s*(?:2|²)(?!\d)"
)
_DEN_KG = r"\s*(?:/|per)\s*(?:kg|kilograms?)(?![a-z])"
_PER_DAY = r"\s*(?:/|per)\s*(?:day|d)(?![a-z])"
_PER_WEEK = r"\s*(?:/|per)\s*(?:weeks?|wks?)(?![a-z])"


def _unit_re(named: bool) -> str:
    """The unit pattern; ``named`` adds the groups :func:`_canon_unit` reads (a regex may name a group once)."""

    def g(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    # After "m2" a letter may follow directly ("500 mg/m2mixed in saline"); after any other unit a letter means the
    # unit was only the start of a word ("2 groups", "5 grade").
    return (
        rf"(?:{g('auc_unit', _AUC_UNIT)}(?![a-z])"
        rf"|{g('base', _BASE_RE + '|' + _U_BASE)}(?:{g('m2', _DEN_M2)}|{g('kg', _DEN_KG)})?"
        rf"(?:{g('day', _PER_DAY)}|{g('week', _PER_WEEK)})?(?:(?<=[2²])|(?![A-Za-zµμ])))"
    )


_UNIT = _unit_re(named=True)
# "100-200 mg", "100 to 200 mg", "200 or 400 mg", "20/36 mg/m²", "1, 3, 5, or 7 mg".
_RANGE_SEP = r"(?:-|–|—|~|/+|,?\s*\b(?:to|or|and)\b)"
# The value must not continue a word, a code or a number ("AZD9291", "PTV-G60Gy", "10^7", the "000" of
# "1,000"); "x" is allowed before it because radiotherapy writes fractions as "2x15 Gy", and a lower-case word of
# four letters or more because drug names get glued to their dose ("gemcitabine1,000 mg/m2", "Ilorasertib200 mg").
_LEFT = r"(?<!\d,)(?:(?<![A-WYZa-wyz0-9.^/_\\,])|(?<=(?-i:[a-z]{4})))"

_DOSE_RE = re.compile(
    rf"{_LEFT}(?P<lead>{_NUM}\s*(?:{_unit_re(named=False)})?\s*{_RANGE_SEP}\s*)?(?P<value>{_NUM})\s*-?\s*{_UNIT}",
    re.I,
)
# Carboplatin dosing by target area under the curve: "AUC 5", "AUC5", "AUC=6", "(AUC) 6 mg/mL/min",
# "AUC of 5", "target AUC = 5 mg/ml/min". An AUC range ("AUC 5-6", "AUC 5 or 6") is not a dose.
_AUC_RE = re.compile(
    rf"\bAUC\)?\s*(?:of|=|:)?\s*(?:target\s*)?(?P<value>{_NUM})"
    rf"(?P<range>\s*(?:-|–|\bto\b|\bor\b|/)\s*{_NUM})?(?:\s*(?:{_AUC_UNIT}))?",
    re.I,
)
# A trailing "/mL", "/L", "/dL", "/min", "/h" turns the match into a concentration or an infusion rate, and
# "/vial", "/tablet", "/piece" or "2ml: 1mg" into a product strength. "1000 mg/24h" is a dose every 24 hours.
_CONC_AFTER = re.compile(
    r"\s*/\s*(?:\d+(?:\.\d+)?\s*)?(?:m?l|dl|µl|μl|ul)\b"
    r"|\s*/\s*(?:min(?:ute)?|h|hr|hour)\b"
    r"|\s*/\s*(?:pieces?|vials?|bottles?|ampoules?|ampules?|tablets?|capsules?|bags?|syringes?|pens?|sachets?)\b",
    re.I,
)
# "specification: 2ml: 1mg/piece" -- a volume followed by a colon and a number is a product strength.
_SPEC_AFTER = re.compile(r"\s*:\s*\d")
# "3.0 × 105 IU/m2" is 3.0 × 10^5 with the exponent flattened, not 105 IU/m2.
_SCI_BEFORE = re.compile(r"\d\s*[x×*]\s*$")
# Comparisons before a number make it a threshold (labs, weight, age), not a dose.
_COMPARATOR_BEFORE = re.compile(
    r"(?:[<>≤≥⩽⩾]=?|=>|=<|\bgreater\s+than|\bless\s+than|\bmore\s+than|\bat\s+least|\bexceed\w*|\babove|\bbelow)"
    r"\s*(?:or\s+equal\s+to\s*|or\s*=\s*(?:to\s*)?)?$",
    re.I,
)
# A volume followed by what it is a volume of: a sample or a vehicle, not a dose.
_NOT_DOSE_VOLUME = re.compile(
    r"\s*(?:of\s+)?(?:\w+\s+){0,2}?(?:blood|urine|saliva|serum|plasma|water|samples?|stool|bone\s+marrow|"
    r"cerebrospinal|csf|sputum|breath)\b",
    re.I,
)

_BASE_CANON = [(re.compile(rf"^(?:{p})$", re.I), c) for p, c in _BASES]


def _canon_unit(m: re.Match[str]) -> str:
    if m.group("auc_unit"):
        return "AUC"
    raw = re.sub(r"\s+", " ", m.group("base"))
    base = "units" if raw.lower() == "u" else next((c for rx, c in _BASE_CANON if rx.match(raw)), raw)
    unit = base + ("/m2" if m.group("m2") else "/kg" if m.group("kg") else "")
    return unit + ("/day" if m.group("day") else "/week" if m.group("week") else "")


def _to_float(num: str) -> float:
    if re.fullmatch(r"\d+,\d{1,2}", num):  # decimal comma
        return float(num.replace(",", "."))
    return float(num.replace(",", ""))


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    value: float
    unit: str
    # "dose": usable; "range": a range or list of doses (another dose level or drug, but no single value);
    # "other": a concentration, strength, threshold or sample volume -- says nothing about the dose.
    kind: str


def _candidates(text: str) -> list[_Candidate]:
    """Every number-with-unit in ``text``, in order of position, each with its kind."""
    found: list[_Candidate] = []
    for m in _DOSE_RE.finditer(text):
        start = m.start() if m.group("lead") else m.start("value")
        unit = _canon_unit(m)
        value = _to_float(m.group("value"))
        kind = "range" if m.group("lead") else "dose"
        end = m.end()
        conc = _CONC_AFTER.match(text, end)
        if conc:  # the span covers "10 MG/ML" whole, for callers that cut mentions out
            end = conc.end()
        if kind == "dose" and (
            conc
            or _COMPARATOR_BEFORE.search(text[max(0, m.start() - 30) : m.start()])
            or (unit.startswith("mL") and (_NOT_DOSE_VOLUME.match(text, m.end()) or _SPEC_AFTER.match(text, m.end())))
            or (re.fullmatch(r"10\d+", m.group("value")) and _SCI_BEFORE.search(text[max(0, start - 12) : start]))
            or (unit == "AUC" and not 0 < value <= 10)
        ):
            kind = "other"
        found.append(_Candidate(start, end, value, unit, kind))
    for m in _AUC_RE.finditer(text):
        value = _to_float(m.group("value"))
        # Carboplatin targets lie between 1 and ~8; "AUC 24" or "AUC0-inf" is pharmacokinetics, not a dose.
        kind = "range" if m.group("range") else "dose" if 0 < value <= 10 else "other"
        found.append(_Candidate(m.start(), m.end(), value, "AUC", kind))
    found.sort(key=lambda c: (c.start, -c.end))
    out: list[_Candidate] = []
    for c in found:
        if out and c.start < out[-1].end:  # "AUC 6 mg/mL/min" is read once, by the AUC pattern
            continue
        out.append(c)
    return out


# --------------------------------------------------------------------------------------------------------------
# Clauses: where frequency and route are looked for
# --------------------------------------------------------------------------------------------------------------

# "~" is how AACT flattens line breaks. A sentence end needs three word characters before the period so that
# "i.v. On day 1" or "p.o. Daily" do not split.
_CLAUSE_SEP = re.compile(r"~|;|\n|\+|\bplus\b|(?<=[A-Za-z0-9)]{3})\.\s+(?=[A-Z])")


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _CLAUSE_SEP.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]


# A pattern table entry: compiled regex and either a code, None (recognised but ambiguous: stop, say nothing)
# or a function of the match returning a code.
_Rule = tuple[re.Pattern[str], "str | None | Callable[[re.Match[str]], str | None]"]

_WORD_NUM = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "other": 2,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "sixth": 6,
    "eighth": 8,
}
_N = r"(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|other|second|third|fourth|sixth|eighth)"


def _n(m: re.Match[str]) -> int:
    s = m.group("n").lower()
    return int(s) if s.isdigit() else _WORD_NUM[s]


def _weeks(m: re.Match[str]) -> str | None:
    n = _n(m)
    return None if n == 0 else "QW" if n == 1 else f"Q{n}W"


def _days(m: re.Match[str]) -> str | None:
    n = _n(m)
    if n == 0:
        return None
    if n % 7 == 0:
        return "QW" if n == 7 else f"Q{n // 7}W"
    return {1: "QD", 2: "QOD"}.get(n, f"Q{n}D")


def _hours(m: re.Match[str]) -> str | None:
    n = _n(m)
    return {24: "QD", 12: "BID", 8: "TID", 6: "QID", 48: "QOD"}.get(n, f"Q{n}H" if n else None)


def _months(m: re.Match[str]) -> str | None:
    n = _n(m)
    return None if n == 0 else "QM" if n == 1 else f"Q{n}M"


def _times_per_day(m: re.Match[str]) -> str | None:
    return {1: "QD", 2: "BID", 3: "TID", 4: "QID"}.get(_n(m))


def _times_per_week(m: re.Match[str]) -> str | None:
    return {1: "QW", 2: "BIW", 3: "TIW"}.get(_n(m))


def _rx(p: str) -> re.Pattern[str]:
    return re.compile(p, re.I)


_DAY = r"(?:a|per|each|every|/)?\s*(?:day|daily)\b"
_WEEK = r"(?:a|per|each|every|/)?\s*(?:weeks?|weekly|wk)\b"
_NOT_CYCLE = r"(?!\s*-?\s*cycles?\b)"

# Strong frequency statements. Among those found in a region the earliest wins (ties: the longest), which is how
# "twice daily" beats "daily" and "bi-weekly" beats "weekly" without any priority list.
_FREQ_STRONG: list[_Rule] = [
    # Ambiguous on purpose: a range of intakes, "biweekly"/"bimonthly" (twice a week or every two weeks?),
    # "3 weekly" (three weekly doses or every three weeks?).
    (_rx(r"\b\d+\s*(?:-|–|to|or)\s*\d+\s*(?:x|times)\s*(?:" + _DAY + "|" + _WEEK + ")"), None),
    (_rx(r"\bbi-?weekly\b|\bbi-?monthly\b|\b\d+\s+weekly\b"), None),
    (_rx(r"\bonce\s+(?:per|a|each|every)\s+cycle\b"), None),
    (
        _rx(
            r"(?<![\w.])(?:b\.?\s?i\.?\s?d\b\.?|bd\b|twice[\s-]+(?:a|per|each)[\s-]+day|twice[\s-]?daily"
            r"|bis\s+in\s+die)"
        ),
        "BID",
    ),
    (_rx(r"(?<![\w.])(?:t\.?\s?i\.?\s?d\b\.?|tds\b|thrice[\s-]+daily|thrice\s+a\s+day)"), "TID"),
    (_rx(r"(?<![\w.])q\.?\s?i\.?\s?d\b\.?"), "QID"),
    (_rx(rf"\b{_N}\s*(?:x|times)\s*{_DAY}"), _times_per_day),
    # "x 3 daily" is three times a day; "x 5 daily fractions" is five daily fractions, so only 1-4 count here.
    (_rx(rf"\bx\s*(?P<n>[1-4]|one|two|three|four)\s*{_DAY}"), _times_per_day),
    (_rx(rf"\b{_N}\s*(?:x|times)\s*{_WEEK}"), _times_per_week),
    (_rx(r"\btwice[\s-]+(?:a[\s-]+|per[\s-]+)?week(?:ly)?\b|\bbiw\b"), "BIW"),
    (_rx(r"\bthrice[\s-]+(?:a[\s-]+|per[\s-]+)?week(?:ly)?\b|\btiw\b"), "TIW"),
    (_rx(r"\bq\s*(?P<n>\d+)\s*h(?:ours?|rs?)?\b"), _hours),
    # "1000 mg/24h", "5mg/12h"; not "2400 mg/m2/46h", which is the length of an infusion.
    (_rx(r"/\s*(?P<n>24|12|8|6)\s*h(?:ours?|rs?)?\b"), _hours),
    (_rx(rf"\bevery\s+{_N}\s*h(?:ours?|rs?)\b"), _hours),
    (
        _rx(
            r"(?<![\w.])(?:q\.?\s?d\b\.?|qday\b|once[\s-]+(?:a|per|each|every)[\s-]+day\b|once[\s-]?daily\b|daily\b"
            r"|every\s*day\b|each\s+day\b|everyday\b|once/day\b|qam\b|qpm\b|qhs\b|nightly\b"
            r"|every\s+(?:morning|evening|night)\b|at\s+bedtime\b)"
        ),
        "QD",
    ),
    (_rx(r"(?<![\w.])(?:every\s+other\s+day|q\.?o\.?d\b\.?|alternate\s+days)"), "QOD"),
    # "Q3W", "q2wks", "Q3Wk", "q 6wks", "Q4 weeks": the number sits between q and w.
    (_rx(r"\bq\s*(?P<n>\d+)\s*-?\s*(?:w|wk|wks|week|weeks|weekly)\b\.?"), _weeks),
    (_rx(rf"\b(?:once\s+)?(?:every|each)\s+{_N}\s*-?\s*(?:weeks?|wks?)\b{_NOT_CYCLE}"), _weeks),
    (_rx(rf"\b{_N}-weekly\b"), _weeks),
    (_rx(r"/\s*(?P<n>\d+)\s*(?:weeks|wks)\b"), _weeks),
    (_rx(r"\bfortnightly\b"), "Q2W"),
    (
        _rx(
            r"(?<![\w.])(?:q\.?\s?w(?:k|eek)?\b\.?|qw\b|once[\s-]+(?:a|per|each|every)[\s-]+week\b|once[\s-]?weekly\b"
            r"|weekly\b|every\s+week\b|each\s+week\b)"
        ),
        "QW",
    ),
    (_rx(rf"\b(?:once\s+)?(?:every|each)\s+{_N}\s*-?\s*days?\b{_NOT_CYCLE}"), _days),
    (_rx(r"\bq\s*(?P<n>\d+)\s*d(?:ays?)?\b"), _days),
    (_rx(rf"\b(?:once\s+)?(?:every|each)\s+{_N}\s*-?\s*months?\b{_NOT_CYCLE}"), _months),
    (_rx(r"\bq\s*(?P<n>\d+)\s*mo(?:nths?)?\b"), _months),
    (_rx(r"\b(?:monthly|every\s+month|once\s+(?:a|per|every)\s+month)\b"), "QM"),
    (_rx(r"\bquarterly\b"), "Q3M"),
    (_rx(r"(?<![\w.])(?:p\.?r\.?n\b\.?|as\s+needed|on\s+demand|as\s+required)"), "PRN"),
]

# Weak statements: used only when no strong one is found in the same region. "single dose" loses to a later
# "every 3 weeks" ("administered as a single dose IV over 90 minutes every 3 weeks").
_FREQ_WEAK: list[_Rule] = [
    (
        _rx(
            r"\bsingle[\s-](?:dose|injection|infusion|administration|fraction|bolus)\b|\bone[\s-]time\b"
            r"|\bonce\b(?=\s*(?:[).,;~]|$|only\b|on\s+(?:day|the\s+day)\b|at\b|before\b|prior\b|pre|post|intra))"
        ),
        "ONCE",
    ),
    (_rx(r"\bper\s+day\b|\bqd\b"), "QD"),
]

_IV_NOT_ROUTE_BEFORE = re.compile(
    r"(?:stage|phase|grade|arm|group|cohort|part|level|type|class|step|line|schedule|regimen|cycle|period|"
    r"category|study|tier|section|figo|ajcc|nyha|[IVX]+\s*[-/]|[IVX]+\s*(?:or|to|and))\s*\(?$",
    re.I,
)

_ROUTE_STRONG: list[_Rule] = [
    (_rx(r"(?<![\w.])(?:intravenous(?:ly)?|i\.\s?v\b\.?|by\s+vein|intra-venous(?:ly)?)"), "IV"),
    (re.compile(r"\b(?:IV|iv|Iv)\b(?![-/]\s*[IVX]\b)"), "IV"),
    (
        _rx(
            r"(?<![\w.])(?:sub-?cutaneous(?:ly)?|subcut\b|sub-?q\b|s\.\s?c\b\.?|s\.\s?q\b\.?|sc\b(?!-\d)|sq\b(?!\.?\s*m\b))"
            r"(?!\s+(?:lesions?|tissue|nodules?|metastas\w*|fat|tumou?rs?|deposits?|emphysema))"
        ),
        "SC",
    ),
    (_rx(r"(?<![\w.])(?:intra-?muscular(?:ly)?|i\.\s?m\b\.?)"), "IM"),
    (re.compile(r"\bIM\b(?!\s*\d)"), "IM"),
    (
        _rx(
            r"(?<![\w.])(?:orally|per\s+os|p\.\s?o\b\.?|po\b|by\s+mouth|swallowed|oral(?![\s-]+(?:mucositis|cavity|cancers?|"
            r"carcinomas?|care|hygiene|health|mucosa|lesions?|pain|exam\w*|presentations?|feedback|surgery|"
            r"complications?|intake|nutrition\w*|rinses?|hearing|interviews?|consent|history|communication|"
            r"squamous|leukoplakia|tongue|microbio\w*|swabs?|microbiome|tumou?rs?|disease|diet|mucos\w*|"
            r"premalignant|potentially))\b)"
        ),
        "ORAL",
    ),
    (_rx(r"\b(?:intrathecal(?:ly)?)"), "INTRATHECAL"),
    (_rx(r"\b(?:intravesical(?:ly)?|bladder\s+instillations?)"), "INTRAVESICAL"),
    (_rx(r"(?<![\w.])(?:intraperitoneal(?:ly)?|i\.p\.)"), "INTRAPERITONEAL"),
    (_rx(r"\b(?:intra-?tumou?ral(?:ly)?)"), "INTRATUMORAL"),
    (_rx(r"\b(?:intra-?lesional(?:ly)?)"), "INTRALESIONAL"),
    (_rx(r"(?<![\w.])(?:intradermal(?:ly)?|i\.d\.)"), "INTRADERMAL"),
    (_rx(r"\b(?:intra-?arterial(?:ly)?|hepatic\s+arterial\s+infusion)"), "INTRA_ARTERIAL"),
    (_rx(r"\b(?:intrapleural(?:ly)?)"), "INTRAPLEURAL"),
    (_rx(r"\b(?:topical(?:ly)?|applied\s+to\s+the\s+skin|cutaneous(?:ly)?\s+application)"), "TOPICAL"),
    (_rx(r"\b(?:transdermal(?:ly)?)"), "TRANSDERMAL"),
    (_rx(r"\b(?:inhaled|inhalation|inhaler|nebuli[sz]ed|nebuli[sz]er)"), "INHALED"),
    (_rx(r"\b(?:intranasal(?:ly)?|nasal\s+spray)"), "INTRANASAL"),
    (_rx(r"\b(?:sublingual(?:ly)?|under\s+the\s+tongue|buccal(?:ly)?)"), "SUBLINGUAL"),
    (_rx(r"\b(?:rectally|per\s+rectum|rectal\s+(?:suppositor\w*|administration|enema|ointment|route))"), "RECTAL"),
    (
        _rx(
            r"\b(?:vaginally|intravaginal(?:ly)?|vaginal\s+(?:tablets?|gel|cream|suppositor\w*|inserts?|rings?|"
            r"pessar\w*|administration|route))"
        ),
        "VAGINAL",
    ),
]
# Weak: a dosage form implies a route only when no route word is found in the region.
_ROUTE_WEAK: list[_Rule] = [
    (_rx(r"\b(?:tablets?|capsules?|caplets?|pills?|softgels?|oral\s+solution|syrup)\b"), "ORAL"),
    (_rx(r"\b(?:infusions?|infused)\b"), "IV"),
    (_rx(r"\b(?:creams?|ointments?|lotions?)\b"), "TOPICAL"),
    (_rx(r"\b(?:patch|patches)\b"), "TRANSDERMAL"),
    (_rx(r"\bsuppositor(?:y|ies)\b"), "RECTAL"),
]


def _route_ok(text: str, m: re.Match[str]) -> bool:
    if m.group(0).lower() == "iv":
        # "Stage IV", "Phase IV", "Arm IV", "III-IV" and the enumeration "(iv)" are Roman numerals.
        if _IV_NOT_ROUTE_BEFORE.search(text[max(0, m.start() - 25) : m.start()]):
            return False
        if m.group(0) == "iv" and text[max(0, m.start() - 1) : m.start()] == "(" and text[m.end() : m.end() + 1] == ")":
            return False
    return True


def _find(rules: list[_Rule], text: str, lo: int, hi: int, last: bool) -> tuple[bool, str | None]:
    """Earliest (or, with ``last``, latest) rule match inside ``text[lo:hi]``: (found, code)."""
    best: tuple[int, int, str | None] | None = None
    for rx, code in rules:
        for m in rx.finditer(text, lo, hi):
            if not _route_ok(text, m):
                continue
            value = code(m) if callable(code) else code
            # earliest start, longest on ties; with ``last``: latest end, longest on ties ("8 weekly" over "weekly")
            key = (m.end(), m.end() - m.start()) if last else (-m.start(), m.end() - m.start())
            if best is None or key > best[:2]:
                best = (key[0], key[1], value)
            if not last:
                break  # finditer is in order: the first match of this rule is its earliest
    return (False, None) if best is None else (True, best[2])


def _search(
    strong: list[_Rule],
    weak: list[_Rule],
    text: str,
    dose: _Candidate,
    cands: list[_Candidate],
    clauses: list[tuple[int, int]],
) -> str | None:
    """Frequency or route code for ``dose``: its own clause first, then the clauses that mention no dose."""
    home = next((i for i, (a, b) in enumerate(clauses) if a <= dose.start < b), 0)
    a, b = clauses[home]
    # Within the clause, a mention with another unit is another drug ("ridaforolimus 20 mg daily/dalotuzumab
    # intravenous infusion 10 mg/kg once weekly"): stop there. A mention with the same unit is usually the same
    # drug (loading dose, total, tablet strength) and does not stop the search ("Dupilumab 300 mg (for a total of
    # 600 mg) ... followed by a single injection qw").
    # A volume is mostly the diluent ("100 mg in 80 mL 0.9% saline, administered intravesically"), not a drug.
    mentions = [c for c in cands if c.kind != "other"]
    for c in mentions:
        if c.unit == dose.unit or c.unit.startswith("mL"):
            continue
        if c.start >= dose.end:
            b = min(b, c.start)
        elif c.end <= dose.start:
            a = max(a, c.end)
    dose_clauses = {i for i, (lo, hi) in enumerate(clauses) for c in mentions if lo <= c.start < hi}
    others = [clauses[i] for i in range(len(clauses)) if i not in dose_clauses]
    for rules in (strong, weak):
        for lo, hi, last in ((dose.end, b, False), (a, dose.start, True)):
            found, code = _find(rules, text, lo, hi, last)
            if found:
                return code
    for rules in (strong, weak):
        for lo, hi in others:
            found, code = _find(rules, text, lo, hi, False)
            if found:
                return code
    return None


def dose_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every number-with-unit in ``text``: doses, ranges, concentrations, thresholds.

    Used to cut doses out of names ("Pembrolizumab 100 mg/4 mL (25 mg/ml) Injection").

    >>> dose_spans("Carboplatin AUC 6 + Paclitaxel 175 mg/m2")
    [(12, 17), (31, 40)]
    """
    return [(c.start, c.end) for c in _candidates(text)]


def parse_dose(text: str | None) -> Dose | None:
    """First single-valued dose in ``text`` with its frequency and route; None when the text states none.

    >>> parse_dose("Certolizumab pegol (CZP) 400 mg subcutaneous (sc) on Weeks 0, 2 and 4, followed by 200 mg CZP "
    ...            "sc every 2 weeks (Q2W) from Week 6 onwards.")
    Dose(value=400.0, unit='mg', frequency='Q2W', route='SC', text='400 mg')
    >>> parse_dose("Carboplatin AUC 5 or 6 plus Paclitaxel 175 mg/m2, every 3 weeks, 6 cycles.")
    Dose(value=175.0, unit='mg/m2', frequency='Q3W', route=None, text='175 mg/m2')
    >>> parse_dose("Placebo qw") is None
    True
    """
    if not text or not text.strip():
        return None
    return _parse_dose(text)


# The registry repeats its arm and intervention texts heavily ("Placebo", a drug's standard regimen, the same
# group described in every outcome of a study), and a parse costs ~150 µs of regex work: the result is cached by
# text. Safe to share: a Dose is frozen and its fields are immutable. Bounded, so a whole registry of distinct
# descriptions cannot grow it without limit.
@functools.lru_cache(maxsize=1 << 16)
def _parse_dose(text: str) -> Dose | None:
    cands = _candidates(text)
    doses = [c for c in cands if c.kind == "dose"]
    # A volume is the dose only when nothing else is stated: "0.5ml(25mg) carbon nanoparticle" is 25 mg.
    dose = next((c for c in doses if not c.unit.startswith("mL")), doses[0] if doses else None)
    if dose is None:
        return None
    clauses = _clauses(text)
    frequency = _search(_FREQ_STRONG, _FREQ_WEAK, text, dose, cands, clauses)
    route = _search(_ROUTE_STRONG, _ROUTE_WEAK, text, dose, cands, clauses)
    return Dose(dose.value, dose.unit, frequency, route, text[dose.start : dose.end].strip())
