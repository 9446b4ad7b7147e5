"""`deepimagine publish`: plan validation, dry-run output, the hub call sequence (against a fake client), the CLI.

The real upload test needs HF_TOKEN and DEEPIMAGINE_TEST_REPO; everything else is offline.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepimagine_data import publish as pub
from deepimagine_data.publish import PublishError, PublishPlan, plan, publish

REPO = "deepimagine/trials"


@pytest.fixture(scope="session")
def trials_folder(tmp_path_factory) -> Path:
    from deepimagine_data.builders import trials

    folder, _, _ = trials.write(tmp_path_factory.mktemp("hub"))
    return folder


@pytest.fixture
def folder_copy(trials_folder, tmp_path) -> Path:
    """A private copy to break: the session folder stays valid for the other tests."""
    dst = tmp_path / "deepimagine" / "trials"
    shutil.copytree(trials_folder, dst)
    return dst


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _dry_run_lines(p: PublishPlan) -> list[str]:
    lines: list[str] = []
    assert publish(p, dry_run=True, out=lines.append) is None
    return lines


# --- dry run -----------------------------------------------------------------------------------------------------


def test_dry_run_lists_every_file_once_and_the_ops_in_order(trials_folder):
    p = plan(trials_folder, REPO, "0.1.0")
    assert p.tag == "v0.1.0"
    lines = _dry_run_lines(p)
    files = _files(trials_folder)
    assert "README.md" in files and len(files) == 7  # card + one shard per config
    for rel, sha in files.items():
        hits = [ln for ln in lines if rel in ln.split()]
        assert len(hits) == 1, (rel, hits)
        assert f"sha256:{sha[:12]}" in hits[0]
        assert f"{(trials_folder / rel).stat().st_size:,} B" in hits[0]
    adds = [ln.split()[1] for ln in lines if ln.startswith("  add ")]
    assert adds == sorted(files)

    def index(prefix: str) -> int:
        (i,) = [i for i, ln in enumerate(lines) if ln.startswith(prefix)]
        return i

    i_repo, i_commit, i_tag = index("create_repo("), index("create_commit("), index("create_tag(")
    assert i_repo < i_commit < i_tag
    assert "repo_type='dataset'" in lines[i_repo] and "exist_ok=True" in lines[i_repo]
    assert f"commit_message='deepimagine-data: {REPO} v0.1.0'" in lines[i_commit]
    assert "operations=7" in lines[i_commit]
    assert "tag='v0.1.0'" in lines[i_tag] and p.fingerprint in lines[i_tag]
    # file lines belong to the commit: between create_commit and create_tag
    assert all(i_commit < i < i_tag for i, ln in enumerate(lines) if ln.startswith("  add "))
    assert any("delete" in ln and "dry run" in ln for ln in lines)  # deletes skipped, and said so


def test_plan_carries_the_fingerprint_in_the_commit_description(trials_folder):
    from deepimagine_data.hub import folder_fingerprint

    p = plan(trials_folder, REPO, "v1.0.0")
    assert p.tag == "v1.0.0"
    assert p.commit_message == f"deepimagine-data: {REPO} v1.0.0"
    assert folder_fingerprint(trials_folder) in p.commit_description
    assert p.configs[0] == "trials" and set(p.configs) >= {"arms", "outcomes", "analyses"}


def test_dry_run_makes_no_network_call(trials_folder, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    assert os.environ.get("HF_HUB_OFFLINE") == "1" and constants.HF_HUB_OFFLINE
    # A listening port nobody should reach, plus a socket layer that fails loudly if anything dials out.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    dialed: list = []

    def no_connect(self, address, *a, **k):
        dialed.append(address)
        raise AssertionError(f"network call to {address}")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", no_connect)
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda *a, **k: pytest.fail("HfApi built in a dry run"))
    try:
        p = plan(trials_folder, REPO, "0.1.0")
        lines: list[str] = []
        publish(p, dry_run=True, endpoint=endpoint, token="hf_not_a_token", out=lines.append)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert not dialed
    assert "hf_not_a_token" not in "\n".join(lines)


# --- validation --------------------------------------------------------------------------------------------------


def test_missing_readme(folder_copy):
    (folder_copy / "README.md").unlink()
    with pytest.raises(PublishError, match="no README.md"):
        plan(folder_copy, REPO, "0.1.0")


def test_readme_without_front_matter(folder_copy):
    (folder_copy / "README.md").write_text("# trials\n\nno card metadata\n", encoding="utf-8")
    with pytest.raises(PublishError, match="no YAML front matter"):
        plan(folder_copy, REPO, "0.1.0")


def test_readme_without_configs(folder_copy):
    (folder_copy / "README.md").write_text("---\nlicense: other\n---\n\n# trials\n", encoding="utf-8")
    with pytest.raises(PublishError, match="no `configs:`"):
        plan(folder_copy, REPO, "0.1.0")


def test_config_glob_that_matches_nothing(folder_copy):
    shutil.rmtree(folder_copy / "arms")
    with pytest.raises(PublishError, match=r"config 'arms'.*'arms/train-\*\.parquet' matches no file"):
        plan(folder_copy, REPO, "0.1.0")


@pytest.mark.parametrize("version", ["", "latest", "1.0 ", "v", "1..0", "1.0/x", "V1.0", "1.0.0-", "../1"])
def test_bad_version(trials_folder, version):
    with pytest.raises(PublishError, match="bad version"):
        plan(trials_folder, REPO, version)


@pytest.mark.parametrize(
    ("version", "tag"),
    [
        ("0.1.0", "v0.1.0"),
        ("1.0", "v1.0"),
        ("v1.0.0", "v1.0.0"),
        ("1.0.0rc1", "v1.0.0rc1"),
        ("2.0.0-beta.2", "v2.0.0-beta.2"),
    ],
)
def test_good_versions(version, tag):
    assert pub.tag_name(version) == tag


@pytest.mark.parametrize("repo_id", ["trials", "a/b/c", "/trials", "org/", "org/na me", "org/a--b", "org/x..y", ""])
def test_bad_repo_id(trials_folder, repo_id):
    with pytest.raises(PublishError, match="bad repo id"):
        plan(trials_folder, repo_id, "0.1.0")


def test_leftover_tmp_dir_inside(folder_copy):
    (folder_copy / ".tmp-x").mkdir()
    with pytest.raises(PublishError, match=r"stray temporary entry '\.tmp-x'"):
        plan(folder_copy, REPO, "0.1.0")


def test_leftover_build_dir_beside(folder_copy):
    # where hub.write_hub_dataset stages a build: a sibling means one is running or was killed
    (folder_copy.parent / ".old-trials-1234").mkdir()
    with pytest.raises(PublishError, match=r"\.old-trials-1234 is left over from a build"):
        plan(folder_copy, REPO, "0.1.0")


def test_python_script_refused(folder_copy):
    (folder_copy / "trials.py").write_text("print('hi')\n")
    with pytest.raises(PublishError, match="trials.py.*Python scripts"):
        plan(folder_copy, REPO, "0.1.0")


def test_not_a_directory(tmp_path):
    with pytest.raises(PublishError, match="is not a directory"):
        plan(tmp_path / "missing", REPO, "0.1.0")


# --- the folder against its card: shards, fingerprint, what is uploaded ----------------------------------------------

SHARD = "trials/train-00000-of-00001.parquet"


@pytest.fixture(scope="session")
def small_hub(tmp_path_factory) -> Path:
    """A real build from three ClinicalTrials.gov records: pairs with 0-row splits and a config with no row at all
    (strict_dose), which the card leaves out but its fingerprint covers."""
    from deepimagine_data.cli import main

    out = tmp_path_factory.mktemp("small-hub")
    fixtures = Path(__file__).parent / "fixtures" / "ctgov"
    assert main(["build", "--input", f"ctgov:{fixtures}", "--out", str(out), "--no-approx"]) == 0
    return out / "deepimagine"


def _at(folder: Path, rel: str = SHARD) -> str:
    """The path a refusal names, as a regex."""
    return re.escape(str(folder.resolve() / rel))


def _stated(folder: Path) -> str:
    """The fingerprint of the tables the card's YAML states, read the way the hub reads a card."""
    from huggingface_hub import DatasetCard

    return DatasetCard.load(folder / "README.md").data.to_dict()["deepimagine"]["fingerprint"]


