"""Connecting to the GitLab API with python-gitlab: token choice, TLS, time limits, clear errors.

python-gitlab (and requests) are imported only inside these functions, never at module import,
so detection and job mode stay fast.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from customcd.plugins.adapter import AdapterError
from customcd.repourl import redact_url

from .options import DOCS, GitLabOptions

if TYPE_CHECKING:
    import gitlab

__all__ = [
    "API_TOKEN_VARIABLES",
    "Deadline",
    "GitLabApiError",
    "Token",
    "api_errors",
    "connect",
    "find_token",
    "list_pages",
    "quiet_iter",
    "routed_warnings",
    "server_url",
]

#: Variables holding a project/group/personal access token, in order of preference.
API_TOKEN_VARIABLES = ("CUSTOMCD_GITLAB_TOKEN", "GITLAB_TOKEN")
_SCOPE_HINT = (
    "a project or group access token with the read_api scope and at least the Reporter role, "
    "stored as a masked CI/CD variable CUSTOMCD_GITLAB_TOKEN"
)


class GitLabApiError(AdapterError):
    """The GitLab API refused or failed a request; the message names the token and scope needed.

    :param status: the HTTP status (401, 403, 404...) or ``None`` for network errors and timeouts.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, docs=DOCS)
        self.status = status


@dataclass(frozen=True)
class Token:
    """A credential for the GitLab API (its value never appears in messages or ``repr``).

    :param variable: the environment variable it came from (named in messages).
    :param kind: ``private`` (access token) or ``job`` (``CI_JOB_TOKEN``).
    """

    variable: str
    kind: str
    value: str

    def __repr__(self) -> str:
        return f"Token(variable={self.variable!r}, kind={self.kind!r})"

    @property
    def is_job_token(self) -> bool:
        """Whether this is the job's own ``CI_JOB_TOKEN`` (it cannot read pipelines or jobs)."""
        return self.kind == "job"


def find_token(env: Mapping[str, str], *, allow_job_token: bool = True) -> Token | None:
    """Find the best token in ``env``: an access token, else ``CI_JOB_TOKEN`` if allowed."""
    for variable in API_TOKEN_VARIABLES:
        value = (env.get(variable) or "").strip()
        if value:
            return Token(variable, "private", value)
    value = (env.get("CI_JOB_TOKEN") or "").strip()
    if allow_job_token and value:
        return Token("CI_JOB_TOKEN", "job", value)
    return None


def server_url(env: Mapping[str, str], options: GitLabOptions, given: str | None = None) -> str:
    """Return the GitLab URL: option, ``--server``, ``CI_SERVER_URL``, else gitlab.com."""
    for candidate in (options.url, given, env.get("CI_SERVER_URL")):
        if candidate and candidate.strip():
            return candidate.strip().rstrip("/")
    return "https://gitlab.com"


def _ssl_verify(env: Mapping[str, str], options: GitLabOptions) -> bool | str:
    """Return a CA bundle path for self-managed GitLab with a private CA, else ``True``.

    ``CI_SERVER_TLS_CA_FILE`` is the file GitLab Runner writes when the instance's CA is configured
    on the runner (``tls-ca-file``); ``REQUESTS_CA_BUNDLE`` is requests' own variable.
    """
    for candidate in (
        options.ca_bundle,
        env.get("REQUESTS_CA_BUNDLE"),
        env.get("CI_SERVER_TLS_CA_FILE"),
    ):
        if candidate and candidate.strip():
            return candidate.strip()
    return True


