"""Whether more of an outcome is better: :func:`outcome_polarity` reads an outcome's title with named keyword rules.

"Overall Survival" is better higher, "Percentage of Participants Who Died" lower; "Maximum Tolerated Dose (MTD)" or
"Change in Ki67 Levels" are neither, and stay unknown. Each answer names the rule that decided it:

>>> outcome_polarity("Percentage of Participants Who Died")
Polarity(value='lower_is_better', rule='death')

Why rules and not a model: the polarity says which way "better" points for every label built on the outcome, so it
must be traceable and conservative. Rules that disagree, or a guard (pharmacokinetics, dose finding, a correlative
measure), give "unknown" rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import _FLIP, _HIGHER, _LOWER, _UNKNOWN


@dataclass(frozen=True)
class Polarity:
    """Whether a higher value of an outcome is better; ``rule`` names the rule that decided (None: no rule)."""

    value: str
    rule: str | None


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
