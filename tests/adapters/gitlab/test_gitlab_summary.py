"""Combining jobs into one status (pure functions)."""

from __future__ import annotations

from customcd_gitlab.summary import summarize


def job(
    status,
    name="j",
    allow_failure=False,
    started=None,
    finished=None,
    created="2025-11-29T07:00:00Z",
):
    return {
        "name": name,
        "status": status,
        "allow_failure": allow_failure,
        "created_at": created,
        "started_at": started,
        "finished_at": finished,
    }


OK = job("success", "build", started="2025-11-29T07:00:10Z", finished="2025-11-29T07:02:10Z")


def test_optional_manual_job_is_ignored_for_a_whole_pipeline():
    rollback = job("manual", "rollback", allow_failure=True)
    assert summarize([OK, rollback], selected=False).status == "success"


def test_selected_manual_job_is_waiting_even_when_allowed_to_fail():
    deploy = job("manual", "deploy", allow_failure=True)
    assert summarize([deploy], selected=True).status == "manual"


def test_delayed_job_is_scheduled():
    assert summarize([OK, job("scheduled", "deploy")], selected=False).status == "scheduled"


def test_running_job_wins_over_waiting_but_not_over_failure():
    running = job("running", "smoke", started="2025-11-29T07:03:00Z")
    waiting = job("manual", "deploy")
    assert summarize([OK, running, waiting], selected=False).status == "running"
    failed = job("failed", "test", started="2025-11-29T07:01:00Z", finished="2025-11-29T07:04:00Z")
    assert summarize([OK, running, failed], selected=False).status == "failed"


def test_created_jobs_alone_are_not_started():
    assert summarize([job("created")], selected=True).status == "created"


def test_nothing_ran_is_skipped():
    assert summarize([job("skipped")], selected=True).status == "skipped"
    assert summarize([], selected=False).status == "skipped"


def test_times_from_started_and_finished_jobs():
    late = job("success", "deploy", started="2025-11-29T07:05:00Z", finished="2025-11-29T07:09:30Z")
    summary = summarize([late, OK], selected=True)
    assert summary.start == 1_764_399_610  # 07:00:10Z
    assert summary.end == 1_764_400_170  # 07:09:30Z


def test_canceling_counts_as_canceled():
    assert summarize([OK, job("canceling", "deploy")], selected=False).status == "canceled"
