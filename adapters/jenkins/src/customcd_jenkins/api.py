"""API mode: read the current build through the Jenkins API (jenkinsapi).

Used when ``BUILD_URL`` (or ``JENKINS_URL`` with ``JOB_NAME``/``BUILD_NUMBER``) and
``JENKINS_USER`` + ``JENKINS_API_TOKEN`` are set. Requests made, all within ONE budget of
``--timeout`` seconds (each gets only the time left; see :mod:`.budget`):

1. ``<BUILD_URL>api/json?depth=0`` through jenkinsapi's connection: timestamp (ms), duration
   (ms, 0 while building), result (null while building), causes, git revisions,
2. ``<BUILD_URL>wfapi/describe`` only while a pipeline build runs: ``PAUSED_PENDING_INPUT``,
3. ``<JENKINS_URL>user/<id>/api/json`` only for a user cause: the Mailer property's address.

When the budget is spent after the first request, the optional ones (2 and 3) are skipped with a
note; when the first request does not complete within it, the caller falls back to the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from customcd.contract.times import parse_epoch_ms
from customcd.plugins.draft import Draft
from customcd.repourl import redact_url, repo_name_from_url

from .builddata import Cause, branch_from_ref, causes_of, pick_revision, revisions_of
from .client import Patience, get_json
from .urls import job_name_from_url, with_slash

if TYPE_CHECKING:
    from jenkinsapi.jenkins import Jenkins  # type: ignore[import-untyped]

    from .budget import Budget

__all__ = [
    "BuildTarget",
    "RunState",
    "draft_from_build",
    "pipeline_status",
    "read_build",
    "run_state",
    "user_email",
]

PAUSED = "PAUSED_PENDING_INPUT"
BUILDING = "BUILDING"
_MAILER = "hudson.tasks.Mailer$UserProperty"


@dataclass(frozen=True)
class BuildTarget:
    """Which build to read.

    :param root: the Jenkins root URL.
    :param job_url: the job's URL.
    :param build_url: the build's URL.
    :param job_name: the full job name (``team/app/feature%2Fx``).
    :param number: the build number.
    """

    root: str
    job_url: str
    build_url: str
    job_name: str
    number: int


@dataclass
class UserEmails:
    """Looks up users' e-mail addresses once each (``/user/<id>/api/json``)."""

    jenkins: Jenkins
    root: str
    log: logging.Logger
    patience: Patience | None = None
    budget: Budget | None = None
    cache: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def get(self, user_id: str) -> str | None:
        """Return the user's Mailer address, or ``None`` when unset, unreadable or out of time."""
        if user_id in self.cache:
            return self.cache[user_id]
        if self.budget is not None and self.budget.spent:
            self.notes.append(_skipped(self.budget, f"the e-mail lookup of user {user_id!r}"))
            return None
        self.cache[user_id] = user_email(
            self.jenkins, self.root, user_id, self.log, patience=self.patience, budget=self.budget
        )
        if self.cache[user_id] is None and self.budget is not None and self.budget.spent:
            self.notes.append(_skipped(self.budget, f"the e-mail lookup of user {user_id!r}"))
        return self.cache[user_id]


def _skipped(budget: Budget, what: str) -> str:
    return f"{what} was skipped: the {budget.seconds:g} s timeout was used up by the Jenkins API"


def user_email(
    jenkins: Jenkins,
    root: str,
    user_id: str,
    log: logging.Logger,
    *,
    patience: Patience | None = None,
    budget: Budget | None = None,
) -> str | None:
    """Return the e-mail address Jenkins holds for ``user_id`` (Mailer plugin), or ``None``."""
    url = f"{with_slash(root)}user/{quote(user_id, safe='')}/api/json"
    try:
        data = get_json(jenkins, url, patience=patience, budget=budget, tree="property[address]")
    except Exception as exc:  # the address is a nicety: any failure means "use the user id"
        log.info("could not read the e-mail of Jenkins user %r (%s)", user_id, type(exc).__name__)
        return None
    for prop in data.get("property") or ():
        if (
            isinstance(prop, Mapping)
            and prop.get("address")
            and prop.get("_class", _MAILER) == _MAILER
        ):
            return str(prop["address"]).strip() or None
    return None


