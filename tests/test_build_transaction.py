"""`deepimagine build` as one transaction: trials, pairs and bench appear together or not at all, a killed build's
leftovers are cleaned by the next one, a second build at once is refused, and build errors are one `error:` line."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from local_http import serve

from deepimagine_data.cli import main
from deepimagine_data.hub import BuildError, BuildTransaction, folder_fingerprint, write_hub_dataset

BUILT = ("trials", "pairs", "bench")
STUDIES = Path(__file__).resolve().parents[1] / "deepimagine_data" / "data" / "aact_oncology" / "studies.parquet"


def _cli(*args: str, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    exe = Path(sys.executable).with_name("deepimagine")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "deepimagine_data.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    if popen:
        return subprocess.Popen([*cmd, *args], env=env, text=True, **popen)
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=600)


def _studies(n: int = 40):
    return pq.read_table(STUDIES).slice(0, n).select(["nct_id", "brief_title", "phase"])


def _fingerprints(out: Path, names=BUILT) -> dict[str, str]:
    return {n: folder_fingerprint(out / "deepimagine" / n) for n in names}


def _leftovers(out: Path) -> list[str]:
    places = [out, out / "deepimagine"]
    return sorted(p.name for d in places if d.is_dir() for p in d.iterdir() if p.name.startswith((".tmp-", ".old-")))


def _printed(stdout: str) -> dict[str, str]:
    trials = next(ln for ln in stdout.splitlines() if ln.startswith("fingerprint: ")).split()[1]
    line = next(ln for ln in stdout.splitlines() if ln.startswith("fingerprints: ")).split()
    return {"trials": trials, "pairs": line[2], "bench": line[4]}


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A finished build, with a dataset of someone else's (a leaderboard) in the same deepimagine/ folder."""
    out = tmp_path_factory.mktemp("previous")
    write_hub_dataset(out, "deepimagine/leaderboard", {"scores": {"train": _studies()}}, "# a leaderboard\n")
    lb = folder_fingerprint(out / "deepimagine" / "leaderboard")
    res = _cli("build", "--no-approx", "--out", str(out))
    assert res.returncode == 0, res.stderr
    fps = _fingerprints(out)
    assert {n: fp[:16] for n, fp in fps.items()} == _printed(res.stdout)
    assert folder_fingerprint(out / "deepimagine" / "leaderboard") == lb  # carried into the new folder as it was
    assert _leftovers(out) == []
    return out, fps | {"leaderboard": lb}


@pytest.fixture()
def hub(previous, tmp_path) -> tuple[Path, dict[str, str]]:
    out, fps = previous
    shutil.copytree(out, tmp_path / "hub", symlinks=True)
    return tmp_path / "hub", fps


def _loads(out: Path) -> None:
    from datasets import load_dataset

    assert load_dataset(str(out / "deepimagine" / "pairs"), "strict_arm", split="train").num_rows > 0
    assert load_dataset(str(out / "deepimagine" / "bench"), "questions", split="test").num_rows > 0
    assert load_dataset(str(out / "deepimagine" / "trials"), "trials", split="train").num_rows > 0


