"""An httpx transport on the standard library's :mod:`http.client` (issue 9: start-up).

httpx's own transport imports ``httpcore``, ``h11`` and ``anyio`` when the first client is made
(~30 ms of a ``customcd send``). The webhook needs none of it: one small HTTP/1.1 POST per record.
:class:`StdlibTransport` sends the request httpx built, byte for byte, over
:class:`http.client.HTTPConnection` / :class:`~http.client.HTTPSConnection` and hands back an
``httpx.Response``; the rest of the code keeps its ``httpx.Client`` and httpx's exceptions.

No exception it raises and none of its (debug) log lines carries a request header (the
Authorization token): they name the origin (scheme, host, port) and the stdlib's error text only.
"""

from __future__ import annotations

import http.client
import logging
import re
import select
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import httpx

#: The standard library's connection classes as they were when this module was imported. A test
#: harness that swaps ``http.client``'s classes for recording stubs (vcrpy, to replay a CI's API)
#: must not capture the webhook's own connections, which always go to a real server.
_HTTPConnection = http.client.HTTPConnection
_HTTPSConnection = http.client.HTTPSConnection

if TYPE_CHECKING:
    import ssl

__all__ = ["MAX_BODY", "MAX_IDLE", "StdlibTransport"]

log = logging.getLogger(__name__)

#: Response bodies are cut after this many bytes (the webhook answers a few hundred).
MAX_BODY = 1024 * 1024
#: Idle keep-alive connections kept per origin (backfill sends from 4 workers by default).
MAX_IDLE = 8

_Origin = tuple[str, str, int]
_Timeouts = dict[str, float | None]

#: RFC 9110 token characters: a legal header name.
_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What would end a header line early (header injection).
_BREAK = re.compile(rb"[\r\n\x00]")
#: A folded (obs-fold) response header line, joined with one space as h11 does.
_FOLD = re.compile(r"\r?\n[ \t]+")

_TIMEOUTS: dict[str, type[httpx.TimeoutException]] = {
    "connect": httpx.ConnectTimeout,
    "write": httpx.WriteTimeout,
    "read": httpx.ReadTimeout,
}
_FAILURES: dict[str, type[httpx.TransportError]] = {
    "connect": httpx.ConnectError,
    "write": httpx.WriteError,
    "read": httpx.ReadError,
}


class _Stale(Exception):
    """A connection failed before any byte of a response: safe to send again on a fresh one.

    :param cause: the stdlib's exception.
    :param phase: ``write`` or ``read`` (for the httpx exception when it is not sent again).
    """

    def __init__(self, cause: BaseException, phase: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.phase = phase


class _Response(http.client.HTTPResponse):
    """An ``HTTPResponse`` that tells "no byte came back" apart from a broken response."""

    def begin(self) -> None:
        """Peek at the first byte before parsing: an empty or reset stream is :class:`_Stale`."""
        if self.headers is None:
            try:
                first = self.fp.peek(1)
            except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
                raise _Stale(exc, "read") from None
            if not first:
                closed = http.client.RemoteDisconnected(
                    "Remote end closed connection without response"
                )
                raise _Stale(closed, "read")
        super().begin()


def _peer_closed(exc: BaseException) -> bool:
    """Whether a send failed because the peer had already closed the connection."""
    if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
        return True
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError))


