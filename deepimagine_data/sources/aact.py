"""AACT (https://aact.ctti-clinicaltrials.org) tables -> the normalized trial model.

Input is one of
- a directory of ``<table>.parquet`` (e.g. the Merck ``aactreveal`` oncology subset),
- a directory or a ``.zip`` of AACT's pipe-delimited flat-file export (``<table>.txt``; format, and how null
  and empty string are told apart, in :mod:`deepimagine_data.sources.aact_flat`),
- a mapping ``{table: polars.DataFrame | polars.LazyFrame | pyarrow.Table}``.

Tables read: studies, designs, sponsors, conditions, design_groups, interventions, design_group_interventions,
outcomes, result_groups, outcome_analyses, outcome_analysis_groups (required) and keywords, browse_conditions,
browse_interventions, countries, eligibilities, intervention_other_names, outcome_measurements, outcome_counts
(optional). A trial field fed by an optional table that is absent is recorded as unknown (null; an empty list
would claim "none"), never guessed. A column an AACT version lacks reads as null.

Mapping (AACT -> six tables)
- ``trial_id = nct_id``; ``source = "aact"``; dates: the AACT date, or its ``*_month_year`` text where the date
  is null, is the ``*_raw`` value (AACT stores a month-only date as the last day of that month);
  ``has_results`` = ``results_first_posted_date`` is not null; lead sponsor = the ``sponsors`` row with
  ``lead_or_collaborator = 'lead'``; mesh terms = ``browse_*`` rows of ``mesh_type = 'mesh-list'``;
  countries = ``countries`` rows not ``removed``.
- arms: ``design_groups`` in AACT id order (``group_type`` -> ``arm_type_raw``), intervention names through
  ``design_group_interventions``. Interventions: AACT id order, ``arm_labels`` = the titles of their design
  groups.
- outcomes: AACT id order within a study -> ``outcome_index``. AACT's ``result_groups`` are study-level, so each
  outcome gets result-group rows for the groups it references (``outcome_measurements``, ``outcome_counts``,
  ``outcome_analysis_groups`` of its analyses; and ``result_groups.outcome_id`` where an AACT version has it),
  ``code = ctgov_group_code``, title/description from ``result_groups``.
- measurements (when ``outcome_measurements`` is present): AACT id order within an outcome; ``n`` = the first
  ``outcome_counts`` row (AACT id order) of that outcome and group.
- analyses: AACT id order within an outcome; ``p_value`` + ``p_value_modifier``; ``param_type/param_value`` ->
  estimate; ``method`` -> ``statistical_method``; ``method_description`` -> ``statistical_comment``;
  ``p_value_description`` -> ``p_value_comment``; ``non_inferiority_description`` -> ``non_inferiority_comment``;
  ``groups_description`` -> ``group_description``; ``estimate_description`` -> ``estimate_comment``; groups from
  ``outcome_analysis_groups`` ordered by ``ctgov_group_code``.

Studies without posted results are skipped (reason ``no_results``) unless ``require_results=False``; that is a
filter, so strict mode skips them too. Any other bad study is skipped whole in lenient mode (reason counted in
the :class:`IngestReport`) and raises :class:`RecordError` naming the NCT id and field in strict mode.

Speed: every table is read once with polars (only the columns used), restricted to the selected studies,
joined/aggregated column-wise and sorted by ``nct_id``; the per-study loop then walks all tables in step (a
merge over sorted runs, never a per-study filter), building rows with the shared row constructors.

Citation: AACT, Clinical Trials Transformation Initiative, https://aact.ctti-clinicaltrials.org
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl
import pyarrow as pa

from ..errors import IngestReport, RecordError
from ..rows import (
    StudyRows,
    analysis_row,
    arm_row,
    intervention_row,
    measurement_row,
    outcome_row,
    result_group_row,
    trial_row,
)
from ..tables import TableSet, concat_tables
from .aact_flat import FlatSource, read_flat_files, write_flat_files  # noqa: F401  (re-exported)

_NAME = "aact"
_DESCRIPTION = "AACT (CTTI) tables of ClinicalTrials.gov: the monthly pipe-delimited dump, a .zip of it, or parquet"
_CITATION = "AACT: Aggregate Analysis of ClinicalTrials.gov, Clinical Trials Transformation Initiative"
_LICENSE = "ClinicalTrials.gov records via AACT (CTTI); public domain records"
_HOMEPAGE = "https://aact.ctti-clinicaltrials.org"
SOURCE = _NAME
LICENSE = _LICENSE

COLUMNS: dict[str, list[str]] = {
    "studies": [
        "nct_id",
        "brief_title",
        "official_title",
        "acronym",
        "overall_status",
        "study_type",
        "phase",
        "enrollment",
        "enrollment_type",
        "start_date",
        "start_month_year",
        "primary_completion_date",
        "primary_completion_month_year",
        "completion_date",
        "completion_month_year",
        "results_first_posted_date",
    ],
    "designs": ["id", "nct_id", "allocation", "intervention_model", "primary_purpose", "masking"],
    "sponsors": ["id", "nct_id", "agency_class", "lead_or_collaborator", "name"],
    "conditions": ["id", "nct_id", "name"],
    "keywords": ["id", "nct_id", "name"],
    "browse_conditions": ["id", "nct_id", "mesh_term", "mesh_type"],
    "browse_interventions": ["id", "nct_id", "mesh_term", "mesh_type"],
    "countries": ["id", "nct_id", "name", "removed"],
    "eligibilities": ["id", "nct_id", "gender", "minimum_age", "maximum_age", "healthy_volunteers", "criteria"],
    "design_groups": ["id", "nct_id", "group_type", "title", "description"],
    "interventions": ["id", "nct_id", "intervention_type", "name", "description"],
    "intervention_other_names": ["id", "nct_id", "intervention_id", "name"],
    "design_group_interventions": ["id", "nct_id", "design_group_id", "intervention_id"],
    "outcomes": [
        "id",
        "nct_id",
        "outcome_type",
        "title",
        "description",
        "time_frame",
        "population",
        "units",
        "dispersion_type",
        "param_type",
    ],
    "result_groups": ["id", "nct_id", "ctgov_group_code", "result_type", "title", "description", "outcome_id"],
    "outcome_analyses": [
        "id",
        "nct_id",
        "outcome_id",
        "non_inferiority_type",
        "non_inferiority_description",
        "param_type",
        "param_value",
        "dispersion_type",
        "dispersion_value",
        "p_value_modifier",
        "p_value",
        "ci_n_sides",
        "ci_percent",
        "ci_lower_limit",
        "ci_upper_limit",
        "p_value_description",
        "method",
        "method_description",
        "estimate_description",
        "groups_description",
    ],
    "outcome_analysis_groups": ["id", "nct_id", "outcome_analysis_id", "result_group_id", "ctgov_group_code"],
    "outcome_measurements": [
        "id",
        "nct_id",
        "outcome_id",
        "result_group_id",
        "ctgov_group_code",
        "classification",
        "category",
        "param_value",
        "dispersion_value",
        "dispersion_lower_limit",
        "dispersion_upper_limit",
        "dispersion_lower_limit_raw",
        "dispersion_upper_limit_raw",
        "explanation_of_na",
    ],
    "outcome_counts": ["id", "nct_id", "outcome_id", "result_group_id", "ctgov_group_code", "scope", "units", "count"],
}
REQUIRED = (
    "studies",
    "designs",
    "sponsors",
    "conditions",
    "design_groups",
    "interventions",
    "design_group_interventions",
    "outcomes",
    "result_groups",
    "outcome_analyses",
    "outcome_analysis_groups",
)
OPTIONAL = tuple(t for t in COLUMNS if t not in REQUIRED)
# integer keys (AACT ids; R-converted copies hold them as doubles, flat files as text)
ID_COLUMNS = frozenset(
    {"id", "outcome_id", "result_group_id", "outcome_analysis_id", "design_group_id", "intervention_id"}
)

Frames = Mapping[str, "pl.DataFrame | pl.LazyFrame | pa.Table"]


# --- input ---------------------------------------------------------------------------------------------


class _Input:
    """Where the AACT tables come from: parquet directory, flat-file directory/zip, or frames in memory."""

    def __init__(self, src: str | os.PathLike | Frames):
        self.frames: dict[str, pl.LazyFrame] = {}
        self.parquet: dict[str, Path] = {}
        self.flat: FlatSource | None = None
        if isinstance(src, Mapping):
            for name, t in src.items():
                if isinstance(t, pa.Table):
                    t = pl.from_arrow(t)
                self.frames[name] = t.lazy()
            self.name = "memory"
            return
        p = Path(src)
        self.name = p.stem if p.is_file() else p.name
        if p.is_dir() and any(p.glob("*.parquet")):
            self.parquet = {q.stem: q for q in sorted(p.glob("*.parquet"))}
        elif p.is_dir() or p.is_file():
            self.flat = FlatSource(p)
        else:
            raise FileNotFoundError(f"no such file or directory: {p}")

    def tables(self) -> set[str]:
        if self.flat is not None:
            return set(self.flat.tables())
        return set(self.parquet) | set(self.frames)

    def scan(self, table: str) -> pl.LazyFrame | None:
        """The columns of COLUMNS[table] (absent ones as null text), keys as Int64; None if no such table."""
        want = COLUMNS[table]
        if self.flat is not None:
            if table not in self.flat.members:
                return None
            have = self.flat.header(table)
            lf = self.flat.scan(table, [c for c in want if c in have])
        elif table in self.parquet:
            lf = pl.scan_parquet(self.parquet[table])
        elif table in self.frames:
            lf = self.frames[table]
        else:
            return None
        schema = lf.collect_schema()
        exprs = []
        for c in want:
            if c not in schema:
                exprs.append(pl.lit(None, pl.Int64 if c in ID_COLUMNS else pl.String).alias(c))
            elif c in ID_COLUMNS:
                exprs.append(_id_expr(c, schema[c]))
            elif schema[c] == pl.Null:
                exprs.append(pl.col(c).cast(pl.String))
            else:
                exprs.append(pl.col(c))
        return lf.select(exprs)


def _id_expr(c: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.col(c).str.strip_chars().cast(pl.Float64).cast(pl.Int64)
    return pl.col(c).cast(pl.Int64)


# --- per-study frames ----------------------------------------------------------------------------------


def _first_per_study(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.sort(["nct_id", "id"], nulls_last=True).unique("nct_id", keep="first", maintain_order=True)


def _list_per_study(lf: pl.LazyFrame, value: str, alias: str) -> pl.LazyFrame:
    return lf.group_by("nct_id").agg(pl.col(value).sort_by("id").alias(alias))


class _Prepared:
    """The selected studies' rows of every table, joined and sorted by nct_id (one frame per output table)."""

    def __init__(self, inp: _Input, keep: pl.DataFrame):
        have = inp.tables()
        missing = [t for t in REQUIRED if t not in have]
        if missing:
            raise FileNotFoundError(f"AACT input {inp.name!r} lacks required table(s): {', '.join(missing)}")
        keep_lf = keep.lazy().select("nct_id")

        def scan(t: str) -> pl.LazyFrame | None:
            lf = inp.scan(t)
            return None if lf is None else lf.join(keep_lf, on="nct_id", how="semi")

        self.present = {t for t in COLUMNS if t in have}
        studies = keep.lazy()
        designs = _first_per_study(scan("designs")).select(
            "nct_id", "allocation", "intervention_model", "primary_purpose", "masking"
        )
        lead = _first_per_study(
            scan("sponsors").filter(pl.col("lead_or_collaborator").str.strip_chars().str.to_lowercase() == "lead")
        ).select("nct_id", pl.col("name").alias("lead_sponsor"), pl.col("agency_class").alias("sponsor_class"))
        trials = studies.join(designs, on="nct_id", how="left").join(lead, on="nct_id", how="left")
        if "eligibilities" in have:
            elig = _first_per_study(scan("eligibilities")).select(
                "nct_id", "gender", "minimum_age", "maximum_age", "healthy_volunteers", "criteria"
            )
            trials = trials.join(elig, on="nct_id", how="left")
        lists = [
            ("conditions", "name", "conditions", None),
            ("keywords", "name", "keywords", None),
            ("browse_conditions", "mesh_term", "mesh_conditions", pl.col("mesh_type") == "mesh-list"),
            ("browse_interventions", "mesh_term", "mesh_interventions", pl.col("mesh_type") == "mesh-list"),
            ("countries", "name", "countries", ~_truthy(pl.col("removed"))),
        ]
        for table, value, alias, cond in lists:
            if table in have:
                lf = scan(table)
                if cond is not None:
                    lf = lf.filter(cond.fill_null(True))
                trials = trials.join(_list_per_study(lf, value, alias), on="nct_id", how="left")
        self.trials = trials.sort("nct_id")

        dg = scan("design_groups")
        iv = scan("interventions")
        dgi = scan("design_group_interventions")
        names = (
            dgi.join(
                iv.select(pl.col("id").alias("intervention_id"), pl.col("name").alias("iv_name")),
                on="intervention_id",
                how="inner",
            )
            .group_by("design_group_id")
            .agg(pl.col("iv_name").sort_by("id").alias("intervention_names"))
        )
        self.arms = dg.join(names, left_on="id", right_on="design_group_id", how="left").sort(["nct_id", "id"])
        labels = (
            dgi.join(
                dg.select(pl.col("id").alias("design_group_id"), pl.col("title").alias("dg_title")),
                on="design_group_id",
                how="inner",
            )
            .group_by("intervention_id")
            .agg(pl.col("dg_title").sort_by("id").alias("arm_labels"))
        )
        ivs = iv.join(labels, left_on="id", right_on="intervention_id", how="left")
        if "intervention_other_names" in have:
            other = (
                scan("intervention_other_names")
                .group_by("intervention_id")
                .agg(pl.col("name").sort_by("id").alias("other_names"))
            )
            ivs = ivs.join(other, left_on="id", right_on="intervention_id", how="left")
        self.interventions = ivs.sort(["nct_id", "id"])

        self.outcomes = scan("outcomes").sort(["nct_id", "id"])
        rg = scan("result_groups")
        an = scan("outcome_analyses")
        oag = scan("outcome_analysis_groups")
        ref_cols = ["nct_id", "outcome_id", "result_group_id", "ctgov_group_code"]
        refs = [
            oag.join(
                an.select(pl.col("id").alias("outcome_analysis_id"), "outcome_id"),
                on="outcome_analysis_id",
                how="inner",
            ).select(ref_cols)
        ]
        om = scan("outcome_measurements") if "outcome_measurements" in have else None
        oc = scan("outcome_counts") if "outcome_counts" in have else None
        for lf in (om, oc):
            if lf is not None:
                refs.append(lf.select(ref_cols))
        # newer AACT versions tie each outcome result group to its outcome
        refs.append(
            rg.filter(pl.col("outcome_id").is_not_null()).select(
                "nct_id", "outcome_id", pl.col("id").alias("result_group_id"), "ctgov_group_code"
            )
        )
        rg_info = rg.select(pl.col("id").alias("result_group_id"), "title", "description")
        self.groups = (
            pl.concat(refs)
            .unique()
            .join(rg_info, on="result_group_id", how="left")
            .sort(["nct_id", "outcome_id", "ctgov_group_code", "result_group_id"], nulls_last=True)
        )

        codes = oag.group_by("outcome_analysis_id").agg(pl.col("ctgov_group_code").sort().alias("group_codes"))
        self.analyses = an.join(codes, left_on="id", right_on="outcome_analysis_id", how="left").sort(
            ["nct_id", "outcome_id", "id"]
        )
        self.measurements = None
        if om is not None:
            m = om.join(
                rg.select(pl.col("id").alias("result_group_id"), pl.col("title").alias("group_title")),
                on="result_group_id",
                how="left",
            )
            if oc is not None:
                n = (
                    oc.sort("id")
                    .unique(["outcome_id", "ctgov_group_code"], keep="first", maintain_order=True)
                    .select(
                        "outcome_id", "ctgov_group_code", pl.col("count").alias("n"), pl.col("units").alias("n_units")
                    )
                )
                m = m.join(n, on=["outcome_id", "ctgov_group_code"], how="left")
            self.measurements = m.sort(["nct_id", "outcome_id", "id"])

    def collect(self) -> dict[str, pl.DataFrame]:
        names = ["trials", "arms", "interventions", "outcomes", "groups", "analyses"]
        frames = [self.trials, self.arms, self.interventions, self.outcomes, self.groups, self.analyses]
        if self.measurements is not None:
            names.append("measurements")
            frames.append(self.measurements)
        return dict(zip(names, pl.collect_all(frames), strict=True))


