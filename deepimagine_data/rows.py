"""Row constructors for the six tables: every source hands raw values in, typed rows come out.

Keeping the parsing here (and not in each source) means a p-value posted as "<0.001" reads the same whether
it came from API v2 JSON, an AACT flat file or a curated CSV.
"""

from __future__ import annotations

import functools

from .errors import RecordError
from .normalize.dose import parse_dose
from .normalize.names import basic_name
from .parse import (
    ALLOCATION,
    ARM_TYPE,
    CI_SIDES,
    INTERVENTION_MODEL,
    INTERVENTION_TYPE,
    LONG_TEXT_MAX,
    MASKING,
    NON_INFERIORITY,
    OUTCOME_TYPE,
    OVERALL_STATUS,
    PARAM_TYPE,
    PRIMARY_PURPOSE,
    REPORTING_STATUS,
    SEX,
    SHORT_TEXT_MAX,
    STUDY_TYPE,
    Enum,
    check_text,
    long_text,
    parse_date,
    parse_dispersion,
    parse_float,
    parse_int,
    parse_number,
    parse_phases,
    raw_text,
    text_list,
)
from .schema import TABLES


# A registry repeats a few spellings of each enumerated field (and dispersion type) millions of times, and a parse
# runs a regex substitution: the result is cached by text. An error is not cached: the parser raises it again, naming
# the record and field.
@functools.lru_cache(maxsize=1 << 12)
def _enum_text(enum: Enum, raw: str) -> tuple[str | None] | None:
    try:
        return (enum.parse(raw, None, ""),)
    except RecordError:
        return None


def _enum(enum: Enum, raw, ctx: str, field: str) -> str | None:
    """``enum.parse(raw, ctx, field)``, cached by text."""
    if type(raw) is str:
        hit = _enum_text(enum, raw)
        if hit is not None:
            return hit[0]
    return enum.parse(raw, ctx, field)


@functools.lru_cache(maxsize=1 << 12)
def _dispersion_text(raw: str) -> tuple[str | None, float | None] | None:
    try:
        return parse_dispersion(raw, None, "")
    except RecordError:
        return None


def _dispersion(raw, ctx: str, field: str) -> tuple[str | None, float | None]:
    """``parse_dispersion(raw, ctx, field)``, cached by text."""
    if type(raw) is str:
        hit = _dispersion_text(raw)
        if hit is not None:
            return hit
    return parse_dispersion(raw, ctx, field)


def _bool(raw, ctx, field):
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().lower()
    if s in ("true", "t", "yes", "y", "1"):
        return True
    if s in ("false", "f", "no", "n", "0"):
        return False
    if s in ("", "na", "n/a"):
        return None
    raise RecordError(ctx, field, f"expected true/false, got {raw!r}", "bad_bool")


def _dose_fields(*texts: str | None) -> dict:
    for t in texts:
        d = parse_dose(t)
        if d is not None:
            return {
                "dose_value": d.value,
                "dose_unit": d.unit,
                "dose_frequency": d.frequency,
                "dose_route": d.route,
                "dose_text": d.text,
            }
    return {"dose_value": None, "dose_unit": None, "dose_frequency": None, "dose_route": None, "dose_text": None}


