"""The hooks customcd calls, and that plugins implement.

Every hook is called with keyword arguments only. Implement one with ``@customcd.hookimpl`` in a
module (or class) registered under the ``customcd`` entry-point group (``pyproject.toml``):

    [project.entry-points.customcd]
    myci = "customcd_myci.plugin"

An exception raised by a plugin's hook is reported as a warning naming the plugin, and the run goes
on without that plugin's contribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from ..contract.job import Job
    from ..delivery.outcome import Outcome
    from .adapter import Adapter
    from .draft import CollectContext, Draft

__all__ = [
    "NAME",
    "customcd_adapters",
    "customcd_before_send",
    "customcd_cli",
    "customcd_enrich",
    "customcd_outcome",
    "hookimpl",
    "hookspec",
]

#: Names the hook markers, the plugin manager's project and the entry-point group.
NAME = "customcd"

hookspec = pluggy.HookspecMarker(NAME)
hookimpl = pluggy.HookimplMarker(NAME)
"""Decorate a plugin's hook implementations with this (``from customcd import hookimpl``).

A hook implementation takes keyword arguments only, and only those it needs: ``def
customcd_enrich(draft): ...`` is valid. pluggy's options work too (``@hookimpl(tryfirst=True)``
runs before the others).
"""


@hookspec
def customcd_adapters() -> Sequence[Adapter]:
    """Add CI adapters.

    Return the :class:`~customcd.plugins.adapter.Adapter` objects this plugin provides. Each adapter
    detects its CI from an environment mapping (``detect``), collects one record's draft
    (``collect``), iterates historical builds for backfill (``history``) and declares its native
    status map (``status_map``). Adapter names must be unique across all plugins: two adapters with
    one name stop the run with an error naming both distributions.

    :return: a sequence of adapters (empty when the plugin adds none).
    """
    ...


@hookspec
def customcd_enrich(draft: Draft, context: CollectContext) -> None:
    """Enrich or override the fields of every record, after the adapter collected it.

    Change ``draft`` in place: fill missing base fields (``draft.fill(...)``), set them outright,
    add optional fields (``draft.add_optional(key, value, type)``) or routing facts
    (``draft.set_fact``). The user's flags and ``CUSTOMCD_*`` overrides are applied after this hook
    and always win; ``context.overrides`` shows them so work they make needless can be skipped.

    :param draft: the record being built (``draft.adapter`` names its adapter, or is ``None``).
    :param context: the environment, overrides, options, timeout and clock of this run.
    """
    ...


@hookspec
def customcd_before_send(body: dict[str, Any], job: Job) -> str | None:
    """Change or veto a validated body just before it is stored and sent.

    Change ``body`` in place to adjust what is sent (the result is validated again against the
    contract: keep it valid). Return a reason (a non-empty string) to veto: the record is then not
    stored or sent, and the reason is shown naming the plugin. Return ``None`` to let it through.
    It runs under ``customcd send --dry-run`` too: the body printed is the body after this hook,
    and a veto prints none.

    :param body: the wire body (a dict; mutable).
    :param job: the validated :class:`~customcd.contract.job.Job` the body came from (read-only).
    :return: ``None``, or the reason for a veto.
    """
    ...


@hookspec
def customcd_outcome(outcome: Outcome) -> None:
    """Observe what happened to a record.

    Outcomes: delivered, pending (kept for retry), rejected, vetoed, duplicate (delivered before)
    or skipped.

    Called once per record and run, after the outbox and ledger are updated. Keep it quick and
    never raise: a failure here is a warning and changes nothing about delivery.

    :param outcome: the :class:`~customcd.delivery.outcome.Outcome`.
    """


@hookspec
def customcd_cli(cli: click.Group) -> None:
    """Add subcommands (or groups) to the ``customcd`` command line.

    :param cli: the top-level click group; call ``cli.add_command(...)``. A name already taken is
        refused with a warning naming the plugin.
    """
