"""Rebuild the Azure DevOps cassettes of this folder on the real REST 7.1 shapes.

Run: ``uv run python cassettes/azure_devops/make_cassettes.py`` (after
``tests/backfill/make_cassettes.py``, which writes the ``backfill_*`` scenarios and then calls
:func:`reshape_folder` itself).

Two parts:

* :func:`reshape_folder` re-renders every JSON body of every cassette here through the shape of
  the resource it answers (the scenario's values are kept; the key set and order are the real
  ones, the missing documented keys are filled). The shapes and the files they follow:

  - ``Build`` (``GET build/builds/{id}``, the items of ``GET build/builds``):
    ``MicrosoftDocs/vsts-rest-api-specs`` ``specification/build/7.1/build.json``, definition
    ``Build`` (with ``orchestrationPlan``/``plans``: the plan id is the build's timeline id);
  - ``Timeline`` / ``TimelineRecord`` (``GET build/builds/{id}/timeline/{timelineId}``, the
    documented path of ``Timeline_Get`` in the same file);
  - ``EnvironmentDeploymentExecutionRecord``: ``microsoft/azure-devops-python-api``
    ``azure-devops/azure/devops/v7_1/task_agent/models.py`` (``planId`` is the run's plan);
  - ``Deployment``, ``Release``, ``ReleaseEnvironment``: ``specification/release/7.1/release.json``
    and its ``httpExamples/deployments/GET__ListDeployments.json`` and
    ``httpExamples/releases/GET__GetARelease.json``.

* :func:`main` also writes the scenarios added with the Release API backfill and the
  order-independent environment history (``release_deployments_*.yaml``,
  ``environment_deployments_unordered.yaml``), built from the same shapes.

MODELLED, not recorded (no Azure DevOps organization was reachable); README.md names the source of
every body of every cassette. Credentials appear only as ``REDACTED``.
"""

# ruff: noqa: D103 - a generator script; each function names the document it follows

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

HERE = Path(__file__).resolve().parent
COLLECTION = "https://dev.azure.com/contoso/"
RELEASE_HOST = "https://vsrm.dev.azure.com/contoso/"
PROJECT = "Fabrikam Web"
PROJECT_ID = "5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e"
SERVICE = "00000002-0000-8888-8000-000000000000"
#: Runs whose server answers 404 on ``timeline/{planId}`` (an older server): the adapter then
#: asks for ``timeline`` without an id.
OLD_SERVER_RUNS = frozenset({20948})


def plan_id(build_id: int) -> str:
    """The orchestration plan (and timeline) id of a build: fixed per build, GUID-shaped."""
    return f"{build_id:08d}-7a1b-4c2d-9e3f-{build_id:012d}"


# --- shapes ---------------------------------------------------------------------------------------


def identity(value: Any) -> dict[str, Any] | None:
    """An ``IdentityRef`` (``displayName``, ``url``, ``_links``, ``id``, ``uniqueName``...)."""
    if not isinstance(value, dict):
        return None
    name = value.get("displayName") or "Dana Whitfield"
    unique = value.get("uniqueName") or "dana.whitfield@contoso.com"
    ident = value.get("id") or "38a0a74e-0dad-d800-f866-e67993cc9e47"
    descriptor = value.get("descriptor") or "aad.OGEwYTc0ZTAtMGRhZC03ODAwLWI4NjYtZTY3OTkzY2M5ZTQ3"
    return {
        "displayName": name,
        "url": f"https://spsprodweu5.vssps.visualstudio.com/A1b2c3d4/_apis/Identities/{ident}",
        "_links": {
            "avatar": {"href": f"https://dev.azure.com/contoso/_apis/GraphProfile/MemberAvatars/{descriptor}"}
        },
        "id": ident,
        "uniqueName": unique,
        "imageUrl": f"https://dev.azure.com/contoso/_apis/GraphProfile/MemberAvatars/{descriptor}",
        "descriptor": descriptor,
    }


