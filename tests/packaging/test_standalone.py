"""The real standalone build (PyInstaller onedir), run as on an agent with no Python at all.

Every run uses exactly ``PATH=/nonexistent HOME=<empty folder>`` (plus the variables a test
names) as its environment, like ``env -i PATH=/nonexistent HOME=... customcd/customcd ...``.
The archive comes from ``CUSTOMCD_STANDALONE_ARCHIVE`` (``.ci/run`` builds it first); see
``standalone_support``.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tarfile
import time
from collections.abc import Iterator
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest
import trustme
from customcd import get_plugin_manager
from customcd.receiver import Receiver
from customcd.testing import TEST_TOKEN
from install_support import platform_name
from loopback_files import closed_port
from standalone_support import COMMIT, gitlab_job, run_bare


def receiver_env(receiver: Receiver, home: Path) -> dict[str, str]:
    return {
        "CUSTOMCD_URL": receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(home / "outbox.sqlite3"),
    }


def test_the_archive_is_one_customcd_folder_with_its_checksum_beside_it(standalone_archive):
    assert standalone_archive.name == f"customcd-{platform_name()}.tar.gz"
    with tarfile.open(standalone_archive) as tar:
        members = tar.getmembers()
    tops = {m.name.split("/", 1)[0] for m in members}
    assert tops == {"customcd"}
    program = next(m for m in members if m.name == "customcd/customcd")
    assert program.isfile() and program.mode & 0o111
    assert not any(".." in Path(m.name).parts for m in members)
    checksum = standalone_archive.with_name(standalone_archive.name + ".sha256")
    digest = hashlib.sha256(standalone_archive.read_bytes()).hexdigest()
    assert checksum.read_text() == f"{digest}  {standalone_archive.name}\n"


def test_nothing_for_tests_or_guis_is_bundled(standalone):
    internal = standalone.parent / "_internal"
    names = {p.name for p in internal.iterdir()}
    assert not names & {"tkinter", "_tkinter", "pytest", "_pytest", "setuptools", "pip"}
    assert not (internal / "pytz" / "zoneinfo").exists()
    # the CA bundle that TLS verification uses by default is there
    assert (internal / "certifi" / "cacert.pem").stat().st_size > 100_000


def test_version_is_the_workspace_version(standalone, bare_home):
    ran = run_bare(standalone, ["--version"], bare_home)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"customcd, version {version('customcd')}"
    assert f"  plugin gitlab: customcd-gitlab {version('customcd-gitlab')}" in lines
    assert len(lines) == 6  # the core and its five bundled plugins


def test_plugins_lists_every_adapter_and_plugin_of_the_workspace(standalone, bare_home):
    ran = run_bare(standalone, ["plugins"], bare_home)
    assert ran.returncode == 0, ran.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in ran.stdout.splitlines()[2:]}
    expected = {
        point.name: [point.dist.name, version(point.dist.name)]
        for point in entry_points(group="customcd")
    }
    assert set(expected) == {"jenkins", "gitlab", "azure-devops", "github-actions", "git"}
    assert rows == expected


def test_demo_delivers_every_sample_to_its_local_receiver(standalone, bare_home):
    keep = bare_home / "demo"
    ran = run_bare(standalone, ["demo", "--keep", str(keep)], bare_home)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    adapters = get_plugin_manager({}).adapters()
    cases = 1 + sum(len(adapter.demo_cases()) for adapter in adapters.values())
    accepted = [json.loads(line) for line in (keep / "accepted.jsonl").read_text().splitlines()]
    assert len(accepted) == cases
    assert f"The receiver accepted {cases} record(s)" in ran.stdout
    for adapter in adapters.values():
        assert f"{adapter.title}: " in ran.stdout


def test_a_real_send_delivers_the_gitlab_jobs_record(
    standalone, bare_home, customcd_receiver, customcd_dry_run
):
    job = gitlab_job(7001)
    env = {**job, **receiver_env(customcd_receiver, bare_home)}
    before = int(time.time())
    ran = run_bare(standalone, ["send", "--job-type", "Déploiement « prod »"], bare_home, env)
    assert ran.returncode == 0, ran.stderr
    assert "delivered job '7001'" in ran.stderr
    assert ran.stdout == ""
    [record] = customcd_receiver.accepted
    assert record["job_id"] == job["CI_JOB_ID"]
    assert record["commit_sha"] == COMMIT
    assert record["service_id"] == 2
    assert record["status"] == "Succeeded"
    assert record["repo_id"] == job["CI_PROJECT_ID"]
    assert record["repo_name"] == job["CI_PROJECT_PATH"]
    assert record["triggered_by"] == job["GITLAB_USER_EMAIL"]
    assert record["job_type"] == "Déploiement « prod »"
    started = record["job_start_time"]
    assert 100 <= before - started <= 200  # CI_JOB_STARTED_AT is two minutes ago
    assert before - started - 5 <= record["job_duration"] <= int(time.time()) - started
    optional = {o["key"]: (o["value"], o["type"]) for o in record["optional"]}
    assert optional["environment"] == ("production", "string")
    assert optional["pipeline_id"] == (987654, "integer")
    assert optional["ref"] == ("main", "string")
    assert optional["ci_system"] == ("gitlab", "string")
    # the same record as the pip-installed customcd builds for the same job
    pip_body = customcd_dry_run(job, "--job-type", "Déploiement « prod »")
    assert {**pip_body, "job_duration": 0} == {**record, "job_duration": 0}
    request = customcd_receiver.requests[0]
    assert request.headers["Authorization"] == "ok"
    assert request.headers["Idempotency-Key"]


def test_dry_run_prints_the_body_and_sends_nothing(standalone, bare_home, customcd_receiver):
    env = {**gitlab_job(7002), **receiver_env(customcd_receiver, bare_home)}
    ran = run_bare(standalone, ["send", "--dry-run"], bare_home, env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["job_id"] == "7002"
    assert customcd_receiver.requests == []


def test_validate_reads_a_body_from_stdin(standalone, bare_home):
    body = {"job_id": "1", "commit_sha": "abc", "service_id": 2}
    ran = run_bare(standalone, ["validate", "-"], bare_home, input=json.dumps(body))
    assert ran.returncode == 65
    assert "commit_sha" in ran.stderr and "job_start_time" in ran.stderr


def test_an_unreachable_server_keeps_the_record_and_a_flush_delivers_it(
    standalone, bare_home, customcd_receiver
):
    env = {
        **gitlab_job(7003),
        "CUSTOMCD_URL": f"http://127.0.0.1:{closed_port()}",
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_DEADLINE": "2",
    }  # no CUSTOMCD_OUTBOX: the default one under HOME
    kept = run_bare(standalone, ["send"], bare_home, env)
    assert kept.returncode == 0, kept.stderr
    assert "kept" in kept.stderr.lower()
    assert (bare_home / ".local" / "state" / "customcd" / "outbox.sqlite3").is_file()
    listed = run_bare(standalone, ["outbox", "list", "--json"], bare_home)
    assert [entry["job_id"] for entry in json.loads(listed.stdout)] == ["7003"]
    env["CUSTOMCD_URL"] = customcd_receiver.url
    flushed = run_bare(standalone, ["outbox", "flush"], bare_home, env)
    assert flushed.returncode == 0, flushed.stderr
    assert [record["job_id"] for record in customcd_receiver.accepted] == ["7003"]


@pytest.fixture(scope="module")
def https_receiver() -> Iterator[tuple[Receiver, trustme.CA]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with Receiver(company_id="1", token=TEST_TOKEN, tls=context) as receiver:
        yield receiver, ca


def test_tls_is_verified_with_the_bundled_trust_store_and_a_given_ca(
    standalone, bare_home, https_receiver
):
    receiver, ca = https_receiver
    env = {**gitlab_job(7004), **receiver_env(receiver, bare_home), "CUSTOMCD_DEADLINE": "3"}
    # certifi's bundle (the default trust) does not know the test CA: refused, record kept
    untrusted = run_bare(standalone, ["send"], bare_home, env)
    assert untrusted.returncode == 0
    assert "TLS certificate verification failed" in untrusted.stderr
    assert receiver.accepted == []
    ca_file = bare_home / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    trusted = run_bare(standalone, ["send"], bare_home, {**env, "SSL_CERT_FILE": str(ca_file)})
    assert trusted.returncode == 0, trusted.stderr
    assert [record["job_id"] for record in receiver.accepted] == ["7004"]


def test_an_http_proxy_from_the_environment_is_used(standalone, bare_home, customcd_receiver):
    remote = "http://allstacks.example:8080"
    with Receiver(company_id="1", token=TEST_TOKEN) as proxy:
        env = {
            **gitlab_job(7005),
            **receiver_env(customcd_receiver, bare_home),
            "CUSTOMCD_URL": remote,
            "CUSTOMCD_ALLOW_HTTP": "1",
            "HTTP_PROXY": proxy.url,
            "CUSTOMCD_DEADLINE": "3",
        }
        ran = run_bare(standalone, ["send"], bare_home, env)
        assert ran.returncode == 0
        # the proxy (a receiver, not a real proxy: it answers 404) got the absolute-form request
        assert [r.path for r in proxy.requests] == [remote + "/webhook/company/1/cicd_job"]
        # a loopback URL never goes through the proxy (its token would cross it in clear)
        direct = run_bare(
            standalone, ["send"], bare_home, {**env, **receiver_env(customcd_receiver, bare_home)}
        )
        assert direct.returncode == 0, direct.stderr
        assert len(proxy.requests) == 1
    assert [record["job_id"] for record in customcd_receiver.accepted] == ["7005"]
