"""Step mode: the draft of the current job from the agent's variables (REST for the start).

Run as a final step with ``condition: always()``. Fields:

* ``job_id``: ``BUILD_BUILDID``; with ``job_scope = "job"`` ``BUILD_BUILDID/SYSTEM_JOBID``
  (one record per job); in a YAML deployment job (``ENVIRONMENT_NAME`` set) unless
  ``job_scope = "build"``: ``BUILD_BUILDID/SYSTEM_STAGENAME/SYSTEM_JOBNAME`` (``/SYSTEM_JOBATTEMPT``
  from the second attempt; :func:`~.records.deployment_job_id`), the id ``customcd backfill
  --environment`` gives the same deployment job; in a classic release
  ``release-<RELEASEID>-deployment-<DEPLOYMENTID>``.
* ``commit_sha``: ``BUILD_SOURCEVERSION``; in a pull-request build that is the merge commit Azure
  built, unless ``pr_commit = "head"`` asks for ``SYSTEM_PULLREQUEST_SOURCECOMMITID``.
* ``status``: ``AGENT_JOBSTATUS`` (the job so far), mapped by :data:`~.statuses.STATUS_MAP`.
* ``job_start_time``: Azure has no documented start variable. With a token (``SYSTEM_ACCESSTOKEN``
  mapped, or ``AZURE_DEVOPS_PAT``) the build's ``startTime`` (or the job's timeline record with
  ``job_scope = "job"`` and in deployment jobs) is read from REST; otherwise
  ``SYSTEM_PIPELINESTARTTIME`` (set by the agent, undocumented) is used when present; otherwise
  ``--start-time`` is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customcd.plugins.adapter import AdapterError
from customcd.plugins.draft import CollectContext, Draft

from .envvars import first, is_classic_release, project_of
from .records import deployment_job_id
from .rest import DOCS, Credentials, collection_url, credentials_from_env, segment

__all__ = ["NAME", "collect_step"]

#: The adapter's name (``--adapter azure-devops``, ``[adapters.azure-devops]``).
NAME = "azure-devops"

_START_OVERRIDES = ("job_start_time", "start_time_ms")

_NO_CREDENTIAL_ADVICE = (
    "SYSTEM_PIPELINESTARTTIME is not set and there is no token to read the start from the REST "
    "API: map the job token in this step (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)), set "
    "AZURE_DEVOPS_PAT, or give --start-time"
)
_RELEASE_START_ADVICE = (
    "a classic release job has no start-time variable: enable 'Allow scripts to access the OAuth "
    "token' on the agent job (SYSTEM_ACCESSTOKEN, Release (Read)) so customcd reads the "
    "deployment's start from the Release API, set AZURE_DEVOPS_PAT, or give --start-time"
)


def collect_step(context: CollectContext) -> Draft:
    """Build the draft of the current job (YAML run, deployment job or classic release)."""
    env = context.env
    options = context.adapter_options(NAME)
    release = is_classic_release(env)
    draft = Draft(adapter=NAME)

    draft.status = first(env, "AGENT_JOBSTATUS")
    if draft.status is None:
        draft.notes.append(
            "AGENT_JOBSTATUS is not set (not running inside an agent job?): pass --status"
        )
    draft.commit_sha = _commit(env, options, draft)
    draft.repo_id = first(env, "BUILD_REPOSITORY_ID")
    draft.repo_name = first(env, "BUILD_REPOSITORY_NAME")
    if release:
        draft.triggered_by = first(
            env,
            "RELEASE_DEPLOYMENT_REQUESTEDFOREMAIL",
            "RELEASE_DEPLOYMENT_REQUESTEDFOR",
            "RELEASE_REQUESTEDFOREMAIL",
            "RELEASE_REQUESTEDFOR",
        )
    else:
        draft.triggered_by = first(env, "BUILD_REQUESTEDFOREMAIL", "BUILD_REQUESTEDFOR")
    scope = str(options.get("job_scope") or "auto").lower()
    if scope not in {"auto", "build", "job"}:
        raise AdapterError(
            f"[adapters.{NAME}] job_scope must be 'build' or 'job', not {scope!r}", docs=DOCS
        )
    draft.job_id = None
    if scope != "build" and not release and first(env, "ENVIRONMENT_NAME"):
        draft.job_id = _deployment_job_id(env, draft)
    if draft.job_id is not None:
        scope = "job"  # the deployment job's own start, from its timeline record
    else:
        scope = "job" if scope == "job" else "build"
        draft.job_id = _job_id(env, release, scope)
    _optional_fields(draft, env, release)
    _start_time(draft, context, release, scope)
    _add_hints(draft, env, release)
    return draft


def _add_hints(draft: Draft, env: Mapping[str, str], release: bool) -> None:
    """For each field the agent's variables did not fill, name the variable and the flag."""
    if not draft.job_id:
        variable = "RELEASE_RELEASEID" if release else "BUILD_BUILDID"
        draft.hint(
            "job_id", f"{variable} is not set, is this an Azure Pipelines job? Give --job-id"
        )
    if not draft.commit_sha:
        draft.hint(
            "commit_sha",
            "BUILD_SOURCEVERSION is not set (a classic release sets it from its primary "
            "artifact; a job with checkout: none still has it); give --commit-sha",
        )
    if not draft.repo_id and not draft.repo_name:
        draft.hint(
            "repo_name",
            "BUILD_REPOSITORY_NAME and BUILD_REPOSITORY_ID are not set; give --repo-name",
        )
    if not draft.status:
        draft.hint(
            "status",
            "AGENT_JOBSTATUS is not set, the agent sets it in every job step; give --status, or "
            "report from a final step with condition: always()",
        )


