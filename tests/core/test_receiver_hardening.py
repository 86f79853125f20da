"""The local receiver stays safe while pipelines point at it: framing, idle and connection limits."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest
from customcd import receiver as receiver_module
from customcd.receiver import ReceivedRequest, Receiver

BODY = {
    "job_id": "1",
    "status": "Succeeded",
    "commit_sha": "a2e7da86cc392417b0d9f605b28038aae80b002f",
    "repo_id": "12345",
    "service_id": 2,
    "job_start_time": 1704018030,
    "job_duration": 300,
}
PATH = "/webhook/company/1/cicd_job"


def request(body: bytes, *, extra: str = "", length: int | None = None) -> bytes:
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
    head += "Content-Type: application/json\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + extra + "\r\n").encode() + body


def exchange(server: Receiver, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    host, port = server.url.rsplit(":", 1)
    with socket.create_connection((host.split("//")[1], int(port)), timeout=timeout) as conn:
        # the server may close before it read everything: that is the point
        with contextlib.suppress(OSError):
            conn.sendall(data)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def server():
    with Receiver() as running:
        yield running


def test_a_valid_request_is_accepted_over_raw_http(server):
    raw = json.dumps(BODY).encode()
    data = request(raw, length=len(raw), extra="Connection: close\r\n")
    assert exchange(server, data).startswith(b"HTTP/1.1 201")
    assert server.accepted == [BODY]


def test_an_oversized_body_is_refused_and_its_rest_never_read_as_a_request(server):
    smuggled = json.dumps({**BODY, "job_id": "smuggled"}).encode()
    inner = request(smuggled, length=len(smuggled))
    outer = request(inner, length=2 * 1024 * 1024)
    answer = exchange(server, outer)
    assert answer.startswith(b"HTTP/1.1 413")
    assert answer.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in answer
    assert server.accepted == []


def test_a_chunked_body_is_refused_explicitly_and_the_connection_closed(server):
    smuggled = json.dumps(BODY).encode()
    inner = request(smuggled, length=len(smuggled))
    chunked = f"{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n"
    answer = exchange(server, request(chunked, extra="Transfer-Encoding: chunked\r\n"))
    assert answer.startswith(b"HTTP/1.1 411") and b"chunked" in answer
    assert answer.count(b"HTTP/1.1 ") == 1
    assert server.accepted == []


@pytest.mark.parametrize(
    ("extra", "length", "status"),
    [("", None, b"411"), ("Content-Length: 5\r\n", 5, b"400"), ("", -1, b"400")],
)
def test_bad_framing_is_refused(server, extra, length, status):
    data = request(b"{}", extra=extra, length=length)
    assert exchange(server, data).startswith(b"HTTP/1.1 " + status)
    assert server.accepted == []


def test_an_idle_connection_is_dropped(monkeypatch, server):
    assert receiver_module._Handler.timeout == receiver_module.IDLE_TIMEOUT <= 60
    monkeypatch.setattr(receiver_module._Handler, "timeout", 0.3)
    started = time.monotonic()
    assert exchange(server, b"POST " + PATH.encode()) == b""  # never finishes its request
    assert time.monotonic() - started < 4


def test_connections_beyond_the_limit_are_answered_503_at_once(monkeypatch):
    monkeypatch.setattr(receiver_module, "MAX_CONNECTIONS", 3)
    with Receiver() as limited:
        host, port = limited.url.split("//")[1].rsplit(":", 1)
        held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.2)  # let the server take the three connections
            started = time.monotonic()
            answer = exchange(limited, b"")
            assert answer.startswith(b"HTTP/1.1 503") and b"too many connections" in answer
            assert time.monotonic() - started < 2
        finally:
            for conn in held:
                conn.close()
        time.sleep(0.2)  # slots come back when the held connections end
        raw = json.dumps(BODY).encode()
        data = request(raw, length=len(raw), extra="Connection: close\r\n")
        assert exchange(limited, data).startswith(b"HTTP/1.1 201")


def test_each_request_is_reported_as_it_is_answered_with_network_text_escaped():
    seen: list[str] = []
    with Receiver(on_request=lambda r: seen.append(r.line())) as server:
        raw = json.dumps(BODY).encode()
        exchange(server, request(raw, length=len(raw), extra="Connection: close\r\n"))
        exchange(server, request(raw, length=len(raw), extra="Connection: close\r\n"))
        bad = json.dumps({**BODY, "job_id": "x\ncustomcd: delivered \x1b[31m", "status": "ok"})
        exchange(server, request(bad.encode(), length=len(bad), extra="Connection: close\r\n"))
    assert seen[0] == "accepted job 1"
    assert seen[1].startswith("duplicate job 1")
    assert seen[2].startswith("rejected 422: invalid record: status")
    assert all("\n" not in line and "\x1b" not in line for line in seen)


def test_a_black_hole_line_names_the_request():
    line = ReceivedRequest("POST", PATH + "\x1b", {}, b"", None).line()
    assert line == f"POST {PATH}\\x1b: no answer (black hole)"
