"""Throwaway git repositories for the customcd-git tests."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from customcd import CollectContext

#: An origin URL with a password embedded: it must never reach a draft, a note or a log line.
SECRET = "ghp_FAKEsecret0123456789abcdefABCDEF01"
ORIGIN = f"https://deploy-bot:{SECRET}@github.com/acme/payments-api.git"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=30
    )
    return result.stdout.strip()


def make_repo(path: Path, origin: str | None = ORIGIN, *, commit: bool = True, **init: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", *(f"--{k.replace('_', '-')}={v}" for k, v in init.items()))
    if commit:
        (path / "README.md").write_text("hello\n")
        git(path, "add", "README.md")
        git(path, "commit", "-q", "-m", "first")
    if origin:
        git(path, "remote", "add", "origin", origin)
    return path


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with one commit and an origin URL that embeds credentials."""
    return make_repo(tmp_path / "checkout")


@pytest.fixture
def new_repo():
    """Create another repository: new_repo(path, origin=..., commit=..., object_format=...)."""
    return make_repo


@pytest.fixture
def run_git():
    """Run a git command in a test repository (isolated from the user's git config)."""
    return git


@pytest.fixture
def head():
    """The HEAD commit of a repository, as git itself says."""
    return lambda path: git(path, "rev-parse", "HEAD")


@pytest.fixture
def context():
    """Build a CollectContext: context(env, options, **overrides)."""

    def make(
        env: dict[str, str] | None = None, options: dict[str, Any] | None = None, **overrides: Any
    ) -> CollectContext:
        return CollectContext(
            env=env or {},
            overrides=overrides,
            options={"git": options} if options else {},
            timeout=10.0,
            now=1764400500.0,
            log=logging.getLogger("tests.customcd_git"),
        )

    return make


@pytest.fixture(autouse=True)
def _no_inherited_git_location(monkeypatch):
    # These tests decide where git looks; a surrounding git hook's GIT_DIR must not.
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
