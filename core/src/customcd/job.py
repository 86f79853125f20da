"""The Custom CD wire contract as pydantic v2 models.

:class:`Job` is exactly the JSON body Allstacks receives: validating a dict with
:meth:`Job.from_body` applies every rule of ``shared/spec/contract.md`` and reports every problem
at once; :meth:`Job.to_body` / :meth:`Job.to_json` give back the body to POST, byte for byte.
The models are strict about wire types (``"2"`` is not an integer, ``true`` is not an integer);
lenient inputs (status in any case, times as text, numbers as text) are the builder's business.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Annotated, Any, Literal, Optional, Union, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .problems import MISSING, InvalidRecord, Problem
from .times import looks_like_milliseconds

__all__ = [
    "BASE_FIELDS",
    "MAX_OPTIONAL_FIELDS",
    "MAX_OPTIONAL_VALUES",
    "OPTIONAL_TYPES",
    "STATUSES",
    "Job",
    "OptionalField",
    "Status",
]

Status = Literal["Succeeded", "Failed", "On Hold"]
STATUSES: tuple[str, ...] = ("Succeeded", "Failed", "On Hold")
OptionalType = Literal["string", "integer", "float", "duration", "timestamp"]
OPTIONAL_TYPES: tuple[str, ...] = ("string", "integer", "float", "duration", "timestamp")
MAX_OPTIONAL_FIELDS = 20
MAX_OPTIONAL_VALUES = 20
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

_HEX = re.compile(r"[0-9a-fA-F]+")

Scalar = Union[StrictInt, StrictFloat, StrictStr]


def _fail(error_type: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, ctx or None)


def _now(info: ValidationInfo) -> float:
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return float(now) if now is not None else time.time()


_RESERVED_KEYS = frozenset((*BASE_FIELDS, "optional"))
#: Types whose values need no further check when of exactly this Python type.
_EXACT: dict[str, type] = {"string": str, "integer": int, "duration": int}


def check_epoch_seconds(value: int, *, now: float, label: str = "time") -> None:
    """Raise a custom error when an epoch value is in ms, before 2000 or in the future."""
    if looks_like_milliseconds(value):
        raise _fail(
            "milliseconds",
            "looks like epoch milliseconds (13 digits); the contract wants seconds "
            "(divide by 1000, or use --start-time-ms)",
        )
    if value < EARLIEST_START:
        raise _fail(
            "too_early",
            "is before 2000-01-01; the contract wants epoch seconds (is this a duration?)",
        )
    if value > now + FUTURE_TOLERANCE:
        raise _fail(
            "future",
            "is more than 10 minutes in the future; check the {label} and the agent's clock",
            label=label,
        )


class OptionalField(BaseModel):
    """One entry of the ``optional`` list: ``{key, value, type}``.

    ``value`` is one value or a list of 1 to 20 values, each of the entry's ``type``:
    ``string`` -> text; ``integer`` -> whole number; ``float`` -> number; ``duration`` -> whole
    seconds (>= 0); ``timestamp`` -> epoch seconds. Booleans are never numbers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="Name of the property in Allstacks; non-empty, unique."
    )
    # The value's type depends on ``type``: checked in one pass by ``_values_match_type``.
    value: Any = Field(
        description="One value or a list of 1 to 20 values, each of the entry's type.",
        json_schema_extra={
            "anyOf": [
                {"type": ["string", "number", "integer"]},
                {"type": "array", "items": {"type": ["string", "number", "integer"]}},
            ]
        },
    )
    type: OptionalType = Field(description="One of string, integer, float, duration, timestamp.")

    @model_validator(mode="after")
    def _values_match_type(self, info: ValidationInfo) -> OptionalField:
        if self.key in _RESERVED_KEYS:
            raise _fail(
                "reserved_key",
                "is a base field of the contract; give it as that field, not as an optional one",
            )
        value = self.value
        if type(value) is list:
            if not value:
                raise _fail("empty_list", "is an empty list; give at least one value")
            if len(value) > MAX_OPTIONAL_VALUES:
                raise _fail(
                    "too_many_values",
                    "has {count} values; at most 20 are allowed in one optional field",
                    count=len(value),
                )
            checked = [self._check_value(item, info) for item in value]
            if checked != value:
                object.__setattr__(self, "value", checked)
        else:
            checked_one = self._check_value(value, info)
            if checked_one is not value:
                object.__setattr__(self, "value", checked_one)
        return self

    def _check_value(self, value: Any, info: ValidationInfo) -> Any:
        kind = self.type
        if _EXACT.get(kind) is type(value) and (kind != "duration" or cast(int, value) >= 0):
            return value  # the common cases, decided at once
        if isinstance(value, bool):
            raise _fail(
                "value_type",
                "{bad} is a boolean, not a value of type '{kind}'",
                bad=repr(value),
                kind=kind,
            )
        if kind == "string":
            if not isinstance(value, str):
                raise _fail(
                    "value_type", "{bad} is not a string, as type 'string' needs", bad=repr(value)
                )
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _fail(
                    "value_type", "{bad} is not a number, as type 'float' needs", bad=repr(value)
                )
            if value != value or value in (float("inf"), float("-inf")):
                raise _fail("value_type", "{bad} is not a finite number", bad=repr(value))
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(
                "value_type",
                "{bad} is not a whole number, as type '{kind}' needs",
                bad=repr(value),
                kind=kind,
            )
        if kind == "duration" and value < 0:
            raise _fail("value_range", "{bad}: a duration cannot be negative", bad=repr(value))
        if kind == "timestamp":
            try:
                check_epoch_seconds(value, now=_now(info), label="timestamp")
            except PydanticCustomError as exc:
                raise _fail("value_range", "{bad} " + exc.message(), bad=repr(value)) from None
        return value


