"""A configuration problem never costs the record (issue 16 item 1).

Whatever is wrong with the configuration -- a token file that is missing or unreadable, an unknown
key in ``customcd.toml``, ``--deadline abc``, a file that cannot be read -- the record that can be
built is built and kept in the outbox, unsent; the problem is said in one line (and as the CI's
annotation), the step exits 0 (78 with ``--strict``), and ``customcd outbox flush`` sends the
record once the configuration is fixed. Everything runs through the real CLI against the real
local receiver, with the canary token checked for leaks by the harness.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_delivery import Harness, body_for, record_args

KEPT = "kept in the outbox; `customcd outbox flush` sends it once configured"


def problem_lines(stderr: str, said: str) -> list[str]:
    """The ``customcd:`` lines that name the problem (``-v`` INFO lines left out)."""
    return [
        line
        for line in stderr.splitlines()
        if line.startswith("customcd: ") and "INFO:" not in line and said in line
    ]


def kept_bodies(harness: Harness, path: Path | None = None) -> list[dict]:
    from customcd.delivery.outbox import Outbox

    box = Outbox(path or harness.outbox_path)
    try:
        return [e.body for e in box.entries("pending")]
    finally:
        box.close()


# (case id, extra flags, extra environment, customcd.toml text or None, what the line says).
# "{tmp}" in a flag or variable is the test's folder.
CASES = [
    (
        "token-file-missing",
        ["--token-file", "{tmp}/missing-token"],
        {},
        None,
        "cannot read the token file",
    ),
    (
        "token-file-is-a-folder",
        ["--token-file", "{tmp}"],
        {},
        None,
        "it is not a regular file",
    ),
    ("token-file-empty", ["--token-file", "{tmp}/empty-token"], {}, None, "is empty"),
    ("unknown-toml-key", [], {}, 'urll = "https://x.example"\n', "unknown key(s) urll"),
    ("deadline-abc", ["--deadline", "abc"], {}, None, "--deadline: 'abc' is not a number"),
    ("deadline-env", [], {"CUSTOMCD_DEADLINE": "-3"}, None, "must be more than 0"),
    ("timeout-env", [], {"CUSTOMCD_TIMEOUT": "soon"}, None, "CUSTOMCD_TIMEOUT: 'soon'"),
    ("allow-http-env", [], {"CUSTOMCD_ALLOW_HTTP": "maybe"}, None, "is not a yes/no value"),
    (
        "setting-in-toml",
        [],
        {},
        'allow_http = "perhaps"\n',
        "allow_http: 'perhaps' is not a yes/no",
    ),
    ("invalid-toml", [], {}, "url = [\n", "is not valid TOML"),
    ("config-missing", ["--config", "{tmp}/nope.toml"], {}, None, "nope.toml does not exist"),
    ("job-unknown-key", [], {}, "[job]\njob_typ = 'Deploy'\n", "[job] may set"),
    ("broken-route", [], {}, "[[route]]\nservice_id = 'seven'\n", "must be a positive integer"),
    ("optional-not-a-table", [], {}, "optional = 3\n", "[optional] must be a table"),
    ("no-url", [], {"CUSTOMCD_URL": ""}, None, "no Allstacks URL"),
    ("no-token", [], {"CUSTOMCD_TOKEN": ""}, None, "no token: set CUSTOMCD_TOKEN"),
]


@pytest.mark.parametrize(
    ("flags", "env", "toml", "said"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_record_is_kept_said_in_one_line_and_flushed_once_fixed(
    harness: Harness, receiver, tmp_path: Path, flags, env, toml, said
) -> None:
    (tmp_path / "empty-token").write_text("\n")
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    if toml is not None:
        (tmp_path / "customcd.toml").write_text(toml)

    run = harness.send(receiver.url, *flags, **env)
    assert run.exit_code == 0, run.stderr
    (line,) = problem_lines(run.stderr, said)
    assert f"({KEPT})" in line, line
    assert run.stdout == ""
    assert receiver.requests == []  # kept, not sent: the configuration is not to be trusted
    assert kept_bodies(harness) == [body_for("42")]

    strict = harness.send(receiver.url, *flags, "--strict", **env)
    assert strict.exit_code == 78, strict.stderr
    assert len(problem_lines(strict.stderr, said)) == 1
    assert kept_bodies(harness) == [body_for("42")]  # the same record, kept once

    # the configuration fixed: the flush sends it, once
    (tmp_path / "customcd.toml").unlink(missing_ok=True)
    flushed = harness.flush(receiver.url)
    assert flushed.exit_code == 0, flushed.stderr
    assert "flushed 1 record(s); 0 still pending" in flushed.stderr
    assert receiver.accepted == [body_for("42")]
    assert harness.flush(receiver.url).exit_code == 0
    assert len(receiver.requests) == 1


def test_several_problems_are_said_in_one_line(harness: Harness, receiver, tmp_path) -> None:
    (tmp_path / "customcd.toml").write_text("colour = 'blue'\n")
    run = harness.send(receiver.url, "--deadline", "abc", "--token-file", str(tmp_path / "missing"))
    assert run.exit_code == 0
    (line,) = problem_lines(run.stderr, "unknown key(s) colour")
    assert "'abc' is not a number" in line and "cannot read the token file" in line
    assert KEPT in line
    assert kept_bodies(harness) == [body_for("42")]


def test_a_broken_outbox_setting_keeps_the_record_in_the_default_outbox(
    harness: Harness, receiver, tmp_path
) -> None:
    (tmp_path / "customcd.toml").write_text('outbox = ["not", "a", "path"]\n')
    state = tmp_path / "state"
    default = state / "customcd" / "outbox.sqlite3"
    run = harness.send(receiver.url, CUSTOMCD_OUTBOX="", XDG_STATE_HOME=str(state))
    assert run.exit_code == 0
    (line,) = problem_lines(run.stderr, "outbox: expected a single value")
    assert f"kept in the default outbox {default}" in line
    assert f"`customcd outbox flush --outbox {default}`" in line
    assert kept_bodies(harness, default) == [body_for("42")]

    (tmp_path / "customcd.toml").unlink()
    flushed = harness.flush(receiver.url, "--outbox", str(default))
    assert "flushed 1 record(s); 0 still pending" in flushed.stderr
    assert receiver.accepted == [body_for("42")]


def test_a_configuration_problem_with_an_unusable_outbox_says_not_kept(
    harness: Harness, tmp_path
) -> None:
    run = harness.send(
        "http://127.0.0.1:9", "--deadline", "abc", CUSTOMCD_OUTBOX="/proc/self/x/outbox.sqlite3"
    )
    assert run.exit_code == 0
    (line,) = problem_lines(run.stderr, "'abc' is not a number")
    assert "kept in the outbox" not in run.stderr
    assert "the record was NOT kept: outbox /proc/self/x/outbox.sqlite3 is unusable" in line
    kept = json.loads(line.split("the record, to keep by hand: ", 1)[1].rsplit(")", 1)[0])
    assert kept == body_for("42")


def test_the_problem_is_also_the_ci_annotation(harness: Harness, receiver, tmp_path) -> None:
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/payments-api",
        "GITHUB_RUN_ID": "12087465391",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_JOB": "deploy",
        "GITHUB_SHA": "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71",
    }
    args = ["send", "--status", "success", "--service-id", "12", "--start-time", "1764400000"]
    run = harness.run([*args, "--deadline", "abc"], harness.env(receiver.url, **github))
    assert run.exit_code == 0, run.stderr
    annotations = [line for line in run.stderr.splitlines() if line.startswith("::error::")]
    assert len(annotations) == 1 and "is not a number" in annotations[0], run.stderr
    assert receiver.requests == []


def test_a_dry_run_with_a_configuration_problem_keeps_nothing(harness: Harness, receiver) -> None:
    run = harness.run(
        ["send", "--dry-run", *record_args(), "--deadline", "abc"], harness.env(receiver.url)
    )
    assert run.exit_code == 78
    assert run.stdout == ""
    assert not harness.outbox_path.exists() or kept_bodies(harness) == []


def test_a_record_that_cannot_be_built_without_the_broken_file_says_both(
    harness: Harness, receiver, tmp_path
) -> None:
    # the service id would come from the routing rule of a customcd.toml that is not valid TOML
    (tmp_path / "customcd.toml").write_text("[[route]]\nservice_id = 7\nmatch = {\n")
    args = [a for a in record_args() if a not in ("--service-id", "2")]
    run = harness.run(["send", *args], harness.env(receiver.url))
    assert run.exit_code == 0
    assert "service_id: is not set" in run.stderr
    assert "customcd: the configuration has problems too: " in run.stderr
    assert "is not valid TOML" in run.stderr
    assert receiver.requests == []
