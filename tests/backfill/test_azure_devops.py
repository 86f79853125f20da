"""``customcd backfill azure-devops`` end to end: 230 builds over three pages, resume, ledger."""

from __future__ import annotations

import json

from backfill_support import no_secret, replay, sent_ids
from make_cassettes import AZURE_COUNT, AZURE_TWO_JOBS_RUN, azure_build, azure_job_guid, azure_run

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


def deploy(run: int, job: str = "DeployWeb") -> str:
    """The job_id of deployment job ``job`` (stage Deploy_Prod) of ``run``."""
    return f"{run}/Deploy_Prod/{job}"


def test_environment_deployments_resume_with_new_and_finished_records(backfill, customcd_receiver):
    """backfill_azure_deployments_running_*: records 5003-5005 (listed newest first, sent by
    ascending id); 5005 runs in run 1. Run 2: 5005 has finished, 5006 is new. Run 3 (same
    answers): nothing new. Nothing is sent twice."""
    first = backfill(
        "azure-devops", "backfill_azure_deployments_running_1.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert first.exit_code == 0, first.stderr
    assert first.count("delivered") == 2  # 5003 and 5004
    assert sorted(sent_ids(customcd_receiver)) == [deploy(20963), deploy(20964)]

    # 5005 was still running: the checkpoint stayed just before it (every record up to 5004)
    second = backfill(
        "azure-devops", "backfill_azure_deployments_running_2.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert second.exit_code == 0, second.stderr
    assert "after deployment:3:upto:5004 " in second.stderr
    assert second.count("read") == 2
    assert second.count("delivered") == 2 and second.count("delivered before (ledger)") == 0
    ids = sorted(sent_ids(customcd_receiver))
    assert ids == [deploy(run) for run in (20963, 20964, 20965, 20966)]

    # records 5003 to 5006 are done: a later run sends nothing
    third = backfill(
        "azure-devops", "backfill_azure_deployments_running_2.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert third.exit_code == 0, third.stderr
    assert "after deployment:3:upto:5006 " in third.stderr
    assert third.count("read") == 0 and len(customcd_receiver.requests) == 4

    # even from scratch (--restart), the ledger stops every duplicate
    again = backfill(
        "azure-devops",
        "backfill_azure_deployments_running_2.yaml",
        [*ENVIRONMENT_ARGS, "--restart"],
        ENV,
    )
    assert again.exit_code == 0, again.stderr
    assert again.count("read") == 4 and again.count("delivered before (ledger)") == 4
    assert len(customcd_receiver.requests) == 4


def test_deployment_jobs_of_one_run_to_one_environment_stay_apart(backfill, customcd_receiver):
    """backfill_azure_deployments_two_jobs: run 20970's DeployWeb and DeployApi both deploy to
    production, started in the same second, same commit, same result: two records (they used to
    share the run id as job_id, and so one identity)."""
    run = backfill(
        "azure-devops", "backfill_azure_deployments_two_jobs.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert run.exit_code == 0, run.stderr
    assert run.count("delivered") == 2 and run.count("delivered before (ledger)") == 0
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert set(bodies) == {deploy(AZURE_TWO_JOBS_RUN), deploy(AZURE_TWO_JOBS_RUN, "DeployApi")}
    starts = {b["job_start_time"] for b in bodies.values()}
    assert len(starts) == 1  # the same second: only the job ids keep them apart
    assert run.cassette.play_count == 4  # environment, records, the run and its timeline once


JOB_TOKEN = "azdo-job-token-0123456789FAKE"  # fake; cassettes hold REDACTED


def deploy_web_step_env() -> dict[str, str]:
    """The variables of the final step of run 20970's DeployWeb deployment job."""
    build = azure_run(AZURE_TWO_JOBS_RUN, 0)
    return {
        "TF_BUILD": "True",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
        "SYSTEM_TEAMPROJECT": "Fabrikam Web",
        "SYSTEM_ACCESSTOKEN": JOB_TOKEN,
        "BUILD_BUILDID": str(AZURE_TWO_JOBS_RUN),
        "BUILD_SOURCEVERSION": build["sourceVersion"],
        "BUILD_REPOSITORY_ID": build["repository"]["id"],
        "BUILD_REPOSITORY_NAME": build["repository"]["name"],
        "BUILD_REQUESTEDFOREMAIL": "dana@contoso.com",
        "BUILD_DEFINITIONNAME": "fabrikam-web-deploy",
        "SYSTEM_STAGENAME": "Deploy_Prod",
        "SYSTEM_STAGEDISPLAYNAME": "Deploy to production",
        "SYSTEM_JOBNAME": "DeployWeb",
        "SYSTEM_JOBDISPLAYNAME": "Deploy web app",
        "SYSTEM_JOBID": azure_job_guid(AZURE_TWO_JOBS_RUN, "DeployWeb"),
        "SYSTEM_JOBATTEMPT": "1",
        "SYSTEM_PHASENAME": "DeployWeb",
        # the run's timeline id (its orchestration plan): timeline/{timelineId} is read
        "SYSTEM_TIMELINEID": "00020970-7a1b-4c2d-9e3f-000000020970",
        "ENVIRONMENT_NAME": "production",
        "AGENT_JOBSTATUS": "Succeeded",
    }


def test_step_mode_and_backfill_give_a_deployment_job_the_same_identity(
    backfill, customcd_cli, customcd_env, customcd_receiver, tmp_path
):
    """The DeployWeb job reports itself with ``customcd send`` (step mode, the run's timeline
    for its start); a backfill of the environment afterwards builds the same record identity
    for it and sends only DeployApi."""
    with replay("azure_devops", "step_azure_deploy_web.yaml"):
        sent = customcd_cli(
            ["send", "--service-id", "31"], env={**customcd_env, **deploy_web_step_env()}
        )
    assert sent.exit_code == 0, sent.stderr
    (live,) = customcd_receiver.accepted
    assert live["job_id"] == deploy(AZURE_TWO_JOBS_RUN)

    out = tmp_path / "history.jsonl"
    dry = backfill(
        "azure-devops",
        "backfill_azure_deployments_two_jobs.yaml",
        [*ENVIRONMENT_ARGS, "--dry-run", "--output", str(out)],
        ENV,
    )
    assert dry.exit_code == 0, dry.stderr
    history = {b["job_id"]: b for b in map(json.loads, out.read_text().splitlines())}
    same = history[deploy(AZURE_TWO_JOBS_RUN)]
    identity = ("service_id", "job_id", "commit_sha", "job_start_time", "status")
    assert {k: same[k] for k in identity} == {k: live[k] for k in identity}
    assert same["job_start_time"] == live["job_start_time"] == 1_762_934_402  # the job's start

    run = backfill(
        "azure-devops", "backfill_azure_deployments_two_jobs.yaml", ENVIRONMENT_ARGS, ENV
    )
    assert run.exit_code == 0, run.stderr
    assert run.count("delivered") == 1 and run.count("delivered before (ledger)") == 1
    assert sent_ids(customcd_receiver) == [
        deploy(AZURE_TWO_JOBS_RUN),
        deploy(AZURE_TWO_JOBS_RUN, "DeployApi"),
    ]
    for text in (sent.stdout, sent.stderr, dry.stderr, run.stderr, out.read_text()):
        no_secret(JOB_TOKEN, text)
        no_secret(PAT, text)


RELEASE_ARGS = [
    "azure-devops",
    "--project",
    "Fabrikam Web",
    "--releases",
    "--since",
    "2025-11-01",
    "--until",
    "2025-12-01",
    "--service-id",
    "31",
]
#: page size 3, as the release cassettes list them
RELEASE_CONFIG = "[adapters.azure-devops]\npage_size = 3\n"


def test_classic_release_history_is_imported_once_across_runs(
    backfill, customcd_receiver, tmp_path
):
    """release_deployments_*: pipeline 7's deployments in November, listed in no id order over
    two pages. Run 1: 411 waits for an approval (the checkpoint stays before it), 406 was
    rejected (no record). Run 2, days later: 411 has finished, 415 is new. A restart from
    scratch then sends nothing: every record is in the ledger."""
    (tmp_path / "customcd.toml").write_text(RELEASE_CONFIG)
    first = backfill("azure-devops", "release_deployments_1.yaml", RELEASE_ARGS, ENV, cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    assert (
        first.count("read") == 5 and first.count("delivered") == 4 and first.count("skipped") == 1
    )
    assert sorted(sent_ids(customcd_receiver)) == [
        "release-41-deployment-405",
        "release-42-deployment-407",
        "release-42-deployment-410",
        "release-43-deployment-412",
    ]
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert bodies["release-41-deployment-405"]["status"] == "Succeeded"
    assert bodies["release-41-deployment-405"]["job_duration"] == 276
    assert bodies["release-42-deployment-407"]["status"] == "Failed"
    assert bodies["release-43-deployment-412"]["status"] == "Failed"  # phase canceled
    assert bodies["release-41-deployment-405"]["triggered_by"] == "dana.whitfield@contoso.com"

    second = backfill("azure-devops", "release_deployments_2.yaml", RELEASE_ARGS, ENV, cwd=tmp_path)
    assert second.exit_code == 0, second.stderr
    assert "after release:410 " in second.stderr
    assert second.count("read") == 3
    assert second.count("delivered") == 2 and second.count("delivered before (ledger)") == 1
    assert sorted(sent_ids(customcd_receiver)[4:]) == [
        "release-42-deployment-411",
        "release-44-deployment-415",
    ]

    again = backfill(
        "azure-devops",
        "release_deployments_2.yaml",
        [*RELEASE_ARGS, "--restart"],
        ENV,
        cwd=tmp_path,
    )
    assert again.exit_code == 0, again.stderr
    assert again.count("delivered") == 0 and again.count("delivered before (ledger)") == 6
    assert len(customcd_receiver.requests) == 6  # nothing was ever sent twice
    for text in (first.stderr, second.stderr, again.stderr):
        no_secret(PAT, text)


def test_environment_history_in_no_order_is_read_in_full(backfill, customcd_receiver, tmp_path):
    """environment_deployments_unordered: an October record first (outside the window), then
    the rolling and canary deployment jobs of November on the next page."""
    (tmp_path / "customcd.toml").write_text("[adapters.azure-devops]\npage_size = 2\n")
    args = [*ENVIRONMENT_ARGS]
    run = backfill(
        "azure-devops", "environment_deployments_unordered.yaml", args, ENV, cwd=tmp_path
    )
    assert run.exit_code == 0, run.stderr
    assert sorted(sent_ids(customcd_receiver)) == [
        "20980/Deploy_Prod/DeployCanary",
        "20981/Deploy_Prod/DeployVMs",
    ]
    assert run.cassette.all_played
