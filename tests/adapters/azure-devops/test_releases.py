"""Classic release history: release/deployments pages, statuses, starts, artifacts' commits."""

from __future__ import annotations

import pytest
from azdo_samples import COLLECTION, SECRET, mapped
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import SKIP, HistoryQuery

SINCE = to_epoch("2025-11-01T00:00:00Z")
UNTIL = to_epoch("2025-12-01T00:00:00Z")
RELEASE_SHA_42 = "42aa0b7c1d2e3f4051627384950a1b2c3d4e5f60"
RELEASE_SHA_43 = "43bb1c8d2e3f405162738495a60b1c2d3e4f5061"
ARTIFACT_BUILD_SHA = "41cc2d9e3f405162738495a6b70c1d2e3f406172"


def query(**kwargs) -> HistoryQuery:
    kwargs.setdefault("since", SINCE)
    kwargs.setdefault("until", UNTIL)
    kwargs.setdefault("server", COLLECTION)
    kwargs.setdefault("env", {"AZURE_DEVOPS_PAT": SECRET})
    kwargs.setdefault("options", {"page_size": 3})
    selection = {"project": "Fabrikam Web", "releases": True, **kwargs.pop("selection", {})}
    return HistoryQuery(selection=selection, **kwargs)


def optional(draft):
    return {item["key"]: item["value"] for item in draft.optional}


@pytest.mark.vcr("release_deployments_1.yaml")
def test_release_deployments_of_the_window_in_id_order(adapter, vcr):
    drafts = list(adapter.history(query()))
    assert vcr.all_played  # both pages (continuationToken from the response header) and more
    assert [d.job_id for d in drafts] == [
        "release-41-deployment-405",
        "release-41-deployment-406",
        "release-42-deployment-407",
        "release-42-deployment-410",
        "release-43-deployment-412",
    ]  # 411 waits for an approval: not final, not yielded
    assert [mapped(d.status) for d in drafts] == [
        "Succeeded",
        SKIP,
        "Failed",
        "Succeeded",
        "Failed",
    ]


@pytest.mark.vcr("release_deployments_1.yaml")
def test_a_release_deployment_is_the_record_step_mode_makes(adapter):
    first = next(iter(adapter.history(query())))
    # the attempt's first started phase, as step mode reads its start from the release
    assert first.job_start_time == "2025-11-03T10:00:09.5Z"
    assert first.job_duration == 276  # to completedOn 10:04:45.9
    # release 41's Build artifact names no commit (GET__GetARelease.json's definitionReference):
    # the artifact's build (20901) is read for it
    assert first.commit_sha == ARTIFACT_BUILD_SHA
    assert first.repo_name == "fabrikam-web"
    assert first.triggered_by == "dana.whitfield@contoso.com"  # requestedFor, not the service
    assert optional(first)["environment"] == "DEV"
    assert optional(first)["release_name"] == "Release-41"
    assert optional(first)["pipeline"] == "fabrikam-web-cd"
    assert first.cursor == "release:405"


@pytest.mark.vcr("release_deployments_1.yaml")
def test_commits_from_the_artifacts_own_fields_and_from_git_artifacts(adapter):
    drafts = {d.job_id: d for d in adapter.history(query())}
    redeploy = drafts["release-42-deployment-410"]
    assert redeploy.commit_sha == RELEASE_SHA_42  # sourceVersion of the Build artifact
    assert redeploy.repo_id == "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c"
    assert redeploy.triggered_by == "raj.patel@contoso.com"
    assert redeploy.job_start_time == "2025-11-04T13:30:04.25Z"  # attempt 2's phase
    canceled = drafts["release-43-deployment-412"]
    assert canceled.commit_sha == RELEASE_SHA_43  # a Git artifact's version is the commit
    assert canceled.repo_name == "fabrikam-web"
    # 411 (approval pending) is not finished: every later draft keeps the cursor before it
    assert canceled.cursor == "release:410"
    rejected = drafts["release-41-deployment-406"]
    assert rejected.status == "Rejected"  # nothing deployed: no record
    assert rejected.job_start_time == "2025-11-03T11:00:00.42Z"  # no phase ran: startedOn


@pytest.mark.vcr("release_deployments_1.yaml")
def test_a_deployment_waiting_for_an_approval_is_on_hold_when_asked(adapter):
    drafts = {d.job_id: d for d in adapter.history(query(include_on_hold=True))}
    waiting = drafts["release-42-deployment-411"]
    assert mapped(waiting.status) == "On Hold"
    assert waiting.job_duration == 0  # an approval comes before anything runs
    assert waiting.cursor == "release:410"


@pytest.mark.vcr("release_deployments_2.yaml")
def test_a_later_run_resumes_after_the_cursor(adapter):
    drafts = list(adapter.history(query(resume_from="release:410")))
    assert [d.job_id for d in drafts] == [
        "release-42-deployment-411",
        "release-43-deployment-412",
        "release-44-deployment-415",
    ]
    finished = drafts[0]
    assert mapped(finished.status) == "Succeeded"
    assert finished.job_start_time == "2025-11-06T08:12:02.6Z"  # after the approval
    assert finished.cursor == "release:411"


def test_release_cursor_formats():
    from customcd_azure_devops.releases import ReleaseCursor

    assert str(ReleaseCursor(410)) == "release:410"
    assert ReleaseCursor.parse("release:410") == ReleaseCursor(410)
    assert ReleaseCursor.parse("deployment:3:upto:4") is None
    assert ReleaseCursor.parse("release:x") is None


def test_statuses_of_deployments_that_did_not_deploy():
    from customcd_azure_devops.releases import deployment_status, is_final

    def dep(status, operation):
        return {"deploymentStatus": status, "operationStatus": operation}

    assert deployment_status(dep("notDeployed", "Rejected")) == "Rejected"
    assert mapped("Rejected") == SKIP
    assert mapped(deployment_status(dep("notDeployed", "PhaseCanceled"))) == "Failed"
    assert mapped(deployment_status(dep("notDeployed", "GateFailed"))) == "Failed"
    assert mapped(deployment_status(dep("inProgress", "ManualInterventionPending"))) == "On Hold"
    assert mapped(deployment_status(dep("partiallySucceeded", "PhasePartiallySucceeded"))) == (
        "Succeeded"
    )
    assert not is_final(dep("inProgress", "PhaseInProgress"))
    assert not is_final(dep("notDeployed", "Queued"))
    assert is_final(dep("notDeployed", "Canceled"))
