"""customcd: report CI/CD jobs (deployments above all) to the Allstacks Custom CD webhook.

The public API, for plugins and programs::

    from customcd import hookimpl, Adapter, Draft, Job, OptionalField, Record, build_job, send

Names are imported lazily so ``customcd --help`` and a dry run stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "NOT_FINAL",
    "SKIP",
    "Adapter",
    "AdapterError",
    "CollectContext",
    "CustomcdError",
    "DemoCase",
    "Draft",
    "HistoryQuery",
    "HistoryUnsupported",
    "InvalidRecord",
    "Job",
    "OptionalField",
    "Outcome",
    "Problem",
    "Record",
    "__version__",
    "build_job",
    "get_plugin_manager",
    "hookimpl",
    "send",
]

_WHERE = {
    "hookimpl": "hookspecs",
    "NOT_FINAL": "adapter",
    "SKIP": "adapter",
    "Adapter": "adapter",
    "AdapterError": "adapter",
    "DemoCase": "adapter",
    "HistoryQuery": "adapter",
    "HistoryUnsupported": "adapter",
    "CollectContext": "draft",
    "Draft": "draft",
    "Job": "job",
    "OptionalField": "job",
    "Outcome": "outcome",
    "CustomcdError": "problems",
    "InvalidRecord": "problems",
    "Problem": "problems",
    "Record": "record",
    "get_plugin_manager": "plugins",
    "build_job": "api",
    "send": "api",
}

if TYPE_CHECKING:
    from .adapter import (
        NOT_FINAL,
        SKIP,
        Adapter,
        AdapterError,
        DemoCase,
        HistoryQuery,
        HistoryUnsupported,
    )
    from .api import build_job, send
    from .draft import CollectContext, Draft
    from .hookspecs import hookimpl
    from .job import Job, OptionalField
    from .outcome import Outcome
    from .plugins import get_plugin_manager
    from .problems import CustomcdError, InvalidRecord, Problem
    from .record import Record


def __getattr__(name: str) -> Any:
    """Import public names on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'customcd' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
