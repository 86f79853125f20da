"""``customcd validate``: check JSON bodies against the contract, without sending anything."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..contract.problems import InvalidRecord
from ..report import EXIT

__all__ = ["validate"]


@click.command()
@click.argument("source", type=click.File("rb"), metavar="FILE|-")
def validate(source: Any) -> None:
    """Check a JSON body (a file, or - for stdin) against the Custom CD contract.

    Exit 0 when valid, 65 with every problem listed when not.

    \b
    Examples:
      # GitLab CI (or any CI): check the body a job would send
      customcd send --dry-run > body.json
      customcd validate body.json
      customcd send --dry-run | customcd validate -
    """
    from ..contract.job import Job

    body = _read_json(source.read())
    bodies = body if isinstance(body, list) else [body]
    if not bodies:
        click.echo("customcd: an empty list holds no body to check", err=True)
        sys.exit(EXIT["invalid"])
    failed = 0
    for index, item in enumerate(bodies):
        try:
            Job.from_body(item)
        except InvalidRecord as exc:
            failed += 1
            prefix = f"body #{index + 1}: " if len(bodies) > 1 else ""
            click.echo(f"customcd: {prefix}{exc}", err=True)
    if failed:
        sys.exit(EXIT["invalid"])
    click.echo("valid" if len(bodies) == 1 else f"{len(bodies)} bodies valid", err=True)


def _read_json(data: bytes) -> Any:
    """Strict JSON from bytes (UTF-8; no NaN/Infinity), or exit 65 with one clear line."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON (use a number or a string)")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        reason = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, RecursionError) as exc:
        reason = f"not usable JSON: {str(exc)[:120] or type(exc).__name__}"
    click.echo(f"customcd: {reason}", err=True)
    sys.exit(EXIT["invalid"])