def build_shape(b: dict[str, Any]) -> dict[str, Any]:
    """``Build`` of build.json, key order as the service serialises it; nulls left out."""
    build_id = int(b["id"])
    api = f"{COLLECTION}{PROJECT_ID}/_apis/build/Builds/{build_id}"
    definition = dict(b.get("definition") or {})
    definition_id = definition.get("id", 12)
    project = {
        "id": PROJECT_ID,
        "name": PROJECT,
        "url": f"{COLLECTION}_apis/projects/{PROJECT_ID}",
        "state": "wellFormed",
        "revision": 431,
        "visibility": "private",
        "lastUpdateTime": "2025-06-18T12:04:51.103Z",
    }
    repository = dict(b.get("repository") or {})
    repo_id = repository.get("id", "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c")
    requested_for = identity(b.get("requestedFor") or {})
    shaped: dict[str, Any] = {
        "_links": {
            "self": {"href": api},
            "web": {"href": f"{COLLECTION}{PROJECT_ID}/_build/results?buildId={build_id}"},
            "sourceVersionDisplayUri": {"href": f"{api}/sources"},
            "timeline": {"href": f"{api}/Timeline"},
            "badge": {"href": f"{COLLECTION}{PROJECT_ID}/_apis/build/status/{definition_id}"},
        },
        "properties": {},
        "tags": [],
        "validationResults": [],
        "plans": [{"planId": plan_id(build_id)}],
        "triggerInfo": {},
        "id": build_id,
        "buildNumber": b.get("buildNumber"),
        "status": b.get("status"),
        "result": b.get("result"),
        "queueTime": b.get("queueTime"),
        "startTime": b.get("startTime"),
        "finishTime": b.get("finishTime"),
        "url": api,
        "definition": {
            "drafts": [],
            "id": definition_id,
            "name": definition.get("name", "fabrikam-web-ci"),
            "url": f"{COLLECTION}{PROJECT_ID}/_apis/build/Definitions/{definition_id}?revision=7",
            "uri": f"vstfs:///Build/Definition/{definition_id}",
            "path": definition.get("path", "\\"),
            "type": "build",
            "queueStatus": "enabled",
            "revision": 7,
            "project": project,
        },
        "buildNumberRevision": 1,
        "project": project,
        "uri": f"vstfs:///Build/Build/{build_id}",
        "sourceBranch": b.get("sourceBranch"),
        "sourceVersion": b.get("sourceVersion"),
        "queue": {"id": 9, "name": "Azure Pipelines", "pool": {"id": 9, "name": "Azure Pipelines", "isHosted": True}},
        "priority": "normal",
        "reason": b.get("reason", "individualCI"),
        "requestedFor": requested_for,
        "requestedBy": identity(b.get("requestedBy") or b.get("requestedFor") or {}),
        "lastChangedDate": b.get("finishTime") or b.get("startTime") or b.get("queueTime"),
        "lastChangedBy": identity(b.get("requestedFor") or {}),
        "orchestrationPlan": {"planId": plan_id(build_id)},
        "logs": {"id": 0, "type": "Container", "url": f"{api}/logs"},
        "repository": {
            "id": repo_id,
            "type": repository.get("type", "TfsGit"),
            "name": repository.get("name", "fabrikam-web"),
            "url": f"https://dev.azure.com/contoso/{PROJECT.replace(' ', '%20')}/_git/"
            f"{repository.get('name', 'fabrikam-web')}",
            "clean": None,
            "checkoutSubmodules": False,
        },
        "retainedByRelease": False,
        "triggeredByBuild": None,
        "appendCommitMessageToRunName": True,
    }
    keep_nulls = {"triggeredByBuild"}
    return {k: v for k, v in shaped.items() if v is not None or k in keep_nulls}


def timeline_record_shape(r: dict[str, Any], build_id: int) -> dict[str, Any]:
    """``TimelineRecord`` of build.json (the service writes nulls for unset fields here)."""
    kind = r.get("type")
    log = None
    worker = None
    if kind in {"Job", "Task"}:
        log_id = 3 + int(r.get("order") or 0)
        log = {
            "id": log_id,
            "type": "Container",
            "url": f"{COLLECTION}{PROJECT_ID}/_apis/build/builds/{build_id}/logs/{log_id}",
        }
        worker = "Azure Pipelines 3" if r.get("state") != "pending" else None
    return {
        "previousAttempts": r.get("previousAttempts", []),
        "id": r.get("id"),
        "parentId": r.get("parentId"),
        "type": kind,
        "name": r.get("name"),
        "startTime": r.get("startTime"),
        "finishTime": r.get("finishTime"),
        "currentOperation": None,
        "percentComplete": 100 if r.get("state") == "completed" else None,
        "state": r.get("state"),
        "result": r.get("result"),
        "resultCode": None,
        "changeId": r.get("changeId", 12),
        "lastModified": r.get("finishTime") or r.get("startTime") or "0001-01-01T00:00:00",
        "workerName": worker,
        "queueId": 9 if kind == "Job" else None,
        "order": r.get("order"),
        "details": None,
        "errorCount": 0,
        "warningCount": 0,
        "url": None,
        "log": log,
        "task": None,
        "attempt": r.get("attempt", 1),
        "identifier": r.get("identifier"),
    }


def timeline_shape(t: dict[str, Any], build_id: int) -> dict[str, Any]:
    """``Timeline`` of build.json: ``records``, ``lastChangedBy``, ``lastChangedOn``, ``id``..."""
    records = [timeline_record_shape(r, build_id) for r in t.get("records") or []]
    changed = max(
        (r["lastModified"] for r in records if not r["lastModified"].startswith("0001")),
        default="2025-11-29T09:40:00Z",
    )
    return {
        "records": records,
        "lastChangedBy": SERVICE,
        "lastChangedOn": changed,
        "id": plan_id(build_id),
        "changeId": t.get("changeId", 12),
        "url": f"{COLLECTION}{PROJECT_ID}/_apis/build/builds/{build_id}/Timeline/{plan_id(build_id)}",
    }


