"""Checking a kept body before it is sent again: a bad row is quarantined, never POSTed.

A body in the outbox was valid when it was stored, but the file can be damaged, edited by hand
or written by another version. Before a replay sends a kept body, it must be JSON, an object, and
a record the contract accepts; otherwise the row is *unreadable*: kept (a person may want it),
listed with the reason, and never sent, so one bad row never stops the others.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["parse_kept", "unreadable"]

#: The longest reason kept for an unreadable row.
_MAX_WHY = 200


def parse_kept(raw: Any) -> tuple[dict[str, Any] | None, str]:
    """``(body, why)``: ``why`` is ``""`` for a sendable kept body, else why it is unreadable.

    ``body`` is the decoded object whenever the text is a JSON object (even one the contract
    refuses, so that a listing can still show its job id), else ``None``.

    :param raw: the row's ``body`` column as SQLite returns it (text, or bytes or a number when
        the file was tampered with).
    """
    from ..contract.job import Job
    from ..contract.problems import InvalidRecord

    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, "the body is not UTF-8 text"
    if not isinstance(raw, str):
        return None, f"the body is not text (a {type(raw).__name__})"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, f"the body is not JSON ({type(exc).__name__}: {exc})"[:_MAX_WHY]
    if not isinstance(data, dict):
        return None, f"the body is JSON but not an object (a {type(data).__name__})"
    try:
        Job.from_body(data)
    except InvalidRecord as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        return data, f"the body breaks the contract: {problems}"[:_MAX_WHY]
    return data, ""


def unreadable(raw: Any) -> str:
    """Why a kept body cannot be sent, or ``""`` when it can."""
    return parse_kept(raw)[1]
