"""kill -9 of real ``customcd send`` and ``customcd outbox flush`` runs (``benchmarks/soak.py``).

:class:`~helpers_delivery.KillNine` kills children that drive the delivery classes directly.
:class:`KillNineCli` kills the commands themselves: each round starts ``send`` workers -- each runs
``customcd send`` for its records one after the other, through the console script's entry point
(``customcd.cli.main:main``) in one process, announcing ``hand KEY`` before each run and ``done KEY
CODE`` after it -- and one ``customcd outbox flush``, all on one outbox, and kills each with SIGKILL
at a random instant: inside a random record's run, or a random time into the flush. The checks are
:meth:`KillNine.check`'s: after a final flush every stored record arrived, none twice, and only a
record in flight when its worker died may be missing, never sent.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from helpers_delivery import CANARY, ChildLog, KillNine, assert_no_canary, wait_ready

#: A ``send`` worker (``send PREFIX COUNT START``) or a flush (``flush``), started ahead of its
#: round: it says ``ready`` and waits for ``go`` on stdin.
CLI_CHILD = r"""
import contextlib, io, sys
from customcd.cli.main import main
from customcd.contract.job import Job

def run(args):
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()

print("ready", flush=True)
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
if sys.argv[1] == "flush":
    code, err = run(["outbox", "flush"])
    sys.stderr.write(err)
    print("finished", flush=True)
    sys.exit(0)
prefix, count, start = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for n in range(count):
    body = {
        "job_id": f"{prefix}-{n}", "commit_sha": "ef" * 20, "service_id": 5,
        "job_start_time": start + n, "job_duration": 9, "status": "Succeeded",
        "repo_name": "acme/killcli",
    }
    key = Job.from_body(body).idempotency_key
    print("hand", key, flush=True)
    code, err = run([
        "send", "--adapter", "none", "--job-id", body["job_id"], "--commit-sha", "ef" * 20,
        "--service-id", "5", "--repo-name", "acme/killcli", "--start-time", str(start + n),
        "--duration", "9", "--status", "Succeeded",
    ])
    sys.stderr.write(err)
    if "Traceback" in err or "internal error" in err:
        print("broken", key, flush=True)
    print("done", key, code, flush=True)
print("finished", flush=True)
"""


@dataclass
class KillNineCli(KillNine):
    """Rounds of ``customcd send`` workers and an ``outbox flush``, each killed -9 at random."""

    flush_kill_within: float = 1.5

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.script = self.workdir / "killcli_child.py"
        self.script.write_text(CLI_CHILD, encoding="utf-8")
        self._ahead: list[Any] = []
        self._round_start = 0

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            CUSTOMCD_URL=self.url,
            CUSTOMCD_COMPANY_ID="1",
            CUSTOMCD_OUTBOX=str(self.outbox),
            CUSTOMCD_DEADLINE="8",
            CUSTOMCD_TIMEOUT="3",
        )
        return env

    def _spawn(self, index: int, parallel: int, records: int) -> list[Any]:
        procs = []
        for j in range(parallel + 1):  # the last one is the flush
            args = ["flush"] if j == parallel else ["send", f"k{index}w{j}", str(records)]
            if j < parallel:
                args.append(str(1704018030 + (index * 100 + j) * 1000))
            with (self.workdir / f"cli-r{index}c{j}.err").open("w") as err:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, str(self.script), *args],
                        env=self.env(),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=err,
                        text=True,
                    )
                )
        return procs

    def round(
        self, index: int, *, parallel: int = 2, records: int = 6, jitter: float = 0.05
    ) -> None:
        """Let the round's children go; kill each at its random instant; reap and read them."""
        procs = self._ahead or self._spawn(index, parallel, records)
        wait_ready(procs, self.workdir, f"cli-r{index}")
        # a send worker dies inside its record number `after` (or never, past its last record)
        plans = [(self.rng.randint(0, records + 1), self.rng.uniform(0, jitter)) for _ in procs]
        outputs: list[list[str]] = [[] for _ in procs]

        def watch(n: int) -> None:
            after, delay = plans[n]
            handed = 0
            for line in procs[n].stdout:
                outputs[n].append(line)
                if line.startswith("hand "):
                    handed += 1
                    if handed == after + 1:
                        time.sleep(delay)
                        _kill(procs[n])

        watchers = [threading.Thread(target=watch, args=(n,)) for n in range(len(procs))]
        for watcher in watchers:
            watcher.start()
        timers = []
        for n, proc in enumerate(procs):
            if n == len(procs) - 1:  # the flush: killed a random time in (or after it ends)
                delay = self.rng.uniform(0, self.flush_kill_within)
                timers.append(threading.Timer(delay, _kill, args=(proc,)))
            elif plans[n][0] == 0:  # killed during its first record's run
                timers.append(threading.Timer(plans[n][1], _kill, args=(proc,)))
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for timer in timers:
            timer.start()
        self._ahead = self._spawn(index + 1, parallel, records)
        for j, (proc, watcher) in enumerate(zip(procs, watchers, strict=True)):
            watcher.join(timeout=120)
            proc.stdout.close()
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.wait(timeout=60)
            err = (self.workdir / f"cli-r{index}c{j}.err").read_text()
            log = ChildLog(killed=proc.returncode == -signal.SIGKILL, output="".join(outputs[j]))
            log.output += err
            for line in "".join(outputs[j]).splitlines(keepends=True):
                parts = line.split()
                if not line.endswith("\n") or not parts:
                    continue
                if parts[0] == "hand" and len(parts) == 2:
                    log.handed.append(parts[1])
                elif parts[0] == "done" and len(parts) == 3:
                    log.done.add(parts[1])
                elif parts[0] == "broken":
                    raise AssertionError(f"a traceback or internal error: {err[-2000:]}")
                elif parts == ["finished"]:
                    log.finished = True
            assert_no_canary("a child's output", log.output)
            assert log.killed or (proc.returncode == 0 and log.finished), log.output[-2000:]
            self.children.append(log)
        for timer in timers:  # each has fired by now or kills a finished process (a no-op)
            timer.join(timeout=self.flush_kill_within + 1)


def _kill(proc: Any) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)


__all__ = ["CANARY", "KillNineCli"]
