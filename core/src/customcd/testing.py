"""A pytest plugin for adapter and plugin authors (entry point ``pytest11``).

Installing ``customcd`` makes these fixtures available in every pytest run; nothing to import or
configure. Each fixture's type is below; the receiver's API is
:class:`~customcd.receiver.Receiver`.

| fixture | type | what it gives |
|---|---|---|
| :func:`~customcd.testing.customcd_plugins` | :class:`~customcd.testing.PluginsFactory` | fresh plugin managers (:class:`~customcd.plugins.manager.Plugins`) |
| :func:`~customcd.testing.customcd_receiver` | :class:`~customcd.receiver.Receiver` | a local Custom CD endpoint on loopback |
| :func:`~customcd.testing.customcd_env` | ``dict[str, str]`` | ``CUSTOMCD_*`` variables for that receiver |
| :func:`~customcd.testing.customcd_cli` | :class:`~customcd.testing.CliRunner` | ``customcd ARGS`` in-process → :class:`~customcd.testing.CliResult` |
| :func:`~customcd.testing.customcd_dry_run` | :class:`~customcd.testing.DryRun` | the body ``customcd send --dry-run`` prints |
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from .plugins.manager import Plugins
    from .receiver import Receiver

__all__ = ["TEST_TOKEN", "CliResult", "CliRunner", "DryRun", "PluginsFactory"]

TEST_TOKEN = "test-token-0123456789"  # noqa: S105 - the local receiver's test token
"""The token the ``customcd_receiver`` accepts (``customcd_env`` sets it as ``CUSTOMCD_TOKEN``)."""


@dataclass(frozen=True)
class CliResult:
    """What an in-process ``customcd`` run gave."""

    exit_code: int
    """The exit code (0, or one of the documented codes: 65, 75, 77, 78...)."""
    stdout: str
    """Standard output (the JSON body of ``send --dry-run``, tables, ``--json`` output)."""
    stderr: str
    """Standard error: the ``customcd:`` lines a job log shows."""

    @property
    def body(self) -> Any:
        """Stdout parsed as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None


class PluginsFactory(Protocol):
    """The type of the ``customcd_plugins`` fixture: call it to build a plugin manager."""

    def __call__(
        self,
        env: Mapping[str, str] | None = None,
        extra: Iterable[tuple[str, Any]] = (),
        *,
        entry_points: Sequence[Any] | None = None,
    ) -> Plugins:
        """A fresh :class:`~customcd.plugins.manager.Plugins`, loaded like ``customcd`` loads it.

        :param env: where ``CUSTOMCD_PLUGINS`` / ``CUSTOMCD_DISABLE_PLUGINS`` are read (default:
            an empty mapping, so the test's own environment never disables a plugin).
        :param extra: ``(name, plugin)`` pairs to register besides the installed entry points:
            a module or an object with ``@hookimpl`` methods.
        :param entry_points: the entry points to load instead of the installed ones
            (``entry_points=[]`` loads none: only ``extra``).
        """
        ...


