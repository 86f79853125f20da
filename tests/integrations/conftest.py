"""Shared pieces of the CI integration tests: a standalone-build double served on loopback.

The integrations install customcd with ``packaging/install.sh`` from ``CUSTOMCD_DOWNLOAD_URL``:
a folder holding ``customcd-<os>-<arch>.tar.gz`` (``customcd/customcd`` inside) and its
``.sha256``. Here the archive's ``customcd/customcd`` is a shell script that runs this
workspace's ``customcd``, and a ``http.server`` on 127.0.0.1 serves the folder (optionally
slowly, to show that installing never counts in a job's duration). Until the real
``packaging/install.sh`` is on the branch, ``install_double.sh`` (same interface) stands in.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import socket
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from customcd.receiver import Receiver
from customcd.testing import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / ".ci" / "node_modules" / ".bin"
GROOVY_JAVA_HOMES = ("/usr/lib/jvm/default-java", "/usr/lib/jvm/java-17-openjdk-amd64")


def install_sh() -> Path:
    """``packaging/install.sh``, or its test double until the real one lands."""
    real = ROOT / "packaging" / "install.sh"
    return real if real.is_file() else Path(__file__).with_name("install_double.sh")


def need(tool: str | None, why: str) -> str:
    """The tool's path; skip without it, but fail under CI (``.ci/run`` installs it)."""
    if tool and (Path(tool).is_file() or shutil.which(tool)):
        return tool if Path(tool).is_file() else str(shutil.which(tool))
    message = f"{why} is not installed (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run this test")
    pytest.skip(message)


def workspace_customcd() -> Path:
    """The ``customcd`` console script of the environment running the tests."""
    found = Path(sys.executable).parent / "customcd"
    assert found.is_file(), f"no {found}: run the tests with `uv run pytest`"
    return found


def archive_name() -> str:
    """``customcd-<os>-<arch>.tar.gz`` for this machine, as install.sh asks for it."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "windows"}[platform.system()]
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower())
    return f"customcd-{system}-{machine or platform.machine().lower()}.tar.gz"


def build_double(folder: Path) -> Path:
    """Write the archive (its ``customcd/customcd`` runs the workspace's) and its .sha256."""
    script = f'#!/bin/sh\nexec "{workspace_customcd()}" "$@"\n'.encode()
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        folder_info = tarfile.TarInfo("customcd")
        folder_info.type, folder_info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder_info)
        info = tarfile.TarInfo("customcd/customcd")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    name = archive_name()
    archive = folder / name
    archive.write_bytes(data.getvalue())
    digest = hashlib.sha256(data.getvalue()).hexdigest()
    (folder / f"{name}.sha256").write_text(f"{digest}  {name}\n", encoding="utf-8")
    return archive


@dataclass
class DownloadServer:
    """A loopback HTTP server of the release folder; ``delay`` slows every archive download."""

    folder: Path
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture(scope="session")
def release_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the standalone-build double and its checksum."""
    folder = tmp_path_factory.mktemp("release")
    build_double(folder)
    return folder


@contextmanager
def serve(folder: Path) -> Iterator[DownloadServer]:
    """Serve ``folder`` on 127.0.0.1; ``.url`` is the CUSTOMCD_DOWNLOAD_URL."""
    state = DownloadServer(folder)

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            state.requests.append(self.path)

        def do_GET(self) -> None:
            if self.path.endswith(".tar.gz") and state.delay:
                time.sleep(state.delay)
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def download_server(release_folder: Path) -> Iterator[DownloadServer]:
    """Serves ``release_folder`` on 127.0.0.1 (``.url`` is the CUSTOMCD_DOWNLOAD_URL)."""
    with serve(release_folder) as state:
        yield state


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/release"


@pytest.fixture(scope="module")
def module_receiver() -> Iterator[Receiver]:
    """A local receiver for a whole module (one pipeline run, several checks)."""
    with Receiver(company_id="1", token=TEST_TOKEN) as receiver:
        yield receiver


def base_env(tmp: Path) -> dict[str, str]:
    """A minimal, CI-free environment for running the integrations' shell."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update({"HOME": str(tmp / "home"), "TMPDIR": str(tmp)})
    (tmp / "home").mkdir(exist_ok=True)
    return env
