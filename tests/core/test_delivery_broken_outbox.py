"""A corrupt, unreadable, read-only or full outbox: a clear message, the record printed to stderr
as a last resort, no traceback, exit 0 by default; the record is still sent when possible.

Read-only and full disk are simulated by SQLite error injection (the tests run as root, so file
modes do not stop writes, and no small filesystem is available): the connection raises the very
errors SQLite gives (``attempt to write a readonly database``, ``database or disk is full``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import customcd.delivery.outbox
import pytest
from customcd.delivery.outbox import Outbox
from helpers_delivery import (
    body_for,
    body_json_for,
    closed_port,
    key_for,
)

GARBAGE = bytes(range(256)) * 64


def down() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def assert_last_resort(run, why: str) -> None:
    """Exit 0, one clear line naming the problem, and the record on stderr to keep by hand.

    Never "kept in the outbox" (it was not), and the outbox problem is said once (issue 16
    item 11), not as an ERROR log line and again as a warning.
    """
    assert run.exit_code == 0
    assert run.success_lines == []
    assert len([x for x in run.stderr.splitlines() if "is unusable:" in x]) == 1, run.stderr
    assert why in run.stderr
    assert "kept in the outbox" not in run.stderr
    assert "NOT kept: the outbox is unusable — the record follows, to keep by hand" in run.stderr
    lines = [x for x in run.stderr.splitlines() if "the record, to keep by hand: " in x]
    assert len(lines) == 1, run.stderr
    kept = json.loads(lines[0].split("the record, to keep by hand: ", 1)[1])
    assert kept == body_for("42")
    assert run.stdout == ""


class FailingConnection:
    """A real SQLite connection whose writes fail with ``error`` (SQLite's own wording)."""

    def __init__(self, real: sqlite3.Connection, error: str, fail_from: int) -> None:
        self._real = real
        self._error = error
        self._writes = 0
        self._fail_from = fail_from

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self._writes += 1
            if self._writes >= self._fail_from:
                raise sqlite3.OperationalError(self._error)
        return self._real.execute(sql, *args)

    def executescript(self, sql: str) -> Any:
        return self._real.executescript(sql)

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def inject_sqlite_error(monkeypatch: pytest.MonkeyPatch):
    """``inject_sqlite_error(message, fail_from=1)``: outbox writes fail from the n-th one on."""

    def inject(message: str, fail_from: int = 1) -> None:
        real_connect = sqlite3.connect

        def connect(*args: Any, **kwargs: Any) -> Any:
            return FailingConnection(real_connect(*args, **kwargs), message, fail_from)

        monkeypatch.setattr(customcd.delivery.outbox.sqlite3, "connect", connect)

    return inject


# -- corrupt -------------------------------------------------------------------------------------


def test_a_corrupt_outbox_with_the_receiver_down_prints_the_record(harness) -> None:
    harness.outbox_path.write_bytes(GARBAGE)
    run = harness.send(down(), CUSTOMCD_DEADLINE="1")
    assert_last_resort(run, "not an outbox database (corrupt?)")
    assert "NOT delivered yet" in run.stderr
    assert harness.outbox_path.read_bytes() == GARBAGE  # never overwritten or "repaired"


def test_a_corrupt_outbox_with_strict_still_gives_the_outcome_code(harness) -> None:
    harness.outbox_path.write_bytes(GARBAGE)
    run = harness.send(down(), "--strict", CUSTOMCD_DEADLINE="1")
    assert run.exit_code == 75
    assert "the record, to keep by hand" in run.stderr


def test_a_corrupt_outbox_does_not_stop_delivery(harness, receiver) -> None:
    harness.outbox_path.write_bytes(GARBAGE)
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert "not an outbox database (corrupt?)" in run.stderr
    assert run.success_lines == ["customcd: delivered "]
    assert [b["job_id"] for b in receiver.accepted] == ["42"]


def test_outbox_commands_on_a_corrupt_outbox_say_so_without_a_traceback(harness, receiver) -> None:
    harness.outbox_path.write_bytes(GARBAGE)
    listing = harness.run(["outbox", "list"], harness.env(receiver.url))
    assert "not an outbox database (corrupt?)" in listing.stderr
    assert listing.exit_code != 0  # listing is not a pipeline step: it may fail
    flush = harness.flush(receiver.url)
    assert flush.exit_code == 0
    assert "not an outbox database (corrupt?)" in flush.stderr
    assert receiver.requests == []


def test_a_truncated_outbox_is_reported_and_the_record_printed(harness) -> None:
    box = Outbox(harness.outbox_path)
    for n in range(200):
        body = body_for(f"old-{n}")
        box.add(key_for(body), body_json_for(body) + " " * 400)
    box.close()
    data = harness.outbox_path.read_bytes()
    assert len(data) > 3 * 4096
    harness.outbox_path.write_bytes(data[: 2 * 4096 + 100])
    run = harness.send(down(), CUSTOMCD_DEADLINE="1")
    assert_last_resort(run, "")
    assert "malformed" in run.stderr or "corrupt" in run.stderr


def test_garbage_in_the_wal_file_is_ignored_safely(harness, receiver) -> None:
    keep = body_for("old")
    box = Outbox(harness.outbox_path)
    box.add(key_for(keep), body_json_for(keep))
    box.close()
    (harness.tmp_path / "outbox.sqlite3-wal").write_bytes(GARBAGE)
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert sorted(b["job_id"] for b in receiver.accepted) == ["42", "old"]


# -- unreadable / read-only / full -----------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    ["/proc/self/customcd/outbox.sqlite3", "/sys/customcd-outbox.sqlite3", "FILE/outbox.sqlite3"],
)
def test_an_unusable_location_prints_the_record(harness, location: str) -> None:
    if location.startswith("FILE"):
        blocker = harness.tmp_path / "a-file"
        blocker.write_text("not a folder")
        location = str(blocker / "outbox.sqlite3")
    run = harness.send(down(), CUSTOMCD_DEADLINE="1", CUSTOMCD_OUTBOX=location)
    assert_last_resort(run, location)


