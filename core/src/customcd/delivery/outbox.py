"""The durable outbox and the delivery ledger (SQLite, WAL, full sync).

A record is written here before its first attempt and removed only after a 2xx, in the same
transaction that adds it to the ledger. The ledger keeps the idempotency keys of delivered records,
so no replay or backfill sends a delivered record again. Several processes may share one outbox:
a record is *claimed* (leased) by one process before it is sent; a lease held by a process that
died (same host, PID gone) or that ran past its lease is taken over. No token is ever stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract.problems import CustomcdError

__all__ = ["Outbox", "OutboxEntry", "OutboxUnavailable"]

_SCHEMA = """
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
"""


class OutboxUnavailable(CustomcdError):
    """The outbox cannot be opened or written (corrupt, unreadable, read-only, full disk)."""

    exit_code = 74


@dataclass(frozen=True)
class OutboxEntry:
    """A kept record.

    :param key: its idempotency key.
    :param body: the wire body.
    :param state: ``pending`` (will be retried) or ``rejected`` (permanent; kept with the reason).
    :param created: when it was first stored (epoch s).
    :param updated: when it last changed.
    :param attempts: HTTP attempts made so far, all runs together.
    :param last_status: the last HTTP status, if any.
    :param reason: the last error or the server's reason.
    """

    key: str
    body: dict[str, Any]
    state: str
    created: float
    updated: float
    attempts: int
    last_status: int | None
    reason: str


def _owner() -> str:
    """``host:pid:nonce``: the nonce tells apart processes of equal host name and PID (containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _lease_dead(owner: str | None) -> bool:
    """True when the lease belongs to a process on this host that no longer runs."""
    if not owner:
        return True
    host_pid = owner.rpartition(":")[0]  # drop the nonce
    host, _, pid = host_pid.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def _companions(path: Path) -> list[Path]:
    """SQLite's write-ahead log and shared-memory files beside the database (they hold bodies)."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _create_owner_only(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite gives the ``-wal`` and ``-shm`` files it creates the database file's permissions, so
    a database born ``0600`` keeps every file that holds record bodies owner-only.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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
        self.owner = _owner()
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_owner_only(self.path)
            self._db = sqlite3.connect(
                str(self.path), timeout=15.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 15000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxUnavailable(self._explain(exc), docs="outbox.md") from None
        for made in (self.path, *_companions(self.path)):
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
        if owner and until and until > now:
            if owner == self.owner:
                return "busy"
            if not _lease_dead(owner):
                return "taken"
        db.execute(
            "UPDATE records SET lease_owner = ?, lease_until = ? WHERE key = ?",
            (self.owner, now + lease, key),
        )
        return "claimed"

    def claim(self, key: str, lease: float) -> str | None:
        """Lease one pending record for this process; return its body, or ``None`` if taken."""
        now = self.clock()
        with self._write() as db:
            if db.execute("SELECT 1 FROM ledger WHERE key = ?", (key,)).fetchone():
                return None
            row = db.execute("SELECT body FROM records WHERE key = ?", (key,)).fetchone()
            if row is None or self._lease_in(db, key, now, lease) != "claimed":
                return None
            return str(row[0])

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
        """Kept records (pending and rejected), oldest first."""
        query = (
            "SELECT key, body, state, created, updated, attempts, last_status, reason FROM records"
        )
        args: tuple[Any, ...] = ()
        if state:
            query += " WHERE state = ?"
            args = (state,)
        rows = self._read(query + " ORDER BY created", args)
        return [
            OutboxEntry(
                str(r[0]),
                json.loads(r[1]),
                str(r[2]),
                float(r[3]),
                float(r[4]),
                int(r[5]),
                r[6],
                str(r[7]),
            )
            for r in rows
        ]

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
