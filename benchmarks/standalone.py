"""The standalone build against a byte-compiled virtual environment (issue 14).

Measured side by side in one run, alternating the order every round, median wall time of:

(v) ``customcd send --dry-run`` of the venv (this interpreter's console script, byte-compiled)
(s) ``customcd send --dry-run`` of the standalone build (unpacked from the archive)
(V) ``customcd send`` of the venv to a local receiver (GitLab ``after_script`` job)
(S) ``customcd send`` of the standalone to the same receiver
(N) ``customcd send`` of a venv installed without bytecode (uv's and pip's ``--no-compile``
    default for some installers, or an image with ``PYTHONDONTWRITEBYTECODE=1``), run with
    ``PYTHONDONTWRITEBYTECODE=1`` so it stays so: what docs/install.md's "always compile" is about

and the ratios s/v, S/V (target S/V <= 1.5) and N/V, the archive's compressed size (target <= 30 MB)
and unpacked size, and what install.sh costs a job: a first install (checksum, copy, verify,
unpack, from a ``file://`` folder, so no network is timed) and a cached one.

Both programs get the same environment; the test suite (tests/packaging) covers the standalone
with no Python on PATH. Helpers (the spawner that times each command and reads its own peak RSS,
the GitLab job environment, byte-compiling) come from ``benchmarks/startup.py``.

Usage::

    bash packaging/standalone/build                    # makes dist/customcd-<os>-<arch>.tar.gz
    uv run python benchmarks/standalone.py             # report; exit 0 even when a target is missed
    uv run python benchmarks/standalone.py --archive PATH --rounds 31 --json out.json
    uv run python benchmarks/standalone.py --check     # exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from startup import (
    COMPANY,
    TOKEN,
    Case,
    Spawner,
    _clean_env,
    _console_script,
    byte_compile,
    case_table,
    gitlab_env,
)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"S/V": 1.5, "archive_mb": 30.0}
MB = 1024 * 1024


def platform_name() -> str:
    """``<os>-<arch>`` as install.sh prints it (the archive's name)."""
    done = subprocess.run(
        ["sh", str(ROOT / "packaging" / "install.sh"), "--platform"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def default_archive() -> Path:
    """``CUSTOMCD_STANDALONE_ARCHIVE``, else the build's output for this machine in dist/."""
    given = os.environ.get("CUSTOMCD_STANDALONE_ARCHIVE")
    return Path(given) if given else ROOT / "dist" / f"customcd-{platform_name()}.tar.gz"


def unpack(archive: Path, into: Path) -> Path:
    """Unpack the archive; return its ``customcd`` program."""
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "tar_filter"):  # Python >= 3.10.12 / 3.11.4
            tar.extractall(into, filter="tar")
        else:
            tar.extractall(into)
    return into / "customcd" / ("customcd.exe" if os.name == "nt" else "customcd")


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _members() -> list[Path]:
    """The workspace's distributions: core, adapters/*, plugins/*."""
    found = [ROOT / "core"]
    for pattern in ("adapters/*/pyproject.toml", "plugins/*/pyproject.toml"):
        found += sorted(p.parent for p in ROOT.glob(pattern))
    return found


def uncompiled_venv(scratch: Path) -> str | None:
    """A fresh venv with customcd and every adapter, installed without bytecode (needs uv)."""
    uv = shutil.which("uv")
    if uv is None:
        return None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    venv = scratch / "no-bytecode-venv"
    env = {k: v for k, v in os.environ.items() if k not in ("UV_COMPILE_BYTECODE", "VIRTUAL_ENV")}
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env=env, check=True
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    refresh = []
    for member in _members():
        name = tomllib.loads((member / "pyproject.toml").read_text())["project"]["name"]
        refresh += ["--refresh-package", name]
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), *refresh]
        + [str(m) for m in _members()],
        env=env,
        check=True,
    )
    return str(python.parent / "customcd")


def install_times(archive: Path, scratch: Path) -> dict[str, float] | None:
    """Seconds install.sh takes on a cold cache and on a warm one (``file://``; needs curl)."""
    if shutil.which("curl") is None:
        return None
    env = {
        **_clean_env(),
        "CUSTOMCD_DOWNLOAD_URL": archive.parent.resolve().as_uri(),
        "CUSTOMCD_CACHE_DIR": str(scratch / "install-cache"),
        "CUSTOMCD_INSTALL_STRICT": "1",
    }
    script = str(ROOT / "packaging" / "install.sh")
    times = {}
    for label in ("first", "cached"):
        start = time.perf_counter()
        subprocess.run(["sh", script], env=env, check=True, capture_output=True)
        times[label] = time.perf_counter() - start
    return times


