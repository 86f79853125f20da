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
from .draft import CollectContext, Draft

__all__ = [
    "DEMO_EPOCH",
    "NOT_FINAL",
    "SKIP",
    "Adapter",
    "AdapterError",
    "DemoCase",
    "HistoryQuery",
    "HistoryUnsupported",
]

#: The clock of ``customcd demo``: demo samples' start times sit a few minutes before it, so the
#: durations computed as "now - start" are realistic.
DEMO_EPOCH = 1_764_400_600


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

    Times in the sample should lie shortly before :data:`DEMO_EPOCH`, the demo's "now".

    :param title: what the case shows, e.g. "pipeline post{} block, SUCCESS".
    :param env: the CI variables of the sample job.
    :param overrides: flags the user would pass in that CI (e.g. ``status``, ``start_time_ms``).
    """

    title: str
    env: Mapping[str, str]
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryQuery:
    """What a backfill asks an adapter's history for.

    :param since: epoch seconds; items that started before are not wanted.
    :param until: epoch seconds or ``None`` for "up to now".
    :param selection: the adapter's own backfill options by name (``job``, ``project``...).
    :param server: the CI server's URL (``--server`` or the CI's usual variable), if given.
    :param env: the environment mapping (credentials are read from it, never from flags).
    :param options: ``[adapters.NAME]`` from ``customcd.toml``.
    :param resume_from: the cursor of the last item a previous run finished, or ``None``.
    :param include_on_hold: yield items waiting for a person (approval, manual job) as ``On Hold``.
    :param timeout: seconds any one call to the CI server may take.
    :param log: the logger to report on.
    """

    since: int
    until: int | None = None
    selection: Mapping[str, Any] = field(default_factory=dict)
    server: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    resume_from: str | None = None
    include_on_hold: bool = False
    timeout: float = 30.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("customcd"))


class Adapter(ABC):
    """A CI system: detects its environment, collects one record, lists history.

    Subclasses set :attr:`name` (unique; the ``--adapter`` value), :attr:`title` and
    :attr:`status_map`, and implement :meth:`detect` and :meth:`collect`.
    Keep module imports light: import a heavy client library inside the method that needs it,
    so detection never pays for it.
    """

    #: The adapter's name: ``--adapter NAME``, ``customcd backfill NAME``, ``[adapters.NAME]``.
    name: ClassVar[str]
    #: A human name for tables and messages ("GitLab CI").
    title: ClassVar[str]
    #: Native status (compared case-insensitively) -> ``Succeeded``/``Failed``/``On Hold``,
    #: :data:`SKIP` (no record) or :data:`NOT_FINAL` (still running).
    status_map: ClassVar[Mapping[str, str]] = {}
    #: The variables :meth:`detect` reads; ``customcd -v`` names those that are set when it says
    #: why this adapter was chosen.
    detect_variables: ClassVar[tuple[str, ...]] = ()

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
