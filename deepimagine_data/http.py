"""One HTTP helper for every download of the package (CT Open pickles, ClinicalTrials.gov pages, teacher traces).

:func:`fetch` sends one request on ``requests`` and retries it on HTTP 429/5xx, connection errors and timeouts, with
capped exponential backoff (optionally jittered) or the server's ``Retry-After`` (delta-seconds or an HTTP date, up
to a cap). The answer is streamed, so two limits hold however the server behaves:

- a **deadline** for the whole call (attempts and waits included): the wait for the next bytes never outlasts it,
  so a silent server or one dripping a byte every few seconds fails on time;
- a **size cap**: a body past ``max_bytes`` stops the read at once, so memory stays near the cap.

Every failure is a :class:`FetchError` whose message begins with the cause, ``"<label>: <detail>"``, where the label
is ``HTTP <status>``, ``malformed JSON (HTTP 200)``, ``not a valid answer (HTTP 200)``, ``timeout``,
``connection error``, ``size cap``, ``deadline``, ``stopped`` or ``bad request`` (see :func:`cause_label`).

The deadline is checked whenever bytes arrive and bounds every wait for them; a server that drips its *headers* a
byte at a time is only bounded by the per-read ``timeout`` (``requests`` reads the headers itself).

>>> parse_retry_after("120"), parse_retry_after("0.5"), parse_retry_after("later")
(120.0, 0.5, None)
>>> cause_label("HTTP 503: overloaded (gave up after 3 attempts)"), cause_label("deadline: no answer within 2 s")
('HTTP 503', 'deadline')
"""

from __future__ import annotations

import argparse
import email.utils
import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any

import requests
import urllib3.exceptions

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
CHUNK = 64 * 1024
ERROR_BODY_BYTES = 64 * 1024  # enough of an error page for its message; the rest is not read
_SLACK = 0.01  # timers wake a little early or late: below this much time left counts as none

# causes (FetchError.cause)
STATUS = "status"
JSON = "json"
INVALID = "invalid"
TIMEOUT = "timeout"
CONNECTION = "connection"
SIZE = "size"
DEADLINE = "deadline"
STOPPED = "stopped"
REQUEST = "request"


class FetchError(RuntimeError):
    """A request that failed for good. ``str(e)`` begins with the cause (see the module docstring).

    ``cause`` is one of the module's cause constants, ``status`` the HTTP status of the last answer (None when
    none came), ``attempts`` how many requests were sent, ``last`` what the last attempt got (``"HTTP 500: ..."``),
    ``detail`` its part after the label, and ``exhausted`` whether the retries were spent.
    """

    def __init__(
        self,
        last: str,
        *,
        cause: str = "",
        url: str = "",
        method: str = "GET",
        status: int | None = None,
        attempts: int = 0,
        exhausted: bool = False,
    ):
        self.last, self.cause, self.url, self.method = last, cause, url, method
        self.status, self.attempts, self.exhausted = status, attempts, exhausted
        self.detail = last.split(": ", 1)[1] if ": " in last else ""
        tail = f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}; " if exhausted else ""
        super().__init__(f"{last} ({tail}{method} {url})")

    def __reduce__(self):  # keyword-only fields: the default reduce would rebuild it from the message alone
        kw = dict(cause=self.cause, url=self.url, method=self.method, status=self.status, attempts=self.attempts)
        return _rebuild, (self.last, {**kw, "exhausted": self.exhausted})


def _rebuild(last: str, kw: dict) -> FetchError:
    return FetchError(last, **kw)