def env_record_shape(r: dict[str, Any]) -> dict[str, Any]:
    """``EnvironmentDeploymentExecutionRecord`` of the azure-devops SDK (nulls left out)."""
    owner = dict(r.get("owner") or {})
    run = owner.get("id")
    definition = dict(r.get("definition") or {})
    definition_id = definition.get("id", 14)
    shaped = {
        "id": r["id"],
        "requestIdentifier": r.get("requestIdentifier") or f"{r['id']:08x}-24a4-0f3d-a83b-15c818b32e2e",
        "environmentId": r.get("environmentId", 3),
        "serviceOwner": r.get("serviceOwner", "00025394-6065-48ca-87d9-7f5672854ef7"),
        "scopeId": PROJECT_ID,
        "resourceId": r.get("resourceId", 0),
        "planType": "Build",
        "planId": plan_id(int(run)) if run is not None else r.get("planId"),
        "stageName": r.get("stageName"),
        "jobName": r.get("jobName"),
        "stageAttempt": r.get("stageAttempt", 1),
        "jobAttempt": r.get("jobAttempt", 1),
        "definition": {
            "_links": {
                "web": {"href": f"{COLLECTION}{PROJECT_ID}/_build/definition?definitionId={definition_id}"},
                "self": {"href": f"{COLLECTION}{PROJECT_ID}/_apis/build/Definitions/{definition_id}"},
            },
            "id": definition_id,
            "name": definition.get("name", "fabrikam-web-deploy"),
        },
        "owner": {
            "_links": {
                "web": {"href": f"{COLLECTION}{PROJECT_ID}/_build/results?buildId={run}"},
                "self": {"href": f"{COLLECTION}{PROJECT_ID}/_apis/build/Builds/{run}"},
            },
            "id": run,
            "name": owner.get("name"),
        },
        "result": r.get("result"),
        "queueTime": r.get("queueTime"),
        "startTime": r.get("startTime"),
        "finishTime": r.get("finishTime"),
    }
    return {k: v for k, v in shaped.items() if v is not None}


# --- the reshape of the existing cassettes -------------------------------------------------------

_TIMELINE = re.compile(r"/_apis/build/builds/(\d+)/timeline(?:/[0-9a-fA-F-]+)?(?=\?|$)")
_BUILD = re.compile(r"/_apis/build/builds/(\d+)(?=\?|$)")


def _dump(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _set_length(response: dict[str, Any]) -> None:
    headers = response.setdefault("headers", {})
    for key in list(headers):
        if key.lower() == "content-length":
            headers[key] = [str(len(response["body"]["string"].encode("utf-8")))]


def reshape_interaction(interaction: dict[str, Any]) -> list[dict[str, Any]]:
    """The interaction on the real shapes (two when the timeline path needs its 404 first)."""
    request, response = interaction["request"], interaction["response"]
    uri = request["uri"]
    status = response["status"]["code"]
    text = response.get("body", {}).get("string") or ""
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    timeline = _TIMELINE.search(uri)
    if timeline:
        build_id = int(timeline[1])
        if build_id in OLD_SERVER_RUNS:
            plain = _TIMELINE.sub(f"/_apis/build/builds/{build_id}/timeline", uri)
            request["uri"] = plain
            if status == 200 and isinstance(doc, dict):
                response["body"]["string"] = _dump(timeline_shape(doc, build_id))
                _set_length(response)
            missing = json.loads(json.dumps(interaction))
            missing["request"]["uri"] = _TIMELINE.sub(
                f"/_apis/build/builds/{build_id}/timeline/{plan_id(build_id)}", uri
            )
            missing["response"]["status"] = {"code": 404, "message": "Not Found"}
            missing["response"]["body"]["string"] = _dump(
                {
                    "$id": "1",
                    "innerException": None,
                    "message": f"Timeline {plan_id(build_id)} was not found for build {build_id}.",
                    "typeName": "Microsoft.TeamFoundation.Build.WebApi.TimelineNotFoundException, "
                    "Microsoft.TeamFoundation.Build2.WebApi",
                    "typeKey": "TimelineNotFoundException",
                    "errorCode": 0,
                    "eventId": 3000,
                }
            )
            _set_length(missing["response"])
            return [missing, interaction]
        request["uri"] = _TIMELINE.sub(
            f"/_apis/build/builds/{build_id}/timeline/{plan_id(build_id)}", uri
        )
        if status == 200 and isinstance(doc, dict):
            response["body"]["string"] = _dump(timeline_shape(doc, build_id))
            _set_length(response)
        return [interaction]
    if status != 200 or doc is None:
        return [interaction]
    if "/environmentdeploymentrecords" in uri and isinstance(doc, dict):
        doc["value"] = [env_record_shape(r) for r in doc.get("value") or []]
    elif _BUILD.search(uri) and "/_apis/build/builds" in uri and isinstance(doc, dict):
        doc = build_shape(doc)
    elif re.search(r"/_apis/build/builds\?", uri) and isinstance(doc, dict):
        doc["value"] = [build_shape(b) for b in doc.get("value") or []]
    else:
        return [interaction]
    response["body"]["string"] = _dump(doc)
    _set_length(response)
    return [interaction]


def reshape_file(path: Path) -> None:
    """Rewrite one cassette's bodies on the real shapes (idempotent)."""
    text = path.read_text(encoding="utf-8")
    comments = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    data = yaml.safe_load(text)
    out: list[dict[str, Any]] = []
    for item in data["interactions"]:
        found = _TIMELINE.search(item["request"]["uri"] or "")
        old = found is not None and int(found[1]) in OLD_SERVER_RUNS
        if old and item["response"]["status"]["code"] == 404:
            continue  # the 404 an earlier reshape wrote: made again with its timeline below
        out.extend(reshape_interaction(item))
    data["interactions"] = out
    body = yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)
    path.write_text(comments + body, encoding="utf-8")


