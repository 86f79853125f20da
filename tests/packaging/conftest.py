"""Fixtures of the packaging tests: install.sh per shell, a loopback mirror."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from install_support import SHELLS, InstallRunner, tools_folder
from loopback_files import LoopbackFiles
from standalone_support import archive_or_skip, program_in, unpack


@pytest.fixture(params=SHELLS)
def shell(request: pytest.FixtureRequest) -> str:
    """Each available POSIX shell."""
    return str(request.param)


@pytest.fixture
def install(shell: str, tmp_path: Path) -> InstallRunner:
    """install.sh with ``shell``, curl as the downloader, in a private HOME."""
    home = tmp_path / "home"
    home.mkdir()
    tools = tools_folder(tmp_path / "tools", "curl")
    return InstallRunner(shell, home, str(tools))


@pytest.fixture
def make_install(tmp_path: Path) -> Callable[..., InstallRunner]:
    """``make_install(shell, downloader, checksum)``: a runner with other tools."""

    def make(
        shell: str = "sh", downloader: str = "curl", checksum: str = "sha256sum"
    ) -> InstallRunner:
        home = tmp_path / f"home-{shell}-{downloader}-{checksum}"
        home.mkdir()
        tools = tools_folder(tmp_path / f"tools-{downloader}-{checksum}", downloader, checksum)
        return InstallRunner(shell, home, str(tools))

    return make


@pytest.fixture
def mirror() -> Iterator[LoopbackFiles]:
    """A loopback file server (no credentials)."""
    with LoopbackFiles() as server:
        yield server


@pytest.fixture(scope="session")
def standalone_archive() -> Path:
    """The standalone archive under test (see ``standalone_support.archive_or_skip``)."""
    return archive_or_skip()


@pytest.fixture(scope="session")
def standalone(
    standalone_archive: Path, once_per_run: Callable[[str, Callable[[Path], object]], Path]
) -> Path:
    """The frozen ``customcd`` program, unpacked once per test run (shared by xdist workers)."""
    return program_in(once_per_run("standalone", lambda into: unpack(standalone_archive, into)))


@pytest.fixture
def bare_home(tmp_path: Path) -> Path:
    """An empty HOME for one run of the frozen program."""
    home = tmp_path / "bare-home"
    home.mkdir()
    return home
