"""Inputs and situations a demanding user meets: each gets one clear message, nothing is lost."""

from __future__ import annotations

import io
import json

import pytest
from customcd.config import load_config
from customcd.contract.problems import ConfigurationError
from customcd.delivery.outbox import Outbox
from customcd.receiver import Fault
from customcd.testing import TEST_TOKEN

SHA = "e" * 40
BASE = [
    "send",
    "--adapter",
    "none",
    "--job-id",
    "h1",
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
]


def valid_body(job_id: str = "h1") -> str:
    """A kept body the contract accepts (a replay sends only those; others are quarantined)."""
    return json.dumps(
        {
            "job_id": job_id,
            "commit_sha": SHA,
            "service_id": 2,
            "job_start_time": 1704103200,
            "job_duration": 5,
            "status": "Succeeded",
            "repo_name": "acme/shop",
        }
    )


def with_flag(flag, value):
    args = list(BASE)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    return args


def test_global_options_before_send_keep_usage_errors_lenient(customcd_cli):
    assert customcd_cli(["-v", "send", "--bogus"], env={}).exit_code == 0
    assert customcd_cli(["-v", "send", "--strict", "--bogus"], env={}).exit_code == 64


def test_strict_in_customcd_toml_is_honoured(customcd_cli, tmp_path):
    (tmp_path / "customcd.toml").write_text("strict = true\ndeadline = 1\n")
    env = {
        "CUSTOMCD_URL": "http://127.0.0.1:9",
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "o.db"),
    }
    result = customcd_cli([*BASE, "--no-replay"], env=env, cwd=tmp_path)
    assert result.exit_code == 75 and "NOT delivered" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--duration", "1" * 400, "job_duration"),
        ("--start-time-ms", "9" * 400, "job_start_time"),
        ("--duration-ms", "9" * 400, "job_duration"),
        ("--start-time", "9" * 400, "job_start_time"),
        ("--service-id", "7" * 5000, "service_id"),
        ("--service-id", "99999999999999999999999", "service_id"),
    ],
)
def test_absurd_numbers_are_field_problems_not_internal_errors(customcd_cli, flag, value, field):
    result = customcd_cli(["send", "--dry-run", *with_flag(flag, value)[1:]], env={})
    assert result.exit_code == 65, result.stderr
    assert f"{field}:" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"service_id": ' + b"9" * 5000 + b"}", "not usable JSON"),
        (b"[" * 100_000, "not"),
        (b"[]", "empty list"),
        (b'{"job_duration": NaN}', "NaN is not JSON"),
    ],
)
def test_validate_refuses_unusable_input_clearly(customcd_cli, tmp_path, content, message):
    path = tmp_path / "body.json"
    path.write_bytes(content)
    result = customcd_cli(["validate", str(path)], env={})
    assert result.exit_code == 65
    assert message in result.stderr and "internal error" not in result.stderr


def test_a_key_given_with_two_types_is_refused(customcd_cli):
    result = customcd_cli(
        ["send", "--dry-run", *BASE[1:], "--optional", "a=1", "--optional", "a:integer=2"], env={}
    )
    assert result.exit_code == 65 and "given as both string and integer" in result.stderr


def test_token_environment_beats_token_file_in_customcd_toml(tmp_path):
    (tmp_path / "token").write_text("from-toml-file\n")
    (tmp_path / "customcd.toml").write_text(f'token_file = "{tmp_path / "token"}"\n')
    env_config = load_config({}, {"CUSTOMCD_TOKEN": "from-env-var"}, cwd=tmp_path)
    assert env_config.token.get_secret_value() == "from-env-var"
    assert load_config({}, {}, cwd=tmp_path).token.get_secret_value() == "from-toml-file"
    (tmp_path / "flag").write_text("from-flag\n")
    flagged = load_config(
        {"token_file": str(tmp_path / "flag")}, {"CUSTOMCD_TOKEN": "x" * 8}, cwd=tmp_path
    )
    assert flagged.token.get_secret_value() == "from-flag"


