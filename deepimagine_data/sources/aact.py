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
would claim "none"), never guessed. Every column the reader uses of a table present is required (checked by name
before any row is read, an error naming the file and column in strict and lenient mode), except the few an AACT
version may lack (OPTIONAL_COLUMNS), which read as null.

Bad input: a flat-file row with more or fewer fields than its header is an error naming the file and line under
``strict``; otherwise the studies it names are skipped (reason ``ragged_row``). Invalid UTF-8 in a flat file, a
truncated or corrupt zip member, an unreadable parquet file: an error naming the file (and line and byte offset)
in either mode, since a table cannot be skipped without changing every study.

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
merge over sorted runs, never a per-study filter, over Python column lists rather than row dicts), building rows
with the shared row constructors. Measurements, by far the most rows, are built by column with polars where every
value of a study is plain (:class:`_ColumnMeasurements`: :func:`read`; the same rows), else an outcome at a time.

Memory: the selected studies are read in chunks (``chunk_studies``, in nct_id order). With more than one chunk,
each table is read once and streamed into one Arrow IPC file per chunk in a temporary directory (deleted at
the end, also on error); a chunk is then joined, walked and turned into Arrow on its own, so memory holds one
chunk's rows besides the output, whatever the size of the dump. :func:`read` hands the chunks to worker
processes (``workers``, default 2) and concatenates their tables in order. The output does not depend on chunk
size, workers or batch: AACT's ids are global serials, and every key of a row points into the row's own study
(checked on the split: where a key names a row of another chunk, the input is read whole, with a warning).

Citation: AACT, Clinical Trials Transformation Initiative, https://aact.ctti-clinicaltrials.org
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pyarrow as pa

from ..errors import IngestReport, RecordError
from ..parse import LONG_TEXT_MAX, NA_TOKENS, SHORT_TEXT_MAX, parse_dispersion
from ..rows import (
    Measurements,
    StudyRows,
    analysis_row,
    arm_row,
    intervention_row,
    outcome_row,
    result_group_row,
    trial_row,
)
from ..schema import TABLES
from ..tables import check_unique, collect_batches, sort_table
from .aact_flat import FlatSource, Ragged, read_flat_files, write_flat_files  # noqa: F401  (re-exported)

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
# Columns of a table present that an AACT version may lack; read as null. Every other column of COLUMNS is required
# and checked by name before any row is read: a renamed or dropped column would otherwise read as null in every row
# (p-values, results dates, nct_id itself). result_groups.outcome_id ties outcome result groups to their outcome in
# newer AACT only (the groups are also found through measurements, counts and analyses); the *_raw limits are the
# posted text of newer AACT, the numeric limits are read where they are null; a *_month_year is read only where
# its date is null.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "studies": frozenset({"start_month_year", "primary_completion_month_year", "completion_month_year"}),
    "result_groups": frozenset({"outcome_id"}),
    "outcome_measurements": frozenset({"dispersion_lower_limit_raw", "dispersion_upper_limit_raw"}),
}
REQUIRED_COLUMNS: dict[str, list[str]] = {
    t: [c for c in cols if c not in OPTIONAL_COLUMNS.get(t, ())] for t, cols in COLUMNS.items()
}
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
        self.ragged: set[str] = set()  # flat tables whose ragged rows were found (their studies are left out)
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

    def file(self, table: str) -> str:
        """The table as messages name it: its file (``outcomes.txt``, ``outcomes.parquet``) or frame."""
        if self.flat is not None:
            return self.flat.file(table)
        if table in self.parquet:
            return self.parquet[table].name
        return f"frame {table!r}"

    def columns(self, table: str) -> list[str]:
        """The table's column names, read without reading a row (a header line, a parquet footer)."""
        if self.flat is not None:
            return self.flat.header(table)
        if table in self.parquet:
            import pyarrow.parquet as pq

            try:
                return pq.read_schema(self.parquet[table]).names
            except (pa.ArrowException, OSError) as e:
                raise RecordError(
                    self.file(table), "parquet", f"not a readable parquet file ({e})", "bad_parquet"
                ) from None
        return list(self.frames[table].collect_schema().names())

    def scan(self, table: str) -> pl.LazyFrame | None:
        """The columns of COLUMNS[table] (absent ones as null text), keys as Int64; None if no such table."""
        want = COLUMNS[table]
        if self.flat is not None:
            if table not in self.flat.members:
                return None
            have = self.flat.header(table)
            lf = self.flat.scan(table, [c for c in want if c in have], truncate_ragged=table in self.ragged)
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


def _check_columns(inp: _Input) -> None:
    """Every required table present, and every table present with its required columns (REQUIRED_COLUMNS), before
    a row is read: an error naming the file and the columns, in strict and lenient mode alike."""
    have = inp.tables()
    missing_tables = [t for t in REQUIRED if t not in have]
    if missing_tables:
        raise FileNotFoundError(f"AACT input {inp.name!r} lacks required table(s): {', '.join(missing_tables)}")
    lacking = []
    for t in COLUMNS:
        if t in have:
            cols = set(inp.columns(t))
            missing = [c for c in REQUIRED_COLUMNS[t] if c not in cols]
            if missing:
                lacking.append((inp.file(t), missing))
    if lacking:
        (file, cols), rest = lacking[0], lacking[1:]
        also = "; also " + "; ".join(f"{f} lacks {', '.join(c)}" for f, c in rest) if rest else ""
        raise RecordError(
            file,
            ", ".join(cols),
            f"required column{'s' if len(cols) > 1 else ''} missing from AACT input {inp.name!r}{also}",
            "missing_column",
        )


def check_input(src: str | os.PathLike | Frames) -> None:
    """What can be checked of an AACT input without reading a row (``build`` checks every input so before reading
    any): the required tables, their required columns, readable headers and parquet footers."""
    _check_columns(_Input(src))


