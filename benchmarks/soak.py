"""kill -9 soak of the delivery path (issue 7): many rounds, bounded in rounds and in time.

Each round starts ``--parallel`` child processes that share one outbox; each replays what
earlier victims left and then delivers ``--records`` records to the real local receiver on
loopback (which pauses randomly and answers 503 now and then), and each is killed with SIGKILL
at a random instant. At the end one flush re-sends everything kept, and the soak checks:

- the outbox is empty (every stored record was delivered);
- the receiver accepted every record at most once, and its set equals the tool's ledger;
- only a record in flight when its child died may be missing, and then it was never sent;
- extra 2xx answers (re-sends after a kill between the server's 2xx and the ledger commit,
  deduplicated by the server's Idempotency-Key) are no more than the kills;
- the token appears in no child output and no outbox byte.

The machinery is shared with ``tests/core/test_delivery_killnine.py`` (a short version of this
soak that runs with the test suite).

Usage::

    uv run python benchmarks/soak.py                          # 200 rounds or 120 s
    uv run python benchmarks/soak.py --rounds 1000 --seconds 600 --parallel 3
    uv run python benchmarks/soak.py --json soak.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from helpers_delivery import CANARY, FlakyReceiver, KillNine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="at most this many rounds")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop starting rounds after")
    parser.add_argument("--parallel", type=int, default=2, help="children per round")
    parser.add_argument("--records", type=int, default=40, help="records per child")
    parser.add_argument("--jitter", type=float, default=0.03, help="kill up to this many s late")
    parser.add_argument("--flaky", type=float, default=0.1, help="share of 503 answers")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", type=Path, default=None, help="also write the stats here")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="customcd-soak-") as tmp:
        workdir = Path(tmp)
        with FlakyReceiver(
            seed=args.seed, flaky=args.flaky, company_id="1", token=CANARY
        ) as receiver:
            soak = KillNine(receiver.url, workdir / "outbox.sqlite3", workdir, seed=args.seed)
            rounds = 0
            while rounds < args.rounds and time.monotonic() - started < args.seconds:
                soak.round(rounds, parallel=args.parallel, records=args.records, jitter=args.jitter)
                rounds += 1
                if rounds % 25 == 0:
                    print(
                        f"round {rounds}: {soak.kills} kills, {len(receiver.accepted)} accepted",
                        file=sys.stderr,
                    )
            soak.final_flush()
            try:
                stats = soak.check(receiver)
            except AssertionError as exc:
                print(f"soak FAILED (seed {args.seed}): {exc}", file=sys.stderr)
                return 1
    stats.update(rounds=rounds, seed=args.seed, seconds=round(time.monotonic() - started, 1))
    print(json.dumps(stats, indent=2))
    if args.json:
        args.json.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
