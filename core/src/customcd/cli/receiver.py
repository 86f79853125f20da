"""``customcd receiver``: the local Custom CD receiver in the foreground, for pipeline testing."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..receiver import ReceivedRequest

__all__ = ["receiver", "summary"]


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

    It validates every body against the contract like the real endpoint and prints one line per
    request as it answers it (accepted, duplicate, or rejected with the reason); Ctrl-C or
    SIGTERM stops it with a summary.

    \b
    Example:
      customcd receiver --port 8765 --record accepted.jsonl &
      CUSTOMCD_URL=http://127.0.0.1:8765 CUSTOMCD_COMPANY_ID=1 CUSTOMCD_TOKEN=t customcd send \\
          --adapter none --job-id 42 --commit-sha "$(git rev-parse HEAD)" --service-id 2 \\
          --repo-name acme/shop --start-time "$(date +%s)" --status Succeeded
    """
    from ..receiver import Receiver

    def show(request: ReceivedRequest) -> None:
        click.echo(f"customcd receiver: {request.line()}", err=True)

    token = os.environ.get(token_env) or None
    server = Receiver(
        host=host,
        port=port,
        company_id=company_id,
        token=token,
        record_path=record,
        on_request=show,
    )
    click.echo(
        f"customcd receiver listening on {server.endpoint} "
        f"({'token from ' + token_env if token else 'any Bearer token'}); Ctrl-C stops",
        err=True,
    )
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        click.echo(f"customcd receiver: {summary(server.requests)}", err=True)


class _Terminated(Exception):
    """SIGTERM arrived: stop like Ctrl-C does."""


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def summary(requests: Sequence[ReceivedRequest]) -> str:
    """One line counting the requests by what they got: ``3 requests: 2 accepted, 1 rejected``."""
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for request in requests:
        if request.status == 201:
            counts["accepted"] += 1
        elif request.status == 200:
            counts["duplicate"] += 1
        else:
            counts["rejected"] += 1
    total = len(requests)
    parts = ", ".join(f"{count} {name}" for name, count in counts.items())
    return f"stopped; {total} request{'' if total == 1 else 's'}: {parts}"
