"""Pipeline mode: report the pipeline (or its selected deploy jobs) from the GitLab API.

Runs as the last job of the pipeline (a ``.post`` stage job with ``when: always``) with an access
token in ``CUSTOMCD_GITLAB_TOKEN`` or ``GITLAB_TOKEN``: python-gitlab reads the pipeline, its
jobs and its trigger jobs' downstream (child and multi-project) pipelines. With only
``CI_JOB_TOKEN``, which cannot read pipelines, the deployments of the pipeline are used instead
(:mod:`customcd_gitlab.jobtoken`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

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
    routed_warnings,
    server_url,
)
from .fields import add_common_optionals, choose_commit
from .jobmode import add_hints, set_facts
from .options import DOCS, GitLabOptions
from .pipeline_fill import fill_from_pipeline, select_jobs

if TYPE_CHECKING:
    import gitlab

__all__ = [
    "collect_pipeline",
    "downstream_project",
    "env_pipeline_draft",
]

#: How deep trigger jobs are followed into downstream pipelines.
MAX_DOWNSTREAM_DEPTH = 2


def _require(env: Mapping[str, str], name: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise AdapterError(
            f"pipeline mode needs {name}: run customcd inside a GitLab CI job", docs=DOCS
        )
    return value


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
    add_hints(draft)
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


def downstream_project(downstream: Mapping[str, Any], parent_project: Any, url: str) -> Any:
    """The project of a trigger job's downstream pipeline: its id, else its path, else the parent.

    Newer GitLab versions give ``downstream_pipeline.project_id``; the documented shape (``GET
    .../pipelines/:id/bridges`` in ``doc/api/jobs.md``, python-gitlab's ``test_bridges.py``) has
    only ``id``, ``sha``, ``ref``, ``status``, times and ``web_url``. The project path is then
    read from ``web_url`` (``https://host/group/project/-/pipelines/5``, the GitLab's
    relative URL root left out); a child pipeline without either runs in the parent's project.
    """
    project_id = downstream.get("project_id")
    if project_id not in (None, ""):
        return project_id
    path = urlsplit(str(downstream.get("web_url") or "")).path
    root = urlsplit(url).path.rstrip("/")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    match = _PIPELINE_PATH.match(path)
    if match:
        return unquote(match["project"])
    return parent_project


#: ``/<project path>/-/pipelines/<id>`` (or the older ``/<project path>/pipelines/<id>``).
_PIPELINE_PATH = re.compile(r"^/(?P<project>[^?#]+?)(?:/-)?/pipelines/\d+/?$")


def _downstream_jobs(
    gl: gitlab.Gitlab,
    bridges: Sequence[Mapping[str, Any]],
    deadline: Deadline,
    url: str,
    token: Token,
    depth: int,
    parent_project: Any,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Jobs of the pipelines the trigger jobs started (child and multi-project), recursively."""
    jobs: list[dict[str, Any]] = []
    seen: list[str] = []
    for bridge in bridges:
        downstream = bridge.get("downstream_pipeline") or {}
        if not downstream.get("id") or depth <= 0:
            view = dict(bridge)
            if downstream.get("status"):
                view["status"] = downstream["status"]
            jobs.append(view)
            continue
        project_ref = downstream_project(downstream, parent_project, url)
        what = f"reading downstream pipeline {downstream['id']} of project {project_ref}"
        with api_errors(what, url, token):
            project = gl.projects.get(project_ref, lazy=True)
            child = project.pipelines.get(downstream["id"], lazy=True)
            child_jobs = _list(child.jobs, deadline, what)
            child_bridges = _list(child.bridges, deadline, what)
        seen.append(f"{downstream['id']} (from trigger job {bridge.get('name')})")
        for job in child_jobs:
            job["_pipeline"] = downstream["id"]
        jobs.extend(child_jobs)
        deeper, deeper_seen = _downstream_jobs(
            gl, child_bridges, deadline, url, token, depth - 1, project_ref
        )
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
    with api_errors(what, url, token), routed_warnings(context.log):
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
    downstream, seen = _downstream_jobs(
        gl, bridges, deadline, url, token, MAX_DOWNSTREAM_DEPTH, project_id
    )
    jobs.extend(downstream)
    if seen:
        draft.notes.append(f"followed downstream pipelines: {', '.join(seen)}")
    environments: dict[int, str] = {}
    if options.environments:
        environments = _deployment_environments(project, pipeline, deadline, url, token)
    chosen = select_jobs(jobs, options, environments) if options.selects_jobs else jobs
    fill_from_pipeline(context, options, draft, pipeline, chosen, environments)
    return draft
