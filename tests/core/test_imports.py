"""Import discipline (issue 9): detection and a dry run never import an adapter's heavy client.

For each CI, a fresh interpreter gets a sample of that CI's job environment (no API credentials),
runs ``customcd send --dry-run`` through ``customcd.cli.main.main`` and reports which modules it
imported. The heavy client libraries (jenkinsapi, python-gitlab, requests) must not be among
them: an adapter imports its client only when its API mode actually runs.

An adapter that is not installed (or not importable yet) is skipped with the reason.
No timing is asserted here; ``benchmarks/startup.py`` measures time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("jenkinsapi", "gitlab", "requests")
#: Built-in commands other than ``send``: their modules are loaded only when they run.
OTHER_COMMANDS = (
    "backfill",
    "demo",
    "doctor",
    "outbox",
    "plugins",
    "receiver",
    "schema",
    "validate",
)
BUILT_IN_NAMES = ("send", *OTHER_COMMANDS)

#: Variables of any CI (and customcd's own) that must not leak from the machine running the tests.
_FOREIGN_PREFIXES = (
    "CI_",
    "GITLAB_",
    "GITHUB_",
    "RUNNER_",
    "JENKINS_",
    "HUDSON_",
    "BUILD_",
    "SYSTEM_",
    "AGENT_",
    "RELEASE_",
    "CUSTOMCD_",
)
_FOREIGN_NAMES = {"CI", "TF_BUILD", "JOB_NAME", "JOB_URL", "NODE_NAME", "WORKSPACE", "GIT_COMMIT"}

SHA = "4f9a3c2e1b0d8f7a6e5d4c3b2a1f0e9d8c7b6a59"


def _iso(seconds_ago: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def _gitlab() -> dict[str, str]:
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PROJECT_ID": "4242",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/shop",
        "CI_PIPELINE_ID": "987654",
        "CI_PIPELINE_SOURCE": "push",
        "CI_JOB_ID": "123456",
        "CI_JOB_NAME": "deploy-production",
        "CI_JOB_STAGE": "deploy",
        "CI_JOB_URL": "https://gitlab.example.com/acme/shop/-/jobs/123456",
        "CI_JOB_STARTED_AT": _iso(180),
        "CI_JOB_STATUS": "success",
        "CI_COMMIT_SHA": SHA,
        "CI_COMMIT_REF_NAME": "main",
        "CI_ENVIRONMENT_NAME": "production",
        "GITLAB_USER_EMAIL": "dev@example.com",
        "GITLAB_USER_LOGIN": "dev",
    }


def _jenkins() -> dict[str, str]:
    return {
        "JENKINS_URL": "https://jenkins.example.com/",
        "JENKINS_HOME": "/var/jenkins_home",
        "JOB_NAME": "shop/deploy",
        "JOB_BASE_NAME": "deploy",
        "BUILD_NUMBER": "57",
        "BUILD_ID": "57",
        "BUILD_TAG": "jenkins-shop-deploy-57",
        "BUILD_URL": "https://jenkins.example.com/job/shop/job/deploy/57/",
        "JOB_URL": "https://jenkins.example.com/job/shop/job/deploy/",
        "NODE_NAME": "agent-1",
        "WORKSPACE": "/var/jenkins_home/workspace/shop_deploy",
        "GIT_COMMIT": SHA,
        "GIT_URL": "https://github.com/acme/shop.git",
        "GIT_BRANCH": "origin/main",
        "BRANCH_NAME": "main",
    }


def _azure() -> dict[str, str]:
    return {
        "TF_BUILD": "True",
        "AGENT_NAME": "Hosted Agent",
        "AGENT_JOBSTATUS": "Succeeded",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
        "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/acme/",
        "SYSTEM_TEAMPROJECT": "Shop",
        "SYSTEM_TEAMPROJECTID": "6f1c9c1e-5b7e-4c5b-9d3e-2a1b0c9d8e7f",
        "SYSTEM_DEFINITIONID": "12",
        "SYSTEM_JOBID": "0b7e3c52-8f1a-5d2e-9c4b-1a2b3c4d5e6f",
        "SYSTEM_JOBDISPLAYNAME": "Deploy",
        "SYSTEM_STAGENAME": "Production",
        "SYSTEM_PIPELINESTARTTIME": time.strftime(
            "%Y-%m-%d %H:%M:%S+00:00", time.gmtime(time.time() - 240)
        ),
        "BUILD_BUILDID": "4711",
        "BUILD_BUILDNUMBER": "20240501.3",
        "BUILD_DEFINITIONNAME": "shop-deploy",
        "BUILD_SOURCEVERSION": SHA,
        "BUILD_SOURCEBRANCH": "refs/heads/main",
        "BUILD_SOURCEBRANCHNAME": "main",
        "BUILD_REPOSITORY_ID": "9d2f4c1a-0e3b-4a5c-8d7e-6f5a4b3c2d1e",
        "BUILD_REPOSITORY_NAME": "shop",
        "BUILD_REPOSITORY_PROVIDER": "TfsGit",
        "BUILD_REPOSITORY_URI": "https://dev.azure.com/acme/Shop/_git/shop",
        "BUILD_REQUESTEDFOREMAIL": "dev@example.com",
        "BUILD_REASON": "IndividualCI",
    }


def _github() -> dict[str, str]:
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_REPOSITORY_ID": "123456789",
        "GITHUB_RUN_ID": "9876543210",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_RUN_NUMBER": "88",
        "GITHUB_WORKFLOW": "deploy",
        "GITHUB_JOB": "deploy",
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_ACTOR": "dev",
        "GITHUB_TRIGGERING_ACTOR": "dev",
        "RUNNER_OS": "Linux",
    }


#: adapter name -> (its distribution's plugin module, a sample of its job environment)
CASES = {
    "gitlab": ("customcd_gitlab", _gitlab),
    "jenkins": ("customcd_jenkins", _jenkins),
    "azure-devops": ("customcd_azure_devops", _azure),
    "github-actions": ("customcd_github_actions", _github),
}

#: Runs in the child: detection, then a dry run, then a report of what was imported.
_CHILD = r"""
import json, os, sys
report = {"error": None}
try:
    from customcd.plugins.manager import get_plugin_manager
    adapters = get_plugin_manager().adapters()
    report["installed"] = sorted(adapters)
    report["detected"] = sorted(n for n, a in adapters.items() if a.detect(os.environ))
    report["after_detection"] = sorted(sys.modules)
    from customcd.cli.main import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        report["exit"] = exc.code
