"""packaging/Containerfile: no container engine runs here, so check what can be checked without one.

The archive it ADDs is the one the standalone build names for Linux, the entry point and PATH are
that archive's program where ADD unpacks it, and that program (the real build, unpacked under a
stand-in for ``/opt``) runs the image's default command.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from install_support import ROOT
from standalone_support import run_bare, unpack

CONTAINERFILE = ROOT / "packaging" / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every line that is not a comment."""
    found = []
    for line in CONTAINERFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def one(keyword: str) -> str:
    values = [rest for key, rest in instructions() if key == keyword]
    assert len(values) == 1, f"expected one {keyword}: {values}"
    return values[0]


def test_it_is_documented_as_untested_here() -> None:
    assert "UNTESTED HERE" in CONTAINERFILE.read_text()


def test_a_slim_base_and_the_archive_the_build_makes() -> None:
    froms = [rest for key, rest in instructions() if key == "FROM"]
    assert froms[0].startswith("debian:bookworm-slim")
    default = re.fullmatch(r"CUSTOMCD_PLATFORM=(\S+)", one("ARG"))
    assert default is not None and default.group(1) in {"linux-x86_64", "linux-aarch64"}
    source, destination = one("ADD").split()
    assert source == "dist/customcd-${CUSTOMCD_PLATFORM}.tar.gz"
    assert destination == "/opt/"
    # the build writes exactly that name (dist/customcd-<os>-<arch>.tar.gz)
    build = (ROOT / "packaging" / "standalone" / "build").read_text()
    assert 'name="customcd-$platform.tar.gz"' in build


def test_entrypoint_and_path_are_the_program_where_add_unpacks_it() -> None:
    destination = PurePosixPath(one("ADD").split()[1])
    entrypoint = json.loads(one("ENTRYPOINT"))
    assert entrypoint == [str(destination / "customcd" / "customcd")]
    path = one("ENV").removeprefix("PATH=").split(":")
    assert path[0] == str(destination / "customcd")


def test_the_real_build_runs_the_default_command_from_opt(standalone_archive, tmp_path) -> None:
    opt = tmp_path / "opt"
    unpack(standalone_archive, opt)  # what ADD does with a local .tar.gz
    program = opt / PurePosixPath(json.loads(one("ENTRYPOINT"))[0]).relative_to("/opt")
    assert program.is_file()
    home = tmp_path / "home"
    home.mkdir()
    ran = run_bare(program, json.loads(one("CMD")), home)
    assert ran.returncode == 0, ran.stderr
    assert "Usage: customcd" in ran.stdout and "send" in ran.stdout
