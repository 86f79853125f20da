"""Messages say what really happened (issue 16 item 11): flush counts deliveries, not attempts;
a URL is masked only where it holds credentials.

(The outbox messages -- "NOT kept" when the outbox is unusable, one outbox failure said once --
are in test_delivery_broken_outbox.py; the TLS advice in test_tls_advice.py.)
"""

from __future__ import annotations

import pytest
from customcd.contract.problems import ConfigurationError
from customcd.delivery.outbox import Outbox
from customcd.delivery.transport import Endpoint
from customcd.receiver import Fault
from helpers_delivery import Harness, body_for, body_json_for, closed_port, key_for


def keep(harness: Harness, *job_ids: str) -> None:
    box = Outbox(harness.outbox_path)
    for job_id in job_ids:
        box.add(key_for(body_for(job_id)), body_json_for(body_for(job_id)))
    box.close()


def test_flush_counts_deliveries_not_attempts(harness: Harness) -> None:
    keep(harness, "1", "2", "3")
    run = harness.flush(f"http://127.0.0.1:{closed_port()}", CUSTOMCD_DEADLINE="2")
    assert run.exit_code == 0
    assert "customcd: flushed 0 record(s); 3 still pending" in run.stderr, run.stderr


def test_flush_says_rejected_records_apart(harness: Harness, receiver) -> None:
    keep(harness, "1", "2", "3")
    receiver.inject(Fault(422))  # the oldest is refused for good; the others arrive
    run = harness.flush(receiver.url)
    assert run.exit_code == 0
    assert "customcd: flushed 2 record(s); 0 still pending; 1 rejected" in run.stderr
    assert sorted(b["job_id"] for b in receiver.accepted) == ["2", "3"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://allstacks.example.com#top@x", "'https://allstacks.example.com'"),
        ("https://allstacks.example.com/#/jobs@2", "'https://allstacks.example.com/'"),
        ("https://allstacks.example.com?who=a@b", "'https://allstacks.example.com'"),
    ],
)
def test_a_fragment_or_query_with_an_at_sign_is_not_masked_as_credentials(url, shown) -> None:
    with pytest.raises(ConfigurationError) as info:
        Endpoint.parse(url, "1")
    assert f"CUSTOMCD_URL {shown} must not have a query or fragment" in str(info.value)
    assert "***" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    ["https://admin:hunter2secret@allstacks.example.com:99999", "https://admin:hunter2secret@[x"],
)
def test_credentials_in_a_url_are_still_masked(url) -> None:
    with pytest.raises(ConfigurationError) as info:
        Endpoint.parse(url, "1")
    assert "hunter2secret" not in str(info.value) and "admin" not in str(info.value)
