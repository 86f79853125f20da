"""History for backfill: a job's builds in a time window, from ``allBuilds`` ranges.

``<JOB_URL>api/json?tree=allBuilds[...]{M,N}`` pages through every build Jenkins keeps (the
plain ``builds`` list stops at 100). Builds come newest first; pages are fetched only until the
window's start is passed. Each job's builds in the window are then yielded oldest first, each
draft carrying the cursor ``<full job name>#<number>``: a resumed run skips the jobs before that
job and that job's builds up to that number.

A build still running (or paused at an ``input`` step) is not final: once one is met, the cursor
stays just before it (``<job>#<number - 1>``) for every later draft of the run, so a resumed or
later backfill reads it again once it has finished (the ledger drops what was sent already).

``--job`` names a job (``team/app``) or its URL, and may repeat. Folders, multibranch projects and
organisation folders are walked: every job below them is read.

HTTP 429 and 503 (a rate-limiting proxy, an overloaded controller) are waited out: ``Retry-After``
when given, else a short backoff, a few times per request (:class:`~customcd_jenkins.client.Patience`);
each request stays bounded by the backfill's ``--timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd.plugins.draft import Draft

from .api import RunState, UserEmails, draft_from_build, run_state
from .client import Patience, connect, credentials_from, explain, get_json
from .urls import job_path, job_url_for, with_slash

if TYPE_CHECKING:
    from jenkinsapi.jenkins import Jenkins  # type: ignore[import-untyped]

__all__ = ["BUILD_FIELDS", "LeafJob", "history", "leaf_jobs", "parse_cursor"]

DOCS = "jenkins.md"
#: Fields read for each build in a page (one request per page, no request per build).
BUILD_FIELDS = (
    "_class,number,url,timestamp,duration,result,building,builtOn,"
    "actions[causes[userId,userName,upstreamProject,upstreamBuild,upstreamUrl,shortDescription],"
    "lastBuiltRevision[SHA1,branch[name]],remoteUrls]"
)
_JOB_FIELDS = "_class,name,fullName,url,jobs[name,url]"
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class LeafJob:
    """A job that has builds (not a folder).

    :param name: the full name (``team/app/feature%2Fx``).
    :param url: the job's URL.
    :param branch_job: the job is a branch of a multibranch project (its name is the branch).
    """

    name: str
    url: str
    branch_job: bool = False


def parse_cursor(cursor: str | None) -> tuple[str, int] | None:
    """Return ``(job name, build number)`` from ``team/app#42``, or ``None``."""
    if not cursor or "#" not in cursor:
        return None
    name, _, number = cursor.rpartition("#")
    return (name, int(number)) if number.isdigit() and name else None


def leaf_jobs(
    jenkins: Jenkins, root: str, selections: Sequence[str], patience: Patience | None = None
) -> list[LeafJob]:
    """Return every job with builds under the selected jobs/folders, in a stable order."""
    found: list[LeafJob] = []
    seen: set[str] = set()

    def walk(url: str, parent_multibranch: bool) -> None:
        # URLs are built from the server given and the names Jenkins lists, not taken from the
        # documents' ``url`` fields: those use Jenkins' configured root URL, which can name another
        # host or scheme than the one this backfill reaches (a proxy, an internal name), and the
        # credentials must only go to the server given.
        job_url = with_slash(url)
        data = get_json(jenkins, f"{job_url}api/json", patience=patience, tree=_JOB_FIELDS)
        children = data.get("jobs")
        if isinstance(children, list):  # a folder, multibranch project or organisation folder
            multibranch = "MultiBranch" in str(data.get("_class", ""))
            for child in children:
                if isinstance(child, Mapping) and child.get("name"):
                    walk(f"{job_url}{job_path(str(child['name']))}", multibranch)
            return
        name = str(data.get("fullName") or data.get("name") or "")
        if job_url not in seen:
            seen.add(job_url)
            found.append(LeafJob(name=name, url=job_url, branch_job=parent_multibranch))

    for selection in selections:
        walk(job_url_for(root, selection), False)
    return found


def _pages(
    jenkins: Jenkins, job: LeafJob, since_ms: int, page: int, patience: Patience
) -> Iterator[Mapping[str, Any]]:
    """Yield the job's builds newest first, page by page, until one starts before ``since_ms``."""
    start = 0
    while True:
        tree = f"allBuilds[{BUILD_FIELDS}]{{{start},{start + page}}}"
        data = get_json(jenkins, f"{job.url}api/json", patience=patience, tree=tree)
        builds = [b for b in data.get("allBuilds") or () if isinstance(b, Mapping)]
        yield from builds
        if len(builds) < page or any((b.get("timestamp") or 0) < since_ms for b in builds):
            return
        start += page


