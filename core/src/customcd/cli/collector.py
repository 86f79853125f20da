"""The cycle collector of a ``customcd`` process: paused while it starts, kept out of its exit.

A ``customcd send`` spends most of its time importing: click, pydantic and its model machinery,
httpx, the plugins. Those imports create a couple of hundred thousand objects that live until the
process ends, and Python's cycle collector traverses the young ones again and again while they
load (about a hundred collections), then all of them once more at exit: together a fifth to a
third of the step's wall time on a 2-CPU runner, to free almost nothing.

:func:`manage_collector`, called by :func:`customcd.cli.run` (the ``customcd`` process's entry
point) before anything heavy is imported, pauses the collector; after :data:`RESUME_AFTER`
seconds (a send is over by then) a timer thread freezes what exists (:func:`gc.freeze`: those
objects leave the collector's reach) and resumes it, so a long command (``backfill``,
``receiver``, ``outbox flush``) collects its own garbage as usual. At exit the objects are frozen
too: the interpreter's last collections skip them. Nothing customcd holds waits on a collection:
the outbox and the HTTP client are closed when a command ends, and module teardown still
releases the rest.
"""

from __future__ import annotations

import atexit
import gc
import threading

__all__ = ["RESUME_AFTER", "manage_collector", "resume_collector"]

#: Seconds after the start when the collector resumes, with the start-up's objects frozen.
RESUME_AFTER = 2.0


def manage_collector() -> None:
    """Pause the cycle collector now; resume it later (:func:`resume_collector`); skip it at exit.

    For the process's entry point only (:func:`customcd.cli.run`): a program or test that calls
    :func:`customcd.cli.main.main` keeps its collector as it is.
    """
    gc.disable()
    timer = threading.Timer(RESUME_AFTER, resume_collector)
    timer.daemon = True  # never holds the process open
    timer.start()
    atexit.register(gc.freeze)


def resume_collector() -> None:
    """Freeze every object alive now (the start-up's) and resume the cycle collector."""
    gc.freeze()
    gc.enable()
