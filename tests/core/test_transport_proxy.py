"""Proxies and loopback: the proxy variables route a remote URL, a loopback URL never.

Issue 16 items 5 and 6: a loopback ``http://`` request used to go through ``HTTP_PROXY`` /
``ALL_PROXY`` with its Bearer token in clear, and ``http://anything.localhost`` counted as
loopback though the system's resolver decides where it leads.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from customcd.contract.problems import ConfigurationError
from customcd.delivery.transport import Endpoint, is_loopback, make_client
from customcd.receiver import Receiver
from customcd.testing import TEST_TOKEN

SHA = "d" * 40
FLAGS = [
    "send",
    "--adapter",
    "none",
    "--job-id",
    "p1",
    "--commit-sha",
    SHA,
    "--service-id",
    "2",
    "--repo-name",
    "acme/shop",
    "--start-time",
    "2024-01-01T10:00:00Z",
    "--duration",
    "5",
    "--status",
    "Succeeded",
    "--no-replay",
]

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Listener:
    """A loopback "proxy" that records every connection made to it and the first bytes sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    self.seen.append(conn.recv(65536))
                except OSError:
                    self.seen.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    proxy = Listener()
    yield proxy
    proxy.close()


@pytest.fixture
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "all_proxy", "http_proxy"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_url_never_goes_through_a_proxy(
    customcd_cli, customcd_receiver, listener, tmp_path, variable: str, host: str
) -> None:
    url = customcd_receiver.url.replace("127.0.0.1", host)
    env = {
        "CUSTOMCD_URL": url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "o.db"),
        "CUSTOMCD_DEADLINE": "3",
        variable: listener.url,
        "HTTPS_PROXY": listener.url,
    }
    run = customcd_cli(FLAGS, env=env)
    assert "delivered job 'p1'" in run.stderr, run.stderr
    assert [b["job_id"] for b in customcd_receiver.accepted] == ["p1"]
    assert listener.seen == []  # the proxy saw no connection, let alone the token


def test_a_remote_url_goes_through_the_proxy(customcd_cli, tmp_path) -> None:
    # the "proxy" is the local receiver: it gets the request in absolute form and answers 404,
    # and no name is ever resolved here (the proxy would resolve it)
    with Receiver(company_id="1", token=TEST_TOKEN) as proxy:
        env = {
            "CUSTOMCD_URL": "http://allstacks.invalid:8080",
            "CUSTOMCD_ALLOW_HTTP": "1",
            "CUSTOMCD_COMPANY_ID": "1",
            "CUSTOMCD_TOKEN": TEST_TOKEN,
            "CUSTOMCD_OUTBOX": str(tmp_path / "o.db"),
            "CUSTOMCD_DEADLINE": "3",
            "HTTP_PROXY": proxy.url,
        }
        run = customcd_cli(FLAGS, env=env)
    assert [r.path for r in proxy.requests] == [
        "http://allstacks.invalid:8080/webhook/company/1/cicd_job"
    ]
    assert "REJECTED" in run.stderr and "404" in run.stderr


@pytest.mark.parametrize(
    ("variables", "routes"),
    [
        ({}, 0),
        ({"HTTP_PROXY": "http://proxy.example:3128"}, 1),
        (
            {"HTTPS_PROXY": "proxy.example:3128", "NO_PROXY": "127.0.0.1,localhost,.corp.example"},
            4,
        ),
        ({"ALL_PROXY": "http://proxy.example:3128", "NO_PROXY": "::1,10.0.0.1,corp.example"}, 4),
        ({"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "*"}, 0),
    ],
)
def test_a_remote_endpoint_gets_exactly_the_routes_httpx_makes(
    no_proxy_variables, variables, routes
) -> None:
    """The proxy variables, NO_PROXY included, are httpx's own business (``trust_env``)."""
    for name, value in variables.items():
        no_proxy_variables.setenv(name, value)
    ours = make_client(Endpoint.parse("https://allstacks.example", "1"))
    theirs = httpx.Client(trust_env=True)
    try:
        made = [(p.pattern, t is None) for p, t in ours._mounts.items()]
        assert made == [(p.pattern, t is None) for p, t in theirs._mounts.items()]
        assert len(made) == routes
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_a_loopback_endpoint_has_a_direct_route_above_every_proxy(no_proxy_variables, url) -> None:
    no_proxy_variables.setenv("ALL_PROXY", "http://proxy.example:3128")
    client = make_client(Endpoint.parse(url, "1"))
    try:
        target = httpx.URL(Endpoint.parse(url, "1").job_url)
        first = next(t for p, t in client._mounts.items() if p.matches(target))
        assert first is None  # None: the client's own transport, no proxy
    finally:
        client.close()


def test_a_proxy_url_with_an_unknown_scheme_is_refused_when_the_client_is_made(
    monkeypatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.example:21")
    with pytest.raises(ValueError, match="Unknown scheme for proxy URL"):
        make_client(Endpoint.parse("https://allstacks.example", "1"))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "127.255.255.254", "localhost", "LocalHost", "::1", "[::1]"]
)
def test_loopback_is_a_literal_127_8_or_1_address_or_exactly_localhost(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "anything.localhost",
        "localhost.",
        "localhost.example",
        "mylocalhost",
        "128.0.0.1",
        "0.0.0.0",
        "::",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "",
    ],
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("url", ["http://anything.localhost:8080", "http://a.b.localhost"])
def test_plain_http_to_a_localhost_subdomain_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="refusing plain http://"):
        Endpoint.parse(url, "1")
    assert Endpoint.parse(url, "1", allow_http=True).url.startswith("http://")


def test_a_localhost_subdomain_ci_server_over_http_is_warned_about(caplog) -> None:
    from customcd.delivery.transport import warn_if_cleartext

    with caplog.at_level("WARNING", logger="customcd"):
        warn_if_cleartext("http://localhost:8080", {"GITLAB_TOKEN": "x"})
        assert caplog.records == []
        warn_if_cleartext("http://jenkins.localhost:8080", {"JENKINS_API_TOKEN": "x"})
    assert len(caplog.records) == 1
    assert "unencrypted" in caplog.records[0].getMessage()
