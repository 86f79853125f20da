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

from ..contract.fields import BASE_FIELDS

__all__ = ["DRAFT_FIELDS", "CollectContext", "Draft"]

#: The base fields a draft can carry, in contract order.
DRAFT_FIELDS: tuple[str, ...] = BASE_FIELDS


@dataclass
class Draft:
    """The fields of one record before validation: what an adapter collects and hooks adjust.

    Put the CI's **native** values in a draft: its own status word (mapped through the adapter's
    :attr:`~customcd.Adapter.status_map`), times as ISO 8601 text or epoch seconds, durations as
    float seconds. The builder converts and validates them, and reports every problem at once,
    naming the field. Every field is optional here; a base field left ``None`` (or blank) is
    "not known", and the contract says which ones a record needs.

    Precedence, lowest first: the adapter's draft < ``customcd_enrich`` hooks < ``customcd.toml``
    < ``CUSTOMCD_*`` variables < flags. Use :meth:`fill` to set only what is still empty.
    """

    job_id: Any = None
    """The job's identity (``job_id``), stable across re-sends of the same build."""
    commit_sha: Any = None
    """The deployed commit, in any case; a short SHA is rejected later, with a clear message."""
    service_id: Any = None
    """The Custom CD service (int or digit text); usually from routing rules or flags."""
    job_start_time: Any = None
    """When the job started: epoch seconds (int), ISO 8601 text with a zone, or an aware
    ``datetime``. ``None`` when the CI does not say: see "CIs without a start time" in the plugin
    guide."""
    job_duration: Any = None
    """Seconds (int, float or text). ``None`` means "now - start" for a job reporting on itself
    (``end - start`` when the user gives ``--end-time``; 0 for a record ``On Hold``)."""
    status: Any = None
    """The CI's native status (mapped through the adapter's status map), or ``Succeeded`` /
    ``Failed`` / ``On Hold`` in any case."""
    repo_id: Any = None
    """The repository's id in the CI or forge."""
    repo_name: Any = None
    """The repository's name (``owner/repo`` where the CI knows it)."""
    triggered_by: Any = None
    """The user's email or the agent's username; omitted from the body when unknown."""
    job_type: Any = None
    """The customer's kind of job (``Production Deploy``); omitted from the body when unknown."""
    optional: list[dict[str, Any]] = field(default_factory=list)
    """Optional fields added by the adapter and plugins, as ``{key, value, type}`` dicts (use
    :meth:`add_optional`). The user's own ``--optional`` fields win over these, and these are
    dropped first, with a warning, when a record would carry more than 20."""
    facts: dict[str, str] = field(default_factory=dict)
    """Routing facts (``job_name``, ``branch``, ``environment``, ``repo``, ``stage``,
    ``pipeline``, ``ci``...) that ``[[route]]`` rules of ``customcd.toml`` match on; never sent
    (use :meth:`set_fact`)."""
    notes: list[str] = field(default_factory=list)
    """Messages for the user about how the draft was made (shown with ``customcd -v``)."""
    hints: dict[str, str] = field(default_factory=dict)
    """For a field the adapter could not fill, what the user can set, by field name (use
    :meth:`hint`); added to the problem reported when that field ends up missing or invalid."""
    skip: str | None = None
    """When set, no record is made and this reason is shown (e.g. a ``NOT_BUILT`` job)."""
    adapter: str | None = None
    """The name of the adapter that made the draft (the builder sets it after ``collect``)."""
    cursor: str | None = None
    """For a past build yielded by :meth:`~customcd.Adapter.history`: where a backfill resumes
    after this item (saved in its checkpoint and given back as
    :attr:`~customcd.HistoryQuery.resume_from`)."""

    def add_optional(self, key: str, value: Any, type: str = "string") -> None:
        """Add (or replace, by key) an optional field; ``None`` and empty values are ignored.

        :param key: the field's key (not a base field's name).
        :param value: one value, or a list of at most 20 values of the type.
        :param type: ``string``, ``integer``, ``float``, ``duration`` (seconds) or
            ``timestamp`` (epoch seconds).
        """
        if value is None or value == "" or value == []:
            return
        self.optional = [item for item in self.optional if item.get("key") != key]
        self.optional.append({"key": key, "value": value, "type": type})

    def fill(self, **values: Any) -> None:
        """Set base fields that are still empty; fields already set are left alone.

        :param values: base fields by name, e.g. ``draft.fill(repo_name="acme/shop")``.
        :raises TypeError: when a name is not a base field.
        """
        for name, value in values.items():
            if name not in DRAFT_FIELDS:
                raise TypeError(f"{name!r} is not a draft field")
            if _is_empty(getattr(self, name)) and not _is_empty(value):
                setattr(self, name, value)

    def hint(self, name: str, text: str) -> None:
        """Say what the user can set when field ``name`` ends up missing or invalid.

        The text is added to the problem the builder reports for that field, e.g.
        ``draft.hint("repo_name", "BUILD_REPOSITORY_NAME is not set; give --repo-name")``.

        :param name: a base field (``repo_name``, ``job_start_time``...).
        :param text: what the user can set, naming the variable or flag.
        :raises TypeError: when ``name`` is not a base field.
        """
        if name not in DRAFT_FIELDS:
            raise TypeError(f"{name!r} is not a draft field")
        self.hints[name] = text

    def set_fact(self, name: str, value: Any) -> None:
        """Record a routing fact that ``[[route]]`` rules can match (ignored when empty).

        :param name: the fact's name (``environment``, ``branch``...).
        :param value: its value (turned into text).
        """
        if not _is_empty(value):
            self.facts[name] = str(value)

    def fields(self) -> dict[str, Any]:
        """The base fields that are set (not ``None``, not blank), by wire name."""
        return {
            name: getattr(self, name) for name in DRAFT_FIELDS if not _is_empty(getattr(self, name))
        }


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class CollectContext:
    """What an adapter's :meth:`~customcd.Adapter.collect` and the ``customcd_enrich`` hooks get.

    customcd makes it; adapters and hooks only read it.
    """

    env: Mapping[str, str]
    """The environment mapping (the CI's variables). Read this, never ``os.environ``: tests and
    ``customcd demo`` pass other environments."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The field values the user gave by flag or ``CUSTOMCD_*`` variable, by field name
    (``status``, ``job_start_time``, ``start_time_ms``, ``end_time``...). They win over anything
    a draft says, so an adapter or plugin can skip work they make needless."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """The ``[adapters]`` table of ``customcd.toml``: one table per adapter or plugin name (read
    yours with :meth:`adapter_options`)."""
    timeout: float = 10.0
    """Seconds any one call to a CI server may take (``--timeout``)."""
    now: float = 0.0
    """The current epoch time in seconds, for "duration so far" (the demo fixes it)."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("customcd"))
    """The logger to report on: ``info`` shows with ``-v``, ``debug`` with ``-vv``,
    ``warning`` always."""
    history: bool = False
    """``True`` when the draft is a past build read by a backfill, not the job running here:
    plugins that read the local machine (the checkout, the clock) must not fill it."""

    def adapter_options(self, name: str) -> Mapping[str, Any]:
        """The ``[adapters.NAME]`` table of ``customcd.toml`` (empty when absent)."""
        table = self.options.get(name, {})
        return table if isinstance(table, Mapping) else {}
