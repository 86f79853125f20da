"""Property-based tests of the one contract model against the rules of ``contract.md``.

:func:`spec_verdict` restates the spec's rules in plain Python, independently of pydantic: for
every generated body, the model accepts exactly what the spec accepts, normalises it as the spec
says, and names a problem for what it refuses. What the model accepts is delivered byte for byte,
and the receiver (which validates with the same model) agrees.
"""

from __future__ import annotations

import json
import math
import re
import time
from types import MappingProxyType
from typing import Any

import pytest
from customcd.contract.fields import BASE_FIELDS, OPTIONAL_TYPES
from customcd.contract.job import Job
from customcd.contract.problems import InvalidRecord
from customcd.receiver import Receiver
from customcd.testing import TEST_TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = time.time()
_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x660 + d) for d in range(10)))


def arabic(text: str) -> str:
    """``text`` with its digits written in Arabic-Indic digits (``12`` -> U+0661 U+0662)."""
    return text.translate(_ARABIC_INDIC)


START = st.integers(min_value=946_684_800 - 10, max_value=int(NOW) + 1200)
TEXT = st.text(min_size=0, max_size=12)
SCALARS = st.one_of(
    st.integers(-5, 2_000_000_000_000), st.floats(allow_nan=True), TEXT, st.booleans(), st.none()
)


def entries():
    value = st.one_of(SCALARS, st.lists(SCALARS, min_size=0, max_size=22))
    return st.fixed_dictionaries(
        {
            "key": st.one_of(st.sampled_from(["env", "tier", "status", ""]), TEXT),
            "value": value,
            "type": st.one_of(st.sampled_from(OPTIONAL_TYPES), TEXT),
        },
    )


def bodies():
    """Mostly-plausible bodies with every kind of mistake mixed in."""
    return st.fixed_dictionaries(
        {
            "job_id": st.one_of(TEXT, st.integers()),
            "commit_sha": st.one_of(
                st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=66), TEXT
            ),
            "service_id": st.one_of(st.integers(-2, 10**6), st.booleans(), TEXT),
            "job_start_time": st.one_of(START, st.integers(10**12, 10**13), TEXT),
            "job_duration": st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=False)),
            "status": st.sampled_from(["Succeeded", "Failed", "On Hold", "succeeded", "OK"]),
        },
        optional={
            "repo_id": st.one_of(TEXT, st.none()),
            "repo_name": st.one_of(TEXT, st.none()),
            "triggered_by": st.one_of(TEXT, st.none()),
            "job_type": st.one_of(TEXT, st.none()),
            "optional": st.one_of(st.none(), st.lists(entries(), max_size=22)),
            "surprise": st.integers(),
        },
    )


_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_TEXT_FIELDS = ("repo_id", "repo_name", "triggered_by", "job_type")
_INT64 = (-(2**63), 2**63 - 1)


#: Python's str.strip() also strips U+001C-U+001F, which are not Unicode White_Space: pydantic
#: (the model) strips White_Space only.
_NOT_WHITE_SPACE = "\x1c\x1d\x1e\x1f"


