"""History for backfill: builds in a window (paginated), approvals, repositories, environments."""

from __future__ import annotations

import logging

import pytest
from azdo_samples import COLLECTION, REPO_ID, SECRET, mapped
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError, HistoryQuery

SINCE = 1764374400  # 2025-11-29T00:00:00Z
NOON = 1764417600  # 2025-11-29T12:00:00Z


def query(**kwargs) -> HistoryQuery:
    kwargs.setdefault("since", SINCE)
    kwargs.setdefault("server", COLLECTION)
    kwargs.setdefault("env", {"AZURE_DEVOPS_PAT": SECRET})
    kwargs.setdefault("timeout", 5.0)
    selection = {"project": "Fabrikam Web", **kwargs.pop("selection", {})}
    return HistoryQuery(selection=selection, **kwargs)


@pytest.mark.vcr("builds_history_paginated.yaml")
def test_builds_follow_the_continuation_token_and_skip_running_ones(adapter):
    q = query(until=NOON, selection={"definition": (12, 14)}, options={"page_size": 2})
    drafts = list(adapter.history(q))
    assert [d.job_id for d in drafts] == ["20931", "20932", "20933", "20936"]  # 20937 still runs
    assert [mapped(d.status) for d in drafts] == ["Succeeded", "Succeeded", "Failed", "Failed"]
    assert [d.status for d in drafts][:2] == ["succeeded", "partiallySucceeded"]
    assert drafts[0].cursor == "build:1764400000:20931"
    assert all(to_epoch(d.job_start_time) >= SINCE for d in drafts)
    assert drafts[0].job_duration == 442
    optional = {item["key"]: item["value"] for item in drafts[0].optional}
    assert optional["url"].endswith("_build/results?buildId=20931")
    assert optional["pipeline"] == "fabrikam-web-ci"


@pytest.mark.vcr("builds_history_paginated.yaml")
def test_history_is_lazy_one_page_at_a_time(adapter, vcr):
    q = query(until=NOON, selection={"definition": [12, 14]}, options={"page_size": 2})
    items = adapter.history(q)
    assert vcr.play_count == 0  # nothing is requested before the first item is wanted
    assert [next(items).job_id, next(items).job_id] == ["20931", "20932"]
    assert vcr.play_count == 1  # page 2 not fetched yet
    assert next(items).job_id == "20933"
    assert vcr.play_count == 2
    items.close()


def _build(build_id, start, status="completed", result="succeeded"):
    return {
        "id": build_id,
        "status": status,
        "result": result,
        "startTime": start,
        "finishTime": "2025-11-29T09:00:00Z",
        "sourceVersion": "a" * 40,
        "repository": {"id": REPO_ID, "name": "fabrikam-web"},
    }


def test_resume_moves_min_time_and_skips_the_cursor_item(adapter, monkeypatch):
    from customcd_azure_devops import api

    seen = {}

    def fake_list_builds(client, project, **kwargs):
        seen.update(kwargs)
        page = [
            _build(20932, "2025-11-29T07:50:09.5527431Z"),  # the cursor's item: done
            _build(20930, "2025-11-29T07:50:09.9Z"),  # same second, other id: kept (ledger dedups)
            _build(20933, "2025-11-29T08:02:18.8861203Z"),
        ]
        return iter([(page, None)])

    monkeypatch.setattr(api, "list_builds", fake_list_builds)
    drafts = list(adapter.history(query(resume_from="build:1764402609:20932")))
    assert seen["min_time"] == "2025-11-29T07:50:09Z"
    assert [d.job_id for d in drafts] == ["20930", "20933"]
    assert drafts[-1].cursor == "build:1764403338:20933"


@pytest.mark.vcr("build_waiting_for_approval.yaml")
def test_run_waiting_on_an_approval_is_on_hold_when_asked(adapter):
    q = query(since=1764408600, until=NOON, selection={"definition": [14]}, include_on_hold=True)
    (draft,) = list(adapter.history(q))
    assert draft.job_id == "20940"
    assert draft.status == "waitingForApproval" and mapped(draft.status) == "On Hold"
    # what the run worked before the approval began to wait (10:00:11 -> 10:04:31, the
    # Checkpoint.Approval record's start), never now - start
    assert draft.job_duration == 260
    # not a finished item: the cursor stays just before it (its start; no build has id 0), so a
    # resumed or later backfill looks at it again
    assert draft.cursor == "build:1764410411:0"
    optional = {item["key"]: item["value"] for item in draft.optional}
    assert optional["stage"] == "Deploy to production"


