"""`customcd receiver` in the foreground: one line per request as it happens, a summary at the end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

BODY = {
    "job_id": "7",
    "status": "Succeeded",
    "commit_sha": "a2e7da86cc392417b0d9f605b28038aae80b002f",
    "repo_name": "acme/shop",
    "service_id": 2,
    "job_start_time": 1704018030,
    "job_duration": 300,
}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_receiver_prints_each_request_and_a_summary_when_stopped(stop, tmp_path):
    env = {**os.environ, "CUSTOMCD_TOKEN": "secret-token"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "customcd", "receiver", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        endpoint = re.search(r"listening on (\S+)", first)
        assert endpoint, first
        headers = {"Authorization": "Bearer secret-token"}
        with httpx.Client(timeout=10) as client:
            assert client.post(endpoint[1], json=BODY, headers=headers).status_code == 201
            assert client.post(endpoint[1], json=BODY, headers=headers).status_code == 200
            bad = {**BODY, "job_id": "8", "status": "Great"}
            assert client.post(endpoint[1], json=bad, headers=headers).status_code == 422
        lines = [proc.stderr.readline().rstrip("\n") for _ in range(3)]
        proc.send_signal(stop)
        rest = proc.communicate(timeout=10)[1]
    finally:
        proc.kill()
    assert lines[0] == "customcd receiver: accepted job 7"
    assert lines[1].startswith("customcd receiver: duplicate job 7")
    assert lines[2].startswith("customcd receiver: rejected 422: invalid record: status")
    assert "customcd receiver: stopped; 3 requests: 1 accepted, 1 duplicate, 1 rejected" in rest
    assert "Traceback" not in rest and "secret-token" not in rest + first
    assert proc.returncode == 0
