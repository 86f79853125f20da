"""The token never leaks: a canary token through every delivery case, with ``-v``/``-vv``.

Every CLI run in the delivery tests goes through ``helpers_delivery.Harness``, which already
asserts that the canary is in no stdout, stderr, log record or outbox file byte. This file adds
the hostile cases: servers that echo the token back in bodies and headers, debug logging of the
HTTP stack, odd tokens, and URLs that carry a secret by mistake.
"""

from __future__ import annotations

import logging

import pytest
from customcd.delivery.retry import RetryPolicy
from customcd.delivery.sender import Sender
from customcd.delivery.transport import Endpoint, quiet_http_loggers
from customcd.receiver import Fault
from helpers_delivery import (
    CANARY,
    FakeClock,
    assert_no_canary,
    body_for,
    body_json_for,
    closed_port,
    key_for,
    outbox_bytes,
    record_args,
)
from pydantic import SecretStr

ECHO = {"status": "error", "reason": f"bad credentials: Bearer {CANARY}"}


@pytest.mark.parametrize("status", [400, 401, 403, 422, 503])
def test_a_server_echoing_the_token_in_its_reason_is_scrubbed(
    harness, receiver, status: int
) -> None:
    receiver.inject(*[Fault(status, body=ECHO)] * 8)
    harness.verbosity = 2
    run = harness.send(receiver.url, CUSTOMCD_DEADLINE="1")
    assert run.exit_code == 0
    (entry,) = harness.entries()
    assert "bad credentials: Bearer ***" in entry.reason
    assert "bad credentials: Bearer ***" in run.stderr


def test_a_server_echoing_the_token_in_a_plain_text_body_is_scrubbed(harness, receiver) -> None:
    receiver.inject(Fault(401, body=f"token {CANARY} is not valid".encode()))
    run = harness.send(receiver.url)
    assert "token *** is not valid" in run.stderr


def test_a_redirect_location_echoing_the_token_is_scrubbed(harness, receiver) -> None:
    receiver.inject(Fault(302, headers={"Location": f"https://login.invalid/?t={CANARY}"}))
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert "not followed" in run.stderr


def test_every_outcome_with_debug_logging_keeps_the_token_out(harness, receiver) -> None:
    """-vv through delivered, retried, pending, rejected, duplicate, replayed and flushed."""
    harness.verbosity = 2
    receiver.inject(Fault(503, headers={"Retry-After": "0"}), Fault(429))
    runs = [harness.send(receiver.url, job_id="a")]  # 2 retries then delivered
    runs.append(harness.send(receiver.url, job_id="a"))  # duplicate (ledger)
    receiver.inject(Fault(422, body=ECHO))
    runs.append(harness.send(receiver.url, job_id="b"))  # rejected
    down = f"http://127.0.0.1:{closed_port()}"
    runs.append(harness.send(down, job_id="c", CUSTOMCD_DEADLINE="1"))  # pending
    runs.append(harness.run(["outbox", "list"], harness.env(receiver.url)))
    runs.append(harness.run(["outbox", "list", "--json"], harness.env(receiver.url)))
    runs.append(harness.send(receiver.url, job_id="d"))  # replays c first
    runs.append(harness.flush(receiver.url, "--rejected"))
    assert [r.exit_code for r in runs] == [0] * len(runs)
    assert {"a", "c", "d"} <= {b["job_id"] for b in receiver.accepted}
    assert any("DEBUG" in r.stderr or "INFO" in r.stderr for r in runs)
    assert all(r.headers["Authorization"] == "ok" for r in receiver.requests)
    assert_no_canary("the outbox", outbox_bytes(harness.outbox_path))


def test_the_http_stack_at_debug_level_never_logs_the_token(receiver, caplog) -> None:
    receiver.inject(Fault(503))
    body = body_for("dbg")
    sender = Sender(
        Endpoint.parse(receiver.url, "1"),
        SecretStr(CANARY),
        policy=RetryPolicy(rand=lambda a, b: 0.0),
        clock=FakeClock(),
    )
    assert sender.client is not None  # made now: it quiets the HTTP loggers once
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "hpack"):  # then a library user turns everything up
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        result = sender.send(key_for(body), body_json_for(body).encode())
    finally:
        sender.close()
        quiet_http_loggers()
        for name in ("httpx", "httpcore", "hpack"):
            logging.getLogger(name).setLevel(logging.INFO)
    assert result.kind == "delivered"
    messages = [f"{r.name} {r.getMessage()}" for r in caplog.records]
    # debug really was on: httpcore logs each step of the exchange at DEBUG
    assert any(m.startswith("httpcore.") for m in messages), messages
    for message in messages:
        assert_no_canary("a log record", message)
        assert "authorization" not in message.lower()


def test_exception_texts_of_failed_attempts_carry_no_token(receiver) -> None:
    down = Endpoint.parse(f"http://127.0.0.1:{closed_port()}", "1")
    receiver.inject(Fault(blackhole=True), Fault(201, drip=0.2), Fault(200, delay=2))
    body = body_for("exc")
    for endpoint in (down, Endpoint.parse(receiver.url, "1")):
        sender = Sender(
            endpoint,
            SecretStr(CANARY),
            policy=RetryPolicy(deadline=0.8, attempt_timeout=0.3, max_attempts=1),
        )
        result = sender.send(key_for(body), body_json_for(body).encode())
        sender.close()
        assert result.kind == "pending"
        assert_no_canary("an attempt's error", result.reason)


def test_a_token_with_non_ascii_characters_does_not_leak(receiver) -> None:
    token = SecretStr(CANARY + "é")
    sender = Sender(
        Endpoint.parse(receiver.url, "1"), token, policy=RetryPolicy(deadline=1, max_attempts=1)
    )
    result = sender.send("k", b"{}")
    sender.close()
    assert result.kind == "pending"
    assert_no_canary("an attempt's error", result.reason)


@pytest.mark.parametrize("suffix", ["\nsecond-line", "\r\nX", "\x00"])
def test_a_token_with_a_control_character_does_not_leak(receiver, suffix: str) -> None:
    sender = Sender(
        Endpoint.parse(receiver.url, "1"),
        SecretStr(CANARY + suffix),
        policy=RetryPolicy(deadline=1, max_attempts=1),
    )
    result = sender.send("k", b"{}")
    sender.close()
    assert receiver.requests == []
    assert_no_canary("an attempt's error", result.reason)


@pytest.mark.parametrize(
    "url",
    [
        f"https://me:{CANARY}@allstacks.invalid:bad/",
        f"https://allstacks.invalid:443/?token={CANARY}",
        f"ftp://me:{CANARY}@allstacks.invalid/",
    ],
)
def test_a_secret_pasted_into_the_url_is_not_echoed(harness, url: str) -> None:
    run = harness.send(url)
    assert run.exit_code == 0
    assert "CUSTOMCD_URL" in run.stderr


def test_credentials_in_the_url_are_refused_without_echo(harness) -> None:
    run = harness.send(f"https://me:{CANARY}@allstacks.invalid/", "--strict")
    assert run.exit_code == 78
    assert "must not carry credentials" in run.stderr


def test_the_token_file_is_read_and_never_printed(harness, receiver, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(CANARY + "\n")
    env = harness.env(receiver.url)
    del env["CUSTOMCD_TOKEN"]
    run = harness.run(
        ["send", "--token-file", str(token_file), *record_args()],
        env,
    )
    assert run.exit_code == 0
    assert receiver.requests[0].headers["Authorization"] == "ok"
