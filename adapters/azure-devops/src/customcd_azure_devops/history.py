"""History for ``customcd backfill azure-devops``: builds in a window, or environment deployments.

* Builds (default): ``GET {project}/_apis/build/builds`` with ``minTime``/``maxTime`` on the start
  time (``queryOrder=startTimeAscending``), optionally by ``--definition`` ids and
  ``--repository``; pages follow the ``x-ms-continuationtoken`` response header, one page at a
  time as the backfill consumes items. Cursor ``build:<start epoch>:<build id>``.
* Environment deployments (``--environment NAME``): ``environmentdeploymentrecords``, each joined
  to its run for the commit and to the run's timeline for the deployment job's start (as step
  mode reads it), one record per deployment job. The API documents no order and no time filter,
  so every page is read (no early stop on an assumed order), the records of the window are kept
  (a few fields each) and sent by ascending record id. Cursor
  ``deployment:<environment id>:upto:<id>``: every record of the window up to that id is done
  (see :class:`DeploymentCursor`).
* Classic releases (``--releases``, ``--release-definition ID``): ``release/deployments`` on the
  Release service host (:mod:`.releases`).

Unfinished runs are skipped; a run parked on an approval (a pending ``Checkpoint.Approval`` in its
timeline) is yielded as ``On Hold`` when the query asks for it. The first item that is not final
freezes the cursor just before it: it and every later draft of the run carry that cursor, so a
resumed or later backfill reads it again once it has finished (the ledger drops what was sent).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd.plugins.draft import Draft

from .envvars import first
from .query import as_list, iso_utc
from .records import draft_from_build, draft_from_deployment
from .rest import DOCS, collection_url, credentials_from_env

__all__ = ["DeploymentCursor", "iter_history"]

_DAY = 86400
#: Timelines kept for the next records (those of one run come together by id).
_TIMELINES_KEPT = 8


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
    releases = bool(selection.get("releases")) or bool(as_list(selection.get("release_definition")))
    if releases:
        from .releases import iter_release_deployments

        yield from iter_release_deployments(
            query, str(project), collection, credentials, retry, page_size
        )
        return
    with AzureDevOpsClient(
        collection, credentials, timeout=query.timeout, log=query.log, retry=retry
    ) as client:
        environments = [str(e) for e in as_list(selection.get("environment"))]
        if environments:
            state = _Frozen()
            for name in environments:
                yield from _deployments(client, str(project), name, query, page_size, state)
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
    definitions: Sequence[int] = [int(d) for d in as_list(selection.get("definition"))]
    repository = selection.get("repository")
    repository_type = selection.get("repository_type") or "TfsGit"
    repository_id = None
    if repository:
        repository_id = (
            api.resolve_repository(client, project, str(repository))
            if repository_type == "TfsGit"
            else str(repository)
        )
    # the cursor just before the first run not final yet; once set, every later draft carries it
    frozen: str | None = None
    pages = api.list_builds(
        client,
        project,
        min_time=iso_utc(since),
        max_time=iso_utc(query.until) if query.until is not None else None,
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
                if frozen is None:
                    # no build has id 0: a resume starts at this start time and passes nothing
                    frozen = f"build:{start_epoch}:0"
                    query.log.info(
                        "build %s is %s: the checkpoint stays before it, so a later backfill "
                        "reads it again once it has finished",
                        build.get("id"),
                        build.get("status"),
                    )
                draft = _unfinished(client, project, build, query)
                if draft is not None:
                    draft.cursor = frozen
                    yield draft
                continue
            draft = draft_from_build(build)
            draft.cursor = frozen or f"build:{key[0]}:{key[1]}"
            yield draft


def _unfinished(
    client: Any, project: str, build: dict[str, Any], query: HistoryQuery
) -> Draft | None:
    """Return an On Hold draft for a run waiting on an approval (when asked for), else None."""
    from . import api

    if not query.include_on_hold:
        query.log.debug("build %s is %s: skipped", build.get("id"), build.get("status"))
        return None
    records = api.get_timeline(client, project, build["id"], api.timeline_id_of(build))
    approvals = api.pending_approvals(records)
    if not approvals:
        query.log.debug("build %s is still running: skipped", build.get("id"))
        return None
    return draft_from_build(
        build,
        on_hold_stage=approvals[0].get("stageName") or "",
        waiting_since=approvals[0].get("startTime"),
    )


@dataclass(frozen=True)
class DeploymentCursor:
    """Which deployment records of one environment are done: every record up to ``done``.

    Records are sent by ascending id (:func:`_deployments`), so one id says it all:
    ``deployment:<environment id>:upto:<id>``. The cursors of earlier versions, written when
    records were read newest first (``deployment:<environment id>:<high>:<low>`` and
    ``deployment:<environment id>:<id>``), say that some records *above* an id are done, not all
    below it: they read as no cursor, so that environment is read again in full and the ledger
    drops what was sent (nothing is skipped that was not).
    """

    environment_id: int
    done: int

    def __str__(self) -> str:
        return f"deployment:{self.environment_id}:upto:{self.done}"

    @classmethod
    def parse(cls, text: str | None, environment_id: int) -> DeploymentCursor | None:
        """The cursor in ``text`` if it is one of this environment's, else ``None``."""
        parts = _parse_cursor(text, "deployment")
        if not parts or len(parts) != 3 or parts[0] != str(environment_id):
            return None
        if parts[1] != "upto" or not parts[2].lstrip("-").isdigit():
            return None
        return cls(environment_id, int(parts[2]))

    def passed(self, record_id: int) -> bool:
        """Whether the record was done by an earlier run."""
        return record_id <= self.done


