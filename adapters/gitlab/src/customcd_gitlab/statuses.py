"""GitLab's native statuses and how they map to Custom CD statuses.

GitLab job and pipeline statuses (REST v4 and GraphQL ``CiJobStatus``): ``created``,
``waiting_for_resource``, ``preparing``, ``waiting_for_callback``, ``pending``, ``running``,
``success``, ``failed``, ``canceling``, ``canceled``, ``skipped``, ``manual``, ``scheduled``.
Deployment statuses add ``blocked`` (waiting for an approval).
"""

from __future__ import annotations

from collections.abc import Mapping

from customcd.plugins.adapter import NOT_FINAL, SKIP

__all__ = ["ACTIVE", "FINISHED", "STATUS_MAP", "WAITING"]

#: Native status -> Custom CD status (keys compared case-insensitively by the builder).
STATUS_MAP: Mapping[str, str] = {
    # finished
    "success": "Succeeded",
    "passed": "Succeeded",  # the word GitLab's UI shows for ``success``; accepted for --status
    "failed": "Failed",
    "canceled": "Failed",
    "canceling": "Failed",  # GitLab 17+: the job is being canceled and runs its after_script
    # waiting for a person (or a timer): nothing was deployed yet
    "manual": "On Hold",
    "scheduled": "On Hold",  # a ``when: delayed`` job counting down
    "blocked": "On Hold",  # a deployment waiting for approval (protected environment)
    # nothing ran: no record
    "skipped": SKIP,
    # still on its way
    "created": NOT_FINAL,
    "waiting_for_resource": NOT_FINAL,
    "preparing": NOT_FINAL,
    "waiting_for_callback": NOT_FINAL,
    "pending": NOT_FINAL,
    "running": NOT_FINAL,
}

#: Statuses of a job that ran to its end.
FINISHED = frozenset({"success", "failed", "canceled", "canceling"})
#: Statuses of a job that is queued or running now (``created`` is apart: it may wait forever).
ACTIVE = frozenset(
    {"waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running"}
)
#: Statuses of a job waiting for a person or a timer.
WAITING = frozenset({"manual", "scheduled", "blocked"})
