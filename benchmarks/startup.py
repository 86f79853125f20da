"""Start-up cost of the reporting step (issue 9).

Runs, alternating, N rounds of each command and prints the median wall time of:

(a) ``python -c "import httpx, pydantic, pluggy, click"`` -- the floor of any reporter on this stack
(b) ``customcd send --dry-run`` in a GitLab ``after_script`` job environment
(c) ``customcd send`` to a local receiver (``customcd.receiver.Receiver`` on loopback, started in
    this process; a fresh outbox in a temp dir; a distinct CI_JOB_ID per round)
(d) ``curl`` posting the same body to the same receiver (skipped when curl is missing)

and the ratios b/a, c/a, c/d and the peak RSS of (c), with the targets of issue 15 (the budget
after the move to httpx's own transport and ``importlib.metadata``): b/a <= 1.3, c/a <= 1.6,
peak RSS of (c) <= 45 MB.

Where: by default in a **user install**, the way a CI image installs customcd: a new virtual
environment (``uv venv``, or ``python -m venv``) with the core, the GitLab adapter and the git
plugin from this checkout (:data:`INSTALL`), non-editable, with their dependencies, byte-compiled
at install time (``uv pip install --compile-bytecode``; pip compiles by default). All four commands
run in that environment. ``--workspace`` measures this development environment instead (editable,
every adapter and plugin, the dev and docs tools: about 65 distributions, each read by plugin
discovery), byte-compiled first unless ``--no-compile``: otherwise a shell with
``PYTHONDONTWRITEBYTECODE=1``, or a checkout edited since its last run, would measure the compiler.

Commands run through the environment's interpreter and its ``customcd`` console script, never
through ``uv run`` (which adds its own start-up). The peak RSS of each child comes from
``os.wait4`` (its own ``ru_maxrss``, not the maximum over all children).

Usage::

    uv run python benchmarks/startup.py              # report; exit 0 even when a target is missed
    uv run python benchmarks/startup.py --workspace  # the same in this development environment
    uv run python benchmarks/startup.py --rounds 31  # more rounds
    uv run python benchmarks/startup.py --check      # exit 1 when a target is missed
    uv run python benchmarks/startup.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGETS = {"b/a": 1.3, "c/a": 1.6, "rss_c_mb": 45.0}
FLOOR_CODE = "import httpx, pydantic, pluggy, click"
TOKEN = "bench-token-0123456789"
COMPANY = "1"

#: Variables of other CIs (and of customcd itself) removed from the inherited environment so that
#: exactly the GitLab adapter detects the job, whatever machine the benchmark runs on.
_FOREIGN_PREFIXES = (
    "CI_",
    "GITLAB_",
    "GITHUB_",
    "RUNNER_",
    "JENKINS_",
    "BUILD_",
    "SYSTEM_",
    "AGENT_",
    "CUSTOMCD_",
)
_FOREIGN_NAMES = {"CI", "TF_BUILD", "JOB_NAME", "JOB_URL", "BUILD_URL", "NODE_NAME", "WORKSPACE"}


@dataclass
class Case:
    """One command measured every round."""

    key: str
    label: str
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    skipped: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    @property
    def peak_rss_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else float("nan")


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_FOREIGN_PREFIXES) and k not in _FOREIGN_NAMES
    }
    # the benchmark measures the tool, not a leftover debugging setting
    for name in ("PYTHONPROFILEIMPORTTIME", "PYTHONTRACEMALLOC", "PYTHONDEVMODE", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def gitlab_env(base: dict[str, str], job_id: int, started: datetime) -> dict[str, str]:
    """The variables a GitLab ``after_script`` of a successful deploy job has (no API token)."""
    env = dict(base)
    env.update(
        {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_SERVER": "yes",
            "CI_SERVER_URL": "https://gitlab.example.com",
            "CI_SERVER_HOST": "gitlab.example.com",
            "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
            "CI_PROJECT_ID": "4242",
            "CI_PROJECT_PATH": "acme/shop",
            "CI_PROJECT_NAME": "shop",
            "CI_PROJECT_NAMESPACE": "acme",
            "CI_PROJECT_URL": "https://gitlab.example.com/acme/shop",
            "CI_PIPELINE_ID": "987654",
            "CI_PIPELINE_IID": "321",
            "CI_PIPELINE_SOURCE": "push",
            "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/-/pipelines/987654",
            "CI_JOB_ID": str(job_id),
            "CI_JOB_NAME": "deploy-production",
            "CI_JOB_STAGE": "deploy",
            "CI_JOB_URL": f"https://gitlab.example.com/acme/shop/-/jobs/{job_id}",
            "CI_JOB_STARTED_AT": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "CI_JOB_STATUS": "success",
            "CI_COMMIT_SHA": "4f9a3c2e1b0d8f7a6e5d4c3b2a1f0e9d8c7b6a59",
            "CI_COMMIT_SHORT_SHA": "4f9a3c2e",
            "CI_COMMIT_REF_NAME": "main",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
            "CI_ENVIRONMENT_NAME": "production",
            "CI_ENVIRONMENT_SLUG": "production",
            "CI_ENVIRONMENT_TIER": "production",
            "GITLAB_USER_EMAIL": "dev@example.com",
            "GITLAB_USER_LOGIN": "dev",
            "GITLAB_USER_ID": "17",
            "CUSTOMCD_SERVICE_ID": "2",
        }
    )
    return env


#: A tiny stdlib-only process (``python -I -S``) that starts every measured command. Linux counts
#: the RSS of the process that forks a child in the child's ``ru_maxrss``; spawning from this
#: ~9 MB helper instead of the benchmark (which holds the receiver and pydantic, ~35 MB) keeps
#: each command's peak RSS its own. It times each command itself (fork to exit).
_SPAWNER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    req = json.loads(line)
    with open(req["out"], "wb") as out, open(req["err"], "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(req["argv"], env=req["env"], cwd=req["cwd"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    rss = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    reply = {"elapsed": elapsed, "rc": os.waitstatus_to_exitcode(status), "rss_kb": rss}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
"""


