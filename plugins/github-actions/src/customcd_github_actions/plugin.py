"""The module named by the ``customcd`` entry point of this distribution.

``pyproject.toml`` declares::

    [project.entry-points.customcd]
    github-actions = "customcd_github_actions.plugin"

customcd imports this module when it loads plugins, so it must stay light: it imports only the
adapter class, which itself imports nothing heavier than ``customcd``.
"""

from __future__ import annotations

from collections.abc import Sequence

from customcd import Adapter, hookimpl

from .adapter import GitHubActionsAdapter

__all__ = ["customcd_adapters"]


@hookimpl
def customcd_adapters() -> Sequence[Adapter]:
    """Add the GitHub Actions adapter (``--adapter github-actions``)."""
    return [GitHubActionsAdapter()]
