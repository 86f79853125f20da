"""The GitLab CI/CD component, run for real by gitlab-ci-local (shell executor).

One pipeline includes ``templates/customcd/template.yml`` with ``include: component`` (the
component project is the test repository itself, at ``$CI_COMMIT_SHA``, which gitlab-ci-local
resolves from the working tree like GitLab resolves a component of the same project). Its jobs
extend ``.customcd-report``: one succeeds after ``sleep 2``, one fails (``exit 1``), one sets a
job type with spaces, quotes and ``$``, and one installs from an unreachable URL. A second
pipeline includes the same file with ``include: local`` + ``inputs:`` in pipeline mode. Every
record the local receiver gets is checked field by field against the job's own ``CI_*``
variables, which each job writes to a file before it starts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from customcd.testing import TEST_TOKEN

from .conftest import NODE_BIN, ROOT, base_env, closed_port_url, need, serve

COMPONENT = ROOT / "templates" / "customcd" / "template.yml"
JOB_TYPE_INPUT = 'Production "EU" deploy'
HOSTILE_JOB_TYPE = 'Customer\'s "blue" deploy & $HOME `id` $(id)'
SLEEP = 2
INSTALL_DELAY = 2.5  # each archive download waits this long: it must not count in a duration

PIPELINE = f"""
include:
  - component: $CI_SERVER_FQDN/acme/deploy/customcd@$CI_COMMIT_SHA
    inputs:
      service_id: "12"
      download_url: "{{download_url}}"
      job_type: {json.dumps(JOB_TYPE_INPUT)}
      optional: |
        team=payments
        lead_time:duration=20

.facts:
  extends: .customcd-report
  variables:
    CUSTOMCD_CACHE_DIR: $CI_PROJECT_DIR/.cache/$CI_JOB_NAME
    CUSTOMCD_OUTBOX: $CI_PROJECT_DIR/.cache/$CI_JOB_NAME/outbox
  before_script:
    - env | grep -E '^(CI|GITLAB)_' > "facts-$CI_JOB_NAME.env"

deploy-ok:
  extends: .facts
  environment: {{name: production}}
  script:
    - sleep {SLEEP}

deploy-fail:
  extends: .facts
  script:
    - exit 1

deploy-quoted:
  extends: .facts
  variables:
    CUSTOMCD_JOB_TYPE:
      value: {json.dumps(HOSTILE_JOB_TYPE)}
      expand: false
  script:
    - "true"

deploy-unreachable:
  extends: .facts
  variables:
    CUSTOMCD_DOWNLOAD_URL: "{{unreachable}}"
  script:
    - "true"
"""

PIPELINE_MODE = """
include:
  - local: templates/customcd/template.yml
    inputs:
      mode: pipeline
      job_type: Release train
      strict: true

build:
  script:
    - env | grep -E '^(CI|GITLAB)_' > "facts-$CI_JOB_NAME.env"
