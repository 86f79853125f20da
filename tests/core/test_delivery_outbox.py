"""The durable outbox and the ledger: stored before the first attempt, removed after a 2xx only,
replayed by later runs, never sent twice, safe with several processes at once.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from customcd.delivery.outbox import Outbox
from customcd.receiver import Fault, Receiver
from helpers_delivery import (
    CANARY,
    assert_no_canary,
    body_for,
    body_json_for,
    key_for,
    listed,
    ok_requests_per_key,
    requests_per_key,
    stored_keys,
)


class WatchingReceiver(Receiver):
    """Notes, for every request, whether its key was already stored in the outbox."""

    def __init__(self, outbox: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outbox_path = outbox
        self.stored_at_request: list[bool] = []

    def answer(self, path, headers, body):  # type: ignore[no-untyped-def]
        key = headers.get("Idempotency-Key")
        self.stored_at_request.append(key in stored_keys(self.outbox_path))
        return super().answer(path, headers, body)


class SlowReceiver(Receiver):
    """Takes ``pause`` seconds per answer, so that concurrent processes overlap."""

    pause = 0.02

    def answer(self, path, headers, body):  # type: ignore[no-untyped-def]
        threading.Event().wait(self.pause)
        return super().answer(path, headers, body)


def keep(path: Path, *job_ids: str) -> list[str]:
    """Store pending records as an earlier run would have; return their keys."""
    box = Outbox(path)
    keys = []
    for job_id in job_ids:
        body = body_for(job_id)
        keys.append(key_for(body))
        assert box.add(keys[-1], body_json_for(body)) == "new"
    box.close()
    return keys


def test_the_record_is_stored_before_the_first_attempt_and_removed_after_the_2xx(
    harness, tmp_path
) -> None:
    with WatchingReceiver(harness.outbox_path, company_id="1", token=CANARY) as server:
        server.inject(Fault(503))
        run = harness.send(server.url)
        assert run.exit_code == 0
        assert server.stored_at_request == [True, True]
        assert [r.status for r in server.requests] == [503, 201]
    assert stored_keys(harness.outbox_path) == set()
    assert harness.ledger() == {key_for(body_for("42"))}


def test_a_pending_record_keeps_attempts_status_and_reason(harness, receiver) -> None:
    receiver.inject(*[Fault(503, body={"reason": "maintenance"})] * 10)
    run = harness.send(receiver.url, CUSTOMCD_DEADLINE="1.2")
    assert run.exit_code == 0
    (entry,) = harness.entries()
    assert entry.state == "pending"
    assert entry.last_status == 503
    assert entry.attempts == len(receiver.requests) >= 1
    assert "maintenance" in entry.reason
    assert entry.body == body_for("42")
    rows = listed(harness, receiver.url)
    assert [(r["state"], r["job_id"], r["last_status"]) for r in rows] == [("pending", "42", 503)]
    table = harness.run(["outbox", "list"], harness.env(receiver.url))
    assert "1 kept, 0 delivered" in table.stdout
    assert "pending" in table.stdout


def test_the_outbox_file_is_private(harness, receiver) -> None:
    harness.send(receiver.url)
    mode = stat.S_IMODE(harness.outbox_path.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)


def test_the_next_send_replays_kept_records_first_then_sends_its_own(harness, receiver) -> None:
    old = keep(harness.outbox_path, "old-1", "old-2")
    run = harness.send(receiver.url, job_id="new")
    assert run.exit_code == 0
    sent = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert sent == [*old, key_for(body_for("new"))]
    assert sorted(b["job_id"] for b in receiver.accepted) == ["new", "old-1", "old-2"]
    assert "(replay)" in run.stderr
    assert harness.entries() == []
    assert len(harness.ledger()) == 3


def test_no_replay_leaves_kept_records_alone(harness, receiver) -> None:
    keep(harness.outbox_path, "old-1")
    harness.send(receiver.url, "--no-replay", job_id="new")
    assert [b["job_id"] for b in receiver.accepted] == ["new"]
    assert [e.body["job_id"] for e in harness.entries()] == ["old-1"]


def test_replay_stops_at_the_first_failure_and_still_sends_the_current_record(
    harness, receiver
) -> None:
    keep(harness.outbox_path, "old-1", "old-2", "old-3")
    receiver.inject(Fault(503))  # the first replayed record fails: replay stops there
    run = harness.send(receiver.url, job_id="new")
    assert run.exit_code == 0
    assert [b["job_id"] for b in receiver.accepted] == ["new"]
    assert sorted(e.body["job_id"] for e in harness.entries()) == ["old-1", "old-2", "old-3"]


def test_a_delivered_record_is_never_sent_again(harness, receiver) -> None:
    harness.send(receiver.url)
    assert len(receiver.requests) == 1
    again = harness.send(receiver.url)
    assert again.exit_code == 0
    assert "was delivered before; not sent again" in again.stderr
    assert again.success_lines == []  # no second success claim either
    flushed = harness.flush(receiver.url, "--rejected")
    assert "flushed 0 record(s)" in flushed.stderr
    assert len(receiver.requests) == 1
    # the same record stored again by hand (e.g. a stale copy) is still refused by the ledger
    box = Outbox(harness.outbox_path)
    assert box.add(key_for(body_for("42")), body_json_for(body_for("42"))) == "delivered"
    box.close()


def test_the_ledger_survives_a_lost_2xx(harness, receiver) -> None:
    """A 2xx whose answer never arrived is re-sent with the same key; the server dedupes."""
    receiver.inject(Fault(201, drip=0.3))
    harness.send(receiver.url, CUSTOMCD_DEADLINE="1")
    harness.flush(receiver.url)
    keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
    assert keys == {key_for(body_for("42"))}
    assert {r.body for r in receiver.requests} == {body_json_for(body_for("42")).encode()}
    assert len(receiver.accepted) == 1


# -- several processes -------------------------------------------------------------------------


def subprocess_env(url: str, outbox: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
    env.update(
        CUSTOMCD_URL=url,
        CUSTOMCD_COMPANY_ID="1",
        CUSTOMCD_TOKEN=CANARY,
        CUSTOMCD_OUTBOX=str(outbox),
        CUSTOMCD_DEADLINE="20",
        CUSTOMCD_TIMEOUT="5",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def run_together(commands: list[list[str]], env: dict[str, str], cwd: Path) -> list[Any]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "customcd.cli.main", "-v", *command],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert_no_canary("a child's output", out + err)
        assert "Traceback" not in err, err
        results.append((proc.returncode, out, err))
    return results


def test_two_processes_flushing_one_outbox_deliver_each_record_once(tmp_path) -> None:
    outbox = tmp_path / "outbox.sqlite3"
    keys = keep(outbox, *[f"job-{n}" for n in range(40)])
    with SlowReceiver(company_id="1", token=CANARY) as server:
        env = subprocess_env(server.url, outbox)
        results = run_together([["outbox", "flush"], ["outbox", "flush"]], env, tmp_path)
        assert [code for code, _, _ in results] == [0, 0]
        assert requests_per_key(server) == {key: 1 for key in keys}
        assert ok_requests_per_key(server) == {key: 1 for key in keys}
        assert sorted(b["job_id"] for b in server.accepted) == sorted(f"job-{n}" for n in range(40))
    flushed = [int(err.rsplit("flushed ", 1)[1].split(" ", 1)[0]) for _, _, err in results]
    assert sum(flushed) == 40, flushed
    box = Outbox(outbox)
    assert box.entries() == []
    assert box.ledger_size() == 40
    box.close()
    assert_no_canary("the outbox", outbox.read_bytes())


def test_two_processes_sending_the_same_record_at_once_send_it_once(tmp_path) -> None:
    outbox = tmp_path / "outbox.sqlite3"
    keep(outbox, *[f"old-{n}" for n in range(15)])
    args = [
        "send",
        "--adapter",
        "none",
        "--job-id",
        "same",
        "--commit-sha",
        body_for("x")["commit_sha"],
        "--service-id",
        "2",
        "--repo-name",
        "acme/shop",
        "--start-time",
        "1704018030",
        "--duration",
        "300",
        "--status",
        "Succeeded",
    ]
    with SlowReceiver(company_id="1", token=CANARY) as server:
        env = subprocess_env(server.url, outbox)
        results = run_together([args, args, ["outbox", "flush"]], env, tmp_path)
        assert [code for code, _, _ in results] == [0, 0, 0]
        # whatever interleaving happened, the final flush mops up; then each key was sent once
        run_together([["outbox", "flush"]], env, tmp_path)
        assert set(requests_per_key(server).values()) == {1}
        assert len(requests_per_key(server)) == 16
        assert sorted(json.dumps(b, sort_keys=True) for b in server.accepted) == sorted(
            {json.dumps(b, sort_keys=True) for b in server.accepted}
        )
    box = Outbox(outbox)
    assert box.entries() == []
    assert box.ledger_size() == 16
    box.close()


def test_the_write_ahead_log_and_shared_memory_files_are_private_from_birth(tmp_path) -> None:
    """-wal and -shm hold record bodies: they are owner-only even under a permissive umask."""
    from customcd.delivery.outbox import Outbox

    old_umask = os.umask(0o022)
    try:
        outbox = Outbox(tmp_path / "box" / "outbox.sqlite3")
        outbox.add("k1", '{"job_id": "1"}')
        files = sorted((tmp_path / "box").iterdir())
        assert {f.name for f in files} >= {"outbox.sqlite3", "outbox.sqlite3-wal"}, files
        for made in files:
            assert stat.S_IMODE(made.stat().st_mode) & 0o077 == 0, (made, oct(made.stat().st_mode))
        outbox.close()
    finally:
        os.umask(old_umask)
