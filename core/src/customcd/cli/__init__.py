"""The ``customcd`` command line: one module per command group.

:func:`run` is the ``customcd`` console script (``customcd.cli:run``, also ``python -m customcd``
and the standalone build): it sets up the process (:mod:`.collector`), then runs ``main``.
``main`` holds the top-level click group, its global options and :func:`~.main.main`, which
programs and tests call with their own arguments; ``options`` the option decorators built from
the settings registry; every other module one command or group (``send``, ``validate``,
``schema``, ``receiver``, ``plugins``, ``outbox``, ``demo``, ``doctor``, ``backfill``), imported
only when that command runs. A command's heavy imports stay inside its function, so
``customcd --help`` loads none of them.
"""

from __future__ import annotations

__all__ = ["run"]


def run() -> None:
    """The ``customcd`` process: manage its cycle collector, then run the command line.

    The collector is paused before anything heavy is imported (click included); see
    :mod:`customcd.cli.collector`. Exits with the command's code.
    """
    from .collector import manage_collector

    manage_collector()
    from .main import main

    main()