def _error(exc: BaseException, phase: str, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for ``exc`` raised while connecting, writing or reading.

    The message is the stdlib's text for ``exc`` (an errno, an SSL reason, a status line the
    server sent); nothing of the request's headers goes into it.
    """
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return _TIMEOUTS[phase](message, request=request)
    if phase != "connect" and isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(message, request=request)
    return _FAILURES[phase](message, request=request)


def _at(origin: _Origin) -> str:
    """``scheme://host:port`` for a log line."""
    scheme, host, port = origin
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection is unusable: closed, or readable (EOF or stray bytes)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _request_head(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    """The request's header pairs as httpx built them, checked so none can break the request.

    :raises httpx.LocalProtocolError: naming the header, never its value.
    """
    head = list(request.headers.raw)
    for name, value in head:
        if not _NAME.fullmatch(name):
            raise httpx.LocalProtocolError(
                "invalid header name (characters a header name cannot have)", request=request
            )
        if _BREAK.search(value):
            raise httpx.LocalProtocolError(
                f"invalid value for header {name.decode('ascii')!r} (a line break or NUL)",
                request=request,
            )
    return head


def _response_headers(message: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Raw ``(name, value)`` byte pairs, in order, duplicates kept (http.client decodes latin-1)."""
    return [
        (name.encode("latin-1"), _FOLD.sub(" ", value).encode("latin-1")) for name, value in message
    ]


class StdlibTransport(httpx.BaseTransport):
    """HTTP/1.1 over :mod:`http.client`, with keep-alive, for ``httpx.Client(transport=...)``.

    - **What is sent**: the request's method, raw target (path and query), its headers exactly as
      httpx built them (``request.headers.raw``: http.client adds no Host and no
      Accept-Encoding of its own) and its body (``request.read()``; chunked when httpx said so).
    - **Connections**: one per request in flight; after a response that was read fully and did not
      say ``Connection: close`` it goes back to a lock-protected pool of idle connections, at most
      ``max_idle`` per origin (scheme, host, port), reused newest first. An idle connection the
      server has closed meanwhile is dropped before use; if a *reused* connection still fails
      before the first byte of an answer (the server closed it in the same instant), the request
      is sent once more on a fresh connection. The webhook requests carry an Idempotency-Key, so
      that is safe; a fresh connection's failure is never retried. There is no limit on
      connections in flight, so the ``pool`` timeout is never waited for.
    - **Timeouts**: ``request.extensions["timeout"]`` (httpx's ``connect``/``read``/``write``
      keys, ``None`` for no limit): ``connect`` covers TCP and the TLS handshake, ``write`` the
      sending, ``read`` each wait for response bytes.
    - **Errors** are httpx's, with the request attached: a timeout is ``ConnectTimeout``,
      ``WriteTimeout`` or ``ReadTimeout`` by phase; a refused connection, DNS failure or TLS
      failure (the SSL reason in the message, e.g. ``certificate verify failed``) is
      ``ConnectError``; a malformed or cut response is ``RemoteProtocolError``; other socket
      errors are ``WriteError`` / ``ReadError``; a header that would break the request is
      ``LocalProtocolError`` (naming the header, never its value).
    - **Response**: status, raw header pairs in order (duplicates kept), ``http_version`` and
      ``reason_phrase`` extensions; the body is read fully here and handed to httpx as a stream,
      so httpx decodes ``Content-Encoding`` as before and adds no header of its own. A body longer
      than ``max_body`` bytes is **cut** at ``max_body`` (no error: the status is what matters to
      the caller), and that connection is closed instead of pooled.
    - **TLS**: ``ssl_context`` is an ``ssl.SSLContext``, a function returning one (called once, on
      the first https request), or ``None`` for httpx's default trust
      (``httpx.create_ssl_context(trust_env=True)``: certifi, or ``SSL_CERT_FILE`` /
      ``SSL_CERT_DIR``), also made on the first https request, so a plain-http run never loads
      a CA bundle. The context's own hostname check applies; SNI is the URL's host. ALPN offers
      ``http/1.1``, as httpcore does.

    Proxies are not handled here: ``customcd.delivery.transport.make_client`` routes proxied URLs to
    httpx's own proxy transport.

    :param ssl_context: the TLS context, a function making it, or ``None`` (see above).
    :param max_idle: idle connections kept per origin.
    :param max_body: response bytes read at most.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext] | None = None,
        max_idle: int = MAX_IDLE,
        max_body: int = MAX_BODY,
    ) -> None:
        self._tls = ssl_context
        self._tls_ready: ssl.SSLContext | None = None
        self.max_idle = max_idle
        self.max_body = max_body
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls_lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<StdlibTransport max_idle={self.max_idle} max_body={self.max_body}>"

    def tls_context(self) -> ssl.SSLContext:
        """The TLS context of https requests, made (once) on first use."""
        with self._tls_lock:
            if self._tls_ready is None:
                tls = self._tls
                if tls is None:
                    context = httpx.create_ssl_context(trust_env=True)
                elif callable(tls):
                    context = tls()
                else:
                    context = tls
                context.set_alpn_protocols(["http/1.1"])
                self._tls_ready = context
            return self._tls_ready

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return its response, body read (see the class docstring)."""
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{scheme}://'.", request=request
            )
        host = url.raw_host.decode("ascii").strip("[]")
        origin: _Origin = (scheme, host, url.port or (443 if scheme == "https" else 80))
        timeouts: _Timeouts = request.extensions.get("timeout", {})
        head = _request_head(request)
        body = request.read()
        conn = self._checkout(origin)
        if conn is not None:
            try:
                return self._exchange(conn, origin, request, head, body, timeouts)
            except _Stale as stale:  # the server had closed it: once more, on a fresh connection
                log.debug(
                    "%s: reused connection closed by the server (%s); sending again",
                    _at(origin),
                    stale,
                )
        conn = self._connect(origin, request, timeouts.get("connect"))
        try:
            return self._exchange(conn, origin, request, head, body, timeouts)
        except _Stale as stale:
            raise _error(stale.cause, stale.phase, request) from stale.cause

    def close(self) -> None:
        """Close the idle connections; connections in use are closed when their response ends."""
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def _checkout(self, origin: _Origin) -> http.client.HTTPConnection | None:
        """The newest live idle connection to ``origin``, or ``None``."""
        while True:
            with self._lock:
                conns = self._idle.get(origin)
                if not conns:
                    return None
                conn = conns.pop()
            if not _dropped(conn):
                log.debug("%s: reusing an idle connection", _at(origin))
                return conn
            log.debug("%s: idle connection closed by the server; dropped", _at(origin))
            conn.close()

    def _checkin(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        """Pool ``conn`` for reuse, or close it when the pool is full or closed."""
        with self._lock:
            conns = self._idle.setdefault(origin, [])
            if not self._closed and len(conns) < self.max_idle:
                conns.append(conn)
                return
        conn.close()

    def _connect(
        self, origin: _Origin, request: httpx.Request, timeout: float | None
    ) -> http.client.HTTPConnection:
        """A new, connected connection (TCP, and the TLS handshake for https)."""
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        try:
            if scheme == "https":
                conn = _HTTPSConnection(host, port, timeout=timeout, context=self.tls_context())
            else:
                conn = _HTTPConnection(host, port, timeout=timeout)
        except (ValueError, http.client.HTTPException) as exc:
            raise _error(exc, "connect", request) from exc
        conn.response_class = _Response
        try:
            conn.connect()
        except (OSError, ValueError) as exc:
            conn.close()
            raise _error(exc, "connect", request) from exc
        log.debug("%s: connected", _at(origin))
        return conn

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        origin: _Origin,
        request: httpx.Request,
        head: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: _Timeouts,
    ) -> httpx.Response:
        """One request and its response on ``conn``; ``conn`` is pooled or closed after.

        :raises _Stale: the connection failed before any byte of a response.
        """
        sock = conn.sock
        assert sock is not None  # connected, or checked by _checkout
        chunked = any(
            name.lower() == b"transfer-encoding" and b"chunked" in value.lower()
            for name, value in head
        )
        try:
            conn.putrequest(
                request.method,
                url=request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in head:
                conn.putheader(name, value)  # bytes are sent as they are
        except (ValueError, http.client.HTTPException) as exc:
            conn.close()
            raise httpx.LocalProtocolError(
                f"cannot send this request: {type(exc).__name__}", request=request
            ) from None
        try:
            sock.settimeout(timeouts.get("write"))
            conn.endheaders(body if body or chunked else None, encode_chunked=chunked)
        except OSError as exc:
            conn.close()
            if _peer_closed(exc):
                raise _Stale(exc, "write") from exc
            raise _error(exc, "write", request) from exc
        try:
            sock.settimeout(timeouts.get("read"))
            response = conn.getresponse()
        except _Stale:
            conn.close()
            raise
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise _error(exc, "read", request) from exc
        try:
            content = response.read(self.max_body + 1)
        except (OSError, http.client.HTTPException) as exc:
            response.close()
            conn.close()
            raise _error(exc, "read", request) from exc
        complete = response.isclosed() and len(content) <= self.max_body
        if complete and not response.will_close:
            self._checkin(origin, conn)
        else:
            log.debug(
                "%s: connection closed after the response (%s)",
                _at(origin),
                "server asked" if response.will_close else f"body over {self.max_body} bytes",
            )
            response.close()
            conn.close()
        return httpx.Response(
            response.status,
            headers=_response_headers(response.msg.items()),
            stream=httpx.ByteStream(content[: self.max_body]),
            request=request,
            extensions={
                "http_version": b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1",
                "reason_phrase": response.reason.encode("latin-1", "replace"),
            },
        )