class Spawner:
    """Runs commands through the small helper process; see ``_SPAWNER``."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: str) -> tuple[float, int, str]:
        """Run one command; return (wall seconds, its own peak RSS in KB, stdout)."""
        out, err = self._scratch / "stdout", self._scratch / "stderr"
        request = {"argv": list(argv), "env": env, "cwd": cwd, "out": str(out), "err": str(err)}
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the spawner helper died")
        reply = json.loads(line)
        if reply["rc"] != 0:
            raise RuntimeError(
                f"{' '.join(argv[:3])}... exited {reply['rc']}: "
                f"{err.read_text(errors='replace')[-2000:]}"
            )
        return reply["elapsed"], reply["rss_kb"], out.read_text(errors="replace")

    def close(self) -> None:
        """Stop the helper."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


def _console_script(python: str) -> str:
    here = Path(python).parent
    for name in ("customcd", "customcd.exe"):
        if (here / name).exists():
            return str(here / name)
    sys.exit(f"customcd console script not found next to {python}; run `uv sync`")


#: What the user install holds: the core, the adapter of the benchmark's job and the git plugin,
#: as ``pip install customcd customcd-gitlab customcd-git`` installs them (from this checkout).
INSTALL = ("core", "adapters/gitlab", "plugins/git")
#: Their distributions' names.
PACKAGES = ("customcd", "customcd-gitlab", "customcd-git")


def user_install(folder: Path) -> str:
    """Install :data:`INSTALL` into a new virtual environment in ``folder``, compiled.

    Non-editable, with their dependencies, byte-compiled at install time (``uv pip install
    --compile-bytecode``, or pip, which compiles by default): what a user's CI image has.
    Returns the environment's Python.
    """
    root = Path(__file__).resolve().parent.parent
    sources = [str(root / path) for path in INSTALL]
    venv = folder / "venv"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        # --no-sources: the workspace's [tool.uv.sources] would make the core an editable
        # install; --refresh-package: build from the checkout as it is, never a cached wheel
        refresh = [arg for name in PACKAGES for arg in ("--refresh-package", name)]
        install = [uv, "pip", "install", "-q", "--python", str(python), "--compile-bytecode"]
        install += ["--no-sources", *refresh]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*install, *sources], check=True)
    return str(python)


def distributions(python: str) -> int:
    """How many distributions ``python``'s environment has (plugin discovery reads them all)."""
    code = "import importlib.metadata as m; print(len(list(m.distributions())))"
    return int(subprocess.run([python, "-c", code], capture_output=True, text=True).stdout or 0)


