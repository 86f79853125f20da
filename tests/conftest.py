"""Shared test configuration: cassettes per external system, secrets filtered when recording;
the parallel run (pytest-xdist: how many workers, work done once per run, soak tests alone).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, so no test runs alone there and
    # once_per_run works per worker
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"

_SECRET_HEADERS = [
    ("authorization", "REDACTED"),
    ("private-token", "REDACTED"),
    ("job-token", "REDACTED"),
    ("cookie", "REDACTED"),
    ("set-cookie", "REDACTED"),
    ("x-vss-userdata", "REDACTED"),
]


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """Cassettes live in cassettes/<system>/, the system named by tests/adapters/<system>/..."""
    path = Path(request.node.path).resolve()
    parts = path.relative_to(ROOT / "tests").parts
    system = parts[1] if len(parts) > 2 and parts[0] in {"adapters", "plugins"} else parts[0]
    return str(CASSETTES / system.replace("-", "_"))


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    """Never store credentials in a cassette; replay only (record mode is set on the CLI)."""
    return {
        "filter_headers": _SECRET_HEADERS,
        "filter_query_parameters": [("private_token", "REDACTED"), ("token", "REDACTED")],
        "decode_compressed_response": True,
    }


# -- the parallel run (pytest-xdist) ------------------------------------------------------------
#
# `addopts` runs the suite with `--numprocesses=auto --dist=loadfile`: each xdist worker is a
# process of its own, with its own session, and takes whole test files. Session-scoped fixtures
# (and module-scoped ones, with another --dist) run once per worker that needs them. Two things
# here keep that safe and cheap:
#
# - `once_per_run`: expensive work (a build, a pipeline) done once per run, shared by the workers;
# - the `alone` lock: a test marked `soak` or `alone` runs with no other test beside it.
#
# Both keep their lock files in the run's own temporary folder, the parent of every worker's
# basetemp (`<basetemp>/popen-gwN`). Not under xdist, neither is needed.

OncePerRun = Callable[[str, Callable[[Path], object]], Path]


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With pytest-xdist switched off (``-p no:xdist``), accept and ignore the
    ``--numprocesses`` and ``--dist`` of ``addopts`` instead of failing on them (which is why
    ``addopts`` spells them long: a conftest may not add ``-n``)."""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is switched off (-p no:xdist)")
    group.addoption("--numprocesses", dest="numprocesses", default=None, help="Ignored.")
    group.addoption("--dist", dest="dist", default="no", help="Ignored.")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (the default, from ``addopts``): two workers per CPU.

    Many tests wait on subprocesses and sockets rather than compute, so more workers than CPUs
    keep the CPUs busy. On two cores the suite took about 170 s with 2 workers, 155 s with 3 and
    135 s with 4; 6 and 8 were no faster, and loaded the machine enough to upset a test timing a
    deadline. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set (xdist reads it).
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return 2 * max(cpus, 1)


def _run_folder(config: pytest.Config) -> Path | None:
    """The temporary folder of the whole parallel run, or None when not an xdist worker."""
    if fcntl is None or not hasattr(config, "workerinput") or not config.option.basetemp:
        return None  # no flock on Windows: each worker then works alone
    return Path(config.option.basetemp).parent


@contextlib.contextmanager
def _locked(path: Path, operation: int) -> Iterator[None]:
    with open(path, "a") as file:
        fcntl.flock(file.fileno(), operation)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def once_per_run(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> OncePerRun:
    """``once_per_run(name, make)``: a folder that ``make(folder)`` filled, made once per run.

    Under xdist the first worker to ask makes ``name`` in the run's temporary folder, holding
    ``name.lock``; the others wait for it, then share the folder (read it, never change it). When
    ``make`` fails (or skips), each test that needs the folder fails (or skips) the same way, and
    the next worker to ask tries again. Not under xdist: a new folder per call, as
    ``tmp_path_factory.mktemp(name)`` gives.
    """
    run = _run_folder(pytestconfig)

    def get(name: str, make: Callable[[Path], object]) -> Path:
        if run is None:
            folder = tmp_path_factory.mktemp(name)
            make(folder)
            return folder
        folder, done = run / name, run / f"{name}.done"
        with _locked(run / f"{name}.lock", fcntl.LOCK_EX):
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # what a failed try left
                folder.mkdir()
                make(folder)
                done.touch()
        return folder

    return get


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Under xdist, a test marked ``soak`` or ``alone`` runs alone: no other test meanwhile.

    A soak test loads the machine on purpose (32 ``customcd send`` processes at once, kill -9
    rounds), and tests beside it that bound a run by a short real deadline, or time one, failed
    under that load. A test marked ``alone`` needs the machine unloaded (its comment says why).
    Every test holds ``alone.lock`` shared while it runs (setup, call and teardown), those hold it
    exclusively. Each takes ``alone-gate.lock`` while acquiring it, so a test waiting to run
    alone keeps new ones from starting (a steady stream of shared holders cannot starve it).
    """
    run = _run_folder(item.config)
    if run is None:
        return (yield)
    exclusive = any(item.get_closest_marker(name) for name in ("soak", "alone"))
    with contextlib.ExitStack() as held:
        with _locked(run / "alone-gate.lock", fcntl.LOCK_EX):
            held.enter_context(
                _locked(run / "alone.lock", fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            )
        return (yield)
