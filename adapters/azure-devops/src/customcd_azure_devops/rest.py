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
from urllib.parse import quote

from customcd.adapter import AdapterError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_VERSION",
    "CONTINUATION_HEADER",
    "DOCS",
    "PREVIEW_API_VERSION",
    "AzureDevOpsClient",
    "Credentials",
    "collection_url",
    "credentials_from_env",
    "segment",
]

#: The REST API version for builds, timelines and repositories.
API_VERSION = "7.1"
#: Environments and their deployment records are a preview API in 7.1.
PREVIEW_API_VERSION = "7.1-preview.1"
#: The response header carrying the token of the next page.
CONTINUATION_HEADER = "x-ms-continuationtoken"
#: The docs page that explains tokens and permissions.
DOCS = "azure-devops.md"

_MAP_CREDENTIAL_ADVICE = (
    "map the job token in the step (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)) "
    "or set AZURE_DEVOPS_PAT to a personal access token with Build (Read)"
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


def segment(value: str | int) -> str:
    """One URL path segment (project names may hold spaces)."""
    return quote(str(value), safe="")


class AzureDevOpsClient:
    """GET requests against one Azure DevOps collection, with clear errors.

    :param base_url: the collection URL (trailing slash).
    :param credentials: how to authenticate.
    :param timeout: seconds any one request may take.
    :param log: the logger to report on.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float,
        log: logging.Logger | None = None,
    ) -> None:
        import httpx

        self._httpx = httpx
        self.base_url = base_url
        self._credentials = credentials
        self._timeout = timeout
        self._log = log or logging.getLogger("customcd")
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
        try:
            response = self._http.get(path, params=query)
        except self._httpx.TimeoutException:
            raise AdapterError(
                f"Azure DevOps did not answer within {self._timeout:g} s ({shown}); "
                "try again or raise the timeout",
                docs=DOCS,
            ) from None
        except self._httpx.HTTPError as exc:
            raise AdapterError(
                f"could not reach Azure DevOps at {self.base_url} ({type(exc).__name__}): "
                "check SYSTEM_COLLECTIONURI and the network",
                docs=DOCS,
            ) from None
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
        if status >= 400:
            raise AdapterError(
                f"Azure DevOps answered HTTP {status} for {shown}: {_server_message(response)}",
                docs=DOCS,
            )


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
