"""``customcd send``: build, validate and deliver the current job's record.

By default it never fails a pipeline: it exits 0 with one clear line on stderr saying what
happened. ``--strict`` (``CUSTOMCD_STRICT=1``) turns outcomes into exit codes; ``--dry-run``
always uses them.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from ..contract.problems import ConfigurationError, CustomcdError, InvalidRecord
from ..report import Reporter, exit_code_for
from .options import (
    SEND_SETTINGS,
    SETTING_NAMES,
    docs_hint,
    field_options,
    setting_options,
    strict_from,
)

__all__ = ["send"]


@click.command()
@field_options
@click.option(
    "--optional",
    "optional",
    multiple=True,
    metavar="KEY[:TYPE]=VALUE",
    help="An optional field; repeat a key for a list. TYPE: string (default), integer, "
    "float, duration, timestamp. Or a JSON object {key, value, type}. "
    "[env: CUSTOMCD_OPTIONAL, one entry a line; a key given by flag wins]",
)
@click.option(
    "--dry-run", is_flag=True, help="Print exactly the JSON body on stdout; send nothing."
)
@click.option("--no-replay", is_flag=True, help="Do not re-send older kept records first.")
@setting_options(SEND_SETTINGS)
def send(optional: tuple[str, ...], dry_run: bool, no_replay: bool, **flags: Any) -> None:
    """Build, validate and deliver the current job's record.

    Detects the CI (or --adapter), collects the fields, applies customcd.toml and your flags
    (flags win), validates against the contract, stores the record in the outbox and posts it.

    \b
    Examples:
      # Jenkins, in post { always { ... } }:
      customcd send --status "${currentBuild.currentResult}" \\
          --start-time-ms "${currentBuild.startTimeInMillis}"
      # GitLab CI, in after_script:
      customcd send
      # anywhere, all by hand:
      customcd send --adapter none --job-id 42 --commit-sha "$(git rev-parse HEAD)" \\
          --service-id 2 --repo-name acme/shop --start-time 1704018030 --duration 300 \\
          --status Succeeded --optional microservice=frontend --optional lead_time:duration=20
    """
    from ..config import load_config
    from ..pipeline import run_send
    from ..plugins.manager import get_plugin_manager

    settings = {k: v for k, v in flags.items() if k in SETTING_NAMES}
    fields = {k: v for k, v in flags.items() if k not in SETTING_NAMES}
    strict = strict_from(settings) or dry_run
    reporter = Reporter()
    config = None
    try:
        # leniently for a send: a configuration problem never costs the record (it is kept);
        # a dry run keeps nothing, so it stops at the first problem
        config = load_config(settings, os.environ, lenient=not dry_run)
        strict = strict or config.strict  # customcd.toml's `strict = true` too
        plugins = get_plugin_manager()
        if dry_run:
            from ..pipeline import prepare_record

            _, record, stopped = prepare_record(
                plugins=plugins,
                config=config,
                env=os.environ,
                flags=fields,
                optional_args=optional,
                reporter=reporter,
                now=time.time(),
            )
            if stopped is None and record is not None:
                click.echo(record.to_json())
            sys.exit(0)
        result = run_send(
            plugins=plugins,
            config=config,
            env=os.environ,
            flags=fields,
            optional_args=optional,
            reporter=reporter,
            replay=not no_replay,
        )
    except CustomcdError as exc:
        if isinstance(exc, ConfigurationError):
            reporter.error(f"{exc}{docs_hint(exc)}")  # with the CI's annotation, where it has one
        else:
            reporter.line(f"customcd: {exc}{docs_hint(exc)}")
        if isinstance(exc, InvalidRecord):
            reporter.line(
                "customcd: nothing was sent; fix the fields above (flags win over "
                "everything) and run again"
            )
            if config is not None and config.problems:  # a broken customcd.toml may be why
                said = "; ".join(str(problem) for problem in config.problems.values())
                reporter.line(f"customcd: the configuration has problems too: {said}")
        sys.exit(exc.exit_code if strict else 0)
    sys.exit(exit_code_for(result.outcome) if strict else 0)
