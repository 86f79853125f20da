"""Reading a build's JSON (``<BUILD_URL>api/json`` or ``api/python``): revisions and causes.

Pure functions over the dictionaries Jenkins returns, shared by API mode and history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from customcd.repourl import redact_url, repo_name_from_url

__all__ = [
    "Cause",
    "Revision",
    "branch_from_ref",
    "causes_of",
    "pick_revision",
    "remote_key",
    "revisions_of",
]


@dataclass(frozen=True)
class Revision:
    """One git checkout of a build (a ``hudson.plugins.git.util.BuildData`` action).

    :param sha: ``lastBuiltRevision.SHA1``.
    :param remotes: the checkout's remote URLs, credentials removed.
    :param branch: the first branch name of the revision (``origin/main``), if any.
    """

    sha: str
    remotes: tuple[str, ...]
    branch: str | None = None


@dataclass(frozen=True)
class Cause:
    """Why a build started (one entry of a ``CauseAction``'s ``causes``).

    :param kind: ``user``, ``upstream``, ``scm``, ``timer``, ``branch-indexing``, ``branch-event``,
        ``replay``, ``remote`` or ``other``.
    :param user_id: the Jenkins user id of a user cause.
    :param user_name: the user's display name.
    :param upstream: ``project#number`` of an upstream cause.
    :param upstream_url: the upstream build's URL path (relative to the Jenkins root).
    :param description: Jenkins' ``shortDescription``.
    """

    kind: str
    user_id: str | None = None
    user_name: str | None = None
    upstream: str | None = None
    upstream_url: str | None = None
    description: str | None = None


def _actions(actions: Iterable[Any] | None) -> list[Mapping[str, Any]]:
    return [a for a in actions or () if isinstance(a, Mapping)]


def revisions_of(actions: Iterable[Any] | None) -> list[Revision]:
    """Return every git checkout recorded on the build, in the order Jenkins lists them."""
    found: list[Revision] = []
    for action in _actions(actions):
        last = action.get("lastBuiltRevision")
        if not isinstance(last, Mapping) or not last.get("SHA1"):
            continue
        remotes = action.get("remoteUrls") or [action.get("remoteUrl")]
        remotes = [r for r in remotes if r]
        branches = last.get("branch") or []
        branch = branches[0].get("name") if branches and isinstance(branches[0], Mapping) else None
        found.append(
            Revision(
                sha=str(last["SHA1"]),
                remotes=tuple(redact_url(str(r)) for r in remotes),
                branch=branch,
            )
        )
    return found


def remote_key(url: str) -> tuple[str, str] | None:
    """Return ``(host, owner/repo)`` in lower case: https, ssh and scp forms compare equal."""
    name = repo_name_from_url(url)
    if not name:
        return None
    scp_host = url.split("@", 1)[-1].split(":", 1)[0]
    host = (urlsplit(url).hostname or "") if "://" in url else scp_host
    return host.lower(), name.lower()


def pick_revision(
    revisions: Sequence[Revision], repo_urls: Sequence[str] = ()
) -> tuple[Revision | None, str | None]:
    """Pick the revision of the job's own repository; return it and a note if it was guessed.

    A build can check out several repositories: a shared library is often checked out before the
    application. The revision whose remote matches one of ``repo_urls`` (``GIT_URL``, the
    configured ``repo_url``) wins. Without a match, the remote checked out most often wins, ties
    going to the last checkout (libraries load before ``checkout scm``).
    """
    if not revisions:
        return None, None
    wanted = {key for key in (remote_key(u) for u in repo_urls if u) if key}
    if wanted:
        for revision in revisions:
            if any(remote_key(r) in wanted for r in revision.remotes):
                return revision, None
    if len(revisions) == 1:
        return revisions[0], None
    counts: dict[tuple[str, ...], int] = {}
    for revision in revisions:
        counts[revision.remotes] = counts.get(revision.remotes, 0) + 1
    best = max(counts.values())
    chosen = [r for r in revisions if counts[r.remotes] == best][-1]
    shown = ", ".join(r.remotes[0] if r.remotes else r.sha[:12] for r in revisions)
    note = (
        f"the build checked out {len(revisions)} revisions ({shown}); none matched the job's "
        f"repository, so {chosen.remotes[0] if chosen.remotes else chosen.sha} was taken: set "
        "GIT_URL, repo_url in [adapters.jenkins] or --commit-sha to choose"
    )
    return chosen, note


_CAUSE_KINDS = {
    "hudson.model.Cause$UserIdCause": "user",
    "hudson.model.Cause$UserCause": "user",
    "hudson.model.Cause$UpstreamCause": "upstream",
    "org.jenkinsci.plugins.workflow.support.steps.build.BuildUpstreamCause": "upstream",
    "hudson.triggers.SCMTrigger$SCMTriggerCause": "scm",
    "hudson.triggers.TimerTrigger$TimerTriggerCause": "timer",
    "jenkins.branch.BranchIndexingCause": "branch-indexing",
    "jenkins.branch.BranchEventCause": "branch-event",
    "org.jenkinsci.plugins.workflow.cps.replay.ReplayCause": "replay",
    "hudson.model.Cause$RemoteCause": "remote",
    "com.cloudbees.jenkins.GitHubPushCause": "scm",
}


def _kind(cause: Mapping[str, Any]) -> str:
    kind = _CAUSE_KINDS.get(str(cause.get("_class", "")))
    if kind:
        return kind
    if cause.get("userId") is not None or cause.get("userName"):
        return "user"
    if cause.get("upstreamProject"):
        return "upstream"
    return "other"


def causes_of(actions: Iterable[Any] | None) -> list[Cause]:
    """Return the build's causes, from every ``CauseAction`` (empty cause lists are ignored)."""
    found: list[Cause] = []
    for action in _actions(actions):
        for cause in action.get("causes") or ():
            if not isinstance(cause, Mapping):
                continue
            kind = _kind(cause)
            upstream = None
            if cause.get("upstreamProject"):
                upstream = f"{cause['upstreamProject']}#{cause.get('upstreamBuild', '?')}"
            found.append(
                Cause(
                    kind=kind,
                    user_id=cause.get("userId"),
                    user_name=cause.get("userName"),
                    upstream=upstream,
                    upstream_url=cause.get("upstreamUrl"),
                    description=cause.get("shortDescription"),
                )
            )
    return found


def branch_from_ref(ref: str | None) -> str | None:
    """Return ``main`` for ``origin/main``, ``refs/remotes/origin/main`` or ``refs/heads/main``."""
    if not ref:
        return None
    for prefix in ("refs/remotes/origin/", "refs/heads/", "origin/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref
