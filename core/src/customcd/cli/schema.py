"""``customcd schema``: the JSON Schema of the Custom CD body."""

from __future__ import annotations

import json

import click

__all__ = ["schema"]


@click.command()
def schema() -> None:
    """Print the JSON Schema of the Custom CD body (for other tools to validate with).

    \b
    Example:
      customcd schema > custom-cd-job.schema.json
    """
    from ..contract.schema import job_schema

    click.echo(json.dumps(job_schema(), indent=2))
