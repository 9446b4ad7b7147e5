"""Result groups -> protocol arms, and whether two result groups are a real arm-vs-arm comparison.

ClinicalTrials.gov posts the results of each outcome for *result groups* ("OG000: Placebo Plus Chemotherapy") that
it does not link to the trial's *protocol arms* (its design groups: "Placebo + gemcitabine/platinum",
PLACEBO_COMPARATOR). Most result groups are arms under another wording; many are not arms at all: responders and
non-responders, biomarker subgroups, cases and controls, the same participants at two time points, positions in a
crossover, arms pooled together. :func:`link_outcome_groups` links the result groups of ONE outcome to the arms;
:func:`pair_relation` says whether two of them are two distinct protocol arms (``"arms"``) or why not.

**Rules** (``ArmLink.rule``), in the order they are tried; each must be unambiguous (a group that fits two arms
equally is not linked). Examples are real records of the embedded AACT corpus:

``exact_title``
    Equal titles, case, spacing and punctuation aside: "Degarelix 240@40/240@60 (1,3,6,9)" = "Degarelix
    240@40/240@60(1,3,6,9)" (NCT00116753, where rapidfuzz alone picked the 240@40/240@40 arm). The curated sources
    (clinifact, dose_response, llm_meta_analysis) name every result group this way.
``single_arm_trial``
    A trial with one protocol arm: every result group is a part of it ("Wild-type KRAS" and "Mutant KRAS" ->
    "Panitumumab plus FOLFIRI", NCT00508404), so no pair of its groups is ever two arms.
``label``
    A label in the title ("Arm 2", "Arm C", "Group II", "Cohort 1", "Part A", a leading "A/" or "1.") that exactly
    one arm carries, roman = arabic: "Arm 2 (Usual Care)" -> "Arm 2" (NCT02349412). Labels no arm carries are no
    evidence ("Cohort 1: Placebo + Exemestane 25 mg" against "Placebo & exemestane", NCT02007512); a label whose
    arm the title's words contradict gives ``conflict`` ("Group 3 - Base Study Placebo" where arm "3" is the HPV 16
    vaccine and arm "2" the placebo, NCT00092521).
``title_tokens``
    The title's content words (no doses, units, schedules, labels, salts or filler such as "plus", "arm",
    "patients") all occur in exactly one arm's title, class words standing for their members ("chemotherapy" for
    a cytotoxic drug or regimen, "platinum", "taxane", "control"/"placebo"/"experimental" for the arm type,
    abbreviations the trial defines such as "pegylated liposomal doxorubicin (PLD)"): "Olaparib 300 mg bd" ->
    "Olaparib", "Chemotherapy" -> "Physician's choice chemotherapy" (NCT02000622), "Placebo Plus Chemotherapy" ->
    "Placebo + gemcitabine/platinum" (NCT01998919), "HA-WBRT + Memantine" -> "HA-WBRT/IMRT+ Memantine" and not
    "WBRT + Memantine" (NCT02360215), "Control Patients" -> "Control" (NCT02759146). Where several arms hold the
    words, the title's numbers decide ("Denosumab 30 mg Q4W" -> "Denosumab 30 mg every 4 weeks", NCT00091832),
    then the one arm whose own words are all in the title. "X placebo" / "placebo for X" is a placebo, not X.
``interventions``
    The same with the arm's intervention names and other names: "Flaxseed" -> "Arm I", whose intervention is
    flaxseed (NCT00956813); "Erlotinib Plus Chemotherapy" -> "Tarceva + gemcitabine/platinum" through "erlotinib
    [Tarceva]" (NCT01998919); "Gemcitabine Monotherapy" -> arm "2" (gemcitabine), not arm "1" (erlotinib and
    gemcitabine, NCT00940875). A description naming another arm overrules it ("Placebo Cream" gathers "placebo"
    and "cream" from two interventions of arm II; its description is arm VI's, NCT00296036).
``description``
    Only when the title decides nothing: the group's description is the arm's (before the intervention
    descriptions the registry appends after "~"), or clearly the most similar to it ("Arm A (SR)" -> "Arm I",
    "Patients undergo open or thoracoscopic sublobar resection (SR) comprising ...", NCT00107172); or a short
    description read as a title ("Vitamin E" described "Vitamin E + matching placebo for selenium" -> "Vitamin E +
    selenium placebo", NCT00006392). The title's words must fit the arm.
``fuzzy_title``
    Last resort: rapidfuzz ratio >= 90 of the sorted title tokens, same numbers, margin 5 over the next arm
    ("PLNRT + PBRT + STAD" -> "PLNRT + PBRT + STADT", NCT00567580).
``elimination``
    The one group of an outcome left without an arm, when every other group has its own, takes the one arm left
    that its words fit ("Arm C: Chemotherapy" -> "Cisplatin + Fluorouracil" once "Arm B: Nivolumab +
    Chemotherapy" holds "Nivolumab + Cisplatin + Fluorouacil", NCT03143153).

A group left without an arm says why: ``pooled`` (its title pools arms), ``ambiguous`` (it fits several arms),
``conflict`` (label vs words, or it lost its arm to a group with a stronger rule), ``no_arms`` (the trial lists
none), else ``unmapped``. Two groups of one outcome keep one arm only as its parts: one title repeated or apart only
by a dose ("... BID" / "... QD"), one label, or words that no arm has ("Arm A: Cisplatin With HRD+" / "HRD-",
NCT01982448); otherwise the weaker link is dropped (``conflict``).

**Kinds** (``ArmLink.kind``): what the title says the group is, from markers that the trial's arms do not use:
``pooled`` ("Arm VI (Arm III and Arm IV) Combined", "Pooled Placebo", "All Participants", "Total Continuous"),
``responders`` ("Responders", "PSA Non-responders"), ``time_point`` ("Day 29", "Baseline", "Pre-treatment",
"Prone"), ``case_control`` ("Cases", "Matched Controls for ...", "Healthy Control"), ``subgroup`` (biomarkers:
"Mutant KRAS", "gBRCA Niraparib", "HRG High: ..."; "PR Positive (>0.2)", "Age <70 Years", "(China Cohort)",
"Caregivers in ..."), else ``arm``. ``ArmLink.qualifier`` holds the title's words that are not the arms' ("wildtype
kras"), so that two groups of one subgroup can be told from two subgroups.

**Relations** (:func:`pair_relation`, :data:`RELATIONS`):

``arms``            two distinct protocol arms, also at one shared time point ("A/PROSTVAC Treatment Day 29" /
                    "B/ Delayed PROSTVAC Treatment Day 29", NCT02649439).
``same_arm``        parts of one arm: subgroups, time points or cohorts of one arm, any two groups of a single-arm
                    trial ("Responders" / "PSA Non-responders", NCT02099864; "Prone" / "Supine", NCT00181363).
``pooled_arms``     a group pools arms ("Arm V (Arm I and Arm II Combined)", NCT00041119).
``subgroup_arms``   two distinct arms restricted to one and the same subgroup ("Wild-type KRAS - FOLFOX +
                    Panitumumab" / "Wild-type KRAS - FOLFOX", NCT00364013): randomized, but not the trial's
                    population; callers decide whether they want them.
``subgroups``       subgroups that are not one subgroup of two arms ("Low EGFR" / "High EGFR", NCT00265941).
``responders``      groups formed by response, a split after randomization ("Responders" / "Non-Responders").
``time_points``     different times ("Baseline: Intervention Group (IG1)" / "6-Month Follow-up: ...", NCT02157168).
``cases_controls``  a case or control group ("Cohort 2: Healthy Control" / "Cohort 3: Mild Hepatic Impairment").
``unmapped_group``  a group without an arm whose title says nothing more (factorial margins "Active Vitamin E" /
                    "Vitamin E Placebo", NCT00706121; "Group 3 - Base Study Placebo", NCT00092521).

Pure and fast: no I/O, regexes compiled once, titles parsed once per distinct string (``lru_cache``), a trial's arms
once per trial (:func:`prepare_arms`, also cached for callers that pass the same lists outcome after outcome).

>>> arms = [
...     {"group_id": "A0", "title": "Tarceva + gemcitabine/platinum", "arm_type": "EXPERIMENTAL",
...      "intervention_names": ["erlotinib [Tarceva]", "gemcitabine", "cisplatin", "carboplatin"]},
...     {"group_id": "A1", "title": "Placebo + gemcitabine/platinum", "arm_type": "PLACEBO_COMPARATOR",
...      "intervention_names": ["placebo", "gemcitabine", "cisplatin", "carboplatin"]},
... ]
>>> groups = [{"group_id": "OG000", "title": "Placebo Plus Chemotherapy"},
...           {"group_id": "OG001", "title": "Erlotinib Plus Chemotherapy"}]
>>> links = link_outcome_groups(groups, arms)
>>> links["OG000"]
ArmLink(group_id='OG000', arm_id='A1', rule='title_tokens', kind='arm', qualifier='')
>>> links["OG001"].arm_id, links["OG001"].rule
('A0', 'interventions')
>>> pair_relation(groups[0], groups[1], links["OG000"], links["OG001"])
'arms'
>>> one = [{"group_id": "A0", "title": "Treatment (Enzalutamide)", "intervention_names": ["Enzalutamide"]}]
>>> g = [{"group_id": "OG000", "title": "Responders"}, {"group_id": "OG001", "title": "PSA Non-responders"}]
>>> ln = link_outcome_groups(g, one)
>>> ln["OG001"]
ArmLink(group_id='OG001', arm_id='A0', rule='single_arm_trial', kind='responders', qualifier='psa nonresponder')
>>> pair_relation(g[0], g[1], ln["OG000"], ln["OG001"])
'same_arm'
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = [
    "ArmLink",
    "KINDS",
    "RELATIONS",
    "RULES",
    "TrialArms",
    "link_outcome_groups",
    "pair_relation",
    "prepare_arms",
]

# how a result group was linked (the first eight link it to an arm, the last five say why it is not linked)
RULES = (
    "exact_title",
    "single_arm_trial",
    "label",
    "title_tokens",
    "interventions",
    "description",
    "fuzzy_title",
    "elimination",
    "unmapped",
    "ambiguous",
    "conflict",
    "pooled",
    "no_arms",
)
# what two result groups of one outcome are (pair_relation); only "arms" is an arm-vs-arm comparison
RELATIONS = (
    "arms",
    "same_arm",
    "pooled_arms",
    "subgroup_arms",
    "subgroups",
    "responders",
    "time_points",
    "cases_controls",
    "unmapped_group",
)
KINDS = ("arm", "pooled", "subgroup", "responders", "time_point", "case_control")
# strength of a link, for groups competing for one arm
_RANK = {
    "single_arm_trial": 7,
    "exact_title": 6,
    "label": 5,
    "title_tokens": 4,
    "interventions": 3,
    "description": 2,
    "fuzzy_title": 1,
    "elimination": 0,
}
_COMPARATOR_TYPES = {"PLACEBO_COMPARATOR", "ACTIVE_COMPARATOR", "NO_INTERVENTION", "SHAM_COMPARATOR"}
_DESC_MIN = 90  # description similarity (rapidfuzz ratio) for the description rule
_DESC_MARGIN = 8
_SHORT_DESC = 100  # a description this short is read like a title
_FUZZY_MIN = 90
_FUZZY_MARGIN = 5


@dataclass(frozen=True)
class ArmLink:
    """How one result group links to a protocol arm.

    ``arm_id`` is the protocol arm's ``group_id`` (None when the group links to none); ``rule`` one of
    :data:`RULES`; ``kind`` one of :data:`KINDS`, what the title says the group is; ``qualifier`` the title's words,
    signs and numbers that no arm title of the trial uses ("wildtype kras", "vegf c rna ≥ median"), in title order,
    to tell one subgroup or time point from another.
    """

    group_id: str
    arm_id: str | None
    rule: str
    kind: str = "arm"
    qualifier: str = ""


# ----------------------------------------------------------------------------------------------------------------
# text
# ----------------------------------------------------------------------------------------------------------------

# numbers; words, a drug code with its digits ("bkm120", "azd8931") as one word
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+\d[^\W_]*|[^\W\d_]+")
_DOSE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:mg|g|mcg|ug|iu|gy|cgy|ml|%|units?)\b")
_WITHOUT = re.compile(r"\bwithout\s+[^,;+/()]*")
# a title is read segment by segment, between these connectors
_SEGMENT = re.compile(
    r"\s*(?:[+,/;()&\[\]]|\b(?:and|plus|with|or|vs|versus|then|followed\s+by)\b|"
    r"(?<=[a-z])-(?=placebo\b)|(?<=\bplacebo)-(?=[a-z]))\s*"  # "Doxepin-Placebo": a crossover sequence
)
_PLACEBO_WORD = re.compile(r"\bplacebos?\b")
_PLACEBO_FOR = re.compile(r"\bplacebos?\s+(?:for|to|of)\b")
_SCHEDULE = re.compile(r"q(\d+)(?:w|wk|d|h|m)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_PRE = [
    (re.compile(r"\bm\s*\^?\s*2\b"), " m2 "),
    (re.compile(r"\b5[\s-]*(?:fu|fluoro[\s-]*uracil)\b"), " fluorouracil "),
    (re.compile(r"\bchemo[\s-]*radi(?:ation|otherapy)\b"), " chemotherapy radiation "),
    (re.compile(r"\bradio[\s-]*chemotherapy\b"), " chemotherapy radiation "),
    (re.compile(r"\bstandard[\s-]+of[\s-]+care\b|\bsoc\b"), " standard care "),
    (re.compile(r"\bbsc\b"), " best supportive care "),
    (re.compile(r"\bwild[\s-]*type\b"), " wildtype "),
    (re.compile(r"\bpbo\b"), " placebo "),
    (re.compile(r"\bvitamin\s*-?\s*([a-k]\d{0,2})\b"), r" vitamin\1 "),  # "Vitamin E" -> "vitamine"
    (re.compile(r"\bnon[\s-]+"), " non"),
]
_SYNONYMS = {
    "rt": "radiation",
    "xrt": "radiation",
    "radiotherapy": "radiation",
    "irradiation": "radiation",
    "radiation": "radiation",
    "chemo": "chemotherapy",
    "chemotherapies": "chemotherapy",
    "pbo": "placebo",
    "lv": "leucovorin",
    "folinic": "leucovorin",
    "usual": "standard",
    "wt": "wildtype",
    "bd": "bid",
    "nivo": "nivolumab",
    "ipi": "ipilimumab",
    "pembro": "pembrolizumab",
    "atezo": "atezolizumab",
    "durva": "durvalumab",
    "treme": "tremelimumab",
    "bev": "bevacizumab",
    "beva": "bevacizumab",
    "bevacizumb": "bevacizumab",
    "peme": "pemetrexed",
    "carbo": "carboplatin",
    "gem": "gemcitabine",
    "cape": "capecitabine",
    "dtx": "docetaxel",
    "bv": "bevacizumab",
    "tmz": "temozolomide",
    "mfolfox": "folfox",
    "mfolfox6": "folfox",
    "mfolfox7": "folfox",
    "folfox4": "folfox",
    "folfox6": "folfox",
    "capox": "xelox",
}
# words that say nothing about which arm: connectors, the words "arm"/"group" themselves, "participants"...
_STOP = set(
    """a an the and or plus with w of in on at to for by from as vs versus alone only then followed
    arm arms group groups grp treatment treatments therapy therapies regimen regimens participant participants
    patient patients subject subjects people combination combined given receiving received receive who were was
    monotherapy mono single agent drug drugs study product cohort cohorts part parts level levels dose doses dosing
    dosed administered administration intervention interventions matching matched""".split()
)
# doses, units, frequencies, routes, forms: ignored as words (the numbers are kept apart)
_DOSE_WORDS = set(
    """mg g kg mcg ug µg μg ng m m2 ml l iu u mmol mol gy cgy auc mg/kg mgkg qd bid tid qid od qod daily weekly
    biweekly monthly once twice thrice times q qw w wk wks week weeks day days d h hr hrs hour hours min mo month
    months every per x oral orally po iv ivs intravenous intravenously sc subcutaneous subcutaneously im tablet
    tablets tab tabs capsule capsules cap caps injection injections infusion infusions bolus fixed flat""".split()
)
_SALTS = set(
    """hydrochloride hcl dihydrochloride mesylate malate tosylate ditosylate maleate tartrate citrate sulfate
    sulphate phosphate acetate succinate fumarate besylate monohydrate hydrate""".split()
)
_IGNORED = _STOP | _DOSE_WORDS | _SALTS
# cytotoxic drugs and regimens: what "chemotherapy" in a result group title stands for
_CHEMO = set(
    """chemotherapy cisplatin carboplatin oxaliplatin nedaplatin platinum paclitaxel docetaxel cabazitaxel taxane
    taxanes gemcitabine pemetrexed fluorouracil capecitabine tegafur s1 irinotecan topotecan etoposide doxorubicin
    epirubicin daunorubicin idarubicin mitoxantrone cyclophosphamide ifosfamide vinorelbine vincristine vinblastine
    eribulin ixabepilone temozolomide dacarbazine bendamustine chlorambucil melphalan busulfan fludarabine
    cytarabine azacitidine decitabine methotrexate bleomycin mitomycin trabectedin folfox folfiri folfirinox xelox
    capox xeliri mfolfox mfolfox6 folfox4 folfox6 gemox cmf doxil liposomal nab""".split()
)
_PLATINUM = {"cisplatin", "carboplatin", "oxaliplatin", "nedaplatin"}
# regimens an arm may name by acronym only ("Arm I (CA for 4 courses)"): their drugs join the arm's words
_REGIMENS = {
    "ac": ("doxorubicin", "cyclophosphamide"),
    "ca": ("doxorubicin", "cyclophosphamide"),
    "ec": ("epirubicin", "cyclophosphamide"),
    "cmf": ("cyclophosphamide", "methotrexate", "fluorouracil"),
    "ecf": ("epirubicin", "cisplatin", "fluorouracil"),
    "folfox": ("fluorouracil", "leucovorin", "oxaliplatin"),
    "folfiri": ("fluorouracil", "leucovorin", "irinotecan"),
    "folfirinox": ("fluorouracil", "leucovorin", "irinotecan", "oxaliplatin"),
    "xelox": ("capecitabine", "oxaliplatin"),
    "capox": ("capecitabine", "oxaliplatin"),
    "gemox": ("gemcitabine", "oxaliplatin"),
}
_TAXANE = {"paclitaxel", "docetaxel", "cabazitaxel"}
# intervention names that are procedures of the protocol, not treatments: left out of an arm's core words
_PROCEDURAL = re.compile(
    r"laboratory|biomarker|quality[\s-]*of[\s-]*life|questionnaire|survey|pharmacolog|assessment|interview|"
    r"biospecimen|specimen|blood sample|immunohistochemistry|gene expression|imaging|tomography|\bpet\b|\bct\b|"
    r"\bmri\b|ultrasound|scan\b|cognitive assessment|correlative|diagnostic",
)

_ROMAN = dict(zip("i ii iii iv v vi vii viii ix x".split(), "1 2 3 4 5 6 7 8 9 10".split(), strict=True))
_LABEL_KINDS = {
    "arm": "arm",
    "arms": "arm",
    "group": "arm",
    "groups": "arm",
    "grp": "arm",
    "regimen": "arm",
    "treatment": "arm",
    "cohort": "cohort",
    "cohorts": "cohort",
    "part": "part",
    "parts": "part",
    "phase": "phase",
    "step": "step",
    "level": "level",
    "panel": "panel",
    "sequence": "sequence",
    "stratum": "stratum",
    "substudy": "substudy",
    "sub-study": "substudy",
}
_ID = r"(?:\d{1,2}[a-z]?|[a-z]\d?|x|ix|iv|v?i{1,3}|vi{1,3})"
_LABEL = re.compile(
    rf"\b(arms?|groups?|grp|regimen|treatment|cohorts?|parts?|phase|step|level|panel|sequence|stratum|sub-?study)"
    rf"\s*[:#.]?\s*({_ID})(?![\w-])"
)
_BARE_LABEL = re.compile(rf"^\s*({_ID})\s*$")
# "A: Docetaxel and Gemcitabine", "B/ Delayed PROSTVAC treatment", "1/OLAPARIB", "2. Short-course RT"
_PREFIX_LABEL = re.compile(r"^\s*([a-z]|\d{1,2})\s*(?:[:/)]|\.(?!\d)|\s-\s)\s*")
_POOLED = re.compile(
    r"\bpooled\b|\bcollective\b|\bcombined\s*\)?\s*$|^combined\b.*\b(?:patients|participants|groups|arms)\b|"
    r"\bcombined\s+(?:arms?|groups?|cohorts?|patients|participants|population|subtypes?)\b|"
    r"\b(?:arms?|groups?|cohorts?)\b[^()]*\bcombined\b|"
    r"^(?:overall|total|all)\s*$|^total\b|\ball\s+(?:study\s+)?(?:participants|patients|subjects|arms|groups|"
    r"cohorts|treated|randomi[sz]ed|enrolled)\b|\bentire\s+(?:study\s+)?(?:population|cohort)\b|"
    r"\boverall\s+population\b|\bfor\s+all\s+arms\b|\bboth\s+(?:arms|groups|cohorts)\b|"
    rf"\b(?:arms?|groups?|cohorts?|parts?)\s+{_ID}\s*(?:and|&|\+|,|/|or)\s*(?:(?:arms?|groups?|cohorts?|parts?)\s+)?"
    rf"{_ID}(?![\w-])"
)
_RESPONDERS = re.compile(
    r"\bnon\s*-?\s*respon\w*|\brespon(?:der|ders|ding|se|ses)\b(?![\s-]*evaluable)|\bnon\s*-?\s*progress\w*|"
    r"\bprogressors?\b|\b(?:complete|partial)\s+(?:response|remission)\b|\bstable\s+disease\b|\bprogressive\s+disease\b|\bpcr\b"
)
_TIME = re.compile(
    r"\b(?:day|week|wk|month|year|cycle|visit|hour|period|session|time\s*point|timepoint)s?\s*[-#]?\s*\d+\b|"
    r"\b\d+\s*-?\s*(?:days?|weeks?|months?|years?|hours?)\s+(?:post|after|following|from)\b|"
    r"\bbaseline\b|\bpre[\s-]?(?:treatment|therapy|op|operative|operatively|surgery|surgical|dose|dosing|"
    r"vaccination|intervention|test|rt|radiation|chemo\w*|infusion|injection)\b|\bpretest\b|\bpost\s*-?\s*tes?t\b|"
    r"\bpost[\s-]?(?:treatment|therapy|op|operative|operatively|surgery|surgical|dose|dosing|vaccination|"
    r"intervention|rt|radiation|chemo\w*|infusion|injection)\b|\b(?:before|after|during)\s+(?:the\s+)?"
    r"(?:treatment|therapy|surgery|vaccination|intervention|infusion|injection|radiation|chemotherapy)\b|"
    r"\bend\s+of\s+(?:treatment|study|therapy)\b|\bfollow[\s-]?up\b|\bprone\b|\bsupine\b"
)
_CASES = re.compile(
    r"\bcases?\b|\bmatched\s+(?:controls?|comparators?|cohort)\b|\bhealthy\s+(?:volunteers?|controls?|subjects?|"
    r"participants?|women|men|donors?)\b|\bnon\s*-?\s*cases?\b|\bcontrols\b|\bcomparators\b"
)
_SUBGROUP = re.compile(
    r"\bwildtype\b|\bmutant\b|\bmutat\w*|\bmut\b|\bpositive\b|\bnegative\b|\bpos\b|\bneg\b|"
    r"\b(?:high|low|higher|lower)\b(?![\s-]*dos)|\bmedian\b|\bexpress\w*|\bstatus\b|\bscores?\b|\bamplifi\w*|"
    r"\bdelet\w*|\bfusion\b|\brearrang\w*|\bmethylat\w*|\bunmethylat\w*|\bcarriers?\b|\bgenotypes?\b|\balleles?\b|"
    r"\bpolymorphism\w*|\bstrat(?:um|a)\b|\bsub\s*-?\s*(?:group|set|population)s?\b|\bpopulations?\b|"
    r"\b(?:ter|quar|quin)tiles?\b|\bq[1-4]\b|\bcut\s*-?\s*offs?\b|\bthresholds?\b|\bages?d?\b|\byears?\b|"
    r"\byear\s*-?\s*old\b|\bmales?\b|\bfemales?\b|\bmen\b|\bwomen\b|\bboys\b|\bgirls\b|\basians?\b|\bnonasians?\b|"
    r"\bcaucasians?\b|\bjapan\w*|\bchin\w*|\bkorea\w*|\btaiwan\w*|\bsmokers?\b|\bnonsmokers?\b|\bprior\b|"
    r"\bna[iï]ve\b|\bpre\s*-?\s*treated\b|\brefractory\b|\bsensitive\b|\bresistant\b|\bgrade\b|\bstage\b|\becog\b|"
    r"\bperformance\b|\brisk\b|\bprognosis\b|"
    r"\bcohort\b|\bexpansion\b|\bsubstudy\b|(?<![-=])[<>≤≥]|\bwithin\s+(?!\d)\w+|\bnorth\s+america\w*|\beurop\w*|"
    r"\bregions?\b|\bcountr\w*|\bwestern\b|\beastern\b|\bpartners?\b|\bcaregivers?\b|\bspouses?\b|\bdyads?\b|"
    r"\bfamily\s+members?\b|\bcross\s*-?\s*over\b|\bcrossed\b|\bswitch\w*|\bcancer\b|\btumou?rs?\b|\bcarcinoma\b|"
    r"\bleuka?emia\b|\blymphoma\b|\bmyeloma\b|\bmetasta\w*|\bdisease\b|\bdiagnos\w*|"
    r"\w[+-](?=\s*(?:$|\)|,|/|;|\]))"
)
# biomarkers, histologies and scores that define subgroups ("gBRCA Niraparib", "HRG High: MM-121 + Exemestane")
_BIOMARKER = re.compile(
    r"\b[gst]?brca\d?\w*|\bkras\b|\bnras\b|\bbraf\b|\begfr\b|\bher[\s-]?2\w*|\berbb2\b|\balk\b|\bros1\b|"
    r"\bpd[\s-]?l1\b|\bpten\b|\bpik3ca\b|\bmsi\w*|\b[dp]mmr\b|\bb?tmb\b|\bhrd\b|\bhrr\b|\bp16\b|\bmgmt\b|"
    r"\bidh\d?\b|\bflt3\b|\bnpm1\b|\bfcgr\w*|\bcyp2d6\b|\bugt1a1\b|\bgst[mtp]\d?\b|\bercc\d?\b|\btp53\b|\bp53\b|"
    r"\bki[\s-]?67\b|\btriple[\s-]?negative\b|\bluminal\b|\bbasal\b|\bhrg\b|\bvegf\w*|\bil[\s-]?\d+\b|\bsuv\w*|"
    r"\bldh\b|\bctcs?\b|\bcea\b|\bca[\s-]?125\b|\bnon\s*-?\s*squamous\b|\bsquamous\b|\badenocarcinoma\b|"
    r"\bhistolog\w*|\bsubtypes?\b|\b(?:er|pr|hr)\s*[+-]|\bnaive\b|\bpretreated\b"
)
# the analysis population of an arm, not a subgroup: "ITT All - Pazopanib", "Olaparib (Global Cohort)"
_POPULATION = re.compile(
    r"\b(?:global|overall|main|primary|itt|intent[\s-]*to[\s-]*treat|full\s+analysis|safety|efficacy)\s+"
    r"(?:cohort|population|set|analysis(?:\s+set)?)\b|\bitt(?:\s+all)?\b|\bintent[\s-]*to[\s-]*treat\b"
)
_QUAL_TOKEN = re.compile(r"[^\W_]+[+-](?!\w)|(?<![-=])[<>≤≥]=?|\d+(?:\.\d+)?|[^\W_]+")
# "Vitamin E placebo +/- selenium": either of two arms
_EITHER = re.compile(r"\+\s*/\s*-|±|\bwith\s+or\s+without\b|\band\s*/\s*or\b|\bor\b|\bpooled\b|\bcombined\b|\ball\b")
_KIND_ORDER = (("pooled", _POOLED), ("responders", _RESPONDERS), ("case_control", _CASES), ("time_point", _TIME))


def _fold(text: str | None) -> str:
    """NFKC, lower case, accents dropped: "Naïve" -> "naive"."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text).lower()
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
        s = s.replace("µ", "u").replace("μ", "u").replace("（", "(").replace("）", ")")
    return s


