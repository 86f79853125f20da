"""`customcd doctor`: one command that says what stands between a pipeline and Allstacks."""

from __future__ import annotations

import json
import ssl

import pytest
import trustme
from customcd.delivery.outbox import Outbox
from customcd.receiver import Fault, Receiver
from customcd.testing import TEST_TOKEN

BODY = {
    "job_id": "1",
    "commit_sha": "a2e7da86cc392417b0d9f605b28038aae80b002f",
    "service_id": 2,
    "job_start_time": 1704018030,
    "job_duration": 300,
    "status": "Succeeded",
    "repo_name": "acme/shop",
}
GITLAB = {"GITLAB_CI": "true", "CI_JOB_ID": "1", "CI_SERVER_URL": "https://gitlab.example.com"}


def lines_of(result, mark):
    return [line.strip() for line in result.stdout.splitlines() if line.strip().startswith(mark)]


def test_all_is_well_against_a_reachable_receiver(customcd_cli, customcd_env):
    env = {**customcd_env, **GITLAB, "CUSTOMCD_SERVICE_ID": "2"}
    result = customcd_cli(["doctor"], env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ok    adapter: gitlab (GitLab CI), detected; customcd-gitlab" in result.stdout
    assert "CUSTOMCD_TOKEN: set (hidden) (from CUSTOMCD_TOKEN)" in result.stdout
    assert f"CUSTOMCD_URL: '{customcd_env['CUSTOMCD_URL']}' (from CUSTOMCD_URL)" in result.stdout
    assert "plain http (loopback), the server answered a GET with 405" in result.stdout
    assert result.stdout.rstrip().endswith("All is well (0 warning(s)).")
    assert TEST_TOKEN not in result.stdout + result.stderr


def test_missing_settings_fail_and_name_what_to_set(customcd_cli, tmp_path):
    result = customcd_cli(["doctor"], env={"CUSTOMCD_OUTBOX": str(tmp_path / "o.sqlite3")})
    assert result.exit_code == 1
    failed = lines_of(result, "FAIL")
    assert any(line.startswith("FAIL  CUSTOMCD_URL: not set: set it") for line in failed)
    assert any(
        line.startswith("FAIL  CUSTOMCD_TOKEN: not set: records are kept") for line in failed
    )
    assert "WARN  adapter: no CI detected" in result.stdout
    assert "check(s) failed" in result.stdout


def test_kept_and_rejected_records_are_counted_with_their_reasons(customcd_cli, customcd_env):
    box = Outbox(customcd_env["CUSTOMCD_OUTBOX"])
    for key in ("a", "b"):
        box.add(key, json.dumps({**BODY, "job_id": key}))
    box.add("c", json.dumps({**BODY, "job_id": "c"}), claim_for=60)
    box.reject("c", 1, 422, "422 Unprocessable Entity: status is not valid")
    box.add("d", "not json at all")
    box.close()
    result = customcd_cli(["doctor"], env={**customcd_env, "CUSTOMCD_SERVICE_ID": "2"})
    assert result.exit_code == 0, result.stdout
    warned = lines_of(result, "WARN")
    assert "WARN  pending: 2 record(s) pending: 2x no reason recorded" in warned[1]
    assert "1x 422 Unprocessable Entity: status is not valid" in warned[2]
    assert "customcd outbox flush" in warned[2]
    assert warned[3].startswith("WARN  unreadable: 1 record(s) unreadable")
    assert "quarantined, never sent" in warned[3]


def test_an_unresolvable_host_fails_at_dns(customcd_cli, customcd_env):
    env = {**customcd_env, "CUSTOMCD_URL": "https://no-such-host.invalid:443"}
    result = customcd_cli(["doctor"], env=env)
    assert result.exit_code == 1
    assert any(
        line.startswith("FAIL  dns: no-such-host.invalid does not resolve")
        for line in lines_of(result, "FAIL")
    )


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with Receiver(company_id="1", token=TEST_TOKEN, tls=context) as server:
        yield server


def test_tls_verifies_with_the_given_ca_and_fails_without_it(
    customcd_cli, customcd_env, https, ca, tmp_path
):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    env = {**customcd_env, "CUSTOMCD_URL": https.url}
    good = customcd_cli(["doctor", "--ca-bundle", str(bundle)], env=env)
    assert good.exit_code == 0, good.stdout
    assert "ok    connect: TLS verified, the server answered a GET with 405" in good.stdout
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    bad = customcd_cli(["doctor"], env={**env, "SSL_CERT_FILE": str(other)})
    assert bad.exit_code == 1
    assert any(
        "connect: TLS handshake or connection failed" in line for line in lines_of(bad, "FAIL")
    )
    assert https.accepted == []  # doctor never posts a record


def test_doctor_never_sends_a_record(customcd_cli, customcd_env, customcd_receiver):
    customcd_receiver.inject(Fault(503))
    customcd_cli(["doctor"], env=customcd_env)
    assert [r.method for r in customcd_receiver.requests] == []  # a GET is not recorded as POST
    assert customcd_receiver.accepted == []


def test_a_broken_customcd_toml_is_one_finding_and_the_rest_is_still_checked(
    customcd_cli, customcd_env, tmp_path
):
    (tmp_path / "customcd.toml").write_text("bogus = 1\n")
    result = customcd_cli(["doctor"], env=customcd_env, cwd=tmp_path)
    assert result.exit_code == 1
    (failed,) = lines_of(result, "FAIL")
    assert failed.startswith("FAIL  customcd.toml:") and "unknown key(s) bogus" in failed
    assert result.stdout.count("Settings (") == 1
    assert "ok    connect: plain http (loopback)" in result.stdout  # the endpoint was checked


def test_the_service_id_is_reported_with_where_it_comes_from(customcd_cli, customcd_env):
    with_id = customcd_cli(["doctor"], env={**customcd_env, "CUSTOMCD_SERVICE_ID": "7"})
    assert "CUSTOMCD_SERVICE_ID: '7' (from CUSTOMCD_SERVICE_ID)" in with_id.stdout
    without = customcd_cli(["doctor"], env=customcd_env)
    assert "WARN  CUSTOMCD_SERVICE_ID: not set: give --service-id" in without.stdout
