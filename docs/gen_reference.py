"""Regenerate the generated parts of docs/configuration.md and docs/cli.md from the code.

Run ``uv run python docs/gen_reference.py`` after changing a setting, a flag, a ``customcd.toml``
key, a command or its ``--help``; ``--check`` only reports whether the pages are up to date (exit 1
when not). The sources are the settings registry (:data:`customcd.settings.SETTINGS`,
:data:`~customcd.settings.FIELD_INPUTS`), the ``customcd.toml`` reader (:mod:`customcd.config`),
the ``CUSTOMCD_*`` names in the installed customcd distributions' code, and the click commands.

Each generated part sits between ``<!-- BEGIN GENERATED: name -->`` and
``<!-- END GENERATED: name -->``; everything outside those lines is written by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import re
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import click

DOCS = Path(__file__).resolve().parent
CONFIGURATION = DOCS / "configuration.md"
CLI = DOCS / "cli.md"
WIDTH = 100

#: ``CUSTOMCD_*`` variables read by core outside the settings registry: name -> description.
CORE_EXTRA_VARIABLES: dict[str, str] = {
    "CUSTOMCD_PLUGINS": "Comma-separated allow-list of plugin names to load (default: every "
    "installed plugin). See [Plugins](plugins.md).",
    "CUSTOMCD_DISABLE_PLUGINS": "Comma-separated plugin names not to load, e.g. `git` or a broken "
    "third-party adapter. See [Plugins](plugins.md).",
    "CUSTOMCD_OPTIONAL": "Optional fields, one `KEY[:TYPE]=VALUE` (or JSON object) a line, as "
    "`--optional` takes them; a key also given by `--optional` takes the flag's value. Lets a "
    "CI integration pass optional fields without building a command line.",
    "CUSTOMCD_DEBUG": "Set to `1` to get the Python traceback of an internal error instead of the "
    "one-line `customcd: internal error: ...` message.",
}

#: Standard variables customcd honours (not its own).
STANDARD_VARIABLES: tuple[tuple[str, str], ...] = (
    ("SSL_CERT_FILE", "PEM bundle of CA certificates (used when `--ca-bundle` is not given)."),
    ("REQUESTS_CA_BUNDLE", "Same as `SSL_CERT_FILE` (read when `SSL_CERT_FILE` is unset)."),
    ("SSL_CERT_DIR", "A folder of hashed CA certificates, used as well."),
    ("HTTPS_PROXY", "Proxy for `https://` requests (`http://proxy:3128`); `https_proxy` too."),
    ("HTTP_PROXY", "Proxy for `http://` requests."),
    ("ALL_PROXY", "Proxy for both."),
    ("NO_PROXY", "Comma-separated hosts (and domains, `.corp.example`) reached without the proxy."),
    ("XDG_STATE_HOME", "Linux: the default outbox is `$XDG_STATE_HOME/customcd/outbox.sqlite3`."),
)

#: The per-CI pages an adapter plugin's variables are explained on.
CI_PAGES = {"jenkins", "gitlab", "azure-devops", "github-actions"}

_NAME = re.compile(r"CUSTOMCD_[A-Z0-9_]*")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else "—"


def settings_section() -> str:
    """The run settings, record fields and ``customcd.toml`` keys, as Markdown."""
    from customcd.config import _JOB_KEYS, _TOML_SECTIONS, Route
    from customcd.settings import FIELD_INPUTS, SETTINGS

    out: list[str] = []
    out.append("### Run settings\n")
    out.append(
        "Precedence: flag > environment variable > `customcd.toml` > default. The flags exist on "
        "`customcd send` and, where they apply, on `outbox flush`, `outbox list` and `backfill`.\n"
    )
    out.append("| flag | environment | `customcd.toml` | type | default | what |")
    out.append("|---|---|---|---|---|---|")
    for s in SETTINGS:
        out.append(
            f"| {_code(s.flag)} | `{s.env}` | {_code(s.toml)} | {s.kind} | {_code(s.default)} "
            f"| {_cell(s.help)}{' Never printed.' if s.secret else ''} |"
        )
    out.append("")
    out.append("### Record fields\n")
    out.append(
        "Each field can be given by flag or `CUSTOMCD_*` variable; these win over everything the "
        "adapter, plugins and `customcd.toml` found.\n"
    )
    out.append("| flag | environment | field | what |")
    out.append("|---|---|---|---|")
    for f in FIELD_INPUTS:
        shown = {"start_time_ms": "job_start_time", "duration_ms": "job_duration"}.get(f.field)
        field_name = f"`{shown}` (in ms)" if shown else f"`{f.field}`"
        out.append(f"| `{f.flag}` | `{f.env}` | {field_name} | {_cell(f.help)} |")
    out.append("")
    out.append("### Other flags of `customcd send`\n")
    out.append("| flag | what |")
    out.append("|---|---|")
    for opts, metavar, text in send_only_options():
        shown = " / ".join(f"`{o}{' ' + metavar if metavar else ''}`" for o in opts)
        out.append(f"| {shown} | {_cell(text)} |")
    out.append("")
    out.append("### `customcd.toml` keys\n")
    top = sorted(s.toml for s in SETTINGS if s.toml)
    out.append(
        "Top-level keys (the run settings above): " + ", ".join(f"`{k}`" for k in top) + ".\n"
    )
    out.append("| section | keys |")
    out.append("|---|---|")
    route_keys = [f.name for f in dataclasses.fields(Route) if f.name != "index"]
    described = {
        "job": ", ".join(f"`{k}`" for k in sorted(_JOB_KEYS)),
        "optional": 'any `key = value`, or `key = { value = ..., type = "duration" }`',
        "status_map": "any native status = `Succeeded`, `Failed`, `On Hold` or `skip`",
        "route": ", ".join(f"`{k}`" for k in route_keys) + " (an array: `[[route]]`)",
        "adapters": "`[adapters.NAME]`: the adapter's own options (see its page)",
    }
    for section in sorted(_TOML_SECTIONS):
        name = f"[[{section}]]" if section == "route" else f"[{section}]"
        out.append(f"| `{name}` | {described.get(section, '(undocumented)')} |")
    out.append("")
    out.append("### Other environment variables\n")
    out.append("| variable | what |")
    out.append("|---|---|")
    registry = {s.env for s in SETTINGS} | {f.env for f in FIELD_INPUTS}
    adapters = adapter_variables()
    owned = set().union(*adapters.values()) if adapters else set()
    for name in sorted(core_variables() - registry - owned):
        what = CORE_EXTRA_VARIABLES.get(
            name, "(undocumented: describe it in docs/gen_reference.py)"
        )
        out.append(f"| `{name}` | {what} |")
    for name, what in STANDARD_VARIABLES:
        out.append(f"| `{name}` | {what} |")
    out.append("")
    if adapters:
        out.append("### Variables read by adapters and plugins\n")
        out.append("| variable | read by | explained on |")
        out.append("|---|---|---|")
        for plugin, names in sorted(adapters.items()):
            page = f"{plugin}.md" if plugin in CI_PAGES else "plugins.md"
            for name in sorted(names):
                shown = name + "<OPTION>" if name.endswith("_") else name
                out.append(f"| `{shown}` | `{plugin}` | [{page}]({page}) |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def send_only_options() -> list[tuple[list[str], str, str]]:
    """``customcd send``'s flags that are neither settings nor record fields."""
    from customcd.cli.send import send
    from customcd.settings import FIELD_INPUTS, SETTINGS

    known = {s.flag for s in SETTINGS} | {f.flag for f in FIELD_INPUTS}
    rows = []
    for param in send.params:
        if isinstance(param, click.Option) and not set(param.opts) & known:
            metavar = "" if param.is_flag else (param.metavar or "")
            rows.append((list(param.opts), metavar, param.help or ""))
    return rows