def _truthy(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.String).str.to_lowercase().is_in(["t", "true", "1", "yes", "y"])


class _Runs:
    """Rows of a frame sorted by nct_id, handed out study by study (the frame is walked once, in slices)."""

    def __init__(self, df: pl.DataFrame | None, chunk: int = 100_000):
        self.df, self.chunk = df, chunk
        self.pos = 0
        self.buf: list[dict] = []
        self.i = 0

    def take(self, nct: str) -> list[dict]:
        out: list[dict] = []
        if self.df is None:
            return out
        while True:
            if self.i >= len(self.buf):
                if self.pos >= self.df.height:
                    return out
                self.buf = self.df.slice(self.pos, self.chunk).to_dicts()
                self.pos += len(self.buf)
                self.i = 0
            row = self.buf[self.i]
            if row["nct_id"] != nct:
                if row["nct_id"] is None or row["nct_id"] < nct:  # not a selected study (cannot happen after the
                    self.i += 1  # semi-join, but never block on it)
                    continue
                return out
            out.append(row)
            self.i += 1


# --- one study -----------------------------------------------------------------------------------------


def _date_raw(t: dict, name: str):
    d = t.get(f"{name}_date")
    return d if d is not None else t.get(f"{name}_month_year")


def _healthy(v):
    if v is None or isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("accepts healthy volunteers", "yes", "true", "t"):
        return True
    if s in ("no", "false", "f"):
        return False
    return v  # trial_row refuses it (bad_bool), naming the study