def _rewrite(path: Path, change) -> None:
    """Rewrite a shard the way the build writes it, with ``change`` applied to its table."""
    import pyarrow.parquet as pq

    from deepimagine_data.tables import PARQUET_OPTIONS, ROW_GROUP

    table = change(pq.read_table(path))
    pq.write_table(table, path, row_group_size=ROW_GROUP, **PARQUET_OPTIONS)


def test_plan_reads_every_row_and_matches_the_cards_fingerprint(trials_folder):
    from deepimagine_data.hub import folder_fingerprint

    p = plan(trials_folder, REPO, "0.1.0")
    assert p.card_fingerprint == _stated(trials_folder) and p.not_fingerprinted == ()
    assert p.shards == 6 and p.rows > 100_000 and p.skipped == ()
    assert p.fingerprint == folder_fingerprint(trials_folder)  # computed from the plan's sha256s, same value
    lines = _dry_run_lines(p)
    assert f"their rows give the card's fingerprint {p.card_fingerprint[:16]}" in lines[2]


def test_small_build_with_empty_splits_and_an_empty_config_matches(small_hub):
    card = (small_hub / "pairs" / "README.md").read_text(encoding="utf-8")
    assert "config_name: strict_dose" not in card and "| `strict_dose` | train | 0 |" in card
    for name in ("pairs", "bench", "trials"):
        p = plan(small_hub / name, f"deepimagine/{name}", "0.1.0")
        assert p.card_fingerprint == _stated(small_hub / name), name


