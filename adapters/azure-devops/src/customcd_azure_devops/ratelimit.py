"""Azure DevOps rate limiting: how long ``Retry-After`` asks to wait, and the retry policy.

Azure DevOps answers ``429 Too Many Requests`` (and ``503`` when busy) with ``Retry-After``
(seconds) and ``X-RateLimit-Resource``/``-Delay``/``-Limit``/``-Remaining``/``-Reset``; it may also
send ``Retry-After`` on a successful answer when it has started to delay a client. Backfill retries
a bounded number of times; step mode never waits past its overall timeout.

:data:`sleeper`, :data:`clock` and :data:`wall_clock` are module attributes so tests can replace
them (no real sleeping in tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "clock", "sleeper", "wait_seconds", "wall_clock"]

#: Sleeps that many seconds.
sleeper: Callable[[float], None] = time.sleep
#: A monotonic clock (seconds).
clock: Callable[[], float] = time.monotonic
#: The wall clock (epoch seconds), for ``Retry-After`` given as an HTTP date.
wall_clock: Callable[[], float] = time.time


def wait_seconds(headers: Mapping[str, str], now: float, *, blocked: bool = False) -> float | None:
    """Return the wait ``Retry-After`` asks for (seconds or an HTTP date), or None.

    For a blocked request (``blocked``: a 429) without ``Retry-After``, ``X-RateLimit-Remaining: 0``
    with ``X-RateLimit-Reset`` (epoch seconds) asks to wait until the reset. On a successful
    answer these headers only say the request was delayed: no extra wait.
    """
    value = (headers.get("Retry-After") or "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            return None
    if not blocked:
        return None
    remaining = (headers.get("X-RateLimit-Remaining") or "").strip()
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if remaining in {"0", "0.0"} and reset.replace(".", "", 1).isdigit():
        return max(0.0, float(reset) - now)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How a client honours ``429``/``503``.

    :param retries: how many times one request is retried after a 429/503.
    :param budget: seconds the whole client may take (requests and waits), or None (backfill:
        each request is bounded by the per-call timeout only).
    :param max_wait: the longest single wait, whatever ``Retry-After`` says.
    """

    retries: int = 5
    budget: float | None = None
    max_wait: float = 120.0

    def backoff(self, attempt: int) -> float:
        """The wait when Azure gave no ``Retry-After``: 1, 2, 4... seconds."""
        return float(min(2 ** (attempt - 1), self.max_wait))

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        sleeper(seconds)

    def clock(self) -> float:
        """Monotonic seconds."""
        return clock()

    def clock_wall(self) -> float:
        """Epoch seconds."""
        return wall_clock()
