"""Job mode: the record of the current GitLab job from its predefined variables."""

from __future__ import annotations

import pytest
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import NOT_FINAL, AdapterError
from gitlab_support import NOW, SHA, SOURCE_SHA, body_from, job_env, optionals


def test_after_script_success_makes_a_valid_record(adapter, collect):
    draft = collect(job_env())
    assert draft.job_id == "5512"
    assert draft.commit_sha == SHA
    assert draft.repo_id == "7"
    assert draft.repo_name == "acme/shop/web"
    assert draft.triggered_by == "jane.doe@example.com"
    assert draft.job_duration is None  # the builder computes now - start
    body = body_from(adapter, draft)
    assert body["status"] == "Succeeded"
    assert body["job_start_time"] == 1_764_400_000
    assert body["job_duration"] == NOW - 1_764_400_000
    assert optionals(draft) == {
        "environment": "production",
        "environment_tier": "production",
        "pipeline_id": 1201,
        "pipeline_url": "https://gitlab.example.com/acme/shop/web/-/pipelines/1201",
        "job_url": "https://gitlab.example.com/acme/shop/web/-/jobs/5512",
        "ref": "main",
        "pipeline_source": "push",
        "ci_system": "gitlab",
    }
    assert draft.facts["job_name"] == "deploy-production"
    assert draft.facts["environment"] == "production"
    assert draft.facts["branch"] == "main"


def test_after_script_failed(adapter, collect):
    draft = collect(job_env(CI_JOB_STATUS="failed"))
    assert body_from(adapter, draft)["status"] == "Failed"


def test_gitlab17_after_script_on_cancel_reports_failed(adapter, collect):
    # GitLab 17.0+ runs after_script when a job is canceled; CI_JOB_STATUS is then "canceled"
    draft = collect(job_env(CI_JOB_STATUS="canceled"))
    assert draft.status == "canceled"
    assert body_from(adapter, draft)["status"] == "Failed"


def test_inside_script_status_is_not_final_and_asks_for_status(adapter, collect):
    draft = collect(job_env(CI_JOB_STATUS="running"))
    assert adapter.status_map[draft.status] == NOT_FINAL
    assert any("--status" in note and "after_script" in note for note in draft.notes)
    # with --status success (mapped through the same map) the record is valid
    assert body_from(adapter, draft, status="success")["status"] == "Succeeded"


def test_missing_job_status_leaves_status_empty_with_a_note(collect):
    env = job_env()
    del env["CI_JOB_STATUS"]
    draft = collect(env)
    assert draft.status is None
    assert any("CI_JOB_STATUS is not set" in note for note in draft.notes)


def test_login_when_no_email(collect):
    draft = collect(job_env(GITLAB_USER_EMAIL=""))
    assert draft.triggered_by == "jdoe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-29T07:06:40Z", 1_764_400_000),
        ("2025-11-29T07:06:40.123Z", 1_764_400_000),
        ("2025-11-29T09:06:40+02:00", 1_764_400_000),
        ("2025-11-29T02:06:40-05:00", 1_764_400_000),
        ("2025-11-29 08:06:40 +0100", 1_764_400_000),
    ],
)
def test_start_times_with_z_and_offsets(adapter, collect, text, expected):
    draft = collect(job_env(CI_JOB_STARTED_AT=text))
    assert to_epoch(draft.job_start_time) == expected
    assert body_from(adapter, draft)["job_start_time"] == expected


def test_missing_job_start_falls_back_to_pipeline_creation(collect):
    env = job_env()
    del env["CI_JOB_STARTED_AT"]
    draft = collect(env)
    assert draft.job_start_time == "2025-11-29T07:00:02Z"
    assert any("CI_JOB_STARTED_AT" in note for note in draft.notes)


def merged_results_env(**extra: str) -> dict[str, str]:
    return job_env(
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_COMMIT_REF_NAME="feature/cart",
        CI_COMMIT_BRANCH="",
        CI_MERGE_REQUEST_IID="42",
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="feature/cart",
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=SOURCE_SHA,
        CI_MERGE_REQUEST_TARGET_BRANCH_SHA="1b12f15a11fc6e62177bef08f47bc7b5ce50b141",
        CI_MERGE_REQUEST_EVENT_TYPE="merged_result",
        **extra,
    )


def test_merged_results_reports_the_merge_commit_by_default(adapter, collect):
    draft = collect(merged_results_env())
    assert draft.commit_sha == SHA
    extra = optionals(draft)
    assert extra["source_commit_sha"] == SOURCE_SHA
    assert extra["merge_request_iid"] == 42
    assert extra["pipeline_source"] == "merge_request_event"
    assert draft.facts["branch"] == "feature/cart"
    assert any('commit = "source"' in note for note in draft.notes)
    body_from(adapter, draft)


def test_merged_results_can_report_the_source_head(adapter, collect):
    draft = collect(merged_results_env(), options={"commit": "source"})
    assert draft.commit_sha == SOURCE_SHA
    assert optionals(draft)["merge_commit_sha"] == SHA
    body_from(adapter, draft)


def test_source_commit_option_from_environment_variable(collect):
    draft = collect(merged_results_env(CUSTOMCD_GITLAB_COMMIT="source"))
    assert draft.commit_sha == SOURCE_SHA


def test_plain_branch_pipeline_ignores_commit_option(collect):
    draft = collect(job_env(), options={"commit": "source"})
    assert draft.commit_sha == SHA
    assert "source_commit_sha" not in optionals(draft)


def test_job_type_fixed(collect):
    assert collect(job_env(), options={"job_type": "deploy"}).job_type == "deploy"
    assert collect(job_env()).job_type is None


def test_job_type_from_environment_and_tier(collect):
    env = job_env(CI_ENVIRONMENT_NAME="review/feature-x", CI_ENVIRONMENT_TIER="development")
    assert collect(env, options={"job_type_from": "environment"}).job_type == "review/feature-x"
    assert collect(env, options={"job_type_from": "tier"}).job_type == "development"


def test_job_type_from_without_environment_notes_it(collect):
    env = job_env(CI_ENVIRONMENT_NAME="", CI_ENVIRONMENT_TIER="")
    draft = collect(env, options={"job_type_from": "tier", "job_type": "fallback"})
    assert draft.job_type == "fallback"
    draft = collect(env, options={"job_type_from": "tier"})
    assert draft.job_type is None
    assert any("job_type_from" in note for note in draft.notes)


def test_bad_option_is_a_clear_error(collect):
    with pytest.raises(AdapterError, match="job_type_from"):
        collect(job_env(), options={"job_type_from": "stage"})
    with pytest.raises(AdapterError, match="mode"):
        collect(job_env(CUSTOMCD_GITLAB_MODE="everything"))
