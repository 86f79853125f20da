"""API mode: the build read through jenkinsapi, replayed from modelled cassettes/jenkins/*.yaml."""

from __future__ import annotations

import pytest

from .support import APP_SHA, ROOT, api_env, context, optional

T0_S = 1764400000  # the cassettes' build timestamp 1764400000123 ms, in seconds


def _all_played(cassette) -> None:
    assert cassette.all_played, f"unplayed requests: {cassette.requests}"


@pytest.mark.vcr("api_success.yaml")
def test_successful_build(adapter, vcr):
    draft = adapter.collect(context(api_env("success", 42)))
    _all_played(vcr)
    assert draft.status == "SUCCESS"
    assert adapter.status_map[draft.status] == "Succeeded"
    assert draft.job_start_time == T0_S  # ms -> s, rounded down, not 1764400000123
    assert draft.job_duration == pytest.approx(312.456)
    assert draft.commit_sha == APP_SHA
    assert draft.repo_name == "acme/payments-api"
    assert draft.job_id == "payments/api#42"
    assert optional(draft, "trigger") == "scm"
    assert optional(draft, "job_url") == f"{ROOT}job/payments/job/api/42/"
    assert optional(draft, "branch") == "main"
    assert any("read build payments/api#42 from the Jenkins API" in n for n in draft.notes)
    assert not any("--start-time-ms" in n for n in draft.notes)


@pytest.mark.vcr("api_failure.yaml")
def test_failed_build(adapter, vcr):
    draft = adapter.collect(context(api_env("failure", 43)))
    _all_played(vcr)
    assert (draft.status, adapter.status_map[draft.status]) == ("FAILURE", "Failed")
    assert draft.job_duration == pytest.approx(75.012)
    assert optional(draft, "trigger") == "timer"


@pytest.mark.vcr("api_aborted.yaml")
def test_aborted_build(adapter, vcr):
    draft = adapter.collect(context(api_env("aborted", 44)))
    _all_played(vcr)
    assert (draft.status, adapter.status_map[draft.status]) == ("ABORTED", "Failed")
    assert optional(draft, "trigger") == "branch-indexing"


@pytest.mark.vcr("api_unstable.yaml")
def test_unstable_build(adapter, vcr):
    draft = adapter.collect(context(api_env("unstable", 45)))
    _all_played(vcr)
    assert (draft.status, adapter.status_map[draft.status]) == ("UNSTABLE", "Succeeded")


@pytest.mark.vcr("api_running.yaml")
def test_running_build_is_not_final_and_duration_is_left_to_now_minus_start(adapter, vcr):
    from customcd.plugins.adapter import NOT_FINAL

    draft = adapter.collect(context(api_env("running", 46)))
    _all_played(vcr)  # includes wfapi/describe (IN_PROGRESS)
    assert adapter.status_map[draft.status] == NOT_FINAL
    assert draft.job_duration is None  # API duration is 0 while building: not used
    assert draft.job_start_time == T0_S
    assert '--status "${currentBuild.currentResult}"' in draft.hints["status"]


@pytest.mark.vcr("api_running.yaml")
def test_running_build_with_status_flag_has_no_status_hint(adapter, vcr):
    draft = adapter.collect(context(api_env("running", 46), status="SUCCESS"))
    assert draft.job_start_time == T0_S
    # the API's status is kept in the draft; the user's --status overrides it in the builder
    assert draft.status == "BUILDING"


@pytest.mark.vcr("api_paused_for_input.yaml")
def test_paused_for_input_is_on_hold(adapter, vcr):
    draft = adapter.collect(context(api_env("paused", 47)))
    _all_played(vcr)
    assert draft.status == "PAUSED_PENDING_INPUT"
    assert adapter.status_map[draft.status] == "On Hold"
    # what the run worked before the input step: wfapi's durationMillis (185 s so far) minus
    # pauseDurationMillis (120 s), never now - start
    assert draft.job_duration == 65.0


