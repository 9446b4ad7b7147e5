"""ctgov_download against a local HTTP server that speaks the API v2 page shape and serves real studies.

The studies are the full API v2 records with posted results among the AACT loader fixtures
(tests/fixtures/aact_spec), so the shards written here are real ClinicalTrials.gov JSON, e.g. NCT00763412.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import tarfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import local_http
import pytest

from deepimagine_data.sources import ctgov_download
from deepimagine_data.sources.ctgov_download import (
    DownloadError,
    QueryMismatchError,
    RateLimiter,
    add_cli,
    download,
)

DRIP = "x-test-drip"  # a header the fake API's handler acts on instead of sending


def _nct(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


@pytest.fixture(scope="session")
def real_studies(aact_spec_archive) -> list[dict]:
    """Distinct full studies with results from the archive, in file-name order (first variant of a shared id)."""
    found: dict[str, dict] = {}
    with tarfile.open(aact_spec_archive) as tar:
        members = sorted(
            (
                m
                for m in tar.getmembers()
                if m.isfile() and m.name.startswith("spec/support/json_data/") and m.name.endswith(".json")
            ),
            key=lambda m: m.name,
        )
        for m in members:
            obj = json.load(tar.extractfile(m))  # type: ignore[arg-type]
            if not (isinstance(obj, dict) and "protocolSection" in obj and "resultsSection" in obj):
                continue
            nct = obj["protocolSection"].get("identificationModule", {}).get("nctId")
            if nct:
                # study_data_*.json are four variants of NCT000001; the API never returns one id twice.
                found.setdefault(nct, obj)
    assert {"NCT00763412", "NCT02210780", "NCT02552212"} <= set(found)
    return list(found.values())


class FakeApi:
    """State of the fake ``/api/v2/studies`` endpoint; tests configure failures and read the request log."""

    def __init__(self, studies: list[dict]):
        self.studies = studies
        self.requests: list[dict[str, str]] = []  # query params of every request, in arrival order
        self.fail_times: dict[int, list[int]] = {}  # page index -> statuses answered first (consumed one by one)
        self.fail_always: dict[int, int] = {}  # page index -> status answered every time
        self.extra: dict[int, list[dict]] = {}  # page index -> studies appended to that page (repeats)
        self.retry_after = "0"  # sent with 429
        self.loop_at: int | None = None  # page index whose nextPageToken points back at itself
        self.drip_at: set[int] = set()  # page indexes answered one byte every 0.2 s (a stalled server)
        self._tokens: dict[str, int] = {}
        self.lock = threading.Lock()
        self.root = ""

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v2"

    def token_for(self, offset: int) -> str:
        # Opaque and deterministic, so a resumed run can be checked against the token the server handed out.
        tok = hashlib.sha256(f"page@{offset}".encode()).hexdigest()[:20]
        self._tokens[tok] = offset
        return tok

    def page_of(self, token: str | None, page_size: int) -> int:
        return (self._tokens[token] if token else 0) // page_size

    def tokens_seen(self) -> list[str | None]:
        return [r.get("pageToken") for r in self.requests]

    def handle(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            self.requests.append(params)
            if path != "/api/v2/studies":
                return 404, {}, {"message": f"no route {path}"}
            if params.get("format") != "json":
                return 400, {}, {"message": "format must be json"}
            try:
                size = int(params.get("pageSize", "10"))
            except ValueError:
                return 400, {}, {"message": "pageSize not an integer"}
            if not 1 <= size <= 1000:
                return 400, {}, {"message": "pageSize out of range"}
            token = params.get("pageToken")
            if token is not None and token not in self._tokens:
                return 400, {}, {"message": f"invalid pageToken {token}"}
            offset = self._tokens[token] if token else 0
            index = offset // size
            if index in self.fail_always:
                return self.fail_always[index], {}, {"message": "persistent failure"}
            if index in self.drip_at:
                return 200, {DRIP: "1"}, {"studies": self.studies[offset : offset + size]}
            if self.fail_times.get(index):
                status = self.fail_times[index].pop(0)
                headers = {"Retry-After": self.retry_after} if status == 429 else {}
                return status, headers, {"message": "try again"}
            body: dict[str, Any] = {"studies": self.studies[offset : offset + size] + self.extra.get(index, [])}
            if offset + size < len(self.studies):
                body["nextPageToken"] = self.token_for(offset if index == self.loop_at else offset + size)
            if params.get("countTotal") == "true":
                body["totalCount"] = len(self.studies)
            return 200, {}, body


@contextmanager
def serve(state: FakeApi):
    """``state`` answering HTTP on 127.0.0.1 (a free port) while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            status, headers, body = state.handle(url.path, params)
            data = json.dumps(body).encode()
            drip = headers.pop(DRIP, None)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if not drip:
                self.wfile.write(data)
                return
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what the test wants

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

    with local_http.serve(Handler) as state.root:
        yield state


