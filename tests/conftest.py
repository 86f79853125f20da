"""Shared test configuration: cassettes per external system, secrets filtered when recording."""

from __future__ import annotations

from pathlib import Path

import pytest

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
