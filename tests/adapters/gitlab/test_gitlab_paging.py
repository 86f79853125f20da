"""Pipeline mode reads long job lists page by page, each page bounded by the time left (issue 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import customcd_gitlab.pipeline
import pytest
import requests
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError
from customcd_gitlab.client import Deadline
from gitlab_support import pipeline_env

JOBS = "https://gitlab.example.com/api/v4/projects/7/pipelines/1201/jobs"


@pytest.fixture
def slow_api(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], list[tuple[str, Any]]]:
    """Make every request "take" ``seconds`` on a fake clock that the run's Deadline reads.

    Returns the list of (url, timeout given to requests) of every request sent, in order.
    """

    def install(seconds: float) -> list[tuple[str, Any]]:
        now = [1000.0]
        sent: list[tuple[str, Any]] = []
        real_send = requests.Session.send

        def send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
            sent.append((request.url, kwargs.get("timeout")))
            try:
                return real_send(self, request, **kwargs)
            finally:
                now[0] += seconds

        monkeypatch.setattr(requests.Session, "send", send)
        monkeypatch.setattr(
            customcd_gitlab.pipeline,
            "Deadline",
            lambda budget: Deadline(budget, clock=lambda: now[0]),
        )
        return sent

    return install


@pytest.mark.vcr("pipeline_paged.yaml")
def test_every_page_is_read_and_gets_only_the_time_left(slow_api, collect):
    sent = slow_api(1.0)
    draft = collect(pipeline_env(1201), options={"per_page": 2}, timeout=10.0)
    urls = [url for url, _ in sent]
    assert urls[1:4] == [
        f"{JOBS}?per_page=2",
        f"{JOBS}?page=2&per_page=2",
        f"{JOBS}?page=3&per_page=2",
    ]
    assert urls[4].endswith("/bridges?per_page=2")
    # each request's timeout is what is left of the 10 s budget, not 10 s again
    assert [timeout for _, timeout in sent] == [10.0, 9.0, 8.0, 7.0, 6.0]
    # the jobs of every page count: same result as the one-page cassette
    assert draft.status == "success"
    start = to_epoch("2025-11-29T07:00:05Z")
    assert draft.job_duration == to_epoch("2025-11-29T07:15:58Z") - start


@pytest.mark.vcr("pipeline_paged.yaml")
def test_budget_spent_between_pages_stops_with_a_clear_error(slow_api, collect):
    sent = slow_api(4.0)
    with pytest.raises(
        AdapterError, match=r"within 10 s \(while listing the jobs of pipeline 1201"
    ):
        collect(pipeline_env(1201), options={"per_page": 2}, timeout=10.0)
    # pipeline at t=0 (10 s left), page 1 at t=4 (6 s), page 2 at t=8 (2 s); page 3 never sent
    assert [timeout for _, timeout in sent] == [10.0, 6.0, 2.0]
    assert not any("page=3" in url for url, _ in sent)
    assert sum(timeout for _, timeout in sent[1:]) <= 10.0


@pytest.mark.vcr("pipeline_paged.yaml")
def test_budget_spent_with_status_falls_back_to_the_variables(slow_api, collect):
    sent = slow_api(4.0)
    draft = collect(
        pipeline_env(1201), options={"per_page": 2}, overrides={"status": "success"}, timeout=10.0
    )
    assert len(sent) == 3
    assert draft.job_id == "1201"
    assert draft.status is None
    assert any("GitLab API not used" in note and "within 10 s" in note for note in draft.notes)
