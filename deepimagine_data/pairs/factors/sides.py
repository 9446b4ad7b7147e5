"""The facts of one side of a factor diff: a trial plus one of its comparisons, normalized into a frozen :class:`Side`.

A side holds what the factor rules read and nothing else: the trial's phases, conditions, sex, ages, eligibility,
countries and design, and the comparison's two arms (normalized intervention names and doses) and its outcome. A fact
the record does not state stays ``None`` (or empty), so a rule can answer "unknown" instead of guessing. NCT02210780
states its sex and both age limits:

>>> s = side_from_records({"trial_id": "NCT02210780", "phases": ["PHASE2"], "sex": "ALL",
...                        "minimum_age": "18 Years", "maximum_age": "64 Years"})
>>> s.phases, s.sex, s.min_age, s.max_age, s.countries
(('PHASE2',), 'ALL', 18.0, 64.0, frozenset())

Why a :class:`SideIndex`: approximate pairs build sides for every comparison of the registry, and the trial's facts and
its name maps are the same for each of them, so they are computed once per trial.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pyarrow as pa
import pyarrow.compute as pc

from ...normalize.names import basic_name, canonical_name
from .words import _title_interventions, age_years, condition_key, country_name


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
