"""The start of a build without the API: a start file stamped with ``BUILD_TAG``, else the report.

Jenkins gives a build no start-time variable. A pipeline passes ``currentBuild.startTimeInMillis``
as a flag; a freestyle job has no ``currentBuild``, so its first build step writes the start to a
file, stamped with the build's ``BUILD_TAG`` (``jenkins-${JOB_NAME}-${BUILD_NUMBER}``)::

    echo "$BUILD_TAG $(date +%s)" > "$WORKSPACE/.customcd-start"

and the post-build step reads it (:func:`read_start_file`). The stamp is what makes it safe: a
workspace is reused by the next build, so a file left by build 41 must not give build 42 its
start (nor the start of a build that failed before its first step ran). A file whose stamp is not
this build's ``BUILD_TAG``, or that has no stamp, is ignored with a warning.

When neither the flags, the Jenkins API nor a start file give the start, the record is still kept
(:func:`report_time_fallback`): its start is the time of the report and its duration 0, marked
by the optional field ``start_time_source = report-time``. A failed build is then reported late
by its duration, never lost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customcd.plugins.draft import Draft

__all__ = [
    "DEFAULT_NAME",
    "START_SOURCE_KEY",
    "StartFile",
    "read_start_file",
    "report_time_fallback",
    "start_file_path",
]

#: The start file's name in the workspace.
DEFAULT_NAME = ".customcd-start"
#: The optional field saying where a start time that is not the build's own came from.
START_SOURCE_KEY = "start_time_source"
#: Epoch seconds before 2001 or with 13+ digits (milliseconds) are read as such.
_MS_DIGITS = 13


@dataclass(frozen=True)
class StartFile:
    """What a start file said.

    :param path: the file read.
    :param start: epoch seconds, when the file is this build's.
    :param problem: why it was not used (missing, stale, unstamped, unreadable), or ``None``.
    """

    path: Path
    start: int | None
    problem: str | None


def start_file_path(env: Mapping[str, str], options: Mapping[str, Any]) -> Path:
    """The start file: ``start_file`` in ``[adapters.jenkins]``, else the default name.

    A relative path is taken in ``WORKSPACE`` (the build's workspace), else the current directory.
    """
    given = str(options.get("start_file") or "").strip()
    path = Path(given or DEFAULT_NAME).expanduser()
    if path.is_absolute():
        return path
    base = (env.get("WORKSPACE") or "").strip()
    return Path(base) / path if base else Path(os.getcwd()) / path


def read_start_file(env: Mapping[str, str], options: Mapping[str, Any]) -> StartFile:
    """Read the start file and check its ``BUILD_TAG`` stamp against this build's."""
    path = start_file_path(env, options)
    tag = (env.get("BUILD_TAG") or "").strip()
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return StartFile(path, None, f"there is no start file {path}")
    except OSError as exc:
        return StartFile(path, None, f"the start file {path} is unreadable ({type(exc).__name__})")
    words = text.split()
    if len(words) != 2:
        return StartFile(
            path,
            None,
            f"the start file {path} holds {text[:60]!r}, not '<BUILD_TAG> <epoch seconds>': it "
            "cannot be told from a file an earlier build left, so it is ignored; write it with "
            'echo "$BUILD_TAG $(date +%s)"',
        )
    stamp, value = words
    if not tag:
        return StartFile(path, None, f"BUILD_TAG is not set, so the start file {path} is ignored")
    if stamp != tag:
        return StartFile(
            path,
            None,
            f"the start file {path} was written by {stamp}, not by this build ({tag}): an earlier "
            "build left it (this one failed before its first step wrote it?), so it is ignored",
        )
    if not value.isdigit():
        return StartFile(path, None, f"the start file {path} holds {value!r}, not epoch seconds")
    start = int(value)
    if len(value) >= _MS_DIGITS:
        start //= 1000  # written with milliseconds (date +%s%3N)
    return StartFile(path, start, None)


def report_time_fallback(draft: Draft, now: float, why: str) -> None:
    """Keep the record when nothing gives the start: start at the report, duration 0, marked."""
    draft.job_start_time = int(now)
    draft.job_duration = 0
    draft.add_optional(START_SOURCE_KEY, "report-time")
    draft.notes.append(
        f"{why}: job_start_time is the time of this report and job_duration 0 "
        f"({START_SOURCE_KEY}=report-time), so the build is still reported"
    )