def _list_or_unknown(t: dict, key: str, present: bool):
    if not present:
        return None
    v = t.get(key)
    return [] if v is None else v


def study_rows(t: dict, rows: dict[str, list[dict]], present: set[str], source_version: str) -> StudyRows:
    """One study's joined AACT rows -> its rows of the six tables. Raises RecordError naming the NCT id."""
    nct = t["nct_id"]
    out = StudyRows()
    trial = trial_row(
        trial_id=nct,
        nct_id=nct,
        source=SOURCE,
        source_version=source_version,
        brief_title=t["brief_title"],
        official_title=t["official_title"],
        acronym=t["acronym"],
        overall_status_raw=t["overall_status"],
        study_type_raw=t["study_type"],
        phase_raw=t["phase"],
        conditions=t.get("conditions"),
        keywords=t.get("keywords"),
        mesh_conditions=t.get("mesh_conditions"),
        mesh_interventions=t.get("mesh_interventions"),
        countries=t.get("countries"),
        enrollment_raw=t["enrollment"],
        enrollment_type=t["enrollment_type"],
        allocation_raw=t["allocation"],
        intervention_model_raw=t["intervention_model"],
        primary_purpose_raw=t["primary_purpose"],
        masking_raw=t["masking"],
        eligibility_criteria=t.get("criteria"),
        sex=t.get("gender"),
        minimum_age=t.get("minimum_age"),
        maximum_age=t.get("maximum_age"),
        healthy_volunteers=_healthy(t.get("healthy_volunteers")),
        lead_sponsor=t["lead_sponsor"],
        sponsor_class=t["sponsor_class"],
        start_date_raw=_date_raw(t, "start"),
        primary_completion_date_raw=_date_raw(t, "primary_completion"),
        completion_date_raw=_date_raw(t, "completion"),
        results_first_posted_date_raw=t["results_first_posted_date"],
        has_results=t["results_first_posted_date"] is not None,
    )
    for key, table in [
        ("keywords", "keywords"),
        ("mesh_conditions", "browse_conditions"),
        ("mesh_interventions", "browse_interventions"),
        ("countries", "countries"),
    ]:
        if table not in present:
            trial[key] = None  # unknown, not "none"
    out.add("trials", trial)

    for i, a in enumerate(rows["arms"]):
        out.add(
            "arms",
            arm_row(
                trial_id=nct,
                index=i,
                title=a["title"],
                description=a["description"],
                arm_type_raw=a["group_type"],
                intervention_names=a["intervention_names"],
            ),
        )
    has_other = "intervention_other_names" in present
    for i, iv in enumerate(rows["interventions"]):
        row = out.add(
            "interventions",
            intervention_row(
                trial_id=nct,
                index=i,
                type_raw=iv["intervention_type"],
                name=iv["name"],
                other_names=iv.get("other_names"),
                description=iv["description"],
                arm_labels=iv["arm_labels"],
            ),
        )
        if not has_other:
            row["other_names"] = None

    outcomes: dict[int, dict] = {}
    for oi, o in enumerate(rows["outcomes"]):
        outcomes[o["id"]] = out.add(
            "outcomes",
            outcome_row(
                trial_id=nct,
                index=oi,
                outcome_type_raw=o["outcome_type"],
                title=o["title"],
                description=o["description"],
                time_frame=o["time_frame"],
                population_description=o["population"],
                param_type_raw=o["param_type"],
                dispersion_type_raw=o["dispersion_type"],
                unit_of_measure=o["units"],
            ),
        )

    def outcome_of(aact_id, where: str) -> dict:
        o = outcomes.get(aact_id)
        if o is None:
            raise RecordError(nct, where, f"outcome id {aact_id} is not an outcome of this study", "bad_reference")
        return o

    titles: dict[tuple[int, str], str | None] = {}
    seen: dict[tuple[int, str], dict] = {}
    templates: dict[tuple, dict] = {}
    for g in rows["groups"]:
        where = f"result_groups[{g['ctgov_group_code']}]"
        o = outcome_of(g["outcome_id"], f"{where}.outcome_id")
        code = g["ctgov_group_code"]
        if code is None or not str(code).strip():
            raise RecordError(
                nct, f"{o['outcome_id']}.groups.ctgov_group_code", "result group without a code", "bad_reference"
            )
        key = (g["outcome_id"], code)
        if key in seen:
            prev = seen[key]
            if g["result_group_id"] is not None and (prev["title"], prev["description"]) != (
                g["title"],
                g["description"],
            ):
                raise RecordError(
                    nct,
                    f"{o['outcome_id']}.groups[{code}]",
                    f"code {code} names two different result groups "
                    f"(ids {prev['result_group_id']} and {g['result_group_id']})",
                    "bad_reference",
                )
            continue
        seen[key] = g
        # One AACT result group is usually referenced by many outcomes: its row (text checks, dose parsing) is
        # built once; the row of another outcome differs only in the ids, exactly as result_group_row makes them.
        tkey = (code, g["title"], g["description"])
        template = templates.get(tkey)
        if template is None:
            row = result_group_row(
                trial_id=nct, outcome_id=o["outcome_id"], code=code, title=g["title"], description=g["description"]
            )
            templates[tkey] = row
        else:
            row = {**template, "group_id": f"{o['outcome_id']}:{template['code']}", "outcome_id": o["outcome_id"]}
        out.add("arms", row)
        titles[key] = row["title"]

    mi: dict[int, int] = {}
    for m in rows.get("measurements", ()):
        o = outcome_of(m["outcome_id"], f"outcome_measurements[id={m['id']}].outcome_id")
        i = mi.get(m["outcome_id"], 0)
        mi[m["outcome_id"]] = i + 1
        lower = (
            m["dispersion_lower_limit_raw"]
            if m["dispersion_lower_limit_raw"] is not None
            else m["dispersion_lower_limit"]
        )
        upper = (
            m["dispersion_upper_limit_raw"]
            if m["dispersion_upper_limit_raw"] is not None
            else m["dispersion_upper_limit"]
        )
        out.add(
            "measurements",
            measurement_row(
                outcome=o,
                index=i,
                group_code=m["ctgov_group_code"],
                group_title=m["group_title"]
                if m["group_title"] is not None
                else titles.get((m["outcome_id"], m["ctgov_group_code"])),
                value=m["param_value"],
                spread=m["dispersion_value"],
                lower_limit=lower,
                upper_limit=upper,
                n=m.get("n"),
                n_units=m.get("n_units"),
                class_title=m["classification"],
                category_title=m["category"],
                comment=m["explanation_of_na"],
            ),
        )

    ai: dict[int, int] = {}
    for a in rows["analyses"]:
        o = outcome_of(a["outcome_id"], f"outcome_analyses[id={a['id']}].outcome_id")
        i = ai.get(a["outcome_id"], 0)
        ai[a["outcome_id"]] = i + 1
        out.add(
            "analyses",
            analysis_row(
                outcome=o,
                index=i,
                group_codes=a["group_codes"] or [],
                group_description=a["groups_description"],
                non_inferiority_type_raw=a["non_inferiority_type"],
                non_inferiority_comment=a["non_inferiority_description"],
                p_value=a["p_value"],
                p_value_modifier=a["p_value_modifier"],
                p_value_comment=a["p_value_description"],
                statistical_method=a["method"],
                statistical_comment=a["method_description"],
                estimate_type=a["param_type"],
                estimate_value=a["param_value"],
                estimate_comment=a["estimate_description"],
                dispersion_type=a["dispersion_type"],
                dispersion_value=a["dispersion_value"],
                ci_percent=a["ci_percent"],
                ci_sides_raw=a["ci_n_sides"],
                ci_lower=a["ci_lower_limit"],
                ci_upper=a["ci_upper_limit"],
            ),
        )
    return out


