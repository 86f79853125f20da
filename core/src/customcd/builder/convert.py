"""The lenient conversions of the builder: what users and CIs give, as the contract's values.

A status in any case (or through a status map), digit text for the service id, numbers where the
wire wants text, times as ISO text or epoch seconds, durations such as ``5m``, a duration from an
end time or from the clock. Each function converts one field of a candidate body in place and
adds a :class:`~customcd.contract.problems.Problem` for what it cannot convert; the model
(:class:`~customcd.contract.job.Job`) then checks the result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from ..config import Config
from ..contract.fields import EARLIEST_START
from ..contract.problems import Problem
from ..contract.status import NOT_FINAL, SKIP, StatusMapper, canonical_status
from ..contract.times import (
    MS_THRESHOLD,
    TOO_LARGE,
    TimeError,
    parse_duration,
    parse_integer,
    to_epoch,
)
from ..plugins.adapter import Adapter

__all__ = [
    "LONG_DEFAULT_DURATION",
    "apply_end_time",
    "convert_service",
    "convert_status",
    "convert_text",
    "convert_times",
]

#: A default duration (now - start) above this many seconds is warned about.
LONG_DEFAULT_DURATION = 7 * 86400

#: Fields sent as text that CIs sometimes give as numbers.
_TEXT_FIELDS = ("job_id", "repo_id", "repo_name", "triggered_by", "job_type")

_NOT_FINAL_RULE = (
    "means the job has not finished; pass the final status with --status (GitLab: run customcd "
    "in after_script; Azure DevOps: a step with condition: always(); GitHub Actions: "
    "if: always() with --status ${{ job.status }})"
)
_NOW_MINUS_START = "job_duration computed as now - start"


def convert_status(
    body: dict[str, Any], config: Config, adapter: Adapter | None, found: list[Problem]
) -> str | None:
    """Map the status in place; return a skip reason when the status produces no record."""
    if "status" not in body:
        return None
    raw = str(body["status"])
    native = adapter.status_map if adapter else {}
    if not config.status_map and not native:
        mapped = canonical_status(raw)  # no maps: the canonical names in any case
        mapper = None
    else:
        mapper = StatusMapper(config.status_map, native)
        mapped = mapper.map(raw)
    if mapped == SKIP:
        return f"status {raw!r} produces no record"
    if mapped == NOT_FINAL:
        found.append(Problem("status", raw, _NOT_FINAL_RULE))
    elif mapped is None:
        known = ", ".join((mapper or StatusMapper({}, {})).known())
        found.append(Problem("status", raw, f"is not a known status (known: {known})"))
    else:
        body["status"] = mapped
    return None


def convert_times(
    body: dict[str, Any], now: float, found: list[Problem], notes: list[str], warnings: list[str]
) -> None:
    """Start time to epoch seconds; duration to whole seconds, or now - start when not given."""
    start: int | None = None
    raw_start = body.get("job_start_time")
    if type(raw_start) is int and EARLIEST_START <= raw_start < MS_THRESHOLD:
        start = raw_start  # epoch seconds already
    elif raw_start is not None:
        try:
            start = body["job_start_time"] = to_epoch(raw_start)
        except TimeError as exc:
            found.append(Problem("job_start_time", raw_start, str(exc)))
    raw_duration = body.get("job_duration")
    if type(raw_duration) is int and -TOO_LARGE < raw_duration < TOO_LARGE:
        pass  # whole seconds already; the contract checks the range
    elif raw_duration is not None:
        try:
            body["job_duration"] = parse_duration(raw_duration)
        except TimeError as exc:
            found.append(Problem("job_duration", raw_duration, str(exc)))
    elif start is not None:
        body["job_duration"] = max(int(now - start), 0)
        notes.append(_NOW_MINUS_START)
        if body["job_duration"] > LONG_DEFAULT_DURATION:
            warnings.append(
                f"job_duration defaults to now - start = {body['job_duration']} s (over "
                f"{LONG_DEFAULT_DURATION // 86400} days): is the start time right? Give "
                "--duration or --end-time (CUSTOMCD_END_TIME) for the job's real duration"
            )


def apply_end_time(
    body: dict[str, Any],
    overrides: Mapping[str, Any],
    found: list[Problem],
    notes: list[str],
    warnings: list[str],
) -> None:
    """``--end-time``: the duration is end - start, unless the user gave a duration too."""
    raw = overrides["end_time"]
    try:
        end = to_epoch(raw)
    except TimeError as exc:
        found.append(Problem("end_time", raw, str(exc)))
        return
    if "job_duration" in overrides or "duration_ms" in overrides:
        return  # an explicit duration wins over the end time
    start = body.get("job_start_time")
    if type(start) is not int:
        return  # no usable start: the contract reports job_start_time
    if end < start:
        found.append(
            Problem("end_time", raw, f"is before job_start_time ({start}); give the job's end")
        )
        return
    body["job_duration"] = end - start
    notes[:] = [n for n in notes if n != _NOW_MINUS_START]
    warnings[:] = [w for w in warnings if not w.startswith("job_duration defaults")]
    notes.append("job_duration computed as end_time - start")


def convert_service(body: dict[str, Any]) -> None:
    """A service id given as text in ASCII digits becomes the integer.

    Other text is left as it is, for the contract to report.
    """
    value = body.get("service_id")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            body["service_id"] = parse_integer(value)


def convert_text(body: dict[str, Any]) -> None:
    """Numbers given for text fields become text: CIs give project ids as numbers."""
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if type(value) is int:  # not bool: a boolean stays and is reported by the contract
            body[name] = str(value)
