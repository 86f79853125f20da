"""Reading a backfill query: its selection values as lists, its window as the REST API's times.

Shared by the build/deployment history (:mod:`.history`) and the classic release history
(:mod:`.releases`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["as_list", "iso_utc"]


def iso_utc(epoch: int) -> str:
    """Epoch seconds as the ISO 8601 UTC time the REST API's time filters take."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_list(value: Any) -> list[Any]:
    """A selection value (one value, a list, or nothing) as a list without empty items."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value]
