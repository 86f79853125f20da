"""History for backfill: allBuilds ranges past the 100-build cap, folders, multibranch, resume."""

from __future__ import annotations

import logging

import pytest
from customcd.plugins.adapter import AdapterError, HistoryQuery

from .support import FAKE_TOKEN, ROOT

H0_S = 1763000000  # build #1 of the modelled job; one build every 3 hours
STEP = 3 * 3600
CREDS = {"JENKINS_URL": ROOT, "JENKINS_USER": "jdoe", "JENKINS_API_TOKEN": FAKE_TOKEN}


def query(**kwargs) -> HistoryQuery:
    values = {
        "since": H0_S + 19 * STEP,  # build #20
        "selection": {"job": ("payments/api",)},
        "env": CREDS,
        "log": logging.getLogger("customcd.test.jenkins"),
        "timeout": 5.0,
    }
    values.update(kwargs)
    return HistoryQuery(**values)


@pytest.mark.vcr("history_over_100_builds.yaml")
def test_history_pages_past_100_builds_oldest_first(adapter, vcr):
    drafts = list(adapter.history(query()))
    numbers = [int(d.cursor.rsplit("#", 1)[1]) for d in drafts]
    # builds 20..129: #130 is running, #77 was not built
    assert numbers == [n for n in range(20, 130) if n != 77]
    assert len(drafts) > 100
    assert vcr.play_count == 4  # job, two allBuilds pages, one user lookup (cached)
    first = drafts[0]
    assert first.job_id == "payments/api#20" and first.cursor == "payments/api#20"
    assert first.job_start_time == H0_S + 19 * STEP
    assert first.job_duration == pytest.approx(260.0)
    assert first.status == "SUCCESS" and first.adapter == "jenkins"
    assert first.repo_name == "acme/payments-api"
    by_number = dict(zip(numbers, drafts, strict=True))
    assert by_number[23].status == "FAILURE"
    assert by_number[64].status == "ABORTED"
    assert by_number[21].triggered_by == "jane.doe@example.com"
    assert by_number[99].triggered_by == "jane.doe@example.com"
    assert (
        by_number[110].commit_sha == "0110a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"
    )  # not the library


@pytest.mark.vcr("history_over_100_builds.yaml")
def test_history_stops_paging_once_the_window_start_is_passed(adapter, vcr):
    drafts = list(adapter.history(query(since=H0_S + 60 * STEP, until=H0_S + 69 * STEP)))
    assert [d.job_id for d in drafts] == [f"payments/api#{n}" for n in range(61, 71)]
    assert vcr.play_count == 2  # the job and the first page only: #31..#130 reach the window start


@pytest.mark.vcr("history_over_100_builds.yaml")
def test_history_is_lazy(adapter, vcr):
    iterator = adapter.history(query())
    assert vcr.play_count == 0
    next(iterator)
    assert vcr.play_count >= 2


@pytest.mark.vcr("history_over_100_builds.yaml")
def test_history_resumes_after_the_cursor(adapter, vcr):
    drafts = list(adapter.history(query(resume_from="payments/api#100")))
    assert [d.job_id for d in drafts][:2] == ["payments/api#101", "payments/api#102"]
    assert drafts[-1].job_id == "payments/api#129"


@pytest.mark.vcr("history_over_100_builds.yaml")
def test_history_includes_a_build_paused_for_input_when_asked(adapter, vcr):
    drafts = list(adapter.history(query(include_on_hold=True)))
    assert drafts[-1].job_id == "payments/api#130"
    assert adapter.status_map[drafts[-1].status] == "On Hold"
    # wfapi/describe: 600 s since it started, 120 s of them paused at the input step; the record
    # lasts the 480 s it ran, not the years a forgotten input would add as now - start
    assert drafts[-1].job_duration == 480.0
    # not final: its cursor stays just before it, so a later backfill reads it again
    assert drafts[-1].cursor == "payments/api#129" and drafts[-2].cursor == "payments/api#129"


@pytest.mark.vcr("history_folder_multibranch.yaml")
def test_history_walks_folders_and_multibranch_projects(adapter, vcr):
    drafts = list(adapter.history(query(since=1764000000, selection={"job": ["web"]})))
    assert vcr.all_played
    assert [d.job_id for d in drafts] == [
        "web/docs-site#1",
        "web/docs-site#2",
        "web/storefront/feature%2Flogin#1",
        "web/storefront/feature%2Flogin#2",
        "web/storefront/feature%2Flogin#3",
        "web/storefront/main#1",
        "web/storefront/main#2",
    ]
    feature = drafts[2]
    assert {"key": "branch", "value": "feature/login", "type": "string"} in feature.optional
    assert feature.facts["branch"] == "feature/login"
    assert feature.repo_name == "acme/storefront"


def test_history_needs_a_job(adapter):
    with pytest.raises(AdapterError, match="--job"):
        next(adapter.history(query(selection={})))


def test_history_needs_a_server(adapter):
    with pytest.raises(AdapterError, match="JENKINS_URL"):
        next(adapter.history(query(env={})))


def test_backfill_params(adapter):
    names = {param.name: param for param in adapter.backfill_params()}
    assert set(names) == {"job", "repo_url"}
    assert names["job"].multiple is True


@pytest.mark.vcr("history_other_root_url.yaml")
def test_history_stays_on_the_server_given_when_jenkins_names_another_root(adapter, vcr):
    # Jenkins' configured root URL (in every document's "url") is http://jenkins.internal:8080/;
    # the backfill reaches https://jenkins.example.com/: requests and credentials stay there.
    drafts = list(adapter.history(query(selection={"job": ("web",)}, since=H0_S)))
    assert [d.job_id for d in drafts] == ["web/docs-site#1", "web/docs-site#2"]
    assert vcr.all_played and vcr.play_count == 3
    assert all(r.uri.startswith(ROOT) for r in vcr.requests)
