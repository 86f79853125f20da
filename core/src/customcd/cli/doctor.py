"""``customcd doctor``: check the set-up when nothing shows up in Allstacks."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .options import SEND_SETTINGS, SETTING_NAMES, setting_options

__all__ = ["doctor"]

_AREAS = {
    "ci": "CI and adapter",
    "setting": "Settings (flags > CUSTOMCD_* variables > customcd.toml > defaults)",
    "outbox": "Outbox",
    "endpoint": "Allstacks endpoint",
}
_MARK = {"ok": "ok  ", "info": "    ", "warn": "WARN", "fail": "FAIL"}


@click.command()
@setting_options(SEND_SETTINGS)
def doctor(**flags: Any) -> None:
    """Check the set-up: CI detection, settings, outbox, and the endpoint's DNS and TLS.

    Run it when nothing shows up in Allstacks, with the same variables as the pipeline step.
    Secrets are never shown and nothing is sent (the endpoint gets one GET). Exit 0 when every
    check passes (warnings included), 1 when one fails.

    \b
    Example:
      customcd doctor
      customcd doctor --url https://allstacks.example.com:443 --company-id 12
    """
    from ..doctor import diagnose

    settings = {k: v for k, v in flags.items() if k in SETTING_NAMES}
    failed = warned = 0
    area = ""
    for check in diagnose(settings, os.environ):
        if check.area != area:
            area = check.area
            click.echo(f"{_AREAS[area]}:")
        click.echo(f"  {_MARK[check.verdict]}  {check.name}: {check.detail}")
        failed += check.verdict == "fail"
        warned += check.verdict == "warn"
    if failed:
        click.echo(f"\n{failed} check(s) failed, {warned} warning(s): fix the FAIL lines first.")
        sys.exit(1)
    click.echo(f"\nAll is well ({warned} warning(s)).")
