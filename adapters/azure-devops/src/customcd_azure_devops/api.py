"""The Azure DevOps REST 7.1 calls the adapter makes, one function each (all GETs).

* ``{project}/_apis/build/builds/{id}``: one build (``startTime``, ``result``...);
* ``{project}/_apis/build/builds/{id}/timeline/{timelineId}``: stage/job/checkpoint records of a
  run (the documented path: ``Timeline_Get`` in ``specification/build/7.1/build.json``; the
  build's timeline id is its orchestration plan id);
* ``{project}/_apis/build/builds``: builds in a time window, paged by ``x-ms-continuationtoken``;
* ``{project}/_apis/git/repositories/{name}``: a repository's id from its name;
* ``{project}/_apis/distributedtask/environments``: an environment's id from its name;
* ``{project}/_apis/release/releases/{id}/environments/{id}`` (Release service host): a classic
  release stage and its deployment attempts;
* ``{project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords``: deployments
  to an environment, paged by ``x-ms-continuationtoken`` (in no documented order);
* ``{project}/_apis/release/deployments`` (Release service host): classic release deployments,
  filtered by ``minStartedTime``/``maxStartedTime``, paged by ``x-ms-continuationtoken``
  (:func:`list_release_deployments`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from customcd.plugins.adapter import AdapterError

from .rest import (
    API_VERSION,
    DOCS,
    PREVIEW_API_VERSION,
    RELEASE_API_VERSION,
    RELEASE_DEPLOYMENTS_API_VERSION,
    AzureDevOpsClient,
    segment,
)

__all__ = [
    "GUID",
    "deployment_job",
    "deployment_start",
    "get_build",
    "get_release_environment",
    "get_timeline",
    "list_builds",
    "list_environment_records",
    "list_release_deployments",
    "pending_approvals",
    "real_time",
    "resolve_environment",
    "resolve_repository",
    "timeline_id_of",
]

#: A GUID (repository and project ids).
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def get_build(client: AzureDevOpsClient, project: str, build_id: str | int) -> dict[str, Any]:
    """Return one build (a pipeline run) by id."""
    data, _ = client.get(
        f"{segment(project)}/_apis/build/builds/{segment(build_id)}", {"api-version": API_VERSION}
    )
    return dict(data)


def timeline_id_of(build: dict[str, Any] | None) -> str | None:
    """The id of a build's timeline: its orchestration plan's id (``orchestrationPlan.planId``)."""
    if not isinstance(build, dict):
        return None
    plan = build.get("orchestrationPlan") or {}
    plan_id = plan.get("planId") if isinstance(plan, dict) else None
    if not plan_id:
        plans = [p for p in build.get("plans") or [] if isinstance(p, dict) and p.get("planId")]
        plan_id = plans[0]["planId"] if plans else None
    return str(plan_id) if plan_id else None


def get_timeline(
    client: AzureDevOpsClient,
    project: str,
    build_id: str | int,
    timeline_id: str | None = None,
) -> list[dict[str, Any]]:
    """Return the timeline records (stages, phases, jobs, tasks, checkpoints) of a build.

    With ``timeline_id`` (the build's plan id, ``System.TimelineId`` in a job) the documented
    ``.../timeline/{timelineId}`` is read; a server that does not know that id (404) is asked for
    the build's timeline without one (``.../timeline``, the route's optional segment, as the
    ``azure-devops`` SDK's ``get_build_timeline`` sends it).
    """
    base = f"{segment(project)}/_apis/build/builds/{segment(build_id)}/timeline"
    data: Any = None
    if timeline_id:
        try:
            data, _ = client.get(f"{base}/{segment(timeline_id)}", {"api-version": API_VERSION})
        except AdapterError as exc:
            if "(404)" not in str(exc):
                raise
            data = None
    if data is None:
        data, _ = client.get(base, {"api-version": API_VERSION})
    if not isinstance(data, dict):  # a run that never started has no timeline (204/null)
        return []
    return list(data.get("records") or [])


def pending_approvals(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the checkpoint timeline records still waiting: approvals first, then checks.

    A stage gated by approvals and checks has a ``Checkpoint`` record with one child per
    approval (``Checkpoint.Approval``) or check (``Checkpoint.*``); any of them ``inProgress`` or
    ``pending`` means the run waits for a person or a check. Each returned record carries
    ``stageName``: the name of the stage it gates, when the parent chain leads to one.
    """
    by_id = {record.get("id"): record for record in records}
    found = []
    ordered = sorted(records, key=lambda r: r.get("type") != "Checkpoint.Approval")
    for record in ordered:
        kind = str(record.get("type") or "")
        if kind != "Checkpoint" and not kind.startswith("Checkpoint."):
            continue
        if str(record.get("state") or "").lower() not in {"inprogress", "pending"}:
            continue
        stage = _stage_of(record, by_id) or {}
        found.append({**record, "stageName": stage.get("name") or stage.get("identifier")})
    return found


def _stage_of(record: dict[str, Any], by_id: dict[Any, dict[str, Any]]) -> dict[str, Any] | None:
    """The ``Stage`` record above a timeline record (a few parents up), or None."""
    parent = by_id.get(record.get("parentId"))
    for _ in range(5):
        if parent is None or parent.get("type") == "Stage":
            return parent
        parent = by_id.get(parent.get("parentId"))
    return None


def deployment_job(
    records: Sequence[dict[str, Any]], stage: str, job: str, attempt: int | None
) -> dict[str, Any] | None:
    """Return the timeline's view of deployment job ``job`` of stage ``stage``, or None.

    A deployment job runs as one or more timeline ``Job`` records whose ``identifier`` is
    ``<stage>.<deployment job>.<name>`` (``azure-devops-docs``,
    ``docs/pipelines/process/deployment-jobs.md``, "Support for output variables"):

    * ``runOnce``: one job named after the deployment job (``Deploy_Prod.DeployWeb.DeployWeb``),
      or ``<hook>_<resource>`` with a resource type (``Deploy_Prod.DeployWeb.Deploy_VM1``);
    * ``rolling``: one job per lifecycle hook and target, ``<hook>_<resource>``
      (``PreDeploy_web1``, ``Deploy_web1``, ``RouteTraffic_web1``...);
    * ``canary``: one job per hook and increment, ``<hook>_<increment>`` (``Deploy_10``,
      ``PostRouteTraffic_10``...).

    Every such record of the deployment job (its first part ``stage``, its second ``job``) counts;
    records of another attempt are left out when ``attempt`` is known (the timeline holds a
    job's latest attempt). The view's ``startTime`` is the earliest start among them (when the
    deployment job began), ``name`` its display name (the ``Phase`` record's, else the job
    record's) and ``stageDisplayName`` its stage's name.
    """
    found = []
    by_id = {record.get("id"): record for record in records}
    for record in records:
        if record.get("type") != "Job":
            continue
        parts = str(record.get("identifier") or "").split(".")
        if len(parts) >= 3:
            match = parts[0] == stage and parts[1] == job
        else:
            match = len(parts) == 2 and (parts[0], parts[1]) == (stage, job)
        if match:
            found.append(record)
    if attempt is not None:
        found = [r for r in found if r.get("attempt") in (None, attempt)]
    if not found:
        return None
    starts = [r["startTime"] for r in found if real_time(r.get("startTime"))]
    phase = by_id.get(found[0].get("parentId"))
    name = (
        phase.get("name")
        if isinstance(phase, dict) and phase.get("type") == "Phase"
        else (found[0].get("name") if len(found) == 1 else job)
    )
    stage_record = _stage_of(found[0], by_id)
    from customcd.contract.times import to_epoch

    return {
        "startTime": min(starts, key=to_epoch) if starts else None,
        "name": name,
        "stageDisplayName": (stage_record or {}).get("name"),
        "jobs": [r.get("identifier") for r in found],
    }


def list_builds(
    client: AzureDevOpsClient,
    project: str,
    *,
    min_time: str,
    max_time: str | None,
    definitions: Sequence[int] = (),
    repository_id: str | None = None,
    repository_type: str | None = None,
    page_size: int = 100,
    start_token: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """Yield pages of builds started in ``[min_time, max_time]``, oldest start first.

    ``queryOrder=startTimeAscending`` makes ``minTime``/``maxTime`` apply to the start time.
    """
    params: dict[str, Any] = {
        "minTime": min_time,
        "maxTime": max_time,
        "queryOrder": "startTimeAscending",
        "$top": page_size,
        "api-version": API_VERSION,
    }
    if definitions:
        params["definitions"] = ",".join(str(d) for d in definitions)
    if repository_id:
        params["repositoryId"] = repository_id
        params["repositoryType"] = repository_type or "TfsGit"
    return client.pages(f"{segment(project)}/_apis/build/builds", params, start_token=start_token)


def resolve_repository(client: AzureDevOpsClient, project: str, name: str) -> str:
    """Return an Azure Repos repository's id (GUID) from its name; a GUID is returned as is."""
    if GUID.match(name):
        return name
    data, _ = client.get(
        f"{segment(project)}/_apis/git/repositories/{segment(name)}", {"api-version": API_VERSION}
    )
    repo_id = data.get("id") if isinstance(data, dict) else None
    if not repo_id:
        raise AdapterError(
            f"Azure DevOps has no repository named {name!r} in project {project!r}", docs=DOCS
        )
    return str(repo_id)


def resolve_environment(client: AzureDevOpsClient, project: str, name: str) -> int:
    """Return an environment's numeric id from its name (digits are taken as the id)."""
    if name.isdigit():
        return int(name)
    data, _ = client.get(
        f"{segment(project)}/_apis/distributedtask/environments",
        {"name": name, "api-version": PREVIEW_API_VERSION},
    )
    for environment in data.get("value", []) if isinstance(data, dict) else []:
        if str(environment.get("name", "")).lower() == name.lower():
            return int(environment["id"])
    raise AdapterError(
        f"Azure DevOps has no environment named {name!r} in project {project!r} "
        "(or the token cannot read environments)",
        docs=DOCS,
    )


def list_environment_records(
    client: AzureDevOpsClient,
    project: str,
    environment_id: int,
    *,
    page_size: int = 100,
    start_token: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """Yield pages of an environment's deployment records (the order is not documented)."""
    return client.pages(
        f"{segment(project)}/_apis/distributedtask/environments/{environment_id}"
        "/environmentdeploymentrecords",
        {"top": page_size, "api-version": PREVIEW_API_VERSION},
        start_token=start_token,
    )


def list_release_deployments(
    client: AzureDevOpsClient,
    project: str,
    *,
    min_started: str,
    max_started: str | None,
    definition_id: int | None = None,
    page_size: int = 100,
    start_token: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """Yield pages of classic release deployments started in ``[min_started, max_started]``.

    ``GET {project}/_apis/release/deployments`` (``Deployments_List`` in
    ``specification/release/7.1/release.json``) on the Release service host: ``minStartedTime``
    and ``maxStartedTime`` filter on the deployment's start, ``queryOrder=ascending``, ``$top``
    a page; the next page's ``continuationToken`` comes back in the ``x-ms-continuationtoken``
    response header and is passed back unchanged. ``client`` must point at the Release service
    (:func:`~.rest.release_url`).
    """
    params: dict[str, Any] = {
        "minStartedTime": min_started,
        "maxStartedTime": max_started,
        "queryOrder": "ascending",
        "$top": page_size,
        "api-version": RELEASE_DEPLOYMENTS_API_VERSION,
    }
    if definition_id is not None:
        params["definitionId"] = definition_id
    return client.pages(
        f"{segment(project)}/_apis/release/deployments", params, start_token=start_token
    )


def get_release_environment(
    client: AzureDevOpsClient, project: str, release_id: str | int, environment_id: str | int
) -> dict[str, Any]:
    """Return a classic release's environment (stage): ``ReleaseEnvironment`` with ``deploySteps``.

    ``client`` must point at the Release service (:func:`~.rest.release_url`).
    """
    data, _ = client.get(
        f"{segment(project)}/_apis/release/releases/{segment(release_id)}"
        f"/environments/{segment(environment_id)}",
        {"api-version": RELEASE_API_VERSION},
    )
    return dict(data) if isinstance(data, dict) else {}


def real_time(value: Any) -> str | None:
    """A time Azure really set (it writes ``0001-01-01T00:00:00`` for "never")."""
    text = str(value or "").strip()
    if not text or text.startswith("0001-"):
        return None
    return text


def deployment_start(
    environment: dict[str, Any], *, deployment_id: str | None, attempt: str | None
) -> str | None:
    """Return when a deployment of a release environment started, or None.

    The deployment attempt (``deploySteps[]``) is the one whose ``deploymentId`` is
    ``deployment_id``, else whose ``attempt`` is ``attempt``, else the last one. Its start is the
    earliest ``releaseDeployPhases[].startedOn`` (the first agent/server phase began), else its
    ``queuedOn``.
    """
    steps = [step for step in environment.get("deploySteps") or [] if isinstance(step, dict)]
    if not steps:
        return None
    chosen = None
    if deployment_id:
        chosen = next((s for s in steps if str(s.get("deploymentId")) == deployment_id), None)
    if chosen is None and attempt:
        chosen = next((s for s in steps if str(s.get("attempt")) == attempt), None)
    if chosen is None:
        chosen = max(steps, key=lambda s: int(s.get("attempt") or 0))
    starts = [
        time
        for phase in chosen.get("releaseDeployPhases") or []
        if isinstance(phase, dict) and (time := real_time(phase.get("startedOn")))
    ]
    if starts:
        from customcd.contract.times import to_epoch

        return min(starts, key=to_epoch)
    return real_time(chosen.get("queuedOn"))
