"""Field parsers shared by every source: numbers with comparators, dates, enums, text checks.

Each parser takes the raw value and a ``ctx`` (record id) and either returns the parsed value or raises
:class:`~deepimagine_data.errors.RecordError` naming the record and the field. "Not available" tokens
("NA", "N/A", "", ...) parse to ``None``: ClinicalTrials.gov posts them on purpose, they are not errors.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from .errors import RecordError

NA_TOKENS = frozenset({"", "na", "n/a", "nan", "none", "null", "-", "--", "nr", "ne", "not available"})

# Real ClinicalTrials.gov limits are far lower (outcome title 255, description 999, eligibility 20,000);
# these caps only catch corrupt input (a whole file pasted into one field).
SHORT_TEXT_MAX = 5_000
LONG_TEXT_MAX = 200_000

# Commas only as thousands separators ("1,234.5"); "1,5" (a decimal comma) is refused rather than read as 15.
_NUM_RE = re.compile(
    r"^(?P<mod><=|>=|≤|≥|<|>|=|~)?\s*(?P<num>[-+]?((\d{1,3}(,\d{3})+|\d+)(\.\d*)?|\.\d+)([eE][-+]?\d+)?)$"
)
_MOD_CANON = {"≤": "<=", "≥": ">=", "~": "="}


def parse_number(raw, ctx: str | None, field: str) -> tuple[float | None, str | None]:
    """Parse a posted number, keeping a leading comparator as a modifier.

    >>> parse_number("<0.0001", "NCT02210780", "pValue")
    (0.0001, '<')
    >>> parse_number("NA", "NCT00763412", "value")
    (None, None)
    """
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        raise RecordError(ctx, field, f"expected a number, got {raw!r}", "bad_number")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and math.isnan(raw):
            return None, None
        if isinstance(raw, float) and math.isinf(raw):
            raise RecordError(ctx, field, f"infinite number {raw!r}", "bad_number")
        return float(raw), None
    s = str(raw).strip()
    if s.lower() in NA_TOKENS:
        return None, None
    m = _NUM_RE.match(s.replace(" ", ""))
    if not m:
        raise RecordError(ctx, field, f"not a number: {_clip(s)!r}", "bad_number")
    num = m.group("num").replace(",", "")
    try:
        value = float(num)
    except ValueError:  # pragma: no cover - the regex admits only float syntax
        raise RecordError(ctx, field, f"not a number: {_clip(s)!r}", "bad_number") from None
    if math.isinf(value):
        raise RecordError(ctx, field, f"number out of range: {_clip(s)!r}", "bad_number")
    mod = m.group("mod")
    return value, _MOD_CANON.get(mod, mod)


def parse_float(raw, ctx: str | None, field: str) -> float | None:
    """A number where a comparator would be meaningless (a CI bound, an estimate): the modifier is dropped
    only if it is '='; any other comparator is an error because the value would be misread."""
    value, mod = parse_number(raw, ctx, field)
    if mod not in (None, "="):
        raise RecordError(ctx, field, f"unexpected comparator in {raw!r}", "bad_number")
    return value


def parse_int(raw, ctx: str | None, field: str) -> int | None:
    value = parse_float(raw, ctx, field)
    if value is None:
        return None
    if value != int(value) or value < 0:
        raise RecordError(ctx, field, f"expected a non-negative whole number, got {raw!r}", "bad_number")
    return int(value)


def raw_text(raw) -> str | None:
    """The raw text kept beside a parsed value (numbers from typed sources are written back as text)."""
    if raw is None:
        return None
    if isinstance(raw, float):
        if math.isnan(raw):
            return None
        # 12.0 -> "12", 0.0001 -> "0.0001": AACT stores typed numbers, the registry posted them as text.
        return str(int(raw)) if raw.is_integer() and abs(raw) < 1e16 else repr(raw)
    return str(raw)


_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}


def parse_date(raw, ctx: str | None, field: str) -> dt.date | None:
    """ISO dates ('2017-06-05', '2006-11'), AACT month-year text ('November 2011', 'December 27, 2011').

    A month-only date is read as the first day of that month; the raw text is kept beside it.
    """
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    s = str(raw).strip()
    if s.lower() in NA_TOKENS:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return dt.date.fromisoformat(s)
        if re.fullmatch(r"\d{4}-\d{2}", s):
            return dt.date(int(s[:4]), int(s[5:7]), 1)
        if re.fullmatch(r"\d{4}", s):
            return dt.date(int(s), 1, 1)
        m = re.fullmatch(r"([A-Za-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})", s)
        if m and m.group(1).lower() in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2) or 1))
    except ValueError:
        pass
    raise RecordError(ctx, field, f"not a date: {_clip(s)!r}", "bad_date")


def check_text(raw, ctx: str | None, field: str, max_len: int = SHORT_TEXT_MAX) -> str | None:
    """Text as posted, refused when it cannot be stored faithfully or is absurdly long."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = raw_text(raw)
        else:
            raise RecordError(ctx, field, f"expected text, got {type(raw).__name__}", "bad_type")
    if len(raw) > max_len:
        raise RecordError(ctx, field, f"text of {len(raw):,} characters exceeds the limit of {max_len:,}", "too_long")
    if "\x00" in raw:
        raise RecordError(ctx, field, "text contains a NUL character", "bad_text")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError(ctx, field, "text is not valid unicode (lone surrogate)", "bad_text") from None
    return raw


