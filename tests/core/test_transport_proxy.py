"""Proxy variables are honoured: HTTP(S)_PROXY routes the request, NO_PROXY bypasses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from customcd.delivery.transport import Endpoint, make_client
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


def test_http_proxy_is_used_and_no_proxy_bypasses_it(customcd_cli, customcd_receiver, tmp_path):
    with Receiver(company_id="1", token=TEST_TOKEN) as proxy:
        env = {
            "CUSTOMCD_URL": customcd_receiver.url,
            "CUSTOMCD_COMPANY_ID": "1",
            "CUSTOMCD_TOKEN": TEST_TOKEN,
            "CUSTOMCD_OUTBOX": str(tmp_path / "o.db"),
            "CUSTOMCD_DEADLINE": "3",
            "HTTP_PROXY": proxy.url,
            "NO_PROXY": "",
        }
        through = customcd_cli(FLAGS, env=env)
        # the proxy got the request in absolute form (it is not a real proxy: it answers 404)
        assert len(proxy.requests) == 1
        assert proxy.requests[0].path.startswith(customcd_receiver.url + "/webhook/company/1/")
        assert customcd_receiver.requests == []
        assert "REJECTED" in through.stderr and "404" in through.stderr

        env["NO_PROXY"] = "127.0.0.1,localhost"
        direct = customcd_cli([*FLAGS[:4], "p2", *FLAGS[5:]], env=env)
        assert "delivered job 'p2'" in direct.stderr
        assert len(proxy.requests) == 1
        assert json.loads(customcd_receiver.requests[0].body)["job_id"] == "p2"


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

#: In a fresh interpreter: one request that NO_PROXY keeps direct, then one through the proxy;
#: which of httpx's own transport modules were imported after each.
_CHILD = r"""
import json, sys
from customcd.delivery.transport import Endpoint, make_client
direct, proxied = sys.argv[1:3]
heavy = lambda: sorted(m for m in sys.modules if m.split(".")[0] in ("httpcore", "h11", "anyio"))
client = make_client(Endpoint.parse(direct, "1"))
report = {"direct": client.post(direct + "/webhook/company/1/cicd_job", content=b"{}").status_code}
report["after_direct"] = heavy()
report["proxied"] = client.post(proxied + "/webhook/company/1/cicd_job", content=b"{}").status_code
report["after_proxied"] = heavy()
client.close()
print(json.dumps(report))
"""


def test_a_proxied_request_uses_httpx_proxy_transport_and_a_direct_one_no_httpcore(
    customcd_receiver, tmp_path
) -> None:
    port = customcd_receiver.url.rsplit(":", 1)[1]
    with Receiver(company_id="1", token=TEST_TOKEN) as proxy:
        env = {k: v for k, v in os.environ.items() if k.upper() not in _PROXY_VARIABLES}
        env.update({"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"})
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, customcd_receiver.url, f"http://localhost:{port}"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        # NO_PROXY: straight to the receiver (no token: 401), and httpcore never imported
        assert report["direct"] == 401
        assert [r.path for r in customcd_receiver.requests] == ["/webhook/company/1/cicd_job"]
        assert report["after_direct"] == []
        # localhost is not in NO_PROXY: through the proxy, in absolute form, by httpx's transport
        assert report["proxied"] == 404
        assert [r.path for r in proxy.requests] == [
            f"http://localhost:{port}/webhook/company/1/cicd_job"
        ]
        assert "httpcore" in report["after_proxied"]


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
def test_the_proxy_routes_are_the_ones_httpx_would_make(monkeypatch, variables, routes) -> None:
    """httpx ignores the proxy variables when given a transport: make_client mounts its map."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    ours = make_client(Endpoint.parse("https://allstacks.example", "1"))
    theirs = httpx.Client(trust_env=True)
    try:
        made = [(p.pattern, t is None) for p, t in ours._mounts.items()]
        assert made == [(p.pattern, t is None) for p, t in theirs._mounts.items()]
        assert len(made) == routes
        for transport in ours._mounts.values():
            if transport is not None:  # the proxy, as httpx parsed it
                assert str(transport.proxy.url).startswith("http://proxy.example:3128")
    finally:
        ours.close()
        theirs.close()


def test_a_proxy_url_with_an_unknown_scheme_is_refused_when_the_client_is_made(
    monkeypatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.example:21")
    with pytest.raises(ValueError, match="Unknown scheme for proxy URL"):
        make_client(Endpoint.parse("https://allstacks.example", "1"))
