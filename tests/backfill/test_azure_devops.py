"""``customcd backfill azure-devops`` end to end: 230 builds over three pages, resume, ledger."""

from __future__ import annotations

import json

from backfill_support import no_secret, sent_ids
from make_cassettes import AZURE_COUNT, azure_build

PAT = "azdo-pat-0123456789abcdefFAKE"  # fake; cassettes hold REDACTED
ENV = {"SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/", "AZURE_DEVOPS_PAT": PAT}
ARGS = [
    "azure-devops",
    "--project",
    "Fabrikam Web",
    "--definition",
    "12",
    "--definition",
    "14",
    "--since",
    "2025-11-01",
    "--until",
    "2025-12-01T01:00:00+01:00",
    "--service-id",
    "31",
]
STATUS = {
    "succeeded": "Succeeded",
    "partiallySucceeded": "Succeeded",
    "failed": "Failed",
    "canceled": "Failed",
}


def wanted(indices):
    """job_id -> build of the builds that must be delivered.

    Modelled in tests/backfill/make_cassettes.py: #50 is still in progress and #120 was
    cancelled before it started (neither is read); #77 has no sourceVersion (read, skipped).
    """
    out = {}
    for i in indices:
        build = azure_build(i)
        if build["status"] != "completed" or not build["startTime"] or not build["sourceVersion"]:
            continue
        out[str(build["id"])] = build
    return out


ALL = wanted(range(AZURE_COUNT))


def test_backfill_delivers_every_completed_build_once(backfill, customcd_receiver, ledger):
    run = backfill("azure-devops", "backfill_azure_builds.yaml", ARGS, ENV)
    assert run.exit_code == 0, run.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert set(bodies) == set(ALL) and len(ALL) == 227
    for job_id, build in ALL.items():
        body = bodies[job_id]
        assert body["status"] == STATUS[build["result"]]
        assert body["commit_sha"] == build["sourceVersion"]
        assert body["service_id"] == 31
    first = bodies["30000"]
    assert first["job_start_time"] == 1_762_000_000
    assert first["job_duration"] == 300  # 12:26:40.5 -> 12:31:40.25, whole seconds
    assert first["repo_name"] == "fabrikam-web"
    assert run.count("read") == 228 and run.count("delivered") == 227
    assert run.count("skipped") == 1 and run.count("no commit SHA") == 1
    assert run.cassette.play_count == 3  # three pages through x-ms-continuationtoken
    assert ledger() == 227
    no_secret(PAT, run.stdout, run.stderr)
    for request in customcd_receiver.requests:
        no_secret(PAT, request.body.decode(), json.dumps(request.headers))

    full = backfill("azure-devops", "backfill_azure_builds.yaml", [*ARGS, "--restart"], ENV)
    assert full.exit_code == 0
    assert full.count("read") == 228 and full.count("delivered") == 0
    assert full.count("delivered before (ledger)") == 227
    assert len(customcd_receiver.requests) == 227


def test_interrupted_run_resumes_after_its_checkpoint(backfill, customcd_receiver):
    args = [*ARGS, "--concurrency", "8"]
    cut = backfill("azure-devops", "backfill_azure_builds_cut.yaml", args, ENV)
    assert cut.exit_code == 75  # the third page answers 503: summary, reason, resume later
    assert "HTTP 503" in cut.stderr
    no_secret(PAT, cut.stdout, cut.stderr)
    assert set(sent_ids(customcd_receiver)) == set(wanted(range(200)))

    resumed = backfill("azure-devops", "backfill_azure_builds.yaml", args, ENV)
    assert resumed.exit_code == 0, resumed.stderr
    # build #50 was still in progress: the checkpoint stayed just before it, and minTime moves
    # to its start (#50..#229 listed; #50, still running here, and #120 are not read)
    assert "resuming" in resumed.stderr and "after build:1762180000:0 " in resumed.stderr
    assert resumed.count("read") == 178
    assert resumed.count("delivered") == 30 and resumed.count("delivered before (ledger)") == 147
    ids = sent_ids(customcd_receiver)
    assert len(ids) == len(set(ids)) and set(ids) == set(ALL)
    assert len(customcd_receiver.requests) == len(ALL)


