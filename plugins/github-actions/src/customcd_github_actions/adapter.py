"""The GitHub Actions adapter: from a job's environment to a Custom CD draft.

How a run becomes a record (see ``docs/github-actions.md``):

- a final step runs ``customcd send --status ${{ job.status }}`` with ``if: always()``;
- :meth:`GitHubActionsAdapter.detect` recognises the runner by ``GITHUB_ACTIONS=true``;
- :meth:`GitHubActionsAdapter.collect` reads the ``GITHUB_*`` variables; the start time, which
  no variable carries, comes from the REST API when ``GITHUB_TOKEN`` is mapped into the step,
  unless the user gave ``--start-time``. Without a token, or when GitHub cannot be reached or
  refuses, the best local evidence stands in (:meth:`GitHubActionsAdapter._local_start`): the
  time the runner set this job up (its event file), else the time of the report; the record is
  kept either way, marked by the optional field ``start_time_source``;
- the core builder maps the user's ``--status`` through :attr:`GitHubActionsAdapter.status_map`,
  computes the duration (now - start), applies the user's flags and validates.

Only the public ``customcd`` API is used, so this module is a template for any CI adapter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from customcd import NOT_FINAL, SKIP, Adapter, AdapterError, CollectContext, DemoCase, Draft

from .rest import fetch_run_start, run_api_url

__all__ = ["GitHubActionsAdapter"]

#: Where the REST API lives when ``GITHUB_API_URL`` is not set (it always is on real runners).
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
#: ``context.overrides`` keys that carry a start time given by the user.
_START_OVERRIDES = ("job_start_time", "start_time_ms")
#: The optional field saying where a start that is not the run's ``run_started_at`` came from.
START_SOURCE_KEY = "start_time_source"


class GitHubActionsAdapter(Adapter):
    """Report the current GitHub Actions job (a step of it, usually the last one).

    ``job_id`` is ``{GITHUB_RUN_ID}-{GITHUB_RUN_ATTEMPT}-{GITHUB_JOB}``: the run id is unique on the
    server, the attempt separates re-runs, the job id separates the jobs of one workflow. Matrix
    legs share all three: give them ``--job-id`` with ``${{ strategy.job-index }}`` appended.
    """

    name = "github-actions"
    title = "GitHub Actions"

    #: ``${{ job.status }}`` is success, failure or cancelled. The builder compares keys
    #: case-insensitively and maps the user's ``--status`` through this table too.
    status_map: ClassVar[Mapping[str, str]] = {
        "success": "Succeeded",
        "failure": "Failed",
        "cancelled": "Failed",
        "timed_out": "Failed",  # a run conclusion, in case a user passes it
        "skipped": SKIP,  # no record; the reason is shown and the exit code is 0
        # What collect() reports by itself: a step runs while its job is still running, so
        # without --status the builder says a final status is needed.
        "in_progress": NOT_FINAL,
    }

    detect_variables = ("GITHUB_ACTIONS",)

    def detect(self, env: Mapping[str, str]) -> bool:
        """GitHub sets ``GITHUB_ACTIONS=true`` in every step of every job."""
        return env.get("GITHUB_ACTIONS", "").strip().lower() == "true"

    def collect(self, context: CollectContext) -> Draft:
        """Build the draft from the ``GITHUB_*`` variables and, if needed, the run's start time.

        :raises AdapterError: when no start time can be had (no ``GITHUB_TOKEN``, the API refused)
            and the user gave no ``--start-time``.
        """
        env = context.env
        run_id = _get(env, "GITHUB_RUN_ID")
        attempt = _attempt(env)
        job = _get(env, "GITHUB_JOB")
        repository = _get(env, "GITHUB_REPOSITORY")

        draft = Draft(adapter=self.name)
        # Raw values: the builder validates and converts them.
        draft.job_id = f"{run_id}-{attempt}-{job}" if run_id and job else run_id
        draft.commit_sha = _get(env, "GITHUB_SHA")
        draft.repo_id = _get(env, "GITHUB_REPOSITORY_ID")
        draft.repo_name = repository
        # The person who started this attempt (a re-run's) or, failing that, the run's actor.
        draft.triggered_by = _get(env, "GITHUB_TRIGGERING_ACTOR") or _get(env, "GITHUB_ACTOR")
        draft.status = "in_progress"
        # job_duration stays None: the builder computes now - start.
        draft.job_start_time = self._start_time(context, draft, repository, run_id, attempt)

        # Optional fields: sent with the record (the user's own --optional entries win).
        server = _get(env, "GITHUB_SERVER_URL") or DEFAULT_SERVER_URL
        draft.add_optional("ci_system", self.title)
        draft.add_optional("workflow", _get(env, "GITHUB_WORKFLOW"))
        draft.add_optional("job", job)
        if repository and run_id:
            run_url = f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"
            if attempt > 1:
                run_url = f"{run_url}/attempts/{attempt}"
            draft.add_optional("run_url", run_url)
        draft.add_optional("ref", _get(env, "GITHUB_REF_NAME"))
        draft.add_optional("event", _get(env, "GITHUB_EVENT_NAME"))

        _add_hints(draft, env)

        # Routing facts: what customcd.toml rules can match on (not sent).
        draft.set_fact("ci", self.name)
        draft.set_fact("job_name", job)
        draft.set_fact("pipeline", _get(env, "GITHUB_WORKFLOW"))
        draft.set_fact("repo", repository)
        draft.set_fact("branch", _branch(env))
        return draft

    def _start_time(
        self, context: CollectContext, draft: Draft, repository: str, run_id: str, attempt: int
    ) -> Any:
        """``run_started_at`` from the REST API; without it, the best local evidence.

        Returns ``None`` when the user gave a start time (it wins anyway).
        """
        if any(context.overrides.get(key) not in (None, "") for key in _START_OVERRIDES):
            # The user's --start-time (or --start-time-ms) wins anyway: spare the API call.
            return None
        token = _get(context.env, "GITHUB_TOKEN")
        if not token:
            problem = (
                "GITHUB_TOKEN is not mapped into the step's env (GITHUB_TOKEN: ${{ github.token }}, "
                "with permission 'actions: read'), so the run's start cannot be read from GitHub"
            )
        elif not repository or not run_id:
            problem = (
                "GITHUB_REPOSITORY or GITHUB_RUN_ID is not set, so the run's start time cannot be "
                "read from GitHub"
            )
        else:
            url = run_api_url(
                _get(context.env, "GITHUB_API_URL") or DEFAULT_API_URL, repository, run_id, attempt
            )
            try:
                started = fetch_run_start(url, token, timeout=context.timeout, log=context.log)
            except AdapterError as exc:
                problem = str(exc)
            else:
                draft.notes.append(f"job_start_time is run_started_at ({started}) from {url}")
                return started
        return self._local_start(context, draft, problem)

    def _local_start(self, context: CollectContext, draft: Draft, problem: str) -> int:
        """The start when GitHub's API cannot give it: the job's setup on the runner, else now.

        The runner writes the triggering event's payload (``GITHUB_EVENT_PATH``, in the job's
        fresh temporary directory) while it sets the job up, so that file's modification time is
        when this job began. It is the job's start, not the run's: later jobs of a run begin
        after its ``run_started_at``. Without that file, the time of the report stands in with a
        duration of 0. Either way the record is kept, marked by ``start_time_source``, and a
        warning says what to set.
        """
        event_file = _get(context.env, "GITHUB_EVENT_PATH")
        started: int | None = None
        if event_file:
            try:
                started = int(os.stat(event_file).st_mtime)
            except OSError:
                started = None
        now = int(context.now) if context.now else None
        if started is not None and (now is None or started <= now):
            source = "runner-event-file"
            said = f"the time the runner set this job up ({event_file}) as its start"
        else:
            import time

            started = now if now is not None else int(time.time())
            source = "report-time"
            said = "the time of this report as its start, with a duration of 0"
            draft.job_duration = 0
        context.log.warning(
            "%s; the job is reported with %s (start_time_source=%s). Map "
            "GITHUB_TOKEN: ${{ github.token }} with 'actions: read' into the step, or pass "
            "--start-time",
            problem.rstrip("."),
            said,
            source,
        )
        draft.add_optional(START_SOURCE_KEY, source)
        draft.notes.append(f"{problem}; job_start_time is {said}")
        return started

    def demo_cases(self) -> Sequence[DemoCase]:
        """Return a deployment that succeeded and a re-run that failed, as a runner sees them."""
        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_REPOSITORY": "acme/payments-api",
            "GITHUB_REPOSITORY_ID": "734219085",
            "GITHUB_REPOSITORY_OWNER": "acme",
            "GITHUB_RUN_ID": "12087465391",
            "GITHUB_RUN_NUMBER": "418",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_WORKFLOW": "Deploy",
            "GITHUB_WORKFLOW_REF": "acme/payments-api/.github/workflows/deploy.yml@refs/heads/main",
            "GITHUB_JOB": "deploy-production",
            "GITHUB_SHA": "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_ACTOR": "mjohnson",
            "GITHUB_TRIGGERING_ACTOR": "mjohnson",
            "RUNNER_OS": "Linux",
        }
        retried = {
            **env,
            "GITHUB_RUN_ID": "12091873024",
            "GITHUB_RUN_NUMBER": "419",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_SHA": "c04d7a9e15b3f862d0a4e7c91b5f3a28d6e0b947",
            "GITHUB_TRIGGERING_ACTOR": "lchen",
        }
        return [
            DemoCase(
                "final step with if: always(), --status success",
                env,
                {"job_start_time": 1764400000, "status": "success"},
            ),
            DemoCase(
                "re-run (attempt 2) by another user, --status failure",
                retried,
                {"job_start_time": 1764400000, "status": "failure"},
            ),
        ]

    def server_variable(self) -> str | None:
        """Name the variable holding the server's URL (github.com or a GitHub Enterprise host)."""
        return "GITHUB_SERVER_URL"

    def annotate(self, level: str, message: str) -> str | None:
        """Return a workflow command (``::warning::msg`` / ``::error::msg``) shown on the run."""
        command = "error" if level == "error" else "warning"
        return f"::{command}::{_escape(message)}"


