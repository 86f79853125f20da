"""The Custom CD wire contract as one pydantic v2 model.

:class:`Job` is exactly the JSON body Allstacks receives and :class:`OptionalField` one entry of
its ``optional`` list. Field types carry the per-field rules (``Annotated`` constraints);
validators carry the rules that need several fields or the clock. A ``Job`` built from bad data
raises :class:`~customcd.contract.problems.InvalidRecord` naming every problem at once, one line
each (field, value, rule). :meth:`Job.to_body` / :meth:`Job.to_json` give back the body to POST.

Validation judges future times against the clock, or against ``context={"now": seconds}``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Annotated, Any, Optional, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from .fields import (
    BASE_FIELDS,
    DESCRIPTIONS,
    EARLIEST_START,
    FUTURE_TOLERANCE,
    MAX_INT,
    MAX_OPTIONAL_FIELDS,
    MAX_OPTIONAL_VALUES,
    MIN_INT,
    OptionalType,
    Status,
)
from .problems import InvalidRecord
from .times import MS_THRESHOLD

__all__ = ["Job", "OptionalField", "Record"]

_SHA_PATTERN = r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$"
_RESERVED_KEYS = frozenset((*BASE_FIELDS, "optional"))

#: Text: a string (never a number), stripped.
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True)]
NonEmptyText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
CommitSha = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, to_lower=True, pattern=_SHA_PATTERN),
]
#: Whole numbers are strict: a boolean, a float or digit text is not one.
ServiceId = Annotated[int, Field(strict=True, gt=0, le=MAX_INT)]
StartTime = Annotated[int, Field(strict=True, ge=EARLIEST_START, lt=MS_THRESHOLD)]
Duration = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]

_SCALAR_JSON: JsonDict = {"type": ["string", "number", "integer"]}
_VALUE_JSON: JsonDict = {
    "anyOf": [
        _SCALAR_JSON,
        {"type": "array", "items": _SCALAR_JSON, "minItems": 1, "maxItems": MAX_OPTIONAL_VALUES},
    ]
}


def _now(info: ValidationInfo) -> float:
    """The epoch seconds to judge future times against: ``context["now"]``, else the clock."""
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return time.time() if now is None else float(now)


def _fail(error: str, message: str, **context: Any) -> PydanticCustomError:
    """A custom error of kind ``error`` (the problems' mapping keys on it)."""
    return PydanticCustomError(error, message, context or None)


class OptionalField(BaseModel):
    """One entry of the ``optional`` list: ``{key, value, type}``.

    ``value`` is one value or a list of 1 to 20 values, each of the entry's ``type``:
    ``string`` -> text; ``integer`` -> whole number; ``float`` -> number (sent as a float);
    ``duration`` -> whole seconds (>= 0); ``timestamp`` -> epoch seconds. Booleans are never
    numbers; whole numbers fit in 64 bits. An entry's problems are reported with its record's
    (:class:`Job` raises :class:`~customcd.contract.problems.InvalidRecord`); an entry built on its
    own raises pydantic's :class:`~pydantic.ValidationError`.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"description": "One optional property; each value of the entry's type."},
    )

    key: NonEmptyText = Field(description=DESCRIPTIONS["key"])
    value: Any = Field(description=DESCRIPTIONS["value"], json_schema_extra=_VALUE_JSON)
    type: OptionalType = Field(description=DESCRIPTIONS["type"])

    @model_validator(mode="before")
    @classmethod
    def _own_values(cls, data: Any) -> Any:
        """A list of values copied (as a plain list); whole numbers of type float as floats."""
        if not isinstance(data, Mapping) or "value" not in data:
            return data
        value, as_float = data["value"], data.get("type") == "float"
        if isinstance(value, list):
            value = [_float(item) for item in value] if as_float else list(value)
        elif as_float:
            value = _float(value)
        else:
            return data
        return {**data, "value": value}

    @field_validator("key")
    @classmethod
    def _not_a_base_field(cls, key: str) -> str:
        if key in _RESERVED_KEYS:
            raise _fail(
                "reserved_key",
                "is a base field of the contract; give it as that field, not as an optional one",
            )
        return key

    @model_validator(mode="after")
    def _values_of_the_type(self, info: ValidationInfo) -> OptionalField:
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
        for value in values:
            _check_value(self.type, value, info)
        return self


def _float(value: Any) -> Any:
    """A whole number as a float (one too large for a float is left for the rule to report)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return value  # reported by the type's rule: too large for a float
    return value


def _check_value(kind: str, value: Any, info: ValidationInfo) -> None:
    """One optional value against its entry's type."""
    shown = repr(value)
    if isinstance(value, bool):
        raise _fail(
            "value_type", "{bad} is a boolean, not a value of type '{kind}'", bad=shown, kind=kind
        )
    if kind == "string":
        if not isinstance(value, str):
            raise _fail("value_type", "{bad} is not a string, as type 'string' needs", bad=shown)
        return
    if kind == "float":
        if isinstance(value, int):
            raise _fail("value_range", "{bad} is too large for a float", bad=shown)
        if not isinstance(value, float):
            raise _fail("value_type", "{bad} is not a number, as type 'float' needs", bad=shown)
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail("value_type", "{bad} is not a finite number", bad=shown)
        return
    if not isinstance(value, int):
        raise _fail(
            "value_type",
            "{bad} is not a whole number, as type '{kind}' needs",
            bad=shown,
            kind=kind,
        )
    if not MIN_INT <= value <= MAX_INT:
        raise _fail("value_range", "{bad} does not fit in a 64-bit integer", bad=shown)
    if kind == "duration" and value < 0:
        raise _fail("value_range", "{bad}: a duration cannot be negative", bad=shown)
    if kind == "timestamp":
        if value >= MS_THRESHOLD:
            raise _fail(
                "value_range", "{bad} looks like epoch milliseconds; give seconds", bad=shown
            )
        if value < EARLIEST_START:
            raise _fail("value_range", "{bad} is before 2000-01-01; give epoch seconds", bad=shown)
        if value > _now(info) + FUTURE_TOLERANCE:
            raise _fail("value_range", "{bad} is more than 10 minutes in the future", bad=shown)


_J = TypeVar("_J", bound="Job")


class Job(BaseModel):
    """One Custom CD job record: the JSON body POSTed to ``/webhook/company/<id>/cicd_job``.

    Text is stripped, ``commit_sha`` lower-cased; optional text given blank (or ``None``) and an
    empty ``optional`` list are not given: they are left out of the body, never sent as null.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Allstacks Custom CD job",
        json_schema_extra={
            "description": "The JSON body of one Custom CD job record.",
            "anyOf": [{"required": ["repo_id"]}, {"required": ["repo_name"]}],
        },
    )

    job_id: NonEmptyText = Field(description=DESCRIPTIONS["job_id"])
    commit_sha: CommitSha = Field(description=DESCRIPTIONS["commit_sha"])
    service_id: ServiceId = Field(description=DESCRIPTIONS["service_id"])
    job_start_time: StartTime = Field(description=DESCRIPTIONS["job_start_time"])
    job_duration: Duration = Field(description=DESCRIPTIONS["job_duration"])
    status: Status = Field(description=DESCRIPTIONS["status"])
    repo_id: Optional[Text] = Field(default=None, description=DESCRIPTIONS["repo_id"])
    repo_name: Optional[Text] = Field(default=None, description=DESCRIPTIONS["repo_name"])
    triggered_by: Optional[Text] = Field(default=None, description=DESCRIPTIONS["triggered_by"])
    job_type: Optional[Text] = Field(default=None, description=DESCRIPTIONS["job_type"])
    optional: Optional[list[OptionalField]] = Field(
        default=None, max_length=MAX_OPTIONAL_FIELDS, description=DESCRIPTIONS["optional"]
    )

    @field_validator("repo_id", "repo_name", "triggered_by", "job_type", "optional")
    @classmethod
    def _blank_is_not_given(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _record_rules(self, info: ValidationInfo) -> Job:
        """A repository is given, the start is not in the future, optional keys are unique."""
        if self.repo_id is None and self.repo_name is None:
            raise _fail("repo", "one of repo_id and repo_name must be given (both may be)")
        if self.job_start_time > _now(info) + FUTURE_TOLERANCE:
            raise _fail(
                "future",
                "is more than 10 minutes in the future; check the start time and the agent's clock",
            )
        keys = [entry.key for entry in self.optional or ()]
        twice = next((key for index, key in enumerate(keys) if key in keys[:index]), None)
        if twice is not None:
            raise _fail(
                "duplicate_key", "key {key!r} appears twice; keys must be unique", key=twice
            )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Job]) -> Job:
        """Turn pydantic's error into :class:`InvalidRecord`, one problem per field."""
        try:
            return handler(data)
        except ValidationError as exc:
            raise InvalidRecord.from_validation_error(exc, data) from None

    @classmethod
    def from_body(cls: type[_J], body: Any, *, now: float | None = None) -> _J:
        """Validate a wire body (the decoded JSON) and return the Job.

        :param now: the epoch seconds to judge future times against (default: the clock).
        :raises InvalidRecord: with every problem found.
        """
        return cls.model_validate(body, context={"now": now})

    def to_body(self) -> dict[str, Any]:
        """The wire body: contract field order, absent optional fields omitted (never null)."""
        return self.model_dump(exclude_none=True)

    def to_json(self) -> str:
        """The exact bytes POSTed (as text): compact JSON, UTF-8, contract field order."""
        return json.dumps(self.to_body(), separators=(",", ":"), ensure_ascii=False)

    @property
    def idempotency_key(self) -> str:
        """A key derived from the record's identity: service, job id, commit, start time, status.

        The same for every attempt, replay and backfill of one record. The status is part of it
        so that a job reported ``On Hold`` (waiting for an approval) and later with its final
        status sends both records.
        """
        identity = (
            f"{self.service_id}\x1f{self.job_id}\x1f{self.commit_sha}\x1f"
            f"{self.job_start_time}\x1f{self.status}"
        )
        return "customcd-" + hashlib.sha256(identity.encode()).hexdigest()[:40]


#: A validated record is a :class:`Job`; the name is kept for programs that import it.
Record = Job
