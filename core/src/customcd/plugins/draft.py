"""The draft of a record: what adapters and plugins gather before it is validated.

A :class:`Draft` holds raw, lenient values (a native CI status, a time as ISO text, a duration as a
float); the builder turns it into a strict :class:`~customcd.contract.job.Job`. Adapters create drafts,
enrich hooks adjust them, user overrides are applied last.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..contract.wire import BASE_FIELDS

__all__ = ["DRAFT_FIELDS", "CollectContext", "Draft"]

#: The base fields a draft can carry, in contract order.
DRAFT_FIELDS: tuple[str, ...] = BASE_FIELDS


@dataclass
class Draft:
    """Fields of one record before validation.

    :param job_id: the job's identity, stable across re-sends of the same build.
    :param commit_sha: the deployed commit (any case; short SHAs are rejected later, clearly).
    :param service_id: the Custom CD service (int or digit text); usually from routing or flags.
    :param job_start_time: epoch seconds (int), ISO 8601 text with a zone, or an aware datetime.
    :param job_duration: seconds (int, float or text); ``None`` means "now - start".
    :param status: the CI's native status (mapped through the adapter's status map) or one of
        ``Succeeded``/``Failed``/``On Hold`` in any case.
    :param repo_id: repository id.
    :param repo_name: repository name (``owner/repo`` where the CI knows it).
    :param triggered_by: user email or agent username.
    :param job_type: the customer's kind of job.
    :param optional: optional fields added by adapters and plugins (``{key, value, type}`` dicts);
        the user's own optional fields win over these.
    :param facts: routing facts (``job_name``, ``branch``, ``environment``, ``repo``, ``stage``,
        ``pipeline``, ``ci``...) that ``customcd.toml`` rules match on; not sent.
    :param notes: messages for the user about how the draft was made (shown with ``-v``).
    :param skip: when set, no record is sent and this reason is shown (e.g. ``NOT_BUILT``).
    :param hints: for a field the adapter could not fill, what the user can set (e.g.
        ``{"repo_name": "BUILD_REPOSITORY_NAME is not set; give --repo-name"}``); added to the
        problem reported for that field.
    :param adapter: name of the adapter that made the draft.
    :param cursor: for history items, where a backfill can resume after this item.
    """

    job_id: Any = None
    commit_sha: Any = None
    service_id: Any = None
    job_start_time: Any = None
    job_duration: Any = None
    status: Any = None
    repo_id: Any = None
    repo_name: Any = None
    triggered_by: Any = None
    job_type: Any = None
    optional: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)
    skip: str | None = None
    adapter: str | None = None
    cursor: str | None = None

    def add_optional(self, key: str, value: Any, type: str = "string") -> None:
        """Add (or replace, by key) an optional field; ``None`` and empty values are ignored."""
        if value is None or value == "" or value == []:
            return
        self.optional = [item for item in self.optional if item.get("key") != key]
        self.optional.append({"key": key, "value": value, "type": type})

    def fill(self, **values: Any) -> None:
        """Set base fields that are still empty; fields already set are left alone."""
        for name, value in values.items():
            if name not in DRAFT_FIELDS:
                raise TypeError(f"{name!r} is not a draft field")
            if _is_empty(getattr(self, name)) and not _is_empty(value):
                setattr(self, name, value)

    def hint(self, name: str, text: str) -> None:
        """Say what the user can set when field ``name`` ends up missing or invalid."""
        if name not in DRAFT_FIELDS:
            raise TypeError(f"{name!r} is not a draft field")
        self.hints[name] = text

    def set_fact(self, name: str, value: Any) -> None:
        """Record a routing fact (ignored when empty)."""
        if not _is_empty(value):
            self.facts[name] = str(value)

    def fields(self) -> dict[str, Any]:
        """The base fields that are set, by wire name."""
        return {
            name: getattr(self, name) for name in DRAFT_FIELDS if not _is_empty(getattr(self, name))
        }


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class CollectContext:
    """What an adapter and the enrich hooks get to build a draft from.

    :param env: the environment mapping (the CI's variables); never ``os.environ`` itself.
    :param overrides: the field values the user gave by flag or ``CUSTOMCD_*`` variable; they win
        over anything a draft says, so a plugin can skip work they make needless.
    :param options: adapter and plugin options from ``customcd.toml`` (``[adapters.NAME]``).
    :param timeout: seconds any one call to a CI server may take.
    :param now: the current epoch time (seconds), for "duration so far".
    :param log: the logger to report on (``-v`` shows it).
    :param history: ``True`` when the draft is a past build read by a backfill, not the job
        running here: plugins that read the local machine (the checkout, the clock) must not
        fill it.
    """

    env: Mapping[str, str]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 10.0
    now: float = 0.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("customcd"))
    history: bool = False

    def adapter_options(self, name: str) -> Mapping[str, Any]:
        """The ``[adapters.NAME]`` table of ``customcd.toml`` (empty when absent)."""
        table = self.options.get(name, {})
        return table if isinstance(table, Mapping) else {}
