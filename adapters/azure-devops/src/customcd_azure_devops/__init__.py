"""customcd adapter for Azure DevOps (Azure Pipelines YAML runs, deployment jobs, classic releases).

The adapter is registered through the ``customcd`` entry-point group by :mod:`.plugin`; it talks to
the Azure DevOps REST API 7.1 with httpx (imported only when a REST call is made).
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