# --- the run -------------------------------------------------------------------------------------------


def iter_studies(
    src: str | os.PathLike | Frames,
    *,
    strict: bool = False,
    report: IngestReport | None = None,
    source_version: str | None = None,
    require_results: bool = True,
    nct_ids: list[str] | None = None,
    progress: bool = True,
) -> Iterator[StudyRows]:
    """Rows of every selected study in nct_id order. ``nct_ids`` restricts the run to those studies (an id
    AACT lacks is counted as ``not_found``). Strict: the first bad study raises; lenient: it is skipped and
    its reason counted in ``report``."""
    from tqdm.auto import tqdm

    report = report if report is not None else IngestReport()
    inp = _Input(src)
    source_version = source_version or f"aact:{inp.name}"
    studies_lf = inp.scan("studies")
    if studies_lf is None:
        raise FileNotFoundError(f"AACT input {inp.name!r} has no studies table")
    if nct_ids is not None:
        wanted = pl.DataFrame({"nct_id": sorted(set(nct_ids))}, schema={"nct_id": pl.String})
        studies_lf = studies_lf.join(wanted.lazy(), on="nct_id", how="semi")
    studies = studies_lf.sort("nct_id").collect()

    def skip(err: RecordError) -> None:
        report.read += 1
        if strict and err.reason not in ("no_results",):
            raise err
        report.skip(err)

    if nct_ids is not None:
        found = set(studies["nct_id"].to_list())
        for nct in sorted(set(nct_ids) - found):
            skip(RecordError(nct, "nct_id", "no such study in the AACT tables", "not_found"))
    dup = studies["nct_id"].is_duplicated() & ~studies["nct_id"].is_first_distinct()
    for nct in studies.filter(dup)["nct_id"].to_list():
        skip(RecordError(nct, "nct_id", "the same study appears twice in studies", "duplicate"))
    studies = studies.filter(~dup)
    if require_results:
        no = studies.filter(pl.col("results_first_posted_date").is_null())
        for nct in no["nct_id"].to_list():
            skip(RecordError(nct, "results_first_posted_date", "study has no posted results", "no_results"))
        studies = studies.filter(pl.col("results_first_posted_date").is_not_null())

    prep = _Prepared(inp, studies)
    frames = prep.collect()
    runs = {k: _Runs(v) for k, v in frames.items() if k != "trials"}
    trials = frames["trials"]
    bar = tqdm(
        trials.iter_rows(named=True),
        total=trials.height,
        unit="study",
        disable=not progress,
        desc="aact",
        mininterval=1.0,
    )

    def build(t: dict) -> StudyRows:
        # every table's rows of this study, in order: the runs advance with the sorted trials
        return study_rows(t, {k: r.take(t["nct_id"]) for k, r in runs.items()}, prep.present, source_version)

    yield from report.each(bar, build, strict)


