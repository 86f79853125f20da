"""What the commands share: option decorators built from the settings registry, ``--strict``.

The flags of the run settings and of the record fields are declared once, in
:mod:`customcd.settings`; the decorators here turn them into click options, so a command, the
configuration reader and the generated reference cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from ..contract.problems import CustomcdError
from ..settings import FIELD_INPUTS, SETTINGS, Setting

__all__ = [
    "DELIVERY_SETTINGS",
    "SEND_SETTINGS",
    "SETTING_NAMES",
    "docs_hint",
    "field_options",
    "setting_options",
    "setting_params",
    "strict_env",
    "strict_from",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Settings of every command that delivers (send, outbox flush).
DELIVERY_SETTINGS = (
    "url",
    "company_id",
    "token_file",
    "strict",
    "outbox",
    "deadline",
    "timeout",
    "ca_bundle",
    "allow_http",
    "config",
)
#: Settings of ``customcd send``: the delivery ones and ``--adapter``.
SEND_SETTINGS = (*DELIVERY_SETTINGS, "adapter")
#: The names of every run setting, to tell a command's settings from its other parameters.
SETTING_NAMES = frozenset(s.name for s in SETTINGS)

_METAVARS = {"str": "TEXT", "path": "PATH", "float": "SECONDS", "int": "N"}


def _setting_option(setting: Setting) -> click.Option:
    """The click option of one run setting (from the settings registry)."""
    help_text = f"{setting.help} [env: {setting.env}]"
    if setting.kind == "bool":
        return click.Option(
            [setting.flag, setting.name], is_flag=True, default=None, help=help_text
        )
    return click.Option(
        [setting.flag, setting.name],
        default=None,
        metavar=_METAVARS.get(setting.kind, "VALUE"),
        help=help_text,
    )


def setting_params(names: tuple[str, ...]) -> list[click.Option]:
    """The options of the named settings, in registry order."""
    return [_setting_option(s) for s in SETTINGS if s.name in names and s.flag]


def setting_options(names: tuple[str, ...]) -> Callable[[F], F]:
    """Decorator adding the run-setting flags named (from the settings registry)."""

    def decorate(func: F) -> F:
        params = getattr(func, "__click_params__", [])
        params.extend(reversed(setting_params(names)))  # click reverses decorator order
        func.__click_params__ = params  # type: ignore[attr-defined]
        return func

    return decorate


def field_options(func: F) -> F:
    """Decorator adding one flag per record field (``--job-id``, ``--commit-sha``, ...)."""
    for item in reversed(FIELD_INPUTS):
        func = click.option(
            item.flag,
            item.field,
            default=None,
            metavar="VALUE",
            help=f"{item.help} [env: {item.env}]",
        )(func)
    return func


def strict_env() -> bool:
    """Whether ``CUSTOMCD_STRICT`` asks for the strict exit codes."""
    return os.environ.get("CUSTOMCD_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def strict_from(flags: Mapping[str, Any]) -> bool:
    """Whether ``--strict`` (among a command's setting flags) or ``CUSTOMCD_STRICT`` is on."""
    if flags.get("strict"):
        return True
    return strict_env()


def docs_hint(error: CustomcdError) -> str:
    """`` (see docs/PAGE)`` when the error names the page that explains it, else ``""``."""
    return f" (see docs/{error.docs})" if error.docs else ""