def _add_hints(draft: Draft, env: Mapping[str, str]) -> None:
    """For each field the runner's variables did not fill, name the variable and the flag."""
    if not draft.job_id:
        draft.hint(
            "job_id", "GITHUB_RUN_ID is not set, is this a GitHub Actions job? Give --job-id"
        )
    if not draft.commit_sha:
        draft.hint("commit_sha", "GITHUB_SHA is not set; give --commit-sha")
    if not draft.repo_name and not draft.repo_id:
        draft.hint("repo_name", "GITHUB_REPOSITORY is not set; give --repo-name")
    draft.hint(
        "status",
        "a step runs while its job is still in progress: give --status ${{ job.status }} in a "
        "final step with if: always()",
    )


def _get(env: Mapping[str, str], name: str) -> str:
    """Return a variable's value, stripped; ``""`` when unset."""
    return (env.get(name) or "").strip()


def _attempt(env: Mapping[str, str]) -> int:
    """Return ``GITHUB_RUN_ATTEMPT`` as an int (1 when unset or unreadable)."""
    text = _get(env, "GITHUB_RUN_ATTEMPT")
    return int(text) if text.isdigit() and int(text) > 0 else 1


def _branch(env: Mapping[str, str]) -> str:
    """Return the PR's head branch for pull requests, else the pushed branch (or ``""``)."""
    if _get(env, "GITHUB_HEAD_REF"):
        return _get(env, "GITHUB_HEAD_REF")
    return _get(env, "GITHUB_REF_NAME") if _get(env, "GITHUB_REF_TYPE") == "branch" else ""


def _escape(message: Any) -> str:
    """Escape a workflow command's data: ``%``, CR and LF would end or corrupt the command."""
    return str(message).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
