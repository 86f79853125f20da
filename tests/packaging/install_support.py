"""Helpers of the packaging tests: fake builds, a mirror layout, install.sh with chosen tools."""

from __future__ import annotations

import hashlib
import io
import platform
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from loopback_files import LoopbackFiles

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SH = ROOT / "packaging" / "install.sh"

#: What install.sh may use besides the downloader and the checksum tool (POSIX utilities + tar).
BASE_TOOLS = (
    "uname",
    "sed",
    "awk",
    "tail",
    "mkdir",
    "rm",
    "mv",
    "mktemp",
    "tar",
    "gzip",
    "id",
    "tr",
)

#: The shells install.sh is run with: sh, and dash when it is installed (Debian's sh is dash).
SHELLS = [name for name in ("sh", "dash") if shutil.which(name)]


def platform_name() -> str:
    """``<os>-<arch>`` of this machine, as install.sh and the build name archives."""
    system = platform.system().lower()
    os_name = "windows" if system.startswith(("windows", "mingw", "msys", "cygwin")) else system
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{os_name}-{arch}"


def archive_name() -> str:
    """The archive install.sh fetches on this machine."""
    return f"customcd-{platform_name()}.tar.gz"


def make_archive(members: Mapping[str, tuple[bytes, int]]) -> bytes:
    """A .tar.gz holding ``members`` (name -> (content, mode)); folders are implied."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (content, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = mode
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


FAKE_CUSTOMCD = b'#!/bin/sh\necho "fake customcd: $*"\n'


def fake_build() -> bytes:
    """A small stand-in for the standalone archive: ``customcd/customcd`` is a shell script."""
    return make_archive(
        {
            "customcd/customcd": (FAKE_CUSTOMCD, 0o755),
            "customcd/_internal/README": (b"a fake build for the install.sh tests\n", 0o644),
        }
    )


def checksum_line(data: bytes, name: str) -> bytes:
    """The ``.sha256`` file of ``data`` in sha256sum's format."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


def publish(
    server: LoopbackFiles, folder: str, archive: bytes, checksum: bytes | None = None
) -> str:
    """Put ``archive`` and its checksum file under ``folder`` on ``server``; return the folder URL."""
    name = archive_name()
    server.files[f"{folder}/{name}"] = archive
    server.files[f"{folder}/{name}.sha256"] = (
        checksum if checksum is not None else checksum_line(archive, name)
    )
    return f"{server.origin}{folder}"


def tools_folder(where: Path, downloader: str, checksum: str = "sha256sum") -> Path:
    """A folder of links to exactly the tools install.sh may use, with one downloader."""
    where.mkdir(parents=True, exist_ok=True)
    wanted = [*BASE_TOOLS, downloader, checksum]
    if checksum == "shasum":
        wanted.append("perl")  # shasum is a Perl script
    for tool in wanted:
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed")
        link = where / tool
        if not link.exists():
            link.symlink_to(found)
    return where


@dataclass(frozen=True)
class Installed:
    """One run of install.sh."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def path(self) -> Path:
        """The one line install.sh printed, as a path (asserts it is exactly one line)."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1 and self.stdout.endswith("\n"), repr(self.stdout)
        return Path(lines[0])


@dataclass
class InstallRunner:
    """Runs install.sh with one shell and a PATH of chosen tools, in a private HOME."""

    shell: str
    home: Path
    path: str

    def __call__(self, env: Mapping[str, str] | None = None, *args: str) -> Installed:
        """Run ``SHELL install.sh ARGS`` with ``env`` added to the minimal environment."""
        environ = {"PATH": self.path, "HOME": str(self.home), **(env or {})}
        done = subprocess.run(
            [shutil.which(self.shell) or self.shell, str(INSTALL_SH), *args],
            env=environ,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Installed(done.returncode, done.stdout, done.stderr)


def cache_entries(cache: Path) -> list[str]:
    """What is in a cache folder (names, sorted); [] when it does not exist."""
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


def default_cache(home: Path) -> Path:
    """install.sh's cache folder for HOME with no CUSTOMCD_CACHE_DIR / XDG_CACHE_HOME."""
    return home / ".cache" / "customcd"
