"""Shared test fixtures. The default run is offline: the hub client reads HF_HUB_OFFLINE at import time.

Data the tests read, and where it comes from:

- redistributable records ship with the repository: the embedded snapshot under ``deepimagine_data/data/`` (AACT
  oncology studies with results, the curated sources) and ``tests/fixtures/`` (the AACT loader's ClinicalTrials.gov
  records, a slice of AACT oncology studies without results; each folder has a PROVENANCE.md). A fresh clone runs
  every test on them.
- data that may not be redistributed (CT Open's questions and answers, HINT's TOP files) lives only in
  ``../shared/data`` beside the repository; the fixtures below skip with a reason naming that data when it is absent.

``$DEEPIMAGINE_TEST_SHARED`` replaces ``../shared/data`` (``DEEPIMAGINE_TEST_SHARED=/nonexistent`` runs the suite as a
fresh clone would).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import tarfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EMBEDDED = ROOT / "deepimagine_data" / "data"
SHARED = Path(os.environ.get("DEEPIMAGINE_TEST_SHARED") or ROOT.parent / "shared" / "data")

# ClinicalTrials.gov records of the AACT loader's spec (MIT): full API v2 studies, API v1 pages, legacy XML.
AACT_SPEC_ARCHIVE = FIXTURES / "aact_spec" / "aact_spec_fixtures_with_results.tar.gz"
# Merck's AACT oncology compilation (GPL-3.0): the studies with results are the embedded snapshot, 78 without results
# are vendored beside the tests; the full 42,218-study copy (32 MB) stays in ../shared.
AACT_ONCOLOGY_WITH_RESULTS = EMBEDDED / "aact_oncology"
AACT_ONCOLOGY_NO_RESULTS = FIXTURES / "aact_oncology_no_results"
AACT_ONCOLOGY_FULL = SHARED / "aact_oncology_merck"

CTOPEN_WINTER = "Winter_2025.pickle"
CTOPEN_MISSING = (
    "CT Open Winter 2025 questions and answers (not redistributable) are not here: put them in ../shared/data/ct_open "
    "or set DEEPIMAGINE_CTOPEN_DIR"
)

# CT Open is never committed: builds in tests decontaminate against the shared local copy when it is there
# (a machine without it and without network records the edition as not loaded, as a user's build would).
if (SHARED / "ct_open").is_dir():
    os.environ.setdefault("DEEPIMAGINE_CTOPEN_DIR", str(SHARED / "ct_open"))


def ctopen_folder() -> Path | None:
    """The folder holding CT Open Winter 2025: ../shared/data/ct_open, else $DEEPIMAGINE_CTOPEN_DIR; None if neither."""
    for d in (SHARED / "ct_open", os.environ.get("DEEPIMAGINE_CTOPEN_DIR")):
        if d and (Path(d) / CTOPEN_WINTER).is_file():
            return Path(d)
    return None


@pytest.fixture(scope="session")
def ctopen_dir() -> Path:
    d = ctopen_folder()
    if d is None:
        pytest.skip(CTOPEN_MISSING)
    return d


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``, for a test that reads CT Open under it; a new test takes ``ctopen_dir`` instead."""
    if not (SHARED / "ct_open" / CTOPEN_WINTER).is_file():
        pytest.skip(CTOPEN_MISSING)
    return SHARED


@pytest.fixture(scope="session")
def hint_top_dir() -> Path:
    d = SHARED / "hint_top"
    if not any(d.glob("phase_*.csv*")):
        pytest.skip("HINT's TOP benchmark files (TOP/HINT, not redistributable) are not in ../shared/data/hint_top")
    return d


@pytest.fixture(scope="session")
def aact_spec_archive() -> Path:
    return AACT_SPEC_ARCHIVE


@pytest.fixture(scope="session")
def aact_spec_json(tmp_path_factory) -> Path:
    """The archive's ``spec/support/json_data`` folder, extracted once (tests only read it)."""
    out = tmp_path_factory.mktemp("aact_spec")
    with tarfile.open(AACT_SPEC_ARCHIVE) as tf:
        tf.extractall(out, filter="data")
    d = out / "spec" / "support" / "json_data"
    assert d.is_dir()
    return d


@pytest.fixture(scope="session")
def aact_oncology(tmp_path_factory) -> Path:
    """One AACT copy in parquet: the 5,557 oncology studies with results (embedded) plus 78 without (vendored)."""
    out = tmp_path_factory.mktemp("aact_oncology")
    for p in sorted(AACT_ONCOLOGY_WITH_RESULTS.glob("*.parquet")):
        both = pa.concat_tables([pq.read_table(p), pq.read_table(AACT_ONCOLOGY_NO_RESULTS / p.name)])
        keys = [(k, "ascending") for k in ("nct_id", "id") if k in both.column_names]
        pq.write_table(both.sort_by(keys), out / p.name)
    return out


@pytest.fixture(scope="session")
def aact_oncology_full() -> Path:
    if not (AACT_ONCOLOGY_FULL / "studies.parquet").is_file():
        pytest.skip(
            "the full AACT oncology compilation (aact_oncology_merck: 42,218 studies, 32 MB, too large to vendor) is "
            "not in ../shared/data; its subsets ship with the repository"
        )
    return AACT_ONCOLOGY_FULL


@pytest.fixture(scope="session")
def built_bench(tmp_path_factory) -> Path:
    """A hub root holding only ``deepimagine/bench``, as ``deepimagine build`` writes it from the embedded snapshot
    (one write per session; tests that change it work on a copy)."""
    from deepimagine_data.builders import bench

    root = tmp_path_factory.mktemp("bench-hub")
    bench.write(root)
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer random Llama with a locally trained tokenizer and a chat template (see tests/tiny_lm.py)."""
    from tiny_lm import make_tiny_llama

    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
