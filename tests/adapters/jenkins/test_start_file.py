"""A freestyle build is reported even when it fails early: stamped start file, API, report time."""

from __future__ import annotations

import logging
import time

import pytest

from .support import FAKE_TOKEN, ROOT, context, optional

SHA = "c0ffee0123456789abcdef0123456789abcdef01"


def freestyle_env(workspace, number: int = 311, **extra: str) -> dict[str, str]:
    """A freestyle post-build step's environment (no credentials)."""
    env = {
        "JENKINS_URL": ROOT,
        "JOB_NAME": "deploy-prod",
        "BUILD_NUMBER": str(number),
        "BUILD_ID": str(number),
        "BUILD_TAG": f"jenkins-deploy-prod-{number}",
        "BUILD_URL": f"{ROOT}job/deploy-prod/{number}/",
        "NODE_NAME": "deployer",
        "WORKSPACE": str(workspace),
        "GIT_COMMIT": SHA,
        "GIT_BRANCH": "origin/release/2025.11",
        "GIT_URL": "https://git.example.com/scm/ops/deploy-config.git",
    }
    env.update(extra)
    return env


def test_a_start_file_stamped_with_this_builds_tag_gives_the_start(adapter, tmp_path):
    (tmp_path / ".customcd-start").write_text("jenkins-deploy-prod-311 1764400180\n")
    draft = adapter.collect(context(freestyle_env(tmp_path), status="FAILURE"))
    assert draft.job_start_time == 1764400180
    assert draft.job_duration is None  # the builder's now - start: the step runs at the end
    assert optional(draft, "start_time_source") is None
    assert any("start file" in note for note in draft.notes)


def test_a_start_file_in_milliseconds_is_read_as_seconds(adapter, tmp_path):
    (tmp_path / ".customcd-start").write_text("jenkins-deploy-prod-311 1764400180123")
    draft = adapter.collect(context(freestyle_env(tmp_path), status="SUCCESS"))
    assert draft.job_start_time == 1764400180


def test_a_stale_start_file_from_an_earlier_build_is_ignored(adapter, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    # build 310 wrote it; build 311 failed before its first step could write its own
    (tmp_path / ".customcd-start").write_text("jenkins-deploy-prod-310 1764300000\n")
    draft = adapter.collect(context(freestyle_env(tmp_path), status="FAILURE"))
    assert draft.job_start_time == 1764400900  # the report's time, not build 310's start
    assert draft.job_duration == 0
    assert optional(draft, "start_time_source") == "report-time"
    assert "written by jenkins-deploy-prod-310, not by this build" in caplog.text


def test_an_unstamped_start_file_is_ignored(adapter, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    (tmp_path / ".customcd-start").write_text("1764300000\n")
    draft = adapter.collect(context(freestyle_env(tmp_path), status="FAILURE"))
    assert optional(draft, "start_time_source") == "report-time"
    assert "<BUILD_TAG> <epoch seconds>" in caplog.text


def test_the_start_file_can_be_named(adapter, tmp_path):
    other = tmp_path / "elsewhere" / "started"
    other.parent.mkdir()
    other.write_text("jenkins-deploy-prod-311 1764400100")
    env = freestyle_env(tmp_path / "workspace")
    ctx = context(env, status="SUCCESS")
    ctx = type(ctx)(
        env=ctx.env,
        overrides=ctx.overrides,
        options={"jenkins": {"start_file": str(other)}},
        timeout=ctx.timeout,
        now=ctx.now,
        log=ctx.log,
    )
    assert adapter.collect(ctx).job_start_time == 1764400100


def test_flags_win_over_the_start_file(adapter, tmp_path):
    (tmp_path / ".customcd-start").write_text("jenkins-deploy-prod-311 1764400180")
    draft = adapter.collect(context(freestyle_env(tmp_path), status="SUCCESS", job_start_time=5))
    assert draft.job_start_time is None  # left to the user's --start-time


@pytest.mark.vcr("api_freestyle_failed_early.yaml")
def test_with_credentials_the_api_timestamp_gives_the_start_of_a_build_that_failed_early(
    adapter, tmp_path, vcr
):
    env = freestyle_env(
        tmp_path, number=312, JENKINS_USER="jdoe", JENKINS_API_TOKEN=FAKE_TOKEN
    )  # no start file: the build failed in its first step
    draft = adapter.collect(context(env))
    assert vcr.all_played
    assert draft.job_start_time == 1764400180  # the build's timestamp (ms) from the API
    assert draft.status == "FAILURE"  # the result is set while the post-build step runs
    assert draft.commit_sha == SHA and draft.repo_name == "ops/deploy-config"
    assert draft.triggered_by == "jane.doe@example.com"
    assert optional(draft, "start_time_source") is None


def test_send_keeps_a_failure_with_no_start_file_and_no_credentials(customcd_cli, tmp_path):
    env = freestyle_env(tmp_path, CUSTOMCD_SERVICE_ID="42")
    before = int(time.time())
    result = customcd_cli(["send", "--dry-run", "--status", "FAILURE"], env=env)
    assert result.exit_code == 0, result.stderr
    body = result.body
    assert body["status"] == "Failed" and body["job_id"] == "deploy-prod#311"
    assert before <= body["job_start_time"] <= int(time.time()) and body["job_duration"] == 0
    optional_fields = {item["key"]: item["value"] for item in body["optional"]}
    assert optional_fields["start_time_source"] == "report-time"
    assert '"$BUILD_TAG $(date +%s)"' in result.stderr  # says how to record the real start


def test_a_non_numeric_build_number_names_what_to_set(customcd_cli, tmp_path):
    env = freestyle_env(tmp_path, BUILD_NUMBER="1.4.2", BUILD_ID="1.4.2", CUSTOMCD_SERVICE_ID="4")
    del env["BUILD_URL"]
    (tmp_path / ".customcd-start").write_text("jenkins-deploy-prod-311 1764400180")
    result = customcd_cli(["send", "--dry-run", "--status", "SUCCESS"], env=env)
    assert result.exit_code == 65
    assert "job_id: is required" in result.stderr
    assert "BUILD_NUMBER is '1.4.2', not a build number" in result.stderr
    assert '--job-id "$BUILD_TAG"' in result.stderr


def test_missing_git_variables_name_the_variable_and_the_flag(customcd_cli, tmp_path):
    env = freestyle_env(tmp_path, CUSTOMCD_SERVICE_ID="4")
    for name in ("GIT_COMMIT", "GIT_URL", "GIT_BRANCH"):
        del env[name]
    env["CUSTOMCD_DISABLE_PLUGINS"] = "git"
    result = customcd_cli(
        ["send", "--dry-run", "--status", "SUCCESS", "--start-time", "1764400180"], env=env
    )
    assert result.exit_code == 65
    assert "commit_sha: is required (GIT_COMMIT is not set" in result.stderr
    assert "--commit-sha" in result.stderr
    assert "(GIT_URL is not set, the Git plugin sets it; give --repo-name" in result.stderr