def reshape_folder(folder: Path = HERE) -> None:
    """Rewrite every cassette of the folder on the real shapes."""
    for path in sorted(folder.glob("*.yaml")):
        reshape_file(path)


# --- new scenarios --------------------------------------------------------------------------------


def _headers(api_version: str, token: str = "", host: str = "dev.azure.com") -> dict[str, list[str]]:
    headers = {
        "Cache-Control": ["no-cache"],
        "Pragma": ["no-cache"],
        "Content-Type": [f"application/json; charset=utf-8; api-version={api_version}"],
        "Expires": ["-1"],
        "X-TFS-ProcessId": ["e17895c3-2dae-2de4-2fc0-227d6b84273f"],
        "Strict-Transport-Security": ["max-age=31536000; includeSubDomains"],
        "ActivityId": ["bed5c728-0b01-8d0c-77d2-9c32d1194a3c"],
        "X-TFS-Session": ["9daa0488-854b-9e10-90f3-7124b64d02ca"],
        "X-VSS-E2EID": ["92c2f373-bea3-b328-9c5f-2307a9c07cf9"],
        "X-VSS-UserData": ["REDACTED"],
        "X-Frame-Options": ["SAMEORIGIN"],
        "X-Content-Type-Options": ["nosniff"],
        "Date": ["Sat, 29 Nov 2025 09:40:12 GMT"],
    }
    if token:
        headers["x-ms-continuationtoken"] = [token]
    return headers


def interaction(
    base: str,
    path: str,
    params: dict[str, Any],
    doc: Any,
    *,
    token: str = "",
    status: int = 200,
    project: str = PROJECT,
) -> dict[str, Any]:
    host = base.split("/")[2]
    version = str(params.get("api-version", "7.1"))
    return {
        "request": {
            "body": "",
            "headers": {
                "Accept": ["application/json"],
                "Accept-Encoding": ["gzip, deflate"],
                "Authorization": ["REDACTED"],
                "Connection": ["keep-alive"],
                "Host": [host],
                "User-Agent": ["customcd-azure-devops"],
            },
            "method": "GET",
            "uri": f"{base}{project.replace(' ', '%20')}/{path}?{urlencode(params)}",
        },
        "response": {
            "status": {"code": status, "message": "OK" if status == 200 else "Not Found"},
            "headers": _headers(version, token, host),
            "body": {"string": _dump(doc)},
        },
    }


def write(name: str, interactions: list[dict[str, Any]], comment: str) -> None:
    body = yaml.safe_dump(
        {"interactions": interactions, "version": 1}, sort_keys=False, width=1000, allow_unicode=True
    )
    lines = "".join(f"# {line}\n" for line in comment.strip().splitlines())
    (HERE / name).write_text(lines + body, encoding="utf-8")


#: People of the release scenarios.
DANA = {"displayName": "Dana Whitfield", "uniqueName": "dana.whitfield@contoso.com", "id": "38a0a74e-0dad-d800-f866-e67993cc9e47"}
RAJ = {"displayName": "Raj Patel", "uniqueName": "raj.patel@contoso.com", "id": "4adb1680-0eac-6149-b5ee-fc8b4f6ca227"}
RM_SERVICE = {
    "displayName": "Microsoft.VisualStudio.Services.ReleaseManagement",
    "uniqueName": "0000000d-0000-8888-8000-000000000000@2c895908-04e0-4952-89fd-54b0046d6288",
    "id": "0000000d-0000-8888-8000-000000000000",
}
RELEASE_SHA_42 = "42aa0b7c1d2e3f4051627384950a1b2c3d4e5f60"
RELEASE_SHA_43 = "43bb1c8d2e3f405162738495a60b1c2d3e4f5061"
ARTIFACT_BUILD_SHA = "41cc2d9e3f405162738495a6b70c1d2e3f406172"


def _short(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": value["id"],
        "displayName": value["displayName"],
        "uniqueName": value["uniqueName"],
        "url": f"https://vssps.dev.azure.com/contoso/_apis/Identities/{value['id']}",
        "imageUrl": f"https://dev.azure.com/contoso/_api/_common/identityImage?id={value['id']}",
    }


