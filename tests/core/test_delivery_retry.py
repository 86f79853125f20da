"""Retries, backoff, Retry-After and the deadline, against the real receiver over loopback.

The Sender gets a fake clock whose ``sleep`` records the wait and advances time, and a fixed
jitter source, so these tests never really sleep and every wait is exact.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from customcd.delivery.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from customcd.delivery.sender import Sender
from customcd.delivery.transport import Endpoint
from customcd.receiver import Fault, Receiver
from helpers_delivery import (
    CANARY,
    SUCCESS_LINE,
    FakeClock,
    body_for,
    body_json_for,
    key_for,
    ok_requests_per_key,
    reset,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr


def ceiling(low: float, high: float) -> float:
    """Deterministic jitter: always the top of the range."""
    return high


def make_sender(receiver: Receiver, clock: FakeClock, **policy: float) -> Sender:
    settings = {"deadline": 30.0, "attempt_timeout": 5.0, "rand": ceiling, **policy}
    return Sender(
        Endpoint.parse(receiver.url, "1"),
        SecretStr(CANARY),
        policy=RetryPolicy(**settings),
        clock=clock,
    )


def send_one(receiver: Receiver, clock: FakeClock, job_id: str = "7", **policy: float):
    body = body_for(job_id)
    sender = make_sender(receiver, clock, **policy)
    try:
        return sender.send(key_for(body), body_json_for(body).encode()), key_for(body)
    finally:
        sender.close()


# -- 503, 503, 200 -----------------------------------------------------------------------------


def test_503_503_200_is_delivered_once_with_one_key_and_one_body(harness, receiver) -> None:
    receiver.inject(Fault(503), Fault(503))
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert [r.status for r in receiver.requests] == [503, 503, 201]
    keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
    assert keys == {key_for(body_for("42"))}
    bodies = {r.body for r in receiver.requests}
    assert bodies == {body_json_for(body_for("42")).encode()}
    assert all(r.headers["Authorization"] == "ok" for r in receiver.requests)
    assert len(receiver.accepted) == 1
    assert SUCCESS_LINE.findall(run.stderr) == ["customcd: delivered "]
    assert "3 attempts" in run.stderr
    assert harness.entries() == []
    assert harness.ledger() == keys


def test_503_503_200_sender_waits_are_the_backoff(receiver) -> None:
    receiver.inject(Fault(503), Fault(503))
    clock = FakeClock()
    result, key = send_one(receiver, clock)
    assert (result.kind, result.status, result.attempts) == ("delivered", 201, 3)
    assert clock.sleeps == [0.5, 1.0]  # full-jitter ceilings base * 2**(n-1)
    assert ok_requests_per_key(receiver) == {key: 1}


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES))
def test_every_retryable_status_is_retried(receiver, status: int) -> None:
    receiver.inject(Fault(status))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert [r.status for r in receiver.requests] == [status, 201]
    assert len(clock.sleeps) == 1


def test_attempts_stop_at_max_attempts_and_the_record_stays_pending(receiver) -> None:
    receiver.inject(*[Fault(503)] * 10)
    clock = FakeClock()
    result, _ = send_one(receiver, clock, max_attempts=4)
    assert (result.kind, result.status, result.attempts) == ("pending", 503, 4)
    assert len(receiver.requests) == 4
    assert len(clock.sleeps) == 3  # no useless wait after the last attempt
    assert "503" in result.reason


# -- Retry-After --------------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured(receiver) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": "7"}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [7.0]
    assert [r.status for r in receiver.requests] == [429, 201]


def test_retry_after_shorter_than_the_backoff_keeps_the_backoff(receiver) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": "0"}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [0.5]


def test_retry_after_http_date_is_honoured(receiver) -> None:
    clock = FakeClock()
    when = datetime.fromtimestamp(clock.time() + 12, tz=timezone.utc)
    receiver.inject(Fault(429, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [12.0]


def test_retry_after_http_date_in_the_past_waits_only_the_backoff(receiver) -> None:
    receiver.inject(Fault(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize(
    "garbage",
    ["soon", "-5", "5.5", "", "   ", "Wed, 32 Foo 2015", "0x10", "Wed, 21 Oct 2015 07:28:00 -0000"],
)
def test_garbage_retry_after_is_ignored(receiver, garbage: str) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": garbage}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("garbage", ["²", "٣"])
def test_digit_like_garbage_retry_after_is_ignored(receiver, garbage: str) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": garbage}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock)
    assert result.kind == "delivered"
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("huge", ["9" * 12, "9" * 400, "9" * 5000])
def test_a_huge_retry_after_neither_crashes_nor_waits_past_the_deadline(
    receiver, huge: str
) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": huge}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock, deadline=30.0)
    assert clock.now < 30.0
    if result.kind == "delivered":  # treated as garbage: only the backoff
        assert clock.sleeps == [0.5]
    else:  # honoured: longer than the deadline, so kept without waiting
        assert (result.kind, clock.sleeps, len(receiver.requests)) == ("pending", [], 1)


@pytest.mark.parametrize("garbage", ["²", "9" * 400])
def test_digit_like_retry_after_through_the_cli(harness, receiver, garbage: str) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": garbage}))
    run = harness.send(receiver.url, CUSTOMCD_DEADLINE="3")
    assert run.exit_code == 0
    assert run.seconds < 3 + 1
    # not lost: delivered, or kept pending in the outbox
    delivered = len(receiver.accepted) == 1 and harness.entries() == []
    kept = [e.state for e in harness.entries()] == ["pending"]
    assert delivered or kept


def test_retry_after_past_the_deadline_keeps_the_record_without_waiting(receiver) -> None:
    receiver.inject(Fault(429, headers={"Retry-After": "120"}))
    clock = FakeClock()
    result, _ = send_one(receiver, clock, deadline=30.0)
    assert (result.kind, result.status, result.attempts) == ("pending", 429, 1)
    assert clock.sleeps == []
    assert len(receiver.requests) == 1


def test_retry_after_date_past_the_deadline_keeps_the_record_without_waiting(receiver) -> None:
    clock = FakeClock()
    when = datetime.fromtimestamp(clock.time() + 3600, tz=timezone.utc)
    receiver.inject(Fault(503, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    result, _ = send_one(receiver, clock, deadline=30.0)
    assert result.kind == "pending"
    assert clock.sleeps == []


def test_repeated_retry_after_stops_before_the_deadline(receiver) -> None:
    receiver.inject(*[Fault(429, headers={"Retry-After": "10"})] * 6)
    clock = FakeClock()
    result, _ = send_one(receiver, clock, deadline=30.0)
    assert result.kind == "pending"
    assert clock.sleeps == [10.0, 10.0]
    assert clock.now < 30.0
    assert len(receiver.requests) == 3


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    hints=st.lists(
        st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=60).map(str),
            st.sampled_from(["soon", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        ),
        min_size=1,
        max_size=8,
    ),
    deadline=st.floats(min_value=1.0, max_value=40.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_combination_of_waits_passes_the_deadline(
    receiver, hints: list[str | None], deadline: float, seed: int
) -> None:
    reset(receiver)
    receiver.inject(*[Fault(503, headers={} if h is None else {"Retry-After": h}) for h in hints])
    clock = FakeClock()
    rng = random.Random(seed)
    result, _ = send_one(receiver, clock, deadline=deadline, rand=rng.uniform, max_attempts=10)
    assert all(s >= 0 for s in clock.sleeps)
    assert clock.now < deadline
    assert result.kind in {"delivered", "pending"}
    assert result.attempts == len(receiver.requests)


# -- unit bounds --------------------------------------------------------------------------------


@given(attempt=st.integers(min_value=-3, max_value=60), seed=st.integers(0, 2**32 - 1))
def test_backoff_is_full_jitter_within_bounds(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base=0.5, cap=10.0, rand=random.Random(seed).uniform)
    top = min(10.0, 0.5 * 2 ** max(attempt - 1, 0))
    assert 0.0 <= policy.backoff(attempt) <= top


def test_backoff_ceilings_double_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.5, cap=10.0, rand=ceiling)
    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert RetryPolicy(rand=lambda a, b: a).backoff(5) == 0.0


def test_backoff_is_never_negative_even_with_a_bad_jitter_source() -> None:
    assert RetryPolicy(rand=lambda a, b: -3.0).backoff(2) == 0.0


@pytest.mark.parametrize("attempt", [60, 1025, 2000, 10**6])
def test_backoff_is_capped_for_any_attempt_number(attempt: int) -> None:
    assert RetryPolicy(rand=ceiling).backoff(attempt) == 10.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 30 ", 30.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: 0, never negative
        ("Tue, 20 Oct 2015 07:28:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("tomorrow", None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after(value, now=now) == expected


@given(st.text(max_size=40), st.floats(min_value=0, max_value=4e9))
def test_parse_retry_after_is_never_negative_for_ascii_text(value: str, now: float) -> None:
    value = value.encode("ascii", "ignore").decode()
    parsed = parse_retry_after(value, now=now)
    assert parsed is None or parsed >= 0.0
