"""Parsing the number and time inputs users and CI systems give us.

Times become epoch seconds. Accepted: integer epoch seconds (as int or digits), epoch milliseconds
only through the explicit ``*_ms`` paths, aware ``datetime`` objects, and text in ISO 8601 with a
zone (``Z`` or an offset, up to 7 fractional digits, as Azure DevOps writes) or GitLab's
``2021-12-23 11:26:21 +0100``. A naive time is refused: guessing a zone would shift deployments
by hours.

One rule for digits everywhere: numbers given as text are written in ASCII digits (Python's
``int()`` and ``\\d`` would also take ``١٢`` and ``1_000``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "MS_THRESHOLD",
    "TOO_LARGE",
    "TimeError",
    "looks_like_milliseconds",
    "parse_duration",
    "parse_epoch_ms",
    "parse_integer",
    "to_epoch",
]

#: Numbers of seconds from here on (18 digits) are refused as times and durations.
TOO_LARGE = 10**18

#: 2001-09-09 in ms is 1e12: an epoch value with 13 or more digits is milliseconds, not seconds.
MS_THRESHOLD = 10**12

_ISO = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<m>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]+))?)?"
    r"\s*(?P<zone>Z|z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
#: Fractional digits of a second a text time may have (Azure DevOps writes 7).
_MAX_FRACTION = 7
#: Whole numbers as text: an optional sign and ASCII digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")


class TimeError(ValueError):
    """A time input that cannot be turned into epoch seconds; the message says why."""


def parse_integer(text: str) -> int:
    """Whole-number text (ASCII digits, an optional sign, blanks around) as an ``int``.

    :raises ValueError: anything else, ``١٢``, ``1_000`` and ``1.0`` included.
    """
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueError("give a whole number in the digits 0-9")
    return int(stripped)


def looks_like_milliseconds(value: int) -> bool:
    """True when an epoch value has 13+ digits, i.e. is milliseconds rather than seconds."""
    return abs(value) >= MS_THRESHOLD


def _parse_zone(zone: str) -> timezone:
    if zone in {"Z", "z", "UTC"}:
        return timezone.utc
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise TimeError(f"time zone offset {zone!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_text_time(text: str) -> int:
    """Parse an ISO 8601 / GitLab text time with a zone into epoch seconds (fraction dropped)."""
    match = _ISO.match(text.strip())
    if not match:
        raise TimeError(
            "is not a time customcd understands: give epoch seconds, or ISO 8601 with a zone "
            "such as 2024-01-01T10:20:30Z or 2024-01-01T10:20:30+01:00"
        )
    if match["frac"] is not None and len(match["frac"]) > _MAX_FRACTION:
        raise TimeError(
            f"has {len(match['frac'])} fractional digits; give at most {_MAX_FRACTION} "
            "(or none: the contract keeps whole seconds)"
        )
    if match["zone"] is None:
        raise TimeError(
            "has no time zone: add Z or an offset such as +01:00 (a naive time would be guessed)"
        )
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        naive = datetime(year, month, day, int(match["h"]), int(match["m"]), int(match["s"] or 0))
    except ValueError as exc:
        raise TimeError(f"is not a valid date and time ({exc})") from None
    aware = naive.replace(tzinfo=_parse_zone(match["zone"]))
    return int(aware.timestamp())


def to_epoch(value: Any) -> int:
    """Turn one time input into epoch seconds.

    :param value: int seconds, digit text, an aware datetime, or ISO 8601 text with a zone.
    :raises TimeError: for naive times, milliseconds, booleans and anything unreadable.
    """
    if isinstance(value, bool):
        raise TimeError("is a boolean, not a time")
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TimeError("is a naive datetime: attach a time zone")
        return int(value.timestamp())
    if isinstance(value, float):
        if not _finite(value):
            raise TimeError("is not a finite number")
        value = int(value)
    if isinstance(value, int):
        if looks_like_milliseconds(value):
            raise TimeError(
                "looks like epoch milliseconds (13 digits): give seconds, "
                "or use --start-time-ms for milliseconds"
            )
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?[0-9]{1,18}", text):
            return to_epoch(int(text))
        if re.fullmatch(r"-?[0-9]{1,18}\.[0-9]+", text):
            return to_epoch(float(text))
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            raise TimeError("is far too large to be a time")
        return parse_text_time(text)
    raise TimeError(f"is a {type(value).__name__}, not a time")


def _finite(value: float) -> bool:
    """Not NaN, not infinite, and small enough for whole seconds (|x| < 1e18)."""
    return value == value and abs(value) < TOO_LARGE


def parse_epoch_ms(value: Any) -> int:
    """Turn epoch milliseconds (int or digit text, as Jenkins gives them) into epoch seconds."""
    if isinstance(value, bool):
        raise TimeError("is a boolean, not a time in milliseconds")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[0-9]{1,18}(\.[0-9]+)?", text):
            raise TimeError("is not a number of milliseconds since the epoch (up to 18 digits)")
        value = float(text)
    if isinstance(value, (int, float)):
        if not _finite(value):
            raise TimeError("is not a finite number")
        return int(value // 1000)
    raise TimeError(f"is a {type(value).__name__}, not milliseconds")


def parse_duration(value: Any) -> int:
    """Turn a duration input (seconds: int, float, digit text, or ``90s``/``5m``/``1h2m``) into int seconds."""
    if isinstance(value, bool):
        raise TimeError("is a boolean, not a duration")
    if isinstance(value, (int, float)):
        if not _finite(value):
            raise TimeError("is not a finite number")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?[0-9]{1,18}(\.[0-9]+)?", text):
            return int(float(text))
        match = re.fullmatch(r"(?:([0-9]+)h)?\s*(?:([0-9]+)m)?\s*(?:([0-9]+)s)?", text)
        if text and match and any(match.groups()):
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            return hours * 3600 + minutes * 60 + seconds
    raise TimeError("is not a duration: give whole seconds (300) or a span like 5m or 1h2m3s")
