"""``customcd backfill jenkins`` end to end: paged allBuilds, folders, resume, ledger, exit codes."""

from __future__ import annotations

import json
import subprocess

from backfill_support import no_secret, sent_ids
from customcd.receiver import Fault

SERVER = "https://jenkins.example.com/"
TOKEN = "11f0c0ffee0123456789abcdef012345ab"  # fake; cassettes hold REDACTED
ENV = {"JENKINS_URL": SERVER, "JENKINS_USER": "jdoe", "JENKINS_API_TOKEN": TOKEN}
JOBS = {"deploy-eu": (0, 130), "deploy-us": (1, 45), "deploy-ap": (2, 20)}


def expected(job: str) -> dict[str, str]:
    """job_id -> Custom CD status of the builds of ``ops/<job>`` that must be delivered.

    Modelled in tests/backfill/make_cassettes.py: the newest build is running (not read), #5 was
    NOT_BUILT (not read), #7 has no revision (read, skipped: no commit SHA).
    """
    _, count = JOBS[job]
    out = {}
    for n in range(1, count):
        if n in (5, 7):
            continue
        status = "Succeeded"
        if n % 6 == 0 or (n % 17 == 0):
            status = "Failed"
        out[f"ops/{job}#{n}"] = status
    return out


ALL = {**expected("deploy-eu"), **expected("deploy-us"), **expected("deploy-ap")}
ARGS = ["jenkins", "--job", "ops", "--since", "2025-11-01", "--service-id", "4"]


def test_backfill_delivers_every_finished_build_once(backfill, customcd_receiver, ledger):
    run = backfill("jenkins", "backfill_jenkins_ops.yaml", ARGS, ENV)
    assert run.exit_code == 0, run.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert {k: b["status"] for k, b in bodies.items()} == ALL
    assert len(sent_ids(customcd_receiver)) == len(ALL) == 186
    first = bodies["ops/deploy-eu#1"]
    assert first["commit_sha"] == "000001c0ffeec0ffeec0ffeec0ffeec0ffeec0ff"
    assert first["job_start_time"] == 1_762_000_000  # build timestamp (ms) -> epoch s
    assert first["job_duration"] == 241  # 241000 ms
    assert first["service_id"] == 4
    assert first["repo_name"] == "acme/ops-deploy"
    assert bodies["ops/deploy-us#13"]["status"] == "Succeeded"  # UNSTABLE
    assert bodies["ops/deploy-eu#17"]["status"] == "Failed"  # ABORTED
    # the summary table: read = every finished build, #7 of each job skipped for lack of a SHA
    assert run.count("read") == 189 and run.count("delivered") == 186
    assert run.count("skipped") == 3 and run.count("no commit SHA") == 3
    assert run.count("kept for retry") == 0 and run.count("rejected") == 0
    assert ledger() == 186
    assert run.cassette.play_count == 8  # folder, 3 job trees, 2 + 1 + 1 allBuilds pages
    no_secret(TOKEN, run.stdout, run.stderr)
    for request in customcd_receiver.requests:
        no_secret(TOKEN, request.body.decode(), json.dumps(request.headers))

    # the same window again: the checkpoint stayed just before ops/deploy-eu#130, still running
    # in the first run, so that job's newest build and the jobs after it are read again; the
    # ledger sends none of them twice
    again = backfill("jenkins", "backfill_jenkins_ops.yaml", ARGS, ENV)
    assert again.exit_code == 0, again.stderr
    assert "resuming" in again.stderr and "after ops/deploy-eu#129 " in again.stderr
    assert again.count("read") == 61  # deploy-us 43 + deploy-ap 18 (#130 still runs)
    assert again.count("delivered") == 0 and again.count("delivered before (ledger)") == 59
    # a full re-run: every record read again, the ledger sends none of them
    full = backfill("jenkins", "backfill_jenkins_ops.yaml", [*ARGS, "--restart"], ENV)
    assert full.exit_code == 0
    assert full.count("read") == 189 and full.count("delivered") == 0
    assert full.count("delivered before (ledger)") == 186
    assert len(customcd_receiver.requests) == 186  # not one more request


