"""The plugin surface: registration, detection, lightness, annotations, demo cases, CLI end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from azdo_samples import MERGE_SHA, base_env, context, mapped
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import NOT_FINAL, SKIP
from customcd_azure_devops.plugin import customcd_adapters


def test_plugin_provides_the_adapter():
    (adapter,) = customcd_adapters()
    assert adapter.name == "azure-devops"
    assert adapter.title == "Azure DevOps"
    assert adapter.server_variable() == "SYSTEM_COLLECTIONURI"


def test_the_entry_point_names_the_plugin_module():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="customcd")}
    assert names.get("azure-devops") == "customcd_azure_devops.plugin"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TF_BUILD": "True"}, True),
        ({"TF_BUILD": "true"}, True),
        ({"TF_BUILD": " TRUE "}, True),
        ({"TF_BUILD": "False"}, False),
        ({"TF_BUILD": ""}, False),
        ({"GITLAB_CI": "true"}, False),
        ({}, False),
    ],
)
def test_detection(adapter, env, expected):
    assert adapter.detect(env) is expected


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("Succeeded", "Succeeded"),
        ("SucceededWithIssues", "Succeeded"),
        ("partiallySucceeded", "Succeeded"),
        ("succeeded", "Succeeded"),
        ("Failed", "Failed"),
        ("Canceled", "Failed"),
        ("canceled", "Failed"),
        ("abandoned", "Failed"),
        ("Skipped", SKIP),
        ("inProgress", NOT_FINAL),
        ("notStarted", NOT_FINAL),
        ("postponed", NOT_FINAL),
        ("waitingForApproval", "On Hold"),
    ],
)
def test_status_map(native, expected):
    assert mapped(native) == expected


def test_annotations_are_vso_logging_commands(adapter):
    assert adapter.annotate("warning", "record kept for retry") == (
        "##vso[task.logissue type=warning]record kept for retry"
    )
    assert adapter.annotate("error", "50% done\nthen failed") == (
        "##vso[task.logissue type=error]50%AZP25 done then failed"
    )


def test_plugin_and_environment_mode_stay_light():
    """Importing the plugin, detecting and collecting from env never loads httpx or click."""
    code = textwrap.dedent(
        """
        import json, sys
        from customcd.plugins.draft import CollectContext
        from customcd_azure_devops.plugin import customcd_adapters
        (adapter,) = customcd_adapters()
        env = {"TF_BUILD": "True", "BUILD_BUILDID": "7", "AGENT_JOBSTATUS": "Succeeded",
               "BUILD_SOURCEVERSION": "a" * 40,
               "SYSTEM_PIPELINESTARTTIME": "2025-11-29 07:06:40+00:00"}
        assert adapter.detect(env)
        draft = adapter.collect(CollectContext(env=env))
        print(json.dumps({"loaded": [m for m in ("httpx", "click", "customcd_azure_devops.api")
                                     if m in sys.modules], "job": draft.job_id}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result = json.loads(out.stdout)
    assert result == {"loaded": [], "job": "7"}


def test_demo_cases_are_complete_offline(adapter):
    cases = adapter.demo_cases()
    assert 1 <= len(cases) <= 3
    for case in cases:
        assert adapter.detect(case.env)
        assert not any(k in case.env for k in ("SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_PAT"))
        draft = adapter.collect(context(dict(case.env), **dict(case.overrides)))
        start = case.overrides.get("job_start_time") or to_epoch(draft.job_start_time)
        assert 1764000000 < int(start) < 1765000000
        assert len(draft.commit_sha) == 40 and int(draft.commit_sha, 16) >= 0
        assert draft.job_id and (draft.repo_id or draft.repo_name)
        assert mapped(draft.status) in {"Succeeded", "Failed", "On Hold"}


def test_backfill_params_are_the_selection_flags(adapter):
    names = {param.name for param in adapter.backfill_params()}
    assert names == {
        "project",
        "definition",
        "repository",
        "repository_type",
        "environment",
        "releases",
        "release_definition",
    }
    definition = next(p for p in adapter.backfill_params() if p.name == "definition")
    assert definition.multiple


# --- end to end through the customcd command (core's pytest plugin) --------------------------


def test_send_dry_run_prints_the_body(customcd_dry_run):
    env = base_env(
        AGENT_JOBSTATUS="SucceededWithIssues",
        ENVIRONMENT_NAME="production",
        SYSTEM_STAGENAME="Deploy_Prod",
        SYSTEM_JOBNAME="DeployWeb",
        SYSTEM_PIPELINESTARTTIME="2025-11-29 07:06:40+00:00",
        CUSTOMCD_SERVICE_ID="7",
    )
    body = customcd_dry_run(env, "--duration", "300")
    assert body["job_id"] == "20931/Deploy_Prod/DeployWeb"  # a deployment job: run/stage/job
    assert body["commit_sha"] == MERGE_SHA
    assert body["status"] == "Succeeded"
    assert body["job_start_time"] == 1764400000
    assert body["job_duration"] == 300
    assert body["triggered_by"] == "dana.whitfield@contoso.com"
    optional = {item["key"]: item["value"] for item in body["optional"]}
    assert optional["environment"] == "production"
    assert optional["pipeline"] == "fabrikam-web-ci"


def test_skipped_job_sends_nothing_and_says_why(customcd_cli):
    env = base_env(AGENT_JOBSTATUS="Skipped", CUSTOMCD_SERVICE_ID="7")
    result = customcd_cli(["send", "--dry-run", "--start-time", "1764400000"], env=env)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Skipped" in result.stderr


def test_missing_token_is_one_clear_line_without_traceback(customcd_cli):
    env = base_env(CUSTOMCD_SERVICE_ID="7")
    result = customcd_cli(["send", "--dry-run"], env=env)
    assert result.exit_code != 0
    assert "System.AccessToken" in result.stderr
    assert "Traceback" not in result.stderr


def test_send_delivers_to_the_receiver_and_says_so(customcd_cli, customcd_env, customcd_receiver):
    env = base_env(
        SYSTEM_PIPELINESTARTTIME="2025-11-29 07:06:40+00:00",
        CUSTOMCD_SERVICE_ID="7",
        **customcd_env,
    )
    result = customcd_cli(["send", "--duration", "120"], env=env)
    assert result.exit_code == 0
    assert "customcd: delivered job '20931'" in result.stderr
    assert "##vso[" not in result.stderr  # annotations only for warnings and errors


def test_undelivered_record_is_a_warning_annotation(customcd_cli, tmp_path):
    env = base_env(
        SYSTEM_PIPELINESTARTTIME="2025-11-29 07:06:40+00:00",
        CUSTOMCD_SERVICE_ID="7",
        CUSTOMCD_URL="http://127.0.0.1:9",
        CUSTOMCD_COMPANY_ID="1",
        CUSTOMCD_TOKEN="test-token-0123456789",
        CUSTOMCD_DEADLINE="1",
        CUSTOMCD_OUTBOX=str(tmp_path / "outbox.sqlite3"),
    )
    result = customcd_cli(["send", "--duration", "120"], env=env)
    assert result.exit_code == 0  # a metrics step never breaks the pipeline
    assert "##vso[task.logissue type=warning]job '20931' NOT delivered yet" in result.stderr