def _commit(env: Mapping[str, str], options: Mapping[str, Any], draft: Draft) -> str | None:
    """``BUILD_SOURCEVERSION``, or the PR head commit when asked for."""
    merge = first(env, "BUILD_SOURCEVERSION")
    head = first(env, "SYSTEM_PULLREQUEST_SOURCECOMMITID")
    wanted = str(options.get("pr_commit", "merge")).lower()
    if wanted not in {"merge", "head"}:
        raise AdapterError(
            f"[adapters.{NAME}] pr_commit must be 'merge' or 'head', not {wanted!r}", docs=DOCS
        )
    if (first(env, "BUILD_REASON") or "").lower() != "pullrequest":
        return merge
    if wanted == "head" and head:
        draft.notes.append(
            "pull-request build: reporting the PR's head commit (SYSTEM_PULLREQUEST_SOURCECOMMITID)"
        )
        return head
    if wanted == "head":
        draft.notes.append(
            'pull-request build: pr_commit = "head" but SYSTEM_PULLREQUEST_SOURCECOMMITID is not '
            "set (older agent, or a PR from a provider that does not set it): reporting the merge "
            "commit (BUILD_SOURCEVERSION)"
        )
        return merge
    draft.notes.append(
        "pull-request build: reporting the merge commit Azure built (BUILD_SOURCEVERSION); "
        f'set pr_commit = "head" under [adapters.{NAME}] to report the PR\'s head commit'
    )
    return merge


def _deployment_job_name(env: Mapping[str, str]) -> str | None:
    """The YAML name of the deployment job: ``System.PhaseName``, else ``System.JobName``.

    With a ``rolling`` or ``canary`` strategy (or ``runOnce`` with a resource type) a deployment
    job runs as several jobs, one per lifecycle hook (``Deploy_10``, ``RouteTraffic_web1``...):
    ``System.JobName`` names that hook's job, ``System.PhaseName`` the deployment job, which is
    what its environment deployment record's ``jobName`` says.
    """
    job = first(env, "SYSTEM_PHASENAME") or first(env, "SYSTEM_JOBNAME")
    return None if job == "__default" else job


def _deployment_job_id(env: Mapping[str, str], draft: Draft) -> str | None:
    """``<run>/<stage>/<job>`` of a YAML deployment job, as its environment deployment record."""
    job = _deployment_job_name(env)
    job_id = deployment_job_id(
        first(env, "BUILD_BUILDID"),
        first(env, "SYSTEM_STAGENAME"),
        job,
        first(env, "SYSTEM_JOBATTEMPT"),
    )
    if job_id is None:
        draft.notes.append(
            "deployment job without SYSTEM_STAGENAME/SYSTEM_JOBNAME: reporting the run "
            "(BUILD_BUILDID), not this deployment job"
        )
    else:
        draft.notes.append(
            f"deployment job: job_id {job_id} (run/stage/job), the id a backfill of the "
            "environment gives it"
        )
    return job_id


