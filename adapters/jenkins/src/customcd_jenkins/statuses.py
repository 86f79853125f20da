"""Jenkins' native statuses and what they become in a Custom CD record."""

from __future__ import annotations

from customcd.plugins.adapter import NOT_FINAL, SKIP

__all__ = ["STATUS_MAP"]

#: Build results (``currentBuild.currentResult``, API ``result``) and ``wfapi`` run statuses.
STATUS_MAP: dict[str, str] = {
    "SUCCESS": "Succeeded",
    "UNSTABLE": "Succeeded",
    "FAILURE": "Failed",
    "FAILED": "Failed",  # wfapi/describe
    "ABORTED": "Failed",
    "NOT_BUILT": SKIP,
    "NOT_EXECUTED": SKIP,  # wfapi/describe
    "PAUSED_PENDING_INPUT": "On Hold",  # wfapi/describe: waiting at an input step
    "BUILDING": NOT_FINAL,  # API result null while the build runs
    "IN_PROGRESS": NOT_FINAL,  # wfapi/describe
}
