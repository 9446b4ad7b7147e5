"""A stable text view of one trial, the input of the sentence embedder.

The view is built from structured fields of the normalized tables (not the trial's brief or official title, which
restate them in free form), in a fixed order chosen for a model that reads at most 256 word pieces
(all-MiniLM-L6-v2 truncates there): the parts that best tell trials apart come first, long low-value parts
(eligibility excerpt, secondary outcomes) come last so that truncation eats them first.

Order: conditions, interventions (normalized name + dose), protocol arms (title + type), primary outcomes, phase,
design, population (sex, age range), countries, eligibility excerpt, a few secondary outcomes. Missing fields are
left out (never "None"), every field is whitespace-collapsed and capped, and the whole text is capped at
``MAX_CHARS``. Any change to this function's output must bump ``TEXT_VERSION``: embedding caches are keyed by the
text itself, so a new view is simply embedded again, but downstream artifacts record which view they used.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache

import pyarrow as pa

TEXT_VERSION = "trial-text-v1"

# ~256 word pieces of biomedical English is ~1,000-1,200 characters; beyond that the model never sees the text.
MAX_CHARS = 1200

MAX_CONDITIONS = 8
MAX_INTERVENTIONS = 8
MAX_ARMS = 6
MAX_PRIMARY = 3
MAX_SECONDARY = 3
MAX_COUNTRIES = 8
ELIGIBILITY_CHARS = 300

# Columns read by ``trial_texts`` (everything ``trial_text`` looks at, nothing more: fewer Python objects).
TRIAL_COLUMNS = [
    "trial_id",
    "conditions",
    "mesh_conditions",
    "phase",
    "phases",
    "study_type",
    "allocation",
    "intervention_model",
    "masking",
    "primary_purpose",
    "sex",
    "minimum_age",
    "maximum_age",
    "eligibility_criteria",
    "countries",
]
ARM_COLUMNS = ["trial_id", "group_id", "group_type", "title", "arm_type"]
INTERVENTION_COLUMNS = [
    "trial_id",
    "intervention_id",
    "type",
    "name",
    "normalized_name",
    "dose_value",
    "dose_unit",
    "dose_text",
]
OUTCOME_COLUMNS = ["trial_id", "outcome_id", "outcome_index", "outcome_type", "title"]

_PHASE_NUMBER = re.compile(r"phase(\d)")
_TRAILING_INT = re.compile(r"(\d+)$")

_MODEL = {
    "SINGLE_GROUP": "single group assignment",
    "PARALLEL": "parallel assignment",
    "CROSSOVER": "crossover assignment",
    "FACTORIAL": "factorial assignment",
    "SEQUENTIAL": "sequential assignment",
}
_MASKING = {"NONE": "open label"}
_SEX = {"FEMALE": "female", "MALE": "male"}  # "ALL" says nothing about the population: left out
# Intervention types worth naming: a generic name ("Surgery", "Observation") reads differently with its type.
_SHOWN_TYPES = {"RADIATION", "PROCEDURE", "BEHAVIORAL", "DEVICE", "DIAGNOSTIC_TEST", "GENETIC", "DIETARY_SUPPLEMENT"}


def _clean(value: object, cap: int | None = None) -> str:
    """Whitespace-collapsed text, cut at a word boundary to at most ``cap`` characters; '' for None."""
    if value is None:
        return ""
    s = " ".join(str(value).split())  # str.split() collapses every Unicode space and is ~3x faster than re.sub
    return _cut(s, cap) if cap else s


def _cut(s: str, cap: int) -> str:
    if len(s) <= cap:
        return s
    head = s[:cap]
    # Cut at the last space so no half word (which would tokenize into junk pieces) ends the field.
    space = head.rfind(" ")
    return (head[:space] if space > cap // 2 else head).rstrip(" ,;:.")


@lru_cache(maxsize=1024)  # a few dozen distinct codes, looked up ~300k times on AACT
def _enum(value: str | None) -> str:
    """PHASE2 -> 'phase 2', ACTIVE_COMPARATOR -> 'active comparator'; '' for None and 'NA'."""
    if value is None or value == "NA":
        return ""
    s = str(value).lower().replace("_", " ")
    return _PHASE_NUMBER.sub(r"phase \1", s)


def _unique(items: Iterable[str]) -> list[str]:
    """Non-empty items in first-seen order, case-insensitively deduplicated."""
    seen: set[str] = set()
    out = []
    for it in items:
        key = it.casefold()
        if it and key not in seen:
            seen.add(key)
            out.append(it)
    return out


def _capped(items: list[str], cap: int, noun: str) -> str:
    shown = "; ".join(items[:cap])
    # The count of what was dropped still tells a 12-arm platform trial from a 2-arm one.
    return shown + (f"; +{len(items) - cap} more {noun}" if len(items) > cap else "")


def _number(v: float) -> str:
    """800.0 -> '800', 0.5 -> '0.5' (``:g`` would write 1e+06 for a million units)."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def _dose(row: Mapping) -> str:
    v, unit = row.get("dose_value"), row.get("dose_unit")
    if v is not None and v == v:  # NaN != NaN: a NaN dose is no dose
        return f"{_number(v)} {_clean(unit, 20)}".strip()
    return _clean(row.get("dose_text"), 40)


