"""The ``customcd`` command line: one module per command group.

``main`` holds the top-level click group, its global options and the entry point
(``customcd.cli.main:main``); ``options`` the option decorators built from the settings
registry; ``collector`` the cycle-collector policy of a ``customcd`` process; every other module
one command or group (``send``, ``validate``, ``schema``, ``receiver``, ``plugins``, ``outbox``,
``demo``, ``doctor``, ``backfill``), imported only when that command runs. A command's heavy
imports stay inside its function, so ``customcd --help`` loads none of them.
"""
