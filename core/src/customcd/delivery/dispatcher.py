"""The outbox and ledger bookkeeping around the :class:`~customcd.delivery.sender.Sender`.

:class:`Dispatcher` stores a record in the outbox before its first attempt, sends it, and updates
the ledger and the outbox by the result; it also re-sends older pending records (replay, flush).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from .outbox import Outbox, OutboxUnavailable
from .outcome import Outcome
from .sender import Sender

__all__ = ["Dispatcher"]

log = logging.getLogger("customcd.delivery.dispatcher")


class Dispatcher:
    """Outbox first, then the sender; the ledger and the outbox follow the result.

    :param sender: posts bodies.
    :param outbox: the durable outbox, or ``None`` when it is unusable (then records that are not
        delivered are printed to stderr by the caller as a last resort).
    :param on_outcome: called with every :class:`~customcd.delivery.outcome.Outcome`.
    :param require_outbox: stop (raise) when the outbox fails, instead of going on without it.
    """

    def __init__(
        self,
        sender: Sender,
        outbox: Outbox | None,
        on_outcome: Callable[[Outcome], None] | None = None,
        *,
        require_outbox: bool = False,
    ) -> None:
        self.sender = sender
        self.outbox = outbox
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.outbox_error: str | None = None
        self.require_outbox = require_outbox

    def _lease(self) -> float:
        return self.sender.policy.deadline + self.sender.policy.attempt_timeout + 5.0

    def _guard(self, action: Callable[[Outbox], Any]) -> Any:
        """Run an outbox action; on failure remember why and go on without the outbox.

        With ``require_outbox`` (backfill: nobody would see a record printed as a last resort
        among thousands) the failure is raised instead, and the run stops.
        """
        if self.outbox is None:
            return None
        try:
            return action(self.outbox)
        except OutboxUnavailable as exc:
            if self.require_outbox:
                raise
            self.outbox_error = str(exc)  # the caller says it, once
            log.debug("%s", exc)
            self.outbox = None
            return None

    def store(self, key: str, body_json: str, *, claim: bool = False) -> str | None:
        """Write a record to the outbox without sending it (see :meth:`Outbox.add`).

        :param claim: also lease it to this process, in the same transaction, so that no other
            process's replay takes it (send it then with :meth:`send_claimed`).
        """
        lease = self._lease() if claim else None
        result: str | None = self._guard(lambda box: box.add(key, body_json, claim_for=lease))
        return result

    def send_claimed(self, key: str, body: dict[str, Any], body_json: str) -> Outcome:
        """Send and settle a record this process has claimed (:meth:`store` with ``claim``)."""
        return self._send_claimed(key, body, body_json)

    def deliver(self, key: str, body: dict[str, Any], body_json: str) -> Outcome:
        """Store, send and settle one record."""
        lease = self._lease()
        stored = self._guard(lambda box: box.add(key, body_json, claim_for=lease))
        if stored == "delivered":
            outcome = Outcome(
                "duplicate", key, body, None, "already delivered (ledger); not sent again", 0
            )
            self.on_outcome(outcome)
            return outcome
        if stored == "busy":
            outcome = Outcome("duplicate", key, body, None, "being sent by this run already", 0)
            self.on_outcome(outcome)
            return outcome
        if stored == "taken":
            outcome = Outcome(
                "pending", key, body, None, "another customcd process is sending this record", 0
            )
            self.on_outcome(outcome)
            return outcome
        return self._send_claimed(key, body, body_json)

    def _send_claimed(self, key: str, body: dict[str, Any], body_json: str) -> Outcome:
        result = self.sender.send(key, body_json.encode("utf-8"))
        if result.kind == "delivered":
            self._guard(
                lambda box: box.delivered(key, str(body.get("job_id", "")), result.status or 200)
            )
            outcome = Outcome("delivered", key, body, result.status, result.reason, result.attempts)
        elif result.kind == "rejected":
            self._guard(lambda box: box.reject(key, result.attempts, result.status, result.reason))
            outcome = Outcome("rejected", key, body, result.status, result.reason, result.attempts)
        else:
            self._guard(lambda box: box.release(key, result.attempts, result.status, result.reason))
            outcome = Outcome("pending", key, body, result.status, result.reason, result.attempts)
        self.on_outcome(outcome)
        return outcome

    def flush(self, *, skip: set[str] | None = None) -> Iterator[Outcome]:
        """Re-send pending records, oldest first, while the deadline allows."""
        if self.outbox is None:
            return
        keys: list[str] = self._guard(Outbox.claimable) or []
        for key in keys:
            if skip and key in skip:
                continue
            if self.sender.remaining() <= 0.5:  # (less the sender's reserve)
                break
            lease = self._lease()
            body_json = self._guard(partial(Outbox.claim, key=key, lease=lease))
            if body_json is None:
                continue
            yield self._send_claimed(key, json.loads(body_json), body_json)
