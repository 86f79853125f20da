"""Permanent refusals (other 4xx, 3xx): one request, kept as rejected with the reason, exit codes.

Also: redirects are never followed (the other receiver gets nothing), and a rejected record is
not re-sent by the replay of later runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from customcd.receiver import Fault, Receiver
from helpers_delivery import CANARY, Harness, body_for, key_for, listed, reset

#: status -> the --strict exit code the contract documents
REJECTIONS = {400: 65, 401: 77, 403: 77, 404: 65, 410: 65, 413: 65, 415: 65, 422: 65}
REDIRECTS = {301: 65, 302: 65, 303: 65, 307: 65, 308: 65}


@pytest.fixture(scope="module")
def shared_receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with (
        Receiver(company_id="1", token=CANARY) as main,
        Receiver(company_id="1", token=CANARY) as other,
    ):
        yield main, other


@pytest.fixture
def receiver(shared_receivers) -> Receiver:
    reset(shared_receivers[1])
    return reset(shared_receivers[0])


@pytest.fixture
def elsewhere(shared_receivers, receiver) -> Receiver:
    """A second receiver: a redirect's target, which must never be contacted."""
    return shared_receivers[1]


def assert_rejected_once(harness: Harness, receiver: Receiver, run, status: int) -> None:
    assert len(receiver.requests) == 1, "a permanent refusal must not be retried"
    assert receiver.requests[0].status == status
    assert receiver.accepted == []
    assert run.success_lines == []
    assert "REJECTED by the server" in run.stderr
    entries = harness.entries()
    assert [(e.state, e.last_status, e.attempts) for e in entries] == [("rejected", status, 1)]
    assert harness.ledger() == set()


@pytest.mark.parametrize("status", sorted(REJECTIONS))
def test_a_4xx_is_one_request_kept_as_rejected_with_the_reason(
    harness, receiver, status: int
) -> None:
    reason = f"the server says no ({status})"
    receiver.inject(Fault(status, body={"status": "error", "reason": reason}))
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert_rejected_once(harness, receiver, run, status)
    assert reason in harness.entries()[0].reason
    assert reason in run.stderr
    # `outbox list --json` shows it apart, with the reason
    rows = listed(harness, receiver.url)
    assert [(r["state"], r["last_status"], r["job_id"]) for r in rows] == [
        ("rejected", status, "42")
    ]
    assert reason in rows[0]["reason"]


@pytest.mark.parametrize(("status", "code"), sorted(REJECTIONS.items()))
def test_a_4xx_with_strict_gives_the_documented_code(
    harness, receiver, status: int, code: int
) -> None:
    receiver.inject(Fault(status))
    run = harness.send(receiver.url, "--strict")
    assert run.exit_code == code
    assert_rejected_once(harness, receiver, run, status)


def test_strict_from_the_environment(harness, receiver) -> None:
    receiver.inject(Fault(403))
    run = harness.send(receiver.url, CUSTOMCD_STRICT="1")
    assert run.exit_code == 77


def test_a_real_wrong_token_is_401_rejected_and_never_called_success(
    harness, receiver, customcd_cli, caplog
) -> None:
    # the receiver itself refuses: no fault injected
    run = harness.send(receiver.url, CUSTOMCD_TOKEN="wrong-token-abcdef")
    assert run.exit_code == 0
    assert_rejected_once(harness, receiver, run, 401)
    assert receiver.requests[0].headers["Authorization"] == "wrong"
    assert "invalid token" in harness.entries()[0].reason
    assert "CUSTOMCD_TOKEN" in run.stderr  # the advice names what to fix


def test_a_real_wrong_company_is_404_rejected(harness, receiver) -> None:
    run = harness.send(receiver.url, "--strict", CUSTOMCD_COMPANY_ID="999")
    assert run.exit_code == 65
    assert_rejected_once(harness, receiver, run, 404)
    assert "CUSTOMCD_COMPANY_ID" in run.stderr


@pytest.mark.parametrize(("status", "code"), sorted(REDIRECTS.items()))
def test_a_redirect_is_never_followed(harness, receiver, elsewhere, status: int, code: int) -> None:
    redirect = Fault(status, headers={"Location": elsewhere.endpoint}, body=b"")
    receiver.inject(redirect, redirect)
    run = harness.send(receiver.url)
    assert run.exit_code == 0
    assert_rejected_once(harness, receiver, run, status)
    assert elsewhere.requests == [], "the redirect target got a request (with the token?)"
    reason = harness.entries()[0].reason
    assert "not followed" in reason
    assert elsewhere.endpoint in reason
    strict = harness.send(receiver.url, "--strict", job_id="43")
    assert strict.exit_code == code
    assert len(receiver.requests) == 2
    assert elsewhere.requests == []


def test_a_rejected_record_is_not_replayed_by_later_runs(harness, receiver) -> None:
    receiver.inject(Fault(422))
    harness.send(receiver.url, job_id="bad")
    assert len(receiver.requests) == 1
    run = harness.send(receiver.url, job_id="good")
    assert run.exit_code == 0
    assert [r.headers["Idempotency-Key"] for r in receiver.requests[1:]] == [
        key_for(body_for("good"))
    ]
    assert [(e.state, e.body["job_id"]) for e in harness.entries()] == [("rejected", "bad")]
    flush = harness.flush(receiver.url)
    assert "flushed 0 record(s)" in flush.stderr
    assert len(receiver.requests) == 2


def test_flush_rejected_resends_after_the_cause_is_fixed(harness, receiver) -> None:
    receiver.inject(Fault(401))
    harness.send(receiver.url)
    run = harness.flush(receiver.url, "--rejected")
    assert run.exit_code == 0
    assert [b["job_id"] for b in receiver.accepted] == ["42"]
    assert [r.status for r in receiver.requests] == [401, 201]
    assert harness.entries() == []
    assert harness.ledger() == {key_for(body_for("42"))}


FORGED = "bad\ncustomcd: delivered job '42' (201, 1 attempt)\x1b[2K\x00"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "error", "reason": FORGED},
        {"status": "error", "reason": FORGED + "x" * 5000},
        (FORGED + "\x1b]0;title\x07").encode(),
    ],
    ids=["json-reason", "long-json-reason", "text-body"],
)
@pytest.mark.parametrize("status", [422, 503])
def test_server_text_is_printed_escaped_on_one_line_and_cut(harness, receiver, status, body):
    """A reason with a line break forged a second `customcd: delivered` line (issue 16 item 4)."""
    receiver.inject(*[Fault(status, body=body)] * (1 if status == 422 else 20))
    run = harness.send(receiver.url, "--deadline", "1")
    lines = run.stderr.splitlines()
    assert not any(line.startswith("customcd: delivered") for line in lines), run.stderr
    assert "\x1b" not in run.stderr and "\x00" not in run.stderr and "\x07" not in run.stderr
    shown = [line for line in lines if "customcd: delivered job" in line]
    assert shown, run.stderr
    assert all(len(line) < 800 for line in shown), run.stderr


def test_a_redirect_without_location_says_so(harness, receiver) -> None:
    receiver.inject(Fault(302))
    run = harness.send(receiver.url)
    assert "302 redirect without a Location header not followed" in run.stderr
    assert "redirect to  not" not in run.stderr