def _word(w: str) -> str:
    w = _SYNONYMS.get(w, w)
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = _SYNONYMS.get(w[:-1], w[:-1])
    return w


def _num(t: str) -> str:
    return t.rstrip("0").rstrip(".") if "." in t else (t.lstrip("0") or "0")


@dataclass(frozen=True)
class _Title:
    key: str  # every token, for the exact rule
    words: frozenset[str]  # content words
    numbers: frozenset[str]  # numbers outside labels
    number_list: tuple[str, ...]  # the same, sorted, with repeats
    doses: frozenset[str]  # numbers followed by a unit ("75 mg")
    labels: frozenset[tuple[str, str]]  # (kind, id); kind "*" for a bare label ("1", "A/")
    text: str  # folded title without its labels, for markers


@lru_cache(maxsize=65536)
def _parse_title(title: str | None) -> _Title:
    s = _fold(title)
    key = " ".join(_TOKEN.findall(_DECIMAL_COMMA.sub(".", _THOUSANDS.sub("", s))))
    labels = set()
    m = _BARE_LABEL.match(s)
    if m:
        labels.add(("*", _ROMAN.get(m.group(1), m.group(1))))
        rest = ""
    else:
        rest = s
        m = _PREFIX_LABEL.match(s)
        if m:
            labels.add(("*", m.group(1)))
            rest = s[m.end() :]
        for m in _LABEL.finditer(rest):
            ident = m.group(2)
            labels.add((_LABEL_KINDS[m.group(1)], _ROMAN.get(ident, ident)))
        rest = _LABEL.sub(" ", rest)
    t = _DECIMAL_COMMA.sub(".", _THOUSANDS.sub("", rest))
    for rx, rep in _PRE:
        t = rx.sub(rep, t)
    w = _WITHOUT.sub(" without ", t)  # "Mango Juice Without Extract": not the arm with the extract
    words, numbers = set(), []
    for segment in _SEGMENT.split(w):
        # "Sunitinib Placebo", "CS7017-matching Placebo", "Placebo for R1507": the placebo of a drug is "placebo"
        # and "pbo:<drug>", never the drug itself
        placebo = _PLACEBO_WORD.search(segment)
        if placebo is not None:
            before, after = segment[: placebo.start()], segment[placebo.start() :]
            words.add("placebo")
            if _PLACEBO_FOR.match(after):
                before, after = before + " " + _PLACEBO_FOR.sub(" ", after), ""
            for tok in _TOKEN.findall(before):
                tok = _word(tok)
                if not tok[0].isdigit() and tok not in _IGNORED and len(tok) > 1:
                    words.add("pbo:" + tok)
            segment = after
        for tok in _TOKEN.findall(segment):
            if tok[0].isdigit():
                numbers.append(_num(tok))
            elif _SCHEDULE.fullmatch(tok):
                numbers.append(_num(_SCHEDULE.fullmatch(tok).group(1)))  # "Q4W" is "every 4 weeks"
            else:
                tok = _word(tok)
                if tok not in _IGNORED and len(tok) > 1:
                    words.add(tok)
    doses = frozenset(_num(m.group(1)) for m in _DOSE_NUMBER.finditer(t))
    return _Title(key, frozenset(words), frozenset(numbers), tuple(sorted(numbers)), doses, frozenset(labels), t)


