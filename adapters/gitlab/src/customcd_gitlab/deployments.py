"""GitLab deployments (``GET /projects/:id/deployments``) as drafts.

A deployment's ``deployable`` is the job that deployed; a deployment created through the
Deployments API (``POST /projects/:id/deployments``, e.g. by an external deploy tool) has
``deployable: null`` and carries only its own times. GitLab's deployment entity
(``lib/api/entities/deployment.rb``) exposes ``created_at`` and ``updated_at``, no
``finished_at``: the status change to ``success``/``failed``/``canceled`` is the last update, so
``updated_at`` is such a deployment's end. Used by history and by pipeline mode with only
``CI_JOB_TOKEN`` (which may read deployments but not pipelines).

Durations follow the contract: a finished deployment lasts ``end - start`` (the job's
``finished_at - started_at``, or the API-created deployment's ``updated_at - created_at``); one
waiting for a person (``blocked``, ``manual``, ``scheduled``) lasts what its job ran before it
began to wait, which is 0 (an approval or a manual action comes before the job starts), never
``now - start``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customcd.plugins.draft import Draft

from .fields import CI_SYSTEM, add_common_optionals, derive_job_type
from .options import GitLabOptions
from .statuses import FINISHED, WAITING
from .summary import epoch_ms

__all__ = ["deployment_draft", "deployment_status", "deployment_times", "job_view"]


def deployment_status(deployment: Mapping[str, Any]) -> str:
    """Return the native status of a deployment, made precise by its job.

    ``blocked`` (waiting for an approval) stays ``blocked``; a ``created`` deployment whose job is a
    ``manual`` job that nobody played yet is ``manual``; otherwise the deployment's own status.
    """
    status = str(deployment.get("status") or "").lower()
    job = deployment.get("deployable") or {}
    job_status = str(job.get("status") or "").lower()
    if status == "created" and job_status in {"manual", "scheduled"}:
        return job_status
    return status


def _seconds(start: Any, end: Any) -> float | None:
    """``end - start`` in seconds (milliseconds kept), or ``None`` when either is unknown."""
    first, last = epoch_ms(start), epoch_ms(end)
    if first is None or last is None:
        return None
    return max(last - first, 0) / 1000


def deployment_times(deployment: Mapping[str, Any]) -> tuple[Any, float | None, list[str]]:
    """Return the deployment's start (API text), duration in seconds and notes on both.

    The duration is ``None`` only for a deployment still running (the builder's ``now - start``
    then applies, and history does not yield it).
    """
    status = deployment_status(deployment)
    job = deployment.get("deployable") or {}
    notes: list[str] = []
    if not job:
        start = deployment.get("created_at")
        end = deployment.get("finished_at") or deployment.get("updated_at")
        notes.append(
            f"deployment {deployment.get('id')} was created through the Deployments API (no job): "
            "its own created_at/updated_at are its start and end"
        )
    else:
        start = job.get("started_at") or job.get("created_at") or deployment.get("created_at")
        end = job.get("finished_at") or deployment.get("finished_at")
        if job.get("started_at") is None:
            notes.append(
                f"job {job.get('id')} has no started_at (it never started): using its creation time"
            )
    if status in WAITING:
        ran = _seconds(start, end) if job.get("started_at") and end else None
        notes.append(
            f"{status}: waiting for a person; the duration is what ran before the wait "
            f"({ran or 0:g} s), not now - start"
        )
        return start, ran or 0.0, notes
    if status in FINISHED:
        duration = _seconds(start, end)
        if duration is None and job.get("duration") is not None:
            duration = float(job["duration"])
        if duration is None and not job:
            # created with its final status and never updated ("Create a deployment"): no time
            # passed between its start and its end
            duration = 0.0
        return start, duration, notes
    return start, None, notes


def job_view(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """Return the deployment's job as a job-like dict for ``summarize``."""
    job = dict(deployment.get("deployable") or {})
    job.setdefault("name", f"deployment {deployment.get('id')}")
    job.setdefault("created_at", deployment.get("created_at"))
    job.setdefault("finished_at", deployment.get("finished_at"))
    job["status"] = deployment_status(deployment)
    environment = deployment.get("environment") or {}
    job["_environment"] = environment.get("name")
    job["_tier"] = environment.get("tier")
    return job


def deployment_draft(
    deployment: Mapping[str, Any],
    *,
    project_id: Any,
    project_path: str | None,
    options: GitLabOptions,
) -> Draft:
    """One deployment as a draft; the status is the native one (see :func:`deployment_status`)."""
    job = deployment.get("deployable") or {}
    pipeline = job.get("pipeline") or {}
    environment = deployment.get("environment") or {}
    env_name = environment.get("name")
    tier = environment.get("tier")
    draft = Draft(adapter="gitlab")
    start_text, duration, notes = deployment_times(deployment)
    draft.notes.extend(notes)
    user = job.get("user") or deployment.get("user") or {}
    draft.fill(
        job_id=str(job["id"])
        if job.get("id") is not None
        else f"deployment-{deployment.get('id')}",
        commit_sha=deployment.get("sha") or pipeline.get("sha"),
        job_start_time=start_text,
        job_duration=duration,
        status=deployment_status(deployment),
        repo_id=str(project_id) if project_id is not None else None,
        repo_name=project_path,
        triggered_by=user.get("public_email") or user.get("username"),
        job_type=derive_job_type(options, env_name, tier),
    )
    add_common_optionals(
        draft,
        environment=env_name,
        tier=tier,
        pipeline_id=pipeline.get("id"),
        pipeline_url=pipeline.get("web_url"),
        job_url=job.get("web_url"),
        ref=deployment.get("ref"),
        pipeline_source=pipeline.get("source"),
    )
    draft.set_fact("ci", CI_SYSTEM)
    draft.set_fact("job_name", job.get("name"))
    draft.set_fact("stage", job.get("stage"))
    draft.set_fact("branch", deployment.get("ref"))
    draft.set_fact("environment", env_name)
    draft.set_fact("repo", project_path)
    return draft