def cause_label(message: str) -> str:
    """The cause at the head of a failure message: the text before its first ``": "``."""
    return message.split(": ", 1)[0].strip()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (decimals accepted) or an HTTP date; None if
    absent or unreadable. Not capped: the caller caps it.

    >>> parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0)
    6.0
    """
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        secs = float(v)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(v)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": RFC 9110 dates are GMT, and a naive one must not be read as local time
            when = when.replace(tzinfo=timezone.utc)
        secs = when.timestamp() - (time.time() if now is None else now)
    if secs != secs or secs == math.inf:  # NaN, inf
        return None
    return max(secs, 0.0)


class Deadline:
    """A point in time on the monotonic clock, ``seconds`` from its creation; None: no deadline.

    ``name`` (e.g. ``"--timeout"``) says in messages where the number came from.

    >>> str(Deadline(3, name="--timeout")), Deadline(None).remaining()
    ('3 s (--timeout)', inf)
    """

    def __init__(self, seconds: float | None, *, name: str | None = None, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.name, self._clock = seconds, name, clock
        self._at = math.inf if seconds is None else clock() + seconds

    def remaining(self) -> float:
        return self._at - self._clock()

    def passed(self) -> bool:
        return self.remaining() <= _SLACK

    def __str__(self) -> str:
        return f"{self.seconds:g} s" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class Policy:
    """How :func:`fetch` retries and bounds one call.

    ``timeout``: seconds to connect and to wait for each next piece of the answer. ``attempt_timeout``: seconds one
    attempt may take in all (None: no such bound); running out is a timeout, which is retried. ``max_bytes``: the
    size cap of a 200 answer. Waits: ``backoff * 2**n`` capped at ``backoff_max`` (with ``jitter``, a function
    giving a number in [0, 1), at least half of it: "equal jitter"), or the server's Retry-After capped at
    ``retry_after_max``. ``timeout_name`` names the setting in timeout messages (e.g. ``"--timeout"``).
    """

    retries: int = 2
    backoff: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 60.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    timeout: float = 60.0
    attempt_timeout: float | None = None
    max_bytes: int | None = None
    jitter: Callable[[], float] | None = None
    timeout_name: str | None = None

    def wait_before_retry(self, attempt: int, retry_after: float | None) -> tuple[float, str]:
        """Seconds to wait after failed attempt ``attempt`` (0-based), and why (for messages)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_max), "Retry-After"
        step = min(self.backoff_max, self.backoff * (2**attempt))
        if self.jitter is not None:
            step *= 0.5 + 0.5 * self.jitter()
        return step, "backoff"


@dataclass
class Answer:
    """A 200 answer: its body (at most ``max_bytes``), the parsed JSON when asked for, and the final URL."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    data: Any = None
    attempts: int = 1


class _Failed(Exception):
    """One attempt's failure: ``last`` is its message, ``key`` its name in request counters (status or exception)."""

    def __init__(
        self,
        last: str,
        cause: str,
        key: str,
        *,
        status: int | None = None,
        retry: bool = True,
        retry_after: float | None = None,
        url: str | None = None,
    ):
        super().__init__(last)
        self.last, self.cause, self.key, self.status = last, cause, key, status
        self.retry, self.retry_after, self.url = retry, retry_after, url


def _short(e: BaseException) -> str:
    """The useful end of a requests/urllib3 error ("[Errno 111] Connection refused"), not its pool and object ids."""
    text = str(e)
    m = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if m:
        return m.group(0).strip()
    for phrase in ("Remote end closed connection without response", "Connection reset by peer", "IncompleteRead"):
        if phrase in text:
            i = text.index(phrase)
            return re.split(r"['\"]\)", text[i:], maxsplit=1)[0][:200]
    return re.sub(r"\s+", " ", text)[:200] or type(e).__name__


def error_detail(body: bytes, content_type: str | None = None, reason: str | None = None) -> str:
    """The message of an error answer: OpenAI ``{"error": {"message": ...}}``, FastAPI ``detail``, a JSON
    ``message``, plain text, or for an HTML page the status's reason phrase.

    >>> error_detail(b'{"error": {"message": "Rate limit reached"}}'), error_detail(b"<html>...", None, "Not Found")
    ('Rate limit reached', 'Not Found')
    """
    try:
        obj = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        if not text or text.startswith("<") or "html" in (content_type or ""):
            return reason or ""
        return re.sub(r"\s+", " ", text)[:300]
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj.get("message")))
        if isinstance(err, dict):
            err = err.get("message") or json.dumps(err)[:300]
        if err is not None:
            return str(err)[:300]
    return json.dumps(obj)[:300]


def _bytes(n: int) -> str:
    return f"{n:,} byte" + ("" if n == 1 else "s")


def _socket_of(resp: requests.Response):
    # The socket the body arrives on, so each read can wait only as long as the deadline leaves. urllib3 2 keeps
    # the connection on the response while it streams; without it the per-read timeout still applies.
    conn = getattr(resp.raw, "connection", None) or getattr(resp.raw, "_connection", None)
    return getattr(conn, "sock", None)


class _Attempt:
    """Bounds of one attempt: the call's deadline, and the attempt's own limit if any."""

    def __init__(self, call: Deadline, policy: Policy, number: int):
        self.call, self.policy, self.number = call, policy, number
        self.own = Deadline(policy.attempt_timeout, name=policy.timeout_name)

    def wait_limit(self) -> float:
        return min(self.policy.timeout, self.call.remaining(), self.own.remaining())

    def out_of_time(self, received: int | None, key: str) -> _Failed | None:
        """The failure to raise when a bound has passed (``received``: body bytes so far, None before the
        headers), or None while time is left."""
        if received is None:
            where = "no answer"
        else:
            where = f"the answer was still arriving, {_bytes(received)} received"
        if self.call.passed():
            return _Failed(
                f"deadline: {self.call} passed on attempt {self.number}; {where}", DEADLINE, key, retry=False
            )
        if self.own.passed():
            return _Failed(f"timeout: no complete answer within {self.own}; {where}", TIMEOUT, key)
        return None


