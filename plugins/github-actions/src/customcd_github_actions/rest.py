"""The one GitHub REST call this adapter makes: when the workflow run started.

GitHub Actions has no environment variable for the run's start time, so the adapter reads
``run_started_at`` from the workflow run (or, for a re-run, from the run attempt) resource:

- ``GET {GITHUB_API_URL}/repos/{owner}/{repo}/actions/runs/{run_id}`` (attempt 1), or
- ``GET {GITHUB_API_URL}/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{n}`` (attempt n > 1;
  the run resource reports the latest attempt, which need not be this job's).

httpx is imported inside :func:`fetch_run_start`, never at module level, so detecting the CI and
collecting with ``--start-time`` never pay for it. Every failure becomes an
:class:`~customcd.AdapterError` whose message names the variable, the permission and the URL, and
never the token.
"""

from __future__ import annotations

import logging
from typing import Any

from customcd import AdapterError

from . import __version__

__all__ = ["DOCS", "fetch_run_start", "run_api_url"]

#: The docs page every error points to.
DOCS = "github-actions.md"
#: The REST API version this code was written against (GitHub's versioning header).
API_VERSION = "2022-11-28"


def run_api_url(api_url: str, repository: str, run_id: str, attempt: int) -> str:
    """Return the REST URL of the run (attempt 1) or of the run attempt (attempt > 1).

    :param api_url: ``GITHUB_API_URL`` (``https://api.github.com``, or ``https://HOST/api/v3``
        on GitHub Enterprise Server).
    :param repository: ``owner/repo``.
    :param run_id: ``GITHUB_RUN_ID``.
    :param attempt: ``GITHUB_RUN_ATTEMPT`` as an int.
    """
    url = f"{api_url.rstrip('/')}/repos/{repository}/actions/runs/{run_id}"
    return f"{url}/attempts/{attempt}" if attempt > 1 else url


def fetch_run_start(url: str, token: str, *, timeout: float, log: logging.Logger) -> str:
    """GET the run (attempt) resource and return its ``run_started_at`` (ISO 8601 text, UTC).

    :param url: from :func:`run_api_url`.
    :param token: the value of ``GITHUB_TOKEN`` (sent as a Bearer token; never logged).
    :param timeout: seconds the whole call may take (connect, read, write, pool).
    :param log: where the request is logged (``-v``).
    :raises AdapterError: when GitHub cannot be reached, refuses the token, does not show the run
        or answers without a start time.
    """
    import httpx  # here, not at module level: only this call needs it

    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": f"customcd-github-actions/{__version__}",
    }
    log.debug("GET %s", url)
    try:
        # follow_redirects=False: a redirect must never carry the token to another place.
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.get(url, headers=headers)
    except httpx.TimeoutException:
        raise AdapterError(
            f"GitHub did not answer within {timeout:g} s at {url}; pass --start-time to report "
            "without it",
            docs=DOCS,
        ) from None
    except httpx.HTTPError as exc:
        raise AdapterError(
            f"cannot reach GitHub at {url} ({type(exc).__name__}); check GITHUB_API_URL and the "
            "runner's network, or pass --start-time",
            docs=DOCS,
        ) from None

    if response.status_code == 200:
        return _started_at(response.json(), url, log)
    raise AdapterError(_refusal(response.status_code, _message(response), url), docs=DOCS)


def _started_at(run: Any, url: str, log: logging.Logger) -> str:
    """``run_started_at`` of a workflow run object (``created_at`` on servers that lack it)."""
    if isinstance(run, dict):
        started = run.get("run_started_at")
        if isinstance(started, str) and started:
            return started
        created = run.get("created_at")
        if isinstance(created, str) and created:
            log.warning("GitHub gave no run_started_at for %s; using created_at", url)
            return created
    raise AdapterError(
        f"GitHub's answer from {url} has no run_started_at; pass --start-time", docs=DOCS
    )


def _message(response: Any) -> str:
    """GitHub's own error message (``{"message": "Bad credentials", ...}``), if any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else ""


def _refusal(status: int, message: str, url: str) -> str:
    """One sentence saying why GitHub refused and what to change."""
    said = f" ({message})" if message else ""
    if status == 401:
        return (
            f"GitHub refused GITHUB_TOKEN with 401{said} at {url}: map a valid token in the "
            "step's env (GITHUB_TOKEN: ${{ github.token }}) or pass --start-time"  # not an f-string
        )
    if status == 403:
        return (
            f"GitHub refused to show the workflow run with 403{said} at {url}: the token needs "
            "the 'actions: read' permission (or the rate limit was hit); or pass --start-time"
        )
    if status == 404:
        return (
            f"GitHub answered 404{said} for {url}: the token cannot see this repository's runs "
            "(grant 'actions: read') or GITHUB_REPOSITORY/GITHUB_RUN_ID are wrong; or pass "
            "--start-time"
        )
    if 300 <= status < 400:
        return (
            f"GitHub redirected {url} ({status}; the repository may have moved), which customcd "
            "does not follow with a token; check GITHUB_REPOSITORY or pass --start-time"
        )
    return f"GitHub answered {status}{said} for {url}; pass --start-time to report without it"
