"""``customcd plugins``: the loaded plugins, their distributions, adapters and hooks."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..contract.problems import CustomcdError

__all__ = ["plugins"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, their distributions, adapters and hooks.

    \b
    Examples:
      customcd plugins
      CUSTOMCD_DISABLE_PLUGINS=git customcd plugins --json
    """
    from ..plugins.manager import get_plugin_manager

    try:
        manager = get_plugin_manager()
        adapters = manager.adapters()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}", err=True)
        sys.exit(exc.exit_code)
    owner: dict[str, list[str]] = {}
    for impl in manager.pm.hook.customcd_adapters.get_hookimpls():
        try:
            found: Any = impl.function()
            names = [a.name for a in found or ()]
        except Exception:
            names = []
        owner[impl.plugin_name] = [n for n in names if n in adapters]
    rows: list[dict[str, Any]] = []
    for name, info in sorted(manager.info.items()):
        rows.append(
            {
                "name": name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "adapters": owner.get(name, []),
                "hooks": manager.hooks_of(name),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no plugins installed (pip install 'customcd[all]')")
        return
    from ..table import render_table

    click.echo(
        render_table(
            ["plugin", "distribution", "version", "adapters", "hooks"],
            [
                [
                    r["name"],
                    r["distribution"],
                    r["version"],
                    ", ".join(r["adapters"]) or "-",
                    ", ".join(h.removeprefix("customcd_") for h in r["hooks"]),
                ]
                for r in rows
            ],
        )
    )
