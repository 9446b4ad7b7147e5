"""llm-meta-analysis annotated RCT dataset (Yun et al., MLHC 2024) -> the normalized trial model.

The dataset annotates 699 intervention/comparator/outcome (ICO) triplets of 120 randomized controlled trials
(PubMed Central articles, keyed by ``pmcid``; the ICO prompts come from Evidence Inference 2.0) with the per-arm
numbers a meta-analysis needs: events and group size for binary outcomes, mean, standard deviation and group size
for continuous ones. Annotators left a number empty when the article did not give it, and said why in ``notes``.

Mapping (one trial per ``pmcid``):

- ``trials``: ``trial_id = "llm_meta_analysis/PMC<pmcid>"``, ``nct_id`` null (the source has no registry id).
- ``arms``: one protocol arm per distinct intervention/comparator text of the trial (order of first appearance);
  two result groups per outcome, ``OG000`` = the row's intervention, ``OG001`` = its comparator.
- ``outcomes``: one per ICO row, ``outcome_index`` = file order within the trial; ``title`` = the outcome text;
  ``description`` keeps the row id, ``evidence_inference_prompt_id``, split, outcome type and the annotation
  flags. Binary -> ``param_type = COUNT_OF_PARTICIPANTS``; continuous -> ``MEAN`` with dispersion
  ``STANDARD_DEVIATION``.
- ``measurements``: one per result group. Binary: ``value`` = events, ``n`` = group size. Continuous: ``value`` =
  mean, ``spread`` = SD, ``n`` = group size. Missing numbers stay null; ``notes`` go to ``comment`` (so do numbers
  found in the columns of the *other* outcome type, which the mapping does not use).
- ``interventions`` and ``analyses``: none. The arm texts are descriptions ("control received general non-specific
  advice ..."), not intervention names, and the source has no p-values (nothing is computed here).

Example record (``annotated_rct_dataset.csv``, row id 10)::

    id=10, evidence_inference_prompt_id=9682, pmcid=2363753, outcome="Grade III/IV stomatitis",
    intervention="Amifostine", comparator="Control", outcome_type=binary, intervention_events=0,
    intervention_group_size=20, comparator_events=5, comparator_group_size=20,
    notes="Only abstract is available. Full text in PDF only.", split=TEST

becomes the outcome ``llm_meta_analysis/PMC2363753:O2`` with measurements ``value=0, n=20`` (OG000, Amifostine)
and ``value=5, n=20`` (OG001, Control).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from ..errors import IngestReport, RecordError
from ..parse import parse_float, parse_int, parse_number
from ..rows import StudyRows, arm_row, measurement_row, outcome_row, result_group_row, trial_row
from ..tables import collect

_NAME = "llm_meta_analysis"
_DESCRIPTION = (
    "Arm-level numeric results (binary: events/group size; continuous: mean/SD/group size) annotated for 699 "
    "intervention-comparator-outcome triplets of 120 randomized controlled trials published in PubMed Central."
)
_CITATION = """\
@inproceedings{yun2024automatically,
  title     = {Automatically Extracting Numerical Results from Randomized Controlled Trials with Large Language Models},
  author    = {Yun, Hye Sun and Pogrebitskiy, David and Marshall, Iain J. and Wallace, Byron C.},
  booktitle = {Proceedings of the 9th Machine Learning for Healthcare Conference},
  series    = {Proceedings of Machine Learning Research},
  volume    = {252},
  year      = {2024},
  publisher = {PMLR},
  eprint    = {2405.01686},
  archivePrefix = {arXiv}
}
"""
_LICENSE = "Apache-2.0"
_HOMEPAGE = "https://github.com/hyesunyun/llm-meta-analysis"
SOURCE_VERSION = "hyesunyun/llm-meta-analysis@ca9404c2ec57590c5a1ae53b15b5287d0e51d715"

SOURCE = _NAME
LICENSE = _LICENSE
FILE_NAME = "annotated_rct_dataset.csv"

REQUIRED_COLUMNS = (
    "id",
    "evidence_inference_prompt_id",
    "pmcid",
    "outcome",
    "intervention",
    "comparator",
    "outcome_type",
    "intervention_events",
    "intervention_group_size",
    "comparator_events",
    "comparator_group_size",
    "intervention_mean",
    "intervention_standard_deviation",
    "comparator_mean",
    "comparator_standard_deviation",
    "notes",
    "split",
)
_FLAGS = ("is_data_in_figure_graphics", "is_relevant_data_in_table", "is_table_in_graphic_format", "is_data_complete")
_PMCID_RE = re.compile(r"^(?:PMC)?(\d+)$", re.I)
_SIDES = (("OG000", "intervention"), ("OG001", "comparator"))
_BINARY_COLS = ("events", "group_size")
_CONTINUOUS_COLS = ("mean", "standard_deviation", "group_size")


def resolve_path(path: str | os.PathLike) -> Path:
    """The CSV itself, or ``<dir>/annotated_rct_dataset.csv`` for the shared-data directory."""
    p = Path(path)
    if p.is_dir():
        p = p / FILE_NAME
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    return p


def _read_rows(path: Path) -> list[dict]:
    """Every cell as text (empty cell -> None), so numbers keep the text they were annotated as ("1,078")."""
    df = pl.read_csv(io.BytesIO(path.read_bytes()), infer_schema_length=0)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RecordError(path.name, "header", f"missing column(s) {', '.join(missing)}", "bad_header")
    return df.to_dicts()


def _checked(fn, raw, tid: str, column: str, rid):
    """Parse one numeric cell; an error names the trial and the CSV column (and the row id in the message)."""
    try:
        return fn(raw, tid, column)
    except RecordError as e:
        raise RecordError(tid, column, f"row id={rid}: {e.message}", e.reason) from None


def study_rows(pmcid: str, rows: list[dict], source_version: str = SOURCE_VERSION) -> StudyRows:
    """All ICO rows of one article -> its rows. Raises RecordError naming the trial and the column."""
    tid = f"{SOURCE}/PMC{pmcid}"
    out = StudyRows()
    out.add(
        "trials",
        trial_row(
            trial_id=tid,
            nct_id=None,
            source=SOURCE,
            source_version=source_version,
            study_type_raw="INTERVENTIONAL",
            allocation_raw="RANDOMIZED",
        ),
    )

    arm_titles: list[str] = []
    for r in rows:
        for _, side in _SIDES:
            text = r.get(side)
            if text is None or not str(text).strip():
                raise RecordError(tid, side, f"row id={r.get('id')}: empty {side} text", "missing_value")
            if text not in arm_titles:
                arm_titles.append(text)
    for i, title in enumerate(arm_titles):
        out.add("arms", arm_row(trial_id=tid, index=i, title=title))

    for oi, r in enumerate(rows):
        rid = r.get("id")
        kind = (r.get("outcome_type") or "").strip().lower()
        if kind not in ("binary", "continuous"):
            raise RecordError(
                tid,
                "outcome_type",
                f"row id={rid}: expected binary or continuous, got {r.get('outcome_type')!r}",
                "unknown_enum",
            )
        if r.get("outcome") is None or not str(r["outcome"]).strip():
            raise RecordError(tid, "outcome", f"row id={rid}: empty outcome text", "missing_value")
        # Every numeric cell is checked first, so an error names the CSV column, not a derived field.
        for _, side in _SIDES:
            for col, fn in (
                (f"{side}_events", parse_int),
                (f"{side}_group_size", parse_int),
                (f"{side}_mean", parse_number),
                (f"{side}_standard_deviation", parse_float),
            ):
                _checked(fn, r.get(col), tid, col, rid)

        desc = [
            f"id={rid}",
            f"evidence_inference_prompt_id={r.get('evidence_inference_prompt_id')}",
            f"split={r.get('split')}",
            f"outcome_type={kind}",
        ]
        desc += [f"{f}={r[f]}" for f in _FLAGS if r.get(f) is not None]
        o = out.add(
            "outcomes",
            outcome_row(
                trial_id=tid,
                index=oi,
                outcome_type_raw=None,
                title=r["outcome"],
                description="; ".join(desc),
                param_type_raw="COUNT_OF_PARTICIPANTS" if kind == "binary" else "MEAN",
                dispersion_type_raw=None if kind == "binary" else "STANDARD_DEVIATION",
                unit_of_measure="Participants" if kind == "binary" else None,
            ),
        )
        for mi, (code, side) in enumerate(_SIDES):
            out.add("arms", result_group_row(trial_id=tid, outcome_id=o["outcome_id"], code=code, title=r[side]))
            used = _BINARY_COLS if kind == "binary" else _CONTINUOUS_COLS
            unused = [c for c in set(_BINARY_COLS + _CONTINUOUS_COLS) - set(used) if r.get(f"{side}_{c}") is not None]
            comment = r.get("notes")
            if unused:
                extra = "; ".join(f"{side}_{c}={r[f'{side}_{c}']}" for c in sorted(unused))
                extra = f"not used for a {kind} outcome: {extra}"
                comment = f"{comment} | {extra}" if comment else extra
            n = r.get(f"{side}_group_size")
            out.add(
                "measurements",
                measurement_row(
                    outcome=o,
                    index=mi,
                    group_code=code,
                    group_title=r[side],
                    value=r.get(f"{side}_events") if kind == "binary" else r.get(f"{side}_mean"),
                    spread=None if kind == "binary" else r.get(f"{side}_standard_deviation"),
                    n=n,
                    n_units="Participants" if n is not None else None,
                    comment=comment,
                ),
            )
    return out


def iter_studies(
    path: str | os.PathLike,
    *,
    strict: bool = False,
    report: IngestReport | None = None,
    source_version: str = SOURCE_VERSION,
) -> Iterator[StudyRows]:
    """Rows of every readable trial (one per pmcid). Strict: the first bad record raises. Lenient: the trial (or a
    row that names no trial) is skipped and the reason counted in ``report``; ``report.rows_read`` counts CSV rows.
    """
    report = report if report is not None else IngestReport()
    p = resolve_path(path)
    try:
        rows = _read_rows(p)
    except RecordError as err:
        if strict:
            raise
        report.read += 1
        report.skip(err)
        return
    report.rows_read = getattr(report, "rows_read", 0) + len(rows)
    by_trial: dict[str, list[dict]] = {}
    for r in rows:
        m = _PMCID_RE.match(str(r.get("pmcid") or "").strip())
        if not m:
            err = RecordError(f"{p.name}:row id={r.get('id')}", "pmcid", f"not a PMC id: {r.get('pmcid')!r}", "no_id")
            if strict:
                raise err
            report.read += 1
            report.skip(err)
            continue
        by_trial.setdefault(m.group(1), []).append(r)
    yield from report.each(by_trial.items(), lambda kv: study_rows(kv[0], kv[1], source_version), strict)


def read(
    path: str | os.PathLike, *, strict: bool = False, source_version: str = SOURCE_VERSION
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read the annotated CSV (or the directory holding it) into the six tables.

    >>> tables, report = read("../shared/data/llm_meta_analysis")  # doctest: +SKIP
    >>> tables["trials"].num_rows  # doctest: +SKIP
    120
    """
    report = IngestReport()
    studies = iter_studies(path, strict=strict, report=report, source_version=source_version)
    return collect(studies, report, strict), report
