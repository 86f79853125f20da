"""A small httpx client for the Azure DevOps REST API 7.1: auth, errors, continuation tokens.

httpx is imported inside :class:`AzureDevOpsClient` only, so detection and environment-only step
mode never load it. No message, log line or exception ever contains a token: credentials travel
in the ``Authorization`` header only, and errors name the variable that held them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from customcd.plugins.adapter import AdapterError

from .ratelimit import RetryPolicy, wait_seconds

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_VERSION",
    "CONTINUATION_HEADER",
    "DOCS",
    "PREVIEW_API_VERSION",
    "RELEASE_API_VERSION",
    "RELEASE_DEPLOYMENTS_API_VERSION",
    "RELEASE_RELEASES_API_VERSION",
    "AzureDevOpsClient",
    "Credentials",
    "RetryPolicy",
    "collection_url",
    "credentials_from_env",
    "release_url",
    "segment",
]

#: The REST API version for builds, timelines and repositories.
API_VERSION = "7.1"
#: Environments and their deployment records are a preview API in 7.1.
PREVIEW_API_VERSION = "7.1-preview.1"
#: Classic releases (Release service) in 7.1: ``releases/{id}/environments/{id}`` is preview.7.
RELEASE_API_VERSION = "7.1-preview.7"
#: ``release/deployments`` (Deployments - List) in 7.1 is preview.2 (the ``azure-devops`` SDK's).
RELEASE_DEPLOYMENTS_API_VERSION = "7.1-preview.2"
#: ``release/releases/{id}`` (Releases - Get Release) in 7.1 is preview.8.
RELEASE_RELEASES_API_VERSION = "7.1-preview.8"
#: The response header carrying the token of the next page.
CONTINUATION_HEADER = "x-ms-continuationtoken"
#: The docs page that explains tokens and permissions.
DOCS = "azure-devops.md"

_MAP_CREDENTIAL_ADVICE = (
    "map the job token in the step (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)) "
    "or set AZURE_DEVOPS_PAT to a personal access token with Build (Read) "
    "(Release (Read) for classic releases)"
)


@dataclass(frozen=True)
class Credentials:
    """How to authenticate to Azure DevOps.

    :param source: the environment variable the secret came from (safe to show).
    :param header: the ``Authorization`` header value (secret: never show it).
    """

    source: str
    header: str

    def __repr__(self) -> str:
        """Never show the secret."""
        return f"Credentials(source={self.source!r})"


def credentials_from_env(env: Mapping[str, str]) -> Credentials | None:
    """Return ``Bearer SYSTEM_ACCESSTOKEN``, else ``Basic`` with ``AZURE_DEVOPS_PAT``, else None.

    A ``SYSTEM_ACCESSTOKEN`` still holding the literal ``$(System.AccessToken)`` (the variable was
    not mapped, so Azure left the macro unexpanded) counts as absent.
    """
    token = (env.get("SYSTEM_ACCESSTOKEN") or "").strip()
    if token and not token.startswith("$("):
        return Credentials("SYSTEM_ACCESSTOKEN", f"Bearer {token}")
    pat = (env.get("AZURE_DEVOPS_PAT") or "").strip()
    if pat and not pat.startswith("$("):
        encoded = base64.b64encode(f":{pat}".encode()).decode("ascii")
        return Credentials("AZURE_DEVOPS_PAT", f"Basic {encoded}")
    return None


def collection_url(env: Mapping[str, str], given: str | None = None) -> str | None:
    """Return the collection URL with one trailing slash.

    ``https://dev.azure.com/org/`` on Azure DevOps Services, ``https://server/tfs/Collection/`` on
    Azure DevOps Server. ``given`` (a flag or option) wins over ``SYSTEM_COLLECTIONURI`` and
    ``SYSTEM_TEAMFOUNDATIONCOLLECTIONURI``.
    """
    for value in (
        given,
        env.get("SYSTEM_COLLECTIONURI"),
        env.get("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"),
    ):
        if value and value.strip():
            url = value.strip()
            if not url.startswith(("https://", "http://")):
                raise AdapterError(
                    f"the Azure DevOps collection URL {url!r} must start with https:// "
                    "(for example https://dev.azure.com/yourorg/)",
                    docs=DOCS,
                )
            return url.rstrip("/") + "/"
    return None


def release_url(collection: str) -> str:
    """Return the Release Management service URL of a collection (trailing slash).

    Azure DevOps Services serves classic releases from another host:
    ``https://dev.azure.com/org/`` -> ``https://vsrm.dev.azure.com/org/`` and
    ``https://org.visualstudio.com/`` -> ``https://org.vsrm.visualstudio.com/``. Azure DevOps
    Server serves them from the collection URL itself.
    """
    parts = urlsplit(collection)
    host = parts.hostname or ""
    if host == "dev.azure.com":
        host = "vsrm.dev.azure.com"
    elif host.endswith(".visualstudio.com") and ".vsrm." not in host:
        host = host[: -len(".visualstudio.com")] + ".vsrm.visualstudio.com"
    else:
        return collection
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def segment(value: str | int) -> str:
    """One URL path segment (project names may hold spaces)."""
    return quote(str(value), safe="")


class AzureDevOpsClient:
    """GET requests against one Azure DevOps collection, with clear errors.

    :param base_url: the collection URL (trailing slash).
    :param credentials: how to authenticate.
    :param timeout: seconds any one request may take.
    :param log: the logger to report on.
    :param retry: how to honour Azure's ``429``/``503`` + ``Retry-After`` (default: no retry).
        With ``retry.budget`` set, the whole client (requests and waits together) never runs
        longer than that many seconds.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float,
        log: logging.Logger | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        import httpx

        self._httpx = httpx
        self.base_url = base_url
        self._credentials = credentials
        self._timeout = timeout
        self._log = log or logging.getLogger("customcd")
        self._retry = retry or RetryPolicy(retries=0)
        self._deadline = (
            None if self._retry.budget is None else self._retry.clock() + self._retry.budget
        )
        #: Azure may ask to slow down on a successful answer too (``Retry-After`` on a 200).
        self._not_before = 0.0
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": credentials.header,
                "Accept": "application/json",
                "User-Agent": "customcd-azure-devops",
            },
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    def __enter__(self) -> AzureDevOpsClient:
        """Use as a context manager to close the connection pool."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the connection pool."""
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[Any, str | None]:
        """GET ``path`` (relative to the collection); return the JSON and the continuation token.

        :raises AdapterError: one clear sentence for 401/403/203 sign-in pages/404/timeouts.
        """
        query = {key: value for key, value in (params or {}).items() if value is not None}
        shown = self.base_url + path
        attempt = 0
        while True:
            self._pause(shown)
            response = self._send(path, query, shown)
            wait = wait_seconds(
                response.headers, self._retry.clock_wall(), blocked=response.status_code == 429
            )
            if _retryable(response) and attempt < self._retry.retries:
                attempt += 1
                if wait is None:
                    wait = self._retry.backoff(attempt)
                self._wait(min(wait, self._retry.max_wait), response.status_code, shown)
                continue
            if response.status_code < 300 and wait:
                self._not_before = self._retry.clock() + min(wait, self._retry.max_wait)
            break
        self._check(response, shown)
        try:
            data = response.json()
        except ValueError:
            raise AdapterError(
                f"Azure DevOps answered {shown} with something that is not JSON; "
                "check that SYSTEM_COLLECTIONURI is the collection URL",
                docs=DOCS,
            ) from None
        return data, response.headers.get(CONTINUATION_HEADER) or None

    def _remaining(self) -> float | None:
        """Seconds left of the overall budget, or None without one."""
        if self._deadline is None:
            return None
        return self._deadline - self._retry.clock()

    def _send(self, path: str, query: Mapping[str, Any], shown: str) -> httpx.Response:
        """One GET, bounded by the per-call timeout and what is left of the budget."""
        timeout = self._timeout
        remaining = self._remaining()
        if remaining is not None:
            if remaining <= 0:
                raise self._out_of_time(shown)
            timeout = min(timeout, remaining)
        try:
            return self._http.get(path, params=query, timeout=self._httpx.Timeout(timeout))
        except self._httpx.TimeoutException:
            limit = self._timeout if self._retry.budget is None else self._retry.budget
            raise AdapterError(
                f"Azure DevOps did not answer within {limit:g} s ({shown}); "
                "try again or raise the timeout",
                docs=DOCS,
            ) from None
        except self._httpx.HTTPError as exc:
            raise AdapterError(
                f"could not reach Azure DevOps at {self.base_url} ({type(exc).__name__}): "
                "check SYSTEM_COLLECTIONURI and the network",
                docs=DOCS,
            ) from None

    def _out_of_time(self, shown: str) -> AdapterError:
        return AdapterError(
            f"Azure DevOps did not answer {shown} within the {self._retry.budget:g} s timeout "
            "(rate limited: it asked to retry later)",
            docs=DOCS,
        )

    def _wait(self, seconds: float, status: int, shown: str) -> None:
        """Sleep as Azure asked, unless that would overrun the budget (then fail clearly)."""
        remaining = self._remaining()
        if remaining is not None and seconds >= remaining:
            raise AdapterError(
                f"Azure DevOps is rate limiting (HTTP {status}) and asks to retry in "
                f"{seconds:g} s, more than the {max(remaining, 0):.0f} s left of the timeout, "
                f"for {shown}",
                docs=DOCS,
            )
        self._log.warning(
            "Azure DevOps answered HTTP %s (rate limited or busy): waiting %g s before retrying %s",
            status,
            seconds,
            shown,
        )
        self._retry.sleep(seconds)

    def _pause(self, shown: str) -> None:
        """Honour a ``Retry-After`` Azure sent with an earlier successful answer."""
        delay = self._not_before - self._retry.clock()
        if delay <= 0:
            return
        remaining = self._remaining()
        if remaining is not None and delay >= remaining:
            return  # step mode: better a request that may be delayed than no answer at all
        self._log.info("Azure DevOps asked to slow down: waiting %g s before %s", delay, shown)
        self._retry.sleep(delay)

    def pages(
        self, path: str, params: Mapping[str, Any], *, start_token: str | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Yield ``(items, next_token)`` page by page, following ``x-ms-continuationtoken``.

        The next page is requested only when the caller asks for it (lazy).
        """
        token = start_token
        while True:
            data, token = self.get(path, {**params, "continuationToken": token})
            items = data.get("value", []) if isinstance(data, dict) else data
            yield list(items or []), token
            if not token:
                return

    def _check(self, response: httpx.Response, shown: str) -> None:
        """Turn Azure's failure shapes into one clear sentence (no token, no traceback)."""
        source = self._credentials.source
        status = response.status_code
        content_type = response.headers.get("content-type", "")
        if status == 401:
            raise AdapterError(
                f"Azure DevOps refused the token in {source} (401 Unauthorized) at "
                f"{self.base_url}: it is missing, expired or revoked; {_MAP_CREDENTIAL_ADVICE}",
                docs=DOCS,
            )
        if (
            status == 203
            or (200 <= status < 300 and "text/html" in content_type)
            or (300 <= status < 400)
        ):
            raise AdapterError(
                f"Azure DevOps answered with a sign-in page instead of data (HTTP {status}) at "
                f"{self.base_url}: the token in {source} is not valid for this organization or "
                "collection (expired, mistyped, or created for another organization)",
                docs=DOCS,
            )
        if status == 403:
            raise AdapterError(
                f"Azure DevOps denied the token in {source} access (403 Forbidden) to {shown}: "
                "it needs Build (Read) (and Environment/Release read for history); for "
                "System.AccessToken check the project's job authorization scope",
                docs=DOCS,
            )
        if status == 404:
            raise AdapterError(
                f"Azure DevOps found nothing at {shown} (404): check SYSTEM_COLLECTIONURI, the "
                f"project and the id, and that the token in {source} can see that project",
                docs=DOCS,
            )
        if status in (429, 503):
            after = response.headers.get("Retry-After")
            raise AdapterError(
                f"Azure DevOps kept refusing {shown} with HTTP {status} "
                f"({'rate limited' if status == 429 else 'service unavailable'}"
                f"{f', Retry-After {after} s' if after else ''}); try again later",
                docs=DOCS,
            )
        if status >= 400:
            raise AdapterError(
                f"Azure DevOps answered HTTP {status} for {shown}: {_server_message(response)}",
                docs=DOCS,
            )


def _retryable(response: httpx.Response) -> bool:
    """A 429 (rate limited), or a 503 that says when to come back (``Retry-After``).

    A 503 without ``Retry-After`` is an outage, not throttling: it fails at once, and a backfill
    resumes from its checkpoint later.
    """
    if response.status_code == 429:
        return True
    return response.status_code == 503 and bool(response.headers.get("Retry-After"))


def _server_message(response: httpx.Response) -> str:
    """Azure's own error text (``{"message": ...}``), cut short, or the reason phrase."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        text = " ".join(data["message"].split())
        return text[:300]
    return response.reason_phrase or "no details"
