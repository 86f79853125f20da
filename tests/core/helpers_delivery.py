"""Shared helpers of the delivery robustness tests (tests/core/test_delivery_*.py).

Everything here goes against the real local receiver over loopback sockets. Every CLI run made
through :class:`Harness` uses a canary token and ``-v`` and checks that the canary appears in no
stdout, stderr, log record or outbox file byte.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from customcd.delivery.outbox import Outbox
from customcd.receiver import Receiver
from customcd.testing import CliResult

#: The token every delivery test uses; it must never show up anywhere but the request header.
CANARY = "cnry-7f3a9c51-d0-not-pr1nt-e2b4"

#: A full commit SHA for test records.
SHA = "0123456789abcdef0123456789abcdef01234567"

#: A success line (``customcd: delivered ...``), as opposed to ``NOT delivered yet``.
SUCCESS_LINE = re.compile(r"^customcd: delivered ", re.MULTILINE)


def record_args(job_id: str = "42", *, start: int = 1704018030) -> list[str]:
    """The flags of one valid record (adapter ``none``)."""
    return [
        "--adapter",
        "none",
        "--job-id",
        job_id,
        "--commit-sha",
        SHA,
        "--service-id",
        "2",
        "--repo-name",
        "acme/shop",
        "--start-time",
        str(start),
        "--duration",
        "300",
        "--status",
        "Succeeded",
    ]


def body_for(job_id: str, *, start: int = 1704018030) -> dict[str, Any]:
    """The wire body :func:`record_args` produces."""
    return {
        "job_id": job_id,
        "commit_sha": SHA,
        "service_id": 2,
        "job_start_time": start,
        "job_duration": 300,
        "status": "Succeeded",
        "repo_name": "acme/shop",
    }


def key_for(body: Mapping[str, Any]) -> str:
    """The idempotency key customcd derives for a body."""
    from customcd.contract.job import Job

    return Job.from_body(dict(body)).idempotency_key


def body_json_for(body: Mapping[str, Any]) -> str:
    """The exact JSON customcd sends for a body."""
    from customcd.contract.job import Job

    return Job.from_body(dict(body)).to_json()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeClock:
    """A clock whose ``sleep`` records the wait and advances time instead of sleeping."""

    start_epoch: float = 1_700_000_000.0
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.start_epoch + self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"asked to sleep a negative time: {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds


def reset(receiver: Receiver) -> Receiver:
    """Make a long-lived receiver look fresh (stopping one costs its 0.5 s poll interval)."""
    with receiver._lock:
        receiver.faults.clear()
        receiver.requests.clear()
        receiver.accepted.clear()
        receiver._keys.clear()
    return receiver


def requests_per_key(receiver: Receiver) -> Counter[str]:
    """How many requests the receiver got per Idempotency-Key."""
    return Counter(r.headers.get("Idempotency-Key", "") for r in receiver.requests)


def ok_requests_per_key(receiver: Receiver) -> Counter[str]:
    """How many 2xx answers the receiver gave per Idempotency-Key."""
    return Counter(
        r.headers.get("Idempotency-Key", "")
        for r in receiver.requests
        if r.status is not None and 200 <= r.status < 300
    )


def accepted_job_ids(receiver: Receiver) -> Counter[str]:
    """How many times each job id was accepted (recorded) by the receiver."""
    return Counter(str(body["job_id"]) for body in receiver.accepted)


def outbox_files(path: Path) -> list[Path]:
    """The outbox database and its WAL/shared-memory companions that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def outbox_bytes(path: Path) -> bytes:
    """All bytes of the outbox files (to look for secrets in)."""
    return b"".join(p.read_bytes() for p in outbox_files(path))