def _job_id(env: Mapping[str, str], release: bool, scope: str) -> str | None:
    if release:
        release_id = first(env, "RELEASE_RELEASEID")
        deployment = first(env, "RELEASE_DEPLOYMENTID")
        return (
            f"release-{release_id}-deployment-{deployment}"
            if deployment
            else f"release-{release_id}"
        )
    build_id = first(env, "BUILD_BUILDID")
    job = first(env, "SYSTEM_JOBID")
    if scope == "job" and build_id and job:
        return f"{build_id}/{job}"
    return build_id


def _optional_fields(draft: Draft, env: Mapping[str, str], release: bool) -> None:
    """Add the documented optional fields and routing facts."""
    environment = first(env, "ENVIRONMENT_NAME", "RELEASE_ENVIRONMENTNAME")
    stage = first(env, "SYSTEM_STAGEDISPLAYNAME", "SYSTEM_STAGENAME")
    job = first(env, "SYSTEM_JOBDISPLAYNAME", "SYSTEM_JOBNAME")
    if release:
        pipeline = first(env, "RELEASE_DEFINITIONNAME")
        number = first(env, "RELEASE_RELEASENAME")
        url = first(env, "RELEASE_RELEASEWEBURL")
        reason = first(env, "RELEASE_REASON")
    else:
        pipeline = first(env, "BUILD_DEFINITIONNAME")
        number = first(env, "BUILD_BUILDNUMBER")
        url = _build_url(env)
        reason = first(env, "BUILD_REASON")
    draft.add_optional("pipeline", pipeline)
    draft.add_optional("stage", stage)
    draft.add_optional("job", job)
    draft.add_optional("environment", environment)
    draft.add_optional("release_name" if release else "build_number", number)
    draft.add_optional("url", url)
    draft.add_optional("reason", reason)
    pull_request = first(
        env, "SYSTEM_PULLREQUEST_PULLREQUESTID", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"
    )
    if pull_request and pull_request.isdigit():
        draft.add_optional("pull_request", int(pull_request), "integer")
    draft.add_optional("ci", "Azure DevOps")

    branch = first(env, "BUILD_SOURCEBRANCH")
    if branch and branch.startswith("refs/heads/"):
        branch = branch[len("refs/heads/") :]
    draft.set_fact("ci", NAME)
    draft.set_fact("pipeline", pipeline)
    draft.set_fact("stage", stage)
    draft.set_fact("job_name", first(env, "SYSTEM_JOBNAME", "SYSTEM_JOBDISPLAYNAME"))
    draft.set_fact("environment", environment)
    draft.set_fact("branch", branch)
    draft.set_fact("repo", draft.repo_name)