def test_truncated_shard_is_refused(folder_copy):
    shard = folder_copy / SHARD
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(
        PublishError, match=rf"^{_at(folder_copy)}: not a readable parquet file \(.+\): rebuild the folder$"
    ):
        plan(folder_copy, REPO, "0.1.0")


def test_random_bytes_are_refused(folder_copy):
    shard = folder_copy / SHARD
    shard.write_bytes(os.urandom(shard.stat().st_size))
    with pytest.raises(PublishError, match=rf"^{_at(folder_copy)}: not a readable parquet file"):
        plan(folder_copy, REPO, "0.1.0")


def test_damaged_pages_behind_a_good_footer_are_refused(folder_copy):
    # the footer (schema, row counts) still reads: only reading the rows finds it
    shard = folder_copy / SHARD
    data = bytearray(shard.read_bytes())
    mid = len(data) // 3
    data[mid : mid + 4096] = os.urandom(4096)
    shard.write_bytes(bytes(data))
    with pytest.raises(PublishError) as e:
        plan(folder_copy, REPO, "0.1.0")
    msg = str(e.value)
    assert msg.startswith(f"{folder_copy.resolve() / SHARD}: not a readable parquet file") or (
        msg.startswith(f"{folder_copy / 'README.md'}: the card states fingerprint") and _stated(folder_copy) in msg
    ), msg


def test_shard_overwritten_by_another_configs_shard_names_the_column(folder_copy):
    shutil.copyfile(folder_copy / "arms" / "train-00000-of-00001.parquet", folder_copy / SHARD)
    with pytest.raises(
        PublishError, match=rf"^{_at(folder_copy)}: has no column 'nct_id' that the card declares for config "
    ):
        plan(folder_copy, REPO, "0.1.0")


def test_wrong_column_type_is_refused(folder_copy):
    import pyarrow as pa

    def narrow(t):
        i = t.schema.get_field_index("enrollment")
        return t.set_column(i, pa.field("enrollment", pa.int32()), t.column(i).cast(pa.int32()))

    _rewrite(folder_copy / SHARD, narrow)
    with pytest.raises(
        PublishError,
        match=rf"^{_at(folder_copy)}: column 'enrollment' is {{dtype: int32}} but the card declares {{dtype: int64}}",
    ):
        plan(folder_copy, REPO, "0.1.0")


def test_shard_of_another_split_is_refused_by_its_row_count(small_hub, tmp_path):
    folder = tmp_path / "pairs"
    shutil.copytree(small_hub / "pairs", folder)
    # same schema (every strict config has it), other rows: only the card's num_examples tells them apart
    rel = "strict_arm/validation-00000-of-00001.parquet"
    shutil.copyfile(folder / "strict_outcome" / "validation-00000-of-00001.parquet", folder / rel)
    with pytest.raises(
        PublishError,
        match=rf"^{_at(folder, rel)}: config 'strict_arm' split 'validation' holds 72 rows but the card's "
        r"num_examples is 26$",
    ):
        plan(folder, "deepimagine/pairs", "0.1.0")


