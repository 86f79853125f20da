"""The customcd plugin module of the Azure DevOps adapter (the entry point names this module).

It stays light: importing it pulls in neither httpx nor click.
"""

from __future__ import annotations

from collections.abc import Sequence

from customcd.plugins.adapter import Adapter
from customcd.plugins.hookspecs import hookimpl

from .adapter import AzureDevOpsAdapter

__all__ = ["customcd_adapters"]


@hookimpl
def customcd_adapters() -> Sequence[Adapter]:
    """Provide the Azure DevOps adapter."""
    return [AzureDevOpsAdapter()]
