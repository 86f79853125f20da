"""A TLS failure is explained by its cause (issue 16 item 11): only an untrusted CA is fixed by
giving the CA; a certificate for another name, an expired one or one not valid yet is not.

The error texts come from real handshakes with ``trustme`` certificates against the real local
receiver over loopback (through httpx and through the ``customcd send`` command).
"""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from customcd.delivery.tls_advice import is_tls_verify_failure, tls_advice
from customcd.receiver import Receiver
from helpers_delivery import CANARY, Harness, body_for

PAST = (datetime.datetime(2020, 1, 1), datetime.datetime(2021, 1, 1))
FUTURE = (datetime.datetime(2100, 1, 1), datetime.datetime(2101, 1, 1))

#: case -> (what the advice must say, what it must not)
CASES = {
    "another-name": ("is for another name than the host in CUSTOMCD_URL", "give its CA"),
    "another-ip": ("is for another name than the host in CUSTOMCD_URL", "give its CA"),
    "expired": ("has expired; its owner must renew it", "give its CA"),
    "not-yet-valid": ("is not valid yet; check this agent's clock", "give its CA"),
    "unknown-ca": ("is not trusted; give its CA with --ca-bundle", "does not help"),
}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def leaf(case: str, ca: trustme.CA) -> trustme.LeafCert:
    if case == "another-name":
        return ca.issue_cert("allstacks.example.com")
    if case == "another-ip":
        return ca.issue_cert("10.1.2.3")
    if case == "expired":
        return ca.issue_cert("127.0.0.1", not_before=PAST[0], not_after=PAST[1])
    if case == "not-yet-valid":
        return ca.issue_cert("127.0.0.1", not_before=FUTURE[0], not_after=FUTURE[1])
    return trustme.CA().issue_cert("127.0.0.1")  # signed by a CA nobody gave


@pytest.fixture(params=sorted(CASES))
def server(request, ca: trustme.CA) -> Iterator[tuple[str, Receiver]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf(request.param, ca).configure_cert(context)
    with Receiver(company_id="1", token=CANARY, tls=context) as receiver:
        yield request.param, receiver


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_the_advice_fits_the_cause_of_a_real_handshake_failure(server, ca_file) -> None:
    case, receiver = server
    with pytest.raises(httpx.ConnectError) as info:
        httpx.post(
            receiver.endpoint, content=b"{}", verify=ssl.create_default_context(cafile=ca_file)
        )
    text = f"{type(info.value).__name__}: {info.value}"
    assert is_tls_verify_failure(text)
    says, never = CASES[case]
    advice = tls_advice(text)
    assert says in advice and never not in advice, (text, advice)
    assert advice.endswith("see docs/troubleshooting.md")


def test_customcd_send_says_the_cause_and_keeps_the_record(
    harness: Harness, server, ca_file
) -> None:
    case, receiver = server
    run = harness.send(receiver.url, "--ca-bundle", ca_file, "--strict")
    assert run.exit_code == 75
    (line,) = [x for x in run.stderr.splitlines() if "NOT delivered yet" in x]
    says, never = CASES[case]
    assert says in line and never not in line, line
    assert "1 attempt" in line  # retrying cannot help within the run
    assert [e.body for e in harness.entries()] == [body_for("42")]


@pytest.mark.parametrize(
    "text",
    [
        "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate "
        "revoked (_ssl.c:1006)",
        "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
        "certificate (_ssl.c:1006)",
        "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unsupported "
        "certificate purpose (_ssl.c:1006)",
    ],
)
def test_other_openssl_reasons(text: str) -> None:
    advice = tls_advice(text)
    if "revoked" in text:
        assert "has been revoked" in advice and "give its CA" not in advice
    elif "self-signed" in text:
        assert "give its CA" in advice
    else:  # an unknown cause is named as OpenSSL said it, with no wrong fix
        assert "(unsupported certificate purpose)" in advice and "give its CA" not in advice


def test_other_errors_are_not_tls_verify_failures() -> None:
    assert not is_tls_verify_failure("ConnectError: [Errno 111] Connection refused")
    assert not is_tls_verify_failure("ReadTimeout: timed out")
