"""The GitLab CI adapter: detection, the two collection modes, history and demo samples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from customcd.plugins.adapter import Adapter, DemoCase, HistoryQuery
from customcd.plugins.draft import CollectContext, Draft

from .options import GitLabOptions
from .statuses import STATUS_MAP

__all__ = ["GitLabAdapter"]


class GitLabAdapter(Adapter):
    """GitLab CI: job mode from ``CI_*`` variables, pipeline mode and history from the REST API."""

    name: ClassVar[str] = "gitlab"
    title: ClassVar[str] = "GitLab CI"
    status_map: ClassVar[Mapping[str, str]] = STATUS_MAP

    detect_variables = ("GITLAB_CI", "CI_SERVER_URL", "CI_JOB_ID")

    def detect(self, env: Mapping[str, str]) -> bool:
        """``GITLAB_CI=true``, or both ``CI_SERVER_URL`` and ``CI_JOB_ID`` (set by every runner)."""
        if (env.get("GITLAB_CI") or "").strip().lower() == "true":
            return True
        return bool(
            (env.get("CI_SERVER_URL") or "").strip() and (env.get("CI_JOB_ID") or "").strip()
        )

    def collect(self, context: CollectContext) -> Draft:
        """Collect in job mode, or in pipeline mode when ``mode = "pipeline"``."""
        options = GitLabOptions.load(context.adapter_options(self.name), context.env)
        if options.mode == "pipeline":
            from .pipeline import collect_pipeline

            return collect_pipeline(context, options)
        from .jobmode import collect_job

        return collect_job(context, options)

    def history(self, query: HistoryQuery) -> Iterator[Draft]:
        """Deployments (default) or pipelines of ``--project``/``--group``, oldest update first."""
        from .history import iter_history

        options = GitLabOptions.load(query.options, query.env)
        return iter_history(query, options)

    def backfill_params(self) -> Sequence[Any]:
        """Return ``--project``, ``--group``, ``--source``, ``--environment``, ``--ref``..."""
        from .backfill import backfill_options

        return backfill_options()

    def demo_cases(self) -> Sequence[DemoCase]:
        """Two deploy jobs' environments (success and failure), valid offline."""
        from .demo import demo_cases

        return demo_cases()

    def server_variable(self) -> str | None:
        """``CI_SERVER_URL``: the GitLab instance's base URL."""
        return "CI_SERVER_URL"

    def annotate(self, level: str, message: str) -> str | None:
        """Return ``None``: GitLab has no log annotation syntax (the plain line is enough)."""
        return None
