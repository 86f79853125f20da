"""The http.client transport under httpx (issue 9), against real loopback servers.

A small ``http.server`` answers by path (keep-alive, chunked, ``Connection: close``, oversize,
duplicate headers, a connection dropped before the answer, a black hole...) and counts the
connections it accepted and the requests it read, so connection reuse and the retry-once rule
are seen from the server's side. Nothing here is mocked.
"""

from __future__ import annotations

import gzip
import logging
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import trustme
from customcd.delivery.stdlib_transport import StdlibTransport
from customcd.receiver import Receiver
from helpers_delivery import CANARY, body_for, body_json_for, closed_port

PAYLOAD = b'{"job_id": "42"}'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.connections = 0  # accepted
        self.open = 0  # accepted and not closed yet
        #: every request read: (method, target, header pairs in order, body)
        self.seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def setup(self) -> None:
        super().setup()
        self.served = 0
        with self.server.lock:
            self.server.connections += 1
            self.server.open += 1

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.lock:
                self.server.open -= 1

    def _reply(self, status: int, body: bytes, *headers: str, length: bool = True) -> None:
        head = [f"HTTP/1.1 {status} {self.responses[status][0]}", *headers]
        if length:
            head.append(f"Content-Length: {len(body)}")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()

    def _hang(self) -> None:
        self.server.stop.wait(5)
        self.close_connection = True

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/sink":  # never read the body, never answer
            self._hang()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.seen.append((self.command, self.path, list(self.headers.items()), body))
        served, self.served = self.served, self.served + 1
        if path == "/ok":
            self._reply(200, b"ok")
        elif path == "/slow":
            time.sleep(0.03)
            self._reply(200, b"ok")
        elif path == "/chunked":
            chunks = [b"hello, ", b"chunked ", b"world"]
            data = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
            self._reply(200, data, "Transfer-Encoding: chunked", length=False)
        elif path == "/cookies":
            self._reply(200, b"", "Set-Cookie: a=1", "X-Other: x", "Set-Cookie: b=2")
        elif path == "/close":
            self._reply(200, b"bye", "Connection: close")
            self.close_connection = True
        elif path.startswith("/size/"):
            self._reply(200, b"x" * int(path[6:]))
        elif path == "/gzip":
            self._reply(200, gzip.compress(b"unzipped" * 50), "Content-Encoding: gzip")
        elif path == "/then-close":  # answer as keep-alive, then close the idle connection
            self._reply(200, b"ok")
            self.close_connection = True
        elif path == "/flaky":  # a request on a reused connection gets no answer
            if served:
                self.close_connection = True
            else:
                self._reply(200, b"ok")
        elif path == "/drop":  # never an answer
            self.close_connection = True
        elif path == "/never":
            self._hang()
        elif path == "/garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        else:
            self._reply(404, b"")


