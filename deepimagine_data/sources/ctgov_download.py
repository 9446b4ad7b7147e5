"""Download studies from the live ClinicalTrials.gov API v2 into resumable JSONL shards plus a manifest.

One API page becomes one shard, ``OUT/shard-00000.jsonl`` (one full study JSON per line, exactly as the API
returned it), and ``OUT/manifest.json`` records the query, every finished page (its shard, study count, the
page token that fetched it, the next token and the shard's sha256) and whether the download is complete. Both
are written atomically, so an interrupted run leaves a consistent directory and the next run with the same
query picks up at the last finished page's ``nextPageToken``. The shards are what
``deepimagine ingest ctgov-json OUT/*.jsonl`` reads.

Example (live network): the study NCT00763412 (repaglinide for pre-diabetes in cystic fibrosis, results
first posted 2017-06-05) is among the studies of::

    >>> from deepimagine_data.sources.ctgov_download import download
    >>> m = download("raw/cfrd", condition="Cystic Fibrosis Related Diabetes", intervention="repaglinide",
    ...              results_posted_from="2017-01-01", results_posted_to="2017-12-31")  # doctest: +SKIP
    >>> m.complete, m.pages[0].shard  # doctest: +SKIP
    (True, 'shard-00000.jsonl')
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import requests

from .. import http
from ..fsutil import atomic_write_bytes

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "deepimagine-ctgov-download/1"
MAX_PAGE_SIZE = 1000  # the API's own ceiling; larger values are rejected with HTTP 400
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 300.0  # keeps a long run of failures (or an absurd Retry-After) from stalling for hours
# One attempt at a page, all of it: a server dripping its answer is cut off (and retried) even without --timeout.
PAGE_ATTEMPT_S = 600.0
# A page's size cap grows with the page size (a study with results is ~50 KB; 1 MiB each leaves ample room).
PAGE_BYTES_PER_STUDY = 1 << 20
MIN_PAGE_BYTES = 64 << 20
_TMP_SUFFIX = ".tmp"

# Query keys that define *what* is downloaded. Two runs on one out_dir must agree on all of them, because a
# page token is only meaningful for the query (and page size) that produced it.
_QUERY_KEYS = (
    "base_url",
    "condition",
    "term",
    "intervention",
    "has_results",
    "results_posted_from",
    "results_posted_to",
    "status",
    "page_size",
)


class DownloadError(RuntimeError):
    """The download cannot go on: a non-retryable HTTP answer, retries exhausted, or an inconsistent out_dir.

    Completed pages stay recorded in the manifest, so rerunning the same command resumes.

    >>> str(DownloadError("HTTP 404", status=404, url="https://clinicaltrials.gov/api/v2/studies/NCT00763412x"))
    'HTTP 404'
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        self.status = status
        self.url = url
        super().__init__(message)


class QueryMismatchError(DownloadError):
    """out_dir already holds a download of a different query; the message names both and what differs."""


@dataclass
class PageRecord:
    """One finished API page and the shard it was written to."""

    index: int
    shard: str
    n_studies: int
    n_duplicates: int
    page_token: str | None
    next_page_token: str | None
    sha256: str
    # True when max_studies cut the page short: the rest of it was not written, so a resume re-fetches
    # this page (page_token) instead of jumping to next_page_token.
    partial: bool = False


@dataclass
class Manifest:
    """The state of an out_dir, as stored in ``manifest.json``. Counters are cumulative over all runs."""

    base_url: str
    query: dict[str, Any]
    params: dict[str, str]
    started: str
    updated: str
    pages: list[PageRecord] = field(default_factory=list)
    total_count: int | None = None
    n_studies: int = 0
    n_duplicates: int = 0
    n_without_id: int = 0
    n_requests: int = 0
    n_retries: int = 0
    complete: bool = False
    format: str = MANIFEST_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Manifest:
        known = {k: v for k, v in obj.items() if k in cls.__dataclass_fields__}
        known["pages"] = [PageRecord(**p) for p in obj.get("pages", [])]
        return cls(**known)

    @property
    def resume_token(self) -> str | None:
        """Token of the next page to fetch (None: the first page)."""
        if not self.pages:
            return None
        last = self.pages[-1]
        return last.page_token if last.partial else last.next_page_token


