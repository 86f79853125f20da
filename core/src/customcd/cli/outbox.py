"""``customcd outbox``: inspect, prune and re-send the records kept in the outbox."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from typing import Any

import click

from ..contract.problems import CustomcdError
from ..printable import network_text
from ..report import Reporter, exit_code_for
from .options import DELIVERY_SETTINGS, docs_hint, setting_options, strict_from

__all__ = ["outbox"]


@click.group()
def outbox() -> None:
    """Inspect and re-send kept records (pending and rejected).

    \b
    Examples:
      customcd outbox list
      customcd outbox flush
      customcd outbox prune --older-than 400
    """


@outbox.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@setting_options(("outbox", "config"))
def outbox_list(as_json: bool, **settings: Any) -> None:
    """List kept records.

    \b
    Examples:
      customcd outbox list
      customcd outbox list --json | jq '.[] | select(.state == "rejected")'
    """
    from ..config import load_config
    from ..delivery.outbox import Outbox

    try:
        # only the outbox setting matters here: any other problem is said, not in the way
        config = load_config(settings, os.environ, lenient=True)
        for problem in config.problems.values():
            click.echo(f"customcd: warning: {problem}", err=True)
        box = Outbox(config.outbox_path)
        entries = box.entries()
        delivered = box.ledger_size()
        box.close()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "key": e.key,
                        "state": e.state,
                        "job_id": e.body.get("job_id"),
                        "attempts": e.attempts,
                        "last_status": e.last_status,
                        "reason": e.reason,
                        "created": e.created,
                        "updated": e.updated,
                        # an unreadable row: its text as stored, to recover by hand
                        **({"body": None, "raw": e.raw} if e.state == "unreadable" else {}),
                        **({} if e.state == "unreadable" else {"body": e.body}),
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    from ..table import render_table

    click.echo(f"outbox {config.outbox_path}: {len(entries)} kept, {delivered} delivered (ledger)")
    if entries:
        click.echo(
            render_table(
                ["state", "job_id", "status", "attempts", "last", "reason", "stored"],
                [
                    [
                        e.state,
                        network_text(e.body.get("job_id", "?" if e.raw else ""), 40),
                        network_text(e.body.get("status", ""), 20),
                        str(e.attempts),
                        str(e.last_status or "-"),
                        network_text(e.reason, 60),
                        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.created)),
                    ]
                    for e in entries
                ],
            )
        )


@outbox.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, None),
    default=365,
    show_default=True,
    metavar="DAYS",
    help="Forget records delivered more than DAYS days ago.",
)
@setting_options(("outbox", "config"))
def outbox_prune(days: int, **settings: Any) -> None:
    """Shrink the ledger of delivered records (kept records are never touched).

    A record the ledger has forgotten would be sent again by a backfill of its time window (with
    the same Idempotency-Key), so keep at least as many days as you may backfill.

    \b
    Example:
      customcd outbox prune --older-than 400
    """
    from ..config import load_config
    from ..delivery.outbox import Outbox

    try:
        config = load_config(settings, os.environ)
        box = Outbox(config.outbox_path)
        removed = box.prune_ledger(days * 86_400)
        left = box.ledger_size()
        box.close()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    click.echo(
        f"customcd: forgot {removed} delivered record(s) older than {days} days; "
        f"{left} remain in the ledger",
        err=True,
    )


@outbox.command("flush")
@click.option("--rejected", is_flag=True, help="Also retry records the server rejected before.")
@setting_options(DELIVERY_SETTINGS)
def outbox_flush(rejected: bool, **settings: Any) -> None:
    """Re-send pending records (oldest first) within the deadline.

    \b
    Examples:
      customcd outbox flush
      customcd outbox flush --rejected --deadline 120    # after fixing the token
    """
    from ..config import load_config
    from ..delivery.dispatcher import Dispatcher
    from ..delivery.outbox import Outbox, OutboxUnavailable
    from ..delivery.retry import RetryPolicy
    from ..delivery.sender import Sender
    from ..delivery.transport import Endpoint
    from ..plugins.manager import get_plugin_manager

    strict = strict_from(settings)
    reporter = Reporter()
    try:
        config = load_config(settings, os.environ)
        strict = strict or config.strict
        endpoint = Endpoint.parse(config.url, config.company_id, allow_http=config.allow_http)
        if config.token is None:
            from ..contract.problems import ConfigurationError

            raise ConfigurationError("no token: set CUSTOMCD_TOKEN (or --token-file)")
        box = Outbox(config.outbox_path)
        manager = get_plugin_manager()
    except CustomcdError as exc:
        reporter.line(f"customcd: {exc}{docs_hint(exc)}")
        sys.exit(exc.exit_code if strict else 0)
    if rejected:
        box.requeue_rejected()
    sender = Sender(
        endpoint,
        config.token,
        policy=RetryPolicy(config.deadline, config.timeout),
        ca_bundle=config.ca_bundle,
        ca_dir=config.ca_dir,
    )
    dispatcher = Dispatcher(sender, box, on_outcome=lambda o: manager.outcome(outcome=o))
    codes = [0]
    delivered = 0
    for result in dispatcher.flush():
        delivered += result.kind == "delivered"
        reporter.outcome(result, replay=True)
        codes.append(exit_code_for(result))
    sender.close()
    for key, why in box.quarantined:
        reporter.quarantined(key, why)
    if dispatcher.outbox_error:  # said once, here
        reporter.line(f"customcd: {dispatcher.outbox_error} (see docs/outbox.md)")
        box.close()
        sys.exit(OutboxUnavailable.exit_code if strict else 0)
    try:
        left = Counter(entry.state for entry in box.entries())
    except OutboxUnavailable as exc:
        reporter.line(f"customcd: {exc}{docs_hint(exc)}")
        sys.exit(exc.exit_code if strict else 0)
    finally:
        box.close()
    # "flushed" counts deliveries (2xx), not attempts
    summary = f"customcd: flushed {delivered} record(s); {left['pending']} still pending"
    if left["rejected"]:
        summary += f"; {left['rejected']} rejected"
    if left["unreadable"]:
        summary += f"; {left['unreadable']} unreadable (quarantined, never sent)"
    reporter.line(summary)
    sys.exit(max(codes) if strict else 0)