def _strip(text: str) -> str:
    """``text`` without leading and trailing Unicode White_Space."""
    start, end = 0, len(text)
    while start < end and text[start].isspace() and text[start] not in _NOT_WHITE_SPACE:
        start += 1
    while end > start and text[end - 1].isspace() and text[end - 1] not in _NOT_WHITE_SPACE:
        end -= 1
    return text[start:end]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _value_ok(kind: str, value: Any, now: float) -> bool:
    """One optional value against its entry's type (contract.md, "Optional entries")."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "float":
        return (_whole(value) and abs(value) < 2**1024) or (
            isinstance(value, float) and math.isfinite(value)
        )
    if not _whole(value) or not _INT64[0] <= value <= _INT64[1]:
        return False
    if kind == "duration":
        return value >= 0
    if kind == "timestamp":
        return 946_684_800 <= value < 10**12 and value <= now + 600
    return True


def spec_verdict(body: Any, now: float) -> dict[str, Any] | None:
    """The wire body contract.md makes of ``body``, or ``None`` when it breaks a rule."""
    if not isinstance(body, dict) or not set(body) <= {*BASE_FIELDS, "optional"}:
        return None
    out: dict[str, Any] = {}
    job_id, sha = body.get("job_id"), body.get("commit_sha")
    if not isinstance(job_id, str) or not _strip(job_id):
        return None
    if not isinstance(sha, str) or not _SHA.fullmatch(_strip(sha).lower()):
        return None
    out["job_id"], out["commit_sha"] = _strip(job_id), _strip(sha).lower()
    service, start, duration = (body.get(k) for k in BASE_FIELDS[2:5])
    if not _whole(service) or not 0 < service <= _INT64[1]:
        return None
    if not _whole(start) or not 946_684_800 <= start < 10**12 or start > now + 600:
        return None
    if not _whole(duration) or not 0 <= duration <= _INT64[1]:
        return None
    if body.get("status") not in ("Succeeded", "Failed", "On Hold"):
        return None
    out.update(
        service_id=service, job_start_time=start, job_duration=duration, status=body["status"]
    )
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return None
        if value is not None and _strip(value):
            out[name] = _strip(value)  # blank or null: left out, never sent as null
    if "repo_id" not in out and "repo_name" not in out:
        return None
    entries = body.get("optional")
    if entries is None or entries == []:
        return out
    if not isinstance(entries, list) or len(entries) > 20:
        return None
    clean = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"key", "value", "type"}:
            return None
        key, kind, value = entry["key"], entry["type"], entry["value"]
        if not isinstance(key, str) or not _strip(key) or _strip(key) in (*BASE_FIELDS, "optional"):
            return None
        if kind not in OPTIONAL_TYPES:
            return None
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not 1 <= len(value) <= 20:
            return None
        if not all(_value_ok(kind, item, now) for item in values):
            return None
        if kind == "float":
            values = [float(item) for item in values]
        clean.append(
            {
                "key": _strip(key),
                "value": values if isinstance(value, list) else values[0],
                "type": kind,
            }
        )
    keys = [entry["key"] for entry in clean]
    if len(set(keys)) != len(keys):
        return None
    out["optional"] = clean
    return out


_RECEIVER: dict[str, Receiver] = {}


def receiver() -> Receiver:
    if "r" not in _RECEIVER:
        _RECEIVER["r"] = Receiver(company_id="1", token=TEST_TOKEN).start()
    return _RECEIVER["r"]


def teardown_module():
    if "r" in _RECEIVER:
        _RECEIVER.pop("r").stop()


def valid_bodies():
    """Bodies built to satisfy every rule (so that delivery is exercised often)."""
    entry = st.one_of(
        st.fixed_dictionaries(
            {
                "key": st.from_regex(r"[a-z]{1,8}", fullmatch=True),
                "value": st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=20)),
                "type": st.just("string"),
            }
        ),
        st.fixed_dictionaries(
            {
                "key": st.from_regex(r"n[a-z]{1,8}", fullmatch=True),
                "value": st.integers(0, 10**9),
                "type": st.just("duration"),
            }
        ),
        st.fixed_dictionaries(
            {
                "key": st.from_regex(r"f[a-z]{1,8}", fullmatch=True),
                "value": st.floats(allow_nan=False, allow_infinity=False),
                "type": st.just("float"),
            }
        ),
    )
    return st.fixed_dictionaries(
        {
            "job_id": st.text(alphabet="abc123-#/ ", min_size=1, max_size=20).filter(str.strip),
            "commit_sha": st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40),
            "service_id": st.integers(1, 10**6),
            "job_start_time": st.integers(946_684_800, int(NOW)),
            "job_duration": st.integers(0, 10**6),
            "status": st.sampled_from(["Succeeded", "Failed", "On Hold"]),
            "repo_name": st.text(min_size=1, max_size=20).filter(str.strip),
        },
        optional={
            "optional": st.lists(entry, max_size=20, unique_by=lambda e: e["key"]),
            "triggered_by": TEXT,
            "job_type": TEXT,
        },
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(bodies(), valid_bodies()))
def test_the_model_decides_every_body_as_the_spec_does(body):
    """Accepted exactly when the spec accepts, with the spec's wire body; else problems named."""
    expected = spec_verdict(body, NOW)
    try:
        job = Job.from_body(body, now=NOW)
    except InvalidRecord as exc:
        assert expected is None, f"the model refused a body the spec accepts: {exc}"
        assert exc.problems, "a rejection always says why"
        for problem in exc.problems:
            assert problem.field and problem.rule
        return
    assert expected is not None, f"the model accepted a body the spec refuses: {body}"
    assert job.to_body() == expected
    assert json.loads(job.to_json()) == expected
    assert Job.from_body(json.loads(job.to_json()), now=NOW) == job  # stable


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=valid_bodies())
def test_bodies_the_models_accept_are_delivered_byte_for_byte(body, tmp_path_factory):
    from customcd.delivery.dispatcher import Dispatcher
    from customcd.delivery.outbox import Outbox
    from customcd.delivery.retry import RetryPolicy
    from customcd.delivery.sender import Sender
    from customcd.delivery.transport import Endpoint
    from customcd.secret import Secret

    server = receiver()
    record = Job.from_body(body, now=time.time())  # must not raise: these are valid
    outbox = Outbox(tmp_path_factory.mktemp("p") / "o.db")
    sender = Sender(
        Endpoint.parse(server.url, "1"),
        Secret(TEST_TOKEN),
        policy=RetryPolicy(deadline=5, attempt_timeout=2),
    )
    try:
        outcome = Dispatcher(sender, outbox).deliver(
            record.idempotency_key, record.to_body(), record.to_json()
        )
    finally:
        sender.close()
        outbox.close()
    assert outcome.kind in ("delivered", "duplicate"), outcome.reason
    assert outbox.path.exists()
    if outcome.kind == "delivered":
        assert server.requests[-1].body == record.to_json().encode()