def _ragged_rows(inp: _Input, strict: bool) -> list[Ragged]:
    """Rows of the flat tables read whose field count is not their header's: strict, an error naming the file and
    line of the first; lenient, the rows (their studies are left out by _select), their tables read past them."""
    if inp.flat is None:
        return []
    rows = inp.flat.ragged_rows([t for t in COLUMNS if t in inp.flat.members])
    if rows and strict:
        raise rows[0].error()
    inp.ragged = {r.table for r in rows}
    return rows


# what reading the tables raises for a value that is not what its column holds (ids that are not numbers, a quote
# Polars cannot parse): the command line prints table_error(e), one line, where a library caller gets the error
TABLE_ERRORS = (pl.exceptions.PolarsError,)


def table_error(e: BaseException) -> str:
    """One line for an error of TABLE_ERRORS: Polars' first line, which names the column and value."""
    text = str(e).strip()
    return f"the tables cannot be read: {text.splitlines()[0] if text else type(e).__name__}"


def _utf8_error(inp: _Input, e: Exception) -> RecordError | None:
    """Polars' error for invalid UTF-8 in a flat table names neither file nor line: the error that does (the first
    bad byte of the tables), else None."""
    text = str(e).lower()
    if inp.flat is None or ("utf-8" not in text and "utf8" not in text):
        return None
    return inp.flat.bad_utf8([t for t in COLUMNS if t in inp.flat.members])


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


class _Rows:
    """One study's rows of one table, as columns (name -> values, in frame order); iterating gives row dicts."""

    __slots__ = ("cols", "n")

    def __init__(self, cols: dict[str, list], n: int):
        self.cols, self.n = cols, n

    def __len__(self) -> int:
        return self.n

    def column(self, name: str) -> list:
        """The values of column ``name``; all None where the frame has no such column."""
        col = self.cols.get(name)
        return col if col is not None else [None] * self.n

    def __iter__(self) -> Iterator[dict]:
        names = list(self.cols)
        return (dict(zip(names, values, strict=True)) for values in zip(*self.cols.values(), strict=True))


class _Runs:
    """Rows of a frame sorted by nct_id, handed out study by study (the frame is walked once, in slices).

    A slice becomes Python column lists (Series.to_list), and a study's rows are list slices of them: a row dict per
    input row (DataFrame.to_dicts) costs ~4x as much, and the largest table (outcome_measurements) is read by
    column."""

    def __init__(self, df: pl.DataFrame | None, chunk: int = 100_000):
        self.df, self.chunk = df, chunk
        self.names = [] if df is None else df.columns
        self.pos = 0
        self.cols: dict[str, list] = {}
        self.ids: list = []
        self.i = 0

    def _load(self) -> bool:
        if self.df is None or self.pos >= self.df.height:
            return False
        part = self.df.slice(self.pos, self.chunk)
        self.pos += part.height
        self.cols = {c: part.get_column(c).to_list() for c in self.names}
        self.ids, self.i = self.cols["nct_id"], 0
        return True

    def take(self, nct: str) -> _Rows:
        parts: list[dict[str, list]] = []  # the study's rows, by slice (a study may straddle two)
        while True:
            if self.i >= len(self.ids) and not self._load():
                break
            ids, i, n = self.ids, self.i, len(self.ids)
            # a row of a study that is not selected (cannot happen after the semi-join, but never block on it)
            while i < n and ids[i] != nct and (ids[i] is None or ids[i] < nct):
                i += 1
            j = i
            while j < n and ids[j] == nct:
                j += 1
            if j > i:
                parts.append({c: v[i:j] for c, v in self.cols.items()})
            self.i = j
            if j < n and ids[j] is not None and ids[j] > nct:  # the next study's rows
                break
        if len(parts) == 1:
            return _Rows(parts[0], len(parts[0]["nct_id"]))
        cols = {c: [x for p in parts for x in p[c]] for c in self.names}
        return _Rows(cols, len(cols["nct_id"]) if cols else 0)


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


def _coalesce(first: list, second: list) -> list:
    """``first``'s value where it is not None, else ``second``'s, row by row."""
    return [x if x is not None else y for x, y in zip(first, second, strict=True)]


# the columns of _Prepared.groups that study_rows reads, in the order it unpacks them
_GROUP_INPUT = ("outcome_id", "ctgov_group_code", "result_group_id", "title", "description")


