"""``customcd backfill ADAPTER``: import deployment history from a CI server.

One subcommand per installed adapter that can list history; each has the common options below
plus its adapter's own selection flags.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import click

from ..contract.problems import CustomcdError
from .options import DELIVERY_SETTINGS, SETTING_NAMES, docs_hint, setting_params

__all__ = ["backfill"]

_log = logging.getLogger("customcd")

#: Backfill is run by people and batch jobs, not a pipeline step: it always uses the exit codes.
_BACKFILL_SETTINGS = tuple(name for name in DELIVERY_SETTINGS if name != "strict")


class _BackfillGroup(click.Group):
    """One subcommand per installed adapter that can list history."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Adapter names (those that implement history)."""
        from ..plugins.adapter import Adapter
        from ..plugins.manager import get_plugin_manager

        try:
            adapters = get_plugin_manager().adapters()
        except CustomcdError:
            return []
        return [n for n, a in adapters.items() if type(a).history is not Adapter.history]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The backfill command of one adapter: common options plus its selection flags."""
        from ..plugins.manager import get_plugin_manager

        try:
            adapter = get_plugin_manager().adapters().get(cmd_name)
        except CustomcdError as exc:
            raise click.ClickException(str(exc)) from None
        if adapter is None:
            return None
        params = [*_backfill_params(), *adapter.backfill_params()]

        def callback(**values: Any) -> None:
            _run_backfill(cmd_name, values)

        return click.Command(
            cmd_name,
            params=params,
            callback=callback,
            help=f"Import {adapter.title} history into Allstacks: the common options and the "
            f"{adapter.title} selection flags below. Examples: `customcd backfill --help`; "
            "more in docs/backfill.md.",
        )


def _backfill_params() -> list[click.Parameter]:
    params: list[click.Parameter] = [
        click.Option(
            ["--since"],
            required=True,
            metavar="DATE",
            help="Start of the window: 2024-01-01, ISO 8601 with zone, epoch s, or 90d.",
        ),
        click.Option(
            ["--until"], default=None, metavar="DATE", help="End of the window (default: now)."
        ),
        click.Option(
            ["--server"],
            default=None,
            metavar="URL",
            help="The CI server (default: the CI's usual variable, e.g. JENKINS_URL).",
        ),
        click.Option(
            ["--concurrency"],
            default=8,
            show_default=True,
            type=click.IntRange(1, 64),
            help="Records in flight at once.",
        ),
        click.Option(
            ["--dry-run"], is_flag=True, help="Write the bodies as JSON lines; send nothing."
        ),
        click.Option(
            ["--output"],
            type=click.File("w", encoding="utf-8"),
            default=None,
            help="With --dry-run: the JSON-lines file (default: stdout).",
        ),
        click.Option(
            ["--include-on-hold"],
            is_flag=True,
            help="Also send items waiting for a person (approval, manual job) as On Hold.",
        ),
        click.Option(["--restart"], is_flag=True, help="Ignore the saved checkpoint; start over."),
        click.Option(["--service-id"], default=None, help="Custom CD service (or routing rules)."),
        click.Option(["--job-type"], default=None, help="Job type for every record."),
        click.Option(
            ["--optional"],
            multiple=True,
            metavar="KEY[:TYPE]=VALUE",
            help="An optional field for every record; repeatable.",
        ),
    ]
    params.extend(setting_params(_BACKFILL_SETTINGS))
    return params


def _is_relative(text: str) -> bool:
    """Whether a window edge is relative to now (``90d``, ``12h``, ``2w``)."""
    import re

    return re.fullmatch(r"\s*\d+[hdw]\s*", text) is not None


def _window_edge(text: str, flag: str) -> int:
    """A window edge: ``YYYY-MM-DD`` (UTC), ISO 8601 with a zone, epoch seconds, or ``90d``."""
    import re

    from ..contract.problems import UsageError
    from ..contract.times import TimeError, to_epoch

    value = text.strip()
    relative = re.fullmatch(r"(\d+)([hdw])", value)
    if relative:
        unit = {"h": 3600, "d": 86400, "w": 7 * 86400}[relative[2]]
        return int(time.time()) - int(relative[1]) * unit
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    try:
        return to_epoch(value)
    except TimeError as exc:
        raise UsageError(f"{flag} {text!r} {exc}") from None


def _run_backfill(adapter_name: str, values: dict[str, Any]) -> None:
    from ..backfill import exit_code, run_backfill, summary
    from ..builder import field_overrides
    from ..config import load_config
    from ..delivery.transport import warn_if_cleartext
    from ..plugins.adapter import HistoryQuery
    from ..plugins.manager import get_plugin_manager
    from ..printable import network_text

    settings = {k: values.pop(k) for k in list(values) if k in SETTING_NAMES}
    common_names = (
        "since",
        "until",
        "server",
        "concurrency",
        "dry_run",
        "output",
        "include_on_hold",
        "restart",
        "optional",
    )
    common = {k: values.pop(k) for k in common_names}
    fields = {k: values.pop(k) for k in ("service_id", "job_type")}
    selection = values
    try:
        config = load_config(settings, os.environ)
        plugins = get_plugin_manager()
        adapter = plugins.adapters()[adapter_name]
        since = _window_edge(common["since"], "--since")
        until = _window_edge(common["until"], "--until") if common["until"] else None
        server = common["server"] or (os.environ.get(adapter.server_variable() or "") or None)
        if server:
            warn_if_cleartext(server, os.environ)
        query = HistoryQuery(
            since=since,
            until=until,
            selection=selection,
            server=server,
            env=os.environ,
            options=config.adapter_options.get(adapter_name, {}),
            include_on_hold=common["include_on_hold"],
            timeout=config.timeout,
            log=_log,
        )
        stats = run_backfill(
            plugins=plugins,
            adapter=adapter,
            config=config,
            query=query,
            overrides=field_overrides(fields, os.environ),
            optional_args=common["optional"],
            concurrency=common["concurrency"],
            dry_run=common["dry_run"],
            output=common["output"],
            restart=common["restart"],
            # a relative --since (90d) moves every run: keep the checkpoint by what was typed
            window_key=common["since"].strip() if _is_relative(common["since"]) else None,
        )
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    if stats.aborted and not stats.read:
        # nothing was read: a configuration or CI error, said once; no table of zeros
        click.echo(f"customcd: {network_text(stats.aborted, 2000)}", err=True)
        sys.exit(exit_code(stats))
    click.echo(summary(stats, dry_run=common["dry_run"]), err=True)
    if stats.aborted:
        click.echo(
            f"customcd: the CI stopped the history early: {network_text(stats.aborted, 2000)}",
            err=True,
        )
        if stats.read:
            click.echo(
                "customcd: run the same command again to resume after the last record "
                "done (--restart starts over)",
                err=True,
            )
    sys.exit(exit_code(stats))


@click.group(cls=_BackfillGroup)
def backfill() -> None:
    """Import deployment history from a CI server (one subcommand per adapter).

    Credentials come only from the environment (JENKINS_USER + JENKINS_API_TOKEN;
    CUSTOMCD_GITLAB_TOKEN or GITLAB_TOKEN; AZURE_DEVOPS_PAT or SYSTEM_ACCESSTOKEN). Records go
    through the same pipeline as `send`: routing, validation, outbox and ledger, so re-running a
    window sends nothing twice; an interrupted run resumes from its checkpoint. Exit codes: 0 all
    done, 75 some kept for retry, 77 auth refused, 65 rejected, 78 configuration.

    \b
    Examples:
      customcd backfill jenkins --job ops --since 2025-11-01 --service-id 4
      customcd backfill gitlab --project acme/shop/web --since 2025-11-01 --dry-run --output h.jsonl
      customcd backfill azure-devops --project "Fabrikam Web" --definition 12 --definition 14 \\
          --since 2025-11-01 --until 2025-12-01 --service-id 31
    """
