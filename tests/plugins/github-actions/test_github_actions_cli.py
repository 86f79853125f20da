"""The adapter inside the real ``customcd send`` pipeline (fixtures from ``customcd.testing``)."""

from __future__ import annotations

import pytest

STATUS = ["--status", "success", "--service-id", "12"]


def test_dry_run_body(customcd_dry_run, env):
    body = customcd_dry_run(env, *STATUS, "--start-time", "1764400000", "--duration", "312")

    assert body["job_id"] == "12087465391-1-deploy-production"
    assert body["commit_sha"] == env["GITHUB_SHA"]
    assert body["repo_id"] == "734219085"
    assert body["repo_name"] == "acme/payments-api"
    assert body["triggered_by"] == "mjohnson"
    assert body["status"] == "Succeeded"
    assert (body["job_start_time"], body["job_duration"]) == (1764400000, 312)
    keys = [item["key"] for item in body["optional"]]
    assert keys == ["ci_system", "workflow", "job", "run_url", "ref", "event"]


@pytest.mark.vcr("run_success.yaml")
def test_dry_run_reads_the_start_from_github(customcd_dry_run, env, token, vcr):
    body = customcd_dry_run({**env, "GITHUB_TOKEN": token}, *STATUS, "--duration", "200")
    assert vcr.play_count == 1
    assert body["job_start_time"] == 1764399998  # run_started_at 2025-11-29T07:06:38Z


@pytest.mark.parametrize(("native", "wire"), [("failure", "Failed"), ("cancelled", "Failed")])
def test_job_status_is_mapped(customcd_dry_run, env, native, wire):
    body = customcd_dry_run(
        env, "--status", native, "--service-id", "1", "--start-time", "1764400000"
    )
    assert body["status"] == wire


def test_skipped_sends_nothing(customcd_cli, env):
    result = customcd_cli(
        ["send", "--dry-run", "--status", "skipped", "--start-time", "1"], env=env
    )
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "skipped" in result.stderr


def test_without_status_the_user_is_told_to_pass_it(customcd_cli, env):
    result = customcd_cli(
        ["send", "--dry-run", "--service-id", "1", "--start-time", "1764400000"], env=env
    )
    assert result.exit_code == 65
    assert "--status" in result.stderr
    assert result.stdout == ""


def test_without_token_the_record_is_kept_and_the_user_is_told_what_to_map(customcd_cli, env):
    result = customcd_cli(["send", "--dry-run", *STATUS], env=env)
    assert result.exit_code == 0, result.stderr
    optional = {item["key"]: item["value"] for item in result.body["optional"]}
    assert optional["start_time_source"] == "report-time"
    assert "GITHUB_TOKEN" in result.stderr and "--start-time" in result.stderr


def test_missing_repository_names_the_variable_and_the_flag(customcd_cli, env):
    env = {**env, "GITHUB_REPOSITORY": "", "GITHUB_REPOSITORY_ID": ""}
    result = customcd_cli(["send", "--dry-run", "--start-time", "1764400000", *STATUS], env=env)
    assert result.exit_code == 65
    assert "(GITHUB_REPOSITORY is not set; give --repo-name)" in result.stderr


def test_delivered_to_the_receiver(customcd_cli, customcd_env, customcd_receiver, env):
    args = ["send", *STATUS, "--start-time", "1764400000"]
    result = customcd_cli(args, env={**env, **customcd_env})

    assert result.exit_code == 0, result.stderr
    assert "delivered" in result.stderr
    (accepted,) = customcd_receiver.accepted
    assert accepted["job_id"] == "12087465391-1-deploy-production"
    assert accepted["status"] == "Succeeded"


def test_a_refusal_becomes_a_workflow_error_annotation(customcd_cli, customcd_env, env):
    wrong = {**customcd_env, "CUSTOMCD_TOKEN": "not-the-receivers-token"}
    result = customcd_cli(["send", *STATUS, "--start-time", "1764400000"], env={**env, **wrong})

    assert result.exit_code == 0  # a metrics step never breaks the deployment
    assert any(line.startswith("::error::") for line in result.stderr.splitlines())