def trial_row(*, trial_id: str, nct_id: str | None, source: str, source_version: str, **raw) -> dict:
    """Raw keyword values (API v2 names or AACT names, already mapped by the source) -> a `trials` row."""
    c = trial_id
    phase_raw = raw.get("phase_raw")
    phases = parse_phases(phase_raw, c, "phase")
    phase_raw_text = "/".join(phase_raw) if isinstance(phase_raw, (list, tuple)) else phase_raw
    enrollment_raw = raw.get("enrollment_raw")
    row = {
        "trial_id": check_text(trial_id, c, "trial_id"),
        "nct_id": check_text(nct_id, c, "nct_id"),
        "source": source,
        "source_version": source_version,
        "brief_title": check_text(raw.get("brief_title"), c, "briefTitle"),
        "official_title": check_text(raw.get("official_title"), c, "officialTitle"),
        "acronym": check_text(raw.get("acronym"), c, "acronym"),
        "overall_status": _enum(OVERALL_STATUS, raw.get("overall_status_raw"), c, "overallStatus"),
        "overall_status_raw": check_text(raw.get("overall_status_raw"), c, "overallStatus"),
        "study_type": _enum(STUDY_TYPE, raw.get("study_type_raw"), c, "studyType"),
        "study_type_raw": check_text(raw.get("study_type_raw"), c, "studyType"),
        "phases": phases,
        "phase": "/".join(phases) if phases else None,
        "phase_raw": check_text(phase_raw_text, c, "phase"),
        "conditions": text_list(raw.get("conditions"), c, "conditions"),
        "keywords": text_list(raw.get("keywords"), c, "keywords"),
        "mesh_conditions": text_list(raw.get("mesh_conditions"), c, "conditionBrowseModule"),
        "mesh_interventions": text_list(raw.get("mesh_interventions"), c, "interventionBrowseModule"),
        "countries": sorted(set(text_list(raw.get("countries"), c, "countries"))),
        "enrollment": parse_int(enrollment_raw, c, "enrollmentInfo.count"),
        "enrollment_raw": raw_text(enrollment_raw),
        "enrollment_type": check_text(_upper(raw.get("enrollment_type")), c, "enrollmentInfo.type"),
        "allocation": _enum(ALLOCATION, raw.get("allocation_raw"), c, "allocation"),
        "allocation_raw": check_text(raw.get("allocation_raw"), c, "allocation"),
        "intervention_model": _enum(INTERVENTION_MODEL, raw.get("intervention_model_raw"), c, "interventionModel"),
        "intervention_model_raw": check_text(raw.get("intervention_model_raw"), c, "interventionModel"),
        "primary_purpose": _enum(PRIMARY_PURPOSE, raw.get("primary_purpose_raw"), c, "primaryPurpose"),
        "primary_purpose_raw": check_text(raw.get("primary_purpose_raw"), c, "primaryPurpose"),
        "masking": _enum(MASKING, raw.get("masking_raw"), c, "masking"),
        "masking_raw": check_text(raw.get("masking_raw"), c, "masking"),
        "eligibility_criteria": long_text(raw.get("eligibility_criteria"), c, "eligibilityCriteria"),
        "sex": _enum(SEX, raw.get("sex"), c, "sex"),
        "minimum_age": check_text(raw.get("minimum_age"), c, "minimumAge"),
        "maximum_age": check_text(raw.get("maximum_age"), c, "maximumAge"),
        "healthy_volunteers": _bool(raw.get("healthy_volunteers"), c, "healthyVolunteers"),
        "lead_sponsor": check_text(raw.get("lead_sponsor"), c, "leadSponsor.name"),
        "sponsor_class": check_text(_upper(raw.get("sponsor_class")), c, "leadSponsor.class"),
        "has_results": _bool(raw.get("has_results"), c, "hasResults"),
    }
    for name, field in [
        ("start_date", "startDateStruct"),
        ("primary_completion_date", "primaryCompletionDateStruct"),
        ("completion_date", "completionDateStruct"),
        ("results_first_posted_date", "resultsFirstPostDateStruct"),
    ]:
        r = raw.get(f"{name}_raw")
        row[name] = parse_date(r, c, field)
        row[f"{name}_raw"] = check_text(raw_text(r) if not hasattr(r, "isoformat") else r.isoformat(), c, field)
    return row


def _upper(v):
    return v.strip().upper().replace(" ", "_") if isinstance(v, str) and v.strip() else None


def arm_row(*, trial_id: str, index: int, title, description=None, arm_type_raw=None, intervention_names=None) -> dict:
    """A protocol arm group (`armGroups` / AACT `design_groups`)."""
    c = trial_id
    title = check_text(title, c, f"armGroups[{index}].label")
    description = long_text(description, c, f"armGroups[{index}].description")
    return {
        "trial_id": trial_id,
        "group_id": f"{trial_id}:A{index}",
        "group_type": "arm",
        "outcome_id": None,
        "code": None,
        "title": title,
        "description": description,
        "arm_type": _enum(ARM_TYPE, arm_type_raw, c, f"armGroups[{index}].type"),
        "arm_type_raw": check_text(arm_type_raw, c, f"armGroups[{index}].type"),
        "intervention_names": text_list(intervention_names, c, f"armGroups[{index}].interventionNames"),
        **_dose_fields(title, description),
    }


