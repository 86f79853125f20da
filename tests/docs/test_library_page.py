"""docs/library.md: every Python example on the page runs, in order, against the local receiver."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "library.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def blocks() -> list[str]:
    """The page's Python examples, in page order."""
    return _BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_examples_of_each_part_of_the_library():
    text = "\n".join(blocks())
    for name in ("build_job", "InvalidRecord", "Job.from_body", "send("):
        assert name in text, name


def test_every_python_example_runs_and_sends_what_it_says(
    customcd_env, customcd_receiver, monkeypatch
):
    # exactly the variables a user would set, and no CI's: send() must take the flags as given
    monkeypatch.setattr(os, "environ", dict(customcd_env))
    printed = io.StringIO()
    for number, code in enumerate(blocks(), start=1):
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(code, f"{PAGE.name} example {number}", "exec"), {})
            except Exception as error:  # pragma: no cover - shown with the example's number
                pytest.fail(f"{PAGE.name} example {number} failed: {error!r}")
    output = printed.getvalue()
    assert "delivered 201" in output
    assert "commit_sha - " in output and "status - " in output
    sent = [json.loads(request.body) for request in customcd_receiver.requests]
    assert [body["job_id"] for body in sent] == ["deploy-88"]
    assert sent[0]["optional"] == [
        {"key": "environment", "value": "production", "type": "string"},
        {"key": "replicas", "value": 3, "type": "integer"},
    ]
    assert customcd_env["CUSTOMCD_TOKEN"] not in output
