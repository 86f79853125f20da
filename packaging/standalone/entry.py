"""The standalone build's program: the ``customcd`` console script, frozen by PyInstaller.

``packaging/standalone/customcd.spec`` names this file as the script to freeze; it does exactly
what the ``customcd`` console script of a pip install does.
"""

from customcd.cli import run

if __name__ == "__main__":
    run()
