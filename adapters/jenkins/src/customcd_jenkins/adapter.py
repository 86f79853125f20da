"""The Jenkins adapter: detection, one record, history, demo samples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from customcd.plugins.adapter import Adapter, DemoCase, HistoryQuery
from customcd.plugins.draft import CollectContext, Draft

from . import env as _env
from .statuses import STATUS_MAP

__all__ = ["JenkinsAdapter"]


class JenkinsAdapter(Adapter):
    """Jenkins: pipelines (declarative and scripted), freestyle jobs, folders and multibranch.

    Environment mode needs no credentials; API mode (``JENKINS_USER`` + ``JENKINS_API_TOKEN``)
    reads the start time, result, causes and the right git revision from Jenkins.
    ``[adapters.jenkins]`` options: ``url`` (the root URL agents use), ``repo_url`` (the repository
    whose revision is the job's), ``api = false`` (never call the API), ``history_page_size``.
    """

    name: ClassVar[str] = "jenkins"
    title: ClassVar[str] = "Jenkins"
    status_map: ClassVar[Mapping[str, str]] = STATUS_MAP

    detect_variables = (
        "JOB_NAME",
        "BUILD_NUMBER",
        "BUILD_URL",
        "BUILD_TAG",
        "JENKINS_URL",
        "JENKINS_HOME",
    )

    def detect(self, env: Mapping[str, str]) -> bool:
        """Tell whether ``env`` is a Jenkins build (see :func:`customcd_jenkins.env.detect`)."""
        return _env.detect(env)

    def collect(self, context: CollectContext) -> Draft:
        """Collect the current build's draft: the environment, then the API if credentials allow."""
        from . import collect as _collect  # the API client only when a job is reported

        draft = _collect.collect(context, self.name)
        draft.adapter = self.name
        return draft

    def history(self, query: HistoryQuery) -> Iterator[Draft]:
        """Yield finished builds of the ``--job`` selections in the window, oldest first per job."""
        from .history import history

        for draft in history(query, self.name):
            draft.adapter = self.name
            yield draft

    def backfill_params(self) -> Sequence[Any]:
        """Return the options ``--job NAME`` (repeatable) and ``--repo-url URL``."""
        import click

        return (
            click.Option(
                ["--job", "job"],
                multiple=True,
                help="Jenkins job by full name (team/app) or URL; repeatable. Folders and "
                "multibranch projects include every job below them.",
            ),
            click.Option(
                ["--repo-url", "repo_url"],
                default=None,
                help="The repository whose revision is the job's, when builds check out several "
                "(e.g. a shared library too).",
            ),
        )

    def demo_cases(self) -> Sequence[DemoCase]:
        """Return samples: a declarative pipeline, a multibranch branch and a freestyle job."""
        from .demo import DEMO_CASES  # only the demo needs them

        return DEMO_CASES

    def server_variable(self) -> str | None:
        """Return ``JENKINS_URL``."""
        return "JENKINS_URL"
