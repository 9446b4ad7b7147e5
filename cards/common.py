"""Pieces of dataset cards shared by the corpora (tables as Markdown rows)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def source_rows(rows: pa.Table, sources) -> str:
    """| input | source | rows | trials | license | version | over every row of a corpus, one line per source of
    each input the build read (``sources``: :class:`~deepimagine_data.inputs.SourceInfo`)."""
    out = ["| input | source | rows | trials | license | version |", "|---|---|---:|---:|---|---|"]
    for s in sources:
        t = rows.filter(pc.equal(rows.column("source"), s.source))
        if not t.num_rows:
            continue
        n_trials = pc.count_distinct(t.column("trial_id")).as_py()
        out.append(f"| `{s.input}` | {s.source} | {t.num_rows:,} | {n_trials:,} | {s.license} | `{s.version}` |")
    return "\n".join(out)


def split_rule(assignment) -> str:
    c = assignment.cutoffs
    counts = assignment.counts()
    return (
        f"Splits are temporal, by the trial's results-first-posted date: `train` before {c.validation_start}, "
        f"`validation` from {c.validation_start} to before {c.test_start}, `test` from {c.test_start}. A trial is "
        "keyed by its NCT id, so one registry trial read from two sources lands in one split, and every row of a "
        f"trial (both sides of a pair) shares it. Trials over all sources: train {counts['train']:,}, validation "
        f"{counts['validation']:,}, test {counts['test']:,}; {assignment.undated:,} trial keys carry no "
        "results-posted date (the curated per-arm sources) and are in `train`."
    )


def decontamination_rows(deco, removed: dict[str, dict[str, int]]) -> str:
    """| exclusion list | trial ids | status | rows removed from train (per config) |"""
    configs = list(removed)
    head = "| exclusion list | trial ids | status | " + " | ".join(f"removed from `{c}` train" for c in configs) + " |"
    sep = "|---|---:|---|" + "---:|" * len(configs)
    out = [head, sep]
    for name, n, status in deco.summary():
        cells = " | ".join(f"{removed[c].get(name, 0):,}" for c in configs)
        out.append(f"| {name} | {n:,} | {status} | {cells} |")
    return "\n".join(out)


# The label rules (labels-v2) as a short table: what decides each label, and when a row is dropped. The README
# shows the same table (tests/test_build.py checks that they agree).
_RULES = [
    (
        "significance",
        (
            "the posted p-value with its modifier, against the analysis' own alpha (stated in any of its texts, "
            "with its sides; else 0.05 two-sided); a one-sided p (its description or method says so) against the "
            "one-sided alpha; the two-sided CI against the estimate's null where no p-value is posted or it is "
            "`0` with no modifier; per-arm Fisher/Welch tests where no analysis is posted"
        ),
        (
            "no p-value and no readable CI; a one-sided p near 1 with no CI (the arms may differ the other way); "
            "a CI at another level than 95% and no stated alpha, when the two levels disagree (`alpha_unclear`)"
        ),
    ),
    (
        "direction, benefit",
        (
            "per-arm values, an estimate whose reference group a posted text names, or a one-sided superiority "
            "test of the experimental arm; benefit adds the outcome's polarity (a hazard ratio flips it for times"
            " to an event)"
        ),
        (
            "none of these is posted: a significant result of unknown direction is not asked in CT Open's "
            "directional wording"
        ),
    ),
    (
        "non-inferiority, equivalence",
        (
            "the posted CI against the margin the record states, on the estimate's scale (NI: the CI's limit "
            "beyond the margin; equivalence: the CI inside both margins), never the p-value"
        ),
        ("no margin stated, a margin on another scale or of unclear side, margins that disagree"),
    ),
    (
        "which analysis",
        ("the one posted analysis of the outcome and the two groups; several only where their answers agree"),
        ("their answers disagree (`analyses_disagree`): the prompt could not say which one is asked"),
    ),
    (
        "which groups",
        ("two result groups linked to two different protocol arms"),
        ("subgroups, responders, time points, cohorts of one arm, pooled or unmapped groups (`not_two_arms:*`)"),
    ),
    (
        "consistency",
        ("the p-value and the CI the record posts agree (`p_ci_check`)"),
        ("they disagree (`p_and_ci_disagree`): flagged, kept out of the pairs and the bench"),
    ),
    (
        "the question",
        ("one question per comparison"),
        ("two rows with the same prompt and options and different answers are both dropped"),
    ),
]
LABEL_RULES = "\n".join(
    ["| what | decided by | unknown (and not asked) when |", "|---|---|---|"]
    + [f"| {what} | {by} | {unknown} |" for what, by, unknown in _RULES]
)


def label_changes() -> str:
    from deepimagine_data.evidence import LABEL_CHANGES

    return "\n".join(f"- {c}" for c in LABEL_CHANGES)


def split_corpus_fields(tables: dict[str, dict[str, pa.Table]], info: dict) -> dict[str, str]:
    """The card sections every split corpus (pairs, bench) shows: split rule, decontamination, sources, the label
    rules and what changed in them, and the funnel of the build."""
    from deepimagine_data.evidence import LABEL_VERSION

    # only the columns the source table reads: configs of one corpus may have different schemas
    cols = ["source", "trial_id"]
    all_rows = pa.concat_tables([t.select(cols) for by_split in tables.values() for t in by_split.values()])
    return {
        "split_rule": split_rule(info["assignment"]),
        "decontamination_rows": decontamination_rows(info["decontamination"], info["removed"]),
        "source_rows": source_rows(all_rows, info["sources"]),
        "label_version": LABEL_VERSION,
        "label_rules": LABEL_RULES,
        "label_changes": label_changes(),
        "funnel": info["funnel"].markdown(),
    }


# ----------------------------------------------------------------------------------------------------------------
# Sections after the Hugging Face dataset card template (license, uses, structure, personal information)
# ----------------------------------------------------------------------------------------------------------------

# The Hub's license ids of the licenses the sources state (first match wins); public-domain records add no terms.
_HF_IDS = (("GPL-3.0", "gpl-3.0"), ("GPL (>= 3)", "gpl-3.0"), ("Apache-2.0", "apache-2.0"), ("MIT", "mit"))
PUBLIC_DOMAIN_LINK = "https://clinicaltrials.gov/about-site/terms-conditions"


def hf_license(text: str) -> str | None:
    """The Hub's license id for a source's stated license; None for public-domain records, ``unknown`` when the
    text names no license the Hub knows.

    >>> hf_license("GPL-3.0-or-later (compilation); ClinicalTrials.gov records"), hf_license("MIT")
    ('gpl-3.0', 'mit')
    >>> hf_license("ClinicalTrials.gov records: public domain (U.S. NLM terms of use)") is None
    True
    """
    for key, lid in _HF_IDS:
        if key in text:
            return lid
    return None if "public domain" in text.lower() else "unknown"


def source_counts(rows: pa.Table, sources) -> list[tuple[object, int]]:
    """(source info, rows) for each source of ``sources`` that gave ``rows`` (a table with a ``source`` column)
    any row, most rows first."""
    counts = {r["values"]: r["counts"] for r in pc.value_counts(rows.column("source")).to_pylist()}
    seen, out = set(), []
    for s in sources:
        if counts.get(s.source) and s.source not in seen:
            seen.add(s.source)
            out.append((s, counts[s.source]))
    return sorted(out, key=lambda x: -x[1])


def license_meta(counts: list[tuple[object, int]]) -> dict:
    """The card's ``license`` (and, for ``other``, ``license_name`` and ``license_link``, which the Hub requires
    with it) from the sources that gave rows: their Hub ids, most rows first."""
    ids: list[str] = []
    for s, _ in counts:
        lid = hf_license(s.license)
        if lid and lid not in ids:
            ids.append(lid)
    if not counts:
        return {"license": "unknown"}  # no row: nothing to license
    if not ids:  # only public-domain registry records
        return {"license": "other", "license_name": "public-domain", "license_link": PUBLIC_DOMAIN_LINK}
    return {"license": ids[0] if len(ids) == 1 else ids}


def license_section(counts: list[tuple[object, int]], unit: str, column: str) -> str:
    """``## License``: each source's license and rows, and what each license asks of a user."""
    ids = {hf_license(s.license) for s, _ in counts}
    lines = [
        "## License",
        "",
        f"Each source keeps its own license; {column}. The YAML's `license` lists the Hub ids of those licenses, "
        "most rows first.",
        "",
        f"| source | {unit} | license | Hub id |",
        "|---|---:|---|---|",
    ]
    lines += [f"| {s.source} | {n:,} | {s.license} | `{hf_license(s.license) or 'public domain'}` |" for s, n in counts]
    lines.append("")
    if "gpl-3.0" in ids:
        gpl = ", ".join(s.source for s, _ in counts if hf_license(s.license) == "gpl-3.0")
        lines.append(
            f"- **GPL-3.0 parts** ({gpl}): the compilations these rows come from are licensed GPL-3.0 (or later). "
            "You may use, study and change them for any purpose, commercial included. If you **distribute** them, "
            "or a dataset made from them (a filtered or reformatted copy, a corpus that includes their rows), you "
            "must do so under GPL-3.0 (or later), with the license text, and pass the same freedoms on; keeping "
            "them for your own training or evaluation asks nothing more. Whether a model trained on GPL data is a "
            "work based on it is not settled; this card is not legal advice. To keep only the other parts, "
            "filter on `source` (or `license`). The AACT records themselves are ClinicalTrials.gov data: built "
            "from your own AACT or ClinicalTrials.gov download (`deepimagine build --input aact:DIR`), they carry "
            "no GPL terms."
        )
    permissive = [name for lid, name in (("mit", "MIT"), ("apache-2.0", "Apache-2.0")) if lid in ids]
    if permissive:
        lines.append(
            f"- **{' and '.join(permissive)} parts**: keep their copyright and license notices when you "
            "redistribute them" + (" (Apache-2.0 also asks you to state changes)." if "apache-2.0" in ids else ".")
        )
    if None in ids:
        lines.append(
            f"- **ClinicalTrials.gov records**: U.S. government records, public domain ([terms]({PUBLIC_DOMAIN_LINK}));"
            " cite ClinicalTrials.gov."
        )
    lines.append(
        "- The package that builds this dataset (deepimagine-data) is Apache-2.0 (`LICENSE` in its repository)."
    )
    return "\n".join(lines)