def test_dry_run_output_and_summary_table(backfill, customcd_receiver, tmp_path, ledger):
    out = tmp_path / "azure.jsonl"
    run = backfill(
        "azure-devops",
        "backfill_azure_builds.yaml",
        [*ARGS, "--dry-run", "--output", str(out), "--concurrency", "1"],
        ENV,
    )
    assert run.exit_code == 0, run.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["job_id"] for line in lines] == list(ALL)  # one at a time: in history order
    table = run.stderr[run.stderr.index("  records") :]
    for row in ("read", "written (dry run)", "delivered before (ledger)", "skipped"):
        assert row in table
    assert run.count("written (dry run)") == 227
    assert customcd_receiver.requests == [] and ledger() == 0
    no_secret(PAT, out.read_text(), run.stderr)


def test_throttled_page_is_waited_for_and_the_run_goes_on(
    backfill, customcd_receiver, ledger, monkeypatch
):
    # Azure answers page 2 with 429 + Retry-After: 3 once; the backfill waits (no real sleep
    # here) and carries on: same records, no failure, no duplicate.
    from customcd_azure_devops import ratelimit

    slept: list[float] = []
    monkeypatch.setattr(ratelimit, "sleeper", slept.append)
    run = backfill("azure-devops", "backfill_azure_builds_throttled.yaml", ARGS, ENV)
    assert run.exit_code == 0, run.stderr
    assert slept == [3.0]
    ids = sent_ids(customcd_receiver)
    assert len(ids) == len(set(ids)) and set(ids) == set(ALL)
    assert run.count("delivered") == 227 and ledger() == 227
    assert run.cassette.play_count == 4  # three pages plus the throttled attempt
    no_secret(PAT, run.stdout, run.stderr)


def test_a_build_running_in_one_run_is_sent_by_the_next_once(backfill, customcd_receiver):
    """backfill_azure_running_*: six builds; #2 is in progress in run 1, finished by run 2."""
    first = backfill("azure-devops", "backfill_azure_running_1.yaml", ARGS, ENV)
    assert first.exit_code == 0, first.stderr
    assert set(sent_ids(customcd_receiver)) == {"30000", "30001", "30003", "30004", "30005"}

    second = backfill("azure-devops", "backfill_azure_running_2.yaml", ARGS, ENV)
    assert second.exit_code == 0, second.stderr
    assert "after build:1762007200:0 " in second.stderr  # #2's start; no build has id 0
    assert second.count("read") == 4  # #2..#5
    assert second.count("delivered") == 1 and second.count("delivered before (ledger)") == 3
    ids = sent_ids(customcd_receiver)
    assert ids.count("30002") == 1 and len(ids) == len(set(ids)) == 6


ENVIRONMENT_ARGS = [*ARGS[:3], "--environment", "production", *ARGS[7:]]


def test_environment_deployments_resume_with_new_and_finished_records(backfill, customcd_receiver):
    """backfill_azure_deployments_running_*: records 5003-5005 newest first; 5005 runs in run 1.
    Run 2: 5005 has finished, 5006 is new. Run 3 (same answers): nothing new."""
    first = backfill(
        "azure-devops", "backfill_azure_deployments_running_1.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert first.exit_code == 0, first.stderr
    assert first.count("delivered") == 2  # 5004 and 5003
    assert set(sent_ids(customcd_receiver)) == {"20964", "20963"}

    # the newest record was still running: no checkpoint was saved, run 2 reads it all again
    second = backfill(
        "azure-devops", "backfill_azure_deployments_running_2.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert second.exit_code == 0, second.stderr
    assert "resuming" not in second.stderr
    assert second.count("read") == 4
    assert second.count("delivered") == 2 and second.count("delivered before (ledger)") == 2
    ids = sent_ids(customcd_receiver)
    assert set(ids) == {"20966", "20965", "20964", "20963"} and len(ids) == 4

    # records 5003 to 5006 are done: a later run skips them (the old cursor skipped new ones)
    third = backfill(
        "azure-devops", "backfill_azure_deployments_running_2.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert third.exit_code == 0, third.stderr
    assert "after deployment:3:5006:5003 " in third.stderr
    assert third.count("read") == 0 and len(customcd_receiver.requests) == 4
