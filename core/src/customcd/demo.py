"""``customcd demo``: the main job end to end on the embedded receiver, with no configuration."""

from __future__ import annotations

import io
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .config import Config
from .contract.problems import CustomcdError
from .pipeline import run_send
from .plugins.adapter import DEMO_EPOCH
from .plugins.manager import Plugins, get_plugin_manager
from .receiver import Receiver
from .report import Reporter
from .secret import Secret
from .table import render_table

__all__ = ["SEED_SAMPLE", "run_demo"]

#: The vendor document's sample payload, as flags (its start time is 2023-12-31T10:20:30Z).
SEED_SAMPLE: dict[str, Any] = {
    "job_id": "1",
    "status": "Succeeded",
    "commit_sha": "a2e7da86cc392417b0d9f605b28038aae80b002f",
    "triggered_by": "",
    "repo_id": "12345",
    "service_id": 2,
    "job_start_time": 1704018030,
    "job_duration": 300,
    "job_type": "Production Deploy",
}
SEED_OPTIONAL = (
    "microservice=frontend",
    "microservice=backend",
    "lead_time:duration=20",
    "float_key:float=20.5",
    "qa_approved_on:timestamp=1704018030",
)


def _cases(
    plugins: Plugins,
) -> tuple[list[tuple[str, str, dict[str, str], dict[str, Any], tuple[str, ...]]], list[str]]:
    """(source, adapter, env, flags, optional) for every demo record; adapters whose cases fail."""
    cases: list[tuple[str, str, dict[str, str], dict[str, Any], tuple[str, ...]]] = [
        ("contract sample (flags only)", "none", {}, dict(SEED_SAMPLE), SEED_OPTIONAL),
    ]
    broken: list[str] = []
    for name, adapter in plugins.adapters().items():
        try:
            samples = list(adapter.demo_cases())
        except Exception as exc:  # one plugin's bad sample must not stop the demo of the others
            click.echo(f"  {adapter.title}: no demo cases ({type(exc).__name__}: {exc})", err=True)
            broken.append(adapter.title)
            continue
        for case in samples:
            flags = {"service_id": 2, **dict(case.overrides)}
            cases.append((f"{adapter.title}: {case.title}", name, dict(case.env), flags, ()))
    return cases, broken


def run_demo(keep: Path | None = None) -> int:
    """Run the demo; print what the receiver accepted. Returns the exit code (0 on success).

    :param keep: a folder for the demo's outbox and accepted bodies, left in place; without it
        they go to a temporary folder that is removed when the demo ends.
    """
    if keep is not None:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return _run_in(Path(keep), kept=True)
    with tempfile.TemporaryDirectory(prefix="customcd-demo-") as workdir:
        return _run_in(Path(workdir), kept=False)


def _run_in(workdir: Path, *, kept: bool) -> int:
    token = "demo-" + secrets.token_hex(8)
    rows: list[list[str]] = []
    failures = 0
    with Receiver(company_id="1", token=token, record_path=workdir / "accepted.jsonl") as server:
        click.echo(f"customcd demo: local receiver on {server.endpoint}\n")
        plugins = get_plugin_manager()
        cases, broken = _cases(plugins)
        failures += len(broken)
        rows += [[f"{title}: demo cases", *["-"] * 8, "error: see above"] for title in broken]
        for source, adapter, env, flags, optional in cases:
            config = Config(
                url=server.url,
                company_id="1",
                token=Secret(token),
                outbox=workdir / "outbox.sqlite3",
                deadline=10.0,
                timeout=5.0,
                adapter=adapter,
            )
            messages = io.StringIO()
            try:
                result = run_send(
                    plugins=plugins,
                    config=config,
                    env=env,
                    flags=flags,
                    optional_args=optional,
                    reporter=Reporter(messages),
                    now=time.time() if adapter == "none" else DEMO_EPOCH,
                )
                outcome = result.outcome
                body = outcome.body or {}
                verdict = (
                    outcome.kind
                    if outcome.kind != "delivered"
                    else f"delivered ({outcome.status_code})"
                )
                if outcome.kind not in {"delivered", "duplicate", "skipped"}:
                    failures += 1
            except CustomcdError as exc:
                failures += 1
                body, verdict = {}, f"error: {str(exc).splitlines()[0]}"
                click.echo(f"  {source}: {exc}", err=True)
            start = body.get("job_start_time")
            rows.append(
                [
                    source,
                    str(body.get("job_id", "-"))[:28],
                    str(body.get("status", "-")),
                    str(body.get("commit_sha", "-"))[:10],
                    time.strftime("%Y-%m-%d %H:%M", time.gmtime(start)) if start else "-",
                    f"{body['job_duration']}s" if "job_duration" in body else "-",
                    str(body.get("repo_name") or body.get("repo_id") or "-")[:24],
                    str(body.get("triggered_by", "-"))[:24],
                    str(len(body.get("optional", []))),
                    verdict,
                ]
            )
        accepted = len(server.accepted)
    click.echo(
        render_table(
            [
                "source",
                "job_id",
                "status",
                "commit",
                "start (UTC)",
                "duration",
                "repo",
                "triggered_by",
                "opt",
                "outcome",
            ],
            rows,
        )
    )
    if kept:
        click.echo(
            f"\nThe receiver accepted {accepted} record(s); bodies in {workdir / 'accepted.jsonl'}"
        )
    else:
        click.echo(
            f"\nThe receiver accepted {accepted} record(s). Run `customcd demo --keep DIR` to "
            "keep its bodies and outbox, and `customcd receiver` to point a real pipeline at a "
            "local receiver."
        )
    return 1 if failures else 0
