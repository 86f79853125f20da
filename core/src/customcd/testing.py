"""A pytest plugin for adapter and plugin authors (entry point ``pytest11``).

Fixtures:

- ``customcd_plugins``: a factory for a fresh plugin manager (``customcd_plugins(env=..., extra=[...])``).
- ``customcd_receiver``: a running local receiver (token ``test-token``, company ``1``).
- ``customcd_env``: the ``CUSTOMCD_*`` variables pointing at that receiver, with a private outbox.
- ``customcd_cli``: run the ``customcd`` command in-process with a given environment:
  ``result = customcd_cli(["send", "--dry-run"], env={...})`` -> ``.exit_code``, ``.stdout``,
  ``.stderr``, ``.body`` (the JSON on stdout, if any).
- ``customcd_dry_run``: ``customcd_dry_run(env, *args)`` -> the body ``send --dry-run`` prints.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .plugins.manager import Plugins
    from .receiver import Receiver

__all__ = ["TEST_TOKEN", "CliResult"]

#: The token the test receiver accepts.
TEST_TOKEN = "test-token-0123456789"  # noqa: S105 - the local receiver's test token


@dataclass(frozen=True)
class CliResult:
    """What an in-process ``customcd`` run gave.

    :param exit_code: the exit code.
    :param stdout: standard output.
    :param stderr: standard error.
    """

    exit_code: int
    stdout: str
    stderr: str

    @property
    def body(self) -> Any:
        """Stdout parsed as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None


@pytest.fixture
def customcd_plugins() -> Callable[..., Plugins]:
    """Factory for fresh plugin managers: ``customcd_plugins(env=None, extra=())``."""
    from .plugins.manager import get_plugin_manager

    def make(
        env: Mapping[str, str] | None = None, extra: Iterable[tuple[str, Any]] = (), **kwargs: Any
    ) -> Plugins:
        return get_plugin_manager({} if env is None else env, extra=extra, **kwargs)

    return make


@pytest.fixture
def customcd_receiver() -> Iterator[Receiver]:
    """A local receiver on a free loopback port, stopped after the test."""
    from .receiver import Receiver

    with Receiver(company_id="1", token=TEST_TOKEN) as receiver:
        yield receiver


@pytest.fixture
def customcd_env(customcd_receiver: Receiver, tmp_path: Path) -> dict[str, str]:
    """``CUSTOMCD_*`` variables for the test receiver and a private outbox (short deadline)."""
    return {
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "outbox.sqlite3"),
        "CUSTOMCD_DEADLINE": "5",
        "CUSTOMCD_TIMEOUT": "2",
    }


def _clean_environ(env: Mapping[str, str]) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH", "VIRTUAL_ENV"}
    base = {k: v for k, v in os.environ.items() if k in keep}
    base.update(env)
    return base


@pytest.fixture
def customcd_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., CliResult]:
    """Run ``customcd ARGS`` in-process with exactly ``env`` (plus PATH/HOME) as the environment."""
    import contextlib
    import io

    from .cli.main import main

    def run(
        args: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> CliResult:
        environ = _clean_environ(env or {})
        environ.setdefault("CUSTOMCD_OUTBOX", str(tmp_path / "cli-outbox.sqlite3"))
        out, err = io.StringIO(), io.StringIO()
        logger = logging.getLogger("customcd")
        saved = (list(logger.handlers), logger.level, logger.propagate)
        with monkeypatch.context() as patch:
            patch.setattr(os, "environ", environ)
            patch.chdir(cwd or tmp_path)
            code = 0
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main(list(args))
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                finally:
                    logger.handlers[:], logger.level, logger.propagate = saved
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def customcd_dry_run(customcd_cli: Callable[..., CliResult]) -> Callable[..., Any]:
    """``customcd_dry_run(env, *args)``: the body ``customcd send --dry-run`` prints (asserts exit 0)."""

    def run(env: Mapping[str, str], *args: str) -> Any:
        result = customcd_cli(["send", "--dry-run", *args], env=env)
        assert result.exit_code == 0, result.stderr
        return result.body

    return run
