"""customcd-jenkins: report Jenkins builds to the Allstacks Custom CD webhook.

The adapter is registered through the ``customcd`` entry point ``jenkins`` (see :mod:`.plugin`).
Importing this package stays light: jenkinsapi is only imported when the Jenkins API is used.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