@settings(max_examples=100, deadline=None)
@given(body=st.one_of(bodies(), valid_bodies()))
def test_the_receiver_agrees_with_the_models(body):
    """Posted raw, a body is accepted by the receiver exactly when the models accept it."""
    import httpx

    server = receiver()
    try:
        Job.from_body(body, now=time.time())
        valid = True
    except InvalidRecord:
        valid = False
    # json.dumps writes NaN/Infinity as Python does (not strict JSON): the receiver must refuse them
    response = httpx.post(
        server.endpoint,
        content=json.dumps(body),
        timeout=5,
        headers={"Authorization": f"Bearer {TEST_TOKEN}", "Content-Type": "application/json"},
    )
    assert (response.status_code in (200, 201)) == valid, response.text
    if not valid:
        assert response.status_code == 422 and response.json()["problems"]


def _plain_body(**changes):
    return {
        "job_id": "7",
        "commit_sha": "a" * 40,
        "service_id": 2,
        "job_start_time": int(NOW) - 60,
        "job_duration": 5,
        "status": "Failed",
        "repo_name": "acme/app",
        **changes,
    }


def _problems(body):
    with pytest.raises(InvalidRecord) as info:
        Job.from_body(body, now=NOW)
    return {p.field: p for p in info.value.problems}


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"job_start_time": int(NOW) + 3600}, "job_start_time", "future"),
        ({"repo_id": None, "repo_name": "  "}, "repo_id/repo_name", "one of repo_id"),
        (
            {"optional": [{"key": "commit_sha", "value": "x", "type": "string"}]},
            "optional[0].key",
            "base field",
        ),
        ({"optional": [{"key": "a", "value": 1, "type": "integer"}] * 2}, "optional", "twice"),
        (
            {
                "optional": [
                    {"key": "a", "value": 1, "type": "integer"},
                    {"key": " a ", "value": 2, "type": "integer"},
                ]
            },
            "optional",
            "twice",
        ),
        (
            {
                "optional": [
                    {"key": "qa", "value": [int(NOW), int(NOW) + 3600], "type": "timestamp"}
                ]
            },
            "optional[0].value",
            "future",
        ),
        (
            {"optional": [{"key": "n", "value": True, "type": "integer"}]},
            "optional[0].value",
            "boolean",
        ),
        (
            {"optional": [{"key": "f", "value": float("inf"), "type": "float"}]},
            "optional[0].value",
            "finite",
        ),
        (
            {"optional": [{"key": "d", "value": -1, "type": "duration"}]},
            "optional[0].value",
            "negative",
        ),
        ({"optional": [{"key": "l", "value": [], "type": "string"}]}, "optional[0].value", "empty"),
        (
            {
                "optional": [
                    {"key": "f", "value": __import__("decimal").Decimal("1.5"), "type": "float"}
                ]
            },
            "optional[0].value",
            "not a number",
        ),
        (
            {
                "optional": [
                    {"key": "f", "value": __import__("fractions").Fraction(1, 3), "type": "float"}
                ]
            },
            "optional[0].value",
            "not a number",
        ),
        (
            {"optional": [{"key": "f", "value": 10**400, "type": "float"}]},
            "optional[0].value",
            "too large for a float",
        ),
        (
            {"optional": [{"key": "n", "value": 2**63, "type": "integer"}]},
            "optional[0].value",
            "64-bit",
        ),
        ({"job_duration": 2**63}, "job_duration", "64-bit"),
    ],
)
def test_each_rule_break_is_one_problem_naming_its_field(change, field, rule):
    """The rules of contract.md that need a whole entry, the whole record or the clock."""
    found = _problems(_plain_body(**change))
    assert list(found) == [field], found
    assert rule in found[field].rule


