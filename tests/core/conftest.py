"""Fixtures shared by the delivery tests of ``tests/core`` (a module may define its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from customcd.receiver import Receiver
from helpers_delivery import CANARY, Harness, reset


@pytest.fixture(scope="module")
def shared_receiver() -> Iterator[Receiver]:
    """One receiver per module, accepting the canary token (reset between tests)."""
    with Receiver(company_id="1", token=CANARY) as server:
        yield server


@pytest.fixture
def receiver(shared_receiver: Receiver) -> Receiver:
    """The module's receiver, emptied of earlier tests' records and faults."""
    return reset(shared_receiver)


@pytest.fixture
def harness(customcd_cli, tmp_path, caplog) -> Harness:
    """Runs the CLI with the canary token and checks it never leaks (see helpers_delivery)."""
    return Harness(customcd_cli, tmp_path, caplog)
