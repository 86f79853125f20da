"""``customcd demo``: the main job end to end on the embedded local receiver."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["demo"]


@click.command()
@click.option(
    "--keep",
    "keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's outbox and accepted records in this folder.",
)
def demo(keep: Path | None) -> None:
    """Run the main job end to end on the embedded local receiver.

    Starts the receiver on a free loopback port, runs every installed adapter on a bundled
    sample of its CI's environment, sends the contract's own sample, and shows what arrived.

    \b
    Example:
      customcd demo
    """
    from ..demo import run_demo

    sys.exit(run_demo(keep))