def _timed_out(att: _Attempt, received: int | None, key: str, e: BaseException) -> _Failed:
    late = att.out_of_time(received, key)
    if late is not None:
        return late
    t = f"{att.policy.timeout:g} s" + (f" ({att.policy.timeout_name})" if att.policy.timeout_name else "")
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return _Failed(f"timeout: could not connect within {t}", TIMEOUT, key)
    if received is None:
        return _Failed(f"timeout: no answer within {t}", TIMEOUT, key)
    return _Failed(f"timeout: no data for {t} while reading the answer ({_bytes(received)} received)", TIMEOUT, key)


def _read_body(resp: requests.Response, att: _Attempt, cap: int | None, truncate: bool) -> bytes:
    buf = bytearray()
    sock = _socket_of(resp)
    while True:
        late = att.out_of_time(len(buf), str(resp.status_code))
        if late is not None:
            raise late
        if sock is not None:
            try:
                sock.settimeout(max(att.wait_limit(), _SLACK))
            except OSError:
                sock = None
        try:
            chunk = resp.raw.read1(CHUNK, decode_content=True)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as e:
            raise _timed_out(att, len(buf), "ReadTimeout", e) from None
        except urllib3.exceptions.DecodeError as e:
            msg = f"connection error: undecodable content ({_short(e)})"
            raise _Failed(msg, CONNECTION, "ContentDecodingError") from None
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise _Failed(
                f"connection error: {type(e).__name__}: {_short(e)} after {_bytes(len(buf))}",
                CONNECTION,
                "ChunkedEncodingError",
            ) from None
        if not chunk:
            break
        buf += chunk
        if cap is not None and len(buf) > cap:
            if truncate:
                return bytes(buf[:cap])
            raise _Failed(
                f"size cap: the answer is larger than {cap:,} bytes (stopped after {len(buf):,})",
                SIZE,
                str(resp.status_code),
                status=resp.status_code,
                retry=False,
            )
    # Read to the end: the connection can serve the next request (keep-alive) instead of being closed.
    release = getattr(resp.raw, "release_conn", None)
    if release is not None:
        release()
    return bytes(buf)


def _once(
    session: requests.Session,
    method: str,
    url: str,
    att: _Attempt,
    *,
    params: Mapping[str, str] | None,
    json_body: Any,
    headers: Mapping[str, str] | None,
    parse_json: bool,
    validate: Callable[[Any], None] | None,
    retry_invalid: bool,
) -> Answer:
    limit = max(att.wait_limit(), _SLACK)
    try:
        resp = session.request(
            method, url, params=params, json=json_body, headers=headers, timeout=(limit, limit), stream=True
        )
    except requests.Timeout as e:  # before ConnectionError: ConnectTimeout is both
        raise _timed_out(att, None, type(e).__name__, e) from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as e:
        raise _Failed(f"connection error: {type(e).__name__}: {_short(e)}", CONNECTION, type(e).__name__) from None
    except requests.RequestException as e:  # a malformed URL, an unsupported scheme: retrying cannot help
        raise _Failed(f"bad request: {type(e).__name__}: {_short(e)}", REQUEST, type(e).__name__, retry=False) from None
    with resp:
        status, key = resp.status_code, str(resp.status_code)
        ok = status == 200
        cap = att.policy.max_bytes if ok else ERROR_BODY_BYTES
        length = resp.headers.get("Content-Length", "")
        if ok and cap is not None and length.isdigit() and int(length) > cap:
            raise _Failed(
                f"size cap: the answer is larger than {cap:,} bytes (Content-Length {int(length):,})",
                SIZE,
                key,
                status=status,
                retry=False,
                url=resp.url,
            )
        try:
            body = _read_body(resp, att, cap, truncate=not ok)
        except _Failed as f:
            f.status, f.url = f.status or status, resp.url
            raise
        if not ok:
            detail = error_detail(body, resp.headers.get("Content-Type"), resp.reason)
            last = f"HTTP {status}" + (f": {detail}" if detail else "")
            if status in att.policy.retry_statuses:
                hinted = parse_retry_after(resp.headers.get("Retry-After"))
                raise _Failed(last, STATUS, key, status=status, retry_after=hinted, url=resp.url)
            raise _Failed(last, STATUS, key, status=status, retry=False, url=resp.url)
        answer = Answer(status, resp.url, resp.headers, body)
    if parse_json:
        try:
            answer.data = json.loads(body)
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError both are
            raise _Failed(
                f"malformed JSON (HTTP 200): {e}; the body begins {body[:80]!r}",
                JSON,
                key,
                status=status,
                retry=retry_invalid,
                url=answer.url,
            ) from None
    if validate is not None:
        try:
            validate(answer.data if parse_json else body)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise _Failed(
                f"not a valid answer (HTTP 200): {type(e).__name__}: {e}; the body begins {body[:80]!r}",
                INVALID,
                key,
                status=status,
                retry=retry_invalid,
                url=answer.url,
            ) from None
    return answer


