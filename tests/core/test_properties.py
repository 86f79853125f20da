"""Property-based tests: what the contract accepts is what the receiver accepts, and what it
rejects is never sent."""

from __future__ import annotations

import json
import time
from types import MappingProxyType

import pytest
from customcd.contract.problems import InvalidRecord
from customcd.contract.record import Record
from customcd.contract.wire import BASE_FIELDS, OPTIONAL_TYPES, validate_body
from customcd.receiver import Receiver
from customcd.testing import TEST_TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = time.time()
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_every_body_is_either_valid_or_reported_with_problems(body):
    try:
        clean = validate_body(body, now=NOW)
    except InvalidRecord as exc:
        assert exc.problems, "a rejection always says why"
        for problem in exc.problems:
            assert problem.field and problem.rule
        return
    assert set(clean) <= {*BASE_FIELDS, "optional"}
    assert None not in clean.values()
    assert clean["commit_sha"] == clean["commit_sha"].lower() and len(clean["commit_sha"]) in (
        40,
        64,
    )
    assert clean.get("repo_id") or clean.get("repo_name")
    assert validate_body(json.loads(Record(clean).to_json()), now=NOW) == clean  # stable


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


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=valid_bodies())
def test_bodies_the_models_accept_are_delivered_byte_for_byte(body, tmp_path_factory):
    from customcd.delivery.outbox import Outbox
    from customcd.delivery.retry import RetryPolicy
    from customcd.delivery.sender import Dispatcher, Sender
    from customcd.delivery.transport import Endpoint
    from customcd.secret import Secret

    server = receiver()
    record = Record.from_body(body, now=time.time())  # must not raise: these are valid
    outbox = Outbox(tmp_path_factory.mktemp("p") / "o.db")
    sender = Sender(
        Endpoint.parse(server.url, "1"),
        Secret(TEST_TOKEN),
        policy=RetryPolicy(deadline=5, attempt_timeout=2),
    )
    try:
        outcome = Dispatcher(sender, outbox).deliver(
            record.idempotency_key, record.body, record.to_json()
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
        validate_body(body, now=time.time())
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


def _full_schema(body):
    """The full contract schema alone (Python rules included), without the quick path."""
    from customcd.contract.wire import _validate

    return _validate("body", body, NOW)


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


def _problems_of_full_schema(body):
    with pytest.raises(InvalidRecord) as full:
        _full_schema(body)
    return full.value.problems


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(bodies(), valid_bodies()))
def test_the_quick_path_decides_exactly_like_the_full_schema(body):
    """validate_body's pydantic-core-only path never accepts what the full schema rejects, and
    returns the same wire body byte for byte when both accept."""
    try:
        expected = json.dumps(_full_schema(body))
    except InvalidRecord as full:
        try:
            validate_body(body, now=NOW)
        except InvalidRecord as quick:
            assert quick.problems == full.problems
        else:
            raise AssertionError(f"the quick path accepted a body the contract rejects: {body}")
    else:
        assert json.dumps(validate_body(body, now=NOW)) == expected


@pytest.mark.parametrize(
    "change",
    [
        {"job_start_time": int(NOW) + 3600},  # future start
        {"repo_id": None, "repo_name": "  "},  # no repository
        {"optional": [{"key": "commit_sha", "value": "x", "type": "string"}]},  # reserved key
        {"optional": [{"key": "a", "value": 1, "type": "integer"}] * 2},  # duplicate key
        {"optional": [{"key": "qa", "value": [int(NOW), int(NOW) + 3600], "type": "timestamp"}]},
        {"optional": [{"key": "n", "value": True, "type": "integer"}]},  # a boolean
        {"optional": [{"key": "f", "value": float("inf"), "type": "float"}]},
        {"optional": [{"key": "d", "value": -1, "type": "duration"}]},
        {"optional": [{"key": "l", "value": [], "type": "string"}]},
    ],
)
def test_the_quick_path_hands_every_rule_break_to_the_full_schema(change):
    body = _plain_body(**change)
    with pytest.raises(InvalidRecord) as quick:
        validate_body(body, now=NOW)
    assert quick.value.problems == _problems_of_full_schema(body)


