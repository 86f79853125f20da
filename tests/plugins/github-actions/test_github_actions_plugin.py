"""The distribution as customcd sees it: found by entry point, light to import."""

from __future__ import annotations

import json
import subprocess
import sys

from customcd import get_plugin_manager
from customcd_github_actions.adapter import GitHubActionsAdapter


def test_found_through_its_entry_point():
    plugins = get_plugin_manager(env={"CUSTOMCD_PLUGINS": "github-actions"})
    info = plugins.info["github-actions"]
    assert info.distribution == "customcd-github-actions"
    assert info.module == "customcd_github_actions.plugin"
    assert plugins.hooks_of("github-actions") == ["customcd_adapters"]
    adapter = plugins.adapters()["github-actions"]
    assert isinstance(adapter, GitHubActionsAdapter)
    assert adapter.title == "GitHub Actions"


def test_disabled_by_environment():
    plugins = get_plugin_manager(
        env={"CUSTOMCD_PLUGINS": "github-actions", "CUSTOMCD_DISABLE_PLUGINS": "github-actions"}
    )
    assert "github-actions" not in plugins.info
    assert "github-actions" not in plugins.adapters()


SCRIPT = r"""
import json, sys
from customcd import CollectContext
from customcd_github_actions.plugin import customcd_adapters

env = {
    "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1", "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_JOB": "deploy", "GITHUB_REPOSITORY": "acme/app",
    "GITHUB_SHA": "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71",
}
(adapter,) = customcd_adapters()
detected = adapter.detect(env)
draft = adapter.collect(CollectContext(env=env, overrides={"job_start_time": 1764400000}))
print(json.dumps({"detected": detected, "job_id": draft.job_id,
                  "httpx": "httpx" in sys.modules}))
"""


def test_detect_and_collect_with_start_time_never_import_httpx():
    # A fresh interpreter: other tests' imports must not hide a module-level import.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    out = json.loads(result.stdout)
    assert out == {"detected": True, "job_id": "1-1-deploy", "httpx": False}
