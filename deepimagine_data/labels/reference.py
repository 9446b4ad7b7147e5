"""Which group an analysis compares with which: :func:`reference_from_text` reads an ordering stated by name.

An estimate (a hazard ratio, a mean difference) compares one group with another, and a registry posts it without
saying which is which; only the free text may ("HR for Herceptin 1-Year Arm versus Observation Arm", "Reference level =
RT + cisplatin"). The ordering decides whether a hazard ratio below 1 favours the first group or the second.
NCT01673867 (CheckMate 017) lists docetaxel first and states "HR = Nivolumab over docetaxel":

>>> reference_from_text(["HR = Nivolumab over docetaxel"], ["Docetaxel", "Nivolumab"])
Reference(compared=1, reference=0, source_text='HR = Nivolumab over docetaxel')

Why only by name: the order in which a registry lists its groups does not say which is the reference, so an analysis
whose texts state no ordering, or orderings that disagree, gets None rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .groups import _SENTENCE, _completes, _Groups, _left_spans, _name, _right_spans


@dataclass(frozen=True)
class Reference:
    """An ordered comparison: indices into the analysis's group titles, and the text that ordered them."""

    compared: int
    reference: int
    source_text: str


# The analyses columns that may order the two groups of an estimate; estimate_comment describes the estimate.
REFERENCE_FIELDS = ("estimate_comment", "group_description", "statistical_comment", "p_value_comment")

# Words that set one group against another, the compared first ("<A> versus <B>", "<A> compared with <B>", "<A> / <B>");
# after "relative to" the reference alone may be named, for two groups.
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
