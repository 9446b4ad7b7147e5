"""Append-only JSONL cache of teacher responses, keyed by (pair_id, sha256 of the exact request).

Layout: ``<cache_dir>/traces/<model slug>.jsonl``, one JSON object per line::

    {"pair_id": "strict_arm:NCT00128102:O0:OG001|OG000", "key": "<sha256 of the request>", "try": 0,
     "model": "...", "endpoint_host": "127.0.0.1:8000", "model_revision": "...", "created": 1767225600,
     "usage": {"prompt_tokens": 812, "completion_tokens": 233}, "response": {... the full response body ...}}

Only successful responses are stored, each as one ``write`` of one line in append mode, flushed at once, so a killed
run keeps every response it received; a line torn by a kill is skipped on reading (and a newline is written before
the next append). Everything the output needs — the text, ``created`` (the row's generation date), usage, the
model revision at the time — comes from the cache, so a rerun over a full cache sends nothing and writes the same
bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

ENV_CACHE = "DEEPIMAGINE_CACHE"


def default_cache_dir() -> Path:
    """``$DEEPIMAGINE_CACHE`` or ``~/.cache/deepimagine`` (the root the embedding cache and CT Open use too).

    >>> str(default_cache_dir()).endswith("deepimagine") or ENV_CACHE in os.environ
    True
    """
    env = os.environ.get(ENV_CACHE)
    return Path(env) if env else Path.home() / ".cache" / "deepimagine"


def request_key(body: dict, try_index: int) -> str:
    """sha256 of the canonical JSON of the request body plus the try index.

    >>> request_key({"model": "m", "messages": []}, 0) == request_key({"messages": [], "model": "m"}, 0)
    True
    """
    canon = json.dumps({"request": body, "try": try_index}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def model_slug(model: str) -> str:
    """A file name for a model id.

    >>> model_slug("meta-llama/Llama-3.1-70B-Instruct")
    'meta-llama__Llama-3.1-70B-Instruct'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model.replace("/", "__")).strip("._") or "model"


class ResponseCache:
    """The responses already received for one teacher model; ``get`` and ``put`` are thread-safe.

    Only an index (request -> byte offset of its line) is held in memory and a record is read back when asked for:
    a resumed run over 50,000 responses (106 MB of JSONL) holds a few MB, not the 250 MB the parsed records take
    (``benchmarks/traces.py``).

    >>> import tempfile
    >>> c = ResponseCache(tempfile.mkdtemp(), "m")
    >>> _ = c.put({"pair_id": "p", "key": "k", "try": 0, "created": 1, "response": {}})
    >>> ResponseCache(c.path.parent.parent, "m").get("p", "k")["created"]
    1
    """

    def __init__(self, cache_dir: str | os.PathLike, model: str):
        self.path = Path(cache_dir) / "traces" / f"{model_slug(model)}.jsonl"
        self._lock = threading.Lock()
        self._offsets: dict[tuple[str, str], int] = {}
        self.torn_lines = 0
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        offset = 0
        with open(self.path, "rb") as f:
            for line in f:
                start, offset = offset, offset + len(line)
                if not line.endswith(b"\n"):
                    self.torn_lines += 1  # the last line of a killed run
                    continue
                try:
                    rec = json.loads(line)
                    key = (rec["pair_id"], rec["key"])
                except (ValueError, KeyError, TypeError):
                    self.torn_lines += 1
                    continue
                self._offsets.setdefault(key, start)

    def __len__(self) -> int:
        return len(self._offsets)

    def get(self, pair_id: str, key: str) -> dict | None:
        with self._lock:
            start = self._offsets.get((pair_id, key))
            if start is None:
                return None
            with open(self.path, "rb") as f:
                f.seek(start)
                return json.loads(f.readline())

    def put(self, record: dict) -> dict:
        """Append ``record`` (needs ``pair_id`` and ``key``); returns the stored record (the first one stored for
        that request, if another thread got there first)."""
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        k = (record["pair_id"], record["key"])
        with self._lock:
            start = self._offsets.get(k)
            if start is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "ab") as f:
                    if f.tell() > 0 and not _ends_with_newline(self.path):
                        f.write(b"\n")  # close a line torn by a killed run, so this record starts on its own line
                    start = f.tell()
                    f.write(line.encode("utf-8"))
                    f.flush()
                self._offsets[k] = start
                return json.loads(line)  # what a later get() returns: the same JSON round trip
            with open(self.path, "rb") as f:
                f.seek(start)
                return json.loads(f.readline())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"
