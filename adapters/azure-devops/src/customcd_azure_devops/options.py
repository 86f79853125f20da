"""The selection flags of ``customcd backfill azure-devops`` (click imported only when asked)."""

from __future__ import annotations

from typing import Any

__all__ = ["backfill_options"]


def backfill_options() -> list[Any]:
    """Click options; their values reach :class:`~customcd.plugins.adapter.HistoryQuery` ``selection``."""
    import click

    return [
        click.Option(
            ["--project"],
            metavar="NAME",
            help="Azure DevOps project (default: SYSTEM_TEAMPROJECT).",
        ),
        click.Option(
            ["--definition"],
            type=int,
            multiple=True,
            metavar="ID",
            help="Pipeline (build definition) id; repeat for several. Default: all.",
        ),
        click.Option(
            ["--repository"],
            metavar="NAME",
            help="Only builds of this repository (Azure Repos name or id; owner/repo for GitHub).",
        ),
        click.Option(
            ["--repository-type"],
            default="TfsGit",
            show_default=True,
            metavar="TYPE",
            help="Repository type for --repository: TfsGit, GitHub, Bitbucket...",
        ),
        click.Option(
            ["--environment"],
            multiple=True,
            metavar="NAME",
            help="Import deployments to this environment (name or id), not builds; repeatable.",
        ),
        click.Option(
            ["--releases"],
            is_flag=True,
            help="Import classic release deployments (Release API), not builds.",
        ),
        click.Option(
            ["--release-definition"],
            type=int,
            multiple=True,
            metavar="ID",
            help="Classic release deployments of this release pipeline only; repeatable.",
        ),
    ]
