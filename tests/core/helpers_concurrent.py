"""Many ``customcd send`` processes sharing one outbox against a receiver that fails often.

Used by ``tests/core/test_concurrent_send.py`` and ``benchmarks/soak.py --concurrent``. Each
worker is a real subprocess that runs ``customcd send --strict`` for its records one after the
other, through the console script's entry point (``customcd.cli.main:main``) in that one process,
so that 32 interpreters start instead of 300 (an interpreter start costs about 0.5 s of CPU, which
would make the test minutes long on two cores). Every run still goes through the whole command: the
configuration, the build, the outbox, the replay of older records and the delivery.

Each worker has its own token, so the receiver can tell which process sent each request; that is
how a line is judged: a "NOT delivered yet" line is honest only when the process itself made
failing attempts for its record (the misreport of issue 16 item 2 said so with 0 attempts while
another process's replay was sending the record).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customcd.receiver import Receiver

#: The worker: ``customcd send --strict`` of its records, one after the other, one JSON line each.
WORKER = r"""
import contextlib, io, json, sys, time
from customcd.cli.main import main

worker, count, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for n in range(count):
    job_id = f"w{worker}-{n}"
    args = [
        "send", "--strict", "--adapter", "none", "--job-id", job_id,
        "--commit-sha", "cd" * 20, "--service-id", "4", "--repo-name", "acme/concurrent",
        "--start-time", str(start + n), "--duration", "7", "--status", "Succeeded",
    ]
    err = io.StringIO()
    began = time.monotonic()
    code = 0
    with contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    print(json.dumps({"job_id": job_id, "code": code, "stderr": err.getvalue(),
                      "seconds": time.monotonic() - began}), flush=True)
"""

#: ``customcd: ... job 'ID' NOT delivered yet (REASON; N attempts)...`` of the run's own record.
_NOT_DELIVERED = re.compile(r"^customcd: job '([^']+)' NOT delivered yet \((.*); (\d+) attempts?\)")
_DELIVERED = re.compile(r"^customcd: delivered job '([^']+)' \((\d+|2xx), (.*)\)$")


class FailingReceiver(Receiver):
    """The real receiver, failing a share of requests (503 before reading the record, seeded),
    and noting which token (which worker) sent each request and what it was answered."""

    def __init__(self, *, failing: float = 0.3, seed: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.failing = failing
        self._rng = random.Random(seed)
        self._log_lock = threading.Lock()
        #: (Idempotency-Key, token, status) of every request, in the order answered
        self.log: list[tuple[str, str, int]] = []

    def answer(self, path: str, headers: Any, body: bytes | None) -> Any:
        """Fail the request, or answer it as the real receiver does; note it either way."""
        token = (headers.get("Authorization") or "")[7:]
        key = headers.get("Idempotency-Key") or ""
        with self._log_lock:
            fail = self._rng.random() < self.failing
        if fail:
            answer: Any = (503, {"status": "error", "reason": "injected 503"}, {}, 0.0)
        else:
            answer = super().answer(path, headers, body)
        with self._log_lock:
            self.log.append((key, token, int(answer[0] or 0)))
        return answer


@dataclass
class Stats:
    """What a concurrent run measured."""

    processes: int = 0
    records: int = 0
    delivered_first_time: int = 0
    honest_not_delivered: int = 0
    spurious: list[str] = field(default_factory=list)
    misreported: list[str] = field(default_factory=list)
    wrong_exit_codes: list[str] = field(default_factory=list)
    duplicates: int = 0
    lost: int = 0
    requests: int = 0
    failed_requests: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The numbers, for a report."""
        return {
            "processes": self.processes,
            "records": self.records,
            "delivered_by_their_own_run": self.delivered_first_time,
            "honest_not_delivered_then_replayed": self.honest_not_delivered,
            "spurious_not_delivered_lines": len(self.spurious),
            "other_misreports": len(self.misreported),
            "wrong_exit_codes": len(self.wrong_exit_codes),
            "duplicates": self.duplicates,
            "lost": self.lost,
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "seconds": round(self.seconds, 1),
        }


def key_of(job_id: str, start: int) -> str:
    """The Idempotency-Key of a worker's record."""
    from customcd.contract.job import Job

    return Job.from_body(
        {
            "job_id": job_id,
            "commit_sha": "cd" * 20,
            "service_id": 4,
            "job_start_time": start,
            "job_duration": 7,
            "status": "Succeeded",
            "repo_name": "acme/concurrent",
        }
    ).idempotency_key


