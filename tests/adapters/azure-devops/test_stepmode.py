"""Step mode: a final step (condition: always()) of a YAML run, deployment job or classic release."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from azdo_samples import HEAD_SHA, MERGE_SHA, REPO_ID, SECRET, base_env, context, mapped
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import SKIP, AdapterError


def optional(draft, key):
    values = [item["value"] for item in draft.optional if item["key"] == key]
    return values[0] if values else None


# --- without a token -------------------------------------------------------------------------


def test_env_only_with_start_flag_fills_every_base_field(adapter):
    draft = adapter.collect(context(base_env(), job_start_time="1764400000"))
    assert draft.job_id == "20931"
    assert draft.commit_sha == MERGE_SHA
    assert draft.repo_id == REPO_ID
    assert draft.repo_name == "fabrikam-web"
    assert draft.triggered_by == "dana.whitfield@contoso.com"
    assert draft.status == "Succeeded" and mapped(draft.status) == "Succeeded"
    assert draft.job_start_time is None  # the user's --start-time wins; nothing read
    assert optional(draft, "pipeline") == "fabrikam-web-ci"
    assert optional(draft, "build_number") == "20251129.1"
    assert optional(draft, "stage") == "Build"
    assert optional(draft, "job") == "Build and test"
    assert optional(draft, "reason") == "IndividualCI"
    assert optional(draft, "ci") == "Azure DevOps"
    assert optional(draft, "url") == (
        "https://dev.azure.com/contoso/Fabrikam%20Web/_build/results?buildId=20931"
    )
    assert draft.facts["branch"] == "main"
    assert draft.facts["ci"] == "azure-devops"


def test_requested_for_name_when_no_email(adapter):
    env = base_env(
        BUILD_REQUESTEDFOREMAIL="", BUILD_REQUESTEDFOR="Project Collection Build Service"
    )
    draft = adapter.collect(context(env, job_start_time=1764400000))
    assert draft.triggered_by == "Project Collection Build Service"


def test_without_token_uses_pipeline_start_time_variable(adapter):
    env = base_env(SYSTEM_PIPELINESTARTTIME="2025-11-29 07:06:40+00:00")
    draft = adapter.collect(context(env))
    assert to_epoch(draft.job_start_time) == 1764400000
    assert any("SYSTEM_PIPELINESTARTTIME" in note for note in draft.notes)


def test_without_token_or_start_flag_says_how_to_map_the_token(adapter):
    draft = adapter.collect(context(base_env()))
    assert draft.job_start_time is None
    hint = draft.hints["job_start_time"]
    assert "SYSTEM_PIPELINESTARTTIME is not set" in hint
    assert "SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in hint
    assert "--start-time" in hint


def test_unexpanded_token_macro_counts_as_no_token(adapter):
    env = base_env(SYSTEM_ACCESSTOKEN="$(System.AccessToken)")
    assert "map the job token" in adapter.collect(context(env)).hints["job_start_time"]


def test_send_names_the_missing_variables_and_flags(customcd_cli):
    env = base_env(CUSTOMCD_SERVICE_ID="7")
    for name in ("BUILD_REPOSITORY_NAME", "BUILD_REPOSITORY_ID", "BUILD_SOURCEVERSION"):
        del env[name]
    result = customcd_cli(["send", "--dry-run"], env=env)
    assert result.exit_code == 65
    err = result.stderr
    assert "job_start_time: is required (SYSTEM_PIPELINESTARTTIME is not set" in err
    assert "commit_sha: is required (BUILD_SOURCEVERSION is not set" in err
    assert "(BUILD_REPOSITORY_NAME and BUILD_REPOSITORY_ID are not set; give --repo-name" in err


def test_start_time_ms_override_also_skips_the_rest_call(adapter):
    # A token is present but no cassette: any HTTP call would fail the test.
    env = base_env(SYSTEM_ACCESSTOKEN=SECRET)
    draft = adapter.collect(context(env, start_time_ms=1764400000000))
    assert draft.job_start_time is None


# --- with SYSTEM_ACCESSTOKEN -----------------------------------------------------------------


@pytest.mark.vcr("step_build_in_progress.yaml")
def test_with_token_reads_the_build_start_from_rest(adapter):
    draft = adapter.collect(context(base_env(SYSTEM_ACCESSTOKEN=SECRET)))
    assert draft.job_start_time == "2025-11-29T07:06:40.1234567Z"
    assert to_epoch(draft.job_start_time) == 1764400000  # 7 fractional digits parse
    assert any("SYSTEM_ACCESSTOKEN" in note for note in draft.notes)
    assert all(SECRET not in note for note in draft.notes)


@pytest.mark.vcr("step_build_in_progress.yaml")
def test_with_pat_reads_the_build_start_from_rest(adapter):
    draft = adapter.collect(context(base_env(AZURE_DEVOPS_PAT=SECRET)))
    assert to_epoch(draft.job_start_time) == 1764400000
    assert any("AZURE_DEVOPS_PAT" in note for note in draft.notes)


@pytest.mark.vcr("error_401.yaml")
def test_rest_failure_falls_back_to_the_pipeline_variable(adapter, caplog):
    env = base_env(SYSTEM_ACCESSTOKEN=SECRET, SYSTEM_PIPELINESTARTTIME="2025-11-29 07:06:40+00:00")
    draft = adapter.collect(context(env))
    assert to_epoch(draft.job_start_time) == 1764400000
    assert any("fell back" in note and "401" in note for note in draft.notes)
    assert "401" in caplog.text and SECRET not in caplog.text


@pytest.mark.vcr("error_401.yaml")
def test_rest_failure_without_fallback_is_one_clear_problem(adapter, caplog):
    draft = adapter.collect(context(base_env(SYSTEM_ACCESSTOKEN=SECRET)))
    message = draft.hints["job_start_time"]
    assert "401" in message and "SYSTEM_ACCESSTOKEN" in message
    assert "SYSTEM_PIPELINESTARTTIME is not set" in message
    assert SECRET not in message + caplog.text


# --- deployment jobs, job scope, timeline ----------------------------------------------------

DEPLOY_JOB_ID = "3dc8fd7e-4368-5a92-293e-d53cefc8c4b3"
#: Run 20934's timeline id (its orchestration plan id), System.TimelineId in its jobs.
TIMELINE_ID = "00020934-7a1b-4c2d-9e3f-000000020934"


def deployment_env(**extra: str) -> dict[str, str]:
    deployment = {
        "BUILD_BUILDID": "20934",
        "BUILD_BUILDNUMBER": "20251129.4",
        "SYSTEM_STAGENAME": "Deploy_Prod",
        "SYSTEM_STAGEDISPLAYNAME": "Deploy to production",
        "SYSTEM_JOBNAME": "DeployWeb",
        "SYSTEM_JOBDISPLAYNAME": "Deploy web app",
        "SYSTEM_JOBID": DEPLOY_JOB_ID,
        "ENVIRONMENT_NAME": "production",
        "ENVIRONMENT_ID": "3",
        "SYSTEM_TIMELINEID": TIMELINE_ID,
        "SYSTEM_PLANID": TIMELINE_ID,
        "STRATEGY_NAME": "runOnce",
        "AGENT_JOBSTATUS": "SucceededWithIssues",
    }
    return base_env(**{**deployment, **extra})


def test_deployment_job_reports_its_environment(adapter):
    draft = adapter.collect(context(deployment_env(), job_start_time=1764406000))
    assert optional(draft, "environment") == "production"
    assert optional(draft, "stage") == "Deploy to production"
    assert draft.facts["environment"] == "production"
    assert draft.facts["job_name"] == "DeployWeb"
    assert mapped(draft.status) == "Succeeded"  # SucceededWithIssues


@pytest.mark.vcr("timeline_deployment_job.yaml")
def test_a_deployment_job_is_reported_as_that_job_from_its_timeline_record(adapter):
    # the identity a backfill of the environment gives the same deployment job
    env = deployment_env(SYSTEM_ACCESSTOKEN=SECRET)
    draft = adapter.collect(context(env))
    assert draft.job_id == "20934/Deploy_Prod/DeployWeb"
    assert draft.job_start_time == "2025-11-29T09:07:09.2466667Z"  # the job, not the run
    assert any("timeline" in note for note in draft.notes)
    assert any("run/stage/job" in note for note in draft.notes)


def test_a_hook_job_of_a_canary_deployment_is_reported_as_its_deployment_job(adapter):
    # in a lifecycle hook job (Deploy_10), System.JobName names the hook's job and
    # System.PhaseName the deployment job: the record is the deployment job's, as backfill's
    env = deployment_env(SYSTEM_JOBNAME="Deploy_10", SYSTEM_PHASENAME="DeployWeb")
    assert adapter.collect(context(env, job_start_time=1)).job_id == "20934/Deploy_Prod/DeployWeb"


@pytest.mark.vcr("timeline_deployment_job.yaml")
def test_job_scope_in_a_deployment_job_is_the_deployment_job(adapter):
    env = deployment_env(SYSTEM_ACCESSTOKEN=SECRET)
    draft = adapter.collect(context(env, options={"job_scope": "job"}))
    assert draft.job_id == "20934/Deploy_Prod/DeployWeb"
    assert draft.job_start_time == "2025-11-29T09:07:09.2466667Z"


@pytest.mark.vcr("timeline_deployment_job.yaml")
def test_job_scope_outside_a_deployment_job_is_the_run_and_job_guid(adapter):
    env = deployment_env(SYSTEM_ACCESSTOKEN=SECRET, ENVIRONMENT_NAME="")
    draft = adapter.collect(context(env, options={"job_scope": "job"}))
    assert draft.job_id == f"20934/{DEPLOY_JOB_ID}"
    assert draft.job_start_time == "2025-11-29T09:07:09.2466667Z"


def test_build_scope_reports_the_run_even_in_a_deployment_job(adapter):
    draft = adapter.collect(
        context(deployment_env(), options={"job_scope": "build"}, job_start_time=1)
    )
    assert draft.job_id == "20934"


def test_a_rerun_deployment_job_adds_its_attempt(adapter):
    env = deployment_env(SYSTEM_JOBATTEMPT="2")
    assert adapter.collect(context(env, job_start_time=1)).job_id == "20934/Deploy_Prod/DeployWeb/2"


def test_the_yaml_job_name_stands_in_for_a_plain_job_name(adapter):
    env = deployment_env(SYSTEM_JOBNAME="__default", SYSTEM_PHASENAME="DeployWeb")
    assert adapter.collect(context(env, job_start_time=1)).job_id == "20934/Deploy_Prod/DeployWeb"


def test_a_deployment_job_without_its_names_reports_the_run(adapter):
    env = deployment_env(SYSTEM_STAGENAME="", SYSTEM_STAGEDISPLAYNAME="Deploy")
    draft = adapter.collect(context(env, job_start_time=1))
    assert draft.job_id == "20934"
    assert any("reporting the run" in note for note in draft.notes)


def test_bad_job_scope_option_is_named(adapter):
    with pytest.raises(AdapterError, match="job_scope"):
        adapter.collect(context(base_env(), options={"job_scope": "stage"}, job_start_time=1))


# --- pull-request builds ---------------------------------------------------------------------


def pr_env(**extra: str) -> dict[str, str]:
    pr = {
        "BUILD_REASON": "PullRequest",
        "BUILD_SOURCEBRANCH": "refs/pull/118/merge",
        "SYSTEM_PULLREQUEST_PULLREQUESTID": "118",
        "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature/cache-headers",
        "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
        "SYSTEM_PULLREQUEST_SOURCECOMMITID": HEAD_SHA,
    }
    return base_env(**{**pr, **extra})


def test_pr_build_reports_the_merge_commit_and_says_so(adapter):
    draft = adapter.collect(context(pr_env(), job_start_time=1764400000))
    assert draft.commit_sha == MERGE_SHA
    assert any("merge commit" in note and 'pr_commit = "head"' in note for note in draft.notes)
    assert optional(draft, "pull_request") == 118
    assert optional(draft, "reason") == "PullRequest"


def test_pr_build_can_report_the_head_commit(adapter):
    draft = adapter.collect(
        context(pr_env(), options={"pr_commit": "head"}, job_start_time=1764400000)
    )
    assert draft.commit_sha == HEAD_SHA
    assert any("head commit" in note for note in draft.notes)


def test_github_pr_number_is_used_when_there_is_no_pr_id(adapter):
    env = pr_env(SYSTEM_PULLREQUEST_PULLREQUESTID="", SYSTEM_PULLREQUEST_PULLREQUESTNUMBER="57")
    draft = adapter.collect(context(env, job_start_time=1764400000))
    assert optional(draft, "pull_request") == 57


def test_head_option_without_the_head_variable_says_what_is_reported(adapter):
    env = pr_env(SYSTEM_PULLREQUEST_SOURCECOMMITID="")
    draft = adapter.collect(context(env, options={"pr_commit": "head"}, job_start_time=1))
    assert draft.commit_sha == MERGE_SHA
    notes = " ".join(draft.notes)
    assert "SYSTEM_PULLREQUEST_SOURCECOMMITID is not set" in notes
    assert 'set pr_commit = "head"' not in notes  # it is set: do not advise it


def test_bad_pr_commit_option_is_named_outside_pr_builds_too(adapter):
    with pytest.raises(AdapterError, match="pr_commit must be 'merge' or 'head'"):
        adapter.collect(context(base_env(), options={"pr_commit": "source"}, job_start_time=1))


@pytest.mark.vcr("timeline_deployment_job.yaml")
def test_job_scope_matches_the_job_id_whatever_its_case(adapter):
    # SYSTEM_JOBID and the timeline record id are the same GUID: compare case-insensitively
    # (the cassette has no build call, so a fallback to the build's start would fail here).
    env = deployment_env(SYSTEM_ACCESSTOKEN=SECRET)
    env["SYSTEM_JOBID"] = DEPLOY_JOB_ID.upper()
    draft = adapter.collect(context(env, options={"job_scope": "job"}))
    assert draft.job_start_time == "2025-11-29T09:07:09.2466667Z"


def test_head_option_outside_a_pr_build_keeps_build_sourceversion(adapter):
    draft = adapter.collect(context(base_env(), options={"pr_commit": "head"}, job_start_time=1))
    assert draft.commit_sha == MERGE_SHA


# --- classic releases ------------------------------------------------------------------------


def release_env(**extra: str) -> dict[str, str]:
    env = {
        "TF_BUILD": "True",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
        "SYSTEM_TEAMPROJECT": "Fabrikam Web",
        "SYSTEM_HOSTTYPE": "release",
        "RELEASE_RELEASEID": "42",
        "RELEASE_RELEASENAME": "Release-42",
        "RELEASE_DEPLOYMENTID": "97",
        "RELEASE_DEFINITIONNAME": "fabrikam-web-release",
        "RELEASE_ENVIRONMENTNAME": "Staging",
        "RELEASE_REASON": "ContinuousDeployment",
        "RELEASE_RELEASEWEBURL": "https://dev.azure.com/contoso/Fabrikam%20Web/_release?releaseId=42",
        "RELEASE_REQUESTEDFOREMAIL": "release.bot@contoso.com",
        "RELEASE_DEPLOYMENT_REQUESTEDFOR": "Sam Okafor",
        "RELEASE_DEPLOYMENT_REQUESTEDFOREMAIL": "sam.okafor@contoso.com",
        # the primary artifact's build: not this release
        "BUILD_BUILDID": "20931",
        "BUILD_BUILDNUMBER": "20251129.1",
        "BUILD_SOURCEVERSION": MERGE_SHA,
        "BUILD_REPOSITORY_ID": REPO_ID,
        "BUILD_REPOSITORY_NAME": "fabrikam-web",
        "AGENT_JOBSTATUS": "Failed",
    }
    env.update(extra)
    return env


def test_classic_release_uses_release_variables(adapter):
    draft = adapter.collect(context(release_env(), job_start_time=1764400000))
    assert draft.job_id == "release-42-deployment-97"
    assert draft.commit_sha == MERGE_SHA
    assert draft.triggered_by == "sam.okafor@contoso.com"
    assert optional(draft, "environment") == "Staging"
    assert optional(draft, "pipeline") == "fabrikam-web-release"
    assert optional(draft, "release_name") == "Release-42"
    assert optional(draft, "url").endswith("releaseId=42")
    assert optional(draft, "build_number") is None
    assert mapped(draft.status) == "Failed"


def test_classic_release_never_reads_the_artifact_build(adapter):
    # Token present and no cassette: the adapter must not call the build API for the artifact.
    env = release_env(SYSTEM_ACCESSTOKEN=SECRET)
    assert "classic release" in adapter.collect(context(env)).hints["job_start_time"]


def test_classic_release_uses_the_pipeline_start_variable(adapter):
    env = release_env(SYSTEM_PIPELINESTARTTIME="2025-11-29 08:06:40+01:00")
    draft = adapter.collect(context(env))
    assert to_epoch(draft.job_start_time) == 1764400000


@pytest.mark.vcr("release_environment.yaml")
def test_classic_release_reads_the_deployment_start_from_the_release_api(adapter, vcr):
    # Release 42, stage 118, deployment 97 (the second attempt): the cassette has only the
    # Release service call (vsrm.dev.azure.com), so the artifact's build is never read.
    env = release_env(SYSTEM_ACCESSTOKEN=SECRET, RELEASE_ENVIRONMENTID="118")
    draft = adapter.collect(context(env))
    assert to_epoch(draft.job_start_time) == 1764400000  # attempt 2's first phase, not attempt 1
    assert vcr.play_count == 1
    assert any("release deployment" in note for note in draft.notes)
    assert draft.job_id == "release-42-deployment-97"


@pytest.mark.vcr("release_environment_401.yaml")
def test_classic_release_api_failure_falls_back_to_the_variable(adapter):
    env = release_env(
        SYSTEM_ACCESSTOKEN=SECRET,
        RELEASE_ENVIRONMENTID="118",
        SYSTEM_PIPELINESTARTTIME="2025-11-29 08:06:40+01:00",
    )
    draft = adapter.collect(context(env))
    assert to_epoch(draft.job_start_time) == 1764400000
    assert any("REST read failed" in note and "401" in note for note in draft.notes)


# --- statuses --------------------------------------------------------------------------------


def test_skipped_job_maps_to_no_record(adapter):
    draft = adapter.collect(context(base_env(AGENT_JOBSTATUS="Skipped"), job_start_time=1))
    assert mapped(draft.status) == SKIP


def test_canceled_job_is_failed(adapter):
    draft = adapter.collect(context(base_env(AGENT_JOBSTATUS="Canceled"), job_start_time=1))
    assert mapped(draft.status) == "Failed"


def test_missing_job_status_asks_for_the_flag(adapter):
    env = base_env()
    del env["AGENT_JOBSTATUS"]
    draft = adapter.collect(context(env, job_start_time=1))
    assert draft.status is None
    assert any("--status" in note for note in draft.notes)


# --- never hang past the timeout -------------------------------------------------------------


def test_a_silent_server_times_out_within_the_context_timeout(adapter):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    env = base_env(SYSTEM_ACCESSTOKEN=SECRET, SYSTEM_COLLECTIONURI=f"http://127.0.0.1:{port}/")
    ctx = context(env)
    ctx = type(ctx)(env=ctx.env, overrides={}, options={}, timeout=0.3, now=ctx.now)
    began = time.monotonic()
    try:
        draft = adapter.collect(ctx)
        assert "did not answer within 0.3 s" in draft.hints["job_start_time"]
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()
    assert time.monotonic() - began < 3