class _Values(list):
    """A list subclass of values."""


def test_a_list_subclass_of_values_is_sent_as_a_list():
    job = Job.from_body(
        _plain_body(optional=[{"key": "s", "value": _Values(["a", "b"]), "type": "string"}]),
        now=NOW,
    )
    assert job.optional is not None and type(job.optional[0].value) is list
    assert job.to_body()["optional"][0]["value"] == ["a", "b"]


def test_one_shot_optional_iterables_are_read_once():
    from customcd.api import build_job

    reserved = {"key": "job_id", "value": "x", "type": "string"}
    with pytest.raises(InvalidRecord):
        Job.from_body(_plain_body(optional=iter([reserved])), now=NOW)
    kept = Job.from_body(
        _plain_body(optional=(e for e in [{"key": "env", "value": "prod", "type": "string"}])),
        now=NOW,
    )
    assert kept.to_body()["optional"] == [{"key": "env", "value": "prod", "type": "string"}]
    future = {"key": "qa", "value": int(NOW) + 10**6, "type": "timestamp"}
    with pytest.raises(InvalidRecord):
        Job.model_validate(_plain_body(optional=iter([future])), context={"now": NOW})
    fields = _plain_body()
    twice = [{"key": "env", "value": v, "type": "string"} for v in ("a", "b")]
    job = build_job(now=NOW, optional=iter(twice), **fields)
    assert job.optional is not None and [e.value for e in job.optional] == ["b"]
    with pytest.raises(InvalidRecord):
        build_job(now=NOW, optional=iter([reserved]), **fields)


# -- the library's lenient inputs (build_job) ------------------------------------------------