except Exception as exc:
    report["error"] = f"{type(exc).__name__}: {exc}"
report["after_dry_run"] = sorted(sys.modules)
sys.stdout.flush()
sys.stderr.write("\n@@IMPORTS@@" + json.dumps(report) + "\n")
"""


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_FOREIGN_PREFIXES) and k not in _FOREIGN_NAMES
    }


def _run_child(
    argv: list[str], env: dict[str, str], cwd: Path
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """Run :data:`_CHILD` with ``argv``: its report (the child's other stderr under "stderr")."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = proc.stderr.rfind("@@IMPORTS@@")
    assert marker >= 0, f"child crashed:\n{proc.stderr}"
    report: dict[str, Any] = json.loads(proc.stderr[marker + len("@@IMPORTS@@") :].splitlines()[0])
    assert report["error"] is None, report["error"]
    report["stderr"] = proc.stderr[:marker]
    return report, proc


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".", 1)[0] in HEAVY)


@pytest.mark.parametrize("adapter", sorted(CASES))
def test_dry_run_imports_no_heavy_client(adapter: str, tmp_path: Path) -> None:
    module, sample = CASES[adapter]
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}.plugin"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"adapter {adapter!r} not importable yet ({module}.plugin: {reason})")

    env = _clean_env()
    env.update(sample())
    env.update(
        {
            "CUSTOMCD_SERVICE_ID": "2",
            # never the user's state directory, never their customcd.toml
            "CUSTOMCD_OUTBOX": str(tmp_path / "outbox.sqlite3"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
    )
    # Flags any adapter accepts; they let a CI without start-time/status variables (Jenkins)
    # produce a record without asking its server.
    argv = [
        "send",
        "--dry-run",
        "--status",
        "Succeeded",
        "--start-time",
        str(int(time.time()) - 300),
    ]
    report, proc = _run_child(argv, env, tmp_path)

    if adapter not in report["installed"]:
        pytest.skip(f"adapter {adapter!r} is not registered (installed: {report['installed']})")
    assert report["detected"] == [adapter], (
        f"the {adapter} sample should be detected by exactly that adapter: {report['detected']}"
    )
    assert _heavy(report["after_detection"]) == [], "detection imported a heavy client"
    assert report.get("exit") == 0, f"dry run failed ({report.get('exit')}):\n{report['stderr']}"
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert body["commit_sha"] == SHA
    assert _heavy(report["after_dry_run"]) == [], (
        f"a dry run in {adapter} imported heavy client libraries: {_heavy(report['after_dry_run'])}"
    )
    # a dry run sends nothing: none of the HTTP client (nor what it alone needs) is imported
    http = [m for m in ("httpx", "httpcore", "http.cookiejar") if m in report["after_dry_run"]]
    assert http == [], f"a dry run in {adapter} imported {http}"
    # the command line loads the command it runs, not the others (nor what only they need)
    others = sorted(
        m
        for m in report["after_dry_run"]
        if m in {f"customcd.cli.{name}" for name in OTHER_COMMANDS}
        or m in ("customcd.receiver", "customcd.backfill", "customcd.demo", "customcd.doctor")
        or m.endswith(".demo")
    )
    assert others == [], f"a dry run in {adapter} imported other commands' modules: {others}"


def test_cli_import_is_light() -> None:
    """Importing the entry point loads neither plugins nor pydantic models nor HTTP clients."""
    code = "import sys, json; import customcd.cli.main; print(json.dumps(sorted(m for m in sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=_clean_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout))
    assert not _heavy(sorted(modules))
    loaded_plugins = sorted(m for m in modules if m.startswith("customcd_"))
    assert loaded_plugins == [], f"importing the CLI loaded plugins: {loaded_plugins}"
    assert "httpx" not in modules, "importing the CLI imported httpx"
    commands = sorted(m for m in modules if m.removeprefix("customcd.cli.") in BUILT_IN_NAMES)
    assert commands == [], f"importing the CLI imported commands' modules: {commands}"


def test_every_other_command_is_listed() -> None:
    from customcd.cli.main import BUILT_IN

    assert sorted(OTHER_COMMANDS) == sorted(set(BUILT_IN) - {"send"})
