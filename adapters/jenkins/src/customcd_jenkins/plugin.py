"""The ``customcd`` entry point of customcd-jenkins: registers the Jenkins adapter.

Kept light: importing it never imports jenkinsapi.
"""

from __future__ import annotations

from customcd.plugins.adapter import Adapter
from customcd.plugins.hookspecs import hookimpl

from .adapter import JenkinsAdapter

__all__ = ["customcd_adapters"]


@hookimpl
def customcd_adapters() -> list[Adapter]:
    """Return the Jenkins adapter."""
    return [JenkinsAdapter()]
