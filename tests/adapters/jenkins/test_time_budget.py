"""API mode shares ONE budget of ``context.timeout`` seconds across all its requests (issue 4).

A local loopback server answers every request slowly (each answer within the timeout, so a
per-request timeout alone never fires); the whole collect must still end within the timeout.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .support import APP_SHA, api_env, context

FLAGS = {"status": "SUCCESS", "start_time_ms": "1764400000123"}
MARGIN = 0.5

# A running pipeline build started by user jdoe: API mode would make all three requests
# (the build, wfapi/describe for a pause, the user's e-mail).
_BUILD = {
    "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
    "actions": [
        {
            "_class": "hudson.model.CauseAction",
            "causes": [
                {
                    "_class": "hudson.model.Cause$UserIdCause",
                    "shortDescription": "Started by user Jane Doe",
                    "userId": "jdoe",
                    "userName": "Jane Doe",
                }
            ],
        }
    ],
    "building": True,
    "duration": 0,
    "number": 42,
    "result": None,
    "timestamp": 1764400000123,
}
_DESCRIBE = {"id": "42", "name": "#42", "status": "PAUSED_PENDING_INPUT"}
_USER = {
    "_class": "hudson.model.User",
    "property": [{"_class": "hudson.tasks.Mailer$UserProperty", "address": "jane@example.com"}],
}


def _document(path: str, root: str) -> dict[str, object]:
    if "/wfapi/describe" in path:
        return _DESCRIBE
    if path.startswith("/user/"):
        return _USER
    return {**_BUILD, "url": f"{root}job/payments/job/api/42/"}


@contextmanager
def slow_jenkins(
    answer: Callable[[BaseHTTPRequestHandler, bytes], None],
) -> Iterator[tuple[str, list[str]]]:
    """Serve on 127.0.0.1 only; ``answer`` writes each response (slowly).

    Yields the root URL and the list of request paths received.
    """
    stop = threading.Event()
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            root = f"http://127.0.0.1:{self.server.server_address[1]}/"
            body = json.dumps(_document(self.path, root)).encode()
            with suppress(OSError):  # the client gave up: fine
                answer(self, body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    server.stop = stop  # type: ignore[attr-defined]
    server.paths = paths  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", paths
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(2)


def _env(root: str) -> dict[str, str]:
    env = api_env("slow", 42, BUILD_URL=f"{root}job/payments/job/api/42/")
    env["JENKINS_URL"] = root
    return env


def _wait(seconds: float) -> Callable[[BaseHTTPRequestHandler, bytes], None]:
    """Answer after ``seconds`` (bounded; stops early when the server stops)."""

    def answer(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.server.stop.wait(seconds)  # type: ignore[attr-defined]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def _trickle(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Send the headers at once, then one byte every 0.1 s: no single read ever times out."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json;charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.flush()
    deadline = time.monotonic() + 4.0
    for byte in body:
        if handler.server.stop.is_set() or time.monotonic() > deadline:  # type: ignore[attr-defined]
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.1)


def test_all_requests_share_one_timeout_and_optional_lookups_are_skipped(adapter, caplog):
    """Each answer takes 0.6 s (< 1 s timeout): three requests would take 1.8 s; one budget: 1 s."""
    caplog.set_level(logging.INFO)
    timeout = 1.0
    with slow_jenkins(_wait(0.6)) as (root, seen):
        started = time.monotonic()
        draft = adapter.collect(context(_env(root), timeout=timeout))
        elapsed = time.monotonic() - started
    assert elapsed < timeout + MARGIN
    # the build itself was read from the API ...
    assert draft.job_id == "payments/api#42"
    assert any("read build payments/api#42 from the Jenkins API" in n for n in draft.notes)
    assert any(p.startswith("/job/payments/job/api/42/api/json") for p in seen)
    # ... the lookups that did not fit were skipped, with a note saying so
    assert draft.status == "BUILDING"  # the pause check did not complete
    assert any("input-pause check" in n and "skipped" in n for n in draft.notes)
    assert draft.triggered_by == "jdoe"  # not the e-mail: no time left for the lookup
    assert any("e-mail lookup of user 'jdoe' was skipped" in n for n in draft.notes)
    assert not any(p.startswith("/user/") for p in seen)


def test_a_build_document_that_trickles_past_the_timeout_falls_back_to_the_environment(
    adapter, caplog
):
    """A byte every 0.1 s never trips a per-read timeout; the shared budget still ends it."""
    caplog.set_level(logging.WARNING)
    timeout = 0.5
    with slow_jenkins(_trickle) as (root, _seen):
        started = time.monotonic()
        draft = adapter.collect(context(_env(root), timeout=timeout, **FLAGS))
        elapsed = time.monotonic() - started
    assert elapsed < timeout + MARGIN
    assert "did not answer within 0.5 s" in caplog.text
    assert "using the environment only" in caplog.text
    assert draft.commit_sha == APP_SHA and draft.job_id == "payments/api#42"
    assert any("environment mode" in n for n in draft.notes)


def test_a_fast_jenkins_still_gets_every_lookup_within_the_budget(adapter):
    """The budget does not cut what fits: all three requests, pause and e-mail found."""
    with slow_jenkins(_wait(0.0)) as (root, seen):
        draft = adapter.collect(context(_env(root), timeout=2.0))
    assert draft.status == "PAUSED_PENDING_INPUT"
    assert draft.triggered_by == "jane@example.com"
    assert not any("skipped" in n for n in draft.notes)
    assert len(seen) == 3


def test_budget_counts_down_and_refuses_to_start_a_request_when_spent():
    import requests
    from customcd_jenkins.budget import Budget

    now = [100.0]
    budget = Budget(2.0, clock=lambda: now[0])
    assert budget.remaining() == pytest.approx(2.0) and not budget.spent
    now[0] = 101.5
    assert budget.remaining() == pytest.approx(0.5) and not budget.spent
    now[0] = 103.0
    assert budget.remaining() == 0.0 and budget.spent
    with pytest.raises(requests.Timeout):
        budget.call(object(), lambda: "never fetched", "http://127.0.0.1/x")  # type: ignore[arg-type]
