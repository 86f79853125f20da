"""Helpers of the standalone-build tests: find and unpack the archive, run it with no Python.

The archive is the one ``bash packaging/standalone/build`` made; ``.ci/run`` builds it and sets
``CUSTOMCD_STANDALONE_ARCHIVE`` to its path. Without that variable the tests are skipped, except
under CI (``CI`` set), where they fail: CI must never pass without having run them.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ARCHIVE_VARIABLE = "CUSTOMCD_STANDALONE_ARCHIVE"


def archive_or_skip() -> Path:
    """The standalone archive to test; skip (locally) or fail (under CI) when none is given."""
    value = os.environ.get(ARCHIVE_VARIABLE, "").strip()
    if not value:
        reason = (
            f"{ARCHIVE_VARIABLE} is not set: build the standalone with "
            f"`bash packaging/standalone/build` and set {ARCHIVE_VARIABLE} to the archive it "
            "prints (.ci/run does both)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"under CI the standalone build must be tested: {reason}")
        pytest.skip(reason)
    path = Path(value)
    if not path.is_file():
        pytest.fail(f"{ARCHIVE_VARIABLE}={value} is not a file")
    return path


def program_in(folder: Path) -> Path:
    """``customcd/customcd`` (``.exe`` on Windows) in the folder an archive was unpacked into."""
    return folder / "customcd" / ("customcd.exe" if os.name == "nt" else "customcd")


def unpack(archive: Path, into: Path) -> Path:
    """Unpack ``archive`` into ``into``; return the path of ``customcd/customcd``."""
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "tar_filter"):  # Python >= 3.10.12 / 3.11.4
            tar.extractall(into, filter="tar")
        else:  # pragma: no cover - older patch releases
            tar.extractall(into)  # our own build, the test checks its checksum
    program = program_in(into)
    assert program.is_file(), f"{archive} holds no {program.relative_to(into)}"
    return program


@dataclass(frozen=True)
class Ran:
    """One run of the frozen program."""

    returncode: int
    stdout: str
    stderr: str


def bare_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env -i PATH=/nonexistent HOME=<home>`` plus ``extra``: no Python, no tools on PATH."""
    return {"PATH": "/nonexistent", "HOME": str(home), **(extra or {})}


def run_bare(
    program: Path, args: list[str], home: Path, extra: Mapping[str, str] | None = None, **kw: object
) -> Ran:
    """Run the frozen ``program ARGS`` with exactly :func:`bare_env` as its environment."""
    done = subprocess.run(
        [str(program), *args],
        env=bare_env(home, extra),
        cwd=home,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        **kw,  # type: ignore[call-overload]
    )
    return Ran(done.returncode, done.stdout, done.stderr)


COMMIT = "4f9a3c2e1b0d8f7a6e5d4c3b2a1f0e9d8c7b6a59"


def gitlab_job(job_id: int, started: datetime | None = None) -> dict[str, str]:
    """The variables of a GitLab ``after_script`` of a successful deploy job (no API token)."""
    started = started or datetime.now(timezone.utc) - timedelta(minutes=2)
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "4242",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/shop",
        "CI_PIPELINE_ID": "987654",
        "CI_JOB_ID": str(job_id),
        "CI_JOB_NAME": "deploy-production",
        "CI_JOB_STAGE": "deploy",
        "CI_JOB_STARTED_AT": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "CI_JOB_STATUS": "success",
        "CI_COMMIT_SHA": COMMIT,
        "CI_COMMIT_REF_NAME": "main",
        "CI_ENVIRONMENT_NAME": "production",
        "GITLAB_USER_EMAIL": "dev@example.com",
        "CUSTOMCD_SERVICE_ID": "2",
    }
