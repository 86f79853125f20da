"""The run start time from the GitHub REST API, replayed from modelled cassettes."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import pytest
from customcd import AdapterError
from customcd.contract.times import to_epoch

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "github_actions"


@pytest.mark.vcr("run_success.yaml")
def test_start_time_from_the_run(adapter, make_context, token, caplog, vcr):
    caplog.set_level(logging.DEBUG)
    draft = adapter.collect(make_context({"GITHUB_TOKEN": token}))
    assert vcr.play_count == 1

    assert draft.job_start_time == "2025-11-29T07:06:38Z"
    assert to_epoch(draft.job_start_time) == 1764400000 - 2
    assert any("run_started_at" in note for note in draft.notes)
    url = "https://api.github.com/repos/acme/payments-api/actions/runs/12087465391"
    assert f"GET {url}" in caplog.text
    assert token not in caplog.text
    assert all(token not in note for note in draft.notes)


@pytest.mark.vcr("run_attempt_success.yaml")
def test_rerun_reads_its_own_attempt(adapter, make_context, token, vcr):
    env = {
        "GITHUB_TOKEN": token,
        "GITHUB_RUN_ID": "12091873024",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_SHA": "c04d7a9e15b3f862d0a4e7c91b5f3a28d6e0b947",
    }
    draft = adapter.collect(make_context(env))
    assert vcr.play_count == 1  # .../runs/12091873024/attempts/2, not the run itself

    # The attempt started long after the run was created: its own start is what we want.
    assert draft.job_start_time == "2025-11-29T09:02:51Z"
    assert draft.job_id == "12091873024-2-deploy-production"


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(
            ["401", "Bad credentials", "GITHUB_TOKEN", "--start-time"],
            marks=pytest.mark.vcr("run_401.yaml"),
            id="401",
        ),
        pytest.param(
            ["403", "Resource not accessible by integration", "actions: read"],
            marks=pytest.mark.vcr("run_403.yaml"),
            id="403",
        ),
        pytest.param(
            ["404", "Not Found", "actions: read", "GITHUB_RUN_ID"],
            marks=pytest.mark.vcr("run_404.yaml"),
            id="404",
        ),
    ],
)
def test_refusals_are_clear_and_never_show_the_token(
    adapter, make_context, token, caplog, vcr, expected
):
    caplog.set_level(logging.DEBUG)
    assert vcr.play_count == 0
    with pytest.raises(AdapterError) as info:
        adapter.collect(make_context({"GITHUB_TOKEN": token}))

    message = str(info.value)
    for part in expected:
        assert part in message
    assert "https://api.github.com/repos/acme/payments-api/actions/runs/12087465391" in message
    assert info.value.docs == "github-actions.md"
    assert token not in message
    assert token not in caplog.text
    assert vcr.play_count == 1


def test_cassettes_hold_no_token():
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        text = path.read_text()
        assert "ghs_" not in text and "ghp_" not in text and "Bearer" not in text, path.name
        assert "Authorization:\n      - REDACTED" in text, path.name


def test_timeout_is_bounded_by_the_context(adapter, make_context, token):
    # A server that accepts the connection and never answers.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        context = make_context(
            {"GITHUB_TOKEN": token, "GITHUB_API_URL": f"http://127.0.0.1:{port}"}
        )
        context = type(context)(env=context.env, overrides={}, timeout=0.3, now=context.now)
        timer = threading.Timer(5.0, server.close)  # never hang the suite
        timer.start()
        with pytest.raises(AdapterError, match=r"did not answer within 0\.3 s"):
            adapter.collect(context)
        timer.cancel()
    finally:
        server.close()


def test_unreachable_api_names_the_variable(adapter, make_context, token):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"GITHUB_TOKEN": token, "GITHUB_API_URL": f"http://127.0.0.1:{port}/api/v3"}
    with pytest.raises(AdapterError) as info:
        adapter.collect(make_context(env))
    assert "GITHUB_API_URL" in str(info.value)
    url = f"http://127.0.0.1:{port}/api/v3/repos/acme/payments-api/actions/runs/12087465391"
    assert url in str(info.value)
    assert token not in str(info.value)
