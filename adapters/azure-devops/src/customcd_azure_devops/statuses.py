"""Azure DevOps native statuses and how they map to the Custom CD ``status`` field.

Three vocabularies meet here, compared case-insensitively by the core builder:

* ``AGENT_JOBSTATUS`` (step mode): ``Succeeded``, ``SucceededWithIssues``, ``Failed``,
  ``Canceled``, ``Skipped``;
* a build's ``result`` (REST): ``succeeded``, ``partiallySucceeded``, ``failed``, ``canceled``, and
  its ``status`` while unfinished: ``inProgress``, ``notStarted``, ``postponed``, ``cancelling``;
* a timeline record's / environment deployment record's ``result`` (``TaskResult``):
  ``succeeded``, ``succeededWithIssues``, ``failed``, ``canceled``, ``skipped``, ``abandoned``.

* a classic release deployment's ``deploymentStatus`` (``succeeded``, ``partiallySucceeded``,
  ``failed``) or, when it did not deploy, its ``operationStatus`` (``rejected``, ``canceled``,
  ``phaseCanceled``, ``phaseFailed``, ``gateFailed``).

``waitingForApproval`` is not an Azure value: the adapter sets it itself when a run's timeline shows
a pending ``Checkpoint.Approval`` record, or a release deployment waits for an approval or a
manual intervention. A rejected approval deployed nothing: no record (``rejected`` -> skip).
"""

from __future__ import annotations

from customcd.plugins.adapter import NOT_FINAL, SKIP

__all__ = ["STATUS_MAP", "WAITING_FOR_APPROVAL"]

#: The native status the adapter uses for a run parked on an approval or check.
WAITING_FOR_APPROVAL = "waitingForApproval"

#: Native status (any case) -> Custom CD status, SKIP or NOT_FINAL.
STATUS_MAP: dict[str, str] = {
    "Succeeded": "Succeeded",
    "SucceededWithIssues": "Succeeded",
    "partiallySucceeded": "Succeeded",
    "Failed": "Failed",
    "Canceled": "Failed",
    "Cancelled": "Failed",
    "abandoned": "Failed",
    "phaseCanceled": "Failed",
    "phaseFailed": "Failed",
    "gateFailed": "Failed",
    "rejected": SKIP,
    "Skipped": SKIP,
    "inProgress": NOT_FINAL,
    "notStarted": NOT_FINAL,
    "postponed": NOT_FINAL,
    "cancelling": NOT_FINAL,
    "pending": NOT_FINAL,
    WAITING_FOR_APPROVAL: "On Hold",
}
