"""customcd: report CI/CD jobs (deployments above all) to the Allstacks Custom CD webhook.

The public API, for plugins and programs::

    from customcd import hookimpl, Adapter, Draft, Job, OptionalField, Record, build_job, send

Names are imported lazily so ``customcd --help`` and a dry run stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
"""The version of the ``customcd`` distribution."""

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
    "hookimpl": "plugins.hookspecs",
    "NOT_FINAL": "plugins.adapter",
    "SKIP": "plugins.adapter",
    "Adapter": "plugins.adapter",
    "AdapterError": "plugins.adapter",
    "DemoCase": "plugins.adapter",
    "HistoryQuery": "plugins.adapter",
    "HistoryUnsupported": "plugins.adapter",
    "CollectContext": "plugins.draft",
    "Draft": "plugins.draft",
    "Job": "contract.job",
    "OptionalField": "contract.job",
    "Outcome": "delivery.outcome",
    "CustomcdError": "contract.problems",
    "InvalidRecord": "contract.problems",
    "Problem": "contract.problems",
    "Record": "contract.job",
    "get_plugin_manager": "plugins.manager",
    "build_job": "api",
    "send": "api",
}

if TYPE_CHECKING:
    from .api import build_job, send
    from .contract.job import Job, OptionalField, Record
    from .contract.problems import CustomcdError, InvalidRecord, Problem
    from .delivery.outcome import Outcome
    from .plugins.adapter import (
        NOT_FINAL,
        SKIP,
        Adapter,
        AdapterError,
        DemoCase,
        HistoryQuery,
        HistoryUnsupported,
    )
    from .plugins.draft import CollectContext, Draft
    from .plugins.hookspecs import hookimpl
    from .plugins.manager import get_plugin_manager


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
