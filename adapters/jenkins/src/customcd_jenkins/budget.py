"""One time budget shared by every request of an API-mode collect (``--timeout`` in all).

API mode may make up to three requests for one build; bounding each by the timeout alone let a
slow Jenkins hold a pipeline step for about three times ``--timeout``. A :class:`Budget` gives
each request only the time left, and stops waiting for it when that time is up even if the
server keeps trickling bytes (a per-read timeout never fires then) or DNS resolution stalls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from customcd.repourl import redact_url

if TYPE_CHECKING:
    from jenkinsapi.jenkins import Jenkins  # type: ignore[import-untyped]

__all__ = ["Budget"]

T = TypeVar("T")

#: Below this many seconds left, a request is not started: it could not complete.
MIN_REQUEST = 0.05


@dataclass
class Budget:
    """The seconds left for the API requests of one collect.

    :param seconds: the whole budget (``context.timeout``).
    :param clock: a monotonic clock (injectable for tests).
    """

    seconds: float
    clock: Callable[[], float] = field(default=time.monotonic)
    started: float = field(init=False)

    def __post_init__(self) -> None:
        """Start the budget now."""
        self.started = self.clock()

    def remaining(self) -> float:
        """Return the seconds left (never negative)."""
        return max(0.0, self.seconds - (self.clock() - self.started))

    @property
    def spent(self) -> bool:
        """``True`` when too little time is left to start another request."""
        return self.remaining() < MIN_REQUEST

    def call(self, jenkins: Jenkins, fetch: Callable[[], T], url: str) -> T:
        """Return ``fetch()``, a request through ``jenkins``, bounded by the time left.

        The connection's requests timeout is set to the time left; the call runs in a daemon
        thread that is abandoned (its socket times out on its own) if it is still running when
        the time is up. Raises :class:`requests.Timeout` when the budget is spent.
        """
        import requests

        left = self.remaining()
        if left < MIN_REQUEST:
            raise requests.Timeout(f"no time left for {redact_url(url)}")
        jenkins.requester.timeout = left
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = fetch()
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="customcd-jenkins-request", daemon=True)
        worker.start()
        worker.join(left)
        if worker.is_alive():
            raise requests.Timeout(f"no complete answer from {redact_url(url)} within {left:.2f} s")
        if "error" in outcome:
            raise outcome["error"]
        value: T = outcome["value"]
        return value