def measure(
    rounds: int, warmup: int, progress: Callable[[str], None], python: str
) -> dict[str, Case]:
    """Run the rounds with ``python``'s environment; return the cases with their timings."""
    from customcd.receiver import Receiver

    customcd = _console_script(python)
    curl = shutil.which("curl")
    cases = {
        "a": Case("a", f'python -c "{FLOOR_CODE}"'),
        "b": Case("b", "customcd send --dry-run (GitLab job)"),
        "c": Case("c", "customcd send -> local receiver (GitLab job)"),
        "d": Case("d", "curl POST of the same body -> local receiver"),
    }
    if curl is None:
        cases["d"].skipped = "curl is not installed"
    base = _clean_env()
    started = datetime.now(timezone.utc) - timedelta(minutes=3)

    with tempfile.TemporaryDirectory(prefix="customcd-bench-") as tmp:
        work = Path(tmp) / "work"  # no customcd.toml, no git checkout: nothing but the job
        work.mkdir()
        spawner = Spawner(Path(tmp))
        receiver = Receiver(company_id=COMPANY, token=TOKEN).start()
        try:
            send_env = {
                "CUSTOMCD_URL": receiver.url,
                "CUSTOMCD_COMPANY_ID": COMPANY,
                "CUSTOMCD_TOKEN": TOKEN,
                "CUSTOMCD_OUTBOX": str(Path(tmp) / "outbox" / "outbox.sqlite3"),
                "CUSTOMCD_STRICT": "1",  # a failed delivery must fail the benchmark, not hide
            }
            body_template: dict[str, object] | None = None
            job_base = 50_000_000
            total = warmup + rounds
            for index in range(total):
                job_id = job_base + index
                counted = index >= warmup
                env = gitlab_env(base, job_id, started)
                order = ["a", "b", "c", "d"]
                shift = index % len(order)  # rotate so no command always runs first
                for key in order[shift:] + order[:shift]:
                    case = cases[key]
                    if case.skipped:
                        continue
                    if key == "a":
                        result = spawner.run([python, "-c", FLOOR_CODE], base, str(work))
                    elif key == "b":
                        result = spawner.run([customcd, "send", "--dry-run"], env, str(work))
                        if body_template is None:
                            body_template = json.loads(result[2])
                    elif key == "c":
                        before = len(receiver.accepted)
                        result = spawner.run([customcd, "send"], {**env, **send_env}, str(work))
                        if len(receiver.accepted) != before + 1:
                            raise RuntimeError("customcd send did not deliver a new record")
                    else:
                        if body_template is None:
                            body_template = json.loads(
                                spawner.run([customcd, "send", "--dry-run"], env, str(work))[2]
                            )
                        body = dict(body_template, job_id=f"curl-{job_id}")
                        body_file = Path(tmp) / "body.json"
                        body_file.write_text(json.dumps(body, separators=(",", ":")))
                        before = len(receiver.accepted)
                        result = spawner.run(
                            [
                                curl or "curl",
                                "-sS",
                                "--fail",
                                "-o",
                                os.devnull,
                                "-X",
                                "POST",
                                "-H",
                                "Content-Type: application/json",
                                "-H",
                                f"Authorization: Bearer {TOKEN}",
                                "-H",
                                f"Idempotency-Key: curl-{job_id}",
                                "--data-binary",
                                f"@{body_file}",
                                receiver.endpoint,
                            ],
                            base,
                            str(work),
                        )
                        if len(receiver.accepted) != before + 1:
                            raise RuntimeError("curl did not deliver a new record")
                    if counted:
                        case.times.append(result[0])
                        case.rss_kb.append(result[1])
                progress(
                    f"round {index + 1 - warmup}/{rounds}" if counted else f"warm-up {index + 1}"
                )
        finally:
            receiver.stop()
            spawner.close()
    return cases


