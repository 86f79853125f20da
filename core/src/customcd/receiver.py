"""The embedded local receiver: a real HTTP server that behaves like the Custom CD endpoint.

``customcd receiver`` runs it in the foreground for pipeline testing; ``customcd demo`` and the
tests start it on a free loopback port. It implements ``POST /webhook/company/<id>/cicd_job``:
checks the Bearer token, validates the body against the contract, answers 201 / 400 / 401 / 404 /
405 / 413 / 415 / 422 with a JSON reason, honours ``Idempotency-Key`` (a key it accepted before is
answered 200 and not recorded twice) and records what it accepted (JSON lines).

For tests it can inject faults, one per request: a status with headers, a delay, a black hole
(read the request, never answer) or a drip-fed response.

It is safe to leave listening while pipelines point at it: a body over 1 MiB, a chunked body or
a body without ``Content-Length`` is refused and the connection closed (the unread rest is never
taken for a new request), idle connections time out, and at most :data:`MAX_CONNECTIONS`
connections are served at once (more are answered 503 and closed at once).
"""

from __future__ import annotations

import hmac
import json
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .contract.job import Job
from .contract.problems import InvalidRecord
from .printable import network_text

__all__ = ["MAX_BODY", "MAX_CONNECTIONS", "Fault", "ReceivedRequest", "Receiver"]

_PATH = re.compile(r"^/webhook/company/(?P<company>[^/]+)/cicd_job/?$")
#: The largest body accepted, in bytes.
MAX_BODY = 1024 * 1024
#: Connections served at once; more are answered 503 and closed.
MAX_CONNECTIONS = 64
#: Seconds a connection may stay silent (between requests, or in the middle of one).
IDLE_TIMEOUT = 15.0


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
    :param reason: what the answer said: the job id accepted, or why it was refused.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    reason: str = ""

    def line(self) -> str:
        """One printable line: ``accepted job '42'``, ``duplicate ...``, ``rejected 422: ...``."""
        if self.status is None:
            return f"{self.method} {network_text(self.path)}: no answer (black hole)"
        if self.status == 201:
            return f"accepted {self.reason}"
        if self.status == 200:
            return f"duplicate {self.reason} (Idempotency-Key seen before; not recorded again)"
        return f"rejected {self.status}: {self.reason}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: Receiver

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a thread of its own, or refuse it when all slots are taken."""
        if not self.slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def _refuse_busy(request: socket.socket) -> None:
    body = b'{"status": "error", "reason": "receiver busy: too many connections"}'
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    try:
        request.settimeout(1.0)
        request.sendall(head.encode() + body)
    except OSError:
        pass  # the client went away: nothing to tell it


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "customcd-receiver"
    timeout = IDLE_TIMEOUT  # socket timeout: a silent connection is dropped

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
        if self.close_connection:
            head.append("Connection: close")
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

    def _framing_error(self) -> tuple[int, str] | None:
        """Why the body cannot be read safely, or ``None`` when ``Content-Length`` frames it."""
        if self.headers.get("Transfer-Encoding"):
            return 411, "Transfer-Encoding (chunked) is not accepted: send Content-Length"
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:
            return 400, "Content-Length is given more than once"
        if not lengths:
            return 411, "a POST needs Content-Length"
        if not (lengths[0].isascii() and lengths[0].isdigit()):
            return 400, "Content-Length is not a number"
        if int(lengths[0]) > MAX_BODY:
            return 413, "body larger than 1 MiB"
        return None

    def _read_body(self) -> bytes | None:
        """The body, or ``None`` (and the connection marked for closing) when it is refused."""
        if self._framing_error() is not None:
            self.close_connection = True  # never read the rest as a new request
            return None
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if len(body) < length:  # the client stopped half-way (or timed out)
            self.close_connection = True
            return None
        return body

    def do_POST(self) -> None:
        """Handle one record."""
        receiver = self.server.receiver
        framing = self._framing_error()
        try:
            body = self._read_body()
        except TimeoutError:
            self.close_connection = True
            return
        answer: tuple[int | None, Any, dict[str, str], float]
        if framing is not None:
            answer = (framing[0], {"status": "error", "reason": framing[1]}, {}, 0.0)
        elif body is None:
            return  # cut off before the whole body arrived: nobody to answer
        else:
            answer = receiver.answer(self.path, self.headers, body)
        status, payload, headers, drip = answer
        headers_seen = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        headers_seen["Authorization"] = receiver.auth_verdict(self.headers.get("Authorization"))
        request = ReceivedRequest(
            "POST", self.path, headers_seen, body or b"", status, _reason(status, payload)
        )
        receiver.requests.append(request)
        if receiver.on_request is not None:
            receiver.on_request(request)
        if status is None:  # black hole: hold the connection until the receiver stops
            receiver.stopping.wait()
            self.close_connection = True
            return
        self._send(status, payload, headers, drip)

    def _not_allowed(self) -> None:
        if self._framing_error() is None or self.headers.get("Content-Length") is not None:
            self._read_body()
        self.close_connection = self.close_connection or bool(self.headers.get("Transfer-Encoding"))
        self._send(405, {"status": "error", "reason": "only POST is allowed"}, {"Allow": "POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed


def _reason(status: int | None, payload: Any) -> str:
    """What an answer said, for :meth:`ReceivedRequest.line`."""
    if not isinstance(payload, dict):
        return ""
    if status in (200, 201):
        return f"job {network_text(str(payload.get('job_id')))}"
    reason = network_text(str(payload.get("reason", "")))
    problems = payload.get("problems")
    if isinstance(problems, list) and problems:
        reason += ": " + "; ".join(network_text(str(p)) for p in problems)
    return reason


class Receiver:
    """A local Custom CD endpoint on loopback.

    :param company_id: the company id it serves (another id answers 404).
    :param token: the token it accepts; ``None`` accepts any non-empty Bearer token.
    :param host: the address to listen on (loopback by default).
    :param port: the port (0: a free one).
    :param record_path: append accepted bodies to this JSON-lines file.
    :param tls: an SSL context to serve HTTPS.
    :param on_request: called with each :class:`ReceivedRequest` as it is answered (from the
        connection's thread); ``customcd receiver`` prints :meth:`ReceivedRequest.line` with it.
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
        on_request: Callable[[ReceivedRequest], None] | None = None,
    ) -> None:
        self.company_id = company_id
        self.on_request = on_request
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
