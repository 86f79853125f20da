"""kill -9 soak of the delivery path (issues 7 and 16): many rounds, bounded in rounds and time.

Two phases, each against the real local receiver on loopback (pausing randomly and answering 503
now and then) with an outbox of its own:

1. **delivery children**: each round starts ``--parallel`` children that share one outbox; each
   replays what earlier victims left and then delivers ``--records`` records through the delivery
   classes, and each is killed with SIGKILL at a random instant;
2. **the commands** (``--cli-rounds``): each round starts ``--parallel`` workers running
   ``customcd send`` for ``--cli-records`` records one after the other, and one ``customcd outbox
   flush``, all on one outbox, each killed -9 at a random instant (inside a random record's run,
   a random time into the flush).

After each phase one flush re-sends everything kept, and the soak checks:

- the outbox is empty (every stored record was delivered);
- the receiver accepted every record at most once, and its set equals the tool's ledger;
- only a record in flight when its child died may be missing, and then it was never sent;
- extra 2xx answers (re-sends after a kill between the server's 2xx and the ledger commit,
  deduplicated by the server's Idempotency-Key) are no more than the kills;
- the token appears in no child output and no outbox byte; no run printed a traceback.

It exits 1 on any lost or duplicated record (or any failed check), 0 otherwise, and prints the
numbers as JSON. ``--quick`` is the size ``.ci/run`` uses (under a minute on two cores). The
machinery is shared with ``tests/core/test_delivery_killnine.py`` (a short version of phase 1
that runs with the test suite).

Usage::

    uv run python benchmarks/soak.py --quick                  # CI: 24 + 12 rounds, at most 120 s
    uv run python benchmarks/soak.py                          # 200 + 40 rounds or 300 s
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from helpers_delivery import CANARY, FlakyReceiver, KillNine  # noqa: E402
from helpers_killcli import KillNineCli  # noqa: E402


def phase(
    kind: type[KillNine], rounds: int, until: float, args: argparse.Namespace, records: int
) -> dict[str, Any]:
    """Run one phase's rounds (until ``rounds`` or the monotonic time ``until``), then check."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="customcd-soak-") as tmp:
        workdir = Path(tmp)
        with FlakyReceiver(
            seed=args.seed, flaky=args.flaky, company_id="1", token=CANARY
        ) as receiver:
            # a killed child resets its connection: socketserver would print that as a traceback
            receiver._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
            soak = kind(receiver.url, workdir / "outbox.sqlite3", workdir, seed=args.seed)
            done = 0
            while done < rounds and (done == 0 or time.monotonic() < until):
                soak.round(done, parallel=args.parallel, records=records)
                done += 1
                if done % 25 == 0:
                    print(
                        f"{kind.__name__} round {done}: {soak.kills} kills, "
                        f"{len(receiver.accepted)} accepted",
                        file=sys.stderr,
                    )
            soak.final_flush()
            stats: dict[str, Any] = soak.check(receiver)
    stats.update(rounds=done, seconds=round(time.monotonic() - started, 1))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="delivery-children rounds")
    parser.add_argument("--cli-rounds", type=int, default=40, help="customcd command rounds")
    parser.add_argument("--seconds", type=float, default=300.0, help="stop starting rounds after")
    parser.add_argument("--parallel", type=int, default=2, help="children (workers) per round")
    parser.add_argument("--records", type=int, default=40, help="records per delivery child")
    parser.add_argument("--cli-records", type=int, default=6, help="records per send worker")
    parser.add_argument("--flaky", type=float, default=0.1, help="share of 503 answers")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument(
        "--quick", action="store_true", help="the CI size: 24 + 12 rounds, at most 120 s"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the stats here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.cli_rounds, args.seconds, args.records = 24, 12, 120.0, 8

    started = time.monotonic()
    # the time is shared: the commands' phase gets what the first one left, at least one round
    share = args.seconds * args.rounds / max(args.rounds + 4 * args.cli_rounds, 1)
    stats: dict[str, Any] = {"seed": args.seed}
    try:
        stats["delivery_children"] = phase(
            KillNine, args.rounds, started + share, args, args.records
        )
        stats["commands"] = phase(
            KillNineCli, args.cli_rounds, started + args.seconds, args, args.cli_records
        )
    except AssertionError as exc:
        print(f"soak FAILED (seed {args.seed}): {exc}", file=sys.stderr)
        print(json.dumps(stats, indent=2))
        return 1
    stats["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(stats, indent=2))
    if args.json:
        args.json.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