def _words_of(texts) -> set[str]:
    out = set()
    for text in texts:
        out |= _parse_title(text).words
    return out


def _numbers_of(texts) -> set[str]:
    out = set()
    for text in texts:
        out |= _parse_title(text).numbers
    return out


def _strict_key(text: str | None) -> str:
    return " ".join((text or "").lower().split())


_DESC_CLEAN = re.compile(r"[^0-9a-z~]+")


def _desc_key(text: str | None) -> str:
    return _DESC_CLEAN.sub(" ", _fold(text)).strip()


# ----------------------------------------------------------------------------------------------------------------
# arms
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Arm:
    arm_id: str
    title: _Title
    title_pool: frozenset[str]  # title words + class words they imply
    pool: frozenset[str]  # + intervention names and other names
    core: frozenset[str]  # what the arm is: its title words, or its treatment intervention words
    numbers: frozenset[str]  # numbers of its title, intervention names and description
    title_numbers: frozenset[str]
    desc: str
    desc_words: frozenset[str]
    fuzzy_key: str
    strict: str  # the title lower-cased, spaces collapsed


@dataclass
class TrialArms:
    """The protocol arms of one trial, parsed once (pass it to :func:`link_outcome_groups` for every outcome)."""

    arms: list[_Arm]
    all_words: frozenset[str]
    arm_text: str  # all arm titles, folded: a marker they use is not a marker
    title_tokens: frozenset[str] = frozenset()  # every token of the arm titles, numbers and letters too
    kinds: dict = field(default_factory=dict)  # title -> (kind, qualifier), filled as outcomes are linked


