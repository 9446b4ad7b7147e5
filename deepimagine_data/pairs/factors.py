"""Factor diff between an anchor and a target: which named factors of two comparisons differ.

DeepImagine predicts a target comparison from an anchor whose result is known, walking from the anchor to the
target one factor at a time. This module says which factors that walk has to change. A side is one trial plus one
of its comparisons (two arms and one outcome, as in :func:`deepimagine_data.pipeline.comparisons`); its facts are a
frozen :class:`Side`. Every factor has its own rule, ``<factor>_rule(a, b) -> "same" | "changed" | "unknown"``:

- ``"unknown"`` whenever either side lacks what the rule needs (the AACT oncology subset has no countries, sex, ages
  or eligibility text, so its geography is always unknown). A rule never guesses from a missing value.
- ``"changed"`` needs one difference both sides state; ``"same"`` needs every part of the factor stated on both
  sides and equal. So a factor made of several parts (population, design) with one part known on one side only is
  ``"changed"`` if another part differs, else ``"unknown"``.
- Every rule is symmetric: ``rule(a, b) == rule(b, a)``.

Spelling variants are not differences: interventions compare by the corpus-normalized name
(:mod:`deepimagine_data.normalize.names`), conditions and outcome titles by normalized tokens with a small fuzzy
tolerance, countries by their ClinicalTrials.gov aliases. Each threshold is justified next to it.

Example: fulvestrant 500 mg against anastrozole 1 mg in FIRST (NCT00274469, phase 2, open label, metastatic breast
cancer) and FALCON (NCT01602380, phase 3, double-blind, hormone receptor positive breast cancer), first outcome of
each (AACT, comparisons from :func:`deepimagine_data.pipeline.comparisons`)::

    >>> from deepimagine_data import pipeline
    >>> tables, _ = pipeline.corpus()
    >>> by_id = {c["comparison_id"]: c for c in pipeline.comparisons()}
    >>> idx = sides_from_tables(tables)
    >>> d = diff(idx.side(by_id["NCT00274469:O0:OG001|OG000"]), idx.side(by_id["NCT01602380:O0:OG001|OG000"]))
    >>> d.changed, d.unknown
    (('outcome', 'population', 'phase', 'design'), ('geography',))
    >>> d.details["phase"], d.details["design"]
    ('phase: PHASE2 -> PHASE3', 'design: masking open label -> blinded')

The module is pure: :func:`sides_from_tables` reads only the tables it is given.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from ..normalize.names import basic_name, canonical_name

__all__ = [
    "FACTORS",
    "SAME",
    "CHANGED",
    "UNKNOWN",
    "Dose",
    "Side",
    "SideIndex",
    "FactorDiff",
    "side_from_records",
    "sides_from_tables",
    "intervention_rule",
    "dose_rule",
    "outcome_rule",
    "population_rule",
    "conditions_rule",
    "geography_rule",
    "phase_rule",
    "design_rule",
    "diff",
    "condition_key",
    "country_name",
    "region",
    "age_years",
    "prior_treatment",
    "outcome_key",
    "time_point_hours",
]

FACTORS = ("intervention", "dose", "outcome", "population", "geography", "phase", "design")
SAME, CHANGED, UNKNOWN = "same", "changed", "unknown"
Verdict = tuple[str, str]  # (same|changed|unknown, short reason)


# ==============================================================================================================
# Side: the facts of one side
# ==============================================================================================================


@dataclass(frozen=True)
class Dose:
    """A parsed dose as the comparison gives it (``a_dose_value``/``a_dose_unit``/``a_dose_frequency``)."""

    value: float | None = None
    unit: str | None = None
    frequency: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return "no dose"
        v = f"{self.value:g}"
        return " ".join(x for x in (v, self.unit, self.frequency) if x)


@dataclass(frozen=True)
class Side:
    """One trial and one comparison on it, normalized for the factor rules; ``None`` / empty = not stated.

    Trial level: ``phases`` (sorted, ``("NA",)`` = phase not applicable), ``conditions`` and ``mesh_conditions``
    (:func:`condition_key` of each), ``sex`` (ALL/FEMALE/MALE), ``min_age``/``max_age`` in years (0 and ``inf``
    for "no limit" where the record states sex or the other limit: ClinicalTrials.gov leaves a missing limit out),
    ``eligibility`` (criteria text), ``healthy_volunteers``, ``countries`` (:func:`country_name` of each), and the
    four design fields.

    Comparison level: ``reference``/``compared`` are the normalized intervention names of arm ``a`` (the
    reference side) and arm ``b``; ``interventions_from`` says where they were read ("arms" = the linked protocol
    arm, "title" = read from the result-group title, see :func:`_title_interventions`); the doses; the outcome's title,
    time frame, parameter type and unit.
    """

    trial_id: str
    phases: tuple[str, ...] = ()
    conditions: frozenset[str] = frozenset()
    mesh_conditions: frozenset[str] = frozenset()
    sex: str | None = None
    min_age: float | None = None
    max_age: float | None = None
    eligibility: str | None = None
    healthy_volunteers: bool | None = None
    countries: frozenset[str] = frozenset()
    allocation: str | None = None
    masking: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    # comparison level
    comparison_id: str | None = None
    outcome_id: str | None = None
    reference: frozenset[str] | None = None
    compared: frozenset[str] | None = None
    interventions_from: tuple[str, str] | None = None
    reference_dose: Dose = field(default_factory=Dose)
    compared_dose: Dose = field(default_factory=Dose)
    outcome_title: str | None = None
    outcome_time_frame: str | None = None
    outcome_param_type: str | None = None
    outcome_unit: str | None = None


# ==============================================================================================================
# Normalizers (cached: the same few thousand strings recur across pairs)
# ==============================================================================================================

_SPACE = re.compile(r"\s+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Words that name "a malignant growth" interchangeably in registry conditions and MeSH headings: AACT lists
# "Breast Cancer" (928 trials) next to "Breast Neoplasms" (18) and "Breast Carcinoma"; MeSH says "Carcinoma,
# Non-Small-Cell Lung" for "Non-small Cell Lung Cancer"; "Solid Tumors" / "Solid Tumor" / "Advanced Cancers".
# Histologic subtypes ("adenocarcinoma", "sarcoma", "lymphoma") stay: they narrow the population.
_CONDITION_SYNONYMS = {
    "neoplasm": "cancer",
    "neoplasms": "cancer",
    "tumor": "cancer",
    "tumors": "cancer",
    "tumour": "cancer",
    "tumours": "cancer",
    "carcinoma": "cancer",
    "carcinomas": "cancer",
    "cancers": "cancer",
    "malignancy": "cancer",
    "malignancies": "cancer",
    # MeSH uses the adjective, registries the organ: "Prostatic Neoplasms" / "Prostate Cancer", "Stomach
    # Neoplasms" / "Gastric Cancer", "Kidney Neoplasms" / "Renal Cancer", "Liver Neoplasms" / "Hepatic ...".
    "prostatic": "prostate",
    "gastric": "stomach",
    "renal": "kidney",
    "hepatic": "liver",
    "pulmonary": "lung",
    "hematological": "hematologic",
    "patients": "",
    "patient": "",
}
# Abbreviations AACT lists as conditions on their own ("NSCLC" 7 trials, "Stage IV NSCLC", "HCC" 5, "SCLC" 4).
_CONDITION_ABBREVIATIONS = {
    "nsclc": "non small cell lung cancer",
    "sclc": "small cell lung cancer",
    "hcc": "hepatocellular cancer",
    "crc": "colorectal cancer",
    "rcc": "kidney cell cancer",
    "crpc": "castration resistant prostate cancer",
    "mcrpc": "metastatic castration resistant prostate cancer",
    "tnbc": "triple negative breast cancer",
    "cll": "chronic lymphocytic leukemia",
    "mds": "myelodysplastic syndrome",
    "nhl": "non hodgkin lymphoma",
}
# "Malignant Neoplasm" = "Cancer", "Malignant Pleural Mesothelioma" = "Pleural Mesothelioma"; "Urinary Bladder
# Neoplasms" (MeSH) = "Bladder Cancer".
_CONDITION_STOP = frozenset(
    {"of", "the", "and", "in", "with", "a", "an", "or", "malignant", "urinary", "disease", "diseases"}
)


def changed_factors_of(row: Mapping) -> tuple[str, ...]:
    """The changed factor(s) a published pair row names: ``changed_factors`` (approx, pathways: a list) or
    ``changed_factor`` (strict pairs: one name); ``()`` when it names none.

    >>> changed_factors_of({"changed_factors": ["dose", "outcome"]}), changed_factors_of({"changed_factor": "arm"})
    (('dose', 'outcome'), ('arm',))
    """
    c = row.get("changed_factors")
    if isinstance(c, (list, tuple)):
        return tuple(str(f) for f in c)
    c = row.get("changed_factor")
    return (str(c),) if c else ()


@lru_cache(maxsize=65536)
def condition_key(condition: str | None) -> str | None:
    """A condition as lower-case words, bracketed text dropped, synonyms of "cancer" and MeSH adjectives unified.

    Word order is kept for display; :func:`_condition_tokens` compares as a set, so MeSH's inverted headings match.

    >>> condition_key("Non-small Cell Lung Cancer (NSCLC)"), condition_key("Carcinoma, Non-Small-Cell Lung")
    ('non small cell lung cancer', 'cancer non small cell lung')
    """
    if condition is None:
        return None
    s = _NON_WORD.sub(" ", _BRACKETED.sub(" ", condition.lower()))
    s = " ".join(_CONDITION_ABBREVIATIONS.get(w, w) for w in s.split())
    words = [_CONDITION_SYNONYMS.get(w, w) for w in s.split()]
    words = [w for w in words if w and w not in _CONDITION_STOP]
    return " ".join(words) or None


def _stem(w: str) -> str:
    # plural "s" only: "Myelodysplastic Syndromes" / "Syndrome"; not "metastasis", "psoriasis", "nervous"
    return w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w


def _pair_up(only1: list[str], only2: list[str], match: Callable[[str, str], bool]) -> bool:
    """Whether the differing items pair up one to one; greedy from both ends, so the answer is symmetric."""
    if len(only1) != len(only2):
        return False

    def greedy(xs: list[str], ys: list[str]) -> bool:
        left = sorted(ys)
        for x in sorted(xs):
            hit = next((y for y in left if match(x, y)), None)
            if hit is None:
                return False
            left.remove(hit)
        return True

    return greedy(only1, only2) or greedy(only2, only1)


@lru_cache(maxsize=65536)
def _condition_tokens(key: str) -> frozenset[str]:
    return frozenset(_stem(_spelling(w)) for w in key.split())


# Two words that differ only in spelling ("leukaemia" and "leukemia" already meet in :func:`_spelling`): fuzz.ratio
# >= 92, both words >= 7 letters, same first two letters. 92 is NameNormalizer's merge threshold, and the word
# pairs of the embedded corpus agree with it. Condition words (3,177 condition strings) from 92 up are spelling
# variants ("hepatocellular"/"heptocellular" 96.3, "gastroesophageal"/"gastrooesophageal" 97.0, "prostate"/
# "prostrate" 94.1, "relapse"/"relapsed" 93.3), as are outcome words ("glycosylated"/"glcosylated" 95.7 in
# CliniFact's HbA1c titles); intervention words just below are distinct treatments ("hyperfractionated"/
# "hypofractionated" 90.9, as NameNormalizer notes). The first-letters guard keeps apart prefixes that score
# higher ("differentiated"/"undifferentiated" 93.3, "resectable"/"unresectable" 90.9, "adjuvant"/"neoadjuvant").
# Short words never match fuzzily: "iiia"/"iiib", "her2"/"her3", "il-2"/"il-12".
_WORD_MATCH = 92.0
_WORD_MIN_LEN = 7


def _spelling(w: str) -> str:
    # British digraphs: "haemoglobin", "oesophageal", "oestrogen", "anaemia", "leukaemia"
    return w.replace("ae", "e").replace("oe", "e")


def _words_match(w: str, v: str) -> bool:
    if w == v:
        return True
    return min(len(w), len(v)) >= _WORD_MIN_LEN and w[:2] == v[:2] and fuzz.ratio(w, v) >= _WORD_MATCH


def _conditions_match(k1: str, k2: str) -> bool:
    t1, t2 = _condition_tokens(k1), _condition_tokens(k2)
    return t1 == t2 or _pair_up(list(t1 - t2), list(t2 - t1), _words_match)


# ---- countries and regions ------------------------------------------------------------------------------------

# ClinicalTrials.gov (ISO 3166 style) names and the short forms other sources use.
_COUNTRY_ALIASES = {
    "korea republic of": "South Korea",
    "republic of korea": "South Korea",
    "korea south": "South Korea",
    "korea democratic people s republic of": "North Korea",
    "russian federation": "Russia",
    "czech republic": "Czechia",
    "iran islamic republic of": "Iran",
    "taiwan province of china": "Taiwan",
    "viet nam": "Vietnam",
    "turkiye": "Turkey",
    "türkiye": "Turkey",
    "macedonia the former yugoslav republic of": "North Macedonia",
    "macedonia": "North Macedonia",
    "moldova republic of": "Moldova",
    "syrian arab republic": "Syria",
    "lao people s democratic republic": "Laos",
    "tanzania united republic of": "Tanzania",
    "venezuela bolivarian republic of": "Venezuela",
    "bolivia plurinational state of": "Bolivia",
    "congo the democratic republic of the": "DR Congo",
    "libyan arab jamahiriya": "Libya",
    "brunei darussalam": "Brunei",
    "swaziland": "Eswatini",
    "burma": "Myanmar",
    "usa": "United States",
    "us": "United States",
    "united states of america": "United States",
    "uk": "United Kingdom",
    "great britain": "United Kingdom",
    "the netherlands": "Netherlands",
    "holland": "Netherlands",
    "cote d ivoire": "Côte d'Ivoire",
    "côte d ivoire": "Côte d'Ivoire",
    "hong kong sar": "Hong Kong",
}

# UN M49 sub-regions, with Africa as one region and US territories with the United States (ClinicalTrials.gov
# lists "Puerto Rico" as a country, but its sites enrol under the US IND of a US trial).
_REGIONS = {
    "Northern America": "United States, Canada, Puerto Rico, Guam, Virgin Islands (U.S.), American Samoa, "
    "Northern Mariana Islands, Bermuda, Greenland",
    "Latin America and the Caribbean": "Mexico, Guatemala, Belize, Honduras, El Salvador, Nicaragua, Costa Rica, "
    "Panama, Cuba, Dominican Republic, Haiti, Jamaica, Trinidad and Tobago, Barbados, Bahamas, Martinique, "
    "Guadeloupe, French Guiana, Aruba, Curaçao, Saint Lucia, Grenada, Colombia, Venezuela, Ecuador, Peru, Bolivia, "
    "Brazil, Paraguay, Uruguay, Argentina, Chile, Guyana, Suriname",
    "Europe": "Albania, Andorra, Austria, Belarus, Belgium, Bosnia and Herzegovina, Bulgaria, Croatia, Czechia, "
    "Denmark, Estonia, Faroe Islands, Finland, France, Germany, Gibraltar, Greece, Hungary, Iceland, Ireland, Italy, "
    "Kosovo, Latvia, Liechtenstein, Lithuania, Luxembourg, Malta, Moldova, Monaco, Montenegro, Netherlands, "
    "North Macedonia, Norway, Poland, Portugal, Romania, Russia, San Marino, Serbia, Serbia and Montenegro, "
    "Former Serbia and Montenegro, Slovakia, Slovenia, Spain, Sweden, Switzerland, Ukraine, United Kingdom",
    "Eastern Asia": "China, Hong Kong, Macao, Macau, Japan, South Korea, North Korea, Mongolia, Taiwan",
    "South-eastern Asia": "Brunei, Cambodia, Indonesia, Laos, Malaysia, Myanmar, Philippines, Singapore, Thailand, "
    "Timor-Leste, Vietnam",
    "Southern Asia": "Afghanistan, Bangladesh, Bhutan, India, Iran, Maldives, Nepal, Pakistan, Sri Lanka",
    "Central Asia": "Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan",
    "Western Asia": "Armenia, Azerbaijan, Bahrain, Cyprus, Georgia, Iraq, Israel, Jordan, Kuwait, Lebanon, Oman, "
    "Palestinian Territory, Qatar, Saudi Arabia, Syria, Turkey, United Arab Emirates, Yemen",
    "Africa": "Algeria, Angola, Benin, Botswana, Burkina Faso, Burundi, Cameroon, Cape Verde, "
    "Central African Republic, Chad, Comoros, Congo, DR Congo, Côte d'Ivoire, Djibouti, Egypt, Equatorial Guinea, "
    "Eritrea, Eswatini, Ethiopia, Gabon, Gambia, Ghana, Guinea, Guinea-Bissau, Kenya, Lesotho, Liberia, Libya, "
    "Madagascar, Malawi, Mali, Mauritania, Mauritius, Morocco, Mozambique, Namibia, Niger, Nigeria, Réunion, "
    "Rwanda, Senegal, Sierra Leone, Somalia, South Africa, South Sudan, Sudan, Tanzania, Togo, Tunisia, Uganda, "
    "Zambia, Zimbabwe",
    "Oceania": "Australia, New Zealand, Fiji, Papua New Guinea, New Caledonia, French Polynesia, Samoa",
}
_COUNTRY_REGION = {c.strip(): r for r, cs in _REGIONS.items() for c in cs.split(", ")}
_COUNTRY_BY_KEY = {_NON_WORD.sub(" ", c.lower()).strip(): c for c in _COUNTRY_REGION}


@lru_cache(maxsize=4096)
def country_name(country: str | None) -> str | None:
    """One spelling per country: ClinicalTrials.gov's "Korea, Republic of" and "South Korea" are one country.

    >>> country_name("Korea, Republic of"), country_name("Russian Federation"), country_name("united states")
    ('South Korea', 'Russia', 'United States')
    """
    if country is None or not country.strip():
        return None
    k = _NON_WORD.sub(" ", country.lower()).strip()
    k2 = re.sub(r"[^\w]+", " ", country.lower()).strip()  # keeps accented letters ("türkiye")
    return _COUNTRY_ALIASES.get(k) or _COUNTRY_ALIASES.get(k2) or _COUNTRY_BY_KEY.get(k) or country.strip()


def region(country: str) -> str:
    """UN M49 sub-region of a :func:`country_name`; a name not in the table is its own region.

    >>> region("Czechia"), region("Taiwan"), region("Puerto Rico")
    ('Europe', 'Eastern Asia', 'Northern America')
    """
    return _COUNTRY_REGION.get(country, country)


# ---- ages -----------------------------------------------------------------------------------------------------

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.I)
_AGE_UNIT_YEARS = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25, "hour": 1 / 8766.0}
_AGE_UNIT_YEARS["minute"] = _AGE_UNIT_YEARS["hour"] / 60


def age_years(age: str | None) -> float | None:
    """A ClinicalTrials.gov age limit in years; ``None`` for no limit or text it cannot read.

    >>> age_years("18 Years"), age_years("6 Months"), age_years("N/A")
    (18.0, 0.5, None)
    """
    m = _AGE.match(age or "")
    return float(m.group(1)) * _AGE_UNIT_YEARS[m.group(2).lower()] if m else None


# ClinicalTrials.gov's own age groups (stdAges): CHILD = birth-17, ADULT = 18-64, OLDER_ADULT = 65+. A range is
# compared by the groups it reaches, so "18 Years"-"64 Years" and "18 Years"-"75 Years" differ (the second takes
# older adults) while "18 Years"-no limit and "20 Years"-"80 Years" do not.
def _age_groups(lo: float, hi: float) -> tuple[str, ...]:
    groups = []
    if lo < 18:
        groups.append("child")
    if lo < 65 and hi >= 18:
        groups.append("adult")
    if hi >= 65:
        groups.append("older adult")
    return tuple(groups)


# ---- eligibility ----------------------------------------------------------------------------------------------

_EXCLUSION_HEADER = re.compile(r"\bexclusion criteria\b", re.I)
# Prior-treatment status named in the inclusion criteria. Read on the inclusion criteria of the 339 oncology trials
# of the HINT phase I-III validation files (ClinicalTrials.gov text): 63 read as untreated ("Previously untreated
# follicular ... lymphoma", NCT00003152; "No prior chemotherapy for metastatic disease", NCT00423696; "must have not
# been previously treated", NCT00783471), 84 as pretreated ("relapsed after first remission", NCT00723346; "has
# progressed on or ... is intolerant to", NCT01154335), 192 as neither or both (not used). Every reading in a random
# sample of 25, and every match with a negation before it, was checked against the text.
_UNTREATED = re.compile(
    r"\b(?:previously untreated|(?:treatment|chemotherapy|therapy|chemo)[- ]na[iï]ve|"
    r"no prior (?:systemic |anti-?cancer |cytotoxic )?(?:therapy|treatment|chemotherapy)|"
    r"(?:have not|not have) (?:received|had) (?:any )?prior (?:systemic )?(?:therapy|treatment|chemotherapy)|"
    r"not (?:been )?previously treated)\b",
    re.I,
)
_PRETREATED = re.compile(
    r"\b(?:(?<!not been )(?<!not )previously treated|relapsed|refractory|progress\w* (?:on|after|following|despite)|"
    r"failed|failure of|at least (?:one|two|1|2) prior|second[- ]line)\b",
    re.I,
)


@lru_cache(maxsize=8192)
def prior_treatment(criteria: str | None) -> str | None:
    """Prior-treatment status the inclusion criteria state: "untreated", "pretreated", or ``None`` (neither, both).

    >>> prior_treatment("Inclusion Criteria: - Previously untreated follicular stage III or IV lymphoma")
    'untreated'
    """
    if not criteria:
        return None
    m = _EXCLUSION_HEADER.search(criteria)
    inclusion = criteria[: m.start()] if m else criteria
    u, p = bool(_UNTREATED.search(inclusion)), bool(_PRETREATED.search(inclusion))
    return "untreated" if u and not p else "pretreated" if p and not u else None


# ---- outcomes -------------------------------------------------------------------------------------------------

# How a count or share of participants is announced: "Number of Participants With ...", "Percentage of Patients
# Who ...". The measure is what follows; count vs percentage is the unit, compared separately.
_OUTCOME_LEAD = re.compile(
    r"^(?:the\s+)?(?:total\s+)?(?:number|percentage|percent|proportion|count|rate|incidence|frequency)\s+of\s+"
    r"(?:participants|patients|subjects|people|persons|men|women)\s*(?:who\s+(?:had|have|were|experienced|achieved)|"
    r"with|who|that|achieving|experiencing|having|reporting)?\s+",
    re.I,
)
_OUTCOME_STOP = frozenset({"the", "of", "a", "an", "in", "with", "by", "for", "to", "at", "on", "as", "and"})


@lru_cache(maxsize=65536)
def outcome_key(title: str | None) -> str | None:
    """An outcome title without its count/percentage lead-in, bracketed abbreviations and punctuation.

    >>> outcome_key("Progression Free Survival (PFS)"), outcome_key("Progression-free Survival")
    ('progression free survival', 'progression free survival')
    >>> outcome_key("Number of Participants With Adverse Events")
    'adverse events'
    """
    if title is None:
        return None
    s = _OUTCOME_LEAD.sub("", _SPACE.sub(" ", title.strip()))
    s = _NON_WORD.sub(" ", _BRACKETED.sub(" ", s.lower()))
    words = [w for w in s.split() if w not in _OUTCOME_STOP]
    return " ".join(words) or None


# How an outcome is assessed or summarised, not what it measures: "Investigator-assessed Progression-Free Survival
# (PFS)" and "Progression Free Survival (PFS) Time" are AACT's titles for the PFS of two trials; "Median Overall
# Survival", "Overall Survival Part B" and "Mean Change From Baseline in HbA1c" name OS and HbA1c change as well.
_ASSESSMENT = re.compile(
    r"\bresponse evaluation criteria (?:in )?solid tumou?rs?\b|\b[mi]?recist(?:\s+(?:version|v)?\s*\d+(?:\s+\d+)?)?|"
    r"\b(?:nci\s+)?ctcae(?:\s+(?:version|v)?\s*\d+(?:\s+\d+)?)?|\b(?:part|cohort|phase)\s+(?:[a-d]|\d|i{1,3}|iv)\b"
)
_OUTCOME_IGNORED = frozenset(
    {
        "investigator", "investigators", "assessed", "assessment", "independent", "central", "review", "reviewer",
        "committee", "blinded", "bicr", "irr", "irc", "icr", "per", "according", "using", "based", "determined",
        "measured", "evaluated", "via", "median", "mean", "average", "time", "rate", "total", "confirmed", "all",
        "kaplan", "meier", "estimate", "estimates", "itt", "mitt", "fas", "population", "analysis",
    }
)  # fmt: skip
# The endpoint abbreviations registries use alone ("OS in EGFR IHC positive population").
_OUTCOME_ABBREVIATIONS = {
    "os": "overall survival",
    "pfs": "progression free survival",
    "dfs": "disease free survival",
    "efs": "event free survival",
    "rfs": "recurrence free survival",
    "orr": "objective response",
    "ttp": "progression",
    "dor": "duration response",
    "pcr": "pathologic complete response",
    "ae": "adverse event",
    "aes": "adverse events",
    "qol": "quality life",
}


@lru_cache(maxsize=65536)
def _outcome_words(key: str) -> frozenset[str]:
    s = _ASSESSMENT.sub(" ", key)
    words = []
    for w in s.split():
        words.extend(_OUTCOME_ABBREVIATIONS.get(w, w).split())
    return frozenset(_stem(_spelling(w)) for w in words if w not in _OUTCOME_IGNORED)


def _titles_match(k1: str, k2: str) -> bool:
    # Word by word, as conditions: "PASI 75 response" / "PASI 90 response", "OS ..." / "PFS ..." and "HER2
    # status ..." / "PR status ..." differ in one word and are different outcomes, which a whole-title fuzzy score
    # (token_sort_ratio 95 for the last two) would merge.
    w1, w2 = _outcome_words(k1), _outcome_words(k2)
    return w1 == w2 or _pair_up(list(w1 - w2), list(w2 - w1), _words_match)


_TIME_POINT = re.compile(
    r"^\s*(?:at\s+|on\s+|after\s+)?(?:(?P<u1>hours?|days?|weeks?|months?|years?)\s*(?P<n1>\d+(?:\.\d+)?)|"
    r"(?P<n2>\d+(?:\.\d+)?)\s*(?P<u2>hours?|hrs?|h|days?|weeks?|wks?|months?|years?))"
    r"(?:\s+(?:post[- ]?dose|after (?:dosing|treatment|randomi[sz]ation)|post[- ]?treatment))?\s*\.?\s*$",
    re.I,
)
_TIME_UNIT_HOURS = {"h": 1.0, "hr": 1.0, "hour": 1.0, "day": 24.0, "week": 168.0, "wk": 168.0}
_TIME_UNIT_HOURS |= {"month": 730.5, "year": 8766.0}


@lru_cache(maxsize=65536)
def time_point_hours(time_frame: str | None) -> float | None:
    """The single time point a time frame names, in hours; ``None`` for ranges, lists and "up to" windows.

    Only single points are compared: "Up to 5 years" and "From randomization to death" bound a follow-up, they do
    not name when the outcome is read.

    >>> time_point_hours("12 weeks"), time_point_hours("Week 12"), time_point_hours("Baseline up to 333 weeks")
    (2016.0, 2016.0, None)
    """
    m = _TIME_POINT.match(time_frame or "")
    if not m:
        return None
    n, u = (m.group("n1"), m.group("u1")) if m.group("n1") else (m.group("n2"), m.group("u2"))
    u = u.lower()
    u = u[:-1] if u.endswith("s") and u != "hrs" else ("hr" if u == "hrs" else u)
    return float(n) * _TIME_UNIT_HOURS[u]


_PARTICIPANT_UNIT = re.compile(r"\b(?:participants?|patients?|subjects?|percent(?:age)?|proportion|%|people)\b", re.I)
_TIME_UNIT = re.compile(r"^\s*(?:hours?|days?|weeks?|months?|years?)\s*$", re.I)


def _measure_kind(param_type: str | None, unit: str | None) -> str | None:
    # Only the distinction that makes one title two endpoints: "Overall Survival" in months (a median time) vs in
    # percentage of participants (a landmark rate). MEAN vs MEDIAN or "scores" vs "units on a scale" are how one
    # measure is summarised.
    if unit and _TIME_UNIT.match(unit):
        return "time"
    if (unit and _PARTICIPANT_UNIT.search(unit)) or param_type == "COUNT_OF_PARTICIPANTS":
        return "participants"
    return None


# ---- interventions --------------------------------------------------------------------------------------------

# Arms that take no dose: a missing dose on both sides is not a missing fact.
_UNDOSED = frozenset(
    {"placebo", "sham", "vehicle", "no intervention", "no treatment", "observation", "best supportive care"}
)
# Result-group titles that name a kind of arm, not what it received: never read as intervention names.
_GENERIC_ARMS = frozenset(
    {
        "control",
        "controls",
        "control group",
        "standard of care",
        "standard care",
        "usual care",
        "standard treatment",
        "standard therapy",
        "treatment",
        "intervention",
        "experimental",
        "active",
        "active control",
        "comparator",
        "all participants",
        "overall",
        "total",
        "dose",
        "low dose",
        "high dose",
        "conventional",
        "combination therapy",
    }
)


@lru_cache(maxsize=65536)
def _name_words(name: str) -> frozenset[str]:
    return frozenset(_stem(_spelling(w)) for w in _NON_WORD.sub(" ", name).split())


def _names_match(n1: str, n2: str) -> bool:
    # Residual spelling variants after corpus normalization, for names that reached a Side by another route (a
    # group title, a name the normalizer was not fitted on): word by word, as conditions ("hydromorphone oros" /
    # "hydromprphone oros"). A whole-name score would merge "interleukin-12"/"interleukin-2" (96.3),
    # "hepatitis a vaccine"/"hepatitis b vaccine" (94.7), "... with follow-up calls"/"... without ..." (97.7).
    if n1 == n2:
        return True
    w1, w2 = _name_words(n1), _name_words(n2)
    return w1 == w2 or _pair_up(list(w1 - w2), list(w2 - w1), _words_match)


def _same_names(s1: frozenset[str], s2: frozenset[str]) -> bool:
    return s1 == s2 or _pair_up(list(s1 - s2), list(s2 - s1), _names_match)


# A result-group title is read part by part: "Arm II (Oxaliplatin, Fluorouracil, Leucovorin, Bevacizumab)".
_TITLE_SPLIT = re.compile(
    r"[+/,;&:()\[\]>]|\s(?:plus|and|with|or|vs\.?|versus|then|followed by|alone|only)(?=\s)", re.I
)
# Words that label a group, not what it received: "Arm I: Duloxetine", "Randomization Period: Exemestane".
_LABEL_WORDS = frozenset(
    {"arm", "arms", "group", "groups", "cohort", "cohorts", "part", "period", "randomization", "randomisation"}
)
_LABEL_TOKEN = re.compile(r"^(?:[ivx]+|[a-h]|\d+)$")
_LABEL_NAME = re.compile(r"^(?:arm|group|cohort|part)\b")


def _title_interventions(
    title: str | None, trial_names: Mapping[str, str], vocabulary: Mapping[str, str]
) -> frozenset[str] | None:
    """The interventions a result-group title names, for groups not linked to a protocol arm.

    Every part of the title, less its label words ("Arm I", "Cohort A"), must be one of the trial's intervention
    names or a name the corpus knows ("Placebo + Fulvestrant", "Arm I: Duloxetine"); else nothing is read: a title
    only partly understood ("5-FU + Leucovorin (Combo Therapy Comparison)", "Tivozanib: sVEGFR-2 < Median") would
    give a wrong set, and "Arm A" or "Historical Control" none at all.
    """
    if not title:
        return None
    # brackets first left out: "MORAb-003 (Farletuzumab) Plus Paclitaxel" names two drugs, not three
    plain = _BRACKETED.sub(" ", title)
    return _read_title(plain, trial_names, vocabulary) or (
        _read_title(title, trial_names, vocabulary) if plain != title else None
    )


def _read_title(title: str, trial_names: Mapping[str, str], vocabulary: Mapping[str, str]) -> frozenset[str] | None:
    out = set()
    for part in _TITLE_SPLIT.split(title.lower()):
        words = [w for w in _NON_WORD.sub(" ", part).split() if w not in _LABEL_WORDS and not _LABEL_TOKEN.match(w)]
        if not words:
            continue
        stripped = " ".join(words)
        # the part as written, without its label words, then without dose and form ("Lapatinib 2000 mg")
        keys = (basic_name(part), stripped, canonical_name(part), canonical_name(stripped))
        n = next((m for k in keys if k for m in (trial_names.get(k), vocabulary.get(k)) if m), None)
        if n is None or n in _GENERIC_ARMS or _LABEL_NAME.match(n):
            return None
        out.add(n)
    return frozenset(out) or None


# ==============================================================================================================
# Building sides
# ==============================================================================================================


def _trial_side(trial: Mapping) -> Side:
    g = trial.get
    # ClinicalTrials.gov's eligibility module always states sex; there, a missing age limit means no limit
    ages_known = any(g(k) is not None for k in ("sex", "minimum_age", "maximum_age"))
    lo, hi = age_years(g("minimum_age")), age_years(g("maximum_age"))
    phases = tuple(sorted(g("phases") or ([p for p in (g("phase") or "").split("/") if p])))
    return Side(
        trial_id=g("trial_id") or "",
        phases=phases,
        conditions=frozenset(k for k in map(condition_key, g("conditions") or []) if k),
        mesh_conditions=frozenset(k for k in map(condition_key, g("mesh_conditions") or []) if k),
        sex=g("sex"),
        min_age=(lo if lo is not None else 0.0) if ages_known else None,
        max_age=(hi if hi is not None else math.inf) if ages_known else None,
        eligibility=g("eligibility_criteria"),
        healthy_volunteers=g("healthy_volunteers"),
        countries=frozenset(c for c in map(country_name, g("countries") or []) if c),
        allocation=g("allocation"),
        masking=g("masking"),
        intervention_model=g("intervention_model"),
        primary_purpose=g("primary_purpose"),
    )


def _arm_names(
    names: Iterable[str] | None,
    title: str | None,
    trial_names: Mapping[str, str],
    vocabulary: Mapping[str, str],
) -> tuple[frozenset[str] | None, str | None]:
    names = [n for n in names or [] if n]
    if names:
        out = set()
        for n in names:
            norm = trial_names.get(basic_name(n) or "") or canonical_name(n)
            if norm:
                out.add(norm)
        return (frozenset(out), "arms") if out else (None, None)
    got = _title_interventions(title, trial_names, vocabulary)
    return (got, "title") if got else (None, None)


def _comparison_fields(
    comparison: Mapping,
    outcome: Mapping | None,
    trial_names: Mapping[str, str],
    vocabulary: Mapping[str, str],
) -> dict:
    g = comparison.get
    ref, ref_from = _arm_names(g("a_interventions"), g("a_title"), trial_names, vocabulary)
    cmp_, cmp_from = _arm_names(g("b_interventions"), g("b_title"), trial_names, vocabulary)
    o = outcome or {}
    return {
        "comparison_id": g("comparison_id"),
        "outcome_id": g("outcome_id"),
        "reference": ref,
        "compared": cmp_,
        "interventions_from": (ref_from, cmp_from) if ref_from and cmp_from else None,
        "reference_dose": Dose(g("a_dose_value"), g("a_dose_unit"), g("a_dose_frequency")),
        "compared_dose": Dose(g("b_dose_value"), g("b_dose_unit"), g("b_dose_frequency")),
        "outcome_title": o.get("title"),
        "outcome_time_frame": o.get("time_frame"),
        "outcome_param_type": o.get("param_type") or g("param_type"),
        "outcome_unit": o.get("unit_of_measure"),
    }


def side_from_records(
    trial: Mapping,
    comparison: Mapping | None = None,
    outcome: Mapping | None = None,
    *,
    names: Mapping[str, str] | None = None,
    vocabulary: Mapping[str, str] | None = None,
) -> Side:
    """A :class:`Side` from plain records: a ``trials`` row, a comparison dict and its ``outcomes`` row.

    Missing keys count as not stated, so a partial record is enough. ``names`` maps :func:`basic_name` of the
    trial's intervention names to their corpus-normalized names (``interventions.normalized_name``); a name not in
    it gets its :func:`canonical_name`. ``vocabulary`` (normalized name -> itself, corpus-wide) lets a group title
    be read as intervention names when the group has none.

    >>> s = side_from_records({"trial_id": "NCT02210780", "phases": ["PHASE2"], "sex": "ALL",
    ...                        "minimum_age": "18 Years", "maximum_age": "64 Years"})
    >>> s.phases, s.min_age, s.max_age
    (('PHASE2',), 18.0, 64.0)
    """
    base = _trial_side(trial)
    if comparison is None:
        return base
    return replace(base, **_comparison_fields(comparison, outcome, names or {}, vocabulary or {}))


class SideIndex:
    """Sides for many comparisons of one corpus: trial facts and name maps are computed once per trial.

    >>> from deepimagine_data import pipeline
    >>> idx = sides_from_tables(pipeline.corpus()[0])  # AACT NCT03584009: Venetoclax + Fulvestrant vs Fulvestrant
    >>> s = idx.side(next(c for c in pipeline.comparisons() if c["comparison_id"] == "NCT03584009:O0:OG001|OG000"))
    >>> sorted(s.reference), sorted(s.compared), s.phases
    (['fulvestrant'], ['fulvestrant', 'venetoclax'], ('PHASE2',))
    """

    def __init__(self, tables: Mapping[str, pa.Table], trial_ids: Iterable[str] | None = None) -> None:
        """``trial_ids``: index only these trials' sides (approximate pairs need those with usable comparisons, a
        seventh of the registry); the vocabulary still spans every trial, so a side does not depend on them."""
        keep = None if trial_ids is None else pa.array(sorted(set(trial_ids)), pa.string())

        def only(t: pa.Table) -> pa.Table:
            return t if keep is None else t.filter(pc.is_in(t.column("trial_id"), value_set=keep))

        trials = only(tables["trials"])
        cols = [c for c in trials.column_names if c in _TRIAL_COLUMNS]
        self._trials = {r["trial_id"]: _trial_side(r) for r in trials.select(cols).to_pylist()}
        iv = tables["interventions"].select(["trial_id", "name", "normalized_name"])
        # corpus-wide: a spelling (basic name) or normalized name -> its most frequent normalized name, so a
        # title's "5-FU" reads as "fluorouracil" wherever some trial's "5-FU" was normalized to it (counted over
        # distinct spellings: the registry repeats a few thousand names over a million rows)
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for r in iv.group_by(["name", "normalized_name"]).aggregate([([], "count_all")]).to_pylist():
            norm = r["normalized_name"] or canonical_name(r["name"])
            if norm:
                for key in {basic_name(r["name"]), norm}:
                    if key:
                        spellings[key][norm] += r["count_all"]
        self.vocabulary: dict[str, str] = {k: min(c, key=lambda n: (-c[n], n)) for k, c in sorted(spellings.items())}
        rows = only(iv).to_pylist()
        # sorted, so that the first spelling kept per key does not depend on the tables' row order
        rows.sort(key=lambda r: (r["trial_id"] or "", r["name"] or "", r["normalized_name"] or ""))
        names: dict[str, dict[str, str]] = defaultdict(dict)
        for r in rows:
            norm = r["normalized_name"] or canonical_name(r["name"])
            if norm:
                for key in {basic_name(r["name"]), norm}:
                    if key:
                        names[r["trial_id"]].setdefault(key, norm)
        self._names = dict(names)
        oc = only(tables["outcomes"]).select(["outcome_id", "title", "time_frame", "param_type", "unit_of_measure"])
        self._outcomes = {r["outcome_id"]: r for r in oc.to_pylist()}

    def trial(self, trial_id: str) -> Side:
        """The trial-level facts only (comparison fields empty)."""
        return self._trials[trial_id]

    def side(self, comparison: Mapping) -> Side:
        """The side of one comparison (a dict of :func:`deepimagine_data.pipeline.comparisons`)."""
        tid = comparison["trial_id"]
        fields = _comparison_fields(
            comparison, self._outcomes.get(comparison.get("outcome_id")), self._names.get(tid, {}), self.vocabulary
        )
        return replace(self._trials[tid], **fields)


_TRIAL_COLUMNS = frozenset(
    {
        "trial_id",
        "phase",
        "phases",
        "conditions",
        "mesh_conditions",
        "countries",
        "allocation",
        "masking",
        "intervention_model",
        "primary_purpose",
        "sex",
        "minimum_age",
        "maximum_age",
        "eligibility_criteria",
        "healthy_volunteers",
    }
)


def sides_from_tables(tables: Mapping[str, pa.Table]) -> SideIndex:
    """Index the ``trials``, ``interventions`` and ``outcomes`` tables of a corpus for :meth:`SideIndex.side`.

    >>> from deepimagine_data import pipeline
    >>> sides_from_tables(pipeline.corpus()[0]).trial("NCT03584009").phases
    ('PHASE2',)
    """
    return SideIndex(tables)


# ==============================================================================================================
# Rules
# ==============================================================================================================


def _show(names: frozenset[str] | None) -> str:
    return " + ".join(sorted(names)) if names else "?"


def _intervention(a: Side, b: Side) -> Verdict:
    if None in (a.reference, a.compared, b.reference, b.compared):
        return UNKNOWN, "intervention: arm interventions not stated"
    ref_same = _same_names(a.reference, b.reference)
    cmp_same = _same_names(a.compared, b.compared)
    if ref_same and cmp_same:
        return SAME, ""
    if _same_names(a.reference, b.compared) and _same_names(a.compared, b.reference):
        # the same two arms with reference and compared swapped: the contrast is read the other way round
        return CHANGED, f"intervention: arms swapped ({_show(a.compared)} vs {_show(a.reference)})"
    parts = []
    if not cmp_same:
        parts.append(f"compared {_show(a.compared)} -> {_show(b.compared)}")
    if not ref_same:
        parts.append(f"reference {_show(a.reference)} -> {_show(b.reference)}")
    return CHANGED, "intervention: " + "; ".join(parts)


def intervention_rule(a: Side, b: Side) -> str:
    """Whether the two arms received different interventions (normalized names, arm by arm).

    "changed" also when the arms are the same two but reference and compared are swapped.

    >>> a = side_from_records({"trial_id": "NCT01111058"}, {"a_interventions": ["Placebo"],
    ...                                                      "b_interventions": ["Everolimus (RAD 001)"]})
    >>> b = side_from_records({"trial_id": "NCT01133678"}, {"a_interventions": ["Placebo"],
    ...                                                      "b_interventions": ["Everolimus"]})
    >>> intervention_rule(a, b), intervention_rule(a, replace(b, reference=b.compared, compared=b.reference))
    ('same', 'changed')
    """
    return _intervention(a, b)[0]


# mass and radiation units with a fixed factor; "mg" vs "mg/kg" or "mg/m2" need a body weight or surface
_UNIT_SCALE = {
    "g": ("mg", 1000.0),
    "µg": ("mg", 0.001),
    "mcg": ("mg", 0.001),
    "g/day": ("mg/day", 1000.0),
    "µg/day": ("mg/day", 0.001),
    "µg/kg": ("mg/kg", 0.001),
    "µg/kg/day": ("mg/kg/day", 0.001),
    "cGy": ("Gy", 0.01),
}


def _base_dose(d: Dose) -> tuple[float | None, str | None]:
    if d.value is None:
        return None, d.unit
    unit, k = _UNIT_SCALE.get(d.unit or "", (d.unit, 1.0))
    return round(d.value * k, 9), unit


def _arm_dose(da: Dose, db: Dose, names: frozenset[str]) -> Verdict:
    if names and names <= _UNDOSED:
        # placebo / no treatment: nothing to dose (MBNMAdose codes placebo as dose 0, AACT states none)
        return SAME, ""
    if da.value is None or db.value is None:
        return UNKNOWN, "dose not stated"
    (va, ua), (vb, ub) = _base_dose(da), _base_dose(db)
    if ua != ub:
        return UNKNOWN, f"units differ ({da.unit} vs {db.unit})"
    if va != vb:
        return CHANGED, f"{da} -> {db}"
    if da.frequency != db.frequency:
        if da.frequency and db.frequency:
            return CHANGED, f"{da} -> {db}"
        return UNKNOWN, f"frequency stated on one side only ({da} vs {db})"
    return SAME, ""


def _dose(a: Side, b: Side) -> Verdict:
    if _intervention(a, b)[0] != SAME:
        # a different intervention carries its own dose; dose is a separate factor only for the same drugs
        return UNKNOWN, "dose: not comparable (interventions differ or are not stated)"
    verdicts = {
        "reference": _arm_dose(
            a.reference_dose, b.reference_dose, (a.reference or frozenset()) | (b.reference or frozenset())
        ),
        "compared": _arm_dose(
            a.compared_dose, b.compared_dose, (a.compared or frozenset()) | (b.compared or frozenset())
        ),
    }
    changed = [f"{arm} {why}" for arm, (v, why) in verdicts.items() if v == CHANGED]
    if changed:
        return CHANGED, "dose: " + "; ".join(changed)
    unknown = [f"{arm} {why}" for arm, (v, why) in verdicts.items() if v == UNKNOWN]
    return (UNKNOWN, "dose: " + "; ".join(unknown)) if unknown else (SAME, "")


def dose_rule(a: Side, b: Side) -> str:
    """Whether the same interventions are given at different doses; "unknown" when the interventions differ.

    A dose is compared in one unit (mass units converted: 1 g = 1000 mg) or as two numbers of unstated unit;
    equal amounts at different stated frequencies (Q2W vs Q4W) are a change. An arm of placebo or no treatment
    with no dose on either side is the same.

    >>> q2w = {"a_interventions": ["Placebo"], "a_dose_value": 0.0, "b_interventions": ["Ixekizumab"],
    ...        "b_dose_value": 80.0, "b_dose_unit": "mg", "b_dose_frequency": "Q2W"}  # MBNMAdose UNCOVER 1
    >>> q4w = {**q2w, "b_dose_frequency": "Q4W"}  # UNCOVER 2
    >>> dose_rule(side_from_records({"trial_id": "dose_response/psoriasis/UNCOVER 1"}, q2w),
    ...           side_from_records({"trial_id": "dose_response/psoriasis/UNCOVER 2"}, q4w))
    'changed'
    """
    return _dose(a, b)[0]


def _outcome(a: Side, b: Side) -> Verdict:
    ka, kb = outcome_key(a.outcome_title), outcome_key(b.outcome_title)
    if ka is None or kb is None:
        return UNKNOWN, "outcome: title not stated"
    if not _titles_match(ka, kb):
        return CHANGED, f"outcome: {a.outcome_title} -> {b.outcome_title}"
    ta, tb = time_point_hours(a.outcome_time_frame), time_point_hours(b.outcome_time_frame)
    if ta is not None and tb is not None and ta != tb:
        return CHANGED, f"outcome time point: {a.outcome_time_frame} -> {b.outcome_time_frame}"
    ma = _measure_kind(a.outcome_param_type, a.outcome_unit)
    mb = _measure_kind(b.outcome_param_type, b.outcome_unit)
    if ma and mb and ma != mb:
        return (
            CHANGED,
            f"outcome measure: {a.outcome_unit or a.outcome_param_type} -> {b.outcome_unit or b.outcome_param_type}",
        )
    return SAME, ""


def outcome_rule(a: Side, b: Side) -> str:
    """Whether the outcome measure differs: its title (normalized, fuzzy), its single time point where both
    name one, and time vs share of participants where both units say.

    >>> pfs = side_from_records({"trial_id": "NCT01478594"}, {}, {"unit_of_measure": "months",
    ...                         "title": "Investigator-assessed Progression-Free Survival (PFS)"})
    >>> pfs2 = side_from_records({"trial_id": "NCT00623233"}, {},
    ...                          {"title": "Progression Free Survival (PFS) Time", "unit_of_measure": "months"})
    >>> outcome_rule(pfs, pfs2)
    'same'
    """
    return _outcome(a, b)[0]


def _cover(a_keys: frozenset[str], b_all: frozenset[str]) -> list[str]:
    return sorted(k for k in a_keys if not any(_conditions_match(k, m) for m in b_all))


def _conditions(a: Side, b: Side) -> Verdict:
    # Each side's listed conditions must all be found among the other side's conditions or MeSH terms; MeSH
    # headings carry broader terms too ("Dermatitis" for "Atopic Dermatitis"), so they only ever serve as the
    # other side's vocabulary, never as what must be covered (unless a side lists no conditions at all).
    ca, cb = a.conditions or a.mesh_conditions, b.conditions or b.mesh_conditions
    if not ca or not cb:
        return UNKNOWN, "conditions not stated"
    miss_a = _cover(ca, cb | b.mesh_conditions)
    miss_b = _cover(cb, ca | a.mesh_conditions)
    if miss_a or miss_b:
        return CHANGED, f"conditions {'; '.join(miss_a) or '-'} -> {'; '.join(miss_b) or '-'}"
    return SAME, ""


def conditions_rule(a: Side, b: Side) -> str:
    """The conditions part of :func:`population_rule`, on its own (the only part AACT's oncology subset states).

    >>> prostatic = ["Prostatic Neoplasms", "Prostate Cancer"]
    >>> conditions_rule(side_from_records({"trial_id": "NCT00476645", "conditions": prostatic}),
    ...                 side_from_records({"trial_id": "NCT00002597", "conditions": ["Prostate Cancer"]}))
    'same'
    """
    return _conditions(a, b)[0]


def _sex(a: Side, b: Side) -> Verdict:
    if a.sex is None or b.sex is None:
        return UNKNOWN, "sex not stated"
    return (SAME, "") if a.sex == b.sex else (CHANGED, f"sex {a.sex} -> {b.sex}")


def _ages(a: Side, b: Side) -> Verdict:
    if None in (a.min_age, a.max_age, b.min_age, b.max_age):
        return UNKNOWN, "ages not stated"
    ga, gb = _age_groups(a.min_age, a.max_age), _age_groups(b.min_age, b.max_age)
    return (SAME, "") if ga == gb else (CHANGED, f"ages {', '.join(ga)} -> {', '.join(gb)}")


def _eligibility(a: Side, b: Side) -> Verdict:
    known_a = a.eligibility is not None or a.healthy_volunteers is not None
    known_b = b.eligibility is not None or b.healthy_volunteers is not None
    if not known_a or not known_b:
        return UNKNOWN, "eligibility not stated"
    hv_a, hv_b = a.healthy_volunteers, b.healthy_volunteers
    if hv_a is not None and hv_b is not None and hv_a != hv_b:
        return CHANGED, f"healthy volunteers {hv_a} -> {hv_b}"
    pa_, pb = prior_treatment(a.eligibility), prior_treatment(b.eligibility)
    if pa_ and pb and pa_ != pb:
        return CHANGED, f"prior treatment {pa_} -> {pb}"
    return SAME, ""


def _combine(factor: str, parts: Iterable[Verdict]) -> Verdict:
    parts = list(parts)
    changed = [why for v, why in parts if v == CHANGED]
    if changed:
        return CHANGED, f"{factor}: " + "; ".join(changed)
    unknown = [why for v, why in parts if v == UNKNOWN]
    return (UNKNOWN, f"{factor}: " + "; ".join(unknown)) if unknown else (SAME, "")


def _population(a: Side, b: Side) -> Verdict:
    return _combine("population", (f(a, b) for f in (_conditions, _sex, _ages, _eligibility)))


def population_rule(a: Side, b: Side) -> str:
    """Whether the enrolled population differs: conditions (each side's found in the other's conditions or MeSH
    terms), sex, age groups (CHILD / ADULT / OLDER_ADULT reached), healthy volunteers and prior-treatment status.

    >>> lung = side_from_records({"trial_id": "NCT00094835",
    ...                           "conditions": ["Lung Cancer", "Non-Small Cell Lung Cancer"]})
    >>> xml = side_from_records({"trial_id": "NCT00023673", "conditions": ["Lung Cancer"], "sex": "ALL",
    ...                          "mesh_conditions": ["Lung Neoplasms", "Carcinoma, Non-Small-Cell Lung"]})
    >>> conditions_rule(lung, xml), population_rule(lung, xml)  # AACT states no sex, ages or eligibility
    ('same', 'unknown')
    """
    return _population(a, b)[0]


def _geography(a: Side, b: Side) -> Verdict:
    if not a.countries or not b.countries:
        return UNKNOWN, "geography: countries not stated"
    ra, rb = frozenset(map(region, a.countries)), frozenset(map(region, b.countries))
    # Same regions and at least one shared country: "United States" vs "United States, Canada" is one North
    # American population, while a US-only trial against its 9-country version (NCT02552212: Australia, Bulgaria,
    # ..., Taiwan, United States) adds Europe, Eastern Asia and Oceania, and "United States" vs "Canada" shares
    # no site.
    if ra == rb and a.countries & b.countries:
        return SAME, ""
    return CHANGED, f"geography: {_places(a.countries)} -> {_places(b.countries)}"


def _places(countries: frozenset[str]) -> str:
    s = sorted(countries)
    return ", ".join(s) if len(s) <= 4 else ", ".join(s[:3]) + f" (+{len(s) - 3})"


def geography_rule(a: Side, b: Side) -> str:
    """Whether the trials enrol in different places: same UN M49 regions and a shared country is "same".

    >>> us = side_from_records({"trial_id": "NCT00277524", "countries": ["United States"]})
    >>> us_ca = side_from_records({"trial_id": "NCT00023673", "countries": ["Canada", "United States"]})
    >>> geography_rule(us, us_ca), geography_rule(us, side_from_records({"trial_id": "NCT00050960"}))  # AACT
    ('same', 'unknown')
    """
    return _geography(a, b)[0]


def _phase(a: Side, b: Side) -> Verdict:
    if not a.phases or not b.phases:
        return UNKNOWN, "phase: not stated"
    if a.phases == b.phases:
        return SAME, ""
    return CHANGED, f"phase: {'/'.join(a.phases)} -> {'/'.join(b.phases)}"


def phase_rule(a: Side, b: Side) -> str:
    """Whether the trial phases differ ("PHASE1/PHASE2" is its own phase; "NA" = not applicable is a value).

    >>> phase_rule(side_from_records({"trial_id": "NCT00065182", "phases": ["PHASE2"]}),
    ...            side_from_records({"trial_id": "NCT00094835", "phases": ["PHASE1", "PHASE2"]}))
    'changed'
    """
    return _phase(a, b)[0]


# Registries count masked roles inconsistently for one kind of trial: of the AACT trials whose title says
# "double-blind", 153 register DOUBLE, 79 TRIPLE and 158 QUADRUPLE masking. So masking compares as open-label /
# single-blind / blinded.
_MASKING_LEVEL = {"NONE": "open label", "SINGLE": "single blind"}


def _masking_level(m: str | None) -> str | None:
    return None if m is None else _MASKING_LEVEL.get(m, "blinded")


def _design(a: Side, b: Side) -> Verdict:
    parts = []
    for name, get in (
        ("allocation", lambda s: s.allocation),
        ("masking", lambda s: _masking_level(s.masking)),
        ("intervention model", lambda s: s.intervention_model),
        ("primary purpose", lambda s: s.primary_purpose),
    ):
        va, vb = get(a), get(b)
        if va is None or vb is None:
            parts.append((UNKNOWN, f"{name} not stated"))
        elif va != vb:
            parts.append((CHANGED, f"{name} {va} -> {vb}"))
        else:
            parts.append((SAME, ""))
    return _combine("design", parts)


def design_rule(a: Side, b: Side) -> str:
    """Whether allocation, masking (open / single-blind / blinded), intervention model or primary purpose differ.

    >>> rct = {"allocation": "RANDOMIZED", "intervention_model": "PARALLEL", "primary_purpose": "TREATMENT"}
    >>> design_rule(side_from_records({"trial_id": "NCT00102804", "masking": "QUADRUPLE", **rct}),
    ...             side_from_records({"trial_id": "NCT00130728", "masking": "DOUBLE", **rct}))
    'same'
    """
    return _design(a, b)[0]


_EXPLAIN: dict[str, Callable[[Side, Side], Verdict]] = {
    "intervention": _intervention,
    "dose": _dose,
    "outcome": _outcome,
    "population": _population,
    "geography": _geography,
    "phase": _phase,
    "design": _design,
}


@dataclass(frozen=True)
class FactorDiff:
    """The factors that differ between an anchor and a target.

    ``changed`` and ``unknown`` are in :data:`FACTORS` order; ``details`` has a short reason for each changed
    factor (written anchor -> target) and for each unknown one (what is missing).
    """

    changed: tuple[str, ...]
    unknown: tuple[str, ...]
    details: dict[str, str]

    @property
    def same(self) -> tuple[str, ...]:
        return tuple(f for f in FACTORS if f not in self.changed and f not in self.unknown)


# The Side fields each rule reads: a verdict is a function of these alone (tests/test_factors.py holds each rule
# to its list on real pairs), so :class:`Differ` can cache it by them.
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "intervention": ("reference", "compared"),
    "dose": ("reference", "compared", "reference_dose", "compared_dose"),
    "outcome": ("outcome_title", "outcome_time_frame", "outcome_param_type", "outcome_unit"),
    "population": ("conditions", "mesh_conditions", "sex", "min_age", "max_age", "eligibility", "healthy_volunteers"),
    "geography": ("countries",),
    "phase": ("phases",),
    "design": ("allocation", "masking", "intervention_model", "primary_purpose"),
}


def _verdicts(anchor: Side, target: Side, rule: Callable[[str, Side, Side], Verdict]) -> FactorDiff:
    changed, unknown, details = [], [], {}
    for f in FACTORS:
        verdict, why = rule(f, anchor, target)
        if verdict == CHANGED:
            changed.append(f)
        elif verdict == UNKNOWN:
            unknown.append(f)
        if verdict != SAME:
            details[f] = why
    return FactorDiff(tuple(changed), tuple(unknown), details)


class Differ:
    """:func:`diff` with each rule's verdict cached by the fields it reads (:data:`RULE_FIELDS`).

    Approximate pairs diff every target comparison against ~20 anchors; most of those (trial, trial) pairs repeat
    population, geography, phase and design, and arms and outcomes repeat across comparisons, so at registry scale
    most verdicts are looked up rather than computed. One instance per build (the cache grows with the pairs seen).

    >>> d = Differ()
    >>> a = side_from_records({"trial_id": "NCT00065182", "phases": ["PHASE2"]})
    >>> d(a, side_from_records({"trial_id": "NCT00050960", "phases": ["PHASE3"]})).changed, len(d.cache)
    (('phase',), 7)
    """

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], Verdict] = {}
        # (factor, the fields it reads) -> a small int, and each side seen -> its ints: a cache key is two ints, so
        # looking up a verdict does not re-hash eligibility texts and name sets (the side is kept, so its id stays
        # its own)
        self._ids: dict[tuple, int] = {}
        self._sides: dict[int, tuple[Side, tuple[int, ...]]] = {}

    def _keys(self, s: Side) -> tuple[int, ...]:
        hit = self._sides.get(id(s))
        if hit is not None:
            return hit[1]
        ids = self._ids
        keys = tuple(
            ids.setdefault((f, tuple(getattr(s, n) for n in names)), len(ids)) for f, names in RULE_FIELDS.items()
        )
        self._sides[id(s)] = (s, keys)
        return keys

    def __call__(self, anchor: Side, target: Side) -> FactorDiff:
        ka, kb = self._keys(anchor), self._keys(target)
        cache = self.cache

        def rule(f: str, a: Side, b: Side) -> Verdict:
            i = _FACTOR_INDEX[f]
            key = (ka[i], kb[i])
            v = cache.get(key)
            if v is None:
                v = cache[key] = _EXPLAIN[f](a, b)
            return v

        return _verdicts(anchor, target, rule)


_FACTOR_INDEX = {f: i for i, f in enumerate(RULE_FIELDS)}


def diff(anchor: Side, target: Side) -> FactorDiff:
    """Apply every factor rule to (anchor, target).

    >>> d = diff(side_from_records({"trial_id": "NCT00065182", "phases": ["PHASE2"]}),
    ...          side_from_records({"trial_id": "NCT00050960", "phases": ["PHASE3"]}))
    >>> d.changed, d.details["phase"]
    (('phase',), 'phase: PHASE2 -> PHASE3')
    """
    return _verdicts(anchor, target, lambda f, a, b: _EXPLAIN[f](a, b))
