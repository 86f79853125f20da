"""Sending records: the HTTP attempt loop.

:class:`Sender` posts one body with retries inside a hard deadline: each attempt runs in the
calling thread on a *line* (an httpx client with one kept-alive connection) lent to it alone, and
the sender's one watchdog thread cuts that connection when the deadline passes
(:mod:`~customcd.delivery.deadline`), so no slow, drip-fed or silent server can hold a run past
it. The outbox and ledger bookkeeping around it is :class:`~customcd.delivery.dispatcher.Dispatcher`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from ..printable import network_text
from ..repourl import redact_url
from ..secret import SecretLike
from .deadline import Line, Watchdog
from .retry import RETRYABLE_STATUSES, Clock, RetryPolicy, SystemClock, parse_retry_after
from .tls_advice import tls_advice
from .transport import HEADERS, Endpoint, make_client, tls_context

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = ["MAX_BODY", "AttemptResult", "SendResult", "Sender"]

log = logging.getLogger("customcd.delivery.sender")

_MAX_REASON = 300
#: Reply bytes read at most (the webhook answers a few hundred); the rest is never read.
MAX_BODY = 1024 * 1024


class AttemptResult(NamedTuple):
    """One HTTP attempt: a status (``None`` when no response) and a reason."""

    status: int | None
    reason: str
    retry_after: str | None = None
    location: str | None = None
    #: retrying cannot help within this run (e.g. the server's certificate is not trusted)
    fatal: bool = False


class SendResult(NamedTuple):
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

    Each attempt takes a *line* — an httpx client holding one kept-alive connection — for its
    own use, and gives it back after: a line is never shared by two requests at once, which is
    what lets the deadline cut the right connection. Lines are made when every existing one is
    in use, up to ``connections``; the TLS trust is loaded once and shared by all.

    :param endpoint: where to post.
    :param token: the bearer token (``None`` sends no Authorization header).
    :param policy: the retry policy.
    :param clock: the clock (injectable).
    :param ca_bundle: a PEM file of CA certificates (else the default trust).
    :param ca_dir: a folder of hashed CA certificates.
    :param per_record: give each record its own deadline (backfill) instead of one for the run.
        A ``Retry-After`` seen by any record pauses every record of this sender (rate limits are
        the server's, not one request's).
    :param connections: requests in flight at most (backfill's ``--concurrency``); a thread
        that finds every line busy waits for one. ``None``: one line per sending thread.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        token: SecretLike | None,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        ca_bundle: str | None = None,
        ca_dir: str | None = None,
        per_record: bool = False,
        connections: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._token = token
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self._ca = (ca_bundle, ca_dir)
        self._tls: ssl.SSLContext | None = None
        self._url: httpx.URL | None = None
        self._lines: list[Line] = []  # every line made
        self._idle: list[Line] = []  # lines not in use, the most recent last
        self._max_lines = connections
        self._making = 0  # lines being made (counted against ``connections`` already)
        self._lines_cond = threading.Condition()
        self._watchdog = Watchdog()
        self._started = self.clock.monotonic()
        self.per_record = per_record
        #: seconds of the deadline kept back (replays leave half of it to the current record)
        self.reserve = 0.0
        self._pause_until = 0.0
        self._pause_lock = threading.Lock()

    def _new_line(self) -> Line:
        """A line of its own, with the sender's TLS trust (loaded on the first line)."""
        with self._lines_cond:
            if self._tls is None:
                self._tls = tls_context(self.endpoint, *self._ca)
            tls = self._tls
        return Line(make_client(self.endpoint, verify=tls, timeout=self.policy.attempt_timeout))

    @contextmanager
    def _line(self) -> Iterator[Line]:
        """Take an idle line (or make one, or wait for one) for the ``with`` block."""
        with self._lines_cond:
            while not self._idle and self._max_lines is not None:
                if len(self._lines) + self._making < self._max_lines:
                    break
                self._lines_cond.wait()
            line = self._idle.pop() if self._idle else None
            if line is None:
                self._making += 1
        if line is None:
            try:
                line = self._new_line()
            finally:
                with self._lines_cond:
                    self._making -= 1
                    if line is not None:
                        self._lines.append(line)
                    self._lines_cond.notify()
        try:
            yield line
        finally:
            with self._lines_cond:
                self._idle.append(line)
                self._lines_cond.notify()

    def open(self) -> None:
        """Make a line now, so that an unreadable CA bundle is said before anything is sent.

        :raises ConfigurationError: when the CA bundle cannot be read.
        """
        with self._line():
            pass

    @property
    def client(self) -> httpx.Client:
        """The httpx client of an idle line (made if there is none)."""
        with self._line() as line:
            client: httpx.Client = line.client
        return client

    def close(self) -> None:
        """Close every line's client and stop the watchdog."""
        self._watchdog.close()
        with self._lines_cond:
            lines, self._lines, self._idle = self._lines, [], []
        for line in lines:
            line.close()

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

    def _request(self, key: str, payload: bytes) -> httpx.Request:
        """The attempt's request, built before a line is taken (the line is held on the wire only)."""
        import httpx

        if self._url is None:
            self._url = httpx.URL(self.endpoint.job_url)
        headers = {**HEADERS, "Idempotency-Key": key}
        if self._token is not None:
            headers["Authorization"] = "Bearer " + self._token.get_secret_value()
        return httpx.Request("POST", self._url, headers=headers, content=payload)

    def _attempt(self, key: str, payload: bytes, started: float) -> AttemptResult:
        """One POST, cut by the deadline if its answer is not read whole in time.

        httpx's timeouts bound each phase (connect, each write, each read), not a drip-fed
        answer: the watchdog cuts the line's connection when the deadline that began at
        ``started`` passes. Waiting for a free line counts against the deadline too.
        """
        try:
            request = self._request(key, payload)
        except (UnicodeError, ValueError, TypeError) as exc:  # a header httpx cannot encode
            text = _scrub(f"{type(exc).__name__}: {exc}", self._token)
            return AttemptResult(None, f"{text} — check CUSTOMCD_URL and the token", fatal=True)
        with self._line() as line:
            budget = self.remaining(started)
            if budget <= 0.05:
                return AttemptResult(None, "deadline reached while waiting for a connection")
            timeout = max(min(self.policy.attempt_timeout, budget), 0.05)
            with self._watchdog.limit(budget, line.cut) as alarm:
                try:
                    answer = self._exchange(line, request, timeout)
                except Exception as exc:  # never let one attempt's surprise stop the record
                    answer = AttemptResult(
                        None, _scrub(f"{type(exc).__name__}: {exc}", self._token)
                    )
        if isinstance(answer, AttemptResult):
            if alarm.fired and not answer.fatal:
                return AttemptResult(None, f"no complete response within {budget:.1f}s (deadline)")
            return answer
        response, raw = answer
        return AttemptResult(
            response.status_code,
            _scrub(_reason_from(response, _text(response, raw)), self._token),
            response.headers.get("Retry-After"),
            response.headers.get("Location"),
        )

    def _exchange(
        self, line: Line, request: httpx.Request, timeout: float
    ) -> tuple[httpx.Response, bytes] | AttemptResult:
        """Send ``request`` on ``line``: the response and its first bytes, or why not."""
        import httpx

        request.extensions = {"timeout": httpx.Timeout(timeout).as_dict(), "trace": line.trace}
        try:
            response = line.client.send(request, stream=True)
            try:
                raw = _read_capped(response)
            finally:
                response.close()
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
        return response, raw

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
            last = self._attempt(key, payload, started)
            status = last.status
            if last.fatal:
                break
            if status is not None and 200 <= status < 300:
                return SendResult("delivered", status, last.reason, attempts)
            if status is not None and status not in RETRYABLE_STATUSES:
                reason = last.reason
                if 300 <= status < 400:
                    where = _scrub(redact_url(last.location or "").split("?", 1)[0], self._token)
                    target = f"to {where}" if where else "without a Location header"
                    reason = (
                        f"{status} redirect {target} not followed "
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


def _read_capped(response: httpx.Response) -> bytes:
    """The reply's bytes as they came, up to :data:`MAX_BODY` (the rest is never read)."""
    data = bytearray()
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= MAX_BODY:
            break
    return bytes(data[:MAX_BODY])


def _text(response: httpx.Response, raw: bytes) -> str:
    """The start of the reply as text ("" when it came compressed though it was not asked to)."""
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        return ""
    try:
        return raw[:8000].decode(response.charset_encoding or "utf-8", errors="replace")[:2000]
    except LookupError:  # a charset Python does not know
        return raw[:8000].decode("utf-8", errors="replace")[:2000]


def _scrub(text: str, token: SecretLike | None) -> str:
    if token is not None:
        secret = token.get_secret_value()
        # shorter strings occur in ordinary words (and are never logged anyway)
        if len(secret) >= 6:
            for form in {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}:
                text = text.replace(form, "***")
    return text