def _classes(words: set[str], arm_type: str | None) -> set[str]:
    """An arm's words with the class words they imply."""
    out = set(words)
    for w in words & _REGIMENS.keys():
        out.update(_REGIMENS[w])
    if words & _CHEMO:
        out.add("chemotherapy")
    if words & _PLATINUM:
        out.add("platinum")
    if words & _TAXANE:
        out.add("taxane")
    if arm_type in _COMPARATOR_TYPES:
        out.add("control")
        if arm_type == "PLACEBO_COMPARATOR":
            out.add("placebo")
        elif arm_type == "NO_INTERVENTION":
            out.update(("observation", "standard", "care"))
    elif arm_type == "EXPERIMENTAL":
        out.add("experimental")
    return out


_ABBREVIATION = re.compile(r"((?:[^\W\d_]+[\s-]+){1,6})\(\s*([^\W\d_]{2,6})\s*\)")


def _abbreviations(texts) -> dict[str, frozenset[str]]:
    """Abbreviations the trial defines ("pegylated liposomal doxorubicin (PLD)") -> the words they stand for."""
    out: dict[str, frozenset[str]] = {}
    for text in texts:
        if "(" not in text:
            continue
        for m in _ABBREVIATION.finditer(_fold(text)):
            abbr = m.group(2)
            words = re.findall(r"[^\W\d_]+", m.group(1))[-len(abbr) :]
            if len(words) == len(abbr) and all(w[0] == c for w, c in zip(words, abbr, strict=True)):
                out[abbr] = frozenset(_word(w) for w in words) - _IGNORED
    return out


