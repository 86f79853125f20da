"""The REST client: credentials, collection URLs, Azure's failure shapes, and the four results."""

from __future__ import annotations

import base64

import pytest
from azdo_samples import COLLECTION, PROJECT_ID, SECRET, mapped
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError
from customcd_azure_devops import api
from customcd_azure_devops.records import draft_from_build
from customcd_azure_devops.rest import (
    AzureDevOpsClient,
    collection_url,
    credentials_from_env,
    release_url,
)


def client(source: str = "SYSTEM_ACCESSTOKEN") -> AzureDevOpsClient:
    credentials = credentials_from_env({source: SECRET})
    assert credentials is not None
    return AzureDevOpsClient(COLLECTION, credentials, timeout=5)


# --- credentials and URLs --------------------------------------------------------------------


def test_job_token_is_sent_as_bearer():
    credentials = credentials_from_env({"SYSTEM_ACCESSTOKEN": SECRET, "AZURE_DEVOPS_PAT": "other"})
    assert credentials.header == f"Bearer {SECRET}"
    assert credentials.source == "SYSTEM_ACCESSTOKEN"


def test_pat_is_sent_as_basic_with_an_empty_user():
    credentials = credentials_from_env({"AZURE_DEVOPS_PAT": SECRET})
    scheme, encoded = credentials.header.split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f":{SECRET}"


def test_no_credentials_and_no_secret_in_repr():
    assert credentials_from_env({}) is None
    assert SECRET not in repr(credentials_from_env({"AZURE_DEVOPS_PAT": SECRET}))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://dev.azure.com/contoso", "https://dev.azure.com/contoso/"),
        ("https://dev.azure.com/contoso/", "https://dev.azure.com/contoso/"),
        (
            "https://tfs.contoso.local/tfs/DefaultCollection/",
            "https://tfs.contoso.local/tfs/DefaultCollection/",
        ),
        ("https://contoso.visualstudio.com/", "https://contoso.visualstudio.com/"),
    ],
)
def test_collection_urls_for_cloud_and_server(given, expected):
    assert collection_url({"SYSTEM_COLLECTIONURI": given}) == expected


def test_collection_url_without_scheme_is_refused():
    with pytest.raises(AdapterError, match="must start with https://"):
        collection_url({"SYSTEM_COLLECTIONURI": "dev.azure.com/contoso"})


# --- Azure's failure shapes: one clear message, no token, no traceback -----------------------


@pytest.mark.vcr("error_401.yaml")
def test_401_names_the_token_variable():
    with client() as c, pytest.raises(AdapterError) as caught:
        api.get_build(c, PROJECT_ID, 20931)
    message = str(caught.value)
    assert "401" in message and "SYSTEM_ACCESSTOKEN" in message and "expired" in message
    assert SECRET not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.vcr("error_203_signin.yaml")
def test_203_sign_in_page_is_a_token_problem_not_data():
    with client("AZURE_DEVOPS_PAT") as c, pytest.raises(AdapterError) as caught:
        api.get_build(c, PROJECT_ID, 20931)
    message = str(caught.value)
    assert "sign-in page" in message and "AZURE_DEVOPS_PAT" in message and "203" in message
    assert SECRET not in message


@pytest.mark.vcr("error_404.yaml")
def test_404_names_the_url_and_what_to_check():
    with client() as c, pytest.raises(AdapterError) as caught:
        api.get_build(c, PROJECT_ID, 20999)
    message = str(caught.value)
    assert "404" in message and "builds/20999" in message and "SYSTEM_COLLECTIONURI" in message


# --- completed builds: the four results ------------------------------------------------------


def _case(cassette, *values):
    return pytest.param(*values, marks=pytest.mark.vcr(cassette), id=cassette)