@pytest.mark.parametrize("url", ["https://exa mple.com", "https://☃.net:1", "https://a_b.example"])
def test_malformed_hosts_are_configuration_errors(customcd_cli, tmp_path, url):
    env = {
        "CUSTOMCD_URL": url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
        "CUSTOMCD_OUTBOX": str(tmp_path / "o.db"),
    }
    result = customcd_cli(["send", "--strict", *BASE[1:]], env=env)
    assert result.exit_code == 78 and "invalid host name" in result.stderr
    assert len(Outbox(tmp_path / "o.db").entries()) == 1  # kept for when the URL is fixed


@pytest.mark.parametrize("value", ["inf", "nan", "86401", "0"])
def test_deadlines_must_be_finite_and_bounded(value):
    with pytest.raises(ConfigurationError, match="at most 86400"):
        load_config({}, {"CUSTOMCD_DEADLINE": value})


def test_only_the_lease_holder_releases_or_rejects(tmp_path):
    clock = [1000.0]
    first = Outbox(tmp_path / "o.db", clock=lambda: clock[0])
    second = Outbox(tmp_path / "o.db", clock=lambda: clock[0])
    body = valid_body()
    assert first.add("k", body, claim_for=10) == "claimed"
    assert second.add("k", body, claim_for=10) == "taken"  # a live lease of another process
    assert first.add("k", body, claim_for=10) == "busy"  # this process sends it already
    clock[0] += 11  # first's lease ran out; second takes over
    assert second.claim("k", 10) == body
    first.release("k", 1, 503, "late")  # too late: changes nothing
    first.reject("k", 1, 400, "late")
    (entry,) = second.entries()
    assert entry.state == "pending" and entry.reason == ""
    row = second._db.execute("SELECT lease_owner FROM records").fetchone()
    assert row[0] == second.owner


def test_the_current_record_is_stored_before_older_ones_are_replayed(customcd_receiver, tmp_path):
    from customcd.config import Config
    from customcd.pipeline import run_send
    from customcd.plugins.hookspecs import hookimpl
    from customcd.plugins.manager import get_plugin_manager
    from customcd.report import Reporter
    from customcd.secret import Secret

    box = Outbox(tmp_path / "o.db")
    box.add("old-key", valid_body("old"))
    box.close()
    seen = {}

    class Observer:
        @hookimpl
        def customcd_outcome(self, outcome):
            if outcome.key == "old-key":  # the replay: where is the current record by then?
                entries = Outbox(tmp_path / "o.db").entries()
                seen["jobs"] = sorted(str(e.body.get("job_id")) for e in entries)

    customcd_receiver.inject(Fault(status=503))  # the replay of the old record fails
    plugins = get_plugin_manager({}, entry_points=[], extra=[("observer", Observer())])
    config = Config(
        url=customcd_receiver.url,
        company_id="1",
        token=Secret(TEST_TOKEN),
        outbox=tmp_path / "o.db",
        deadline=4,
        timeout=2,
    )
    flags = {
        "job_id": "now",
        "commit_sha": SHA,
        "service_id": "2",
        "repo_name": "a/b",
        "job_start_time": "2024-01-01T00:00:00Z",
        "job_duration": "5",
        "status": "Failed",
    }
    result = run_send(
        plugins=plugins, config=config, env={}, flags=flags, reporter=Reporter(io.StringIO())
    )
    assert seen["jobs"] == ["now", "old"]
    assert result.outcome.kind == "delivered"


def test_outbox_prune_forgets_only_old_ledger_entries(customcd_cli, tmp_path):
    import time

    clock = [time.time() - 400 * 86_400]
    box = Outbox(tmp_path / "o.db", clock=lambda: clock[0])
    box.delivered("old", "1", 201)
    clock[0] += 400 * 86_400
    box.delivered("new", "2", 201)
    box.add("kept", "{}")
    box.close()
    result = customcd_cli(
        ["outbox", "prune", "--older-than", "365"], env={"CUSTOMCD_OUTBOX": str(tmp_path / "o.db")}
    )
    assert result.exit_code == 0 and "forgot 1 delivered record(s)" in result.stderr
    box = Outbox(tmp_path / "o.db")
    assert box.ledger_size() == 1 and box.add("new", "{}") == "delivered"
    assert [e.key for e in box.entries()] == ["kept"]
