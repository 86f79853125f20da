"""GitLab CI adapter for customcd: report GitLab jobs, pipelines and deployments to Custom CD.

The adapter is found through the ``customcd`` entry point ``gitlab``
(:mod:`customcd_gitlab.plugin`).
Importing this package is cheap: python-gitlab is imported only when the GitLab API is used.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
