"""The durable outbox and the delivery ledger (SQLite, WAL, full sync).

A record is written here before its first attempt and removed only after a 2xx, in the same
transaction that adds it to the ledger. The ledger keeps the idempotency keys of delivered records,
so no replay or backfill sends a delivered record again. Several processes may share one outbox:
a record is *claimed* (leased) by one process before it is sent; a lease held by a process that
died (same host, PID gone) or that ran past its lease is taken over. A kept body that is not a
sendable record is quarantined (``unreadable``, see :mod:`.kept`): kept, never sent, never in the
way of the others. No token is ever stored.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract.problems import CustomcdError
from .kept import parse_kept, unreadable
from .leases import companions, create_owner_only, lease_dead, new_owner

__all__ = ["Outbox", "OutboxEntry", "OutboxUnavailable"]

#: The version of :data:`_SCHEMA`, kept in the file's ``user_version``: a file already at this
#: version is opened without running the schema script (one statement instead of four).
_SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until REAL
);
CREATE TABLE IF NOT EXISTS ledger (
    key TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    delivered_at REAL NOT NULL,
    status INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated REAL NOT NULL
);
PRAGMA user_version = {_SCHEMA_VERSION};
"""


class OutboxUnavailable(CustomcdError):
    """The outbox cannot be opened or written (corrupt, unreadable, read-only, full disk)."""

    exit_code = 74


@dataclass(frozen=True)
class OutboxEntry:
    """A kept record.

    :param key: its idempotency key.
    :param body: the wire body.
    :param state: ``pending`` (will be retried), ``rejected`` (permanent; kept with the reason)
        or ``unreadable`` (quarantined: its body is not a sendable record; never sent).
    :param created: when it was first stored (epoch s).
    :param updated: when it last changed.
    :param attempts: HTTP attempts made so far, all runs together.
    :param last_status: the last HTTP status, if any.
    :param reason: the last error or the server's reason; for ``unreadable``, why the body
        cannot be sent.
    :param raw: the stored text of an ``unreadable`` body ("" otherwise), to recover by hand.
    """

    key: str
    body: dict[str, Any]
    state: str
    created: float
    updated: float
    attempts: int
    last_status: int | None
    reason: str
    raw: str = ""


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) else default


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    """A row as an entry; a body that cannot be sent makes it ``unreadable`` (with the reason)."""
    key, raw, state, created, updated, attempts, last_status, reason = row
    body, why = parse_kept(raw)
    if state == "unreadable":
        why = str(reason) or why or "quarantined"
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return OutboxEntry(
        str(key),
        body or {},
        "unreadable" if why else str(state),
        _number(created),
        _number(updated),
        int(_number(attempts)),
        last_status if isinstance(last_status, int) else None,
        why or str(reason or ""),
        text if why else "",
    )


