"""ctopen on the real CT Open Winter 2025 file (shared data), served from disk and from a local HTTP server.

Summer 2025 is not in the shared data and the tests have no internet, so its absence is what gets tested: it must
raise or be reported as skipped, never yield an empty list. Counts are those of Winter_2025.pickle at the pinned
commit, e.g. NCT05799287 ("Change from baseline in urine protein creatinine ratio (UPCR)", single_arm, answer 0).
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import os
import pickle
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace

import pytest
from local_http import serve

from deepimagine_data import ctopen
from deepimagine_data.ctopen import (
    CTOpenDownloadError,
    CTOpenError,
    exclusion_ids,
    load_edition,
    nct_ids,
    read_id_file,
    records,
    safe_load,
    source_url,
)

WINTER = "Winter_2025.pickle"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No test may read a developer's cache or reach GitHub through an inherited DEEPIMAGINE_CTOPEN_DIR.
    monkeypatch.setenv("DEEPIMAGINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DEEPIMAGINE_CTOPEN_DIR", raising=False)


@pytest.fixture(scope="session")
def ct_dir(ctopen_dir: Path) -> Path:
    return ctopen_dir


@pytest.fixture(scope="session")
def winter_raw(ct_dir: Path) -> dict:
    return load_edition("winter2025", ct_dir)


@pytest.fixture(scope="session")
def winter(ct_dir: Path) -> list[ctopen.CTOpenRecord]:
    return records("winter2025", ct_dir)


# --- the real Winter 2025 file -----------------------------------------------------------------------------------


def test_winter_counts(winter: list[ctopen.CTOpenRecord]) -> None:
    assert len(winter) == 561
    assert len({r.nct_id for r in winter}) == 314
    assert sum(len(r.questions) for r in winter) == 605
    cats = collections.Counter(c for r in winter for c in r.categories)
    assert cats == {"2-way explicit": 470, "2-way implicit": 80, "3-way explicit": 55}
    assert collections.Counter(r.meta_label for r in winter) == {
        "single_arm": 435,
        "distinguishable_arm": 46,
        "no_arm": 41,
        "no_distinguishable_arm": 39,
    }
    by_answer = collections.Counter((c, i) for r in winter for c, i in zip(r.categories, r.answer_index, strict=True))
    assert by_answer == {
        ("2-way explicit", 0): 299,
        ("2-way explicit", 1): 171,
        ("2-way implicit", 0): 66,
        ("2-way implicit", 1): 14,
        ("3-way explicit", 0): 6,
        ("3-way explicit", 1): 2,
        ("3-way explicit", 2): 47,
    }
    # Every endpoint string of the release is a dict repr; 107 of them have no description.
    assert all(r.measure and r.time_frame and r.outcome_type for r in winter)
    assert sum(r.description is None for r in winter) == 107


def test_real_records(winter: list[ctopen.CTOpenRecord]) -> None:
    by_id = collections.defaultdict(list)
    for r in winter:
        by_id[r.nct_id].append(r)

    (r,) = by_id["NCT05799287"]
    assert r.edition == "winter2025"
    assert r.measure == "Change from baseline in urine protein creatinine ratio (UPCR)"
    assert r.description == "Based on a 24-hour urine collections."
    assert (r.time_frame, r.outcome_type) == ("39 weeks", "primaryOutcomes")
    assert r.brief_title.startswith("A Study of Telitacicept in Patients with Primary Immunoglobulin A")
    assert r.meta_label == "single_arm"
    assert r.answer_index == (0,) and r.categories == ("2-way explicit",)
    assert r.answers[0].startswith("The study arm Telitacicept has achieved statistically significant")
    assert r.key == ("NCT05799287", r.endpoint) and r.endpoint.startswith("{'measure': 'Change from baseline")
    # The key CT Open's evaluate_multiple_runs looks up (README example).
    assert r.prediction_key(0) == ("NCT05799287", r.endpoint, 0)
    with pytest.raises(IndexError):
        r.prediction_key(1)
    assert hash(r) == hash(r)  # immutable all the way down, so usable in sets

    (na,) = by_id["NCT06022250"]
    assert na.meta_label == "no_arm" and na.categories == ("2-way implicit",)
    assert na.questions == (("This endpoint is met.", "This endpoint is not met."),) and na.answer_index == (0,)

    # NCT05523297 (Octaplex vs frozen plasma) has both outcomes of a 3-way question: one arm worse, no difference.
    three = {x.measure: x for x in by_id["NCT05523297"] if x.categories == ("3-way explicit",)}
    sae = three["Comparison of Incidence of Serious Treatment-emergent Adverse Events Between Octaplex and FP Groups"]
    death = three["Comparison of the Incidence of Death Between Octaplex and FP Groups"]
    assert sae.answers[0] == "Study Arm Frozen plasma is statistically significantly worse than Study Arm Octaplex."
    assert sae.answer_index == (0,)
    assert death.answers[0].startswith("No statistically significant difference between Study Arm Octaplex")
    assert death.answer_index == (2,)

    two_q = [x for x in by_id["NCT05637541"] if len(x.questions) == 2]
    assert two_q and two_q[0].meta_label == "distinguishable_arm"
    assert two_q[0].categories == ("2-way explicit", "2-way explicit")


def test_matches_independent_jsonl_conversion(ct_dir: Path, winter: list[ctopen.CTOpenRecord]) -> None:
    # The JSONL was converted separately (SOURCE.md); agreeing with it checks the unpickled content, not just counts.
    with gzip.open(ct_dir / "Winter_2025.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    ours = {r.key: r for r in winter}
    assert {(o["nct_id"], o["endpoint_key"]) for o in rows} == set(ours)
    for o in rows:
        r = ours[(o["nct_id"], o["endpoint_key"])]
        assert r.answers == tuple(o["answer_list_of_lists"])
        assert r.questions == tuple(tuple(q) for q in o["question_list_of_lists"])
        assert r.meta_label == o["meta_label"]


def test_inconsistent_records_are_refused(tmp_path: Path, winter_raw: dict) -> None:
    key = next(k for k in winter_raw if k[0] == "NCT05799287")
    bad_answer = {key: dict(winter_raw[key], answer_list_of_lists=["an answer that is not an option"])}
    path = tmp_path / WINTER
    path.write_bytes(pickle.dumps(bad_answer))
    with pytest.raises(CTOpenError, match=r"NCT05799287: answer of question 0 .* not one of its options"):
        records("winter2025", path)

    # An endpoint string that is not a dict repr is kept raw (the parsed fields are None), not an error.
    raw_ep = ("NCT05799287", "UPCR at week 39 (free text)")
    path.write_bytes(pickle.dumps({raw_ep: dict(winter_raw[key], endpoint=raw_ep[1])}))
    (r,) = records("winter2025", path)
    assert r.endpoint == "UPCR at week 39 (free text)" and r.measure is None and r.answer_index == (0,)

    bad_label = {key: dict(winter_raw[key], meta_label="both_arms")}
    path.write_bytes(pickle.dumps(bad_label))
    with pytest.raises(CTOpenError, match="NCT05799287: question 0: unknown meta_label 'both_arms'"):
        records("winter2025", path)


def test_parse_endpoint_never_evaluates() -> None:
    assert ctopen.parse_endpoint("{'measure': 'OS', 'timeFrame': '2 years'}") == {
        "measure": "OS",
        "timeFrame": "2 years",
    }
    assert ctopen.parse_endpoint("__import__('os').system('echo hi')") is None
    assert ctopen.parse_endpoint("{'measure': 'OS'") is None
    assert ctopen.parse_endpoint("['not', 'a dict']") is None


# --- the restricted unpickler ------------------------------------------------------------------------------------


class _RunsCommand:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@dataclass
class _Instance:
    x: int


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_refuses_os_system(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsCommand(f"touch {marker}"), protocol=protocol)
    with pytest.raises(CTOpenError, match=r"evil\.pickle: refused to load global (posix|nt|os)\.system"):
        safe_load(payload, "evil.pickle")
    assert not marker.exists()


def test_refuses_class_instances_and_foreign_types(tmp_path: Path) -> None:
    with pytest.raises(CTOpenError, match=r"inst\.pickle: refused to load global .*_Instance"):
        safe_load(pickle.dumps({"a": _Instance(1)}), "inst.pickle")
    # bytes needs no global, so only the type walk catches it.
    with pytest.raises(CTOpenError, match="b.pickle: holds a bytes object"):
        safe_load(pickle.dumps({"a": [b"raw"]}, protocol=4), "b.pickle")
    with pytest.raises(CTOpenError, match=r"junk\.pickle: not a readable pickle"):
        safe_load(b"not a pickle at all", "junk.pickle")
    # A pickle whose top level is no dict is no CT Open edition, even if every object in it is allowed.
    path = tmp_path / WINTER
    path.write_bytes(pickle.dumps([("NCT05799287", "x")]))
    with pytest.raises(CTOpenError, match="expected a dict of CT Open records, got list"):
        load_edition("winter2025", path)
    # Shared and cyclic structures are fine (the walk goes by identity).
    shared: list = [1, {2: (3.0, None, True)}, frozenset({"x"})]
    shared.append(shared)
    assert safe_load(pickle.dumps({"a": shared, "b": shared}), "ok.pickle")["a"][1] == {2: (3.0, None, True)}


# --- sources: local, env var, URL, cache -------------------------------------------------------------------------


def test_local_sources(ct_dir: Path, tmp_path: Path, winter_raw: dict) -> None:
    assert load_edition("winter2025", ct_dir / WINTER) == winter_raw
    assert load_edition("winter2025", str(ct_dir)) == winter_raw
    clone = tmp_path / "CT_Open"
    (clone / "datasets").mkdir(parents=True)
    shutil.copy(ct_dir / WINTER, clone / "datasets" / WINTER)
    assert load_edition("winter2025", clone) == winter_raw  # a clone of the source repository

    with pytest.raises(FileNotFoundError) as e:
        load_edition("summer2025", ct_dir)
    assert str(ct_dir / "Summer_2025.pickle") in str(e.value)
    assert source_url("summer2025") in str(e.value)
    with pytest.raises(CTOpenError, match="not the summer2025 edition"):
        load_edition("summer2025", ct_dir / WINTER)
    with pytest.raises(CTOpenError, match="unknown CT Open edition 'spring2025'; valid: summer2025, winter2025"):
        load_edition("spring2025", ct_dir)


def test_source_url() -> None:
    assert source_url("summer2025") == (
        "https://raw.githubusercontent.com/ClinicalTrial-OpenChallenge/CT_Open/"
        "7a29c11d037209368714a609fc6a34ddee996939/datasets/Summer_2025.pickle"
    )
    assert (
        source_url("winter2025", "abc", base="http://h:1/")
        == "http://h:1/ClinicalTrial-OpenChallenge/CT_Open/abc/datasets/Winter_2025.pickle"
    )


def test_env_dir_and_missing_summer(ct_dir: Path, monkeypatch: pytest.MonkeyPatch, winter_raw: dict) -> None:
    monkeypatch.setenv("DEEPIMAGINE_CTOPEN_DIR", str(ct_dir))
    assert load_edition("winter2025") == winter_raw

    with pytest.raises(FileNotFoundError, match="Summer_2025.pickle"):
        nct_ids()
    lists, skipped = exclusion_ids(missing="skip")
    assert set(lists) == {"ctopen_winter2025"} and len(lists["ctopen_winter2025"]) == 314
    assert list(skipped) == ["summer2025"] and "Summer_2025.pickle" in skipped["summer2025"]
    with pytest.warns(UserWarning, match="CT Open summer2025 skipped"):
        ids = nct_ids(missing="skip")
    assert ids == lists["ctopen_winter2025"] and "NCT05799287" in ids
    assert nct_ids("winter2025") == ids  # one name is one edition, not its letters

    monkeypatch.setenv("DEEPIMAGINE_CTOPEN_DIR", str(ct_dir / "nowhere"))
    with pytest.raises(FileNotFoundError, match="DEEPIMAGINE_CTOPEN_DIR folder .*nowhere"):
        load_edition("winter2025")


@contextlib.contextmanager
def _serve(root: Path) -> Iterator[tuple[str, SimpleNamespace]]:
    """Serve ``root`` on 127.0.0.1; ``state.paths`` logs requests, ``state.fail`` lists statuses to answer first."""
    state = SimpleNamespace(paths=[], fail=[])

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            state.paths.append(self.path)
            if state.fail:
                self.send_error(state.fail.pop(0))
                return
            super().do_GET()

        def log_message(self, *args) -> None:
            pass

    with serve(Handler) as url:
        yield url, state


@pytest.fixture()
def mirror(ct_dir: Path, tmp_path: Path) -> Iterator[tuple[str, SimpleNamespace]]:
    # Laid out like raw.githubusercontent.com: <owner>/<repo>/<commit>/datasets/<file>.
    root = tmp_path / "www"
    datasets = root / ctopen.REPO / ctopen.PINNED_COMMIT / "datasets"
    datasets.mkdir(parents=True)
    shutil.copy(ct_dir / WINTER, datasets / WINTER)
    with _serve(root) as served:
        yield served


def test_url_download_and_cache(mirror, tmp_path: Path, ct_dir: Path, winter_raw: dict) -> None:
    base, state = mirror
    url = source_url("winter2025", base=base)
    assert load_edition("winter2025", url) == winter_raw
    assert state.paths == [f"/{ctopen.REPO}/{ctopen.PINNED_COMMIT}/datasets/{WINTER}"]
    cached = tmp_path / "cache" / "ct_open" / ctopen.PINNED_COMMIT / WINTER
    assert cached.read_bytes() == (ct_dir / WINTER).read_bytes()
    assert not [p for p in cached.parent.iterdir() if p.name != WINTER]  # no temp file left behind

    # Second call, and the base-URL form of the same commit: both from the cache, no request.
    assert load_edition("winter2025", url) == winter_raw
    assert load_edition("winter2025", url.rsplit("/", 1)[0] + "/") == winter_raw
    assert len(state.paths) == 1


def test_url_retries_on_503(mirror, winter_raw: dict) -> None:
    base, state = mirror
    state.fail = [503]
    assert load_edition("winter2025", source_url("winter2025", base=base), backoff=0) == winter_raw
    assert len(state.paths) == 2

    state.fail, state.paths[:] = [503, 502, 500], []
    url = source_url("winter2025", commit="0" * 40, base=base)
    with pytest.raises(CTOpenDownloadError, match="gave up after 3 attempts; last error: HTTP 500") as e:
        load_edition("winter2025", url, backoff=0)
    assert e.value.url == url and len(state.paths) == 3


def test_url_404_names_url_and_is_not_retried(mirror) -> None:
    base, state = mirror
    url = source_url("winter2025", commit="f" * 40, base=base)
    with pytest.raises(CTOpenDownloadError, match=f"HTTP 404 for {url}") as e:
        load_edition("winter2025", url, backoff=0)
    assert e.value.status == 404 and len(state.paths) == 1

    # Through the exclusion lists: winter from the mirror, summer (not mirrored) skipped with the 404 as reason.
    edition_base = source_url("winter2025", base=base).rsplit("/", 1)[0] + "/"
    lists, skipped = exclusion_ids(source=edition_base, missing="skip")
    assert len(lists["ctopen_winter2025"]) == 314
    assert skipped == {"summer2025": f"HTTP 404 for {edition_base}Summer_2025.pickle"}
    with pytest.raises(CTOpenDownloadError, match="Summer_2025.pickle"):
        nct_ids(source=edition_base)


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{WINTER}"
    with pytest.raises(CTOpenDownloadError, match=rf"could not download {url}: gave up after 2 attempts; .*Connection"):
        load_edition("winter2025", url, retries=1, backoff=0)


# --- user exclusion files ----------------------------------------------------------------------------------------


def test_user_exclusion_files(tmp_path: Path, ct_dir: Path) -> None:
    txt = tmp_path / "held_out.txt"
    txt.write_text("# trials we evaluate on\n\nNCT05799287\nNCT06022250  # no_arm example\n  NCT05523297\n")
    csv_file = tmp_path / "extra.csv"
    csv_file.write_text("\ufeffnct_id,note\nNCT00271596,citalopram\nNCT00763412,\n")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text('{"nct_id": "NCT02210780"}\n\n{"nct_id": "NCT02552212", "x": 1}\n')

    lists, skipped = exclusion_ids(["winter2025"], ct_dir, extra_files=[txt, csv_file, jsonl])
    assert skipped == {}
    assert lists["user:held_out.txt"] == {"NCT05799287", "NCT06022250", "NCT05523297"}
    assert lists["user:extra.csv"] == {"NCT00271596", "NCT00763412"}
    assert lists["user:more.jsonl"] == {"NCT02210780", "NCT02552212"}
    assert lists["user:held_out.txt"] <= lists["ctopen_winter2025"]

    txt.write_text("NCT05799287\n# ok\nNCT0579928\n")
    with pytest.raises(CTOpenError, match=rf"{txt}:3: 'NCT0579928' is not an NCT id"):
        read_id_file(txt)
    csv_file.write_text("nct_id\nNCT00271596\nnct00763412\n")
    with pytest.raises(CTOpenError, match=rf"{csv_file}:3: 'nct00763412' is not an NCT id"):
        read_id_file(csv_file)
    csv_file.write_text("id\nNCT00271596\n")
    with pytest.raises(CTOpenError, match="no nct_id column"):
        read_id_file(csv_file)
    jsonl.write_text('{"nct_id": "NCT02210780"}\n{"id": "NCT02552212"}\n')
    with pytest.raises(CTOpenError, match=rf"{jsonl}:2: expected an object with a string nct_id"):
        read_id_file(jsonl)
    with pytest.raises(CTOpenError, match="missing must be 'error' or 'skip'"):
        exclusion_ids(["winter2025"], ct_dir, missing="ignore")


# --- bounds of a download: size cap, deadline, --timeout ---------------------------------------------------------


@contextlib.contextmanager
def _hostile(route) -> Iterator[str]:
    """A server on 127.0.0.1 answering every GET with ``route(handler)``; yields its base URL."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            try:
                route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: the point of these servers

        def log_message(self, *args) -> None:
            pass

    with serve(Handler) as url:
        yield url


