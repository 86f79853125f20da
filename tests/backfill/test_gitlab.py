"""``customcd backfill gitlab`` end to end: paged deployments, routing, resume, ledger, dry run."""

from __future__ import annotations

import json

from backfill_support import no_secret, sent_ids
from make_cassettes import GITLAB_COUNT, gitlab_deployment

TOKEN = "glpat-BACKFILLxFAKExTOKEN01"  # fake; cassettes hold REDACTED
ENV = {
    "CI_SERVER_URL": "https://gitlab.example.com",
    "GITLAB_TOKEN": TOKEN,
    "CUSTOMCD_GITLAB_PER_PAGE": "10",
}
ARGS = ["gitlab", "--project", "acme/shop/web", "--since", "2025-11-01T00:00:00Z"]
ROUTES = (
    '[[route]]\nmatch = { environment = "production" }\nservice_id = 21\n'
    'job_type = "Production Deploy"\n\n'
    '[[route]]\nmatch = { environment = "staging" }\nservice_id = 22\n'
)
STATUS = {"success": "Succeeded", "failed": "Failed", "canceled": "Failed", "blocked": "On Hold"}


def wanted(indices, on_hold=False):
    """job_id -> deployment of the deployments that must be delivered (no SHA: skipped)."""
    out = {}
    for i in indices:
        deployment = gitlab_deployment(i)
        if deployment["status"] == "running" or deployment["sha"] is None:
            continue
        if deployment["status"] == "blocked" and not on_hold:
            continue
        out[str(deployment["deployable"]["id"])] = deployment
    return out


ALL = wanted(range(GITLAB_COUNT))


def test_backfill_routes_and_delivers_every_deployment_once(
    backfill, customcd_receiver, tmp_path, ledger
):
    (tmp_path / "customcd.toml").write_text(ROUTES)
    run = backfill("gitlab", "backfill_gitlab_deployments.yaml", ARGS, ENV)
    assert run.exit_code == 0, run.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert set(bodies) == set(ALL) and len(ALL) == 39
    for job_id, deployment in ALL.items():
        body = bodies[job_id]
        assert body["status"] == STATUS[deployment["status"]]
        assert body["commit_sha"] == deployment["sha"]
        assert body["job_duration"] == deployment["deployable"]["duration"]
        production = deployment["environment"]["name"] == "production"
        assert body["service_id"] == (21 if production else 22)
        assert body.get("job_type") == ("Production Deploy" if production else None)
    first = bodies["20000"]
    assert first["job_start_time"] == 1_762_070_400  # started_at 2025-11-02T08:00:00Z
    assert first["repo_name"] == "acme/shop/web"
    assert run.count("read") == 40 and run.count("delivered") == 39
    assert run.count("skipped") == 1 and run.count("no commit SHA") == 1
    assert run.cassette.play_count == 8  # the project, five pages of 10, two environments (tier)
    assert ledger() == 39
    no_secret(TOKEN, run.stdout, run.stderr)
    for request in customcd_receiver.requests:
        no_secret(TOKEN, request.body.decode(), json.dumps(request.headers))

    # --restart reads it all again; the ledger (keyed by service, job, commit, start, status)
    # knows every record
    again = backfill("gitlab", "backfill_gitlab_deployments.yaml", [*ARGS, "--restart"], ENV)
    assert again.exit_code == 0
    assert again.count("read") == 40 and again.count("delivered") == 0
    assert again.count("delivered before (ledger)") == 39
    assert len(customcd_receiver.requests) == 39


