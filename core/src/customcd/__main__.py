"""``python -m customcd``: the same as the ``customcd`` command."""

from customcd.cli import run

if __name__ == "__main__":
    run()
