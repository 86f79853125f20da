"""A loopback HTTP file server for the install.sh tests: serves bytes by path, counts requests.

It can require HTTP Basic credentials (to prove install.sh uses the ones in the URL) and it
records every request path (query included) so a test can count downloads.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        files = self.server.owner
        files.requests.append(self.path)
        if files.credentials is not None:
            expected = "Basic " + base64.b64encode(files.credentials.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._answer(401, b"unauthorized\n", {"WWW-Authenticate": 'Basic realm="mirror"'})
                return
        path = self.path.split("?", 1)[0]
        body = files.files.get(path)
        if body is None:
            self._answer(404, b"not found\n")
        else:
            self._answer(200, body, {"Content-Type": "application/octet-stream"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackFiles


class LoopbackFiles:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 until stopped.

    :param credentials: ``user:password`` that every request must carry (HTTP Basic), or None.
    """

    def __init__(self, credentials: str | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.credentials = credentials
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def counts(self) -> Counter[str]:
        """How many requests each path (without its query) got."""
        return Counter(path.split("?", 1)[0] for path in self.requests)

    def __enter__(self) -> LoopbackFiles:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
