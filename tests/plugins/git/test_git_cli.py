"""customcd-git inside ``customcd send`` and ``customcd plugins``: flags win, git fills the gaps."""

from __future__ import annotations

import json

BASE = [
    "--adapter", "none", "--job-id", "42", "--service-id", "2",
    "--start-time", "1764400000", "--duration", "30", "--status", "Succeeded",
]  # fmt: skip


def test_fills_commit_and_repo_for_a_flags_only_run(customcd_cli, repo, head, secret):
    result = customcd_cli(["-vv", "send", "--dry-run", *BASE], env={}, cwd=repo)

    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["commit_sha"] == head(repo)
    assert body["repo_name"] == "acme/payments-api"
    assert "customcd-git: repo_name 'acme/payments-api' from git remote 'origin'" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert "deploy-bot" not in result.stdout + result.stderr


def test_flags_win_over_the_checkout(customcd_cli, repo):
    sha = "c04d7a9e15b3f862d0a4e7c91b5f3a28d6e0b947"
    args = ["send", "--dry-run", *BASE, "--commit-sha", sha, "--repo-name", "acme/flagged"]
    result = customcd_cli(args, env={}, cwd=repo)

    body = json.loads(result.stdout)
    assert (body["commit_sha"], body["repo_name"]) == (sha, "acme/flagged")


def test_environment_overrides_win_over_the_checkout(customcd_cli, repo):
    env = {"CUSTOMCD_REPO_NAME": "acme/from-env"}
    result = customcd_cli(["send", "--dry-run", *BASE], env=env, cwd=repo)
    assert json.loads(result.stdout)["repo_name"] == "acme/from-env"


def test_outside_a_checkout_the_record_says_what_is_missing(customcd_cli, tmp_path):
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    result = customcd_cli(["send", "--dry-run", *BASE], env=env, cwd=outside)

    assert result.exit_code == 65
    assert "commit_sha" in result.stderr
    assert "git" not in result.stderr.lower().replace("github", "")  # quiet plugin


def test_listed_by_customcd_plugins(customcd_cli):
    result = customcd_cli(["plugins", "--json"], env={})
    assert result.exit_code == 0, result.stderr
    listed = {item["name"]: item for item in json.loads(result.stdout)}
    assert listed["git"]["distribution"] == "customcd-git"
    assert listed["git"]["hooks"] == ["customcd_enrich"]
