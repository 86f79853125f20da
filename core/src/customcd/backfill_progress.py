"""Backfill's progress: a real progress bar on a terminal, periodic log lines elsewhere.

On a terminal, rich draws a bar over the time window being imported (how far the history has
come from ``--since`` to ``--until``), with the counts, the rate and the time remaining. In a
job log or a file, one plain line every ``interval`` seconds says the same. rich is imported
only here, so only a backfill on a terminal pays for it.
"""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backfill import BackfillStats

__all__ = ["Progress"]


class Progress:
    """Shows how a backfill is going.

    :param stats: the counters the backfill updates.
    :param stream: where it is shown (stderr).
    :param since: the window's start (epoch seconds).
    :param until: the window's end (epoch seconds).
    :param interval: seconds between two plain lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        stats: BackfillStats,
        stream: IO[str],
        *,
        since: int,
        until: int,
        interval: float = 10.0,
    ) -> None:
        self.stats, self.stream = stats, stream
        self.since, self.until = since, until
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.interval = 0.2 if self.tty else interval
        self._last = 0.0
        #: The start time of the newest record read: how far through the window the history is.
        self.position: int | None = None
        self._bar: Any = None
        self._task: Any = None

    def counts(self) -> str:
        """``read 12  sent 10  skipped 1  failed 1  4.0/s``."""
        s = self.stats
        return (
            f"read {s.read}  sent {s.sent}  skipped {s.skipped + s.duplicate}  "
            f"failed {s.failed + s.pending + s.rejected}  {s.rate():.1f}/s"
        )

    def fraction(self) -> float:
        """How far through the time window the history has come (0 to 1)."""
        if not self.position or self.until <= self.since:
            return 0.0
        return min(max((self.position - self.since) / (self.until - self.since), 0.0), 1.0)

    def line(self) -> str:
        """The plain progress line, with an ETA once 1 % of the window is done."""
        eta = "?"
        done = self.fraction()
        if done > 0.01 and self.stats.read:
            elapsed = time.monotonic() - self.stats.started
            eta = f"{elapsed * (1 - done) / done:.0f}s"
        return f"{self.counts()}  ETA {eta}"

    def tick(self, force: bool = False) -> None:
        """Show the progress now if it is time (or ``force``); nothing before the first record."""
        now = time.monotonic()
        if not self.stats.read or (not force and now - self._last < self.interval):
            return
        self._last = now
        if self.tty:
            self._draw()
        else:
            print(f"customcd backfill: {self.line()}", file=self.stream, flush=True)

    def _draw(self) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import (
                Progress as Bar,
            )

            self._bar = Bar(
                TextColumn("customcd backfill"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                auto_refresh=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("backfill", total=1000, counts="")
        self._bar.update(self._task, completed=int(self.fraction() * 1000), counts=self.counts())
        self._bar.refresh()

    def done(self) -> None:
        """The window is finished: complete the bar (a terminal) and release the terminal."""
        if self._bar is not None:
            self.position = self.until
            self._draw()
            self._bar.stop()
