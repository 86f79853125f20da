"""Jenkins URLs: job names to ``job/.../job/...`` paths and back, roots of build URLs.

Jenkins names a job inside folders ``team/app/main``; its URL is
``<root>job/team/job/app/job/main/``.
Each name segment is URL-encoded once more in the path, so a multibranch branch job named
``feature%2Fx`` (the encoded branch ``feature/x``) lives at ``.../job/feature%252Fx/``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "build_url_for",
    "job_name_from_url",
    "job_path",
    "job_url_for",
    "job_url_of_build",
    "root_of",
    "with_slash",
]

_BUILD_TAIL = re.compile(r"^(?P<job>.*/)(?P<number>\d+)/?$")


def with_slash(url: str) -> str:
    """Return the URL with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def job_path(job_name: str) -> str:
    """Return ``job/a/job/b/`` for the job name ``a/b`` (each segment encoded once more)."""
    segments = [segment for segment in job_name.strip("/").split("/") if segment]
    return "".join(f"job/{quote(segment, safe='')}/" for segment in segments)


def job_url_for(root: str, job: str) -> str:
    """Return the URL of a job given by name (``team/app``) or already by URL."""
    if "://" in job:
        return with_slash(job)
    return with_slash(root) + job_path(job)


def build_url_for(root: str, job_name: str, number: str | int) -> str:
    """Return the URL of build ``number`` of the job ``job_name`` under the Jenkins ``root``."""
    return f"{job_url_for(root, job_name)}{number}/"


def root_of(url: str) -> str | None:
    """Return the Jenkins root of a job or build URL: all before the first ``/job/``."""
    parts = urlsplit(url)
    index = f"{parts.path}/".find("/job/")
    if not parts.scheme or index < 0:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[: index + 1], "", ""))


def job_url_of_build(build_url: str) -> str | None:
    """Return the job URL of a build URL (``.../job/app/42/`` -> ``.../job/app/``)."""
    match = _BUILD_TAIL.match(build_url.split("?", 1)[0])
    return match["job"] if match else None


def job_name_from_url(url: str) -> str | None:
    """Return the full job name of a job or build URL, as ``JOB_NAME`` has it."""
    segments = urlsplit(url).path.split("/")
    if "job" not in segments:
        return None
    names = []
    index = segments.index("job")
    while index + 1 < len(segments) and segments[index] == "job" and segments[index + 1]:
        names.append(unquote(segments[index + 1]))
        index += 2
    return "/".join(names) or None
