"""The reference pages cover every setting in the code and are generated from the current code."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIX = "run `uv run python docs/gen_reference.py` and commit docs/configuration.md and docs/cli.md"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _missing(names: set[str], text: str) -> list[str]:
    return sorted(n for n in names if not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text))


def test_every_setting_flag_and_variable_is_on_the_configuration_page():
    from customcd.settings import FIELD_INPUTS, SETTINGS

    page = _page("configuration.md")
    names = {s.env for s in SETTINGS} | {s.flag for s in SETTINGS if s.flag}
    names |= {f.env for f in FIELD_INPUTS} | {f.flag for f in FIELD_INPUTS}
    names |= {o for opts, _, _ in gen.send_only_options() for o in opts}
    assert "--dry-run" in names
    assert not _missing(names, page), (
        f"missing from docs/configuration.md: {_missing(names, page)}; {FIX}"
    )


def test_every_customcd_variable_in_the_code_is_on_the_configuration_page():
    page = _page("configuration.md")
    names = set(gen.core_variables())
    for found in gen.adapter_variables().values():
        names |= {n + "<OPTION>" if n.endswith("_") else n for n in found}
    missing = sorted(n for n in names if n not in page)
    assert not missing, f"CUSTOMCD_* variables missing from docs/configuration.md: {missing}; {FIX}"
    assert "(undocumented" not in page, (
        "a CUSTOMCD_* variable has no description: add it to CORE_EXTRA_VARIABLES in "
        f"docs/gen_reference.py, then {FIX}"
    )


def test_every_customcd_toml_key_is_on_the_configuration_page():
    from customcd.config import _JOB_KEYS, _TOML_SECTIONS, Route
    from customcd.settings import SETTINGS

    page = _page("configuration.md")
    keys = {s.toml for s in SETTINGS if s.toml} | set(_JOB_KEYS)
    keys |= {f.name for f in dataclasses.fields(Route) if f.name != "index"}
    missing = sorted(k for k in keys if f"`{k}`" not in page)
    sections = sorted(s for s in _TOML_SECTIONS if f"[{s}]" not in page and f"[[{s}]]" not in page)
    assert not missing and not sections, (
        f"customcd.toml keys missing from docs/configuration.md: {missing + sections}; {FIX}"
    )


def test_every_flag_of_every_command_is_documented():
    text = _page("configuration.md") + _page("cli.md")
    flags: set[str] = set()
    for path, command in gen.all_commands():
        for param in command.params:
            if isinstance(param, click.Option):
                flags |= {o for o in param.opts if o.startswith("--")}
        assert f"### `{' '.join(path)}`" in text, f"`{' '.join(path)}` is not in docs/cli.md; {FIX}"
    assert not _missing(flags, text), f"flags missing from the docs: {_missing(flags, text)}; {FIX}"


@pytest.mark.parametrize("page", ["configuration.md", "cli.md"])
def test_generated_sections_are_up_to_date(page):
    expected = gen.rendered()[DOCS / page]
    assert _page(page) == expected, f"the generated part of docs/{page} is out of date: {FIX}"


def test_section_replacement_keeps_the_hand_written_text():
    text = "intro\n<!-- BEGIN GENERATED: x -->\nold\n<!-- END GENERATED: x -->\noutro\n"
    new = gen.replace_section(text, "x", "new\n")
    assert new == "intro\n<!-- BEGIN GENERATED: x -->\n\nnew\n\n<!-- END GENERATED: x -->\noutro\n"
