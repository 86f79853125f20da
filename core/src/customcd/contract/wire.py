"""The Custom CD wire contract, defined once as a pydantic-core schema.

Every rule of ``shared/spec/contract.md`` lives here: field types and constraints are checked by
pydantic-core itself, and the few rules that need a whole entry, the whole record or the clock
are two small functions. :func:`validate_body` turns a candidate body into the exact wire body (or
raises :class:`~customcd.contract.problems.InvalidRecord` with every problem at once). The pydantic models
in :mod:`customcd.contract.job` validate through this same schema; the hot paths (``customcd send``,
backfill) use it directly and never pay for building the models.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any, cast

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from .problems import MISSING, InvalidRecord, Problem

__all__ = [
    "BASE_FIELDS",
    "DESCRIPTIONS",
    "EARLIEST_START",
    "FUTURE_TOLERANCE",
    "MAX_OPTIONAL_FIELDS",
    "MAX_OPTIONAL_VALUES",
    "OPTIONAL_TYPES",
    "STATUSES",
    "body_schema",
    "entry_schema",
    "idempotency_key",
    "quick_body_schema",
    "quick_rules",
    "text_schema",
    "validate_body",
    "validate_entry",
]

STATUSES: tuple[str, ...] = ("Succeeded", "Failed", "On Hold")
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
#: The largest integer a 64-bit signed field holds (service ids, durations).
_MAX_INT = 2**63 - 1
#: Epoch values with 13 or more digits are milliseconds.
_MS = 10**12

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

_SHA_PATTERN = r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$"
_HEX = re.compile(r"[0-9a-fA-F]+")
_RESERVED_KEYS = frozenset((*BASE_FIELDS, "optional"))
#: Optional types whose values need no further check when of exactly this Python type.
_EXACT: dict[str, type] = {"string": str, "integer": int, "duration": int}


def _fail(error_type: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, ctx or None)


def _now(info: cs.ValidationInfo) -> float:
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return float(now) if now is not None else time.time()


def _check_value(kind: str, value: Any, info: cs.ValidationInfo) -> Any:
    """One optional value against its entry's type; returns it (floats normalised)."""
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
        if not isinstance(value, (int, float)):
            raise _fail(
                "value_type", "{bad} is not a number, as type 'float' needs", bad=repr(value)
            )
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail("value_type", "{bad} is not a finite number", bad=repr(value))
        try:
            return float(value)
        except OverflowError:
            raise _fail("value_range", "{bad} is too large for a float", bad=repr(value)) from None
    if not isinstance(value, int):
        raise _fail(
            "value_type",
            "{bad} is not a whole number, as type '{kind}' needs",
            bad=repr(value),
            kind=kind,
        )
    if kind == "duration" and value < 0:
        raise _fail("value_range", "{bad}: a duration cannot be negative", bad=repr(value))
    if kind == "timestamp":
        if value >= _MS:
            raise _fail(
                "value_range", "{bad} looks like epoch milliseconds; give seconds", bad=repr(value)
            )
        if value < EARLIEST_START:
            raise _fail(
                "value_range", "{bad} is before 2000-01-01; give epoch seconds", bad=repr(value)
            )
        if value > _now(info) + FUTURE_TOLERANCE:
            raise _fail(
                "value_range", "{bad} is more than 10 minutes in the future", bad=repr(value)
            )
    return value


def _entry_rules(entry: dict[str, Any], info: cs.ValidationInfo) -> dict[str, Any]:
    """Rules of one optional entry that depend on several of its parts."""
    if entry["key"] in _RESERVED_KEYS:
        raise _fail(
            "reserved_key",
            "is a base field of the contract; give it as that field, not as an optional one",
        )
    kind, value = entry["type"], entry["value"]
    if isinstance(value, list):  # a list subclass is a list of values too (sent as a list)
        if not value:
            raise _fail("empty_list", "is an empty list; give at least one value")
        if len(value) > MAX_OPTIONAL_VALUES:
            raise _fail(
                "too_many_values",
                "has {count} values; at most 20 are allowed in one optional field",
                count=len(value),
            )
        entry["value"] = [_check_value(kind, item, info) for item in value]
    else:
        entry["value"] = _check_value(kind, value, info)
    return entry


