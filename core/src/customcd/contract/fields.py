"""The names, limits and descriptions of the Custom CD contract's fields.

Plain constants, without pydantic, so that drafts, adapters and the status mapping can use them
without building the model; :mod:`customcd.contract.job` builds the model from them.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "BASE_FIELDS",
    "DESCRIPTIONS",
    "EARLIEST_START",
    "FUTURE_TOLERANCE",
    "MAX_INT",
    "MAX_OPTIONAL_FIELDS",
    "MAX_OPTIONAL_VALUES",
    "MIN_INT",
    "OPTIONAL_TYPES",
    "STATUSES",
    "OptionalType",
    "Status",
]

Status = Literal["Succeeded", "Failed", "On Hold"]
OptionalType = Literal["string", "integer", "float", "duration", "timestamp"]

STATUSES: tuple[str, ...] = get_args(Status)
OPTIONAL_TYPES: tuple[str, ...] = get_args(OptionalType)
MAX_OPTIONAL_FIELDS = 20
MAX_OPTIONAL_VALUES = 20
#: The body's fields other than ``optional``, in the contract's order.
BASE_FIELDS: tuple[str, ...] = (
    "job_id",
    "commit_sha",
    "service_id",
    "job_start_time",
    "job_duration",
    "status",
    "repo_id",
    "repo_name",
    "triggered_by",
    "job_type",
)
#: Epoch seconds of 2000-01-01: an earlier start time is a unit or field mix-up, not a deployment.
EARLIEST_START = 946_684_800
#: How far in the future a start time may be (clock skew between CI agents) before it is an error.
FUTURE_TOLERANCE = 600
#: The range of a 64-bit signed integer: service ids, durations and optional whole numbers.
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)

DESCRIPTIONS: dict[str, str] = {
    "job_id": "Identifies the job; non-empty. Allstacks does not treat it as unique.",
    "commit_sha": "The full commit SHA: 40 (SHA-1) or 64 (SHA-256) hex characters.",
    "service_id": "ID of the Custom CD service the record is routed to (positive).",
    "job_start_time": "Start of the job, epoch seconds (not milliseconds).",
    "job_duration": "Duration of the job in whole seconds (>= 0).",
    "status": "Succeeded, Failed or On Hold.",
    "repo_id": "Repository id; one of repo_id and repo_name is required.",
    "repo_name": "Repository name; one of repo_id and repo_name is required.",
    "triggered_by": "User email or agent username; blank -> server default 'Custom CD Agent'.",
    "job_type": "Kind of job; blank -> server default 'CUSTOM_CD_JOB'.",
    "optional": "At most 20 extra properties {key, value, type}; keys unique.",
    "key": "Name of the property in Allstacks; non-empty, not a base field.",
    "value": "One value or a list of 1 to 20 values, each of the entry's type.",
    "type": "One of string, integer, float, duration, timestamp.",
}