def fetch(
    method: str,
    url: str,
    policy: Policy = Policy(),
    *,
    session: requests.Session | None = None,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    deadline: Deadline | float | None = None,
    parse_json: bool = False,
    validate: Callable[[Any], None] | None = None,
    retry_invalid: bool = True,
    before_attempt: Callable[[int], None] | None = None,
    on_attempt: Callable[[int, str], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    stop: threading.Event | None = None,
) -> Answer:
    """Send ``method url`` until a 200 answer comes, within ``policy`` and ``deadline``; return it.

    ``deadline``: seconds (or a :class:`Deadline` shared by several calls) for the whole call, waits included.
    ``parse_json``: the answer's body is parsed into ``Answer.data``; ``validate(data)`` may raise ValueError,
    KeyError, TypeError or IndexError to refuse its shape. A malformed or refused 200 is retried when
    ``retry_invalid``. ``before_attempt(n)`` runs before attempt ``n`` (a rate limiter), ``on_attempt(n, key)``
    after it, with the status or exception name (counters). Waits go through ``stop.wait`` when ``stop`` is given
    (setting it cuts them short and raises a ``stopped`` error), else through ``sleep``.

    Raises :class:`FetchError`: at once for a non-retryable status, a refused URL, the size cap or the deadline;
    after the retries for the rest.
    """
    dl = deadline if isinstance(deadline, Deadline) else Deadline(deadline)
    own_session = session is None
    sess = session or requests.Session()
    last: _Failed | None = None
    try:  # the URL with its query, for messages about requests that got no answer
        full_url = requests.Request(method, url, params=params).prepare().url or url
    except requests.RequestException:
        full_url = url

    def fail(f: _Failed, attempts: int, exhausted: bool = False) -> FetchError:
        return FetchError(
            f.last,
            cause=f.cause,
            url=f.url or full_url,
            method=method,
            status=f.status,
            attempts=attempts,
            exhausted=exhausted,
        )

    try:
        for attempt in range(policy.retries + 1):
            before = f"; the last attempt got {last.last}" if last is not None else ""
            if stop is not None and stop.is_set():
                raise fail(_Failed(f"stopped: before the request was sent{before}", STOPPED, ""), attempt)
            if before_attempt is not None:
                before_attempt(attempt)
            if dl.passed():
                msg = f"deadline: {dl} passed before attempt {attempt + 1}{before}"
                raise fail(_Failed(msg, DEADLINE, "", status=last.status if last else None), attempt)
            try:
                answer = _once(
                    sess,
                    method,
                    url,
                    _Attempt(dl, policy, attempt + 1),
                    params=params,
                    json_body=json_body,
                    headers=headers,
                    parse_json=parse_json,
                    validate=validate,
                    retry_invalid=retry_invalid,
                )
            except _Failed as f:
                if on_attempt is not None:
                    on_attempt(attempt, f.key)
                if f.cause == DEADLINE and last is not None:
                    f.last += f"; attempt {attempt} got {last.last}"
                last = f
                if not f.retry:
                    raise fail(f, attempt + 1) from None
                if attempt == policy.retries:
                    raise fail(f, attempt + 1, exhausted=True) from None
                delay, why = policy.wait_before_retry(attempt, f.retry_after)
                if delay >= dl.remaining() - _SLACK:
                    msg = (
                        f"deadline: {dl} leaves no time to wait {delay:g} s ({why}) and retry; "
                        f"attempt {attempt + 1} got {f.last}"
                    )
                    raise fail(_Failed(msg, DEADLINE, "", status=f.status, url=f.url), attempt + 1) from None
                stopped = stop.wait(delay) if stop is not None else (sleep(delay) if delay > 0 else None)
                if stop is not None and stopped:
                    msg = f"stopped: while waiting to retry; attempt {attempt + 1} got {f.last}"
                    raise fail(_Failed(msg, STOPPED, "", status=f.status, url=f.url), attempt + 1) from None
                continue
            if on_attempt is not None:
                on_attempt(attempt, str(answer.status))
            answer.attempts = attempt + 1
            return answer
        raise AssertionError("unreachable")  # the loop returns or raises
    finally:
        if own_session:
            sess.close()


def seconds_arg(text: str) -> float:
    """argparse ``type=`` for a positive number of seconds.

    >>> seconds_arg("2.5")
    2.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value