@pytest.mark.vcr("build_waiting_for_approval.yaml")
def test_run_waiting_on_an_approval_is_skipped_by_default(adapter, vcr):
    q = query(since=1764408600, until=NOON, selection={"definition": [14]})
    assert list(adapter.history(q)) == []
    assert vcr.play_count == 1  # the timeline is only read when on-hold items are wanted


@pytest.mark.vcr("builds_history_repository.yaml")
def test_builds_of_a_repository_by_name(adapter):
    q = query(selection={"repository": "fabrikam-web"})
    (draft,) = list(adapter.history(q))
    assert draft.repo_id == REPO_ID
    assert draft.job_id == "20931"


@pytest.mark.vcr("environment_deployments.yaml")
def test_environment_deployment_records(adapter, caplog, vcr):
    caplog.set_level(logging.WARNING)
    q = query(until=NOON, selection={"environment": ("production",)}, options={"page_size": 2})
    drafts = list(adapter.history(q))
    assert vcr.all_played  # both pages, whatever order the records come in
    # sent by ascending record id: 4102's run was deleted by retention (404), 3950 is before the
    # window, 4131 still runs (the checkpoint stays just before it, at 4130)
    assert [d.job_id for d in drafts] == [
        "20948/Deploy_Prod/DeployWeb",
        "20952/Deploy_Prod/DeployWeb",
    ]
    assert [d.cursor for d in drafts] == ["deployment:3:upto:4119", "deployment:3:upto:4127"]
    assert [mapped(d.status) for d in drafts] == ["Failed", "Succeeded"]
    web = drafts[1]
    # the start of the job's record in the run's timeline (as step mode reads it), not the
    # deployment record's 11:15:03.7766667Z
    assert web.job_start_time == "2025-11-29T11:15:05.2466667Z"
    assert web.job_duration == 276  # to the deployment record's finish, 11:19:41.92
    assert len(web.commit_sha) == 40
    optional = {item["key"]: item["value"] for item in web.optional}
    assert optional["environment"] == "production"
    assert optional["stage"] == "Deploy to production"  # display names, as in step mode
    assert optional["job"] == "Deploy web app"
    assert web.facts["stage"] == "Deploy to production"
    assert web.facts["job_name"] == "DeployWeb"
    # 20948's server does not know timeline/{planId} (404): its timeline is read without the id,
    # and (an older server) names no job identifiers: the record's own start
    assert drafts[0].job_start_time == "2025-11-29T10:44:11.3566667Z"
    assert {item["key"]: item["value"] for item in drafts[0].optional}["stage"] == "Deploy_Prod"
    assert "no longer exists" in caplog.text


@pytest.mark.vcr("environment_deployments_unordered.yaml")
def test_environment_records_in_no_order_are_all_read(adapter, vcr):
    q = query(
        since=to_epoch("2025-11-01T00:00:00Z"),
        until=to_epoch("2025-12-01T00:00:00Z"),
        selection={"environment": ("production",)},
        options={"page_size": 2},
    )
    drafts = list(adapter.history(q))
    # record 6001 (October) comes first and is older than the window: the pages after it are
    # still read (no early stop on an order the API does not promise)
    assert vcr.all_played
    assert [d.job_id for d in drafts] == [
        "20981/Deploy_Prod/DeployVMs",
        "20980/Deploy_Prod/DeployCanary",
    ]
    rolling, canary = drafts
    # a rolling deployment job runs one job per hook and target (PreDeploy_web1, Deploy_web1,
    # Deploy_web2); a canary one, one per hook and increment (PreDeploy, Deploy_10, ...): the
    # deployment job began with the first of them
    assert rolling.job_start_time == "2025-11-08T14:00:05.5Z"
    assert canary.job_start_time == "2025-11-10T09:00:03.25Z"
    assert mapped(rolling.status) == "Failed" and mapped(canary.status) == "Succeeded"
    assert {i["key"]: i["value"] for i in canary.optional}["job"] == "Canary web"


def _record(record_id, finished=True):
    return {
        "id": record_id,
        "stageName": "Deploy_Prod",
        "jobName": "DeployWeb",
        "owner": {"id": 20000 + record_id},
        "result": "succeeded" if finished else None,
        "startTime": "2025-11-29T09:00:00Z",
        "finishTime": "2025-11-29T09:04:00Z" if finished else None,
    }


