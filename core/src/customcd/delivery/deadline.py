"""The hard deadline of an HTTP attempt, without a thread per attempt.

httpx's timeouts bound each phase (connecting, each write, each read), not a whole response: a
server that drips its answer one byte at a time never trips them. So each sending thread has its
own :class:`Line` — its httpx client, which keeps at most one connection, and the socket that
connection is on — and one long-lived :class:`Watchdog` thread per sender shuts that socket down
when an attempt's deadline passes. The blocked read then ends at once with an error, and the
attempt says that the deadline ended it.

The socket is learnt from httpcore's documented ``trace`` request extension: the stream of every
new connection, plain and then TLS. Connecting is bounded by the connect timeout, which the sender
never sets past the deadline (for TLS, the standard library bounds the whole handshake by it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

__all__ = ["Alarm", "Line", "Watchdog"]


class Alarm:
    """One armed deadline: ``action`` runs at ``when`` (monotonic) unless disarmed first.

    :param when: the ``time.monotonic()`` at which to act.
    :param action: what to do then (quick, non-blocking: it runs on the watchdog's thread).
    """

    __slots__ = ("action", "fired", "when")

    def __init__(self, when: float, action: Callable[[], None]) -> None:
        self.when = when
        self.action = action
        #: whether the action ran
        self.fired = False


class Watchdog:
    """One daemon thread that runs each armed :class:`Alarm`'s action when its time comes.

    The thread starts on the first :meth:`arm` and lives until :meth:`close`. Arming and
    disarming are a lock and a set operation; the thread is woken only when a new alarm is due
    before the time it sleeps until (a disarmed alarm's time is just slept through once). An
    action runs under the lock, so once :meth:`disarm` has returned the action of that alarm can
    no longer run.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: set[Alarm] = set()
        #: the thread that serves the alarms (an older one, after :meth:`close`, just ends)
        self._thread: threading.Thread | None = None
        #: when the thread wakes next by itself (``inf``: only when notified)
        self._wake_at = float("inf")

    def arm(self, seconds: float, action: Callable[[], None]) -> Alarm:
        """Run ``action`` in ``seconds`` unless :meth:`disarm` is called first."""
        alarm = Alarm(time.monotonic() + seconds, action)
        with self._cond:
            self._armed.add(alarm)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="customcd-deadline", daemon=True
                )
                self._thread.start()
            elif alarm.when < self._wake_at:
                self._cond.notify()
        return alarm

    def disarm(self, alarm: Alarm) -> None:
        """Forget ``alarm``; its action does not run after this returns."""
        with self._cond:
            self._armed.discard(alarm)

    @contextmanager
    def limit(self, seconds: float, action: Callable[[], None]) -> Iterator[Alarm]:
        """Arm an alarm for the ``with`` block; ``alarm.fired`` says whether it went off."""
        alarm = self.arm(seconds, action)
        try:
            yield alarm
        finally:
            self.disarm(alarm)

    def close(self) -> None:
        """Stop the thread (armed alarms are dropped); it ends on its own, soon after."""
        with self._cond:
            self._armed.clear()
            self._thread = None
            self._cond.notify()

    def _run(self) -> None:
        me = threading.current_thread()
        with self._cond:
            while self._thread is me:
                now = time.monotonic()
                for alarm in [a for a in self._armed if a.when <= now]:
                    self._armed.discard(alarm)
                    alarm.fired = True
                    with suppress(Exception):  # one action's failure must not stop the others
                        alarm.action()
                self._wake_at = min((a.when for a in self._armed), default=float("inf"))
                wait = self._wake_at - now
                self._cond.wait(None if wait == float("inf") else max(wait, 0.0))


class Line:
    """An HTTP client and the socket its connection is on, so that the deadline can cut it.

    The client must keep at most one connection and serve one request at a time (the sender
    lends each line to one attempt): then the socket last seen connecting is the one a request
    is on.

    :param client: the httpx client.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._sock: socket.socket | None = None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """Note the socket of every new connection (httpcore's ``trace`` request extension)."""
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._sock = sock

    def cut(self) -> None:
        """Shut the connection's socket down: a read or write blocked on it ends at once.

        ``socket.socket.shutdown`` is called directly, also on a TLS socket, so that nothing of
        the TLS object changes under the thread that is reading from it. A socket that is closed
        already is left alone.
        """
        sock = self._sock
        if sock is None:
            return
        with suppress(OSError, ValueError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the client and its connection."""
        self._sock = None
        self.client.close()
