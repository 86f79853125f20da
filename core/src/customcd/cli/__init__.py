"""The ``customcd`` command line: one module per command group.

``main`` holds the top-level click group, its global options and the entry point
(``customcd.cli.main:main``); ``options`` the option decorators built from the settings
registry; every other module one command or group (``send``, ``validate``, ``schema``,
``receiver``, ``plugins``, ``outbox``, ``demo``, ``backfill``). A command's heavy imports stay
inside its function, so ``customcd --help`` loads none of them.
"""
