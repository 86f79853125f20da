"""The adapter object: detection, status map, plugin entry point, demo cases, light imports."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from customcd.contract.job import Job
from customcd.plugins.adapter import DEMO_EPOCH, NOT_FINAL, SKIP
from customcd.plugins.draft import CollectContext
from gitlab_support import body_from, job_env


def test_detects_gitlab(adapter):
    assert adapter.detect({"GITLAB_CI": "true"})
    assert adapter.detect({"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_ID": "5"})


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"GITLAB_CI": "false"},
        {"CI_SERVER_URL": "https://gitlab.example.com"},
        {"JENKINS_URL": "https://ci.example.com/", "BUILD_NUMBER": "3"},
        {"TF_BUILD": "True", "BUILD_BUILDID": "9"},
    ],
)
def test_does_not_detect_other_environments(adapter, env):
    assert not adapter.detect(env)


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("success", "Succeeded"),
        ("SUCCESS", "Succeeded"),
        ("failed", "Failed"),
        ("canceled", "Failed"),
        ("canceling", "Failed"),
        ("manual", "On Hold"),
        ("scheduled", "On Hold"),
        ("blocked", "On Hold"),
        ("skipped", SKIP),
        ("created", NOT_FINAL),
        ("waiting_for_resource", NOT_FINAL),
        ("preparing", NOT_FINAL),
        ("waiting_for_callback", NOT_FINAL),
        ("pending", NOT_FINAL),
        ("running", NOT_FINAL),
    ],
)
def test_status_map(adapter, native, expected):
    table = {key.lower(): value for key, value in adapter.status_map.items()}
    assert table[native.lower()] == expected


def test_names(adapter):
    assert adapter.name == "gitlab"
    assert adapter.title == "GitLab CI"
    assert adapter.server_variable() == "CI_SERVER_URL"
    assert adapter.annotate("warning", "kept for retry") is None


def test_entry_point_provides_the_adapter():
    found = [ep for ep in entry_points(group="customcd") if ep.name == "gitlab"]
    assert len(found) == 1
    module = found[0].load()
    adapters = module.customcd_adapters()
    assert [a.name for a in adapters] == ["gitlab"]


def test_demo_cases_build_valid_records(adapter):
    cases = adapter.demo_cases()
    assert 1 <= len(cases) <= 3
    statuses = set()
    for case in cases:
        assert adapter.detect(case.env)
        assert "CI_JOB_TOKEN" not in case.env
        draft = adapter.collect(
            CollectContext(env=case.env, overrides=case.overrides, now=DEMO_EPOCH)
        )
        start = int(Job.from_body(_demo_body(adapter, draft), now=DEMO_EPOCH).job_start_time)
        assert 0 < DEMO_EPOCH - start < 3600
        statuses.add(adapter.status_map[draft.status])
    assert statuses == {"Succeeded", "Failed"}


def _demo_body(adapter, draft):
    from customcd.contract.times import to_epoch

    start = to_epoch(draft.job_start_time)
    return {
        "job_id": draft.job_id,
        "commit_sha": draft.commit_sha,
        "service_id": 1,
        "job_start_time": start,
        "job_duration": DEMO_EPOCH - start,
        "status": adapter.status_map[draft.status],
        "repo_id": draft.repo_id,
        "repo_name": draft.repo_name,
        "optional": draft.optional,
    }


def test_backfill_params_names(adapter):
    names = {param.name for param in adapter.backfill_params()}
    assert {"project", "group", "source", "environment", "ref"} <= names


_LIGHT = """
import json, sys
import customcd_gitlab.plugin as plugin
adapter = plugin.customcd_adapters()[0]
from customcd.plugins.draft import CollectContext
env = json.loads(sys.argv[1])
assert adapter.detect(env)
draft = adapter.collect(CollectContext(env=env, now=1764400600))
assert draft.job_id == "5512"
print(json.dumps({"gitlab": "gitlab" in sys.modules, "requests": "requests" in sys.modules}))
"""


def test_plugin_and_job_mode_do_not_import_python_gitlab():
    result = subprocess.run(
        [sys.executable, "-c", _LIGHT, json.dumps(job_env())],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"gitlab": False, "requests": False}


def test_job_mode_body_has_no_token(adapter, collect):
    body = body_from(adapter, collect(job_env()))
    assert "JOBTOKENVALUE" not in json.dumps(body)
