"""History of classic releases: ``customcd backfill azure-devops --releases``.

A team on classic release pipelines deploys through *releases*: each deployment of a release to one
of its environments (stages) is a ``Deployment`` of the Release API. They are read with
``GET {project}/_apis/release/deployments`` on the Release service host
(``vsrm.dev.azure.com/<org>`` on Azure DevOps Services), filtered by ``minStartedTime`` /
``maxStartedTime`` (the window) and, with ``--release-definition``, by ``definitionId``; the
next page's ``continuationToken`` comes back in the ``x-ms-continuationtoken`` response header.

Each deployment becomes the record step mode makes for that deployment, so a deployment reported by
its own pipeline and imported later is one record (the ledger drops the second):

* ``job_id`` ``release-<release id>-deployment-<deployment id>``;
* the start: the deployment attempt's first started phase (``releaseDeployPhases[].startedOn``),
  read from the release (``GET release/releases/{id}``, once per release), as step mode reads it;
  else the deployment's ``startedOn``;
* the end: ``completedOn`` (else ``lastModifiedOn``), so the duration is ``end - start``;
* the status: ``deploymentStatus`` (``succeeded``, ``partiallySucceeded``, ``failed``), or for a
  deployment that did not deploy its ``operationStatus`` (``rejected`` makes no record,
  ``canceled``/``phaseCanceled``/``phaseFailed``/``gateFailed`` are ``Failed``); one waiting for an
  approval or a manual intervention is ``On Hold`` with ``--include-on-hold`` and lasts what it ran
  before the wait; one still running is read again by a later run;
* ``triggered_by``: the deployment's ``requestedFor`` (the release's requester), as
  ``Release.Deployment.RequestedForEmail`` gives it in step mode;
* the commit and repository: from the release's primary artifact. A ``Build`` artifact's
  ``definitionReference`` carries the build id (``version``) and, depending on the server, the
  commit (``sourceVersion``) and repository (``repository``, ``repository.provider``); without
  them the build itself is read (``sourceVersion``, ``repository``). A ``Git``/``GitHub``
  artifact's version is the commit itself.

The API documents no order of the deployments it returns, so the whole window is listed (a few
fields of each kept), then sent by ascending deployment id: the cursor ``release:<id>`` says every
deployment of the window up to that id is done.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from customcd.contract.times import to_epoch
from customcd.plugins.adapter import AdapterError, HistoryQuery
from customcd.plugins.draft import Draft

from .query import as_list, iso_utc
from .records import NAME, seconds_between
from .rest import RELEASE_RELEASES_API_VERSION, Credentials, RetryPolicy, segment

__all__ = [
    "ReleaseCursor",
    "ReleaseSource",
    "deployment_status",
    "draft_from_release_deployment",
    "is_final",
    "iter_release_deployments",
]

#: Releases kept in memory at once (the deployments of one release come close together by id).
_RELEASES_KEPT = 16
#: Builds (artifacts) kept in memory at once.
_BUILDS_KEPT = 64
_SHA = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
#: ``operationStatus`` of a deployment waiting for a person.
_WAITING = frozenset({"pending", "manualinterventionpending"})
#: ``operationStatus`` of a deployment that ended without deploying (the native status then).
_ENDED = frozenset({"rejected", "canceled", "phasecanceled", "phasefailed", "gatefailed"})
#: The fields of a deployment the drafts need; the rest is dropped while the window is listed.
_FIELDS = (
    "id",
    "release",
    "releaseDefinition",
    "releaseEnvironment",
    "attempt",
    "reason",
    "deploymentStatus",
    "operationStatus",
    "requestedBy",
    "requestedFor",
    "queuedOn",
    "startedOn",
    "completedOn",
    "lastModifiedOn",
)


@dataclass(frozen=True)
class ReleaseCursor:
    """Every release deployment of the window with an id up to ``done`` is done."""

    done: int

    def __str__(self) -> str:
        return f"release:{self.done}"

    @classmethod
    def parse(cls, text: str | None) -> ReleaseCursor | None:
        """The cursor in ``text`` if it is a release cursor, else ``None``."""
        if not text or not text.startswith("release:"):
            return None
        value = text.split(":", 1)[1]
        return cls(int(value)) if value.isdigit() else None


def deployment_status(deployment: Mapping[str, Any]) -> str:
    """The native status of a release deployment (see the module's docstring)."""
    status = str(deployment.get("deploymentStatus") or "")
    operation = str(deployment.get("operationStatus") or "")
    if operation.lower() in _WAITING and status.lower() in {"inprogress", "notdeployed"}:
        from .statuses import WAITING_FOR_APPROVAL

        return WAITING_FOR_APPROVAL
    if status.lower() == "notdeployed" and operation:
        return operation
    return status


def is_final(deployment: Mapping[str, Any]) -> bool:
    """Whether the deployment has ended (deployed, failed, or ended without deploying)."""
    status = str(deployment.get("deploymentStatus") or "").lower()
    operation = str(deployment.get("operationStatus") or "").lower()
    if status in {"succeeded", "partiallysucceeded", "failed"}:
        return True
    return status == "notdeployed" and operation in _ENDED


def _identity(value: Any) -> str | None:
    """A person's e-mail-like ``uniqueName`` (a service identity's GUID name is left out)."""
    if not isinstance(value, Mapping):
        return None
    unique = str(value.get("uniqueName") or "")
    if unique and not re.match(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-", unique):
        return unique
    display = str(value.get("displayName") or "")
    if display and not display.startswith("Microsoft.VisualStudio.Services."):
        return display
    return None


def _primary_artifact(artifacts: Any) -> Mapping[str, Any] | None:
    found = [a for a in artifacts or [] if isinstance(a, Mapping)]
    for artifact in found:
        if artifact.get("isPrimary"):
            return artifact
    return found[0] if found else None


def _ref(reference: Mapping[str, Any], key: str) -> str | None:
    """``definitionReference[key].id`` (each entry is ``{"id": ..., "name": ...}``)."""
    value = reference.get(key)
    if isinstance(value, Mapping):
        text = str(value.get("id") or value.get("name") or "").strip()
        return text or None
    return None


@dataclass
class ReleaseSource:
    """The commit and repository a release deployed, from its primary artifact.

    :param commit: the commit SHA, when the artifact (or its build) names one.
    :param repo_id: the repository id.
    :param repo_name: the repository name.
    :param branch: the branch the artifact was built from.
    :param note: how they were found, or why not (shown with ``-v``).
    """

    commit: str | None = None
    repo_id: str | None = None
    repo_name: str | None = None
    branch: str | None = None
    note: str | None = None


def _web_url(value: Any) -> str | None:
    if isinstance(value, Mapping):
        web = (value.get("_links") or {}).get("web") or {}
        if isinstance(web, Mapping) and web.get("href"):
            return str(web["href"])
        if value.get("webAccessUri"):
            return str(value["webAccessUri"])
    return None


def draft_from_release_deployment(
    deployment: Mapping[str, Any],
    *,
    start: Any,
    source: ReleaseSource,
    waiting_since: Any = None,
) -> Draft:
    """The draft of one release deployment (its start and source already found).

    :param start: when it started (the attempt's first phase, else ``startedOn``).
    :param source: the commit and repository of the release's primary artifact.
    :param waiting_since: for a deployment waiting for a person, when the wait began.
    """
    release = deployment.get("release") or {}
    definition = deployment.get("releaseDefinition") or {}
    environment = deployment.get("releaseEnvironment") or {}
    draft = Draft(adapter=NAME)
    draft.job_id = f"release-{release.get('id')}-deployment-{deployment.get('id')}"
    draft.status = deployment_status(deployment)
    draft.job_start_time = start
    from .statuses import WAITING_FOR_APPROVAL

    if draft.status == WAITING_FOR_APPROVAL:
        draft.job_duration = seconds_between(start, waiting_since) or 0
        draft.notes.append(
            f"release deployment {deployment.get('id')} waits for "
            f"{'a manual intervention' if waiting_since else 'an approval'}: the duration is what "
            f"ran before the wait ({draft.job_duration} s), not now - start"
        )
    else:
        from .api import real_time

        end = real_time(deployment.get("completedOn")) or real_time(
            deployment.get("lastModifiedOn")
        )
        draft.job_duration = seconds_between(start, end)
    draft.commit_sha = source.commit
    draft.repo_id = source.repo_id
    draft.repo_name = source.repo_name
    draft.triggered_by = _identity(deployment.get("requestedFor")) or _identity(
        deployment.get("requestedBy")
    )
    if source.note:
        draft.notes.append(source.note)
    draft.add_optional("pipeline", definition.get("name"))
    draft.add_optional("environment", environment.get("name"))
    draft.add_optional("release_name", release.get("name"))
    draft.add_optional("url", _web_url(release))
    draft.add_optional("reason", deployment.get("reason"))
    draft.add_optional("ci", "Azure DevOps")
    draft.set_fact("ci", NAME)
    draft.set_fact("pipeline", definition.get("name"))
    draft.set_fact("environment", environment.get("name"))
    draft.set_fact("stage", environment.get("name"))
    branch = source.branch or ""
    draft.set_fact("branch", branch.removeprefix("refs/heads/") if branch else None)
    draft.set_fact("repo", draft.repo_name)
    return draft


class _Reader:
    """Reads releases (Release host) and builds (collection host), each once, kept a while."""

    def __init__(
        self,
        query: HistoryQuery,
        project: str,
        collection: str,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> None:
        from .rest import AzureDevOpsClient, release_url

        self.query = query
        self.project = project
        self.release_client = AzureDevOpsClient(
            release_url(collection), credentials, timeout=query.timeout, log=query.log, retry=retry
        )
        self.build_client = AzureDevOpsClient(
            collection, credentials, timeout=query.timeout, log=query.log, retry=retry
        )
        self.releases: OrderedDict[Any, dict[str, Any] | None] = OrderedDict()
        self.builds: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()

    def close(self) -> None:
        self.release_client.close()
        self.build_client.close()

    def release(self, release_id: Any) -> dict[str, Any] | None:
        """``GET release/releases/{id}`` (environments with their deploy steps, artifacts)."""
        if release_id in self.releases:
            self.releases.move_to_end(release_id)
            return self.releases[release_id]
        try:
            data, _ = self.release_client.get(
                f"{segment(self.project)}/_apis/release/releases/{segment(release_id)}",
                {"api-version": RELEASE_RELEASES_API_VERSION},
            )
        except AdapterError as exc:
            if "(404)" not in str(exc):
                raise
            self.query.log.warning("release %s no longer exists (retention)", release_id)
            data = None
        self.releases[release_id] = data if isinstance(data, dict) else None
        if len(self.releases) > _RELEASES_KEPT:
            self.releases.popitem(last=False)
        return self.releases[release_id]

    def build(self, project: str, build_id: str) -> dict[str, Any] | None:
        """``GET build/builds/{id}`` of an artifact's build (its commit and repository)."""
        key = (project, build_id)
        if key in self.builds:
            return self.builds[key]
        from . import api

        try:
            data: dict[str, Any] | None = api.get_build(self.build_client, project, build_id)
        except AdapterError as exc:
            if "(404)" not in str(exc):
                raise
            self.query.log.warning("build %s behind a release artifact no longer exists", build_id)
            data = None
        self.builds[key] = data
        if len(self.builds) > _BUILDS_KEPT:
            self.builds.popitem(last=False)
        return data

    def source(self, artifacts: Any) -> ReleaseSource:
        """The commit and repository of the primary artifact (reading its build if needed)."""
        artifact = _primary_artifact(artifacts)
        if artifact is None:
            return ReleaseSource(note="the release has no artifact: no commit to report")
        reference = artifact.get("definitionReference") or {}
        kind = str(artifact.get("type") or "")
        version = _ref(reference, "version")
        source = ReleaseSource(
            commit=_ref(reference, "sourceVersion"),
            repo_id=_ref(reference, "repository"),
            repo_name=(reference.get("repository") or {}).get("name") or None,
            branch=_ref(reference, "branch"),
        )
        if kind in {"Git", "GitHub", "Bitbucket"} and not source.commit:
            if version and _SHA.match(version):
                source.commit = version
            definition = reference.get("definition") or {}
            source.repo_name = source.repo_name or definition.get("name") or None
            source.repo_id = source.repo_id or definition.get("id") or None
        if kind == "Build" and (not source.commit or not (source.repo_id or source.repo_name)):
            project = _ref(reference, "project") or self.project
            if version and version.isdigit():
                build = self.build(project, version) or {}
                source.commit = source.commit or build.get("sourceVersion")
                repository = build.get("repository") or {}
                source.repo_id = source.repo_id or repository.get("id")
                source.repo_name = source.repo_name or repository.get("name")
                source.branch = source.branch or build.get("sourceBranch")
                source.note = f"commit and repository from build {version} of artifact {artifact.get('alias')}"
        if not source.commit:
            source.note = (
                f"artifact {artifact.get('alias')} ({kind or 'unknown type'}) names no commit"
            )
        return source


def _window(query: HistoryQuery, start: Any) -> bool:
    if not start:
        return True
    epoch = to_epoch(start)
    return epoch >= query.since and (query.until is None or epoch <= query.until)


def iter_release_deployments(
    query: HistoryQuery,
    project: str,
    collection: str,
    credentials: Credentials,
    retry: RetryPolicy,
    page_size: int,
) -> Iterator[Draft]:
    """Yield the release deployments of the window, by ascending id (see the module)."""
    from . import api

    definitions = [int(d) for d in as_list(query.selection.get("release_definition"))]
    saved = ReleaseCursor.parse(query.resume_from)
    reader = _Reader(query, project, collection, credentials, retry)
    try:
        window: dict[int, dict[str, Any]] = {}
        for definition in definitions or [None]:
            pages = api.list_release_deployments(
                reader.release_client,
                project,
                min_started=iso_utc(query.since),
                max_started=iso_utc(query.until) if query.until is not None else None,
                definition_id=definition,
                page_size=page_size,
            )
            for deployments, _token in pages:
                for deployment in deployments:
                    deployment_id = int(deployment.get("id") or 0)
                    if saved is not None and deployment_id <= saved.done:
                        continue
                    if not _window(query, api.real_time(deployment.get("startedOn"))):
                        continue
                    window[deployment_id] = {k: deployment[k] for k in _FIELDS if k in deployment}
        frozen: str | None = None
        for deployment_id in sorted(window):
            deployment = window[deployment_id]
            status = deployment_status(deployment)
            from .statuses import WAITING_FOR_APPROVAL

            waiting = status == WAITING_FOR_APPROVAL
            if not is_final(deployment) and frozen is None:
                frozen = str(ReleaseCursor(deployment_id - 1))
                query.log.info(
                    "release deployment %s is %s/%s: the checkpoint stays before it, so a later "
                    "backfill reads it again once it has finished",
                    deployment_id,
                    deployment.get("deploymentStatus"),
                    deployment.get("operationStatus"),
                )
            if not is_final(deployment) and not (waiting and query.include_on_hold):
                continue
            draft = _draft(reader, deployment)
            if draft is None:
                continue
            draft.cursor = frozen or str(ReleaseCursor(deployment_id))
            yield draft
    finally:
        reader.close()


def _draft(reader: _Reader, deployment: Mapping[str, Any]) -> Draft | None:
    """Read the deployment's release (start, artifacts) and make its draft."""
    from . import api

    release_ref = deployment.get("release") or {}
    release = reader.release(release_ref.get("id")) or {}
    environment_id = (deployment.get("releaseEnvironment") or {}).get("id")
    environment = next(
        (
            e
            for e in release.get("environments") or []
            if isinstance(e, dict) and e.get("id") == environment_id
        ),
        None,
    )
    start = None
    waiting_since = None
    if environment is not None:
        start = api.deployment_start(
            environment,
            deployment_id=str(deployment.get("id")),
            attempt=str(deployment.get("attempt") or ""),
        )
        waiting_since = _intervention_since(environment, deployment)
    start = start or api.real_time(deployment.get("startedOn"))
    if not start:
        reader.query.log.info("release deployment %s never started: skipped", deployment.get("id"))
        return None
    artifacts = release.get("artifacts") or release_ref.get("artifacts")
    return draft_from_release_deployment(
        deployment,
        start=start,
        source=reader.source(artifacts),
        waiting_since=waiting_since,
    )


def _intervention_since(environment: Mapping[str, Any], deployment: Mapping[str, Any]) -> Any:
    """When a pending manual intervention of this deployment attempt began, or ``None``."""
    steps = [
        s
        for s in environment.get("deploySteps") or []
        if isinstance(s, dict) and str(s.get("deploymentId")) == str(deployment.get("id"))
    ]
    times = [
        intervention.get("createdOn")
        for step in steps
        for phase in step.get("releaseDeployPhases") or []
        if isinstance(phase, dict)
        for intervention in phase.get("manualInterventions") or []
        if isinstance(intervention, dict)
        and str(intervention.get("status") or "").lower() == "pending"
        and intervention.get("createdOn")
    ]
    return min(times, key=to_epoch) if times else None
