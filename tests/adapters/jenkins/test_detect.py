"""Detection: Jenkins builds are recognised, other CIs and plain shells are not."""

from __future__ import annotations

import pytest

from .support import pipeline_env


def test_pipeline_environment_is_jenkins(adapter):
    assert adapter.detect(pipeline_env()) is True


def test_build_without_root_url_is_detected_by_build_tag(adapter):
    env = {"JOB_NAME": "deploy", "BUILD_NUMBER": "7", "BUILD_TAG": "jenkins-deploy-7"}
    assert adapter.detect(env) is True


def test_a_jenkins_build_url_wins_over_other_ci_markers(adapter):
    # e.g. a Jenkins agent image that also has GITHUB_ACTIONS baked in
    assert adapter.detect(pipeline_env(GITHUB_ACTIONS="true")) is True


@pytest.mark.parametrize(
    "env",
    [
        {},
        # a developer's shell (or another CI) that only talks to Jenkins
        {"JENKINS_URL": "https://jenkins.example.com/", "JENKINS_USER": "jdoe"},
        # GitLab CI
        {"GITLAB_CI": "true", "CI_JOB_ID": "1234", "CI_JOB_NAME": "deploy", "CI_PIPELINE_ID": "99"},
        # Azure Pipelines
        {"TF_BUILD": "True", "BUILD_BUILDID": "812", "BUILD_BUILDNUMBER": "20251129.3"},
        # GitHub Actions
        {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1", "GITHUB_JOB": "deploy"},
        # TeamCity sets BUILD_NUMBER but no job name
        {"BUILD_NUMBER": "55", "TEAMCITY_VERSION": "2024.12"},
        # JOB_NAME and BUILD_NUMBER alone, without any Jenkins marker
        {"JOB_NAME": "deploy", "BUILD_NUMBER": "3"},
        # a GitLab job that triggers Jenkins (JENKINS_URL) and sets Jenkins-style names itself
        {
            "GITLAB_CI": "true",
            "JENKINS_URL": "https://jenkins.example.com/",
            "JOB_NAME": "deploy",
            "BUILD_NUMBER": "812",
        },
    ],
)
def test_other_environments_are_not_jenkins(adapter, env):
    assert adapter.detect(env) is False


def test_names_and_status_map(adapter):
    from customcd.plugins.adapter import NOT_FINAL, SKIP

    assert (adapter.name, adapter.title, adapter.server_variable()) == (
        "jenkins",
        "Jenkins",
        "JENKINS_URL",
    )
    expected = {
        "SUCCESS": "Succeeded",
        "UNSTABLE": "Succeeded",
        "FAILURE": "Failed",
        "ABORTED": "Failed",
        "NOT_BUILT": SKIP,
        "PAUSED_PENDING_INPUT": "On Hold",
        "BUILDING": NOT_FINAL,
    }
    for native, mapped in expected.items():
        assert adapter.status_map[native] == mapped
