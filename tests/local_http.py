"""One local HTTP server for the tests of code that talks to the network (CT Open, ctgov downloads, traces, build):
a real ``http.server`` on 127.0.0.1 at a free port, speaking whatever the test's handler speaks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` while the block runs; yields the base URL (``http://127.0.0.1:PORT``, no slash)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a handler still dripping bytes to a client that left does not hold shutdown up
    # A short poll interval keeps shutdown() from costing the default half second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
