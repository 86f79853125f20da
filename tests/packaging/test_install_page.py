"""docs/install.md: every example on the page runs (or is checked) exactly as printed.

Blocks marked ``<!-- sh-test: WORDS -->`` run in order with ``sh``, in one working folder and
HOME, against a loopback mirror that serves the REAL standalone archive, its ``.sha256`` and
``packaging/install.sh`` where the page says ``https://downloads.example.com/customcd/0.1.0`` (the
one substitution), and with a GitLab job's variables pointing at a local receiver. Words:

- ``expect=delivered``: the block delivered one new record to the receiver;
- ``mirror=down``: the example URL points at a loopback port nothing listens on;
- ``exit=N``: the block exits N (default 0);
- ``log=stderr``: the block is output: each of its lines appears, in order, in the stderr of the
  block run before it (``...`` matches anything).

The page's ``<!-- test -->`` block (pip) runs in tests/docs/test_snippets.py. The other blocks are
checked here as what they are: the build command is the one ``.ci/run`` runs, the uv and pip
flags exist, and the container commands are documented as untested.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from customcd.testing import TEST_TOKEN
from install_support import INSTALL_SH, ROOT, publish
from loopback_files import closed_port
from standalone_support import gitlab_job

PAGE = ROOT / "docs" / "install.md"
EXAMPLE_URL = "https://downloads.example.com/customcd/0.1.0"
FOLDER = "/customcd/0.1.0"
_FENCED = re.compile(
    r"^(?:<!--\s*(?P<marker>sh-test|test)\b(?P<words>[^>]*?)-->\n)?"
    r"(?P<fence>`{3,})(?P<info>[^\n]*)\n(?P<text>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    """A fenced block of the page and its marker."""

    line: int
    marker: str
    words: dict[str, str]
    info: str
    text: str


def blocks() -> list[Block]:
    """Every fenced block of the page, in order."""
    page = PAGE.read_text()
    found = []
    for match in _FENCED.finditer(page):
        raw = (match["words"] or "").strip().removeprefix(":")
        words = dict(word.split("=", 1) for word in shlex.split(raw))
        found.append(
            Block(
                line=page.count("\n", 0, match.start("fence")) + 1,
                marker=match["marker"] or "",
                words=words,
                info=match["info"].strip(),
                text=match["text"],
            )
        )
    return found


def matches_in_order(expected: list[str], actual: list[str]) -> bool:
    """Each expected line (``...`` = anything) matches a later actual line than the one before."""
    position = 0
    for row in expected:
        pattern = re.compile(".*".join(re.escape(part) for part in row.split("...")))
        while position < len(actual) and not pattern.fullmatch(actual[position]):
            position += 1
        if position == len(actual):
            return False
        position += 1
    return True


def test_every_block_is_run_or_checked() -> None:
    kinds = [(b.marker, b.words.get("log", "")) for b in blocks()]
    assert kinds.count(("sh-test", "")) == 2
    assert kinds.count(("sh-test", "stderr")) == 2
    assert kinds.count(("test", "")) == 1
    unmarked = [b.text for b in blocks() if not b.marker]
    assert len(unmarked) == 3, unmarked  # build, container, uv: the tests below


def test_the_sh_blocks_run_as_printed(
    standalone_archive, mirror, customcd_receiver, tmp_path
) -> None:
    checksum = standalone_archive.with_name(standalone_archive.name + ".sha256")
    url = publish(mirror, FOLDER, standalone_archive.read_bytes(), checksum.read_bytes())
    mirror.files[f"{FOLDER}/install.sh"] = INSTALL_SH.read_bytes()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    shutil.copy(INSTALL_SH, work / "install.sh")  # "Run it by hand": a copy beside the job
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        **gitlab_job(9001),
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
    }
    last_stderr, target = "", url
    ran = 0
    down = f"http://127.0.0.1:{closed_port()}{FOLDER}"
    for block in blocks():
        if block.marker != "sh-test":
            continue
        where = f"docs/install.md:{block.line}"
        if block.words.get("log") == "stderr":  # the URL the block before it used
            text = block.text.replace(EXAMPLE_URL, target)
            expected = [line for line in text.splitlines() if line.strip()]
            assert matches_in_order(expected, last_stderr.splitlines()), (
                f"{where}: the log lines do not appear in the stderr of the block before:\n"
                f"{last_stderr}"
            )
            continue
        target = down if block.words.get("mirror") == "down" else url
        text = block.text.replace(EXAMPLE_URL, target)
        before = len(customcd_receiver.accepted)
        script = work / f"block-{block.line}.sh"
        script.write_text(text)
        done = subprocess.run(
            ["sh", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == int(block.words.get("exit", "0")), f"{where}: {done.stderr}"
        if block.words.get("expect") == "delivered":
            assert len(customcd_receiver.accepted) == before + 1, f"{where}: {done.stderr}"
            assert customcd_receiver.accepted[-1]["job_type"] == "Production Deploy"
        last_stderr = done.stderr
        ran += 1
    assert ran == 2


def test_the_build_command_is_the_one_ci_runs() -> None:
    [build] = [b for b in blocks() if "packaging/standalone/build" in b.text and not b.marker]
    assert build.text.strip() == "bash packaging/standalone/build"
    assert (
        'CUSTOMCD_STANDALONE_ARCHIVE="$(bash packaging/standalone/build)"'
        in (ROOT / ".ci" / "run").read_text()
    )


def test_the_container_commands_are_documented_as_untested() -> None:
    [container] = [b for b in blocks() if "podman build" in b.text]
    page = PAGE.read_text()
    assert "**It is untested here**" in page
    for line in container.text.splitlines():
        assert "-f packaging/Containerfile" in line
    assert "--target ci" in container.text
    assert re.search(r"^FROM \S+ AS ci$", (ROOT / "packaging" / "Containerfile").read_text(), re.M)


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_the_uv_commands_use_flags_uv_has() -> None:
    [uv_block] = [b for b in blocks() if "uv tool install" in b.text]
    lines = uv_block.text.strip().splitlines()
    assert lines[0].startswith("UV_COMPILE_BYTECODE=1 uv pip install ")
    assert lines[1].startswith("uv tool install --compile-bytecode ")
    for command, wanted in (
        (["uv", "pip", "install", "--help"], ["--compile-bytecode", "UV_COMPILE_BYTECODE"]),
        (["uv", "tool", "install", "--help"], ["--compile-bytecode"]),
    ):
        help_text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        for word in wanted:
            assert word in help_text, f"`{' '.join(command)}` does not mention {word}"


def test_the_pip_command_uses_a_flag_pip_has() -> None:
    [pip_block] = [b for b in blocks() if b.marker == "test"]
    assert pip_block.text.startswith("python3 -m pip install --compile ")
    # the first python3 on PATH that has pip (a uv venv's has none)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        python3 = Path(folder) / "python3"
        if not python3.is_file():
            continue
        done = subprocess.run(
            [str(python3), "-m", "pip", "install", "--help"], capture_output=True, text=True
        )
        if done.returncode == 0:
            assert "--compile " in done.stdout
            return
    pytest.skip("no python3 on PATH has pip")
