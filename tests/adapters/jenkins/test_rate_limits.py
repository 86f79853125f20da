"""Backfill behind a rate-limiting proxy: HTTP 429/503 waited out (Retry-After), a bounded number
of times; replayed from the modelled cassettes history_rate_limited*.yaml."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd_jenkins.client import Patience

from .support import FAKE_TOKEN, ROOT

CREDS = {"JENKINS_URL": ROOT, "JENKINS_USER": "jdoe", "JENKINS_API_TOKEN": FAKE_TOKEN}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    return waits


def query(**kwargs) -> HistoryQuery:
    values = {
        "since": 1763000000,
        "selection": {"job": ("payments/api",)},
        "env": CREDS,
        "log": logging.getLogger("customcd.test.jenkins"),
        "timeout": 5.0,
    }
    values.update(kwargs)
    return HistoryQuery(**values)


@pytest.mark.vcr("history_rate_limited.yaml")
def test_history_waits_out_429_and_503_and_goes_on(adapter, vcr, sleeps, caplog):
    with caplog.at_level(logging.WARNING, "customcd.test.jenkins"):
        drafts = list(adapter.history(query()))
    assert [d.job_id for d in drafts] == ["payments/api#1", "payments/api#2", "payments/api#3"]
    assert sleeps == [7.0, 1.0]  # Retry-After: 7, then a 503 without it: backoff
    assert vcr.all_played and vcr.play_count == 4
    assert "HTTP 429" in caplog.text and "Retry-After" in caplog.text
    assert FAKE_TOKEN not in caplog.text


@pytest.mark.vcr("history_rate_limited_too_long.yaml")
def test_history_does_not_wait_longer_than_allowed(adapter, vcr, sleeps):
    with pytest.raises(AdapterError) as caught:
        list(adapter.history(query()))
    assert sleeps == []
    message = str(caught.value)
    assert "HTTP 429" in message and "Retry-After: 3600" in message
    assert FAKE_TOKEN not in message


def _failure(status: int, retry_after: str | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return requests.HTTPError(f"{status}", response=response)


def test_patience_gives_up_after_its_retries():
    waits: list[float] = []
    calls: list[int] = []
    patience = Patience(retries=2, sleep=waits.append)

    def fetch() -> None:
        calls.append(1)
        raise _failure(503, "2")

    with pytest.raises(requests.HTTPError):
        patience.call(fetch, f"{ROOT}job/x/api/json")
    assert len(calls) == 3 and waits == [2.0, 2.0]


def test_patience_reads_an_http_date_and_never_retries_other_errors():
    waits: list[float] = []
    answers = [_failure(429, "Sat, 29 Nov 2025 07:10:30 GMT"), {"ok": True}]

    def fetch() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    patience = Patience(sleep=waits.append, clock=lambda: 1764400200.0)  # 07:10:00
    assert patience.call(fetch, "u") == {"ok": True}
    assert waits == [30.0]

    def forbidden() -> None:
        raise _failure(403)

    with pytest.raises(requests.HTTPError):
        Patience(sleep=waits.append).call(forbidden, "u")
    assert waits == [30.0]
