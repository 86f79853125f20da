"""The shipped step template: valid YAML, parameters passed as data, secrets mapped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

TEMPLATE = (
    Path(__file__).parents[3] / "adapters" / "azure-devops" / "templates" / "customcd-step.yml"
)


def load() -> dict:
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))


def test_template_is_a_steps_template_with_its_parameters():
    data = load()
    names = {p["name"] for p in data["parameters"]}
    assert {"serviceId", "jobType", "customcdVersion", "extraArgs", "condition"} <= names
    (step,) = data["steps"]
    assert step["condition"] == "${{ parameters.condition }}"
    assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    assert step["env"]["CUSTOMCD_TOKEN"] == "$(CUSTOMCD_TOKEN)"


def test_string_parameters_never_reach_the_script_text():
    # A template expression is pasted into the script before bash runs: a job type holding
    # quotes or $ would break or inject. They go through env instead (extraArgs is flags by design).
    step = load()["steps"][0]
    pasted = set(re.findall(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", step["bash"]))
    assert pasted == {"extraArgs"}
    assert step["env"]["CUSTOMCD_STEP_JOB_TYPE"] == "${{ parameters.jobType }}"
    assert step["env"]["CUSTOMCD_STEP_SERVICE_ID"] == "${{ parameters.serviceId }}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_passes_a_hostile_job_type_as_one_argument(tmp_path):
    script = load()["steps"][0]["bash"].replace("${{ parameters.extraArgs }}", "")
    fake = tmp_path / "venv" / "bin"
    fake.mkdir(parents=True)
    # python3 -m venv and pip are replaced by no-ops; customcd prints its arguments one a line.
    (tmp_path / "python3").write_text("#!/bin/sh\nexit 0\n")
    (fake / "python").write_text("#!/bin/sh\nexit 0\n")
    (fake / "customcd").write_text('#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done\n')
    for path in (tmp_path / "python3", fake / "python", fake / "customcd"):
        path.chmod(0o755)
    script = script.replace(
        'venv="${AGENT_TEMPDIRECTORY:-/tmp}/customcd-venv"', f'venv="{fake.parent}"'
    )
    env = {
        "PATH": f"{tmp_path}:{os.environ.get('PATH', '')}",
        "CUSTOMCD_STEP_SERVICE_ID": "42",
        "CUSTOMCD_STEP_JOB_TYPE": 'Prod "EU" $HOME; echo pwned',
        "CUSTOMCD_STEP_PACKAGE": "customcd-azure-devops",
        "SYSTEM_ACCESSTOKEN": "$(System.AccessToken)",
    }
    out = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=20, check=True
    ).stdout.splitlines()
    assert out == [
        "[send]",
        "[--service-id]",
        "[42]",
        "[--job-type]",
        '[Prod "EU" $HOME; echo pwned]',
    ]