@pytest.mark.vcr("api_multibranch_encoded_branch.yaml")
def test_multibranch_encoded_branch_url(adapter, vcr):
    job_url = f"{ROOT}job/web/job/storefront/job/feature%252Flogin/"
    env = api_env(
        "multibranch",
        7,
        job_url=job_url,
        JOB_NAME="web/storefront/feature%2Flogin",
        BRANCH_NAME="feature/login",
        GIT_URL="https://github.com/acme/storefront.git",
        GIT_COMMIT="9b2d4f6a8c0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a",
    )
    draft = adapter.collect(context(env))
    _all_played(vcr)
    assert draft.job_id == "web/storefront/feature%2Flogin#7"
    assert draft.commit_sha == "9b2d4f6a8c0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a"
    assert draft.repo_name == "acme/storefront"
    assert optional(draft, "branch") == "feature/login"
    assert optional(draft, "trigger") == "branch-event"


@pytest.mark.vcr("api_multibranch_encoded_branch.yaml")
def test_multibranch_url_built_from_jenkins_url_and_job_name(adapter, vcr):
    env = api_env("multibranch", 7, JOB_NAME="web/storefront/feature%2Flogin")
    del env["BUILD_URL"], env["JOB_URL"]
    draft = adapter.collect(context(env))
    _all_played(vcr)
    assert draft.status == "SUCCESS"


@pytest.mark.vcr("api_shared_library_first.yaml")
def test_revision_of_the_repository_not_the_shared_library(adapter, vcr):
    draft = adapter.collect(context(api_env("shared_library", 48)))
    _all_played(vcr)
    assert draft.commit_sha == "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"
    assert draft.repo_name == "acme/payments-api"
    assert not any("revisions" in n for n in draft.notes)


@pytest.mark.vcr("api_shared_library_first.yaml")
def test_revision_matches_ssh_form_of_git_url(adapter, vcr):
    env = api_env("shared_library", 48, GIT_URL="git@github.com:Acme/payments-api.git")
    draft = adapter.collect(context(env))
    assert draft.commit_sha == "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"


@pytest.mark.vcr("api_shared_library_first.yaml")
def test_revision_without_git_url_takes_the_last_checkout_and_says_so(adapter, vcr):
    env = api_env("shared_library", 48)
    del env["GIT_URL"], env["GIT_COMMIT"]
    draft = adapter.collect(context(env))
    assert draft.commit_sha == "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"
    assert any("2 revisions" in n and "jenkins-shared-lib" in n for n in draft.notes)


@pytest.mark.vcr("api_user_triggered.yaml")
def test_user_triggered_build_reports_the_users_email(adapter, vcr):
    draft = adapter.collect(context(api_env("user", 49)))
    _all_played(vcr)  # includes /user/jdoe/api/json
    assert draft.triggered_by == "jane.doe@example.com"
    assert optional(draft, "trigger") == "user"


@pytest.mark.vcr("api_user_without_email.yaml")
def test_user_without_email_reports_the_user_id(adapter, vcr):
    draft = adapter.collect(context(api_env("user_no_email", 50)))
    _all_played(vcr)
    assert draft.triggered_by == "ci-bot"


@pytest.mark.vcr("api_upstream_triggered.yaml")
def test_upstream_triggered_build_names_the_upstream_build(adapter, vcr):
    draft = adapter.collect(context(api_env("upstream", 51, BUILD_USER_ID="")))
    _all_played(vcr)
    assert optional(draft, "upstream") == "payments/build#311"
    assert optional(draft, "trigger") == "upstream"
    assert draft.triggered_by is None


@pytest.mark.vcr("api_success.yaml")
def test_environment_fills_what_the_api_lacks(adapter, vcr):
    env = api_env("success", 42, BUILD_USER_EMAIL="ops@example.com")
    draft = adapter.collect(context(env))
    assert draft.triggered_by == "ops@example.com"  # SCM-triggered: the API names no user
    assert optional(draft, "node") == "linux-agent-2"  # pipelines have no builtOn in the API


@pytest.mark.vcr("api_literal_words.yaml")
def test_strings_holding_true_false_none_are_read_verbatim(adapter, vcr):
    # jenkinsapi parses api/python by rewriting True/False/None everywhere, strings included
    # (acme/TrueNorth -> acme/trueNorth): the adapter reads api/json, one request per build.
    draft = adapter.collect(context(api_env("literal_words", 52)))
    _all_played(vcr)
    assert vcr.play_count == 1
    assert draft.repo_name == "acme/TrueNorth"
    assert optional(draft, "branch") == "fix/None-check"
    assert optional(draft, "node") == "FalseBay-agent"