class Outbox:
    """A durable outbox at ``path`` (created with its folder on first use).

    :param path: the SQLite file.
    :param clock: returns epoch seconds (injectable for tests).
    :param durable: ``synchronous = FULL`` (every commit reaches the disk before customcd goes on:
        the pipeline step). ``False`` uses ``NORMAL``: still safe against a killed process, but an
        operating-system crash may lose the last commits; backfill uses it, because its records
        can be read again from the CI server and the ledger only saves re-sends.
    :raises OutboxUnavailable: when the file cannot be opened as an outbox.
    """

    def __init__(self, path: Path, *, clock: Any = time.time, durable: bool = True) -> None:
        self.path = Path(path)
        self.clock = clock
        self.owner = new_owner()
        self._lock = threading.RLock()
        #: ``(key, why)`` of the records this handle quarantined (see :meth:`claim`)
        self.quarantined: list[tuple[str, str]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_owner_only(self.path)
            self._db = sqlite3.connect(
                str(self.path), timeout=15.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 15000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            if self._db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxUnavailable(self._explain(exc), docs="outbox.md") from None
        for made in (self.path, *companions(self.path)):
            with contextlib.suppress(OSError):
                os.chmod(made, 0o600)

    def _explain(self, exc: BaseException) -> str:
        text = str(exc)
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
            why = "the file is not an outbox database (corrupt?); move it aside to start afresh"
        elif "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
            why = "it is read-only; set CUSTOMCD_OUTBOX to a writable path"
        elif "disk" in text and "full" in text:
            why = "the disk is full"
        else:
            why = text
        return f"outbox {self.path} is unusable: {why}"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._transaction() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise OutboxUnavailable(self._explain(exc), docs="outbox.md") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- records ----------------------------------------------------------------------

    def add(self, key: str, body_json: str, *, claim_for: float | None = None) -> str:
        """Store a record before its first attempt (and lease it, in the same transaction).

        :param claim_for: lease the record to this process for that many seconds.
        :return: ``"new"``/``"kept"`` (stored now / already kept; a rejected one becomes pending
            again), ``"claimed"`` (stored and leased to this process), ``"busy"`` (this process
            is sending it already), ``"taken"`` (another live process holds its lease) or
            ``"delivered"`` (the ledger has it: do not send).
        """
        now = self.clock()
        with self._write() as db:
            if db.execute("SELECT 1 FROM ledger WHERE key = ?", (key,)).fetchone():
                return "delivered"
            cursor = db.execute(
                "INSERT OR IGNORE INTO records (key, body, created, updated) VALUES (?, ?, ?, ?)",
                (key, body_json, now, now),
            )
            outcome = "new" if cursor.rowcount == 1 else "kept"
            if outcome == "kept":
                row = db.execute("SELECT body, state FROM records WHERE key = ?", (key,)).fetchone()
                if row[1] == "unreadable" or unreadable(row[0]):
                    # a damaged copy of this very record (same key): the fresh body replaces it
                    db.execute(
                        "UPDATE records SET body = ?, state = 'pending', reason = '', updated = ? "
                        "WHERE key = ?",
                        (body_json, now, key),
                    )
                # sent again on purpose (e.g. after fixing a token): a rejected record is retried
                db.execute(
                    "UPDATE records SET state = 'pending', updated = ? "
                    "WHERE key = ? AND state = 'rejected'",
                    (now, key),
                )
            if claim_for is None:
                return outcome
            return self._lease_in(db, key, now, claim_for)

    def _lease_in(self, db: sqlite3.Connection, key: str, now: float, lease: float) -> str:
        """Lease a pending record to this process inside an open write transaction.

        :return: ``"claimed"``; ``"busy"`` when this very process holds a live lease on it (a
            history that lists one build twice); ``"taken"`` when another live process does, or
            the record is not pending.
        """
        row = db.execute(
            "SELECT lease_owner, lease_until FROM records WHERE key = ? AND state = 'pending'",
            (key,),
        ).fetchone()
        if row is None:
            return "taken"
        owner, until = row
        if owner and isinstance(until, (int, float)) and until > now:
            if owner == self.owner:
                return "busy"
            if not lease_dead(owner):
                return "taken"
        db.execute(
            "UPDATE records SET lease_owner = ?, lease_until = ? WHERE key = ?",
            (self.owner, now + lease, key),
        )
        return "claimed"

    def claim(self, key: str, lease: float) -> str | None:
        """Lease one pending record for this process; return its body, or ``None`` if taken.

        A body that is not a sendable record (not JSON, not an object, against the contract) is
        quarantined instead: its row becomes ``unreadable`` with the reason, is kept, and is
        never claimed again (it is added to :attr:`quarantined`).
        """
        now = self.clock()
        with self._write() as db:
            if db.execute("SELECT 1 FROM ledger WHERE key = ?", (key,)).fetchone():
                return None
            row = db.execute("SELECT body, state FROM records WHERE key = ?", (key,)).fetchone()
            if row is None or row[1] != "pending":
                return None
            why = unreadable(row[0])
            if why:
                db.execute(
                    "UPDATE records SET state = 'unreadable', reason = ?, updated = ?, "
                    "lease_owner = NULL, lease_until = NULL WHERE key = ?",
                    (why, now, key),
                )
                self.quarantined.append((key, why))
                return None
            if self._lease_in(db, key, now, lease) != "claimed":
                return None
            raw = row[0]
            return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    def claimable(self, limit: int = 1000) -> list[str]:
        """Keys of pending records, oldest first (claim each before sending)."""
        rows = self._read(
            "SELECT key FROM records WHERE state = 'pending' ORDER BY created LIMIT ?", (limit,)
        )
        return [str(row[0]) for row in rows]

    def delivered(self, key: str, job_id: str, status: int) -> None:
        """Mark delivered: add to the ledger and remove from the outbox, atomically."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO ledger (key, job_id, delivered_at, status) VALUES (?, ?, ?, ?)",
                (key, job_id, self.clock(), status),
            )
            db.execute("DELETE FROM records WHERE key = ?", (key,))

    def release(self, key: str, attempts: int, status: int | None, reason: str) -> None:
        """Give a pending record back (it will be retried later), noting what happened.

        Only while this process still holds its lease: a lease that ran out and was taken over
        belongs to the other process now.
        """
        with self._write() as db:
            db.execute(
                "UPDATE records SET attempts = attempts + ?, last_status = ?, reason = ?, "
                "updated = ?, lease_owner = NULL, lease_until = NULL "
                "WHERE key = ? AND lease_owner = ?",
                (attempts, status, reason, self.clock(), key, self.owner),
            )

    def reject(self, key: str, attempts: int, status: int | None, reason: str) -> None:
        """Keep a record apart as permanently rejected, with the server's reason (lease holder only)."""
        with self._write() as db:
            db.execute(
                "UPDATE records SET state = 'rejected', attempts = attempts + ?, last_status = ?, "
                "reason = ?, updated = ?, lease_owner = NULL, lease_until = NULL "
                "WHERE key = ? AND lease_owner = ?",
                (attempts, status, reason, self.clock(), key, self.owner),
            )

    def requeue_rejected(self) -> int:
        """Move every rejected record back to pending (after fixing the cause); return how many."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE records SET state = 'pending', updated = ? WHERE state = 'rejected'",
                (self.clock(),),
            )
            return cursor.rowcount

    def entries(self, state: str | None = None) -> list[OutboxEntry]:
        """Kept records (pending, rejected and unreadable), oldest first.

        A row whose body cannot be sent is listed as ``unreadable`` with the reason, whether a
        replay has quarantined it yet or not; reading never fails on a damaged row.
        """
        rows = self._read(
            "SELECT key, body, state, created, updated, attempts, last_status, reason "
            "FROM records ORDER BY created",
            (),
        )
        entries = [_entry(row) for row in rows]
        return [e for e in entries if state is None or e.state == state]

    def ledger_status(self, key: str) -> int | None:
        """The HTTP status a delivered record got, or ``None`` when the ledger does not have it."""
        rows = self._read("SELECT status FROM ledger WHERE key = ?", (key,))
        return int(rows[0][0]) if rows and isinstance(rows[0][0], int) else None

    def ledger_size(self) -> int:
        """How many delivered records the ledger remembers."""
        return int(self._read("SELECT COUNT(*) FROM ledger", ())[0][0])

    def prune_ledger(self, older_than: float) -> int:
        """Forget delivered records delivered more than ``older_than`` seconds ago.

        A forgotten record would be sent again by a backfill of its window (with the same
        Idempotency-Key); pruning keeps the ledger of a long-lived agent small.

        :return: how many entries were removed.
        """
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM ledger WHERE delivered_at < ?", (self.clock() - older_than,)
            )
            return cursor.rowcount

    # -- checkpoints (backfill) -------------------------------------------------------------

    def checkpoint(self, name: str) -> str | None:
        """The saved cursor of a backfill selection."""
        rows = self._read("SELECT cursor FROM checkpoints WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def save_checkpoint(self, name: str, cursor: str) -> None:
        """Save where a backfill selection may resume."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints (name, cursor, updated) VALUES (?, ?, ?)",
                (name, cursor, self.clock()),
            )

    def _read(self, query: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return list(self._db.execute(query, args).fetchall())
        except sqlite3.Error as exc:
            raise OutboxUnavailable(self._explain(exc), docs="outbox.md") from None