def _endless(h) -> None:
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    block = b"\x80" * 65536  # starts like a pickle, never ends
    for _ in range(3 << 14):  # 3 GiB at most, as in the issue; the client stops at the cap
        h.wfile.write(block)


def _drip(h) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(ctopen.EDITION_SIZES[WINTER]))
    h.end_headers()
    for _ in range(100):
        h.wfile.write(b"\x80")
        h.wfile.flush()
        time.sleep(0.25)


def test_an_endless_download_stops_at_the_known_size(tmp_path: Path) -> None:
    import tracemalloc

    size = ctopen.EDITION_SIZES[WINTER]
    with _hostile(_endless) as base:
        url = source_url("winter2025", base=base)
        tracemalloc.start()
        try:
            with pytest.raises(CTOpenDownloadError) as e:
                load_edition("winter2025", url)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # another commit of the same file may have grown: its cap is SIZE_SLACK times the size
        other = source_url("winter2025", commit="a" * 40, base=base)
        with pytest.raises(CTOpenDownloadError, match=r"the cap is 4 times the size of Winter_2025\.pickle"):
            load_edition("winter2025", other)
    assert peak < 2 * size + (1 << 20), peak  # the body up to the cap, not the 3 GiB on offer
    assert re.fullmatch(
        rf"could not download {re.escape(url)}: size cap: the answer is larger than 2,347,470 bytes \(stopped after "
        r"[\d,]+\) \(the cap is the size of Winter_2025\.pickle at the pinned commit\)",
        str(e.value),
    ), str(e.value)
    assert e.value.cause == "size" and e.value.url == url
    assert not (tmp_path / "cache" / "ct_open").exists()  # nothing cached


