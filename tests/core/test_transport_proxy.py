"""Proxy variables are honoured: HTTP(S)_PROXY routes the request, NO_PROXY bypasses it."""

from __future__ import annotations

import json

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
