"""Demo samples: realistic, offline, each making a complete draft with the flags it carries."""

from __future__ import annotations

import re

from customcd.plugins.draft import CollectContext


def test_demo_cases_build_complete_drafts(adapter):
    cases = adapter.demo_cases()
    assert 1 <= len(cases) <= 3
    for case in cases:
        assert adapter.detect(case.env), case.title
        draft = adapter.collect(CollectContext(env=case.env, overrides=case.overrides))
        assert re.fullmatch(r"[0-9a-f]{40}", draft.commit_sha), case.title
        assert draft.job_id and draft.repo_name, case.title
        assert case.overrides["status"] in adapter.status_map
        assert {"start_time_ms", "job_start_time"} & set(case.overrides)
        assert not any("JENKINS_API_TOKEN" in key for key in case.env)
