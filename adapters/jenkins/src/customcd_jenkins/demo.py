"""Sample Jenkins environments for ``customcd demo`` (valid records, no server needed)."""

from __future__ import annotations

from customcd.plugins.adapter import DemoCase

__all__ = ["DEMO_CASES"]

_ROOT = "https://jenkins.example.com/"

DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        title="declarative pipeline post { always {} }, SUCCESS",
        env={
            "JENKINS_URL": _ROOT,
            "JENKINS_HOME": "/var/jenkins_home",
            "JOB_NAME": "payments/api",
            "JOB_BASE_NAME": "api",
            "JOB_URL": f"{_ROOT}job/payments/job/api/",
            "BUILD_NUMBER": "128",
            "BUILD_ID": "128",
            "BUILD_TAG": "jenkins-payments-api-128",
            "BUILD_URL": f"{_ROOT}job/payments/job/api/128/",
            "NODE_NAME": "linux-agent-2",
            "GIT_COMMIT": "3f1c2e9a7b4d5c6e8f9012a3b4c5d6e7f8091a2b",
            "GIT_BRANCH": "origin/main",
            "GIT_URL": "https://github.com/acme/payments-api.git",
        },
        overrides={"status": "SUCCESS", "start_time_ms": "1764400000000"},
    ),
    DemoCase(
        title="multibranch branch feature/login (encoded job name), FAILURE",
        env={
            "JENKINS_URL": _ROOT,
            "JOB_NAME": "web/storefront/feature%2Flogin",
            "JOB_BASE_NAME": "feature%2Flogin",
            "BUILD_NUMBER": "7",
            "BUILD_TAG": "jenkins-web-storefront-feature%2Flogin-7",
            "BUILD_URL": f"{_ROOT}job/web/job/storefront/job/feature%252Flogin/7/",
            "BRANCH_NAME": "feature/login",
            "NODE_NAME": "built-in",
            "GIT_COMMIT": "9b2d4f6a8c0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a",
            "GIT_URL": "git@github.com:acme/storefront.git",
        },
        overrides={"status": "FAILURE", "start_time_ms": "1764399700000"},
    ),
    DemoCase(
        title="freestyle post-build shell step with build-user-vars, UNSTABLE",
        env={
            "JENKINS_URL": _ROOT,
            "JOB_NAME": "deploy-prod",
            "BUILD_NUMBER": "311",
            "BUILD_TAG": "jenkins-deploy-prod-311",
            "BUILD_URL": f"{_ROOT}job/deploy-prod/311/",
            "NODE_NAME": "deployer",
            "GIT_COMMIT": "c0ffee0123456789abcdef0123456789abcdef01",
            "GIT_BRANCH": "origin/release/2025.11",
            "GIT_URL": "https://git.example.com/scm/ops/deploy-config.git",
            "BUILD_USER_ID": "jdoe",
            "BUILD_USER_EMAIL": "jane.doe@example.com",
        },
        overrides={"status": "UNSTABLE", "job_start_time": "1764400180"},
    ),
)