def test_a_directory_in_place_of_the_outbox_file(harness, tmp_path) -> None:
    folder = tmp_path / "taken.sqlite3"
    folder.mkdir()
    (folder / "outbox.sqlite3").mkdir()  # config turns a folder into folder/outbox.sqlite3
    run = harness.send(down(), CUSTOMCD_DEADLINE="1", CUSTOMCD_OUTBOX=str(folder))
    assert_last_resort(run, "unusable")


def test_a_read_only_outbox_prints_the_record(harness, inject_sqlite_error) -> None:
    inject_sqlite_error("attempt to write a readonly database")
    run = harness.send(down(), CUSTOMCD_DEADLINE="1")
    assert_last_resort(run, "read-only; set CUSTOMCD_OUTBOX to a writable path")


def test_a_full_disk_prints_the_record(harness, inject_sqlite_error) -> None:
    inject_sqlite_error("database or disk is full")
    run = harness.send(down(), CUSTOMCD_DEADLINE="1")
    assert_last_resort(run, "the disk is full")


def test_a_full_disk_does_not_stop_delivery(harness, receiver, inject_sqlite_error) -> None:
    inject_sqlite_error("database or disk is full")
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert "the disk is full" in run.stderr
    assert run.success_lines == ["customcd: delivered "]
    assert len(receiver.accepted) == 1


def test_a_disk_that_fills_after_the_2xx_still_reports_the_delivery(
    harness, receiver, inject_sqlite_error
) -> None:
    # writes: 1 add (INSERT), 2 claim (UPDATE), 3 ledger (INSERT) fails after the 2xx
    inject_sqlite_error("database or disk is full", fail_from=3)
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert run.success_lines == ["customcd: delivered "]
    said = [x for x in run.stderr.splitlines() if "the disk is full" in x]
    assert said == [
        f"customcd: warning: outbox {harness.outbox_path} is unusable: the disk is full; going "
        "on without it (a record that is not delivered is printed to stderr)"
    ], run.stderr  # once, as a warning: not also as an ERROR log line
    assert len(receiver.accepted) == 1
    assert "the record, to keep by hand" not in run.stderr  # it was delivered


def test_a_full_disk_while_the_receiver_refuses_prints_the_record(
    harness, receiver, inject_sqlite_error
) -> None:
    from customcd.receiver import Fault

    receiver.inject(Fault(422))
    inject_sqlite_error("database or disk is full")
    run = harness.send(receiver.url, "--strict")
    assert run.exit_code == 65
    assert "REJECTED" in run.stderr
    assert "the record, to keep by hand" in run.stderr
    assert "kept in the outbox" not in run.stderr
    assert "; NOT kept: the outbox is unusable — the record follows, to keep by hand — " in (
        run.stderr
    )


def test_a_record_stored_before_the_disk_filled_is_kept_and_not_printed(
    harness, inject_sqlite_error
) -> None:
    # writes: 1 add (INSERT), 2 claim (UPDATE) succeed: the record is in the file; 3 (the
    # release after the failed attempts) fails: the record is still kept (pending, its lease
    # runs out), so it is not "NOT kept" and not printed
    inject_sqlite_error("database or disk is full", fail_from=3)
    run = harness.send(down(), CUSTOMCD_DEADLINE="1")
    assert run.exit_code == 0
    assert "kept in the outbox — the next customcd run" in run.stderr
    assert "the record, to keep by hand" not in run.stderr
    assert len([x for x in run.stderr.splitlines() if "the disk is full" in x]) == 1


def test_an_outbox_that_fails_during_a_flush_is_said_once(
    harness, receiver, inject_sqlite_error
) -> None:
    box = Outbox(harness.outbox_path)
    box.add(key_for(body_for("old")), body_json_for(body_for("old")))
    box.close()
    # writes of the flush: 1 the claim (UPDATE) succeeds; 2 the ledger (INSERT) after the 2xx fails
    inject_sqlite_error("database or disk is full", fail_from=2)
    run = harness.flush(receiver.url)
    assert run.exit_code == 0
    said = [x for x in run.stderr.splitlines() if "the disk is full" in x]
    assert said == [
        f"customcd: outbox {harness.outbox_path} is unusable: the disk is full (see docs/outbox.md)"
    ], run.stderr  # once, and not as an ERROR log line
    assert "delivered kept job 'old' (replay)" in run.stderr
    assert "Traceback" not in run.stderr