def _lenient_fields():
    """Library inputs: right, lenient, odd and wrong values of every field."""
    sha = st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=41)
    return st.fixed_dictionaries(
        {
            "job_id": st.one_of(TEXT, st.integers(0, 10**6), st.just("  ")),
            "commit_sha": st.one_of(sha, TEXT),
            "service_id": st.one_of(
                st.integers(-2, 10**6),
                st.sampled_from(
                    ["7", " 42 ", "x", "", "0", arabic("3"), arabic("12"), "-3", "+5", "1_0"]
                ),
                st.booleans(),
                st.none(),
            ),
            "job_start_time": st.one_of(
                START,
                st.integers(10**12, 10**13),
                st.sampled_from(["2024-01-01T10:00:00Z", "x", arabic("1700000000")]),
                st.floats(allow_nan=True),
                st.none(),
            ),
            "job_duration": st.one_of(
                st.integers(-5, 10**6),
                st.floats(allow_nan=True),
                st.sampled_from(["5m", "7", arabic("7"), "1h2m"]),
                st.none(),
            ),
            "status": st.one_of(
                st.sampled_from(["Succeeded", "failed", " ON HOLD ", "on_hold", "OK", ""]),
                st.none(),
                st.integers(),
            ),
        },
        optional={
            "repo_id": st.one_of(TEXT, st.integers(), st.none()),
            "repo_name": st.one_of(TEXT, st.just("   "), st.none()),
            "triggered_by": st.one_of(TEXT, st.none()),
            "job_type": st.one_of(TEXT, st.none()),
            "start_time_ms": st.integers(10**12, 10**13),
        },
    )


def _plain_fields():
    """Library inputs that are mostly right, in the lenient forms the library accepts."""
    return st.fixed_dictionaries(
        {
            "job_id": st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 10**6)),
            "commit_sha": st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40),
            "service_id": st.one_of(
                st.integers(1, 10**6), st.integers(1, 10**6).map(lambda n: f" {n} ")
            ),
            "job_start_time": st.integers(946_684_800, int(NOW)),
            "job_duration": st.integers(0, 10**6),
            "status": st.sampled_from(["Succeeded", "failed", " ON HOLD ", "on_hold", "On Hold"]),
            "repo_name": st.one_of(st.text(min_size=1, max_size=8), st.integers()),
        },
        optional={"repo_id": st.one_of(TEXT, st.none()), "job_type": TEXT},
    )


def _plain_entries():
    return st.one_of(
        entries(),
        st.fixed_dictionaries(
            {
                "key": st.sampled_from(["env", "tier", "n"]),
                "value": st.one_of(st.integers(0, 100), st.lists(st.integers(0, 9), max_size=3)),
                "type": st.sampled_from(["integer", "duration", "float", "timestamp", "string"]),
            }
        ),
    )


_STATUS = {"succeeded": "Succeeded", "failed": "Failed", "on hold": "On Hold", "on_hold": "On Hold"}


