"""Fixtures for the GitLab adapter's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from customcd.plugins.draft import CollectContext, Draft
from customcd_gitlab.adapter import GitLabAdapter
from gitlab_support import NOW


@pytest.fixture
def adapter() -> GitLabAdapter:
    """A fresh adapter."""
    return GitLabAdapter()


@pytest.fixture
def collect(adapter: GitLabAdapter) -> Callable[..., Draft]:
    """Collect a draft from an environment, options and overrides."""

    def run(
        env: Mapping[str, str],
        options: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> Draft:
        context = CollectContext(
            env=env,
            overrides=overrides or {},
            options={"gitlab": dict(options or {})},
            timeout=timeout,
            now=NOW,
        )
        return adapter.collect(context)

    return run
