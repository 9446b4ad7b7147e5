"""`deepimagine publish`: plan validation, dry-run output, the hub call sequence (against a fake client), the CLI.

The real upload test needs HF_TOKEN and DEEPIMAGINE_TEST_REPO; everything else is offline.
"""

from __future__ import annotations

import argparse
import hashlib
import os
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
