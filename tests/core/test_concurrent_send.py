"""Concurrent sends report what really happened (issue 16 item 2).

A ``send`` stores its record leased to itself before it replays older records, so no other
process's replay takes it; where another live process does hold the record (the same record sent
twice at once), it waits for that process's outcome within its deadline and reports it. The last
test runs 32 real ``customcd send`` processes on one outbox against a receiver failing 30 % of
requests.
"""

from __future__ import annotations

import io
import threading

import pytest
from customcd.delivery.outbox import Outbox
from helpers_concurrent import run_concurrent_sends
from helpers_delivery import Harness, body_for, body_json_for, key_for


def hold(harness: Harness, job_id: str = "42") -> Outbox:
    """Another process (another outbox handle: its own lease owner) holds the record's lease."""
    other = Outbox(harness.outbox_path)
    body = body_for(job_id)
    assert other.add(key_for(body), body_json_for(body), claim_for=120) == "claimed"
    return other


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_the_current_record_is_leased_before_the_replay(harness: Harness, receiver) -> None:
    from customcd.config import Config
    from customcd.pipeline import run_send
    from customcd.plugins.hookspecs import hookimpl
    from customcd.plugins.manager import get_plugin_manager
    from customcd.report import Reporter
    from customcd.secret import Secret
    from helpers_delivery import CANARY

    old = body_for("old")
    box = Outbox(harness.outbox_path)
    box.add(key_for(old), body_json_for(old))
    box.close()
    current = key_for(body_for("42"))
    seen: dict[str, object] = {}

    class Observer:
        @hookimpl
        def customcd_outcome(self, outcome):
            if outcome.key == key_for(old):  # during the replay, another process looks
                other = Outbox(harness.outbox_path)
                seen["claimed by another"] = other.claim(current, 30)
                other.close()

    plugins = get_plugin_manager({}, entry_points=[], extra=[("observer", Observer())])
    config = Config(
        url=receiver.url,
        company_id="1",
        token=Secret(CANARY),
        outbox=harness.outbox_path,
        deadline=5,
        timeout=2,
    )
    flags = {
        "job_id": "42",
        "commit_sha": body_for("42")["commit_sha"],
        "service_id": "2",
        "repo_name": "acme/shop",
        "job_start_time": "1704018030",
        "job_duration": "300",
        "status": "Succeeded",
    }
    result = run_send(
        plugins=plugins, config=config, env={}, flags=flags, reporter=Reporter(io.StringIO())
    )
    assert seen == {"claimed by another": None}  # leased: no other replay could take it
    assert result.outcome.kind == "delivered" and result.outcome.attempts == 1
    assert sorted(b["job_id"] for b in receiver.accepted) == ["42", "old"]


def test_a_record_another_process_delivers_meanwhile_is_reported_delivered(
    harness: Harness, receiver
) -> None:
    other = hold(harness)
    # the other process delivers while this one waits for it: 3 s leaves the send (a new process,
    # 0.3-1.5 s to start on a loaded 2-CPU machine) time to find the record leased first; a send
    # that started after the delivery would find it in the ledger instead ("delivered before")
    timer = later(3.0, lambda: other.delivered(key_for(body_for("42")), "42", 201))
    run = harness.send(receiver.url, "--strict")
    timer.join()
    other.close()
    assert run.exit_code == 0, run.stderr
    assert "customcd: delivered job '42' (201, sent by another customcd process)" in run.stderr
    assert "NOT delivered" not in run.stderr
    assert receiver.requests == []  # the other process sent it; this one did not


def test_a_record_another_process_gives_back_is_sent_by_this_one(
    harness: Harness, receiver
) -> None:
    other = hold(harness)
    key = key_for(body_for("42"))
    timer = later(0.5, lambda: other.release(key, 1, 503, "503 Service Unavailable"))
    run = harness.send(receiver.url, "--strict")
    timer.join()
    other.close()
    assert run.exit_code == 0, run.stderr
    assert "customcd: delivered job '42' (201, 1 attempt)" in run.stderr
    assert receiver.accepted == [body_for("42")]


def test_a_holder_that_outlives_the_deadline_is_said_honestly(harness: Harness, receiver) -> None:
    other = hold(harness)
    run = harness.send(receiver.url, "--strict", CUSTOMCD_DEADLINE="1.5")
    other.close()
    assert run.exit_code == 75
    assert (
        "NOT delivered yet (another customcd process is still sending this record; 0 attempts)"
    ) in run.stderr
    assert run.seconds < 4
    assert receiver.requests == []


@pytest.mark.soak  # about 20-40 s on two shared cores; runs by default (and in .ci/run)
def test_32_processes_sending_at_once_report_truly_and_deliver_each_record_once(
    tmp_path,
) -> None:
    stats = run_concurrent_sends(tmp_path, processes=32, records=10, failing=0.3)
    print(stats.as_dict())
    assert stats.records >= 300
    assert stats.spurious == [], stats.spurious[:5]
    assert stats.misreported == [], stats.misreported[:5]
    assert stats.wrong_exit_codes == [], stats.wrong_exit_codes[:5]
    assert stats.duplicates == 0
    assert stats.lost == 0
    assert stats.failed_requests > 0.2 * stats.requests  # the receiver really failed often
    assert stats.seconds < 180  # about 25 s of two idle cores (45 s of CPU); a guard against a hang
