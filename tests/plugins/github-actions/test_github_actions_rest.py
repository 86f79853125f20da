"""The run start time from the GitHub REST API, replayed from modelled cassettes."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path

import pytest
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
    draft = adapter.collect(make_context({"GITHUB_TOKEN": token}))

    # the record is kept (best local evidence: here the report's time) and the refusal is said
    assert _optional(draft)["start_time_source"] == "report-time"
    message = caplog.text
    for part in expected:
        assert part in message
    assert "https://api.github.com/repos/acme/payments-api/actions/runs/12087465391" in message
    assert token not in message + repr(draft)
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
        context = type(context)(
            env=context.env,
            overrides={},
            timeout=0.3,
            now=context.now,
            log=logging.getLogger("tests.customcd_github_actions"),
        )
        timer = threading.Timer(5.0, server.close)  # never hang the suite
        timer.start()
        started = time.monotonic()
        with caplog_at_warning() as records:
            draft = adapter.collect(context)
        assert time.monotonic() - started < 3
        timer.cancel()
        assert any("did not answer within 0.3 s" in r.getMessage() for r in records)
        assert _optional(draft)["start_time_source"] == "report-time"
    finally:
        server.close()


def test_unreachable_api_names_the_variable(adapter, make_context, token):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"GITHUB_TOKEN": token, "GITHUB_API_URL": f"http://127.0.0.1:{port}/api/v3"}
    with caplog_at_warning() as records:
        draft = adapter.collect(make_context(env))
    text = " ".join(r.getMessage() for r in records)
    assert "GITHUB_API_URL" in text
    url = f"http://127.0.0.1:{port}/api/v3/repos/acme/payments-api/actions/runs/12087465391"
    assert url in text
    assert token not in text
    # GitHub unreachable: the record is still made (nothing is lost)
    assert draft.job_start_time == 1764400500 and draft.job_id == "12087465391-1-deploy-production"


def test_unreachable_api_uses_the_runners_event_file(adapter, make_context, token, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    event = tmp_path / "event.json"
    event.write_text('{"ref": "refs/heads/main"}')
    os.utime(event, (1764400050, 1764400050))
    env = {
        "GITHUB_TOKEN": token,
        "GITHUB_API_URL": f"http://127.0.0.1:{port}/api/v3",
        "GITHUB_EVENT_PATH": str(event),
    }
    draft = adapter.collect(make_context(env))
    assert draft.job_start_time == 1764400050
    assert _optional(draft)["start_time_source"] == "runner-event-file"


@contextlib.contextmanager
def caplog_at_warning():
    """The WARNING records of the adapter's logger during the block."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tests.customcd_github_actions")
    handler = Keep(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def _optional(draft):
    return {item["key"]: item["value"] for item in draft.optional}


#: The required fields of a workflow run (octokit/webhooks
#: payload-schemas/api.github.com/common/workflow-run.schema.json; the REST "Get a workflow run"
#: answer has them all, plus referenced_workflows).
WORKFLOW_RUN = {
    "artifacts_url", "cancel_url", "check_suite_url", "check_suite_id", "check_suite_node_id",
    "conclusion", "created_at", "event", "head_branch", "head_commit", "head_repository",
    "head_sha", "html_url", "id", "jobs_url", "logs_url", "node_id", "name", "pull_requests",
    "repository", "rerun_url", "run_number", "status", "updated_at", "url", "workflow_id",
    "workflow_url", "run_attempt", "run_started_at", "previous_attempt_url", "actor",
    "triggering_actor", "path", "display_title",
}  # fmt: skip


def test_run_cassettes_have_the_workflow_run_shape():
    import json

    import yaml

    bodies = 0
    for path in sorted(CASSETTES.glob("run_*success.yaml")):
        for item in yaml.safe_load(path.read_text())["interactions"]:
            body = json.loads(item["response"]["body"]["string"])
            assert WORKFLOW_RUN <= set(body) <= WORKFLOW_RUN | {"referenced_workflows"}, path.name
            bodies += 1
    assert bodies == 2