def _environment(monkeypatch, records):
    from customcd_azure_devops import api

    monkeypatch.setattr(api, "resolve_environment", lambda client, project, name: 3)
    monkeypatch.setattr(
        api, "list_environment_records", lambda *args, **kwargs: iter([(records, None)])
    )
    monkeypatch.setattr(
        api, "get_build", lambda client, project, run: _build(run, "2025-11-29T08:55:00Z")
    )
    monkeypatch.setattr(api, "get_timeline", lambda *args: [])


def test_deployment_cursor_formats():
    from customcd_azure_devops.history import DeploymentCursor

    assert str(DeploymentCursor(3, 4135)) == "deployment:3:upto:4135"
    assert DeploymentCursor.parse("deployment:3:upto:4135", 3) == DeploymentCursor(3, 4135)
    assert DeploymentCursor.parse("deployment:4:upto:4135", 3) is None  # another environment
    # earlier versions read newest first: their cursors do not say every record below an id is
    # done, so they read as none (the environment is read again; the ledger drops duplicates)
    assert DeploymentCursor.parse("deployment:3:4135:4100", 3) is None
    assert DeploymentCursor.parse("deployment:3:4119", 3) is None
    assert DeploymentCursor.parse("build:1764402609:20932", 3) is None


def test_deployments_resume_reads_only_the_records_after_the_cursor(adapter, monkeypatch):
    # records up to 4131 were done by an earlier run; 4135 is new
    _environment(monkeypatch, [_record(4135), _record(4131), _record(4127), _record(4100)])
    q = query(selection={"environment": ["production"]}, resume_from="deployment:3:upto:4131")
    drafts = list(adapter.history(q))
    assert [d.job_id.split("/")[0] for d in drafts] == ["24135"]
    assert drafts[0].cursor == "deployment:3:upto:4135"


def test_an_old_cursor_reads_the_environment_again(adapter, monkeypatch):
    _environment(monkeypatch, [_record(4135), _record(4131), _record(4100)])
    q = query(selection={"environment": ["production"]}, resume_from="deployment:3:4131:4127")
    drafts = list(adapter.history(q))
    assert [d.job_id.split("/")[0] for d in drafts] == ["24100", "24131", "24135"]


def test_a_running_deployment_freezes_the_cursor_just_before_it(adapter, monkeypatch):
    records = [_record(4140), _record(4135, finished=False), _record(4131), _record(4100)]
    _environment(monkeypatch, records)
    drafts = list(adapter.history(query(selection={"environment": ["production"]})))
    assert [d.job_id.split("/")[0] for d in drafts] == ["24100", "24131", "24140"]
    assert [d.cursor for d in drafts] == [
        "deployment:3:upto:4100",
        "deployment:3:upto:4131",
        "deployment:3:upto:4134",  # 4135 is not finished: a later run reads it again
    ]


def test_deployment_job_ids_keep_the_jobs_of_one_run_apart(adapter, monkeypatch):
    # two deployment jobs of one run, same environment, same start: two records, not one
    web, api_job = _record(4141), _record(4140)
    api_job.update(owner={"id": 24141}, jobName="DeployApi")
    rerun = _record(4142)
    rerun.update(owner={"id": 24141}, jobAttempt=2)
    _environment(monkeypatch, [rerun, web, api_job])
    drafts = list(adapter.history(query(selection={"environment": ["production"]})))
    assert [d.job_id for d in drafts] == [
        "24141/Deploy_Prod/DeployApi",
        "24141/Deploy_Prod/DeployWeb",
        "24141/Deploy_Prod/DeployWeb/2",
    ]


def test_a_deployment_record_without_its_job_names_stays_apart(adapter, monkeypatch):
    nameless = _record(4150)
    nameless.update(stageName=None, jobName=None)
    _environment(monkeypatch, [nameless])
    (draft,) = adapter.history(query(selection={"environment": ["production"]}))
    assert draft.job_id == "24150/deployment-4150"


def test_history_needs_a_token(adapter):
    with pytest.raises(AdapterError, match="AZURE_DEVOPS_PAT"):
        list(adapter.history(query(env={})))


def test_history_needs_a_project(adapter):
    q = HistoryQuery(since=SINCE, server=COLLECTION, env={"AZURE_DEVOPS_PAT": SECRET})
    with pytest.raises(AdapterError, match="--project"):
        list(adapter.history(q))


def test_history_needs_a_collection(adapter):
    q = query(server=None)
    with pytest.raises(AdapterError, match="SYSTEM_COLLECTIONURI"):
        list(adapter.history(q))
