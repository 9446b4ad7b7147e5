"""What the package writes is readable as any file the user makes: mkdtemp / mkstemp would leave dataset folders
``drwx------`` and files ``-rw-------`` whatever the umask (issue 16: a leaderboard page a web server cannot read)."""

from __future__ import annotations

import os
import stat

import pyarrow as pa
import pytest

from deepimagine_data.fsutil import atomic_write_bytes, umask
from deepimagine_data.hub import write_hub_dataset
from deepimagine_data.schema import TABLES
from deepimagine_data.tables import write_tables


@pytest.fixture(params=[0o022, 0o027])
def mask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_umask_is_read_without_changing_it(mask):
    assert umask() == mask and umask() == mask


def test_atomic_write_follows_the_umask(tmp_path, mask):
    atomic_write_bytes(tmp_path / "page" / "index.html", b"<html></html>")
    assert mode(tmp_path / "page" / "index.html") == 0o666 & ~mask


def test_dataset_folders_follow_the_umask(tmp_path, mask):
    t = pa.table({"trial_id": ["NCT00002597"], "x": [1]})
    folder = write_hub_dataset(tmp_path, "deepimagine/demo", {"c": {"train": t}}, "# demo\n")
    assert mode(folder) == 0o777 & ~mask
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o666 & ~mask for p in files)
    assert all(mode(p) == 0o777 & ~mask for p in folder.rglob("*") if p.is_dir())


def test_ingested_tables_follow_the_umask(tmp_path, mask):
    write_tables({n: s.empty_table() for n, s in TABLES.items()}, tmp_path / "tables")
    assert mode(tmp_path / "tables") == 0o777 & ~mask
    assert all(mode(p) == 0o666 & ~mask for p in (tmp_path / "tables").iterdir())
