"""History for ``customcd backfill gitlab``: deployments, or pipelines (no environments).

Deployments are listed with ``order_by=updated_at&sort=asc&updated_after=<since>`` (GitLab only
filters on ``updated_after`` when ordering by ``updated_at``) and read lazily, page by page
(python-gitlab follows the ``Link: rel="next"`` header, kept on ``--server`` by
``keep_base_url``). Nothing depends on ``X-Total``/``X-Total-Pages``: GitLab leaves them (and the
``rel="last"`` link) out when a list has more than 10,000 items. Pipelines are listed the same
way, filtered by ref, source and status, and each finished one is read in full for its start
time, duration and user. A group's projects are listed with keyset pagination
(``pagination=keyset&order_by=id``, which GitLab offers for projects and which has no offset
limit), falling back to offset pages on a GitLab that refuses it.

An item in the window that is not final yet (running, pending, ``created``, waiting for a person:
``manual``, ``blocked``, ``scheduled``) freezes the cursor just before it (:meth:`Cursor.before`):
every later draft of the run carries that cursor, so a resumed or later backfill lists from there
again and sends the item once it has finished (the ledger drops what was sent already).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd.plugins.draft import Draft

from .client import (
    API_TOKEN_VARIABLES,
    HISTORY_CALL_OPTIONS,
    Token,
    api_errors,
    connect,
    find_token,
    quiet_iter,
    routed_warnings,
    server_url,
)
from .deployments import deployment_draft, deployment_status
from .fields import CI_SYSTEM, add_common_optionals
from .options import DOCS, GitLabOptions
from .summary import epoch, epoch_ms

if TYPE_CHECKING:
    import gitlab

__all__ = ["Cursor", "iter_history", "pipeline_duration"]

#: Items updated this long after ``until`` are past the window: the listing stops there.
GRACE = 24 * 3600
_FINISHED = frozenset({"success", "failed", "canceled"})
#: Statuses that never change again (``skipped`` produces no record); any other is not final.
_FINAL = _FINISHED | {"skipped"}
_ON_HOLD = frozenset({"manual", "blocked", "scheduled"})


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Cursor:
    """Where a backfill stopped: ``source|project|updated_at|id``.

    ``updated_at`` is written in epoch seconds with milliseconds (``1764061890.702``): GitLab
    orders by the full ``updated_at`` then ``id``, and several items are often updated within
    one second, so whole seconds would skip some of them on resume. A cursor with whole seconds
    (older checkpoints) is still read, and compared at that precision.

    :param updated_ms: the item's ``updated_at`` in epoch milliseconds.
    :param precise: whether ``updated_ms`` has milliseconds (``False`` for whole-second cursors).
    """

    source: str
    project: str
    updated_ms: int
    item_id: int
    precise: bool = True

    def __str__(self) -> str:
        if not self.precise:
            return f"{self.source}|{self.project}|{self.updated_ms // 1000}|{self.item_id}"
        seconds, millis = divmod(self.updated_ms, 1000)
        return f"{self.source}|{self.project}|{seconds}.{millis:03d}|{self.item_id}"

    @property
    def updated_s(self) -> int:
        """``updated_at`` in whole epoch seconds (rounded down)."""
        return self.updated_ms // 1000

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """Read the cursor in ``text``, or ``None`` when absent or not one of ours."""
        if not text:
            return None
        parts = text.split("|")
        if len(parts) != 4 or not parts[3].isdigit():
            return None
        try:
            updated = Decimal(parts[2])
        except InvalidOperation:
            return None
        if not updated.is_finite():
            return None
        precise = "." in parts[2]
        return cls(parts[0], parts[1], int(updated * 1000), int(parts[3]), precise)

    def passed(self, updated_ms: int, item_id: int) -> bool:
        """Whether an item of the same project was already done before this cursor."""
        if not self.precise:
            return (updated_ms // 1000, item_id) <= (self.updated_s, self.item_id)
        return (updated_ms, item_id) <= (self.updated_ms, self.item_id)

    def before(self) -> Cursor:
        """The cursor just before this item: a resume passes every item before it, not it.

        GitLab orders by ``(updated_at, id)``: an item of the same millisecond with a smaller id
        comes first, one with this id or a larger one does not.
        """
        return Cursor(self.source, self.project, self.updated_ms, self.item_id - 1, self.precise)


@dataclass
class _Run:
    gl: gitlab.Gitlab
    url: str
    token: Token
    query: HistoryQuery
    options: GitLabOptions
    resume: Cursor | None
    #: the cursor just before the first item not final yet; every later draft carries it.
    frozen: Cursor | None = None
    #: environment id -> tier (``None``: unknown), read once per environment.
    tiers: dict[tuple[str, int], str | None] = field(default_factory=dict)

    def cursor(self, here: Cursor, status: str) -> str:
        """The cursor of an item with ``status`` at ``here``: frozen once an item is not final."""
        if self.frozen is None and status not in _FINAL:
            self.frozen = here.before()
            self.query.log.info(
                "%s %s of project %s is %s: the checkpoint stays before it, so a later backfill "
                "reads it again once it has finished",
                here.source.rstrip("s"),
                here.item_id,
                here.project,
                status or "not finished",
            )
        return str(self.frozen or here)


def _selection_list(selection: Mapping[str, Any], key: str) -> list[str]:
    value = selection.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def iter_history(query: HistoryQuery, options: GitLabOptions) -> Iterator[Draft]:
    """Yield finished deployments or pipelines of the selected projects, lazily, oldest first.

    :raises AdapterError: when no project is selected or no usable token is set.
    """
    selection = query.selection
    source = str(selection.get("source") or "deployments").lower()
    if source not in {"deployments", "pipelines"}:
        raise AdapterError(f"--source {source!r} is not deployments or pipelines", docs=DOCS)
    projects = _selection_list(selection, "project")
    group = (str(selection.get("group") or "")).strip()
    if not projects and not group:
        current = (query.env.get("CI_PROJECT_ID") or "").strip()
        if not current:
            raise AdapterError(
                "backfill gitlab needs --project ID|PATH (repeatable) or --group PATH", docs=DOCS
            )
        projects = [current]
    token = find_token(query.env)
    if token is None:
        raise AdapterError(
            f"backfill gitlab needs a GitLab token: set {' or '.join(API_TOKEN_VARIABLES)} to a "
            "personal, project or group access token with the read_api scope",
            docs=DOCS,
        )
    url = server_url(query.env, options, query.server)
    run = _Run(
        connect(url, token, query.env, options, query.timeout),
        url,
        token,
        query,
        options,
        Cursor.parse(query.resume_from),
    )
    if run.resume is not None and run.resume.source != source:
        run.resume = None
    waiting_for_project = run.resume.project if run.resume else None
    for project_id, path in _projects(run, projects, group):
        if waiting_for_project is not None and str(project_id) != waiting_for_project:
            continue  # finished in an earlier run
        waiting_for_project = None
        if source == "deployments":
            yield from _deployments(run, project_id, path)
        else:
            yield from _pipelines(run, project_id, path)
        run.resume = None


def _projects(run: _Run, projects: list[str], group: str) -> Iterator[tuple[Any, str | None]]:
    """``(id, path)`` of each selected project; a group is expanded lazily (with subgroups)."""
    for ref in projects:
        what = f"reading project {ref}"
        try:
            with api_errors(what, run.url, run.token), routed_warnings(run.query.log):
                data = run.gl.projects.get(
                    ref, timeout=run.query.timeout, **HISTORY_CALL_OPTIONS
                ).attributes
            yield data["id"], data.get("path_with_namespace")
        except AdapterError:
            if not run.token.is_job_token:
                raise
            # the job token may list deployments of its project but not read the project itself
            yield ref, None if ref.isdigit() else ref
    if group:
        yield from _group_projects(run, group)


#: GitLab's answers to a pagination it does not offer on an endpoint (older versions).
_NO_KEYSET = frozenset({400, 405, 501})


def _group_projects(run: _Run, group: str) -> Iterator[tuple[Any, str | None]]:
    """The group's projects (subgroups included), keyset-paginated by id when GitLab offers it.

    Offset pagination of projects is capped (GitLab refuses offsets past 50,000 projects, and
    leaves out the totals past 10,000); keyset pagination (``pagination=keyset``, ``order_by=id``)
    has no such limit. A GitLab that does not offer it for this endpoint answers 400/405/501 on
    the first page: the listing then uses offset pages.
    """
    import gitlab.exceptions

    what = f"listing the projects of group {group}"
    params: dict[str, Any] = {
        "include_subgroups": True,
        "with_shared": False,  # GitLab's default (true) adds other groups' shared projects
        "order_by": "id",
        "sort": "asc",
    }
    manager = run.gl.groups.get(group, lazy=True).projects
    keyset = True
    with api_errors(what, run.url, run.token):
        try:
            with routed_warnings(run.query.log):
                items = manager.list(
                    iterator=True,
                    pagination="keyset",
                    timeout=run.query.timeout,
                    **params,
                    **HISTORY_CALL_OPTIONS,
                )
        except gitlab.exceptions.GitlabListError as exc:
            if exc.response_code not in _NO_KEYSET:
                raise
            run.query.log.info(
                "GitLab does not offer keyset pagination for %s (HTTP %s): using offset pages",
                what,
                exc.response_code,
            )
            keyset = False
        if not keyset:
            with routed_warnings(run.query.log):
                items = manager.list(
                    iterator=True, timeout=run.query.timeout, **params, **HISTORY_CALL_OPTIONS
                )
        for item in quiet_iter(items, run.query.log):
            yield item.attributes["id"], item.attributes.get("path_with_namespace")


def _window(run: _Run, project_id: Any) -> tuple[str, Cursor | None]:
    """Return the ``updated_after`` to ask for, and the cursor to skip past within this project."""
    since = run.query.since
    resume = run.resume if run.resume and run.resume.project == str(project_id) else None
    if resume is not None:
        since = max(since, resume.updated_s - 1)
    return _iso(since), resume


def _in_window(run: _Run, start: int | None) -> bool:
    if start is None or start < run.query.since:
        return False
    return run.query.until is None or start < run.query.until


def _past_window(run: _Run, updated_ms: int | None) -> bool:
    return (
        run.query.until is not None
        and updated_ms is not None
        and updated_ms > (run.query.until + GRACE) * 1000
    )


def _wanted(run: _Run, status: str) -> bool:
    if status in _FINISHED:
        return True
    return status in _ON_HOLD and run.query.include_on_hold


def _deployments(run: _Run, project_id: Any, path: str | None) -> Iterator[Draft]:
    updated_after, resume = _window(run, project_id)
    params: dict[str, Any] = {
        "order_by": "updated_at",
        "sort": "asc",
        "updated_after": updated_after,
    }
    environment = (str(run.query.selection.get("environment") or "")).strip()
    if environment:
        params["environment"] = environment
    what = f"listing deployments of project {path or project_id}"
    with api_errors(what, run.url, run.token):
        with routed_warnings(run.query.log):
            listing = run.gl.projects.get(project_id, lazy=True).deployments.list(
                iterator=True, timeout=run.query.timeout, **params, **HISTORY_CALL_OPTIONS
            )
        for item in quiet_iter(listing, run.query.log):
            deployment = item.attributes
            updated = epoch_ms(deployment.get("updated_at"))
            if _past_window(run, updated):
                return
            if (
                resume is not None
                and updated is not None
                and resume.passed(updated, deployment["id"])
            ):
                continue
            deployment = _with_tier(run, project_id, deployment)
            draft = deployment_draft(
                deployment, project_id=project_id, project_path=path, options=run.options
            )
            if not _in_window(run, epoch(draft.job_start_time)):
                continue
            status = deployment_status(deployment)
            here = Cursor("deployments", str(project_id), updated or 0, deployment["id"])
            draft.cursor = run.cursor(here, status)
            if _wanted(run, status):
                yield draft


def _with_tier(run: _Run, project_id: Any, deployment: dict[str, Any]) -> dict[str, Any]:
    """The deployment with its environment's ``tier``, read once per environment.

    A deployment carries its environment as ``EnvironmentBasic`` (id, name, slug, external_url,
    times: ``lib/api/entities/environment_basic.rb``), without the tier; ``GET
    /projects/:id/environments/:environment_id`` has it. A failure (the token may not read
    environments) only leaves the tier out.
    """
    environment = deployment.get("environment") or {}
    env_id = environment.get("id")
    if environment.get("tier") or not isinstance(env_id, int):
        return deployment
    key = (str(project_id), env_id)
    if key not in run.tiers:
        import gitlab.exceptions
        import requests.exceptions

        try:
            with routed_warnings(run.query.log):
                data = (
                    run.gl.projects.get(project_id, lazy=True)
                    .environments.get(env_id, timeout=run.query.timeout, **HISTORY_CALL_OPTIONS)
                    .attributes
                )
            run.tiers[key] = data.get("tier") or None
        except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
            run.query.log.info(
                "environment %s of project %s unreadable (%s): its tier is left out",
                env_id,
                project_id,
                type(exc).__name__,
            )
            run.tiers[key] = None
    tier = run.tiers[key]
    if not tier:
        return deployment
    return {**deployment, "environment": {**environment, "tier": tier}}


def _pipelines(run: _Run, project_id: Any, path: str | None) -> Iterator[Draft]:
    updated_after, resume = _window(run, project_id)
    selection = run.query.selection
    params: dict[str, Any] = {
        "order_by": "updated_at",
        "sort": "asc",
        "updated_after": updated_after,
    }
    for key, param in (("ref", "ref"), ("pipeline_source", "source")):
        value = (str(selection.get(key) or "")).strip()
        if value:
            params[param] = value
    statuses = {s.lower() for s in _selection_list(selection, "pipeline_status")}
    if len(statuses) == 1:
        params["status"] = next(iter(statuses))
    what = f"listing pipelines of project {path or project_id}"
    with api_errors(what, run.url, run.token):
        project = run.gl.projects.get(project_id, lazy=True)
        with routed_warnings(run.query.log):
            listing = project.pipelines.list(
                iterator=True, timeout=run.query.timeout, **params, **HISTORY_CALL_OPTIONS
            )
        for item in quiet_iter(listing, run.query.log):
            summary = item.attributes
            updated = epoch_ms(summary.get("updated_at"))
            if _past_window(run, updated):
                return
            if resume is not None and updated is not None and resume.passed(updated, summary["id"]):
                continue
            if not _in_window(run, epoch(summary.get("created_at"))):
                continue
            status = str(summary.get("status") or "").lower()
            # before the status filter: a running pipeline may finish with a wanted status
            cursor = run.cursor(
                Cursor("pipelines", str(project_id), updated or 0, summary["id"]), status
            )
            if statuses and status not in statuses:
                continue
            if not _wanted(run, status):
                continue
            with routed_warnings(run.query.log):
                detail = project.pipelines.get(
                    summary["id"], timeout=run.query.timeout, **HISTORY_CALL_OPTIONS
                )
            draft = _pipeline_draft(dict(detail.attributes), project_id, path, run.options)
            draft.cursor = cursor
            yield draft


def pipeline_duration(pipeline: Mapping[str, Any], start: Any) -> float:
    """Seconds a pipeline ran: ``finished_at - start`` when it has an end, else its ``duration``.

    A pipeline waiting for a person (``manual``, ``scheduled``) has no ``finished_at``; its
    ``duration`` (seconds its jobs ran so far) is the time it ran before the wait, and 0 when
    GitLab gives none.
    """
    first, last = epoch_ms(start), epoch_ms(pipeline.get("finished_at"))
    if first is not None and last is not None:
        return max(last - first, 0) / 1000
    duration = pipeline.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration >= 0:
        return float(duration)
    return 0.0


def _pipeline_draft(
    pipeline: Mapping[str, Any], project_id: Any, path: str | None, options: GitLabOptions
) -> Draft:
    draft = Draft(adapter="gitlab")
    start_text = pipeline.get("started_at") or pipeline.get("created_at")
    duration = pipeline_duration(pipeline, start_text)
    if str(pipeline.get("status") or "").lower() in _ON_HOLD:
        draft.notes.append(
            f"pipeline {pipeline.get('id')} waits for a person: the duration is what ran before "
            f"the wait ({duration:g} s), not now - start"
        )
    draft.fill(
        job_id=str(pipeline.get("id")),
        commit_sha=pipeline.get("sha"),
        job_start_time=start_text,
        job_duration=duration,
        status=pipeline.get("status"),
        repo_id=str(project_id),
        repo_name=path,
        triggered_by=(pipeline.get("user") or {}).get("username"),
        job_type=options.job_type,
    )
    add_common_optionals(
        draft,
        pipeline_id=pipeline.get("id"),
        pipeline_url=pipeline.get("web_url"),
        ref=pipeline.get("ref"),
        pipeline_source=pipeline.get("source"),
    )
    draft.set_fact("ci", CI_SYSTEM)
    draft.set_fact("branch", pipeline.get("ref"))
    draft.set_fact("repo", path)
    draft.set_fact("pipeline", pipeline.get("name") or pipeline.get("id"))
    return draft
