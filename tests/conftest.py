"""Shared test fixtures. The default run is offline: the hub client reads HF_HUB_OFFLINE at import time."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# CT Open is never committed: builds in tests decontaminate against the shared local copy when it is there
# (a machine without it and without network records the edition as not loaded, as a user's build would).
if (SHARED / "ct_open").is_dir():
    os.environ.setdefault("DEEPIMAGINE_CTOPEN_DIR", str(SHARED / "ct_open"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer random Llama with a locally trained tokenizer and a chat template (see tests/tiny_lm.py)."""
    from tiny_lm import make_tiny_llama

    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
