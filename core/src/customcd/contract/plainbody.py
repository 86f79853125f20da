"""The library's fast path: a record from plain field values, decided by one schema.

``customcd.api.build_job`` is mostly called with values that are already almost wire values: a
status in any case, a service id as digits, numbers where the wire wants text, epoch-second
times. For those, the general builder (:func:`~customcd.builder.build_from_draft`) comes down to
a few conversions, and this module does them inside pydantic-core, together with the contract's
quick schema (:func:`~customcd.contract.wire.quick_body_schema`). Anything else -- ISO or millisecond
times, a duration to compute, a status map, configuration, a repeated optional key, an invalid
record -- makes :func:`plain_body` return ``None``, and the caller runs the general builder,
which gives the same record or names every problem. ``tests/core/test_properties.py`` checks
that both give the same record for every generated input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from .status import canonical_status
from .times import TOO_LARGE
from .wire import quick_body_schema, quick_rules, text_schema

__all__ = ["plain_body"]

#: Text with something in it that Python does not call whitespace: the builder treats text that
#: ``str.strip()`` empties as not given, and Python's whitespace has four characters more than
#: pydantic-core's (``\x1c``-``\x1f``).
_NOT_BLANK = r"[^\s\x1c-\x1f]"


_BLANK = r"^[\s\x1c-\x1f]*$"


def _nothing(value: Any) -> None:
    """Blank text stands for a field not given."""
    return None


def _status(value: Any) -> str:
    """A contract status written in any case; anything else is the builder's to explain."""
    if type(value) is str:
        mapped = canonical_status(value)
        if mapped is not None:
            return mapped
    raise PydanticCustomError("status", "not a plain status")


def _schema() -> cs.CoreSchema:
    """The quick contract schema with the builder's plain conversions in front of its fields."""
    quick = quick_body_schema()
    fields = dict(quick["fields"])

    def text(required: bool) -> cs.TypedDictField:
        choices: list[cs.CoreSchema | tuple[cs.CoreSchema, str]] = [
            text_schema(min_length=1, pattern=_NOT_BLANK),
            # CIs give ids as numbers; the wire wants text
            cs.no_info_after_validator_function(str, cs.int_schema(strict=True)),
        ]
        if required:
            return cs.typed_dict_field(cs.union_schema(choices))
        # an optional field left blank (or None) is not given, as in a draft
        blank = cs.no_info_after_validator_function(_nothing, cs.str_schema(pattern=_BLANK))
        return cs.typed_dict_field(
            cs.nullable_schema(cs.union_schema([*choices, blank])), required=False
        )

    fields["job_id"] = text(required=True)
    for name in ("repo_id", "repo_name", "triggered_by", "job_type"):
        fields[name] = text(required=False)
    fields["status"] = cs.typed_dict_field(cs.no_info_plain_validator_function(_status))
    service = fields["service_id"]["schema"]
    digits = cs.chain_schema(
        [
            cs.str_schema(strict=True, strip_whitespace=True, pattern=r"^[0-9]{1,18}$"),
            cs.int_schema(gt=0),
        ]
    )
    fields["service_id"] = cs.typed_dict_field(cs.union_schema([service, digits]))
    fields["job_duration"] = cs.typed_dict_field(cs.int_schema(strict=True, ge=0, lt=TOO_LARGE))
    return cs.typed_dict_schema(fields, extra_behavior="forbid", strict=True)


_VALIDATOR: list[SchemaValidator] = []


def plain_body(
    fields: Mapping[str, Any], optional: Sequence[Mapping[str, Any]], *, now: float
) -> dict[str, Any] | None:
    """The validated wire body of plain field values (no draft, no configuration), or ``None``.

    :param fields: the field values by wire name, as ``build_job`` takes them.
    :param optional: optional entries ``{key, value, type}`` (a list, or the builder decides).
    :param now: the epoch seconds to judge future times against.
    """
    if not _VALIDATOR:
        _VALIDATOR.append(SchemaValidator(_schema()))
    candidate = dict(fields)
    if optional:
        if type(optional) is not list:
            return None
        candidate["optional"] = optional
    try:
        body: dict[str, Any] = _VALIDATOR[0].validate_python(candidate)
    except ValidationError:
        return None
    if None in body.values():  # optional text given as None: not given
        body = {name: value for name, value in body.items() if value is not None}
    return body if quick_rules(body, now) else None