def test_interrupted_run_resumes_where_it_stopped(backfill, customcd_receiver):
    cut = backfill("jenkins", "backfill_jenkins_ops_cut.yaml", [*ARGS, "--concurrency", "8"], ENV)
    # Jenkins fails (503) on the third job: exit 75 (resume later), after the first two jobs
    assert cut.exit_code == 75
    assert "delivered" in cut.stderr and "run the same command again to resume" in cut.stderr
    assert "HTTP 503" in cut.stderr
    no_secret(TOKEN, cut.stdout, cut.stderr)
    done = set(sent_ids(customcd_receiver))
    assert done == set(expected("deploy-eu")) | set(expected("deploy-us"))

    resumed = backfill("jenkins", "backfill_jenkins_ops.yaml", [*ARGS, "--concurrency", "8"], ENV)
    assert resumed.exit_code == 0, resumed.stderr
    # not a start-over: the checkpoint stayed just before deploy-eu#130, still running in the
    # cut run; deploy-eu's older builds are not read again
    assert "resuming" in resumed.stderr and "after ops/deploy-eu#129 " in resumed.stderr
    assert resumed.count("read") == 61  # deploy-us 43 (ledger) + deploy-ap 18
    assert resumed.count("delivered") == 17 and resumed.count("delivered before (ledger)") == 42
    ids = sent_ids(customcd_receiver)
    assert len(ids) == len(set(ids)) == len(ALL)
    assert set(ids) == set(ALL)
    assert len(customcd_receiver.requests) == len(ALL)


RELEASE_ARGS = ["jenkins", "--job", "rel", "--since", "2025-11-01", "--service-id", "4"]


def test_a_build_running_in_one_run_is_sent_by_the_next_once(backfill, customcd_receiver):
    """backfill_jenkins_running_*: folder rel, jobs api (6 builds) and web (4); api#3 runs during
    run 1 and has finished by run 2."""
    first = backfill("jenkins", "backfill_jenkins_running_1.yaml", RELEASE_ARGS, ENV)
    assert first.exit_code == 0, first.stderr
    done = {f"rel/api#{n}" for n in (1, 2, 4, 5, 6)} | {f"rel/web#{n}" for n in (1, 2, 3, 4)}
    assert set(sent_ids(customcd_receiver)) == done
    assert first.count("read") == 9  # the running build is not read (nor counted)

    second = backfill("jenkins", "backfill_jenkins_running_2.yaml", RELEASE_ARGS, ENV)
    assert second.exit_code == 0, second.stderr
    # the checkpoint stayed just before api#3, though api#4..#6 and all of web were done
    assert "after rel/api#2 " in second.stderr
    assert second.count("read") == 8  # api#3..#6, web#1..#4
    assert second.count("delivered") == 1 and second.count("delivered before (ledger)") == 7
    ids = sent_ids(customcd_receiver)
    assert ids.count("rel/api#3") == 1 and len(ids) == len(set(ids)) == 10
    assert len(customcd_receiver.requests) == 10  # nothing sent twice

    # everything is final now: the checkpoint moved to the end
    third = backfill("jenkins", "backfill_jenkins_running_2.yaml", RELEASE_ARGS, ENV)
    assert third.exit_code == 0 and "after rel/web#4 " in third.stderr
    assert third.count("read") == 0 and len(customcd_receiver.requests) == 10


def test_routing_rules_and_on_hold_builds(backfill, customcd_receiver, tmp_path):
    """history_over_100_builds: 130 builds over two pages; #130 paused at an input step."""
    (tmp_path / "customcd.toml").write_text(
        '[[route]]\nmatch = { job_name = "payments/*" }\nservice_id = 9\njob_type = "Deploy"\n'
    )
    args = ["jenkins", "--job", "payments/api", "--since", "1763000000", "--include-on-hold"]
    run = backfill("jenkins", "history_over_100_builds.yaml", args, ENV)
    assert run.exit_code == 0, run.stderr
    bodies = {b["job_id"]: b for b in customcd_receiver.accepted}
    assert len(bodies) == 129  # #1..#130 but #77 (NOT_BUILT)
    assert {b["service_id"] for b in bodies.values()} == {9}
    assert {b["job_type"] for b in bodies.values()} == {"Deploy"}
    assert bodies["payments/api#130"]["status"] == "On Hold"
    assert bodies["payments/api#23"]["status"] == "Failed"
    assert bodies["payments/api#88"]["status"] == "Succeeded"  # UNSTABLE
    assert bodies["payments/api#21"]["triggered_by"] == "jane.doe@example.com"
    assert bodies["payments/api#110"]["commit_sha"].startswith("0110a1b2")  # not the library's


