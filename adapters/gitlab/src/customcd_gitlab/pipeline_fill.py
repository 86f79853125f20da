"""Turn a pipeline and its chosen jobs into a draft: shared by the API-token and job-token paths.

Both :mod:`customcd_gitlab.pipeline` (pipelines and jobs read with an access token) and
:mod:`customcd_gitlab.jobtoken` (deployments read with ``CI_JOB_TOKEN``) pick the jobs that
represent a pipeline with :func:`select_jobs` and fill the draft with :func:`fill_from_pipeline`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from customcd.plugins.draft import CollectContext, Draft

from .fields import add_common_optionals, choose_commit, derive_job_type
from .jobmode import set_facts
from .options import GitLabOptions
from .statuses import FINISHED, WAITING
from .summary import Summary, epoch, summarize

__all__ = ["fill_from_pipeline", "select_jobs"]


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
    """Seconds from the start to the last finished job; ``None`` (now - start) while running.

    Jobs waiting for a person (On Hold) count what ran before the wait: from the start to the
    last job that finished, 0 when none did; never ``now - start``.
    """
    if summary.status in WAITING:
        if summary.end is None or start is None:
            return 0
        return max(summary.end - start, 0)
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
