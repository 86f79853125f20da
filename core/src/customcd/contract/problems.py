"""Problems found in a record, and the errors that carry them to the user.

Every check in customcd reports a :class:`Problem` naming the field, the offending value and the
rule it breaks. Checks never stop at the first problem: they collect them all, so the user can fix
a record in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


class ConfigurationError(CustomcdError):
    """The settings (flags, environment, ``customcd.toml``) are wrong or incomplete."""

    exit_code = 78


class UsageError(CustomcdError):
    """The command line was used wrongly."""

    exit_code = 64
