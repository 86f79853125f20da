"""Problems found in a record, and the errors that carry them to the user.

Every check in customcd reports a :class:`Problem` naming the field, the offending value and the
rule it breaks. Checks never stop at the first problem: they collect them all, so the user can fix
a record in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["ConfigurationError", "CustomcdError", "InvalidRecord", "Problem", "UsageError"]

_MAX_SHOWN = 80


def show_value(value: Any) -> str:
    """Render a value for a message: short, quoted, never multi-line."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text


@dataclass(frozen=True)
class Problem:
    """One broken rule: which field, what value it had, which rule it breaks.

    :param field: the wire name of the field, with an index for list items (``optional[3].value``).
    :param value: the offending value (already free of secrets), or :data:`MISSING`.
    :param rule: the rule, phrased so a person knows what to change.
    """

    field: str
    value: Any
    rule: str

    def __str__(self) -> str:
        """``field: value — rule`` (the value left out when the field was missing)."""
        if self.value is MISSING:
            return f"{self.field}: {self.rule}"
        return f"{self.field}: {show_value(self.value)} — {self.rule}"


class _Missing:
    """Marker for a value that was not given at all."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""The value of a :class:`Problem` about a field that was not given at all (shown as
``<missing>``)."""


class CustomcdError(Exception):
    """Base class of every error customcd reports to a user without a traceback.

    :param message: one clear sentence for the user.
    :param docs: the docs page (relative to ``docs/``) that explains the topic, if any.
    """

    exit_code = 1

    def __init__(self, message: str, *, docs: str | None = None) -> None:
        super().__init__(message)
        self.docs = docs


class InvalidRecord(CustomcdError):
    """A record breaks the contract; it carries every problem found at once.

    :param problems: all the problems of the record.
    """

    exit_code = 65

    def __init__(
        self, problems: Sequence[Problem], *, what: str = "record", hint: str = ""
    ) -> None:
        self.problems = tuple(problems)
        self.hint = hint
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        text = f"invalid {what} ({count} {noun}):\n{lines}"
        if hint:
            text += f"\n  ({hint})"
        super().__init__(text, docs="contract.md")

    @classmethod
    def from_validation_error(
        cls, error: ValidationError, data: Any, *, what: str = "record"
    ) -> InvalidRecord:
        """The problems of pydantic's :class:`~pydantic.ValidationError`, one per field.

        :param error: what validating ``data`` against the contract's model raised.
        :param data: the input that was validated (each problem shows its offending value).
        :param what: what was validated, for the message.
        """
        return cls(_problems(error, data), what=what)


class ConfigurationError(CustomcdError):
    """The settings (flags, environment, ``customcd.toml``) are wrong or incomplete."""

    exit_code = 78


class UsageError(CustomcdError):
    """The command line was used wrongly."""

    exit_code = 64


# -- pydantic's errors as problems a person can act on -------------------------------------

#: Errors of the whole record and the field they concern.
_RECORD_KINDS = {
    "repo": "repo_id/repo_name",
    "future": "job_start_time",
    "duplicate_key": "optional",
}
#: Errors of an optional entry that concern its value.
_VALUE_KINDS = frozenset({"value_type", "value_range", "empty_list", "too_many_values"})
_NO_REPO = "one of repo_id and repo_name must be given (both may be)"
_TYPE_RULES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be a boolean",
    "list_type": "must be a list",
    "missing": "is required",
    "extra_forbidden": "is not a field of the Custom CD contract",
}
_HEX = re.compile(r"[0-9a-f]+")


def _problems(error: ValidationError, data: Any) -> list[Problem]:
    """One :class:`Problem` per field, in the model's field order (the first error of each)."""
    problems: dict[str, Problem] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        field = _field_name(loc)
        rule = _rule(field, kind, item.get("input"), str(item["msg"]))
        if field == "body" and kind in _RECORD_KINDS:
            field = _RECORD_KINDS[kind]
            loc = (field,)
        elif kind in _VALUE_KINDS:
            field, loc = field + ".value", (*loc, "value")
        value = MISSING if kind == "missing" else _lookup(data, loc)
        problems.setdefault(field, Problem(field, value, rule))
    if "repo_id/repo_name" not in problems and isinstance(data, Mapping) and not _has_repo(data):
        # the record's rules did not run (fields failed first): still say that the repo is missing
        problems["repo_id/repo_name"] = Problem("repo_id/repo_name", MISSING, _NO_REPO)
    return list(problems.values())


def _rule(field: str, kind: str, value: Any, message: str) -> str:
    """A person's phrasing of the rule behind one of pydantic's errors."""
    if kind == "literal_error" and field.endswith("status"):
        return "must be exactly one of 'Succeeded', 'Failed', 'On Hold'"
    if kind == "literal_error" and field.endswith("type"):
        return "must be one of 'string', 'integer', 'float', 'duration', 'timestamp'"
    if kind in ("model_type", "dict_type"):
        if field == "body":
            return "must be a JSON object with the contract's fields"
        return "must be an object {key, value, type}"
    if kind == "int_type" and isinstance(value, bool):
        return "must be an integer (a boolean is not one)"
    if kind in _TYPE_RULES:
        return _TYPE_RULES[kind]
    return _constraint_rule(field, kind, value) or message


def _constraint_rule(field: str, kind: str, value: Any) -> str | None:
    """A person's phrasing of a constraint of the model's field types."""
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
        count = len(value) if isinstance(value, Sequence) else "more than 20"
        return f"has {count} entries; at most 20 optional fields are allowed"
    return None


def _field_name(loc: tuple[int | str, ...]) -> str:
    """``("optional", 3, "value")`` -> ``optional[3].value``; the empty location is ``body``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text or "body"


def _lookup(data: Any, loc: tuple[int | str, ...]) -> Any:
    """The input's value at ``loc``, or :data:`MISSING`."""
    value = data
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value


def _has_repo(data: Mapping[Any, Any]) -> bool:
    """Whether the input gives a repository at all (a wrongly typed one is its own problem)."""
    for name in ("repo_id", "repo_name"):
        value = data.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return True
    return False
