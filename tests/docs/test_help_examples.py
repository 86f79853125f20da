"""Every example in ``customcd ... --help`` runs, exactly as printed, against the local receiver.

The examples are parsed out of each command's ``--help`` text (the ``Example:``, ``Examples:``
and ``Quick start:`` blocks), not out of the source, so what a user reads is what runs. They are
run like the docs' marked snippets (``test_snippets.PageRun``): ``CUSTOMCD_URL``,
``CUSTOMCD_COMPANY_ID`` and the token point at a real local receiver, ``send`` must deliver a
new record, ``send --dry-run`` must print a valid body, anything else must exit 0.

Where an example needs a CI's variables, the only thing added is a documented sample environment:

- an example after a comment naming a CI (``# GitLab CI, in after_script:``) runs in that
  adapter's first demo case (what ``customcd demo`` runs), with ``CUSTOMCD_SERVICE_ID=2`` as the
  demo's ``--service-id 2`` (the fourth variable a pipeline sets, after the three above); its
  Groovy ``${currentBuild.X}`` values are that case's own flags: ``currentResult`` its
  ``status``, ``startTimeInMillis`` its ``start_time_ms``;
- ``customcd backfill ADAPTER ...`` runs with :data:`BACKFILL` (the server and credentials
  variables) and replays that CI's answers from the cassette named there;
- ``customcd receiver ...`` is started for real (a subprocess) on the port the example names
  when that port is free, otherwise on a free one, which the example's other lines are then
  given instead; what the receiver printed and recorded is checked.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from test_snippets import Block, PageRun, _builtin_vars, _sample_env, extract_commands

ROOT = Path(__file__).resolve().parents[2]
_HEADING = re.compile(r"^(?P<indent>\s*)(?:Examples?|Quick start):\s*(?P<inline>.*)$")

#: The sample environment of each backfill example: variables and the cassette replayed.
BACKFILL: dict[str, tuple[dict[str, str], str]] = {
    "jenkins": (
        {
            "JENKINS_URL": "https://jenkins.example.com/",
            "JENKINS_USER": "jdoe",
            "JENKINS_API_TOKEN": "fake",
        },
        "jenkins/backfill_jenkins_ops.yaml",
    ),
    "gitlab": (
        {
            "CI_SERVER_URL": "https://gitlab.example.com",
            "GITLAB_TOKEN": "glpat-fake",
            "CUSTOMCD_GITLAB_PER_PAGE": "10",
        },
        "gitlab/backfill_gitlab_deployments.yaml",
    ),
    "azure-devops": (
        {"SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/", "AZURE_DEVOPS_PAT": "fake"},
        "azure_devops/backfill_azure_builds.yaml",
    ),
}


def commands() -> list[tuple[str, ...]]:
    """Every command path: the group, each command, each subcommand (backfill's adapters too)."""
    from customcd.cli.main import cli

    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            with click.Context(command) as ctx:
                for name in command.list_commands(ctx):
                    sub = command.get_command(ctx, name)
                    if sub is not None:
                        walk(sub, (*path, name))

    walk(cli, ())
    return found


def examples(help_text: str) -> list[tuple[str, str]]:
    """(comment before it, command text) for each example of a ``--help`` text."""
    found: list[tuple[str, str]] = []
    lines = help_text.splitlines()
    index = 0
    while index < len(lines):
        heading = _HEADING.match(lines[index])
        index += 1
        if heading is None:
            continue
        body = [heading["inline"]] if heading["inline"].strip() else []
        depth = len(heading["indent"])
        while index < len(lines) and lines[index].strip():
            if len(lines[index]) - len(lines[index].lstrip()) <= depth and not heading["inline"]:
                break
            body.append(lines[index].strip())
            index += 1
        comment, pending = "", ""
        for line in body:
            if line.startswith("#"):
                comment = line.lstrip("# ")
                continue
            if pending or line.endswith("\\"):
                pending += line.rstrip("\\").rstrip() + " "
                if line.endswith("\\"):
                    continue
                line, pending = pending.strip(), ""
            found.append((comment, line))
    return found


def _help(customcd_cli, path: tuple[str, ...]) -> str:
    result = customcd_cli([*path, "--help"], env={})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _free_port(wanted: int) -> int:
    """``wanted`` when it is free now, else a free port (0: any free port)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_receiver(words: list[str], cwd: Path) -> tuple[subprocess.Popen[str], int, str]:
    """Start ``customcd receiver`` (``words``, its ``--port 8765`` replaced by a free port):
    the process, its port and the line it printed once listening.

    The port is only probed free, so another process (a parallel test, another test run) may
    take it before the receiver binds it: then the receiver exits saying so and the next free
    port is tried. Readiness is the receiver's own ``listening on`` line, never a connection to
    the port, which another process's server could answer.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
    wanted = 8765
    for _ in range(5):
        port = _free_port(wanted)
        argv = [w.replace("8765", str(port)) for w in words]
        server = subprocess.Popen(
            [sys.executable, "-m", "customcd", *argv],
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.stderr is not None
        first = server.stderr.readline()
        if "listening on" in first:
            return server, port, first
        rest = server.communicate(timeout=20)[1]
        assert "Address already in use" in first + rest, first + rest
        wanted = 0  # taken meanwhile: any free port
    raise AssertionError("no free port for the receiver after 5 tries")


def test_the_examples_are_found(customcd_cli):
    found = {
        path: examples(_help(customcd_cli, path))
        for path in commands()
        if path[:1] != ("backfill",)
    }
    assert len(found[()]) == 2 and found[()][0][1].startswith("customcd demo ")
    assert len(found[("send",)]) == 3 and found[("send",)][0][0].startswith("Jenkins")
    for path, listed in found.items():
        assert listed, f"`customcd {' '.join(path)} --help` shows no example"


@pytest.mark.parametrize("path", [p for p in commands() if p != ("receiver",)], ids=" ".join)
def test_every_help_example_runs_as_printed(
    path, customcd_cli, customcd_env, customcd_receiver, tmp_path, monkeypatch
):
    from customcd.plugins.manager import get_plugin_manager

    text = _help(customcd_cli, path)
    listed = examples(text)
    if not listed:
        assert path[:1] == ("backfill",) and len(path) == 2, f"no example in {path} --help"
        return  # an adapter's backfill command: its examples are in `customcd backfill --help`
    adapters = get_plugin_manager({}).adapters()
    work = tmp_path / "work"
    work.mkdir()
    run = PageRun(customcd_cli, customcd_receiver, customcd_env, work)
    where = f"customcd {' '.join(path)} --help"
    for comment, command in listed:
        env = dict(customcd_env)
        options: dict[str, str] = {}
        variables: dict[str, str] = {}
        named = next((n for n, a in adapters.items() if comment.startswith(a.title)), None)
        if named:
            env.update(_sample_env(named), CUSTOMCD_SERVICE_ID="2")
            case = adapters[named].demo_cases()[0]
            for name, value in dict(case.overrides).items():
                key = {"status": "currentResult", "start_time_ms": "startTimeInMillis"}.get(name)
                if key:
                    variables[f"currentBuild.{key}"] = str(value)
        words = command.split()
        if words[1:2] == ["backfill"]:
            extra, cassette = BACKFILL[words[2]]
            env.update(extra)
            options["cassette"] = cassette
        if "outbox" in words and "flush" in words:
            options["expect"] = "ok"
        block = Block(where, 1, "sh", command, options, variables)
        run.run_block(block, env)
        assert run.outputs, f"{where}: the example ran nothing: {command}"


def test_the_receiver_example_runs_as_printed(customcd_cli, tmp_path):
    text = _help(customcd_cli, ("receiver",))
    (_, start), (_, send) = examples(text)
    assert "8765" in start and "8765" in send, (start, send)
    words = start.split()
    assert words[:2] == ["customcd", "receiver"] and words[-1] == "&", start
    server, port, first = _start_receiver(words[1:-1], tmp_path)
    send = send.replace("8765", str(port))
    try:
        (tokens,) = extract_commands(Block("receiver", 1, "sh", send), _builtin_vars(), {})
        at = tokens.index("customcd")
        env = dict(pair.split("=", 1) for pair in tokens[:at])
        env["CUSTOMCD_OUTBOX"] = str(tmp_path / "outbox.sqlite3")
        result = customcd_cli(tokens[at + 1 :], env=env, cwd=tmp_path)
        assert result.exit_code == 0 and "delivered job" in result.stderr, result.stderr
    finally:
        server.send_signal(2)  # Ctrl-C
        _, printed = server.communicate(timeout=20)
    printed = first + printed
    assert f"listening on http://127.0.0.1:{port}/webhook/company/1/cicd_job" in printed
    (body,) = [json.loads(line) for line in (tmp_path / "accepted.jsonl").read_text().splitlines()]
    assert body["job_id"] == "42"
