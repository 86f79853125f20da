"""Pipeline mode: the pipeline (or its deploy jobs) read from the REST API through cassettes."""

from __future__ import annotations

import pytest
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import SKIP
from gitlab_support import SHA, body_from, optionals, pipeline_env


@pytest.mark.vcr("pipeline_success.yaml")
def test_successful_pipeline(adapter, collect):
    draft = collect(pipeline_env(1201))
    assert draft.status == "success"
    assert draft.job_id == "1201"
    assert draft.commit_sha == SHA
    start = to_epoch("2025-11-29T07:00:05Z")
    assert to_epoch(draft.job_start_time) == start
    # up to the last job that finished (deploy-production); the reporting job is left out
    assert draft.job_duration == to_epoch("2025-11-29T07:15:58Z") - start
    assert draft.triggered_by == "jane.doe@example.com"
    body = body_from(adapter, draft)
    assert body["status"] == "Succeeded"
    extra = optionals(draft)
    assert extra["pipeline_id"] == 1201
    assert extra["pipeline_url"].endswith("/-/pipelines/1201")
    assert extra["pipeline_source"] == "push"
    assert "job_url" not in extra


@pytest.mark.vcr("pipeline_success.yaml")
def test_selected_deploy_job(adapter, collect):
    draft = collect(pipeline_env(1201), options={"jobs": ["deploy-prod*"]})
    assert draft.job_id == "12004"
    assert to_epoch(draft.job_start_time) == to_epoch("2025-11-29T07:09:04Z")
    assert draft.job_duration == 414
    assert optionals(draft)["job_url"].endswith("/-/jobs/12004")
    assert draft.facts["job_name"] == "deploy-production"
    assert body_from(adapter, draft)["status"] == "Succeeded"


@pytest.mark.vcr("pipeline_success.yaml")
def test_stage_selection_of_several_jobs_reports_the_pipeline_id(collect):
    draft = collect(pipeline_env(1201), options={"stages": ["deploy"]})
    assert draft.job_id == "1201"
    assert to_epoch(draft.job_start_time) == to_epoch("2025-11-29T07:07:14Z")
    assert draft.status == "success"


@pytest.mark.vcr("pipeline_failed.yaml")
def test_failed_pipeline_ignores_jobs_allowed_to_fail(adapter, collect):
    draft = collect(pipeline_env(1202))
    assert draft.status == "failed"
    assert any("unit-tests" in note and "lint" not in note for note in draft.notes)
    assert body_from(adapter, draft)["status"] == "Failed"


@pytest.mark.vcr("pipeline_canceled.yaml")
def test_canceled_pipeline(adapter, collect):
    draft = collect(pipeline_env(1203))
    assert draft.status == "canceled"
    assert body_from(adapter, draft)["status"] == "Failed"


@pytest.mark.vcr("pipeline_manual.yaml")
def test_pipeline_waiting_on_a_manual_deploy_job_is_on_hold(adapter, collect):
    draft = collect(pipeline_env(1204))
    assert draft.status == "manual"
    # On Hold lasts what ran before the wait: pipeline start (07:00:05) to the last finished job
    # (deploy-staging, 07:05:50), never now - start (the pipeline has waited since)
    assert draft.job_duration == to_epoch("2025-11-29T07:05:50Z") - to_epoch("2025-11-29T07:00:05Z")
    assert body_from(adapter, draft)["status"] == "On Hold"


@pytest.mark.vcr("pipeline_manual.yaml")
def test_selected_manual_job_with_null_started_at(adapter, collect):
    draft = collect(pipeline_env(1204), options={"jobs": ["deploy-production"]})
    assert draft.job_id == "12043"
    # the job never started (started_at null): its creation time stands in
    assert to_epoch(draft.job_start_time) == to_epoch("2025-11-29T07:00:02Z")
    body = body_from(adapter, draft)
    assert body["status"] == "On Hold"
    assert body["job_duration"] == 0  # the waiting job has not run at all


