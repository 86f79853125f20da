"""packaging/ci/report.sh, bundled as the integrations run it, under a strict POSIX shell (dash)."""

from __future__ import annotations

import subprocess
import time

import pytest
from customcd.testing import TEST_TOKEN

from .conftest import base_env, need, workspace_customcd
from .test_embed import load_embed

SHA = "a2e7da86cc392417b0d9f605b28038aae80b002f"


def run(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    dash = need("dash", "dash (a strict POSIX sh)")
    script = tmp_path / "report.sh"
    script.write_text(load_embed().bundled_sh(), encoding="utf-8")
    return subprocess.run(
        [dash, "-e", str(script)],
        env={**base_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def job(customcd_receiver, tmp_path):
    now = int(time.time())
    return {
        "ALLSTACKS_URL": customcd_receiver.url,
        "ALLSTACKS_COMPANY": "1",
        "ALLSTACKS_TOKEN": TEST_TOKEN,
        "CUSTOMCD_URL_VARIABLE": "ALLSTACKS_URL",
        "CUSTOMCD_COMPANY_ID_VARIABLE": "ALLSTACKS_COMPANY",
        "CUSTOMCD_TOKEN_VARIABLE": "ALLSTACKS_TOKEN",
        "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
        "CUSTOMCD_ADAPTER": "none",
        "CUSTOMCD_JOB_ID": "7",
        "CUSTOMCD_COMMIT_SHA": SHA,
        "CUSTOMCD_REPO_NAME": "acme/shop",
        "CUSTOMCD_START_TIME": str(now - 60),
        "CUSTOMCD_END_TIME": str(now - 30),
        "CUSTOMCD_STATUS": "Succeeded",
        "CUSTOMCD_DEFAULT_SERVICE_ID": "3",
        "CUSTOMCD_DEFAULT_JOB_TYPE": "Prod 'EU' \"x\" $HOME",
        "CUSTOMCD_JOB_TYPE": "",
    }


def test_the_bundled_script_installs_and_delivers_under_dash(
    tmp_path, job, customcd_receiver, download_server
):
    result = run(tmp_path, {**job, "CUSTOMCD_DOWNLOAD_URL": download_server.url})
    assert result.returncode == 0, result.stdout + result.stderr
    (record,) = customcd_receiver.accepted
    assert record["job_duration"] == 30  # end - start, from CUSTOMCD_END_TIME
    assert record["service_id"] == 3 and record["job_type"] == "Prod 'EU' \"x\" $HOME"
    assert "delivered job '7'" in result.stderr
    # The second run uses the cache: only the checksum is fetched again.
    downloads = [r for r in download_server.requests if r.endswith(".tar.gz")]
    run(tmp_path, {**job, "CUSTOMCD_DOWNLOAD_URL": download_server.url, "CUSTOMCD_JOB_ID": "8"})
    assert [r for r in download_server.requests if r.endswith(".tar.gz")] == downloads


def test_command_skips_the_install(tmp_path, job, customcd_receiver):
    result = run(tmp_path, {**job, "CUSTOMCD_COMMAND": str(workspace_customcd())})
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout
    assert len(customcd_receiver.accepted) == 1


def test_a_bad_variable_name_is_refused_without_running_anything(tmp_path, job):
    bad = {**job, "CUSTOMCD_TOKEN_VARIABLE": "X;touch pwned", "CUSTOMCD_STRICT": "true"}
    result = run(tmp_path, bad)
    assert result.returncode == 64
    assert "not a variable name: X;touch pwned" in result.stdout
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("gitlab", [False, True])
def test_credentials_in_the_download_url_never_reach_the_job_log(tmp_path, job, gitlab):
    url = "http://mirror-user:s3cret-pass@127.0.0.1:9/customcd/0.1.0?sig=s3cret-sig"
    env = {**job, "CUSTOMCD_DOWNLOAD_URL": url, **({"GITLAB_CI": "true"} if gitlab else {})}
    result = run(tmp_path, env)
    log = result.stdout + result.stderr
    assert "customcd: installing from http://***@127.0.0.1:9/customcd/0.1.0?***" in log
    assert "s3cret" not in log
