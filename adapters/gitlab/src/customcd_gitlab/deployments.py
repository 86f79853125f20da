"""GitLab deployments (``GET /projects/:id/deployments``) as drafts.

A deployment's ``deployable`` is the job that deployed; a deployment created through the API has
none. Used by history and by pipeline mode with only ``CI_JOB_TOKEN`` (which may read
deployments but not pipelines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customcd.plugins.draft import Draft

from .fields import CI_SYSTEM, add_common_optionals, derive_job_type
from .options import GitLabOptions
from .summary import epoch

__all__ = ["deployment_draft", "deployment_status", "job_view"]


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
    start_text = job.get("started_at") or job.get("created_at") or deployment.get("created_at")
    start = epoch(start_text)
    duration = job.get("duration")
    if duration is None and start is not None:
        end = epoch(job.get("finished_at") or deployment.get("finished_at"))
        if end is not None:
            duration = max(end - start, 0)
    if job.get("started_at") is None and job:
        draft.notes.append(
            f"job {job.get('id')} has no started_at (it never started): using its creation time"
        )
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
