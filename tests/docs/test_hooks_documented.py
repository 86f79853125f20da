"""Every hook is documented and exercised (as datasette's test_plugins checks its hooks).

For each hookspec of ``customcd.plugins.hookspecs``:

- docs/plugins.md has a section ``### `NAME``` that names each of its parameters;
- the plugin built on that page implements it (a ``def NAME(`` under ``@hookimpl`` in a marked
  block), so ``tests/docs/test_snippets.py`` runs a real implementation of every hook through the
  real entry-point loading, and the page shows what it did;
- docs/api/hooks.md renders it from its docstring (the reference);
- ``tests/core/test_plugins.py`` has a ``test_hook_NAME``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from customcd.plugins import hookspecs
from test_snippets import find_blocks

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "docs" / "plugins.md"
SPECS = sorted(
    name
    for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("customcd_")
)


def _section(text: str, name: str) -> str:
    match = re.search(rf"^### `{name}`\n(.*?)(?=^## |^### |\Z)", text, re.M | re.S)
    return match[1] if match else ""


def test_there_are_hooks():
    assert len(SPECS) >= 5 and "customcd_before_send" in SPECS


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_is_documented_implemented_on_the_page_and_tested(name):
    text = PLUGINS.read_text(encoding="utf-8")
    spec = getattr(hookspecs, name)
    if name != "customcd_adapters":  # the adapter has its own section, "The adapter"
        section = _section(text, name)
        assert section, f"docs/plugins.md has no section ### `{name}`"
        for param in inspect.signature(spec).parameters:
            assert f"`{param}`" in section or f"{param}," in section or f"({param}" in section, (
                f"the ### `{name}` section of docs/plugins.md does not say what `{param}` is"
            )
    implemented = [
        block
        for block in find_blocks(PLUGINS)
        if block.info == "python"
        and ("file" in block.options or "append" in block.options)
        and re.search(rf"@hookimpl\n(?:.*\n)*?def {name}\(", block.text)
    ]
    assert implemented, f"the plugin of docs/plugins.md does not implement {name}"
    reference = (ROOT / "docs" / "api" / "hooks.md").read_text(encoding="utf-8")
    assert f"- {name}\n" in reference, f"docs/api/hooks.md does not render {name}"
    tests = (ROOT / "tests" / "core" / "test_plugins.py").read_text(encoding="utf-8")
    assert f"def test_hook_{name}(" in tests, f"tests/core/test_plugins.py has no test_hook_{name}"
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in (spec.__doc__ or ""), f"{name} does not document {param}"