def result_group_row(*, trial_id: str, outcome_id: str, code: str, title, description=None) -> dict:
    """A result group of one outcome (`outcomeMeasures[].groups[]` / AACT `result_groups`)."""
    c = trial_id
    code = check_text(code, c, f"{outcome_id}.groups.id")
    title = check_text(title, c, f"{outcome_id}.groups[{code}].title")
    description = long_text(description, c, f"{outcome_id}.groups[{code}].description")
    return {
        "trial_id": trial_id,
        "group_id": f"{outcome_id}:{code}",
        "group_type": "outcome",
        "outcome_id": outcome_id,
        "code": code,
        "title": title,
        "description": description,
        "arm_type": None,
        "arm_type_raw": None,
        "intervention_names": [],
        **_dose_fields(title, description),
    }


def intervention_row(
    *, trial_id: str, index: int, type_raw, name, other_names=None, description=None, arm_labels=None
) -> dict:
    c = trial_id
    name = check_text(name, c, f"interventions[{index}].name")
    description = long_text(description, c, f"interventions[{index}].description")
    return {
        "trial_id": trial_id,
        "intervention_id": f"{trial_id}:I{index}",
        "type": _enum(INTERVENTION_TYPE, type_raw, c, f"interventions[{index}].type"),
        "type_raw": check_text(type_raw, c, f"interventions[{index}].type"),
        "name": name,
        "normalized_name": basic_name(name),
        "other_names": text_list(other_names, c, f"interventions[{index}].otherNames"),
        "description": description,
        "arm_labels": text_list(arm_labels, c, f"interventions[{index}].armGroupLabels"),
        **_dose_fields(name, description),
    }


def outcome_row(
    *,
    trial_id: str,
    index: int,
    outcome_type_raw,
    title,
    description=None,
    time_frame=None,
    population_description=None,
    param_type_raw=None,
    dispersion_type_raw=None,
    unit_of_measure=None,
    reporting_status=None,
) -> dict:
    c = trial_id
    f = f"outcomeMeasures[{index}]"
    disp, _ = _dispersion(dispersion_type_raw, c, f"{f}.dispersionType")
    return {
        "trial_id": trial_id,
        "outcome_id": f"{trial_id}:O{index}",
        "outcome_index": index,
        "outcome_type": _enum(OUTCOME_TYPE, outcome_type_raw, c, f"{f}.type"),
        "outcome_type_raw": check_text(outcome_type_raw, c, f"{f}.type"),
        "title": check_text(title, c, f"{f}.title"),
        "description": long_text(description, c, f"{f}.description"),
        "time_frame": check_text(time_frame, c, f"{f}.timeFrame"),
        "population_description": long_text(population_description, c, f"{f}.populationDescription"),
        "param_type": _enum(PARAM_TYPE, param_type_raw, c, f"{f}.paramType"),
        "param_type_raw": check_text(param_type_raw, c, f"{f}.paramType"),
        "dispersion_type": disp,
        "dispersion_type_raw": check_text(dispersion_type_raw, c, f"{f}.dispersionType"),
        "unit_of_measure": check_text(unit_of_measure, c, f"{f}.unitOfMeasure"),
        "reporting_status": _enum(REPORTING_STATUS, reporting_status, c, f"{f}.reportingStatus"),
        # filled by finalize_study from the rows that reference the outcome
        "n_groups": 0,
        "n_measurements": 0,
        "n_analyses": 0,
    }


def measurement_row(
    *,
    outcome: dict,
    index: int,
    group_code,
    group_title,
    value,
    spread=None,
    lower_limit=None,
    upper_limit=None,
    n=None,
    n_units=None,
    class_title=None,
    category_title=None,
    comment=None,
) -> dict:
    """A measurement of one outcome. A source with many measurements per outcome builds them with
    :class:`Measurements` (the same rows, the outcome's part read once)."""
    return Measurements(outcome).row(
        index=index,
        group_code=group_code,
        group_title=group_title,
        value=value,
        spread=spread,
        lower_limit=lower_limit,
        upper_limit=upper_limit,
        n=n,
        n_units=n_units,
        class_title=class_title,
        category_title=category_title,
        comment=comment,
    )


class _Slow(Exception):
    """A value the fast path of :meth:`Measurements.rows` leaves to the checked path (bad, or merely unusual)."""


