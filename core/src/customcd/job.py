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
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
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

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_HEX = re.compile(r"[0-9a-fA-F]+")

Scalar = Union[StrictInt, StrictFloat, StrictStr]


def _fail(error_type: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, ctx or None)


def _now(info: ValidationInfo) -> float:
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return float(now) if now is not None else time.time()


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

    key: StrictStr = Field(description="Name of the property in Allstacks; non-empty, unique.")
    value: Union[Scalar, list[Scalar]] = Field(description="One value or a list of at most 20.")
    type: OptionalType = Field(description="One of string, integer, float, duration, timestamp.")

    @field_validator("key")
    @classmethod
    def _key_rules(cls, key: str) -> str:
        key = key.strip()
        if not key:
            raise _fail("empty_key", "an optional field needs a non-empty key")
        if key in BASE_FIELDS or key == "optional":
            raise _fail(
                "reserved_key",
                "is a base field of the contract; give it as that field, not as an optional one",
            )
        return key

    @model_validator(mode="after")
    def _values_match_type(self, info: ValidationInfo) -> OptionalField:
        values = self.value if isinstance(self.value, list) else [self.value]
        if isinstance(self.value, list):
            if not values:
                raise _fail("empty_list", "is an empty list; give at least one value")
            if len(values) > MAX_OPTIONAL_VALUES:
                raise _fail(
                    "too_many_values",
                    "has {count} values; at most 20 are allowed in one optional field",
                    count=len(values),
                )
        converted = [self._check_value(v, info) for v in values]
        if converted != values:
            object.__setattr__(
                self, "value", converted if isinstance(self.value, list) else converted[0]
            )
        return self

    def _check_value(self, value: Any, info: ValidationInfo) -> Any:
        kind = self.type
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


class Job(BaseModel):
    """One Custom CD job record: the JSON body POSTed to ``/webhook/company/<id>/cicd_job``."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    job_id: StrictStr = Field(description="Identifies the job; non-empty. Not a primary key.")
    commit_sha: StrictStr = Field(description="Full commit SHA: 40 or 64 hex characters.")
    service_id: StrictInt = Field(description="ID of the Custom CD service (positive integer).")
    job_start_time: StrictInt = Field(description="Start of the job, epoch seconds.")
    job_duration: StrictInt = Field(description="Duration of the job in whole seconds (>= 0).")
    status: Status = Field(description="Succeeded, Failed or On Hold.")
    repo_id: Annotated[StrictStr | None, Field(description="Repository id.")] = None
    repo_name: Annotated[StrictStr | None, Field(description="Repository name.")] = None
    triggered_by: Annotated[
        StrictStr | None,
        Field(description="User email or agent username; blank -> server default."),
    ] = None
    job_type: Annotated[
        StrictStr | None, Field(description="Kind of job; blank -> server default CUSTOM_CD_JOB.")
    ] = None
    optional: Annotated[
        list[OptionalField] | None,
        Field(description="At most 20 extra properties {key, value, type}."),
    ] = None

    @field_validator("job_id")
    @classmethod
    def _job_id_rules(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise _fail("empty", "must not be empty")
        return value

    @field_validator("commit_sha")
    @classmethod
    def _sha_rules(cls, value: str) -> str:
        sha = value.strip().lower()
        if _SHA.fullmatch(sha):
            return sha
        if sha and _HEX.fullmatch(sha) and len(sha) < 40:
            raise _fail(
                "short_sha",
                "is a short SHA ({length} characters); the contract needs the full 40- or "
                "64-character SHA (git rev-parse HEAD)",
                length=len(sha),
            )
        raise _fail(
            "sha",
            "must be the full commit SHA: exactly 40 or 64 hex characters (got {length})",
            length=len(sha),
        )

    @field_validator("service_id")
    @classmethod
    def _service_id_rules(cls, value: int) -> int:
        if value <= 0:
            raise _fail("positive", "must be a positive integer (the Custom CD service's id)")
        return value

    @field_validator("job_start_time")
    @classmethod
    def _start_rules(cls, value: int, info: ValidationInfo) -> int:
        check_epoch_seconds(value, now=_now(info), label="start time")
        return value

    @field_validator("job_duration")
    @classmethod
    def _duration_rules(cls, value: int) -> int:
        if value < 0:
            raise _fail("negative", "must be >= 0 seconds")
        return value

    @field_validator("repo_id", "repo_name", "triggered_by", "job_type")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    @field_validator("optional")
    @classmethod
    def _optional_rules(cls, value: list[OptionalField] | None) -> list[OptionalField] | None:
        if value is None:
            return None
        if len(value) > MAX_OPTIONAL_FIELDS:
            raise _fail(
                "too_many_optional",
                "has {count} entries; at most 20 optional fields are allowed",
                count=len(value),
            )
        seen: set[str] = set()
        for item in value:
            if item.key in seen:
                raise _fail(
                    "duplicate_key", "key {key!r} appears twice; keys must be unique", key=item.key
                )
            seen.add(item.key)
        return value or None

    @model_validator(mode="after")
    def _repo_rule(self) -> Job:
        if self.repo_id is None and self.repo_name is None:
            raise _fail("repo", "one of repo_id and repo_name must be given (both may be)")
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
            rule = str(error["msg"])
        if kind in _VALUE_KINDS:
            field, loc = field + ".value", (*loc, "value")
        if field == "body" and kind == "model_type":
            rule = "must be a JSON object with the contract's fields"
        if kind == "missing":
            value = MISSING
        elif field.endswith(".value") or field == "body":
            value = _lookup(body, loc[: loc.index("value") + 1]) if "value" in loc else MISSING
        else:
            value = _lookup(body, loc) if loc else MISSING
        if field == "body" and kind == "repo":
            field = "repo_id/repo_name"
        # Union branches report the same field several times: keep the first, clearest one.
        problems.setdefault(field, Problem(field, value, rule))
    return list(problems.values())
