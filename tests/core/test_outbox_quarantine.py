"""One bad row never blocks delivery (issue 16 item 3).

A kept record whose body is not JSON, is JSON but not an object, does not validate against the
contract, or is not even text is *quarantined*: kept, listed by ``customcd outbox list`` as
``unreadable`` with the reason, never POSTed by a replay or a flush, and never in the way of the
other records; ``send`` still sends its own record. The rows are corrupted directly in the SQLite
file, as a damaged disk, a hand edit or another tool would.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from customcd.delivery.outbox import Outbox
from helpers_delivery import Harness, body_for, body_json_for, key_for, listed

#: job id of the kept record -> what its body becomes in the file, and what the reason says
DAMAGE = {
    "not-json": ('{"job_id": "not-json", "commit_sha": ', "the body is not JSON"),
    "a-list": ("[1, 2, 3]", "the body is JSON but not an object (a list)"),
    "a-string": ('"just a string"', "the body is JSON but not an object (a str)"),
    "off-contract": (
        json.dumps({"job_id": "off-contract", "service_id": "two"}),
        "the body breaks the contract",
    ),
    "bytes": (b"\xff\xfe\x00 not utf-8", "the body is not UTF-8 text"),
    "a-number": (5, "the body is JSON but not an object (a int)"),  # TEXT affinity: "5"
}
GOOD = ["good-1", "good-2"]


def damage(path: Path) -> None:
    """Keep GOOD and DAMAGE records (oldest first), then corrupt the DAMAGE rows in the file."""
    box = Outbox(path)
    for job_id in [GOOD[0], *DAMAGE, GOOD[1]]:
        box.add(key_for(body_for(job_id)), body_json_for(body_for(job_id)))
    box.close()
    db = sqlite3.connect(str(path))
    with db:
        for job_id, (raw, _) in DAMAGE.items():
            db.execute(
                "UPDATE records SET body = ? WHERE key = ?", (raw, key_for(body_for(job_id)))
            )
    db.close()


def states(path: Path) -> dict[str, str]:
    """key -> state column, read straight from the file."""
    db = sqlite3.connect(str(path))
    try:
        return {str(k): str(s) for k, s in db.execute("SELECT key, state FROM records")}
    finally:
        db.close()


def bad_keys() -> set[str]:
    return {key_for(body_for(job_id)) for job_id in DAMAGE}


def test_outbox_list_shows_each_bad_row_as_unreadable_with_why(harness: Harness, receiver) -> None:
    damage(harness.outbox_path)
    run = harness.run(["outbox", "list"], harness.env(receiver.url))
    assert run.exit_code == 0, run.stderr
    assert f"{len(GOOD) + len(DAMAGE)} kept" in run.stdout
    rows = [line for line in run.stdout.splitlines() if line.startswith("unreadable")]
    assert len(rows) == len(DAMAGE), run.stdout
    assert sum(line.startswith("pending") for line in run.stdout.splitlines()) == len(GOOD)
    for _, why in DAMAGE.values():
        assert any(why[:40] in line for line in rows), (why, rows)

    entries = {e["key"]: e for e in listed(harness, receiver.url)}
    for job_id, (raw, why) in DAMAGE.items():
        entry = entries[key_for(body_for(job_id))]
        assert entry["state"] == "unreadable" and entry["body"] is None
        assert entry["reason"].startswith(why)
        if isinstance(raw, str):
            assert entry["raw"] == raw  # the stored text, to recover by hand
    for job_id in GOOD:
        assert entries[key_for(body_for(job_id))]["body"] == body_for(job_id)


def test_send_replays_the_good_rows_sends_its_own_and_never_posts_a_bad_one(
    harness: Harness, receiver
) -> None:
    damage(harness.outbox_path)
    run = harness.send(receiver.url, "--strict")
    assert run.exit_code == 0, run.stderr
    assert sorted(b["job_id"] for b in receiver.accepted) == sorted([*GOOD, "42"])
    assert all(r.status == 201 for r in receiver.requests)  # nothing unsendable was POSTed
    warnings = [line for line in run.stderr.splitlines() if "is unreadable" in line]
    assert len(warnings) == len(DAMAGE), run.stderr
    assert all("quarantined: it stays in the outbox and is never sent" in w for w in warnings)
    # quarantined: kept in the file, with their reason, never claimable again
    assert {k: s for k, s in states(harness.outbox_path).items()} == {
        key: "unreadable" for key in bad_keys()
    }

    again = harness.send(receiver.url, job_id="43")
    assert "is unreadable" not in again.stderr  # said once, when quarantined
    assert sorted(b["job_id"] for b in receiver.accepted) == sorted([*GOOD, "42", "43"])


@pytest.mark.parametrize("strict", [[], ["--strict"]])
def test_flush_skips_bad_rows_and_exits_0(harness: Harness, receiver, strict) -> None:
    damage(harness.outbox_path)
    run = harness.flush(receiver.url, *strict)
    assert run.exit_code == 0, run.stderr
    assert sorted(b["job_id"] for b in receiver.accepted) == GOOD
    assert len(receiver.requests) == len(GOOD)
    assert (
        f"flushed {len(GOOD)} record(s); 0 still pending; {len(DAMAGE)} unreadable "
        "(quarantined, never sent)"
    ) in run.stderr
    again = harness.flush(receiver.url, "--rejected", *strict)
    assert again.exit_code == 0
    assert len(receiver.requests) == len(GOOD)  # a quarantined row is not "rejected"


def test_a_damaged_copy_of_the_record_being_sent_is_replaced_by_it(
    harness: Harness, receiver
) -> None:
    key = key_for(body_for("42"))
    box = Outbox(harness.outbox_path)
    box.add(key, body_json_for(body_for("42")))
    box.close()
    db = sqlite3.connect(str(harness.outbox_path))
    with db:
        db.execute("UPDATE records SET body = '[]' WHERE key = ?", (key,))
    db.close()
    harness.flush(receiver.url)  # quarantines it
    assert states(harness.outbox_path) == {key: "unreadable"}
    run = harness.send(receiver.url, "--strict")
    assert run.exit_code == 0, run.stderr
    assert receiver.accepted == [body_for("42")]
    assert states(harness.outbox_path) == {}


def test_damaged_lease_and_number_columns_do_not_stop_anything(harness: Harness, receiver) -> None:
    box = Outbox(harness.outbox_path)
    for job_id in GOOD:
        box.add(key_for(body_for(job_id)), body_json_for(body_for(job_id)))
    box.close()
    db = sqlite3.connect(str(harness.outbox_path))
    with db:
        db.execute(
            "UPDATE records SET lease_owner = 'x', lease_until = 'soon', attempts = 'many', "
            "created = 'yesterday', last_status = 'bad'"
        )
    db.close()
    listing = harness.run(["outbox", "list"], harness.env(receiver.url))
    assert listing.exit_code == 0, listing.stderr
    run = harness.send(receiver.url, "--strict")
    assert run.exit_code == 0, run.stderr
    assert sorted(b["job_id"] for b in receiver.accepted) == sorted([*GOOD, "42"])