def long_text(raw, ctx: str | None, field: str) -> str | None:
    return check_text(raw, ctx, field, LONG_TEXT_MAX)


def text_list(raw: Iterable | None, ctx: str | None, field: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise RecordError(ctx, field, f"expected a list, got {type(raw).__name__}", "bad_type")
    out = []
    for x in raw:
        t = check_text(x, ctx, field)
        if t is not None:
            out.append(t)
    return out


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "…"


# --- enums ---------------------------------------------------------------------------------------------
# Canonical values are ClinicalTrials.gov API v2 enum names. Both the API's enum names and the display
# strings used by AACT and older exports map onto them.


def _key(s: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", s.upper()).strip("_")


class Enum:
    def __init__(self, name: str, values: Iterable[str], aliases: dict[str, str] | None = None):
        self.name = name
        self.values = frozenset(values)
        self.lookup = {_key(v): v for v in self.values}
        for alias, canon in (aliases or {}).items():
            assert canon in self.values, (name, canon)
            self.lookup[_key(alias)] = canon

    def parse(self, raw, ctx: str | None, field: str) -> str | None:
        if raw is None:
            return None
        s = str(raw).strip()
        if not s:
            return None
        canon = self.lookup.get(_key(s))
        if canon is None:
            raise RecordError(ctx, field, f"unknown {self.name} value {_clip(s)!r}", "unknown_enum")
        return canon


PHASE = Enum(
    "phase",
    ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"],
    {
        "Early Phase 1": "EARLY_PHASE1",
        "Phase 0": "EARLY_PHASE1",
        "Not Applicable": "NA",
        "N/A": "NA",
        "Phase 1": "PHASE1",
        "Phase 2": "PHASE2",
        "Phase 3": "PHASE3",
        "Phase 4": "PHASE4",
    },
)


def parse_phases(raw, ctx: str | None, field: str = "phases") -> list[str]:
    """'Phase 1/Phase 2' (AACT) or ['PHASE1', 'PHASE2'] (API v2) -> ['PHASE1', 'PHASE2']."""
    if raw is None:
        return []
    parts = re.split(r"\s*/\s*", raw) if isinstance(raw, str) else list(raw)
    out = [PHASE.parse(p, ctx, field) for p in parts]
    return [p for p in out if p is not None]


ARM_TYPE = Enum(
    "arm group type",
    ["EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION", "OTHER"],
)
OUTCOME_TYPE = Enum(
    "outcome type",
    ["PRIMARY", "SECONDARY", "OTHER_PRE_SPECIFIED", "POST_HOC"],
    {"Other Pre-specified": "OTHER_PRE_SPECIFIED", "Post-Hoc": "POST_HOC"},
)
PARAM_TYPE = Enum(
    "measure parameter type",
    [
        "GEOMETRIC_MEAN",
        "GEOMETRIC_LEAST_SQUARES_MEAN",
        "LEAST_SQUARES_MEAN",
        "LOG_MEAN",
        "MEAN",
        "MEDIAN",
        "NUMBER",
        "COUNT_OF_PARTICIPANTS",
        "COUNT_OF_UNITS",
    ],
)
INTERVENTION_TYPE = Enum(
    "intervention type",
    [
        "DRUG",
        "DEVICE",
        "BIOLOGICAL",
        "PROCEDURE",
        "RADIATION",
        "BEHAVIORAL",
        "GENETIC",
        "DIETARY_SUPPLEMENT",
        "COMBINATION_PRODUCT",
        "DIAGNOSTIC_TEST",
        "OTHER",
    ],
    {"Biological/Vaccine": "BIOLOGICAL", "Procedure/Surgery": "PROCEDURE"},
)
STUDY_TYPE = Enum(
    "study type",
    ["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"],
    {"Observational [Patient Registry]": "OBSERVATIONAL"},
)
ALLOCATION = Enum("allocation", ["RANDOMIZED", "NON_RANDOMIZED", "NA"], {"N/A": "NA", "Not Applicable": "NA"})
INTERVENTION_MODEL = Enum(
    "intervention model",
    ["SINGLE_GROUP", "PARALLEL", "CROSSOVER", "FACTORIAL", "SEQUENTIAL"],
    {
        "Single Group Assignment": "SINGLE_GROUP",
        "Parallel Assignment": "PARALLEL",
        "Crossover Assignment": "CROSSOVER",
        "Factorial Assignment": "FACTORIAL",
        "Sequential Assignment": "SEQUENTIAL",
    },
)
PRIMARY_PURPOSE = Enum(
    "primary purpose",
    [
        "TREATMENT",
        "PREVENTION",
        "DIAGNOSTIC",
        "ECT",
        "SUPPORTIVE_CARE",
        "SCREENING",
        "HEALTH_SERVICES_RESEARCH",
        "BASIC_SCIENCE",
        "DEVICE_FEASIBILITY",
        "OTHER",
    ],
    {"Educational/Counseling/Training": "ECT"},
)
MASKING = Enum(
    "masking",
    ["NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"],
    {"None (Open Label)": "NONE", "Open Label": "NONE"},
)
SEX = Enum("sex", ["ALL", "FEMALE", "MALE"], {"Both": "ALL"})
OVERALL_STATUS = Enum(
    "overall status",
    [
        "ACTIVE_NOT_RECRUITING",
        "COMPLETED",
        "ENROLLING_BY_INVITATION",
        "NOT_YET_RECRUITING",
        "RECRUITING",
        "SUSPENDED",
        "TERMINATED",
        "WITHDRAWN",
        "AVAILABLE",
        "NO_LONGER_AVAILABLE",
        "TEMPORARILY_NOT_AVAILABLE",
        "APPROVED_FOR_MARKETING",
        "WITHHELD",
        "UNKNOWN",
    ],
    {"Unknown status": "UNKNOWN"},
)
NON_INFERIORITY = Enum(
    "non-inferiority type",
    [
        "SUPERIORITY",
        "NON_INFERIORITY",
        "EQUIVALENCE",
        "OTHER",
        "NON_INFERIORITY_OR_EQUIVALENCE",
        "SUPERIORITY_OR_OTHER",
        "NON_INFERIORITY_OR_EQUIVALENCE_LEGACY",
        "SUPERIORITY_OR_OTHER_LEGACY",
    ],
    {
        "Non-Inferiority or Equivalence (legacy)": "NON_INFERIORITY_OR_EQUIVALENCE_LEGACY",
        "Superiority or Other (legacy)": "SUPERIORITY_OR_OTHER_LEGACY",
    },
)
CI_SIDES = Enum("CI sides", ["ONE_SIDED", "TWO_SIDED"], {"1-Sided": "ONE_SIDED", "2-Sided": "TWO_SIDED"})
REPORTING_STATUS = Enum("reporting status", ["POSTED", "NOT_POSTED"])

_DISPERSION = Enum(
    "dispersion type",
    [
        "NA",
        "STANDARD_DEVIATION",
        "STANDARD_ERROR",
        "INTER_QUARTILE_RANGE",
        "FULL_RANGE",
        "CONFIDENCE_INTERVAL",
        "GEOMETRIC_COEFFICIENT_OF_VARIATION",
    ],
    {
        "Geometric Coefficient of Variation": "GEOMETRIC_COEFFICIENT_OF_VARIATION",
        "GEOMETRIC_COEFFICIENT": "GEOMETRIC_COEFFICIENT_OF_VARIATION",
        "Interquartile Range": "INTER_QUARTILE_RANGE",
        "Not Applicable": "NA",
    },
)
_CI_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*%\s*Confidence\s+Interval$", re.I)
_CI_ENUM = {
    "CONFIDENCE_80": 80.0,
    "CONFIDENCE_90": 90.0,
    "CONFIDENCE_95": 95.0,
    "CONFIDENCE_975": 97.5,
    "CONFIDENCE_99": 99.0,
    "CONFIDENCE_OTHER": None,
}


def parse_dispersion(raw, ctx: str | None, field: str = "dispersionType") -> tuple[str | None, float | None]:
    """'95% Confidence Interval' / 'CONFIDENCE_95' -> ('CONFIDENCE_INTERVAL', 95.0)."""
    if raw is None or not str(raw).strip():
        return None, None
    s = str(raw).strip()
    m = _CI_RE.match(s)
    if m:
        return "CONFIDENCE_INTERVAL", float(m.group(1))
    if _key(s) in _CI_ENUM:
        return "CONFIDENCE_INTERVAL", _CI_ENUM[_key(s)]
    return _DISPERSION.parse(s, ctx, field), None
