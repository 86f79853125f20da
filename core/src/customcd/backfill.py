"""``customcd backfill``: import history from a CI server through the same pipeline as ``send``.

The adapter's ``history`` is consumed lazily (memory stays flat in the number of records); every
draft goes through the enrich hooks, configuration, routing, overrides and validation exactly as in
``send``; records are delivered concurrently with a bounded number in flight, through the outbox
and the ledger, so a re-run sends nothing twice. A checkpoint per selection lets an interrupted
run continue where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import IO, Any

from .backfill_progress import Progress
from .builder import build_from_draft, parse_optional_args
from .config import Config
from .contract.problems import MISSING, ConfigurationError, CustomcdError, InvalidRecord
from .delivery.dispatcher import Dispatcher
from .delivery.outbox import Outbox
from .delivery.outcome import Outcome
from .delivery.retry import RetryPolicy
from .delivery.sender import Sender
from .delivery.transport import Endpoint
from .plugins.adapter import Adapter, HistoryQuery
from .plugins.draft import CollectContext, Draft
from .plugins.manager import Plugins
from .table import render_table

__all__ = ["BackfillStats", "checkpoint_name", "exit_code", "run_backfill", "summary"]

log = logging.getLogger("customcd.backfill")

#: Worker threads per request in flight (``--concurrency``): a record is built, stored, sent and
#: settled by one worker, and only the sending waits for the server.
WORKERS_PER_REQUEST = 2


@dataclass
class BackfillStats:
    """Counts of one backfill run (thread-safe updates through :meth:`add`)."""

    read: int = 0
    sent: int = 0
    duplicate: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    #: why the CI server's history stopped early (the run can be resumed), or "".
    aborted: str = ""
    #: the exit code of that stop: 75 after some records (resume later), else the error's own.
    aborted_code: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, reason: str | None = None) -> None:
        """Count one record under ``name`` (and its reason)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)
            if reason:
                self.reasons[reason] += 1

    def rate(self) -> float:
        """Records read per second so far."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return self.read / elapsed


def checkpoint_name(
    adapter: str,
    selection: Mapping[str, Any],
    server: str | None,
    since: int | str,
    until: int | None,
) -> str:
    """A stable name for one backfill selection and window."""
    key = json.dumps(
        {
            "s": {k: v for k, v in sorted(selection.items())},
            "server": server or "",
            "since": since,
            "until": until,
        },
        sort_keys=True,
        default=str,
    )
    return f"backfill:{adapter}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class _Checkpoint:
    """Advances the saved cursor only past items whose whole prefix is finished."""

    def __init__(self, save: Callable[[str], None]) -> None:
        self._save = save
        self._lock = threading.Lock()
        self._next = 0
        self._done: dict[int, str | None] = {}
        self._since_save = 0
        self._latest: str | None = None

    def finished(self, index: int, cursor: str | None) -> None:
        with self._lock:
            self._done[index] = cursor
            latest: str | None = None
            while self._next in self._done:
                cursor_here = self._done.pop(self._next)
                latest = cursor_here or latest
                self._next += 1
            if latest:
                self._latest = latest
                self._since_save += 1
                if self._since_save >= 50:
                    self.flush()

    def flush(self) -> None:
        if self._latest:
            self._save(self._latest)
            self._since_save = 0


def _start_of(draft: Draft) -> int | None:
    value = draft.job_start_time
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_backfill(
    *,
    plugins: Plugins,
    adapter: Adapter,
    config: Config,
    query: HistoryQuery,
    overrides: Mapping[str, Any],
    optional_args: tuple[str, ...] = (),
    concurrency: int = 4,
    dry_run: bool = False,
    output: IO[str] | None = None,
    restart: bool = False,
    progress_stream: IO[str] | None = None,
    window_key: str | None = None,
    sender_factory: Callable[[], Sender] | None = None,
) -> BackfillStats:
    """Stream the adapter's history through the ``send`` pipeline; return the counts.

    :raises ConfigurationError: configuration problems (no URL, token).
    :raises OutboxUnavailable: the outbox cannot be used (backfill needs its ledger).
    """
    stats = BackfillStats()
    user_optional, problems = parse_optional_args(optional_args)
    if problems:
        raise InvalidRecord(problems)
    stream = progress_stream or sys.stderr
    outbox: Outbox | None = None
    dispatcher: Dispatcher | None = None
    name = checkpoint_name(
        adapter.name, query.selection, query.server, window_key or str(query.since), query.until
    )
    if not dry_run:
        endpoint = Endpoint.parse(config.url, config.company_id, allow_http=config.allow_http)
        if config.token is None:
            raise ConfigurationError(
                "no token: set CUSTOMCD_TOKEN (or --token-file)", docs="configuration.md"
            )
        outbox = Outbox(config.outbox_path, durable=False)
        sender = (
            sender_factory()
            if sender_factory
            else Sender(
                endpoint,
                config.token,
                policy=RetryPolicy(deadline=config.deadline, attempt_timeout=config.timeout),
                ca_bundle=config.ca_bundle,
                ca_dir=config.ca_dir,
                per_record=True,
                connections=max(concurrency, 1),
            )
        )
        dispatcher = Dispatcher(
            sender, outbox, on_outcome=lambda o: plugins.outcome(outcome=o), require_outbox=True
        )
        if not restart:
            resume = outbox.checkpoint(name)
            if resume:
                log.warning("resuming %s after %s (use --restart to start over)", name, resume)
                query = _with_resume(query, resume)
    checkpoint = (
        _Checkpoint(lambda cursor: outbox.save_checkpoint(name, cursor)) if outbox else None
    )
    until = query.until or int(time.time())
    progress = Progress(stats, stream, since=query.since, until=until)
    context = CollectContext(
        env=query.env,
        overrides=overrides,
        options=config.adapter_options,
        timeout=query.timeout,
        now=time.time(),
        log=log,
        history=True,
    )
    write_lock = threading.Lock()

    def handle(index: int, draft: Draft) -> None:
        try:
            built = build_from_draft(
                draft,
                config=config,
                overrides=overrides,
                user_optional=user_optional,
                adapter=adapter,
                now=time.time(),
            )
        except InvalidRecord as exc:
            reason = "; ".join(f"{p.field}: {p.rule}" for p in exc.problems[:2])
            log.info("skipped %s (%s)", draft.job_id, reason)
            stats.add("skipped", _short_reason(exc))
            if checkpoint:
                checkpoint.finished(index, draft.cursor)
            return
        if built.job is None:
            stats.add("skipped", built.skip or "no record")
            log.info("skipped %s (%s)", draft.job_id, built.skip)
        elif dry_run:
            with write_lock:
                (output or sys.stdout).write(built.job.to_json() + "\n")
            stats.add("sent")
        else:
            assert dispatcher is not None
            record = built.job
            outcome: Outcome = dispatcher.deliver(
                record.idempotency_key, record.to_body(), record.to_json()
            )
            kind = {
                "delivered": "sent",
                "duplicate": "duplicate",
                "pending": "pending",
                "rejected": "rejected",
            }.get(outcome.kind, "failed")
            stats.add(kind, outcome.reason if kind in {"pending", "rejected"} else None)
            if kind in {"pending", "rejected"}:
                log.warning("%s %s: %s", record.job_id, outcome.kind, outcome.reason)
        if checkpoint:
            checkpoint.finished(index, draft.cursor)

    in_flight: set[Future[None]] = set()
    limit = max(concurrency, 1)
    # `limit` requests in flight at most (the sender's connections); twice as many workers, so
    # that building, storing and settling records overlaps the requests instead of delaying them
    workers = limit * WORKERS_PER_REQUEST
    try:
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="customcd-backfill"
        ) as pool:
            for index, draft in enumerate(_drafts(adapter, query, stats)):
                stats.add("read")
                draft.adapter = adapter.name
                plugins.enrich(draft=draft, context=context)
                progress.position = _start_of(draft) or progress.position
                if limit == 1:
                    handle(index, draft)
                else:
                    in_flight.add(pool.submit(handle, index, draft))
                    if len(in_flight) >= workers * 2:
                        finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        for future in finished:
                            future.result()
                progress.tick()
            for future in in_flight:
                future.result()
    finally:
        if checkpoint:
            checkpoint.flush()
        progress.tick(force=True)
        progress.done()
        if dispatcher is not None:
            dispatcher.sender.close()
        if outbox is not None:
            outbox.close()
    return stats


def _with_resume(query: HistoryQuery, cursor: str) -> HistoryQuery:
    from dataclasses import replace

    return replace(query, resume_from=cursor)


def _drafts(adapter: Adapter, query: HistoryQuery, stats: BackfillStats) -> Iterator[Draft]:
    """The adapter's history; a CI failure mid-way ends it, noted in ``stats`` (resumable)."""
    try:
        yield from adapter.history(query)
    except CustomcdError as exc:
        stats.aborted = str(exc)
        # after some records, the checkpoint lets a later run resume: a temporary failure
        stats.aborted_code = 75 if stats.read else exc.exit_code


