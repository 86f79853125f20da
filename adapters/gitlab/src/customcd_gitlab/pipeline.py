"""Pipeline mode: report the pipeline (or its selected deploy jobs) from the GitLab API.

Runs as the last job of the pipeline (a ``.post`` stage job with ``when: always``) with an access
token in ``CUSTOMCD_GITLAB_TOKEN`` or ``GITLAB_TOKEN``: python-gitlab reads the pipeline, its
jobs and its trigger jobs' downstream (child and multi-project) pipelines. With only
``CI_JOB_TOKEN``, which cannot read pipelines, the deployments of the pipeline are used instead
(:mod:`customcd_gitlab.jobtoken`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from customcd.plugins.adapter import AdapterError
from customcd.plugins.draft import CollectContext, Draft

from .client import (
    CALL_OPTIONS,
    Deadline,
    Token,
    api_errors,
    connect,
    find_token,
    list_pages,
    server_url,
)
from .fields import add_common_optionals, choose_commit, derive_job_type
from .jobmode import set_facts
from .options import DOCS, GitLabOptions
from .statuses import FINISHED
from .summary import Summary, epoch, summarize

if TYPE_CHECKING:
    import gitlab

__all__ = ["collect_pipeline", "env_pipeline_draft", "fill_from_pipeline", "select_jobs"]

#: How deep trigger jobs are followed into downstream pipelines.
MAX_DOWNSTREAM_DEPTH = 2


def _require(env: Mapping[str, str], name: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise AdapterError(
            f"pipeline mode needs {name}: run customcd inside a GitLab CI job", docs=DOCS
        )
    return value


def select_jobs(
    jobs: Sequence[Mapping[str, Any]], options: GitLabOptions, environments: Mapping[int, str]
) -> list[Mapping[str, Any]]:
    """Return the jobs matching the stage, name and environment options (all if none is set).

    :param environments: job id -> environment name, from the pipeline's deployments.
    """
    chosen = []
    for job in jobs:
        if options.stages and not any(
            fnmatchcase(str(job.get("stage")), p) for p in options.stages
        ):
            continue
        if options.jobs and not any(fnmatchcase(str(job.get("name")), p) for p in options.jobs):
            continue
        if options.environments:
            env_name = environments.get(int(job.get("id") or 0)) or job.get("_environment")
            if not env_name or not any(fnmatchcase(env_name, p) for p in options.environments):
                continue
        chosen.append(job)
    return chosen


def env_pipeline_draft(context: CollectContext, options: GitLabOptions) -> Draft:
    """Draft the pipeline from its variables alone (when the API fails and --status is given)."""
    env = context.env
    draft = Draft(adapter="gitlab")
    draft.fill(
        job_id=env.get("CI_PIPELINE_ID"),
        commit_sha=choose_commit(env, options, draft, env.get("CI_COMMIT_SHA")),
        job_start_time=env.get("CI_PIPELINE_CREATED_AT"),
        repo_id=env.get("CI_PROJECT_ID"),
        repo_name=env.get("CI_PROJECT_PATH"),
        triggered_by=env.get("GITLAB_USER_EMAIL") or env.get("GITLAB_USER_LOGIN"),
        job_type=options.job_type,
    )
    add_common_optionals(
        draft,
        pipeline_id=env.get("CI_PIPELINE_ID"),
        pipeline_url=env.get("CI_PIPELINE_URL"),
        ref=env.get("CI_COMMIT_REF_NAME"),
        pipeline_source=env.get("CI_PIPELINE_SOURCE"),
        merge_request_iid=env.get("CI_MERGE_REQUEST_IID"),
    )
    set_facts(context, draft)
    return draft


def collect_pipeline(context: CollectContext, options: GitLabOptions) -> Draft:
    """Draft the pipeline from the API; use the variables if it fails and --status is set."""
    env = context.env
    token = find_token(env)
    if token is None:
        raise AdapterError(
            "pipeline mode needs a GitLab token: set CUSTOMCD_GITLAB_TOKEN (masked CI/CD variable) "
            "to a project or group access token with the read_api scope",
            docs=DOCS,
        )
    try:
        if token.is_job_token:
            from .jobtoken import collect_with_job_token

            return collect_with_job_token(context, options, token)
        return _collect_with_api_token(context, options, token)
    except AdapterError as exc:
        if not context.overrides.get("status"):
            raise
        context.log.warning("%s; reporting the pipeline from its variables and --status", exc)
        draft = env_pipeline_draft(context, options)
        draft.notes.append(f"GitLab API not used ({exc}); record made from CI_* variables")
        return draft


def _list(manager: Any, deadline: Deadline, what: str) -> list[dict[str, Any]]:
    """All items of a listing, each page given only the time left in ``deadline``."""
    return list(list_pages(manager, deadline, what))


def _downstream_jobs(
    gl: gitlab.Gitlab,
    bridges: Sequence[Mapping[str, Any]],
    deadline: Deadline,
    url: str,
    token: Token,
    depth: int,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Jobs of the pipelines the trigger jobs started (child and multi-project), recursively."""
    jobs: list[dict[str, Any]] = []
    seen: list[str] = []
    for bridge in bridges:
        downstream = bridge.get("downstream_pipeline") or {}
        if not downstream.get("id") or not downstream.get("project_id") or depth <= 0:
            view = dict(bridge)
            if downstream.get("status"):
                view["status"] = downstream["status"]
            jobs.append(view)
            continue
        what = (
            f"reading downstream pipeline {downstream['id']} of project {downstream['project_id']}"
        )
        with api_errors(what, url, token):
            project = gl.projects.get(downstream["project_id"], lazy=True)
            child = project.pipelines.get(downstream["id"], lazy=True)
            child_jobs = _list(child.jobs, deadline, what)
            child_bridges = _list(child.bridges, deadline, what)
        seen.append(f"{downstream['id']} (from trigger job {bridge.get('name')})")
        for job in child_jobs:
            job["_pipeline"] = downstream["id"]
        jobs.extend(child_jobs)
        deeper, deeper_seen = _downstream_jobs(gl, child_bridges, deadline, url, token, depth - 1)
        jobs.extend(deeper)
        seen.extend(deeper_seen)
    return jobs, seen


