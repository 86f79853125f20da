"""The Azure DevOps cassettes hold the REST 7.1 shapes (cassettes/azure_devops/make_cassettes.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

FOLDER = Path(__file__).resolve().parents[3] / "cassettes" / "azure_devops"
#: EnvironmentDeploymentExecutionRecord (azure-devops SDK, v7_1/task_agent/models.py)
RECORD = {
    "id", "requestIdentifier", "environmentId", "serviceOwner", "scopeId", "resourceId",
    "planType", "planId", "stageName", "jobName", "stageAttempt", "jobAttempt", "definition",
    "owner", "result", "queueTime", "startTime", "finishTime",
}  # fmt: skip


def interactions():
    for path in sorted(FOLDER.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text())["interactions"]:
            yield path.name, item


def test_timelines_are_read_at_their_documented_path():
    plain = []
    for name, item in interactions():
        uri = item["request"]["uri"]
        if "/timeline" not in uri:
            continue
        match = re.search(r"/builds/(\d+)/timeline(/[0-9a-f-]+)?\?", uri)
        assert match, uri
        if match[2] is None:
            plain.append((name, match[1]))
        elif item["response"]["status"]["code"] == 200:
            body = json.loads(item["response"]["body"]["string"])
            assert body["id"] == match[2][1:]  # the timeline id is the build's plan id
    # the plain path only after a 404 on the id's (an older server)
    assert plain == [("environment_deployments.yaml", "20948")]


def test_builds_name_their_plan_and_records_their_runs_plan():
    builds = records = 0
    for _, item in interactions():
        if item["response"]["status"]["code"] != 200:
            continue
        uri = item["request"]["uri"]
        body = json.loads(item["response"]["body"]["string"] or "null")
        if re.search(r"/_apis/build/builds(/\d+)?\?", uri):
            for build in body.get("value", [body]) if "value" in body else [body]:
                builds += 1
                assert build["orchestrationPlan"]["planId"] == build["plans"][0]["planId"]
        if "environmentdeploymentrecords" in uri:
            for record in body["value"]:
                records += 1
                assert set(record) <= RECORD
                assert record["planId"].endswith(f"{record['owner']['id']:012d}")
    assert builds > 200 and records > 10
