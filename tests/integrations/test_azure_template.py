"""The Azure Pipelines step template: valid YAML, values as data, its bash step run for real.

The template expressions Azure evaluates at compile time (``${{ parameters.X }}`` and the
``${{ if ... }}`` insertions of the ``env:`` block) and the ``$(...)`` macros it replaces at run
time are evaluated here for the parameters a pipeline gives; the bash step then runs in an
Azure-like environment (``TF_BUILD``, ``BUILD_*``, ``SYSTEM_*``) against the local receiver.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from customcd.testing import TEST_TOKEN

from .conftest import ROOT, base_env, closed_port_url, need

TEMPLATE = ROOT / "adapters" / "azure-devops" / "templates" / "customcd-step.yml"
INSERTION = re.compile(r"^\$\{\{\s*if\s+(ne|eq)\(parameters\.(\w+),\s*('?)(.*?)\3\)\s*\}\}$")


def load() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))


def compile_env(env: dict[str, Any], parameters: dict[str, Any], variables: dict[str, str]) -> dict:
    """Azure's template expansion of an env block, then its $(macro) replacement."""
    out: dict[str, str] = {}
    for key, value in env.items():
        match = INSERTION.match(key)
        if match:
            op, name, _, literal = match.groups()
            given = parameters[name]
            want: Any = literal if match[3] else {"true": True, "false": False}[literal]
            if (given == want) == (op == "eq"):
                out.update(compile_env(value, parameters, variables))
            continue
        assert "${{" not in key, key
        text = re.sub(
            r"\$\{\{\s*parameters\.(\w+)\s*\}\}", lambda m: str(parameters[m[1]]), str(value)
        )
        # A macro of an undefined variable stays as written, as Azure leaves it.
        out[key] = re.sub(r"\$\(([\w.]+)\)", lambda m: variables.get(m[1], m[0]), text)
    return out


def parameters_of(**given: Any) -> dict[str, Any]:
    defaults = {p["name"]: p.get("default") for p in load()["parameters"]}
    return {**defaults, **given}


def test_the_template_has_a_unix_and_a_windows_step_with_one_env():
    data = load()
    names = {p["name"]: p for p in data["parameters"]}
    assert set(names) == {
        "serviceId",
        "jobType",
        "optional",
        "version",
        "downloadUrl",
        "strict",
        "condition",
    }
    assert names["strict"]["type"] == "boolean"
    bash, powershell = data["steps"]
    assert bash["env"] == powershell["env"]
    assert "ne(variables['Agent.OS'], 'Windows_NT')" in bash["condition"]
    assert "eq(variables['Agent.OS'], 'Windows_NT')" in powershell["condition"]
    assert bash["env"]["CUSTOMCD_TOKEN"] == "$(CUSTOMCD_TOKEN)"
    assert bash["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    # The end time is the first line of both scripts.
    assert bash["bash"].startswith("CUSTOMCD_END_TIME=$(date +%s); export CUSTOMCD_END_TIME")
    assert powershell["powershell"].startswith("$env:CUSTOMCD_END_TIME = ")


def test_no_parameter_is_pasted_into_a_script():
    for step in load()["steps"]:
        script = step.get("bash") or step["powershell"]
        assert "${{" not in script


def azure_env(tmp: Path, customcd_plugins: Any) -> dict[str, str]:
    sample = dict(customcd_plugins().adapters()["azure-devops"].demo_cases()[0].env)
    sample.pop("SYSTEM_ACCESSTOKEN", None)
    sample["SYSTEM_PIPELINESTARTTIME"] = "2025-11-29 07:06:40+00:00"
    sample["AGENT_JOBSTATUS"] = "Succeeded"
    sample["AGENT_TEMPDIRECTORY"] = str(tmp)
    sample["AGENT_TOOLSDIRECTORY"] = str(tmp / "tools")
    return sample


def run_bash_step(
    tmp: Path, parameters: dict[str, Any], env: dict[str, str], variables: dict[str, str]
) -> subprocess.CompletedProcess:
    need("bash", "bash")
    step = load()["steps"][0]
    step_env = compile_env(step["env"], parameters, variables)
    script = tmp / "step.sh"
    script.write_text(step["bash"], encoding="utf-8")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
        env={**base_env(tmp), **env, **step_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_bash_step_reports_the_job_with_its_parameters(
    tmp_path, customcd_receiver, download_server, customcd_plugins
):
    download_server.delay = 1.5
    env = azure_env(tmp_path, customcd_plugins)
    env.update(
        {
            "CUSTOMCD_URL": customcd_receiver.url,
            "CUSTOMCD_COMPANY_ID": "1",
            "CUSTOMCD_SERVICE_ID": "99",  # a pipeline variable; the step parameter wins
            "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
        }
    )
    job_type = 'Prod "EU" it\'s $HOME & `id` 100%'
    parameters = parameters_of(
        serviceId="42",
        jobType=job_type,
        optional="team=web\nlead_time:duration=20",
        downloadUrl=download_server.url,
    )
    before = int(time.time())
    result = run_bash_step(tmp_path, parameters, env, {"CUSTOMCD_TOKEN": TEST_TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "##vso[task.setvariable variable=CUSTOMCD_OUTCOME]delivered" in result.stdout
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == env["BUILD_BUILDID"]
    assert record["commit_sha"] == env["BUILD_SOURCEVERSION"]
    assert record["repo_id"] == env["BUILD_REPOSITORY_ID"]
    assert record["status"] == "Succeeded"
    assert record["service_id"] == 42
    assert record["job_type"] == job_type
    assert record["job_start_time"] == 1764400000
    optional = {o["key"]: o["value"] for o in record["optional"]}
    assert optional["team"] == "web" and optional["lead_time"] == 20
    # The end was taken first, before the 1.5 s download.
    assert before <= record["job_start_time"] + record["job_duration"] <= before + 1


@pytest.mark.parametrize("strict", [False, True])
def test_an_unreachable_download_is_one_warning_annotation(
    tmp_path, customcd_receiver, customcd_plugins, strict
):
    env = azure_env(tmp_path, customcd_plugins)
    env.update({"CUSTOMCD_URL": customcd_receiver.url, "CUSTOMCD_COMPANY_ID": "1"})
    parameters = parameters_of(serviceId="42", downloadUrl=closed_port_url(), strict=strict)
    # No CUSTOMCD_TOKEN variable: the macro stays literal and the step drops it.
    result = run_bash_step(tmp_path, parameters, env, {})
    assert result.returncode == (1 if strict else 0), result.stdout + result.stderr
    warnings = [
        line for line in result.stdout.splitlines() if line.startswith("##vso[task.logissue")
    ]
    assert len(warnings) == 1, result.stdout
    assert "type=warning" in warnings[0] and "could not be installed" in warnings[0]
    assert customcd_receiver.accepted == []
