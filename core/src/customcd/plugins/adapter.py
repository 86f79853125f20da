"""The adapter interface: how a CI system plugs into customcd.

An adapter is an object implementing :class:`Adapter`, returned by a plugin's
``customcd_adapters`` hook. Built-in adapters (Jenkins, GitLab, Azure DevOps) and third-party
ones are found and loaded exactly the same way: through the ``customcd`` entry-point group.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..contract.problems import CustomcdError
from ..contract.status import NOT_FINAL, SKIP
from .draft import DRAFT_FIELDS, CollectContext, Draft

__all__ = [
    "DEMO_EPOCH",
    "DEMO_OVERRIDE_KEYS",
    "NOT_FINAL",
    "SKIP",
    "Adapter",
    "AdapterError",
    "DemoCase",
    "HistoryQuery",
    "HistoryUnsupported",
]

DEMO_EPOCH = 1_764_400_600
"""The clock of ``customcd demo`` (epoch seconds): put a sample's start time a few minutes before
it, so that the durations computed as "now - start" are realistic."""

DEMO_OVERRIDE_KEYS: tuple[str, ...] = (*DRAFT_FIELDS, "start_time_ms", "duration_ms", "end_time")
"""The keys a :class:`DemoCase`'s ``overrides`` may hold: the base fields by their wire names
(what ``--job-id``, ``--start-time``, ``--status``... set) and the inputs ``--start-time-ms``,
``--duration-ms`` and ``--end-time``."""


class AdapterError(CustomcdError):
    """An adapter could not do its job; the message says what the user should change.

    :param message: one clear sentence (name the token, the scope, the URL; never the secret).
    :param docs: the docs page that explains the fix.
    """

    exit_code = 78


class HistoryUnsupported(AdapterError):
    """The adapter cannot list past builds (it has no history source)."""


@dataclass(frozen=True)
class DemoCase:
    """A bundled sample of a CI's environment that ``customcd demo`` runs the adapter on.

    ``customcd demo`` runs :meth:`Adapter.collect` on :attr:`env` with :attr:`overrides` as the
    user's flags (and ``--service-id 2``), offline, and sends the record to its local receiver.
    Times in the sample should lie shortly before :data:`DEMO_EPOCH`, the demo's "now".

    :raises ValueError: when ``overrides`` holds a key that is not in :data:`DEMO_OVERRIDE_KEYS`
        (``start_time`` is not one: the field is ``job_start_time``).
    """

    title: str
    """What the case shows, e.g. ``"pipeline post{} block, SUCCESS"``."""
    env: Mapping[str, str]
    """The CI variables of the sample job."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The flags a user passes in that CI, by field name, e.g. ``{"status": "SUCCESS",
    "start_time_ms": "1764400000000"}`` for ``--status SUCCESS --start-time-ms ...``. The keys
    are those of :data:`DEMO_OVERRIDE_KEYS`."""

    def __post_init__(self) -> None:
        """Refuse an override key customcd would ignore."""
        unknown = sorted(key for key in self.overrides if key not in DEMO_OVERRIDE_KEYS)
        if unknown:
            raise ValueError(
                f"DemoCase {self.title!r}: unknown override key(s) {', '.join(map(repr, unknown))}"
                f"; valid keys: {', '.join(DEMO_OVERRIDE_KEYS)}"
            )


@dataclass(frozen=True)
class HistoryQuery:
    """What a backfill asks an adapter's :meth:`Adapter.history` for."""

    since: int
    """Epoch seconds: items that started before are not wanted."""
    until: int | None = None
    """Epoch seconds, or ``None`` for "up to now"."""
    selection: Mapping[str, Any] = field(default_factory=dict)
    """The adapter's own backfill options by parameter name (``job``, ``project``...), as
    declared by :meth:`Adapter.backfill_params`."""
    server: str | None = None
    """The CI server's URL (``--server`` or the variable :meth:`Adapter.server_variable` names),
    if given."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The environment mapping: read credentials from it, never from flags."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """The adapter's ``[adapters.NAME]`` table of ``customcd.toml``."""
    resume_from: str | None = None
    """The :attr:`~customcd.Draft.cursor` of the last item a previous run finished, or ``None``
    to start at :attr:`since`."""
    include_on_hold: bool = False
    """Whether to yield items waiting for a person (an approval, a manual job) as ``On Hold``."""
    timeout: float = 30.0
    """Seconds any one call to the CI server may take."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("customcd"))
    """The logger to report on."""


class Adapter(ABC):
    """A CI system: detects its environment, collects one record, lists history.

    Subclasses set :attr:`name` (unique; the ``--adapter`` value), :attr:`title` and
    :attr:`status_map`, and implement :meth:`detect` and :meth:`collect`.
    Keep module imports light: import a heavy client library inside the method that needs it,
    so detection never pays for it.
    """

    name: ClassVar[str]
    """The adapter's unique name: ``--adapter NAME``, ``customcd backfill NAME``,
    ``[adapters.NAME]`` in ``customcd.toml``."""
    title: ClassVar[str]
    """A human name for tables and messages (``"GitLab CI"``)."""
    status_map: ClassVar[Mapping[str, str]] = {}
    """Native status (compared case-insensitively) -> ``Succeeded``, ``Failed``, ``On Hold``,
    :data:`~customcd.SKIP` (no record) or :data:`~customcd.NOT_FINAL` (still running: the
    user must pass ``--status``). A status missing from the map is an error naming it, unless
    it is one of the contract's three in any case. Users extend it with ``[status_map]``."""
    detect_variables: ClassVar[tuple[str, ...]] = ()
    """The variables :meth:`detect` reads; ``customcd -v`` names those that are set when it says
    why this adapter was chosen."""

    @abstractmethod
    def detect(self, env: Mapping[str, str]) -> bool:
        """Whether ``env`` is a job of this CI. Must be cheap: no I/O, no heavy imports.

        :param env: the environment mapping.
        """

    @abstractmethod
    def collect(self, context: CollectContext) -> Draft:
        """Build the draft of the current job's record from the environment (and the CI's API).

        :param context: the environment, the user's overrides, options, timeout and clock.
        :raises AdapterError: with a clear message when the CI cannot be read.
        """

    def history(self, query: HistoryQuery) -> Iterator[Draft]:
        """Yield finished past builds/deployments as drafts, lazily, oldest first when possible.

        Each draft should carry a :attr:`Draft.cursor` from which the query can resume.

        :param query: the window, the selection and the credentials' environment.
        :raises HistoryUnsupported: when the adapter has no history source.
        """
        raise HistoryUnsupported(f"the {self.title} adapter cannot list past builds")

    def backfill_params(self) -> Sequence[Any]:
        """Click options for ``customcd backfill NAME`` (the adapter's selection flags)."""
        return ()

    def demo_cases(self) -> Sequence[DemoCase]:
        """Sample environments for ``customcd demo``; they must build valid records offline."""
        return ()

    def server_variable(self) -> str | None:
        """The environment variable naming the CI server's URL (e.g. ``JENKINS_URL``)."""
        return None

    def annotate(self, level: str, message: str) -> str | None:
        """A log line the CI turns into an annotation (warning/error), or ``None`` if it has none.

        :param level: ``warning`` or ``error``.
        :param message: the text.
        """
        return None
