"""The plugin stays light: environment mode never imports jenkinsapi (or requests)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
from customcd.plugins.draft import CollectContext
from customcd_jenkins.plugin import customcd_adapters
adapter = customcd_adapters()[0]
env = {"JENKINS_URL": "https://jenkins.example.com/", "JOB_NAME": "app", "BUILD_NUMBER": "3",
       "GIT_COMMIT": "4c1e2a9f0b3d5e7f9a1c3e5f7b9d1f3a5c7e9b0d"}
detected = adapter.detect(env)
draft = adapter.collect(CollectContext(env=env, overrides={"status": "SUCCESS"}))
print(json.dumps({"detected": detected, "job_id": draft.job_id,
                  "heavy": sorted(m for m in ("jenkinsapi", "requests") if m in sys.modules)}))
"""


def test_environment_mode_does_not_import_jenkinsapi():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    result = json.loads(out.stdout)
    assert result == {"detected": True, "job_id": "app#3", "heavy": []}
