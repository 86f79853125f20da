"""The Jenkins API connection (jenkinsapi, imported here only) and clear failure messages.

Nothing here runs at import time: :func:`connect` imports jenkinsapi when API mode is used.
Every request is bounded by the timeout given; jenkinsapi is told not to retry.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from customcd.printable import network_text
from customcd.repourl import redact_url

if TYPE_CHECKING:
    from jenkinsapi.jenkins import Jenkins  # type: ignore[import-untyped]

    from .budget import Budget

__all__ = [
    "RATE_LIMITED",
    "Credentials",
    "JenkinsApiFailure",
    "Patience",
    "connect",
    "credentials_from",
    "explain",
    "get_json",
]

USER_VARIABLE = "JENKINS_USER"
TOKEN_VARIABLE = "JENKINS_API_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class Credentials:
    """A Jenkins user and API token (``JENKINS_USER``, ``JENKINS_API_TOKEN``).

    The token is never shown: ``repr`` hides it.
    """

    user: str
    token: str

    def __repr__(self) -> str:
        """Show the user only."""
        return f"Credentials(user={self.user!r}, token=<hidden>)"


class JenkinsApiFailure(Exception):
    """The Jenkins API could not be read; the message is safe to show (no secret in it)."""


def credentials_from(env: Mapping[str, str]) -> Credentials | None:
    """Return the credentials in ``env``, or ``None`` unless both variables are set."""
    user = (env.get(USER_VARIABLE) or "").strip()
    token = (env.get(TOKEN_VARIABLE) or "").strip()
    if user and token:
        return Credentials(user, token)
    return None


def connect(root: str, credentials: Credentials | None, timeout: float) -> Jenkins:
    """Open a lazy jenkinsapi ``Jenkins`` for ``root`` (no request is made until data is read).

    :param root: the Jenkins root URL.
    :param credentials: user and API token, or ``None`` for anonymous read access.
    :param timeout: seconds each request may take (connect and each read).
    """
    from jenkinsapi.jenkins import Jenkins

    _quiet_jenkinsapi()
    user, token = (credentials.user, credentials.token) if credentials else ("", "")
    # use_crumb=False: only GET requests are made, which need no CSRF crumb.
    return Jenkins(
        without_userinfo(root).rstrip("/"),
        username=user,
        password=token,
        lazy=True,
        timeout=timeout,
        use_crumb=False,
        max_retries=None,
    )


def without_userinfo(url: str) -> str:
    """Return ``url`` without ``user:password@``: credentials come from the environment only.

    A ``JENKINS_URL``/``--server`` written ``https://user:token@host/`` would otherwise reach
    jenkinsapi's error lines and exception texts with the token in it.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _quiet_jenkinsapi() -> None:
    """Keep jenkinsapi's own error lines off stderr: customcd reports each failure itself.

    jenkinsapi logs ``Failed request at <url> ...`` (and parse failures with the response body)
    at ERROR; with no handler configured, Python's last-resort handler printed them raw to stderr
    next to customcd's message. A ``NullHandler`` stops that; an application that configures
    logging still receives them.
    """
    logger = logging.getLogger("jenkinsapi")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def get_json(
    jenkins: Jenkins,
    url: str,
    *,
    patience: Patience | None = None,
    budget: Budget | None = None,
    **params: Any,
) -> Any:
    """GET a JSON document (``.../api/json``) through the connection's requester and parse it.

    Use ``api/json``, not ``api/python``: jenkinsapi parses the Python flavour by replacing every
    ``True``/``False``/``None`` in the text, strings included (``acme/TrueNorth`` would become
    ``acme/trueNorth``).

    :param patience: waits out HTTP 429/503 with ``Retry-After`` (backfill); ``None``: no retry.
    :param budget: the time left for the whole collect; the request gets only that (API mode).
    """

    def fetch() -> Any:
        return jenkins.get_data(url, params=dict(params) or None)

    if budget is not None:
        return budget.call(jenkins, fetch, url)
    if patience is None:
        return fetch()
    return patience.call(fetch, url)


#: Statuses a rate-limiting proxy (or a Jenkins in quiet mode/overloaded) answers: wait and retry.
RATE_LIMITED = (429, 503)