def _order(rows: Iterable[Mapping], id_field: str) -> list[Mapping]:
    """Rows in source order: ids end in their source index (``:A10``), which a string sort puts before ``:A2``."""

    def key(r: Mapping) -> tuple[int, str]:
        rid = str(r.get(id_field) or "")
        m = _TRAILING_INT.search(rid)
        return (int(m.group(1)) if m else -1, rid)

    return sorted(rows, key=key)


def trial_text(trial: Mapping, arms: list[Mapping], interventions: list[Mapping], outcomes: list[Mapping]) -> str:
    """The text view of one trial: rows of the ``trials`` table and this trial's arms, interventions and outcomes.

    Rows may come in any order (they are put in source order here), and ``arms`` may include result groups
    (``group_type == "outcome"``), which are skipped: only protocol arms describe the design.

    >>> trial_text(
    ...     {"conditions": ["Breast Cancer"], "phase": "PHASE2", "allocation": "RANDOMIZED", "masking": "NONE"},
    ...     [{"group_id": "T:A0", "group_type": "arm", "title": "Venetoclax + Fulvestrant", "arm_type": "EXPERIMENTAL"},
    ...      {"group_id": "T:A1", "group_type": "arm", "title": "Fulvestrant", "arm_type": "ACTIVE_COMPARATOR"}],
    ...     [{"intervention_id": "T:I0", "normalized_name": "venetoclax", "dose_value": 800.0, "dose_unit": "mg"}],
    ...     [{"outcome_index": 0, "outcome_type": "PRIMARY", "title": "Clinical Benefit Rate"}],
    ... ).splitlines()  # doctest: +NORMALIZE_WHITESPACE
    ['Conditions: Breast Cancer.',
     'Interventions: venetoclax 800 mg.',
     'Arms (2): Venetoclax + Fulvestrant (experimental); Fulvestrant (active comparator).',
     'Primary outcome: Clinical Benefit Rate.',
     'Phase: phase 2.',
     'Design: randomized, open label.']
    """
    parts: list[str] = []

    conditions = _unique(_clean(c, 150) for c in (trial.get("conditions") or trial.get("mesh_conditions") or []))
    if conditions:
        parts.append(f"Conditions: {_capped(conditions, MAX_CONDITIONS, 'conditions')}.")

    entries = []
    for iv in _order(interventions, "intervention_id"):
        name = _clean(iv.get("normalized_name") or iv.get("name"), 80)
        if not name:
            continue
        entry = f"{name} {_dose(iv)}".strip()
        if iv.get("type") in _SHOWN_TYPES:
            entry += f" ({_enum(iv['type'])})"
        entries.append(entry)
    entries = _unique(entries)
    if entries:
        parts.append(f"Interventions: {_capped(entries, MAX_INTERVENTIONS, 'interventions')}.")

    protocol = [a for a in _order(arms, "group_id") if a.get("group_type", "arm") == "arm"]
    arm_texts = []
    for a in protocol:
        title, kind = _clean(a.get("title"), 80), _enum(a.get("arm_type"))
        if title or kind:
            arm_texts.append(f"{title} ({kind})" if title and kind else title or kind)
    if arm_texts:
        parts.append(f"Arms ({len(protocol)}): {_capped(arm_texts, MAX_ARMS, 'arms')}.")

    ordered = sorted(outcomes, key=lambda o: (o.get("outcome_index") is None, o.get("outcome_index") or 0))
    primary = _unique(_clean(o.get("title"), 160) for o in ordered if o.get("outcome_type") == "PRIMARY")
    secondary = _unique(_clean(o.get("title"), 100) for o in ordered if o.get("outcome_type") == "SECONDARY")
    if primary:
        label = "Primary outcome" if len(primary) == 1 else "Primary outcomes"
        parts.append(f"{label}: {_capped(primary, MAX_PRIMARY, 'primary outcomes')}.")

    phase = _enum(trial.get("phase")) or " / ".join(_enum(p) for p in trial.get("phases") or [] if _enum(p))
    if phase:
        parts.append(f"Phase: {phase}.")

    study_type = trial.get("study_type")
    model = trial.get("intervention_model")
    masking = trial.get("masking")
    purpose = _enum(trial.get("primary_purpose"))
    design = [
        # Interventional is the norm; only the exceptions (observational, expanded access) carry information.
        _enum(study_type) if study_type not in (None, "INTERVENTIONAL") else "",
        _enum(trial.get("allocation")),
        _MODEL.get(model, _enum(model)) if model else "",
        _MASKING.get(masking, f"{_enum(masking)} masking") if masking else "",
        f"purpose {purpose}" if purpose else "",
    ]
    design = [d for d in design if d]
    if design:
        parts.append(f"Design: {', '.join(design)}.")

    population = []
    if trial.get("sex") in _SEX:
        population.append(_SEX[trial["sex"]])
    lo, hi = _clean(trial.get("minimum_age"), 30), _clean(trial.get("maximum_age"), 30)
    lo, hi = ("" if lo.upper() == "N/A" else lo), ("" if hi.upper() == "N/A" else hi)
    if lo and hi:
        population.append(f"ages {lo} to {hi}")
    elif lo:
        population.append(f"ages {lo} and older")
    elif hi:
        population.append(f"ages up to {hi}")
    if population:
        parts.append(f"Population: {', '.join(population)}.")

    countries = _unique(_clean(c, 40) for c in trial.get("countries") or [])
    if countries:
        parts.append(f"Countries: {_capped(countries, MAX_COUNTRIES, 'countries')}.")

    eligibility = _clean(trial.get("eligibility_criteria"), ELIGIBILITY_CHARS)
    if eligibility:
        parts.append(f"Eligibility: {eligibility}.")

    if secondary:
        parts.append(f"Secondary outcomes: {_capped(secondary, MAX_SECONDARY, 'secondary outcomes')}.")

    return _bounded(parts)


