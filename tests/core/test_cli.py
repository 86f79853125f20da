"""The command line end to end: dry run, send to the real local receiver, errors, exit codes."""

from __future__ import annotations

import json

import pytest
from customcd.testing import TEST_TOKEN

SHA = "a2e7da86cc392417b0d9f605b28038aae80b002f"
FLAGS = [
    "--adapter",
    "none",
    "--job-id",
    "42",
    "--commit-sha",
    SHA,
    "--service-id",
    "2",
    "--repo-name",
    "acme/shop",
    "--start-time",
    "2024-01-01T10:00:00Z",
    "--duration",
    "300",
    "--status",
    "Succeeded",
    "--optional",
    "microservice=frontend",
    "--optional",
    "lead_time:duration=20",
]


def test_dry_run_prints_exactly_the_body_that_send_posts(
    customcd_cli, customcd_env, customcd_receiver
):
    dry = customcd_cli(["send", "--dry-run", *FLAGS], env={})
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.count("\n") == 1  # one JSON document, nothing else on stdout
    body = json.loads(dry.stdout)
    assert body["job_id"] == "42" and body["job_start_time"] == 1704103200
    sent = customcd_cli(["send", *FLAGS], env=customcd_env)
    assert sent.exit_code == 0
    assert "delivered job '42'" in sent.stderr
    assert customcd_receiver.accepted == [body]
    assert customcd_receiver.requests[0].body == dry.stdout.strip().encode()
    assert customcd_receiver.requests[0].headers["Idempotency-Key"].startswith("customcd-")
    assert customcd_receiver.requests[0].headers["Authorization"] == "ok"


def test_second_send_of_the_same_record_is_not_sent_twice(
    customcd_cli, customcd_env, customcd_receiver
):
    assert customcd_cli(["send", *FLAGS], env=customcd_env).exit_code == 0
    again = customcd_cli(["send", *FLAGS], env=customcd_env)
    assert "delivered before" in again.stderr
    assert len(customcd_receiver.requests) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (["--commit-sha", "abc123"], "commit_sha: 'abc123'"),
        (["--status", "great"], "status: 'great'"),
        (["--service-id", "two"], "service_id: 'two'"),
        (["--start-time", "2024-01-01 10:00:00"], "no time zone"),
        (["--start-time", "1704103200000"], "milliseconds"),
        (["--optional", "n:integer=x"], "optional.n.value"),
    ],
)
def test_bad_input_gives_one_clear_message_and_no_traceback(customcd_cli, change, expected):
    result = customcd_cli(["send", "--dry-run", *FLAGS, *change], env={})
    assert result.exit_code == 65
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lenient = customcd_cli(["send", *FLAGS, *change], env={})
    assert lenient.exit_code == 0 and expected in lenient.stderr  # never breaks the pipeline
    strict = customcd_cli(["send", "--strict", *FLAGS, *change], env={})
    assert strict.exit_code == 65


def test_missing_repo(customcd_cli):
    flags = [f for f in FLAGS if f not in {"--repo-name", "acme/shop"}]
    result = customcd_cli(["send", "--dry-run", *flags], env={})
    assert result.exit_code == 65 and "repo_id/repo_name" in result.stderr


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (
            {"CUSTOMCD_URL": "not a url", "CUSTOMCD_COMPANY_ID": "1", "CUSTOMCD_TOKEN": "t"},
            [],
            "not a URL like",
        ),
        ({"CUSTOMCD_URL": "http://127.0.0.1:9", "CUSTOMCD_COMPANY_ID": "1"}, [], "no token"),
        (
            {"CUSTOMCD_URL": "http://127.0.0.1:9", "CUSTOMCD_COMPANY_ID": "1"},
            ["--token-file", "/nonexistent/token"],
            "cannot read the token file",
        ),
        ({}, [], "no Allstacks URL"),
    ],
)
def test_configuration_errors(customcd_cli, env, args, expected):
    result = customcd_cli(["send", *FLAGS, *args], env=env)
    assert result.exit_code == 0 and expected in result.stderr
    assert "Traceback" not in result.stderr
    strict = customcd_cli(["send", "--strict", *FLAGS, *args], env=env)
    assert strict.exit_code == 78


