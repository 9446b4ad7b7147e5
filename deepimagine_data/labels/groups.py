"""Which group of an analysis a piece of text names: the side matcher that :mod:`.reference` and :mod:`.favour` share.

An analysis compares groups by their titles ("Zoledronic Acid + Androgen Deprivation Therapy" against "Placebo +
Androgen Deprivation Therapy"); its comments name them loosely ("placebo group"). A side names a group when it spells
the group's title, when its words equal the title's, or when it holds words of that title and of no other; words both
titles share name neither:

>>> g = _Groups.of(["Zoledronic Acid + Androgen Deprivation Therapy", "Placebo + Androgen Deprivation Therapy"])
>>> _name(["placebo group"], g)[0], _name(["Androgen Deprivation Therapy"], g)[0]
(1, None)

Why so strict: a side that could name either group would order an estimate the wrong way round and flip its label, so
a side that grows into a second group's name, or holds a number no group has, names nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

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
# Where a sentence ends: an ordering or a favour statement is read within its own sentence.
_SENTENCE = re.compile(r"\.(?=\s|$)|[;~]")


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
