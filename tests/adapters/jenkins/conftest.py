"""Fixtures for the Jenkins adapter tests (helpers are in support.py)."""

from __future__ import annotations

import pytest
from customcd_jenkins.adapter import JenkinsAdapter


@pytest.fixture
def adapter() -> JenkinsAdapter:
    """The adapter under test."""
    return JenkinsAdapter()