def test_a_stalled_download_ends_at_its_deadline() -> None:
    with _hostile(_drip) as base:
        url = source_url("winter2025", base=base)
        t0 = time.monotonic()
        with pytest.raises(CTOpenDownloadError) as e:
            load_edition("winter2025", url, deadline=1)
        assert time.monotonic() - t0 < 1.6
        assert re.fullmatch(
            rf"could not download {re.escape(url)}: deadline: 1 s passed on attempt 1; the answer was still "
            r"arriving, \d+ bytes? received",
            str(e.value),
        ), str(e.value)
        # what `--timeout` does for every command that loads CT Open: a deadline for the downloads inside it
        t0 = time.monotonic()
        with ctopen.download_deadline(0.6), pytest.raises(CTOpenDownloadError, match=r"deadline: 0\.6 s \(--timeout\)"):
            records("winter2025", url)
        assert time.monotonic() - t0 < 1.2
    # a deadline given up is no deadline left behind
    assert ctopen._deadline == [(ctopen.DEFAULT_DEADLINE, None)]


def test_cli_timeout_ends_a_silent_download_with_an_error_line(tmp_path: Path, capsys) -> None:
    from deepimagine_data.cli import main

    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/{WINTER}"
        preds = tmp_path / "p.jsonl"
        preds.write_text("")
        t0 = time.monotonic()
        rc = main(["score", "--benchmark", "ctopen", "--edition", "winter2025", "--source", url, "--predictions"]
                  + [str(preds), "--timeout", "1"])  # fmt: skip
        took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 2 and took < 5.0, (rc, took)  # 1 s, plus the CLI's imports on a busy machine
    assert err.startswith("error: ") and err.count("\n") == 1  # one line, no traceback
    assert f"could not download {url}: deadline: 1 s (--timeout) passed on attempt 1; no answer" in err


def test_a_refused_pickle_is_a_record_error_for_every_command() -> None:
    # CTOpenError is a RecordError: `deepimagine` prints it as one `error:` line (exit 2), never a traceback
    from deepimagine_data.errors import RecordError

    err = CTOpenError("x.pickle: refused to load global os.system")
    assert isinstance(err, RecordError) and isinstance(err, ValueError)
    assert str(err) == "x.pickle: refused to load global os.system"
