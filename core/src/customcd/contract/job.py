"""The Custom CD wire contract as pydantic v2 models.

:class:`Job` is exactly the JSON body Allstacks receives and :class:`OptionalField` one entry of
its ``optional`` list. Both validate through the contract's single definition in
:mod:`customcd.contract.wire`: building a ``Job`` from bad data raises
:class:`~customcd.contract.problems.InvalidRecord` with every problem at once. :meth:`Job.to_body` /
:meth:`Job.to_json` give back the body to POST, byte for byte.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .record import Record
from .wire import (
    BASE_FIELDS,
    DESCRIPTIONS,
    EARLIEST_START,
    FUTURE_TOLERANCE,
    MAX_OPTIONAL_FIELDS,
    MAX_OPTIONAL_VALUES,
    OPTIONAL_TYPES,
    STATUSES,
    idempotency_key,
    validate_body,
    validate_entry,
)

__all__ = [
    "BASE_FIELDS",
    "EARLIEST_START",
    "FUTURE_TOLERANCE",
    "MAX_OPTIONAL_FIELDS",
    "MAX_OPTIONAL_VALUES",
    "OPTIONAL_TYPES",
    "STATUSES",
    "Job",
    "OptionalField",
    "Status",
    "idempotency_key",
]

Status = Literal["Succeeded", "Failed", "On Hold"]
OptionalType = Literal["string", "integer", "float", "duration", "timestamp"]


def _now(info: ValidationInfo) -> float | None:
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return float(now) if now is not None else None


#: Validation context for bodies the contract schema already accepted: build, do not re-check.
_TRUSTED = {"trusted": True}


def _trusted(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("trusted") is True


class OptionalField(BaseModel):
    """One entry of the ``optional`` list: ``{key, value, type}``.

    ``value`` is one value or a list of 1 to 20 values, each of the entry's ``type``:
    ``string`` -> text; ``integer`` -> whole number; ``float`` -> number; ``duration`` -> whole
    seconds (>= 0); ``timestamp`` -> epoch seconds. Booleans are never numbers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description=DESCRIPTIONS["key"])
    value: Any = Field(description=DESCRIPTIONS["value"])
    type: OptionalType = Field(description=DESCRIPTIONS["type"])

    @model_validator(mode="before")
    @classmethod
    def _contract(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, cls) or _trusted(info):
            return data  # a Job's own entries were checked with it
        return validate_entry(data, now=_now(info))


class Job(BaseModel):
    """One Custom CD job record: the JSON body POSTed to ``/webhook/company/<id>/cicd_job``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str = Field(description=DESCRIPTIONS["job_id"])
    commit_sha: str = Field(description=DESCRIPTIONS["commit_sha"])
    service_id: int = Field(description=DESCRIPTIONS["service_id"])
    job_start_time: int = Field(description=DESCRIPTIONS["job_start_time"])
    job_duration: int = Field(description=DESCRIPTIONS["job_duration"])
    status: Status = Field(description=DESCRIPTIONS["status"])
    repo_id: Optional[str] = Field(default=None, description=DESCRIPTIONS["repo_id"])
    repo_name: Optional[str] = Field(default=None, description=DESCRIPTIONS["repo_name"])
    triggered_by: Optional[str] = Field(default=None, description=DESCRIPTIONS["triggered_by"])
    job_type: Optional[str] = Field(default=None, description=DESCRIPTIONS["job_type"])
    optional: Optional[list[OptionalField]] = Field(
        default=None, description=DESCRIPTIONS["optional"]
    )

    @model_validator(mode="before")
    @classmethod
    def _contract(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, cls) or _trusted(info):
            return data
        clean = validate_body(_entries_as_dicts(data), now=_now(info))
        entries = clean.get("optional")
        if entries:  # checked with the body: built here, not checked again one by one
            clean["optional"] = [_entry_model(entry) for entry in entries]
        return clean

    # -- construction and serialisation ---------------------------------------------------

    @classmethod
    def from_body(cls, body: Any, *, now: float | None = None) -> Job:
        """Validate a wire body (a dict) and return the Job.

        :param body: the decoded JSON body.
        :param now: the epoch seconds to judge future times against (default: the clock).
        :raises InvalidRecord: with every problem found.
        """
        return cls.from_clean(validate_body(body, now=now))

    @classmethod
    def from_clean(cls, body: dict[str, Any]) -> Job:
        """Wrap a body :func:`~customcd.contract.wire.validate_body` already accepted (no re-checking).

        Like :meth:`~pydantic.BaseModel.model_construct`, without its per-call overhead: the body
        already has the contract's exact types and field order, so the models are filled in
        directly (about 3x faster than validating the same data again).
        """
        if cls is not Job:  # a subclass may add fields or validators: let pydantic build it
            return cls.model_validate(body, context=_TRUSTED)
        return job_from_owned_body(body, copy_entries=True)

    def to_body(self) -> dict[str, Any]:
        """The wire body: contract field order, absent optional fields omitted (never null)."""
        return self.model_dump(exclude_none=True)

    def to_json(self) -> str:
        """The exact bytes POSTed (as text): compact JSON, UTF-8, contract field order."""
        return self.record.to_json()

    @property
    def record(self) -> Record:
        """The job as a :class:`~customcd.contract.record.Record`."""
        return Record(self.to_body())

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


_JOB_FIELDS = tuple(Job.model_fields)
_ENTRY_FIELDS = frozenset(OptionalField.model_fields)
_set = object.__setattr__
_new = object.__new__


def job_from_owned_body(body: dict[str, Any], *, copy_entries: bool = False) -> Job:
    """The :class:`Job` of a body :func:`~customcd.contract.wire.validate_body` just returned.

    Without ``copy_entries`` the models take over the body's ``optional`` entries, so the caller
    must not keep or change ``body`` (the library's build path hands over a body nobody else
    holds).
    """
    fields = dict.fromkeys(_JOB_FIELDS)
    fields.update(body)
    entries = fields["optional"]
    if entries is not None:
        fields["optional"] = [_entry_model(entry, copy=copy_entries) for entry in entries]
    return _construct(Job, fields, set(body))


def _entry_model(entry: dict[str, Any], *, copy: bool = True) -> OptionalField:
    """The model of a checked ``optional`` entry.

    :param copy: share no dict or list with ``entry`` (without it the model takes ``entry`` over).
    """
    if copy:
        entry = dict(entry)
        if type(entry["value"]) is list:
            entry["value"] = list(entry["value"])
    return _construct(OptionalField, entry, set(_ENTRY_FIELDS))


def _entries_as_dicts(data: Any) -> Any:
    """``data`` with any :class:`OptionalField` in its ``optional`` list as the dict it stands for."""
    entries = data.get("optional") if isinstance(data, dict) else None
    if isinstance(entries, (list, tuple)) and any(isinstance(e, OptionalField) for e in entries):
        dumped = [e.model_dump() if isinstance(e, OptionalField) else e for e in entries]
        return {**data, "optional": dumped}
    return data


_Model = TypeVar("_Model", bound=BaseModel)


def _construct(cls: type[_Model], fields: dict[str, Any], fields_set: set[str]) -> _Model:
    """An instance of ``cls`` holding ``fields`` (every field, already valid), unchecked."""
    model: _Model = _new(cls)  # BaseModel has no __new__ of its own
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