@dataclass
class Patience:
    """Waits out rate limits (HTTP 429/503) during a backfill, a bounded number of times.

    The wait is the response's ``Retry-After`` (seconds or an HTTP date), else an exponential
    backoff (1, 2, 4... s); a wait longer than ``max_wait`` is not waited out: the error is raised.
    Every request itself stays bounded by the connection's timeout.

    :param retries: retries per request after the first attempt.
    :param max_wait: the longest single wait, in seconds.
    :param log: where each wait is reported.
    :param sleep: the sleeping function (injectable for tests).
    :param clock: the clock for HTTP-date ``Retry-After`` values.
    """

    retries: int = 5
    max_wait: float = 300.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("customcd"))
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    clock: Callable[[], float] = field(default=lambda: time.time())
    waited: float = 0.0

    def call(self, fetch: Callable[[], Any], url: str) -> Any:
        """Return ``fetch()``, retrying it after a wait when it fails with HTTP 429 or 503."""
        import requests
        from customcd.delivery.retry import parse_retry_after

        attempt = 0
        while True:
            try:
                return fetch()
            except requests.HTTPError as exc:
                response = exc.response
                status = getattr(response, "status_code", None)
                if status not in RATE_LIMITED or attempt >= self.retries:
                    raise
                header = response.headers.get("Retry-After") if response is not None else None
                hinted = parse_retry_after(header, now=self.clock())
                wait = hinted if hinted is not None else float(2**attempt)
                if wait > self.max_wait:
                    raise
                attempt += 1
                self.log.warning(
                    "Jenkins answered HTTP %s at %s; waiting %.0f s (%s), retry %d of %d",
                    status,
                    redact_url(url),
                    wait,
                    "Retry-After" if hinted is not None else "backoff",
                    attempt,
                    self.retries,
                )
                self.waited += wait
                self.sleep(wait)


def explain(exc: BaseException, url: str, credentials: Credentials | None, timeout: float) -> str:
    """Say in one sentence why the Jenkins API at ``url`` failed, naming what to fix.

    Never includes the token: the URL is redacted and the token is scrubbed from the text.
    """
    import requests

    where = redact_url(url)
    user = credentials.user if credentials else "anonymous"
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(exc, requests.HTTPError) and status is not None:
        if status == 401:
            text = (
                f"Jenkins refused the credentials of user {user!r} (HTTP 401) at {where}: check "
                f"{USER_VARIABLE} and {TOKEN_VARIABLE} (an API token from the user's Security page)"
            )
        elif status == 403:
            text = (
                f"Jenkins user {user!r} may not read {where} (HTTP 403): it needs Overall/Read "
                "and Job/Read on this job"
            )
        elif status == 404:
            text = (
                f"Jenkins has nothing at {where} (HTTP 404): check BUILD_URL/JENKINS_URL, and that "
                f"user {user!r} can see the job"
            )
        elif status in RATE_LIMITED:
            after = response.headers.get("Retry-After") if response is not None else None
            hint = f" (Retry-After: {after})" if after else ""
            text = (
                f"Jenkins at {where} answered HTTP {status}{hint}: it (or a proxy in front of "
                "it) limits the request rate; run again later (a backfill resumes where it stopped)"
            )
        else:
            text = f"Jenkins answered HTTP {status} at {where}"
    elif isinstance(exc, requests.Timeout):
        text = f"Jenkins at {where} did not answer within {timeout:g} s"
    elif isinstance(exc, requests.exceptions.SSLError):
        text = (
            f"TLS verification failed for {where}: set REQUESTS_CA_BUNDLE to your CA bundle "
            f"({type(exc).__name__})"
        )
    elif isinstance(exc, requests.ConnectionError):
        text = f"could not reach Jenkins at {where} (connection failed: {_first_line(exc)})"
    else:
        reason = f"{type(exc).__name__}: {_first_line(exc)}"
        text = f"could not read the Jenkins API at {where} ({reason})"
    return scrub(text, credentials)


def _first_line(exc: BaseException) -> str:
    """What went wrong, in one escaped line: the innermost cause, not requests' wrapping.

    ``requests.ConnectionError`` wraps urllib3's ``MaxRetryError`` (the URL and the retries)
    around the real reason (``Failed to establish a new connection: [Errno 111] Connection
    refused``): that reason is what the user needs, whole.
    """
    inner: object = exc
    while True:
        args = getattr(inner, "args", ())
        nested = getattr(inner, "reason", None) or (
            args[0] if args and isinstance(args[0], BaseException) else None
        )
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = re.sub(r"^<[^>]+ object at 0x[0-9a-f]+>: ", "", str(inner).strip())
    return network_text(text or type(exc).__name__)


def scrub(text: str, credentials: Credentials | None) -> str:
    """Return ``text`` with the API token replaced by ``<hidden>``, wherever it appears."""
    if credentials and credentials.token:
        text = text.replace(credentials.token, "<hidden>")
    return text
