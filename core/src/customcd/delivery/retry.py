"""The retry policy: which responses retry, backoff with full jitter, ``Retry-After``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["RETRYABLE_STATUSES", "Clock", "RetryPolicy", "SystemClock", "parse_retry_after"]

#: HTTP statuses that are retried; every other non-2xx is permanent.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class Clock(Protocol):
    """Time as delivery sees it: injectable so tests never really sleep."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""

    def time(self) -> float:
        """Epoch seconds (for HTTP dates)."""

    def sleep(self, seconds: float) -> None:
        """Wait."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """``time.sleep()``."""
        if seconds > 0:
            time.sleep(seconds)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date).

    Garbage gives ``None`` (ignored); a date in the past gives 0; never negative.
    """
    if value is None:
        return None
    text = value.strip(" \t")  # HTTP optional whitespace only
    if not text:
        return None
    if text.isascii() and text.isdigit():
        # more than 9 digits (over 30 years) is not a wait a server means: garbage
        return float(int(text)) if len(text) <= 9 else None
    from email.utils import parsedate_to_datetime  # an HTTP date is rare: import it then

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try within one run.

    :param deadline: seconds for the whole run (all records, attempts, waits).
    :param attempt_timeout: seconds one HTTP attempt may take.
    :param base: the first backoff ceiling, doubled each retry.
    :param cap: the largest backoff ceiling.
    :param max_attempts: attempts per record per run.
    :param rand: the jitter source (``random.uniform``-like), injectable.
    """

    deadline: float = 30.0
    attempt_timeout: float = 10.0
    base: float = 0.5
    cap: float = 10.0
    max_attempts: int = 6
    rand: Callable[[float, float], float] = field(default=random.uniform)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        ceiling = min(self.cap, self.base * (2.0 ** min(max(attempt - 1, 0), 60)))
        return max(self.rand(0.0, ceiling), 0.0)
