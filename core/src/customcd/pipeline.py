"""One run of ``send``: build, veto hooks, outbox, replay of older records, delivery, report.

Shared by ``customcd send``, ``customcd demo`` and the library API so that all behave alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .builder import Built, build_job_from_environment
from .config import Config
from .contract.job import Job
from .contract.problems import ConfigurationError, CustomcdError
from .delivery.outcome import Outcome
from .plugins.adapter import Adapter
from .plugins.manager import Plugins
from .report import Reporter

if TYPE_CHECKING:
    from .delivery.dispatcher import Dispatcher
    from .delivery.outbox import Outbox
    from .delivery.retry import Clock
    from .delivery.sender import Sender

__all__ = [
    "RunResult",
    "apply_before_send",
    "open_outbox",
    "prepare_record",
    "run_send",
]

log = logging.getLogger("customcd")


@dataclass
class RunResult:
    """What one ``send`` run did.

    :param built: the built record (``None`` when building failed).
    :param outcome: the current record's outcome.
    :param replayed: outcomes of older records re-sent first.
    :param body_json: the exact JSON sent (or that would be sent).
    """

    built: Built | None
    outcome: Outcome
    replayed: list[Outcome] = field(default_factory=list)
    body_json: str = ""


def apply_before_send(plugins: Plugins, record: Job, *, now: float) -> tuple[Job, str | None]:
    """Run the before-send hooks: each change is validated; a veto gives its reason.

    A plugin whose change breaks the contract (or that raises) is named in a warning and its
    change undone: the record is sent as it was before that plugin.
    """
    if not plugins.implements("customcd_before_send"):
        return record, None
    body = record.to_body()
    veto = plugins.before_send(
        body=body, job=record, check=lambda changed: Job.from_body(changed, now=now)
    )
    if veto is not None:
        plugin, reason = veto
        return record, f"vetoed by plugin {plugin!r}: {reason}"
    if body != record.to_body():
        record = Job.from_body(body, now=now)  # every change in it was checked already
    return record, None


def prepare_record(
    *,
    plugins: Plugins,
    config: Config,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    optional_args: Sequence[str],
    reporter: Reporter,
    now: float,
) -> tuple[Built, Job | None, Outcome | None]:
    """Build the record and run the before-send hooks: what ``send`` and ``--dry-run`` share.

    Notes are logged and warnings shown; a skipped or vetoed record is reported and comes back as
    an outcome (``send`` passes it to the observers; a dry run only shows it).

    :raises InvalidRecord: the record breaks the contract.
    :raises ConfigurationError: the adapter choice or configuration is wrong.
    """
    built = build_job_from_environment(
        plugins=plugins, config=config, env=env, flags=flags, optional_args=optional_args, now=now
    )
    adapter: Adapter | None = plugins.adapters().get(built.adapter or "")
    if adapter is not None:
        reporter.annotate = adapter.annotate
    for note in built.notes:
        log.info("%s", note)
    for warning in built.warnings:
        reporter.warn(warning)
    if built.skip or built.job is None:
        skipped = Outcome("skipped", reason=built.skip or "nothing to send")
        reporter.outcome(skipped)
        return built, None, skipped
    record, veto = apply_before_send(plugins, built.job, now=now)
    if veto is not None:
        vetoed = Outcome("vetoed", record.idempotency_key, record.to_body(), reason=veto)
        reporter.outcome(vetoed)
        return built, record, vetoed
    return built, record, None


def open_outbox(config: Config, reporter: Reporter) -> Outbox | None:
    """Open the outbox, or say clearly why it cannot be used and go on without it."""
    from .delivery.outbox import Outbox, OutboxUnavailable

    try:
        return Outbox(config.outbox_path)
    except OutboxUnavailable as exc:
        reporter.warn(
            f"{exc}; sending without it (a record that is not delivered is printed to stderr)"
        )
        return None


def run_send(
    *,
    plugins: Plugins,
    config: Config,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    optional_args: Sequence[str] = (),
    reporter: Reporter,
    clock: Clock | None = None,
    now: float | None = None,
    replay: bool = True,
) -> RunResult:
    """Build, validate and deliver the current job; replay older pending records first.

    :raises InvalidRecord: the record breaks the contract (nothing was stored or sent).
    :raises ConfigurationError: the adapter choice or configuration is wrong.
    """
    from .delivery.dispatcher import Dispatcher
    from .delivery.retry import SystemClock

    clock = clock or SystemClock()
    now = time.time() if now is None else now
    built, record, stopped = prepare_record(
        plugins=plugins,
        config=config,
        env=env,
        flags=flags,
        optional_args=optional_args,
        reporter=reporter,
        now=now,
    )
    if stopped is not None:
        plugins.outcome(outcome=stopped)
        return RunResult(built, stopped, body_json=record.to_json() if record else "")
    assert record is not None  # prepare_record returns a record whenever it did not stop
    body, body_json, key = record.to_body(), record.to_json(), record.idempotency_key

    sender, problems = _check_delivery(config, clock)
    if problems:
        # a record that can be built is never dropped for a configuration problem: kept, unsent
        raise _keep_unsent(config, key, body_json, problems)
    assert sender is not None  # no problems: the endpoint, the TLS set-up and the token are fine

    outbox = open_outbox(config, reporter)
    dispatcher = Dispatcher(sender, outbox, on_outcome=lambda o: plugins.outcome(outcome=o))
    replayed: list[Outcome] = []
    try:
        # stored and leased to this process before anything else is tried: a step killed during
        # the replay loses nothing, and no other process's replay takes it meanwhile
        stored = dispatcher.store(key, body_json, claim=True)
        if replay and dispatcher.outbox is not None and stored != "delivered":
            replayed = _replay(dispatcher, key, reporter)
        outcome = _settle_current(dispatcher, stored, key, body, body_json)
    finally:
        sender.close()
        if outbox is not None:
            for quarantined, why in outbox.quarantined:
                reporter.quarantined(quarantined, why)
            outbox.close()
    if dispatcher.outbox_error:
        reporter.warn(
            f"{dispatcher.outbox_error}; going on without it (a record that is not delivered is "
            "printed to stderr)"
        )
    kept = stored is not None  # stored (and durable) before the first attempt
    reporter.outcome(outcome, kept=kept)
    if outcome.kind in {"pending", "rejected"} and not kept:
        reporter.line(f"customcd: the record, to keep by hand: {body_json}")
    return RunResult(built, outcome, replayed, body_json)


def _check_delivery(config: Config, clock: Clock) -> tuple[Sender | None, list[CustomcdError]]:
    """The sender for this configuration, and every configuration problem found on the way.

    An unusable URL, an unreadable CA bundle and a missing token are all found before anything
    is sent, so the one line that keeps the record can say every problem at once.
    """
    from .delivery.retry import RetryPolicy
    from .delivery.sender import Sender
    from .delivery.transport import Endpoint

    problems: list[CustomcdError] = list(config.problems.values())
    sender: Sender | None = None
    try:
        endpoint = Endpoint.parse(config.url, config.company_id, allow_http=config.allow_http)
        sender = Sender(
            endpoint,
            config.token,
            policy=RetryPolicy(deadline=config.deadline, attempt_timeout=config.timeout),
            clock=clock,
            ca_bundle=config.ca_bundle,
            ca_dir=config.ca_dir,
        )
        sender.open()  # an unreadable CA bundle is a configuration problem, said now
    except ConfigurationError as exc:
        problems.append(exc)
    if config.token is None and "token" not in config.problems:
        problems.append(
            ConfigurationError(
                "no token: set CUSTOMCD_TOKEN (or --token-file) to your Allstacks personal access "
                "token",
                docs="configuration.md",
            )
        )
    if problems and sender is not None:
        sender.close()
        sender = None
    return sender, problems


def _keep_unsent(
    config: Config, key: str, body_json: str, problems: list[CustomcdError]
) -> ConfigurationError:
    """Keep a record that this configuration cannot send; the one-line error that says so.

    The outbox is the configured one, or the default one when the outbox setting itself is
    broken (the message names it, since ``outbox flush`` must then be pointed at it).
    """
    from .delivery.outbox import Outbox, OutboxUnavailable

    said = "; ".join(str(problem) for problem in problems)
    docs = next((problem.docs for problem in problems if problem.docs), None)
    path = config.outbox_path
    try:
        box = Outbox(path)
        try:
            stored = box.add(key, body_json)
        finally:
            box.close()
    except OutboxUnavailable as exc:
        return ConfigurationError(
            f"{said} (the record was NOT kept: {exc}; the record, to keep by hand: {body_json})",
            docs=docs,
        )
    if stored == "delivered":
        where = "this record was delivered before; nothing to keep"
    elif "outbox" in config.problems:
        where = (
            f"kept in the default outbox {path}; `customcd outbox flush --outbox {path}` sends "
            "it once configured"
        )
    else:
        where = "kept in the outbox; `customcd outbox flush` sends it once configured"
    return ConfigurationError(f"{said} ({where})", docs=docs)


def _settle_current(
    dispatcher: Dispatcher, stored: str | None, key: str, body: dict[str, Any], body_json: str
) -> Outcome:
    """Send the current record (claimed when it was stored), or learn what became of it."""
    if stored == "claimed":
        return dispatcher.send_claimed(key, body, body_json)
    if stored == "taken":
        return _await_other_process(dispatcher, key, body, body_json)
    # no outbox (sent without it), in the ledger (not sent again), or busy in this process
    return dispatcher.deliver(key, body, body_json)


#: Seconds between two looks at a record another process is sending.
_POLL = 0.1


def _await_other_process(
    dispatcher: Dispatcher, key: str, body: dict[str, Any], body_json: str
) -> Outcome:
    """Another live process is sending this very record: wait for its outcome (deadline-bound).

    Delivered by it: reported as delivered (no attempt of ours). Given back by it (not delivered,
    or rejected): this process takes the record over and sends it itself.
    """
    sender = dispatcher.sender
    while sender.remaining() > _POLL:
        sender.clock.sleep(_POLL)
        stored = dispatcher.store(key, body_json, claim=True)
        if stored == "claimed":
            return dispatcher.send_claimed(key, body, body_json)
        if stored == "delivered":
            status = _ledger_status(dispatcher, key)
            outcome = Outcome("delivered", key, body, status, "sent by another customcd process", 0)
            dispatcher.on_outcome(outcome)
            return outcome
        if stored is None:  # the outbox failed meanwhile: never send beside the lease holder
            break
    outcome = Outcome(
        "pending", key, body, None, "another customcd process is still sending this record", 0
    )
    dispatcher.on_outcome(outcome)
    return outcome


def _ledger_status(dispatcher: Dispatcher, key: str) -> int | None:
    """The status the ledger noted for a delivered record (``None`` when it cannot be read)."""
    from .delivery.outbox import OutboxUnavailable

    try:
        return dispatcher.outbox.ledger_status(key) if dispatcher.outbox is not None else None
    except OutboxUnavailable:
        return None


def _replay(dispatcher: Dispatcher, current: str, reporter: Reporter) -> list[Outcome]:
    """Re-send older pending records, one attempt each, within half the deadline.

    Stops at the first failure; the other half of the deadline is the current record's.
    """
    replayed: list[Outcome] = []
    sender = dispatcher.sender
    original = sender.policy
    sender.policy = replace(original, max_attempts=1)
    sender.reserve = original.deadline / 2
    try:
        for outcome in dispatcher.flush(skip={current}):
            replayed.append(outcome)
            reporter.outcome(outcome, replay=True)
            if outcome.kind == "pending":
                break
    finally:
        sender.policy = original
        sender.reserve = 0.0
    return replayed
