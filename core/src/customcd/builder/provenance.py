"""Where each field of a record came from, for ``customcd -v``.

The builder takes a snapshot of the draft after each stage (adapter, enrich hooks, configuration
and the user's values); a field whose value a stage set or changed is credited to that stage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..plugins.adapter import Adapter
from ..plugins.draft import Draft
from ..printable import network_text
from ..settings import FIELD_INPUTS

__all__ = ["Provenance", "explain_choice"]

#: The fields a pseudo-input (milliseconds, end time) sets.
_SETS = {
    "start_time_ms": "job_start_time",
    "duration_ms": "job_duration",
    "end_time": "job_duration",
}


class Provenance:
    """The source of each base field, stage by stage."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}
        self._seen: dict[str, Any] = {}
        self._end_time = "--end-time"

    def after(self, draft: Draft, stage: str) -> None:
        """Credit ``stage`` with every field it set or changed since the last snapshot."""
        fields = draft.fields()
        for name, value in fields.items():
            if name not in self._seen or self._seen[name] != value:
                self.sources[name] = stage
        self._seen = dict(fields)

    def after_user_values(
        self, draft: Draft, overrides: Mapping[str, Any], flags: Mapping[str, Any]
    ) -> None:
        """Credit ``customcd.toml`` or the user's flag/variable with what the last stage changed."""
        origin = {}
        for item in FIELD_INPUTS:
            if item.field in overrides:
                given = flags.get(item.field) is not None
                where = f"flag {item.flag}" if given else f"variable {item.env}"
                if item.field == "end_time":
                    self._end_time = where
                else:
                    origin[_SETS.get(item.field, item.field)] = where
        before = dict(self._seen)
        self.after(draft, "customcd.toml")
        for name, value in draft.fields().items():
            if name in origin and (name not in before or before[name] != value):
                self.sources[name] = origin[name]
        for name, source in origin.items():  # an override equal to the draft's value still wins
            if name in draft.fields():
                self.sources[name] = source

    def log(self, body: Mapping[str, Any], log: logging.Logger, notes: list[str]) -> None:
        """One ``-v`` line per field of the body sent: its value and where it came from."""
        computed = {
            "job_duration computed as end_time - start": f"{self._end_time}: end - start",
            "job_duration computed as now - start": "now - start: no duration or end time given",
        }
        derived = next((computed[n] for n in notes if n in computed), "")
        for name, value in body.items():
            if name == "optional":
                continue
            source = derived if name == "job_duration" and derived else self.sources.get(name)
            log.info(
                "field %s = %s (from %s)",
                name,
                network_text(repr(value), 120),
                source or "the builder's conversion of the values above",
            )


def explain_choice(adapter: Adapter | None, env: Mapping[str, str], requested: str) -> str:
    """Why this adapter was chosen: by name, or which of its variables are set."""
    if adapter is None:
        return "no adapter: --adapter none" if requested else "no CI adapter detected this job"
    if requested:
        return f"adapter {adapter.name!r} chosen by --adapter/CUSTOMCD_ADAPTER"
    present = [name for name in adapter.detect_variables if (env.get(name) or "").strip()]
    seen = f" from {', '.join(present)}" if present else ""
    return f"adapter {adapter.name!r} chosen: it detected its CI{seen}"
