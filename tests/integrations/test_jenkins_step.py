"""The Jenkins shared-library step, compiled and run by groovy with the pipeline steps stubbed.

``jenkins_harness.groovy`` plays Jenkins: ``sh``, ``bat``, ``withEnv``, ``withCredentials``,
``isUnix``, ``currentBuild``, ``libraryResource`` and ``echo`` record what the step asks for.
With hostile values (quotes, ``&``, ``%``, ``$(...)``, backticks, newlines,
``a"&echo INJECTED&"``) on Unix and Windows agents, no value appears in the ``sh``/``bat`` text
(which is exactly the library's resource, or the fixed PowerShell launcher) and every value
arrives in ``withEnv``. The Unix script is then run for real with that environment: the
standalone-build double is installed and the record reaches the local receiver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from customcd.testing import TEST_TOKEN

from .conftest import ROOT, base_env, need

LIBRARY = ROOT / "adapters" / "jenkins"
STEP = LIBRARY / "vars" / "customcdReport.groovy"
HARNESS = Path(__file__).with_name("jenkins_harness.groovy")
HOSTILE = [
    'a"&echo INJECTED&"',
    "Customer's deploy",
    "50% off %PATH% ^& more",
    "$(touch pwned-subshell)",
    "`touch pwned-backtick`",
    "first line\nsecond line",
    "semi; colon | pipe > redirect < in",
]
BUILD = {"currentResult": "SUCCESS", "startTimeInMillis": 1764400000123, "duration": 95000}
LAUNCHER = (
    "@powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass "
    '-Command "& ([scriptblock]::Create($env:CUSTOMCD_REPORT_PS1))"'
)


def java_home() -> str:
    for candidate in (os.environ.get("JAVA_HOME", ""), "/usr/lib/jvm/default-java"):
        if candidate and Path(candidate, "bin", "java").is_file():
            return candidate
    java = shutil.which("java")
    if java:
        return str(Path(java).resolve().parents[1])
    return ""


def run_cases(tmp: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groovy = need("groovy", "groovy (apt)")
    need(java_home() and str(Path(java_home(), "bin", "java")), "a Java runtime for groovy")
    case_file, out_file = tmp / "cases.json", tmp / "out.json"
    case_file.write_text(json.dumps(cases), encoding="utf-8")
    result = subprocess.run(
        [
            groovy,
            str(HARNESS),
            str(STEP),
            str(LIBRARY / "resources"),
            str(case_file),
            str(out_file),
        ],
        env={**os.environ, "JAVA_HOME": java_home()},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out_file.read_text(encoding="utf-8"))


def hostile_args(**extra: Any) -> dict[str, Any]:
    return {
        "serviceId": HOSTILE[1],
        "jobType": "".join(HOSTILE),
        "commitSha": HOSTILE[0],
        "status": HOSTILE[2],
        "optional": [f"k{i}={v}" for i, v in enumerate(HOSTILE)],
        "version": HOSTILE[3],
        "downloadUrl": HOSTILE[4],
        "command": HOSTILE[6],
        "credentialsId": HOSTILE[5],
        **extra,
    }


@pytest.fixture(scope="module")
def results(once_per_run) -> list[dict[str, Any]]:
    """One JVM for all the cases (once per test run): Unix, Windows, missing credentials (plain
    and strict)."""
    cases = [
        {"unix": True, "args": hostile_args(), "currentBuild": BUILD},
        {"unix": False, "args": hostile_args(), "currentBuild": BUILD},
        {"unix": True, "args": {}, "currentBuild": BUILD, "fail": "credentials"},
        {"unix": True, "args": {"strict": True}, "currentBuild": BUILD, "fail": "credentials"},
    ]
    folder = once_per_run("jenkins-step", lambda tmp: run_cases(tmp, cases))
    return json.loads((folder / "out.json").read_text(encoding="utf-8"))


def check_values_are_only_data(call: dict[str, Any]) -> None:
    for value in HOSTILE:
        assert value not in call["script"]
        for line in value.splitlines():
            assert line not in call["script"], line
    env = call["env"]
    assert env["CUSTOMCD_JOB_TYPE"] == "".join(HOSTILE)
    assert env["CUSTOMCD_SERVICE_ID"] == HOSTILE[1]
    assert env["CUSTOMCD_COMMIT_SHA"] == HOSTILE[0]
    assert env["CUSTOMCD_STATUS"] == HOSTILE[2]
    assert env["CUSTOMCD_OPTIONAL"] == "\n".join(f"k{i}={v}" for i, v in enumerate(HOSTILE))
    assert env["CUSTOMCD_VERSION"] == HOSTILE[3]
    assert env["CUSTOMCD_DOWNLOAD_URL"] == HOSTILE[4]
    assert env["CUSTOMCD_COMMAND"] == HOSTILE[6]
    assert env["CUSTOMCD_TOKEN"] == f"secret-from-{HOSTILE[5]}"
    # The end time is the first thing the step computes: start + duration so far.
    assert env["CUSTOMCD_END_TIME"] == str((1764400000123 + 95000) // 1000)
    assert env["CUSTOMCD_START_TIME_MS"] == "1764400000123"
    assert env["CUSTOMCD_ADAPTER"] == "jenkins"


def test_sh_runs_the_library_script_unchanged_and_values_go_through_withenv(results):
    (call,) = results[0]["calls"]
    assert results[0]["error"] is None
    assert call["step"] == "sh"
    resource = (LIBRARY / "resources" / "customcd" / "report.sh").read_text(encoding="utf-8")
    assert call["script"] == resource
    assert resource.startswith("#!/bin/sh\n")  # Jenkins runs it as a file, not `sh -xe`
    check_values_are_only_data(call)


def test_bat_runs_a_fixed_powershell_launcher_and_values_go_through_withenv(results):
    (call,) = results[1]["calls"]
    assert results[1]["error"] is None
    assert call["step"] == "bat"
    assert call["script"] == LAUNCHER
    check_values_are_only_data(call)
    ps1 = (LIBRARY / "resources" / "customcd" / "report.ps1").read_text(encoding="utf-8")
    assert call["env"]["CUSTOMCD_REPORT_PS1"] == ps1
    assert len(ps1) < 32000, "a Windows environment variable holds at most 32767 characters"


def test_missing_credentials_are_one_log_line_unless_strict(results):
    plain, strict = results[2], results[3]
    assert plain["error"] is None
    (call,) = plain["calls"]
    assert call["step"] == "echo"
    assert call["message"].startswith("customcd: WARNING: no record sent: ")
    assert "keeps its own result" in call["message"]
    assert strict["calls"] == []
    assert "Could not find credentials" in strict["error"]


def test_the_unix_script_reports_the_build_end_to_end(
    tmp_path, customcd_receiver, download_server, customcd_plugins
):
    job_type = 'a"&echo INJECTED&" it\'s $(touch pwned) `touch pwned2` 100%'
    args = {"serviceId": "42", "jobType": job_type, "downloadUrl": download_server.url}
    (result,) = run_cases(tmp_path, [{"unix": True, "args": args, "currentBuild": BUILD}])
    (call,) = result["calls"]
    jenkins = dict(customcd_plugins().adapters()["jenkins"].demo_cases()[0].env)
    script = tmp_path / "script.sh"
    script.write_text(call["script"], encoding="utf-8")
    script.chmod(0o755)
    work = tmp_path / "workspace"
    work.mkdir()
    env = {
        **base_env(tmp_path),
        **jenkins,
        **call["env"],
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
        "CUSTOMCD_CACHE_DIR": str(tmp_path / "cache"),
    }
    run = subprocess.run(
        [str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == f"{jenkins['JOB_NAME']}#{jenkins['BUILD_NUMBER']}"
    assert record["commit_sha"] == jenkins["GIT_COMMIT"]
    assert record["status"] == "Succeeded"
    assert record["service_id"] == 42
    assert record["job_type"] == job_type
    assert record["job_start_time"] == 1764400000
    assert record["job_duration"] == 95
    assert list(work.iterdir()) == [], "a value ran as a command"