"""


def gitlab_ci_local() -> str:
    need("node", "node (Node 20)")
    need("rsync", "rsync (gitlab-ci-local copies with it)")
    return need(str(NODE_BIN / "gitlab-ci-local"), "gitlab-ci-local (npm)")


def make_repo(tmp: Path, pipeline: str, copies: tuple[str, ...] = ()) -> Path:
    """A git repository holding the component (and ``copies`` of other files) and a pipeline."""
    repo = tmp / "repo"
    for name in ("templates/customcd/template.yml", *copies):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    (repo / ".gitlab-ci.yml").write_text(pipeline, encoding="utf-8")
    (repo / ".gitignore").write_text(".gitlab-ci-local/\n.cache/\nfacts-*\n", encoding="utf-8")
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "config", "user.name", "Jane Doe"], check=True)
    subprocess.run([*git, "config", "user.email", "jane@example.com"], check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://gitlab.example.com/acme/deploy.git"], check=True
    )
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "deploy"], check=True)
    return repo


def run_pipeline(tmp: Path, repo: Path, variables: dict[str, str]) -> subprocess.CompletedProcess:
    argv = [gitlab_ci_local(), "--force-shell-executor", "--no-color"]
    for name, value in variables.items():
        argv += ["--variable", f"{name}={value}"]
    env = base_env(tmp)
    env["GIT_CONFIG_GLOBAL"] = str(tmp / "home" / ".gitconfig")
    return subprocess.run(
        argv, cwd=repo, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def facts(repo: Path, job: str) -> dict[str, str]:
    text = (repo / f"facts-{job}.env").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def job_log(output: str, job: str) -> str:
    return "\n".join(line for line in output.splitlines() if line.startswith(job + " "))


@pytest.fixture(scope="module")
def job_mode(once_per_run, module_receiver, release_folder):
    """Run the job-mode pipeline once per test run; return (repo, output, records by job id,
    seconds it took)."""

    def run(tmp: Path) -> None:
        with serve(release_folder) as server:
            server.delay = INSTALL_DELAY
            pipeline = PIPELINE.replace("{unreachable}", closed_port_url())
            repo = make_repo(tmp, pipeline.replace("{download_url}", server.url))
            variables = {
                "CUSTOMCD_URL": module_receiver.url,
                "CUSTOMCD_COMPANY_ID": "1",
                "CUSTOMCD_TOKEN": TEST_TOKEN,
            }
            started = time.monotonic()
            result = run_pipeline(tmp, repo, variables)
            elapsed = time.monotonic() - started
        ran = {"output": result.stdout + result.stderr, "elapsed": elapsed}
        ran["records"] = list(module_receiver.accepted)
        (tmp / "ran.json").write_text(json.dumps(ran), encoding="utf-8")

    tmp = once_per_run("gitlab-job-mode", run)
    ran = json.loads((tmp / "ran.json").read_text(encoding="utf-8"))
    records = {r["job_id"]: r for r in ran["records"]}
    return tmp / "repo", ran["output"], records, ran["elapsed"]


def check_record(record: dict[str, Any], ci: dict[str, str], status: str) -> None:
    assert record["job_id"] == ci["CI_JOB_ID"]
    assert record["commit_sha"] == ci["CI_COMMIT_SHA"]
    assert record["repo_name"] == ci["CI_PROJECT_PATH"]
    assert record["repo_id"] == ci["CI_PROJECT_ID"]
    assert record["job_start_time"] == epoch(ci["CI_JOB_STARTED_AT"])
    assert record["status"] == status
    assert record["service_id"] == 12
    assert record["triggered_by"] == ci["GITLAB_USER_EMAIL"] == "jane@example.com"
    optional = {o["key"]: o["value"] for o in record["optional"]}
    assert optional["pipeline_id"] == int(ci["CI_PIPELINE_ID"])
    assert optional["job_url"] == ci["CI_JOB_URL"]
    assert optional["ref"] == ci["CI_COMMIT_REF_NAME"]
    assert optional["team"] == "payments"
    assert optional["lead_time"] == 20


def test_a_succeeding_job_reports_its_script_time_not_the_install(job_mode):
    repo, output, records, _ = job_mode
    ci = facts(repo, "deploy-ok")
    assert ci["CI_JOB_ID"] in records, output
    record = records[ci["CI_JOB_ID"]]
    check_record(record, ci, "Succeeded")
    assert record["job_type"] == JOB_TYPE_INPUT
    optional = {o["key"]: o["value"] for o in record["optional"]}
    assert optional["environment"] == ci["CI_ENVIRONMENT_NAME"] == "production"
    # sleep 2, started at a whole second: 2-3 s; the 2.5 s download came after the end time.
    assert SLEEP <= record["job_duration"] <= SLEEP + 1, record
    wall = re.search(r"^deploy-ok\s+finished in ([\d.]+) (m?s)", output, re.M)
    assert wall, output
    seconds = float(wall[1]) / (1000 if wall[2] == "ms" else 1)
    assert seconds >= SLEEP + INSTALL_DELAY, output


def test_a_failing_job_reports_failed_and_keeps_its_result(job_mode):
    repo, output, records, _ = job_mode
    ci = facts(repo, "deploy-fail")
    check_record(records[ci["CI_JOB_ID"]], ci, "Failed")
    assert re.search(r"FAIL\s+deploy-fail", output), output
    assert re.search(r"PASS\s+deploy-ok", output), output


def test_a_job_type_with_spaces_quotes_and_dollars_arrives_whole(job_mode):
    repo, output, records, _ = job_mode
    ci = facts(repo, "deploy-quoted")
    record = records[ci["CI_JOB_ID"]]
    check_record(record, ci, "Succeeded")
    assert record["job_type"] == HOSTILE_JOB_TYPE
    assert "unexpected extra argument" not in output


def test_an_unreachable_download_is_one_warning_and_the_job_stays_green(job_mode):
    repo, output, records, _ = job_mode
    ci = facts(repo, "deploy-unreachable")
    assert ci["CI_JOB_ID"] not in records
    log = job_log(output, "deploy-unreachable")
    warnings = [line for line in log.splitlines() if "customcd: WARNING:" in line]
    assert len(warnings) == 1, log
    assert "could not be installed" in warnings[0] and "keeps its own result" in warnings[0]
    assert re.search(r"PASS\s+deploy-unreachable", output), output
    assert len(records) == 3, records


def test_pipeline_mode_through_include_local_with_inputs(
    tmp_path, customcd_receiver, release_folder
):
    repo = make_repo(tmp_path, PIPELINE_MODE)
    with serve(release_folder) as server:
        result = run_pipeline(
            tmp_path,
            repo,
            {
                "CUSTOMCD_URL": customcd_receiver.url,
                "CUSTOMCD_COMPANY_ID": "1",
                "CUSTOMCD_TOKEN": TEST_TOKEN,
                "CUSTOMCD_SERVICE_ID": "7",
                "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
                "CUSTOMCD_DOWNLOAD_URL": server.url,
                "CUSTOMCD_CACHE_DIR": str(tmp_path / "cache"),
                # No GitLab API here: a closed loopback port, so customcd falls back to the
                # pipeline's variables with the status given.
                "CUSTOMCD_GITLAB_URL": closed_port_url(),
                "CUSTOMCD_GITLAB_TOKEN": "glpat-test",
                "CUSTOMCD_STATUS": "success",
            },
        )
    output = result.stdout + result.stderr
    assert re.search(r"PASS\s+customcd-pipeline", output), output
    ci = facts(repo, "build")
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == ci["CI_PIPELINE_ID"]
    assert record["commit_sha"] == ci["CI_COMMIT_SHA"]
    assert record["repo_name"] == ci["CI_PROJECT_PATH"]
    assert record["job_start_time"] == epoch(ci["CI_PIPELINE_CREATED_AT"])
    assert record["job_type"] == "Release train"
    assert record["service_id"] == 7


def test_job_mode_adds_no_job_and_pipeline_mode_adds_one():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))
    spec, jobs = yaml.load_all(COMPONENT.read_text(encoding="utf-8"), Loader=Loader)
    inputs = spec["spec"]["inputs"]
    assert inputs["mode"]["options"] == ["job", "pipeline"]
    assert inputs["strict"]["type"] == "boolean"
    visible = [name for name in jobs if not name.startswith(".")]
    assert visible == ["customcd-pipeline"]
    assert jobs["customcd-pipeline"]["rules"][0]["if"] == '$CUSTOMCD_COMPONENT_MODE == "pipeline"'
    first, report = jobs[".customcd-report"]["after_script"]
    assert first.startswith("CUSTOMCD_END_TIME=$(date +%s)")
    assert jobs[".customcd-pipeline"]["script"] == [report]
    # Inputs reach the script only as variables, never as script text.
    assert "$[[" not in report and "$[[" not in first