def test_interrupted_run_resumes_after_its_checkpoint(backfill, customcd_receiver):
    args = [*ARGS, "--service-id", "5", "--concurrency", "6"]
    cut = backfill("gitlab", "backfill_gitlab_deployments_cut.yaml", args, ENV)
    assert cut.exit_code == 75  # GitLab's 502 on page 4: summary, reason, resume later
    assert "502" in cut.stderr
    no_secret(TOKEN, cut.stdout, cut.stderr)
    assert set(sent_ids(customcd_receiver)) == set(wanted(range(30)))

    resumed = backfill("gitlab", "backfill_gitlab_deployments.yaml", args, ENV)
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    # the checkpoint stayed just before deployment #20, still running in the cut run: the
    # resumed listing starts one second before it (updated_after); #21..#41 are read but #33
    # (waiting for approval) and #20 (still running in this cassette)
    assert "after deployments|7|1762214401.500|1019 " in resumed.stderr
    assert resumed.count("read") == 20
    assert resumed.count("delivered") == 11 and resumed.count("delivered before (ledger)") == 9
    assert resumed.cassette.play_count == 6  # the project, three pages, two environments
    ids = sent_ids(customcd_receiver)
    assert len(ids) == len(set(ids)) and set(ids) == set(ALL)
    assert len(customcd_receiver.requests) == len(ALL)


def test_a_deployment_running_in_one_run_is_sent_by_the_next_once(backfill, customcd_receiver):
    """backfill_gitlab_running_*: six deployments; #2 runs in run 1, has finished by run 2 (its
    updated_at moved past the others')."""
    args = [*ARGS, "--service-id", "5"]
    first = backfill("gitlab", "backfill_gitlab_running_1.yaml", args, ENV)
    assert first.exit_code == 0, first.stderr
    assert set(sent_ids(customcd_receiver)) == {"20000", "20001", "20003", "20004", "20005"}

    second = backfill("gitlab", "backfill_gitlab_running_2.yaml", args, ENV)
    assert second.exit_code == 0, second.stderr
    # the checkpoint stayed just before #2's place in run 1 (same millisecond, id - 1)
    assert "after deployments|7|1762084801.500|1001 " in second.stderr
    assert second.count("read") == 4  # #3, #4, #5 and #2 at its new place
    assert second.count("delivered") == 1 and second.count("delivered before (ledger)") == 3
    ids = sent_ids(customcd_receiver)
    assert ids.count("20002") == 1 and len(ids) == len(set(ids)) == 6
    assert (
        customcd_receiver.accepted[-1]["job_duration"]
        == gitlab_deployment(2)["deployable"]["duration"]
    )


def test_dry_run_with_on_hold_deployments(backfill, customcd_receiver, tmp_path, ledger):
    out = tmp_path / "h.jsonl"
    args = [*ARGS, "--service-id", "5", "--include-on-hold", "--dry-run", "--output", str(out)]
    run = backfill("gitlab", "backfill_gitlab_deployments.yaml", args, ENV)
    assert run.exit_code == 0, run.stderr
    lines = {b["job_id"]: b for b in map(json.loads, out.read_text().splitlines())}
    assert set(lines) == set(wanted(range(GITLAB_COUNT), on_hold=True))
    assert lines["20033"]["status"] == "On Hold"  # blocked: waiting for an approval
    assert run.count("written (dry run)") == 40
    assert customcd_receiver.requests == [] and ledger() == 0
    no_secret(TOKEN, out.read_text(), run.stderr)


def test_adapter_options_from_customcd_toml_reach_the_history(
    backfill, customcd_receiver, tmp_path
):
    (tmp_path / "customcd.toml").write_text("[adapters.gitlab]\nper_page = 10\n")
    env = {k: v for k, v in ENV.items() if k != "CUSTOMCD_GITLAB_PER_PAGE"}
    run = backfill("gitlab", "backfill_gitlab_deployments.yaml", [*ARGS, "--service-id", "5"], env)
    assert run.exit_code == 0
    assert len(customcd_receiver.accepted) == 39


def test_gitlab_rate_limit_pauses_and_goes_on(backfill, customcd_receiver):
    run = backfill("gitlab", "backfill_gitlab_rate_limited.yaml", [*ARGS, "--service-id", "5"], ENV)
    assert run.exit_code == 0, run.stderr
    assert len(customcd_receiver.accepted) == 39