def summarise(cases: dict[str, Case], rounds: int) -> dict[str, object]:
    """The figures and the verdict on each target."""
    a, b, c, d = (cases[k] for k in "abcd")
    ratios = {
        "b/a": b.median_ms / a.median_ms,
        "c/a": c.median_ms / a.median_ms,
        "c/d": c.median_ms / d.median_ms if d.times else None,
    }
    rss_c = c.peak_rss_mb
    met = {
        "b/a": ratios["b/a"] <= TARGETS["b/a"],
        "c/a": ratios["c/a"] <= TARGETS["c/a"],
        "rss_c_mb": rss_c <= TARGETS["rss_c_mb"],
    }
    return {
        "rounds": rounds,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "median_ms": {
            k: (None if cs.skipped else round(cs.median_ms, 1)) for k, cs in cases.items()
        },
        "peak_rss_mb": {
            k: (None if cs.skipped else round(cs.peak_rss_mb, 1)) for k, cs in cases.items()
        },
        "ratios": {k: (None if v is None else round(v, 2)) for k, v in ratios.items()},
        "targets": TARGETS,
        "met": met,
        "skipped": {k: cs.skipped for k, cs in cases.items() if cs.skipped},
    }


def case_table(cases: dict[str, Case], width: int) -> list[str]:
    """One header line, then one line per case: median, min, max and peak RSS."""
    lines = [f"{'':4}{'command':{width}}{'median':>11}{'min':>10}{'max':>10}{'peak RSS':>11}"]
    for key, case in cases.items():
        if case.skipped:
            lines.append(f"({key}) {case.label:{width}}skipped: {case.skipped}")
            continue
        lines.append(
            f"({key}) {case.label:{width}}{case.median_ms:8.1f} ms"
            f"{min(case.times) * 1000:7.1f} ms{max(case.times) * 1000:7.1f} ms"
            f"{case.peak_rss_mb:8.1f} MB"
        )
    return lines


def render(cases: dict[str, Case], summary: dict[str, object]) -> str:
    """The report as text."""
    machine = summary["machine"]
    assert isinstance(machine, dict)
    lines = [
        f"customcd start-up benchmark: {summary['rounds']} rounds each, alternating; "
        f"{machine['cpus']} CPUs, Python {machine['python']}",
        f"measured in {summary['environment']}",
        "",
        *case_table(cases, 48),
    ]
    ratios = summary["ratios"]
    met = summary["met"]
    assert isinstance(ratios, dict) and isinstance(met, dict)

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines += [
        "",
        f"b/a = {ratios['b/a']:.2f}   target <= {TARGETS['b/a']}   {verdict(met['b/a'])}",
        f"c/a = {ratios['c/a']:.2f}   target <= {TARGETS['c/a']}   {verdict(met['c/a'])}",
        (
            f"c/d = {ratios['c/d']:.2f}   (customcd vs bare curl; no target)"
            if ratios["c/d"] is not None
            else f"c/d = n/a ({cases['d'].skipped})"
        ),
        f"peak RSS of (c) = {cases['c'].peak_rss_mb:.1f} MB   target <= "
        f"{TARGETS['rss_c_mb']:.0f} MB   {verdict(met['rss_c_mb'])}",
    ]
    return "\n".join(lines)


def byte_compile() -> None:
    """Byte-compile site-packages and the workspace sources (what an installer does)."""
    import compileall
    import sysconfig

    root = Path(__file__).resolve().parent.parent
    folders = [Path(sysconfig.get_paths()["purelib"])]
    folders += sorted(p for p in root.glob("*/*/src") if p.is_dir())  # adapters/*, plugins/*
    folders += [root / "core" / "src"]
    for folder in folders:
        compileall.compile_dir(folder, quiet=2, workers=0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 (or 1 with --check when a target is missed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="counted rounds (>= 15; default 21)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted rounds first (default 2)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--workspace",
        action="store_true",
        help="measure this environment (the development workspace) instead of a new user install",
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="with --workspace: do not byte-compile the environment first",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.rounds < 15:
        print(f"note: {args.rounds} rounds; issue 9 figures need at least 15", file=sys.stderr)

    def progress(text: str) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\r{text:30}", end="", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="customcd-install-") as folder:
        if args.workspace:
            python = sys.executable
            if not args.no_compile:
                byte_compile()
        else:
            progress("installing")
            python = user_install(Path(folder))
        environment = (
            "this workspace's environment (editable, every plugin and the dev tools)"
            if args.workspace
            else f"a new user install: {', '.join(INSTALL)} and their dependencies, compiled"
        )
        environment += f"; {distributions(python)} distributions"
        cases = measure(args.rounds, args.warmup, progress, python)
    if not args.quiet and sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)
    summary = summarise(cases, args.rounds)
    summary["environment"] = environment
    print(render(cases, summary))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    met = summary["met"]
    assert isinstance(met, dict)
    if args.check and not all(met.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
