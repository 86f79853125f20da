"""The cycle collector of a ``customcd`` process (:mod:`customcd.cli.collector`).

:func:`customcd.cli.run`, the process's entry point (the console script), pauses the collector
while customcd starts, resumes it later with the start-up's objects frozen, and freezes the
objects at exit (``gc.freeze`` through ``atexit``) after the command has finished;
:func:`customcd.cli.main.main` called by a program or a test leaves the collector alone. A record sent by such a process is
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
if mode == "entry":
    from customcd.cli import run
    run()
else:
    from customcd.cli.main import main
    main(sys.argv[1:])
"""

#: The collector paused, then resumed with the objects alive at that moment frozen.
_RESUME = r"""
import gc, json, time, weakref
from customcd.cli import collector
class Node:
    pass
def cycle():
    node = Node()
    node.self = node  # only the cycle collector frees it
    return weakref.ref(node)
collector.RESUME_AFTER = 0.2
before = cycle()  # garbage made during start-up
collector.manage_collector()
paused = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
time.sleep(1.0)
resumed = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
after = cycle()  # garbage made after start-up
gc.collect()
kept = {"start-up": before() is not None, "later": after() is not None}
print(json.dumps({"paused": paused, "resumed": resumed, "kept": kept}))
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


def test_the_collector_pauses_at_start_and_resumes_with_the_start_up_frozen():
    proc = subprocess.run(
        [sys.executable, "-c", _RESUME], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["paused"] == {"enabled": False, "frozen": 0}
    assert report["resumed"]["enabled"] is True
    assert report["resumed"]["frozen"] > 0
    # start-up garbage is frozen (kept until exit); later garbage is collected as usual
    assert report["kept"] == {"start-up": True, "later": False}
