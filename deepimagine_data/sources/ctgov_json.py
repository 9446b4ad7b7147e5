"""ClinicalTrials.gov API v2 JSON -> the normalized trial model.

Reads single study files (``NCT00763412.json``), JSON-lines files (one study per line, as written by
``deepimagine download ctgov``) and API page files (``{"studies": [...], "nextPageToken": ...}``), plain or
gzip-compressed. Every arm group, intervention, outcome measure (groups, classes, categories, measurements)
and analysis in ``resultsSection`` becomes a row.

Example record (NCT02210780, one analysis of its primary outcome, as posted)::

    {"groupIds": ["OG000", "OG001"], "nonInferiorityType": "SUPERIORITY", "pValue": "<0.0001",
     "statisticalMethod": "Cochran-Mantel-Haenszel", "paramType": "Percentage Difference",
     "paramValue": "34.0", "ciPctValue": "90", "ciNumSides": "TWO_SIDED", "ciLowerLimit": "24.29",
     "ciUpperLimit": "43.75"}

becomes an ``analyses`` row with ``p_value=0.0001, p_value_modifier="<", p_value_raw="<0.0001"``.

Citation: ClinicalTrials.gov API v2, U.S. National Library of Medicine, https://clinicaltrials.gov/data-api/api
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

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
from ..tables import collect

_NAME = "ctgov_api_v2"
_DESCRIPTION = "ClinicalTrials.gov API v2 studies: study .json files, JSONL shards of `download ctgov`, API pages, .gz"
_CITATION = "ClinicalTrials.gov API v2, U.S. National Library of Medicine"
_LICENSE = "ClinicalTrials.gov records: public domain (U.S. NLM terms of use)"
_HOMEPAGE = "https://clinicaltrials.gov/data-api/api"
SOURCE = _NAME
LICENSE = _LICENSE


class FileError(RecordError):
    """A whole file that cannot be read (decompression, decoding, I/O): skipped whole in lenient mode."""


def _open_bytes(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _check_gzip(path: Path) -> None:
    """Decompress the whole file once before any record of it is used: a truncated or corrupt .gz is skipped
    whole, never half read (its CRC is checked only at the end). zlib is fed 16 KiB at a time, so the error
    names the bytes of the file where the data broke."""
    piece = 1 << 14
    n = pos = 0  # bytes of data out, bytes of the file in
    d, started = zlib.decompressobj(wbits=31), False  # 31: a gzip member, its header and CRC checked
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for i in range(0, len(chunk), piece):
                data = chunk[i : i + piece]
                while data:
                    if d.eof:  # a further member (gzip allows several), or the zero padding some tools add
                        if not data.strip(b"\0"):
                            break
                        d = zlib.decompressobj(wbits=31)
                    started = True
                    try:
                        n += len(d.decompress(data))
                    except zlib.error as e:
                        what = "not a gzip file" if n == 0 and "header" in str(e) else "corrupt gzip data"
                        end = pos + len(chunk[i : i + piece])
                        msg = f"{what} (zlib: {e}, in bytes {pos:,}-{end:,} of the file)"
                        raise FileError(path.name, "gzip", msg, "bad_gzip") from None
                    data = d.unused_data if d.eof else b""
                pos += len(chunk[i : i + piece])
    if not started or not d.eof:
        msg = (
            f"truncated gzip file: its {pos:,} bytes end before the end of the gzip stream (after {n:,} bytes of data)"
            if pos
            else "an empty file, no gzip data"
        )
        raise FileError(path.name, "gzip", msg, "bad_gzip")


def _bad_utf8(data: bytes, e: UnicodeDecodeError, base: int, gz: bool) -> str:
    where = "decompressed data" if gz else "file"
    return f"invalid UTF-8 (byte 0x{data[e.start]:02x} at byte {base + e.start:,} of the {where})"


def _file_studies(p: Path, report: IngestReport, strict: bool) -> Iterator[tuple[str, dict]]:
    gz = p.suffix == ".gz"
    if gz:
        try:
            _check_gzip(p)
        except OSError as e:
            raise FileError(p.name, "read", f"cannot be read ({e})", "unreadable") from None
    lineno = 0
    try:
        with _open_bytes(p) as fh:
            if p.name.removesuffix(".gz").endswith(".jsonl"):
                offset = 0
                for lineno, raw in enumerate(fh, 1):
                    start, offset = offset, offset + len(raw)
                    where = f"{p.name}:{lineno}"
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as e:
                        err = RecordError(where, "encoding", _bad_utf8(raw, e, start, gz), "bad_utf8")
                        if strict:
                            raise err from None
                        report.read += 1
                        report.skip(err)
                        continue
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        err = RecordError(
                            where, "json", f"malformed JSON line ({e.msg} at column {e.colno})", "bad_json"
                        )
                        if strict:
                            raise err from None
                        report.read += 1
                        report.skip(err)
                        continue
                    yield from _unwrap(obj, where)
                return
            data = fh.read()
    except (OSError, EOFError, zlib.error) as e:
        # after the gzip check only an I/O error (or a file changed meanwhile) gets here
        at = f" after line {lineno:,}" if lineno else ""
        raise FileError(p.name, "read", f"cannot be read{at} ({type(e).__name__}: {e})", "unreadable") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FileError(p.name, "encoding", f"{_bad_utf8(data, e, 0, gz)}, line {line}", "bad_utf8") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileError(p.name, "json", f"malformed JSON ({e.msg} at line {e.lineno})", "bad_json") from None
    yield from _unwrap(obj, p.name)


def iter_raw_studies(
    paths: Iterable[str | os.PathLike], report: IngestReport | None = None, strict: bool = False
) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, study_json)`` from files or directories. A line that is not JSON or not UTF-8 is an error
    naming the file and line; a file that cannot be read whole (a truncated or fake .gz, invalid UTF-8 in a .json)
    one naming the file and byte offset. Lenient mode skips and counts them; one bad file never stops the others."""
    report = report if report is not None else IngestReport()
    for p in _expand(paths):
        try:
            yield from _file_studies(p, report, strict)
        except FileError as err:
            if strict:
                raise
            report.read += 1
            report.skip(err)


