"""Shared samples for the GitHub Actions adapter tests."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from customcd import CollectContext
from customcd_github_actions.adapter import GitHubActionsAdapter

#: A push to main running job ``deploy-production`` of workflow ``Deploy`` (first attempt).
ENV: dict[str, str] = {
    "GITHUB_ACTIONS": "true",
    "CI": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_REPOSITORY": "acme/payments-api",
    "GITHUB_REPOSITORY_ID": "734219085",
    "GITHUB_RUN_ID": "12087465391",
    "GITHUB_RUN_NUMBER": "418",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_WORKFLOW": "Deploy",
    "GITHUB_JOB": "deploy-production",
    "GITHUB_SHA": "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_ACTOR": "mjohnson",
}

#: A fake token: it must never show up in a message, a log line or a cassette.
TOKEN = "ghs_FAKEtoken0123456789abcdefABCDEF0123"


@pytest.fixture
def env() -> dict[str, str]:
    """The sample job's environment (a fresh copy)."""
    return dict(ENV)


@pytest.fixture
def token() -> str:
    """A fake token that must never leak."""
    return TOKEN


@pytest.fixture
def adapter() -> GitHubActionsAdapter:
    return GitHubActionsAdapter()


@pytest.fixture
def make_context():
    """Build a CollectContext from env changes and user overrides."""

    def make(env: dict[str, str] | None = None, **overrides: Any) -> CollectContext:
        return CollectContext(
            env={**ENV, **(env or {})},
            overrides=overrides,
            timeout=5.0,
            now=1764400500.0,
            log=logging.getLogger("tests.customcd_github_actions"),
        )

    return make
