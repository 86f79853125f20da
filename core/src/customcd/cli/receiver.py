"""``customcd receiver``: the local Custom CD receiver in the foreground, for pipeline testing."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["receiver"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free one).")
@click.option("--company-id", default="1", show_default=True, help="Company id it serves.")
@click.option(
    "--token-env",
    default="CUSTOMCD_TOKEN",
    show_default=True,
    help="Accept only the token in this variable (any Bearer token when it is unset).",
)
@click.option(
    "--record",
    "record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append accepted bodies to this JSON-lines file.",
)
def receiver(host: str, port: int, company_id: str, token_env: str, record: Path | None) -> None:
    """Run the local Custom CD receiver in the foreground (for pipeline testing).

    It validates every body against the contract and prints what it accepted.

    \b
    Example:
      customcd receiver --port 8765 --record accepted.jsonl &
      CUSTOMCD_URL=http://127.0.0.1:8765 CUSTOMCD_COMPANY_ID=1 CUSTOMCD_TOKEN=t customcd send \\
          --adapter none --job-id 42 --commit-sha "$(git rev-parse HEAD)" --service-id 2 \\
          --repo-name acme/shop --start-time "$(date +%s)" --status Succeeded
    """
    from ..receiver import Receiver

    token = os.environ.get(token_env) or None
    server = Receiver(host=host, port=port, company_id=company_id, token=token, record_path=record)
    click.echo(
        f"customcd receiver listening on {server.endpoint} "
        f"({'token from ' + token_env if token else 'any Bearer token'}); Ctrl-C stops",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo(f"customcd receiver: accepted {len(server.accepted)} record(s)", err=True)