def _deployment_environments(
    project: Any, pipeline: Mapping[str, Any], deadline: Deadline, url: str, token: Token
) -> dict[int, str]:
    """Job id -> environment name for the deployments of this pipeline (or its children)."""
    created = pipeline.get("created_at")
    what = f"listing deployments of project {pipeline.get('project_id')}"
    result: dict[int, str] = {}
    with api_errors(what, url, token):
        items = list_pages(
            project.deployments,
            deadline,
            what,
            order_by="updated_at",
            sort="asc",
            updated_after=created,
        )
        for deployment in items:
            job = deployment.get("deployable") or {}
            name = (deployment.get("environment") or {}).get("name")
            if job.get("id") is not None and name:
                result[int(job["id"])] = name
    return result


def _collect_with_api_token(context: CollectContext, options: GitLabOptions, token: Token) -> Draft:
    env = context.env
    project_id = _require(env, "CI_PROJECT_ID")
    pipeline_id = _require(env, "CI_PIPELINE_ID")
    own_job = (env.get("CI_JOB_ID") or "").strip()
    url = server_url(env, options)
    deadline = Deadline(context.timeout)
    gl = connect(url, token, env, options, context.timeout)
    what = f"reading pipeline {pipeline_id} of project {project_id}"
    with api_errors(what, url, token):
        project = gl.projects.get(project_id, lazy=True)
        pipeline_obj = project.pipelines.get(
            pipeline_id, timeout=deadline.remaining(what), **CALL_OPTIONS
        )
    pipeline = dict(pipeline_obj.attributes)
    what = f"listing the jobs of pipeline {pipeline_id}"
    with api_errors(what, url, token):
        jobs = _list(pipeline_obj.jobs, deadline, what)
    bridges: list[dict[str, Any]] = []
    if options.downstream:
        what = f"listing the trigger jobs of pipeline {pipeline_id}"
        with api_errors(what, url, token):
            bridges = _list(pipeline_obj.bridges, deadline, what)
    draft = Draft(adapter="gitlab")
    jobs = [job for job in jobs if str(job.get("id")) != own_job]
    downstream, seen = _downstream_jobs(gl, bridges, deadline, url, token, MAX_DOWNSTREAM_DEPTH)
    jobs.extend(downstream)
    if seen:
        draft.notes.append(f"followed downstream pipelines: {', '.join(seen)}")
    environments: dict[int, str] = {}
    if options.environments:
        environments = _deployment_environments(project, pipeline, deadline, url, token)
    chosen = select_jobs(jobs, options, environments) if options.selects_jobs else jobs
    fill_from_pipeline(context, options, draft, pipeline, chosen, environments)
    return draft