def read_build(
    jenkins: Jenkins, target: BuildTarget, *, budget: Budget | None = None
) -> dict[str, Any]:
    """Read the build's document, ``<BUILD_URL>api/json?depth=0``, in one request.

    Through jenkinsapi's connection (auth, TLS, timeout) but not its ``Job``/``Build`` objects:
    ``get_job_by_url`` polls the whole job document first (one more request, up to 100 builds
    listed), ``Build`` reads ``api/python`` which jenkinsapi parses by rewriting every ``True``/
    ``False``/``None`` in the text, strings included, and its getters merge the git revisions.
    """
    data = get_json(jenkins, f"{with_slash(target.build_url)}api/json", budget=budget, depth=0)
    return dict(data or {})


@dataclass(frozen=True)
class RunState:
    """What Pipeline Stage View's ``<BUILD_URL>wfapi/describe`` says of a running pipeline.

    :param status: ``IN_PROGRESS``, ``PAUSED_PENDING_INPUT``, ``SUCCESS``...
    :param ran_ms: milliseconds the run worked before its current pause: ``durationMillis`` (the
        time since it started, so far) minus ``pauseDurationMillis`` (time spent paused), or
        ``None`` when either is missing.
    """

    status: str | None
    ran_ms: int | None = None

    @property
    def paused(self) -> bool:
        """Whether the run waits at an ``input`` step."""
        return self.status == PAUSED


def run_state(
    jenkins: Jenkins,
    build_url: str,
    *,
    patience: Patience | None = None,
    budget: Budget | None = None,
) -> RunState:
    """Read ``/wfapi/describe``: the run's status and how long it ran before pausing."""
    url = f"{with_slash(build_url)}wfapi/describe"
    data = get_json(jenkins, url, patience=patience, budget=budget)
    if not isinstance(data, Mapping):
        return RunState(None)
    status = str(data["status"]) if data.get("status") else None
    total, paused = data.get("durationMillis"), data.get("pauseDurationMillis")
    ran = None
    if isinstance(total, int) and isinstance(paused, int):
        ran = max(total - paused, 0)
    return RunState(status, ran)


def pipeline_status(
    jenkins: Jenkins,
    build_url: str,
    *,
    patience: Patience | None = None,
    budget: Budget | None = None,
) -> str | None:
    """Return the run status ``/wfapi/describe`` gives (e.g. ``PAUSED_PENDING_INPUT``)."""
    return run_state(jenkins, build_url, patience=patience, budget=budget).status