def _expand(words: set[str], abbreviations: dict[str, frozenset[str]]) -> set[str]:
    """An arm's words with the abbreviations the trial defines, both ways ("PLD" <-> "pegylated liposomal ...")."""
    out = set(words)
    for abbr, full in abbreviations.items():
        if abbr in words:
            out |= full
        elif full and full <= words:
            out.add(abbr)
    return out


def prepare_arms(arms: list[dict], interventions: list[dict] | None = None) -> TrialArms:
    """Parse the protocol arms of one trial (rows of ``tables["arms"]`` with group_type "arm") and its
    interventions (rows of ``tables["interventions"]``: their ``name``/``other_names`` join the arms their
    ``arm_labels`` name)."""
    by_label: dict[str, list[dict]] = defaultdict(list)
    for iv in interventions or []:
        for lab in iv.get("arm_labels") or []:
            by_label[_fold(lab).strip()].append(iv)
    abbreviations = _abbreviations(
        text
        for a in arms
        for text in [a.get("title"), a.get("description"), *(a.get("intervention_names") or [])]
        if text
    )
    out = []
    for a in arms:
        t = _parse_title(a.get("title"))
        names = [n for n in a.get("intervention_names") or [] if n]
        extra = []
        for iv in by_label.get(_fold(a.get("title")).strip(), []):
            extra.append(iv.get("name"))
            extra.append(iv.get("normalized_name"))
            extra.extend(iv.get("other_names") or [])
        treat_names = [n for n in names if not _PROCEDURAL.search(_fold(n))]
        iv_words = _words_of(names + [x for x in extra if x])
        title_pool = _classes(_expand(set(t.words), abbreviations), a.get("arm_type"))
        pool = _classes(_expand(set(t.words) | iv_words, abbreviations), a.get("arm_type"))
        core = frozenset(t.words) if t.words else frozenset(_words_of(treat_names))
        numbers = set(t.numbers) | _numbers_of(names) | _numbers_of([a.get("description")])
        out.append(
            _Arm(
                arm_id=a["group_id"],
                title=t,
                title_pool=frozenset(title_pool),
                pool=frozenset(pool),
                core=core,
                numbers=frozenset(numbers),
                title_numbers=t.numbers,
                desc=_desc_key(a.get("description")),
                desc_words=_parse_title(a.get("description")).words,
                fuzzy_key=" ".join(sorted(t.key.split())),
                strict=_strict_key(a.get("title")),
            )
        )
    all_words = frozenset().union(*(x.pool for x in out)) if out else frozenset()
    arm_text = " | ".join(_fold(a.get("title")) for a in arms)
    title_tokens = frozenset(tok for x in out for tok in _QUAL_TOKEN.findall(x.title.text))
    return TrialArms(out, all_words, arm_text, title_tokens)