def measure(
    standalone: str,
    uncompiled: str | None,
    rounds: int,
    warmup: int,
    progress: Callable[[str], None],
) -> dict[str, Case]:
    """Run the rounds; return the cases with their timings."""
    from customcd.receiver import Receiver

    venv = _console_script()
    cases = {
        "v": Case("v", "venv: customcd send --dry-run"),
        "s": Case("s", "standalone: customcd send --dry-run"),
        "V": Case("V", "venv: customcd send -> local receiver"),
        "S": Case("S", "standalone: customcd send -> local receiver"),
        "N": Case("N", "venv, no bytecode: customcd send -> receiver"),
    }
    programs = {"v": venv, "s": standalone, "V": venv, "S": standalone, "N": uncompiled or ""}
    if uncompiled is None:
        cases["N"].skipped = "uv is not installed"
    base = _clean_env()
    started = datetime.now(timezone.utc) - timedelta(minutes=3)
    with tempfile.TemporaryDirectory(prefix="customcd-bench-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        spawner = Spawner(Path(tmp))
        receiver = Receiver(company_id=COMPANY, token=TOKEN).start()
        try:
            send_env = {
                "CUSTOMCD_URL": receiver.url,
                "CUSTOMCD_COMPANY_ID": COMPANY,
                "CUSTOMCD_TOKEN": TOKEN,
                "CUSTOMCD_OUTBOX": str(Path(tmp) / "outbox" / "outbox.sqlite3"),
                "CUSTOMCD_STRICT": "1",  # a failed delivery fails the benchmark
            }
            order = list(cases)
            for index in range(warmup + rounds):
                counted = index >= warmup
                shift = index % len(order)
                for key in order[shift:] + order[:shift]:
                    if cases[key].skipped:
                        continue
                    job_id = 60_000_000 + index * len(order) + order.index(key)
                    env = gitlab_env(base, job_id, started)
                    if key == "N":
                        env["PYTHONDONTWRITEBYTECODE"] = "1"
                    if key in "vs":
                        result = spawner.run([programs[key], "send", "--dry-run"], env, str(work))
                        if json.loads(result[2])["job_id"] != str(job_id):
                            raise RuntimeError(f"({key}) printed another job's body")
                    else:
                        before = len(receiver.accepted)
                        result = spawner.run(
                            [programs[key], "send"], {**env, **send_env}, str(work)
                        )
                        if len(receiver.accepted) != before + 1:
                            raise RuntimeError(f"({key}) did not deliver a new record")
                    if counted:
                        cases[key].times.append(result[0])
                        cases[key].rss_kb.append(result[1])
                progress(f"round {index + 1 - warmup}/{rounds}" if counted else "warm-up")
        finally:
            receiver.stop()
            spawner.close()
    return cases


def summarise(
    cases: dict[str, Case], archive: Path, unpacked: int, installs: dict[str, float] | None
) -> dict[str, object]:
    """The figures and the verdict on each target."""
    ratios = {
        "s/v": cases["s"].median_ms / cases["v"].median_ms,
        "S/V": cases["S"].median_ms / cases["V"].median_ms,
        "N/V": None if cases["N"].skipped else cases["N"].median_ms / cases["V"].median_ms,
    }
    archive_mb = archive.stat().st_size / MB
    return {
        "rounds": len(cases["S"].times),
        "cpus": os.cpu_count(),
        "archive": archive.name,
        "median_ms": {k: None if c.skipped else round(c.median_ms, 1) for k, c in cases.items()},
        "peak_rss_mb": {
            k: None if c.skipped else round(c.peak_rss_mb, 1) for k, c in cases.items()
        },
        "ratios": {k: None if v is None else round(v, 2) for k, v in ratios.items()},
        "archive_mb": round(archive_mb, 1),
        "unpacked_mb": round(unpacked / MB, 1),
        "install_s": None if installs is None else {k: round(v, 2) for k, v in installs.items()},
        "targets": TARGETS,
        "met": {"S/V": ratios["S/V"] <= TARGETS["S/V"], "archive_mb": archive_mb <= 30.0},
    }


def render(cases: dict[str, Case], summary: dict[str, object]) -> str:
    """The report as text."""
    ratios, met = summary["ratios"], summary["met"]
    assert isinstance(ratios, dict) and isinstance(met, dict)
    lines = [
        f"customcd standalone vs byte-compiled venv: {summary['rounds']} rounds each, "
        f"alternating; {summary['cpus']} CPUs; {summary['archive']}",
        "",
        *case_table(cases, 46),
    ]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines += [
        "",
        f"S/V = {ratios['S/V']:.2f}   target <= {TARGETS['S/V']}   {verdict(met['S/V'])}",
        f"s/v = {ratios['s/v']:.2f}   (dry run; no target)",
        (
            f"N/V = {ratios['N/V']:.2f}   (a venv without bytecode vs the compiled one; no target)"
            if ratios["N/V"] is not None
            else "N/V = n/a (uv is not installed)"
        ),
        f"archive = {summary['archive_mb']} MB compressed   target <= "
        f"{TARGETS['archive_mb']:.0f} MB   {verdict(met['archive_mb'])}; "
        f"{summary['unpacked_mb']} MB unpacked",
    ]
    installs = summary["install_s"]
    if isinstance(installs, dict):
        lines.append(
            f"install.sh (file://, no network) = {installs['first']:.2f} s first, "
            f"{installs['cached'] * 1000:.0f} ms cached"
        )
    else:
        lines.append("install.sh = n/a (curl is not installed)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 (or 1 with --check when a target is missed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=None, help="the standalone .tar.gz")
    parser.add_argument("--rounds", type=int, default=21, help="counted rounds (default 21)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted rounds first (default 2)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--no-compile", action="store_true", help="do not byte-compile the venv first"
    )
    parser.add_argument(
        "--no-uncompiled", action="store_true", help="skip (N), the venv without bytecode"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    archive = args.archive or default_archive()
    if not archive.is_file():
        parser.error(f"{archive} does not exist: run `bash packaging/standalone/build` first")

    def progress(text: str) -> None:
        if sys.stderr.isatty():
            print(f"\r{text:30}", end="", file=sys.stderr, flush=True)

    if not args.no_compile:
        byte_compile()
    with tempfile.TemporaryDirectory(prefix="customcd-standalone-") as tmp:
        program = unpack(archive, Path(tmp))
        unpacked = folder_size(program.parent)
        installs = install_times(archive, Path(tmp))
        uncompiled = None if args.no_uncompiled else uncompiled_venv(Path(tmp))
        cases = measure(str(program), uncompiled, args.rounds, args.warmup, progress)
    if sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)
    summary = summarise(cases, archive, unpacked, installs)
    print(render(cases, summary))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    met = summary["met"]
    assert isinstance(met, dict)
    return 1 if args.check and not all(met.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
