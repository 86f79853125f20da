"""A history that lists one build twice (shifted pages) sends it once, even concurrently."""

from __future__ import annotations

import io
from typing import ClassVar

from customcd.backfill import run_backfill
from customcd.config import Config
from customcd.plugins.adapter import Adapter, HistoryQuery
from customcd.plugins.draft import Draft
from customcd.plugins.hookspecs import hookimpl
from customcd.plugins.manager import get_plugin_manager
from customcd.secret import Secret
from customcd.testing import TEST_TOKEN


class Twice(Adapter):
    name = "twice"
    title = "Twice"
    status_map: ClassVar = {"OK": "Succeeded"}

    def detect(self, env):
        return False

    def collect(self, context):
        raise AssertionError("not used")

    def history(self, query: HistoryQuery):
        for number in range(20):
            for _copy in range(2):
                yield Draft(
                    job_id=f"b#{number}",
                    commit_sha=f"{number:040x}",
                    job_start_time=1_700_000_000 + number,
                    job_duration=1,
                    status="OK",
                    repo_name="a/b",
                    cursor=f"b#{number}",
                )


def backfill(receiver, tmp_path, *, concurrency):
    """Backfill the doubled history of :class:`Twice` to ``receiver``; return the counts."""
    adapter = Twice()

    class Plugin:
        @hookimpl
        def customcd_adapters(self):
            return [adapter]

    plugins = get_plugin_manager({}, entry_points=[], extra=[("twice", Plugin())])
    config = Config(
        url=receiver.url,
        company_id="1",
        token=Secret(TEST_TOKEN),
        outbox=tmp_path / "o.db",
        deadline=5,
        timeout=2,
    )
    return run_backfill(
        plugins=plugins,
        adapter=adapter,
        config=config,
        query=HistoryQuery(since=1_600_000_000),
        overrides={"service_id": "1"},
        concurrency=concurrency,
        progress_stream=io.StringIO(),
    )


def test_each_build_listed_twice_is_posted_once(customcd_receiver, tmp_path):
    stats = backfill(customcd_receiver, tmp_path, concurrency=4)
    keys = [r.headers["Idempotency-Key"] for r in customcd_receiver.requests]
    assert len(keys) == len(set(keys)) == 20
    assert stats.read == 40 and stats.sent == 20 and stats.duplicate == 20 and stats.pending == 0


def test_an_outbox_failure_stops_the_run_and_the_checkpoint(
    customcd_receiver, tmp_path, monkeypatch
):
    import pytest
    from customcd.delivery.outbox import Outbox, OutboxUnavailable

    real_add, calls = Outbox.add, []

    def flaky_add(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OutboxUnavailable("outbox is unusable: database is locked")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(Outbox, "add", flaky_add)
    with pytest.raises(OutboxUnavailable):
        backfill(customcd_receiver, tmp_path, concurrency=1)
    monkeypatch.setattr(Outbox, "add", real_add)
    box = Outbox(tmp_path / "o.db")
    saved = box._db.execute("SELECT cursor FROM checkpoints").fetchall()
    # b#0 was delivered (its twin counted), b#1 could not be stored: the checkpoint stops at b#0
    assert saved == [("b#0",)]
    assert len(customcd_receiver.requests) == 1