def _lenient_fields():
    """Library inputs: right, lenient, odd and wrong values of every field."""
    sha = st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=41)
    return st.fixed_dictionaries(
        {
            "job_id": st.one_of(TEXT, st.integers(0, 10**6), st.just("  ")),
            "commit_sha": st.one_of(sha, TEXT),
            "service_id": st.one_of(
                st.integers(-2, 10**6),
                st.sampled_from(["7", " 42 ", "x", "", "0", "٣"]),
                st.booleans(),
                st.none(),
            ),
            "job_start_time": st.one_of(
                START,
                st.integers(10**12, 10**13),
                st.sampled_from(["2024-01-01T10:00:00Z", "x"]),
                st.floats(allow_nan=True),
                st.none(),
            ),
            "job_duration": st.one_of(
                st.integers(-5, 10**6),
                st.floats(allow_nan=True),
                st.sampled_from(["5m", "7"]),
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


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.one_of(_lenient_fields(), _plain_fields()),
    optional=st.lists(_plain_entries(), max_size=3),
)
def test_the_plain_library_path_builds_exactly_what_the_builder_builds(fields, optional):
    from customcd.builder import build_from_draft
    from customcd.config import Config
    from customcd.contract.plainbody import plain_body as build_plain_body
    from customcd.plugins.draft import Draft

    quick = build_plain_body(fields, [dict(item) for item in optional], now=NOW)
    if quick is None:
        return  # it may always leave a record to the builder
    built = build_from_draft(
        Draft(),
        config=Config(),
        overrides=fields,
        user_optional=[dict(item) for item in optional],
        now=NOW,
    )
    assert built.record is not None and built.record.to_json() == Record(quick).to_json()


def test_the_plain_library_path_is_taken_for_plain_values():
    from customcd.api import build_job
    from customcd.contract.plainbody import plain_body as build_plain_body

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
    body = build_plain_body(fields, optional, now=NOW)
    assert body is not None
    assert body == {
        "job_id": "42",
        "commit_sha": "ab" * 20,
        "service_id": 7,
        "job_start_time": int(NOW) - 60,
        "job_duration": 30,
        "status": "On Hold",
        "repo_name": "acme/app",
        "optional": optional,
    }
    assert build_job(now=NOW, optional=optional, **fields) == Record(body).job
    values = [1, 2]
    listed = build_job(
        now=NOW, optional=[{"key": "n", "value": values, "type": "integer"}], **fields
    )
    values.append(3)  # the caller's list stays the caller's
    assert listed.optional is not None and listed.optional[0].value == [1, 2]
    frozen = [MappingProxyType(item) for item in optional]  # any mapping will do, untouched
    assert build_job(now=NOW, optional=frozen, **fields) == Record(body).job
    assert optional == [{"key": "env", "value": "prod", "type": "string"}]
    # anything more than plain values is left to the builder
    assert (
        build_plain_body({**fields, "job_start_time": "2024-01-01T10:00:00Z"}, [], now=NOW) is None
    )
    assert build_plain_body({**fields, "job_duration": None}, [], now=NOW) is None
    assert build_plain_body({**fields, "status": "SUCCESS"}, [], now=NOW) is None
    # text Python calls blank (\x1c-\x1f too, which pydantic-core keeps) is not given
    assert "job_type" not in build_plain_body({**fields, "job_type": " \x1f "}, [], now=NOW)  # type: ignore[operator]
    assert build_plain_body({**fields, "repo_name": "\x1f"}, [], now=NOW) is None
    twice = [*optional, {"key": "env", "value": "dev", "type": "string"}]
    assert build_plain_body(fields, twice, now=NOW) is None  # the builder merges: later wins
    assert build_job(now=NOW, optional=twice, **fields).optional[0].value == "dev"  # type: ignore[index]


class _Values(list):
    """A list subclass of values."""


def test_a_list_subclass_of_values_is_a_list_on_both_paths():
    body = _plain_body(optional=[{"key": "s", "value": _Values(["a", "b"]), "type": "string"}])
    quick = validate_body(body, now=NOW)
    assert quick == _full_schema(body)
    assert type(quick["optional"][0]["value"]) is list


@pytest.mark.parametrize(
    "entry",
    [
        {"key": "f", "value": __import__("decimal").Decimal("1.5"), "type": "float"},
        {"key": "f", "value": __import__("fractions").Fraction(1, 3), "type": "float"},
    ],
    ids=["Decimal", "Fraction"],
)
def test_the_quick_path_refuses_what_the_full_rules_refuse(entry):
    body = _plain_body(optional=[entry])
    with pytest.raises(InvalidRecord) as quick:
        validate_body(body, now=NOW)
    assert quick.value.problems == _problems_of_full_schema(body)


def test_one_shot_optional_iterables_are_read_once():
    from customcd.api import build_job
    from customcd.contract.job import Job

    reserved = {"key": "job_id", "value": "x", "type": "string"}
    with pytest.raises(InvalidRecord):
        validate_body(_plain_body(optional=iter([reserved])), now=NOW)
    kept = validate_body(
        _plain_body(optional=(e for e in [{"key": "env", "value": "prod", "type": "string"}])),
        now=NOW,
    )
    assert kept["optional"] == [{"key": "env", "value": "prod", "type": "string"}]
    future = {"key": "qa", "value": int(NOW) + 10**6, "type": "timestamp"}
    with pytest.raises(InvalidRecord):
        Job.model_validate(_plain_body(optional=iter([future])), context={"now": NOW})
    fields = {k: v for k, v in _plain_body().items()}
    twice = [{"key": "env", "value": v, "type": "string"} for v in ("a", "b")]
    job = build_job(now=NOW, optional=iter(twice), **fields)
    assert job.optional is not None and [e.value for e in job.optional] == ["b"]
    with pytest.raises(InvalidRecord):
        build_job(now=NOW, optional=iter([reserved]), **fields)


def test_a_float_too_large_for_a_float_is_a_problem_not_a_crash():
    problems = _problems_of_full_schema(
        _plain_body(optional=[{"key": "f", "value": 10**400, "type": "float"}])
    )
    assert [p.field for p in problems] == ["optional[0].value"]
    assert "too large for a float" in problems[0].rule


def test_durations_of_18_digits_are_refused_by_both_paths():
    from customcd.api import build_job

    fields = {**_plain_body(), "job_duration": 10**18}
    with pytest.raises(InvalidRecord) as info:
        build_job(now=NOW, **fields)
    assert [p.field for p in info.value.problems] == ["job_duration"]