def _short_reason(exc: InvalidRecord) -> str:
    """The summary's reason: "no commit SHA" (the usual one in history), else the fields."""
    if any(
        p.field == "commit_sha" and (p.value is MISSING or p.value in (None, ""))
        for p in exc.problems
    ):
        return "no commit SHA"
    return "invalid: " + ", ".join(sorted({p.field for p in exc.problems}))


def summary(stats: BackfillStats, *, dry_run: bool) -> str:
    """The summary table printed at the end."""
    elapsed = time.monotonic() - stats.started
    rows = [
        ["read", str(stats.read)],
        ["written (dry run)" if dry_run else "delivered", str(stats.sent)],
        ["delivered before (ledger)", str(stats.duplicate)],
        ["skipped", str(stats.skipped)],
        ["kept for retry", str(stats.pending)],
        ["rejected", str(stats.rejected)],
        ["failed", str(stats.failed)],
        ["records/s", f"{stats.read / max(elapsed, 1e-9):.1f}"],
    ]
    text = render_table(["", "records"], rows)
    if stats.reasons:
        text += "\n\n" + render_table(
            ["reason", "count"], [[r[:80], str(n)] for r, n in stats.reasons.most_common(10)]
        )
    return text


def exit_code(stats: BackfillStats) -> int:
    """The run's exit code, by the contract's codes.

    75 when records are kept for retry or the CI stopped mid-way (run again to resume), 77 when
    the server refused the token, 65 when it rejected records, the CI error's own code when
    nothing could be read, else 0.
    """
    if stats.aborted and not stats.read:
        return stats.aborted_code
    if stats.rejected:
        auth = any(reason.startswith(("401", "403")) for reason in stats.reasons)
        return 77 if auth else 65
    if stats.pending or stats.aborted:
        return 75
    return 0