class Deadline:
    """An overall time budget split across several API calls.

    :param seconds: the whole budget (``context.timeout``).
    :param clock: a monotonic clock (replaceable in tests).
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seconds = seconds
        self._end: float = clock() + seconds

    def remaining(self, what: str) -> float:
        """Seconds left for the next call; raises a clear error when the budget is spent."""
        left: float = self._end - self._clock()
        if left <= 0:
            raise GitLabApiError(
                f"the GitLab API did not answer within {self._seconds:g} s "
                f"(while {what}); raise --timeout or check the network"
            )
        return left


def connect(
    url: str, token: Token | None, env: Mapping[str, str], options: GitLabOptions, timeout: float
) -> gitlab.Gitlab:
    """Make a python-gitlab client that never retries on its own nor sleeps on a 429.

    ``keep_base_url=True``: GitLab builds its pagination links (``Link`` / ``X-Next-Page``) from
    its configured ``external_url`` host and port (``lib/gitlab/pagination/
    offset_header_builder.rb``), which often differs from the address a runner or a backfill
    uses (a reverse proxy, an internal name). python-gitlab then follows the next page there,
    token attached; with ``keep_base_url`` every page stays on ``url``.
    """
    import gitlab

    kwargs: dict[str, Any] = {
        "timeout": timeout,
        "ssl_verify": _ssl_verify(env, options),
        "retry_transient_errors": False,
        "per_page": options.per_page,
        "keep_base_url": True,
    }
    if token is not None:
        kwargs["job_token" if token.is_job_token else "private_token"] = token.value
    return gitlab.Gitlab(url, **kwargs)


#: Keyword arguments for every call of a pipeline step: fail fast instead of sleeping through
#: rate limits (a reporting step must never hold a deployment up).
CALL_OPTIONS: dict[str, Any] = {"obey_rate_limit": False, "max_retries": 0}
#: Keyword arguments for backfill calls: a long import waits out GitLab's rate limit
#: (``Retry-After`` / ``RateLimit-Reset``) and goes on, a few times at most.
HISTORY_CALL_OPTIONS: dict[str, Any] = {"obey_rate_limit": True, "max_retries": 5}


#: GitLab's page size when a request names none.
_GITLAB_DEFAULT_PER_PAGE = 20


def list_pages(
    manager: Any, deadline: Deadline, what: str, **params: Any
) -> Iterator[dict[str, Any]]:
    """Yield the attributes of every item a python-gitlab list manager returns, page by page.

    python-gitlab's own pagination (``get_all=True`` or ``iterator=True``) sends every page with
    the first request's timeout, so a long list could outlast the budget several times over. Here
    each page is a request of its own, given only the time left in ``deadline``; once the budget
    is spent :meth:`Deadline.remaining` raises the usual clear :class:`GitLabApiError` before the
    next page is asked for. Use inside :func:`api_errors`.

    :param manager: a python-gitlab manager with ``list`` (``pipeline.jobs``, ``deployments``...).
    :param params: the listing's filters (``order_by``, ``updated_after``...).
    """
    per_page = int(params.get("per_page") or manager.gitlab.per_page or _GITLAB_DEFAULT_PER_PAGE)
    page = 1
    while True:
        # page 1 is GitLab's default: the first request names no page
        paging = {"page": page} if page > 1 else {}
        with routed_warnings():
            batch = list(
                manager.list(
                    get_all=False,
                    timeout=deadline.remaining(what),
                    **paging,
                    **params,
                    **CALL_OPTIONS,
                )
            )
        for item in batch:
            yield dict(item.attributes)
        # a short (or empty) page is the last one; GitLab caps per_page at 100, as the options do
        if len(batch) < per_page:
            return
        page += 1


#: python-gitlab appends where the warning was raised (a local source path) to its messages.
_CALLER = re.compile(r"\s*\(python-gitlab: [^)]*\)\s*$")
_log = logging.getLogger("customcd.gitlab")


@contextmanager
def routed_warnings(log: logging.Logger | None = None) -> Iterator[None]:
    """Send the warnings raised during a GitLab API call to customcd's log, not raw to stderr.

    python-gitlab reports some conditions (a base URL that differs from the server's, a list cut
    at one page) with :func:`warnings.warn`, the message ending in
    ``(python-gitlab: /local/path/file.py:123)``; requests and urllib3 may warn too. Inside this
    block each warning the filters let through becomes one ``WARNING`` line of customcd's log,
    without the local path. Wrap each call into python-gitlab (never a ``yield``: see
    :func:`quiet_iter`).

    :param log: where to report (default: the ``customcd.gitlab`` logger).
    """
    target = log or _log
    with warnings.catch_warnings(record=True) as caught:
        yield
    for item in caught:
        text = " ".join(_CALLER.sub("", str(item.message)).split())
        if "(python-gitlab: " in str(item.message) or item.category is UserWarning:
            target.warning("python-gitlab: %s", text)
        else:
            target.warning("%s during a GitLab API call: %s", item.category.__name__, text)


def quiet_iter(items: Iterable[Any], log: logging.Logger | None = None) -> Iterator[Any]:
    """Iterate a python-gitlab listing, each step (a page request) under :func:`routed_warnings`.

    The warnings block covers only the call that fetches the next item, never the time the
    caller spends with it, so the process-wide warnings state is restored before each ``yield``.
    """
    iterator = iter(items)
    while True:
        with routed_warnings(log):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def _describe_token(token: Token | None) -> str:
    if token is None:
        return "no token"
    return token.variable


def _message(status: int | None, what: str, url: str, token: Token | None) -> str:
    who = _describe_token(token)
    where = redact_url(url)
    if token is not None and token.is_job_token and status in (401, 403, 404):
        return (
            f"GitLab at {where} refused CI_JOB_TOKEN while {what} (HTTP {status}): the job token "
            f"can read deployments and environments but not pipelines or jobs; set {_SCOPE_HINT}"
        )
    if status == 401:
        return (
            f"GitLab at {where} rejected {who} while {what} (401 Unauthorized): the token is "
            f"invalid, expired or revoked; use {_SCOPE_HINT}"
        )
    if status == 403:
        return (
            f"GitLab at {where} refused {who} while {what} (403 Forbidden): the token lacks the "
            f"read_api scope or the Reporter role on the project; use {_SCOPE_HINT}"
        )
    if status == 404:
        return (
            f"GitLab at {where} answered 404 Not Found while {what}: the project or pipeline does "
            f"not exist, or {who} cannot see it (GitLab answers 404 when access is missing); "
            f"use {_SCOPE_HINT}"
        )
    if token is None:
        return f"GitLab at {where} failed while {what} (HTTP {status}); no GitLab token is set"
    return f"GitLab at {where} failed while {what} (HTTP {status})"


@contextmanager
def api_errors(what: str, url: str, token: Token | None) -> Iterator[None]:
    """Turn python-gitlab and requests failures into one clear :class:`GitLabApiError`.

    :param what: what was being done ("reading pipeline 42 of project 7").
    :param url: the GitLab URL (shown without credentials).
    :param token: the token used (only its variable name is shown).
    """
    import gitlab.exceptions
    import requests.exceptions

    try:
        yield
    except gitlab.exceptions.GitlabError as exc:
        status = exc.response_code
        raise GitLabApiError(_message(status, what, url, token), status=status) from None
    except requests.exceptions.SSLError:
        raise GitLabApiError(
            f"TLS verification failed for GitLab at {redact_url(url)} while {what}: for a "
            "self-managed GitLab with a private CA set REQUESTS_CA_BUNDLE (or [adapters.gitlab] "
            "ca_bundle) to the CA bundle file"
        ) from None
    except requests.exceptions.Timeout:
        raise GitLabApiError(
            f"GitLab at {redact_url(url)} did not answer in time while {what}; "
            "raise --timeout or check the network"
        ) from None
    except requests.exceptions.RequestException as exc:
        raise GitLabApiError(
            f"cannot reach GitLab at {redact_url(url)} while {what} ({type(exc).__name__})"
        ) from None
