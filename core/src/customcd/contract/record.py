"""A validated record: the exact wire body, its JSON bytes and its identity.

This is what the send and backfill paths carry around. It is built by
:func:`~customcd.contract.wire.validate_body` (pydantic-core) and turns into the :class:`~customcd.contract.job.Job`
pydantic model only when something asks for it (a before-send hook, the library API), so that
``customcd send`` does not pay for building the models.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .wire import idempotency_key, validate_body

if TYPE_CHECKING:
    from .job import Job

__all__ = ["Record"]


class Record:
    """A body that passed the contract.

    :param body: the validated wire body (as :func:`~customcd.contract.wire.validate_body` returns it).
    """

    __slots__ = ("_job", "_json", "body")

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self._json: str | None = None
        self._job: Job | None = None

    @classmethod
    def from_body(cls, body: Any, *, now: float | None = None) -> Record:
        """Validate a candidate body.

        :raises InvalidRecord: with every problem found.
        """
        return cls(validate_body(body, now=now))

    def to_body(self) -> dict[str, Any]:
        """A fresh copy of the wire body."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The exact bytes POSTed (as text): compact JSON, UTF-8, contract field order."""
        if self._json is None:
            self._json = json.dumps(self.body, separators=(",", ":"), ensure_ascii=False)
        return self._json

    @property
    def idempotency_key(self) -> str:
        """The record's identity: service, job id, commit, start time and status."""
        body = self.body
        return idempotency_key(
            body["service_id"],
            body["job_id"],
            body["commit_sha"],
            body["job_start_time"],
            body["status"],
        )

    @property
    def job_id(self) -> str:
        """The record's job id."""
        return str(self.body["job_id"])

    @property
    def status(self) -> str:
        """The record's status."""
        return str(self.body["status"])

    @property
    def job(self) -> Job:
        """The record as the :class:`~customcd.contract.job.Job` pydantic model (built on first use)."""
        if self._job is None:
            self._job = _job_class().from_clean(self.body)
        return self._job

    def __repr__(self) -> str:
        return f"Record({self.to_json()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self.body == other.body

    __hash__ = None  # type: ignore[assignment]


_JOB: list[type[Job]] = []


def _job_class() -> type[Job]:
    """The :class:`~customcd.contract.job.Job` class, imported on first use (pydantic's models are heavy)."""
    if not _JOB:
        from .job import Job

        _JOB.append(Job)
    return _JOB[0]
