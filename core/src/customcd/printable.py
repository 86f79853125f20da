"""Text that came from the network, made safe to print on one terminal line.

A server's reason, a response header or a CI API's error message can hold line breaks (which
would forge a second ``customcd: delivered ...`` line in a job log), ANSI escapes that recolour or
rewrite the terminal, NUL bytes or megabytes of HTML. :func:`network_text` escapes every control
and non-printable character and cuts the text to a sane length, so what the user reads is one
line, exactly what was received, and short.
"""

from __future__ import annotations

__all__ = ["MAX_SHOWN", "network_text"]

#: The most characters of network text shown in one message.
MAX_SHOWN = 300


def network_text(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``...), cut to ``limit``.

    Printable non-ASCII text (``é``, ``日本``) is kept as it is.
    """
    raw = str(text)
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in raw
    )
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return shown