GROUP_ENV = {**ENV, "CUSTOMCD_GITLAB_PER_PAGE": "2"}
GROUP_ARGS = ["gitlab", "--group", "acme/shop", "--since", "2025-11-01T00:00:00Z"]


def test_group_expands_into_its_projects_and_subgroups(backfill, customcd_receiver, ledger):
    """``--group acme/shop``: two pages of projects (shared ones left out), each one's history."""
    run = backfill(
        "gitlab", "backfill_gitlab_group.yaml", [*GROUP_ARGS, "--service-id", "5"], GROUP_ENV
    )
    assert run.exit_code == 0, run.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    # web: 31001, 31002; backend/api: 32005, 32004 (same second, GitLab's order), 32006 running
    assert set(bodies) == {"31001", "31002", "32005", "32004"}
    assert bodies["31002"]["repo_name"] == "acme/shop/web" and bodies["31002"]["repo_id"] == "7"
    assert bodies["31002"]["status"] == "Failed"
    assert bodies["32004"]["repo_name"] == "acme/shop/backend/api"
    assert bodies["32004"]["repo_id"] == "9"
    assert bodies["32004"]["commit_sha"] == "89e6c98d92887913cadf06b2adb97f26cde4849b"
    assert bodies["32004"]["job_start_time"] == 1_762_956_070  # 2025-11-12T14:01:10Z
    assert run.count("read") == 4 and run.count("delivered") == 4
    # group page 1, web's page, api's two pages, group page 2, worker's empty page
    assert run.cassette.play_count == 8  # group (keyset, 2 pages), 4 deployment pages, 2 tiers
    assert ledger() == 4
    no_secret(TOKEN, run.stdout, run.stderr)

    again = backfill(
        "gitlab",
        "backfill_gitlab_group.yaml",
        [*GROUP_ARGS, "--service-id", "5", "--restart"],
        GROUP_ENV,
    )
    assert again.exit_code == 0, again.stderr
    assert again.count("delivered") == 0 and len(customcd_receiver.requests) == 4


INTERNAL = "https://gitlab-internal.example.net:8443"


def test_a_gitlab_whose_external_url_differs_is_imported_once_and_only_from_the_server_given(
    backfill, customcd_receiver
):
    """history_external_url: the runner reaches GitLab as gitlab-internal.example.net:8443, GitLab
    links its pages on gitlab.example.com (external_url) and, past 10,000 deployments, gives no
    totals. Every page is read from the server given (the token goes nowhere else), the
    API-created deployments are kept with their own times, nothing is printed raw by
    python-gitlab, and a second run from scratch sends nothing twice."""
    env = {"GITLAB_TOKEN": TOKEN, "CUSTOMCD_GITLAB_PER_PAGE": "2"}
    args = [
        "gitlab",
        "--server",
        INTERNAL,
        "--project",
        "acme/shop/web",
        "--since",
        "2025-11-24T16:00:00Z",
        "--until",
        "2025-11-29T00:00:00Z",
        "--service-id",
        "21",
    ]
    first = backfill("gitlab", "history_external_url.yaml", args, env)
    assert first.exit_code == 0, first.stderr
    assert first.count("read") == 4 and first.count("delivered") == 4
    assert {r.host for r in first.cassette.requests} == {"gitlab-internal.example.net"}
    assert first.cassette.all_played
    assert "gitlab.example.com" not in first.stderr and ".py:" not in first.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    api_made = bodies["deployment-10902"]
    assert api_made["job_duration"] == 450  # updated_at - created_at, not now - created_at
    assert api_made["triggered_by"] == "project_7_bot_3f2a"

    again = backfill("gitlab", "history_external_url.yaml", [*args, "--restart"], env)
    assert again.exit_code == 0, again.stderr
    assert again.count("delivered") == 0 and again.count("delivered before (ledger)") == 4
    assert len(customcd_receiver.requests) == 4
    for text in (first.stderr, again.stderr):
        no_secret(TOKEN, text)