@functools.lru_cache(maxsize=1 << 16)
def _number_text(raw: str) -> tuple[float | None, str | None] | None:
    """``parse_number`` of a text, None where it raises. Cached: a registry repeats its number texts ("0", "12.5")
    across millions of measurements. Texts only: a float key would mix up 0.0 and -0.0, which hash alike."""
    try:
        return parse_number(raw, None, "")
    except RecordError:
        return None


def _number(raw) -> tuple[float | None, str | None]:
    if raw is None:
        return None, None
    if type(raw) is str:
        out = _number_text(raw)
        if out is None:
            raise _Slow
        return out
    try:
        return parse_number(raw, None, "")
    except RecordError:
        raise _Slow from None


def _text(raw, max_len: int = SHORT_TEXT_MAX) -> str | None:
    """``check_text`` of a text it accepts as is; anything else (another type, too long, NUL, a lone surrogate)
    goes to the checked path, which names the field."""
    if raw is None:
        return None
    if type(raw) is not str or len(raw) > max_len or "\x00" in raw:
        raise _Slow
    if not raw.isascii():
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise _Slow from None
    return raw


def _raw(raw) -> str | None:
    return raw if type(raw) is str else raw_text(raw)


class Measurements:
    """Builds the measurement rows of one outcome, one at a time (:meth:`row`) or from columns (:meth:`rows`).

    What a row takes from its outcome (ids, param type, dispersion) is read once, not per row, and a row whose
    values all parse is built without naming its fields (the field names of the messages cost more than the
    parsing). Any other row is built again by :func:`_checked_measurement_row`, the reference: it raises the
    error a row would raise, naming the record and field, in the same order of checks. Both give the same row."""

    __slots__ = ("outcome", "trial_id", "outcome_id", "param_type", "dispersion_type", "ci_percent", "unit")

    def __init__(self, outcome: dict):
        self.outcome = outcome
        self.trial_id = c = outcome["trial_id"]
        self.outcome_id = oid = outcome["outcome_id"]
        self.param_type = outcome["param_type"]
        self.unit = outcome["unit_of_measure"]
        self.dispersion_type, self.ci_percent = _dispersion(outcome["dispersion_type_raw"], c, f"{oid}.dispersionType")

    def row(
        self,
        *,
        index: int,
        group_code,
        group_title,
        value,
        spread=None,
        lower_limit=None,
        upper_limit=None,
        n=None,
        n_units=None,
        class_title=None,
        category_title=None,
        comment=None,
    ) -> dict:
        """Measurement ``index`` of the outcome (the arguments of :func:`measurement_row`)."""
        (row,) = self.rows(
            index,
            [group_code],
            [group_title],
            [value],
            [spread],
            [lower_limit],
            [upper_limit],
            [n],
            [n_units],
            [class_title],
            [category_title],
            [comment],
        )
        return row

    def rows(
        self,
        start: int,
        group_codes: list,
        group_titles: list,
        values: list,
        spreads: list,
        lower_limits: list,
        upper_limits: list,
        ns: list,
        n_units: list,
        class_titles: list,
        category_titles: list,
        comments: list,
    ) -> list[dict]:
        """Measurements ``start``, ``start + 1``, ... of the outcome, from one list per argument of :meth:`row` (the
        same order): for a source that reads its measurements by column. Raises at the first bad row."""
        oid = self.outcome_id
        out: list[dict] = []
        columns = (group_codes, group_titles, values, spreads, lower_limits, upper_limits, ns, n_units)
        for index, (code, title, value, spread, lower, upper, n, units, cls, cat, comment) in enumerate(
            zip(*columns, class_titles, category_titles, comments, strict=True), start
        ):
            try:
                v, mod = _number(value)
                spread_v, spread_mod = _number(spread)
                if spread_mod is not None and spread_mod != "=":
                    raise _Slow
                n_v, n_mod = _number(n)
                if n_mod is not None and n_mod != "=":
                    raise _Slow
                if n_v is not None:
                    if n_v != int(n_v) or n_v < 0:
                        raise _Slow
                    n_v = int(n_v)
                out.append(
                    {
                        "trial_id": self.trial_id,
                        "outcome_id": oid,
                        "measurement_id": f"{oid}:M{index}",
                        "group_id": f"{oid}:{code}",
                        "group_code": _text(code),
                        "group_title": _text(title),
                        "class_title": _text(cls),
                        "category_title": _text(cat),
                        "param_type": self.param_type,
                        "value": v,
                        "value_modifier": mod,
                        "value_raw": _raw(value),
                        "dispersion_type": self.dispersion_type,
                        "dispersion_ci_percent": self.ci_percent,
                        "spread": spread_v,
                        "spread_raw": _raw(spread),
                        "lower_limit": _number(lower)[0],
                        "lower_limit_raw": _raw(lower),
                        "upper_limit": _number(upper)[0],
                        "upper_limit_raw": _raw(upper),
                        "n": n_v,
                        "n_raw": _raw(n),
                        "n_units": _text(units),
                        "unit_of_measure": self.unit,
                        "comment": _text(comment, LONG_TEXT_MAX),
                    }
                )
                continue
            except _Slow:
                pass
            out.append(
                _checked_measurement_row(
                    outcome=self.outcome,
                    index=index,
                    group_code=code,
                    group_title=title,
                    value=value,
                    spread=spread,
                    lower_limit=lower,
                    upper_limit=upper,
                    n=n,
                    n_units=units,
                    class_title=cls,
                    category_title=cat,
                    comment=comment,
                )
            )
        return out