# the last trials parsed, by the identity of the lists passed in: callers go outcome by outcome through a trial and
# pass the same lists each time (the entry keeps the lists alive, so their ids cannot be reused meanwhile)
_CACHE: dict[tuple[int, int], tuple[list, list | None, TrialArms]] = {}
_CACHE_SIZE = 64


def _prepared(arms: list[dict], interventions: list[dict] | None) -> TrialArms:
    key = (id(arms), id(interventions))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is arms and hit[1] is interventions:
        return hit[2]
    trial = prepare_arms(arms, interventions)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (arms, interventions, trial)
    return trial


# ----------------------------------------------------------------------------------------------------------------
# one group
# ----------------------------------------------------------------------------------------------------------------


def _fix_typos(words: frozenset[str], known: frozenset[str]) -> frozenset[str]:
    """Misspelled drug names ("Irinocetan", "Bivalutamid") -> the arm word they are closest to."""
    out = set()
    for w in words:
        if w in known or len(w) < 6:
            out.add(w)
            continue
        best, score = w, 0.0
        for k in known:
            if len(k) >= 6 and abs(len(k) - len(w)) <= 2:
                s = fuzz.ratio(w, k)
                if s > score:
                    best, score = k, s
        out.add(best if score >= 85 else w)
    return frozenset(out)


def _is_marker(match: str, trial: TrialArms) -> bool:
    """A marker the arms themselves use ("Patients with Values Inventory (VI)", "HPV vaccine") is not one."""
    m = match.strip()
    if not m or m in trial.arm_text:
        return False
    words = {_word(w) for w in _TOKEN.findall(m) if not w[0].isdigit()} - _IGNORED
    return not (words and words <= trial.all_words)


def _qualifier(text: str, trial: TrialArms) -> str:
    """The title's words, signs and numbers that are not the arm's ("vegf c rna < median"), doses left out."""
    out = []
    for tok in _QUAL_TOKEN.findall(_DOSE_NUMBER.sub(" ", text)):
        w = _word(tok) if tok[0].isalpha() else tok
        if w not in trial.all_words and w not in _IGNORED and tok not in trial.title_tokens:
            out.append(w)
    return " ".join(out)


def _kind(title: _Title, trial: TrialArms) -> tuple[str, str]:
    """(kind, qualifier): what the title says the group is, from words no arm of the trial uses."""
    text = _POPULATION.sub(" ", title.text)
    unknown = _qualifier(text, trial)
    for kind, rx in _KIND_ORDER:
        if any(_is_marker(m.group(0), trial) for m in rx.finditer(text)):
            return kind, unknown
    if any(_is_marker(m.group(0), trial) for m in _BIOMARKER.finditer(text)):
        return "subgroup", unknown
    if _parse_title(text).words - trial.all_words:
        # a subgroup word outside the arms' vocabulary ("Mutant KRAS", "(China Cohort)", "Age <70 Years")
        if any(_is_marker(m.group(0), trial) for m in _SUBGROUP.finditer(text)):
            return "subgroup", unknown
    return "arm", unknown


