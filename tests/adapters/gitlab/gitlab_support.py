"""Helpers for the GitLab adapter's tests: sample job environments and a mini builder."""

from __future__ import annotations

from typing import Any

from customcd.contract.job import Job
from customcd.contract.times import parse_duration, to_epoch
from customcd.plugins.adapter import NOT_FINAL, SKIP
from customcd.plugins.draft import Draft
from customcd_gitlab.adapter import GitLabAdapter

#: "now" for every test: 2025-11-29T07:16:40Z.
NOW = 1_764_400_600

SHA = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
SOURCE_SHA = "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd"


def job_env(**overrides: str) -> dict[str, str]:
    """The variables of a deploy job as GitLab Runner sets them (after_script, success)."""
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PROJECT_ID": "7",
        "CI_PROJECT_PATH": "acme/shop/web",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/shop/web",
        "CI_PIPELINE_ID": "1201",
        "CI_PIPELINE_IID": "88",
        "CI_PIPELINE_SOURCE": "push",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/web/-/pipelines/1201",
        "CI_PIPELINE_CREATED_AT": "2025-11-29T07:00:02Z",
        "CI_JOB_ID": "5512",
        "CI_JOB_NAME": "deploy-production",
        "CI_JOB_STAGE": "deploy",
        "CI_JOB_URL": "https://gitlab.example.com/acme/shop/web/-/jobs/5512",
        "CI_JOB_STARTED_AT": "2025-11-29T07:06:40Z",
        "CI_JOB_STATUS": "success",
        "CI_COMMIT_SHA": SHA,
        "CI_COMMIT_REF_NAME": "main",
        "CI_COMMIT_BRANCH": "main",
        "CI_ENVIRONMENT_NAME": "production",
        "CI_ENVIRONMENT_TIER": "production",
        "GITLAB_USER_LOGIN": "jdoe",
        "GITLAB_USER_EMAIL": "jane.doe@example.com",
        "CI_JOB_TOKEN": "glcbt-64_JOBTOKENVALUE-do-not-leak",
    }
    env.update(overrides)
    return env


def body_from(adapter: GitLabAdapter, draft: Draft, *, status: Any = None) -> dict[str, Any]:
    """What the core builder does, in short: map the status, convert times, validate."""
    native = status if status is not None else draft.status
    mapped = adapter.status_map.get(str(native).lower(), native)
    assert mapped not in (SKIP, NOT_FINAL), f"status {native!r} makes no record ({mapped})"
    start = to_epoch(draft.job_start_time)
    duration = (
        parse_duration(draft.job_duration) if draft.job_duration is not None else int(NOW - start)
    )
    body: dict[str, Any] = {
        "job_id": str(draft.job_id),
        "commit_sha": str(draft.commit_sha).lower(),
        "service_id": 1,
        "job_start_time": start,
        "job_duration": duration,
        "status": mapped,
    }
    for name in ("repo_id", "repo_name", "triggered_by", "job_type"):
        if getattr(draft, name):
            body[name] = getattr(draft, name)
    if draft.optional:
        body["optional"] = draft.optional
    Job.from_body(body, now=NOW)
    return body


def optionals(draft: Draft) -> dict[str, Any]:
    """The draft's optional fields as key -> value."""
    return {item["key"]: item["value"] for item in draft.optional}


#: An access token value that must never appear in any output.
API_TOKEN = "glpat-SECRETxSECRETxSECRET"


def pipeline_env(pipeline_id: int, **overrides: str) -> dict[str, str]:
    """The variables of the reporting job (``.post`` stage, ``when: always``) in pipeline mode."""
    env = job_env(
        CI_PIPELINE_ID=str(pipeline_id),
        CI_PIPELINE_URL=f"https://gitlab.example.com/acme/shop/web/-/pipelines/{pipeline_id}",
        CI_JOB_ID=str(pipeline_id * 10 + 9),
        CI_JOB_NAME="customcd-report",
        CI_JOB_STAGE=".post",
        CI_JOB_STATUS="running",
        CI_JOB_STARTED_AT="2025-11-29T07:16:20Z",
        CI_ENVIRONMENT_NAME="",
        CI_ENVIRONMENT_TIER="",
        CUSTOMCD_GITLAB_MODE="pipeline",
        CUSTOMCD_GITLAB_TOKEN=API_TOKEN,
    )
    env.update(overrides)
    return env
