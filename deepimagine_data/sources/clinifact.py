"""CliniFact (Zhang et al., Scientific Data 2025) -> the normalized trial model.

CliniFact derives 1,970 clinical-research claims from the primary outcomes and hypothesis-test results that 992
trials posted on ClinicalTrials.gov, and links them to publications. Each CSV row is one claim about one
intervention-vs-comparator comparison of one primary outcome, with the registry's texts (outcome title and
description, group titles and descriptions, arm group types) and the comparison's analyses as stringified Python
lists (``pValues``, ``statisticalMethods``, ``nonInferiorityTypes``). Only the trial side is kept here: claims,
labels and the linked articles are not part of the trial model (rows are still counted, ``report.rows_read``).

Mapping (one trial per ``nctId``, over the train/validation/test CSVs):

- ``trials``: ``trial_id = "clinifact/<NCT id>"``, ``nct_id`` set. The prefix keeps the trial apart from the same
  NCT id read from ClinicalTrials.gov/AACT in a combined build.
- ``arms``: one protocol arm per distinct (group title, arm group type) of the trial, and per outcome two result
  groups: ``OG000`` = the intervention group, ``OG001`` = the comparator group, each with the group description of
  that outcome's row. (The descriptions are the registry's result-group descriptions and differ between outcomes of
  one trial, e.g. NCT00218296; a protocol arm keeps a description only where all its rows agree.)
- ``outcomes``: one per distinct (outcome type, title, description). The description is part of the key because
  CliniFact has same-titled outcomes that are distinct registry measures (NCT00537303: per-protocol vs full
  analysis set; NCT02790788: five time points), which carry different p-values.
- ``analyses``: one per distinct (p-value, statistical method, non-inferiority type) of the outcome's rows, group
  codes ``[OG000, OG001]``. The three lists are read with :func:`ast.literal_eval`, accepting only a list of
  strings. ``pValues`` and ``statisticalMethods`` must have equal length; ``nonInferiorityTypes`` is either as
  long or, as in every row of the release, a single value that applies to all the row's analyses (CliniFact keeps
  the distinct non-inferiority types of a comparison).
- ``interventions`` and ``measurements``: none (the rows name no interventions and give no per-group values).

Example record (``test_set.csv``, abbreviated)::

    nctId=NCT00271596, outcome_type=PRIMARY,
    outcome_title="Executive Function Composite Score Comparing Visit 2 (Week 0) to Visits 5 (Week 12) & 6
    (Week 15) for the Citalopram Cohort Versus Placebo Cohort.",
    intervention_group_title=Citalopram, intervention_group_description="20mg daily citalopram",
    comparator_group_title=Placebo, comparator_group_description="Matching daily placebo",
    intervention_group_arm_group_type=EXPERIMENTAL, comparator_group_arm_group_type=PLACEBO_COMPARATOR,
    pValues="['0.092']", statisticalMethods="['2-tailed linear treatment contrast']",
    nonInferiorityTypes="['Superiority or Other']", label=2, claim="Citalopram is superior or other to ..."

becomes the analysis ``clinifact/NCT00271596:O0:S0`` with ``p_value=0.092``, ``statistical_method="2-tailed linear
treatment contrast"`` and ``non_inferiority_type=SUPERIORITY_OR_OTHER``.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from ..errors import IngestReport, RecordError
from ..parse import ARM_TYPE, NON_INFERIORITY, OUTCOME_TYPE, check_text, parse_number
from ..rows import StudyRows, analysis_row, arm_row, outcome_row, result_group_row, trial_row
from ..tables import collect

_NAME = "clinifact"
_DESCRIPTION = (
    "Trial-side content of CliniFact: primary outcomes, intervention/comparator groups and the hypothesis-test "
    "results (p-values, statistical methods, non-inferiority types) of 992 ClinicalTrials.gov trials."
)
_CITATION = """\
@article{zhang2025clinifact,
  title   = {A dataset for evaluating clinical research claims in large language models},
  author  = {Zhang, Boya and Bornet, Alban and Yazdani, Anthony and Khlebnikov, Philipp and Milutinovic, Marija and
             Rouhizadeh, Hossein and Amini, Poorya and Teodoro, Douglas},
  journal = {Scientific Data},
  volume  = {12},
  number  = {1},
  pages   = {86},
  year    = {2025},
  doi     = {10.1038/s41597-025-04417-x}
}
"""
_LICENSE = "MIT (per the repository README; no LICENSE file in the tree)"
_HOMEPAGE = "https://github.com/ds4dh/CliniFact"
SOURCE_VERSION = "ds4dh/CliniFact@77f8c19844fd4113aa051f867b4d7a8ce5c3a879"

SOURCE = _NAME
LICENSE = _LICENSE
ARCHIVE_NAME = "clinifact_processed.tar.gz"
SPLITS = ("train", "validation", "test")
_MEMBER_RE = re.compile(r"(?:^|/)primary_outcome_publication_dataset/(train|validation|test)_set\.csv$")
_NCT_RE = re.compile(r"^NCT\d{8}$")
_LIST_MAX = 100_000  # characters of one stringified list: far above any real cell, refuses a pasted file

REQUIRED_COLUMNS = (
    "index",
    "nctId",
    "outcome_type",
    "outcome_title",
    "outcome_description",
    "intervention_group_title",
    "comparator_group_title",
    "intervention_group_description",
    "comparator_group_description",
    "intervention_group_arm_group_type",
    "comparator_group_arm_group_type",
    "pValues",
    "statisticalMethods",
    "nonInferiorityTypes",
)
_SIDES = (("OG000", "intervention"), ("OG001", "comparator"))


def _split_of(name: str) -> str | None:
    m = _MEMBER_RE.search(name.replace(os.sep, "/"))
    if m:
        return m.group(1)
    m = re.fullmatch(r"(train|validation|test)_set\.csv", Path(name).name)
    return m.group(1) if m else None


def iter_csv_files(path: str | os.PathLike) -> Iterator[tuple[str | None, str, bytes]]:
    """``(split, name, bytes)`` of the dataset CSVs, in split order: from the release archive (or the directory
    holding it), an extracted tree, one ``<split>_set.csv``, or a combined CSV of all splits (any other ``.csv``,
    e.g. the embedded snapshot's ``clinifact_registry_side.csv``, which has a ``split`` column; ``split`` is then
    None and each row's own ``split`` cell is used)."""
    p = Path(path)
    if p.is_dir() and (p / ARCHIVE_NAME).exists():
        p = p / ARCHIVE_NAME
    found: dict[str, tuple[str, bytes]] = {}
    if p.is_file() and p.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(p) as tf:
            for m in tf.getmembers():
                split = _split_of(m.name) if m.isfile() else None
                if split and _MEMBER_RE.search(m.name):
                    fh = tf.extractfile(m)
                    if fh is not None:
                        found[split] = (m.name, fh.read())
    elif p.is_file():
        split = _split_of(p.name)
        if split is None:
            yield None, p.name, p.read_bytes()
            return
        found[split] = (p.name, p.read_bytes())
    elif p.is_dir():
        for f in sorted(p.rglob("*_set.csv")):
            rel = str(f.relative_to(p))
            split = _split_of(rel)
            if split and (_MEMBER_RE.search(rel.replace(os.sep, "/")) or f.parent == p):
                found.setdefault(split, (rel, f.read_bytes()))
        if not found:
            combined = sorted(f for f in p.glob("*.csv") if f.is_file())
            for f in combined:
                yield None, f.name, f.read_bytes()
            if combined:
                return
    else:
        raise FileNotFoundError(f"no such file or directory: {p}")
    if not found:
        raise FileNotFoundError(f"no CliniFact {'/'.join(SPLITS)}_set.csv under {p}")
    for split in SPLITS:
        if split in found:
            yield split, *found[split]


def _read_rows(name: str, data: bytes) -> list[dict]:
    df = pl.read_csv(io.BytesIO(data), infer_schema_length=0)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RecordError(Path(name).name, "header", f"missing column(s) {', '.join(missing)}", "bad_header")
    return df.to_dicts()


def parse_str_list(raw, tid: str, column: str, where: str) -> list[str]:
    """``"['0.092', '<0.001']"`` -> ``['0.092', '<0.001']``. Anything but a literal list of strings (a call, a
    number, a nested list, a malformed literal) is a RecordError naming the trial and the column."""
    if raw is None:
        return []
    s = str(raw).strip()
    if not s:
        return []
    if len(s) > _LIST_MAX:
        raise RecordError(tid, column, f"{where}: list text of {len(s):,} characters", "too_long")
    try:
        value = ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise RecordError(tid, column, f"{where}: not a literal list of strings: {s[:80]!r}", "bad_list") from None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise RecordError(tid, column, f"{where}: expected a list of strings, got {s[:80]!r}", "bad_list")
    return value


def study_rows(nct: str, rows: list[tuple[str, dict]], source_version: str = SOURCE_VERSION) -> StudyRows:
    """All claim rows ``(file label, row)`` of one trial -> its rows. Raises RecordError naming the trial and the
    column (the message names the file and CliniFact's row ``index``)."""
    tid = f"{SOURCE}/{nct}"
    out = StudyRows()
    out.add("trials", trial_row(trial_id=tid, nct_id=nct, source=SOURCE, source_version=source_version))

    arms: dict[tuple, set] = {}  # (title, arm group type) -> the group descriptions seen with it
    outcomes: dict[tuple, dict] = {}  # key -> {"groups": ..., "analyses": [...], "where": ...}
    for label, r in rows:
        where = f"{label} index={r.get('index')}"
        groups = []
        for _, side in _SIDES:
            title = check_text(r.get(f"{side}_group_title"), tid, f"{side}_group_title")
            if title is None or not title.strip():
                raise RecordError(tid, f"{side}_group_title", f"{where}: empty group title", "missing_value")
            desc = check_text(r.get(f"{side}_group_description"), tid, f"{side}_group_description")
            arm_type = r.get(f"{side}_group_arm_group_type")
            ARM_TYPE.parse(arm_type, tid, f"{side}_group_arm_group_type")
            groups.append((title, desc))
            arms.setdefault((title, arm_type), set()).add(desc)
        otype = r.get("outcome_type")
        OUTCOME_TYPE.parse(otype, tid, "outcome_type")
        otitle = r.get("outcome_title")
        if otitle is None or not str(otitle).strip():
            raise RecordError(tid, "outcome_title", f"{where}: empty outcome title", "missing_value")
        key = (otype, otitle, r.get("outcome_description"))
        o = outcomes.setdefault(key, {"groups": tuple(groups), "analyses": [], "where": where})
        if o["groups"] != tuple(groups):
            raise RecordError(
                tid,
                "intervention_group_title",
                f"{where}: outcome {otitle[:60]!r} compares {groups[0][0]!r} vs {groups[1][0]!r} "
                f"but {o['where']} compares {o['groups'][0][0]!r} vs {o['groups'][1][0]!r}",
                "conflict",
            )

        pvals = parse_str_list(r.get("pValues"), tid, "pValues", where)
        methods = parse_str_list(r.get("statisticalMethods"), tid, "statisticalMethods", where)
        nis = parse_str_list(r.get("nonInferiorityTypes"), tid, "nonInferiorityTypes", where)
        if len(methods) != len(pvals):
            raise RecordError(
                tid,
                "statisticalMethods",
                f"{where}: {len(methods)} statistical methods for {len(pvals)} p-values",
                "length_mismatch",
            )
        if len(nis) == 1:
            nis = nis * len(pvals)
        elif len(nis) != len(pvals):
            raise RecordError(
                tid,
                "nonInferiorityTypes",
                f"{where}: {len(nis)} non-inferiority types for {len(pvals)} p-values",
                "length_mismatch",
            )
        for p, m, ni in zip(pvals, methods, nis, strict=True):
            # a bad value names the CSV column (and the row) before analysis_row would name a derived field
            try:
                value, _ = parse_number(p, tid, "pValues")
                NON_INFERIORITY.parse(ni, tid, "nonInferiorityTypes")
            except RecordError as e:
                raise RecordError(tid, e.field, f"{where}: {e.message}", e.reason) from None
            if value is not None and not 0.0 <= value <= 1.0:
                raise RecordError(tid, "pValues", f"{where}: p-value {p!r} outside [0, 1]", "bad_number")
            if (p, m, ni) not in o["analyses"]:
                o["analyses"].append((p, m, ni))

    for i, ((title, arm_type), descs) in enumerate(arms.items()):
        # The group descriptions are those of each outcome's result groups and may differ between outcomes; the
        # protocol arm carries one only where they agree (the result groups keep their own).
        desc = next(iter(descs)) if len(descs) == 1 else None
        out.add("arms", arm_row(trial_id=tid, index=i, title=title, description=desc, arm_type_raw=arm_type))
    for oi, ((otype, otitle, odesc), o) in enumerate(outcomes.items()):
        orow = out.add(
            "outcomes", outcome_row(trial_id=tid, index=oi, outcome_type_raw=otype, title=otitle, description=odesc)
        )
        for (code, _), (title, desc) in zip(_SIDES, o["groups"], strict=True):
            out.add(
                "arms",
                result_group_row(trial_id=tid, outcome_id=orow["outcome_id"], code=code, title=title, description=desc),
            )
        for ai, (p, m, ni) in enumerate(o["analyses"]):
            out.add(
                "analyses",
                analysis_row(
                    outcome=orow,
                    index=ai,
                    group_codes=[c for c, _ in _SIDES],
                    p_value=p,
                    statistical_method=m or None,
                    non_inferiority_type_raw=ni,
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
    """Rows of every readable trial (one per nctId across the splits). Strict: the first bad record raises.
    Lenient: the trial (or a row that names no trial) is skipped and the reason counted in ``report``;
    ``report.rows_read`` counts CSV rows (claims)."""
    report = report if report is not None else IngestReport()
    by_trial: dict[str, list[tuple[str, dict]]] = {}
    for split, name, data in iter_csv_files(path):
        try:
            rows = _read_rows(name, data)
        except RecordError as err:
            if strict:
                raise
            report.read += 1
            report.skip(err)
            continue
        report.rows_read = getattr(report, "rows_read", 0) + len(rows)
        for r in rows:
            label = (
                f"{split}_set.csv"
                if split
                else (f"{Path(name).name} split={r['split']}" if r.get("split") else Path(name).name)
            )
            nct = str(r.get("nctId") or "").strip()
            if not _NCT_RE.match(nct):
                err = RecordError(f"{label} index={r.get('index')}", "nctId", f"not an NCT id: {nct!r}", "no_id")
                if strict:
                    raise err
                report.read += 1
                report.skip(err)
                continue
            by_trial.setdefault(nct, []).append((label, r))
    yield from report.each(by_trial.items(), lambda kv: study_rows(kv[0], kv[1], source_version), strict)


def read(
    path: str | os.PathLike, *, strict: bool = False, source_version: str = SOURCE_VERSION
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read CliniFact (the release archive, the directory holding it, an extracted tree, one split CSV or a combined
    CSV such as the embedded snapshot's) into the six tables.

    >>> tables, report = read("../shared/data/clinifact")  # doctest: +SKIP
    >>> tables["trials"].num_rows  # doctest: +SKIP
    992
    """
    report = IngestReport()
    studies = iter_studies(path, strict=strict, report=report, source_version=source_version)
    return collect(studies, report, strict), report
