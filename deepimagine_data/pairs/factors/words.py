"""The word lists and normalizers the factor rules compare by: conditions, countries, ages, eligibility, outcome
titles, intervention names.

Registries spell one fact many ways: AACT lists "Breast Cancer" next to "Breast Neoplasms" and "Breast Carcinoma",
MeSH inverts "Non-small Cell Lung Cancer" to "Carcinoma, Non-Small-Cell Lung", and other sources write "USA"
where ClinicalTrials.gov writes "United States". Each normalizer here maps such variants to one key, so that a
spelling is never read as a change of factor:

>>> condition_key("Breast Neoplasms") == condition_key("Breast Carcinoma") == condition_key("Breast Cancer")
True
>>> country_name("USA"), region("United States"), age_years("18 Years")
('United States', 'Northern America', 18.0)

Why small lists with a justification beside each: a normalizer that merges too much hides a real change of population
or treatment ("hyperfractionated" against "hypofractionated" radiotherapy), so each list and threshold is checked on
the embedded corpus and says so. The normalizers are cached: the same few thousand strings recur across pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from rapidfuzz import fuzz

from ...normalize.names import basic_name, canonical_name

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
