"""Every Python snippet of the docs imports what it uses; every excerpt is the real code.

- A ``python`` block on a docs page must define or import every name it uses: ruff's F821
  (undefined name) runs on each block on its own, as a reader would copy it.
- A block marked ``<!-- source: PATH -->`` is an excerpt of the file PATH of this repository:
  its lines appear in PATH in the same order (``...`` lines stand for lines left out), so the
  excerpt is code that is tested where it lives. Names it uses may also be the ones PATH defines
  itself (its helper functions, constants), but not the ones PATH imports: those imports must be
  in the excerpt.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_BLOCK = re.compile(
    r"(?:^<!--\s*source:\s*(?P<source>\S+)\s*-->\s*\n)?^```(?P<info>[a-z]*)\n(?P<body>.*?)^```$",
    re.M | re.S,
)


def blocks() -> list[tuple[str, str, str, str | None]]:
    """(where, info, text, source) of every fenced block of the docs pages."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("info")) + 1
            found.append(
                (f"docs/{page.name}:{line}", match["info"], match["body"], match["source"])
            )
    return found


PYTHON = [b for b in blocks() if b[1] == "python"]
SOURCES = [b for b in blocks() if b[3]]


def _ruff() -> str:
    found = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    assert Path(found).exists(), "ruff is not installed (uv sync --group dev)"
    return found


def undefined_names(code: str) -> set[str]:
    """The names ruff's F821 reports as undefined in ``code``."""
    result = subprocess.run(
        [
            _ruff(),
            "check",
            "--isolated",
            "--select",
            "F821",
            "--output-format",
            "json",
            "--stdin-filename",
            "snippet.py",
            "-",
        ],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    found = json.loads(result.stdout)
    broken = [item["message"] for item in found if item["code"] != "F821"]
    assert not broken, f"the snippet is not valid Python: {broken}"
    return {re.search(r"`([^`]+)`", item["message"])[1] for item in found}


def defined_here(path: Path) -> set[str]:
    """Names a module defines at its top level (functions, classes, constants), imports aside."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_the_pages_have_python_snippets_and_excerpts():
    pages = {where.split(":")[0] for where, *_ in PYTHON}
    assert {"docs/plugins.md", "docs/library.md", "docs/github-actions.md"} <= pages
    assert len(SOURCES) >= 5


@pytest.mark.parametrize(("where", "info", "code", "source"), PYTHON, ids=[b[0] for b in PYTHON])
def test_every_python_snippet_imports_what_it_uses(where, info, code, source):
    allowed = defined_here(ROOT / source) if source and source.endswith(".py") else set()
    missing = undefined_names(code) - allowed
    assert not missing, f"{where}: the snippet uses {sorted(missing)} without importing them"


@pytest.mark.parametrize(("where", "info", "code", "source"), SOURCES, ids=[b[0] for b in SOURCES])
def test_every_excerpt_is_the_real_code(where, info, code, source):
    path = ROOT / source
    assert path.is_file(), f"{where}: <!-- source: {source} --> names no file"
    real = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    position = 0
    for line in code.splitlines():
        if not line.strip() or line.strip() == "...":
            continue
        try:
            position = real.index(line.rstrip(), position) + 1
        except ValueError:
            raise AssertionError(
                f"{where}: this line is not in {source} (in this order):\n  {line}"
            ) from None


def test_a_missing_import_is_found():
    assert undefined_names("def f() -> Sequence[int]:\n    return [1]\n") == {"Sequence"}
    assert undefined_names("from collections.abc import Sequence\nx: Sequence[int] = []\n") == set()
