"""OpenAI-compatible HTTP servers on 127.0.0.1 for tests: a real one backed by a transformers model, and a scripted one.

:class:`ModelServer` serves ``GET /v1/models`` and ``POST /v1/chat/completions`` from a local causal LM: the
tokenizer's chat template with ``add_generation_prompt``, then ``generate`` with the request's temperature, top_p,
max_tokens and seed (``n`` must be 1), and the real response shape (``id``, ``object``, ``created``, ``model``,
``choices[0].message.content``, ``finish_reason``, ``usage``)::

    with ModelServer(model_dir, model_name="tiny-teacher") as srv:
        requests.post(srv.url + "/v1/chat/completions", json={"model": "tiny-teacher", "messages": [...]})

:class:`ScriptedServer` answers each request from a function of (request number, path, body), to play 429s, 5xx,
dropped connections, malformed JSON or a 401 at chosen points.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DROP = "drop"  # a scripted reply that closes the connection without answering


class _Base:
    """A ThreadingHTTPServer on an ephemeral port, served from a daemon thread; counts requests by path."""

    def __init__(self, port: int = 0) -> None:
        owner = self
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.bodies: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: with Nagle on, the body waits for the client's delayed ACK (40 ms)
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _reply(self, status: int, payload, headers: dict | None = None) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = None
                path = self.path.split("?")[0]
                with owner.lock:
                    owner.counts[path] = owner.counts.get(path, 0) + 1
                    number = sum(owner.counts.values())
                    if isinstance(body, dict) and body:
                        owner.bodies.append(body)
                reply = owner.respond(number, method, path, body, dict(self.headers))
                if reply == DROP:
                    self.close_connection = True
                    return
                status, payload, headers = reply
                self._reply(status, payload, headers)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, number: int, method: str, path: str, body, headers: dict):
        raise NotImplementedError

    def count(self, path: str = "/v1/chat/completions") -> int:
        with self.lock:
            return self.counts.get(path, 0)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ModelServer(_Base):
    """Chat completions sampled from a real transformers model in ``model_dir`` (CPU, one generation at a time).

    ``max_prompt_tokens`` keeps only the last N prompt tokens (the question, the instructions and the assistant
    header are at the end) so a tiny model with short training contexts sees what it was trained on; ``usage``
    reports the tokens actually used.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        model_name: str = "tiny-teacher",
        revision: str | None = None,
        max_prompt_tokens: int | None = None,
        port: int = 0,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        super().__init__(port)
        self.torch = torch
        self.model_name = model_name
        self.revision = revision or str(model_dir)
        self.max_prompt_tokens = max_prompt_tokens
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self._gen_lock = threading.Lock()

    def respond(self, number: int, method: str, path: str, body, headers: dict):
        if method == "GET" and path == "/v1/models":
            model = {"id": self.model_name, "object": "model", "created": 0, "owned_by": "tests", "root": self.revision}
            return 200, {"object": "list", "data": [model]}, None
        if method != "POST" or path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}}, None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return 400, {"error": {"message": "body must be JSON with messages", "type": "invalid_request_error"}}, None
        if body.get("model") != self.model_name:
            return 404, {"error": {"message": f"model {body.get('model')!r} not found", "type": "not_found"}}, None
        if body.get("n", 1) != 1:
            return 400, {"error": {"message": "only n=1 is supported", "type": "invalid_request_error"}}, None
        return 200, self.complete(body), None

    def complete(self, body: dict) -> dict:
        torch = self.torch
        text = self.tok.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
        ids = self.tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        if self.max_prompt_tokens and ids.shape[1] > self.max_prompt_tokens:
            ids = ids[:, -self.max_prompt_tokens :]
        temperature = float(body.get("temperature", 1.0))
        kwargs = {"max_new_tokens": int(body.get("max_tokens") or 16), "pad_token_id": self.tok.eos_token_id}
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=float(body.get("top_p", 1.0)))
        else:
            kwargs.update(do_sample=False)
        with self._gen_lock:
            if body.get("seed") is not None:
                torch.manual_seed(int(body["seed"]))
            with torch.no_grad():
                out = self.model.generate(ids, attention_mask=torch.ones_like(ids), **kwargs)
        new = out[0, ids.shape[1] :].tolist()
        finish = "stop" if new and new[-1] == self.tok.eos_token_id else "length"
        content = self.tok.decode(new, skip_special_tokens=True)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": int(ids.shape[1]),
                "completion_tokens": len(new),
                "total_tokens": int(ids.shape[1]) + len(new),
            },
        }


def chat_response(content: str, *, created: int = 1767225600, model: str = "scripted") -> dict:
    """A chat.completion body with ``content`` (fixed ``created`` so outputs can be compared byte for byte)."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


class ScriptedServer(_Base):
    """Each request is answered by ``script(number, method, path, body)`` -> ``(status, payload, headers)`` or
    :data:`DROP`; ``number`` counts every request from 1. ``times`` records when each request arrived."""

    def __init__(self, script: Callable) -> None:
        super().__init__()
        self.script = script
        self.times: list[float] = []

    def respond(self, number: int, method: str, path: str, body, headers: dict):
        with self.lock:
            self.times.append(time.monotonic())
            self.last_headers = headers
        return self.script(number, method, path, body)


if __name__ == "__main__":
    # Serve a local model the way `vllm serve` would, for trying the API paths by hand (README: lm-eval against a
    # server): python tests/openai_server.py MODEL_DIR --port 8000 --model-name NAME
    import argparse

    ap = argparse.ArgumentParser(description="an OpenAI-compatible chat server on 127.0.0.1 backed by MODEL_DIR")
    ap.add_argument("model_dir")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--model-name", default="tiny-teacher")
    args = ap.parse_args()
    srv = ModelServer(args.model_dir, model_name=args.model_name, port=args.port)
    print(f"serving {args.model_name} on http://127.0.0.1:{args.port}/v1", flush=True)
    srv.httpd.serve_forever()
