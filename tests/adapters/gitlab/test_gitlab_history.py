"""History for backfill: paginated deployments, resuming, windows, and pipelines."""

from __future__ import annotations

import pytest
from customcd.contract.times import to_epoch
from customcd.plugins.adapter import HistoryQuery
from gitlab_support import SHA, body_from, optionals

SINCE = to_epoch("2025-11-24T16:00:00Z")
SERVER = "https://gitlab.example.com"
ENV = {"GITLAB_TOKEN": "glpat-HISTORYxTOKEN"}


def query(**kwargs):
    base = {
        "since": SINCE,
        "selection": {"project": ("acme/shop/web",), "source": "deployments"},
        "server": SERVER,
        "env": ENV,
        "options": {"per_page": 2},
    }
    base.update(kwargs)
    return HistoryQuery(**base)


@pytest.mark.vcr("history_deployments_paged.yaml")
def test_deployments_over_several_pages(adapter, vcr):
    drafts = list(adapter.history(query()))
    # running (884) is in progress and blocked (885) waits for approval: neither is yielded
    assert [d.job_id for d in drafts] == ["11501", "11502", "11720"]
    assert [adapter.status_map[d.status] for d in drafts] == ["Succeeded", "Failed", "Failed"]
    # the project, three pages followed through Link rel="next", and the two environments once
    # each for their tier (a deployment names its environment without it)
    assert vcr.play_count == 6
    first = drafts[0]
    assert first.commit_sha == SHA
    assert first.repo_id == "7" and first.repo_name == "acme/shop/web"
    assert to_epoch(first.job_start_time) == to_epoch("2025-11-25T09:04:10Z")
    assert first.job_duration == pytest.approx(150.5)
    assert optionals(first)["environment"] == "staging"
    assert optionals(first)["environment_tier"] == "staging"
    assert drafts[2].triggered_by == "rsmith"
    for draft in drafts:
        body_from(adapter, draft)
        assert draft.cursor and draft.cursor.startswith("deployments|7|")


@pytest.mark.vcr("history_deployments_paged.yaml")
def test_deployments_are_read_lazily(adapter, vcr):
    items = adapter.history(query())
    first = next(items)
    assert first.job_id == "11501"
    assert vcr.play_count == 3  # the project, the first page and its environment's tier


@pytest.mark.vcr("history_deployments_paged.yaml")
def test_blocked_deployment_is_on_hold_when_asked(adapter):
    drafts = list(adapter.history(query(include_on_hold=True)))
    assert [d.job_id for d in drafts] == ["11501", "11502", "11611", "11720"]
    blocked = drafts[2]
    assert blocked.status == "blocked"
    # its job never started (started_at null): the job's creation time stands in
    assert to_epoch(blocked.job_start_time) == to_epoch("2025-11-26T14:00:01Z")
    assert any("started_at" in note for note in blocked.notes)
    assert body_from(adapter, blocked)["status"] == "On Hold"
    # not final: it and every later draft carry the cursor just before it (deployment 884), so a
    # later backfill reads it again and sends its final record
    assert drafts[1].cursor == "deployments|7|1764061890.702|881"
    assert blocked.cursor == drafts[3].cursor == "deployments|7|1764165778.100|883"


@pytest.mark.vcr("history_deployments_paged.yaml")
def test_a_deployment_waiting_for_a_person_keeps_the_cursor_before_it(adapter):
    drafts = list(adapter.history(query()))
    assert [d.job_id for d in drafts] == ["11501", "11502", "11720"]  # 11611 is blocked
    assert drafts[-1].cursor == "deployments|7|1764165778.100|883"


@pytest.mark.vcr("history_deployments_paged.yaml")
def test_until_ends_the_window(adapter):
    drafts = list(adapter.history(query(until=to_epoch("2025-11-26T00:00:00Z"))))
    assert [d.job_id for d in drafts] == ["11501", "11502"]


@pytest.mark.vcr("history_deployments_resume.yaml")
def test_resume_from_a_cursor(adapter):
    cursor = f"deployments|7|{to_epoch('2025-11-25T09:11:30Z')}|881"
    drafts = list(adapter.history(query(resume_from=cursor)))
    assert [d.job_id for d in drafts] == ["11720"]


@pytest.mark.vcr("history_pipelines.yaml")
def test_pipelines_filtered_by_ref_and_source(adapter, vcr):
    selection = {"project": ("7",), "source": "pipelines", "ref": "main", "pipeline_source": "push"}
    drafts = list(adapter.history(query(selection=selection, options={"job_type": "pipeline"})))
    assert [d.job_id for d in drafts] == ["1150", "1172"]  # 1161 is still running
    success, failed = drafts
    assert to_epoch(success.job_start_time) == to_epoch("2025-11-25T09:00:03Z")
    assert success.job_duration == pytest.approx(716.512)  # finished_at - started_at
    assert success.job_type == "pipeline"
    assert failed.triggered_by == "rsmith"
    assert body_from(adapter, success)["status"] == "Succeeded"
    assert body_from(adapter, failed)["status"] == "Failed"
    assert optionals(failed)["pipeline_url"].endswith("/-/pipelines/1172")
    assert vcr.play_count == 4  # project, one page, two pipelines read in full


@pytest.mark.vcr("history_pipelines.yaml")
def test_pipelines_filtered_by_status(adapter):
    selection = {
        "project": ("7",),
        "source": "pipelines",
        "ref": "main",
        "pipeline_source": "push",
        "pipeline_status": ("failed", "canceled"),
    }
    drafts = list(adapter.history(query(selection=selection, options={})))
    assert [d.job_id for d in drafts] == ["1172"]


def test_cursor_round_trip():
    from customcd_gitlab.history import Cursor

    cursor = Cursor("pipelines", "7", 1_764_061_890_702, 1150)
    assert str(cursor) == "pipelines|7|1764061890.702|1150"
    assert Cursor.parse(str(cursor)) == cursor
    assert Cursor.parse("something-else") is None
    assert Cursor.parse("pipelines|7|nan|1150") is None
    assert cursor.passed(1_764_061_890_702, 1150)
    assert not cursor.passed(1_764_061_890_702, 1151)


def test_the_cursor_before_an_item_passes_what_came_before_it_only():
    from customcd_gitlab.history import Cursor

    item = Cursor("deployments", "7", 1_764_061_890_702, 1150)
    before = item.before()
    assert str(before) == "deployments|7|1764061890.702|1149"
    assert Cursor.parse(str(before)) == before
    assert not before.passed(1_764_061_890_702, 1150)  # the item itself is read again
    assert before.passed(1_764_061_890_702, 1149)  # same millisecond, lower id: before it
    assert before.passed(1_764_061_890_701, 9999)
    assert not before.passed(1_764_061_890_703, 1)


def test_cursor_keeps_items_updated_later_in_the_same_second():
    """GitLab orders by the full updated_at, then id: a lower id later in that second is new."""
    from customcd_gitlab.history import Cursor

    cursor = Cursor.parse("deployments|7|1764061890.100|900")
    assert cursor is not None
    assert not cursor.passed(1_764_061_890_500, 899)  # same second, later: not done yet
    assert cursor.passed(1_764_061_890_100, 899)  # same instant, lower id: done


def test_whole_second_cursor_of_an_older_checkpoint_still_reads():
    from customcd_gitlab.history import Cursor

    cursor = Cursor.parse("deployments|7|1764061890|881")
    assert cursor is not None and not cursor.precise
    assert str(cursor) == "deployments|7|1764061890|881"
    assert cursor.passed(1_764_061_890_702, 881)
    assert not cursor.passed(1_764_061_890_702, 882)
