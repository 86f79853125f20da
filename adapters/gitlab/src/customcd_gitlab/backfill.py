"""The selection flags of ``customcd backfill gitlab`` (their values reach ``query.selection``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["backfill_options"]


def backfill_options() -> Sequence[Any]:
    """Click options: which projects, which history source, and its filters."""
    import click

    return (
        click.Option(
            ["--project"],
            multiple=True,
            metavar="ID|PATH",
            help="Project id or path (group/sub/project); repeatable.",
        ),
        click.Option(
            ["--group"], metavar="PATH", help="Every project of this group, subgroups included."
        ),
        click.Option(
            ["--source"],
            type=click.Choice(["deployments", "pipelines"]),
            default="deployments",
            show_default=True,
            help="Import deployments, or pipelines (for projects without environments).",
        ),
        click.Option(
            ["--environment"], metavar="NAME", help="Deployments to this environment only."
        ),
        click.Option(["--ref"], metavar="REF", help="Pipelines of this branch or tag only."),
        click.Option(
            ["--pipeline-source"],
            metavar="SOURCE",
            help="Pipelines of this source only (push, web, schedule, merge_request_event...).",
        ),
        click.Option(
            ["--pipeline-status"],
            multiple=True,
            metavar="STATUS",
            help="Pipelines with this status only (success, failed, canceled, manual); repeatable.",
        ),
    )