def _checked_measurement_row(
    *,
    outcome: dict,
    index: int,
    group_code,
    group_title,
    value,
    spread=None,
    lower_limit=None,
    upper_limit=None,
    n=None,
    n_units=None,
    class_title=None,
    category_title=None,
    comment=None,
) -> dict:
    """The measurement row, every value checked in order (the reference of :class:`Measurements`)."""
    c = outcome["trial_id"]
    f = f"{outcome['outcome_id']}.measurements[{index}]"
    disp, ci_pct = parse_dispersion(outcome["dispersion_type_raw"], c, f"{outcome['outcome_id']}.dispersionType")
    v, mod = parse_number(value, c, f"{f}.value")
    return {
        "trial_id": c,
        "outcome_id": outcome["outcome_id"],
        "measurement_id": f"{outcome['outcome_id']}:M{index}",
        "group_id": f"{outcome['outcome_id']}:{group_code}",
        "group_code": check_text(group_code, c, f"{f}.groupId"),
        "group_title": check_text(group_title, c, f"{f}.group.title"),
        "class_title": check_text(class_title, c, f"{f}.class.title"),
        "category_title": check_text(category_title, c, f"{f}.category.title"),
        "param_type": outcome["param_type"],
        "value": v,
        "value_modifier": mod,
        "value_raw": raw_text(value),
        "dispersion_type": disp,
        "dispersion_ci_percent": ci_pct,
        "spread": parse_float(spread, c, f"{f}.spread"),
        "spread_raw": raw_text(spread),
        "lower_limit": parse_number(lower_limit, c, f"{f}.lowerLimit")[0],
        "lower_limit_raw": raw_text(lower_limit),
        "upper_limit": parse_number(upper_limit, c, f"{f}.upperLimit")[0],
        "upper_limit_raw": raw_text(upper_limit),
        "n": parse_int(n, c, f"{f}.denom"),
        "n_raw": raw_text(n),
        "n_units": check_text(n_units, c, f"{f}.denom.units"),
        "unit_of_measure": outcome["unit_of_measure"],
        "comment": long_text(comment, c, f"{f}.comment"),
    }


