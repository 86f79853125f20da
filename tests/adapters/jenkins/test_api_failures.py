"""API mode failures: 401/403, unreachable, silent server. Clear messages, fallback, no hang."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from .support import APP_SHA, FAKE_TOKEN, api_env, context, optional

FLAGS = {"status": "SUCCESS", "start_time_ms": "1764400000123"}


@pytest.mark.vcr("api_unauthorized.yaml")
def test_401_falls_back_to_environment_with_a_clear_warning(adapter, vcr, caplog):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(context(api_env("unauthorized", 42), **FLAGS))
    assert vcr.play_count == 1
    assert draft.commit_sha == APP_SHA and draft.job_id == "payments/api#42"
    warning = caplog.records[-1].getMessage()
    assert "HTTP 401" in warning and "JENKINS_API_TOKEN" in warning and "'jdoe'" in warning
    assert "using the environment only" in warning
    assert any("HTTP 401" in n for n in draft.notes)
    assert FAKE_TOKEN not in caplog.text + repr(draft)


@pytest.mark.vcr("api_forbidden.yaml")
def test_403_names_the_permission(adapter, vcr, caplog):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(context(api_env("forbidden", 42), **FLAGS))
    assert "HTTP 403" in caplog.text and "Job/Read" in caplog.text
    assert draft.commit_sha == APP_SHA


@pytest.mark.vcr("api_unauthorized.yaml")
def test_401_without_the_flags_keeps_the_record_and_names_what_to_pass(adapter, vcr, caplog):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(context(api_env("unauthorized", 42)))
    # no start from the API nor a flag: the report's time stands in, marked, so nothing is lost
    assert draft.job_start_time == 1764400900 and draft.job_duration == 0
    assert optional(draft, "start_time_source") == "report-time"
    # the status only the API or a flag can give: the problem says both what failed and the flag
    hint = draft.hints["status"]
    assert "HTTP 401" in hint and '--status "${currentBuild.currentResult}"' in hint
    assert "--start-time-ms" in caplog.text
    assert FAKE_TOKEN not in caplog.text + repr(draft)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_jenkins_falls_back(adapter, caplog):
    caplog.set_level(logging.WARNING)
    port = _closed_port()
    env = api_env("unreachable", 42, BUILD_URL=f"http://127.0.0.1:{port}/job/payments/job/api/42/")
    env["JENKINS_URL"] = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    draft = adapter.collect(context(env, timeout=2.0, **FLAGS))
    assert time.monotonic() - started < 2.0
    assert "could not reach Jenkins at http://127.0.0.1" in caplog.text
    assert draft.commit_sha == APP_SHA


def test_silent_jenkins_never_hangs_past_the_timeout(adapter, caplog):
    """A server that accepts connections and never answers: bounded by context.timeout."""
    caplog.set_level(logging.WARNING)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # hold the connection open, say nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        env = api_env("silent", 42, BUILD_URL=f"http://127.0.0.1:{port}/job/payments/job/api/42/")
        env["JENKINS_URL"] = f"http://127.0.0.1:{port}/"
        started = time.monotonic()
        draft = adapter.collect(context(env, timeout=0.5, **FLAGS))
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()
    assert 0.4 <= elapsed < 3.0
    assert "did not answer within 0.5 s" in caplog.text
    assert draft.job_id == "payments/api#42"


def test_credentials_repr_hides_the_token():
    from customcd_jenkins.client import credentials_from

    creds = credentials_from({"JENKINS_USER": "jdoe", "JENKINS_API_TOKEN": FAKE_TOKEN})
    assert creds is not None and FAKE_TOKEN not in repr(creds) and "jdoe" in repr(creds)


def test_explain_scrubs_a_token_that_ends_up_in_a_url():
    import requests
    from customcd_jenkins.client import Credentials, explain

    creds = Credentials("jdoe", FAKE_TOKEN)
    exc = requests.ConnectionError(f"failed for https://jdoe:{FAKE_TOKEN}@jenkins.example.com/")
    text = explain(exc, f"https://jdoe:{FAKE_TOKEN}@jenkins.example.com/job/x/1/", creds, 5)
    assert (
        FAKE_TOKEN not in text and "could not reach Jenkins at https://jenkins.example.com" in text
    )


_NOISE_SCRIPT = """
import logging, sys, vcr
from customcd.plugins.draft import CollectContext
from customcd_jenkins.adapter import JenkinsAdapter
env = dict(
    JENKINS_URL="https://jdoe:S3cretInUrl@jenkins.example.com/",
    BUILD_URL="https://jdoe:S3cretInUrl@jenkins.example.com/job/payments/job/api/42/",
    JOB_NAME="payments/api", BUILD_NUMBER="42", JENKINS_USER="jdoe",
    JENKINS_API_TOKEN="11f0c0ffee0123456789abcdef012345ab",
    GIT_COMMIT="4c1e2a9f0b3d5e7f9a1c3e5f7b9d1f3a5c7e9b0d",
)
with vcr.use_cassette(sys.argv[1], record_mode="none"):
    draft = JenkinsAdapter().collect(CollectContext(
        env=env, overrides={"status": "SUCCESS", "start_time_ms": "1764400000123"}, timeout=5,
        now=1764400900.0, log=logging.getLogger("customcd.test")))
print(draft.notes[0])
"""


def test_jenkinsapi_error_lines_and_url_credentials_stay_off_stderr(tmp_path):
    # No logging configured (as under the CLI, whose "customcd" logger does not propagate):
    # jenkinsapi's "Failed request at <url>" went to stderr through Python's last-resort handler,
    # with any user:token@ of the URL in it.
    import pathlib
    import subprocess
    import sys

    cassette = pathlib.Path(__file__).parents[3] / "cassettes/jenkins/api_unauthorized.yaml"
    run = subprocess.run(
        [sys.executable, "-c", _NOISE_SCRIPT, str(cassette)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "HTTP 401" in run.stdout
    assert "Failed request" not in run.stderr
    assert "S3cretInUrl" not in run.stdout + run.stderr
