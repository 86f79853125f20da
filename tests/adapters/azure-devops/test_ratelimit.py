"""Azure's rate limiting (429/503 + Retry-After): history waits and goes on, a step never overruns."""

from __future__ import annotations

import logging

import pytest
from azdo_samples import COLLECTION, PROJECT_ID, SECRET, base_env, context
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd_azure_devops import ratelimit
from customcd_azure_devops.ratelimit import wait_seconds

SINCE = 1764374400  # 2025-11-29T00:00:00Z
NOON = 1764417600


class FakeClock:
    """A monotonic clock that only moves when the code sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "sleeper", fake.sleep)
    monkeypatch.setattr(ratelimit, "clock", fake)
    monkeypatch.setattr(ratelimit, "wall_clock", lambda: 1764409200.0)
    return fake


def history_query(**kwargs) -> HistoryQuery:
    return HistoryQuery(
        since=SINCE,
        until=NOON,
        server=COLLECTION,
        env={"AZURE_DEVOPS_PAT": SECRET},
        selection={"project": "Fabrikam Web", "definition": (12, 14)},
        timeout=5.0,
        **kwargs,
    )


# --- Retry-After parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "blocked", "expected"),
    [
        ({"Retry-After": "7"}, False, 7.0),
        ({"Retry-After": "0.5"}, True, 0.5),
        ({"Retry-After": "Sat, 29 Nov 2025 09:40:30 GMT"}, True, 30.0),
        ({"Retry-After": "soon"}, True, None),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1764409212"}, True, 12.0),
        # on a successful (merely delayed) answer the reset time is no reason to wait
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1764409212"}, False, None),
        ({}, True, None),
    ],
)
def test_wait_seconds(headers, blocked, expected):
    # 1764409200 is Sat, 29 Nov 2025 09:40:00 GMT
    assert wait_seconds(headers, 1764409200.0, blocked=blocked) == expected


# --- history: wait as asked, then go on ------------------------------------------------------


@pytest.mark.vcr("builds_history_rate_limited.yaml")
def test_history_waits_for_retry_after_and_goes_on(adapter, clock, caplog, vcr):
    caplog.set_level(logging.WARNING, logger="customcd")
    drafts = list(adapter.history(history_query(options={"page_size": 2})))
    assert [d.job_id for d in drafts] == ["20931", "20932", "20933", "20936"]
    assert clock.slept == [5.0]
    assert vcr.play_count == 3 and vcr.all_played
    assert "HTTP 429" in caplog.text and "waiting 5 s" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.vcr("builds_history_unavailable.yaml")
def test_history_gives_up_after_bounded_retries_with_one_clear_message(adapter, clock, vcr):
    q = history_query(options={"page_size": 2, "max_retries": 2})
    with pytest.raises(AdapterError) as caught:
        list(adapter.history(q))
    message = str(caught.value)
    assert "503" in message and "Retry-After 1" in message and "try again later" in message
    assert SECRET not in message
    assert clock.slept == [1.0, 1.0]
    assert vcr.play_count == 3


@pytest.mark.vcr("builds_history_outage.yaml")
def test_a_503_without_retry_after_is_an_outage_and_fails_at_once(adapter, clock, vcr):
    with pytest.raises(AdapterError, match="HTTP 503"):
        list(adapter.history(history_query(options={"page_size": 2})))
    assert clock.slept == [] and vcr.play_count == 1


@pytest.mark.vcr("builds_history_rate_limited.yaml")
def test_history_wait_is_capped(adapter, clock):
    drafts = list(adapter.history(history_query(options={"page_size": 2, "max_wait": 3})))
    assert len(drafts) == 4
    assert clock.slept == [3.0]


# --- step mode: never past context.timeout ---------------------------------------------------


@pytest.mark.vcr("step_rate_limited.yaml")
def test_step_waits_when_retry_after_fits_in_the_timeout(adapter, clock, vcr):
    draft = adapter.collect(context(base_env(SYSTEM_ACCESSTOKEN=SECRET)))  # timeout 5 s
    assert clock.slept == [2.0]
    assert to_epoch(draft.job_start_time) == 1764400000
    assert vcr.play_count == 2


@pytest.mark.vcr("step_rate_limited_long.yaml")
def test_step_does_not_wait_past_its_timeout_and_falls_back(adapter, clock, caplog, vcr):
    env = base_env(SYSTEM_ACCESSTOKEN=SECRET, SYSTEM_PIPELINESTARTTIME="2025-11-29 08:06:40+01:00")
    draft = adapter.collect(context(env))
    assert clock.slept == []  # Retry-After 30 s > 5 s timeout: no wait at all
    assert vcr.play_count == 1
    assert to_epoch(draft.job_start_time) == 1764400000
    assert any("REST read failed" in note and "30 s" in note for note in draft.notes)
    assert SECRET not in caplog.text


@pytest.mark.vcr("step_rate_limited_long.yaml")
def test_step_rate_limited_without_fallback_is_one_clear_problem(adapter, clock):
    draft = adapter.collect(context(base_env(SYSTEM_ACCESSTOKEN=SECRET)))
    message = draft.hints["job_start_time"]
    assert "rate limiting (HTTP 429)" in message and "30 s" in message
    assert PROJECT_ID in message and SECRET not in message
