"""A small OpenAI-compatible chat client on the package's HTTP helper (:mod:`deepimagine_data.http`): retries,
backoff with jitter, ``Retry-After``, a time limit per request, token counts.

Retried: connection errors, timeouts (``timeout`` bounds each request in full, so a server that drips its answer
fails too), a dropped connection, HTTP 429 and 5xx, and a 200 whose body is not a chat completion (a proxy's HTML
page, truncated JSON). Not retried: any other 4xx — 401/403/404 raise :class:`FatalHTTPError` (every request would
fail the same way, so the run stops), other 4xx (a prompt over the context length, say) raise
:class:`TeacherHTTPError` for that request only. Every error message begins with what the last attempt got
(``HTTP 500: ...``, ``malformed JSON (HTTP 200): ...``, ``timeout: ...``, ``connection error: ...``).

>>> chat_url("http://127.0.0.1:8000"), chat_url("https://api.example.com/v1/")
('http://127.0.0.1:8000/v1/chat/completions', 'https://api.example.com/v1/chat/completions')
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from .. import http

FATAL_STATUSES = frozenset({401, 403, 404})
MAX_RETRY_AFTER = 600.0  # a server asking for more than 10 minutes is down, not busy
MAX_RESPONSE_BYTES = 64 << 20  # a chat completion is kilobytes; a server streaming more is not answering


class TeacherHTTPError(RuntimeError):
    """A request that failed for good: after the retries, or at once for a 4xx that retrying cannot fix.

    ``cause`` is the :mod:`~deepimagine_data.http` cause of the last attempt (``status``, ``json``, ``timeout``,
    ...); the message begins with what it got.
    """

    def __init__(self, message: str, status: int | None = None, cause: str | None = None):
        super().__init__(message)
        self.status = status
        self.cause = cause


class FatalHTTPError(TeacherHTTPError):
    """A failure every further request would repeat (bad key, no such model or route): the run stops."""


def base_url(endpoint: str) -> str:
    """The server root: ``endpoint`` without a trailing ``/`` or ``/v1``.

    >>> base_url("http://host:8000/v1/")
    'http://host:8000'
    """
    e = endpoint.strip().rstrip("/")
    if e.endswith("/v1"):
        e = e[: -len("/v1")]
    if not urlsplit(e).scheme:
        raise ValueError(f"endpoint {endpoint!r} is not a URL (expected e.g. http://127.0.0.1:8000)")
    return e


def chat_url(endpoint: str) -> str:
    return base_url(endpoint) + "/v1/chat/completions"


def endpoint_host(endpoint: str) -> str:
    """Host (and port) only: the card names where traces came from without leaking paths or query keys.

    >>> endpoint_host("https://api.example.com/v1?key=x")
    'api.example.com'
    """
    return urlsplit(base_url(endpoint)).netloc.rsplit("@", 1)[-1]


@dataclass
class ClientStats:
    """What this process sent (not what came from the cache)."""

    requests: int = 0  # HTTP attempts, retries included
    retries: int = 0
    completions: int = 0
    model_lookups: int = 0  # GET /v1/models (at most one per run)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class ChatClient:
    """POST ``{endpoint}/v1/chat/completions`` with bounded retries; thread-safe (one session per thread).

    >>> ChatClient("http://127.0.0.1:9/v1", api_key=None).url
    'http://127.0.0.1:9/v1/chat/completions'
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
    ):
        self.base = base_url(endpoint)
        self.url = self.base + "/v1/chat/completions"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # Waits use this event so a fatal error elsewhere (or Ctrl-C) cuts every backoff short.
        self.stop = stop or threading.Event()
        self._rng = rng or random.Random()
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._local = threading.local()
        self._lock = threading.Lock()
        self.stats = ClientStats()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def _count(self, key: str, retry: bool = False) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.retries += int(retry)
            self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1

    def _jitter(self) -> float:
        with self._lock:
            return self._rng.random()

    def _on_attempt(self, attempt: int, key: str) -> None:
        self._count(key, attempt > 0)

    def _request(self, method: str, url: str, body: dict | None, validate, retry_malformed: bool = True) -> dict:
        # "Equal jitter" (at least half the exponential step), so retries spread out but still back off.
        policy = http.Policy(
            retries=self.max_retries,
            backoff=self.backoff_base,
            backoff_max=self.backoff_max,
            retry_after_max=MAX_RETRY_AFTER,
            timeout=self.timeout,
            attempt_timeout=self.timeout,
            max_bytes=MAX_RESPONSE_BYTES,
            jitter=self._jitter,
            timeout_name="--timeout",
        )
        try:
            answer = http.fetch(
                method,
                url,
                policy,
                session=self._session(),
                json_body=body,
                headers=self._headers,
                parse_json=True,
                validate=validate,
                retry_invalid=retry_malformed,
                on_attempt=self._on_attempt,
                stop=self.stop,  # a fatal error elsewhere (or Ctrl-C) cuts every backoff short
            )
        except http.FetchError as e:
            cls = FatalHTTPError if e.cause == http.STATUS and e.status in FATAL_STATUSES else TeacherHTTPError
            raise cls(str(e), e.status, e.cause) from None
        return answer.data

    def chat(self, body: dict) -> dict:
        """One chat completion (the parsed JSON body); ``choices[0].message`` is checked to exist."""

        def validate(data: dict) -> None:
            msg = data["choices"][0]["message"]
            if not isinstance(msg, dict):
                raise TypeError("choices[0].message is not an object")

        data = self._request("POST", self.url, body, validate)
        usage = data.get("usage") or {}
        with self._lock:
            self.stats.completions += 1
            self.stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)
        return data

    def model_root(self, model: str) -> str | None:
        """What ``/v1/models`` reports as ``root`` for ``model`` (vLLM: the weights it loaded), None if unknown."""

        def validate(data: dict) -> None:
            if not isinstance(data["data"], list):
                raise TypeError("data is not a list")

        with self._lock:
            self.stats.model_lookups += 1
        try:
            # A /v1/models that is not OpenAI-shaped will not become so on a retry; an outage still is retried.
            data = self._request("GET", self.base + "/v1/models", None, validate, retry_malformed=False)
        except TeacherHTTPError:
            return None  # many servers have no /v1/models, or a restricted one: provenance says "unknown"
        for m in data["data"]:
            if isinstance(m, dict) and m.get("id") == model:
                root = m.get("root")
                return str(root) if root else None
        return None
