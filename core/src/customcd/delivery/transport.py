"""The webhook endpoint and the HTTP client: URL rules, TLS, proxies, no redirects.

Only this module builds the httpx client (plain httpx, its own transport); nothing here logs
headers, and the token lives in a :class:`~pydantic.SecretStr` until the request is built.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from ..contract.problems import ConfigurationError

if TYPE_CHECKING:
    import http.cookiejar
    import ssl

    import httpx

__all__ = [
    "HEADERS",
    "Endpoint",
    "is_loopback",
    "make_client",
    "quiet_http_loggers",
    "tls_context",
    "warn_if_cleartext",
]


#: The headers of every webhook request, besides its Idempotency-Key and Authorization.
#: Replies are asked for uncompressed, so the bytes read are the bytes kept.
HEADERS = {
    "User-Agent": "customcd",
    "Accept": "application/json",
    "Accept-Encoding": "identity",
    "Content-Type": "application/json",
}

#: A DNS name (ASCII, IDNs in punycode) or an IPv4/IPv6 literal.
_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]+"
)


def _shown(url: str) -> str:
    """The URL for a message: credentials and query never echoed (they may hold secrets)."""
    text = re.sub(r"//[^/?#@]*@", "//***@", url.strip())  # userinfo ends the authority only
    text = text.split("?", 1)[0].split("#", 1)[0]
    return repr(text)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is loopback: a literal 127.0.0.0/8 or ::1 address, or exactly ``localhost``.

    Any other name, ``*.localhost`` included, is resolved through the system's resolver and may
    lead anywhere, so it is not loopback.
    """
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if address.version == 4:
        return address in ipaddress.IPv4Network("127.0.0.0/8")
    return address == ipaddress.IPv6Address("::1")


_WEBHOOK_PATH = re.compile(r"^(?P<base>.*?)/webhook/company/(?P<company>[^/]+)/cicd_job/?$")


def _webhook_base(path: str, company_id: str, url: str) -> tuple[str, str]:
    """A full webhook URL pasted into ``CUSTOMCD_URL``: its base path and its company id.

    ``https://host/webhook/company/12/cicd_job`` is understood as ``https://host`` with company
    ``12``; a company id given as well must be the same one. Any other ``/webhook/`` path is an
    error that says exactly what to set.
    """
    match = _WEBHOOK_PATH.match(path)
    if match is None:
        if "/webhook/" in f"{path}/":
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} holds part of the webhook path: set it to "
                "scheme://server:port only (customcd adds /webhook/company/<id>/cicd_job)",
                docs="configuration.md",
            )
        return path, company_id
    in_url = unquote(match["company"])
    if company_id and company_id.strip() != in_url:
        raise ConfigurationError(
            f"CUSTOMCD_URL is the full webhook URL of company {in_url!r} but the company id is "
            f"{company_id.strip()!r}: set CUSTOMCD_URL to scheme://server:port only, or make them "
            "agree",
            docs="configuration.md",
        )
    return match["base"], in_url


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
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ConfigurationError(
                f"CUSTOMCD_URL {_shown(url)} is malformed (bad port or host)",
                docs="configuration.md",
            ) from None
        path, company_id = _webhook_base(parts.path, str(company_id or ""), url)
        if not company_id:
            raise ConfigurationError(
                "no company id: set CUSTOMCD_COMPANY_ID (or --company-id)", docs="configuration.md"
            )
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
        if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
            raise ConfigurationError(
                f"refusing plain http:// to {parts.hostname}: the token would travel unencrypted; "
                "use https://, or pass --allow-http (CUSTOMCD_ALLOW_HTTP=1) if you must",
                docs="configuration.md",
            )
        if not str(company_id).strip() or "/" in str(company_id):
            raise ConfigurationError(f"company id {company_id!r} is not valid")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{port}" if port else host
        base = f"{parts.scheme}://{netloc}{path.rstrip('/')}"
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
    """Keep httpx/httpcore at INFO at most and filter anything that mentions credentials.

    A logger nobody configured is set to WARNING: httpx's INFO line for every request would
    only be made and thrown away (customcd logs its own outcomes).
    """
    for name in ("httpx", "httpcore", "hpack"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
        elif logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
        if not any(isinstance(f, _NoAuthFilter) for f in logger.filters):
            logger.addFilter(_NoAuthFilter())


def tls_context(
    endpoint: Endpoint, ca_bundle: str | None = None, ca_dir: str | None = None
) -> ssl.SSLContext:
    """The TLS verification of the endpoint's client; TLS is always verified.

    A custom CA file or folder when given, else httpx's default trust (``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``, else certifi). A plain-http endpoint gets a context that trusts no CA at
    all (no TLS happens on its client; were it ever to, it would fail closed), so a send to a
    loopback receiver never parses a CA bundle.

    :raises ConfigurationError: when the CA bundle cannot be read (https endpoints only).
    """
    import ssl

    if not endpoint.is_https:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not ca_bundle and not ca_dir:
        import httpx

        return httpx.create_ssl_context(trust_env=True)
    try:
        context = ssl.create_default_context(cafile=ca_bundle or None, capath=ca_dir or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"cannot load the CA bundle {ca_bundle or ca_dir}: {exc}", docs="troubleshooting.md"
        ) from None
    return context


def make_client(
    endpoint: Endpoint,
    *,
    ca_bundle: str | None = None,
    ca_dir: str | None = None,
    timeout: float = 10.0,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """The httpx client of one sending thread: TLS verified, proxies, no redirects, one connection.

    Plain httpx with its own transport: ``verify=`` the endpoint's :func:`tls_context` (or
    ``verify``, to share one context between threads), ``trust_env=True`` for the standard proxy
    variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) with one rule of ours
    on top — a loopback endpoint is never reached through a proxy (its requests would carry the
    token in clear to the proxy) — ``follow_redirects=False`` (the token is never sent to another
    URL), ``timeout`` for each phase (connecting, each write, each read) and at most one
    connection, kept alive: the deadline (:mod:`~customcd.delivery.deadline`) needs to know which
    socket a request is on. Replies are asked for without compression (``Accept-Encoding:
    identity``), so that the bytes read are the bytes kept, and no cookie is ever kept.

    :raises ConfigurationError: when the CA bundle cannot be read (https endpoints only).
    """
    import httpx

    quiet_http_loggers()
    host = urlsplit(endpoint.url).hostname or ""
    # the mount of the endpoint's own host wins over every proxy route httpx reads from the
    # environment: None is "the client's own transport", i.e. no proxy
    direct = {f"all://{'[' + host + ']' if ':' in host else host}": None}
    return httpx.Client(
        verify=verify if verify is not None else tls_context(endpoint, ca_bundle, ca_dir),
        trust_env=True,
        mounts=direct if is_loopback(host) else None,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        headers=HEADERS,
        cookies=_no_cookies(),
    )


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing.

    The webhook has no session: no answer can plant state into later requests, and no reply's
    headers are parsed for cookies. (``http.cookiejar`` is imported here, with httpx: a dry run
    imports neither.)
    """
    import http.cookiejar

    class NoCookies(http.cookiejar.CookieJar):
        def extract_cookies(self, response: Any, request: Any) -> None:
            """Keep no cookie."""

    return NoCookies()


def warn_if_cleartext(server: str, env: Mapping[str, str]) -> None:
    """Warn when CI credentials would travel over plain http:// to a non-loopback server.

    A plain ``http://`` CI server on a private network is allowed (many Jenkins servers are).
    """
    parts = urlsplit(server)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
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