def fill_from_pipeline(
    context: CollectContext,
    options: GitLabOptions,
    draft: Draft,
    pipeline: Mapping[str, Any],
    chosen: Sequence[Mapping[str, Any]],
    environments: Mapping[int, str],
    *,
    selected: bool | None = None,
) -> None:
    """Fill ``draft`` from a pipeline and the jobs chosen to represent it.

    :param selected: whether ``chosen`` are deploy jobs (default: whether the options select jobs).
    """
    env = context.env
    pipeline_id = pipeline.get("id")
    if selected is None:
        selected = options.selects_jobs
    if selected and not chosen:
        draft.skip = (
            f"no job of pipeline {pipeline_id} matches the selection "
            f"(stages={list(options.stages)}, jobs={list(options.jobs)}, "
            f"environments={list(options.environments)})"
        )
    summary = summarize(chosen, selected=selected)
    draft.notes.append(f"pipeline {pipeline_id}: {summary.reason}")
    single = chosen[0] if selected and len(chosen) == 1 else None
    if selected:
        start: Any = summary.start
    else:
        start = pipeline.get("started_at") or pipeline.get("created_at")
    duration = _duration(summary, epoch(start))
    if summary.status == "running":
        draft.notes.append(
            "some jobs are still running: run the reporting job in the .post stage with "
            "`when: always`, or pass --status"
        )
    env_name = None
    if single is not None:
        env_name = environments.get(int(single.get("id") or 0)) or single.get("_environment")
    elif len(set(environments.values())) == 1 and chosen:
        env_name = next(iter(environments.values()))
    tier = single.get("_tier") if single is not None else None
    if not tier and env_name and env_name == env.get("CI_ENVIRONMENT_NAME"):
        tier = env.get("CI_ENVIRONMENT_TIER")
    draft.fill(
        job_id=str(single["id"]) if single is not None else str(pipeline_id),
        commit_sha=choose_commit(env, options, draft, pipeline.get("sha")),
        job_start_time=start,
        job_duration=duration,
        status=summary.status,
        repo_id=str(pipeline.get("project_id") or env.get("CI_PROJECT_ID") or "") or None,
        repo_name=env.get("CI_PROJECT_PATH"),
        triggered_by=_triggered_by(env, pipeline, single),
        job_type=derive_job_type(options, env_name, tier),
    )
    add_common_optionals(
        draft,
        environment=env_name,
        tier=tier,
        pipeline_id=pipeline_id,
        pipeline_url=pipeline.get("web_url"),
        job_url=single.get("web_url") if single is not None else None,
        ref=pipeline.get("ref"),
        pipeline_source=pipeline.get("source"),
        merge_request_iid=env.get("CI_MERGE_REQUEST_IID"),
    )
    set_facts(context, draft)
    if single is not None:
        draft.set_fact("job_name", single.get("name"))
        draft.set_fact("stage", single.get("stage"))
    draft.set_fact("environment", env_name)


def _duration(summary: Summary, start: int | None) -> int | None:
    """Return start to last finished job in seconds if finished, else ``None`` (now - start)."""
    if summary.status not in FINISHED or summary.end is None or start is None:
        return None
    return max(summary.end - start, 0)


def _triggered_by(
    env: Mapping[str, str], pipeline: Mapping[str, Any], single: Mapping[str, Any] | None
) -> str | None:
    """Return the pipeline's user (email from the variables), or who played a manual deploy job."""
    login = (env.get("GITLAB_USER_LOGIN") or "").strip()
    if single is not None:
        username = (single.get("user") or {}).get("username")
        if username and username != login:
            return str(username)
    email = (env.get("GITLAB_USER_EMAIL") or "").strip()
    if email:
        return email
    return (pipeline.get("user") or {}).get("username") or login or None
