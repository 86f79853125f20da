"""Reading the commit and the origin remote of a local checkout with the ``git`` command.

Every call is bounded by a short timeout, reads nothing from stdin (no credential prompt) and
fails quietly: outside a repository, without git, or when git refuses a directory it does not
trust (``safe.directory``), the answer is ``None`` and the reason is logged at debug level.
Remote URLs may embed credentials (``https://user:token@host/...``): they are never logged;
only the ``owner/repo`` name derived from them leaves this module.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence

from customcd.repourl import repo_name_from_url

__all__ = ["git_env", "head_commit", "remote_repo_name", "run_git"]

#: Variables that tell git where the repository is. The run's environment (``context.env``)
#: decides them, not whatever this process inherited (a git hook sets ``GIT_DIR``, for one).
LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def git_env(env: Mapping[str, str]) -> dict[str, str]:
    """Return the environment to run git in, with prompts switched off.

    It is this process's environment, except that the repository's location (``GIT_DIR``...)
    comes from ``env`` only.

    :param env: the run's environment mapping (``context.env``).
    """
    result = {k: v for k, v in os.environ.items() if k not in LOCATION_VARIABLES}
    result.update({k: env[k] for k in LOCATION_VARIABLES if env.get(k)})
    result["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password
    result["GIT_OPTIONAL_LOCKS"] = "0"  # never take the index lock of a working copy
    return result


def run_git(
    args: Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    timeout: float,
    log: logging.Logger,
) -> str | None:
    """Run ``git ARGS`` in ``cwd``; return its stripped stdout, or ``None`` on any failure.

    :param args: the git subcommand and its arguments.
    :param cwd: the directory to run in.
    :param env: the environment for git (see :func:`git_env`).
    :param timeout: seconds before git is killed.
    :param log: where failures are reported (debug level).
    """
    import subprocess  # only when git really runs: most sends never need it

    what = f"git {args[0]}"
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        log.debug("customcd-git: git is not installed (or not on PATH); nothing filled")
        return None
    except subprocess.TimeoutExpired:
        log.debug("customcd-git: %s took more than %g s in %s; gave up", what, timeout, cwd)
        return None
    except OSError as exc:
        log.debug("customcd-git: cannot run %s in %s (%s)", what, cwd, exc.strerror or exc)
        return None
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or [""])[0]
        log.debug(
            "customcd-git: %s failed in %s (exit %d): %s",
            what,
            cwd,
            result.returncode,
            _USERINFO.sub("", first),  # never let credentials reach a log line
        )
        return None
    return result.stdout.strip() or None


def head_commit(
    *, cwd: str, env: Mapping[str, str], timeout: float, log: logging.Logger
) -> str | None:
    """Return the full SHA of ``HEAD`` (SHA-1 or SHA-256 repositories), or ``None``."""
    out = run_git(
        ["rev-parse", "--verify", "HEAD^{commit}"], cwd=cwd, env=env, timeout=timeout, log=log
    )
    if out is None:
        return None
    sha = out.lower()
    if not _SHA.match(sha):
        log.debug("customcd-git: git rev-parse HEAD gave no full SHA; ignored")
        return None
    return sha


def remote_repo_name(
    remote: str, *, cwd: str, env: Mapping[str, str], timeout: float, log: logging.Logger
) -> str | None:
    """Return ``owner/repo`` from the URL of ``remote`` (credentials dropped), or ``None``."""
    url = run_git(["remote", "get-url", remote], cwd=cwd, env=env, timeout=timeout, log=log)
    if url is None:
        return None
    name = repo_name_from_url(url)
    if name is None:
        log.debug("customcd-git: the URL of remote %r has no repository path; ignored", remote)
    return name
