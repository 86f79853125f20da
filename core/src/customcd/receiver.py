"""The embedded local receiver: a real HTTP server that behaves like the Custom CD endpoint.

``customcd receiver`` runs it in the foreground for pipeline testing; ``customcd demo`` and the
tests start it on a free loopback port. It implements ``POST /webhook/company/<id>/cicd_job``:
checks the Bearer token, validates the body against the contract, answers 201 / 400 / 401 / 404 /
405 / 413 / 415 / 422 with a JSON reason, honours ``Idempotency-Key`` (a key it accepted before is
answered 200 and not recorded twice) and records what it accepted (JSON lines).

For tests it can inject faults, one per request: a status with headers, a delay, a black hole
(read the request, never answer) or a drip-fed response.
"""

from __future__ import annotations

import hmac
import json
import re
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .contract.job import Job
from .contract.problems import InvalidRecord

__all__ = ["Fault", "ReceivedRequest", "Receiver"]

_PATH = re.compile(r"^/webhook/company/(?P<company>[^/]+)/cicd_job/?$")
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """What the receiver does with the next request instead of its normal answer.

    :param status: the status to answer (with ``body`` and ``headers``).
    :param headers: extra response headers (e.g. ``Retry-After``).
    :param body: the response body (JSON-encoded when not bytes).
    :param delay: seconds to wait before answering.
    :param blackhole: read the request and never answer (until the receiver stops).
    :param drip: send the response one byte every ``drip`` seconds.
    """

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    blackhole: bool = False
    drip: float = 0.0


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the receiver saw it (the Authorization value is never kept).

    :param method: the HTTP method.
    :param path: the request path.
    :param headers: the request headers, Authorization replaced by whether it was right.
    :param body: the raw body bytes.
    :param status: the status answered (``None`` for a black hole).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "customcd-receiver"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default; the receiver reports through its own log."""

    def _send(
        self, status: int, payload: Any, headers: dict[str, str] | None = None, drip: float = 0.0
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
        ]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        if drip:
            for i in range(len(raw)):
                if self.server.receiver.stopping.is_set():
                    return
                self.wfile.write(raw[i : i + 1])
                self.wfile.flush()
                time.sleep(drip)
        else:
            self.wfile.write(raw)
            self.wfile.flush()

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return b""
        if int(length) > MAX_BODY:
            return None
        return self.rfile.read(int(length))

    def do_POST(self) -> None:
        """Handle one record."""
        receiver = self.server.receiver
        body = self._read_body()
        status, payload, headers, drip = receiver.answer(self.path, self.headers, body)
        headers_seen = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        headers_seen["Authorization"] = receiver.auth_verdict(self.headers.get("Authorization"))
        receiver.requests.append(
            ReceivedRequest("POST", self.path, headers_seen, body or b"", status)
        )
        if status is None:  # black hole: hold the connection until the receiver stops
            receiver.stopping.wait()
            self.close_connection = True
            return
        self._send(status, payload, headers, drip)

    def _not_allowed(self) -> None:
        self._read_body()
        self._send(405, {"status": "error", "reason": "only POST is allowed"}, {"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed


class Receiver:
    """A local Custom CD endpoint on loopback.

    :param company_id: the company id it serves (another id answers 404).
    :param token: the token it accepts; ``None`` accepts any non-empty Bearer token.
    :param host: the address to listen on (loopback by default).
    :param port: the port (0: a free one).
    :param record_path: append accepted bodies to this JSON-lines file.
    :param tls: an SSL context to serve HTTPS.
    """

    def __init__(
        self,
        *,
        company_id: str = "1",
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record_path: Path | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.company_id = company_id
        self._token = token
        self.record_path = record_path
        self.accepted: list[dict[str, Any]] = []
        self.requests: list[ReceivedRequest] = []
        self.faults: deque[Fault] = deque()
        self.stopping = threading.Event()
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.receiver = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        """``scheme://host:port`` to use as ``CUSTOMCD_URL``."""
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"{self.scheme}://{host}:{port}"

    @property
    def endpoint(self) -> str:
        """The full URL of the job endpoint."""
        return f"{self.url}/webhook/company/{self.company_id}/cicd_job"

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each is used for one request, in order."""
        self.faults.extend(faults)

    def auth_verdict(self, header: str | None) -> str:
        """Judge an Authorization header: ``ok``, ``missing`` or ``wrong``."""
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            return "missing"
        if self._token is None:
            return "ok"
        return "ok" if hmac.compare_digest(header[7:].strip(), self._token) else "wrong"

    def answer(
        self, path: str, headers: Any, body: bytes | None
    ) -> tuple[int | None, Any, dict[str, str], float]:
        """Decide the response to one POST: ``(status, payload, headers, drip)``."""
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            if fault.delay:
                self.stopping.wait(fault.delay)
            if fault.blackhole:
                return None, None, {}, 0.0
            payload = (
                fault.body
                if fault.body is not None
                else {"status": "error", "reason": f"injected {fault.status}"}
            )
            return fault.status, payload, dict(fault.headers), fault.drip
        match = _PATH.match(path.split("?", 1)[0])
        if not match or match["company"] != self.company_id:
            return 404, {"status": "error", "reason": f"no such endpoint: {path}"}, {}, 0.0
        verdict = self.auth_verdict(headers.get("Authorization"))
        if verdict != "ok":
            reason = "missing Bearer token" if verdict == "missing" else "invalid token"
            return 401, {"status": "error", "reason": reason}, {"WWW-Authenticate": "Bearer"}, 0.0
        if body is None:
            return 413, {"status": "error", "reason": "body larger than 1 MiB"}, {}, 0.0
        if "json" not in (headers.get("Content-Type") or ""):
            return (
                415,
                {"status": "error", "reason": "send Content-Type: application/json"},
                {},
                0.0,
            )
        try:
            data = json.loads(body)
        except ValueError as exc:
            return 400, {"status": "error", "reason": f"body is not JSON: {exc}"}, {}, 0.0
        try:
            record = Job.from_body(data)
        except InvalidRecord as exc:
            problems = [str(p) for p in exc.problems]
            return (
                422,
                {"status": "error", "reason": "invalid record", "problems": problems},
                {},
                0.0,
            )
        key = headers.get("Idempotency-Key") or record.idempotency_key
        with self._lock:
            if key in self._keys:
                return 200, {"status": "duplicate", "job_id": record.job_id}, {}, 0.0
            self._keys.add(key)
            self.accepted.append(data)
            if self.record_path is not None:
                with self.record_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(data, separators=(",", ":")) + "\n")
        return 201, {"status": "accepted", "job_id": record.job_id}, {}, 0.0

    def start(self) -> Receiver:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="customcd-receiver", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (``customcd receiver``)."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and release held connections."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
