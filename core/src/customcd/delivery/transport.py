"""The webhook endpoint and the HTTP client: URL rules, TLS, proxies, no redirects.

Only this module builds the httpx client; it never logs headers, and the token lives in a
:class:`~pydantic.SecretStr` until the request is built.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..contract.problems import ConfigurationError

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = ["Endpoint", "make_client", "quiet_http_loggers", "warn_if_cleartext"]


#: A DNS name (ASCII, IDNs in punycode) or an IPv4/IPv6 literal.
_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]+"
)


def _shown(url: str) -> str:
    """The URL for a message: credentials and query never echoed (they may hold secrets)."""
    text = re.sub(r"//[^/?#@]*@", "//***@", url.strip())  # userinfo ends the authority only
    text = text.split("?", 1)[0].split("#", 1)[0]
    return repr(text)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where records go: ``{url}/webhook/company/{company_id}/cicd_job``.

    :param url: ``scheme://server:port`` (a path prefix is kept).
    :param company_id: the Allstacks company id.
    """

    url: str
    company_id: str

    @classmethod
    def parse(cls, url: str, company_id: str, *, allow_http: bool = False) -> Endpoint:
        """Check the URL and company id; refuse http:// to non-loopback hosts unless allowed.

        :raises ConfigurationError: naming the value and the rule.
        """
        if not url:
            raise ConfigurationError(
                "no Allstacks URL: set CUSTOMCD_URL (or --url) to scheme://server:port",
                docs="configuration.md",
            )
        if not company_id:
            raise ConfigurationError(
                "no company id: set CUSTOMCD_COMPANY_ID (or --company-id)", docs="configuration.md"
            )
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} is malformed (bad port or host)",
                docs="configuration.md",
            ) from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} is not a URL like https://server:port",
                docs="configuration.md",
            )
        if not _HOST.fullmatch(parts.hostname.strip("[]")):
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} has an invalid host name (letters, digits, dots and "
                "dashes; an IP address; or an IDN in its xn-- form)",
                docs="configuration.md",
            )
        if parts.username or parts.password:
            raise ConfigurationError(
                "CUSTOMCD_URL must not carry credentials; put the token in CUSTOMCD_TOKEN",
                docs="configuration.md",
            )
        if parts.query or parts.fragment:
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} must not have a query or fragment",
                docs="configuration.md",
            )
        if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
            raise ConfigurationError(
                f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted; "
                "use https://, or pass --allow-http (CUSTOMCD_ALLOW_HTTP=1) if you must",
                docs="configuration.md",
            )
        if not str(company_id).strip() or "/" in str(company_id):
            raise ConfigurationError(f"company id {company_id!r} is not valid")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{port}" if port else host
        base = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
        return cls(base, str(company_id).strip())

    @property
    def job_url(self) -> str:
        """The full URL of the cicd_job endpoint."""
        return f"{self.url}/webhook/company/{quote(self.company_id, safe='')}/cicd_job"

    @property
    def is_https(self) -> bool:
        """Whether TLS is used."""
        return self.url.startswith("https://")


