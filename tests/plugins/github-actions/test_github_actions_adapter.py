"""The environment -> draft mapping, status map, annotations and demo cases (no network)."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from customcd import NOT_FINAL, SKIP, Draft, Job
from customcd.contract.times import to_epoch
from customcd_github_actions.adapter import GitHubActionsAdapter


def body_of(adapter: GitHubActionsAdapter, draft: Draft, overrides: dict[str, Any], now: float):
    """What the builder would send (a stand-in until core's builder lands): the user's flags win,
    the status goes through the adapter's map, the duration is now - start."""
    fields = {**draft.fields(), **overrides}
    status = adapter.status_map[str(fields.pop("status")).lower()]
    start = to_epoch(fields.pop("job_start_time"))
    return {
        **fields,
        "service_id": 12,
        "status": status,
        "job_start_time": start,
        "job_duration": int(fields.pop("job_duration", now - start)),
        "optional": draft.optional,
    }


def test_detect_only_on_github_actions(adapter):
    assert adapter.detect({"GITHUB_ACTIONS": "true"})
    assert adapter.detect({"GITHUB_ACTIONS": "True "})
    assert not adapter.detect({"GITHUB_ACTIONS": "false"})
    assert not adapter.detect({"CI": "true", "GITLAB_CI": "true"})
    assert not adapter.detect({})


def test_collect_maps_the_environment(adapter, make_context, env):
    draft = adapter.collect(make_context(job_start_time=1764400000))

    assert draft.adapter == "github-actions"
    assert draft.job_id == "12087465391-1-deploy-production"
    assert draft.commit_sha == env["GITHUB_SHA"]
    assert draft.repo_id == "734219085"
    assert draft.repo_name == "acme/payments-api"
    assert draft.triggered_by == "mjohnson"
    # The user gave a start time: no API call, nothing set (the override wins anyway).
    assert draft.job_start_time is None
    assert draft.job_duration is None
    # Without --status the job is still running: the builder will ask for --status.
    assert adapter.status_map[draft.status] == NOT_FINAL
    optional = {item["key"]: item["value"] for item in draft.optional}
    assert optional == {
        "ci_system": "GitHub Actions",
        "workflow": "Deploy",
        "job": "deploy-production",
        "run_url": "https://github.com/acme/payments-api/actions/runs/12087465391",
        "ref": "main",
        "event": "push",
    }
    assert all(item["type"] == "string" for item in draft.optional)
    assert draft.facts == {
        "ci": "github-actions",
        "job_name": "deploy-production",
        "pipeline": "Deploy",
        "repo": "acme/payments-api",
        "branch": "main",
    }


def test_rerun_attempt_and_triggering_actor(adapter, make_context):
    env = {"GITHUB_RUN_ATTEMPT": "3", "GITHUB_TRIGGERING_ACTOR": "lchen"}
    draft = adapter.collect(make_context(env, job_start_time=1764400000))

    assert draft.job_id == "12087465391-3-deploy-production"
    assert draft.triggered_by == "lchen"
    optional = {item["key"]: item["value"] for item in draft.optional}
    assert optional["run_url"].endswith("/actions/runs/12087465391/attempts/3")


def test_pull_request_branch_is_the_head_branch(adapter, make_context):
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_REF_NAME": "42/merge",
        "GITHUB_REF_TYPE": "",
        "GITHUB_HEAD_REF": "feature/retry",
    }
    draft = adapter.collect(make_context(env, job_start_time=1764400000))
    assert draft.facts["branch"] == "feature/retry"


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("success", "Succeeded"),
        ("SUCCESS", "Succeeded"),
        ("failure", "Failed"),
        ("cancelled", "Failed"),
        ("skipped", SKIP),
    ],
)
def test_job_status_values_map(adapter, native, expected):
    table = {key.lower(): value for key, value in adapter.status_map.items()}
    assert table[native.lower()] == expected


def test_no_token_keeps_the_record_with_the_jobs_setup_time(
    adapter, make_context, tmp_path, caplog
):
    caplog.set_level(logging.WARNING)
    event = tmp_path / "event.json"
    event.write_text("{}")
    os.utime(event, (1764400100, 1764400100))  # the runner wrote it while setting the job up
    draft = adapter.collect(make_context({"GITHUB_EVENT_PATH": str(event)}))
    assert draft.job_start_time == 1764400100
    assert draft.job_duration is None  # now - start: the job ran since its setup
    assert _optional(draft)["start_time_source"] == "runner-event-file"
    assert "GITHUB_TOKEN" in caplog.text and "actions: read" in caplog.text
    assert "--start-time" in caplog.text


def test_no_token_and_no_event_file_reports_with_the_report_time(adapter, make_context, caplog):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(make_context({"GITHUB_EVENT_PATH": "/nonexistent/event.json"}))
    assert draft.job_start_time == 1764400500 and draft.job_duration == 0
    assert _optional(draft)["start_time_source"] == "report-time"
    assert "GITHUB_TOKEN" in caplog.text


def test_start_time_flag_skips_the_api_even_with_a_token(adapter, make_context, monkeypatch):
    import customcd_github_actions.adapter as module

    def fail(*args, **kwargs):
        raise AssertionError("the REST API must not be called when --start-time is given")

    monkeypatch.setattr(module, "fetch_run_start", fail)
    draft = adapter.collect(make_context({"GITHUB_TOKEN": "x"}, job_start_time="1764400000"))
    assert draft.job_start_time is None
    draft = adapter.collect(make_context({"GITHUB_TOKEN": "x"}, start_time_ms=1764400000123))
    assert draft.job_start_time is None


def test_missing_run_id_names_the_variable_for_the_start_and_the_job_id(
    adapter, make_context, caplog
):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(make_context({"GITHUB_TOKEN": "x", "GITHUB_RUN_ID": ""}))
    assert "GITHUB_RUN_ID" in caplog.text  # why the API was not asked for the start
    assert not draft.job_id and "GITHUB_RUN_ID" in draft.hints["job_id"]
    assert "--job-id" in draft.hints["job_id"]


def _optional(draft):
    return {item["key"]: item["value"] for item in draft.optional}


def test_annotations_are_workflow_commands(adapter):
    assert adapter.annotate("warning", "kept for retry") == "::warning::kept for retry"
    assert adapter.annotate("error", "rejected") == "::error::rejected"
    # %, CR and LF are escaped so a message cannot end the command or inject another one.
    assert adapter.annotate("error", "50% done\n::error::x") == "::error::50%25 done%0A::error::x"


def test_server_variable(adapter):
    assert adapter.server_variable() == "GITHUB_SERVER_URL"


def test_demo_cases_build_valid_records_offline(adapter, make_context):
    cases = adapter.demo_cases()
    assert 1 <= len(cases) <= 3
    for case in cases:
        assert adapter.detect(case.env)
        assert "GITHUB_TOKEN" not in case.env
        assert case.overrides["job_start_time"] == 1764400000
        context = make_context()
        context = type(context)(env=case.env, overrides=case.overrides, now=1764400500.0)
        draft = adapter.collect(context)
        body = body_of(adapter, draft, dict(case.overrides), 1764400500.0)
        job = Job.from_body(body, now=1764400500.0)
        assert job.job_start_time == 1764400000
        assert job.job_duration == 500
        assert job.status in {"Succeeded", "Failed"}
    assert {c.overrides["status"] for c in cases} == {"success", "failure"}
