"""The ``customcd_enrich`` hook: commit and repository from the local checkout, as a last resort.

Rules:

- a field is filled only when the draft has no value for it (no adapter set it) **and** the user
  did not give it (``--commit-sha`` / ``--repo-name`` or their ``CUSTOMCD_*`` variables, seen in
  ``context.overrides``); what an adapter or a flag set is never replaced;
- ``git`` runs in ``[adapters.git] path`` from ``customcd.toml`` (default: the current
  directory), honouring ``GIT_DIR`` / ``GIT_WORK_TREE`` from the environment, with a short timeout;
- the repository name comes from ``[adapters.git] remote`` (default ``origin``), as ``owner/repo``
  with any credentials in the URL dropped;
- nothing happens, quietly (debug log), outside a git checkout or without git.

Options (``customcd.toml``)::

    [adapters.git]
    path = "services/payments"   # where the checkout is (default: the current directory)
    remote = "upstream"          # whose URL names the repository (default: origin)
    timeout = 3                  # seconds per git call (default: 5, at most the run's timeout)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from customcd import CollectContext, Draft, hookimpl

from .checkout import git_env, head_commit, remote_repo_name

__all__ = ["customcd_enrich"]

#: The options table: ``[adapters.git]``.
NAME = "git"
DEFAULT_TIMEOUT = 5.0


@hookimpl
def customcd_enrich(draft: Draft, context: CollectContext) -> None:
    """Fill ``commit_sha`` and ``repo_name`` from the local checkout when nothing else did."""
    if draft.skip or context.history:
        return  # a past build (backfill): today's checkout says nothing about it
    wanted = [name for name in ("commit_sha", "repo_name") if _missing(name, draft, context)]
    if not wanted:
        return  # everything is known already: do not even start git

    options = context.adapter_options(NAME)
    cwd = _directory(options)
    if cwd is None:
        context.log.warning(
            "customcd-git: [adapters.git] path %r is not a directory; nothing filled",
            options.get("path"),
        )
        return
    env = git_env(context.env)
    timeout = _timeout(options, context.timeout)

    if "commit_sha" in wanted:
        sha = head_commit(cwd=cwd, env=env, timeout=timeout, log=context.log)
        if sha:
            draft.commit_sha = sha
            _note(draft, context, f"commit_sha {sha} from the local git checkout (HEAD in {cwd})")
    if "repo_name" in wanted:
        remote = str(options.get("remote") or "origin")
        name = remote_repo_name(remote, cwd=cwd, env=env, timeout=timeout, log=context.log)
        if name:
            draft.repo_name = name
            _note(draft, context, f"repo_name {name!r} from git remote {remote!r} in {cwd}")


def _note(draft: Draft, context: CollectContext, message: str) -> None:
    """Tell the user where a value came from (in the draft's notes and the log at ``-v``)."""
    draft.notes.append(message)
    context.log.info("customcd-git: %s", message)


def _missing(name: str, draft: Draft, context: CollectContext) -> bool:
    """Tell whether neither the draft nor the user's overrides hold ``name``."""
    value = getattr(draft, name)
    if value is not None and str(value).strip():
        return False
    given = context.overrides.get(name)
    return given is None or not str(given).strip()


def _directory(options: Mapping[str, Any]) -> str | None:
    """Return the checkout directory (the option, or the current directory), or ``None``."""
    path = options.get("path")
    if not path:
        return os.getcwd()
    full = os.path.abspath(os.path.expanduser(str(path)))
    return full if os.path.isdir(full) else None


def _timeout(options: Mapping[str, Any], run_timeout: float) -> float:
    """Return the per-call timeout: the option (or 5 s), never above the run's timeout."""
    try:
        chosen = float(options.get("timeout", DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        chosen = DEFAULT_TIMEOUT
    return max(0.1, min(chosen, run_timeout))
