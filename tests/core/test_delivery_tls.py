"""TLS is always verified: a self-signed HTTPS receiver works with its CA given, fails clearly
without it (the record kept pending); plain http:// is refused for non-loopback hosts.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from customcd.receiver import Receiver
from helpers_delivery import CANARY, body_for, key_for, reset


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def shared_https(ca: trustme.CA) -> Iterator[Receiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with Receiver(company_id="1", token=CANARY, tls=context) as server:
        yield server


@pytest.fixture
def https(shared_https: Receiver) -> Receiver:
    assert shared_https.url.startswith("https://127.0.0.1:")
    return reset(shared_https)


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_self_signed_receiver_with_ca_bundle_flag_delivers(harness, https, ca_file) -> None:
    run = harness.send(https.url, "--ca-bundle", ca_file)
    assert run.exit_code == 0
    assert run.success_lines == ["customcd: delivered "]
    assert [b["job_id"] for b in https.accepted] == ["42"]
    assert https.requests[0].headers["Authorization"] == "ok"
    assert harness.ledger() == {key_for(body_for("42"))}


@pytest.mark.parametrize("variable", ["CUSTOMCD_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_the_ca_bundle_from_the_environment(harness, https, ca_file, variable: str) -> None:
    run = harness.send(https.url, **{variable: ca_file})
    assert run.exit_code == 0, run.stderr
    assert [b["job_id"] for b in https.accepted] == ["42"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to hash the CA name")
def test_the_ca_directory_from_ssl_cert_dir(harness, https, ca: trustme.CA, tmp_path) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    pem = ca.cert_pem.bytes()
    # OpenSSL looks CA files up in a directory by subject-name hash: <hash>.0
    subject_hash = (
        subprocess.run(
            ["openssl", "x509", "-noout", "-subject_hash"],
            input=pem,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    (folder / f"{subject_hash}.0").write_bytes(pem)
    run = harness.send(https.url, SSL_CERT_DIR=str(folder))
    assert run.exit_code == 0, run.stderr
    assert [b["job_id"] for b in https.accepted] == ["42"]


def test_self_signed_receiver_without_the_ca_fails_clearly_and_keeps_the_record(
    harness, https
) -> None:
    run = harness.send(https.url, CUSTOMCD_DEADLINE="1.5")
    assert run.exit_code == 0
    assert run.success_lines == []
    assert "NOT delivered yet" in run.stderr
    assert "certificate verif" in run.stderr.lower()
    assert https.requests == []  # nothing, and no token, went over the unverified connection
    (entry,) = harness.entries()
    assert entry.state == "pending"
    assert "certificate verif" in entry.reason.lower()


def test_without_the_ca_and_strict_exits_75(harness, https) -> None:
    run = harness.send(https.url, "--strict", CUSTOMCD_DEADLINE="1.5")
    assert run.exit_code == 75


def test_the_kept_record_is_flushed_once_the_ca_is_given(harness, https, ca_file) -> None:
    harness.send(https.url, CUSTOMCD_DEADLINE="1.5")
    assert https.accepted == []
    run = harness.flush(https.url, "--ca-bundle", ca_file)
    assert run.exit_code == 0
    assert "flushed 1 record(s); 0 still pending" in run.stderr
    assert [b["job_id"] for b in https.accepted] == ["42"]


def test_an_unreadable_ca_bundle_is_reported_and_nothing_sent(harness, https, tmp_path) -> None:
    missing = str(tmp_path / "nope.pem")
    run = harness.send(https.url, "--ca-bundle", missing, CUSTOMCD_DEADLINE="1.5")
    assert run.exit_code == 0
    assert "cannot load the CA bundle" in run.stderr
    assert "nope.pem" in run.stderr
    assert https.requests == []
    assert [e.state for e in harness.entries()] == ["pending"]


def test_an_unreadable_ca_bundle_is_a_configuration_error_not_a_retry(
    harness, https, tmp_path
) -> None:
    missing = str(tmp_path / "nope.pem")
    run = harness.send(https.url, "--strict", "--ca-bundle", missing, CUSTOMCD_DEADLINE="3")
    assert run.exit_code == 78
    assert run.seconds < 1.0
    assert "retrying" not in run.stderr
    assert [e.state for e in harness.entries()] == ["pending"]  # kept for after the fix


def test_plain_http_to_a_remote_host_is_refused_and_the_record_kept(harness) -> None:
    run = harness.send("http://allstacks.invalid:8080")
    assert run.exit_code == 0
    assert "refusing plain http://" in run.stderr
    assert [e.state for e in harness.entries()] == ["pending"]
    strict = harness.send("http://allstacks.invalid:8080", "--strict")
    assert strict.exit_code == 78
