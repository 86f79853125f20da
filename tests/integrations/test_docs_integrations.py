"""The docs' zero-install snippets (marked ``<!-- integration: NAME``), run as users would.

Each CI page leads with one; this module takes it from the page as written and runs it:
the GitLab pipeline in gitlab-ci-local, the GitHub workflow's action step with its ``with:``
inputs, the Azure pipeline's template step with its parameters, and the Jenkinsfile's
``customcdReport(...)`` call in groovy (then its ``sh`` script). Each must deliver the record the
snippet describes to the local receiver.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from customcd.testing import TEST_TOKEN

from .conftest import ROOT, base_env
from .test_azure_template import azure_env, parameters_of, run_bash_step
from .test_github_action import github_api, run_action, runner_env  # noqa: F401 - a fixture
from .test_gitlab_component import facts, make_repo, run_pipeline
from .test_jenkins_step import BUILD, run_cases

MARKER = re.compile(
    r"<!-- integration: (?P<name>[\w-]+).*?-->\n```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M
)
FACTS = "\ndefault:\n  before_script:\n    - env | grep -E '^(CI|GITLAB)_' > \"facts-$CI_JOB_NAME.env\"\n"


def snippet(page: str, name: str) -> str:
    found = {m["name"]: m["body"] for m in MARKER.finditer((ROOT / "docs" / page).read_text())}
    assert name in found, f"docs/{page} has no <!-- integration: {name} --> block"
    return found[name]


def test_every_ci_page_leads_with_its_integration():
    for page, name in [
        ("gitlab.md", "gitlab-component"),
        ("github-actions.md", "github-action"),
        ("azure-devops.md", "azure-template"),
        ("jenkins.md", "jenkins-step"),
    ]:
        text = (ROOT / "docs" / page).read_text()
        first_block = text.index("```")
        assert text.index(f"<!-- integration: {name}") < first_block, page
        assert "(nothing to install)" in text[: text.index("<!-- integration")], page


def gitlab_variables(tmp: Path, receiver_url: str, download_url: str) -> dict[str, str]:
    return {
        "CUSTOMCD_URL": receiver_url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp / "outbox"),
        "CUSTOMCD_CACHE_DIR": str(tmp / "cache"),
        "CUSTOMCD_DOWNLOAD_URL": download_url,
    }


def test_the_gitlab_page_pipeline_runs_in_gitlab_ci_local(
    tmp_path, customcd_receiver, download_server
):
    pipeline = snippet("gitlab.md", "gitlab-component")
    reference = "$CI_SERVER_FQDN/platform/customcd/customcd@0.2.0"
    assert reference in pipeline
    # The component of the test repository itself, as GitLab resolves one at $CI_COMMIT_SHA.
    pipeline = pipeline.replace(reference, "$CI_SERVER_FQDN/acme/deploy/customcd@$CI_COMMIT_SHA")
    repo = make_repo(tmp_path, pipeline + FACTS)
    (repo / "deploy.sh").write_text("#!/bin/sh\nsleep 1\n")
    (repo / "deploy.sh").chmod(0o755)
    variables = gitlab_variables(tmp_path, customcd_receiver.url, download_server.url)
    result = run_pipeline(tmp_path, repo, variables)
    output = result.stdout + result.stderr
    assert re.search(r"PASS\s+deploy-production", output), output
    ci = facts(repo, "deploy-production")
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == ci["CI_JOB_ID"]
    assert record["commit_sha"] == ci["CI_COMMIT_SHA"]
    assert record["service_id"] == 12 and record["job_type"] == "Production Deploy"
    assert record["status"] == "Succeeded"
    assert {"key": "environment", "value": "production", "type": "string"} in record["optional"]
    assert 1 <= record["job_duration"] <= 2


def test_the_former_template_file_still_gives_the_hidden_jobs(
    tmp_path, customcd_receiver, download_server
):
    pipeline = """
include:
  - local: adapters/gitlab/templates/customcd.gitlab-ci.yml
deploy:
  variables:
    CUSTOMCD_SERVICE_ID: "5"
    CUSTOMCD_JOB_TYPE: Production Deploy
  script: ["true"]
  after_script:
    - !reference [.customcd-report, after_script]
