"""Sample GitLab CI environments for ``customcd demo`` (valid records, no credentials)."""

from __future__ import annotations

from collections.abc import Sequence

from customcd.plugins.adapter import DemoCase

__all__ = ["demo_cases"]

_BASE = {
    "GITLAB_CI": "true",
    "CI": "true",
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_PROJECT_ID": "4217",
    "CI_PROJECT_PATH": "payments/checkout-api",
    "CI_PROJECT_URL": "https://gitlab.example.com/payments/checkout-api",
    "CI_PIPELINE_ID": "982311",
    "CI_PIPELINE_IID": "1288",
    "CI_PIPELINE_SOURCE": "push",
    "CI_PIPELINE_URL": "https://gitlab.example.com/payments/checkout-api/-/pipelines/982311",
    "CI_PIPELINE_CREATED_AT": "2025-11-29T06:58:12Z",
    "CI_COMMIT_SHA": "5f3c2a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "CI_COMMIT_REF_NAME": "main",
    "CI_COMMIT_BRANCH": "main",
    "GITLAB_USER_LOGIN": "jdoe",
    "GITLAB_USER_EMAIL": "jane.doe@example.com",
    "CI_JOB_STAGE": "deploy",
}


def demo_cases() -> Sequence[DemoCase]:
    """Return a successful production deploy (after_script) and a failed staging deploy."""
    prod = {
        **_BASE,
        "CI_JOB_ID": "7712345",
        "CI_JOB_NAME": "deploy-production",
        "CI_JOB_URL": "https://gitlab.example.com/payments/checkout-api/-/jobs/7712345",
        "CI_JOB_STARTED_AT": "2025-11-29T07:06:40Z",  # 1764400000
        "CI_JOB_STATUS": "success",
        "CI_ENVIRONMENT_NAME": "production",
        "CI_ENVIRONMENT_TIER": "production",
        "CI_ENVIRONMENT_ACTION": "start",
    }
    staging = {
        **_BASE,
        "CI_JOB_ID": "7712301",
        "CI_JOB_NAME": "deploy-staging",
        "CI_JOB_URL": "https://gitlab.example.com/payments/checkout-api/-/jobs/7712301",
        "CI_JOB_STARTED_AT": "2025-11-29T07:01:40Z",
        "CI_JOB_STATUS": "failed",
        "CI_ENVIRONMENT_NAME": "staging",
        "CI_ENVIRONMENT_TIER": "staging",
    }
    return (
        DemoCase("deploy job after_script, success (production)", prod),
        DemoCase("deploy job after_script, failed (staging)", staging),
    )
