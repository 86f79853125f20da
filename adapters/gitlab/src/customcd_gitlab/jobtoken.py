"""Pipeline mode with only ``CI_JOB_TOKEN``: report the pipeline's deployments.

The job token may read the Deployments API of its own project but not pipelines or jobs
(GitLab answers 403/404 there). So, without an access token, the record is built from the
deployments this pipeline made (jobs with ``environment:``). A pipeline without deployments
cannot be reported this way: the error says which token to add.
"""

from __future__ import annotations

from typing import Any

from customcd.plugins.adapter import AdapterError
from customcd.plugins.draft import CollectContext, Draft

from .client import (
    CALL_OPTIONS,
    Deadline,
    Token,
    api_errors,
    connect,
    list_pages,
    routed_warnings,
    server_url,
)
from .deployments import job_view
from .options import DOCS, GitLabOptions
from .pipeline_fill import fill_from_pipeline, select_jobs
from .summary import epoch

__all__ = ["collect_with_job_token"]

#: Deployments updated this long before the pipeline was created are not looked at.
_SLACK = 60


def _with_tier(
    project: Any,
    deployment: dict[str, Any],
    tiers: dict[int, str | None],
    deadline: Deadline,
    context: CollectContext,
) -> dict[str, Any]:
    """The deployment with its environment's tier (``GET /projects/:id/environments/:id``).

    A deployment names its environment without the tier (``EnvironmentBasic``); the job token
    may read the Environments API. A failure only leaves the tier out.
    """
    environment = deployment.get("environment") or {}
    env_id = environment.get("id")
    if environment.get("tier") or not isinstance(env_id, int):
        return deployment
    if env_id not in tiers:
        import gitlab.exceptions
        import requests.exceptions

        try:
            with routed_warnings(context.log):
                data = project.environments.get(
                    env_id, timeout=deadline.remaining("reading an environment"), **CALL_OPTIONS
                ).attributes
            tiers[env_id] = data.get("tier") or None
        except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
            context.log.info(
                "environment %s unreadable (%s): its tier is left out", env_id, type(exc).__name__
            )
            tiers[env_id] = None
    if not tiers[env_id]:
        return deployment
    return {**deployment, "environment": {**environment, "tier": tiers[env_id]}}


def collect_with_job_token(context: CollectContext, options: GitLabOptions, token: Token) -> Draft:
    """Draft the pipeline's deploy jobs from ``GET /projects/:id/deployments`` (job token)."""
    env = context.env
    project_id = (env.get("CI_PROJECT_ID") or "").strip()
    pipeline_id = (env.get("CI_PIPELINE_ID") or "").strip()
    if not project_id or not pipeline_id:
        raise AdapterError("pipeline mode needs CI_PROJECT_ID and CI_PIPELINE_ID", docs=DOCS)
    created = epoch(env.get("CI_PIPELINE_CREATED_AT"))
    url = server_url(env, options)
    deadline = Deadline(context.timeout)
    gl = connect(url, token, env, options, context.timeout)
    what = f"listing deployments of project {project_id}"
    query: dict[str, Any] = {"order_by": "updated_at", "sort": "asc"}
    if created is not None:
        from datetime import datetime, timezone

        since = datetime.fromtimestamp(created - _SLACK, tz=timezone.utc)
        query["updated_after"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    jobs: list[dict[str, Any]] = []
    environments: dict[int, str] = {}
    tiers: dict[int, str | None] = {}
    sha = None
    with api_errors(what, url, token):
        project = gl.projects.get(project_id, lazy=True)
        for deployment in list_pages(project.deployments, deadline, what, **query):
            job = deployment.get("deployable") or {}
            if str((job.get("pipeline") or {}).get("id")) != pipeline_id:
                continue
            deployment = _with_tier(project, deployment, tiers, deadline, context)
            view = job_view(deployment)
            jobs.append(view)
            sha = sha or deployment.get("sha")
            if view.get("id") is not None and view.get("_environment"):
                environments[int(view["id"])] = view["_environment"]
    if not jobs:
        raise AdapterError(
            f"only CI_JOB_TOKEN is set, and it can read deployments but not pipelines; pipeline "
            f"{pipeline_id} has no deployment (no job with `environment:`). Set "
            "CUSTOMCD_GITLAB_TOKEN to a project access token with the read_api scope (Reporter "
            "role) to report the pipeline, or use job mode in the deploy job's after_script",
            docs=DOCS,
        )
    draft = Draft(adapter="gitlab")
    draft.notes.append(
        "only CI_JOB_TOKEN is set: reported this pipeline's deployments (the job token cannot "
        "read pipelines or jobs; set CUSTOMCD_GITLAB_TOKEN with read_api for the whole pipeline)"
    )
    chosen = select_jobs(jobs, options, environments) if options.selects_jobs else jobs
    pipeline = {
        "id": int(pipeline_id),
        "project_id": project_id,
        "sha": sha or env.get("CI_COMMIT_SHA"),
        "ref": env.get("CI_COMMIT_REF_NAME"),
        "source": env.get("CI_PIPELINE_SOURCE"),
        "web_url": env.get("CI_PIPELINE_URL"),
    }
    # every job here is a deploy job: summarise them as selected jobs (a waiting one is On Hold)
    fill_from_pipeline(context, options, draft, pipeline, chosen, environments, selected=True)
    return draft
