"""One status, start and end for a set of GitLab jobs (a whole pipeline or its deploy jobs).

Pure functions over the jobs' JSON (as the REST API returns them): no I/O, easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customcd.contract.times import TimeError, to_epoch

from .statuses import ACTIVE, FINISHED, WAITING

__all__ = ["Summary", "epoch", "epoch_ms", "summarize"]


def epoch(value: Any) -> int | None:
    """Epoch seconds of an API time (``2016-08-11T11:28:34.085Z``), or ``None`` if absent/bad."""
    if value in (None, ""):
        return None
    try:
        return to_epoch(value)
    except TimeError:
        return None


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds of an API time, keeping GitLab's sub-second part (``None`` if bad).

    Cursors need it: many deployments can be updated within the same second, and GitLab orders
    them by the full ``updated_at`` (then ``id``), not by whole seconds.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        seconds = epoch(value)
        return seconds * 1000 if seconds is not None else None
    return round(parsed.timestamp() * 1000)


@dataclass(frozen=True)
class Summary:
    """The combined result of some jobs.

    :param status: a native GitLab status (mapped by the adapter's status map).
    :param start: epoch seconds the first of them started (or was created, if none started).
    :param end: epoch seconds the last finished one finished, or ``None``; for jobs waiting for a
        person, the end of what ran before the wait.
    :param reason: why this status, in words, for the user's notes.
    """

    status: str
    start: int | None
    end: int | None
    reason: str


def _names(jobs: Sequence[Mapping[str, Any]]) -> str:
    shown = ", ".join(str(job.get("name")) for job in jobs[:5])
    return shown + (" ..." if len(jobs) > 5 else "")


def summarize(jobs: Sequence[Mapping[str, Any]], *, selected: bool) -> Summary:
    """Combine jobs into one status.

    Precedence: failed or canceled (a job allowed to fail does not count) > still running >
    waiting for a person (``manual``/``scheduled``) > success > skipped (nothing ran).
    In a whole pipeline (``selected=False``) a ``manual`` job with ``allow_failure: true`` is an
    optional action (e.g. a rollback button) and is ignored; a selected deploy job that waits is
    always ``On Hold``. ``created`` jobs wait behind others and never make a pipeline "running".

    :param jobs: jobs as the REST API returns them (``status``, ``allow_failure``, times, ``name``).
    :param selected: whether these are deploy jobs the user selected.
    """

    def status_of(job: Mapping[str, Any]) -> str:
        return str(job.get("status") or "").lower()

    failed = [j for j in jobs if status_of(j) == "failed" and not j.get("allow_failure")]
    canceled = [j for j in jobs if status_of(j) in {"canceled", "canceling"}]
    active = [j for j in jobs if status_of(j) in ACTIVE]
    waiting = [
        j
        for j in jobs
        if status_of(j) in WAITING
        and (selected or status_of(j) != "manual" or not j.get("allow_failure"))
    ]
    ran = [j for j in jobs if status_of(j) in FINISHED]
    created = [j for j in jobs if status_of(j) == "created"]

    started = [t for t in (epoch(j.get("started_at")) for j in ran + active) if t is not None]
    if not started:
        started = [t for t in (epoch(j.get("created_at")) for j in jobs) if t is not None]
    start = min(started) if started else None
    ends = [t for t in (epoch(j.get("finished_at")) for j in ran) if t is not None]
    end = max(ends) if ends else None

    if failed:
        return Summary("failed", start, end, f"failed: {_names(failed)}")
    if canceled:
        return Summary("canceled", start, end, f"canceled: {_names(canceled)}")
    if active:
        return Summary("running", start, end, f"still running: {_names(active)}")
    if waiting:
        first = status_of(waiting[0])
        return Summary(first, start, end, f"waiting ({first}): {_names(waiting)}")
    if ran:
        return Summary("success", start, end, f"succeeded: {_names(ran)}")
    if created:
        return Summary("created", start, None, f"not started: {_names(created)}")
    return Summary("skipped", start, None, "no job ran (all skipped)" if jobs else "no job")