def _drop_absent(body: dict[str, Any]) -> None:
    """Remove optional base fields given as null, empty text or an empty list (never sent)."""
    for name in ("repo_id", "repo_name", "triggered_by", "job_type", "optional"):
        if name in body and (body[name] is None or body[name] == "" or body[name] == []):
            del body[name]


def _record_rules(body: dict[str, Any], info: cs.ValidationInfo) -> dict[str, Any]:
    """Rules that need the whole record or the clock; also drops absent fields (never null)."""
    _drop_absent(body)
    broken = _broken_record_rule(body, _now(info))
    if broken is not None:
        raise broken
    return body


def _broken_record_rule(body: dict[str, Any], now: float) -> PydanticCustomError | None:
    """The first rule of the whole record that ``body`` breaks, as its error; ``None`` if none.

    A repository must be given, the start may not be in the future, optional keys are unique.
    """
    if "repo_id" not in body and "repo_name" not in body:
        return _fail("repo", "one of repo_id and repo_name must be given (both may be)")
    if body["job_start_time"] > now + FUTURE_TOLERANCE:
        return _fail(
            "future",
            "is more than 10 minutes in the future; check the start time and the agent's clock",
        )
    entries = body.get("optional")
    if entries and len(entries) > 1:
        keys = [entry["key"] for entry in entries]
        if len(set(keys)) != len(keys):
            twice = next(key for index, key in enumerate(keys) if key in keys[:index])
            return _fail(
                "duplicate_key", "key {key!r} appears twice; keys must be unique", key=twice
            )
    return None


def text_schema(**constraints: Any) -> cs.CoreSchema:
    """The schema of a text field: a string, stripped, with ``constraints``."""
    return cs.str_schema(strict=True, strip_whitespace=True, **constraints)


def _field(schema: cs.CoreSchema, name: str, *, required: bool = True) -> cs.TypedDictField:
    return cs.typed_dict_field(
        schema,
        required=required,
        metadata={"pydantic_js_updates": {"description": DESCRIPTIONS[name]}},
    )


def entry_schema() -> cs.CoreSchema:
    """The schema of one ``optional`` entry ``{key, value, type}``."""
    value_json = {
        "anyOf": [
            {"type": ["string", "number", "integer"]},
            {
                "type": "array",
                "items": {"type": ["string", "number", "integer"]},
                "minItems": 1,
                "maxItems": MAX_OPTIONAL_VALUES,
            },
        ]
    }
    fields = {
        "key": _field(text_schema(min_length=1), "key"),
        "value": cs.typed_dict_field(
            cs.any_schema(),
            metadata={"pydantic_js_updates": {"description": DESCRIPTIONS["value"], **value_json}},
        ),
        "type": _field(cs.literal_schema(list(OPTIONAL_TYPES)), "type"),
    }
    return cs.with_info_after_validator_function(
        _entry_rules, cs.typed_dict_schema(fields, extra_behavior="forbid", ref="OptionalField")
    )


def body_schema() -> cs.CoreSchema:
    """The schema of a whole body: types, constraints and the record rules."""
    optional_list = cs.list_schema(entry_schema(), max_length=MAX_OPTIONAL_FIELDS)
    fields = {
        "job_id": _field(text_schema(min_length=1), "job_id"),
        "commit_sha": _field(text_schema(to_lower=True, pattern=_SHA_PATTERN), "commit_sha"),
        "service_id": _field(cs.int_schema(strict=True, gt=0, le=_MAX_INT), "service_id"),
        "job_start_time": _field(
            cs.int_schema(strict=True, ge=EARLIEST_START, lt=_MS), "job_start_time"
        ),
        "job_duration": _field(cs.int_schema(strict=True, ge=0, le=_MAX_INT), "job_duration"),
        "status": _field(cs.literal_schema(list(STATUSES)), "status"),
        **{
            name: _field(cs.nullable_schema(text_schema()), name, required=False)
            for name in ("repo_id", "repo_name", "triggered_by", "job_type")
        },
        "optional": _field(cs.nullable_schema(optional_list), "optional", required=False),
    }
    return cs.with_info_after_validator_function(
        _record_rules, cs.typed_dict_schema(fields, extra_behavior="forbid")
    )


