"""The one HTTP helper against servers on 127.0.0.1 that misbehave on purpose: a flaky backend, a rate limiter with
Retry-After (seconds and an HTTP date), a server dripping one byte at a time, one streaming without end, one answering
HTML where JSON is due, one that accepts and never answers, and a closed port. Every failure message is asserted:
it must begin with its cause."""

from __future__ import annotations

import email.utils
import json
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deepimagine_data import http
from deepimagine_data.http import Deadline, FetchError, Policy, fetch


class Server:
    """A local HTTP/1.1 server whose routes are functions of (handler, request number on that route)."""

    def __init__(self, routes: dict[str, Callable[[BaseHTTPRequestHandler, int], None]]):
        self.routes, self.hits, self.times, self.sent = routes, {}, [], 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every answer waits ~40 ms for the client's delayed ACK

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?")[0]
                owner.hits[path] = n = owner.hits.get(path, 0) + 1
                owner.times.append(time.monotonic())
                try:
                    owner.routes[path](self, n)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (deadline, size cap)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(h: BaseHTTPRequestHandler, status: int, body: bytes | dict, headers: dict | None = None) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(data)


@contextmanager
def silent_port() -> Iterator[int]:
    """A port whose kernel accepts connections that nobody ever answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_500_then_200_is_retried_with_backoff() -> None:
    def flaky(h, n):
        if n == 1:
            reply(h, 500, {"error": {"message": "backend down"}})
        else:
            reply(h, 200, {"studies": [1, 2]})

    waits: list[float] = []
    seen: list[tuple[int, str]] = []
    with Server({"/x": flaky}) as srv:
        answer = fetch(
            "GET",
            srv.url + "/x",
            Policy(retries=2, backoff=0.05),
            parse_json=True,
            sleep=waits.append,
            on_attempt=lambda n, key: seen.append((n, key)),
        )
    assert answer.data == {"studies": [1, 2]} and answer.attempts == 2 and answer.status == 200
    assert seen == [(0, "500"), (1, "200")] and waits == [0.05]


def test_retries_spent_name_the_last_status_and_its_message() -> None:
    with Server({"/x": lambda h, n: reply(h, 503, {"error": {"message": "overloaded"}})}) as srv:
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/x", Policy(retries=2, backoff=0))
    assert str(e.value) == f"HTTP 503: overloaded (gave up after 3 attempts; GET {srv.url}/x)"
    assert (e.value.cause, e.value.status, e.value.attempts, e.value.exhausted) == ("status", 503, 3, True)


def test_retry_after_is_honoured_in_seconds_and_as_an_http_date_up_to_its_cap() -> None:
    def limited(header: str):
        def route(h, n):
            if n == 1:
                reply(h, 429, {"error": {"message": "slow down"}}, {"Retry-After": header})
            else:
                reply(h, 200, b"ok")

        return route

    date = email.utils.formatdate(time.time() + 3, usegmt=True)  # whole seconds: 2 to 3 s from now
    routes = {"/sec": limited("0.4"), "/date": limited(date), "/long": limited("3600")}
    with Server(routes) as srv:
        # real waiting: the second request comes no sooner than the server asked
        assert fetch("GET", srv.url + "/sec", Policy(backoff=0)).body == b"ok"
        assert srv.times[1] - srv.times[0] >= 0.4
        waits: list[float] = []
        fetch("GET", srv.url + "/date", Policy(backoff=0), sleep=waits.append)
        assert len(waits) == 1 and 1.5 < waits[0] <= 3.0
        fetch("GET", srv.url + "/long", Policy(backoff=0, retry_after_max=0.2), sleep=waits.append)
        assert waits[1] == 0.2  # capped
        # a wait the deadline cannot hold fails at once, saying why
        srv.hits.clear()
        t0 = time.monotonic()
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/long", Policy(retry_after_max=600), deadline=Deadline(1, name="--timeout"))
    assert time.monotonic() - t0 < 0.5 and srv.hits == {"/long": 1}
    assert str(e.value).startswith(
        "deadline: 1 s (--timeout) leaves no time to wait 600 s (Retry-After) and retry; "
        "attempt 1 got HTTP 429: slow down ("
    )
    assert e.value.cause == "deadline" and e.value.status == 429


def drip(h, n):
    """Headers at once, then one byte of the promised 1,000 every 0.2 s."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    for _ in range(1000):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.2)


def test_a_slow_drip_is_stopped_by_the_deadline() -> None:
    with Server({"/drip": drip}) as srv:
        t0 = time.monotonic()
        with pytest.raises(FetchError) as e:
            # the per-read timeout alone (60 s) never fires: a byte comes every 0.2 s
            fetch("GET", srv.url + "/drip", Policy(), deadline=Deadline(1, name="--timeout"))
        took = time.monotonic() - t0
        assert 1.0 <= took < 1.5, took
        assert re.fullmatch(
            rf"deadline: 1 s \(--timeout\) passed on attempt 1; the answer was still arriving, \d+ bytes? received "
            rf"\(GET {srv.url}/drip\)",
            str(e.value),
        ), str(e.value)
        assert e.value.cause == "deadline" and e.value.attempts == 1
        # a bound per attempt instead is a timeout, and retried
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/drip", Policy(retries=1, backoff=0, attempt_timeout=0.5))
    assert str(e.value).startswith("timeout: no complete answer within 0.5 s; the answer was still arriving, ") and str(
        e.value
    ).endswith(f"bytes received (gave up after 2 attempts; GET {srv.url}/drip)")