def test_changed_row_is_refused_with_both_fingerprints(folder_copy):
    import pyarrow as pa

    def retitle(t):
        i = t.schema.get_field_index("brief_title")
        titles = t.column(i).to_pylist()
        titles[0] = titles[0] + "."
        return t.set_column(i, t.schema.field(i), pa.array(titles, t.schema.field(i).type))

    stated = _stated(folder_copy)
    _rewrite(folder_copy / SHARD, retitle)
    with pytest.raises(PublishError) as e:
        plan(folder_copy, REPO, "0.1.0")
    msg = str(e.value)
    assert msg.startswith(f"{folder_copy / 'README.md'}: the card states fingerprint {stated} but the rows")
    assert re.findall(r"\b[0-9a-f]{64}\b", msg)[1] != stated
    assert f"changed or replaced after the build ({folder_copy.resolve() / SHARD} modified after the card)" in msg
    assert "\n" not in msg


def test_shards_stream_across_files_and_row_groups(trials_folder, tmp_path, monkeypatch):
    """A split in many shards, its fingerprint batches cut across them: the rows still give the card's value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from deepimagine_data import hub

    read = pq.read_table(trials_folder / "arms" / "train-00000-of-00001.parquet")
    # rebuilt from Python values as a builder makes them: zeros under nulls (see test_build_from_ingested_tables...)
    arms = pa.Table.from_pylist(read.to_pylist(), schema=read.schema)
    monkeypatch.setattr(hub, "MAX_ROWS_PER_SHARD", 4_000)
    folder = hub.write_hub_dataset(
        tmp_path,
        "deepimagine/arms",
        {"arms": {"train": arms}},
        "",
        card=lambda fp: ("Built by deepimagine-data.", {"deepimagine": {"version": "0.1.0", "fingerprint": fp}}),
    )
    assert len(list((folder / "arms").glob("train-*.parquet"))) == -(-arms.num_rows // 4_000) > 2
    p = plan(folder, "deepimagine/arms", "0.1.0")
    assert p.card_fingerprint == _stated(folder) and p.rows == arms.num_rows
    # a row moved from one shard to the next keeps every count but not the order: refused
    last = folder / "arms" / "train-00001-of-00008.parquet"
    _rewrite(last, lambda t: t.take(list(range(1, t.num_rows)) + [0]))
    with pytest.raises(PublishError, match="the card states fingerprint"):
        plan(folder, "deepimagine/arms", "0.1.0")


def test_build_from_ingested_tables_matches_its_card(tmp_path):
    from deepimagine_data.cli import main

    fixtures = Path(__file__).parent / "fixtures" / "ctgov"
    assert main(["ingest", "ctgov-json", str(fixtures), "--out", str(tmp_path / "tables")]) == 0
    assert main(["build", "--input", f"tables:{tmp_path / 'tables'}", "--out", str(tmp_path), "--no-approx"]) == 0
    folder = tmp_path / "deepimagine" / "trials"
    assert plan(folder, REPO, "0.1.0").card_fingerprint == _stated(folder)


def test_config_added_later_is_checked_but_outside_the_fingerprint(small_hub, tmp_path):
    import pyarrow.parquet as pq

    from deepimagine_data.hub import add_config

    folder = tmp_path / "bench"
    shutil.copytree(small_hub / "bench", folder)
    rows = pq.read_table(small_hub / "pairs" / "strict_arm" / "validation-00000-of-00001.parquet")
    add_config(folder, "traces", {"train": rows}, section="## traces\n\nas `deepimagine traces` adds them")
    p = plan(folder, "deepimagine/bench", "0.1.0")
    assert p.card_fingerprint == _stated(folder) and p.not_fingerprinted == ("traces",)
    assert "(traces added later: not covered by it)" in _dry_run_lines(p)[2]
    shutil.copyfile(
        small_hub / "pairs" / "strict_outcome" / "validation-00000-of-00001.parquet",
        folder / "traces" / "train-00000-of-00001.parquet",
    )
    with pytest.raises(
        PublishError,
        match=rf"^{_at(folder, 'traces/train-00000-of-00001.parquet')}: config 'traces' split 'train' holds",
    ):
        plan(folder, "deepimagine/bench", "0.1.0")


@pytest.mark.parametrize("where", [".env", "arms/.env", ".secrets/token"])
def test_hidden_file_is_refused_and_never_read(folder_copy, where):
    path = folder_copy / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("HF_TOKEN=hf_secret_value\n")
    hidden = where.split("/")[0] if where.startswith(".") else where
    with pytest.raises(PublishError) as e:
        plan(folder_copy, REPO, "0.1.0")
    msg = str(e.value)
    assert msg.startswith(f"{folder_copy / hidden}: hidden ") and "may hold a token" in msg
    assert "hf_secret_value" not in msg and "\n" not in msg


def test_stray_files_are_skipped_and_listed(folder_copy):
    (folder_copy / "notes.txt").write_text("to do\n")
    (folder_copy / "extra").mkdir()
    shutil.copyfile(folder_copy / SHARD, folder_copy / "extra" / "copy.parquet")
    p = plan(folder_copy, REPO, "0.1.0")
    assert "notes.txt" not in {f.path for f in p.files} and len(p.files) == 7
    assert [path for path, _ in p.skipped] == ["extra/copy.parquet", "notes.txt"]
    lines = _dry_run_lines(p)
    assert "skip: notes.txt (no config of the card names it; not uploaded)" in lines
    assert "operations=7" in next(ln for ln in lines if ln.startswith("create_commit("))
    api = FakeApi(remote_files=[".gitattributes", "notes.txt"])
    publish(p, api=api, out=lambda s: None)
    commit = dict(api.calls)["create_commit"]["operations"]
    assert "notes.txt" not in {op.path_in_repo for op in commit if type(op).__name__ == "CommitOperationAdd"}
    assert [op.path_in_repo for op in commit if type(op).__name__ == "CommitOperationDelete"] == ["notes.txt"]


def test_link_out_of_the_folder_is_refused(folder_copy, tmp_path):
    secret = tmp_path / "elsewhere.parquet"
    shutil.copyfile(folder_copy / SHARD, secret)
    (folder_copy / SHARD).unlink()
    (folder_copy / SHARD).symlink_to(secret)
    with pytest.raises(PublishError, match=rf"^{_at(folder_copy)}: a link to .*elsewhere.parquet, outside "):
        plan(folder_copy, REPO, "0.1.0")


def test_card_without_fingerprint_is_checked_and_said(trials_folder, tmp_path):
    import pyarrow.parquet as pq

    from deepimagine_data.hub import write_hub_dataset

    arms = pq.read_table(trials_folder / "arms" / "train-00000-of-00001.parquet")
    folder = write_hub_dataset(tmp_path, "deepimagine/arms", {"arms": {"train": arms}}, "# arms\n")
    p = plan(folder, "deepimagine/arms", "0.1.0")
    assert p.card_fingerprint is None and p.rows == arms.num_rows
    assert "the card states no fingerprint of the tables to compare" in _dry_run_lines(p)[2]


def test_card_fingerprint_is_read_from_the_yaml_not_the_text(folder_copy):
    """The fingerprint is the front matter's `deepimagine.fingerprint`: a digest in the card's text is not read, and a
    malformed one in the YAML is refused naming the card and the key."""
    import yaml

    readme = folder_copy / "README.md"
    front, body = readme.read_text(encoding="utf-8").split("\n---\n", 1)
    meta = yaml.safe_load(front.removeprefix("---\n"))
    stated = meta["deepimagine"]["fingerprint"]
    assert stated in body  # the text says it too, for a reader
    meta["deepimagine"]["fingerprint"] = "0" * 64
    readme.write_text(f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}", encoding="utf-8")
    with pytest.raises(PublishError, match=f"the card states fingerprint {'0' * 64} but the rows"):
        plan(folder_copy, REPO, "0.1.0")
    meta["deepimagine"]["fingerprint"] = "abc"
    readme.write_text(f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}", encoding="utf-8")
    with pytest.raises(PublishError, match=r"README.md: front matter `deepimagine.fingerprint` is not a sha256"):
        plan(folder_copy, REPO, "0.1.0")


def test_cli_refuses_a_damaged_folder_in_one_line(folder_copy, capsys):
    shard = folder_copy / SHARD
    shard.write_bytes(shard.read_bytes()[:1000])
    for extra in (["--dry-run"], []):  # the real publish shares the plan: refused before any hub call
        args = _parser().parse_args(
            ["publish", "--repo-id", REPO, "--version", "0.1.0", "--folder", str(folder_copy), *extra]
        )
        assert args.func(args) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert (
            captured.err.startswith(f"error: {folder_copy.resolve() / SHARD}: not a readable parquet file")
            and captured.err.count("\n") == 1
        )


# --- publish against a fake hub client -----------------------------------------------------------------------------


class FakeApi:
    """Records calls; holds remote files and tags the way HfApi reports them."""

    def __init__(self, remote_files=(".gitattributes",), tags=(), head="a" * 40):
        self.calls: list[tuple[str, dict]] = []
        self.remote_files = list(remote_files)
        self.tags = list(tags)
        self.head = head
        self.branches = ["main"]

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def list_repo_refs(self, repo_id, **kw):
        self.calls.append(("list_repo_refs", {"repo_id": repo_id, **kw}))
        ref = SimpleNamespace
        return SimpleNamespace(
            branches=[ref(name=b, target_commit=self.head) for b in self.branches],
            tags=[ref(name=t, target_commit="b" * 40) for t in self.tags],
        )

    def create_branch(self, repo_id, **kw):
        self.calls.append(("create_branch", {"repo_id": repo_id, **kw}))
        self.branches.append(kw["branch"])

    def list_repo_files(self, repo_id, **kw):
        self.calls.append(("list_repo_files", {"repo_id": repo_id, **kw}))
        return list(self.remote_files)

    def create_commit(self, repo_id, operations, **kw):
        self.calls.append(("create_commit", {"repo_id": repo_id, "operations": list(operations), **kw}))
        oid = "c" * 40
        return SimpleNamespace(oid=oid, commit_url=f"https://hub.test/datasets/{repo_id}/commit/{oid}")

    def create_tag(self, repo_id, **kw):
        self.calls.append(("create_tag", {"repo_id": repo_id, **kw}))


def test_publish_runs_one_commit_then_tags_it(trials_folder):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    api = FakeApi(remote_files=[".gitattributes", "README.md", "old_config/train-00000-of-00001.parquet"])
    p = plan(trials_folder, REPO, "0.2.0")
    lines: list[str] = []
    url = publish(p, api=api, out=lines.append)
    assert [c[0] for c in api.calls] == [
        "create_repo",
        "list_repo_refs",
        "list_repo_files",
        "create_commit",
        "create_tag",
    ]
    calls = dict(api.calls)
    assert calls["create_repo"] == {"repo_id": REPO, "repo_type": "dataset", "exist_ok": True, "private": None}
    commit = calls["create_commit"]
    assert commit["commit_message"] == f"deepimagine-data: {REPO} v0.2.0"
    assert p.fingerprint in commit["commit_description"]
    assert commit["parent_commit"] == api.head and commit["revision"] == "main"
    adds = {op.path_in_repo: op for op in commit["operations"] if isinstance(op, CommitOperationAdd)}
    deletes = [op.path_in_repo for op in commit["operations"] if isinstance(op, CommitOperationDelete)]
    assert {k: v.upload_info.sha256.hex() for k, v in adds.items()} == _files(trials_folder)
    assert deletes == ["old_config/train-00000-of-00001.parquet"]  # .gitattributes is the hub's, kept
    tag = calls["create_tag"]
    assert tag["tag"] == "v0.2.0" and tag["revision"] == "c" * 40 and tag["repo_type"] == "dataset"
    assert url.endswith("/commit/" + "c" * 40)
    assert "  delete  old_config/train-00000-of-00001.parquet" in lines


def test_publish_refuses_an_existing_tag(trials_folder):
    api = FakeApi(tags=["v0.1.0"])
    with pytest.raises(PublishError, match="tag v0.1.0 already exists.*immutable"):
        publish(plan(trials_folder, REPO, "0.1.0"), api=api, out=lambda s: None)
    assert "create_commit" not in [c[0] for c in api.calls]


def test_publish_refuses_a_folder_changed_since_plan(folder_copy):
    p = plan(folder_copy, REPO, "0.1.0")
    (folder_copy / "README.md").write_text((folder_copy / "README.md").read_text() + "\nedited\n")
    api = FakeApi()
    with pytest.raises(PublishError, match=r"changed since it was planned \(README.md\)"):
        publish(p, api=api, out=lambda s: None)
    assert api.calls == []


def test_private_flag_reaches_create_repo(trials_folder):
    api = FakeApi()
    publish(plan(trials_folder, REPO, "0.1.0"), api=api, private=True, out=lambda s: None)
    assert dict(api.calls)["create_repo"]["private"] is True


def test_publish_to_another_branch_creates_it_first(trials_folder):
    api = FakeApi()
    p = plan(trials_folder, REPO, "0.1.0", revision="staging")
    assert any(ln.startswith("create_branch(") for ln in _dry_run_lines(p))
    publish(p, api=api, out=lambda s: None)
    assert [c[0] for c in api.calls][:2] == ["create_repo", "create_branch"]
    calls = dict(api.calls)
    assert calls["create_branch"]["branch"] == "staging" and calls["create_branch"]["exist_ok"] is True
    assert calls["create_commit"]["revision"] == "staging"


def test_publish_offline_says_so(trials_folder):
    with pytest.raises(PublishError, match="HF_HUB_OFFLINE"):
        publish(plan(trials_folder, REPO, "0.1.0"), endpoint="http://127.0.0.1:9", out=lambda s: None)


# --- CLI -----------------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deepimagine")
    p.add_argument("--version", action="version", version="x")  # as cli.py has: must not swallow publish --version
    sub = p.add_subparsers(dest="command", required=True)
    pub.add_cli(sub)
    return p


def test_cli_dry_run(trials_folder, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    hub_root = trials_folder.parents[1]
    args = _parser().parse_args(
        ["publish", "--repo-id", REPO, "--version", "0.1.0", "--from", str(hub_root), "--dry-run"]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "create_repo(" in out and "create_commit(" in out and "tag='v0.1.0'" in out
    assert "trials/train-00000-of-00001.parquet" in out
    assert "hf_secret_value" not in out


def test_cli_folder_overrides_from(trials_folder, capsys):
    args = _parser().parse_args(
        ["publish", "--repo-id", "someone/else", "--version", "1.0", "--from", "/nonexistent", "--folder"]
        + [str(trials_folder), "--dry-run"]
    )
    assert args.func(args) == 0
    assert "dataset someone/else tag v1.0" in capsys.readouterr().out


def test_cli_error_is_one_line(tmp_path, capsys):
    args = _parser().parse_args(["publish", "--repo-id", REPO, "--version", "0.1.0", "--from", str(tmp_path)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "is not a directory" in err


def test_cli_help_says_what_it_reads_and_uploads(capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    with pytest.raises(SystemExit):
        _parser().parse_args(["publish", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ["README.md", "configs:", "uploads every file", "tag v<version>", "--dry-run", "HF_TOKEN"]:
        assert words in text
    assert "hf_secret_value" not in text


# --- real hub ------------------------------------------------------------------------------------------------------

_HUB_SCRIPT = textwrap.dedent(
    """
    import sys
    import pyarrow.parquet as pq
    from datasets import load_dataset
    from huggingface_hub import list_repo_refs
    from deepimagine_data.publish import plan, publish

    folder, repo, version = sys.argv[1:4]
    p = plan(folder, repo, version)
    url = publish(p)
    assert url and "/commit/" in url, url
    refs = list_repo_refs(repo, repo_type="dataset")
    assert p.tag in [t.name for t in refs.tags], refs.tags
    ds = load_dataset(repo, "trials", revision=p.tag, split="train")
    expected = sum(pq.ParquetFile(f).metadata.num_rows for f in sorted((p.folder / "trials").glob("train-*.parquet")))
    assert ds.num_rows == expected, (ds.num_rows, expected)
    print("ok", p.tag, ds.num_rows)
    """
)


@pytest.mark.hub
def test_publish_to_the_hub(trials_folder, tmp_path):
    repo = os.environ.get("DEEPIMAGINE_TEST_REPO")
    if not (os.environ.get("HF_TOKEN") and repo):
        pytest.skip("set HF_TOKEN and DEEPIMAGINE_TEST_REPO (a dataset repo you may write to) to run")
    # The hub client reads HF_HUB_OFFLINE at import time and this test process imported it offline: run online in a
    # child, from an empty directory so no local folder named like the repo shadows it, with a throwaway cache.
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_HOME": str(tmp_path / "hf"),
    }
    version = f"0.0.{int(time.time())}"  # tags are immutable: a fresh one per run
    r = subprocess.run(
        [sys.executable, "-c", _HUB_SCRIPT, str(trials_folder), repo, version],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"ok v{version}" in r.stdout
