"""What happened to a record: the value after-send hooks observe and the CLI reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Outcome", "OutcomeKind"]

OutcomeKind = Literal["delivered", "pending", "rejected", "vetoed", "duplicate", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """The fate of one record.

    :param kind: ``delivered`` (a 2xx), ``pending`` (kept in the outbox for retry), ``rejected``
        (a permanent 4xx/3xx; kept apart with the reason), ``vetoed`` (a plugin stopped it),
        ``duplicate`` (the ledger says it was delivered before; not sent again) or ``skipped``
        (no record, e.g. a skipped job).
    :param key: the record's idempotency key ("" for skipped).
    :param body: the wire body (``None`` for skipped).
    :param status_code: the last HTTP status, if any.
    :param reason: why: the server's reason, the error, the veto or the skip reason.
    :param attempts: how many HTTP requests this run made for the record (a ``delivered`` one
        with 0 attempts was sent by another customcd process while this run waited for it).
    """

    kind: OutcomeKind
    key: str = ""
    body: dict[str, Any] | None = None
    status_code: int | None = None
    reason: str = ""
    attempts: int = 0

    @property
    def job_id(self) -> str:
        """The record's job id, or "" when there is no body."""
        return str(self.body.get("job_id", "")) if self.body else ""