class Loopback:
    """The test server on a free loopback port (``tls``: serve https)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.server = _Server()
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return self.server.connections

    @property
    def requests(self) -> int:
        """Requests read so far."""
        return len(self.server.seen)

    def open_connections(self, expected: int) -> int:
        """Connections still open, once it is ``expected`` (or after 2 s)."""
        deadline = time.monotonic() + 2
        while self.server.open != expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.server.open

    def close(self) -> None:
        """Release the hanging handlers and stop."""
        self.server.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.close()


def client(transport: StdlibTransport | None = None, **timeouts: float) -> httpx.Client:
    """An httpx client on the stdlib transport, as make_client builds it (no env proxies)."""
    return httpx.Client(
        transport=transport or StdlibTransport(),
        timeout=httpx.Timeout(5.0, **timeouts),
        trust_env=False,
    )


def post(http: httpx.Client, url: str, **kw: Any) -> httpx.Response:
    return http.post(url, content=PAYLOAD, headers={"Authorization": f"Bearer {CANARY}"}, **kw)


# -- what goes over the wire ---------------------------------------------------------------


def test_the_request_goes_out_as_httpx_built_it(server: Loopback) -> None:
    with client() as http:
        request = http.build_request(
            "POST",
            server.url + "/ok?a=1&b=%2F",
            content=PAYLOAD,
            headers={"X-Mixed-CASE": "Value", "Idempotency-Key": "k1"},
        )
        response = http.send(request)
    assert response.status_code == 200
    method, target, headers, body = server.server.seen[0]
    assert (method, target, body) == ("POST", "/ok?a=1&b=%2F", PAYLOAD)
    # every header once, in httpx's order and spelling: no Host or Accept-Encoding of http.client
    sent = [(k.decode(), v.decode()) for k, v in request.headers.raw]
    assert headers == sent
    assert [k.lower() for k, _ in headers].count("host") == 1
    assert [k.lower() for k, _ in headers].count("accept-encoding") == 1
    assert ("X-Mixed-CASE", "Value") in headers


def test_a_header_value_with_a_line_break_is_refused_before_connecting(server: Loopback) -> None:
    with client() as http, pytest.raises(httpx.LocalProtocolError) as caught:
        http.post(server.url + "/ok", headers={"Authorization": f"Bearer {CANARY}\r\nX-Evil: 1"})
    assert "Authorization" in str(caught.value)
    assert CANARY not in str(caught.value)
    assert server.connections == 0


def test_a_url_scheme_it_cannot_speak_is_unsupported() -> None:
    request = httpx.Request("GET", "ftp://127.0.0.1/file")
    with pytest.raises(httpx.UnsupportedProtocol):
        StdlibTransport().handle_request(request)


# -- keep-alive ------------------------------------------------------------------------------


def test_keep_alive_sends_several_requests_over_one_connection(server: Loopback) -> None:
    with client() as http:
        responses = [post(http, server.url + "/ok") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert [r.text for r in responses] == ["ok"] * 5
    assert responses[0].http_version == "HTTP/1.1"
    assert responses[0].reason_phrase == "OK"
    assert (server.connections, server.requests) == (1, 5)


def test_connection_close_from_the_server_is_honoured(server: Loopback) -> None:
    with client() as http:
        texts = [post(http, server.url + "/close").text for _ in range(3)]
    assert texts == ["bye"] * 3
    assert server.connections == 3


def test_an_idle_connection_the_server_closed_is_replaced_without_a_failed_request(
    server: Loopback,
) -> None:
    with client() as http:
        assert post(http, server.url + "/then-close").status_code == 200
        server.open_connections(0)  # the server has closed it
        assert post(http, server.url + "/ok").status_code == 200
    assert (server.connections, server.requests) == (2, 2)  # nothing was sent on the dead one


def test_a_reused_connection_that_fails_before_the_answer_is_retried_once(
    server: Loopback,
) -> None:
    with client() as http:
        assert post(http, server.url + "/flaky").status_code == 200
        # same connection: the server reads the request and closes without an answer
        assert post(http, server.url + "/flaky").status_code == 200
    assert server.connections == 2
    assert server.requests == 3  # first, the one without an answer, and its retry


def test_a_fresh_connection_failure_is_never_retried(server: Loopback) -> None:
    with client() as http, pytest.raises(httpx.RemoteProtocolError):
        post(http, server.url + "/drop")
    assert (server.connections, server.requests) == (1, 1)


def test_the_retry_happens_once_only(server: Loopback) -> None:
    with client() as http:
        post(http, server.url + "/ok")
        with pytest.raises(httpx.RemoteProtocolError):
            post(http, server.url + "/drop")  # reused connection fails, then the fresh one
    assert (server.connections, server.requests) == (2, 3)


def _burst(http: httpx.Client, url: str, threads: int = 8, each: int = 6) -> list[object]:
    """``each`` requests from each of ``threads`` threads at once: statuses and exceptions."""
    results: list[object] = []
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(each):
            try:
                results.append(post(http, url).status_code)
            except Exception as exc:  # reported by the caller
                results.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    return results


def test_eight_threads_share_one_client_and_its_connections(server: Loopback) -> None:
    with client() as http:
        assert _burst(http, server.url + "/slow") == [200] * 48
        assert server.requests == 48
        # each thread holds one connection at a time and gives it back: never more than 8
        assert 2 <= server.connections <= 8
        assert server.open_connections(server.connections) == server.connections  # all pooled
    assert server.open_connections(0) == 0  # closing the client closed the pooled ones


def test_the_idle_pool_is_bounded_per_origin(server: Loopback) -> None:
    with client(StdlibTransport(max_idle=2)) as http:
        assert _burst(http, server.url + "/slow") == [200] * 48
        assert server.connections > 2  # several in flight at once
        assert server.open_connections(2) == 2  # the rest were closed, not pooled
    assert server.open_connections(0) == 0


# -- responses -------------------------------------------------------------------------------


def test_a_chunked_reply_is_read_whole_and_its_connection_reused(server: Loopback) -> None:
    with client() as http:
        first = post(http, server.url + "/chunked")
        second = post(http, server.url + "/chunked")
    assert first.content == second.content == b"hello, chunked world"
    assert first.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in first.headers  # nothing added to what the server sent
    assert server.connections == 1


def test_duplicate_response_headers_are_kept_in_order(server: Loopback) -> None:
    with client() as http:
        response = post(http, server.url + "/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert [k for k, _ in response.headers.raw] == [
        b"Set-Cookie",
        b"X-Other",
        b"Set-Cookie",
        b"Content-Length",
    ]


def test_a_gzip_reply_is_decoded_by_httpx(server: Loopback) -> None:
    with client() as http:
        response = post(http, server.url + "/gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "unzipped" * 50


def test_a_reply_over_the_cap_is_cut_and_its_connection_closed(server: Loopback) -> None:
    with client(StdlibTransport(max_body=1000)) as http:
        exact = post(http, server.url + "/size/1000")
        again = post(http, server.url + "/size/1000")
        assert server.connections == 1  # a body of exactly the cap is complete: reused
        big = post(http, server.url + "/size/5000")
        after = post(http, server.url + "/ok")
    assert len(exact.content) == len(again.content) == 1000
    assert big.status_code == 200
    assert big.content == b"x" * 1000
    assert after.text == "ok"
    assert server.connections == 2  # the cut connection was not pooled


def test_a_malformed_reply_is_a_remote_protocol_error(server: Loopback) -> None:
    with client() as http, pytest.raises(httpx.RemoteProtocolError):
        post(http, server.url + "/garbage")


# -- errors and timeouts ---------------------------------------------------------------------


def test_a_refused_connection_is_a_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/ok"
    with client() as http, pytest.raises(httpx.ConnectError) as caught:
        post(http, url)
    assert "refused" in str(caught.value).lower()
    assert str(caught.value.request.url) == url


def test_a_server_that_never_answers_is_a_read_timeout(server: Loopback) -> None:
    started = time.monotonic()
    with client(read=0.3) as http, pytest.raises(httpx.ReadTimeout):
        post(http, server.url + "/never")
    assert 0.25 < time.monotonic() - started < 2.0


def test_a_server_that_never_reads_is_a_write_timeout(server: Loopback) -> None:
    started = time.monotonic()
    with client(write=0.3) as http, pytest.raises(httpx.WriteTimeout):
        http.post(server.url + "/sink", content=b"x" * (64 * 1024 * 1024))
    assert time.monotonic() - started < 3.0


def test_a_listener_that_never_accepts_is_a_connect_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler: list[socket.socket] = []
    try:
        for _ in range(4):  # fill the accept queue: later connection attempts are not answered
            probe = socket.socket()
            probe.settimeout(0.2)
            filler.append(probe)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this system answers connections beyond the listen backlog")
        started = time.monotonic()
        with client(connect=0.3) as http, pytest.raises(httpx.ConnectTimeout):
            post(http, f"http://127.0.0.1:{port}/ok")
        assert time.monotonic() - started < 2.0
    finally:
        for probe in filler:
            probe.close()
        listener.close()


def _no_token(exc: BaseException) -> None:
    assert CANARY not in str(exc)
    assert "Bearer" not in str(exc)
    assert CANARY not in repr(exc)
    # the whole printed traceback, chained causes included
    assert CANARY not in "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def test_the_token_is_in_no_exception_text_or_log_line(
    server: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[tuple[str, type[httpx.HTTPError], Callable[[httpx.Client], Any]]] = [
        ("no answer", httpx.RemoteProtocolError, lambda h: post(h, server.url + "/drop")),
        ("refused", httpx.ConnectError, lambda h: post(h, f"http://127.0.0.1:{closed_port()}/")),
        ("timeout", httpx.ReadTimeout, lambda h: post(h, server.url + "/never")),
        ("garbage", httpx.RemoteProtocolError, lambda h: post(h, server.url + "/garbage")),
        (
            "bad header",
            httpx.LocalProtocolError,
            lambda h: h.post(server.url + "/ok", headers={"Authorization": f"Bearer {CANARY}\n"}),
        ),
    ]
    transport = StdlibTransport()
    with client(transport, read=0.2) as http:
        post(http, server.url + "/ok")  # pooled: "no answer" takes the retry path first
        for name, expected, call in failures:
            with pytest.raises(httpx.HTTPError) as caught:
                call(http)
            assert type(caught.value) is expected, name
            _no_token(caught.value)
        assert CANARY not in repr(transport)
    assert any(r.name == "customcd.delivery.stdlib_transport" for r in caplog.records)  # it did log
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert "Bearer" not in record.getMessage()


# -- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _serving(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_https_with_the_ca_delivers_and_keeps_the_connection(ca: trustme.CA) -> None:
    made: list[ssl.SSLContext] = []

    def context() -> ssl.SSLContext:
        made.append(_trusting(ca))
        return made[-1]

    tls = Loopback(_serving(ca, "127.0.0.1"))
    plain = Loopback()
    try:
        with client(StdlibTransport(ssl_context=context)) as http:
            assert post(http, plain.url + "/ok").status_code == 200
            assert made == []  # a plain-http request makes no TLS context
            responses = [post(http, tls.url + "/ok") for _ in range(3)]
        assert [r.text for r in responses] == ["ok"] * 3
        assert len(made) == 1  # made once, on the first https request
        assert tls.connections == 1
        assert tls.server.seen[0][3] == PAYLOAD
    finally:
        tls.close()
        plain.close()


def test_https_with_the_project_receiver_and_a_ca_context(ca: trustme.CA) -> None:
    with (
        Receiver(company_id="1", token=CANARY, tls=_serving(ca, "127.0.0.1", "localhost")) as rx,
        client(StdlibTransport(ssl_context=_trusting(ca))) as http,
    ):
        response = http.post(
            rx.endpoint,
            content=body_json_for(body_for("42")).encode(),
            headers={"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"},
        )
    assert response.status_code == 201
    assert response.json()["status"] == "accepted"
    assert [b["job_id"] for b in rx.accepted] == ["42"]
    assert rx.requests[0].headers["Authorization"] == "ok"


def test_an_untrusted_certificate_is_a_connect_error_and_nothing_is_sent(ca: trustme.CA) -> None:
    tls = Loopback(_serving(ca, "127.0.0.1"))
    try:
        # default trust (certifi, as httpx): the test CA is not in it
        with client() as http, pytest.raises(httpx.ConnectError) as caught:
            post(http, tls.url + "/ok")
        assert "certificate verify failed" in str(caught.value).lower()
        _no_token(caught.value)
        assert tls.requests == 0
    finally:
        tls.close()


def test_a_certificate_for_another_host_is_a_connect_error(ca: trustme.CA) -> None:
    tls = Loopback(_serving(ca, "allstacks.example"))
    try:
        with (
            client(StdlibTransport(ssl_context=_trusting(ca))) as http,
            pytest.raises(httpx.ConnectError) as caught,
        ):
            post(http, tls.url + "/ok")
        assert "mismatch" in str(caught.value).lower()
        assert tls.requests == 0
    finally:
        tls.close()
