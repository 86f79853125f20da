"""Time inputs: epoch seconds, ISO 8601 with zones, GitLab's format, milliseconds, durations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from customcd.contract.times import (
    TimeError,
    parse_duration,
    parse_epoch_ms,
    parse_integer,
    to_epoch,
)

EPOCH = 1704018030  # 2023-12-31T10:20:30Z


@pytest.mark.parametrize(
    "text",
    [
        "2023-12-31T10:20:30Z",
        "2023-12-31T10:20:30.1234567Z",  # Azure DevOps: 7 fractional digits
        "2023-12-31T10:20:30.085Z",  # GitLab API
        "2023-12-31T11:20:30+01:00",
        "2023-12-31T11:20:30+0100",
        "2023-12-31T05:20:30-05:00",
        "2023-12-31 11:20:30 +0100",  # GitLab's CI_* style
        "2023-12-31T10:20:30z",
        "2023-12-31 10:20:30 UTC",
        str(EPOCH),
        f" {EPOCH} ",
        f"{EPOCH}.9",
    ],
)
def test_text_times(text):
    assert to_epoch(text) == EPOCH


def test_numbers_and_datetimes():
    assert to_epoch(EPOCH) == EPOCH
    assert to_epoch(float(EPOCH) + 0.7) == EPOCH
    aware = datetime(2023, 12, 31, 11, 20, 30, tzinfo=timezone(timedelta(hours=1)))
    assert to_epoch(aware) == EPOCH


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("2023-12-31T10:20:30", "no time zone"),
        ("2023-12-31 10:20:30", "no time zone"),
        (datetime(2023, 12, 31, 10, 20, 30), "naive"),
        (1704018030000, "milliseconds"),
        ("1704018030000", "milliseconds"),
        (True, "boolean"),
        ("yesterday", "not a time"),
        ("2023-13-31T10:20:30Z", "not a valid date"),
        ("2023-12-31T10:20:30+25:00", "out of range"),
        (float("nan"), "finite"),
        ([EPOCH], "list"),
        ("2023-12-31T10:20:30.12345678Z", "8 fractional digits; give at most 7"),
        ("\u0661\u0667\u0660\u0664\u0660\u0661\u0668\u0660\u0663\u0660", "not a time"),
        ("2023-12-31T1\u0660:20:30Z", "not a time"),
    ],
)
def test_refused_times(value, hint):
    with pytest.raises(TimeError) as info:
        to_epoch(value)
    assert hint in str(info.value)


def test_milliseconds_path():
    assert parse_epoch_ms(1704018030123) == EPOCH
    assert parse_epoch_ms("1704018030999") == EPOCH
    with pytest.raises(TimeError):
        parse_epoch_ms("12:00")
    with pytest.raises(TimeError):
        parse_epoch_ms(False)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (300, 300),
        (300.9, 300),
        ("300", 300),
        ("5m", 300),
        ("1h2m3s", 3723),
        ("90s", 90),
        ("2h", 7200),
        ("12.5", 12),
    ],
)
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "five", "5x", True, float("inf")])
def test_bad_durations(value):
    with pytest.raises(TimeError):
        parse_duration(value)


def test_one_rule_for_digits():
    """ASCII digits only: int() and \\d would also take other scripts' digits and underscores."""
    assert parse_integer(" -42 ") == -42 and parse_integer("+7") == 7
    for text in ("\u0661\u0662", "1_000", "1.0", "", "--1", "1e3"):
        with pytest.raises(ValueError, match="digits 0-9"):
            parse_integer(text)
    for value in ("\u0661\u0662", "\u0661m", "1_000"):
        with pytest.raises(TimeError):
            parse_duration(value)
    with pytest.raises(TimeError):
        parse_epoch_ms("\u0661" * 13)