"""
    repo = make_repo(
        tmp_path, pipeline + FACTS, ("adapters/gitlab/templates/customcd.gitlab-ci.yml",)
    )
    result = run_pipeline(
        tmp_path, repo, gitlab_variables(tmp_path, customcd_receiver.url, download_server.url)
    )
    assert re.search(r"PASS\s+deploy", result.stdout + result.stderr), result.stdout
    (record,) = customcd_receiver.accepted
    assert record["job_id"] == facts(repo, "deploy")["CI_JOB_ID"]
    assert record["service_id"] == 5 and record["job_type"] == "Production Deploy"


def test_the_github_page_workflow_step_runs_the_action(
    tmp_path,
    customcd_receiver,
    download_server,
    github_api,  # noqa: F811
):
    workflow = yaml.safe_load(snippet("github-actions.md", "github-action"))
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("customcd/customcd@")]
    secrets = {
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
    }

    def value(text: str) -> str:
        text = re.sub(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", lambda m: secrets[m[1]], str(text))
        return re.sub(r"\$\{\{\s*job\.status\s*\}\}", "success", text)

    inputs = {name: value(v) for name, v in step["with"].items()}
    env = runner_env(tmp_path, github_api, "", download_server.url)
    for name in ("CUSTOMCD_URL", "CUSTOMCD_COMPANY_ID", "CUSTOMCD_TOKEN"):
        env.pop(name)  # the snippet gives them as inputs
    result, outputs = run_action(tmp_path, inputs, env)
    assert result.returncode == 0, result.stderr
    assert outputs["outcome"] == "delivered"
    (record,) = customcd_receiver.accepted
    assert record["service_id"] == 12 and record["job_type"] == "Production Deploy"
    assert record["status"] == "Succeeded"


def test_the_azure_page_pipeline_runs_the_template_step(
    tmp_path, customcd_receiver, download_server, customcd_plugins
):
    pipeline = yaml.safe_load(snippet("azure-devops.md", "azure-template"))
    (step,) = [s for s in pipeline["steps"] if "template" in s]
    assert step["template"] == "adapters/azure-devops/templates/customcd-step.yml@customcd"
    env = azure_env(tmp_path, customcd_plugins)
    env.update(
        {
            "CUSTOMCD_URL": customcd_receiver.url,
            "CUSTOMCD_COMPANY_ID": "1",
            "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
            "CUSTOMCD_DOWNLOAD_URL": download_server.url,  # a pipeline variable: your mirror
        }
    )
    result = run_bash_step(
        tmp_path, parameters_of(**step["parameters"]), env, {"CUSTOMCD_TOKEN": TEST_TOKEN}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (record,) = customcd_receiver.accepted
    assert record["service_id"] == 12 and record["job_type"] == "CI Build"
    assert record["job_id"] == env["BUILD_BUILDID"]


def test_the_jenkins_page_call_runs_in_groovy_then_sh(
    tmp_path, customcd_receiver, download_server, customcd_plugins
):
    jenkinsfile = snippet("jenkins.md", "jenkins-step")
    (call_args,) = re.findall(r"customcdReport\((.*?)\)", jenkinsfile)
    (result,) = run_cases(
        tmp_path, [{"unix": True, "argsSource": call_args, "currentBuild": BUILD}]
    )
    (call,) = result["calls"]
    script = tmp_path / "script.sh"
    script.write_text(call["script"])
    script.chmod(0o755)
    jenkins = dict(customcd_plugins().adapters()["jenkins"].demo_cases()[0].env)
    env = {
        **base_env(tmp_path),
        **jenkins,
        **call["env"],
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "outbox"),
        "CUSTOMCD_CACHE_DIR": str(tmp_path / "cache"),
        "CUSTOMCD_DOWNLOAD_URL": download_server.url,
    }
    run = subprocess.run(
        [str(script)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    (record,) = customcd_receiver.accepted
    assert record["service_id"] == 42 and record["job_type"] == "Production Deploy"
    assert record["job_id"] == f"{jenkins['JOB_NAME']}#{jenkins['BUILD_NUMBER']}"


@pytest.mark.parametrize(
    "page", ["gitlab.md", "github-actions.md", "azure-devops.md", "jenkins.md"]
)
def test_pip_installs_on_the_ci_pages_compile_bytecode(page):
    text = (ROOT / "docs" / page).read_text()
    installs = re.findall(r"pip\"? install [^\n`]*", text)
    assert installs, page
    for line in installs:
        assert "--compile" in line, f"docs/{page}: {line}"
