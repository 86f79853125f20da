"""kill -9 at random instants while sending many records: after a flush every stored record was
delivered, none accepted twice, and the tool's ledger matches what the server has.

Children share one outbox (two at a time), replay what earlier victims left, and are killed with
SIGKILL at a random point (inside a random record's delivery, a random few ms late; some are
spared and finish). 16 rounds, 32 children. The receiver is the real one, pausing randomly and answering 503
now and then. ``benchmarks/soak.py`` runs the same for longer.
"""

from __future__ import annotations

import pytest
from helpers_delivery import CANARY, FlakyReceiver, KillNine

ROUNDS = 16


@pytest.mark.soak  # 8-17 s here depending on machine load (still runs by default)
def test_kill_nine_at_random_points_loses_nothing_and_duplicates_nothing(tmp_path) -> None:
    with FlakyReceiver(seed=7, company_id="1", token=CANARY) as receiver:
        soak = KillNine(receiver.url, tmp_path / "outbox.sqlite3", tmp_path, seed=11)
        for index in range(ROUNDS):
            soak.round(index, parallel=2, records=8)
        soak.final_flush()
        stats = soak.check(receiver)
    assert stats["kills"] >= ROUNDS, stats  # most children really were killed mid-way
    assert stats["records"] >= ROUNDS * 2, stats  # they had sent a fair amount before dying
    assert any(c.killed and c.done and c.handed[-1] not in c.done for c in soak.children)