def run_concurrent_sends(
    workdir: Path,
    *,
    processes: int = 32,
    records: int = 10,
    failing: float = 0.3,
    seed: int = 5,
    deadline: float = 20.0,
) -> Stats:
    """Start ``processes`` workers at once, each sending ``records`` records; check everything.

    :return: the measured numbers; the caller asserts on them.
    """
    started = time.monotonic()
    script = workdir / "concurrent_worker.py"
    script.write_text(WORKER, encoding="utf-8")
    outbox = workdir / "outbox.sqlite3"
    base_start = 1704018030
    stats = Stats(processes=processes, records=processes * records)
    with FailingReceiver(failing=failing, seed=seed, company_id="1") as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
        env.update(
            CUSTOMCD_URL=receiver.url,
            CUSTOMCD_COMPANY_ID="1",
            CUSTOMCD_OUTBOX=str(outbox),
            CUSTOMCD_DEADLINE=str(deadline),
            CUSTOMCD_TIMEOUT="5",
            PYTHONDONTWRITEBYTECODE="1",
        )
        procs = []
        for w in range(processes):
            token = f"token-of-worker-{w:02d}"
            start = base_start + w * 1000
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(script), f"{w:02d}", str(records), str(start)],
                    env={**env, "CUSTOMCD_TOKEN": token},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        runs: dict[str, dict[str, Any]] = {}
        owner: dict[str, str] = {}
        for w, proc in enumerate(procs):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]
            for line in out.splitlines():
                run = json.loads(line)
                job_id = run["job_id"]
                n = int(job_id.rsplit("-", 1)[1])
                key = key_of(job_id, base_start + w * 1000 + n)
                runs[key] = run
                owner[key] = f"token-of-worker-{w:02d}"
        assert len(runs) == stats.records

        requests_by: dict[tuple[str, str], list[int]] = defaultdict(list)
        for key, token, status in receiver.log:
            requests_by[(key, token)].append(status)
        for key, run in runs.items():
            stderr = run["stderr"]
            assert "Traceback" not in stderr and "internal error" not in stderr, stderr
            own = [x for x in stderr.splitlines() if f"job '{run['job_id']}' " in x]
            own = [x for x in own if "(replay)" not in x]
            assert len(own) == 1, stderr
            line = own[0]
            mine = requests_by.get((key, owner[key]), [])
            if _DELIVERED.match(line):
                stats.delivered_first_time += 1
                if run["code"] != 0:
                    stats.wrong_exit_codes.append(line)
                continue
            match = _NOT_DELIVERED.match(line)
            if match is None:  # e.g. "was delivered before": another process's replay sent it
                stats.misreported.append(line)
                continue
            attempts = int(match.group(3))
            # its own attempts come first among its token's requests for the record (a later
            # run of the same worker may replay it); each of them must have failed
            honest = 1 <= attempts <= len(mine) and all(s >= 300 for s in mine[:attempts])
            if honest:
                stats.honest_not_delivered += 1
            else:
                stats.spurious.append(line)
            if run["code"] != 75:
                stats.wrong_exit_codes.append(line)

        # what the runs kept is delivered by a flush, against a receiver that no longer fails
        receiver.failing = 0.0
        _flush(receiver.url, outbox)
        accepted = Counter(key_of(b["job_id"], b["job_start_time"]) for b in receiver.accepted)
        oks = Counter(key for key, _, status in receiver.log if 200 <= status < 300)
        stats.duplicates = sum(n - 1 for n in accepted.values()) + sum(n - 1 for n in oks.values())
        stats.lost = len(set(runs) - set(accepted))
        stats.requests = len(receiver.log)
        stats.failed_requests = sum(1 for _, _, status in receiver.log if status >= 300)
    stats.seconds = time.monotonic() - started
    return stats


def _flush(url: str, outbox: Path) -> None:
    """``customcd outbox flush`` in a process of its own, until nothing is pending."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
    env.update(
        CUSTOMCD_URL=url,
        CUSTOMCD_COMPANY_ID="1",
        CUSTOMCD_TOKEN="token-of-the-final-flush",
        CUSTOMCD_OUTBOX=str(outbox),
        CUSTOMCD_DEADLINE="60",
    )
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-m", "customcd", "outbox", "flush"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        if "; 0 still pending" in done.stderr:
            return