@pytest.mark.parametrize(
    ("build_id", "native", "status", "duration"),
    [
        _case("build_succeeded.yaml", 20931, "succeeded", "Succeeded", 442),
        _case("build_partially_succeeded.yaml", 20932, "partiallySucceeded", "Succeeded", 706),
        _case("build_failed.yaml", 20933, "failed", "Failed", 209),
        _case("build_canceled.yaml", 20936, "canceled", "Failed", 203),
    ],
)
def test_completed_builds_map_to_contract_statuses(build_id, native, status, duration):
    with client() as c:
        build = api.get_build(c, PROJECT_ID, build_id)
    draft = draft_from_build(build)
    assert draft.status == native
    assert mapped(draft.status) == status
    assert draft.job_id == str(build_id)
    assert draft.job_duration == duration
    assert to_epoch(draft.job_start_time) > 1764370000
    assert len(draft.commit_sha) == 40
    assert draft.repo_name == "fabrikam-web"
    assert "@contoso.com" in draft.triggered_by


# --- classic releases: the Release service ---------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "expected"),
    [
        ("https://dev.azure.com/contoso/", "https://vsrm.dev.azure.com/contoso/"),
        ("https://contoso.visualstudio.com/", "https://contoso.vsrm.visualstudio.com/"),
        ("https://contoso.vsrm.visualstudio.com/", "https://contoso.vsrm.visualstudio.com/"),
        (
            "https://tfs.contoso.local/tfs/DefaultCollection/",
            "https://tfs.contoso.local/tfs/DefaultCollection/",
        ),
        ("http://tfs:8080/tfs/DefaultCollection/", "http://tfs:8080/tfs/DefaultCollection/"),
    ],
)
def test_release_service_url(collection, expected):
    assert release_url(collection) == expected


def _step(deployment_id, attempt, *phase_starts, queued="2025-11-29T07:00:00Z"):
    phases = [{"id": i, "startedOn": start} for i, start in enumerate(phase_starts)]
    return {
        "deploymentId": deployment_id,
        "attempt": attempt,
        "queuedOn": queued,
        "releaseDeployPhases": phases,
    }


def test_deployment_start_picks_the_deployment_and_its_earliest_phase():
    environment = {
        "deploySteps": [
            _step(96, 1, "2025-11-29T06:51:02.4417383Z"),
            _step(97, 2, "2025-11-29T07:20:00Z", "2025-11-29T07:06:40.1234567Z"),
        ]
    }
    start = api.deployment_start(environment, deployment_id="97", attempt=None)
    assert to_epoch(start) == 1764400000
    assert api.deployment_start(environment, deployment_id="1", attempt="1").startswith(
        "2025-11-29T06:51"
    )
    # neither given nor matching: the latest attempt
    assert to_epoch(api.deployment_start(environment, deployment_id=None, attempt=None)) == (
        1764400000
    )


def test_deployment_start_ignores_azures_zero_dates():
    never = "0001-01-01T00:00:00"
    environment = {"deploySteps": [_step(97, 1, never, queued="2025-11-29T07:06:40Z")]}
    assert api.deployment_start(environment, deployment_id="97", attempt=None) == (
        "2025-11-29T07:06:40Z"
    )
    environment = {"deploySteps": [_step(97, 1, never, queued=never)]}
    assert api.deployment_start(environment, deployment_id="97", attempt=None) is None
    assert api.deployment_start({}, deployment_id="97", attempt=None) is None


def _record(rid, kind, parent=None, state="completed", name=None):
    return {"id": rid, "parentId": parent, "type": kind, "state": state, "name": name or kind}


def test_a_stage_waiting_on_a_check_counts_as_waiting_and_approvals_come_first():
    stage = _record("s1", "Stage", state="pending", name="Deploy to production")
    checkpoint = _record("c1", "Checkpoint", "s1", state="inProgress")
    business_hours = _record("t1", "Checkpoint.TaskCheck", "c1", state="inProgress")
    waiting = api.pending_approvals([stage, checkpoint, business_hours])
    assert waiting and {w["stageName"] for w in waiting} == {"Deploy to production"}
    approval = _record("a1", "Checkpoint.Approval", "c1", state="inProgress")
    assert api.pending_approvals([stage, checkpoint, business_hours, approval])[0]["id"] == "a1"
    done = [stage, _record("c1", "Checkpoint", "s1"), _record("a1", "Checkpoint.Approval", "c1")]
    assert api.pending_approvals(done) == []
