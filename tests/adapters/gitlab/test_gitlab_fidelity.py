"""GitLab as it really answers: another external_url, no totals past 10,000 items, API-created
deployments, bridges without project_id, keyset pagination, python-gitlab's warnings."""

from __future__ import annotations

import logging
import warnings

import pytest
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import HistoryQuery
from customcd_gitlab.deployments import deployment_draft, deployment_times
from customcd_gitlab.options import GitLabOptions
from customcd_gitlab.pipeline import downstream_project
from gitlab_support import SHA, body_from, optionals, pipeline_env

INTERNAL = "https://gitlab-internal.example.net:8443"
TOKEN = "glpat-FIDELITYxTOKENxVALUE"


def query(**kwargs) -> HistoryQuery:
    base = {
        "since": to_epoch("2025-11-24T16:00:00Z"),
        "selection": {"project": ("acme/shop/web",), "source": "deployments"},
        "server": INTERNAL,
        "env": {"CUSTOMCD_GITLAB_TOKEN": TOKEN},
        "options": {"per_page": 2},
        "log": logging.getLogger("customcd.test.gitlab"),
    }
    base.update(kwargs)
    return HistoryQuery(**base)


@pytest.mark.vcr("history_external_url.yaml")
def test_pages_stay_on_the_server_given_when_gitlab_links_elsewhere(adapter, vcr, recwarn):
    # GitLab builds Link/X-Next-Page from its external_url (gitlab.example.com); every request
    # must stay on --server (the cassette holds no other host: a request there would fail), and
    # past 10,000 items there is no X-Total/X-Total-Pages/rel="last" to rely on
    drafts = list(adapter.history(query()))
    assert vcr.all_played
    assert all(r.host == "gitlab-internal.example.net" for r in vcr.requests)
    assert [d.job_id for d in drafts] == [
        "11501",
        "deployment-10902",
        "11611",
        "deployment-10905",
    ]  # 10904 waits for an approval
    assert not [w for w in recwarn if "python-gitlab" in str(w.message) or "gitlab" in w.filename]
    assert optionals(drafts[0])["environment_tier"] == "staging"  # read from the environment
    for draft in drafts:
        body_from(adapter, draft)


@pytest.mark.vcr("history_external_url.yaml")
def test_a_deployment_created_through_the_api_uses_its_own_times(adapter):
    drafts = {d.job_id: d for d in adapter.history(query())}
    api_made = drafts["deployment-10902"]
    # deployable: null (the "Create a deployment" shape): created_at is its start, updated_at
    # (its last status change) its end; never now - created_at
    assert to_epoch(api_made.job_start_time) == to_epoch("2025-11-25T10:00:00Z")
    assert api_made.job_duration == pytest.approx(450.5)
    assert api_made.commit_sha == SHA
    assert api_made.triggered_by == "project_7_bot_3f2a"
    assert any("Deployments API" in note for note in api_made.notes)


@pytest.mark.vcr("history_external_url.yaml")
def test_a_blocked_deployment_lasts_what_ran_before_the_wait(adapter):
    drafts = {d.job_id: d for d in adapter.history(query(include_on_hold=True))}
    blocked = drafts["11720"]
    assert adapter.status_map[blocked.status] == "On Hold"
    assert blocked.job_duration == 0  # its job never started: 0, not the days it has waited
    assert body_from(adapter, blocked)["job_duration"] == 0


def test_the_create_a_deployment_example_has_no_duration_to_invent():
    # doc/api/deployments.md, "Create a deployment": created with status success, no job, no
    # updated_at yet
    created = {
        "id": 42,
        "iid": 2,
        "ref": "main",
        "sha": SHA,
        "created_at": "2016-08-11T11:32:35.444Z",
        "status": "success",
        "user": {"name": "Administrator", "username": "root", "id": 1, "state": "active"},
        "environment": {"id": 9, "name": "production", "external_url": "https://about.gitlab.com"},
        "deployable": None,
    }
    start, duration, _ = deployment_times(created)
    assert start == "2016-08-11T11:32:35.444Z" and duration == 0
    draft = deployment_draft(
        created, project_id=1, project_path="root/project", options=GitLabOptions()
    )
    assert draft.job_id == "deployment-42" and draft.job_duration == 0


