"""Fixtures for the Azure DevOps adapter tests."""

from __future__ import annotations

import pytest
from customcd_azure_devops.adapter import AzureDevOpsAdapter


@pytest.fixture
def adapter() -> AzureDevOpsAdapter:
    """A fresh adapter."""
    return AzureDevOpsAdapter()
