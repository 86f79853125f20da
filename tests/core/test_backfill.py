"""Backfill through the send pipeline: lazily, concurrently, resumable, never twice."""

from __future__ import annotations

import io
import json
from typing import ClassVar

import pytest
from customcd.backfill import exit_code, run_backfill, summary
from customcd.config import Config
from customcd.plugins.adapter import NOT_FINAL, SKIP, Adapter, HistoryQuery
from customcd.plugins.draft import Draft
from customcd.plugins.hookspecs import hookimpl
from customcd.plugins.manager import get_plugin_manager
from customcd.receiver import Fault
from customcd.testing import TEST_TOKEN
from pydantic import SecretStr

START = 1_700_000_000


class Interrupted(Exception):
    pass


class FakeHistory(Adapter):
    """Builds 0..n-1: every 10th skipped, every 7th still running, every 13th without a SHA."""

    name = "fakehist"
    title = "Fake history"
    status_map: ClassVar = {
        "OK": "Succeeded",
        "BAD": "Failed",
        "SKIPPED": SKIP,
        "RUNNING": NOT_FINAL,
    }

    def __init__(self, count=60, fail_at=None):
        self.count, self.fail_at, self.produced = count, fail_at, 0

    def detect(self, env):
        return False

    def collect(self, context):
        raise AssertionError("not used")

    def history(self, query: HistoryQuery):
        first = int(query.resume_from.split("#")[1]) + 1 if query.resume_from else 0
        for number in range(first, self.count):
            if self.fail_at is not None and number == self.fail_at:
                raise Interrupted(number)
            self.produced += 1
            status = (
                "SKIPPED"
                if number % 10 == 9
                else "RUNNING"
                if number % 7 == 6
                else ("BAD" if number % 3 == 0 else "OK")
            )
            yield Draft(
                job_id=f"fake#{number}",
                commit_sha=None if number % 13 == 12 else f"{number:040x}",
                job_start_time=START + number * 60,
                job_duration=30,
                status=status,
                repo_name="acme/app",
                cursor=f"fake#{number}",
            )


def expected_delivered(count):
    return {n for n in range(count) if n % 10 != 9 and n % 7 != 6 and n % 13 != 12}


def setup(receiver, tmp_path, adapter):
    class Plugin:
        @hookimpl
        def customcd_adapters(self):
            return [adapter]

    plugins = get_plugin_manager({}, entry_points=[], extra=[("fakehist", Plugin())])
    config = Config(
        url=receiver.url,
        company_id="1",
        token=SecretStr(TEST_TOKEN),
        outbox=tmp_path / "outbox.db",
        deadline=5,
        timeout=2,
    )
    return plugins, config


def run(plugins, config, adapter, **kw):
    query = HistoryQuery(since=START, until=START + 10**6, selection={"job": ("x",)})
    return run_backfill(
        plugins=plugins,
        adapter=adapter,
        config=config,
        query=query,
        overrides={"service_id": "5"},
        progress_stream=io.StringIO(),
        **kw,
    )


@pytest.mark.parametrize("concurrency", [1, 4])
def test_backfill_delivers_every_valid_record_once(customcd_receiver, tmp_path, concurrency):
    adapter = FakeHistory()
    plugins, config = setup(customcd_receiver, tmp_path, adapter)
    stats = run(plugins, config, adapter, concurrency=concurrency)
    numbers = sorted(int(b["job_id"].split("#")[1]) for b in customcd_receiver.accepted)
    assert numbers == sorted(expected_delivered(60))
    assert stats.read == 60 and stats.sent == len(numbers)
    assert stats.skipped == 60 - len(numbers)
    assert stats.reasons["no commit SHA"] >= 1
    assert all(b["service_id"] == 5 for b in customcd_receiver.accepted)
    assert exit_code(stats) == 0
    table = summary(stats, dry_run=False)
    assert "delivered" in table and str(len(numbers)) in table

    resumed = run(plugins, config, adapter, concurrency=concurrency)  # checkpoint: nothing left
    assert resumed.read == 0
    again = run(plugins, config, adapter, concurrency=concurrency, restart=True)  # full re-run
    assert again.read == 60
    assert again.sent == 0 and again.duplicate == len(numbers)
    assert len(customcd_receiver.requests) == len(numbers)  # nothing sent twice


def test_interrupted_run_resumes_from_its_checkpoint(customcd_receiver, tmp_path):
    adapter = FakeHistory(count=300, fail_at=170)
    plugins, config = setup(customcd_receiver, tmp_path, adapter)
    with pytest.raises(Interrupted):
        run(plugins, config, adapter, concurrency=4)
    first = len(customcd_receiver.accepted)
    assert 0 < first < len(expected_delivered(300))
    resumed = FakeHistory(count=300)
    plugins, config = setup(customcd_receiver, tmp_path, resumed)
    run(plugins, config, resumed, concurrency=4)
    assert resumed.produced < 300 - 100  # it did not start over
    ids = [b["job_id"] for b in customcd_receiver.accepted]
    assert len(ids) == len(set(ids))
    assert {int(i.split("#")[1]) for i in ids} == expected_delivered(300)


def test_dry_run_writes_json_lines_and_sends_nothing(customcd_receiver, tmp_path):
    adapter = FakeHistory(count=20)
    plugins, config = setup(customcd_receiver, tmp_path, adapter)
    out = io.StringIO()
    stats = run(plugins, config, adapter, dry_run=True, output=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == stats.sent == len(expected_delivered(20))
    assert customcd_receiver.requests == []


def test_server_failures_are_kept_and_reported(customcd_receiver, tmp_path):
    adapter = FakeHistory(count=5)
    plugins, config = setup(customcd_receiver, tmp_path, adapter)
    customcd_receiver.inject(*[Fault(status=401) for _ in range(10)])
    stats = run(plugins, config, adapter, concurrency=1)
    assert stats.rejected == len(expected_delivered(5))
    assert exit_code(stats) == 77


def test_rate_limit_pauses_every_worker(customcd_receiver, tmp_path):
    adapter = FakeHistory(count=12)
    plugins, config = setup(customcd_receiver, tmp_path, adapter)
    customcd_receiver.inject(Fault(status=429, headers={"Retry-After": "1"}))
    stats = run(plugins, config, adapter, concurrency=4)
    assert stats.sent == len(expected_delivered(12)) and stats.pending == 0
