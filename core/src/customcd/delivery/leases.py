"""Who holds a kept record, whether that process still runs, and the outbox files' privacy.

A lease names its owner as ``host:pid:nonce``; a lease held by a process of this host whose PID
is gone is dead and may be taken over at once (a lease of another host waits for its expiry).
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path

__all__ = ["companions", "create_owner_only", "lease_dead", "new_owner"]


def new_owner() -> str:
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


def lease_dead(owner: str | None) -> bool:
    """True when the lease belongs to a process on this host that no longer runs."""
    if not owner:
        return True
    host_pid = owner.rpartition(":")[0]  # drop the nonce
    host, _, pid = host_pid.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def companions(path: Path) -> list[Path]:
    """SQLite's write-ahead log and shared-memory files beside the database (they hold bodies)."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def create_owner_only(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite gives the ``-wal`` and ``-shm`` files it creates the database file's permissions, so
    a database born ``0600`` keeps every file that holds record bodies owner-only.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