def _in_window(build: Mapping[str, Any], since_ms: int, until_ms: int | None) -> bool:
    stamp = build.get("timestamp")
    if not isinstance(stamp, int):
        return False
    return stamp >= since_ms and (until_ms is None or stamp <= until_ms)


def history(query: HistoryQuery, name: str) -> Iterator[Draft]:
    """Yield the selected jobs' finished builds in the window as drafts, oldest first per job."""
    selections = [str(s) for s in _as_list(query.selection.get("job")) if str(s).strip()]
    if not selections:
        raise AdapterError(
            "choose the Jenkins jobs to import with --job NAME (repeatable; a folder or "
            "multibranch project includes every job below it)",
            docs=DOCS,
        )
    env = query.env
    root = (query.server or env.get("JENKINS_URL") or query.options.get("url") or "").strip()
    if not root:
        raise AdapterError("name the Jenkins server with --server URL or JENKINS_URL", docs=DOCS)
    credentials = credentials_from(env)
    if credentials is None:
        query.log.warning("JENKINS_USER/JENKINS_API_TOKEN not set: reading Jenkins anonymously")
    log = query.log
    jenkins = connect(root, credentials, query.timeout)
    patience = Patience(log=log)
    try:
        jobs = leaf_jobs(jenkins, root, selections, patience)
    except Exception as exc:
        raise AdapterError(explain(exc, root, credentials, query.timeout), docs=DOCS) from None

    resume = parse_cursor(query.resume_from)
    if resume and resume[0] not in {job.name for job in jobs}:
        log.warning("resume point %s is not a selected job; starting over", query.resume_from)
        resume = None

    since_ms = int(query.since) * 1000
    until_ms = int(query.until) * 1000 + 999 if query.until is not None else None
    page = int(query.options.get("history_page_size") or DEFAULT_PAGE)
    repo_url = query.selection.get("repo_url") or query.options.get("repo_url")
    repo_urls = [str(repo_url)] if repo_url else []
    emails = UserEmails(jenkins, with_slash(root), log, patience)

    # the cursor just before the first build not final yet; once set, every later draft carries it
    frozen: str | None = None
    for job in jobs:
        after = 0
        if resume:
            if job.name != resume[0]:
                continue
            after, resume = resume[1], None
        try:
            builds = _pages(jenkins, job, since_ms, page, patience)
            window = [b for b in builds if _in_window(b, since_ms, until_ms)]
        except Exception as exc:
            message = explain(exc, job.url, credentials, query.timeout)
            raise AdapterError(message, docs=DOCS) from None
        for build in sorted(window, key=lambda b: int(b.get("number") or 0)):
            number = int(build.get("number") or 0)
            if number <= after:
                continue
            if frozen is None and build.get("building"):
                frozen = f"{job.name}#{number - 1}"
                log.info(
                    "%s#%d is still running: the checkpoint stays before it, so a later "
                    "backfill reads it again once it has finished",
                    job.name,
                    number,
                )
            draft = _draft(
                jenkins, job, build, repo_urls, emails, query.include_on_hold, log, patience
            )
            if draft is not None:
                draft.cursor = frozen or f"{job.name}#{number}"
                yield draft


def _draft(
    jenkins: Jenkins,
    job: LeafJob,
    build: Mapping[str, Any],
    repo_urls: list[str],
    emails: UserEmails,
    include_on_hold: bool,
    log: logging.Logger,
    patience: Patience,
) -> Draft | None:
    state = RunState(None)
    if build.get("building"):
        if not include_on_hold or "WorkflowRun" not in str(build.get("_class", "")):
            return None
        try:
            url = f"{job.url}{build.get('number')}/"  # on the server given, see leaf_jobs
            state = run_state(jenkins, url, patience=patience)
        except Exception as exc:
            log.info("wfapi/describe of %s unreadable (%s)", build.get("url"), type(exc).__name__)
        if not state.paused:
            return None
    if build.get("result") == "NOT_BUILT":
        return None
    draft = draft_from_build(
        build,
        job_name=job.name,
        repo_urls=repo_urls,
        paused=state.paused,
        emails=emails,
        ran_ms=state.ran_ms,
    )
    if job.branch_job:
        branch = unquote(job.name.rsplit("/", 1)[-1])
        draft.add_optional("branch", branch)
        draft.set_fact("branch", branch)
    return draft


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
