"""History for ``customcd backfill azure-devops``: builds in a window, or environment deployments.

* Builds (default): ``GET {project}/_apis/build/builds`` with ``minTime``/``maxTime`` on the start
  time (``queryOrder=startTimeAscending``), optionally by ``--definition`` ids and
  ``--repository``; pages follow the ``x-ms-continuationtoken`` response header, one page at a
  time as the backfill consumes items. Cursor ``build:<start epoch>:<build id>``.
* Environment deployments (``--environment NAME``): ``environmentdeploymentrecords`` (newest
  first), each joined to its run for the commit. Cursor ``deployment:<environment id>:<record id>``.

Unfinished runs are skipped; a run parked on an approval (a pending ``Checkpoint.Approval`` in its
timeline) is yielded as ``On Hold`` when the query asks for it. Such an item carries the cursor of
the item before it, so a resumed backfill looks at it again once it has finished.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from customcd.adapter import AdapterError, HistoryQuery
from customcd.draft import Draft
from customcd.times import to_epoch

from .envvars import first
from .records import draft_from_build, draft_from_deployment
from .rest import DOCS, collection_url, credentials_from_env

__all__ = ["iter_history"]

_DAY = 86400


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value]


def iter_history(query: HistoryQuery) -> Iterator[Draft]:
    """Lazily yield drafts of finished builds (or deployments) in the query's window."""
    from .rest import AzureDevOpsClient, RetryPolicy

    selection = query.selection
    project = selection.get("project") or first(query.env, "SYSTEM_TEAMPROJECT")
    if not project:
        raise AdapterError("name the Azure DevOps project: --project NAME", docs=DOCS)
    collection = collection_url(query.env, query.server or query.options.get("collection_uri"))
    if collection is None:
        raise AdapterError(
            "name the Azure DevOps collection: --server https://dev.azure.com/ORG/ "
            "(or set SYSTEM_COLLECTIONURI)",
            docs=DOCS,
        )
    credentials = credentials_from_env(query.env)
    if credentials is None:
        raise AdapterError(
            "backfill needs a token: set AZURE_DEVOPS_PAT to a personal access token with "
            "Build (Read) (and Environment (Read) for --environment)",
            docs=DOCS,
        )
    page_size = int(query.options.get("page_size", 100))
    retry = RetryPolicy(
        retries=int(query.options.get("max_retries", 5)),
        max_wait=float(query.options.get("max_wait", 120)),
    )
    with AzureDevOpsClient(
        collection, credentials, timeout=query.timeout, log=query.log, retry=retry
    ) as client:
        environments = [str(e) for e in _as_list(selection.get("environment"))]
        if environments:
            for name in environments:
                yield from _deployments(client, str(project), name, query, page_size)
        else:
            yield from _builds(client, str(project), query, page_size)


def _parse_cursor(cursor: str | None, kind: str) -> list[str] | None:
    if not cursor:
        return None
    parts = cursor.split(":")
    if parts[0] != kind:
        return None
    return parts[1:]


def _builds(client: Any, project: str, query: HistoryQuery, page_size: int) -> Iterator[Draft]:
    from . import api

    selection = query.selection
    since = query.since
    after: tuple[int, int] | None = None
    resumed = _parse_cursor(query.resume_from, "build")
    if resumed and len(resumed) == 2 and all(p.isdigit() for p in resumed):
        after = (int(resumed[0]), int(resumed[1]))
        since = max(since, after[0])
    definitions: Sequence[int] = [int(d) for d in _as_list(selection.get("definition"))]
    repository = selection.get("repository")
    repository_type = selection.get("repository_type") or "TfsGit"
    repository_id = None
    if repository:
        repository_id = (
            api.resolve_repository(client, project, str(repository))
            if repository_type == "TfsGit"
            else str(repository)
        )
    last_cursor = query.resume_from
    pages = api.list_builds(
        client,
        project,
        min_time=_iso(since),
        max_time=_iso(query.until) if query.until is not None else None,
        definitions=definitions,
        repository_id=repository_id,
        repository_type=repository_type,
        page_size=page_size,
    )
    for builds, _token in pages:
        for build in builds:
            start = build.get("startTime")
            if not start:
                continue  # cancelled before it started: no start time, nothing to report
            start_epoch = to_epoch(start)
            key = (start_epoch, int(build.get("id", 0)))
            if after is not None and (start_epoch < after[0] or key == after):
                continue
            if query.until is not None and start_epoch > query.until:
                continue
            if str(build.get("status", "")).lower() != "completed":
                draft = _unfinished(client, project, build, query)
                if draft is not None:
                    draft.cursor = last_cursor
                    yield draft
                continue
            draft = draft_from_build(build)
            draft.cursor = last_cursor = f"build:{key[0]}:{key[1]}"
            yield draft


def _unfinished(
    client: Any, project: str, build: dict[str, Any], query: HistoryQuery
) -> Draft | None:
    """Return an On Hold draft for a run waiting on an approval (when asked for), else None."""
    from . import api

    if not query.include_on_hold:
        query.log.debug("build %s is %s: skipped", build.get("id"), build.get("status"))
        return None
    approvals = api.pending_approvals(api.get_timeline(client, project, build["id"]))
    if not approvals:
        query.log.debug("build %s is still running: skipped", build.get("id"))
        return None
    return draft_from_build(build, on_hold_stage=approvals[0].get("stageName") or "")


def _deployments(
    client: Any, project: str, name: str, query: HistoryQuery, page_size: int
) -> Iterator[Draft]:
    from . import api

    environment_id = api.resolve_environment(client, project, name)
    below: int | None = None
    resumed = _parse_cursor(query.resume_from, "deployment")
    if resumed and len(resumed) == 2 and resumed[0] == str(environment_id) and resumed[1].isdigit():
        below = int(resumed[1])
    builds: dict[Any, dict[str, Any] | None] = {}
    for records, _token in api.list_environment_records(
        client, project, environment_id, page_size=page_size
    ):
        for record in records:
            record_id = int(record.get("id", 0))
            if below is not None and record_id >= below:
                continue
            queued = record.get("queueTime") or record.get("startTime")
            if queued and to_epoch(queued) < query.since - _DAY:
                return  # newest first: everything after this is older than the window
            start = record.get("startTime")
            if not start or not record.get("finishTime") or not record.get("result"):
                continue  # not finished (or never started)
            start_epoch = to_epoch(start)
            if start_epoch < query.since or (query.until is not None and start_epoch > query.until):
                continue
            build = _owner_build(client, project, record, builds, query)
            if build is None:
                continue
            draft = draft_from_deployment(record, name, build)
            draft.cursor = f"deployment:{environment_id}:{record_id}"
            yield draft


def _owner_build(
    client: Any,
    project: str,
    record: dict[str, Any],
    cache: dict[Any, dict[str, Any] | None],
    query: HistoryQuery,
) -> dict[str, Any] | None:
    """Return the run behind a deployment record (cached), or None when it is gone."""
    from . import api

    owner_id = (record.get("owner") or {}).get("id")
    if owner_id is None:
        return None
    if owner_id not in cache:
        try:
            cache[owner_id] = api.get_build(client, project, owner_id)
        except AdapterError as exc:
            if "(404)" not in str(exc):
                raise
            query.log.warning(
                "deployment record %s: run %s no longer exists (retention): skipped",
                record.get("id"),
                owner_id,
            )
            cache[owner_id] = None
    return cache[owner_id]