class RateLimiter:
    """At most ``rate`` calls of :meth:`wait` per second, spaced evenly on a monotonic clock.

    The monotonic clock matters because a wall-clock jump (NTP, DST) must neither burst nor stall requests.
    A rate of None or <= 0 disables the limit.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep or _sleep
        self._next = -float("inf")

    def wait(self) -> None:
        if self.interval <= 0:
            return
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def _sleep(seconds: float) -> None:
    # One indirection so tests can observe the waits without actually sleeping.
    if seconds > 0:
        time.sleep(seconds)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso_date(value: str | date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{name}: expected an ISO date YYYY-MM-DD, got {value!r}") from None


def _statuses(status: str | Iterable[str] | None) -> list[str] | None:
    if status is None:
        return None
    items = [status] if isinstance(status, str) else list(status)
    # The API takes a comma/pipe separated list; accept either form and store one canonical list.
    out = [s.strip().upper() for item in items for s in item.replace("|", ",").split(",") if s.strip()]
    return out or None


def build_params(query: dict[str, Any]) -> dict[str, str]:
    """The API request parameters of a query (without ``pageToken`` and ``countTotal``).

    >>> build_params({"term": "NCT00763412", "has_results": True, "results_posted_from": "2017-01-01",
    ...               "results_posted_to": None, "page_size": 100})["filter.advanced"]
    'AREA[ResultsFirstPostDate]RANGE[2017-01-01,MAX]'
    """
    params = {"format": "json", "pageSize": str(query["page_size"])}
    for key, api in (("condition", "query.cond"), ("term", "query.term"), ("intervention", "query.intr")):
        if query.get(key):
            params[api] = query[key]
    if query.get("status"):
        params["filter.overallStatus"] = ",".join(query["status"])
    lo, hi = query.get("results_posted_from"), query.get("results_posted_to")
    if lo or hi:
        params["filter.advanced"] = f"AREA[ResultsFirstPostDate]RANGE[{lo or 'MIN'},{hi or 'MAX'}]"
    if query.get("has_results"):
        params["aggFilters"] = "results:with"
    return params


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write_bytes(path, data, suffix=_TMP_SUFFIX)


def _write_manifest(out_dir: Path, manifest: Manifest) -> None:
    manifest.updated = _now()
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    _atomic_write(out_dir / MANIFEST_NAME, text.encode("utf-8"))


def _shard_name(index: int) -> str:
    return f"shard-{index:05d}.jsonl"


def _nct_id(study: Any) -> str | None:
    try:
        nct = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return nct if isinstance(nct, str) and nct else None


def _clean_leftovers(out_dir: Path, manifest: Manifest | None) -> None:
    """Remove temp files of an interrupted run and shards the manifest does not list.

    A shard can outlive its manifest entry when a run dies between the two atomic writes; it is rewritten
    on resume, and its ids must not count as already written, so it goes.
    """
    listed = {p.shard for p in manifest.pages} if manifest else set()
    for child in out_dir.iterdir():
        name = child.name
        leftover_tmp = name.startswith((".shard-", f".{MANIFEST_NAME}.")) and name.endswith(_TMP_SUFFIX)
        orphan = name.startswith("shard-") and name.endswith(".jsonl") and name not in listed
        if child.is_file() and (leftover_tmp or orphan):
            child.unlink()


def _load_written_ids(out_dir: Path, manifest: Manifest) -> tuple[set[str], set[str]]:
    """NCT ids in the listed shards (verified against their sha256), and those of a trailing partial page."""
    seen: set[str] = set()
    partial: set[str] = set()
    for page in manifest.pages:
        path = out_dir / page.shard
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DownloadError(
                f"{path}: listed in {MANIFEST_NAME} but missing; remove {out_dir} to start over"
            ) from None
        if hashlib.sha256(data).hexdigest() != page.sha256:
            raise DownloadError(
                f"{path}: sha256 differs from {MANIFEST_NAME} (file changed or corrupt); remove {out_dir} to start over"
            )
        ids = {_nct_id(json.loads(line)) for line in data.decode("utf-8").splitlines() if line.strip()}
        ids.discard(None)
        seen |= ids  # type: ignore[arg-type]
        partial = ids if page.partial else set()  # type: ignore[assignment]
    return seen, partial


def _describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    diffs = [
        f"{k}: existing {old.get(k)!r} vs requested {new.get(k)!r}" for k in _QUERY_KEYS if old.get(k) != new.get(k)
    ]
    return "; ".join(diffs)


class _Fetcher:
    """GETs one page with rate limiting and retries, counting requests and retries into the manifest."""

    def __init__(
        self,
        session: requests.Session,
        url: str,
        manifest: Manifest,
        *,
        limiter: RateLimiter,
        retries: int,
        backoff: float,
        timeout: float,
        deadline: http.Deadline,
        max_bytes: int,
    ):
        self.session, self.url, self.manifest = session, url, manifest
        self.limiter, self.deadline = limiter, deadline
        self.policy = http.Policy(
            retries=retries,
            backoff=backoff,
            backoff_max=MAX_BACKOFF_S,
            retry_after_max=MAX_BACKOFF_S,
            retry_statuses=RETRY_STATUSES,
            timeout=timeout,
            attempt_timeout=PAGE_ATTEMPT_S,
            max_bytes=max_bytes,
        )

    def _count(self, attempt: int, _key: str) -> None:
        self.manifest.n_requests += 1
        self.manifest.n_retries += int(attempt > 0)

    def get(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            answer = http.fetch(
                "GET",
                self.url,
                self.policy,
                session=self.session,
                params=params,
                deadline=self.deadline,
                parse_json=True,  # a malformed page is usually a body cut off mid-transfer: retried
                before_attempt=lambda _n: self.limiter.wait(),
                on_attempt=self._count,
                sleep=lambda s: _sleep(s),  # looked up at call time, so tests can watch the waits
            )
        except http.FetchError as e:
            if e.cause == http.STATUS and not e.exhausted:
                msg = f"HTTP {e.status} from {e.url}" + (f": {e.detail}" if e.detail else "")
            elif e.exhausted:
                msg = (
                    f"gave up after {e.attempts} attempts ({e.attempts - 1} retries); last error: {e.last} "
                    f"(from {e.url}). Completed pages are in the manifest; rerun to resume."
                )
            else:
                msg = f"{e.last} (from {e.url}). Completed pages are in the manifest; rerun to resume."
            raise DownloadError(msg, status=e.status, url=e.url) from None
        page = answer.data
        if not isinstance(page, dict) or not isinstance(page.get("studies", []), list):
            raise DownloadError(f"{answer.url}: not an API v2 page (no 'studies' list)", status=200, url=answer.url)
        return page


def download(
    out_dir: str | os.PathLike,
    *,
    base_url: str = DEFAULT_BASE_URL,
    condition: str | None = None,
    term: str | None = None,
    intervention: str | None = None,
    has_results: bool = True,
    results_posted_from: str | date | None = None,
    results_posted_to: str | date | None = None,
    status: str | Sequence[str] | None = None,
    page_size: int = 100,
    max_pages: int | None = None,
    max_studies: int | None = None,
    rate_limit: float | None = 3.0,
    retries: int = 6,
    backoff: float = 1.0,
    timeout: float = 60,
    deadline: float | http.Deadline | None = None,
    session: requests.Session | None = None,
    progress: bool = True,
) -> Manifest:
    """Download all studies matching a query into ``out_dir`` (resumable) and return the manifest.

    Args:
        out_dir: directory for ``shard-NNNNN.jsonl`` (one per page) and ``manifest.json``; created if needed.
        base_url: API root; ``{base_url}/studies`` is requested.
        condition, term, intervention: ``query.cond``, ``query.term``, ``query.intr`` (Essie search text).
        has_results: only studies with posted results (``aggFilters=results:with``).
        results_posted_from, results_posted_to: ISO dates bounding ResultsFirstPostDate (either may be open).
        status: overall statuses, e.g. ``["COMPLETED", "TERMINATED"]`` (``filter.overallStatus``).
        page_size: studies per page and thus per shard (1..1000).
        max_pages, max_studies: caps on the whole out_dir (not per run), so rerunning with the same cap does
            nothing and a higher cap continues. max_studies may cut a page short; the rest of it is fetched
            again on a later resume.
        rate_limit: requests per second (None or 0: unlimited). The public API asks for moderate use.
        retries: retries per page after the first attempt on HTTP 429/500/502/503/504, connection errors and
            timeouts; waits ``backoff * 2**attempt`` seconds, or the server's ``Retry-After``.
        timeout: seconds to connect and to wait for each next part of an answer; one attempt at a page may take
            at most :data:`PAGE_ATTEMPT_S` in all, and a page over ``page_size`` MiB (64 MiB at least) is refused.
        deadline: seconds (or an :class:`~deepimagine_data.http.Deadline`) for the whole call (None: no limit);
            when it passes the call stops with a DownloadError saying so, and the finished pages stay for a resume.
        session: a ``requests.Session`` to use (e.g. with a proxy); one is made otherwise.
        progress: show a tqdm bar over the API's totalCount.

    Raises:
        QueryMismatchError: out_dir holds a download of another query.
        DownloadError: a non-retryable HTTP answer (4xx other than 429), retries exhausted, the size cap or the
            deadline; the message says which. The manifest keeps every finished page so the same call resumes.

    Example: ``download("raw/one", term="NCT00763412")`` writes ``raw/one/shard-00000.jsonl`` holding that one
    study (it has posted results) and a complete manifest; calling it again makes no request.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be in 1..{MAX_PAGE_SIZE}, got {page_size}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    # started before anything else: the whole call counts
    clock = deadline if isinstance(deadline, http.Deadline) else http.Deadline(deadline)
    out = Path(out_dir)
    base_url = base_url.rstrip("/")
    query: dict[str, Any] = {
        "base_url": base_url,
        "condition": condition or None,
        "term": term or None,
        "intervention": intervention or None,
        "has_results": bool(has_results),
        "results_posted_from": _iso_date(results_posted_from, "results_posted_from"),
        "results_posted_to": _iso_date(results_posted_to, "results_posted_to"),
        "status": _statuses(status),
        "page_size": int(page_size),
    }
    params = build_params(query)
    out.mkdir(parents=True, exist_ok=True)

    manifest_path = out / MANIFEST_NAME
    existing: Manifest | None = None
    if manifest_path.exists():
        existing = Manifest.from_json(json.loads(manifest_path.read_text(encoding="utf-8")))
        if existing.query != query:
            raise QueryMismatchError(
                f"{out} already holds a download of a different query "
                f"({_describe_difference(existing.query, query)})."
                f"\n  existing:  {json.dumps(existing.query, sort_keys=True)}"
                f"\n  requested: {json.dumps(query, sort_keys=True)}"
                "\nUse another --out directory, or repeat the existing query to resume it."
            )
    _clean_leftovers(out, existing)
    now = _now()
    manifest = existing or Manifest(base_url=base_url, query=query, params=params, started=now, updated=now)

    def limit_reached() -> bool:
        return (max_pages is not None and len(manifest.pages) >= max_pages) or (
            max_studies is not None and manifest.n_studies >= max_studies
        )

    # Before touching the network: a finished (or capped) download costs zero requests.
    if manifest.complete or limit_reached():
        return manifest

    seen, refetch_ids = _load_written_ids(out, manifest)
    own_session = session is None
    if own_session:
        session = requests.Session()
        session.headers["User-Agent"] = "deepimagine-data (ctgov_download; +https://clinicaltrials.gov/api/v2)"
    assert session is not None
    fetcher = _Fetcher(
        session,
        f"{base_url}/studies",
        manifest,
        limiter=RateLimiter(rate_limit),
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        deadline=clock,
        max_bytes=max(MIN_PAGE_BYTES, page_size * PAGE_BYTES_PER_STUDY),
    )

    from tqdm.auto import tqdm

    def bar_total() -> int | None:
        t = manifest.total_count
        return min(t, max_studies) if t is not None and max_studies is not None else (t or max_studies)

    bar = tqdm(total=bar_total(), initial=manifest.n_studies, unit="study", desc="ctgov", disable=not progress)
    token = manifest.resume_token
    try:
        while not manifest.complete and not limit_reached():
            req = dict(params)
            if token is None:
                req["countTotal"] = "true"  # counting costs the server time; only the first page needs it
            else:
                req["pageToken"] = token
            page = fetcher.get(req)
            if isinstance(page.get("totalCount"), int):
                manifest.total_count = page["totalCount"]
                bar.total = bar_total()
                bar.refresh()

            lines: list[str] = []
            n_dup = n_no_id = 0
            partial = False
            for study in page.get("studies", []):
                if max_studies is not None and manifest.n_studies + len(lines) >= max_studies:
                    partial = True
                    break
                nct = _nct_id(study)
                if nct is None:
                    n_no_id += 1  # cannot be deduplicated nor ingested (ctgov-json keys on the NCT id)
                    continue
                if nct in refetch_ids:
                    continue  # written by the cut-short page we are re-fetching; not a real duplicate
                if nct in seen:
                    n_dup += 1
                    continue
                seen.add(nct)
                lines.append(json.dumps(study, ensure_ascii=False))
            refetch_ids = set()

            next_token = page.get("nextPageToken") or None
            if next_token is not None and next_token in {p.page_token for p in manifest.pages} | {token}:
                # Following it would page forever; stop with the finished pages kept.
                raise DownloadError(
                    f"{fetcher.url}: the API handed out page token {next_token!r} again "
                    f"(page {len(manifest.pages) + 1}); stopping to avoid a loop",
                    url=fetcher.url,
                )
            index = len(manifest.pages)
            data = "".join(line + "\n" for line in lines).encode("utf-8")
            _atomic_write(out / _shard_name(index), data)
            manifest.pages.append(
                PageRecord(
                    index=index,
                    shard=_shard_name(index),
                    n_studies=len(lines),
                    n_duplicates=n_dup,
                    page_token=token,
                    next_page_token=next_token,
                    sha256=hashlib.sha256(data).hexdigest(),
                    partial=partial,
                )
            )
            manifest.n_studies += len(lines)
            manifest.n_duplicates += n_dup
            manifest.n_without_id += n_no_id
            manifest.complete = next_token is None and not partial
            _write_manifest(out, manifest)
            bar.update(len(lines))
            token = manifest.resume_token
    except DownloadError:
        # Keep the request/retry counters of the failed attempt; the finished pages are already on disk.
        if manifest.pages:
            _write_manifest(out, manifest)
        raise
    finally:
        bar.close()
        if own_session:
            session.close()
    return manifest


