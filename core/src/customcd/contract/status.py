"""Mapping native CI statuses to the contract's three, or to "no record" / "not finished"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .fields import STATUSES

__all__ = ["NOT_FINAL", "SKIP", "StatusMapper", "canonical_status"]

SKIP = "<skip>"
"""Status-map value: this native status produces no record (e.g. skipped, not built); the user
sees why, and the step exits 0."""
NOT_FINAL = "<not final>"
"""Status-map value: the job is not finished (running, pending); a record needs ``--status``,
and a backfill does not read past it until it is."""

_CANONICAL = {s.lower(): s for s in STATUSES} | {
    "on_hold": "On Hold",
    "onhold": "On Hold",
    "on-hold": "On Hold",
}
_USER_VALUES = {"skip": SKIP, "none": SKIP, "not_final": NOT_FINAL, "running": NOT_FINAL}


def canonical_status(raw: str) -> str | None:
    """One of the contract's statuses written in any case (``on_hold`` too), or ``None``."""
    return _CANONICAL.get(raw.strip().lower())


@dataclass(frozen=True)
class StatusMapper:
    """Looks a status up in the user's map, then the adapter's, then the canonical names.

    :param user: ``[status_map]`` from ``customcd.toml`` (values: a canonical status or ``skip``).
    :param adapter: the adapter's ``status_map``.
    :param adapter_title: the adapter's title (for messages and tables).
    """

    user: Mapping[str, str]
    adapter: Mapping[str, str]
    adapter_title: str = ""

    def map(self, raw: str) -> str | None:
        """The canonical status, :data:`SKIP`, :data:`NOT_FINAL`, or ``None`` when unknown."""
        key = raw.strip().lower()
        if not self.user and not self.adapter:
            return _CANONICAL.get(key)
        for table in (self.user, self.adapter):
            for native, value in table.items():
                if native.strip().lower() == key:
                    return _canonical_value(value)
        return _CANONICAL.get(key)

    def known(self) -> list[str]:
        """Every status this mapper understands, for error messages."""
        natives = [*self.user, *self.adapter]
        return [*STATUSES, *dict.fromkeys(natives)]


def _canonical_value(value: str) -> str | None:
    if value in (SKIP, NOT_FINAL):
        return value
    text = value.strip().lower()
    return _CANONICAL.get(text) or _USER_VALUES.get(text)