def test_dry_run_writes_json_lines_and_sends_nothing(backfill, customcd_receiver, tmp_path, ledger):
    out = tmp_path / "history.jsonl"
    args = ["jenkins", "--job", "web", "--since", "1764000000", "--service-id", "2"]
    run = backfill(
        "jenkins",
        "history_folder_multibranch.yaml",
        [*args, "--dry-run", "--output", str(out)],
        ENV,
    )
    assert run.exit_code == 0, run.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["job_id"] for line in sorted(lines, key=lambda b: b["job_id"])] == [
        "web/docs-site#1",
        "web/docs-site#2",
        "web/storefront/feature%2Flogin#1",
        "web/storefront/feature%2Flogin#2",
        "web/storefront/feature%2Flogin#3",
        "web/storefront/main#1",
        "web/storefront/main#2",
    ]
    assert all(line["service_id"] == 2 for line in lines)
    assert run.count("written (dry run)") == 7
    assert customcd_receiver.requests == [] and ledger() == 0
    no_secret(TOKEN, out.read_text(), run.stderr)


SMALL = ["jenkins", "--job", "web", "--since", "1764000000", "--service-id", "2"]


def test_exit_code_77_when_the_receiver_refuses_the_token(backfill, customcd_receiver):
    run = backfill(
        "jenkins", "history_folder_multibranch.yaml", SMALL, {**ENV, "CUSTOMCD_TOKEN": "wrong-one"}
    )
    assert run.exit_code == 77
    assert run.count("rejected") == 7
    no_secret("wrong-one", run.stdout, run.stderr)


def test_exit_code_65_when_records_are_rejected(backfill, customcd_receiver):
    customcd_receiver.inject(*[Fault(status=422) for _ in range(7)])
    run = backfill("jenkins", "history_folder_multibranch.yaml", SMALL, ENV)
    assert run.exit_code == 65 and run.count("rejected") == 7


def test_exit_code_75_when_records_are_kept_for_retry(backfill, customcd_receiver, ledger):
    customcd_receiver.inject(*[Fault(status=503) for _ in range(200)])
    env = {**ENV, "CUSTOMCD_DEADLINE": "0.6", "CUSTOMCD_TIMEOUT": "0.3"}
    run = backfill(
        "jenkins", "history_folder_multibranch.yaml", [*SMALL, "--concurrency", "8"], env
    )
    assert run.exit_code == 75
    assert run.count("kept for retry") == 7 and ledger() == 0


def test_exit_code_78_without_a_server_or_a_token(backfill, customcd_env):
    no_server = backfill("jenkins", None, SMALL, {"JENKINS_USER": "jdoe"})
    assert no_server.exit_code == 78 and "JENKINS_URL" in no_server.stderr
    no_token = backfill(
        "jenkins", "history_folder_multibranch.yaml", SMALL, {**ENV, "CUSTOMCD_TOKEN": ""}
    )
    assert no_token.exit_code == 78 and "CUSTOMCD_TOKEN" in no_token.stderr


def test_a_local_checkout_does_not_fill_past_builds(backfill, customcd_receiver, tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(clone)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/acme/ops-deploy.git"])
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "now"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    run = backfill("jenkins", "backfill_jenkins_ops.yaml", ARGS, ENV, cwd=clone)
    assert run.exit_code == 0, run.stderr
    assert head not in {b["commit_sha"] for b in customcd_receiver.accepted}
    assert run.count("no commit SHA") == 3
