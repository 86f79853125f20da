"""Repository names from git remote URLs, with credentials stripped."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["redact_url", "repo_name_from_url"]

_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def repo_name_from_url(url: str) -> str | None:
    """``owner/repo`` (or ``group/sub/repo``) from an https, ssh or scp-style git URL.

    Credentials, ports and a trailing ``.git`` are dropped; Azure's ``_git`` segment too.
    Returns ``None`` when the URL has no path.
    """
    url = url.strip()
    if not url:
        return None
    if "://" in url:
        path = urlsplit(url).path
    else:
        match = _SCP.match(url)
        if not match:
            return None
        path = match["path"]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    parts = [p for p in path.split("/") if p and p != "_git"]
    if not parts:
        return None
    if "scm" in parts[:1] and len(parts) >= 3:  # Bitbucket Server: /scm/PROJECT/repo
        parts = parts[1:]
    return "/".join(parts) if len(parts) > 1 else parts[0]


def redact_url(url: str) -> str:
    """The URL with any ``user:password@`` removed, safe to print or send."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()
