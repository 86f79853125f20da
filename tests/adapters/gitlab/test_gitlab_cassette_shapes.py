"""The GitLab cassettes hold GitLab's real shapes (cassettes/gitlab/make_cassettes.py)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

FOLDER = Path(__file__).resolve().parents[3] / "cassettes" / "gitlab"
CASSETTES = sorted(FOLDER.glob("*.yaml"))
#: lib/api/entities/deployment.rb, environment_basic.rb
DEPLOYMENT = {
    "id",
    "iid",
    "ref",
    "sha",
    "created_at",
    "updated_at",
    "user",
    "environment",
    "deployable",
    "status",
}
PREMIUM = {"pending_approval_count", "approvals", "approval_summary"}
ENVIRONMENT_BASIC = {"id", "name", "slug", "external_url", "created_at", "updated_at"}


def interactions():
    for path in CASSETTES:
        for item in yaml.safe_load(path.read_text())["interactions"]:
            yield path.name, item


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.name)
def test_deployments_have_the_entity_fields_only(path):
    for item in yaml.safe_load(path.read_text())["interactions"]:
        if not urlsplit(item["request"]["uri"]).path.endswith("/deployments"):
            continue
        if item["response"]["status"]["code"] != 200:
            continue
        for deployment in json.loads(item["response"]["body"]["string"]):
            assert DEPLOYMENT <= set(deployment) <= DEPLOYMENT | PREMIUM, deployment["id"]
            assert set(deployment["environment"]) == ENVIRONMENT_BASIC  # no tier, no finished_at


def test_pagination_links_are_gitlabs():
    checked = 0
    for name, item in interactions():
        headers = {k.lower(): v[0] for k, v in item["response"]["headers"].items()}
        if "x-page" not in headers:
            continue
        checked += 1
        links = headers["link"].split(", ")
        if "x-total" not in headers:  # past 10,000 items
            assert not any('rel="last"' in link for link in links), name
            assert "x-total-pages" not in headers, name
        for link in links:
            url = link[1 : link.index(">")]
            keys = [k for k, _ in parse_qsl(urlsplit(url).query)]
            assert keys == sorted(keys), (name, url)  # Rails' to_query sorts
            assert "id" in keys, (name, url)  # route parameters are in GitLab's params
            assert "True" not in url and "False" not in url, (name, url)
    assert checked > 20


def test_a_bridge_downstream_pipeline_has_both_shapes():
    shapes = set()
    for _, item in interactions():
        if urlsplit(item["request"]["uri"]).path.endswith("/bridges"):
            for bridge in json.loads(item["response"]["body"]["string"]):
                shapes.add("project_id" in (bridge.get("downstream_pipeline") or {}))
    assert shapes == {True, False}  # newer GitLab, and the documented shape without it