class CliRunner(Protocol):
    """The type of the ``customcd_cli`` fixture: call it to run ``customcd``."""

    def __call__(
        self, args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> CliResult:
        """Run ``customcd ARGS`` in-process and return what it printed and its exit code.

        :param args: the arguments after ``customcd``, e.g. ``["send", "--dry-run"]``.
        :param env: exactly the environment of the run (plus ``PATH``, ``HOME``, ``LANG``...):
            the test's own ``CUSTOMCD_*`` and CI variables are not seen. Without
            ``CUSTOMCD_OUTBOX``, a private outbox in ``tmp_path`` is used.
        :param cwd: the working folder (default ``tmp_path``), where ``customcd.toml`` is read.
        """
        ...


class DryRun(Protocol):
    """The type of the ``customcd_dry_run`` fixture."""

    def __call__(self, env: Mapping[str, str], *args: str) -> Any:
        """Run ``customcd send --dry-run ARGS`` with ``env``; assert exit 0; return the body.

        :param env: the environment (as for :class:`~customcd.testing.CliRunner`).
        :param args: more flags, e.g. ``"--status", "success"``.
        :return: the JSON body as a ``dict``.
        """
        ...


@pytest.fixture
def customcd_plugins() -> PluginsFactory:
    """A factory of fresh plugin managers.

    ``plugins = customcd_plugins(extra=[("mine", plugin)])``: each call builds a new
    :class:`~customcd.plugins.manager.Plugins` through :func:`~customcd.get_plugin_manager`, the
    path ``customcd`` itself takes: the installed entry points, the ``extra`` plugins,
    ``check_pending()``. Use its typed
    methods: ``plugins.adapters()["myci"]`` (your adapter, by name), ``plugins.info["myci"]``
    (distribution and version), ``plugins.hooks_of("myci")``, ``plugins.enrich(draft=...,
    context=...)``, ``plugins.before_send(body=..., job=...)``.
    """
    from .plugins.manager import get_plugin_manager

    def make(
        env: Mapping[str, str] | None = None,
        extra: Iterable[tuple[str, Any]] = (),
        *,
        entry_points: Sequence[Any] | None = None,
    ) -> Plugins:
        return get_plugin_manager(
            {} if env is None else env, extra=extra, entry_points=entry_points
        )

    return make


@pytest.fixture
def customcd_receiver() -> Iterator[Receiver]:
    """A local receiver on a free loopback port, stopped after the test.

    It serves company ``1`` and accepts only :data:`~customcd.testing.TEST_TOKEN`;
    ``customcd_env`` points ``customcd`` at it. Read ``receiver.accepted`` (the bodies it took,
    as dicts, in order) and ``receiver.requests`` (every
    :class:`~customcd.receiver.ReceivedRequest`, refused ones included); make it
    fail with ``receiver.inject(Fault(status=503))`` (:class:`~customcd.receiver.Fault`).
    """
    from .receiver import Receiver

    with Receiver(company_id="1", token=TEST_TOKEN) as receiver:
        yield receiver


@pytest.fixture
def customcd_env(customcd_receiver: Receiver, tmp_path: Path) -> dict[str, str]:
    """``CUSTOMCD_*`` variables for the test receiver, with a private outbox.

    ``CUSTOMCD_URL``, ``CUSTOMCD_COMPANY_ID`` and ``CUSTOMCD_TOKEN`` for ``customcd_receiver``,
    ``CUSTOMCD_OUTBOX`` in ``tmp_path``, and a short ``CUSTOMCD_DEADLINE`` (5 s) and
    ``CUSTOMCD_TIMEOUT`` (2 s). Add your CI's variables and ``CUSTOMCD_SERVICE_ID``.
    """
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
def customcd_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """Run ``customcd ARGS`` in-process, as a CI job would.

    ``result = customcd_cli(["send"], env=env)``: the run sees exactly ``env`` (plus ``PATH``,
    ``HOME``, ``LANG``...), and its output is captured: ``result.exit_code``, ``result.stdout``,
    ``result.stderr`` and ``result.body`` (stdout as JSON), a
    :class:`~customcd.testing.CliResult`. Plugins are loaded from the installed entry points, as
    ``customcd`` would load them.
    """
    import contextlib
    import io

    from .cli.main import main

    def run(
        args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
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
def customcd_dry_run(customcd_cli: CliRunner) -> DryRun:
    """The body ``customcd send --dry-run`` prints.

    ``body = customcd_dry_run(env, "--status", "success")`` returns it as a ``dict``; it fails
    the test, showing stderr, when the command does not exit 0.
    """

    def run(env: Mapping[str, str], *args: str) -> Any:
        result = customcd_cli(["send", "--dry-run", *args], env=env)
        assert result.exit_code == 0, result.stderr
        return result.body

    return run
