"""Arm-level dose-response trial data from the R packages MBNMAdose and DoseFinding -> the normalized trial model.

Only the datasets of real trials with per-arm summary values are read:

============  ===========  ===========================================================  ==================
dataset       package      outcome (from the package documentation)                     values per arm
============  ===========  ===========================================================  ==================
alog_pcfb     MBNMAdose    change from baseline in HbA1c, >= 12 weeks (14 RCTs)          y, se, n
gout          MBNMAdose    change from baseline in serum uric acid (mg/dL), 2 weeks      y, se
osteopain     MBNMAdose    WOMAC pain score, 2 weeks                                     y, se, n
psoriasis75   MBNMAdose    >=75% improvement in PASI at 12 weeks                         r, n
psoriasis90   MBNMAdose    >=90% improvement in PASI at 12 weeks                         r, n
psoriasis100  MBNMAdose    100% improvement in PASI at 12 weeks                          r, n
ssri          MBNMAdose    response (50% reduction in depressive symptoms), 4-12 weeks   r, n
triptans      MBNMAdose    headache-free at 2 hours                                      r, n
glycobrom     DoseFinding  trough FEV1 after 7 days (NCT00501852), LS means              fev1, sdev, n
migraine      DoseFinding  pain freedom at 2 hours postdose (NCT00712725)                painfree, ntrt
============  ===========  ===========================================================  ==================

Not read: ``MBNMAdose::ssi_closure`` (wound-closure methods, no doses) and ``DoseFinding::IBScovars`` (patient-level
data of one IBS trial whose dose levels were blinded to 0-4 and whose compound is not named: per-arm means could be
computed, but the arms would carry neither a drug nor a dose, so the set adds nothing a dose-response label can use).

Mapping:

- ``trials``: one per dataset and ``studyID``, ``trial_id = "dose_response/<dataset>/<studyID>"`` (``studyID`` as
  written, with R's ``1102.0`` for a numeric id written ``1102``; the single-trial DoseFinding sets use their NCT
  id). The three psoriasis sets are three outcomes of the same trials and merge into
  ``dose_response/psoriasis/<studyID>``. ``nct_id`` = the ``studyID`` where it is an NCT
  id (all of alog_pcfb, one psoriasis trial) and the documented registry id of glycobrom and migraine.
- ``arms``: one protocol arm per dose arm (agent + dose), titled from the source values: ``"Ixekizumab 80 mg Q2W"``
  (psoriasis: ``agent dose_mg mg freq``), ``"fluoxetine 20 mg"`` (ssri, documented in mg), ``"alogliptin 6.25"``
  where the dose is a *standardised* dose whose unit the source does not state (alog_pcfb, gout, osteopain,
  triptans, glycobrom, migraine): the title then carries no unit, ``dose_value`` holds the number with
  ``dose_unit`` null (unknown) and the description says ``"dose (units not stated in source): 6.25"``. Dose 0 is
  placebo in both packages: such arms are titled ``"Placebo"`` and carry ``dose_value`` 0 (``dose_text``
  ``"0 (placebo)"``, unit null), the zero point the packages' dose-response models give them. The weight-banded
  ustekinumab dose ``45/90`` mg keeps its text in the title, but the parsed dose is cleared (the parser would
  read "90 mg", which is only the dose above 100 kg).
- ``interventions``: one per agent as spelled in the source (gout abbreviates: Allo, Arha, Benz, Febu, Plac, RDEA).
  Dose-0 arms of a drug (alog_pcfb codes its placebo arms as ``alogliptin`` dose 0; glycobrom, migraine) get a
  ``Placebo`` intervention, the source's agent staying in the arm description. Migraine names no drug, so its
  active arms ("Dose 2.5", ...) have no intervention.
- ``outcomes`` / ``measurements``: one outcome per dataset (three for psoriasis), one result group ``OG00k`` and one
  measurement per arm. r/n -> ``COUNT_OF_PARTICIPANTS`` with ``value = r, n = n``; y/se(/n) -> ``MEAN`` (glycobrom:
  ``LEAST_SQUARES_MEAN``) with ``spread = se`` and dispersion ``STANDARD_ERROR``. DoseFinding documents glycobrom's
  ``sdev`` as "the standard errors of the least square means per dose", so it is recorded as a standard error.
- ``analyses``: none (the sources give none; nothing is computed).

Example record (``MBNMAdose__alog_pcfb.csv``)::

    studyID,agent,dose,y,se,n
    NCT01263470,alogliptin,6.25,-0.51,0.07650597726296963,79.0

becomes the arm ``dose_response/alog_pcfb/NCT01263470:A1`` titled ``"alogliptin 6.25"`` and the measurement
``value=-0.51, spread=0.0765..., dispersion_type=STANDARD_ERROR, n=79`` of the outcome "Change from baseline in
HbA1c".
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from ..errors import IngestReport, RecordError
from ..parse import parse_float, parse_int, parse_number
from ..rows import StudyRows, arm_row, intervention_row, measurement_row, outcome_row, result_group_row, trial_row
from ..tables import collect

_NAME = "dose_response"
_DESCRIPTION = (
    "Per-arm summary results of real dose-ranging and multi-dose randomized trials shipped with the R packages "
    "MBNMAdose (alogliptin, gout, osteoarthritis pain, psoriasis biologics, SSRIs, triptans) and DoseFinding "
    "(glycopyrronium bromide NCT00501852, migraine NCT00712725)."
)
_CITATION = """\
@article{pedder2021joining,
  title   = {Joining the Dots: Linking Disconnected Networks of Evidence Using Dose-Response Model-Based Network
             Meta-Analysis},
  author  = {Pedder, Hugo and Dias, Sofia and Bennetts, Meg and Boucher, Martin and Welton, Nicky J.},
  journal = {Medical Decision Making},
  volume  = {41},
  number  = {2},
  pages   = {194--208},
  year    = {2021},
  doi     = {10.1177/0272989X20983315}
}
@article{bornkamp2009mcpmod,
  title   = {{MCPMod}: An {R} Package for the Design and Analysis of Dose-Finding Studies},
  author  = {Bornkamp, Bj{\\"o}rn and Pinheiro, Jos{\\'e} and Bretz, Frank},
  journal = {Journal of Statistical Software},
  volume  = {29},
  number  = {7},
  pages   = {1--23},
  year    = {2009},
  doi     = {10.18637/jss.v029.i07}
}
"""
_LICENSE = "GPL-3.0 (R packages MBNMAdose and DoseFinding)"
_HOMEPAGE = "https://github.com/hugaped/MBNMAdose ; https://github.com/openpharma/DoseFinding"
SOURCE_VERSIONS = {
    "MBNMAdose": "hugaped/MBNMAdose@cc415a218fc119db71e857fd11a525852af76a89",
    "DoseFinding": "cran/DoseFinding@0e4e9aa9c8b12e0c3b9c3e00415f98f501c2d48b",
}
SOURCE_VERSION = "; ".join(SOURCE_VERSIONS.values())

SOURCE = _NAME
LICENSE = _LICENSE
UNSTATED = "units not stated in source"


@dataclass(frozen=True)
class Dataset:
    """What the package documentation says about one dataset (nothing here is read from the CSV)."""

    package: str
    name: str
    group: str  # trial-id namespace; the psoriasis sets share "psoriasis"
    kind: str  # "binary" (r/n) | "continuous" (y/se[/n])
    columns: dict  # canonical role -> CSV column: study, agent, dose, dose_mg, freq, y, se, n, r
    outcome_title: str
    outcome_doc: str
    time_frame: str | None
    condition: str
    dose_unit: str | None  # the documented unit of `dose`; None = a standardised dose of unstated unit
    param_type: str = "MEAN"
    unit_of_measure: str | None = None
    outcome_type: str | None = None
    nct_id: str | None = None  # for single-trial datasets
    agent: str | None = None  # for datasets without an agent column (the documented drug)
    intervention_model: str | None = None
    extra_study_cols: tuple = ()  # per-study columns kept in the outcome description
    extra_arm_cols: tuple = ()  # per-arm columns kept in the arm description


_MB = "MBNMAdose"
_DF = "DoseFinding"
_PSO_DOC = (
    "number of patients with {p} improvement in the Psoriasis Area and Severity Index (PASI) at 12 weeks "
    "(r) of the participants randomised (n)."
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            _MB,
            "alog_pcfb",
            "alog_pcfb",
            "continuous",
            {"study": "studyID", "agent": "agent", "dose": "dose", "y": "y", "se": "se", "n": "n"},
            "Change from baseline in HbA1c",
            "y = mean change in HbA1c from baseline to follow-up (studies of at least 12 weeks), se = its standard "
            "error, n = participants randomised. (The package's variable list calls y the change in blood glucose "
            "concentration in mg/dL, contradicting its own description and the values; no unit is recorded.)",
            "at least 12 weeks",
            "Type 2 diabetes mellitus",
            None,
        ),
        Dataset(
            _MB,
            "gout",
            "gout",
            "continuous",
            {"study": "studyID", "agent": "agent", "dose": "dose", "y": "y", "se": "se"},
            "Change from baseline in serum uric acid (SUA)",
            "y = mean change from baseline in SUA in mg/dL at 2 weeks, se = its standard error (source: Pfizer Ltd., "
            "not published previously).",
            "2 weeks",
            "Gout",
            None,
            unit_of_measure="mg/dL",
        ),
        Dataset(
            _MB,
            "osteopain",
            "osteopain",
            "continuous",
            {"study": "studyID", "agent": "agent", "dose": "dose", "y": "y", "se": "se", "n": "n"},
            "WOMAC pain score",
            "y = mean pain score on the WOMAC scale at 2 weeks, se = its standard error, n = participants randomised "
            "(source: Pfizer Ltd.).",
            "2 weeks",
            "Osteoarthritis",
            None,
            extra_arm_cols=("class",),
        ),
        Dataset(
            _MB,
            "psoriasis75",
            "psoriasis",
            "binary",
            {
                "study": "studyID",
                "agent": "agent",
                "dose": "dose",
                "dose_mg": "dose_mg",
                "freq": "freq",
                "r": "r",
                "n": "n",
            },
            "PASI 75 response",
            _PSO_DOC.format(p=">=75%"),
            "12 weeks",
            "Moderate-to-severe psoriasis",
            "mg/week",
        ),
        Dataset(
            _MB,
            "psoriasis90",
            "psoriasis",
            "binary",
            {
                "study": "studyID",
                "agent": "agent",
                "dose": "dose",
                "dose_mg": "dose_mg",
                "freq": "freq",
                "r": "r",
                "n": "n",
            },
            "PASI 90 response",
            _PSO_DOC.format(p=">=90%"),
            "12 weeks",
            "Moderate-to-severe psoriasis",
            "mg/week",
        ),
        Dataset(
            _MB,
            "psoriasis100",
            "psoriasis",
            "binary",
            {
                "study": "studyID",
                "agent": "agent",
                "dose": "dose",
                "dose_mg": "dose_mg",
                "freq": "freq",
                "r": "r",
                "n": "n",
            },
            "PASI 100 response",
            _PSO_DOC.format(p="100%"),
            "12 weeks",
            "Moderate-to-severe psoriasis",
            "mg/week",
        ),
        Dataset(
            _MB,
            "ssri",
            "ssri",
            "binary",
            {"study": "studyID", "agent": "agent", "dose": "dose", "r": "r", "n": "n"},
            "Response (50% reduction in depressive symptoms)",
            "r = participants with >50% improvement in depression symptoms after 8 weeks (4-12 week range) of the "
            "participants randomised (n).",
            None,
            "Major depression",
            "mg",
            extra_study_cols=("bias", "weeks"),
            extra_arm_cols=("age",),
        ),
        Dataset(
            _MB,
            "triptans",
            "triptans",
            "binary",
            {"study": "studyID", "agent": "agent", "dose": "dose", "r": "r", "n": "n"},
            "Headache-free at 2 hours",
            "r = participants headache-free at 2 hours of the participants in the arm (n); doses are standardised "
            "relative to a common dose of each triptan.",
            "2 hours",
            "Migraine",
            None,
            extra_study_cols=("AuthorYear",),
        ),
        Dataset(
            _DF,
            "glycobrom",
            "glycobrom",
            "continuous",
            {"dose": "dose", "y": "fev1", "se": "sdev", "n": "n"},
            "Trough FEV1 following 7 days of treatment",
            "fev1 = least-squares mean trough FEV1 per dose, sdev = the standard error of that least-squares mean "
            "(DoseFinding documentation), n = participants analysed; 4-period incomplete cross-over design.",
            "7 days",
            "Chronic obstructive pulmonary disease (COPD)",
            None,
            param_type="LEAST_SQUARES_MEAN",
            outcome_type="PRIMARY",
            nct_id="NCT00501852",
            agent="Glycopyrronium bromide",
            intervention_model="CROSSOVER",
        ),
        Dataset(
            _DF,
            "migraine",
            "migraine",
            "binary",
            {"dose": "dose", "r": "painfree", "n": "ntrt"},
            "Pain freedom at 2 hours postdose",
            "painfree = treatment responders, ntrt = subjects per treatment group (517 patients completed the trial; "
            "the drug is not named in the source).",
            "2 hours postdose",
            "Migraine",
            None,
            outcome_type="PRIMARY",
            nct_id="NCT00712725",
        ),
    ]
}
SKIPPED_DATASETS = {
    "ssi_closure": "wound-closure methods, not doses",
    "IBScovars": "patient-level data; dose levels blinded (0-4) and the compound not named",
}
_PLACEBO = {"placebo", "plac"}
_NCT_RE = re.compile(r"^NCT\d{8}$")
_DOSE_MG_RE = re.compile(r"^\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)*$")
_FILE_RE = re.compile(r"^(MBNMAdose|DoseFinding)__(\w+)\.csv$")


def dataset_files(path: str | os.PathLike) -> list[tuple[Dataset, Path]]:
    """The readable dataset CSVs under ``path`` (a directory or one ``<package>__<dataset>.csv``), in the order of
    ``DATASETS`` (so psoriasis 75/90/100 give outcomes O0/O1/O2)."""
    p = Path(path)
    if p.is_dir():
        files = {f.name: f for f in p.iterdir() if f.is_file()}
    elif p.exists():
        files = {p.name: p}
    else:
        raise FileNotFoundError(f"no such file or directory: {p}")
    out = []
    for d in DATASETS.values():
        f = files.get(f"{d.package}__{d.name}.csv")
        if f is not None:
            out.append((d, f))
    if not out and not p.is_dir():
        m = _FILE_RE.match(p.name)
        known = m and m.group(2) in SKIPPED_DATASETS
        raise ValueError(
            f"{p.name}: not a dataset this reader maps" + (f" ({SKIPPED_DATASETS[m.group(2)]})" if known else "")
        )
    return out


def _read_csv(d: Dataset, path: Path) -> list[dict]:
    df = pl.read_csv(io.BytesIO(path.read_bytes()), infer_schema_length=0)
    missing = [c for c in d.columns.values() if c not in df.columns]
    missing += [c for c in d.extra_study_cols + d.extra_arm_cols if c not in df.columns]
    if missing:
        raise RecordError(path.name, "header", f"missing column(s) {', '.join(missing)}", "bad_header")
    rows = df.to_dicts()
    for i, r in enumerate(rows):
        r["_line"] = i + 2  # 1-based, after the header
    return rows


def _fmt_num(x: float) -> str:
    """12.5 -> "12.5", 40.0 -> "40" (R writes numeric ids and doses as doubles)."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _study_key(raw) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    s = str(raw).strip()
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    return s


def _checked(fn, raw, tid: str, column: str, where: str):
    """Parse one cell; an error names the trial and the CSV column (file and line in the message)."""
    try:
        return fn(raw, tid, column)
    except RecordError as e:
        raise RecordError(tid, column, f"{where}: {e.message}", e.reason) from None


def _trial_id(d: Dataset, study: str) -> str:
    return f"{SOURCE}/{d.group}/{study}"


@dataclass
class _Arm:
    key: tuple
    title: str
    description: str
    agent: str | None
    clear_dose: bool
    index: int = 0
    # a standardised dose whose unit the source does not state: the number is kept, the unit stays unknown
    unitless_dose: float | None = None
    # dose 0 of the dose-response model (placebo): kept as dose 0, the zero point of a dose-ranging trial
    zero_dose: bool = False


def _arm_for(d: Dataset, r: dict, tid: str, where: str) -> _Arm:
    c = d.columns
    dose = _checked(parse_float, r.get(c["dose"]), tid, c["dose"], where)
    if dose is None:
        raise RecordError(tid, c["dose"], f"{where}: missing dose", "missing_value")
    agent = r.get(c["agent"]) if "agent" in c else d.agent
    if "agent" in c and (agent is None or not str(agent).strip()):
        raise RecordError(tid, c["agent"], f"{where}: missing agent", "missing_value")
    placebo = dose == 0 or (agent is not None and agent.strip().lower() in _PLACEBO)
    desc = [f"agent={agent}"] if "agent" in c else []
    if placebo and (agent is None or agent.strip().lower() not in _PLACEBO):
        agent = "Placebo"  # dose 0 of a drug (alog_pcfb, glycobrom, migraine) is the placebo arm
    clear = False
    if "dose_mg" in c:
        dose_mg = r.get(c["dose_mg"])
        freq = r.get(c["freq"])
        if dose_mg is None or not _DOSE_MG_RE.match(str(dose_mg).strip()):
            raise RecordError(tid, c["dose_mg"], f"{where}: not a dose in mg: {dose_mg!r}", "bad_number")
        key = (agent, dose_mg, freq)
        if placebo:
            title = "Placebo"
        else:
            sep = "" if freq and freq.startswith("/") else " "
            title = f"{agent} {dose_mg} mg" + (f"{sep}{freq}" if freq else "")
            clear = "/" in dose_mg  # "45/90": a weight-banded dose, not one amount
        desc += [
            f"dose_mg={dose_mg}",
            f"freq={freq}" if freq else "freq=none",
            f"dose ({d.dose_unit}, per {d.package} documentation): {_fmt_num(dose)}",
        ]
    else:
        key = (agent, dose)
        if placebo:
            title = "Placebo"
        elif d.dose_unit:
            title = f"{agent} {_fmt_num(dose)} {d.dose_unit}"
        else:
            title = f"{agent} {_fmt_num(dose)}" if agent else f"Dose {_fmt_num(dose)}"
        if d.dose_unit:
            desc.append(f"dose ({d.dose_unit}): {_fmt_num(dose)}")
        else:
            desc.append(f"dose ({UNSTATED}): {_fmt_num(dose)}")
    if placebo and dose == 0:
        desc.append(f"dose 0 = placebo in {d.package}")
    for col in d.extra_arm_cols:
        if r.get(col) is not None:
            desc.append(f"{col}={r[col]}")
    unitless = dose if ("dose_mg" not in c and not d.dose_unit and not placebo) else None
    return _Arm(
        key=key,
        title=title,
        description="; ".join(desc),
        agent=agent,
        clear_dose=clear,
        unitless_dose=unitless,
        zero_dose=placebo and dose == 0,
    )


def study_rows(
    group: str, study: str, parts: list[tuple[Dataset, list[dict], str]], source_version: str | None = None
) -> StudyRows:
    """One trial from its rows in one or more datasets (``parts`` = (dataset, rows, file name)); raises
    RecordError naming the trial and the CSV column."""
    d0 = parts[0][0]
    tid = _trial_id(d0, study)
    nct = d0.nct_id or (study if _NCT_RE.match(study) else None)
    out = StudyRows()
    out.add(
        "trials",
        trial_row(
            trial_id=tid,
            nct_id=nct,
            source=SOURCE,
            source_version=source_version or SOURCE_VERSIONS[d0.package],
            study_type_raw="INTERVENTIONAL",
            allocation_raw="RANDOMIZED",
            conditions=[d0.condition],
            intervention_model_raw=d0.intervention_model,
        ),
    )

    arms: dict[tuple, _Arm] = {}
    per_outcome: list[tuple[Dataset, list[tuple[_Arm, dict, str]], str]] = []
    for d, rows, fname in parts:
        seen: set[tuple] = set()
        items = []
        for r in rows:
            where = f"{fname} line {r['_line']}"
            arm = _arm_for(d, r, tid, where)
            if arm.key in seen:
                raise RecordError(
                    tid,
                    d.columns.get("agent", d.columns["dose"]),
                    f"{where}: a second row for arm {arm.title!r}",
                    "duplicate",
                )
            seen.add(arm.key)
            if arm.key not in arms:
                arm.index = len(arms)
                arms[arm.key] = arm
            items.append((arms[arm.key], r, where))
        study_vals = []
        for col in d.extra_study_cols:
            vals = {r.get(col) for r in rows}
            if len(vals) > 1:
                raise RecordError(
                    tid, col, f"{fname}: differing values {sorted(map(str, vals))} within one study", "conflict"
                )
            study_vals.append(f"{col}={rows[0].get(col)}")
        per_outcome.append((d, items, "; ".join(study_vals)))

    for a in arms.values():
        row = out.add(
            "arms",
            arm_row(
                trial_id=tid,
                index=a.index,
                title=a.title,
                description=a.description,
                intervention_names=[a.agent] if a.agent else None,
            ),
        )
        if a.clear_dose:
            row.update(dose_value=None, dose_unit=None, dose_frequency=None, dose_route=None, dose_text=None)
        elif a.unitless_dose is not None:
            row.update(
                dose_value=a.unitless_dose, dose_unit=None, dose_text=f"{_fmt_num(a.unitless_dose)} ({UNSTATED})"
            )
        elif a.zero_dose:
            row.update(dose_value=0.0, dose_unit=None, dose_frequency=None, dose_route=None, dose_text="0 (placebo)")

    agents: dict[str, list[str]] = {}
    for a in arms.values():
        if a.agent:
            agents.setdefault(a.agent, []).append(a.title)
    for ii, (agent, labels) in enumerate(agents.items()):
        descs = sorted(
            {
                f"class={r['class']}"
                for _, items, _ in per_outcome
                for a, r, _ in items
                if a.agent == agent and r.get("class") is not None
            }
        )
        out.add(
            "interventions",
            intervention_row(
                trial_id=tid,
                index=ii,
                type_raw=None,
                name=agent,
                description="; ".join(descs) or None,
                arm_labels=labels,
            ),
        )

    for oi, (d, items, study_vals) in enumerate(per_outcome):
        c = d.columns
        desc = f"{d.package}::{d.name}" + (f" studyID={study}" if "study" in c else "") + ". " + d.outcome_doc
        if study_vals:
            desc += f" Study: {study_vals}."
        time_frame = d.time_frame
        if "weeks" in d.extra_study_cols and items and items[0][1].get("weeks") is not None:
            w = _checked(parse_float, items[0][1]["weeks"], tid, "weeks", items[0][2])
            time_frame = f"{_fmt_num(w)} weeks" if w is not None else None
        o = out.add(
            "outcomes",
            outcome_row(
                trial_id=tid,
                index=oi,
                outcome_type_raw=d.outcome_type,
                title=d.outcome_title,
                description=desc,
                time_frame=time_frame,
                param_type_raw="COUNT_OF_PARTICIPANTS" if d.kind == "binary" else d.param_type,
                dispersion_type_raw="STANDARD_ERROR" if d.kind == "continuous" else None,
                unit_of_measure="Participants" if d.kind == "binary" else d.unit_of_measure,
            ),
        )
        for mi, (a, r, where) in enumerate(sorted(items, key=lambda x: x[0].index)):
            code = f"OG{mi:03d}"
            out.add("arms", result_group_row(trial_id=tid, outcome_id=o["outcome_id"], code=code, title=a.title))
            n_raw = r.get(c["n"]) if "n" in c else None
            n = _checked(parse_int, n_raw, tid, c["n"], where) if "n" in c else None
            if d.kind == "binary":
                value = _checked(parse_int, r.get(c["r"]), tid, c["r"], where)
                if value is None:
                    raise RecordError(tid, c["r"], f"{where}: missing responders", "missing_value")
                if n is not None and value > n:
                    raise RecordError(tid, c["r"], f"{where}: {value} responders of {n} participants", "bad_number")
                spread = None
            else:
                value = _checked(parse_number, r.get(c["y"]), tid, c["y"], where)[0]
                spread = _checked(parse_float, r.get(c["se"]), tid, c["se"], where)
                if value is None:
                    raise RecordError(tid, c["y"], f"{where}: missing value", "missing_value")
                if spread is not None and spread < 0:
                    raise RecordError(tid, c["se"], f"{where}: negative standard error {spread}", "bad_number")
            out.add(
                "measurements",
                measurement_row(
                    outcome=o,
                    index=mi,
                    group_code=code,
                    group_title=a.title,
                    value=r.get(c["r"]) if d.kind == "binary" else r.get(c["y"]),
                    spread=None if d.kind == "binary" else r.get(c["se"]),
                    n=n_raw,
                    n_units="Participants" if n is not None else None,
                ),
            )
    return out


def iter_studies(
    path: str | os.PathLike,
    *,
    strict: bool = False,
    report: IngestReport | None = None,
    source_version: str | None = None,
) -> Iterator[StudyRows]:
    """Rows of every readable trial under ``path`` (the shared-data directory or one dataset CSV). Strict: the
    first bad record raises. Lenient: the trial is skipped and the reason counted in ``report``;
    ``report.rows_read`` counts CSV rows. ``source_version`` defaults to the package commit of each dataset."""
    report = report if report is not None else IngestReport()
    trials: dict[tuple[str, str], list] = {}
    for d, f in dataset_files(path):
        try:
            rows = _read_csv(d, f)
        except RecordError as err:
            if strict:
                raise
            report.read += 1
            report.skip(err)
            continue
        report.rows_read = getattr(report, "rows_read", 0) + len(rows)
        by_study: dict[str, list[dict]] = {}
        for r in rows:
            if "study" in d.columns:
                study = _study_key(r.get(d.columns["study"]))
                if study is None:
                    err = RecordError(f"{f.name}:line {r['_line']}", d.columns["study"], "missing study id", "no_id")
                    if strict:
                        raise err
                    report.read += 1
                    report.skip(err)
                    continue
            else:
                study = d.nct_id  # single-trial datasets: the documented registry id
            by_study.setdefault(study, []).append(r)
        for study, srows in by_study.items():
            trials.setdefault((d.group, study), []).append((d, srows, f.name))
    yield from report.each(trials.items(), lambda kv: study_rows(kv[0][0], kv[0][1], kv[1], source_version), strict)


def read(
    path: str | os.PathLike, *, strict: bool = False, source_version: str | None = None
) -> tuple[dict[str, pa.Table], IngestReport]:
    """Read the dose-response CSVs (the shared-data directory, or one dataset file) into the six tables.

    >>> tables, report = read("../shared/data/dose_response")  # doctest: +SKIP
    """
    report = IngestReport()
    studies = iter_studies(path, strict=strict, report=report, source_version=source_version)
    return collect(studies, report, strict), report