_SHA_PATTERN = r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$"

JobId = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
CommitSha = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, to_lower=True, pattern=_SHA_PATTERN)
]
OptionalText = Annotated[Optional[StrictStr], StringConstraints(strip_whitespace=True)]


class Job(BaseModel):
    """One Custom CD job record: the JSON body POSTed to ``/webhook/company/<id>/cicd_job``.

    Most rules are constraints checked by pydantic-core itself (fast); the few that need the
    whole record or the clock (one of repo_id/repo_name, future start times, unique optional keys,
    blank strings meaning "absent") are one model validator.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: JobId = Field(description="Identifies the job; non-empty. Not a primary key.")
    commit_sha: CommitSha = Field(description="Full commit SHA: 40 or 64 hex characters.")
    service_id: StrictInt = Field(gt=0, description="ID of the Custom CD service (positive).")
    job_start_time: StrictInt = Field(
        ge=EARLIEST_START, lt=10**12, description="Start of the job, epoch seconds."
    )
    job_duration: StrictInt = Field(ge=0, description="Duration of the job in whole seconds.")
    status: Status = Field(description="Succeeded, Failed or On Hold.")
    repo_id: OptionalText = Field(default=None, description="Repository id.")
    repo_name: OptionalText = Field(default=None, description="Repository name.")
    triggered_by: OptionalText = Field(
        default=None, description="User email or agent username; blank -> server default."
    )
    job_type: OptionalText = Field(
        default=None, description="Kind of job; blank -> server default CUSTOM_CD_JOB."
    )
    optional: Optional[list[OptionalField]] = Field(
        default=None,
        max_length=MAX_OPTIONAL_FIELDS,
        description="At most 20 extra properties {key, value, type}.",
    )

    @model_validator(mode="after")
    def _record_rules(self, info: ValidationInfo) -> Job:
        for name in ("repo_id", "repo_name", "triggered_by", "job_type"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)
        if self.repo_id is None and self.repo_name is None:
            raise _fail("repo", "one of repo_id and repo_name must be given (both may be)")
        if self.job_start_time > _now(info) + FUTURE_TOLERANCE:
            raise _fail(
                "future",
                "is more than 10 minutes in the future; check the start time and the agent's clock",
            )
        if self.optional is not None:
            if not self.optional:
                object.__setattr__(self, "optional", None)
            elif len(self.optional) > 1:
                seen: set[str] = set()
                for item in self.optional:
                    if item.key in seen:
                        raise _fail(
                            "duplicate_key",
                            "key {key!r} appears twice; keys must be unique",
                            key=item.key,
                        )
                    seen.add(item.key)
        return self

    # -- construction and serialisation ---------------------------------------------------

    @classmethod
    def from_body(cls, body: Any, *, now: float | None = None) -> Job:
        """Validate a wire body (a dict) and return the Job.

        :param body: the decoded JSON body.
        :param now: the epoch seconds to judge future times against (default: the clock).
        :raises InvalidRecord: with every problem found.
        """
        try:
            return cls.model_validate(body, context={"now": now})
        except ValidationError as exc:
            raise InvalidRecord(problems_from(exc, body)) from None

    def to_body(self) -> dict[str, Any]:
        """The wire body: contract field order, absent optional fields omitted (never null)."""
        body = self.model_dump(exclude_none=True)
        return body

    def to_json(self) -> str:
        """The exact bytes POSTed (as text): compact JSON, UTF-8, contract field order."""
        return json.dumps(self.to_body(), separators=(",", ":"), ensure_ascii=False)

    @property
    def idempotency_key(self) -> str:
        """A key derived from the record's identity: service, job id, commit, start time, status.

        The status is part of it so that a job reported ``On Hold`` (waiting for an approval) and
        later reported with its final status sends both records, while every re-send of one
        record carries the same key.
        """
        return idempotency_key(
            self.service_id, self.job_id, self.commit_sha, self.job_start_time, self.status
        )


def idempotency_key(
    service_id: int, job_id: str, commit_sha: str, start: int, status: str = ""
) -> str:
    """The ``Idempotency-Key`` of a record: the same for every attempt, replay and backfill."""
    identity = f"{service_id}\x1f{job_id}\x1f{commit_sha}\x1f{start}\x1f{status}"
    return "customcd-" + hashlib.sha256(identity.encode()).hexdigest()[:40]


_VALUE_KINDS = frozenset({"value_type", "value_range", "empty_list", "too_many_values"})

#: Record-level errors and the field they concern.
_RECORD_KINDS = {
    "repo": "repo_id/repo_name",
    "future": "job_start_time",
    "duplicate_key": "optional",
}


def _constraint_rule(field: str, kind: str, value: Any) -> str | None:
    """A person's phrasing of a constraint pydantic-core checked."""
    if field.endswith(".key") and kind == "string_too_short":
        return "an optional field needs a non-empty key"
    if field == "job_id" and kind == "string_too_short":
        return "must not be empty"
    if field == "commit_sha" and kind == "string_pattern_mismatch":
        sha = str(value).strip().lower()
        if sha and _HEX.fullmatch(sha) and len(sha) < 40:
            return (
                f"is a short SHA ({len(sha)} characters); the contract needs the full 40- or "
                "64-character SHA (git rev-parse HEAD)"
            )
        return f"must be the full commit SHA: exactly 40 or 64 hex characters (got {len(sha)})"
    if field == "service_id" and kind == "greater_than":
        return "must be a positive integer (the Custom CD service's id)"
    if field == "job_start_time" and kind == "greater_than_equal":
        return "is before 2000-01-01; the contract wants epoch seconds (is this a duration?)"
    if field == "job_start_time" and kind == "less_than":
        return (
            "looks like epoch milliseconds (13 digits); the contract wants seconds "
            "(divide by 1000, or use --start-time-ms)"
        )
    if field == "job_duration" and kind == "greater_than_equal":
        return "must be >= 0 seconds"
    if field == "optional" and kind == "too_long":
        count = len(value) if isinstance(value, list) else "more than 20"
        return f"has {count} entries; at most 20 optional fields are allowed"
    return None


