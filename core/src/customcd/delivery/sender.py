"""Sending records: the HTTP attempt loop and the outbox/ledger bookkeeping around it.

:class:`Sender` posts one body with retries inside a hard deadline (each attempt runs on a worker
thread that is abandoned when the deadline passes, so no slow, drip-fed or silent server can hold a
run past it). :class:`Dispatcher` stores the record in the outbox first, sends it, and updates the
ledger and the outbox by the result; it also replays older pending records.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..printable import network_text
from ..repourl import redact_url
from ..secret import SecretLike
from .outbox import Outbox, OutboxUnavailable
from .outcome import Outcome
from .retry import RETRYABLE_STATUSES, Clock, RetryPolicy, SystemClock, parse_retry_after
from .tls_advice import tls_advice
from .transport import Endpoint, make_client

__all__ = ["AttemptResult", "Dispatcher", "SendResult", "Sender"]

log = logging.getLogger("customcd.delivery.sender")

_MAX_REASON = 300


@dataclass(frozen=True)
class AttemptResult:
    """One HTTP attempt: a status (``None`` when no response) and a reason."""

    status: int | None
    reason: str
    retry_after: str | None = None
    location: str | None = None
    #: retrying cannot help within this run (e.g. the server's certificate is not trusted)
    fatal: bool = False


@dataclass(frozen=True)
class SendResult:
    """The result of sending one body within the deadline.

    :param kind: ``delivered``, ``pending`` (retryable; kept) or ``rejected`` (permanent).
    :param status: the last HTTP status (``None`` when no response).
    :param reason: the server's reason or the error.
    :param attempts: the attempts made.
    """

    kind: str
    status: int | None
    reason: str
    attempts: int


def _reason_from(response: Any, text: str) -> str:
    reason = ""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            for key in ("reason", "detail", "message", "error", "errors", "problems"):
                if key in data:
                    reason = data[key] if isinstance(data[key], str) else json.dumps(data[key])
                    break
    except ValueError:
        reason = " ".join(text.split())
    phrase = getattr(response, "reason_phrase", "") or ""
    reason = f"{response.status_code} {phrase}".strip() + (f": {reason}" if reason else "")
    return network_text(reason, _MAX_REASON)  # the server's words: escaped, one line, cut


class Sender:
    """Posts bodies to the endpoint with retries, backoff and one overall deadline.

    :param endpoint: where to post.
    :param token: the bearer token (``None`` sends no Authorization header).
    :param policy: the retry policy.
    :param clock: the clock (injectable).
    :param client: an httpx client (default: one made by :func:`~customcd.delivery.transport.make_client`).
    :param per_record: give each record its own deadline (backfill) instead of one for the run.
        A ``Retry-After`` seen by any record pauses every record of this sender (rate limits are
        the server's, not one request's).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        token: SecretLike | None,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        client: Any = None,
        ca_bundle: str | None = None,
        ca_dir: str | None = None,
        per_record: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self._token = token
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self._client = client
        self._ca = (ca_bundle, ca_dir)
        self._started = self.clock.monotonic()
        self.per_record = per_record
        #: seconds of the deadline kept back (replays leave half of it to the current record)
        self.reserve = 0.0
        self._pause_until = 0.0
        self._pause_lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The httpx client, made on first use."""
        if self._client is None:
            self._client = make_client(
                self.endpoint,
                ca_bundle=self._ca[0],
                ca_dir=self._ca[1],
                timeout=self.policy.attempt_timeout,
            )
        return self._client

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()

    def remaining(self, started: float | None = None) -> float:
        """Seconds left of the deadline that began at ``started`` (default: the run's start).

        The part of the deadline held in :attr:`reserve` does not count.
        """
        begin = self._started if started is None else started
        return self.policy.deadline - (self.clock.monotonic() - begin) - self.reserve

    def _pause(self, seconds: float) -> None:
        with self._pause_lock:
            self._pause_until = max(self._pause_until, self.clock.monotonic() + seconds)

    def _paused_for(self) -> float:
        with self._pause_lock:
            return max(self._pause_until - self.clock.monotonic(), 0.0)

    def _headers(self, key: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "Accept": "application/json",
        }
        if self._token is not None:
            headers["Authorization"] = "Bearer " + self._token.get_secret_value()
        return headers

    def _attempt(self, key: str, payload: bytes, timeout: float) -> AttemptResult:
        import httpx

        try:
            response = self.client.post(
                self.endpoint.job_url,
                content=payload,
                headers=self._headers(key),
                timeout=httpx.Timeout(timeout),
            )
        except httpx.TimeoutException:
            return AttemptResult(None, f"timed out after {timeout:.1f}s")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            # the request cannot even be made: a configuration problem, not worth a retry
            text = _scrub(f"{type(exc).__name__}: {exc}", self._token)
            return AttemptResult(None, f"{text} — check CUSTOMCD_URL and the token", fatal=True)
        except httpx.HTTPError as exc:
            text = _scrub(f"{type(exc).__name__}: {exc}", self._token)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                return AttemptResult(None, tls_advice(text), fatal=True)
            return AttemptResult(None, text)
        text = response.text[:2000]
        return AttemptResult(
            response.status_code,
            _scrub(_reason_from(response, text), self._token),
            response.headers.get("Retry-After"),
            response.headers.get("Location"),
        )

    def _attempt_within(self, key: str, payload: bytes, budget: float) -> AttemptResult:
        """Run one attempt on a worker thread; give up on it when ``budget`` runs out.

        HTTP timeouts bound each read, not a whole response: only the thread bounds a server that
        drips its answer byte by byte (in backfill too, where a stuck record would outlive its
        lease).
        """
        box: list[AttemptResult] = []
        timeout = max(min(self.policy.attempt_timeout, budget), 0.05)

        def run() -> None:
            try:
                box.append(self._attempt(key, payload, timeout))
            except Exception as exc:  # never let a worker die silently
                box.append(AttemptResult(None, _scrub(f"{type(exc).__name__}: {exc}", self._token)))

        worker = threading.Thread(target=run, name="customcd-attempt", daemon=True)
        worker.start()
        worker.join(budget)
        if not box:
            return AttemptResult(None, f"no complete response within {budget:.1f}s (deadline)")
        return box[0]

    def send(self, key: str, payload: bytes) -> SendResult:
        """Post one body until it is delivered, permanently refused, or the deadline is near."""
        attempts = 0
        last = AttemptResult(None, "deadline reached before the first attempt")
        started = self.clock.monotonic() if self.per_record else self._started
        while attempts < self.policy.max_attempts:
            paused = self._paused_for()
            if paused:
                if paused >= self.remaining(started) - 0.05:
                    last = AttemptResult(
                        last.status,
                        f"server asked to wait {paused:.0f}s "
                        f"(Retry-After), past the deadline; {last.reason}",
                    )
                    break
                self.clock.sleep(paused)
            budget = self.remaining(started)
            if budget <= 0.05:
                break
            attempts += 1
            last = self._attempt_within(key, payload, budget)
            status = last.status
            if last.fatal:
                break
            if status is not None and 200 <= status < 300:
                return SendResult("delivered", status, last.reason, attempts)
            if status is not None and status not in RETRYABLE_STATUSES:
                reason = last.reason
                if 300 <= status < 400:
                    where = _scrub(redact_url(last.location or "?").split("?", 1)[0], self._token)
                    reason = (
                        f"{status} redirect to {where} not followed "
                        "(the token is never sent to another URL); fix CUSTOMCD_URL"
                    )
                return SendResult("rejected", status, reason, attempts)
            wait = self.policy.backoff(attempts)
            hinted = parse_retry_after(last.retry_after, now=self.clock.time())
            if hinted is not None:
                wait = max(wait, hinted)
                if self.per_record:
                    self._pause(hinted)
            if attempts >= self.policy.max_attempts or wait >= self.remaining(started) - 0.05:
                break
            log.info("attempt %d: %s; retrying in %.1fs", attempts, last.reason, wait)
            self.clock.sleep(wait)
        return SendResult("pending", last.status, last.reason, attempts)


def _scrub(text: str, token: SecretLike | None) -> str:
    if token is not None:
        secret = token.get_secret_value()
        # shorter strings occur in ordinary words (and are never logged anyway)
        if len(secret) >= 6:
            for form in {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}:
                text = text.replace(form, "***")
    return text


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