#: The fields of an environment deployment record the drafts need (the rest is dropped while
#: the window's records are collected, so memory stays small for years of history).
_RECORD_FIELDS = (
    "id",
    "owner",
    "definition",
    "stageName",
    "jobName",
    "jobAttempt",
    "stageAttempt",
    "planId",
    "result",
    "queueTime",
    "startTime",
    "finishTime",
)


def _deployments(
    client: Any, project: str, name: str, query: HistoryQuery, page_size: int, state: _Frozen
) -> Iterator[Draft]:
    from . import api

    environment_id = api.resolve_environment(client, project, name)
    saved = DeploymentCursor.parse(query.resume_from, environment_id)
    window: list[dict[str, Any]] = []
    for records, _token in api.list_environment_records(
        client, project, environment_id, page_size=page_size
    ):
        for record in records:
            record_id = int(record.get("id", 0))
            if saved is not None and saved.passed(record_id):
                continue
            start = record.get("startTime") or record.get("queueTime")
            if not _may_be_in_window(start, query):
                continue
            window.append({key: record[key] for key in _RECORD_FIELDS if key in record})
    window.sort(key=lambda record: int(record.get("id", 0)))
    builds: dict[Any, dict[str, Any] | None] = {}
    timelines: dict[Any, list[dict[str, Any]]] = {}
    for record in window:
        record_id = int(record.get("id", 0))
        here = str(DeploymentCursor(environment_id, record_id))
        if not record.get("finishTime") or not record.get("result"):
            why = f"deployment record {record_id} of environment {name} is not finished"
            state.freeze(str(DeploymentCursor(environment_id, record_id - 1)), why, query)
            continue
        if not record.get("startTime"):
            continue  # finished without starting (skipped, cancelled before it ran)
        build = _owner_build(client, project, record, builds, query)
        if build is None:
            continue
        job = _deployment_job(client, project, record, timelines)
        draft = draft_from_deployment(record, name, build, job)
        draft.cursor = state.cursor(here)
        yield draft


def _may_be_in_window(start: Any, query: HistoryQuery) -> bool:
    """Whether an item starting at ``start`` (``None``: not started yet) belongs to the window."""
    if not start:
        return True
    epoch = to_epoch(start)
    return epoch >= query.since and (query.until is None or epoch <= query.until)


@dataclass
class _Frozen:
    """The cursor just before the first item not final yet, shared by a run's environments."""

    frozen: bool = False
    value: str | None = None

    def freeze(self, cursor: str | None, why: str, query: HistoryQuery) -> None:
        """Keep ``cursor`` for every later draft (only the first call counts)."""
        if not self.frozen:
            self.frozen, self.value = True, cursor
            query.log.info(
                "%s: the checkpoint stays before it, so a later backfill reads it again", why
            )

    def cursor(self, here: str | None) -> str | None:
        """The cursor a draft at ``here`` carries."""
        return self.value if self.frozen else here


def _deployment_job(
    client: Any, project: str, record: dict[str, Any], cache: dict[Any, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    """The run's timeline record of the record's deployment job (timelines cached per run)."""
    from . import api

    owner_id = (record.get("owner") or {}).get("id")
    stage, job = record.get("stageName"), record.get("jobName")
    if owner_id is None or not stage or not job:
        return None
    if owner_id not in cache:
        if len(cache) >= _TIMELINES_KEPT:  # memory stays flat: a run's records come close together
            cache.pop(next(iter(cache)))
        try:
            cache[owner_id] = api.get_timeline(client, project, owner_id, record.get("planId"))
        except AdapterError as exc:
            if "(404)" not in str(exc):
                raise
            cache[owner_id] = []
    attempt = record.get("jobAttempt")
    return api.deployment_job(
        cache[owner_id], str(stage), str(job), attempt if isinstance(attempt, int) else None
    )


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