def _lenient_expectation(fields: dict[str, Any]) -> dict[str, Any]:
    """What contract.md and the library page say plain lenient values become on the wire."""
    expected: dict[str, Any] = {}
    for name in ("job_id", "repo_id", "repo_name", "triggered_by", "job_type"):
        value = fields.get(name)
        if _whole(value):
            value = str(value)  # numbers where the contract wants text
        if isinstance(value, str) and value.strip():  # the builder's blank is Python's
            expected[name] = _strip(value)  # the model strips Unicode White_Space
    service = fields["service_id"]
    expected["service_id"] = int(service) if isinstance(service, str) else service
    expected["status"] = _STATUS.get(str(fields["status"]).strip().lower())
    return expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.one_of(_lenient_fields(), _plain_fields()),
    optional=st.lists(_plain_entries(), max_size=3),
)
def test_build_job_gives_a_spec_valid_body_or_names_the_problems(fields, optional):
    """build_job converts the lenient inputs, and what it returns passes the spec's rules."""
    from customcd.api import build_job

    try:
        job = build_job(now=NOW, optional=[dict(item) for item in optional], **fields)
    except InvalidRecord as exc:
        assert exc.problems and all(p.field and p.rule for p in exc.problems)
        return
    body = job.to_body()
    assert spec_verdict(body, NOW) == body
    if "start_time_ms" in fields or not _whole(fields["job_start_time"]):
        return  # a time conversion; tests/core/test_times.py covers those
    expected = _lenient_expectation(fields)
    assert body["service_id"] == expected["service_id"]
    assert body["status"] == expected["status"]
    assert body["job_start_time"] == fields["job_start_time"]
    for name in ("job_id", "repo_id", "repo_name", "triggered_by", "job_type"):
        assert body.get(name) == expected.get(name), name
    assert [e["key"] for e in body.get("optional", [])] == list(
        dict.fromkeys(_strip(str(e["key"])) for e in optional)  # Unicode White_Space, as above
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("service_id", arabic("12")),
        ("job_start_time", arabic("1700000000")),
        ("job_duration", arabic("12")),
        ("job_duration", arabic("12m")),
        ("start_time_ms", arabic("1700000000000")),
        ("job_start_time", "2024-01-01T10:00:00.123456789Z"),
    ],
)
def test_one_digit_rule_for_every_integer_input(field, value):
    """ASCII digits only, on every path (int() and \\d also take other scripts' digits)."""
    from customcd.api import build_job

    fields = {**_plain_body(), field: value}
    with pytest.raises(InvalidRecord) as info:
        build_job(now=NOW, **fields)
    named = "job_start_time" if field == "start_time_ms" else field
    assert [p.field for p in info.value.problems] == [named]


def test_lenient_values_become_the_wire_body():
    from customcd.api import build_job

    fields = {
        "job_id": 42,
        "commit_sha": "AB" * 20,
        "service_id": " 7 ",
        "job_start_time": int(NOW) - 60,
        "job_duration": 30,
        "status": "on hold",
        "repo_name": "acme/app",
        "job_type": "   ",
    }
    optional = [{"key": "env", "value": "prod", "type": "string"}]
    expected = {
        "job_id": "42",
        "commit_sha": "ab" * 20,
        "service_id": 7,
        "job_start_time": int(NOW) - 60,
        "job_duration": 30,
        "status": "On Hold",
        "repo_name": "acme/app",
        "optional": optional,
    }
    assert build_job(now=NOW, optional=optional, **fields).to_body() == expected
    values = [1, 2]
    listed = build_job(
        now=NOW, optional=[{"key": "n", "value": values, "type": "integer"}], **fields
    )
    values.append(3)  # the caller's list stays the caller's
    assert listed.optional is not None and listed.optional[0].value == [1, 2]
    frozen = [MappingProxyType(item) for item in optional]  # any mapping will do, untouched
    assert build_job(now=NOW, optional=frozen, **fields).to_body() == expected
    assert optional == [{"key": "env", "value": "prod", "type": "string"}]
    iso = build_job(now=NOW, **{**fields, "job_start_time": "2024-01-01T10:00:00Z"})
    assert iso.job_start_time == 1_704_103_200
    assert build_job(now=NOW, **{**fields, "job_duration": None}).job_duration == 60
    with pytest.raises(InvalidRecord):
        build_job(now=NOW, **{**fields, "status": "SUCCESS"})  # no status map: not a status
    # text Python calls blank (\x1c-\x1f too) is not given
    assert "job_type" not in build_job(now=NOW, **{**fields, "job_type": " \x1f "}).to_body()
    with pytest.raises(InvalidRecord) as info:
        build_job(now=NOW, **{**fields, "repo_name": "\x1f"})
    assert [p.field for p in info.value.problems] == ["repo_id/repo_name"]
    twice = [*optional, {"key": "env", "value": "dev", "type": "string"}]
    assert build_job(now=NOW, optional=twice, **fields).to_body()["optional"] == [twice[1]]


def test_durations_of_18_digits_are_refused():
    from customcd.api import build_job

    fields = {**_plain_body(), "job_duration": 10**18}
    with pytest.raises(InvalidRecord) as info:
        build_job(now=NOW, **fields)
    assert [p.field for p in info.value.problems] == ["job_duration"]