def assert_no_canary(where: str, text: str | bytes, canary: str = CANARY) -> None:
    """Fail when the canary token (or a recognisable half of it) appears in ``text``."""
    needles = [canary, canary[: len(canary) // 2], canary[len(canary) // 2 :]]
    for needle in needles:
        found = needle.encode() in text if isinstance(text, bytes) else needle in text
        assert not found, f"the token leaked into {where}"


def read_outbox(path: Path) -> tuple[list[Any], set[str]]:
    """``(entries, ledger keys)`` of an outbox, read with a fresh connection."""
    box = Outbox(path)
    try:
        entries = box.entries()
        keys = {
            str(row[0]) for row in box._db.execute("SELECT key FROM ledger").fetchall()
        }  # no public accessor for the keys themselves
    finally:
        box.close()
    return entries, keys


def stored_keys(path: Path) -> set[str]:
    """Keys in the records table, read without going through :class:`Outbox`."""
    db = sqlite3.connect(str(path), timeout=15)
    try:
        return {str(row[0]) for row in db.execute("SELECT key FROM records")}
    finally:
        db.close()


_RECEIVER_NOISE = re.compile(
    r"-{40}\nException occurred during processing of request from .*?\n-{40}\n?", re.DOTALL
)


def _without_receiver_noise(stderr: str) -> str:
    """Stderr without the in-process receiver's own socketserver reports (a client that gave
    up on a slow answer makes the server's write fail; that is the receiver's noise, printed
    to the same redirected stderr, not customcd's)."""
    return _RECEIVER_NOISE.sub("", stderr)


@dataclass(frozen=True)
class Run:
    """One CLI run: what :class:`~customcd.testing.CliResult` has, plus its wall time."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    logs: str

    @property
    def success_lines(self) -> list[str]:
        return SUCCESS_LINE.findall(self.stderr)


class Harness:
    """Runs ``customcd -v ...`` in-process against local receivers, checking for leaks.

    :param cli: the ``customcd_cli`` fixture.
    :param tmp_path: the test's folder (the outbox lives here).
    :param caplog: to see every log record emitted during the runs.
    """

    def __init__(
        self, cli: Callable[..., CliResult], tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.cli = cli
        self.tmp_path = tmp_path
        self.caplog = caplog
        self.outbox_path = tmp_path / "outbox.sqlite3"
        self.verbosity = 1
        caplog.set_level(1)

    def env(self, url: str, **extra: str) -> dict[str, str]:
        """The environment of a run against ``url`` with the canary token."""
        env = {
            "CUSTOMCD_URL": url,
            "CUSTOMCD_COMPANY_ID": "1",
            "CUSTOMCD_TOKEN": CANARY,
            "CUSTOMCD_OUTBOX": str(self.outbox_path),
            "CUSTOMCD_DEADLINE": "5",
            "CUSTOMCD_TIMEOUT": "2",
        }
        env.update(extra)
        return env

    def run(self, args: list[str], env: Mapping[str, str]) -> Run:
        """Run ``customcd -v ARGS``; assert no traceback and no leaked token anywhere."""
        before = len(self.caplog.records)
        started = time.monotonic()
        result = self.cli(["-v"] * self.verbosity + list(args), env=dict(env))
        seconds = time.monotonic() - started
        logs = "\n".join(
            f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in self.caplog.records[before:]
        )
        for where, text in (("stdout", result.stdout), ("stderr", result.stderr), ("logs", logs)):
            assert_no_canary(where, text)
        ours = _without_receiver_noise(result.stderr)
        assert "Traceback" not in ours, ours
        assert "internal error" not in ours, ours
        for path in outbox_files(self.outbox_path):
            assert_no_canary(f"the outbox file {path.name}", path.read_bytes())
        return Run(result.exit_code, result.stdout, result.stderr, seconds, logs)

    def send(self, url: str, *args: str, job_id: str = "42", **extra_env: str) -> Run:
        """``customcd -v send`` of one valid record."""
        return self.run(["send", *record_args(job_id), *args], self.env(url, **extra_env))

    def flush(self, url: str, *args: str, **extra_env: str) -> Run:
        """``customcd -v outbox flush``."""
        return self.run(["outbox", "flush", *args], self.env(url, **extra_env))

    def entries(self) -> list[Any]:
        """The kept records."""
        return read_outbox(self.outbox_path)[0]

    def ledger(self) -> set[str]:
        """The delivered keys."""
        return read_outbox(self.outbox_path)[1]


def listed(harness: Harness, url: str) -> list[dict[str, Any]]:
    """``customcd outbox list --json``."""
    run = harness.run(["outbox", "list", "--json"], harness.env(url))
    assert run.exit_code == 0, run.stderr
    return list(json.loads(run.stdout))


# -- kill -9 rounds (used by test_delivery_killnine.py and benchmarks/soak.py) -----------------

#: The child: replays what is kept (like every ``send``), then delivers its own records one by
#: one, printing ``hand KEY`` before and ``done KEY KIND`` after each. It is killed at random.
KILL_CHILD = r"""
import os, sys
from pathlib import Path
from pydantic import SecretStr
from customcd.delivery.dispatcher import Dispatcher
from customcd.delivery.sender import Sender
from customcd.contract.job import Job
from customcd.delivery.outbox import Outbox
from customcd.delivery.retry import RetryPolicy
from customcd.delivery.transport import Endpoint

url, outbox, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sender = Sender(
    Endpoint.parse(url, "1"),
    SecretStr(os.environ["CUSTOMCD_TOKEN"]),
    policy=RetryPolicy(deadline=20.0, attempt_timeout=5.0, base=0.005, cap=0.02),
)
dispatcher = Dispatcher(sender, Outbox(Path(outbox)))
print("ready", flush=True)  # started ahead of its round: wait for the go
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
for outcome in dispatcher.flush():
    print("replayed", outcome.key, outcome.kind, flush=True)
for n in range(count):
    job = Job.from_body({
        "job_id": f"{prefix}-{n}", "commit_sha": "ab" * 20, "service_id": 3,
        "job_start_time": 1704018030 + n, "job_duration": 5, "status": "Succeeded",
        "repo_name": "acme/soak",
    })
    print("hand", job.idempotency_key, flush=True)
    outcome = dispatcher.deliver(job.idempotency_key, job.to_body(), job.to_json())
    print("done", job.idempotency_key, outcome.kind, flush=True)
print("finished", flush=True)
"""


class FlakyReceiver(Receiver):
    """The real receiver, answering after a random short pause and 503 now and then (seeded)."""

    def __init__(self, *, seed: int = 0, flaky: float = 0.1, pause: float = 0.004, **kw: Any):
        import random
        import threading

        super().__init__(**kw)
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.flaky = flaky
        self.pause = pause

    def answer(self, path: str, headers: Any, body: bytes | None) -> Any:
        with self._rng_lock:
            pause = self._rng.uniform(0, self.pause)
            fail = self._rng.random() < self.flaky
        self.stopping.wait(pause)
        if fail:
            return 503, {"status": "error", "reason": "flaky"}, {}, 0.0
        return super().answer(path, headers, body)


@dataclass
class ChildLog:
    """What one killed child said before it died."""

    handed: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    finished: bool = False
    killed: bool = False
    output: str = ""


def _kill(proc: Any) -> None:
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)


def wait_ready(procs, workdir, stem: str) -> None:
    """Wait for each child to print ``ready``; a child that did not start fails with its stderr.

    Child ``j``'s stderr is ``{workdir}/{stem}c{j}.err``.
    """
    for j, proc in enumerate(procs):
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.wait(timeout=30)
            err = (workdir / f"{stem}c{j}.err").read_text()
            raise AssertionError(f"child {stem}c{j} did not start: {line!r} {err}")


@dataclass
class KillNine:
    """Rounds of children sending records into one outbox, each killed -9 at a random instant.

    :param url: the receiver's URL.
    :param outbox: the shared outbox file.
    :param workdir: where the child script is written.
    :param seed: for the kill instants.
    """

    url: str
    outbox: Path
    workdir: Path
    seed: int = 0
    children: list[ChildLog] = field(default_factory=list)

    def __post_init__(self) -> None:
        import random

        self.rng = random.Random(self.seed)
        self.script = self.workdir / "killnine_child.py"
        self.script.write_text(KILL_CHILD, encoding="utf-8")
        self._ahead: list[Any] = []

    def env(self) -> dict[str, str]:
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
        env.update(CUSTOMCD_TOKEN=CANARY, PYTHONDONTWRITEBYTECODE="1")
        return env

    def _spawn(self, index: int, parallel: int, records: int) -> list[Any]:
        import subprocess
        import sys

        procs = []
        for j in range(parallel):
            with (self.workdir / f"child-r{index}c{j}.err").open("w") as err:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(self.script),
                            self.url,
                            str(self.outbox),
                            f"r{index}c{j}",
                            str(records),
                        ],
                        env=self.env(),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=err,
                        text=True,
                    )
                )
        return procs

    def round(self, index: int, *, parallel: int = 2, records: int = 20, jitter: float = 0.03):
        """Let ``parallel`` children go and kill each at a random point; start the next round's.

        Each child is killed after it announced a random number of records (0 to ``records``,
        sometimes never), plus a random ``0..jitter`` s, so kills land at every step of a
        delivery (storing, claiming, sending, waiting, settling) whatever the machine's speed.
        Children are started one round ahead (they import while the previous round runs) and
        wait for a ``go`` on stdin.
        """
        import signal
        import threading

        procs = self._ahead or self._spawn(index, parallel, records)
        wait_ready(procs, self.workdir, f"child-r{index}")
        plans = [(self.rng.randint(0, records + 2), self.rng.uniform(0, jitter)) for _ in procs]
        outputs: list[list[str]] = [[] for _ in procs]

        def watch(n: int) -> None:
            proc = procs[n]
            after, delay = plans[n]
            handed = 0
            assert proc.stdout is not None
            for line in proc.stdout:  # the same buffered reader that read "ready"
                outputs[n].append(line)
                if line.startswith("hand "):
                    handed += 1
                    if handed == after + 1:  # killed somewhere inside this record's delivery
                        time.sleep(delay)
                        if proc.poll() is None:
                            proc.send_signal(signal.SIGKILL)

        watchers = [threading.Thread(target=watch, args=(n,)) for n in range(len(procs))]
        for watcher in watchers:
            watcher.start()
        for n, proc in enumerate(procs):
            assert proc.stdin is not None
            if plans[n][0] == 0:  # killed during its replay or its first record
                threading.Timer(plans[n][1], _kill, args=(proc,)).start()
            proc.stdin.write("go\n")
            proc.stdin.flush()
        self._ahead = self._spawn(index + 1, parallel, records)
        for j, (proc, watcher) in enumerate(zip(procs, watchers, strict=True)):
            watcher.join(timeout=60)
            assert proc.stdout is not None and proc.stdin is not None
            proc.stdout.close()
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.wait(timeout=30)  # reap: the PID is really gone
            out = "".join(outputs[j])
            err = (self.workdir / f"child-r{index}c{j}.err").read_text()
            log = ChildLog(killed=proc.returncode == -signal.SIGKILL, output=out + err)
            for line in out.splitlines(keepends=True):
                if not line.endswith("\n"):
                    continue  # cut short by the kill: the step it announces had not begun
                parts = line.split()
                if parts[0] == "hand" and len(parts) == 2:
                    log.handed.append(parts[1])
                elif parts[0] == "done" and len(parts) == 3:
                    log.done.add(parts[1])
                elif parts == ["finished"]:
                    log.finished = True
            assert_no_canary("a child's output", log.output)
            assert log.killed or (proc.returncode == 0 and log.finished), log.output[-2000:]
            self.children.append(log)

    def stop_ahead(self) -> None:
        """Dismiss the children started for a round that will not run (they exit without work)."""
        for proc in self._ahead:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
        self._ahead = []

    @property
    def kills(self) -> int:
        return sum(child.killed for child in self.children)

    def final_flush(self) -> None:
        """What the next run does: re-send everything kept (in this process, real receiver)."""
        self.stop_ahead()
        from customcd.delivery.dispatcher import Dispatcher
        from customcd.delivery.retry import RetryPolicy
        from customcd.delivery.sender import Sender
        from customcd.delivery.transport import Endpoint
        from pydantic import SecretStr

        sender = Sender(
            Endpoint.parse(self.url, "1"),
            SecretStr(CANARY),
            policy=RetryPolicy(deadline=60.0, attempt_timeout=5.0, base=0.005, cap=0.02),
        )
        box = Outbox(self.outbox)
        try:
            for _ in range(5):  # a flaky receiver may leave some pending: flush again
                list(Dispatcher(sender, box).flush())
                if not box.entries():
                    break
        finally:
            sender.close()
            box.close()

    def check(self, receiver: Receiver) -> dict[str, int]:
        """Every stored record delivered, none accepted twice; returns counts for reports."""
        entries, ledger = read_outbox(self.outbox)
        assert entries == [], f"{len(entries)} record(s) still kept after the final flush"
        accepted = Counter(key_for(body) for body in receiver.accepted)
        assert all(n == 1 for n in accepted.values()), "a record was accepted twice"
        # the tool's ledger and the server agree exactly: nothing lost, nothing unknown
        assert set(accepted) == ledger
        handed = [key for child in self.children for key in child.handed]
        assert len(set(handed)) == len(handed)
        assert set(accepted) <= set(handed)
        for child in self.children:
            assert child.done <= ledger, "a record reported done is not delivered"
            missing = [key for key in child.handed if key not in ledger]
            # only the record in flight when the child died may be missing: it was never
            # stored (killed before the outbox commit), so it was never sent either
            assert missing in ([], child.handed[-1:]), missing
            if missing:
                assert child.killed
        # 2xx answers per key: the first is the 201; any extra is a re-send after a kill landed
        # between the server's 2xx and the ledger commit (the server dedupes by key)
        created = Counter(
            r.headers.get("Idempotency-Key") for r in receiver.requests if r.status == 201
        )
        assert all(n == 1 for n in created.values())
        oks = ok_requests_per_key(receiver)
        extra = sum(n - 1 for n in oks.values())
        assert extra <= self.kills, (extra, self.kills)
        assert_no_canary("the outbox file", outbox_bytes(self.outbox))
        return {
            "children": len(self.children),
            "kills": self.kills,
            "records": len(ledger),
            "accepted_twice": sum(n - 1 for n in accepted.values()),  # asserted 0 above
            "stored_but_lost": len(entries),  # asserted 0 above: all kept ones were delivered
            "requests": len(receiver.requests),
            "resent_after_kill": extra,
            "lost_in_flight_never_stored": sum(
                1 for c in self.children for k in c.handed if k not in ledger
            ),
        }
