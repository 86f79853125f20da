"""Helpers for the end-to-end backfill tests (imported by the test modules and conftest)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vcr

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"

_FILTER = [
    ("authorization", "REDACTED"),
    ("private-token", "REDACTED"),
    ("job-token", "REDACTED"),
    ("cookie", "REDACTED"),
    ("set-cookie", "REDACTED"),
    ("x-vss-userdata", "REDACTED"),
]


@dataclass
class Run:
    """One ``customcd backfill`` run: exit code, output and the summary's counts."""

    exit_code: int
    stdout: str
    stderr: str
    summary: dict[str, str]
    cassette: Any

    def count(self, row: str) -> int:
        return int(self.summary[row])


def parse_summary(stderr: str) -> dict[str, str]:
    """The rows of the summary table (``read``, ``delivered``, ``skipped``...) by name."""
    rows: dict[str, str] = {}
    for line in stderr.splitlines():
        match = re.fullmatch(r"(\S.*?)\s{2,}(\S+)\s*", line)
        if match and not set(line) <= {"-", " "}:
            rows.setdefault(match[1].strip(), match[2])
    return rows


@contextmanager
def replay(ci: str, name: str) -> Iterator[Any]:
    """Replay ``cassettes/<ci>/<name>``; the local receiver is reached for real."""
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES / ci),
        record_mode="none",
        ignore_localhost=True,
        decode_compressed_response=True,
        filter_headers=_FILTER,
        filter_query_parameters=[("private_token", "REDACTED"), ("token", "REDACTED")],
    )
    with recorder.use_cassette(name) as cassette:
        yield cassette


def no_secret(secret: str, *texts: str) -> None:
    """Assert that ``secret`` appears in none of ``texts``."""
    for text in texts:
        assert secret not in text


def sent_ids(receiver: Any) -> list[str]:
    """job_id of every record the receiver accepted (in arrival order)."""
    return [body["job_id"] for body in receiver.accepted]