def _expand(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                # a download folder holds manifest.json beside its shards: it describes them, it is no study
                if child.name == "manifest.json":
                    continue
                if child.is_file() and child.name.removesuffix(".gz").endswith((".json", ".jsonl")):
                    yield child
        elif p.exists():
            yield p
        else:
            raise FileNotFoundError(f"no such file or directory: {p}")


def _unwrap(obj, where: str) -> Iterator[tuple[str, dict]]:
    if isinstance(obj, dict) and isinstance(obj.get("studies"), list):
        for i, s in enumerate(obj["studies"]):
            yield f"{where}#studies[{i}]", s
    else:
        yield where, obj


def study_rows(study: dict, where: str = "?", source_version: str = "api-v2") -> StudyRows:
    """One API v2 study -> its rows. Raises RecordError naming the NCT id and field."""
    if not isinstance(study, dict):
        raise RecordError(where, "study", f"expected a JSON object, got {type(study).__name__}", "bad_type")
    ps = _obj(study.get("protocolSection"), where, "protocolSection")
    ident = _obj(ps.get("identificationModule"), where, "protocolSection.identificationModule")
    nct = ident.get("nctId")
    if not isinstance(nct, str) or not nct.strip():
        raise RecordError(where, "identificationModule.nctId", "missing NCT id", "no_id")
    rs = study.get("resultsSection")
    if not isinstance(rs, dict) or not rs:
        raise RecordError(nct, "resultsSection", "study has no posted results (resultsSection missing)", "no_results")
    status = _obj(ps.get("statusModule"), nct, "statusModule")
    sponsor = _obj(ps.get("sponsorCollaboratorsModule"), nct, "sponsorCollaboratorsModule")
    lead = _obj(sponsor.get("leadSponsor"), nct, "leadSponsor")
    cond = _obj(ps.get("conditionsModule"), nct, "conditionsModule")
    design = _obj(ps.get("designModule"), nct, "designModule")
    dinfo = _obj(design.get("designInfo"), nct, "designInfo")
    mask = _obj(dinfo.get("maskingInfo"), nct, "maskingInfo")
    enr = _obj(design.get("enrollmentInfo"), nct, "enrollmentInfo")
    elig = _obj(ps.get("eligibilityModule"), nct, "eligibilityModule")
    locs = _obj(ps.get("contactsLocationsModule"), nct, "contactsLocationsModule")
    derived = _obj(study.get("derivedSection"), nct, "derivedSection")
    cbm = _obj(derived.get("conditionBrowseModule"), nct, "conditionBrowseModule")
    ibm = _obj(derived.get("interventionBrowseModule"), nct, "interventionBrowseModule")

    def date(key):
        return _obj(status.get(key), nct, key).get("date")

    out = StudyRows()
    out.add(
        "trials",
        trial_row(
            trial_id=nct,
            nct_id=nct,
            source=SOURCE,
            source_version=source_version,
            brief_title=ident.get("briefTitle"),
            official_title=ident.get("officialTitle"),
            acronym=ident.get("acronym"),
            overall_status_raw=status.get("overallStatus"),
            study_type_raw=design.get("studyType"),
            phase_raw=design.get("phases"),
            conditions=cond.get("conditions"),
            keywords=cond.get("keywords"),
            mesh_conditions=[m.get("term") for m in _objs(cbm.get("meshes"), nct, "conditionBrowseModule.meshes")],
            mesh_interventions=[
                m.get("term") for m in _objs(ibm.get("meshes"), nct, "interventionBrowseModule.meshes")
            ],
            countries=[loc.get("country") for loc in _objs(locs.get("locations"), nct, "locations")],
            enrollment_raw=enr.get("count"),
            enrollment_type=enr.get("type"),
            allocation_raw=dinfo.get("allocation"),
            intervention_model_raw=dinfo.get("interventionModel"),
            primary_purpose_raw=dinfo.get("primaryPurpose"),
            masking_raw=mask.get("masking"),
            eligibility_criteria=elig.get("eligibilityCriteria"),
            sex=elig.get("sex"),
            minimum_age=elig.get("minimumAge"),
            maximum_age=elig.get("maximumAge"),
            healthy_volunteers=elig.get("healthyVolunteers"),
            lead_sponsor=lead.get("name"),
            sponsor_class=lead.get("class"),
            start_date_raw=date("startDateStruct"),
            primary_completion_date_raw=date("primaryCompletionDateStruct"),
            completion_date_raw=date("completionDateStruct"),
            results_first_posted_date_raw=date("resultsFirstPostDateStruct"),
            has_results=study.get("hasResults", True),
        ),
    )

    aim = _obj(ps.get("armsInterventionsModule"), nct, "armsInterventionsModule")
    for i, a in enumerate(_list(aim.get("armGroups"), nct, "armGroups")):
        a = _obj(a, nct, f"armGroups[{i}]")
        out.add(
            "arms",
            arm_row(
                trial_id=nct,
                index=i,
                title=a.get("label"),
                description=a.get("description"),
                arm_type_raw=a.get("type"),
                intervention_names=a.get("interventionNames"),
            ),
        )
    for i, iv in enumerate(_list(aim.get("interventions"), nct, "interventions")):
        iv = _obj(iv, nct, f"interventions[{i}]")
        out.add(
            "interventions",
            intervention_row(
                trial_id=nct,
                index=i,
                type_raw=iv.get("type"),
                name=iv.get("name"),
                other_names=iv.get("otherNames"),
                description=iv.get("description"),
                arm_labels=iv.get("armGroupLabels"),
            ),
        )

    omm = _obj(rs.get("outcomeMeasuresModule"), nct, "outcomeMeasuresModule")
    for oi, om in enumerate(_list(omm.get("outcomeMeasures"), nct, "outcomeMeasures")):
        _outcome(out, nct, oi, _obj(om, nct, f"outcomeMeasures[{oi}]"))
    return out


def _outcome(out: StudyRows, nct: str, oi: int, om: dict) -> None:
    o = out.add(
        "outcomes",
        outcome_row(
            trial_id=nct,
            index=oi,
            outcome_type_raw=om.get("type"),
            title=om.get("title"),
            description=om.get("description"),
            time_frame=om.get("timeFrame"),
            population_description=om.get("populationDescription"),
            param_type_raw=om.get("paramType"),
            dispersion_type_raw=om.get("dispersionType"),
            unit_of_measure=om.get("unitOfMeasure"),
            reporting_status=om.get("reportingStatus"),
        ),
    )
    f = f"outcomeMeasures[{oi}]"
    titles = {}
    for g in _list(om.get("groups"), nct, f"{f}.groups"):
        g = _obj(g, nct, f"{f}.groups[]")
        row = result_group_row(
            trial_id=nct,
            outcome_id=o["outcome_id"],
            code=g.get("id"),
            title=g.get("title"),
            description=g.get("description"),
        )
        if row["code"] is None:
            raise RecordError(nct, f"{f}.groups.id", "result group without an id", "no_id")
        if row["code"] in titles:  # two groups with one id would give two rows with one group_id
            raise RecordError(nct, f"{f}.groups.id", f"duplicate group id {row['code']!r}", "duplicate")
        out.add("arms", row)
        titles[row["code"]] = row["title"]

    # Denominators: the first denom ("Participants") is the n of each group; others (e.g. "Eyes") are units.
    denoms = _list(om.get("denoms"), nct, f"{f}.denoms")
    base_n, base_units = {}, None
    if denoms:
        d0 = _obj(denoms[0], nct, f"{f}.denoms[0]")
        base_units = d0.get("units")
        base_n = _counts(d0, nct, f"{f}.denoms[0]")

    mi = 0
    for ci, cl in enumerate(_list(om.get("classes"), nct, f"{f}.classes")):
        cl = _obj(cl, nct, f"{f}.classes[{ci}]")
        cls_n, cls_units = base_n, base_units
        cdenoms = _list(cl.get("denoms"), nct, f"{f}.classes[{ci}].denoms")
        if cdenoms:  # a class may carry its own denominators (e.g. participants analysed at that visit)
            d0 = _obj(cdenoms[0], nct, f"{f}.classes[{ci}].denoms[0]")
            cls_units = d0.get("units")
            cls_n = _counts(d0, nct, f"{f}.classes[{ci}].denoms[0]")
        for ki, cat in enumerate(_list(cl.get("categories"), nct, f"{f}.classes[{ci}].categories")):
            cat = _obj(cat, nct, f"{f}.classes[{ci}].categories[{ki}]")
            for m in _list(cat.get("measurements"), nct, f"{f}.classes[{ci}].categories[{ki}].measurements"):
                m = _obj(m, nct, f"{f}.measurements[]")
                code = m.get("groupId")
                if not isinstance(code, str) or code not in titles:
                    raise RecordError(
                        nct,
                        f"{f}.measurements.groupId",
                        f"group {code!r} is not a group of this outcome",
                        "bad_reference",
                    )
                out.add(
                    "measurements",
                    measurement_row(
                        outcome=o,
                        index=mi,
                        group_code=code,
                        group_title=titles[code],
                        value=m.get("value"),
                        spread=m.get("spread"),
                        lower_limit=m.get("lowerLimit"),
                        upper_limit=m.get("upperLimit"),
                        n=cls_n.get(code),
                        n_units=cls_units,
                        class_title=cl.get("title"),
                        category_title=cat.get("title"),
                        comment=m.get("comment"),
                    ),
                )
                mi += 1

    for ai, an in enumerate(_list(om.get("analyses"), nct, f"{f}.analyses")):
        an = _obj(an, nct, f"{f}.analyses[{ai}]")
        codes = an.get("groupIds") or []
        for code in codes:
            if not isinstance(code, str) or code not in titles:
                raise RecordError(
                    nct,
                    f"{f}.analyses[{ai}].groupIds",
                    f"group {code!r} is not a group of this outcome",
                    "bad_reference",
                )
        out.add(
            "analyses",
            analysis_row(
                outcome=o,
                index=ai,
                group_codes=codes,
                group_description=an.get("groupDescription"),
                non_inferiority_type_raw=an.get("nonInferiorityType"),
                non_inferiority_comment=an.get("nonInferiorityComment"),
                p_value=an.get("pValue"),
                p_value_comment=an.get("pValueComment"),
                statistical_method=an.get("statisticalMethod"),
                statistical_comment=an.get("statisticalComment"),
                estimate_type=an.get("paramType"),
                estimate_value=an.get("paramValue"),
                estimate_comment=an.get("estimateComment"),
                dispersion_type=an.get("dispersionType"),
                dispersion_value=an.get("dispersionValue"),
                ci_percent=an.get("ciPctValue"),
                ci_sides_raw=an.get("ciNumSides"),
                ci_lower=an.get("ciLowerLimit"),
                ci_upper=an.get("ciUpperLimit"),
            ),
        )


def _obj(v, ctx, field) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise RecordError(ctx, field, f"expected an object, got {type(v).__name__}", "bad_type")
    return v


def _list(v, ctx, field) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        raise RecordError(ctx, field, f"expected a list, got {type(v).__name__}", "bad_type")
    return v


def _objs(v, ctx, field) -> list[dict]:
    """A list whose items must be JSON objects (a string or number there is a RecordError, not a crash)."""
    return [_obj(x, ctx, f"{field}[]") for x in _list(v, ctx, field)]


def _counts(denom: dict, ctx, field) -> dict:
    """``{groupId: count text}`` of one denominator."""
    out = {}
    for c in _objs(denom.get("counts"), ctx, f"{field}.counts"):
        gid = c.get("groupId")
        if gid is not None and not isinstance(gid, str):
            raise RecordError(
                ctx, f"{field}.counts.groupId", f"expected a group id, got {type(gid).__name__}", "bad_type"
            )
        out[gid] = c.get("value")
    return out


def iter_studies(
    paths: Iterable[str | os.PathLike],
    *,
    strict: bool = False,
    report: IngestReport | None = None,
    source_version: str = "api-v2",
) -> Iterator[StudyRows]:
    """Rows of every readable study. Strict: the first bad record raises. Lenient: it is skipped and its
    reason counted in ``report``."""
    report = report if report is not None else IngestReport()
    raw = iter_raw_studies(paths, report, strict)
    yield from report.each(raw, lambda ws: study_rows(ws[1], ws[0], source_version), strict)


def read(
    paths: Iterable[str | os.PathLike], *, strict: bool = False, source_version: str = "api-v2"
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read studies into the six tables.

    >>> tables, report = read(["NCT02210780.json"])  # doctest: +SKIP
    >>> tables["analyses"].num_rows  # doctest: +SKIP
    """
    report = IngestReport()
    studies = iter_studies(paths, strict=strict, report=report, source_version=source_version)
    return collect(studies, report, strict), report