def _release_ref(release: int, artifacts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``release`` of a ``Deployment`` (GET__ListDeployments.json: often ``artifacts: []``)."""
    web = f"{COLLECTION}{PROJECT_ID}/_release?releaseId={release}&_a=release-summary"
    return {
        "id": release,
        "name": f"Release-{release}",
        "url": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/releases/{release}",
        "artifacts": artifacts or [],
        "webAccessUri": web,
        "_links": {
            "self": {"href": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/releases/{release}"},
            "web": {"href": web},
        },
        "description": None,
        "releaseDefinition": None,
        "createdOn": "0001-01-01T00:00:00",
        "createdBy": None,
        "modifiedBy": None,
        "reason": "none",
    }


DEFINITIONS = {7: "fabrikam-web-cd"}
ENVIRONMENTS = {301: "DEV", 302: "PROD", 303: "DEV", 304: "PROD", 305: "DEV", 306: "DEV"}


def deployment(
    dep_id: int,
    release: int,
    env: int,
    *,
    status: str,
    operation: str,
    started: str,
    completed: str | None,
    attempt: int = 1,
    requested_for: dict[str, Any] = DANA,
    requested_by: dict[str, Any] | None = None,
    reason: str = "automated",
) -> dict[str, Any]:
    """A ``Deployment`` (GET__ListDeployments.json's key set and order)."""
    doc = {
        "id": dep_id,
        "release": _release_ref(release),
        "releaseDefinition": {
            "id": 7,
            "name": DEFINITIONS[7],
            "url": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/definitions/7",
            "_links": {
                "self": {"href": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/definitions/7"},
                "web": {"href": f"{COLLECTION}{PROJECT_ID}/_release?definitionId=7"},
            },
        },
        "releaseEnvironment": {"id": env, "name": ENVIRONMENTS[env], "_links": {}},
        "definitionEnvironmentId": 20 + (1 if ENVIRONMENTS[env] == "DEV" else 2),
        "attempt": attempt,
        "reason": reason,
        "deploymentStatus": status,
        "operationStatus": operation,
        "requestedBy": _short(requested_by or RM_SERVICE),
        "requestedFor": _short(requested_for),
        "queuedOn": "0001-01-01T00:00:00",
        "startedOn": started,
        "completedOn": completed,
        "lastModifiedOn": completed or started,
        "lastModifiedBy": _short(RM_SERVICE),
        "conditions": [],
        "scheduledDeploymentTime": "0001-01-01T00:00:00",
        "preDeployApprovals": [],
        "postDeployApprovals": [],
        "_links": {},
    }
    if completed is None:
        del doc["completedOn"]
    return doc


def build_artifact(version: int, *, sha: str | None = None) -> dict[str, Any]:
    """A ``Build`` artifact. Without ``sha`` its ``definitionReference`` is exactly
    GET__GetARelease.json's (no commit, no repository); with it, the ``sourceVersion`` and
    ``repository`` keys behind the ``Release.Artifacts.{alias}.SourceVersion``/``Repository.*``
    variables (azure-devops-docs ``docs/pipelines/release/variables.md``)."""
    reference: dict[str, Any] = {
        "artifactSourceDefinitionUrl": {
            "id": f"{COLLECTION}_permalink/_build/index?collectionId=13d3daac-03b8-4a23-9cc4-2c3de65dab63&projectId={PROJECT_ID}&definitionId=12",
            "name": "",
        },
        "defaultVersionBranch": {"id": "", "name": ""},
        "defaultVersionSpecific": {"id": "", "name": ""},
        "defaultVersionTags": {"id": "", "name": ""},
        "defaultVersionType": {"id": "latestType", "name": "Latest"},
        "definition": {"id": "12", "name": "fabrikam-web-ci"},
        "project": {"id": PROJECT_ID, "name": PROJECT},
        "version": {"id": str(version), "name": f"20251103.{version % 100}"},
        "artifactSourceVersionUrl": {
            "id": f"{COLLECTION}_permalink/_build/index?collectionId=13d3daac-03b8-4a23-9cc4-2c3de65dab63&projectId={PROJECT_ID}&buildId={version}",
            "name": "",
        },
        "branch": {"id": "refs/heads/main", "name": "refs/heads/main"},
    }
    if sha:
        reference["sourceVersion"] = {"id": sha, "name": sha}
        reference["repository"] = {"id": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c", "name": "fabrikam-web"}
        reference["repository.provider"] = {"id": "TfsGit", "name": "TfsGit"}
        reference["requestedFor"] = {"id": RAJ["id"], "name": RAJ["displayName"]}
    return {
        "sourceId": f"{PROJECT_ID}:12",
        "type": "Build",
        "alias": "_fabrikam-web-ci",
        "definitionReference": reference,
        "isPrimary": True,
        "isRetained": False,
    }


def git_artifact(sha: str) -> dict[str, Any]:
    """A ``Git`` (Azure Repos) artifact: its version is the commit itself."""
    return {
        "sourceId": f"{PROJECT_ID}:0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c",
        "type": "Git",
        "alias": "_fabrikam-web",
        "definitionReference": {
            "branches": {"id": "main", "name": "main"},
            "checkoutSubmodules": {"id": "", "name": ""},
            "definition": {"id": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c", "name": "fabrikam-web"},
            "project": {"id": PROJECT_ID, "name": PROJECT},
            "version": {"id": sha, "name": sha[:8]},
            "branch": {"id": "refs/heads/main", "name": "refs/heads/main"},
        },
        "isPrimary": True,
        "isRetained": False,
    }


def deploy_step(
    dep_id: int,
    attempt: int,
    *,
    phase_started: str | None,
    status: str,
    operation: str,
    interventions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``DeploymentAttempt`` with one agent phase (``releaseDeployPhases``)."""
    phases = []
    if phase_started is not None:
        phases.append(
            {
                "id": dep_id * 10,
                "phaseId": "1",
                "name": "Agent job",
                "rank": 1,
                "phaseType": "agentBasedDeployment",
                "status": "inProgress" if interventions else status,
                "runPlanId": f"{dep_id:08d}-1111-2222-3333-{dep_id:012d}",
                "deploymentJobs": [],
                "manualInterventions": interventions or [],
                "startedOn": phase_started,
            }
        )
    return {
        "id": dep_id * 10,
        "deploymentId": dep_id,
        "attempt": attempt,
        "reason": "automated",
        "status": status,
        "operationStatus": operation,
        "releaseDeployPhases": phases,
        "requestedBy": _short(RM_SERVICE),
        "requestedFor": _short(DANA),
        "queuedOn": phase_started or "0001-01-01T00:00:00",
        "lastModifiedBy": _short(RM_SERVICE),
        "lastModifiedOn": phase_started or "0001-01-01T00:00:00",
        "hasStarted": phase_started is not None,
        "tasks": [],
        "runPlanId": f"{dep_id:08d}-1111-2222-3333-{dep_id:012d}",
        "issues": [],
    }


def release_doc(release: int, artifacts: list[dict[str, Any]], environments: dict[int, list]) -> dict:
    """``GET release/releases/{id}`` (GET__GetARelease.json's keys; environments with steps)."""
    web = f"{COLLECTION}{PROJECT_ID}/_release?releaseId={release}&_a=release-summary"
    envs = []
    for rank, (env_id, steps) in enumerate(environments.items(), start=1):
        envs.append(
            {
                "id": env_id,
                "releaseId": release,
                "name": ENVIRONMENTS[env_id],
                "status": steps[-1]["status"] if steps else "notStarted",
                "variables": {},
                "preDeployApprovals": [],
                "postDeployApprovals": [],
                "preApprovalsSnapshot": {"approvals": [], "approvalOptions": None},
                "postApprovalsSnapshot": {"approvals": []},
                "deploySteps": steps,
                "rank": rank,
                "definitionEnvironmentId": 20 + rank,
                "environmentOptions": {"emailNotificationType": "OnlyOnFailure"},
                "demands": [],
                "conditions": [],
                "workflowTasks": [],
                "deployPhasesSnapshot": [],
                "owner": _short(DANA),
                "schedules": [],
                "release": {"id": release, "name": f"Release-{release}", "_links": {}},
                "releaseDefinition": {"id": 7, "name": DEFINITIONS[7], "_links": {}},
                "releaseCreatedBy": _short(DANA),
                "triggerReason": "After release creation",
            }
        )
    return {
        "id": release,
        "name": f"Release-{release}",
        "status": "active",
        "createdOn": "2025-11-03T09:58:12.37Z",
        "modifiedOn": "2025-11-05T16:02:44.903Z",
        "modifiedBy": _short(DANA),
        "createdBy": _short(DANA),
        "environments": envs,
        "variables": {},
        "variableGroups": [],
        "artifacts": artifacts,
        "releaseDefinition": {"id": 7, "name": DEFINITIONS[7], "_links": {}},
        "description": "",
        "reason": "continuousIntegration",
        "releaseNameFormat": "Release-$(rev:r)",
        "keepForever": False,
        "definitionSnapshotRevision": 3,
        "logsContainerUrl": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/releases/{release}/logs",
        "url": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/releases/{release}",
        "_links": {"self": {"href": f"{RELEASE_HOST}{PROJECT_ID}/_apis/Release/releases/{release}"}, "web": {"href": web}},
        "tags": [],
        "projectReference": {"id": PROJECT_ID, "name": None},
        "properties": {},
    }


RELEASE_SINCE = "2025-11-01T00:00:00Z"
RELEASE_UNTIL = "2025-12-01T00:00:00Z"


def release_list(pages: list[list[dict[str, Any]]], tokens: list[str]) -> list[dict[str, Any]]:
    """``GET release/deployments`` pages; each token comes back in ``x-ms-continuationtoken``."""
    base = {
        "minStartedTime": RELEASE_SINCE,
        "maxStartedTime": RELEASE_UNTIL,
        "queryOrder": "ascending",
        "$top": 3,
        "api-version": "7.1-preview.2",
    }
    out = []
    previous = ""
    for number, page in enumerate(pages):
        params = dict(base, continuationToken=previous) if previous else base
        token = tokens[number] if number < len(tokens) else ""
        out.append(
            interaction(RELEASE_HOST, "_apis/release/deployments", params, {"count": len(page), "value": page}, token=token)
        )
        previous = token
    return out


def releases(run: int) -> list[dict[str, Any]]:
    """Release pipeline 7 (DEV then PROD) over November; run 2 is a later backfill."""
    d = {}
    d[405] = deployment(405, 41, 301, status="succeeded", operation="Approved", started="2025-11-03T10:00:05.12Z", completed="2025-11-03T10:04:45.9Z")
    d[406] = deployment(406, 41, 302, status="notDeployed", operation="Rejected", started="2025-11-03T11:00:00.42Z", completed="2025-11-03T11:20:13.5Z", requested_for=RAJ, reason="manual")
    d[407] = deployment(407, 42, 303, status="failed", operation="PhaseFailed", started="2025-11-04T09:00:03.3Z", completed="2025-11-04T09:03:10.05Z")
    d[410] = deployment(410, 42, 303, status="succeeded", operation="PhaseSucceeded", started="2025-11-04T13:30:00.77Z", completed="2025-11-04T13:33:20.1Z", attempt=2, requested_for=RAJ, requested_by=RAJ, reason="redeploy")
    pending = deployment(411, 42, 304, status="inProgress", operation="Pending", started="2025-11-04T13:40:00.2Z", completed=None)
    d[411] = pending
    d[412] = deployment(412, 43, 305, status="notDeployed", operation="PhaseCanceled", started="2025-11-05T16:00:00.9Z", completed="2025-11-05T16:02:44.903Z")
    steps_41 = {
        301: [deploy_step(405, 1, phase_started="2025-11-03T10:00:09.5Z", status="succeeded", operation="PhaseSucceeded")],
        302: [deploy_step(406, 1, phase_started=None, status="notDeployed", operation="Rejected")],
    }
    steps_42 = {
        303: [
            deploy_step(407, 1, phase_started="2025-11-04T09:00:06.8Z", status="failed", operation="PhaseFailed"),
            deploy_step(410, 2, phase_started="2025-11-04T13:30:04.25Z", status="succeeded", operation="PhaseSucceeded"),
        ],
        304: [deploy_step(411, 1, phase_started=None, status="inProgress", operation="Pending")],
    }
    steps_43 = {305: [deploy_step(412, 1, phase_started="2025-11-05T16:00:04.1Z", status="canceled", operation="PhaseCanceled")]}
    if run == 2:
        d[411] = deployment(411, 42, 304, status="succeeded", operation="PhaseSucceeded", started="2025-11-04T13:40:00.2Z", completed="2025-11-06T08:15:31.44Z")
        steps_42[304] = [deploy_step(411, 1, phase_started="2025-11-06T08:12:02.6Z", status="succeeded", operation="PhaseSucceeded")]
        d[415] = deployment(415, 44, 306, status="succeeded", operation="PhaseSucceeded", started="2025-11-07T10:00:00.1Z", completed="2025-11-07T10:05:00.1Z")
    # the service's order is not documented: the pages are deliberately not sorted by id
    if run == 1:
        pages = [[d[405], d[407], d[406]], [d[412], d[410], d[411]]]
        tokens = ["410"]
    else:
        pages = [[d[405], d[407], d[406]], [d[412], d[410], d[411]], [d[415]]]
        tokens = ["410", "415"]
    out = release_list(pages, tokens)
    releases_read = {
        41: release_doc(41, [build_artifact(20901)], steps_41),
        42: release_doc(42, [build_artifact(20911, sha=RELEASE_SHA_42)], steps_42),
        43: release_doc(43, [git_artifact(RELEASE_SHA_43)], steps_43),
    }
    if run == 2:
        releases_read[44] = release_doc(44, [git_artifact(RELEASE_SHA_43)], {306: [deploy_step(415, 1, phase_started="2025-11-07T10:00:03.9Z", status="succeeded", operation="PhaseSucceeded")]})
    for release, doc in releases_read.items():
        out.append(interaction(RELEASE_HOST, f"_apis/release/releases/{release}", {"api-version": "7.1-preview.8"}, doc))
    # the whole server state, in both runs: a resumed run does not read release 41 nor build 20901
    artifact_build = build_shape(
        {
            "id": 20901,
            "buildNumber": "20251103.1",
            "status": "completed",
            "result": "succeeded",
            "queueTime": "2025-11-03T09:40:00.1Z",
            "startTime": "2025-11-03T09:40:05.5Z",
            "finishTime": "2025-11-03T09:52:40.25Z",
            "sourceBranch": "refs/heads/main",
            "sourceVersion": ARTIFACT_BUILD_SHA,
            "requestedFor": DANA,
            "repository": {"id": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c", "type": "TfsGit", "name": "fabrikam-web"},
        }
    )
    # read in the artifact's project (its definitionReference names it by id)
    out.append(interaction(COLLECTION, "_apis/build/builds/20901", {"api-version": "7.1"}, artifact_build, project=PROJECT_ID))
    return out


def environment_unordered() -> list[dict[str, Any]]:
    """Environment ``production``: records in no order over two pages, one older than the window
    first (an early stop on an assumed order would lose the rest), a canary and a rolling
    deployment job whose timeline jobs are one per lifecycle hook."""
    preview = {"api-version": "7.1-preview.1"}
    records = {
        6001: env_record_shape({"id": 6001, "owner": {"id": 20979, "name": "20251101.9"}, "stageName": "Deploy_Prod", "jobName": "DeployWeb", "result": "succeeded", "queueTime": "2025-10-20T08:00:00Z", "startTime": "2025-10-20T08:00:02Z", "finishTime": "2025-10-20T08:04:00Z"}),
        6003: env_record_shape({"id": 6003, "owner": {"id": 20980, "name": "20251110.1"}, "stageName": "Deploy_Prod", "jobName": "DeployCanary", "result": "succeeded", "queueTime": "2025-11-10T09:00:00.1Z", "startTime": "2025-11-10T09:00:01.5Z", "finishTime": "2025-11-10T09:31:12.25Z"}),
        6002: env_record_shape({"id": 6002, "owner": {"id": 20981, "name": "20251108.2"}, "stageName": "Deploy_Prod", "jobName": "DeployVMs", "result": "failed", "queueTime": "2025-11-08T14:00:00.3Z", "startTime": "2025-11-08T14:00:02.2Z", "finishTime": "2025-11-08T14:12:40.8Z"}),
    }
    out = [
        interaction(COLLECTION, "_apis/distributedtask/environments", {"name": "production", **preview}, {"count": 1, "value": [{"id": 3, "name": "production", "description": "Public web front end", "createdBy": {"displayName": "Dana Whitfield", "id": DANA["id"], "uniqueName": DANA["uniqueName"]}, "createdOn": "2024-03-11T14:20:05.687Z", "lastModifiedBy": {"displayName": "Dana Whitfield", "id": DANA["id"], "uniqueName": DANA["uniqueName"]}, "lastModifiedOn": "2024-03-11T14:20:05.687Z", "project": {"id": PROJECT_ID, "name": PROJECT}}]}),
        interaction(COLLECTION, "_apis/distributedtask/environments/3/environmentdeploymentrecords", {"top": 2, **preview}, {"count": 2, "value": [records[6001], records[6003]]}, token="6002"),
        interaction(COLLECTION, "_apis/distributedtask/environments/3/environmentdeploymentrecords", {"top": 2, "continuationToken": "6002", **preview}, {"count": 1, "value": [records[6002]]}),
    ]
    runs = {
        20981: ("Deploy_Prod", "DeployVMs", "Deploy to VMs", "failed", [("PreDeploy_web1", "2025-11-08T14:00:05.5Z", "succeeded"), ("Deploy_web1", "2025-11-08T14:01:10.1Z", "succeeded"), ("Deploy_web2", "2025-11-08T14:05:30.0Z", "failed")]),
        20980: ("Deploy_Prod", "DeployCanary", "Canary web", "succeeded", [("Deploy_10", "2025-11-10T09:00:04.75Z", "succeeded"), ("PostRouteTraffic_10", "2025-11-10T09:06:00Z", "succeeded"), ("Deploy_20", "2025-11-10T09:16:00Z", "succeeded"), ("PreDeploy", "2025-11-10T09:00:03.25Z", "succeeded")]),
    }
    for run, (stage, job, display, result, hooks) in runs.items():
        start = min(h[1] for h in hooks)
        finished = next(r for r in records.values() if r["owner"]["id"] == run)["finishTime"]
        out.append(interaction(COLLECTION, f"_apis/build/builds/{run}", {"api-version": "7.1"}, build_shape({"id": run, "buildNumber": f"202511.{run % 100}", "status": "completed", "result": result, "queueTime": "2025-11-08T13:55:00.1Z", "startTime": "2025-11-08T13:55:05.5Z" if run == 20981 else "2025-11-10T08:55:05.5Z", "finishTime": "2025-11-08T14:13:00Z" if run == 20981 else "2025-11-10T09:32:00Z", "sourceBranch": "refs/heads/main", "sourceVersion": f"{run:05d}" + "ca7a1" * 7, "requestedFor": DANA, "repository": {"id": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c", "type": "TfsGit", "name": "fabrikam-web"}})))
        stage_id = f"{run:08x}-5e1d-4c0b-9a7f-000000000000"
        phase_id = f"{run:08x}-5e1d-4c0b-9a7f-000000000100"
        entries = [
            {"id": stage_id, "parentId": None, "type": "Stage", "name": "Deploy to production", "identifier": stage, "state": "completed", "result": result, "startTime": start, "order": 2},
            {"id": phase_id, "parentId": stage_id, "type": "Phase", "name": display, "identifier": f"{stage}.{job}", "state": "completed", "result": result, "startTime": start, "order": 1},
        ]
        for n, (hook, started, hook_result) in enumerate(hooks, start=1):
            entries.append({"id": f"{run:08x}-5e1d-4c0b-9a7f-{n:012x}", "parentId": phase_id, "type": "Job", "name": hook.replace("_", " "), "identifier": f"{stage}.{job}.{hook}", "state": "completed", "result": hook_result, "startTime": started, "finishTime": finished, "order": n, "attempt": 1})
        out.append(interaction(COLLECTION, f"_apis/build/builds/{run}/timeline/{plan_id(run)}", {"api-version": "7.1"}, timeline_shape({"records": entries}, run)))
    return out


def main() -> None:
    reshape_folder()
    write(
        "release_deployments_1.yaml",
        releases(1),
        "backfill azure-devops --releases, November: release/deployments (vsrm) in two pages "
        "(x-ms-continuationtoken 410), not sorted by id;\nthe releases behind them; build 20901 "
        "behind release 41's artifact (no sourceVersion in its definitionReference).",
    )
    write(
        "release_deployments_2.yaml",
        releases(2),
        "The same backfill a few days later: deployment 411 (approval pending in run 1) has "
        "finished, 415 is new.",
    )
    write(
        "environment_deployments_unordered.yaml",
        environment_unordered(),
        "Environment production: records in no order over two pages (an old one first), a "
        "rolling (DeployVMs) and a canary (DeployCanary) deployment job.",
    )


if __name__ == "__main__":
    main()
