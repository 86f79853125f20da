"""``python -m customcd``: the same as the ``customcd`` command."""

from customcd.cli.main import main

if __name__ == "__main__":
    main()
