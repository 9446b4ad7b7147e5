"""Write a registry-sized AACT dump: pipe-delimited ``<table>.txt`` files of real records under synthetic NCT ids.

What it writes
    ``OUT/<table>.txt`` for studies, designs, sponsors, conditions, keywords, browse_interventions, design_groups,
    interventions, design_group_interventions, outcomes, result_groups, outcome_analyses, outcome_analysis_groups,
    outcome_measurements and outcome_counts, in AACT's flat-file layout (``|`` separated, header row, AACT column
    names), written with the text conversion and ``write_csv`` options of
    :func:`deepimagine_data.sources.aact_flat.write_flat_table`, so ``deepimagine_data.sources.aact.read(OUT)``,
    ``deepimagine ingest aact OUT`` and ``deepimagine build --input aact:OUT`` read it as they read an AACT export.
    No ``_schema.json`` is written (AACT's own export has none), so the reader takes every column as text, as it
    does for the real thing. ``OUT/_replicas.csv`` (not a table: the reader only opens ``*.txt``) maps every
    synthetic NCT id to the study it copies and the number of days its dates were moved.

From what
    - the AACT oncology tables shipped in the package (``deepimagine_data/data/aact_oncology``: 5,557 studies, all
      with posted results; AACT via Merck's aactreveal, see PROVENANCE.md there);
    - the three ClinicalTrials.gov API v2 studies with posted results in ``tests/fixtures/ctgov`` (NCT00763412,
      NCT02210780, NCT02552212), converted to AACT rows as AACT's own loader maps API v2 fields
      (ctti-clinicaltrials/aact ``app/models/outcome.rb``, ``study.rb``): result groups per outcome with
      ``result_type = 'Outcome'`` and ``outcome_id``; outcome_measurements from classes/categories/measurements;
      outcome_counts (scope ``Measure``) from the outcome's denominators; outcome_analyses with the posted p-value
      split into ``p_value`` and ``p_value_modifier``; enumerations kept as API v2 writes them (``COMPLETED``,
      ``PHASE2``), which is what current AACT stores. Study dates use the embedded tables' older text form
      (``'November 2006'``, ``'August 5, 2014'``; a month-only date is the last day of that month), so that one
      rule rewrites the dates of every replica.

How
    Study ``i`` of the dump is ``NCT9`` + ``i`` in 7 digits (never a real id: real ones are below NCT08000000).
    Exactly ``with_results`` of them have a results_first_posted_date, spread evenly over the id range. They cycle
    over the results templates: the embedded studies, those with at least 8 outcomes twice per cycle (the registry
    has ~8.3 outcomes per results study, this oncology subset 6.5; weighting whole real studies, rather than
    copying outcomes inside a study, reaches the registry's totals with every replica an exact copy of one study),
    plus the three fixture studies in 2% of the slots, spaced evenly. Studies without results cycle over the
    embedded studies with the results removed (results dates, baseline_population and every results table), since
    the embedded subset has no study without results. Cycle order is a seeded shuffle.
    Every ``id`` and key (outcome_id, result_group_id, design_group_id, intervention_id, outcome_analysis_id)
    becomes ``i * 10**9 + id``. Each replica's study dates move by one seeded number of days that puts its
    results_first_posted_date (study_first_posted_date for a study without results) uniformly in
    2008-01-01..2026-06-30; a month-only date then snaps to the end of its month, and every ``*_month_year`` is
    rewritten from its moved date.

Row counts at the defaults (572,000 studies, 76,600 with results -- the AACT 2026 registry has ~572,000 studies,
~76,600 with results, ~634,000 outcomes, ~4.75 M outcome_measurements, >= 150,000 outcome_analyses): 572,000
studies, 76,600 with results, 638,399 outcomes, 4,814,942 outcome_measurements (7.54 per outcome), 182,313
outcome_analyses, 23.2 M rows and 5.3 GB in all (``write_dump`` returns the counts; the CLI prints them with
the file sizes). Two embedded studies post p-values above 1 (NCT00087022, NCT03125902): the reader skips their
replicas (3 in every 7,200 results replicas), as it skips the originals.

Per-arm values are grafted -- THE DUMP IS NOT DATA
    The embedded AACT subset has no outcome_measurements or outcome_counts. To give its outcomes per-arm rows at
    the registry's density (~7.5 measurements per outcome), each embedded outcome gets rows for its study's
    outcome result groups (one per ctgov_group_code, the group its analyses name where they name one), with
    classification/category/value/spread/limits/comment taken in turn from the category blocks of the three
    fixture studies' real measurements, and counts from their real denominators. The numbers are real numbers
    from other trials: attached to these outcomes they mean nothing, as do the copied labels, dates and ids. The
    dump exists to measure the speed and memory of reading a registry-sized AACT export. Never use it, or
    anything built from it, as a corpus.

Memory
    Templates (~0.8 M rows, grafted measurements included) are built once and converted to text once; the dump
    is then written in chunks of replicas (25,000 studies by default), each table's rows of a chunk made by one
    join on the replica plan and appended to its file. No table is ever whole in memory: the default size takes
    ~40 s and ~0.8 GB peak RSS on 2 cores.

Usage::

    python benchmarks/registry_dump.py --out /tmp/regdump                      # registry size
    python benchmarks/registry_dump.py --out /tmp/small --studies 20000        # 2,678 with results (same share)
    python benchmarks/registry_dump.py --out /tmp/x --studies 5000 --with-results 5000

    from benchmarks.registry_dump import write_dump
    counts = write_dump("/tmp/regdump")          # {'studies': 572000, 'outcome_measurements': ..., ...}
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.resources
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

# The package's own flat-file writer: same text for every value type (whole floats without ".0", t/f, dates),
# same CSV options. _as_text is private there, but reusing it is the point: the dump must read back exactly as
# write_flat_table's files do.
from deepimagine_data.sources.aact import COLUMNS, ID_COLUMNS  # noqa: E402
from deepimagine_data.sources.aact_flat import _as_text, write_flat_rows, write_flat_table  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "ctgov"
FIXTURE_FILES = ("NCT00763412.json", "NCT02210780.json", "NCT02278341.json")

# AACT 2026, for the defaults and the measurement density
REGISTRY_STUDIES = 572_000
REGISTRY_WITH_RESULTS = 76_600
REGISTRY_OUTCOMES = 634_000
REGISTRY_MEASUREMENTS = 4_750_000
MEASUREMENTS_PER_OUTCOME = REGISTRY_MEASUREMENTS / REGISTRY_OUTCOMES

FIXTURE_SHARE = 0.02  # of the results replicas
HEAVY_OUTCOMES = 8  # results templates with at least this many outcomes appear twice per cycle
ID_STRIDE = 10**9
# Float64 holds integers exactly up to 2**53 and the reader parses ids from text through Float64.
MAX_STUDIES = (2**53 - ID_STRIDE) // ID_STRIDE
DATE_LO = dt.date(2008, 1, 1)
DATE_HI = dt.date(2026, 6, 30)
CHUNK = 25_000

TABLES = (
    "studies",
    "designs",
    "sponsors",
    "conditions",
    "keywords",
    "browse_interventions",
    "design_groups",
    "interventions",
    "design_group_interventions",
    "outcomes",
    "result_groups",
    "outcome_analyses",
    "outcome_analysis_groups",
    "outcome_measurements",
    "outcome_counts",
)
RESULTS_TABLES = frozenset(TABLES[TABLES.index("outcomes") :])
# the integer keys, as the package's AACT reader declares them
KEYS = ID_COLUMNS
# key column -> the table whose id it names
FOREIGN_KEYS = {
    "outcome_id": "outcomes",
    "result_group_id": "result_groups",
    "design_group_id": "design_groups",
    "intervention_id": "interventions",
    "outcome_analysis_id": "outcome_analyses",
}


def _aact_layout(declared: list[str], places: dict[str, str]) -> tuple[str, ...]:
    """``declared`` with each column of ``places`` put right after the one it names (in ``places``' order)."""
    cols = [c for c in declared if c not in places]
    for col, after in places.items():
        cols.insert(cols.index(after) + 1, col)
    return tuple(cols)


# outcome_measurements and outcome_counts as AACT's export has them (both absent from the embedded subset).
# outcome_counts: the package's declaration is AACT's whole table. outcome_measurements: the package declares
# (aact.COLUMNS) only the columns its reader uses, in its own order; AACT's table also repeats its outcome's
# title, description, units, param_type and dispersion_type and holds parsed *_num copies of two values. The
# reader skips those, but the dump writes them, so that its file is AACT's whole table (and reading it costs
# what reading AACT's does). {column: the column it follows in AACT's layout}: those extra columns, and three
# of the declared ones, which AACT orders otherwise.
_MEASUREMENT_PLACES = {
    "title": "category",
    "description": "title",
    "units": "description",
    "param_type": "units",
    "param_value_num": "param_value",
    "dispersion_type": "param_value_num",
    "dispersion_value_num": "dispersion_value",
    "explanation_of_na": "dispersion_upper_limit",
    "dispersion_upper_limit_raw": "explanation_of_na",
    "dispersion_lower_limit_raw": "dispersion_upper_limit_raw",
}
MEASUREMENT_COLUMNS = _aact_layout(COLUMNS["outcome_measurements"], _MEASUREMENT_PLACES)
COUNT_COLUMNS = tuple(COLUMNS["outcome_counts"])
_FLOAT_COLUMNS = {
    "param_value_num",
    "dispersion_value_num",
    "dispersion_lower_limit",
    "dispersion_upper_limit",
}

# studies dates that have a *_month_year text beside them
MONTH_YEAR = ("start", "verification", "completion", "primary_completion")
# what a study without posted results lacks in studies
RESULTS_STUDY_COLUMNS = (
    "results_first_submitted_date",
    "results_first_submitted_qc_date",
    "results_first_posted_date",
    "results_first_posted_date_type",
    "baseline_population",
)


def embedded_dir() -> Path:
    return Path(str(importlib.resources.files("deepimagine_data") / "data" / "aact_oncology"))


# --- API v2 study -> AACT rows -------------------------------------------------------------------------


def _month_date(raw: str | None) -> tuple[dt.date | None, str | None]:
    """'2006-11' -> (2006-11-30, 'November 2006'); '2014-08-05' -> (2014-08-05, 'August 5, 2014')."""
    if not raw:
        return None, None
    parts = [int(p) for p in raw.split("-")]
    if len(parts) == 3:
        d = dt.date(*parts)
        return d, f"{d:%B} {d.day}, {d.year}"
    y, m = parts
    d = dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
    return d, f"{d:%B %Y}"


def _date(raw: str | None) -> dt.date | None:
    return _month_date(raw)[0]


def _float(raw) -> float | None:
    if raw is None:
        return None
    try:
        return float(str(raw).replace(",", ""))
    except ValueError:
        return None


def _int(raw) -> int | None:
    v = _float(raw)
    return int(v) if v is not None and v.is_integer() else None


def _bool_or_none(v) -> bool | None:
    return v if isinstance(v, bool) else None


def _p_value(raw: str | None) -> tuple[float | None, str | None]:
    # AACT (outcome.rb): p_value = pValue without [<> =]; p_value_modifier = pValue without [digits . -]
    if raw is None:
        return None, None
    value = re.sub(r"[<> =]", "", raw).strip()
    mod = re.sub(r"[\d.\-]", "", raw).strip()
    return _float(value), (mod or None)


class _Ids:
    """Template ids of the fixture rows: 1, 2, ... per table, far below every embedded id (>= 3.6 M)."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        n = self.next.get(table, 0) + 1
        self.next[table] = n
        return n


# studies columns <- API v2 statusModule fields (AACT study.rb)
_SUBMIT_DATES = (
    ("study_first_submitted_date", "studyFirstSubmitDate"),
    ("results_first_submitted_date", "resultsFirstSubmitDate"),
    ("disposition_first_submitted_date", "dispFirstSubmitDate"),
    ("last_update_submitted_date", "lastUpdateSubmitDate"),
    ("study_first_submitted_qc_date", "studyFirstSubmitQcDate"),
    ("results_first_submitted_qc_date", "resultsFirstSubmitQcDate"),
    ("disposition_first_submitted_qc_date", "dispFirstSubmitQcDate"),
    ("last_update_submitted_qc_date", "lastUpdateSubmitDate"),  # AACT maps lastUpdateSubmitDate to both
)
_POSTED_DATES = (  # with a *_date_type beside the date
    ("study_first_posted", "studyFirstPostDateStruct"),
    ("results_first_posted", "resultsFirstPostDateStruct"),
    ("disposition_first_posted", "dispFirstPostDateStruct"),
    ("last_update_posted", "lastUpdatePostDateStruct"),
)
_MONTH_DATES = (  # with a *_month_year and a *_date_type beside the date
    ("start", "startDateStruct"),
    ("completion", "completionDateStruct"),
    ("primary_completion", "primaryCompletionDateStruct"),
)
# studies columns <- API v2 oversightModule fields
_OVERSIGHT_FLAGS = (
    ("has_dmc", "oversightHasDmc"),
    ("is_fda_regulated_drug", "isFdaRegulatedDrug"),
    ("is_fda_regulated_device", "isFdaRegulatedDevice"),
    ("is_unapproved_device", "isUnapprovedDevice"),
    ("is_us_export", "isUsExport"),
)
# designs.<who>_masked <- the role in maskingInfo.whoMasked
_MASKED = (
    ("subject_masked", "PARTICIPANT"),
    ("caregiver_masked", "CARE_PROVIDER"),
    ("investigator_masked", "INVESTIGATOR"),
    ("outcomes_assessor_masked", "OUTCOMES_ASSESSOR"),
)
# study-level result groups of the other results modules (AACT keeps them in result_groups with the outcomes')
_STUDY_GROUPS = (
    ("participantFlowModule", "groups", "Participant Flow"),
    ("baselineCharacteristicsModule", "groups", "Baseline"),
    ("adverseEventsModule", "eventGroups", "Reported Event"),
)


def study_to_aact(study: dict, ids: _Ids) -> tuple[dict[str, list[dict]], list[dict]]:
    """One API v2 study (with results) -> ``({table: rows}, category blocks)``; a block is one category of one
    outcome: its classification, category, measurements in posted order and the outcome's participant counts."""
    ps = study["protocolSection"]
    rs = study.get("resultsSection") or {}
    ident = ps.get("identificationModule", {})
    status = ps.get("statusModule", {})
    design = ps.get("designModule", {})
    dinfo = design.get("designInfo", {})
    mask = dinfo.get("maskingInfo", {})
    oversight = ps.get("oversightModule", {})
    ipd = ps.get("ipdSharingStatementModule", {})
    exp = status.get("expandedAccessInfo", {})
    aim = ps.get("armsInterventionsModule", {})
    nct = ident["nctId"]
    out: dict[str, list[dict]] = {t: [] for t in TABLES}

    def add(table: str, **cols) -> int:
        """Append a row of ``table`` under the study's next template id for it; return that id."""
        row_id = ids(table)
        out[table].append({"id": row_id, "nct_id": nct, **cols})
        return row_id

    def result_group(g: dict, result_type: str, outcome_id: int | None) -> int:
        return add(
            "result_groups",
            ctgov_group_code=g.get("id"),
            result_type=result_type,
            title=g.get("title"),
            description=g.get("description"),
            outcome_id=outcome_id,
        )

    def struct(key):
        s = status.get(key) or {}
        return s.get("date"), s.get("type")

    study_row = {
        "nct_id": nct,
        **{col: _date(status.get(key)) for col, key in _SUBMIT_DATES},
        "target_duration": design.get("targetDuration"),
        "study_type": design.get("studyType"),
        "acronym": ident.get("acronym"),
        "baseline_population": (rs.get("baselineCharacteristicsModule") or {}).get("populationDescription"),
        "brief_title": ident.get("briefTitle"),
        "official_title": ident.get("officialTitle"),
        "overall_status": status.get("overallStatus"),
        "last_known_status": status.get("lastKnownStatus"),
        "phase": "/".join(design["phases"]) if design.get("phases") else None,
        "enrollment": _float((design.get("enrollmentInfo") or {}).get("count")),
        "enrollment_type": (design.get("enrollmentInfo") or {}).get("type"),
        "source": (ident.get("organization") or {}).get("fullName"),
        "why_stopped": status.get("whyStopped"),
        "has_expanded_access": _bool_or_none(exp.get("hasExpandedAccess")),
        **{col: _bool_or_none(oversight.get(key)) for col, key in _OVERSIGHT_FLAGS},
        "biospec_retention": (design.get("bioSpec") or {}).get("retention"),
        "biospec_description": (design.get("bioSpec") or {}).get("description"),
        "ipd_time_frame": ipd.get("timeFrame"),
        "ipd_access_criteria": ipd.get("accessCriteria"),
        "ipd_url": ipd.get("url"),
        "plan_to_share_ipd": ipd.get("ipdSharing"),
        "plan_to_share_ipd_description": ipd.get("description"),
    }
    n_arms = len(aim.get("armGroups") or [])
    if design.get("studyType") == "INTERVENTIONAL":
        study_row["number_of_arms"] = float(n_arms)
    else:
        study_row["number_of_groups"] = float(n_arms)
    for col, key in _POSTED_DATES:
        raw, typ = struct(key)
        study_row[f"{col}_date"], study_row[f"{col}_date_type"] = _date(raw), typ
    for col, key in _MONTH_DATES:
        raw, typ = struct(key)
        study_row[f"{col}_date"], study_row[f"{col}_month_year"] = _month_date(raw)
        study_row[f"{col}_date_type"] = typ
    study_row["verification_date"], study_row["verification_month_year"] = _month_date(status.get("statusVerifiedDate"))
    out["studies"].append(study_row)

    who = mask.get("whoMasked")
    add(
        "designs",
        allocation=dinfo.get("allocation"),
        intervention_model=dinfo.get("interventionModel"),
        observational_model=dinfo.get("observationalModel"),
        primary_purpose=dinfo.get("primaryPurpose"),
        time_perspective=dinfo.get("timePerspective"),
        masking=mask.get("masking"),
        masking_description=mask.get("maskingDescription"),
        intervention_model_description=dinfo.get("interventionModelDescription"),
        **{col: None if who is None else role in who for col, role in _MASKED},
    )
    spons = ps.get("sponsorCollaboratorsModule", {})
    for role, s in [("lead", spons.get("leadSponsor"))] + [("collaborator", c) for c in spons.get("collaborators", [])]:
        if s:
            add("sponsors", agency_class=s.get("class"), lead_or_collaborator=role, name=s.get("name"))
    cond = ps.get("conditionsModule", {})
    for table in ("conditions", "keywords"):
        for name in cond.get(table) or []:
            add(table, name=name, downcase_name=name.lower())
    ibm = (study.get("derivedSection") or {}).get("interventionBrowseModule") or {}
    for key, mesh_type in [("meshes", "mesh-list"), ("ancestors", "mesh-ancestor")]:
        for m in ibm.get(key) or []:
            term = m.get("term")
            add(
                "browse_interventions",
                mesh_term=term,
                downcase_mesh_term=(term or "").lower() or None,
                mesh_type=mesh_type,
            )
    dg_by_label = {}
    for a in aim.get("armGroups") or []:
        label = a.get("label")
        dg_by_label[label] = add(
            "design_groups", group_type=a.get("type"), title=label, description=a.get("description")
        )
    for iv in aim.get("interventions") or []:
        iid = add(
            "interventions", intervention_type=iv.get("type"), name=iv.get("name"), description=iv.get("description")
        )
        for label in iv.get("armGroupLabels") or []:
            if label in dg_by_label:
                add("design_group_interventions", design_group_id=dg_by_label[label], intervention_id=iid)

    for module, key, rtype in _STUDY_GROUPS:
        for g in (rs.get(module) or {}).get(key) or []:
            result_group(g, rtype, None)

    blocks: list[dict] = []
    for om in (rs.get("outcomeMeasuresModule") or {}).get("outcomeMeasures") or []:
        anticipated = om.get("anticipatedPostingDate")
        oid = add(
            "outcomes",
            outcome_type=om.get("type"),
            title=om.get("title"),
            description=om.get("description"),
            time_frame=om.get("timeFrame"),
            population=om.get("populationDescription"),
            # AACT: date_first_of_month of the posted 'YYYY-MM'
            anticipated_posting_date=dt.date.fromisoformat(anticipated + "-01") if anticipated else None,
            anticipated_posting_month_year=anticipated,
            units=om.get("unitOfMeasure"),
            units_analyzed=om.get("typeUnitsAnalyzed"),
            dispersion_type=om.get("dispersionType"),
            param_type=om.get("paramType"),
        )
        rg = {g.get("id"): result_group(g, "Outcome", oid) for g in om.get("groups") or []}
        participants: list[int | None] = []
        for di, d in enumerate(om.get("denoms") or []):
            for c in d.get("counts") or []:
                add(
                    "outcome_counts",
                    outcome_id=oid,
                    result_group_id=rg.get(c.get("groupId")),
                    ctgov_group_code=c.get("groupId"),
                    scope="Measure",
                    units=d.get("units"),
                    count=_int(c.get("value")),
                )
                if di == 0:
                    participants.append(_int(c.get("value")))
        for cl in om.get("classes") or []:
            for cat in cl.get("categories") or []:
                block = {"classification": cl.get("title"), "category": cat.get("title"), "meas": []}
                for m in cat.get("measurements") or []:
                    cells = {
                        "param_value": m.get("value"),
                        "param_value_num": _float(m.get("value")),
                        "dispersion_value": m.get("spread"),
                        "dispersion_value_num": _float(m.get("spread")),
                        "dispersion_lower_limit": _float(m.get("lowerLimit")),
                        "dispersion_upper_limit": _float(m.get("upperLimit")),
                        "explanation_of_na": m.get("comment"),
                        "dispersion_upper_limit_raw": m.get("upperLimit"),
                        "dispersion_lower_limit_raw": m.get("lowerLimit"),
                    }
                    add(
                        "outcome_measurements",
                        outcome_id=oid,
                        result_group_id=rg.get(m.get("groupId")),
                        ctgov_group_code=m.get("groupId"),
                        classification=cl.get("title"),
                        category=cat.get("title"),
                        title=om.get("title"),
                        description=om.get("description"),
                        units=om.get("unitOfMeasure"),
                        param_type=om.get("paramType"),
                        dispersion_type=om.get("dispersionType"),
                        **cells,
                    )
                    block["meas"].append(cells)
                if block["meas"]:
                    block["counts"] = participants or [None]
                    blocks.append(block)
        for an in om.get("analyses") or []:
            p, mod = _p_value(an.get("pValue"))
            aid = add(
                "outcome_analyses",
                outcome_id=oid,
                non_inferiority_type=an.get("nonInferiorityType"),
                non_inferiority_description=an.get("nonInferiorityComment"),
                param_type=an.get("paramType"),
                param_value=_float(an.get("paramValue")),
                dispersion_type=an.get("dispersionType"),
                dispersion_value=_float(an.get("dispersionValue")),
                p_value_modifier=mod,
                p_value=p,
                ci_n_sides=an.get("ciNumSides"),
                ci_percent=_float(an.get("ciPctValue")),
                ci_lower_limit=_float(an.get("ciLowerLimit")),
                ci_upper_limit=_float(an.get("ciUpperLimit")),
                p_value_description=an.get("pValueComment"),
                method=an.get("statisticalMethod"),
                method_description=an.get("statisticalComment"),
                estimate_description=an.get("estimateComment"),
                groups_description=an.get("groupDescription"),
                other_analysis_description=an.get("otherAnalysisDescription"),
            )
            for code in an.get("groupIds") or []:
                add(
                    "outcome_analysis_groups",
                    outcome_analysis_id=aid,
                    result_group_id=rg.get(code),
                    ctgov_group_code=code,
                )
    return out, blocks


def _frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    # AACT's export turns line breaks inside values into '~' (as the embedded tables have them)
    return df.with_columns(pl.col(pl.String).str.replace_all(r"\r\n|\r|\n", "~"))


def _measurement_schema() -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {}
    for c in MEASUREMENT_COLUMNS:
        schema[c] = pl.Int64 if c in KEYS else pl.Float64 if c in _FLOAT_COLUMNS else pl.String
    return schema


def _count_schema() -> dict[str, pl.DataType]:
    return {c: pl.Int64 if c in KEYS or c == "count" else pl.String for c in COUNT_COLUMNS}


def _schemas(embedded: dict[str, pl.DataFrame]) -> dict[str, dict[str, pl.DataType]]:
    """The dump's columns and types: the embedded tables' (keys as Int64), result_groups with AACT's newer
    outcome_id, outcome_measurements and outcome_counts as AACT has them."""
    out = {}
    for t, df in embedded.items():
        out[t] = {c: (pl.Int64 if c in KEYS else dt_) for c, dt_ in df.schema.items()}
    out["result_groups"]["outcome_id"] = pl.Int64
    out["outcome_measurements"] = _measurement_schema()
    out["outcome_counts"] = _count_schema()
    return out


def fixture_tables(
    paths: Iterable[str | os.PathLike] | None = None,
    schemas: dict[str, dict[str, pl.DataType]] | None = None,
) -> tuple[dict[str, pl.DataFrame], list[dict]]:
    """The fixture studies as AACT tables (typed like the embedded tables) and their measurement blocks."""
    paths = [FIXTURES / f for f in FIXTURE_FILES] if paths is None else list(paths)
    schemas = schemas or _schemas(_load_embedded())
    ids = _Ids()
    rows: dict[str, list[dict]] = {t: [] for t in TABLES}
    blocks: list[dict] = []
    for p in paths:
        study = json.loads(Path(p).read_text(encoding="utf-8"))
        one, b = study_to_aact(study, ids)
        for t in TABLES:
            rows[t].extend(one[t])
        blocks.extend(b)
    return {t: _frame(rows[t], schemas[t]) for t in TABLES}, blocks


def write_fixture_dump(out: str | os.PathLike, paths: Iterable[str | os.PathLike] | None = None) -> Path:
    """Only the fixture studies, as AACT flat files (each table by the package's write_flat_table)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables, _ = fixture_tables(paths)
    for t, df in tables.items():
        write_flat_table(df, out / f"{t}.txt")
    return out


# --- templates -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _load_embedded() -> dict[str, pl.DataFrame]:
    d = embedded_dir()
    out = {}
    for t in TABLES:
        p = d / f"{t}.parquet"
        if not p.exists():
            continue
        df = pl.read_parquet(p)
        for c in df.columns:
            if c in KEYS:
                k = df[c]
                if not (k.is_not_null().all() and (k == k.round()).all() and k.max() < ID_STRIDE):
                    raise ValueError(f"{t}.{c}: expected whole ids below {ID_STRIDE}")
                df = df.with_columns(pl.col(c).cast(pl.Int64))
        out[t] = df.sort(["nct_id", "id"] if "id" in df.columns else ["nct_id"])
    return out


def _graft(
    embedded: dict[str, pl.DataFrame], blocks: list[dict], ratio: float, first_id: int, schema: dict
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Measurement and count rows for every embedded outcome from the fixture blocks (see the module doc).
    Returns (measurements, counts, outcomes skipped for want of a group)."""
    rg = embedded["result_groups"].filter(pl.col("result_type") == "Outcome")
    study_groups: dict[str, dict[str, int]] = {}
    for nct, code, gid in rg.select("nct_id", "ctgov_group_code", "id").iter_rows():  # sorted by id: first wins
        study_groups.setdefault(nct, {}).setdefault(code, gid)
    oag = (
        embedded["outcome_analysis_groups"]
        .join(
            embedded["outcome_analyses"].select(pl.col("id").alias("outcome_analysis_id"), "outcome_id"),
            on="outcome_analysis_id",
        )
        .sort("id")
    )
    analysed: dict[int, dict[str, int]] = {}
    for oid, code, gid in oag.select("outcome_id", "ctgov_group_code", "result_group_id").iter_rows():
        analysed.setdefault(oid, {}).setdefault(code, gid)

    m_cols: dict[str, list] = {c: [] for c in MEASUREMENT_COLUMNS}
    c_cols: dict[str, list] = {c: [] for c in COUNT_COLUMNS}
    cell_keys = list(blocks[0]["meas"][0])
    nb = len(blocks)
    b = 0
    mid = cid = first_id
    want = done = 0.0
    skipped = 0
    outcomes = embedded["outcomes"].select(
        "id", "nct_id", "title", "description", "units", "param_type", "dispersion_type"
    )
    for oid, nct, title, desc, units, ptype, dtype in outcomes.iter_rows():
        # the analyses' group for a code where they name one, so that no outcome sees two groups for one code
        groups = {**study_groups.get(nct, {}), **analysed.get(oid, {})}
        if not groups:
            skipped += 1
            continue
        codes = sorted(groups)
        n = len(codes)
        want += ratio
        k = max(1, round((want - done) / n))
        done += k * n
        counts = blocks[b % nb]["counts"]
        for j, code in enumerate(codes):
            for col, v in (
                ("id", cid),
                ("nct_id", nct),
                ("outcome_id", oid),
                ("result_group_id", groups[code]),
                ("ctgov_group_code", code),
                ("scope", "Measure"),
                ("units", "Participants"),
                ("count", counts[j % len(counts)]),
            ):
                c_cols[col].append(v)
            cid += 1
        for _ in range(k):
            blk = blocks[b % nb]
            b += 1
            meas = blk["meas"]
            for j, code in enumerate(codes):
                cells = meas[j % len(meas)]
                for col, v in (
                    ("id", mid),
                    ("nct_id", nct),
                    ("outcome_id", oid),
                    ("result_group_id", groups[code]),
                    ("ctgov_group_code", code),
                    ("classification", blk["classification"]),
                    ("category", blk["category"]),
                    ("title", title),
                    ("description", desc),
                    ("units", units),
                    ("param_type", ptype),
                    ("dispersion_type", dtype),
                ):
                    m_cols[col].append(v)
                for col in cell_keys:
                    m_cols[col].append(cells[col])
                mid += 1
    return pl.DataFrame(m_cols, schema=schema), pl.DataFrame(c_cols, schema=_count_schema()), skipped


class Templates:
    """Every template study's rows, keyed by a template number ``tpl``, already as text (keys and studies dates
    stay typed: they change per replica). Results templates: the embedded studies (0..E-1) and the fixtures
    (E..E+F-1); templates without results: the embedded studies again with the results taken away."""

    def __init__(self) -> None:
        emb = _load_embedded()
        schemas = _schemas(emb)
        fix, blocks = fixture_tables(schemas=schemas)
        self.schemas = schemas
        results_ncts = emb["studies"]["nct_id"].to_list()
        fixture_ncts = fix["studies"]["nct_id"].to_list()
        self.n_embedded, self.n_fixtures = len(results_ncts), len(fixture_ncts)
        self.ncts = results_ncts + fixture_ncts + results_ncts
        e, f = self.n_embedded, self.n_fixtures
        self.plain_tpls = np.arange(e + f, 2 * e + f, dtype=np.int32)
        self.fixture_tpls = np.arange(e, e + f, dtype=np.int32)

        per_study = emb["outcomes"].group_by("nct_id").agg(pl.len().alias("outcomes"))
        stat = emb["studies"].select("nct_id").join(per_study, on="nct_id", how="left").fill_null(0)
        self.heavy = (stat["outcomes"] >= HEAVY_OUTCOMES).to_numpy()
        weights = 1 + self.heavy.astype(np.int64)
        self.fixture_weight = max(1, round(FIXTURE_SHARE * weights.sum() / (1 - FIXTURE_SHARE) / f))

        # graft density: the dump's measurements per outcome at the registry's ratio over a whole results cycle,
        # the fixture replicas keeping their own (lower) real density
        fix_outcomes = fix["outcomes"].height * self.fixture_weight
        fix_meas = fix["outcome_measurements"].height * self.fixture_weight
        outcomes_cycle = int((weights * stat["outcomes"].to_numpy()).sum()) + fix_outcomes
        has_groups = self._outcomes_with_groups(emb)
        grafted_cycle = int(
            (weights * stat.join(has_groups, on="nct_id", how="left").fill_null(0)["n"].to_numpy()).sum()
        )
        self.graft_ratio = (MEASUREMENTS_PER_OUTCOME * outcomes_cycle - fix_meas) / grafted_cycle
        first = 1 + max(fix["outcome_measurements"].height, fix["outcome_counts"].height)
        g_meas, g_counts, self.skipped_outcomes = _graft(
            emb, blocks, self.graft_ratio, first, schemas["outcome_measurements"]
        )
        emb = {**emb, "outcome_measurements": g_meas, "outcome_counts": g_counts}

        nct_tpl = pl.DataFrame(
            {"nct_id": results_ncts + fixture_ncts, "tpl": np.arange(e + f, dtype=np.int32)},
            schema={"nct_id": pl.String, "tpl": pl.Int32},
        )
        self.tables: dict[str, pl.DataFrame] = {}
        for t in TABLES:
            cols = list(schemas[t])
            have = emb[t].columns
            own = emb[t].select([pl.col(c) if c in have else pl.lit(None, schemas[t][c]).alias(c) for c in cols])
            df = pl.concat([own.cast(schemas[t]), fix[t].select(cols)]).join(
                nct_tpl, on="nct_id", how="inner", maintain_order="left"
            )
            if t not in RESULTS_TABLES:
                plain = df.filter(pl.col("tpl") < e).with_columns(pl.col("tpl") + (e + f))
                if t == "studies":
                    plain = plain.with_columns([pl.lit(None, schemas[t][c]).alias(c) for c in RESULTS_STUDY_COLUMNS])
                df = pl.concat([df, plain])
            df = df.sort(["tpl", "id"] if "id" in cols else ["tpl"])
            self.tables[t] = self._as_template_text(t, df, cols)

        studies = self.tables["studies"]
        anchor = pl.coalesce("results_first_posted_date", "study_first_posted_date", "study_first_submitted_date")
        epoch = dt.date(1970, 1, 1)
        days = studies.select((anchor - pl.lit(epoch)).dt.total_days().cast(pl.Int32)).to_series()
        if days.null_count():
            raise ValueError("a template study has no date to anchor its shift")
        self.anchor = days.to_numpy()

    @staticmethod
    def _outcomes_with_groups(emb) -> pl.DataFrame:
        codes = emb["result_groups"].filter(pl.col("result_type") == "Outcome").select("nct_id").unique()
        analysed = (
            emb["outcome_analysis_groups"]
            .join(
                emb["outcome_analyses"].select(pl.col("id").alias("outcome_analysis_id"), "outcome_id"),
                on="outcome_analysis_id",
            )
            .select(pl.col("outcome_id").alias("id"))
            .unique()
        )
        o = emb["outcomes"].select("id", "nct_id")
        ok = pl.concat([o.join(codes, on="nct_id", how="semi"), o.join(analysed, on="id", how="semi")]).unique()
        return ok.group_by("nct_id").agg(pl.len().alias("n"))

    def _as_template_text(self, table: str, df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
        keep_typed = set(KEYS) | {"tpl", "nct_id"}
        if table == "studies":
            keep_typed |= {c for c, t in self.schemas[table].items() if t == pl.Date}
            # which of the month_year dates are day-precise ('May 30, 1997') rather than month-only
            flags = [
                (pl.col(f"{n}_month_year").is_null() | pl.col(f"{n}_month_year").str.contains(",")).alias(f"_day_{n}")
                for n in MONTH_YEAR
            ]
            df = df.with_columns(flags)
            cols = cols + [f"_day_{n}" for n in MONTH_YEAR]
        out = [df["tpl"]]
        for c in cols:
            s = df[c]
            out.append(s if c in keep_typed or c.startswith("_day_") else _as_text(s))
        return pl.DataFrame(out)

    def cycles(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(results cycle, plain cycle) of template numbers: seeded shuffles; the fixtures spaced evenly."""
        rng = np.random.default_rng(seed)
        e = self.n_embedded
        weighted = np.repeat(np.arange(e, dtype=np.int32), 1 + self.heavy.astype(np.int64))
        body = rng.permutation(weighted)
        nf = self.fixture_weight * self.n_fixtures
        length = len(body) + nf
        slots = (np.arange(nf, dtype=np.int64) * length) // nf
        is_fix = np.zeros(length, dtype=bool)
        is_fix[slots] = True
        cycle = np.empty(length, dtype=np.int32)
        cycle[is_fix] = self.fixture_tpls[np.arange(nf) % self.n_fixtures]
        cycle[~is_fix] = body
        return cycle, rng.permutation(self.plain_tpls)


@functools.lru_cache(maxsize=1)
def templates() -> Templates:
    return Templates()


# --- replication ---------------------------------------------------------------------------------------


def _unit(seed: int, i: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) per replica index from splitmix64(seed, i): the same whatever the chunking."""
    z = (np.uint64(seed) << np.uint64(32)) ^ i.astype(np.uint64)  # seed < 2**32, i < 2**32
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _plan(lo: int, hi: int, n: int, m: int, tpl: Templates, cycles, seed: int) -> pl.DataFrame:
    i = np.arange(lo, hi, dtype=np.int64)
    before = (i * m) // n  # results replicas before i: the with-results studies spread evenly over the ids
    has = ((i + 1) * m) // n - before == 1
    rcycle, pcycle = cycles
    t = np.where(has, rcycle[before % len(rcycle)], pcycle[(i - before) % len(pcycle)])
    epoch = dt.date(1970, 1, 1)
    lo_day, span = (DATE_LO - epoch).days, (DATE_HI - DATE_LO).days + 1
    target = lo_day + np.floor(_unit(seed, i) * span).astype(np.int64)
    shift = target - tpl.anchor[t]
    return pl.DataFrame(
        {
            "replica": i,
            "tpl": t.astype(np.int32),
            "shift": shift.astype(np.int32),
            "has_results": has,
        }
    ).with_columns(nct_id=pl.lit("NCT9") + pl.col("replica").cast(pl.String).str.zfill(7))


def _replicate(table: str, plan: pl.DataFrame, tpl: Templates) -> pl.DataFrame:
    cols = list(tpl.schemas[table])
    t = tpl.tables[table]
    df = plan.select("replica", "tpl", "nct_id", "shift").join(
        t.drop("nct_id"), on="tpl", how="inner", maintain_order="left_right"
    )
    exprs = []
    for c in cols:
        if c in KEYS:
            exprs.append((pl.col("replica") * ID_STRIDE + pl.col(c)).cast(pl.String).alias(c))
        elif c == "nct_id":
            exprs.append(pl.col(c))
        elif table == "studies" and tpl.schemas[table][c] == pl.Date:
            d = pl.col(c) + pl.duration(days=pl.col("shift"))
            name = c.removesuffix("_date")
            if name in MONTH_YEAR:  # month-only dates stay the last day of a month, as AACT stores them
                d = pl.when(pl.col(f"_day_{name}")).then(d).otherwise(d.dt.month_end())
            exprs.append(d.dt.to_string("%Y-%m-%d").alias(c))
        elif table == "studies" and c.endswith("_month_year") and c.removesuffix("_month_year") in MONTH_YEAR:
            name = c.removesuffix("_month_year")
            d = pl.col(f"{name}_date") + pl.duration(days=pl.col("shift"))
            exprs.append(
                pl.when(pl.col(c).is_null() | pl.col(f"{name}_date").is_null())
                .then(pl.col(c))
                .when(pl.col(f"_day_{name}"))
                .then(d.dt.strftime("%B %-d, %Y"))
                .otherwise(d.dt.month_end().dt.strftime("%B %Y"))
                .alias(c)
            )
        else:
            exprs.append(pl.col(c))
    return df.select(exprs)


def write_dump(
    out: str | os.PathLike,
    studies: int = REGISTRY_STUDIES,
    with_results: int = REGISTRY_WITH_RESULTS,
    *,
    seed: int = 0,
    progress: bool = True,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Write the dump; return row counts per table plus keys 'studies', 'studies_with_results', 'outcomes',
    'outcome_measurements', 'outcome_analyses'."""
    from tqdm.auto import tqdm

    if not 0 < studies <= MAX_STUDIES:
        raise ValueError(f"studies must be in 1..{MAX_STUDIES} (ids i * 10**9 + id must stay exact in Float64)")
    if not 0 <= with_results <= studies:
        raise ValueError("with_results must be in 0..studies")
    if not 0 <= seed < 2**32:
        raise ValueError("seed must be in 0..2**32-1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # either would change how the reader takes the directory (parquet input; typed columns)
    stray = sorted(p.name for p in out.iterdir() if p.suffix == ".parquet" or p.name == "_schema.json")
    if stray:
        raise FileExistsError(f"{out} holds {', '.join(stray)}: not a place for an AACT flat-file dump")
    tpl = templates()
    cycles = tpl.cycles(seed)
    counts = dict.fromkeys(TABLES, 0)
    n_results = 0
    tmp = {t: out / f"{t}.txt.tmp" for t in TABLES}
    plan_tmp = out / "_replicas.csv.tmp"
    files = {t: open(p, "wb") for t, p in tmp.items()}
    plan_fh = open(plan_tmp, "wb")
    ncts = pl.Series("template", tpl.ncts, dtype=pl.String)
    try:
        with tqdm(total=studies, unit="study", disable=not progress, desc="registry dump") as bar:
            for lo in range(0, studies, chunk):
                hi = min(studies, lo + chunk)
                plan = _plan(lo, hi, studies, with_results, tpl, cycles, seed)
                n_results += int(plan["has_results"].sum())
                for t in TABLES:
                    df = _replicate(t, plan, tpl)
                    counts[t] += df.height
                    write_flat_rows(df, files[t], header=lo == 0)
                plan.select(
                    "nct_id", ncts.gather(plan["tpl"]).alias("template"), pl.col("shift").alias("shift_days")
                ).write_csv(plan_fh, include_header=lo == 0)
                bar.update(hi - lo)
    finally:
        for fh in files.values():
            fh.close()
        plan_fh.close()
    for t, p in tmp.items():
        os.replace(p, out / f"{t}.txt")
    os.replace(plan_tmp, out / "_replicas.csv")
    return {**counts, "studies_with_results": n_results}


# --- CLI -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, int]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", required=True, help="directory to write <table>.txt into")
    ap.add_argument("--studies", type=int, default=REGISTRY_STUDIES)
    ap.add_argument(
        "--with-results",
        type=int,
        default=None,
        help=f"default: studies * {REGISTRY_WITH_RESULTS:,}/{REGISTRY_STUDIES:,}",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    with_results = args.with_results
    if with_results is None:
        with_results = round(args.studies * REGISTRY_WITH_RESULTS / REGISTRY_STUDIES)
    t0 = time.perf_counter()
    counts = write_dump(args.out, args.studies, with_results, seed=args.seed, progress=not args.no_progress)
    secs = time.perf_counter() - t0
    out = Path(args.out)
    print(f"{'table':<28}{'rows':>12}{'MB':>10}")
    total = 0
    for t in TABLES:
        size = (out / f"{t}.txt").stat().st_size
        total += size
        print(f"{t:<28}{counts[t]:>12,}{size / 1e6:>10.1f}")
    print(f"{'(studies with results)':<28}{counts['studies_with_results']:>12,}")
    print(f"{'total':<28}{sum(counts[t] for t in TABLES):>12,}{total / 1e6:>10.1f}")
    o = counts["outcomes"]
    print(
        f"per results study: {o / max(1, with_results):.2f} outcomes, "
        f"{counts['outcome_analyses'] / max(1, with_results):.2f} analyses; "
        f"{counts['outcome_measurements'] / max(1, o):.2f} measurements per outcome; {secs:.1f} s -> {out}"
    )
    return counts


if __name__ == "__main__":
    main()