@pytest.fixture()
def api(real_studies: list[dict]):
    with serve(FakeApi(real_studies)) as state:
        yield state


def fetch(api: FakeApi, out: Path, **kw: Any) -> ctgov_download.Manifest:
    opts: dict[str, Any] = dict(
        base_url=api.base_url, page_size=2, rate_limit=None, backoff=0.0, retries=2, progress=False
    )
    opts.update(kw)
    return download(out, **opts)


def shard_ids(out: Path) -> list[str]:
    return [
        _nct(json.loads(line))
        for shard in sorted(out.glob("shard-*.jsonl"))
        for line in shard.read_text(encoding="utf-8").splitlines()
    ]


def load_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page_size", [1, 2, 4, 1000])
def test_pagination_downloads_every_study_once(
    api: FakeApi, real_studies: list[dict], tmp_path: Path, page_size: int
) -> None:
    out = tmp_path / "dl"
    m = fetch(api, out, page_size=page_size, condition="Cystic Fibrosis", results_posted_from="2008-01-01")
    n = len(real_studies)
    n_pages = -(-n // page_size)

    assert m.complete and m.n_studies == n and m.total_count == n and m.n_duplicates == 0
    assert len(m.pages) == n_pages == len(api.requests)
    assert shard_ids(out) == [_nct(s) for s in real_studies]
    # The records are stored as the API returned them.
    lines = [json.loads(line) for p in m.pages for line in (out / p.shard).read_text("utf-8").splitlines()]
    assert lines == real_studies

    on_disk = load_manifest(out)
    assert on_disk["complete"] is True and on_disk["n_studies"] == n and on_disk["total_count"] == n
    assert on_disk["query"]["condition"] == "Cystic Fibrosis" and on_disk["base_url"] == api.base_url
    for i, page in enumerate(on_disk["pages"]):
        assert page["index"] == i and page["shard"] == f"shard-{i:05d}.jsonl"
        assert page["sha256"] == hashlib.sha256((out / page["shard"]).read_bytes()).hexdigest()
        assert page["n_studies"] == len((out / page["shard"]).read_text("utf-8").splitlines())
    # Each page was fetched with the token the previous one handed out; the last has none.
    assert [p["page_token"] for p in on_disk["pages"][1:]] == [p["next_page_token"] for p in on_disk["pages"][:-1]]
    assert on_disk["pages"][-1]["next_page_token"] is None
    assert not list(out.glob(".*"))  # no temp files left

    first, *rest = api.requests
    assert first.get("countTotal") == "true" and "pageToken" not in first
    assert all("countTotal" not in r and r["pageToken"] for r in rest)
    for r in api.requests:
        assert r["aggFilters"] == "results:with"
        assert r["filter.advanced"] == "AREA[ResultsFirstPostDate]RANGE[2008-01-01,MAX]"
        assert r["query.cond"] == "Cystic Fibrosis" and r["pageSize"] == str(page_size) and r["format"] == "json"


def test_query_params_reach_the_api(api: FakeApi, tmp_path: Path) -> None:
    fetch(
        api,
        tmp_path / "dl",
        term="NCT00763412",
        intervention="repaglinide",
        status=["completed", "TERMINATED"],
        results_posted_to="2017-12-31",
        page_size=1000,
    )
    (r,) = api.requests
    assert r["query.term"] == "NCT00763412" and r["query.intr"] == "repaglinide"
    assert r["filter.overallStatus"] == "COMPLETED,TERMINATED"
    assert r["filter.advanced"] == "AREA[ResultsFirstPostDate]RANGE[MIN,2017-12-31]"
    fetch(api, tmp_path / "all", has_results=False, page_size=1000)
    assert "aggFilters" not in api.requests[-1] and "filter.advanced" not in api.requests[-1]


def test_retries_429_and_503_then_succeeds(api: FakeApi, real_studies: list[dict], tmp_path: Path) -> None:
    api.fail_times[1] = [429, 503]
    m = fetch(api, tmp_path / "dl")
    n_pages = -(-len(real_studies) // 2)
    assert m.complete and m.n_studies == len(real_studies)
    assert len(api.requests) == n_pages + 2
    assert m.n_requests == n_pages + 2 and m.n_retries == 2
    assert load_manifest(tmp_path / "dl")["n_retries"] == 2
    # The failed page was asked for three times, with the same token.
    assert api.tokens_seen()[1] == api.tokens_seen()[2] == api.tokens_seen()[3] is not None


def test_retry_waits_honour_retry_after_and_backoff(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(ctgov_download, "_sleep", waits.append)
    api.retry_after = "7"
    api.fail_times[0] = [429, 503, 503]
    m = fetch(api, tmp_path / "dl", backoff=0.5, retries=3)
    assert m.complete and m.n_retries == 3
    # 429 waits what Retry-After says; the 503s (no header) back off exponentially: 0.5 * 2**attempt.
    assert waits == [7.0, 1.0, 2.0]


def test_interrupted_download_resumes_without_refetching(
    api: FakeApi, real_studies: list[dict], tmp_path: Path
) -> None:
    out = tmp_path / "dl"
    api.fail_always[2] = 500
    with pytest.raises(DownloadError) as exc:
        fetch(api, out, retries=2)
    assert exc.value.status == 500 and "rerun to resume" in str(exc.value)
    assert len(api.requests) == 2 + 3  # pages 1-2, then page 3 tried 1 + 2 retries times
    half = load_manifest(out)
    assert len(half["pages"]) == 2 and half["complete"] is False and half["n_studies"] == 4
    assert half["n_retries"] == 2
    resume_token = half["pages"][1]["next_page_token"]
    assert resume_token

    del api.fail_always[2]
    before = len(api.requests)
    m = fetch(api, out, retries=2)
    new = api.requests[before:]
    assert new[0].get("pageToken") == resume_token  # resumed from page 3's token
    assert all(r.get("pageToken") for r in new)  # page 1 (no token) was not fetched again
    assert m.complete and m.n_studies == len(real_studies) and m.n_duplicates == 0
    ids = shard_ids(out)
    assert len(ids) == len(set(ids)) == len(real_studies)
    assert m.started == half["started"]


def test_leftovers_of_a_crash_are_cleaned(api: FakeApi, real_studies: list[dict], tmp_path: Path) -> None:
    out = tmp_path / "dl"
    api.fail_always[2] = 503
    with pytest.raises(DownloadError):
        fetch(api, out, retries=0)
    # A crash between the shard rename and the manifest write leaves a shard the manifest does not list,
    # and a crash mid-write leaves a temp file.
    (out / "shard-00002.jsonl").write_text(json.dumps(real_studies[4]) + "\n", encoding="utf-8")
    (out / ".shard-00002.jsonl.x1y2.tmp").write_text('{"protocolSection": ', encoding="utf-8")
    (out / ".manifest.json.z9.tmp").write_text("{", encoding="utf-8")
    del api.fail_always[2]
    m = fetch(api, out)
    assert m.complete and m.n_duplicates == 0  # the orphan's study was not taken as already written
    assert shard_ids(out) == [_nct(s) for s in real_studies]
    assert not list(out.glob(".*"))


def test_repeated_study_on_a_later_page_is_skipped_and_counted(
    api: FakeApi, real_studies: list[dict], tmp_path: Path
) -> None:
    api.extra[2] = [real_studies[0]]  # page 3 repeats the first study (the live API can shift under paging)
    out = tmp_path / "dl"
    m = fetch(api, out)
    assert m.complete and m.n_duplicates == 1 and m.n_studies == len(real_studies)
    assert [p.n_duplicates for p in m.pages] == [0, 0, 1]
    ids = shard_ids(out)
    assert len(ids) == len(set(ids)) == len(real_studies)
    assert load_manifest(out)["n_duplicates"] == 1


def test_a_token_loop_stops_with_an_error(api: FakeApi, tmp_path: Path) -> None:
    api.loop_at = 1
    with pytest.raises(DownloadError, match="page token .* again"):
        fetch(api, tmp_path / "dl")
    assert len(api.requests) == 2 and len(load_manifest(tmp_path / "dl")["pages"]) == 1


def test_completed_download_is_not_fetched_again(api: FakeApi, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    first = fetch(api, out)
    n = len(api.requests)
    stamp = (out / "manifest.json").stat().st_mtime_ns
    again = fetch(api, out)
    assert len(api.requests) == n
    assert again.complete and again.n_studies == first.n_studies
    assert (out / "manifest.json").stat().st_mtime_ns == stamp


def test_max_studies_cuts_a_page_and_a_rerun_completes_it(
    api: FakeApi, real_studies: list[dict], tmp_path: Path
) -> None:
    out = tmp_path / "dl"
    m = fetch(api, out, max_studies=3)
    assert m.n_studies == 3 and not m.complete and m.pages[-1].partial and m.pages[-1].n_studies == 1
    n = len(api.requests)
    assert fetch(api, out, max_studies=3).n_studies == 3 and len(api.requests) == n  # cap reached: no request
    m = fetch(api, out)
    assert api.requests[n].get("pageToken") == m.pages[1].page_token  # the cut page is fetched again
    assert m.complete and m.n_studies == len(real_studies) and m.n_duplicates == 0
    assert shard_ids(out) == [_nct(s) for s in real_studies]


def test_max_pages(api: FakeApi, tmp_path: Path) -> None:
    m = fetch(api, tmp_path / "dl", max_pages=2)
    assert len(m.pages) == 2 and not m.complete and len(api.requests) == 2
    m = fetch(api, tmp_path / "dl")
    assert m.complete and len(m.pages) == 3 and len(api.requests) == 3


def test_different_query_on_existing_out_dir_is_refused(api: FakeApi, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    fetch(api, out, condition="Cystic Fibrosis", max_pages=1)
    n = len(api.requests)
    with pytest.raises(QueryMismatchError) as exc:
        fetch(api, out, condition="Asthma")
    msg = str(exc.value)
    assert "condition" in msg and "'Cystic Fibrosis'" in msg and "'Asthma'" in msg
    assert len(api.requests) == n
    with pytest.raises(QueryMismatchError, match="page_size: existing 2 vs requested 3"):
        fetch(api, out, condition="Cystic Fibrosis", page_size=3)


def test_404_raises_with_status_and_url(api: FakeApi, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as exc:
        fetch(api, tmp_path / "dl", base_url=f"{api.root}/api/v3")
    assert exc.value.status == 404
    assert "HTTP 404" in str(exc.value) and "/api/v3/studies" in str(exc.value) and "no route" in str(exc.value)
    assert len(api.requests) == 1  # a 4xx other than 429 is not retried
    assert not (tmp_path / "dl" / "manifest.json").exists()


def test_connection_errors_are_retried_then_raise(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=r"gave up after 3 attempts \(2 retries\).*ConnectionError"):
        download(
            tmp_path / "dl",
            base_url=f"http://127.0.0.1:{port}/api/v2",
            rate_limit=None,
            backoff=0.0,
            retries=2,
            timeout=5,
            progress=False,
        )


def test_a_stalled_page_ends_at_the_deadline_and_keeps_finished_pages(
    api: FakeApi, real_studies: list[dict], tmp_path: Path
) -> None:
    out = tmp_path / "dl"
    api.drip_at.add(1)  # page 2 arrives a byte every 0.2 s: the per-read timeout (60 s) never fires
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as exc:
        fetch(api, out, deadline=1.0)
    assert time.monotonic() - t0 < 1.6
    msg = str(exc.value)
    assert msg.startswith("deadline: 1 s passed on attempt 1; the answer was still arriving, ")
    assert msg.endswith(". Completed pages are in the manifest; rerun to resume.") and "pageToken=" in msg
    assert len(load_manifest(out)["pages"]) == 1  # page 1 kept
    api.drip_at.clear()
    m = fetch(api, out)
    assert m.complete and shard_ids(out) == [_nct(s) for s in real_studies]


def test_cli_timeout_ends_a_silent_server_with_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from deepimagine_data.cli import main

    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        base = f"http://127.0.0.1:{s.getsockname()[1]}/api/v2"
        t0 = time.monotonic()
        rc = main(["download", "ctgov", "--out", str(tmp_path / "dl"), "--base-url", base, "--quiet", "--timeout", "1"])
        took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 1 and took < 5.0, (rc, took)  # 1 s, plus the CLI's imports on a busy machine
    assert err.startswith(
        f"error: deadline: 1 s (--timeout) passed on attempt 1; no answer (from {base}/studies?format=json&pageSize=100"
    ) and err.endswith("Completed pages are in the manifest; rerun to resume.\n")
    assert err.count("\n") == 1


def test_an_oversized_page_is_refused_without_a_retry(api: FakeApi, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ctgov_download, "MIN_PAGE_BYTES", 1000)
    monkeypatch.setattr(ctgov_download, "PAGE_BYTES_PER_STUDY", 100)  # a 2-study page may hold 1,000 bytes
    with pytest.raises(DownloadError, match=r"^size cap: the answer is larger than 1,000 bytes \(Content-Length "):
        fetch(api, tmp_path / "dl")
    assert len(api.requests) == 1


def test_rate_limiter_spaces_requests_on_a_monotonic_clock() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert waits == [0.25, 0.25]
    now[0] += 10  # idle time does not bank a burst beyond the next request
    limiter.wait()
    limiter.wait()
    assert waits == [0.25, 0.25, 0.25]
    RateLimiter(None, sleep=sleep).wait()
    assert len(waits) == 3


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="page_size"):
        download("unused", page_size=1001)
    with pytest.raises(ValueError, match="results_posted_from"):
        download("unused", results_posted_from="2020-13-01")


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deepimagine")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download")
    add_cli(dl.add_subparsers(dest="registry", required=True))
    return parser.parse_args(argv)


def test_cli_downloads_and_prints_a_summary(
    api: FakeApi, real_studies: list[dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    args = _cli(
        [
            "download",
            "ctgov",
            "--out",
            str(out),
            "--base-url",
            api.base_url,
            "--page-size",
            "4",
            "--status",
            "COMPLETED",
            "--status",
            "TERMINATED",
            "--results-posted-from",
            "2015-01-01",
            "--no-has-results",
            "--rate-limit",
            "0",
        ]
    )
    assert args.func(args) == 0
    text = capsys.readouterr().out
    for label in ("pages", "studies", "duplicates skipped", "retries", "out dir"):
        assert label in text
    assert str(out) in text and f"{len(real_studies)} of {len(real_studies)}" in text
    r = api.requests[0]
    assert r["filter.overallStatus"] == "COMPLETED,TERMINATED" and "aggFilters" not in r
    assert r["filter.advanced"] == "AREA[ResultsFirstPostDate]RANGE[2015-01-01,MAX]"
    assert len(shard_ids(out)) == len(real_studies)

    bad = _cli(["download", "ctgov", "--out", str(tmp_path / "bad"), "--base-url", f"{api.root}/nope", "--quiet"])
    assert bad.func(bad) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_download_then_build_then_load(tmp_path: Path, capsys, monkeypatch) -> None:
    """End to end from a download (issue 15): `download ctgov` against the local server, serving the three API v2
    studies vendored in tests/fixtures/ctgov, -> `build --input ctgov:DIR` -> load_dataset from the result."""
    from datasets import load_dataset

    from deepimagine_data.cli import main

    fixtures = Path(__file__).parent / "fixtures" / "ctgov"
    studies = [json.loads(p.read_text("utf-8")) for p in sorted(fixtures.glob("*.json"))]
    with serve(FakeApi(studies)) as state:
        argv = ["download", "ctgov", "--out", str(tmp_path / "dl"), "--base-url", state.base_url]
        assert main([*argv, "--page-size", "2", "--rate-limit", "0", "--quiet"]) == 0
    assert sorted(shard_ids(tmp_path / "dl")) == sorted(_nct(s) for s in studies)
    capsys.readouterr()
    hub = tmp_path / "hub"
    assert main(["build", "--input", f"ctgov:{tmp_path / 'dl'}", "--out", str(hub), "--no-approx"]) == 0
    assert f"ctgov:{tmp_path / 'dl'}" in capsys.readouterr().out
    monkeypatch.chdir(hub)
    trials = load_dataset("deepimagine/trials", "trials", split="train")
    assert sorted(trials["trial_id"]) == sorted(_nct(s) for s in studies)
    pairs = load_dataset("deepimagine/pairs", "strict_arm")
    rows = [r for split in pairs.values() for r in split]
    assert rows and {r["source"] for r in rows} == {"ctgov_api_v2"}
    assert any(r["a_value"] is not None and r["b_value"] is not None for r in rows)  # per-arm values, from the API
