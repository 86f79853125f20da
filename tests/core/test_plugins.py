"""The plugin system: entry points, throwaway distributions, fault isolation, every hook."""

from __future__ import annotations

import inspect
import json
import logging
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from customcd.config import Config
from customcd.contract.problems import ConfigurationError
from customcd.plugins import hookspecs
from customcd.plugins.manager import get_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
SHA = "c" * 40
THROWAWAY = '''
"""A throwaway third-party adapter, packaged with its own metadata."""
from customcd import Adapter, Draft, DemoCase, hookimpl


class ToyAdapter(Adapter):
    name = "toyci"
    title = "Toy CI"
    status_map = {"GREEN": "Succeeded", "RED": "Failed"}

    def detect(self, env):
        return env.get("TOY_CI") == "yes"

    def collect(self, context):
        env = context.env
        return Draft(job_id="toy-" + env["TOY_BUILD"], commit_sha=env["TOY_SHA"],
                     job_start_time=env["TOY_STARTED"], status=env["TOY_RESULT"],
                     repo_name="toy/repo")


@hookimpl
def customcd_adapters():
    return [ToyAdapter()]
'''


def make_distribution(
    root: Path,
    *,
    name="toy-customcd",
    module="toy_customcd",
    entry="toyci",
    source=THROWAWAY,
    target=None,
    version="1.2.3",
) -> Path:
    """Write a package and its installed metadata (dist-info with entry_points.txt) into root."""
    target = target or module
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [project]
        name = "{name}"
        version = "{version}"
        [project.entry-points.customcd]
        {entry} = "{target}"
    """)
    )
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[customcd]\n{entry} = {target}\n")
    return root


@pytest.fixture
def toy_dist(tmp_path, monkeypatch):
    root = make_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("toy_customcd", None)


TOY_ENV = {
    "TOY_CI": "yes",
    "TOY_BUILD": "7",
    "TOY_SHA": SHA,
    "TOY_STARTED": "2024-01-01T00:00:00Z",
    "TOY_RESULT": "GREEN",
    "CUSTOMCD_SERVICE_ID": "3",
}


def test_throwaway_distribution_is_discovered_listed_detected_and_delivered(
    toy_dist, customcd_cli, customcd_env, customcd_receiver
):
    listed = customcd_cli(["plugins", "--json"], env={})
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["toyci"]["distribution"] == "toy-customcd"
    assert rows["toyci"]["version"] == "1.2.3"
    assert rows["toyci"]["adapters"] == ["toyci"]
    assert rows["toyci"]["hooks"] == ["customcd_adapters"]
    sent = customcd_cli(["send"], env={**TOY_ENV, **customcd_env})
    assert "delivered job 'toy-7'" in sent.stderr, sent.stderr
    assert customcd_receiver.accepted[0]["status"] == "Succeeded"
    assert customcd_receiver.accepted[0]["job_start_time"] == 1704067200
    table = customcd_cli(["plugins"], env={})
    assert "toy-customcd" in table.stdout and "1.2.3" in table.stdout


def test_disabling_by_environment_removes_it(toy_dist, customcd_cli):
    rows = json.loads(
        customcd_cli(["plugins", "--json"], env={"CUSTOMCD_DISABLE_PLUGINS": "toyci"}).stdout
    )
    assert "toyci" not in {row["name"] for row in rows}
    dry = customcd_cli(["send", "--dry-run"], env={**TOY_ENV, "CUSTOMCD_DISABLE_PLUGINS": "toyci"})
    assert dry.exit_code == 65  # no adapter: the record lacks job_id, commit...
    by_dist = json.loads(
        customcd_cli(["plugins", "--json"], env={"CUSTOMCD_DISABLE_PLUGINS": "toy-customcd"}).stdout
    )
    assert "toyci" not in {row["name"] for row in by_dist}


def test_allow_list(toy_dist):
    plugins = get_plugin_manager({"CUSTOMCD_PLUGINS": "toyci"})
    assert set(plugins.info) == {"toyci"}
    assert set(plugins.adapters()) == {"toyci"}
    assert get_plugin_manager({"CUSTOMCD_PLUGINS": ""}).info == {}


def test_builtin_adapters_are_separate_distributions_found_through_entry_points():
    found = {ep.name: ep.dist.name for ep in entry_points(group="customcd")}
    assert found["jenkins"] == "customcd-jenkins"
    assert found["gitlab"] == "customcd-gitlab"
    assert found["azure-devops"] == "customcd-azure-devops"
    assert found["github-actions"] == "customcd-github-actions"
    assert found["git"] == "customcd-git"
    core = ROOT / "core" / "src" / "customcd"
    for path in core.rglob("*.py"):
        text = path.read_text()
        for module in ("customcd_jenkins", "customcd_gitlab", "customcd_azure_devops"):
            assert module not in text, f"{path.name} knows about {module}"
    plugins = get_plugin_manager({})
    adapters = plugins.adapters()
    assert {"jenkins", "gitlab", "azure-devops", "github-actions"} <= set(adapters)
    # no special path for built-ins: each came through its distribution's entry point
    for name, distribution in found.items():
        assert plugins.info[name].distribution == distribution
        assert plugins.info[name].version


def test_an_entry_point_may_name_an_object_in_a_module(tmp_path, monkeypatch):
    source = (
        "from customcd import hookimpl\n"
        "class Hooks:\n"
        "    class Inner:\n"
        "        @staticmethod\n"
        "        @hookimpl\n"
        "        def customcd_enrich(draft, context):\n"
        "            draft.add_optional('from', 'inner')\n"
    )
    root = make_distribution(
        tmp_path / "attr",
        name="attr-customcd",
        module="attr_customcd",
        entry="attr",
        source=source,
        target="attr_customcd:Hooks.Inner",
    )
    monkeypatch.syspath_prepend(str(root))
    plugins = get_plugin_manager({"CUSTOMCD_PLUGINS": "attr"})
    assert set(plugins.info) == {"attr"}
    assert plugins.info["attr"].distribution == "attr-customcd"
    assert plugins.hooks_of("attr") == ["customcd_enrich"]
    sys.modules.pop("attr_customcd", None)


def test_the_first_of_two_installs_of_one_distribution_wins(toy_dist, tmp_path, monkeypatch):
    # an older copy of the same distribution further down sys.path is shadowed, not a duplicate
    older = make_distribution(
        tmp_path / "older", name="toy-customcd", module="old_toy_customcd", version="0.9"
    )
    monkeypatch.setattr(sys, "path", [*sys.path, str(older)])
    plugins = get_plugin_manager({"CUSTOMCD_PLUGINS": "toyci"})
    assert plugins.info["toyci"].version == "1.2.3"
    assert plugins.info["toyci"].module == "toy_customcd"
    assert "old_toy_customcd" not in sys.modules


def test_two_distributions_with_one_plugin_name_are_refused_loudly(toy_dist, tmp_path, monkeypatch):
    other = make_distribution(
        tmp_path / "other", name="other-customcd", module="other_customcd", entry="toyci"
    )
    monkeypatch.syspath_prepend(str(other))
    with pytest.raises(ConfigurationError) as info:
        get_plugin_manager({})
    message = str(info.value)
    assert "two plugins are named 'toyci'" in message
    assert "toy-customcd" in message and "other-customcd" in message
    assert "CUSTOMCD_DISABLE_PLUGINS" in message
    # disabling one distribution by name settles it
    plugins = get_plugin_manager({"CUSTOMCD_DISABLE_PLUGINS": "other-customcd"})
    assert plugins.info["toyci"].distribution == "toy-customcd"
    sys.modules.pop("other_customcd", None)


def test_broken_import_is_a_warning_and_the_run_goes_on(tmp_path, monkeypatch, caplog):
    root = make_distribution(
        tmp_path / "broken",
        name="broken-customcd",
        module="broken_customcd",
        entry="broken",
        source="raise ImportError('no such thing')\n",
    )
    monkeypatch.syspath_prepend(str(root))
    with caplog.at_level(logging.WARNING, logger="customcd"):
        plugins = get_plugin_manager({})
    assert "broken" not in plugins.info
    assert "jenkins" in plugins.adapters()
    assert any(
        "'broken'" in r.getMessage()
        and "broken-customcd" in r.getMessage()
        and "continuing without it" in r.getMessage()
        for r in caplog.records
    )


def test_unknown_hook_is_dropped_with_a_warning(tmp_path, monkeypatch, caplog):
    source = (
        "from customcd import hookimpl\n@hookimpl\ndef customcd_no_such_hook():\n    return 1\n"
    )
    root = make_distribution(
        tmp_path / "odd", name="odd-customcd", module="odd_customcd", entry="odd", source=source
    )
    monkeypatch.syspath_prepend(str(root))
    with caplog.at_level(logging.WARNING, logger="customcd"):
        plugins = get_plugin_manager({})
    assert "odd" not in plugins.info
    assert any("unknown hook" in r.getMessage() for r in caplog.records)


class Raising:
    @hookspecs.hookimpl
    def customcd_enrich(self, draft, context):
        raise RuntimeError("enricher bug")

    @hookspecs.hookimpl
    def customcd_outcome(self, outcome):
        raise RuntimeError("observer bug")


def test_exception_in_a_hook_is_a_warning_naming_the_plugin(caplog, customcd_receiver, tmp_path):
    from customcd.pipeline import run_send
    from customcd.report import Reporter
    from customcd.testing import TEST_TOKEN

    plugins = get_plugin_manager({}, entry_points=[], extra=[("raising", Raising())])
    config = Config(
        url=customcd_receiver.url,
        company_id="1",
        outbox=tmp_path / "o.db",
        token=__import__("pydantic").SecretStr(TEST_TOKEN),
        deadline=5,
    )
    flags = {
        "job_id": "1",
        "commit_sha": SHA,
        "service_id": 1,
        "job_start_time": 1704067200,
        "job_duration": 1,
        "status": "Failed",
        "repo_id": "9",
    }
    with caplog.at_level(logging.WARNING, logger="customcd"):
        result = run_send(
            plugins=plugins,
            config=config,
            env={},
            flags=flags,
            reporter=Reporter(__import__("io").StringIO()),
        )
    assert result.outcome.kind == "delivered"
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "'raising'" in m and "customcd_enrich" in m and "enricher bug" in m for m in messages
    )
    assert any("customcd_outcome" in m for m in messages)


def test_two_adapters_with_one_name_name_both_distributions(toy_dist, tmp_path, monkeypatch):
    twin = make_distribution(
        tmp_path / "twin", name="twin-customcd", module="twin_customcd", entry="twin"
    )
    monkeypatch.syspath_prepend(str(twin))
    plugins = get_plugin_manager({})
    with pytest.raises(ConfigurationError) as info:
        plugins.adapters()
    assert "toy-customcd 1.2.3" in str(info.value) and "twin-customcd 1.2.3" in str(info.value)
    assert "CUSTOMCD_DISABLE_PLUGINS" in str(info.value)
    sys.modules.pop("twin_customcd", None)


def test_two_plugins_with_one_name_are_refused():
    plugins = get_plugin_manager({}, entry_points=[])
    plugins.register(Raising(), name="same")
    with pytest.raises(ConfigurationError, match="two plugins are named 'same'"):
        plugins.register(Raising(), name="same")


# -- one test per hook (the meta-test below checks every hookspec has one) -------------------

SIMPLE = {
    "job_id": "9",
    "commit_sha": SHA,
    "service_id": 1,
    "job_start_time": 1704067200,
    "job_duration": 5,
    "status": "Succeeded",
    "repo_name": "a/b",
}


def _send(extra, tmp_path, receiver, flags=None):
    import io

    from customcd.pipeline import run_send
    from customcd.report import Reporter
    from customcd.testing import TEST_TOKEN
    from pydantic import SecretStr

    plugins = get_plugin_manager({}, entry_points=[], extra=extra)
    config = Config(
        url=receiver.url,
        company_id="1",
        token=SecretStr(TEST_TOKEN),
        outbox=tmp_path / "outbox.db",
        deadline=5,
    )
    stream = io.StringIO()
    result = run_send(
        plugins=plugins, config=config, env={}, flags=flags or SIMPLE, reporter=Reporter(stream)
    )
    return result, stream.getvalue()


def test_hook_customcd_adapters(toy_dist):
    adapter = get_plugin_manager({}).adapters()["toyci"]
    assert adapter.title == "Toy CI" and adapter.detect({"TOY_CI": "yes"})


def test_hook_customcd_enrich(tmp_path, customcd_receiver):
    class Enrich:
        @hookspecs.hookimpl
        def customcd_enrich(self, draft, context):
            draft.add_optional("team", "payments")
            draft.fill(triggered_by="bot@example.com", job_id="ignored-because-flag-wins")

    _send([("enrich", Enrich())], tmp_path, customcd_receiver)
    body = customcd_receiver.accepted[0]
    assert body["triggered_by"] == "bot@example.com" and body["job_id"] == "9"
    assert body["optional"] == [{"key": "team", "value": "payments", "type": "string"}]


def test_hook_customcd_before_send(tmp_path, customcd_receiver):
    class Change:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            body["job_type"] = "Changed " + job.status

    class Veto:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            return "freeze window" if body["repo_name"] == "frozen/repo" else None

    class Breaks:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            body["status"] = "Great"

    _send([("change", Change()), ("veto", Veto())], tmp_path, customcd_receiver)
    assert customcd_receiver.accepted[0]["job_type"] == "Changed Succeeded"
    result, text = _send(
        [("veto", Veto())], tmp_path, customcd_receiver, {**SIMPLE, "repo_name": "frozen/repo"}
    )
    assert result.outcome.kind == "vetoed" and "freeze window" in text and "'veto'" in text
    assert len(customcd_receiver.accepted) == 1


def test_a_before_send_plugin_that_breaks_the_record_is_named_and_undone(
    tmp_path, customcd_receiver, caplog
):
    """One buggy plugin never stops a delivery (issue 18 item 5)."""

    class Breaks:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            body["status"] = "Great"
            body["job_type"] = "half-done"

    class Raises:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            body["job_type"] = "partial change"
            raise RuntimeError("boom")

    class Good:
        @hookspecs.hookimpl
        def customcd_before_send(self, body, job):
            body["job_type"] = "Deploy"

    flags = {**SIMPLE, "job_id": "10"}
    with caplog.at_level("WARNING", "customcd"):
        result, _ = _send(
            [("good", Good()), ("breaks", Breaks()), ("raises", Raises())],
            tmp_path,
            customcd_receiver,
            flags,
        )
    assert result.outcome.kind == "delivered"
    (sent,) = customcd_receiver.accepted
    assert sent["status"] == "Succeeded" and sent["job_type"] == "Deploy"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "plugin 'breaks'" in w
        and "breaks the contract" in w
        and "status" in w
        and "sent as it was before that plugin" in w
        for w in warnings
    ), warnings
    assert any("plugin 'raises'" in w and "RuntimeError: boom" in w for w in warnings), warnings


def test_hook_customcd_outcome(tmp_path, customcd_receiver):
    seen = []

    class Observe:
        @hookspecs.hookimpl
        def customcd_outcome(self, outcome):
            seen.append((outcome.kind, outcome.job_id, outcome.status_code))

    _send([("observe", Observe())], tmp_path, customcd_receiver)
    _send([("observe", Observe())], tmp_path, customcd_receiver)
    assert seen == [("delivered", "9", 201), ("duplicate", "9", None)]


def test_hook_customcd_cli(customcd_cli):
    from customcd.cli.main import cli

    class AddsCommand:
        @hookspecs.hookimpl
        def customcd_cli(self, cli):
            @cli.command("hello")
            def hello():
                """Say hello (a plugin's command)."""
                click.echo("hello from a plugin")

            @cli.command("send")
            def hijack():
                """Try to replace a built-in."""

    built_ins = cli.load_built_ins()
    group = click.Group(commands=dict(built_ins))
    plugins = get_plugin_manager({}, entry_points=[], extra=[("adds", AddsCommand())])
    plugins.add_cli(cli=group)
    assert "hello" in group.commands
    assert group.commands["send"] is built_ins["send"]  # a built-in is never replaced


def test_every_hookspec_is_documented_and_tested():
    specs = [
        name
        for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("customcd_")
    ]
    assert len(specs) >= 5
    docs = (ROOT / "docs" / "plugins.md").read_text()
    tests = inspect.getsource(sys.modules[__name__])
    for name in specs:
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and len(spec.__doc__) > 80, f"{name} needs a docstring"
        assert f"`{name}`" in docs or f"## {name}" in docs, f"{name} is not in docs/plugins.md"
        assert f"def test_hook_{name}(" in tests, f"{name} has no test_hook_{name}"
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in spec.__doc__, f"{name} does not document {param}"
            assert param in docs, f"docs/plugins.md does not mention {name}'s {param}"


def test_installed_plugins_are_scanned_once_per_sys_path(toy_dist, tmp_path, monkeypatch):
    import importlib.metadata

    from customcd.plugins import manager

    calls = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    manager._installed.cache_clear()
    first = get_plugin_manager({})
    second = get_plugin_manager({})
    assert calls == [{"group": "customcd"}]  # one scan for two managers
    assert set(first.info) == set(second.info) and "toyci" in first.info
    assert first.pm is not second.pm  # each manager is still a fresh one
    later = make_distribution(
        tmp_path / "later", name="later-customcd", module="later_customcd", entry="later"
    )
    monkeypatch.syspath_prepend(str(later))
    assert "later" in get_plugin_manager({}).info  # a new sys.path is scanned afresh
    assert len(calls) == 2
    sys.modules.pop("later_customcd", None)