def study_rows(t: dict, rows: dict[str, _Rows], present: set[str], source_version: str) -> StudyRows:
    """One study's joined AACT rows (its trial row, and its rows of every other frame of _Prepared) -> its rows of
    the six tables. Raises RecordError naming the NCT id."""
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
    seen: dict[tuple[int, str], tuple] = {}  # (outcome, code) -> (result_group_id, title, description)
    templates: dict[tuple, dict] = {}
    groups = rows["groups"]  # read by column, like the measurements: the second largest frame
    for aact_oid, code, rg_id, title, description in zip(*map(groups.column, _GROUP_INPUT), strict=True):
        o = outcomes.get(aact_oid)
        if o is None:
            o = outcome_of(aact_oid, f"result_groups[{code}].outcome_id")
        if code is None or not str(code).strip():
            raise RecordError(
                nct, f"{o['outcome_id']}.groups.ctgov_group_code", "result group without a code", "bad_reference"
            )
        key = (aact_oid, code)
        if key in seen:
            prev_id, prev_title, prev_description = seen[key]
            if rg_id is not None and (prev_title, prev_description) != (title, description):
                raise RecordError(
                    nct,
                    f"{o['outcome_id']}.groups[{code}]",
                    f"code {code} names two different result groups (ids {prev_id} and {rg_id})",
                    "bad_reference",
                )
            continue
        seen[key] = (rg_id, title, description)
        # One AACT result group is usually referenced by many outcomes: its row (text checks, dose parsing) is
        # built once; the row of another outcome differs only in the ids, exactly as result_group_row makes them.
        tkey = (code, title, description)
        template = templates.get(tkey)
        if template is None:
            row = result_group_row(
                trial_id=nct, outcome_id=o["outcome_id"], code=code, title=title, description=description
            )
            templates[tkey] = row
        else:
            row = {**template, "group_id": f"{o['outcome_id']}:{template['code']}", "outcome_id": o["outcome_id"]}
        out.add("arms", row)
        titles[key] = row["title"]

    # Measurements come in (outcome_id, id) order, read by column: each outcome's run of rows is built at once by
    # its Measurements (which reads the outcome's part of a row once), and the message of a bad reference is written
    # only when there is one.
    ms = rows.get("measurements")
    if ms is not None and len(ms):
        col = ms.column
        ids, oids, codes = col("id"), col("outcome_id"), col("ctgov_group_code")
        # the result group's title where the measurement names none; a limit as posted where AACT kept the text
        group_titles = [
            t if t is not None else titles.get((oid, code))
            for t, oid, code in zip(col("group_title"), oids, codes, strict=True)
        ]
        lowers = _coalesce(col("dispersion_lower_limit_raw"), col("dispersion_lower_limit"))
        uppers = _coalesce(col("dispersion_upper_limit_raw"), col("dispersion_upper_limit"))
        values, spreads, ns, n_units = col("param_value"), col("dispersion_value"), col("n"), col("n_units")
        classes, categories, comments = col("classification"), col("category"), col("explanation_of_na")
        mi: dict[int, int] = {}
        a = 0
        for aact_oid, run in itertools.groupby(oids):
            b = a + sum(1 for _ in run)
            o = outcomes.get(aact_oid)
            if o is None:
                o = outcome_of(aact_oid, f"outcome_measurements[id={ids[a]}].outcome_id")
            i = mi.get(aact_oid, 0)
            mi[aact_oid] = i + b - a
            out.extend(
                "measurements",
                Measurements(o).rows(
                    i,
                    codes[a:b],
                    group_titles[a:b],
                    values[a:b],
                    spreads[a:b],
                    lowers[a:b],
                    uppers[a:b],
                    ns[a:b],
                    n_units[a:b],
                    classes[a:b],
                    categories[a:b],
                    comments[a:b],
                ),
            )
            a = b

    # measurements built by column (_ColumnMeasurements): only their number, for their outcome rows
    counted = rows.get("measurement_counts")
    if counted is not None:
        for aact_oid, n in zip(counted.column("outcome_id"), counted.column("n"), strict=True):
            outcomes[aact_oid]["n_measurements"] = n

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

# Studies per chunk: what is in memory at once is one chunk's joined AACT rows and the Python rows of one batch
# of it (~1 GB for 10,000 results studies of a registry-sized dump, batches of 1,000), besides the output. An
# input of at most this many selected studies (the embedded AACT subset: 5,557) is read whole, without files.
CHUNK_STUDIES = 10_000
_CHUNK = "__aact_chunk"
_EMPTY = "_schema.arrow"
# (table, key, table it names by id): every join of _Prepared between the rows of two tables by AACT id. A chunk
# holds only its studies' rows, so it gives what the whole input gives when no such key names a row of a study
# in another chunk: AACT's keys point into the row's own study (and ids are unique), and _Chunks checks it.
_REFERENCES = [
    ("design_group_interventions", "intervention_id", "interventions"),
    ("design_group_interventions", "design_group_id", "design_groups"),
    ("intervention_other_names", "intervention_id", "interventions"),
    ("outcome_analysis_groups", "outcome_analysis_id", "outcome_analyses"),
    ("outcome_analysis_groups", "result_group_id", "result_groups"),
    ("outcome_measurements", "result_group_id", "result_groups"),
    ("outcome_counts", "result_group_id", "result_groups"),
    ("outcome_measurements", "outcome_id", "outcomes"),
    ("outcome_counts", "outcome_id", "outcomes"),
]


def _select(
    inp: _Input,
    report: IngestReport,
    strict: bool,
    require_results: bool,
    nct_ids: list[str] | None,
    ragged: list[Ragged] | None = None,
) -> pl.DataFrame:
    """The studies to read (studies columns), sorted by nct_id; the ones left out are counted in ``report``
    (those a ragged row names among them, see :func:`_ragged_rows`)."""
    studies_lf = inp.scan("studies")
    if studies_lf is None:
        raise FileNotFoundError(f"AACT input {inp.name!r} has no studies table")
    all_ids = studies_lf.select("nct_id") if ragged else None
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
    if ragged:
        # a study with a ragged row in any table is left out whole: the row's fields are not where the header says
        first: dict[str, Ragged] = {}
        for r in ragged:
            for nct in r.ncts:
                first.setdefault(nct, r)
        hit = studies["nct_id"].is_in(list(first))
        for nct in studies.filter(hit)["nct_id"].to_list():
            skip(first[nct].skip(nct))
        studies = studies.filter(~hit)
        # a row naming no study at all (its nct_id lost) is counted too: it may have been any study's
        known = set(all_ids.filter(pl.col("nct_id").is_in(list(first))).collect()["nct_id"].to_list())
        for r in ragged:
            if not known.intersection(r.ncts):
                skip(r.error())
    return studies


def _chunk_file(args) -> str:
    return f"{args.partition_keys[_CHUNK][0]:06d}-{args.index_in_partition:04d}.arrow"


