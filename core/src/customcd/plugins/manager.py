"""Finding, loading and calling plugins.

:func:`get_plugin_manager` builds a fresh :class:`Plugins` each time (no module-level singleton):
it adds the hook specs, registers every ``customcd`` entry point that
:func:`importlib.metadata.entry_points` finds — the CI adapters that ship with customcd are
separate distributions and load exactly like a third party's plugin — honours ``CUSTOMCD_PLUGINS`` (allow-list) and ``CUSTOMCD_DISABLE_PLUGINS`` (block-list),
and checks that every hook implementation matches a spec. Callers use the typed methods of
:class:`Plugins`, never ``pm.hook`` directly; each hook implementation is called on its own so
that one broken plugin is reported and skipped while the run goes on.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from ..contract.problems import ConfigurationError, CustomcdError
from . import hookspecs
from .hookspecs import NAME

if TYPE_CHECKING:
    import click

    from ..contract.job import Job
    from ..delivery.outcome import Outcome
    from .adapter import Adapter
    from .draft import CollectContext, Draft

__all__ = ["PluginInfo", "Plugins", "get_plugin_manager"]

log = logging.getLogger("customcd.plugins.manager")


class PluginInfo:
    """Where a registered plugin comes from.

    The distribution's name and version are read from its metadata only when asked for (messages,
    ``customcd plugins``): parsing every plugin's metadata would slow every pipeline step.

    :param name: the plugin's name (its entry-point name, or the name it was registered under).
    :param distribution: the distribution that provides it ("" when registered in code).
    :param version: that distribution's version.
    :param module: the imported module or object's qualified name.
    :param source: an entry point to read distribution and version from, lazily.
    """

    def __init__(
        self,
        name: str,
        distribution: str = "",
        version: str = "",
        module: str = "",
        *,
        source: Any = None,
    ) -> None:
        self.name = name
        self.module = module
        self._source = source
        self._origin: tuple[str, str] | None = (
            None if source is not None else (distribution, version)
        )

    def _resolve(self) -> tuple[str, str]:
        if self._origin is None:
            self._origin = _distribution_of(self._source)
        return self._origin

    @property
    def distribution(self) -> str:
        """The distribution that provides the plugin ("" when registered in code)."""
        return self._resolve()[0]

    @property
    def version(self) -> str:
        """That distribution's version."""
        return self._resolve()[1]


def _distribution_of(entry_point: Any) -> tuple[str, str]:
    """(name, version) of an entry point's distribution ("" when unknown)."""
    dist = getattr(entry_point, "dist", None)
    return (getattr(dist, "name", "") or "", getattr(dist, "version", "") or "")


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _warn(message: str) -> None:
    log.warning(message)


