"""URLs, revisions and causes: the pure helpers."""

from __future__ import annotations

import pytest
from customcd_jenkins.builddata import Revision, causes_of, pick_revision, revisions_of
from customcd_jenkins.urls import (
    build_url_for,
    job_name_from_url,
    job_url_of_build,
    root_of,
)

ROOT = "https://ci.example.com/jenkins/"


def test_encoded_branch_names_round_trip():
    url = build_url_for(ROOT, "web/storefront/feature%2Flogin", 7)
    assert url == f"{ROOT}job/web/job/storefront/job/feature%252Flogin/7/"
    assert job_name_from_url(url) == "web/storefront/feature%2Flogin"
    assert job_url_of_build(url) == f"{ROOT}job/web/job/storefront/job/feature%252Flogin/"
    assert root_of(url) == ROOT


def test_a_job_named_job():
    url = build_url_for(ROOT, "job/x", 1)
    assert job_name_from_url(url) == "job/x"


@pytest.mark.parametrize("url", ["not a url", "https://ci.example.com/view/all/"])
def test_root_of_non_job_urls(url):
    assert root_of(url) is None


def test_pick_revision_prefers_the_matching_remote_in_any_url_form():
    lib = Revision("1" * 40, ("https://github.com/acme/lib.git",))
    app = Revision("2" * 40, ("https://github.com/acme/app.git",))
    chosen, note = pick_revision([app, lib], ["git@github.com:acme/lib.git"])
    assert chosen is lib and note is None


def test_pick_revision_most_checked_out_remote_wins_without_a_hint():
    app1 = Revision("2" * 40, ("https://github.com/acme/app.git",))
    lib = Revision("1" * 40, ("https://github.com/acme/lib.git",))
    app2 = Revision("2" * 40, ("https://github.com/acme/app.git",))
    chosen, note = pick_revision([app1, lib, app2], [])
    assert chosen is app2 and note and "3 revisions" in note


def test_revisions_strip_credentials_from_remotes():
    actions = [
        None,
        {},
        {
            "_class": "hudson.plugins.git.util.BuildData",
            "lastBuiltRevision": {"SHA1": "a" * 40, "branch": [{"name": "origin/main"}]},
            "remoteUrls": ["https://bot:hunter2@git.example.com/team/app.git"],
        },
    ]
    [revision] = revisions_of(actions)
    assert revision.remotes == ("https://git.example.com/team/app.git",)
    assert revision.branch == "origin/main"


def test_causes_ignore_empty_lists_and_name_kinds():
    actions = [
        {"_class": "hudson.model.CauseAction", "causes": []},
        {
            "_class": "hudson.model.CauseAction",
            "causes": [
                {"_class": "hudson.model.Cause$UserIdCause", "userId": "jdoe", "userName": "J"},
                {"_class": "com.example.Custom", "shortDescription": "custom"},
            ],
        },
    ]
    assert [c.kind for c in causes_of(actions)] == ["user", "other"]


def test_a_running_build_with_a_result_so_far_reports_it():
    from customcd_jenkins.api import draft_from_build

    data = {
        "number": 5,
        "building": True,
        "result": "FAILURE",
        "timestamp": 1764400000999,
        "duration": 0,
        "url": "https://ci.example.com/job/app/5/",
        "actions": [],
    }
    draft = draft_from_build(data, job_name="app")
    assert (draft.status, draft.job_duration, draft.job_start_time) == ("FAILURE", None, 1764400000)
    data["result"] = None
    assert draft_from_build(data, job_name="app").status == "BUILDING"