class _NoAuthFilter(logging.Filter):
    """Drop log records from the HTTP stack that would show request headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().lower()
        return "authorization" not in message and "bearer" not in message


def quiet_http_loggers() -> None:
    """Keep httpx/httpcore at INFO at most and filter anything that mentions credentials."""
    for name in ("httpx", "httpcore", "hpack"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
        if not any(isinstance(f, _NoAuthFilter) for f in logger.filters):
            logger.addFilter(_NoAuthFilter())


def ssl_context(ca_bundle: str | None, ca_dir: str | None) -> ssl.SSLContext | bool:
    """The TLS verification to use: a custom CA file/dir, else the default trust store.

    :raises ConfigurationError: when the CA bundle cannot be read.
    """
    if not ca_bundle and not ca_dir:
        return True
    import ssl

    try:
        return ssl.create_default_context(cafile=ca_bundle or None, capath=ca_dir or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"cannot load the CA bundle {ca_bundle or ca_dir}: {exc}", docs="troubleshooting.md"
        ) from None


def _trust_nothing() -> ssl.SSLContext:
    """The TLS context of a plain-http endpoint's client: no CA at all, so it fails closed."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _proxy_mounts(
    verify: Callable[[], ssl.SSLContext],
) -> dict[str, httpx.BaseTransport | None]:
    """The mounts httpx makes for the proxy variables; each proxy transport made on first use.

    httpx reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY only when it builds its own
    transport; with ``transport=`` it ignores them. So the same map, from httpx's own reader
    (the private ``httpx._utils.get_environment_proxies``; ``tests/core/test_transport_proxy.py``
    compares the routes with the ones ``httpx.Client`` makes, to catch a change), is mounted here: a proxied URL goes through ``httpx.HTTPTransport(proxy=...)`` exactly as before
    (same TLS trust, ``trust_env``); a ``None`` mount (NO_PROXY) uses the client's transport. A
    proxy URL with an unknown scheme is still refused when the client is made.
    """
    import httpx
    from httpx._utils import get_environment_proxies

    class MadeOnUse(httpx.BaseTransport):
        """httpx's proxy transport, built on its first request (it imports httpcore)."""

        def __init__(self, proxy: httpx.Proxy) -> None:
            self.proxy = proxy
            self._made: httpx.BaseTransport | None = None
            self._lock = threading.Lock()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            """Build the proxy transport if needed and let it send ``request``."""
            with self._lock:
                if self._made is None:
                    self._made = httpx.HTTPTransport(
                        verify=verify(), trust_env=True, proxy=self.proxy
                    )
                made = self._made
            return made.handle_request(request)

        def close(self) -> None:
            """Close the proxy transport if it was built."""
            with self._lock:
                made, self._made = self._made, None
            if made is not None:
                made.close()

    return {
        pattern: None if url is None else MadeOnUse(httpx.Proxy(url=url))
        for pattern, url in get_environment_proxies().items()
    }


def make_client(
    endpoint: Endpoint,
    *,
    ca_bundle: str | None = None,
    ca_dir: str | None = None,
    timeout: float = 10.0,
    **extra: Any,
) -> Any:
    """An httpx client that verifies TLS, honours proxy variables and never follows redirects.

    Requests go through :class:`~customcd.delivery.stdlib_transport.StdlibTransport` (http.client, so
    neither httpcore nor h11 nor anyio is imported), except those the proxy variables route to a
    proxy: they go through httpx's own proxy transport (see :func:`_proxy_mounts`).

    :raises ConfigurationError: when the CA bundle cannot be read (https endpoints only).
    """
    import httpx

    from .stdlib_transport import StdlibTransport

    quiet_http_loggers()
    tls: ssl.SSLContext | Callable[[], ssl.SSLContext] | None
    if endpoint.is_https:
        # a custom CA is read now, so an unreadable bundle is a configuration error, not a retry;
        # the default trust (certifi or SSL_CERT_FILE/SSL_CERT_DIR, as httpx) on the first request
        verify = ssl_context(ca_bundle, ca_dir)
        tls = None if isinstance(verify, bool) else verify
    else:
        # plain http (loopback): no TLS ever happens on this client, so do not parse the CA
        # bundle; an empty context would refuse any certificate (fails closed)
        tls = _trust_nothing
    transport = StdlibTransport(ssl_context=tls)
    options: dict[str, Any] = {
        "transport": transport,
        "mounts": _proxy_mounts(transport.tls_context),
        **extra,
    }
    return httpx.Client(
        follow_redirects=False,
        trust_env=True,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": "customcd"},
        **options,
    )


def warn_if_cleartext(server: str, env: Mapping[str, str]) -> None:
    """Warn when CI credentials would travel over plain http:// to a non-loopback server.

    A plain ``http://`` CI server on a private network is allowed (many Jenkins servers are).
    """
    parts = urlsplit(server)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return
    credentials = (
        "JENKINS_API_TOKEN",
        "CUSTOMCD_GITLAB_TOKEN",
        "GITLAB_TOKEN",
        "AZURE_DEVOPS_PAT",
        "SYSTEM_ACCESSTOKEN",
        "GITHUB_TOKEN",
    )
    if any(env.get(name) for name in credentials):
        logging.getLogger("customcd").warning(
            "the CI server %s is plain http://: its credentials cross the network unencrypted",
            server,
        )