def analysis_row(
    *,
    outcome: dict,
    index: int,
    group_codes,
    group_description=None,
    non_inferiority_type_raw=None,
    non_inferiority_comment=None,
    p_value=None,
    p_value_modifier=None,
    p_value_comment=None,
    statistical_method=None,
    statistical_comment=None,
    estimate_type=None,
    estimate_value=None,
    estimate_comment=None,
    dispersion_type=None,
    dispersion_value=None,
    ci_percent=None,
    ci_sides_raw=None,
    ci_lower=None,
    ci_upper=None,
) -> dict:
    """An analysis of one outcome. ``p_value`` is the posted text ("<0.001") or, from typed sources, a number
    with its modifier given separately (AACT's p_value + p_value_modifier)."""
    c = outcome["trial_id"]
    oid = outcome["outcome_id"]
    f = f"{oid}.analyses[{index}]"
    codes = text_list(group_codes, c, f"{f}.groupIds")
    p, mod = parse_number(p_value, c, f"{f}.pValue")
    if p_value_modifier is not None and str(p_value_modifier).strip():
        given = str(p_value_modifier).strip()
        if mod is not None and mod != given:
            raise RecordError(c, f"{f}.pValueModifier", f"modifier {given!r} contradicts {p_value!r}", "bad_number")
        if given not in ("<", "<=", ">", ">=", "="):
            raise RecordError(c, f"{f}.pValueModifier", f"unknown modifier {given!r}", "unknown_enum")
        mod = given
    if p is not None and not (0.0 <= p <= 1.0):
        raise RecordError(c, f"{f}.pValue", f"p-value {p_value!r} outside [0, 1]", "bad_number")
    p_raw = raw_text(p_value)
    if p_value_modifier and p_raw is not None and not p_raw.lstrip().startswith(("<", ">", "=")):
        p_raw = f"{p_value_modifier}{p_raw}"
    return {
        "trial_id": c,
        "outcome_id": oid,
        "analysis_id": f"{oid}:S{index}",
        "analysis_index": index,
        "group_codes": codes,
        "group_ids": [f"{oid}:{g}" for g in codes],
        "group_description": long_text(group_description, c, f"{f}.groupDescription"),
        "non_inferiority_type": _enum(NON_INFERIORITY, non_inferiority_type_raw, c, f"{f}.nonInferiorityType"),
        "non_inferiority_type_raw": check_text(non_inferiority_type_raw, c, f"{f}.nonInferiorityType"),
        "non_inferiority_comment": long_text(non_inferiority_comment, c, f"{f}.nonInferiorityComment"),
        "p_value": p,
        "p_value_modifier": mod,
        "p_value_raw": p_raw,
        "p_value_comment": long_text(p_value_comment, c, f"{f}.pValueComment"),
        "statistical_method": check_text(statistical_method, c, f"{f}.statisticalMethod"),
        "statistical_comment": long_text(statistical_comment, c, f"{f}.statisticalComment"),
        "estimate_type": check_text(estimate_type, c, f"{f}.paramType"),
        "estimate_value": parse_float(estimate_value, c, f"{f}.paramValue"),
        "estimate_value_raw": raw_text(estimate_value),
        "estimate_comment": long_text(estimate_comment, c, f"{f}.estimateComment"),
        "dispersion_type": check_text(dispersion_type, c, f"{f}.dispersionType"),
        "dispersion_value": parse_float(dispersion_value, c, f"{f}.dispersionValue"),
        "dispersion_value_raw": raw_text(dispersion_value),
        "ci_percent": parse_float(ci_percent, c, f"{f}.ciPctValue"),
        "ci_percent_raw": raw_text(ci_percent),
        "ci_sides": _enum(CI_SIDES, ci_sides_raw, c, f"{f}.ciNumSides"),
        "ci_sides_raw": check_text(ci_sides_raw, c, f"{f}.ciNumSides"),
        "ci_lower": parse_number(ci_lower, c, f"{f}.ciLowerLimit")[0],
        "ci_lower_raw": raw_text(ci_lower),
        "ci_upper": parse_number(ci_upper, c, f"{f}.ciUpperLimit")[0],
        "ci_upper_raw": raw_text(ci_upper),
    }


class StudyRows:
    """All rows of one study. A source fills one, and it reaches the tables only if the whole study parsed,
    so a lenient run drops a bad study entirely instead of keeping half of it."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in TABLES}

    def add(self, table: str, row: dict) -> dict:
        self.rows[table].append(row)
        return row

    def extend(self, table: str, rows: list[dict]) -> None:
        self.rows[table].extend(rows)

    def finalize(self) -> StudyRows:
        per = {o["outcome_id"]: o for o in self.rows["outcomes"]}
        for g in self.rows["arms"]:
            if g["outcome_id"] in per:
                per[g["outcome_id"]]["n_groups"] += 1
        for m in self.rows["measurements"]:
            if m["outcome_id"] in per:
                per[m["outcome_id"]]["n_measurements"] += 1
        for a in self.rows["analyses"]:
            if a["outcome_id"] in per:
                per[a["outcome_id"]]["n_analyses"] += 1
        return self