_TYPE_RULES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be a boolean",
    "list_type": "must be a list",
    "model_type": "must be an object {key, value, type}",
    "dict_type": "must be an object",
    "missing": "is required",
    "extra_forbidden": "is not a field of the Custom CD contract",
    "int_from_float": "must be a whole number",
}


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"str", "int", "float", "list[union[int,float,str]]"} or "[" in str(part):
            continue  # union branch names add nothing for a person
        elif part.startswith(("function-", "constrained-")):
            continue
        else:
            text += ("." if text else "") + part
    return text or "body"


def _lookup(body: Any, loc: tuple[int | str, ...]) -> Any:
    value = body
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value


def problems_from(exc: ValidationError, body: Any) -> list[Problem]:
    """Turn pydantic's errors into :class:`Problem` objects, one per field, in body order."""
    problems: dict[str, Problem] = {}
    errors = exc.errors(include_url=False)
    deeper = {
        _loc_to_field(tuple(e["loc"][:-1]))
        for e in errors
        if e["loc"] and isinstance(e["loc"][-1], int)
    }
    for error in errors:
        loc = tuple(error["loc"])
        field = _loc_to_field(loc)
        kind = error["type"]
        if field in deeper and isinstance(error.get("input"), list):
            continue  # a list value: its items' errors say more than "not a scalar"
        if kind == "literal_error" and field.endswith("status"):
            rule = "must be exactly one of 'Succeeded', 'Failed', 'On Hold'"
        elif kind == "literal_error" and field.endswith("type"):
            rule = "must be one of 'string', 'integer', 'float', 'duration', 'timestamp'"
        elif kind in _TYPE_RULES:
            rule = _TYPE_RULES[kind]
            if kind == "int_type" and isinstance(error.get("input"), bool):
                rule = "must be an integer (a boolean is not one)"
        else:
            rule = _constraint_rule(field, kind, error.get("input")) or str(error["msg"])
        if field == "body" and kind in _RECORD_KINDS:
            field = _RECORD_KINDS[kind]
            loc = (field,)
        if kind in _VALUE_KINDS:
            field, loc = field + ".value", (*loc, "value")
        elif kind == "reserved_key":
            field, loc = field + ".key", (*loc, "key")
        if field == "body" and kind == "model_type":
            rule = "must be a JSON object with the contract's fields"
        if kind == "missing":
            value = MISSING
        elif field.endswith(".value") or field == "body":
            value = _lookup(body, loc[: loc.index("value") + 1]) if "value" in loc else MISSING
        else:
            value = _lookup(body, loc) if loc else MISSING
        # Union branches report the same field several times: keep the first, clearest one.
        problems.setdefault(field, Problem(field, value, rule))
    return list(problems.values())
