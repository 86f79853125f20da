"""A secret string that never shows itself (the Allstacks token)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Secret", "SecretLike"]


class SecretLike(Protocol):
    """Anything that holds a secret value (this :class:`Secret`, or pydantic's ``SecretStr``)."""

    def get_secret_value(self) -> str:
        """The secret itself: use it only to build the request."""


class Secret:
    """Holds a secret; ``str()``, ``repr()`` and formatting show ``**********``.

    :param value: the secret.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself: use it only to build the request."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled")
