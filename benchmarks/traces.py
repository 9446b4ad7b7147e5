"""Benchmark the traces pipeline's own overhead: the response cache and the chat client's concurrency.

Usage: python benchmarks/traces.py [--records 50000] [--requests 400] [--latency 0.05]

1. Response cache: appends ``--records`` realistic responses (a ~1,500-character trace, usage, the full response
   body, as a vLLM server returns it) through ``ResponseCache.put``, then opens the cache afresh as a resumed run
   does, and prints the file size, the append and open times and the memory the open cache holds.
2. Chat client: ``--requests`` chat completions against a local OpenAI-shaped server on 127.0.0.1 that answers after
   ``--latency`` seconds (a stand-in for a model server's time to first byte), with 1, 4 and 16 requests in flight,
   and prints requests per second: the client should scale with concurrency until the server is the limit.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRACE = (
    "The anchor comparison was significant (p = 0.003) for overall survival with the 10 mg/kg arm. Lowering the "
    "dose to 3 mg/kg reduces exposure by about two thirds; for an antibody with a flat exposure-response curve above "
    "the saturating dose, the effect should shrink only a little, but the trial's power falls with it. "
) * 5 + "\nDECISION: (0.35, 0.65)"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def response(i: int) -> dict:
    return {
        "id": f"chatcmpl-{i:08d}",
        "object": "chat.completion",
        "created": 1767225600 + i,
        "model": "teacher",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": TRACE}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1900, "completion_tokens": 260, "total_tokens": 2160},
    }


def bench_cache(n: int) -> None:
    from deepimagine_data.traces.cache import ResponseCache, request_key

    with tempfile.TemporaryDirectory() as d:
        cache = ResponseCache(d, "teacher")
        t0 = time.perf_counter()
        for i in range(n):
            resp = response(i)
            cache.put({"pair_id": f"strict_arm:NCT{i:08d}:O0:OG001|OG000", "key": request_key({"i": i}, 0),
                       "try": 0, "model": "teacher", "created": resp["created"], "usage": resp["usage"],
                       "response": resp})  # fmt: skip
        t_put = time.perf_counter() - t0
        size = cache.path.stat().st_size / 1e6
        del cache
        tracemalloc.start()
        t0 = time.perf_counter()
        reopened = ResponseCache(d, "teacher")
        t_open = time.perf_counter() - t0
        held = tracemalloc.get_traced_memory()[0] / 1e6
        tracemalloc.stop()
        assert len(reopened) == n
    print(f"response cache, {n:,} responses ({size:,.0f} MB on disk)")
    print(f"  append (one flushed line each) {t_put:6.1f} s   {n / t_put:8,.0f} responses/s")
    print(f"  open for a resumed run         {t_open:6.1f} s   {n / t_open:8,.0f} responses/s, {held:,.0f} MB held")


def bench_client(n: int, latency: float) -> None:
    from deepimagine_data.traces.client import ChatClient

    body = json.dumps(response(0)).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK (40 ms)
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    request = {"model": "teacher", "messages": [{"role": "user", "content": "x" * 8000}], "max_tokens": 1024}
    print(f"chat client, {n} requests, server latency {latency * 1000:.0f} ms")
    try:
        for workers in (1, 4, 16):
            client = ChatClient(url, max_retries=0)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(client.chat, [request] * n))
            dt = time.perf_counter() - t0
            ideal = n * latency / workers
            print(f"  {workers:>2} in flight  {dt:6.2f} s  {n / dt:7.1f} requests/s  (latency bound {ideal:5.2f} s)")
    finally:
        server.shutdown()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--latency", type=float, default=0.05)
    args = p.parse_args()
    bench_cache(args.records)
    bench_client(args.requests, args.latency)
    print(f"peak RSS {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