OUT_OF_SCOPE = (
    "**Not for clinical decisions.** Nothing here says whether a treatment works for a patient: the labels are what "
    "trial sponsors posted about group-level statistics, read by rules that can be wrong, and a model scored on "
    "them predicts registry postings, not efficacy. Do not use the data, or a model trained or ranked on it, to "
    "choose, recommend or withhold a treatment, to design a trial's dosing, or as evidence in a regulatory or "
    "reimbursement decision."
)

PERSONAL_INFO = (
    "## Personal and sensitive information\n\n"
    "The rows hold aggregate trial results as sponsors posted them to ClinicalTrials.gov (counts, means, p-values, "
    "confidence intervals per arm or comparison) and the curated sources' per-arm summaries of published trials: "
    "no individual participant data, no patient records, no dates or places of any person. The registry text "
    "names organizations (sponsors) and may name an investigator or contact in free text, as the public registry "
    "does. Results are health data only at the level of a trial arm."
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def columns_table(table: str, schema: pa.Schema, names: list[str] | None = None) -> str:
    """| column | type | description | for ``names`` (default: every column) of ``schema``, described by
    :func:`deepimagine_data.schema_docs.describe` under ``table``."""
    from deepimagine_data.schema_docs import describe, type_name

    out = ["| column | type | description |", "|---|---|---|"]
    for n in names if names is not None else schema.names:
        out.append(f"| `{n}` | `{type_name(schema.field(n).type)}` | {_cell(describe(table, n))} |")
    return "\n".join(out)


def example_block(example: dict | None) -> str:
    """The card's example row: one real row of the built table, as JSON (:func:`builder_kit.clip_value`)."""
    import json

    from deepimagine_data.builder_kit import EXAMPLE_CHARS, EXAMPLE_ITEMS, clip_value

    if example is None:
        return "This build wrote no row to show."
    row = clip_value(example["row"])
    # one column a line, each value compact: still JSON, and a reader sees every column without scrolling far
    lines = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in row.items())
    return (
        f"The first row of `{example['config']}` (`{example['split']}`), as stored; here text over "
        f"{EXAMPLE_CHARS} characters and lists over {EXAMPLE_ITEMS} items are cut (`…(+n chars)`):\n\n"
        f"```json\n{{\n{lines}\n}}\n```"
    )