@pytest.mark.vcr("pipeline_multi_project.yaml")
def test_a_bridge_without_project_id_is_followed_by_its_web_url(adapter, collect, vcr):
    draft = collect(pipeline_env(1209))
    assert vcr.all_played  # the downstream jobs were read from acme/shop/deploy-tools
    assert draft.status == "success"
    assert any("1300 (from trigger job deploy-infra)" in note for note in draft.notes)
    assert body_from(adapter, draft)["status"] == "Succeeded"


def test_downstream_project_from_the_bridge_shapes():
    assert downstream_project({"id": 5, "project_id": 21}, 7, "https://gitlab.example.com") == 21
    documented = {"id": 5, "web_url": "https://example.com/diaspora/diaspora-client/pipelines/5"}
    assert downstream_project(documented, 7, "https://example.com") == "diaspora/diaspora-client"
    rooted = {"id": 6, "web_url": "https://host/gitlab/acme/tools/-/pipelines/6"}
    assert downstream_project(rooted, 7, "https://host/gitlab") == "acme/tools"
    assert downstream_project({"id": 8}, 7, "https://host") == 7  # a child: the parent's project


@pytest.mark.vcr("group_projects_keyset_refused.yaml")
def test_a_gitlab_without_keyset_pagination_lists_the_group_with_offset_pages(adapter, vcr):
    q = HistoryQuery(
        since=to_epoch("2025-11-01T00:00:00Z"),
        selection={"group": "acme/shop", "source": "deployments"},
        server="https://gitlab.example.com",
        env={"GITLAB_TOKEN": TOKEN},
        options={"per_page": 2},
    )
    assert list(adapter.history(q)) == []
    assert vcr.all_played  # 405 on keyset, two offset pages, the three projects' deployments


def test_python_gitlab_warnings_go_to_customcds_log_without_local_paths(caplog):
    import gitlab.utils
    from customcd_gitlab.client import quiet_iter, routed_warnings

    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with routed_warnings(logging.getLogger("customcd.gitlab")):
            gitlab.utils.warn(
                message="The base URL in the server response differs", category=UserWarning
            )

        def listing():
            gitlab.utils.warn(
                message="Calling a `list()` method without get_all", category=UserWarning
            )
            yield 1

        assert list(quiet_iter(listing())) == [1]
    assert escaped == []  # nothing reached Python's warnings (printed raw with a source path)
    messages = [r.getMessage() for r in caplog.records]
    assert "python-gitlab: The base URL in the server response differs" in messages
    assert "python-gitlab: Calling a `list()` method without get_all" in messages
    assert not any("(python-gitlab: /" in m or ".py:" in m for m in messages)


def test_send_names_the_gitlab_variables_and_flags_to_set(customcd_cli):
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_JOB_ID": "5512",
        "CUSTOMCD_SERVICE_ID": "3",
    }
    result = customcd_cli(["send", "--dry-run"], env=env)
    assert result.exit_code == 65
    err = result.stderr
    assert "commit_sha: is required (CI_COMMIT_SHA is not set; give --commit-sha" in err
    assert "job_start_time: is required (CI_JOB_STARTED_AT and CI_PIPELINE_CREATED_AT" in err
    assert "(CI_PROJECT_PATH and CI_PROJECT_ID are not set; give --repo-name)" in err
    assert "status: is required (CI_JOB_STATUS is not set" in err
    assert result.stdout == ""


def test_pipeline_durations_in_history():
    from customcd_gitlab.history import pipeline_duration

    finished = {"finished_at": "2025-11-25T09:12:00.512Z", "duration": 700}
    assert pipeline_duration(finished, "2025-11-25T09:00:04Z") == pytest.approx(716.512)
    waiting = {"status": "manual", "finished_at": None, "duration": 345}
    assert pipeline_duration(waiting, "2025-11-25T09:00:04Z") == 345  # ran before the wait
    assert pipeline_duration({"status": "manual"}, "2025-11-25T09:00:04Z") == 0
