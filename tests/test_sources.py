"""Every reader of the source registry on its real sample, the same checks for all (BigBIO's generic source test).

Each source reads the real records the repository ships for it (the embedded snapshot under
``deepimagine_data/data/`` or ``tests/fixtures/``) in lenient mode, and must give: the six declared tables
(``deepimagine_data.schema.TABLES``) with their exact schemas, rows in the written order, unique and present primary
keys, references that resolve, rows that carry the source's name, and a report in which every record read was either
kept or skipped with a reason naming the record and the field. A new source in ``SOURCES`` needs a sample in
``SAMPLES`` below, else ``test_every_source_has_a_shipped_sample`` fails.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import EMBEDDED

from deepimagine_data import tables as tbl
from deepimagine_data.schema import PRIMARY_KEYS, TABLES
from deepimagine_data.sources.registry import SOURCES

# kind -> (where its real sample is: a path, or the name of a conftest fixture that makes it; extra read arguments)
SAMPLES: dict[str, tuple[Path | str, dict]] = {
    # the 5,557 oncology studies with results plus 78 without (skipped, each with its reason)
    "aact": ("aact_oncology", {"progress": False}),
    # the AACT loader's spec folder as it is: full studies, module-level fragments and repeated variants
    "ctgov": ("aact_spec_json", {}),
    "llm_meta_analysis": (EMBEDDED / "llm_meta_analysis", {}),
    "dose_response": (EMBEDDED / "dose_response", {}),
    "clinifact": (EMBEDDED / "clinifact", {}),
}
HEADER = ("_NAME", "_DESCRIPTION", "_CITATION", "_LICENSE", "_HOMEPAGE")
# The skip reasons each sample gives (so the reason check below is not vacuous where a sample holds bad records).
SKIPS = {
    "aact": {"no_results", "bad_number"},  # 78 studies without results; 2 posted a p-value above 1
    "ctgov": {"no_id", "unknown_enum", "duplicate"},  # module fragments, enum-breaking variants, a repeated study
    "llm_meta_analysis": set(),
    "dose_response": set(),
    "clinifact": set(),
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def read(request) -> tuple[str, dict[str, pa.Table], object]:
    kind = request.param
    where, kw = SAMPLES[kind]
    path = request.getfixturevalue(where) if isinstance(where, str) else where
    tables, report = SOURCES[kind].read(path, strict=False, **kw)
    return kind, tables, report


def test_every_source_has_a_shipped_sample():
    assert set(SAMPLES) == set(SOURCES) == set(SKIPS)
    for kind, (where, _) in SAMPLES.items():
        assert isinstance(where, str) or where.exists(), kind


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_constants_header(kind):
    src = SOURCES[kind]
    for name in HEADER:
        value = getattr(src.mod, name, None)
        assert isinstance(value, str) and value.strip(), f"{src.module}.{name}"
    assert src.row_source == src.mod._NAME
    assert all(h.strip().startswith("https://") for h in src.homepage.split(";")), src.homepage
    params = inspect.signature(src.mod.read).parameters
    assert "strict" in params and params["strict"].kind is inspect.Parameter.KEYWORD_ONLY


def test_schema_is_the_declared_tables(read):
    kind, tables, _ = read
    assert set(tables) == set(TABLES), kind
    for name, schema in TABLES.items():
        assert tables[name].schema.equals(schema), (kind, name)
        # in the order a write keeps, so that two reads give the same bytes
        assert tbl.sort_table(name, tables[name]).equals(tables[name]), (kind, name)
    assert tables["trials"].num_rows > 0


def test_ids_unique_and_references_resolve(read):
    kind, tables, _ = read
    for name, key in PRIMARY_KEYS.items():
        ids = tables[name].column(key).to_pylist()
        assert None not in ids and len(set(ids)) == len(ids), (kind, name)
    tbl.check_unique(tables)
    trials = tables["trials"]
    trial_ids = set(trials.column("trial_id").to_pylist())
    for name in TABLES:
        assert set(tables[name].column("trial_id").to_pylist()) <= trial_ids, (kind, name)
    outcomes = set(tables["outcomes"].column("outcome_id").to_pylist())
    groups = {g["group_id"]: g for g in tables["arms"].select(["group_id", "group_type", "outcome_id"]).to_pylist()}
    for g in groups.values():
        if g["group_type"] == "outcome":
            assert g["outcome_id"] in outcomes, (kind, g)
        else:
            assert g["group_type"] == "arm" and g["outcome_id"] is None, (kind, g)
    for m in tables["measurements"].select(["outcome_id", "group_id"]).to_pylist():
        assert m["outcome_id"] in outcomes and m["group_id"] in groups, (kind, m)
    for a in tables["analyses"].select(["outcome_id", "group_ids"]).to_pylist():
        assert a["outcome_id"] in outcomes and all(g in groups for g in a["group_ids"] or []), (kind, a)
    assert set(trials.column("source").to_pylist()) == {SOURCES[kind].row_source}


def test_every_record_is_kept_or_skipped_with_a_reason(read):
    kind, tables, report = read
    assert report.read == report.kept + report.n_skipped > 0, kind
    assert report.kept == tables["trials"].num_rows, kind
    for key, n in report.skipped.items():
        reason, _, field = key.partition(":")
        assert n > 0 and reason and field, (kind, key)
        # the example is the RecordError's message: "<record>: <field>: <what is wrong>"
        record, _, rest = report.examples[key].partition(f": {field}: ")
        assert record.strip() and rest.strip(), (kind, key, report.examples[key])
    assert {k.partition(":")[0] for k in report.skipped} == SKIPS[kind]