def _all_rows(tables: dict[str, dict[str, pa.Table]], cols: list[str]) -> pa.Table:
    return pa.concat_tables([t.select(cols) for by_split in tables.values() for t in by_split.values()])


def oncology_share(tables: dict[str, dict[str, pa.Table]], info: dict, unit: str) -> str | None:
    """A limitation line: how many rows come from the embedded AACT snapshot, which holds oncology studies only
    (None when the build read no such input)."""
    onc = {s.version for s in info["sources"] if "aact_oncology" in s.version}
    if not onc:
        return None
    rows = _all_rows(tables, ["source_version"])
    k = pc.sum(pc.is_in(rows.column("source_version"), pa.array(sorted(onc)))).as_py() or 0
    return (
        f"- **Oncology-heavy.** {k:,} of {rows.num_rows:,} {unit} ({k / max(rows.num_rows, 1):.0%}) come from the "
        "embedded AACT snapshot, which holds only oncology studies (conditions matching oncology, malignant "
        "neoplasm or cancer) posted up to its 2023 extraction; other therapeutic areas come only from the small "
        "curated sources, where they are in at all. Figures on this data describe oncology trials registered on "
        "ClinicalTrials.gov, not trials at large."
    )


def small_splits(tables: dict[str, dict[str, pa.Table]], below: int = 200) -> list[str]:
    """``config`` split sizes under ``below`` rows: ["`strict_dose` validation 12", ...]."""
    return [
        f"`{cfg}` {split} {t.num_rows:,}"
        for cfg, by_split in tables.items()
        for split, t in by_split.items()
        if split != "train" and t.num_rows < below
    ]


def corpus_license(tables: dict[str, dict[str, pa.Table]], info: dict, unit: str) -> tuple[dict, str]:
    """(front-matter license keys, ``## License`` section) of a split corpus, from the sources of its rows."""
    counts = source_counts(_all_rows(tables, ["source"]), info["sources"])
    section = license_section(counts, unit, "every row names it in its `license` column (and its `source`)")
    return license_meta(counts), section
