"""Environment mode: pipeline and freestyle variables, no credentials."""

from __future__ import annotations

import logging

from .support import APP_SHA, ROOT, context, optional, pipeline_env


def test_pipeline_post_block(adapter):
    draft = adapter.collect(
        context(pipeline_env(), status="SUCCESS", start_time_ms="1764400000123")
    )
    assert draft.job_id == "payments/api#42"
    assert draft.commit_sha == APP_SHA
    assert draft.repo_name == "acme/payments-api"
    assert draft.status is None  # the user's --status wins; Jenkins has no result variable
    assert (
        draft.job_start_time is None and draft.job_duration is None
    )  # builder: ms flag, now-start
    assert draft.adapter == "jenkins"
    assert optional(draft, "job_url") == f"{ROOT}job/payments/job/api/42/"
    assert optional(draft, "job_name") == "payments/api"
    assert optional(draft, "build_number") == 42
    assert optional(draft, "branch") == "main"
    assert optional(draft, "node") == "linux-agent-2"
    assert optional(draft, "ci_system") == "Jenkins"
    assert draft.facts["job_name"] == "payments/api" and draft.facts["branch"] == "main"
    assert not any("start-time" in n or "--status" in n for n in draft.notes)


def test_hints_when_status_and_start_are_not_given(adapter, caplog):
    caplog.set_level(logging.WARNING)
    draft = adapter.collect(context(pipeline_env()))
    assert '--status "${currentBuild.currentResult}"' in draft.hints["status"]
    # no start anywhere: the record is kept with the report's time, said loudly and marked
    assert draft.job_start_time == 1764400900 and draft.job_duration == 0
    assert optional(draft, "start_time_source") == "report-time"
    assert '--start-time-ms "${currentBuild.startTimeInMillis}"' in caplog.text
    assert "$BUILD_TAG" in caplog.text


def test_freestyle_with_build_user_vars(adapter):
    env = {
        "JENKINS_URL": ROOT,
        "JOB_NAME": "deploy-prod",
        "BUILD_NUMBER": "311",
        "BUILD_TAG": "jenkins-deploy-prod-311",
        "BUILD_URL": f"{ROOT}job/deploy-prod/311/",
        "NODE_NAME": "built-in",
        "GIT_COMMIT": "C0FFEE0123456789ABCDEF0123456789ABCDEF01",
        "GIT_BRANCH": "origin/release/2025.11",
        "GIT_URL": "git@git.example.com:ops/deploy-config.git",
        "BUILD_USER": "Jane Doe",
        "BUILD_USER_ID": "jdoe",
        "BUILD_USER_EMAIL": "jane.doe@example.com",
    }
    draft = adapter.collect(context(env, status="FAILURE", job_start_time="1764400000"))
    assert draft.job_id == "deploy-prod#311"
    assert draft.commit_sha == "C0FFEE0123456789ABCDEF0123456789ABCDEF01"  # core lower-cases
    assert draft.repo_name == "ops/deploy-config"
    assert draft.triggered_by == "jane.doe@example.com"
    assert optional(draft, "branch") == "release/2025.11"


def test_build_user_id_when_no_email(adapter):
    draft = adapter.collect(context(pipeline_env(BUILD_USER_ID="timer")))
    assert draft.triggered_by == "timer"


def test_multibranch_encoded_branch(adapter):
    env = pipeline_env(
        JOB_NAME="web/storefront/feature%2Flogin",
        BRANCH_NAME="feature/login",
        BUILD_NUMBER="7",
        BUILD_URL=f"{ROOT}job/web/job/storefront/job/feature%252Flogin/7/",
        GIT_BRANCH="feature/login",
    )
    draft = adapter.collect(context(env))
    assert draft.job_id == "web/storefront/feature%2Flogin#7"
    assert optional(draft, "branch") == "feature/login"
    assert draft.facts["branch"] == "feature/login"


def test_missing_git_commit_is_explained(adapter):
    env = pipeline_env()
    del env["GIT_COMMIT"]
    draft = adapter.collect(context(env, status="SUCCESS", start_time_ms="1764400000000"))
    assert draft.commit_sha is None
    hint = draft.hints["commit_sha"]
    assert "GIT_COMMIT" in hint and "--commit-sha" in hint and "customcd-git" in hint


def test_missing_git_commit_note_is_silent_when_flag_given(adapter):
    env = pipeline_env()
    del env["GIT_COMMIT"]
    draft = adapter.collect(context(env, commit_sha=APP_SHA))
    assert not any("GIT_COMMIT" in n for n in draft.notes)


def test_git_url_with_credentials_never_leaks(adapter):
    secret = "ghp_s3cr3tTokenValue0123456789"
    env = pipeline_env(
        GIT_URL=f"https://x-access-token:{secret}@github.com/acme/payments-api.git",
        BUILD_URL=f"https://ci:{secret}@jenkins.example.com/job/payments/job/api/42/",
    )
    draft = adapter.collect(context(env))
    assert draft.repo_name == "acme/payments-api"
    assert secret not in repr(draft)
    assert optional(draft, "job_url") == "https://jenkins.example.com/job/payments/job/api/42/"


def test_several_remotes_git_url_n(adapter):
    env = pipeline_env()
    del env["GIT_URL"]
    env.update(
        GIT_URL_1="https://github.com/acme/payments-api.git",
        GIT_URL_2="https://github.com/acme/payments-config.git",
    )
    draft = adapter.collect(context(env))
    assert draft.repo_name == "acme/payments-api"
    assert any("2 git remotes" in n for n in draft.notes)


def test_job_identity_from_build_url_when_job_name_missing(adapter):
    env = {
        "BUILD_URL": f"{ROOT}job/team/job/app/19/",
        "BUILD_NUMBER": "19",
        "GIT_COMMIT": APP_SHA,
    }
    draft = adapter.collect(context(env))
    assert draft.job_id == "team/app#19"


def test_api_disabled_by_option_makes_no_request(adapter):
    from customcd.plugins.draft import CollectContext

    env = pipeline_env(
        JENKINS_USER="jdoe", JENKINS_API_TOKEN="abc", BUILD_URL="http://127.0.0.1:9/job/x/1/"
    )
    ctx = CollectContext(env=env, options={"jenkins": {"api": False}}, now=1764400900.0)
    draft = adapter.collect(ctx)
    assert draft.job_id == "payments/api#42"
    assert not any("Jenkins API" in n for n in draft.notes)


def test_only_one_credential_variable_is_explained(adapter):
    draft = adapter.collect(context(pipeline_env(JENKINS_USER="jdoe")))
    assert any("JENKINS_API_TOKEN" in n for n in draft.notes)
