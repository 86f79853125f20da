"""The ``customcd`` entry point of customcd-gitlab: provides the GitLab CI adapter.

Kept light: importing it does not import python-gitlab.
"""

from __future__ import annotations

from collections.abc import Sequence

from customcd.plugins.adapter import Adapter
from customcd.plugins.hookspecs import hookimpl

from .adapter import GitLabAdapter

__all__ = ["customcd_adapters"]


@hookimpl
def customcd_adapters() -> Sequence[Adapter]:
    """Provide the GitLab CI adapter."""
    return [GitLabAdapter()]