def _build_url(env: Mapping[str, str]) -> str | None:
    """Return the run's results page: ``{collection}{project}/_build/results?buildId={id}``."""
    collection = first(env, "SYSTEM_COLLECTIONURI", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")
    project = first(env, "SYSTEM_TEAMPROJECT")
    build_id = first(env, "BUILD_BUILDID")
    if not (collection and project and build_id):
        return None
    return f"{collection.rstrip('/')}/{segment(project)}/_build/results?buildId={build_id}"


def _start_time(draft: Draft, context: CollectContext, release: bool, scope: str) -> None:
    """Fill ``job_start_time`` (REST, then SYSTEM_PIPELINESTARTTIME), unless the user gave one."""
    if any(context.overrides.get(name) not in (None, "") for name in _START_OVERRIDES):
        return
    env = context.env
    variable = first(env, "SYSTEM_PIPELINESTARTTIME")
    credentials = credentials_from_env(env)
    collection = collection_url(env)
    project = project_of(env)
    build_id = first(env, "BUILD_BUILDID")
    problem: AdapterError | None = None
    if release:
        # BUILD_BUILDID is the artifact's build there, not this release: read the Release API.
        release_id = first(env, "RELEASE_RELEASEID")
        environment_id = first(env, "RELEASE_ENVIRONMENTID")
        if credentials and collection and project and release_id and environment_id:
            try:
                draft.job_start_time = _release_start_from_rest(
                    context, draft, (collection, credentials), project, release_id, environment_id
                )
            except AdapterError as exc:
                problem = exc
            else:
                return
    elif credentials and collection and project and build_id:
        try:
            draft.job_start_time = _start_from_rest(
                context, draft, scope, (collection, credentials), project, build_id
            )
        except AdapterError as exc:
            problem = exc
        else:
            return
    if variable:
        draft.job_start_time = variable
        draft.notes.append(
            "start time from SYSTEM_PIPELINESTARTTIME (when the pipeline run started)"
        )
        if problem is not None:
            context.log.warning("%s; using SYSTEM_PIPELINESTARTTIME instead", problem)
            draft.notes.append(f"REST read failed, fell back to the variable: {problem}")
        return
    advice = _RELEASE_START_ADVICE if release else _NO_CREDENTIAL_ADVICE
    if problem is not None:
        context.log.warning("%s", problem)
        advice = f"the REST read failed ({problem}) and {advice}"
    draft.hint("job_start_time", advice)


def _start_from_rest(
    context: CollectContext,
    draft: Draft,
    scope: str,
    server: tuple[str, Credentials],
    project: str,
    build_id: str,
) -> str:
    """Read the build's ``startTime`` (or the job's timeline record's) from REST."""
    from . import api
    from .rest import AzureDevOpsClient, RetryPolicy

    env = context.env
    collection, credentials = server
    # A pipeline step: requests and rate-limit waits together never exceed context.timeout.
    retry = RetryPolicy(retries=3, budget=context.timeout)
    with AzureDevOpsClient(
        collection, credentials, timeout=context.timeout, log=context.log, retry=retry
    ) as client:
        if scope == "job":
            job_id = (first(env, "SYSTEM_JOBID") or "").lower()
            timeline = first(env, "SYSTEM_TIMELINEID", "SYSTEM_PLANID")
            records = api.get_timeline(client, project, build_id, timeline)
            if first(env, "ENVIRONMENT_NAME") and not is_classic_release(env):
                view = api.deployment_job(
                    records,
                    first(env, "SYSTEM_STAGENAME") or "",
                    _deployment_job_name(env) or "",
                    _attempt_of(env),
                )
                if view is not None and view.get("startTime"):
                    draft.notes.append(
                        "start time from the deployment job's first timeline job record "
                        f"({len(view.get('jobs') or [])} job(s); {credentials.source})"
                    )
                    return str(view["startTime"])
            for record in records:
                if str(record.get("id") or "").lower() == job_id and record.get("startTime"):
                    draft.notes.append(
                        f"start time from the job's timeline record ({credentials.source})"
                    )
                    return str(record["startTime"])
            draft.notes.append("the job's timeline record has no start yet: using the build's")
        build = api.get_build(client, project, build_id)
    start = build.get("startTime") or build.get("queueTime")
    if not start:
        raise AdapterError(
            f"Azure DevOps returned build {build_id} without a start time; pass --start-time",
            docs=DOCS,
        )
    draft.notes.append(f"start time from the build's startTime ({credentials.source})")
    return str(start)


def _attempt_of(env: Mapping[str, str]) -> int | None:
    text = first(env, "SYSTEM_JOBATTEMPT") or ""
    return int(text) if text.isdigit() else None


def _release_start_from_rest(
    context: CollectContext,
    draft: Draft,
    server: tuple[str, Credentials],
    project: str,
    release_id: str,
    environment_id: str,
) -> str:
    """Read this deployment's start from the Release API (``vsrm.dev.azure.com`` on the cloud)."""
    from . import api
    from .rest import AzureDevOpsClient, RetryPolicy, release_url

    collection, credentials = server
    retry = RetryPolicy(retries=3, budget=context.timeout)
    with AzureDevOpsClient(
        release_url(collection), credentials, timeout=context.timeout, log=context.log, retry=retry
    ) as client:
        environment = api.get_release_environment(client, project, release_id, environment_id)
    start = api.deployment_start(
        environment,
        deployment_id=first(context.env, "RELEASE_DEPLOYMENTID"),
        attempt=first(context.env, "RELEASE_ATTEMPTNUMBER"),
    )
    if not start:
        raise AdapterError(
            f"Azure DevOps returned release {release_id} environment {environment_id} without a "
            "deployment start time; pass --start-time",
            docs=DOCS,
        )
    draft.notes.append(
        f"start time from the release deployment's first phase ({credentials.source})"
    )
    return start