def _label_candidates(title: _Title, trial: TrialArms) -> list[_Arm] | None:
    """The arms carrying the most of the title's labels ("Group 2, Arm I" -> the arm labelled both); None when the
    title has no label or no arm carries any of them."""
    if not title.labels:
        return None
    best, out = 0, []
    for arm in trial.arms:
        n = sum(
            1
            for kind, ident in title.labels
            if any((k == kind or k == "*" or kind == "*") and i == ident for k, i in arm.title.labels)
        )
        if n and n >= best:
            out = [arm] if n > best else [*out, arm]
            best = n
    return out or None


def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    """Multiset containment of two sorted number lists."""
    rest = list(big)
    for x in small:
        if x not in rest:
            return False
        rest.remove(x)
    return True


def _by_numbers(title: _Title, cov: list[_Arm]) -> list[_Arm]:
    """Among arms of one drug, the one whose numbers the title repeats ("Denosumab 30 mg Q4W")."""
    for keep in (
        lambda a: title.numbers <= a.title.numbers,
        lambda a: _contains(a.title.number_list, title.number_list),
        lambda a: title.numbers <= a.numbers,
    ):
        hits = [a for a in cov if keep(a)]
        if len(hits) == 1:
            return hits
    return cov


def _token_candidates(
    title: _Title, words: frozenset[str], trial: TrialArms, within: list[_Arm] | None = None, marked: bool = False
) -> tuple[list[_Arm], str]:
    """The arms whose words hold all the title's known words, narrowed to the labelled arms (``within``) where
    they meet, then by numbers and by exact content (only where the title has no other words, or where they are
    the subgroup or time point it names: ``marked``); the rule name, or "ambiguous"."""
    known = words & trial.all_words
    unknown = words - trial.all_words
    if not known:
        return [], ""
    cov = [a for a in trial.arms if known <= a.pool]
    if within:
        cov = [a for a in cov if a in within] or cov
    if len(cov) > 1 and title.numbers:
        cov = _by_numbers(title, cov)
    if len(cov) > 1 and (marked or not unknown):
        exact = [a for a in cov if a.core and a.core <= words]
        if len(exact) == 1:
            cov = exact
    if len(cov) == 1:
        a = cov[0]
        if title.doses and a.title.doses and not title.doses <= a.numbers:
            return [], ""  # "Drug 100 mg" is not the arm "Drug 300 mg"
        return cov, ("title_tokens" if known <= a.title_pool else "interventions")
    return cov, "ambiguous"


def _description_candidate(desc: str, arms: list[_Arm]) -> _Arm | None:
    """The arm whose description the group's repeats: the same text (before any "~" the registry appended), else
    the one clearly most similar."""
    if len(desc) < 20:
        return None
    equal = [a for a in arms if a.desc and (a.desc == desc or a.desc == desc.split("~")[0].strip())]
    if len(equal) == 1:
        return equal[0]
    scored = []
    for a in arms:
        if len(a.desc) < 20:
            scored.append(0.0)
            continue
        s = fuzz.ratio(desc, a.desc)
        if len(desc) > len(a.desc) + 10:
            s = max(s, fuzz.ratio(desc[: len(a.desc)], a.desc))
        scored.append(s)
    if not scored:
        return None
    best = max(range(len(scored)), key=scored.__getitem__)
    rest = [s for i, s in enumerate(scored) if i != best]
    if scored[best] >= _DESC_MIN and all(s <= scored[best] - _DESC_MARGIN for s in rest):
        return arms[best]
    return None


def _fuzzy_candidate(title: _Title, arms: list[_Arm]) -> _Arm | None:
    key = " ".join(sorted(title.key.split()))
    if not key:
        return None
    scored = [fuzz.ratio(key, a.fuzzy_key) if a.title.numbers == title.numbers else 0.0 for a in arms]
    best = max(range(len(scored)), key=scored.__getitem__)
    rest = [s for i, s in enumerate(scored) if i != best]
    if scored[best] >= _FUZZY_MIN and all(s <= scored[best] - _FUZZY_MARGIN for s in rest):
        return arms[best]
    return None


def _link_one(group: dict, trial: TrialArms) -> tuple[str | None, str, str, str]:
    """(arm_id, rule, kind, qualifier) for one group, before the groups of the outcome are checked together."""
    title = _parse_title(group.get("title"))
    kq = trial.kinds.get(title)
    if kq is None:
        kq = trial.kinds[title] = _kind(title, trial)
    kind, qualifier = kq
    arms = trial.arms
    if not arms:
        return None, "no_arms", kind, qualifier
    strict = _strict_key(group.get("title"))
    exact = [a for a in arms if a.strict == strict]
    if len(exact) != 1:
        exact = [a for a in arms if a.title.key == title.key]
    if len(exact) == 1:
        return exact[0].arm_id, "exact_title", kind, qualifier
    if len(arms) == 1:
        return arms[0].arm_id, "single_arm_trial", kind, qualifier
    if len(exact) > 1:
        return None, "ambiguous", kind, qualifier
    if kind == "pooled":
        return None, "pooled", kind, qualifier
    words = _fix_typos(title.words, trial.all_words) if title.words - trial.all_words else title.words
    by_label = _label_candidates(title, trial)
    by_words, word_rule = _token_candidates(title, words, trial, by_label, kind != "arm")
    if by_label and by_words:
        both = [a for a in by_words if a in by_label]
        if not both:
            return None, "conflict", kind, qualifier
        if len(both) == 1:
            return both[0].arm_id, ("label" if len(by_label) == 1 else word_rule), kind, qualifier
        by_words = both
    elif by_label and len(by_label) == 1:
        return by_label[0].arm_id, "label", kind, qualifier
    elif len(by_words) == 1:
        if word_rule == "interventions":
            # words gathered from several intervention names ("Placebo Cream": a placebo pill and a cream) must not
            # contradict a description that names another arm
            hit = _description_candidate(_desc_key(group.get("description")), arms)
            if hit is not None and hit is not by_words[0]:
                if words & trial.all_words <= hit.pool | hit.desc_words:
                    return (
                        hit.arm_id,
                        "description",
                        kind,
                        qualifier,
                    )  # "Placebo Cream" -> "Patients receive placebo cream ..."
                return None, "conflict", kind, qualifier
        return by_words[0].arm_id, word_rule, kind, qualifier
    # nothing in the title decides: the description, among the arms the title fits if any
    pool = by_words or (by_label if by_label else None) or arms
    desc = _desc_key(group.get("description"))
    hit = _description_candidate(desc, pool)
    known = words & trial.all_words
    if hit is None and 0 < len(desc) <= _SHORT_DESC:
        # a short description read as a title: "Vitamin E + matching placebo for selenium" (NCT00006392)
        d = _parse_title(group.get("description"))
        cov, _ = _token_candidates(d, d.words, trial, pool if len(pool) < len(arms) else None)
        # not "Vitamin E placebo +/- selenium": a description that pools arms
        ok = len(cov) == 1 and cov[0].core <= d.words and not (d.words - trial.all_words)
        hit = cov[0] if ok and not _EITHER.search(d.text) else None
    if hit is not None and known <= hit.pool | hit.desc_words:  # the title's words must not speak against it
        return hit.arm_id, "description", kind, qualifier
    if not by_words and not by_label:
        hit = _fuzzy_candidate(title, arms)
        if hit is not None:
            return hit.arm_id, "fuzzy_title", kind, qualifier
    if len(by_words) > 1 or (by_label is not None and len(by_label) > 1):
        return None, "ambiguous", kind, qualifier
    return None, "unmapped", kind, qualifier


