"""Token and network errors: one clear message naming the token and scope, no traceback, no hang."""

from __future__ import annotations

import pytest
import requests
from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd_gitlab.client import Deadline, GitLabApiError, Token, api_errors
from gitlab_support import API_TOKEN, job_env, pipeline_env


def _no_secret(message: str) -> None:
    assert API_TOKEN not in message
    assert "JOBTOKENVALUE" not in message


@pytest.mark.vcr("error_401.yaml")
def test_401_names_the_token_and_scope(collect):
    with pytest.raises(GitLabApiError) as info:
        collect(pipeline_env(1201))
    message = str(info.value)
    assert info.value.status == 401
    assert "CUSTOMCD_GITLAB_TOKEN" in message and "read_api" in message and "401" in message
    assert info.value.docs == "gitlab.md"
    assert info.value.__suppress_context__  # raised "from None": no chained traceback
    _no_secret(message)


@pytest.mark.vcr("error_403.yaml")
def test_403_on_jobs(collect):
    with pytest.raises(GitLabApiError) as info:
        collect(pipeline_env(1201))
    message = str(info.value)
    assert info.value.status == 403
    assert "403 Forbidden" in message and "read_api" in message and "Reporter" in message
    assert "listing the jobs of pipeline 1201" in message
    _no_secret(message)


@pytest.mark.vcr("error_404.yaml")
def test_404_explains_hidden_projects(collect):
    with pytest.raises(GitLabApiError) as info:
        collect(pipeline_env(1201, GITLAB_TOKEN="glpat-other", CUSTOMCD_GITLAB_TOKEN=""))
    message = str(info.value)
    assert "404" in message and "GITLAB_TOKEN" in message and "read_api" in message
    _no_secret(message)


@pytest.mark.vcr("error_401.yaml")
def test_api_failure_with_status_flag_falls_back_to_variables(adapter, collect):
    draft = collect(pipeline_env(1201), overrides={"status": "success"})
    assert draft.job_id == "1201"
    assert draft.job_start_time == "2025-11-29T07:00:02Z"
    assert any("401" in note and "CI_* variables" in note for note in draft.notes)
    _no_secret(" ".join(draft.notes))


@pytest.mark.vcr("error_jobtoken_pipelines.yaml")
def test_job_token_cannot_read_pipelines_in_history(adapter):
    query = HistoryQuery(
        since=1_764_000_000,
        selection={"project": ("7",), "source": "pipelines"},
        server="https://gitlab.example.com",
        env={"CI_JOB_TOKEN": "glcbt-64_JOBTOKENVALUE"},
    )
    with pytest.raises(GitLabApiError) as info:
        list(adapter.history(query))
    message = str(info.value)
    assert "CI_JOB_TOKEN" in message and "not pipelines" in message
    assert "read_api" in message and "CUSTOMCD_GITLAB_TOKEN" in message
    _no_secret(message)


def test_job_token_pipeline_without_deployments_explains_what_to_set(monkeypatch, collect):
    # the job token's deployments listing came back empty for this pipeline
    import gitlab.v4.objects

    monkeypatch.setattr(
        gitlab.v4.objects.ProjectDeploymentManager, "list", lambda self, **kw: iter(())
    )
    with pytest.raises(AdapterError) as info:
        collect(pipeline_env(1299, CUSTOMCD_GITLAB_TOKEN=""))
    message = str(info.value)
    assert "CI_JOB_TOKEN" in message and "CUSTOMCD_GITLAB_TOKEN" in message
    assert "read_api" in message
    _no_secret(message)


def test_pipeline_mode_without_any_token(collect):
    env = pipeline_env(1201, CUSTOMCD_GITLAB_TOKEN="", CI_JOB_TOKEN="")
    with pytest.raises(AdapterError) as info:
        collect(env)
    assert "CUSTOMCD_GITLAB_TOKEN" in str(info.value) and "read_api" in str(info.value)


def test_history_needs_a_selection_and_a_token(adapter):
    with pytest.raises(AdapterError, match="--project"):
        list(adapter.history(HistoryQuery(since=0, env={"GITLAB_TOKEN": "x"})))
    with pytest.raises(AdapterError, match="read_api"):
        list(adapter.history(HistoryQuery(since=0, selection={"project": ("7",)}, env={})))


TOKEN = Token("CUSTOMCD_GITLAB_TOKEN", "private", API_TOKEN)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "did not answer in time"),
        (requests.exceptions.ConnectTimeout("connect timed out"), "did not answer in time"),
        (requests.exceptions.SSLError("certificate verify failed"), "REQUESTS_CA_BUNDLE"),
        (requests.exceptions.ConnectionError("refused"), "cannot reach GitLab"),
    ],
)
def test_network_errors_become_clear_messages(raised, expected):
    with (
        pytest.raises(GitLabApiError, match=expected) as info,
        api_errors("reading pipeline 1", "https://user:pw@gitlab.example.com", TOKEN),
    ):
        raise raised
    assert "pw@" not in str(info.value)
    _no_secret(str(info.value))


def test_deadline_bounds_the_whole_collection():
    now = [100.0]
    deadline = Deadline(10.0, clock=lambda: now[0])
    assert deadline.remaining("a") == 10.0
    now[0] = 107.5
    assert deadline.remaining("b") == 2.5
    now[0] = 110.0
    with pytest.raises(GitLabApiError, match="within 10 s"):
        deadline.remaining("listing the jobs of pipeline 1")


def test_each_call_gets_the_remaining_time(monkeypatch, collect):
    seen = []

    def fake_send(self, request, **kwargs):
        seen.append(kwargs.get("timeout"))
        raise requests.exceptions.ReadTimeout("slow")

    monkeypatch.setattr(requests.Session, "send", fake_send)
    with pytest.raises(GitLabApiError, match="did not answer in time"):
        collect(pipeline_env(1201), timeout=3.0)
    assert len(seen) == 1 and 0 < seen[0] <= 3.0


def test_token_repr_hides_the_value():
    assert API_TOKEN not in repr(TOKEN)


def test_job_mode_never_calls_the_api(monkeypatch, collect):
    def refuse(*args, **kwargs):
        raise AssertionError("job mode made an HTTP request")

    monkeypatch.setattr(requests.Session, "send", refuse)
    draft = collect(job_env(CUSTOMCD_GITLAB_TOKEN=API_TOKEN))
    assert draft.job_id == "5512"
