"""packaging/standalone: the build script and the program it freezes stay in step with the code.

The build itself runs in .ci/run (it takes a minute); test_standalone.py tests its archive.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest
from install_support import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STANDALONE = ROOT / "packaging" / "standalone"


def test_the_frozen_program_calls_the_console_script_of_the_distribution() -> None:
    project = tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]
    module, _, function = project["scripts"]["customcd"].partition(":")
    tree = ast.parse((STANDALONE / "entry.py").read_text())
    imports = [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert imports == [(module, function)]


def test_the_build_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(STANDALONE / "build")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_build_script_is_shellcheck_clean() -> None:
    done = subprocess.run(["shellcheck", str(STANDALONE / "build")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
