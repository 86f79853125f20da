"""Throughput of the library path (issue 9): build and validate records in-process.

Measures, on the same generated records:

1. ``customcd.api.build_job(**fields)`` -- the library path: lenient inputs (status in any case,
   service id as text, ISO start times), routing/precedence, then the full contract validation;
2. ``Job.from_body(body)`` -- contract validation of a wire body alone;
3. a baseline: a plain pydantic model with the same field types and no custom rules,
   ``model_validate`` of the same wire bodies (what pydantic itself costs).

Target: at least 50,000 records/s for (1) and (2).

Usage::

    uv run python benchmarks/validate.py                 # 100,000 records
    uv run python benchmarks/validate.py --records 20000 --check

Each path runs over all the records once per round, the paths alternating, for ``--rounds``
rounds (default 3); the verdict is on the median round of each path.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Optional, Union

TARGET = 50_000.0
STATUSES = ("Succeeded", "Failed", "On Hold")


def make_records(count: int, now: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` distinct records: lenient build_job inputs and the matching wire bodies."""
    lenient: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    base = int(now) - 86_400
    for i in range(count):
        sha = f"{i:040x}"
        start = base + i % 80_000
        optional = [
            {"key": "environment", "value": "production" if i % 2 else "staging", "type": "string"},
            {"key": "pipeline_id", "value": 1000 + i, "type": "integer"},
        ]
        if i % 3 == 0:
            optional.append({"key": "lead_time", "value": [60, 120], "type": "duration"})
        lenient.append(
            {
                "job_id": f"job-{i}",
                "commit_sha": sha.upper() if i % 5 == 0 else sha,
                "service_id": str(1 + i % 50) if i % 2 else 1 + i % 50,
                "job_start_time": start,
                "job_duration": 30 + i % 600,
                "status": STATUSES[i % 3].lower() if i % 2 else STATUSES[i % 3].upper(),
                "repo_name": f"acme/service-{i % 40}",
                "triggered_by": "dev@example.com",
                "optional": optional,
            }
        )
        bodies.append(
            {
                "job_id": f"job-{i}",
                "commit_sha": sha,
                "service_id": 1 + i % 50,
                "job_start_time": start,
                "job_duration": 30 + i % 600,
                "status": STATUSES[i % 3],
                "repo_name": f"acme/service-{i % 40}",
                "triggered_by": "dev@example.com",
                "optional": optional,
            }
        )
    return lenient, bodies


def plain_model() -> Any:
    """A plain pydantic model with the contract's field types and no custom rules."""
    from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr

    scalar = Union[StrictInt, StrictFloat, StrictStr]

    class PlainOptional(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        key: StrictStr
        value: Union[scalar, list[scalar]]
        type: Literal["string", "integer", "float", "duration", "timestamp"]

    class PlainJob(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        job_id: StrictStr
        commit_sha: StrictStr
        service_id: StrictInt
        job_start_time: StrictInt
        job_duration: StrictInt
        status: Literal["Succeeded", "Failed", "On Hold"]
        repo_id: Optional[StrictStr] = None
        repo_name: Optional[StrictStr] = None
        triggered_by: Optional[StrictStr] = None
        job_type: Optional[StrictStr] = None
        optional: Optional[list[PlainOptional]] = None

    return PlainJob


def timed(label: str, items: Sequence[Any], run: Callable[[Any], Any]) -> float:
    """Run ``run`` on every item; return records per second (garbage collector as usual)."""
    gc.collect()
    start = time.perf_counter()
    for item in items:
        run(item)
    elapsed = time.perf_counter() - start
    rate = len(items) / elapsed
    print(f"  {label:54}{elapsed:8.2f} s {rate:12,.0f} records/s")
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    """Run the throughput benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    from customcd.api import build_job
    from customcd.contract.job import Job

    now = time.time()
    lenient, bodies = make_records(args.records, now)

    # every record must pass, and both paths must give the same body
    for fields, body in zip(lenient[:200], bodies[:200], strict=True):
        built = build_job(
            now=now,
            **{k: v for k, v in fields.items() if k != "optional"},
            optional=fields["optional"],
        )
        assert built.to_body() == Job.from_body(body, now=now).to_body(), fields

    print(
        f"customcd validation throughput: {args.records:,} records, Python {sys.version.split()[0]}"
    )

    # the arguments are split before timing: the loop measures build_job, not the harness
    calls = [({k: v for k, v in f.items() if k != "optional"}, f["optional"]) for f in lenient]

    def build(call: tuple[dict[str, Any], list[dict[str, Any]]]) -> Any:
        return build_job(now=now, optional=call[1], **call[0])

    plain = plain_model()
    paths = {
        "build_job (lenient fields -> validated Job)": (calls, build),
        "Job.from_body (wire body -> validated Job)": (bodies, lambda b: Job.from_body(b, now=now)),
        "baseline: plain pydantic model_validate (no rules)": (bodies, plain.model_validate),
    }
    rates: dict[str, list[float]] = {label: [] for label in paths}
    for round_number in range(1, args.rounds + 1):  # alternating, so noise hits every path
        print(f"round {round_number} of {args.rounds}:")
        for label, (items, run) in paths.items():
            rates[label].append(timed(label, items, run))
    rate_build, rate_body, rate_plain = (statistics.median(r) for r in rates.values())
    print(f"\nmedian of {args.rounds} rounds:")
    for label, rate in (("build_job", rate_build), ("Job.from_body", rate_body)):
        verdict = "met" if rate >= TARGET else "MISSED"
        print(
            f"{label:14} {rate:10,.0f} records/s   target >= {TARGET:,.0f}   {verdict}   "
            f"({rate / rate_plain:.2f}x the plain pydantic baseline)"
        )
    if args.check and min(rate_build, rate_body) < TARGET:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
