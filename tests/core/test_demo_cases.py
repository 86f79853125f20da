"""DemoCase: its override keys are the ones customcd reads, and a bad one is an error, not ignored."""

from __future__ import annotations

import json
import sys

import pytest
from customcd import DemoCase
from customcd.builder import build
from customcd.plugins.adapter import DEMO_OVERRIDE_KEYS
from customcd.plugins.draft import DRAFT_FIELDS
from test_plugins import make_distribution

SHA = "d" * 40
ADAPTER = """
from customcd import Adapter, DemoCase, Draft, hookimpl


class KeysAdapter(Adapter):
    name = "keysci"
    title = "Keys CI"

    def detect(self, env):
        return False

    def collect(self, context):
        return Draft(job_id="k-1", commit_sha="d" * 40, repo_name="k/k", status="Succeeded",
                     job_start_time=1764400000)

    def demo_cases(self):
        return [DemoCase("every override", {}, {
            "job_start_time": "1764399000", "end_time": "1764399090", "job_type": "Demo Deploy",
            "triggered_by": "demo@example.com",
        })]


class BadAdapter(Adapter):
    name = "badci"
    title = "Bad CI"

    def detect(self, env):
        return False

    def collect(self, context):
        raise AssertionError("never collected")

    def demo_cases(self):
        return [DemoCase("a wrong key", {}, {"start_time": "1764399000"})]


@hookimpl
def customcd_adapters():
    return [KeysAdapter(), BadAdapter()]
"""


def test_an_unknown_override_key_is_an_error_naming_the_valid_keys():
    with pytest.raises(ValueError) as raised:
        DemoCase("sample", {"CI": "true"}, {"start_time": "1764399000", "status": "SUCCESS"})
    message = str(raised.value)
    assert "'sample'" in message and "'start_time'" in message
    assert "job_start_time" in message and "start_time_ms" in message and "end_time" in message
    assert "'status'" not in message  # only the wrong key is named as wrong


def test_the_valid_keys_are_exactly_what_the_builder_reads():
    assert set(DEMO_OVERRIDE_KEYS) == set(DRAFT_FIELDS) | set(build._EXTRA_INPUTS)
    for key in DEMO_OVERRIDE_KEYS:
        DemoCase("fine", {}, {key: "1"})


@pytest.fixture
def keys_dist(tmp_path, monkeypatch):
    root = make_distribution(
        tmp_path / "site",
        name="keys-customcd",
        module="keys_customcd",
        entry="keys",
        source=ADAPTER,
    )
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("keys_customcd", None)


def test_demo_applies_every_override_and_reports_an_adapter_whose_cases_fail(
    keys_dist, customcd_cli, tmp_path
):
    result = customcd_cli(["demo", "--keep", str(tmp_path / "kept")], env={})
    assert result.exit_code == 1, result.stdout + result.stderr  # Bad CI's cases failed
    assert "Bad CI: no demo cases (ValueError: DemoCase 'a wrong key'" in result.stderr
    assert "Bad CI: demo cases" in result.stdout and "error: see above" in result.stdout
    bodies = [
        json.loads(line) for line in (tmp_path / "kept" / "accepted.jsonl").read_text().splitlines()
    ]
    (mine,) = [body for body in bodies if body["job_id"] == "k-1"]
    assert mine["job_start_time"] == 1764399000 and mine["job_duration"] == 90
    assert mine["job_type"] == "Demo Deploy" and mine["triggered_by"] == "demo@example.com"
    assert len(bodies) > 2  # the other adapters' cases still ran