def link_outcome_groups(
    groups: list[dict], arms: list[dict] | TrialArms, interventions: list[dict] | None = None
) -> dict[str, ArmLink]:
    """The result groups of ONE outcome of one trial -> their protocol arm.

    ``groups``: rows of ``tables["arms"]`` with group_type "outcome" (``group_id``, ``title``, ``description``);
    ``arms``: the trial's protocol arms (group_type "arm"), or a :class:`TrialArms` from :func:`prepare_arms` to
    parse them once for all outcomes; ``interventions``: the trial's rows of ``tables["interventions"]``.

    One-to-one within the outcome: two groups share an arm only as parts of it (a single-arm trial, one label, or
    titles that differ by subgroup, time-point or other words no arm uses); otherwise the weaker link is dropped
    (rule ``conflict``).
    """
    trial = arms if isinstance(arms, TrialArms) else _prepared(arms, interventions)
    raw = {g["group_id"]: _link_one(g, trial) for g in groups}
    by_arm: dict[str, list[str]] = defaultdict(list)
    for gid, (arm_id, _rule, _, _) in raw.items():
        if arm_id is not None and len(trial.arms) > 1:
            by_arm[arm_id].append(gid)
    titles = {g["group_id"]: _parse_title(g.get("title")) for g in groups}
    for arm_id, gids in by_arm.items():
        if len(gids) < 2 or _parts_of_one_arm([titles[g] for g in gids], [raw[g] for g in gids], trial):
            continue
        top = max(_RANK[raw[g][1]] for g in gids)
        winners = [g for g in gids if _RANK[raw[g][1]] == top]
        for g in gids:
            if raw[g][0] == arm_id and (len(winners) > 1 or g not in winners):
                raw[g] = (None, "conflict", raw[g][2], raw[g][3])
    _eliminate(groups, raw, titles, trial)
    return {gid: ArmLink(gid, arm_id, rule, kind, q) for gid, (arm_id, rule, kind, q) in raw.items()}


def _eliminate(groups: list[dict], raw: dict, titles: dict, trial: TrialArms) -> None:
    """The one group left unlinked gets the one arm left, where every other group of the outcome has its own
    arm and nothing in the title speaks against it ("Arm C: Chemotherapy" when "Arm B: Nivolumab + Chemotherapy"
    took "Nivolumab + Cisplatin + Fluorouracil" and "Cisplatin + Fluorouracil" is left, NCT03143153)."""
    open_ = [g["group_id"] for g in groups if raw[g["group_id"]][0] is None]
    if len(open_) != 1 or len(trial.arms) < 2:
        return
    gid = open_[0]
    _, rule, kind, q = raw[gid]
    if rule not in ("unmapped", "ambiguous") or kind != "arm":
        return
    taken = {raw[g["group_id"]][0] for g in groups if g["group_id"] != gid}
    if len(taken) != len(groups) - 1:
        return
    known = titles[gid].words & trial.all_words
    left = [a for a in trial.arms if a.arm_id not in taken and known <= a.pool]
    if not known and len(groups) != len(trial.arms):
        return  # a title with no word of any arm, in an outcome that does not report every arm
    if len(left) == 1:
        raw[gid] = (left[0].arm_id, "elimination", kind, q)


def _parts_of_one_arm(titles: list[_Title], links: list[tuple], trial: TrialArms) -> bool:
    """Groups linked to one arm are parts of it when their titles say so: one title repeated or apart only by a
    dose or schedule, one label, or at most one of them without words that no arm has (its subgroup, time point,
    cohort: "Within GG3, Placebo Arm" / "Within GG4, Placebo Arm")."""
    if len({t.key for t in titles}) == 1 or len({t.words for t in titles}) == 1:
        return True
    if all(rule == "label" for _, rule, _, _ in links):
        return True
    if all(kind != "arm" for _, _, kind, _ in links):
        return True
    plain = sum(
        1 for t, (_, _, kind, _) in zip(titles, links, strict=True) if kind == "arm" and not (t.words - trial.all_words)
    )
    return plain <= 1


# ----------------------------------------------------------------------------------------------------------------
# two groups
# ----------------------------------------------------------------------------------------------------------------


def pair_relation(ga: dict, gb: dict, la: ArmLink, lb: ArmLink) -> str:
    """Whether result groups ``ga`` and ``gb`` of one outcome are two distinct protocol arms (``"arms"``), or why not:
    one of :data:`RELATIONS`, decided from their links ``la``/``lb`` (:func:`link_outcome_groups`). Symmetric.

    In order: both parts of one arm -> ``same_arm``; a pooled group -> ``pooled_arms``; two linked arms ->
    ``responders`` / ``cases_controls`` if a title says so, ``time_points`` unless both name one time point,
    ``subgroup_arms`` if both name one subgroup, ``subgroups`` if not, else ``arms``; a group without an arm -> the
    title's kind (responders, cases_controls, time_points, subgroups), else ``unmapped_group``.

    >>> a = ArmLink("g1", "A0", "title_tokens")
    >>> b = ArmLink("g2", "A1", "label")
    >>> pair_relation({"title": "Olaparib 300 mg bd"}, {"title": "Chemotherapy"}, a, b)
    'arms'
    >>> pair_relation({}, {}, ArmLink("g1", "A0", "label", "subgroup", "hrd"), ArmLink("g2", "A0", "label"))
    'same_arm'
    >>> pair_relation({}, {}, ArmLink("g1", None, "pooled", "pooled"), b)
    'pooled_arms'
    """
    kinds = {la.kind, lb.kind}
    if la.arm_id is not None and la.arm_id == lb.arm_id:
        return "same_arm"
    if "pooled" in kinds or la.rule == "pooled" or lb.rule == "pooled":
        return "pooled_arms"
    if la.arm_id is not None and lb.arm_id is not None:
        if "responders" in kinds:
            return "responders"
        if "case_control" in kinds:
            return "cases_controls"
        if "time_point" in kinds:
            return "arms" if la.kind == lb.kind and la.qualifier == lb.qualifier else "time_points"
        if "subgroup" in kinds:
            if la.kind == lb.kind and la.qualifier == lb.qualifier:
                return "subgroup_arms"
            return "subgroups"
        return "arms"
    for kind, reason in (
        ("responders", "responders"),
        ("case_control", "cases_controls"),
        ("time_point", "time_points"),
        ("subgroup", "subgroups"),
    ):
        if kind in kinds:
            return reason
    return "unmapped_group"
