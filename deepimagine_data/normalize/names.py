"""Intervention name normalization: per-name cleaning and a corpus-level merge of spelling variants.

Three levels, from cheap to corpus-wide:

* :func:`basic_name` -- lower-cased, punctuation runs removed; what a single row can know ("Pembrolizumab (MK-3475)"
  -> "pembrolizumab mk-3475").
* :func:`canonical_name` -- strips what is not the drug: doses and units, dosage forms ("tablets", "injection",
  "oral solution"), salt forms ("hydrochloride", "HCl", "mesylate", "sodium", "acetate"...), bracketed text, trademark
  signs, route and frequency words ("Metformin HCl 500 mg tablets" -> "metformin"). Formulations that make a
  different product are kept as a prefix: "albumin-bound paclitaxel", "Nab paclitaxel" and "paclitaxel
  albumin-stabilized nanoparticle formulation" all become "nab-paclitaxel", never "paclitaxel"; "irinotecan liposome"
  becomes "liposomal irinotecan".
* :class:`NameNormalizer` -- fitted on the (name, other_names) pairs of a whole corpus, it merges spelling variants
  ("Fluorouracile" / "fluorouracil", "Osimertininb" / "osimertinib") by fuzzy matching and synonyms through
  otherNames ("MK-3475" whose otherNames hold "pembrolizumab"), then names each group by its most frequent canonical
  form. :func:`normalize_interventions` applies it to an ``interventions`` table.

The module does no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
from rapidfuzz import fuzz, process

from .dose import dose_spans

__all__ = ["basic_name", "canonical_name", "match_key", "merge_score", "NameNormalizer", "normalize_interventions"]


def basic_name(name: str | None) -> str | None:
    """Lower-cased name without punctuation runs; the corpus-level fuzzy merge refines it.

    >>> basic_name("Pembrolizumab (MK-3475)")
    'pembrolizumab mk-3475'
    """
    if name is None:
        return None
    s = re.sub(r"\s+", " ", re.sub(r"[^\w\s\-/+]", " ", name.lower())).strip()
    return s or None


# --------------------------------------------------------------------------------------------------------------
# canonical_name
# --------------------------------------------------------------------------------------------------------------

_TRADEMARK = re.compile(r"[®™©℠]|\((?:r|tm|c)\)", re.I)
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|（[^（）]*）")
# "Drug: ", "Biological: " -- the registry's intervention type pasted into the name.
_TYPE_PREFIX = re.compile(
    r"^(?:drug|biological|radiation|procedure|device|behavioral|behavioural|other|dietary\s+supplement|genetic|"
    r"combination\s+product|diagnostic\s+test)\s*:\s*",
    re.I,
)
_PHASE = re.compile(r"\bphase\s*(?:[0-9]+|i{1,3}|iv)[ab]?\b", re.I)
_PERCENT = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s*%")

# Formulations that make a different product: rewritten in place to "nab-<drug>" / "liposomal <drug>", so that
# "Gemcitabine + Nab-paclitaxel" stays a gemcitabine + nab-paclitaxel combination.
_NAB_QUAL = (
    r"(?:nanoparticle\s+)?albumin[\s-]+(?:bound|stabili[sz]ed)(?:\s+nanoparticles?)?(?:\s+formulation)?"
    r"(?:\s+for\s+injectable\s+suspension)?"
    r"|protein[\s-]+bound(?:\s+particles?)?(?:\s+for\s+injectable\s+suspension)?"
    r"|nab(?=[\s-]|paclitaxel|docetaxel|sirolimus|rapamycin)|albumin(?=[\s,-]+(?:paclitaxel|docetaxel)\b)"
)
_CONNECTOR_WORDS = r"and|plus|with|or|in|combined|combination|followed|vs|versus|then|for"
_NAB_RX = re.compile(rf"\b(?:{_NAB_QUAL})")
_PEGLIPO_RX = re.compile(r"\b(?:pegylated|peg)[\s-]+(?:liposom(?:e|es|al)|lipsomal)\b")
_LIPO_RX = re.compile(r"\b(?:liposom(?:e|es|al)|lipsomal)\b")
# "Paclitaxel-albumin", "paclitaxel, albumin" (registries translating the Chinese product name).
_TAXEL_ALBUMIN = re.compile(r"\b(paclitaxel|docetaxel)[\s,-]+albumin\b(?![\s-]+(?:bound|stabili))")
# Words around a formulation qualifier that only describe it: "protein-bound particles for injectable suspension".
_QUAL_FILLER = re.compile(
    r"\b(NABQ|PEGLIPOQ|LIPOQ)(?:[\s,-]+(?:particles?|for|injectable|suspension|nanoparticles?|formulation|"
    r"injection|NABQ|PEGLIPOQ|LIPOQ)\b)+"
)
_DRUG = rf"(?!(?:{_CONNECTOR_WORDS})\b)[a-z][a-z0-9]{{3,}}"
_QUAL_BEFORE = re.compile(rf"\b(NABQ|PEGLIPOQ|LIPOQ)[\s-]*({_DRUG})\b")
_QUAL_AFTER = re.compile(rf"\b({_DRUG})[\s,-]*(NABQ|PEGLIPOQ|LIPOQ)\b")
_QUAL_PREFIX = {"NABQ": "nab-", "PEGLIPOQ": "pegylated liposomal ", "LIPOQ": "liposomal "}
# "Paclitaxel (albumin-bound)": the qualifier in brackets is kept for the rewrite.
_QUAL_IN_BRACKETS = re.compile(
    rf"[(\[]\s*((?:{_NAB_QUAL}|(?:pegylated\s+|peg[\s-]+)?liposom(?:e|es|al))[\w\s-]*)[)\]]", re.I
)


def _formulations(s: str) -> str:
    """Rewrite formulation qualifiers in place: "gemcitabine + albumin-bound paclitaxel" -> "... nab-paclitaxel"."""
    s = _TAXEL_ALBUMIN.sub(r"nab-\1", s)
    s = _NAB_RX.sub(" NABQ ", s)
    s = _PEGLIPO_RX.sub(" PEGLIPOQ ", s)
    s = _LIPO_RX.sub(" LIPOQ ", s)
    if "Q" not in s:
        return s
    s = _QUAL_FILLER.sub(r"\1", s)
    s = _QUAL_BEFORE.sub(lambda m: _QUAL_PREFIX[m.group(1)] + m.group(2), s)
    s = _QUAL_AFTER.sub(lambda m: _QUAL_PREFIX[m.group(2)] + m.group(1), s)
    # A qualifier with no drug next to it ("nab" alone) is kept as a word.
    return re.sub(r"NABQ|PEGLIPOQ|LIPOQ", lambda m: _QUAL_PREFIX[m.group(0)].strip(" -"), s)


# Salt and hydrate forms: the same active moiety under the name registries use for the product.
_SALTS = (
    r"hydrochloride|dihydrochloride|monohydrochloride|hcl|hydrobromide|hbr|mesylate|dimesylate|mesilate|besylate|"
    r"besilate|tosylate|ditosylate|maleate|dimaleate|tartrate|bitartrate|fumarate|succinate|malate|citrate|sulfate|"
    r"sulphate|phosphate|disodium|sodium|potassium|calcium|magnesium|acetate|dipropionate|propionate|esylate|"
    r"camsylate|monohydrate|dihydrate|trihydrate|hemihydrate|sesquihydrate|anhydrous|hyclate|lactate|gluconate|"
    r"tromethamine|meglumine|pamoate|bromide|free\s+base"
)
# Dosage forms, release forms, routes and frequencies: how the drug is given, not which drug it is.
_FORMS = (
    r"film[\s-]coated\s+tablets?|oral\s+tablets?|oral\s+capsules?|oral\s+solution|oral\s+suspension|"
    r"for\s+injection|injectable\s+(?:product|suspension|solution)|intravenous\s+solution|solution\s+for\s+infusion|"
    r"concentrate\s+for\s+solution|powder\s+for\s+solution|prefilled\s+syringe|pre-filled\s+syringe|"
    r"extended[\s-]release|delayed[\s-]release|immediate[\s-]release|sustained[\s-]release|modified[\s-]release|"
    r"controlled[\s-]release|\d+\s*hr|(?:once|twice|three\s+times)\s+(?:a|per)\s+(?:day|week)|"
    r"every\s+\d+\s+(?:days?|weeks?|hours?)|"
    r"tablets?|tabs?|capsules?|caps|injections?|injectable|inj|infusions?|solution|suspension|concentrate|syrup|"
    r"lyophili[sz]ed|powder|vials?|ampoules?|xr|er|sr|ir|sa|cr|la|"
    r"oral|orally|po|iv|intravenous|intravenously|subcutaneous|subcutaneously|sc|sq|im|intramuscular|"
    r"daily|weekly|monthly|bid|tid|qid|qd|qw|q\d+w|q\d+wk|once|twice"
)
# Only after the first word: "Oral care" and "Infusion reaction prophylaxis" keep their first word.
_DROP_AFTER_FIRST = re.compile(rf"(?<=[\w)])[\s,/-]+(?:{_SALTS}|{_FORMS})(?=$|[\s,;/)-])", re.I)
# A connector left at the end once the dose and form after it are gone.
_DANGLING = re.compile(r"(?<=\w)\s+(?:in|of|for|per|at|with|and|plus|or|x)$")
# A chemical locant before the INN: "5-fluorouracil", "5Fluorouracil", "6-mercaptopurine" are the INN itself.
_LOCANT = re.compile(r"^\d{1,2}[\s-]?(?=[a-z]{6,}\b)")
_RECOMBINANT = re.compile(r"^(?:recombinant|rh)\s+(?:human\s+)?", re.I)
# What a cation alone would leave: "sodium chloride" must not become "sodium".
_CATIONS = {"sodium", "potassium", "calcium", "magnesium"}


def canonical_name(name: str | None) -> str | None:
    """The drug or procedure a name denotes, without dose, form, salt, brackets or trademarks; lower case.

    >>> canonical_name("Metformin HCl 500 mg tablets"), canonical_name("metformin hydrochloride")
    ('metformin', 'metformin')
    >>> canonical_name("Pembrolizumab 25 MG/ML [Keytruda]"), canonical_name("Paclitaxel Protein-Bound")
    ('pembrolizumab', 'nab-paclitaxel')
    """
    if name is None:
        return None
    s = unicodedata.normalize("NFKC", _TRADEMARK.sub("", name))  # NFKC would turn "™" into "TM"
    s = _TYPE_PREFIX.sub("", s.strip())
    s = _QUAL_IN_BRACKETS.sub(r" \1 ", s)
    prev = None
    while prev != s:  # nested brackets: "(... [Keytruda] ...)"
        prev, s = s, _BRACKETS.sub(" ", s)
    # Doses, concentrations, ranges ("25 MG/ML", "100 mg/4 mL", "AUC 6") and percentages ("0.25%").
    for a, b in reversed(dose_spans(s)):
        s = s[:a] + " " + s[b:]
    s = _PERCENT.sub(" ", s)
    s = _PHASE.sub(" ", s)
    s = s.lower()
    s = re.sub(r"[\"'`´‘’“”]", "", s)
    s = re.sub(r"[^\w+/&,.-]+", " ", s)  # keep the characters that join names: "nab-paclitaxel", "5-fu", "ac+t"
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"\s*/\s*", "/", s)
    s = re.sub(r"\s*([+&])\s*", r" \1 ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,.-/+&")
    full = s
    prev = None
    while prev != s:  # "metformin hcl er" needs two passes; "pembrolizumab in" (after "100 MG in 4 ML Injection")
        prev, s = s, _DANGLING.sub("", _DROP_AFTER_FIRST.sub("", s))
    s = s.strip(" ,.-/+&")
    if s in _CATIONS and full != s:
        s = full
    s = _RECOMBINANT.sub("", s)
    s = _LOCANT.sub("", s)
    # after salts and forms are gone: "doxorubicin hydrochloride liposome" -> "doxorubicin liposome" -> rewrite
    s = _formulations(s)
    s = re.sub(r"\s*/\s*", "/", s)
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,.-/+&")
    if not s:
        return None
    return s


# --------------------------------------------------------------------------------------------------------------
# match keys and merge guards
# --------------------------------------------------------------------------------------------------------------

# Spelling conventions that differ only in orthography; mapped in the key only, not in the displayed name.
_ORTHO = [
    (re.compile(p), r)
    for p, r in [
        (r"α|\balpha\b", "alfa"),
        (r"β|\bbeta\b", "beta"),
        (r"γ|\bgamma\b", "gamma"),
        (r"ph", "f"),
        (r"\bcarboplatinum\b", "carboplatin"),
        (r"\bcisplatinum\b", "cisplatin"),
    ]
]
# Connectors of a combination: "Paclitaxel, Carboplatin", "carboplatin and paclitaxel" and "Paclitaxel+Carboplatin"
# are one regimen. "or" is kept: "cisplatin or carboplatin" is a choice, not a combination.
_CONNECTORS = {"and", "plus", "with", "&", "+", "/", ",", "in", "combination", "combined"}
# Words that make a different product or arm; a pair differing in one of them is never merged by spelling.
_DISCRIMINATORS = {
    "nab",
    "liposomal",
    "pegylated",
    "peg",
    "placebo",
    "sham",
    "matching",
    "oral",
    "topical",
    "inhaled",
    "vaccine",
    "or",
    "no",
    "without",
    "high",
    "low",
}


def match_key(canonical: str) -> str:
    """The string fuzzy matching compares: tokens sorted (so word order does not count), codes joined.

    >>> match_key("carboplatin and paclitaxel") == match_key("paclitaxel, carboplatin")
    True
    >>> match_key("mk-3475") == match_key("mk 3475") == match_key("mk3475")
    True
    """
    s = canonical
    for rx, rep in _ORTHO:
        s = rx.sub(rep, s)
    tokens = [t for t in re.split(r"[^\w+&/,]+|(?=[+&/,])|(?<=[+&/,])", s) if t]
    # "mk-3475" / "mk 3475" / "mk3475", "pd-1" / "pd1": a short letter prefix glued to its number.
    joined: list[str] = []
    for t in tokens:
        if joined and t.isdigit() and joined[-1].isalpha() and len(joined[-1]) <= 5:
            joined[-1] += t
        else:
            joined.append(t)
    return " ".join(sorted(t for t in joined if t not in _CONNECTORS))


def _guard(key: str) -> tuple:
    """Names are only compared within one guard: same numbers, same one/two-letter tokens, same discriminators.

    Numbers tell products apart that spelling cannot ("interleukin-2" / "interleukin-12", "interferon alfa-2a" /
    "-2b", "MK-3475" / "MK-3457"); one or two letters do too ("vitamin c" / "vitamin e", "pd-1" / "pd-l1").
    """
    tokens = key.split()
    digits = tuple(sorted(re.findall(r"\d+(?:[a-z](?![a-z]))?", key)))
    short = tuple(sorted(t for t in tokens if t.isalpha() and len(t) <= 2))
    disc = tuple(sorted(t for t in tokens if t in _DISCRIMINATORS))
    return digits, short, disc, key[:1]


def merge_score(a: str, b: str) -> float:
    """Highest threshold at which two match keys merge: ``fuzz.ratio`` of the keys, capped by their token alignment.

    Whole-string similarity dilutes a differing word among shared ones: "bevacizumab folfiri" / "bevacizumab
    folfox" score 91.9, "abiraterone adt prednisone" / "abiraterone prednisone" 91.7. So the tokens the keys do not
    share must also pair up one to one, and the weakest pair caps the score ("beacizumab" / "bevacizumab" 95.2,
    "folfiri" / "folfox" 61.5). Unequal counts are compared joined ("fluoro uracil" / "fluorouracil"); a token with
    no counterpart at all, a differing code, a differing word under 5 letters, or a word that only gains a prefix
    ("unsupervised") gives 0.

    >>> round(merge_score("bevacizumab folfiri", "bevacizumab folfox"), 1)
    61.5
    >>> round(merge_score("beacizumab folfiri", "bevacizumab folfiri"), 1)
    95.2
    """
    score = fuzz.ratio(a, b)
    ta, tb = Counter(a.split()), Counter(b.split())
    ra, rb = sorted((ta - tb).elements()), sorted((tb - ta).elements())
    if not ra and not rb:
        return score
    if not ra or not rb:
        return 0.0
    # Codes cannot be checked for typos ("atr101" / "atrc101" are two compounds): a differing code blocks the merge.
    if any(any(ch.isdigit() for ch in t) for t in ra + rb):
        return 0.0
    if len(ra) != len(rb):
        ra, rb = ["".join(ra)], ["".join(rb)]
    while ra:
        x = ra.pop()
        best = max(range(len(rb)), key=lambda j: (fuzz.ratio(x, rb[j]), -j))
        y = rb.pop(best)
        # A word and the same word with something in front is a different word ("rehabilitation" /
        # "prehabilitation", "supervised" / "unsupervised", "folfox" / "mfolfox", "radiation" / "irradiation");
        # short words leave too little to tell a typo from another word ("pre test" / "retest").
        if min(len(x), len(y)) < 5 or (len(x) != len(y) and (x.endswith(y) or y.endswith(x))):
            return 0.0
        score = min(score, fuzz.ratio(x, y))
    return score


# --------------------------------------------------------------------------------------------------------------
# NameNormalizer
# --------------------------------------------------------------------------------------------------------------

# otherNames that name a class, a comparator or nothing; linking through them would merge unrelated drugs
# ("cisplatin" and "carboplatin" both listing "chemotherapy").
_GENERIC_OTHER = {
    "placebo",
    "chemotherapy",
    "chemo",
    "standard of care",
    "soc",
    "control",
    "radiotherapy",
    "radiation",
    "radiation therapy",
    "surgery",
    "drug",
    "study drug",
    "investigational product",
    "investigational drug",
    "best supportive care",
    "observation",
    "vaccine",
    "antibody",
    "monoclonal antibody",
    "immunotherapy",
    "targeted therapy",
    "hormone therapy",
    "hormonal therapy",
    "sham",
    "saline",
    "normal saline",
    "treatment",
    "therapy",
    "none",
    "other",
    "na",
    "n/a",
    "active comparator",
    "comparator",
    "usual care",
    "standard therapy",
}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra  # the smaller index is the root: deterministic for a given input order
        return True


class NameNormalizer:
    """Corpus-level intervention name normalization.

    ``fit`` takes the (name, other_names) pair of every intervention in the corpus and builds groups of canonical
    names that denote one drug:

    1. names with the same :func:`match_key` are one group ("Carboplatin and Paclitaxel" / "Paclitaxel,
       Carboplatin");
    2. spelling variants are merged with ``rapidfuzz.process.cdist(scorer=fuzz.ratio)`` on the match keys (sorted
       tokens, so this is ``token_sort_ratio``) with ``score_cutoff=threshold``, compared only within a block of
       equal :func:`_guard` (numbers, short tokens, discriminating words, first letter) -- which is also what makes
       it fast;
    3. otherNames link a name to the names of other records: if A's otherNames contain B's canonical name, A and B
       are one drug -- unless A's otherNames point at two or more different groups (A is then a regimen, "FOLFOX"
       listing "oxaliplatin" and "leucovorin") or the otherName is generic ("chemotherapy"). Linking repeats until
       nothing changes, so a synonym list resolves once its members have been linked elsewhere.

    Each group is named by its most frequent canonical form (counted over records), ties broken alphabetically,
    so the result depends only on the multiset of input pairs, not on their order.

    Threshold: 92 on ``fuzz.ratio`` (0-100, indel similarity), applied to :func:`merge_score` (the whole key and
    every differing token must reach it). Chosen by listing every candidate pair of the 29,000 canonical names of
    the AACT oncology subset by score band (``benchmarks/normalize_names.py --bands``): from 92 up the pairs are
    spelling or number variants ("doctaxel", "placlitaxel", "fluorouracile", "questionaire" / "questionnaires");
    in [90, 92) distinct products appear next to typos -- "prednisone" / "prednisolone" 90.9, "hyperfractionated" /
    "hypofractionated" 90.9, "telatinib" / "theliatinib" 90.0, "laromustine" / "lomustine" 90.0, "medication" /
    "meditation" 90.0, "stent" / "sutent" 90.9 -- so 92 gives up "azacitidine" / "azacytidine" (90.9) and
    "anastrazole" / "anastrozole" (90.9) to keep those apart. "nab-paclitaxel" / "paclitaxel" (83.3, and a
    discriminating word) and "cisplatin" / "carboplatin" (70.0) are far below.

    >>> nn = NameNormalizer().fit([("Pembrolizumab", None), ("MK-3475", ["pembrolizumab", "Keytruda"]),
    ...                           ("pembrolizumab", None), ("Fluorouracile", None), ("fluorouracil", None),
    ...                           ("5-Fluorouracil", None), ("Nab-paclitaxel", None), ("Paclitaxel", None)])
    >>> nn.normalize("MK-3475"), nn.normalize("5-Fluorouracil"), nn.normalize("Nab-paclitaxel")
    ('pembrolizumab', 'fluorouracil', 'nab-paclitaxel')
    """

    def __init__(self, threshold: float = 92.0, workers: int = -1, block_size: int = 4096) -> None:
        self.threshold = threshold
        self.workers = workers
        self.block_size = block_size  # rows per cdist call: bounds memory at block_size x block width bytes
        self.mapping: dict[str, str] = {}  # canonical name -> normalized name
        self.counts: Counter[str] = Counter()  # canonical name -> number of records

    # -- fitting ---------------------------------------------------------------------------------------------------

    def fit(self, pairs: Iterable[tuple[str | None, Sequence[str] | None]]) -> NameNormalizer:
        """Learn the groups from every intervention's (name, other_names); returns self."""
        cache: dict[str, str | None] = {}

        def canon(x: str | None) -> str | None:
            if x is None:
                return None
            if x not in cache:
                cache[x] = canonical_name(x)
            return cache[x]

        records: list[tuple[str, list[str]]] = []
        for name, others in pairs:
            c = canon(name)
            if c is None:
                continue
            oc = [o for o in (canon(x) for x in (others or [])) if o and o != c]
            records.append((c, oc))
        self.counts = Counter(c for c, _ in records)
        names = sorted(self.counts)  # sorted: indices, roots and so results do not depend on input order
        index = {n: i for i, n in enumerate(names)}
        uf = _UnionFind(len(names))

        # 1. equal match keys
        keys = [match_key(n) for n in names]
        by_key: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k in by_key:
                uf.union(by_key[k], i)
            else:
                by_key[k] = i
        # 2. fuzzy, within guard blocks, over distinct keys
        distinct = sorted(by_key)
        blocks: dict[tuple, list[str]] = defaultdict(list)
        for k in distinct:
            blocks[_guard(k)].append(k)
        for members in blocks.values():
            for a, b in self._similar_pairs(members):
                uf.union(by_key[a], by_key[b])
        # 3. otherNames, to a fixpoint
        links = [
            (index[c], {index[o] for o in oc if o in index and o not in _GENERIC_OTHER and len(o) >= 3})
            for c, oc in records
            if oc
        ]
        links = [(i, t) for i, t in links if t]
        changed = True
        while changed:
            changed = False
            for i, targets in links:
                own = uf.find(i)
                groups = {uf.find(t) for t in targets} - {own}
                if len(groups) == 1:
                    changed |= uf.union(own, groups.pop())

        members: dict[int, list[str]] = defaultdict(list)
        for i, n in enumerate(names):
            members[uf.find(i)].append(n)
        self.mapping = {}
        for group in members.values():
            best = min(group, key=lambda n: (-self.counts[n], n))
            for n in group:
                self.mapping[n] = best
        return self

    def _similar_pairs(self, keys: list[str]) -> Iterable[tuple[str, str]]:
        if len(keys) < 2:
            return
        for lo in range(0, len(keys), self.block_size):
            rows = keys[lo : lo + self.block_size]
            scores = process.cdist(
                rows, keys, scorer=fuzz.ratio, score_cutoff=self.threshold, dtype=np.uint8, workers=self.workers
            )
            for r, c in zip(*np.nonzero(scores), strict=True):
                if lo + r < c and merge_score(rows[r], keys[c]) >= self.threshold:
                    yield rows[r], keys[c]

    # -- applying --------------------------------------------------------------------------------------------------

    def normalize(self, name: str | None) -> str | None:
        """Normalized name of ``name``; a name not seen in ``fit`` gets its canonical name."""
        c = canonical_name(name)
        return None if c is None else self.mapping.get(c, c)

    def transform(self, names: Iterable[str | None]) -> list[str | None]:
        cache: dict[str | None, str | None] = {}
        out = []
        for n in names:
            if n not in cache:
                cache[n] = self.normalize(n)
            out.append(cache[n])
        return out

    def groups(self) -> dict[str, list[str]]:
        """Normalized name -> the canonical names merged into it (sorted), for groups of two or more."""
        g: dict[str, list[str]] = defaultdict(list)
        for c, n in self.mapping.items():
            g[n].append(c)
        return {n: sorted(v) for n, v in sorted(g.items()) if len(v) > 1}


def normalize_interventions(table: pa.Table, normalizer: NameNormalizer | None = None) -> pa.Table:
    """``table`` with ``normalized_name`` replaced by the corpus-level normalized name; schema unchanged.

    ``table`` needs the columns ``name`` (string), ``other_names`` (list<string>) and ``normalized_name``. The
    normalizer is fitted on the table itself unless a fitted one is given.
    """
    names = table.column("name").to_pylist()
    others = table.column("other_names").to_pylist()
    if normalizer is None:
        normalizer = NameNormalizer().fit(zip(names, others, strict=True))
    i = table.schema.get_field_index("normalized_name")
    field = table.schema.field(i)
    values = pa.array(normalizer.transform(names), type=field.type)
    return table.set_column(i, field, values)