def quick_body_schema() -> cs.CoreSchema:
    """The body schema with every optional value checked by pydantic-core itself (no Python).

    It accepts a subset of what :func:`body_schema` accepts: each entry's value is checked against
    its ``type`` through a tagged union, and the rules that need the whole record or the clock are
    left to :func:`quick_rules`. Whatever it rejects goes through :func:`body_schema` again,
    which explains the problems.
    """
    scalars = {
        "string": cs.str_schema(strict=True),
        "integer": cs.int_schema(strict=True),
        # ints and floats only (the full rule's isinstance check): a strict float schema alone
        # would also take anything with __float__, such as Decimal
        "float": cs.chain_schema(
            [cs.is_instance_schema((int, float)), cs.float_schema(strict=True, allow_inf_nan=False)]
        ),
        "duration": cs.int_schema(strict=True, ge=0),
        "timestamp": cs.int_schema(strict=True, ge=EARLIEST_START, lt=_MS),
    }

    def entry(kind: str, scalar: cs.CoreSchema) -> cs.CoreSchema:
        values = cs.list_schema(scalar, min_length=1, max_length=MAX_OPTIONAL_VALUES, strict=True)
        fields = {
            "key": cs.typed_dict_field(text_schema(min_length=1)),
            "value": cs.typed_dict_field(cs.union_schema([scalar, values])),
            "type": cs.typed_dict_field(cs.literal_schema([kind])),
        }
        return cs.typed_dict_schema(fields, extra_behavior="forbid", strict=True)

    entries = cs.tagged_union_schema(
        {kind: entry(kind, scalar) for kind, scalar in scalars.items()}, discriminator="type"
    )
    body = body_schema()["schema"]  # the typed dict inside the record rules
    fields = dict(body["fields"])
    # an optional field given as null, blank or [] is dropped by the record rules: such bodies
    # are left to the full schema, so that nothing has to be dropped here
    for name in ("repo_id", "repo_name", "triggered_by", "job_type"):
        fields[name] = cs.typed_dict_field(text_schema(min_length=1), required=False)
    fields["optional"] = cs.typed_dict_field(
        cs.list_schema(entries, min_length=1, max_length=MAX_OPTIONAL_FIELDS), required=False
    )
    # strict: plain dicts only (any other mapping goes through the full schema)
    return cs.typed_dict_schema(fields, extra_behavior="forbid", strict=True)


def quick_rules(body: dict[str, Any], now: float) -> bool:
    """The rules the quick schema leaves out, for a body it accepted; ``False`` when one is broken.

    Those are the whole-record rules of :func:`_record_rules` (but dropping absent fields: the
    quick schema refuses them), and the reserved-key and future-timestamp rules of
    :func:`_entry_rules`.
    """
    if _broken_record_rule(body, now) is not None:
        return False
    latest = now + FUTURE_TOLERANCE
    for entry in body.get("optional", ()):
        if entry["key"] in _RESERVED_KEYS:
            return False
        if entry["type"] == "timestamp":
            value = entry["value"]
            if (max(value) if type(value) is list else value) > latest:
                return False
    return True


_VALIDATORS: dict[str, SchemaValidator] = {}
_SCHEMAS = {"body": body_schema, "entry": entry_schema, "quick": quick_body_schema}


def _validator(name: str) -> SchemaValidator:
    validator = _VALIDATORS.get(name)
    if validator is None:
        validator = _VALIDATORS[name] = SchemaValidator(_SCHEMAS[name]())
    return validator


def validate_body(body: Any, *, now: float | None = None) -> dict[str, Any]:
    """Check a candidate body against the contract and return the exact wire body.

    The result has the contract's field order, ``commit_sha`` in lower case, text stripped,
    absent optional fields omitted (never null) and float values as floats.

    :param body: the decoded JSON body (any value: a non-object is a problem too).
    :param now: the epoch seconds to judge future times against (default: the clock).
    :raises InvalidRecord: with every problem found.
    """
    # most bodies are valid: a schema checked entirely by pydantic-core, then one pass of the
    # rules that need the whole record, decides them at about twice the speed; anything it does
    # not accept is validated again by the full schema, which names every problem
    if _plain_shape(body):
        try:
            clean: dict[str, Any] = _validator("quick").validate_python(body)
        except ValidationError:
            pass
        else:
            if quick_rules(clean, time.time() if now is None else float(now)):
                return clean
    return _validate("body", body, now)