# --------------------------------------------------------------------------------------------------- CLI


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``ctgov`` under the ``download`` command's subparsers; returns the new parser."""
    p = subparsers.add_parser(
        "ctgov",
        help="ClinicalTrials.gov API v2 (live)",
        description=f"Reads studies from the live ClinicalTrials.gov API v2 ({DEFAULT_BASE_URL}/studies, "
        "paged with pageToken) and writes OUT/shard-NNNNN.jsonl (one API page per shard, one "
        "full study JSON per line) plus OUT/manifest.json (query, pages done with sha256, "
        "counts). Rerunning the same command resumes after the last finished page and never "
        "writes a study twice; a finished download is not fetched again. Read the shards with "
        "`deepimagine ingest ctgov-json OUT/shard-*.jsonl`.",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory (shards + manifest.json)")
    p.add_argument("--condition", help="condition or disease search text (query.cond)")
    p.add_argument("--term", help="other terms, e.g. an NCT id (query.term)")
    p.add_argument("--intervention", help="intervention / treatment search text (query.intr)")
    p.add_argument(
        "--no-has-results",
        dest="has_results",
        action="store_false",
        help="also studies without posted results (default: only studies with results)",
    )
    p.add_argument("--results-posted-from", metavar="DATE", help="results first posted on or after (YYYY-MM-DD)")
    p.add_argument("--results-posted-to", metavar="DATE", help="results first posted on or before (YYYY-MM-DD)")
    p.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="overall status, e.g. COMPLETED; repeat or comma-separate for several",
    )
    p.add_argument("--page-size", type=int, default=100, help="studies per page and per shard (1-1000, default 100)")
    p.add_argument("--max-pages", type=int, help="stop once OUT holds this many pages")
    p.add_argument("--max-studies", type=int, help="stop once OUT holds this many studies")
    p.add_argument("--rate-limit", type=float, default=3.0, help="requests per second (default 3)")
    p.add_argument("--retries", type=int, default=6, help="retries per page on 429/5xx/connection errors")
    p.add_argument(
        "--timeout",
        type=http.seconds_arg,
        default=None,
        metavar="SECONDS",
        help="overall deadline for this run, retries and waits included (default: none); when it passes the run "
        "stops with an error saying so, and finished pages are kept (rerun to resume)",
    )
    p.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"API root (default {DEFAULT_BASE_URL})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_cli)
    return p


def run_cli(args: argparse.Namespace) -> int:
    """Run ``deepimagine download ctgov`` and print a summary table; 0 on success, 1 on a download error."""
    try:
        m = download(
            args.out,
            base_url=args.base_url,
            condition=args.condition,
            term=args.term,
            intervention=args.intervention,
            has_results=args.has_results,
            results_posted_from=args.results_posted_from,
            results_posted_to=args.results_posted_to,
            status=args.status,
            page_size=args.page_size,
            max_pages=args.max_pages,
            max_studies=args.max_studies,
            rate_limit=args.rate_limit,
            retries=args.retries,
            deadline=http.Deadline(args.timeout, name="--timeout"),
            progress=not args.quiet,
        )
    except DownloadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    total = "?" if m.total_count is None else f"{m.total_count:,}"
    rows = [
        ("pages", f"{len(m.pages):,}"),
        ("studies", f"{m.n_studies:,} of {total}"),
        ("duplicates skipped", f"{m.n_duplicates:,}"),
        ("without NCT id", f"{m.n_without_id:,}"),
        ("requests", f"{m.n_requests:,}"),
        ("retries", f"{m.n_retries:,}"),
        ("complete", "yes" if m.complete else "no (rerun to continue)"),
        ("out dir", str(args.out)),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0
