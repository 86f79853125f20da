"""Helpers for the Jenkins adapter tests: environments of the modelled builds.

Re-recording: with JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN set, ``api_env`` uses them
instead of the modelled server, and ``JENKINS_TEST_BUILD_URL_<SCENARIO>`` (e.g.
``JENKINS_TEST_BUILD_URL_SUCCESS``) names the real build to read for a scenario.
"""

from __future__ import annotations

import logging
import os

from customcd.plugins.draft import CollectContext

ROOT = "https://jenkins.example.com/"
API_JOB = f"{ROOT}job/payments/job/api/"
FAKE_TOKEN = "11f0c0ffee0123456789abcdef012345ab"
APP_SHA = "4c1e2a9f0b3d5e7f9a1c3e5f7b9d1f3a5c7e9b0d"


def pipeline_env(**extra: str) -> dict[str, str]:
    """A declarative pipeline's environment (no credentials)."""
    env = {
        "JENKINS_URL": ROOT,
        "JENKINS_HOME": "/var/jenkins_home",
        "JOB_NAME": "payments/api",
        "JOB_BASE_NAME": "api",
        "JOB_URL": API_JOB,
        "BUILD_NUMBER": "42",
        "BUILD_ID": "42",
        "BUILD_TAG": "jenkins-payments-api-42",
        "BUILD_URL": f"{API_JOB}42/",
        "BUILD_DISPLAY_NAME": "#42",
        "EXECUTOR_NUMBER": "0",
        "NODE_NAME": "linux-agent-2",
        "WORKSPACE": "/home/jenkins/agent/workspace/payments_api",
        "GIT_COMMIT": APP_SHA,
        "GIT_PREVIOUS_COMMIT": "2b1e2a9f0b3d5e7f9a1c3e5f7b9d1f3a5c7e9b0d",
        "GIT_BRANCH": "origin/main",
        "GIT_URL": "https://github.com/acme/payments-api.git",
    }
    env.update(extra)
    return env


def api_env(scenario: str, number: int, job_url: str = API_JOB, **extra: str) -> dict[str, str]:
    """A pipeline environment with API credentials, for build ``number`` of the modelled job."""
    real = all(os.environ.get(v) for v in ("JENKINS_URL", "JENKINS_USER", "JENKINS_API_TOKEN"))
    build_url = os.environ.get(f"JENKINS_TEST_BUILD_URL_{scenario.upper()}") if real else None
    env = pipeline_env(BUILD_NUMBER=str(number), BUILD_ID=str(number))
    env.update(
        BUILD_URL=build_url or f"{job_url}{number}/",
        JOB_URL=job_url,
        JENKINS_USER=os.environ["JENKINS_USER"] if real else "jdoe",
        JENKINS_API_TOKEN=os.environ["JENKINS_API_TOKEN"] if real else FAKE_TOKEN,
    )
    if real:
        env["JENKINS_URL"] = os.environ["JENKINS_URL"]
    env.update(extra)
    return env


def context(env: dict[str, str], timeout: float = 5.0, **overrides: object) -> CollectContext:
    """A collect context with a fixed clock."""
    return CollectContext(
        env=env,
        overrides=overrides,
        timeout=timeout,
        now=1764400900.0,
        log=logging.getLogger("customcd.test.jenkins"),
    )


def optional(draft, key):  # type: ignore[no-untyped-def]
    """The value of an optional field of a draft, or None."""
    for item in draft.optional:
        if item["key"] == key:
            return item["value"]
    return None