class Plugins:
    """A loaded set of customcd plugins with typed, fault-isolating hook calls.

    :param pm: the pluggy manager with the specs added.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.info: dict[str, PluginInfo] = {}
        self._adapters: dict[str, Adapter] | None = None

    # -- registration ---------------------------------------------------------------------

    def register(
        self,
        plugin: Any,
        *,
        name: str,
        distribution: str = "",
        version: str = "",
        source: Any = None,
    ) -> None:
        """Register a plugin object (module or instance) under ``name``.

        :raises ConfigurationError: when the name is taken by another plugin.
        """
        if self.pm.has_plugin(name) or name in self.info:
            other = self.info.get(name)
            where = f" (from {other.distribution or 'code'})" if other else ""
            new = PluginInfo(name, distribution, version, source=source).distribution
            raise ConfigurationError(
                f"two plugins are named {name!r}: {new or 'code'} and the one already "
                f"registered{where}; uninstall one or disable it with CUSTOMCD_DISABLE_PLUGINS",
                docs="plugins.md",
            )
        self.pm.register(plugin, name=name)
        module = getattr(plugin, "__name__", type(plugin).__qualname__)
        self.info[name] = PluginInfo(name, distribution, version, module, source=source)
        self._adapters = None

    def unregister(self, name: str) -> None:
        """Remove a registered plugin by name (used by tests and by fault isolation)."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name=name)
        self.info.pop(name, None)
        self._adapters = None

    # -- safe calling ---------------------------------------------------------------------

    def _call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook on its own; skip and warn on exceptions.

        Results come in pluggy's call order (last registered first) as ``(plugin, result)``.
        """
        caller = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            ok, result = self._call_one(impl, hook_name, kwargs)
            if ok:
                results.append((impl.plugin_name, result))
        return results

    def _call_one(self, impl: Any, hook_name: str, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """Call one implementation; ``(False, None)`` with a warning when it raises."""
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            return True, impl.function(**args)
        except Exception as exc:  # a plugin's bug must not break the pipeline
            _warn(
                f"plugin {impl.plugin_name!r}{self._origin(impl.plugin_name)} raised in "
                f"{hook_name}: {type(exc).__name__}: {exc}; continuing without it"
            )
            return False, None

    def _origin(self, plugin_name: str) -> str:
        info = self.info.get(plugin_name)
        if info and info.distribution:
            return f" from {info.distribution} {info.version}".rstrip()
        return ""

    # -- typed hook calls -----------------------------------------------------------------

    def adapters(self) -> dict[str, Adapter]:
        """Every adapter by name (loaded once per manager).

        :raises ConfigurationError: when two plugins add adapters with one name.
        """
        if self._adapters is not None:
            return self._adapters
        found: dict[str, tuple[Adapter, str]] = {}
        for plugin_name, result in self._call_each("customcd_adapters"):
            for adapter in result or ():
                name = getattr(adapter, "name", None)
                if not isinstance(name, str) or not name:
                    _warn(f"plugin {plugin_name!r} returned an adapter without a name; ignored")
                    continue
                if name in found:
                    other_plugin = found[name][1]
                    raise ConfigurationError(
                        f"two adapters are named {name!r}: one from "
                        f"{self.describe_origin(other_plugin)}, one from "
                        f"{self.describe_origin(plugin_name)}; uninstall one, or disable one with "
                        f"CUSTOMCD_DISABLE_PLUGINS={plugin_name}",
                        docs="plugins.md",
                    )
                found[name] = (adapter, plugin_name)
        self._adapters = {name: pair[0] for name, pair in sorted(found.items())}
        return self._adapters

    def describe_origin(self, plugin_name: str) -> str:
        """Say where a plugin comes from, for messages: distribution, version and name."""
        info = self.info.get(plugin_name)
        if info and info.distribution:
            return f"{info.distribution} {info.version} (plugin {plugin_name!r})"
        return f"plugin {plugin_name!r}"

    def enrich(self, *, draft: Draft, context: CollectContext) -> None:
        """Run every ``customcd_enrich`` implementation on the draft."""
        self._call_each("customcd_enrich", draft=draft, context=context)

    def before_send(
        self,
        *,
        body: dict[str, Any],
        job: Job,
        check: Callable[[dict[str, Any]], object] | None = None,
    ) -> tuple[str, str] | None:
        """Run ``customcd_before_send``; return ``(plugin, reason)`` of the first veto, if any.

        Each plugin's change to ``body`` is its own: when the plugin raises, or ``check`` (e.g.
        the contract's validation) refuses the body it left, the change is undone with a warning
        naming the plugin and its distribution, and the record goes on as it was before that
        plugin — one buggy plugin never stops a delivery.
        """
        hook_name = "customcd_before_send"
        for impl in reversed(self.pm.hook.customcd_before_send.get_hookimpls()):
            before = copy.deepcopy(body)
            ok, result = self._call_one(impl, hook_name, {"body": body, "job": job})
            problem = "" if ok else "it raised"
            if ok and check is not None and body != before:
                try:
                    check(body)
                except CustomcdError as exc:
                    problem = "its change breaks the contract: " + " ".join(str(exc).split())
            if problem:
                body.clear()
                body.update(before)
                if ok:  # a raise was already said by _call_one
                    _warn(
                        f"plugin {impl.plugin_name!r}{self._origin(impl.plugin_name)} in "
                        f"{hook_name}: {problem}; the record is sent as it was before that plugin"
                    )
                continue
            if isinstance(result, str) and result.strip():
                return impl.plugin_name, result.strip()
        return None

    def outcome(self, *, outcome: Outcome) -> None:
        """Tell every observer what happened to a record."""
        self._call_each("customcd_outcome", outcome=outcome)

    def add_cli(self, *, cli: click.Group) -> None:
        """Let plugins add subcommands; a plugin may not replace an existing command."""
        for impl in reversed(self.pm.hook.customcd_cli.get_hookimpls()):
            before = dict(cli.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                _warn(f"plugin {impl.plugin_name!r} raised in customcd_cli: {exc}; skipped")
            for name, command in list(cli.commands.items()):
                if name in before and before[name] is not command:
                    cli.commands[name] = before[name]
                    _warn(
                        f"plugin {impl.plugin_name!r} tried to replace command {name!r}; kept ours"
                    )

    def implements(self, hook_name: str) -> bool:
        """Whether any registered plugin implements the hook."""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    def hooks_of(self, name: str) -> list[str]:
        """The hook names a registered plugin implements."""
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            return []
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)


def _entry_points() -> Sequence[Any]:
    """The installed ``customcd`` entry points, found by :mod:`importlib.metadata`.

    One scan per ``sys.path``: a command builds its plugin manager more than once (its
    subcommands, then its own work), and the scan reads every installed distribution's metadata.
    A path that changes (a program or a test adding a folder) is scanned afresh.
    """
    import sys

    return _installed(tuple(sys.path))


@functools.lru_cache(maxsize=8)
def _installed(path: tuple[str, ...]) -> tuple[Any, ...]:
    """The ``customcd`` entry points of the distributions on ``path`` (see :func:`_entry_points`)."""
    from importlib.metadata import entry_points

    return tuple(entry_points(group=NAME))


def get_plugin_manager(
    env: Mapping[str, str] | None = None,
    *,
    extra: Iterable[tuple[str, Any]] = (),
    entry_points: Sequence[Any] | None = None,
) -> Plugins:
    """Build a fresh plugin manager: specs, entry points, ``extra``, ``check_pending()``.

    :param env: where ``CUSTOMCD_PLUGINS`` / ``CUSTOMCD_DISABLE_PLUGINS`` are read (default:
        ``os.environ``).
    :param extra: ``(name, plugin)`` pairs to register as well (tests, embedding programs).
    :param entry_points: the entry points to load instead of the installed ones (tests).
    """
    import os

    env = os.environ if env is None else env
    allowed = _names(env.get("CUSTOMCD_PLUGINS"))
    disabled = _names(env.get("CUSTOMCD_DISABLE_PLUGINS")) or set()

    pm = pluggy.PluginManager(NAME)
    pm.add_hookspecs(hookspecs)
    plugins = Plugins(pm)

    def wanted(*names: str) -> bool:
        if any(n in disabled for n in names):
            return False
        return allowed is None or any(n in allowed for n in names)

    by_distribution = bool(disabled) or allowed is not None
    for ep in _entry_points() if entry_points is None else entry_points:
        names = (ep.name, _distribution_of(ep)[0]) if by_distribution else (ep.name,)
        if not wanted(*names):
            pm.set_blocked(ep.name)
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party package must not break the pipeline
            dist_name, version = _distribution_of(ep)
            _warn(
                f"plugin {ep.name!r} from {dist_name or '?'} {version} failed to load "
                f"({type(exc).__name__}: {exc}); continuing without it"
            )
            continue
        try:
            plugins.register(plugin, name=ep.name, source=ep)
        except pluggy.PluginValidationError as exc:
            plugins.unregister(ep.name)
            dist_name, version = _distribution_of(ep)
            _warn(
                f"plugin {ep.name!r} from {dist_name or '?'} {version} is invalid ({exc}); "
                "continuing without it"
            )

    for name, plugin in extra:
        if wanted(name):
            plugins.register(plugin, name=name)

    _check_pending(plugins)
    return plugins


def _check_pending(plugins: Plugins) -> None:
    """Drop (with a warning) every plugin that implements a hook customcd does not have."""
    while True:
        try:
            plugins.pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = plugins.pm.get_name(exc.plugin) or "?"
            _warn(
                f"plugin {name!r}{plugins._origin(name)} implements an unknown hook ({exc}); "
                "continuing without it"
            )
            plugins.unregister(name)