def _chunk_frames(d: Path, tables: list[str], k: int) -> dict[str, pl.LazyFrame]:
    """Chunk ``k``'s rows of every table, as split by :class:`_Chunks`."""
    out = {}
    for t in tables:
        files = sorted((d / t).glob(f"{k:06d}-*.arrow"))
        out[t] = pl.scan_ipc(files) if files else pl.scan_ipc(d / t / _EMPTY)
    return out


class _Chunks:
    """The selected studies in chunks of ``size`` (in nct_id order), and every chunk's rows of every table.

    One chunk: the input is read as it is. More: every table the reader uses is read once (the columns used,
    the rows of the selected studies) and streamed into one Arrow IPC file per chunk in a temporary directory
    (removed by :meth:`close`, also when splitting fails), so memory holds one chunk, never the input. A chunk
    then gives the same rows as the whole input restricted to its studies: AACT's ids are global serials and a
    row's keys (outcome_id, result_group_id, ...) point into its own study. An input where a key names a row of
    another chunk (see _REFERENCES) is read whole instead, with a warning."""

    def __init__(self, inp: _Input, studies: pl.DataFrame, size: int | None, tmp_dir: str | os.PathLike | None):
        have = inp.tables()
        missing = [t for t in REQUIRED if t not in have]
        if missing:
            raise FileNotFoundError(f"AACT input {inp.name!r} lacks required table(s): {', '.join(missing)}")
        self.inp, self.studies = inp, studies
        if size is not None and size < 1:
            raise ValueError(f"chunk_studies must be at least 1, not {size}")
        self.size = size if size is not None else max(1, studies.height)
        self.n = max(1, -(-studies.height // self.size))
        self.tables = sorted(t for t in COLUMNS if t in have and t != "studies")
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.dir: Path | None = None
        if self.n > 1:
            self._tmp = tempfile.TemporaryDirectory(prefix="deepimagine-aact-", dir=tmp_dir)
            self.dir = Path(self._tmp.name)
            try:
                self._split()
                crossing = self._crossing_references()
            except BaseException:
                self.close()
                raise
            if crossing:
                # a key that points into another chunk's study (never in AACT's own exports): the chunks would not
                # see it, the whole input does; read it whole, as without chunks
                warnings.warn(
                    f"AACT input {inp.name!r}: {crossing} row(s) refer to rows of studies in other chunks "
                    f"({'; '.join(self.crossing)}); reading all {studies.height} studies at once",
                    stacklevel=3,
                )
                self.close()
                self.size, self.n, self.dir = max(1, studies.height), 1, None

    def _split(self) -> None:
        assert self.dir is not None
        chunk_of = self.studies.select(
            "nct_id", (pl.int_range(pl.len(), dtype=pl.UInt32) // self.size).alias(_CHUNK)
        ).lazy()
        for t in self.tables:
            lf = self.inp.scan(t)
            assert lf is not None
            d = self.dir / t
            d.mkdir()
            pl.DataFrame(schema=lf.collect_schema()).write_ipc(d / _EMPTY)  # for a chunk without rows of t
            lf.join(chunk_of, on="nct_id", how="inner", maintain_order="left").sink_ipc(
                pl.PartitionBy(d, key=_CHUNK, include_key=True, file_path_provider=_chunk_file),
                compression="lz4",
                engine="streaming",
            )

    def _files(self, t: str) -> list[Path]:
        assert self.dir is not None
        return sorted((self.dir / t).glob("[0-9]*.arrow"))

    def _crossing_references(self) -> int:
        """Rows whose key (see _REFERENCES) names a row of another chunk; kept in ``self.crossing``, by key."""
        self.crossing: list[str] = []
        n = 0
        for t, key, target in _REFERENCES:
            if t not in self.tables or target not in self.tables or not self._files(t) or not self._files(target):
                continue
            refs = pl.scan_ipc(self._files(t)).select(pl.col(key).alias("_ref"), pl.col(_CHUNK).alias("_from"))
            ids = pl.scan_ipc(self._files(target)).select(pl.col("id").alias("_ref"), pl.col(_CHUNK).alias("_to"))
            m = (
                refs.join(ids, on="_ref", how="inner")
                .filter(pl.col("_from") != pl.col("_to"))
                .select(pl.len())
                .collect(engine="streaming")
                .item()
            )
            if m:
                self.crossing.append(f"{t}.{key} -> {target}: {m}")
                n += m
        return n

    def keep(self, k: int) -> pl.DataFrame:
        return self.studies.slice(k * self.size, self.size)

    def prepared(self, k: int) -> _Prepared:
        if self.dir is None:
            return _Prepared(self.inp, self.studies)
        keep = self.keep(k)
        return _Prepared(_Input({"studies": keep.lazy(), **_chunk_frames(self.dir, self.tables, k)}), keep)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> _Chunks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _walk(
    prep: _Prepared,
    report: IngestReport,
    strict: bool,
    source_version: str,
    bar,
    frames: dict[str, pl.DataFrame] | None = None,
) -> Iterator[StudyRows]:
    """Rows of every study of one chunk, in nct_id order (from ``frames``, default ``prep.collect()``)."""
    frames = dict(prep.collect() if frames is None else frames)
    trials = frames.pop("trials")
    runs = {k: _Runs(v, 20_000) for k, v in frames.items()}
    del frames

    def build(t: dict) -> StudyRows:
        # every table's rows of this study, in order: the runs advance with the sorted trials
        return study_rows(t, {k: r.take(t["nct_id"]) for k, r in runs.items()}, prep.present, source_version)

    def each() -> Iterator[dict]:
        for t in trials.iter_rows(named=True):
            yield t
            if bar is not None:
                bar.update(1)

    yield from report.each(each(), build, strict)


def _chunk_tables(
    prep: _Prepared, report: IngestReport, strict: bool, source_version: str, batch: int, bar
) -> Iterator[dict[str, pa.Table]]:
    """The six tables of one chunk's studies, every ``batch`` studies: ``collect_batches`` of :func:`_walk`, the
    measurements of its plain studies built by column (see :class:`_ColumnMeasurements`)."""
    frames = prep.collect()
    columns = _ColumnMeasurements.of(frames)
    if columns is not None:
        frames["measurements"], frames["measurement_counts"] = columns.other, columns.counts
    for part in collect_batches(_walk(prep, report, strict, source_version, bar, frames), report, strict, batch):
        if columns is not None:
            part["measurements"] = columns.add_to(part)
        yield part


# --- measurements by column ----------------------------------------------------------------------------

# A posted number that the column-wise path reads as parse_number does: an optional comparator (group 1), then a
# number (group 2) of ASCII digits with an optional minus and decimals, at most 15 digits a side (no space,
# thousands comma or exponent). _PLAIN_COUNT: a count, as parse_int reads it.
_PLAIN_NUMBER = r"^(<=|>=|<|>|=)?(-?[0-9]{1,15}(?:\.[0-9]{1,15})?)$"
_PLAIN_COUNT = r"^(=)?([0-9]{1,15})$"
# columns of _Prepared.measurements the column-wise path reads as text
_MEASUREMENT_TEXT = (
    "ctgov_group_code",
    "group_title",
    "classification",
    "category",
    "param_value",
    "dispersion_value",
    "dispersion_lower_limit",
    "dispersion_upper_limit",
    "dispersion_lower_limit_raw",
    "dispersion_upper_limit_raw",
    "explanation_of_na",
    "n",
    "n_units",
)


def _plain_number(raw: pl.Expr, pattern: str = _PLAIN_NUMBER) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(plain, number, comparator) of a text column: whether the column-wise path reads the text (null, a
    "not available" token as posted, or a number matching ``pattern``), the number's text and its comparator."""
    groups = raw.str.extract_groups(pattern)
    number = groups.struct.field("2")
    na = raw.str.to_lowercase().is_in(sorted(NA_TOKENS)) & raw.str.contains(r"^[ -~]*$")  # (lower() of ASCII)
    return raw.is_null() | na | number.is_not_null(), number, groups.struct.field("1")


def _plain_text(raw: pl.Expr, max_len: int = SHORT_TEXT_MAX) -> pl.Expr:
    """Whether check_text keeps the text as it is (polars text is valid UTF-8, so no lone surrogate)."""
    return raw.is_null() | ((raw.str.len_chars() <= max_len) & ~raw.str.contains("\x00", literal=True))


class _ColumnMeasurements:
    """The measurement rows of a chunk's plain studies, built by column with polars: no Python object per value
    (measurements are most of the rows; row by row, they were half the time of a chunk).

    A study is plain where each of its measurements names an outcome of the study (one with that id) and a group
    code, and where every value is one the row constructor keeps or parses without a question (_plain_number,
    _plain_text): then the rows are those :meth:`Measurements.rows` builds (test_aact_chunked checks it). Any other
    study's measurements are built row by row, as before, with the constructor's checks and errors.

    :func:`_walk` builds the plain studies' other rows as usual, their outcomes' ``n_measurements`` set from
    ``counts``; :meth:`add_to` then adds the measurement rows of the plain studies a batch kept, completed from the
    batch's outcome rows (param type, dispersion, unit: what Measurements reads from the outcome)."""

    def __init__(self, frames: dict[str, pl.DataFrame]):
        m = frames["measurements"].with_columns(
            pl.lit(None, pl.String).alias(c) for c in ("n", "n_units") if c not in frames["measurements"].columns
        )
        # an outcome's position among its study's outcomes (as study_rows numbers them); an id twice in a study
        # (never in AACT) is left to the row constructors
        outcomes = frames["outcomes"].select(
            "nct_id",
            pl.col("id").alias("outcome_id"),
            pl.int_range(pl.len()).over("nct_id").alias("_outcome_index"),
            pl.len().over("nct_id", "id").alias("_copies"),
        )
        # the title of the first result group of an outcome and code: study_rows' titles
        titles = (
            frames["groups"]
            .unique(["nct_id", "outcome_id", "ctgov_group_code"], keep="first", maintain_order=True)
            .select("nct_id", "outcome_id", "ctgov_group_code", pl.col("title").alias("_result_group_title"))
        )
        m = m.join(outcomes, on=["nct_id", "outcome_id"], how="left", maintain_order="left").join(
            titles, on=["nct_id", "outcome_id", "ctgov_group_code"], how="left", maintain_order="left"
        )
        code = pl.col("ctgov_group_code")
        title = pl.coalesce("group_title", "_result_group_title")
        lower = pl.coalesce("dispersion_lower_limit_raw", "dispersion_lower_limit")
        upper = pl.coalesce("dispersion_upper_limit_raw", "dispersion_upper_limit")
        value_plain, value, value_mod = _plain_number(pl.col("param_value"))
        spread_plain, spread, spread_mod = _plain_number(pl.col("dispersion_value"))
        lower_plain, lower_value, _ = _plain_number(lower)
        upper_plain, upper_value, _ = _plain_number(upper)
        n_plain, n, _ = _plain_number(pl.col("n"), _PLAIN_COUNT)
        plain = (
            (pl.col("_copies") == 1).fill_null(False)
            & code.is_not_null()
            & value_plain
            & spread_plain
            & (spread_mod.is_null() | (spread_mod == "="))  # parse_float takes no other comparator
            & lower_plain
            & upper_plain
            & n_plain
            & pl.all_horizontal(_plain_text(e) for e in (code, title, pl.col("classification"), pl.col("category")))
            & _plain_text(pl.col("n_units"))
            & _plain_text(pl.col("explanation_of_na"), LONG_TEXT_MAX)
        )
        m = m.with_columns(plain.all().over("nct_id").alias("_plain"))
        self.other = m.filter(~pl.col("_plain")).select(frames["measurements"].columns)
        rows = m.filter(pl.col("_plain"))
        self.counts = rows.group_by("nct_id", "outcome_id", maintain_order=True).agg(pl.len().alias("n"))
        outcome_id = pl.format("{}:O{}", "nct_id", "_outcome_index")
        self.rows = rows.select(
            pl.col("nct_id").alias("trial_id"),
            outcome_id.alias("outcome_id"),
            pl.format("{}:M{}", outcome_id, pl.int_range(pl.len()).over("nct_id", "outcome_id")).alias(
                "measurement_id"
            ),
            pl.format("{}:{}", outcome_id, code).alias("group_id"),
            code.alias("group_code"),
            title.alias("group_title"),
            pl.col("classification").alias("class_title"),
            pl.col("category").alias("category_title"),
            value.cast(pl.Float64).alias("value"),
            value_mod.alias("value_modifier"),
            pl.col("param_value").alias("value_raw"),
            spread.cast(pl.Float64).alias("spread"),
            pl.col("dispersion_value").alias("spread_raw"),
            lower_value.cast(pl.Float64).alias("lower_limit"),
            lower.alias("lower_limit_raw"),
            upper_value.cast(pl.Float64).alias("upper_limit"),
            upper.alias("upper_limit_raw"),
            n.cast(pl.Int64).alias("n"),
            pl.col("n").alias("n_raw"),
            "n_units",
            pl.col("explanation_of_na").alias("comment"),
        ).sort("trial_id", "measurement_id")  # the order of the table: a batch's rows then need no sort of their own

    @classmethod
    def of(cls, frames: dict[str, pl.DataFrame]) -> _ColumnMeasurements | None:
        """None where there are no measurements, or where a value column is not text (a typed copy of AACT):
        then every measurement is built row by row."""
        m = frames.get("measurements")
        if m is None or any(m.schema[c] != pl.String for c in _MEASUREMENT_TEXT if c in m.schema):
            return None
        return cls(frames)

    def add_to(self, part: dict[str, pa.Table]) -> pa.Table:
        """The measurements of a batch: its rows built row by row and those of its kept plain studies."""
        schema = TABLES["measurements"]
        kept = pl.from_arrow(part["trials"].select(["trial_id"])).to_series()
        outcomes = pl.from_arrow(
            part["outcomes"].select(
                ["outcome_id", "param_type", "dispersion_type", "dispersion_type_raw", "unit_of_measure"]
            )
        )
        # the confidence level of a dispersion "95% Confidence Interval" (the outcome row keeps only its type)
        ci = {raw: parse_dispersion(raw, None)[1] for raw in outcomes["dispersion_type_raw"].unique().to_list()}
        outcomes = outcomes.with_columns(
            pl.col("dispersion_type_raw").replace_strict(ci, return_dtype=pl.Float64).alias("dispersion_ci_percent")
        )
        rows = (
            self.rows.filter(pl.col("trial_id").is_in(kept.implode()))
            .join(outcomes, on="outcome_id", how="left", maintain_order="left")
            .select(schema.names)
        )
        if rows.height == 0:
            return part["measurements"]
        return sort_table("measurements", pa.concat_tables([part["measurements"], rows.to_arrow().cast(schema)]))


def _out_file(d: Path, k: int, name: str) -> Path:
    return d / "_out" / f"{k:06d}.{name}.arrow"


def _chunk_to_files(
    d: Path, k: int, prep: _Prepared, report: IngestReport, strict: bool, source_version: str, batch: int, bar
) -> None:
    """Chunk ``k``'s six tables -> the split directory ``d``, batch by batch (memory holds a batch of one chunk,
    never the output so far)."""
    opts = pa.ipc.IpcWriteOptions(compression="lz4")  # a temporary directory may be in memory (tmpfs)
    with contextlib.ExitStack() as stack:
        writers = {}
        for name in TABLES:
            f = stack.enter_context(pa.OSFile(str(_out_file(d, k, name)), "wb"))
            writers[name] = stack.enter_context(pa.ipc.new_file(f, TABLES[name], options=opts))
        stack.enter_context(_gc_paused())
        for part in _chunk_tables(prep, report, strict, source_version, batch, bar):
            for name in TABLES:
                writers[name].write_table(part.pop(name))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a chunk is walked into Arrow. The walk makes millions of short-lived
    rows and column lists in no cycle (reference counting frees them); the collector's passes over the ones alive
    (a batch of rows, the frames' column lists) find nothing and cost ~15% of the walk."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read_arrow(path: Path, field: int | None = None) -> pa.Table:
    """The table in ``path``; only its ``field``-th column where given (the others are not read)."""
    opts = pa.ipc.IpcReadOptions(included_fields=[field] if field is not None else None, use_threads=False)
    with pa.OSFile(str(path), "rb") as f:
        return pa.ipc.open_file(f, options=opts).read_all()


def _tables_from_files(d: Path, n: int) -> dict[str, pa.Table]:
    """The chunks' tables, each concatenated in chunk order.

    The same tables as ``tables.concat_tables`` of the chunks' tables, without its copy: chunks come in nct_id
    order and each is sorted, so the concatenation is sorted already (checked; otherwise sorted, as
    concat_tables does). A column is read from every chunk file and made one chunk (as that sort makes it),
    one column at a time: the peak is the output plus one column."""
    pool = pa.default_memory_pool()
    out = {}
    for name in TABLES:
        schema = TABLES[name]
        paths = [_out_file(d, k, name) for k in range(n)]
        ids = [_read_arrow(p, schema.get_field_index("trial_id")).column(0) for p in paths]
        full = [c for c in ids if len(c)]
        ordered = all(a[-1].as_py() < b[0].as_py() for a, b in itertools.pairwise(full))
        del ids, full
        if not ordered:
            out[name] = sort_table(name, pa.concat_tables([_as_schema(_read_arrow(p), schema) for p in paths]))
        else:
            arrays = []
            for i, f in enumerate(schema):
                col = pa.chunked_array(
                    [c for p in paths for c in _as_schema_column(_read_arrow(p, i), f).chunks], type=f.type
                )
                arrays.append(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
                del col
                pool.release_unused()
            out[name] = pa.Table.from_arrays(arrays, schema=schema)
        for p in paths:
            p.unlink()
    check_unique(out)
    pool.release_unused()
    return out


def _as_schema_column(t: pa.Table, f: pa.Field) -> pa.ChunkedArray:
    (c,) = t.columns
    return c if c.type == f.type else c.cast(f.type)


def _concat(parts: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """Batches of one chunk (in memory) -> the six tables: ``tables.concat_tables(parts)``, without its copy
    (see :func:`_tables_from_files`)."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for name in TABLES:
        schema = TABLES[name]
        ts = [_as_schema(p.pop(name), schema) for p in parts]
        full = [t for t in ts if t.num_rows]
        if not all(a["trial_id"][-1].as_py() < b["trial_id"][0].as_py() for a, b in itertools.pairwise(full)):
            out[name] = sort_table(name, pa.concat_tables(ts))
            continue
        t = pa.concat_tables(ts)
        del ts, full
        out[name] = pa.Table.from_arrays(
            [c.combine_chunks() if c.num_chunks != 1 else c.chunk(0) for c in t.columns], schema=schema
        )
    check_unique(out)
    return out


def _as_schema(t: pa.Table, schema: pa.Schema) -> pa.Table:
    return t if t.schema.equals(schema, check_metadata=True) else t.cast(schema)


class _Reading(NamedTuple):
    chunks: _Chunks
    source_version: str
    bar: Any  # tqdm


@contextlib.contextmanager
def _reading(
    src: str | os.PathLike | Frames,
    report: IngestReport,
    *,
    strict: bool,
    source_version: str | None,
    require_results: bool,
    nct_ids: list[str] | None,
    progress: bool,
    chunk_studies: int | None,
    tmp_dir: str | os.PathLike | None,
) -> Iterator[_Reading]:
    """The set-up of :func:`iter_studies` and :func:`read`: the input, the selected studies (those left out counted in
    ``report``), their chunks (split into a temporary directory that is removed on leaving, also on error) and the
    progress bar."""
    from tqdm.auto import tqdm

    inp = _Input(src)
    try:
        _check_columns(inp)
        ragged = _ragged_rows(inp, strict)
        source_version = source_version or f"aact:{inp.name}"
        studies = _select(inp, report, strict, require_results, nct_ids, ragged)
        with (
            _Chunks(inp, studies, chunk_studies, tmp_dir) as chunks,
            tqdm(total=studies.height, unit="study", disable=not progress, desc="aact", mininterval=1.0) as bar,
        ):
            yield _Reading(chunks, source_version, bar)
    except pl.exceptions.PolarsError as e:
        located = _utf8_error(inp, e)
        if located is None:
            raise
        raise located from e


def iter_studies(
    src: str | os.PathLike | Frames,
    *,
    strict: bool = False,
    report: IngestReport | None = None,
    source_version: str | None = None,
    require_results: bool = True,
    nct_ids: list[str] | None = None,
    progress: bool = True,
    chunk_studies: int | None = CHUNK_STUDIES,
    tmp_dir: str | os.PathLike | None = None,
) -> Iterator[StudyRows]:
    """Rows of every selected study in nct_id order. ``nct_ids`` restricts the run to those studies (an id
    AACT lacks is counted as ``not_found``). Strict: the first bad study raises; lenient: it is skipped and
    its reason counted in ``report``.

    The studies are read ``chunk_studies`` at a time (None: all at once): see :func:`read`."""
    report = report if report is not None else IngestReport()
    with _reading(
        src,
        report,
        strict=strict,
        source_version=source_version,
        require_results=require_results,
        nct_ids=nct_ids,
        progress=progress,
        chunk_studies=chunk_studies,
        tmp_dir=tmp_dir,
    ) as reading:
        chunks, source_version, bar = reading
        for k in range(chunks.n):
            yield from _walk(chunks.prepared(k), report, strict, source_version, bar)


def read(
    src: str | os.PathLike | Frames,
    *,
    strict: bool = False,
    source_version: str | None = None,
    require_results: bool = True,
    nct_ids: list[str] | None = None,
    progress: bool = True,
    batch: int = 1_000,
    chunk_studies: int | None = CHUNK_STUDIES,
    workers: int | None = None,
    tmp_dir: str | os.PathLike | None = None,
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read AACT tables into the six tables.

    The selected studies are read ``chunk_studies`` at a time, in nct_id order (None: all at once). With more
    than one chunk, every table is read once and split by chunk into a temporary directory (under ``tmp_dir``,
    default the system's; removed at the end, also on error); each chunk's six tables go there too, and are
    concatenated at the end, so memory holds one chunk at a time, then the output. ``workers`` processes
    (fresh interpreters, ``sys.executable``; default: 2, or 1 on a one-core machine; at most one per chunk)
    read the chunks; 1 reads them in this process. Within a chunk, rows are turned into Arrow every ``batch``
    studies. Chunk size, workers and batch change nothing in the output: the same tables and the same report.

    A registry-sized dump (572,000 studies, 76,600 with results, 4.8 M outcome_measurements; 5 GB of flat
    files): peak RSS 3.3 GB (the output is 2.8 GB), against 9.3 GB read whole.

    >>> tables, report = read("aact_oncology_merck/", source_version="aact_oncology_merck@140dae3")  # doctest: +SKIP
    >>> report.kept, tables["analyses"].num_rows  # doctest: +SKIP
    """
    n_workers = workers if workers is not None else _default_workers()
    if n_workers < 1:
        raise ValueError(f"workers must be at least 1, not {n_workers}")
    report = IngestReport()
    with _reading(
        src,
        report,
        strict=strict,
        source_version=source_version,
        require_results=require_results,
        nct_ids=nct_ids,
        progress=progress,
        chunk_studies=chunk_studies,
        tmp_dir=tmp_dir,
    ) as reading:
        chunks, source_version, bar = reading
        d = chunks.dir
        if d is None:  # one chunk: no files
            with _gc_paused():
                parts = list(_chunk_tables(chunks.prepared(0), report, strict, source_version, batch, bar))
                return _concat(parts), report
        (d / "_out").mkdir()
        if min(n_workers, chunks.n) > 1:
            _run_workers(chunks, min(n_workers, chunks.n), report, strict, source_version, batch, bar)
        else:
            for k in range(chunks.n):
                _chunk_to_files(d, k, chunks.prepared(k), report, strict, source_version, batch, bar)
        bar.close()
        return _tables_from_files(d, chunks.n), report


# --- worker processes ----------------------------------------------------------------------------------


def _default_workers() -> int:
    """2 where this process may run on 2 or more cores and Python can start itself; else 1. Not more: each
    worker holds a chunk (~1 GB at the default size) and the time left is the split and the concatenation."""
    import sys

    from ..cores import usable_cores

    return 2 if usable_cores() >= 2 and sys.executable else 1


# A worker is a fresh interpreter (not multiprocessing: nothing of the caller's __main__ is re-run, and no fork
# of a process running polars threads). Worker i reads chunks i, i + n, i + 2n, ... from the split directory
# and writes each chunk's six tables there; it reports each chunk on its stdout, one JSON line; the caller reads
# the reports in chunk order, so the report and the first error of a strict run are those of one process.

_BOOT = (
    "import importlib, json, sys\n"
    "job = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "sys.path[:0] = job['sys_path']\n"
    "importlib.import_module(job['module'])._worker(sys.argv[1], int(sys.argv[2]))\n"
)


def _run_workers(
    chunks: _Chunks, n: int, report: IngestReport, strict: bool, source_version: str, batch: int, bar
) -> None:
    import json
    import subprocess
    import sys

    d = chunks.dir
    assert d is not None
    (d / "_studies").mkdir()
    for k in range(chunks.n):
        chunks.keep(k).write_ipc(d / "_studies" / f"{k:06d}.arrow")
    job = d / "job.json"
    spec = dict(
        module=__name__,
        sys_path=[p for p in sys.path if isinstance(p, str)],
        dir=str(d),
        tables=chunks.tables,
        chunks=chunks.n,
        workers=n,
        strict=strict,
        source_version=source_version,
        batch=batch,
    )
    job.write_text(json.dumps(spec), encoding="utf-8")
    procs: list[subprocess.Popen] = []
    try:
        for i in range(n):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", _BOOT, str(job), str(i)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                )
            )
        for k in range(chunks.n):
            proc = procs[k % n]
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                proc.wait()
                raise RuntimeError(
                    f"AACT worker {k % n} ended (exit code {proc.returncode}) before it read chunk {k}; "
                    "its error is above"
                )
            msg = json.loads(line)
            if msg.get("chunk") != k:
                raise RuntimeError(f"AACT worker {k % n}: expected chunk {k}, got {line[:200]!r}")
            if "record_error" in msg:
                raise RecordError(*msg["record_error"])
            if "error" in msg:
                raise _worker_error(msg["error"])
            r = msg["report"]
            report.merge(IngestReport(r["read"], r["kept"], Counter(dict(r["skipped"])), dict(r["examples"])))
            bar.update(msg["studies"])
        for proc in procs:
            proc.wait()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _worker_error(err: dict) -> BaseException:
    import base64
    import pickle

    try:
        exc = pickle.loads(base64.b64decode(err["pickle"]))
    except Exception:
        return RuntimeError(f"AACT worker failed:\n{err['traceback']}")
    exc.add_note(f"raised in an AACT worker process:\n{err['traceback']}")
    return exc


def _worker(job_path: str, index: int) -> None:
    """One worker process (see _BOOT): read its chunks, write their tables, report each on stdout."""
    import base64
    import json
    import pickle
    import sys
    import traceback

    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the reports; anything else printed goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    d = Path(job["dir"])
    for k in range(index, job["chunks"], job["workers"]):
        msg: dict = {"chunk": k}
        try:
            keep = pl.read_ipc(d / "_studies" / f"{k:06d}.arrow")
            prep = _Prepared(_Input({"studies": keep.lazy(), **_chunk_frames(d, job["tables"], k)}), keep)
            rep = IngestReport()
            _chunk_to_files(d, k, prep, rep, job["strict"], job["source_version"], job["batch"], None)
            r = dict(read=rep.read, kept=rep.kept, skipped=list(rep.skipped.items()), examples=rep.examples)
            msg.update(studies=keep.height, report=r)
        except RecordError as err:
            msg["record_error"] = [err.record, err.field, err.message, err.reason]
        except Exception as err:
            try:
                pickled = base64.b64encode(pickle.dumps(err)).decode("ascii")
            except Exception:
                pickled = None
            msg["error"] = {"pickle": pickled, "traceback": traceback.format_exc()}
        out.write(json.dumps(msg) + "\n")
        out.flush()
        if "report" not in msg:
            return