def test_killed_build_leaves_the_previous_one_and_the_next_cleans_up(hub, tmp_path):
    out, before = hub
    new_options = ("--no-approx", "--bench-max-per-trial", "3", "--targets", "onehot", "--out", str(out))
    log = (tmp_path / "killed.log").open("w")
    a = _cli("build", *new_options, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        staged: list[Path] = []
        while not staged:
            assert a.poll() is None, (tmp_path / "killed.log").read_text()
            assert time.monotonic() < deadline, "the build never wrote trials"
            staged = list(out.glob(".tmp-deepimagine-*/deepimagine/trials"))
            time.sleep(0.05)
        # frozen mid-build (trials staged, pairs not): it holds the build lock
        os.kill(a.pid, signal.SIGSTOP)
        second = _cli("build", "--no-approx", "--out", str(out))
        assert second.returncode == 2
        assert second.stderr.startswith("error: another build is writing to ") and second.stderr.count("\n") == 1
        assert f"(pid {a.pid}, started " in second.stderr
        assert staged[0].is_dir()  # the running build's staging was not cleaned away
        assert _fingerprints(out) == {n: before[n] for n in BUILT}
        _loads(out)

        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(a.pid, signal.SIGKILL)  # forked labelling workers, if any outlived it
        log.close()
    assert _fingerprints(out, (*BUILT, "leaderboard")) == before
    _loads(out)
    assert _leftovers(out) == [staged[0].parents[1].name]

    res = _cli("build", *new_options)
    assert res.returncode == 0, res.stderr
    assert f"note: removed {staged[0].parents[1]} (left by a build that was killed)" in res.stderr
    assert _leftovers(out) == []
    after = _fingerprints(out, (*BUILT, "leaderboard"))
    assert {n: after[n][:16] for n in BUILT} == _printed(res.stdout)
    assert after["trials"] == before["trials"]  # same inputs
    assert after["pairs"] != before["pairs"] and after["bench"] != before["bench"]  # the new options, together
    assert after["leaderboard"] == before["leaderboard"]
    _loads(out)


class _Refuses(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_error(403, "no pickles for you")

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def _refusing_server():
    with serve(_Refuses) as url:
        yield url + "/"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fails_cleanly(out: Path, before: dict, capsys, *args: str) -> str:
    code = main(["build", "--no-approx", "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    if before:
        assert _fingerprints(out, (*BUILT, "leaderboard")) == before
    assert _leftovers(out) == []
    return lines[0]


def test_require_ctopen_with_a_refusing_or_unreachable_source_is_an_error_line(hub, capsys, monkeypatch, tmp_path):
    out, before = hub
    monkeypatch.setenv("DEEPIMAGINE_CACHE", str(tmp_path / "cache"))
    with _refusing_server() as url:
        line = _fails_cleanly(out, before, capsys, "--require-ctopen", "--ctopen-source", url)
    assert f"{url}Winter_2025.pickle" in line and "403" in line and "--require-ctopen" in line
    url = f"http://127.0.0.1:{_closed_port()}/"
    line = _fails_cleanly(out, before, capsys, "--require-ctopen", "--ctopen-source", url)
    assert f"{url}Winter_2025.pickle" in line and "refused" in line.lower()


def test_bad_exclude_files_are_an_error_line(hub, capsys, tmp_path):
    out, before = hub
    not_an_id = tmp_path / "ids.txt"
    not_an_id.write_text("NCT00000001\nNCT0000000x\n")
    line = _fails_cleanly(out, before, capsys, "--exclude", str(not_an_id))
    assert line == f"error: --exclude: {not_an_id}:2: 'NCT0000000x' is not an NCT id (NCT + 8 digits)"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"NCT00000001 # \xe9tude\n")
    line = _fails_cleanly(out, before, capsys, "--exclude", str(latin1))
    assert line == f"error: --exclude {latin1}: not UTF-8 text (byte 14: invalid continuation byte)"
    line = _fails_cleanly(out, before, capsys, "--exclude", str(tmp_path / "missing.txt"))
    assert line == f"error: --exclude {tmp_path / 'missing.txt'}: No such file or directory"


def test_unwritable_out_is_an_error_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    line = _fails_cleanly(tmp_path / "a-file" / "hub", {}, capsys)
    assert line.startswith(f"error: cannot build into {tmp_path / 'a-file' / 'hub'}: ") and "Not a directory" in line
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "deepimagine").write_text("not a folder either")
    line = _fails_cleanly(tmp_path / "hub", {}, capsys)
    assert line == f"error: {tmp_path / 'hub' / 'deepimagine'} is not a folder: move it away and build again"
    assert (tmp_path / "hub" / "deepimagine").read_text() == "not a folder either"


# --- the transaction itself, on small real datasets -------------------------------------------------------------


def _small_build(root: Path, rows: int) -> dict[str, str]:
    for name in BUILT:
        write_hub_dataset(root, f"deepimagine/{name}", {"studies": {"train": _studies(rows)}}, f"# {name}\n")
    return _fingerprints(root)


def test_a_failed_build_changes_nothing(tmp_path):
    before = _small_build(tmp_path, 30)
    with pytest.raises(RuntimeError, match="labelling failed"), BuildTransaction(tmp_path) as tx:
        write_hub_dataset(tx.staging, "deepimagine/trials", {"studies": {"train": _studies(50)}}, "# new\n")
        raise RuntimeError("labelling failed")
    assert _fingerprints(tmp_path) == before
    assert _leftovers(tmp_path) == []


def test_a_second_build_in_the_same_folder_is_refused(tmp_path):
    _small_build(tmp_path, 30)
    # the lock is per process (a POSIX lock), so the other build is another process
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from deepimagine_data.hub import BuildTransaction as T\n"
            "with T(sys.argv[1]): print('staged', flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "staged\n"
        staging = list(tmp_path.glob(".tmp-deepimagine-*"))
        with pytest.raises(BuildError, match=rf"another build is writing to .*\(pid {holder.pid}, started "):
            BuildTransaction(tmp_path).__enter__()
        assert list(tmp_path.glob(".tmp-deepimagine-*")) == staging  # not taken for a leftover
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    with BuildTransaction(tmp_path) as tx:
        assert tx.notes == []  # the other build cleaned up after itself


def test_a_build_killed_between_two_renames_is_put_back(tmp_path):
    """Where the system cannot swap two folders in one step, a build killed between its two renames leaves no
    deepimagine/ and the previous one at .old-deepimagine-<pid>; the next build puts it back."""
    before = _small_build(tmp_path, 30)
    (tmp_path / "deepimagine").rename(tmp_path / ".old-deepimagine-4242")
    staged = tmp_path / ".tmp-deepimagine-x1y2"
    _small_build(staged, 50)
    with BuildTransaction(tmp_path) as tx:
        assert tx.notes == [
            f"put back {tmp_path / 'deepimagine'} from .old-deepimagine-4242 (a build was killed while swapping it in)",
            f"removed {staged} (left by a build that was killed)",
        ]
    assert _fingerprints(tmp_path) == before
    assert _leftovers(tmp_path) == []


def test_leftovers_of_killed_writes_inside_the_folder(tmp_path):
    before = _small_build(tmp_path, 30)
    live = tmp_path / "deepimagine"
    (live / "bench").rename(live / ".old-bench-4242")  # killed between the two renames of an older write
    (live / ".tmp-pairs-abc").mkdir()  # killed while writing
    (live / ".tmp-pairs-abc" / "README.md").write_text("half")
    with BuildTransaction(tmp_path) as tx:
        assert tx.notes == [
            f"put back {live / 'bench'} from .old-bench-4242 (a write was killed while swapping it in)",
            f"removed {live / '.tmp-pairs-abc'} (left by a killed write)",
        ]
    assert _fingerprints(tmp_path) == before
    assert _leftovers(tmp_path) == []


def test_a_dataset_written_beside_the_build_while_it_runs_is_kept(tmp_path):
    """A leaderboard written into deepimagine/ during a build: the swap waits for the write and carries it over."""
    _small_build(tmp_path, 30)
    in_write, go_on, notes = threading.Event(), threading.Event(), []

    def card(fingerprint: str):
        in_write.set()
        assert go_on.wait(60)
        return "# leaderboard\n", {}

    with BuildTransaction(tmp_path, say=notes.append) as tx:
        new = _small_build(tx.staging, 50)
        writer = threading.Thread(
            target=write_hub_dataset,
            args=(tmp_path, "deepimagine/leaderboard", {"scores": {"train": _studies(7)}}, ""),
            kwargs={"card": card},
        )
        writer.start()
        assert in_write.wait(60)
        committer = threading.Thread(target=tx.commit)
        committer.start()
        time.sleep(0.5)
        assert committer.is_alive()  # waiting for the writer
        go_on.set()
        writer.join(60)
        committer.join(60)
    assert notes == [f"waiting for another command writing into {tmp_path / 'deepimagine'} to finish"]
    assert _fingerprints(tmp_path) == new
    assert pq.read_table(tmp_path / "deepimagine" / "leaderboard" / "scores").num_rows == 7
    assert _leftovers(tmp_path) == []