@pytest.mark.vcr("pipeline_skipped_deploy.yaml")
def test_skipped_deploy_job_makes_no_record(adapter, collect):
    draft = collect(pipeline_env(1205), options={"stages": ["deploy"]})
    assert draft.status == "skipped"
    assert adapter.status_map["skipped"] == SKIP


@pytest.mark.vcr("pipeline_skipped_deploy.yaml")
def test_whole_pipeline_with_a_skipped_deploy_job_is_failed(collect):
    draft = collect(pipeline_env(1205))
    assert draft.status == "failed"  # unit-tests failed, which is why the deploy was skipped


@pytest.mark.vcr("pipeline_success.yaml")
def test_selection_matching_no_job(collect):
    draft = collect(pipeline_env(1201), options={"jobs": ["release-*"]})
    assert draft.skip is not None
    assert "release-*" in draft.skip


@pytest.mark.vcr("pipeline_child.yaml")
def test_child_pipeline_failure_is_seen_through_the_trigger_job(adapter, collect):
    draft = collect(pipeline_env(1207))
    assert draft.status == "failed"
    assert any("1208" in note for note in draft.notes)
    assert body_from(adapter, draft)["status"] == "Failed"
    # the child's last job finished at 07:12:39
    assert draft.job_duration == to_epoch("2025-11-29T07:12:39Z") - to_epoch("2025-11-29T07:00:05Z")


@pytest.mark.vcr("pipeline_child.yaml")
def test_child_pipeline_jobs_can_be_selected(collect):
    draft = collect(pipeline_env(1207), options={"jobs": ["deploy-eu"]})
    assert draft.job_id == "12081"
    assert draft.status == "success"


@pytest.mark.vcr("pipeline_child.yaml")
def test_without_downstream_the_bridge_is_not_followed(collect):
    draft = collect(pipeline_env(1207), options={"downstream": False})
    assert draft.status == "success"


@pytest.mark.vcr("jobtoken_deployments_blocked.yaml")
def test_job_token_reports_the_pipelines_deployments(adapter, collect):
    env = pipeline_env(1206, CUSTOMCD_GITLAB_TOKEN="")
    draft = collect(env)
    # staging succeeded, production is blocked waiting for approval; the deployment of
    # pipeline 1190 (same listing) is not part of this pipeline
    assert draft.status == "blocked"
    assert draft.job_id == "1206"
    assert to_epoch(draft.job_start_time) == to_epoch("2025-11-29T07:03:43Z")
    assert any("CI_JOB_TOKEN" in note and "read_api" in note for note in draft.notes)
    assert body_from(adapter, draft)["status"] == "On Hold"


@pytest.mark.vcr("jobtoken_deployments_blocked.yaml")
def test_job_token_environment_selection(adapter, collect):
    env = pipeline_env(1206, CUSTOMCD_GITLAB_TOKEN="")
    draft = collect(env, options={"environments": ["production"], "job_type_from": "tier"})
    assert draft.job_id == "12062"
    assert draft.job_type == "production"
    assert optionals(draft)["environment"] == "production"
    assert optionals(draft)["environment_tier"] == "production"
    assert to_epoch(draft.job_start_time) == to_epoch("2025-11-29T07:00:02Z")
    assert body_from(adapter, draft)["status"] == "On Hold"


@pytest.mark.vcr("jobtoken_deployments_blocked.yaml")
def test_job_token_staging_only(adapter, collect):
    env = pipeline_env(1206, CUSTOMCD_GITLAB_TOKEN="")
    draft = collect(env, options={"environments": ["staging"]})
    assert draft.job_id == "12061"
    assert draft.job_duration == to_epoch("2025-11-29T07:06:12Z") - to_epoch("2025-11-29T07:03:43Z")
    assert body_from(adapter, draft)["status"] == "Succeeded"