def test_record_kept_when_configuration_is_missing(customcd_cli, tmp_path, customcd_receiver):
    outbox = str(tmp_path / "kept.sqlite3")
    result = customcd_cli(["send", *FLAGS], env={"CUSTOMCD_OUTBOX": outbox})
    assert "kept in the outbox" in result.stderr
    env = {
        "CUSTOMCD_OUTBOX": outbox,
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
    }
    flushed = customcd_cli(["outbox", "flush"], env=env)
    assert "flushed 1 record(s); 0 still pending" in flushed.stderr
    assert customcd_receiver.accepted[0]["job_id"] == "42"


def test_usage_errors(customcd_cli):
    lenient = customcd_cli(["send", "--no-such-flag"], env={})
    assert lenient.exit_code == 0 and "No such option" in lenient.stderr
    strict = customcd_cli(["send", "--strict", "--no-such-flag"], env={})
    assert strict.exit_code == 64
    assert customcd_cli(["nonsense"], env={}).exit_code == 64


def test_validate(customcd_cli, tmp_path):
    body = json.loads(customcd_cli(["send", "--dry-run", *FLAGS], env={}).stdout)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(body))
    assert customcd_cli(["validate", str(good)], env={}).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**body, "status": "ok", "service_id": True}))
    result = customcd_cli(["validate", str(bad)], env={})
    assert result.exit_code == 65 and "2 problems" in result.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("{nope")
    assert customcd_cli(["validate", str(junk)], env={}).exit_code == 65


def test_schema_is_json_schema(customcd_cli):
    schema = json.loads(customcd_cli(["schema"], env={}).stdout)
    assert schema["properties"]["status"]["enum"] == ["Succeeded", "Failed", "On Hold"]
    assert set(schema["required"]) >= {
        "job_id",
        "commit_sha",
        "service_id",
        "job_start_time",
        "job_duration",
        "status",
    }
    assert schema["additionalProperties"] is False


def test_version_and_help_examples(customcd_cli):
    assert "customcd, version" in customcd_cli(["--version"], env={}).stdout
    for command in (
        ["send"],
        ["validate"],
        ["schema"],
        ["receiver"],
        ["demo"],
        ["plugins"],
        ["outbox", "list"],
        ["outbox", "flush"],
    ):
        text = customcd_cli([*command, "--help"], env={}).stdout
        assert "Example" in text, command


def test_demo_runs_end_to_end(customcd_cli, tmp_path):
    result = customcd_cli(["demo", "--keep", str(tmp_path / "demo")], env={})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "contract sample (flags only)" in result.stdout
    accepted = (tmp_path / "demo" / "accepted.jsonl").read_text().splitlines()
    assert json.loads(accepted[0])["commit_sha"] == SHA
    assert len(accepted) >= 1 and "error" not in result.stdout


def test_demo_without_keep_leaves_nothing_in_the_temp_folder(customcd_cli, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = customcd_cli(["demo"], env={})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "customcd demo --keep DIR" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_version_lists_every_plugin_distribution_and_version(customcd_cli):
    from importlib.metadata import version

    lines = customcd_cli(["--version"], env={}).stdout.splitlines()
    assert lines[0] == f"customcd, version {version('customcd')}"
    for plugin, dist in [
        ("jenkins", "customcd-jenkins"),
        ("gitlab", "customcd-gitlab"),
        ("azure-devops", "customcd-azure-devops"),
        ("github-actions", "customcd-github-actions"),
        ("git", "customcd-git"),
    ]:
        assert f"  plugin {plugin}: {dist} {version(dist)}" in lines
    disabled = customcd_cli(["--version"], env={"CUSTOMCD_DISABLE_PLUGINS": "git"}).stdout
    assert "plugin git:" not in disabled and "plugin jenkins:" in disabled
