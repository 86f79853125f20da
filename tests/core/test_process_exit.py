"""The ``customcd`` process ends without a last garbage collection over everything it imported.

:func:`customcd.cli.main.main` called as the process's entry point (no ``argv``) freezes the
objects at exit (``gc.freeze`` through ``atexit``), after the command has finished; called with
``argv`` (a program, a test) it leaves the collector alone. A record sent by such a process is
delivered and the outbox it leaves is consistent.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

#: Runs main() the way the console script does (argv None) or as a program does (argv given);
#: an atexit hook registered before main() runs after main()'s own, and reports the freeze.
_CHILD = r"""
import atexit, gc, json, sys
mode = sys.argv.pop(1)
atexit.register(lambda: print(json.dumps({"frozen": gc.get_freeze_count()}), file=sys.stderr))
from customcd.cli.main import main
main() if mode == "entry" else main(sys.argv[1:])
"""


def _run(mode: str, args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, int]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, *args],
        env={**inherited, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    frozen = json.loads(proc.stderr.strip().splitlines()[-1])["frozen"]
    return proc.returncode, proc.stderr, frozen


def test_entry_point_freezes_at_exit_and_a_caller_does_not(customcd_env, tmp_path):
    env = {**customcd_env, "CUSTOMCD_OUTBOX": str(tmp_path / "outbox.sqlite3")}
    code, _, frozen = _run("entry", ["--version"], env, tmp_path)
    assert code == 0 and frozen > 0
    code, _, frozen = _run("program", ["--version"], env, tmp_path)
    assert code == 0 and frozen == 0


def test_a_send_that_skips_the_exit_collection_delivers_and_leaves_a_sound_outbox(
    customcd_env, customcd_receiver, tmp_path
):
    outbox = tmp_path / "outbox.sqlite3"
    env = {**customcd_env, "CUSTOMCD_OUTBOX": str(outbox), "CUSTOMCD_STRICT": "1"}
    args = [
        "send",
        "--adapter",
        "none",
        "--job-id",
        "exit-1",
        "--commit-sha",
        "4f9a3c2e1b0d8f7a6e5d4c3b2a1f0e9d8c7b6a59",
        "--service-id",
        "2",
        "--repo-name",
        "acme/shop",
        "--start-time",
        "2024-01-01T10:00:00Z",
        "--duration",
        "300",
        "--status",
        "Succeeded",
    ]
    code, stderr, frozen = _run("entry", args, env, tmp_path)
    assert code == 0, stderr
    assert frozen > 0
    assert [body["job_id"] for body in customcd_receiver.accepted] == ["exit-1"]
    with sqlite3.connect(outbox) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM records").fetchone() == (0,)
        assert db.execute("SELECT job_id FROM ledger").fetchall() == [("exit-1",)]