def _plain_shape(body: Any) -> bool:
    """Whether the quick schema may look at ``body``: a dict whose ``optional`` (if any) is a list.

    Anything else -- above all a one-shot iterator, which must be read only once -- goes
    straight to the full schema.
    """
    return type(body) is dict and type(body.get("optional", _NO_ENTRIES)) in _ENTRY_LISTS


_NO_ENTRIES: list[Any] = []
_ENTRY_LISTS = (list, type(None))


def validate_entry(entry: Any, *, now: float | None = None) -> dict[str, Any]:
    """Check one ``optional`` entry; return it cleaned.

    :raises InvalidRecord: with every problem found.
    """
    return _validate("entry", entry, now)


def _validate(schema: str, data: Any, now: float | None) -> dict[str, Any]:
    try:
        clean: dict[str, Any] = _validator(schema).validate_python(data, context={"now": now})
    except ValidationError as exc:
        raise InvalidRecord(problems_from(exc, data)) from None
    return clean


def idempotency_key(
    service_id: int, job_id: str, commit_sha: str, start: int, status: str = ""
) -> str:
    """The ``Idempotency-Key`` of a record: the same for every attempt, replay and backfill.

    The status is part of the identity so that a job reported ``On Hold`` (waiting for an
    approval) and later with its final status sends both records.
    """
    identity = f"{service_id}\x1f{job_id}\x1f{commit_sha}\x1f{start}\x1f{status}"
    return "customcd-" + hashlib.sha256(identity.encode()).hexdigest()[:40]


# -- turning pydantic-core's errors into problems a person can act on ------------------------

#: Record-level errors and the field they concern.
_RECORD_KINDS = {
    "repo": "repo_id/repo_name",
    "future": "job_start_time",
    "duplicate_key": "optional",
}
_VALUE_KINDS = frozenset({"value_type", "value_range", "empty_list", "too_many_values"})
_TYPE_RULES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be a boolean",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "missing": "is required",
    "extra_forbidden": "is not a field of the Custom CD contract",
    "int_from_float": "must be a whole number",
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
    if field in ("service_id", "job_duration") and kind == "less_than_equal":
        return "is larger than a 64-bit integer"
    if field == "optional" and kind == "too_long":
        count = len(value) if isinstance(value, list) else "more than 20"
        return f"has {count} entries; at most 20 optional fields are allowed"
    return None


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
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
    """Turn pydantic-core's errors into :class:`Problem` objects, one per field, in body order."""
    problems: dict[str, Problem] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        field = _loc_to_field(loc)
        kind = error["type"]
        if kind == "literal_error" and field.endswith("status"):
            rule = "must be exactly one of 'Succeeded', 'Failed', 'On Hold'"
        elif kind == "literal_error" and field.endswith("type"):
            rule = "must be one of 'string', 'integer', 'float', 'duration', 'timestamp'"
        elif kind in _TYPE_RULES:
            rule = _TYPE_RULES[kind]
            if kind == "int_type" and isinstance(error.get("input"), bool):
                rule = "must be an integer (a boolean is not one)"
            if kind == "dict_type" and field == "body":
                rule = "must be a JSON object with the contract's fields"
            if kind == "dict_type" and field.startswith("optional["):
                rule = "must be an object {key, value, type}"
        else:
            rule = _constraint_rule(field, kind, error.get("input")) or str(error["msg"])
        if field == "body" and kind in _RECORD_KINDS:
            field = _RECORD_KINDS[kind]
            loc = (field,)
        if kind in _VALUE_KINDS:
            field, loc = field + ".value", (*loc, "value")
        elif kind == "reserved_key":
            field, loc = field + ".key", (*loc, "key")
        value = MISSING if kind == "missing" or not loc else _lookup(body, loc)
        problems.setdefault(field, Problem(field, value, rule))
    if isinstance(body, dict) and not _has_repo(body) and "repo_id/repo_name" not in problems:
        # the record rules did not run (fields failed first): still say that the repo is missing
        problems["repo_id/repo_name"] = Problem(
            "repo_id/repo_name", MISSING, "one of repo_id and repo_name must be given (both may be)"
        )
    return list(problems.values())


def _has_repo(body: dict[str, Any]) -> bool:
    """Whether the body gives a repository at all (a wrongly typed one is its own problem)."""
    for name in ("repo_id", "repo_name"):
        value = body.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return True
    return False