def _scan(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(folder.rglob("*.py")):
        names.update(_NAME.findall(path.read_text(encoding="utf-8")))
    return {n for n in names if n != "CUSTOMCD_"}


def core_variables() -> set[str]:
    """Every ``CUSTOMCD_*`` name in the core package's code."""
    import customcd

    return _scan(Path(customcd.__file__).parent)


def adapter_variables() -> dict[str, set[str]]:
    """``CUSTOMCD_*`` names in each installed plugin's package (entry-point group ``customcd``)."""
    found: dict[str, set[str]] = {}
    for ep in entry_points(group="customcd"):
        top = ep.value.split(":")[0].split(".")[0]
        spec = importlib.util.find_spec(top)
        if spec is None or not spec.submodule_search_locations:
            continue
        names: set[str] = set()
        for location in spec.submodule_search_locations:
            names |= _scan(Path(location))
        if names:
            found[ep.name] = names
    return found


def _walk(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from _walk(sub, [*path, name])


def help_text(path: list[str], command: click.Command) -> str:
    """The ``--help`` of one command at a fixed width."""
    parent = None
    for name in path[:-1]:
        parent = click.Context(click.Group(name), info_name=name, parent=parent)
    ctx = click.Context(
        command,
        info_name=path[-1],
        parent=parent,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        help_option_names=["-h", "--help"],
    )
    return command.get_help(ctx)


def all_commands() -> list[tuple[list[str], click.Command]]:
    """Every command and group of the ``customcd`` CLI, plugins' included."""
    from customcd.cli.main import cli

    return list(_walk(cli, ["customcd"]))


def cli_section() -> str:
    """Every command's ``--help``, as Markdown."""
    out: list[str] = []
    for path, command in all_commands():
        title = " ".join(path)
        out.append(f"### `{title}`\n")
        out.append("```text")
        out.append(help_text(path, command).rstrip())
        out.append("```\n")
    return "\n".join(out).rstrip() + "\n"


def replace_section(text: str, name: str, content: str) -> str:
    """Put ``content`` between the BEGIN/END lines of section ``name``."""
    begin, end = f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"the page lacks the lines {begin} ... {end}")
    return text[: start + len(begin)] + "\n\n" + content + "\n" + text[stop:]


def rendered() -> dict[Path, str]:
    """The pages as they should be."""
    config = replace_section(
        CONFIGURATION.read_text(encoding="utf-8"), "settings", settings_section()
    )
    cli = replace_section(CLI.read_text(encoding="utf-8"), "cli", cli_section())
    return {CONFIGURATION: config, CLI: cli}


def main(argv: list[str] | None = None) -> int:
    """Write the generated sections (or, with ``--check``, report stale ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "is out of date" if args.check else "updated"
        print(f"{path.relative_to(DOCS.parent)} {verb}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
