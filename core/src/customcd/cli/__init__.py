"""The ``customcd`` command line: one module per command group."""
