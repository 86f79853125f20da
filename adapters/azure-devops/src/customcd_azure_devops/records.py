"""Drafts from REST objects: a build (pipeline run), and an environment deployment record."""

from __future__ import annotations

from typing import Any

from customcd.contract.times import to_epoch
from customcd.plugins.draft import Draft

from .statuses import WAITING_FOR_APPROVAL

__all__ = [
    "NAME",
    "deployment_job_id",
    "draft_from_build",
    "draft_from_deployment",
    "seconds_between",
]

NAME = "azure-devops"


def seconds_between(start: Any, finish: Any) -> int | None:
    """Whole seconds from ``start`` to ``finish`` (ISO text, up to 7 fractional digits), or None."""
    if not start or not finish:
        return None
    return max(0, to_epoch(finish) - to_epoch(start))


def _identity(value: Any) -> str | None:
    """Return an IdentityRef's email-like ``uniqueName``, else its display name."""
    if not isinstance(value, dict):
        return None
    return value.get("uniqueName") or value.get("displayName") or None


def _web_url(value: Any) -> str | None:
    if isinstance(value, dict):
        web = (value.get("_links") or {}).get("web") or {}
        if isinstance(web, dict) and web.get("href"):
            return str(web["href"])
    return None


def _attempt(value: Any) -> int | None:
    """A job attempt (``jobAttempt``, ``System.JobAttempt``) as a number, or None."""
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def deployment_job_id(run_id: Any, stage: Any, job: Any, attempt: Any = None) -> str | None:
    """The ``job_id`` of one deployment job of a run: ``<run id>/<stage>/<job>``.

    Step mode (``Build.BuildId``, ``System.StageName``, ``System.JobName``, ``System.JobAttempt``)
    and environment deployment records (``owner.id``, ``stageName``, ``jobName``, ``jobAttempt``)
    build the same id for the same deployment job. A re-run of the job (attempt 2 and later) adds
    ``/<attempt>``. ``None`` when the run, the stage or the job is unknown.
    """
    parts = [str(part).strip() for part in (run_id, stage, job) if part not in (None, "")]
    if len(parts) != 3 or not all(parts):
        return None
    number = _attempt(attempt)
    suffix = f"/{number}" if number is not None and number > 1 else ""
    return "/".join(parts) + suffix


def draft_from_build(
    build: dict[str, Any],
    *,
    on_hold_stage: str | None = None,
    waiting_since: Any = None,
) -> Draft:
    """Build the draft of a build from ``GET _apis/build/builds``.

    :param build: the build object.
    :param on_hold_stage: when the run waits on an approval, the stage it gates (status becomes
        ``waitingForApproval`` -> ``On Hold``).
    :param waiting_since: when the approval began to wait (its checkpoint record's
        ``startTime``): an On Hold record lasts from the run's start to then, the time the run
        worked before it began to wait; 0 when unknown, never now - start.
    """
    draft = Draft(adapter=NAME)
    draft.job_id = str(build.get("id", "")) or None
    draft.commit_sha = build.get("sourceVersion")
    repository = build.get("repository") or {}
    draft.repo_id = repository.get("id")
    draft.repo_name = repository.get("name")
    draft.triggered_by = _identity(build.get("requestedFor"))
    draft.job_start_time = build.get("startTime")
    if on_hold_stage is not None:
        draft.status = WAITING_FOR_APPROVAL
        draft.job_duration = seconds_between(build.get("startTime"), waiting_since) or 0
        draft.notes.append(
            f"waiting for an approval on stage {on_hold_stage or '(unnamed)'}: the duration is "
            f"what ran before the wait ({draft.job_duration} s), not now - start"
        )
    else:
        draft.status = build.get("result") or build.get("status")
        draft.job_duration = seconds_between(build.get("startTime"), build.get("finishTime"))
    definition = build.get("definition") or {}
    draft.add_optional("pipeline", definition.get("name"))
    draft.add_optional("build_number", build.get("buildNumber"))
    draft.add_optional("url", _web_url(build))
    draft.add_optional("reason", build.get("reason"))
    if on_hold_stage:
        draft.add_optional("stage", on_hold_stage)
    draft.add_optional("ci", "Azure DevOps")
    branch = str(build.get("sourceBranch") or "")
    draft.set_fact("ci", NAME)
    draft.set_fact("pipeline", definition.get("name"))
    draft.set_fact("branch", branch.removeprefix("refs/heads/") if branch else None)
    draft.set_fact("repo", draft.repo_name)
    return draft


def draft_from_deployment(
    record: dict[str, Any],
    environment: str,
    build: dict[str, Any] | None,
    job: dict[str, Any] | None = None,
) -> Draft:
    """Build the draft of an environment deployment record, with commit/repo from its run.

    ``job_id`` is :func:`deployment_job_id` (``<run>/<stage>/<job>``): one record per deployment
    job, never one per run (several jobs of a run deploying to one environment stay apart). The
    start is the job's timeline record's, as step mode reads it, when ``job`` is given; else the
    deployment record's own ``startTime``.

    :param record: an ``EnvironmentDeploymentExecutionRecord``.
    :param environment: the environment's name.
    :param build: the run that deployed (``owner``), for commit, repository and requester.
    :param job: the run's timeline record of this deployment job (:func:`~.api.deployment_job`).
    """
    draft = Draft(adapter=NAME)
    owner = record.get("owner") or {}
    definition = record.get("definition") or {}
    job = job or {}
    draft.job_id = deployment_job_id(
        owner.get("id"), record.get("stageName"), record.get("jobName"), record.get("jobAttempt")
    ) or (
        f"{owner['id']}/deployment-{record.get('id')}"
        if owner.get("id") is not None
        else f"deployment-{record.get('id')}"
    )
    draft.status = record.get("result")
    draft.job_start_time = job.get("startTime") or record.get("startTime")
    # a finished record: its end is known (finishTime), so the duration is end - start
    draft.job_duration = seconds_between(draft.job_start_time, record.get("finishTime"))
    if job.get("startTime"):
        draft.notes.append("start time from the job's timeline record (as step mode reads it)")
    if build:
        draft.commit_sha = build.get("sourceVersion")
        repository = build.get("repository") or {}
        draft.repo_id = repository.get("id")
        draft.repo_name = repository.get("name")
        draft.triggered_by = _identity(build.get("requestedFor"))
    draft.add_optional("pipeline", definition.get("name"))
    draft.add_optional("environment", environment)
    # the display names, as step mode reports them (System.StageDisplayName, System.JobDisplayName)
    stage = job.get("stageDisplayName") or record.get("stageName")
    draft.add_optional("stage", stage)
    draft.add_optional("job", job.get("name") or record.get("jobName"))
    draft.add_optional("build_number", owner.get("name"))
    draft.add_optional("url", _web_url(owner) or (_web_url(build) if build else None))
    draft.add_optional("ci", "Azure DevOps")
    draft.set_fact("ci", NAME)
    draft.set_fact("pipeline", definition.get("name"))
    draft.set_fact("environment", environment)
    draft.set_fact("stage", stage)
    draft.set_fact("job_name", record.get("jobName"))
    draft.set_fact("repo", draft.repo_name)
    return draft