def draft_from_build(
    data: Mapping[str, Any],
    *,
    job_name: str | None,
    repo_urls: Sequence[str] = (),
    paused: bool = False,
    emails: UserEmails | None = None,
    ran_ms: int | None = None,
) -> Draft:
    """Make a draft from one build's API data (shared by API mode and history).

    :param data: the build document (``number``, ``timestamp``, ``duration``, ``result``,
        ``building``, ``actions``, ``url``).
    :param job_name: the full job name, for the job id.
    :param repo_urls: the job's repository remotes, to pick the right revision.
    :param paused: the pipeline is waiting for input (from ``wfapi/describe``).
    :param emails: looks up the e-mail of a triggering user, or ``None`` to use the user id.
    :param ran_ms: for a paused run, how long it worked before the pause (``wfapi/describe``):
        an On Hold record lasts that long (0 when unknown), never ``now - start``.
    """
    draft = Draft()
    number = data.get("number")
    name = job_name or job_name_from_url(str(data.get("url") or ""))
    if name and number is not None:
        draft.job_id = f"{name}#{number}"

    if data.get("timestamp") is not None:
        draft.job_start_time = parse_epoch_ms(data["timestamp"])
    building = bool(data.get("building"))
    result = data.get("result")
    if paused:
        draft.status = PAUSED
    elif result is None:
        draft.status = BUILDING
    else:
        # while building, a set result is the result so far (FAILURE after a failed step),
        # exactly what currentBuild.currentResult gives in a post {} block
        draft.status = str(result)
    if paused:
        # On Hold: the time the run worked before it began to wait at the input step
        draft.job_duration = (ran_ms or 0) / 1000
        draft.notes.append(
            f"paused at an input step: the duration is what ran before the pause "
            f"({draft.job_duration:g} s{'' if ran_ms is not None else ', unknown'}), "
            "not now - start"
        )
    elif not building and data.get("duration") is not None:
        # Jenkins' duration is 0 while building; a finished build's is the real one (ms).
        draft.job_duration = int(data["duration"]) / 1000
    # while building, job_duration stays None: the builder uses now - start.

    revision, note = pick_revision(revisions_of(data.get("actions")), repo_urls)
    if note:
        draft.notes.append(note)
    branch = None
    if revision is not None:
        draft.commit_sha = revision.sha
        if revision.remotes:
            draft.repo_name = repo_name_from_url(revision.remotes[0])
        branch = branch_from_ref(revision.branch)

    causes = causes_of(data.get("actions"))
    _apply_causes(draft, causes, emails)

    url = data.get("url")
    draft.add_optional("job_url", redact_url(str(url)) if url else None)
    draft.add_optional("job_name", name)
    if isinstance(number, int):
        draft.add_optional("build_number", number, "integer")
    draft.add_optional("branch", branch)
    draft.add_optional("node", data.get("builtOn") or None)
    draft.add_optional("ci_system", "Jenkins")
    draft.set_fact("job_name", name)
    draft.set_fact("branch", branch)
    draft.set_fact("repo", draft.repo_name)
    return draft


def _apply_causes(draft: Draft, causes: Sequence[Cause], emails: UserEmails | None) -> None:
    if not causes:
        return
    draft.add_optional("trigger", causes[0].kind)
    user = next((c for c in causes if c.kind == "user" and c.user_id), None)
    if user is not None and user.user_id:
        email = emails.get(user.user_id) if emails else None
        draft.triggered_by = email or user.user_id
    upstream = [c.upstream for c in causes if c.kind == "upstream" and c.upstream]
    if upstream:
        draft.add_optional("upstream", upstream if len(upstream) > 1 else upstream[0])


def collect_from_api(
    jenkins: Jenkins,
    target: BuildTarget,
    *,
    repo_urls: Sequence[str],
    log: logging.Logger,
    budget: Budget | None = None,
) -> Draft:
    """Read the build and make its draft; API errors propagate to the caller (which falls back).

    :param budget: the time all requests share; when the build's document used it up, the
        optional lookups (input pause, user e-mail) are skipped with a note.
    """
    data = read_build(jenkins, target, budget=budget)
    state = RunState(None)
    notes: list[str] = []
    if data.get("building") and "WorkflowRun" in str(data.get("_class", "")):
        what = "the input-pause check (wfapi/describe)"
        if budget is not None and budget.spent:
            notes.append(_skipped(budget, what))
        else:
            try:
                state = run_state(jenkins, target.build_url, budget=budget)
            except Exception as exc:  # wfapi is the Pipeline Stage View plugin's: may be missing
                log.info(
                    "wfapi/describe unreadable (%s); input pauses not detected", type(exc).__name__
                )
                if budget is not None and budget.spent:
                    notes.append(_skipped(budget, what))
    emails = UserEmails(jenkins, target.root, log, budget=budget)
    draft = draft_from_build(
        data,
        job_name=target.job_name,
        repo_urls=repo_urls,
        paused=state.paused,
        emails=emails,
        ran_ms=state.ran_ms,
    )
    draft.notes.extend(notes + emails.notes)
    return draft
