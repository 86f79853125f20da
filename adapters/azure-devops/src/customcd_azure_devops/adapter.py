"""The Azure DevOps adapter: detection, step mode, history, demo samples, log annotations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from customcd.plugins.adapter import Adapter, DemoCase, HistoryQuery
from customcd.plugins.draft import CollectContext, Draft

from .envvars import is_azure
from .statuses import STATUS_MAP

__all__ = ["AzureDevOpsAdapter"]


class AzureDevOpsAdapter(Adapter):
    """Azure Pipelines: YAML runs, deployment jobs and classic releases (REST API 7.1, httpx)."""

    name: ClassVar[str] = "azure-devops"
    title: ClassVar[str] = "Azure DevOps"
    status_map: ClassVar[Mapping[str, str]] = STATUS_MAP

    detect_variables = ("TF_BUILD",)

    def detect(self, env: Mapping[str, str]) -> bool:
        """Tell whether ``env`` is an Azure Pipelines agent job (``TF_BUILD=True``)."""
        return is_azure(env)

    def collect(self, context: CollectContext) -> Draft:
        """Build the current job's draft from the agent's variables (REST for the start time)."""
        from .stepmode import collect_step

        return collect_step(context)

    def history(self, query: HistoryQuery) -> Iterator[Draft]:
        """Finished builds, deployments to ``--environment`` or classic release deployments."""
        from .history import iter_history

        return iter_history(query)

    def backfill_params(self) -> Sequence[Any]:
        """``--project``, ``--definition``, ``--repository``, ``--environment``, ``--releases``..."""
        from .options import backfill_options

        return backfill_options()

    def demo_cases(self) -> Sequence[DemoCase]:
        """Return samples: a YAML build's final step, a deployment job and a classic release."""
        from .demo import demo_cases

        return demo_cases()

    def server_variable(self) -> str | None:
        """Name the collection URL variable."""
        return "SYSTEM_COLLECTIONURI"

    def annotate(self, level: str, message: str) -> str | None:
        """Return a ``##vso[task.logissue]`` logging command (shown in the run summary)."""
        kind = "error" if level.lower() == "error" else "warning"
        # The message is "data" of a logging command: % is escaped first, line breaks collapse.
        text = " ".join(str(message).replace("%", "%AZP25").split())
        return f"##vso[task.logissue type={kind}]{text}"
