"""One rule per factor, ``<factor>_rule(a, b) -> "same" | "changed" | "unknown"``, and :func:`diff` over them all.

FIRST (NCT00274469) and FALCON (NCT01602380) both compare fulvestrant 500 mg with anastrozole 1 mg; FIRST is an
open-label phase 2 trial, FALCON a double-blind phase 3 one. From these facts alone phase and design change, and
the rest is unknown:

>>> first = side_from_records({"trial_id": "NCT00274469", "phases": ["PHASE2"], "masking": "NONE"})
>>> falcon = side_from_records({"trial_id": "NCT01602380", "phases": ["PHASE3"], "masking": "QUADRUPLE"})
>>> d = diff(first, falcon)
>>> d.changed, d.details["design"].split(";")[0]
(('phase', 'design'), 'design: masking open label -> blinded')

Why "unknown" is its own answer: a rule that filled a missing fact with "same" would hide factors the walk from anchor
to target has to change; every rule is symmetric, and reads only the :class:`Side` fields :data:`RULE_FIELDS` lists,
so :class:`Differ` can cache its verdicts by them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# side_from_records: the examples below build their sides with it
from .sides import Dose, Side, side_from_records  # noqa: F401
from .words import (
    _UNDOSED,
    _age_groups,
    _conditions_match,
    _measure_kind,
    _same_names,
    _titles_match,
    outcome_key,
    prior_treatment,
    region,
    time_point_hours,
)

FACTORS = ("intervention", "dose", "outcome", "population", "geography", "phase", "design")
SAME, CHANGED, UNKNOWN = "same", "changed", "unknown"
Verdict = tuple[str, str]  # (same|changed|unknown, short reason)


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
    >>> from dataclasses import replace
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