def _bounded(parts: list[str]) -> str:
    """Join sections; drop whole trailing sections past MAX_CHARS, cutting only the one that straddles it."""
    out: list[str] = []
    used = 0
    for p in parts:
        sep = 1 if out else 0
        room = MAX_CHARS - used - sep
        if len(p) <= room:
            out.append(p)
            used += sep + len(p)
            continue
        if room > 40:  # a stub of a few words is noise, not signal
            out.append(_cut(p, room))
        break
    return "\n".join(out)


def _arrow(table) -> pa.Table | None:
    # polars DataFrames are accepted too: the pipeline hands out Arrow, builders often hold polars.
    return table.to_arrow() if table is not None and hasattr(table, "to_arrow") else table


def _group(table: pa.Table | None, columns: list[str]) -> dict[str, list[dict]]:
    """trial_id -> that trial's rows as dicts (only ``columns`` that the table has)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    table = _arrow(table)
    if table is None or table.num_rows == 0:
        return groups
    cols = [c for c in columns if c in table.column_names]
    # Column-wise to_pylist + zip is ~3x faster than Table.to_pylist() on 100k rows.
    values = [table.column(c).to_pylist() for c in cols]
    for row in zip(*values, strict=True):
        d = dict(zip(cols, row, strict=True))
        groups[d["trial_id"]].append(d)
    return groups


def trial_texts(tables: Mapping[str, pa.Table]) -> dict[str, str]:
    """trial_id -> ``trial_text`` for every row of ``tables["trials"]`` (the normalized tables, Arrow or polars).

    Child rows are grouped once per table (one pass each), so 42k trials with 84k interventions take ~2 s.

    >>> from deepimagine_data import pipeline  # doctest: +SKIP
    >>> tables, _ = pipeline.corpus()  # doctest: +SKIP
    >>> trial_texts(tables)["NCT03584009"].splitlines()[0]  # doctest: +SKIP
    'Conditions: Estrogen Receptor-positive (ER+)/Human Epidermal Growth Factor Receptor (HER2)-Negative ...'
    """
    trials = _arrow(tables["trials"])
    arms_t = _arrow(tables.get("arms"))
    if arms_t is not None and "group_type" in arms_t.column_names:
        # Result groups are ~15% of arm rows on AACT and most of them on results-heavy corpora: drop them in Arrow.
        import pyarrow.compute as pc

        arms_t = arms_t.filter(pc.equal(arms_t.column("group_type"), "arm"))
    arms = _group(arms_t, ARM_COLUMNS)
    interventions = _group(tables.get("interventions"), INTERVENTION_COLUMNS)
    outcomes = _group(tables.get("outcomes"), OUTCOME_COLUMNS)
    cols = [c for c in TRIAL_COLUMNS if c in trials.column_names]
    values = [trials.column(c).to_pylist() for c in cols]
    out: dict[str, str] = {}
    for row in zip(*values, strict=True):
        t = dict(zip(cols, row, strict=True))
        tid = t["trial_id"]
        out[tid] = trial_text(t, arms.get(tid, []), interventions.get(tid, []), outcomes.get(tid, []))
    return out