def test_an_endless_stream_stops_at_the_size_cap_with_bounded_memory() -> None:
    sent = [0]

    def endless(h, n):  # no Content-Length: the body ends when the connection does, i.e. never
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        block = b"\0" * 65536
        while sent[0] < 3 << 30:  # 3 GiB, as in the issue; the client stops long before
            h.wfile.write(block)
            sent[0] += len(block)

    def declared(h, n):
        h.send_response(200)
        h.send_header("Content-Length", str(3 << 30))
        h.end_headers()
        h.wfile.write(b"\0" * 65536)

    cap = 1 << 20
    with Server({"/endless": endless, "/declared": declared}) as srv:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as e:
                fetch("GET", srv.url + "/endless", Policy(max_bytes=cap))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 3 * cap, peak
        assert re.fullmatch(
            rf"size cap: the answer is larger than 1,048,576 bytes \(stopped after [\d,]+\) \(GET {srv.url}/endless\)",
            str(e.value),
        ), str(e.value)
        assert e.value.cause == "size" and e.value.attempts == 1  # not retried: the next answer would be as big
        time.sleep(0.2)
        assert sent[0] < 64 * cap  # the server was cut off, it did not stream on
        # a Content-Length over the cap is refused before a byte of the body is read
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/declared", Policy(max_bytes=cap))
    assert str(e.value) == (
        f"size cap: the answer is larger than 1,048,576 bytes (Content-Length 3,221,225,472) (GET {srv.url}/declared)"
    )


def test_malformed_json_is_named_as_such_not_as_an_http_error() -> None:
    with Server({"/html": lambda h, n: reply(h, 200, b"<html>proxy login</html>")}) as srv:
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/html", Policy(retries=1, backoff=0), parse_json=True)
        assert str(e.value) == (
            "malformed JSON (HTTP 200): Expecting value: line 1 column 1 (char 0); the body begins "
            f"b'<html>proxy login</html>' (gave up after 2 attempts; GET {srv.url}/html)"
        )
        assert (e.value.cause, e.value.status) == ("json", 200)
        assert http.cause_label(str(e.value)) == "malformed JSON (HTTP 200)"

        def need_list(data):
            if not isinstance(data, list):
                raise TypeError("expected a list")

        srv.routes["/obj"] = lambda h, n: reply(h, 200, {"a": 1})
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/obj", Policy(retries=3), parse_json=True, validate=need_list, retry_invalid=False)
    assert str(e.value).startswith("not a valid answer (HTTP 200): TypeError: expected a list; the body begins")
    assert e.value.cause == "invalid" and e.value.attempts == 1 and srv.hits["/obj"] == 1


def test_a_silent_server_fails_within_the_deadline_or_times_out() -> None:
    with silent_port() as port:
        url = f"http://127.0.0.1:{port}/x"
        t0 = time.monotonic()
        with pytest.raises(FetchError) as e:
            fetch("GET", url, Policy(), deadline=0.8)
        assert time.monotonic() - t0 < 1.3
        assert str(e.value) == f"deadline: 0.8 s passed on attempt 1; no answer (GET {url})"
        assert e.value.cause == "deadline" and e.value.status is None
        with pytest.raises(FetchError) as e:
            fetch("GET", url, Policy(timeout=0.3, retries=1, backoff=0))
    assert str(e.value) == f"timeout: no answer within 0.3 s (gave up after 2 attempts; GET {url})"
    assert e.value.cause == "timeout"


def test_connection_refused_and_a_404_are_named() -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    with pytest.raises(FetchError) as e:
        fetch("GET", url, Policy(retries=1, backoff=0))
    assert str(e.value) == (
        f"connection error: ConnectionError: [Errno 111] Connection refused (gave up after 2 attempts; GET {url})"
    )
    with Server({}) as srv:  # no route: BaseHTTPRequestHandler answers 501 to nothing; send a real 404
        srv.routes["/gone"] = lambda h, n: h.send_error(404)
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/gone", Policy(retries=3))
    assert str(e.value) == f"HTTP 404: Not Found (GET {srv.url}/gone)"  # an HTML error page: its reason phrase
    assert e.value.attempts == 1 and srv.hits["/gone"] == 1  # a 404 is not retried


def test_a_stop_event_cuts_a_retry_wait_short() -> None:
    stop = threading.Event()
    with Server({"/x": lambda h, n: reply(h, 503, b"busy", {"Retry-After": "30"})}) as srv:
        threading.Timer(0.3, stop.set).start()
        t0 = time.monotonic()
        with pytest.raises(FetchError) as e:
            fetch("GET", srv.url + "/x", Policy(retry_after_max=60), stop=stop)
    assert time.monotonic() - t0 < 1.0
    assert str(e.value).startswith("stopped: while waiting to retry; attempt 1 got HTTP 503: busy (")
    assert e.value.cause == "stopped"


def test_keep_alive_reuses_one_connection() -> None:
    with Server({"/x": lambda h, n: reply(h, 200, b"{}")}) as srv:
        ports = []
        orig = srv.routes["/x"]
        srv.routes["/x"] = lambda h, n: (ports.append(h.client_address[1]), orig(h, n))
        import requests

        with requests.Session() as s:
            for _ in range(3):
                fetch("GET", srv.url + "/x", session=s, parse_json=True)
    assert len(ports) == 3 and len(set(ports)) == 1  # a body read to its end hands the connection back


def test_seconds_arg_refuses_what_is_not_a_duration() -> None:
    import argparse

    assert http.seconds_arg("0.5") == 0.5
    for bad in ("0", "-1", "inf", "nan", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            http.seconds_arg(bad)