def read(
    src: str | os.PathLike | Frames,
    *,
    strict: bool = False,
    source_version: str | None = None,
    require_results: bool = True,
    nct_ids: list[str] | None = None,
    progress: bool = True,
    batch: int = 10_000,
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read AACT tables into the six tables.

    Rows are turned into Arrow every ``batch`` studies (Python row dicts cost ~10x their Arrow size; a full
    AACT dump has ~500k studies), and the batches are concatenated and sorted at the end -- the same tables as
    one batch would give.

    >>> tables, report = read("aact_oncology_merck/", source_version="aact_oncology_merck@140dae3")  # doctest: +SKIP
    >>> report.kept, tables["analyses"].num_rows  # doctest: +SKIP
    """
    report = IngestReport()
    parts: list[dict[str, pa.Table]] = []
    ts = TableSet()
    n = 0
    for rows in iter_studies(
        src,
        strict=strict,
        report=report,
        source_version=source_version,
        require_results=require_results,
        nct_ids=nct_ids,
        progress=progress,
    ):
        try:
            ts.add(rows)
        except RecordError as err:
            if strict:
                raise
            report.kept -= 1
            report.skip(err)
            continue
        n += 1
        if n % batch == 0:
            parts.append(ts.to_arrow())
            ts = TableSet()
    if not parts:
        return ts.to_arrow(), report
    parts.append(ts.to_arrow())
    return concat_tables(parts), report
