"""Fixtures for the end-to-end backfill tests.

Each test runs the real ``customcd backfill <ci> ...`` command in-process against a real local
receiver (``customcd_receiver``), while the CI server's answers are replayed from cassettes in
``cassettes/<ci>/`` (never recorded: ``record_mode="none"``). Requests to the local receiver are
not intercepted (``ignore_localhost``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from backfill_support import Run, parse_summary, replay


@pytest.fixture
def backfill(
    customcd_cli: Callable[..., Any], customcd_env: dict[str, str], tmp_path: Path
) -> Callable[..., Run]:
    """``backfill(ci, cassette, args, env)``: run ``customcd backfill`` replaying a cassette."""

    def run(
        ci: str,
        cassette: str | None,
        args: list[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Run:
        environ = {**customcd_env, **(env or {})}
        if cassette is None:
            result = customcd_cli(["backfill", *args], env=environ, cwd=cwd or tmp_path)
            played = None
        else:
            folder = ci.replace("-", "_")
            with replay(folder, cassette) as played:
                result = customcd_cli(["backfill", *args], env=environ, cwd=cwd or tmp_path)
        return Run(
            result.exit_code, result.stdout, result.stderr, parse_summary(result.stderr), played
        )

    return run


@pytest.fixture
def ledger(customcd_env: dict[str, str]) -> Callable[[], int]:
    """How many records the run's ledger remembers."""
    from customcd.delivery.outbox import Outbox

    def size() -> int:
        box = Outbox(Path(customcd_env["CUSTOMCD_OUTBOX"]))
        try:
            return box.ledger_size()
        finally:
            box.close()

    return size
