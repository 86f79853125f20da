"""Every field rule and decision of contract.md, on the wire model."""

from __future__ import annotations

import json

import pytest
from customcd.contract.job import Job
from customcd.contract.problems import InvalidRecord

NOW = 1_764_400_000.0
SHA1 = "a2e7da86cc392417b0d9f605b28038aae80b002f"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

# The vendor document's sample payload, with its braces restored.
SEED = {
    "job_id": "1",
    "status": "Succeeded",
    "commit_sha": SHA1,
    "triggered_by": "",
    "repo_id": "12345",
    "service_id": 2,
    "job_start_time": 1704018030,
    "job_duration": 300,
    "job_type": "Production Deploy",
    "optional": [
        {"key": "microservice", "value": ["frontend", "backend"], "type": "string"},
        {"key": "lead_time", "value": 20, "type": "duration"},
        {"key": "float_key", "value": 20.5, "type": "float"},
        {"key": "qa_approved_on", "value": 1704018030, "type": "timestamp"},
    ],
}


def body(**changes):
    data = json.loads(json.dumps(SEED))
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def problems(data):
    with pytest.raises(InvalidRecord) as info:
        Job.from_body(data, now=NOW)
    return {p.field: p for p in info.value.problems}


def test_seed_sample_is_valid_and_round_trips():
    job = Job.from_body(SEED, now=NOW)
    out = job.to_body()
    assert out["optional"] == SEED["optional"]
    assert "triggered_by" not in out  # blank -> omitted, server uses 'Custom CD Agent'
    assert list(out) == [
        "job_id",
        "commit_sha",
        "service_id",
        "job_start_time",
        "job_duration",
        "status",
        "repo_id",
        "job_type",
        "optional",
    ]
    assert json.loads(job.to_json()) == out
    assert job.to_json() == json.dumps(out, separators=(",", ":"))


def test_sha256_and_uppercase_are_accepted_and_normalised():
    assert Job.from_body(body(commit_sha=SHA256), now=NOW).commit_sha == SHA256
    assert Job.from_body(body(commit_sha=SHA1.upper()), now=NOW).commit_sha == SHA1


@pytest.mark.parametrize(
    ("sha", "rule"),
    [
        ("a2e7da8", "short SHA"),
        (SHA1[:39], "short SHA"),
        (SHA1 + "0", "exactly 40 or 64"),
        ("z" * 40, "exactly 40 or 64"),
        ("", "exactly 40 or 64"),
        (SHA256 + "00", "exactly 40 or 64"),
    ],
)
def test_bad_shas(sha, rule):
    found = problems(body(commit_sha=sha))
    assert rule in found["commit_sha"].rule
    assert found["commit_sha"].value == sha


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("job_id", "", "must not be empty"),
        ("job_id", "   ", "must not be empty"),
        ("job_id", 1, "must be a string"),
        ("service_id", "2", "must be an integer"),
        ("service_id", True, "boolean is not one"),
        ("service_id", 0, "positive"),
        ("service_id", 2.5, "must be an integer"),
        ("job_start_time", 1704018030000, "milliseconds"),
        ("job_start_time", "1704018030", "must be an integer"),
        ("job_start_time", 300, "before 2000"),
        ("job_start_time", int(NOW) + 601, "future"),
        ("job_start_time", False, "boolean is not one"),
        ("job_duration", -1, ">= 0"),
        ("job_duration", 2.5, "must be an integer"),
        ("job_duration", True, "boolean is not one"),
        ("status", "succeeded", "exactly one of"),
        ("status", "SUCCESS", "exactly one of"),
        ("status", "OnHold", "exactly one of"),
        ("repo_id", 12345, "must be a string"),
        ("triggered_by", 7, "must be a string"),
    ],
)
def test_field_rules(field, value, rule):
    found = problems(body(**{field: value}))
    assert field in found, found
    assert rule in found[field].rule
    assert found[field].value == value
    assert field in str(found[field]) and repr(value)[:20] in str(found[field])


def test_start_time_within_ten_minutes_of_now_is_fine():
    assert Job.from_body(body(job_start_time=int(NOW) + 600), now=NOW).job_start_time == NOW + 600


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "On Hold"])
def test_the_three_statuses(status):
    assert Job.from_body(body(status=status), now=NOW).status == status


@pytest.mark.parametrize(
    "missing", ["job_id", "commit_sha", "service_id", "job_start_time", "job_duration", "status"]
)
def test_required_fields(missing):
    found = problems(body(**{missing: ...}))
    assert found[missing].rule == "is required"


def test_repo_id_or_repo_name():
    found = problems(body(repo_id=...))
    assert "repo_id/repo_name" in found
    assert Job.from_body(body(repo_id=..., repo_name="acme/shop"), now=NOW).repo_name == "acme/shop"
    both = Job.from_body(body(repo_name="acme/shop"), now=NOW).to_body()
    assert both["repo_id"] == "12345" and both["repo_name"] == "acme/shop"
    assert "repo_id/repo_name" in problems(body(repo_id="  "))


def test_unknown_optional_base_fields_are_omitted_not_null():
    out = Job.from_body(body(triggered_by=..., job_type=..., optional=...), now=NOW).to_body()
    assert "triggered_by" not in out and "job_type" not in out and "optional" not in out
    assert None not in out.values()


def test_extra_fields_are_refused():
    assert "rule_breaker" in problems(body(rule_breaker=1))


def _entries(count, **kw):
    return [{"key": f"k{i}", "value": i, "type": "integer", **kw} for i in range(count)]


def test_twenty_optional_fields_pass_twenty_one_fail():
    assert len(Job.from_body(body(optional=_entries(20)), now=NOW).optional) == 20
    found = problems(body(optional=_entries(21)))
    assert "at most 20" in found["optional"].rule


def test_twenty_values_pass_twenty_one_fail():
    ok = [{"key": "many", "value": list(range(20)), "type": "integer"}]
    assert Job.from_body(body(optional=ok), now=NOW).optional[0].value == list(range(20))
    bad = [{"key": "many", "value": list(range(21)), "type": "integer"}]
    found = problems(body(optional=bad))
    assert "at most 20" in found["optional[0].value"].rule


@pytest.mark.parametrize(
    ("entry", "field", "rule"),
    [
        ({"key": "a", "value": True, "type": "integer"}, "optional[0].value", "boolean"),
        ({"key": "a", "value": [1, False], "type": "integer"}, "optional[0].value", "boolean"),
        ({"key": "a", "value": "x", "type": "integer"}, "optional[0].value", "whole number"),
        ({"key": "a", "value": 1.5, "type": "duration"}, "optional[0].value", "whole number"),
        ({"key": "a", "value": -5, "type": "duration"}, "optional[0].value", "negative"),
        ({"key": "a", "value": True, "type": "float"}, "optional[0].value", "boolean"),
        ({"key": "a", "value": "1", "type": "float"}, "optional[0].value", "not a number"),
        ({"key": "a", "value": 5, "type": "string"}, "optional[0].value", "not a string"),
        (
            {"key": "a", "value": 1704018030000, "type": "timestamp"},
            "optional[0].value",
            "milliseconds",
        ),
        ({"key": "a", "value": [], "type": "string"}, "optional[0].value", "empty list"),
        ({"key": "a", "value": 1, "type": "bool"}, "optional[0].type", "must be one of"),
        ({"key": "", "value": 1, "type": "integer"}, "optional[0].key", "non-empty"),
        ({"key": "status", "value": "x", "type": "string"}, "optional[0].key", "base field"),
        ({"key": "a", "value": 1}, "optional[0].type", "is required"),
        (
            {"key": "a", "value": 1, "type": "integer", "unit": "s"},
            "optional[0].unit",
            "not a field",
        ),
    ],
)
def test_optional_entry_rules(entry, field, rule):
    found = problems(body(optional=[entry]))
    assert field in found, found
    assert rule in found[field].rule, found[field]


def test_optional_keys_are_unique():
    found = problems(
        body(
            optional=[
                {"key": "a", "value": 1, "type": "integer"},
                {"key": "a", "value": 2, "type": "integer"},
            ]
        )
    )
    assert "twice" in found["optional"].rule


def test_float_type_accepts_integers_as_floats():
    job = Job.from_body(body(optional=[{"key": "f", "value": [1, 2.5], "type": "float"}]), now=NOW)
    assert job.to_body()["optional"][0]["value"] == [1.0, 2.5]


def test_every_problem_is_reported_at_once():
    data = body(
        job_id="",
        commit_sha="abc",
        service_id="x",
        job_start_time=1704018030000,
        job_duration=-1,
        status="ok",
        repo_id=...,
    )
    found = problems(data)
    assert {
        "job_id",
        "commit_sha",
        "service_id",
        "job_start_time",
        "job_duration",
        "status",
    } <= set(found)


def test_non_object_body():
    found = problems([1, 2])
    assert "JSON object" in found["body"].rule


def test_idempotency_key_is_stable_and_identity_based():
    a = Job.from_body(SEED, now=NOW)
    b = Job.from_body(body(job_duration=999, optional=...), now=NOW)
    c = Job.from_body(body(job_id="2"), now=NOW)
    assert a.idempotency_key == b.idempotency_key
    assert a.idempotency_key != c.idempotency_key
    assert a.idempotency_key.startswith("customcd-")
    # a job first reported On Hold, then with its final status, is two records
    held = Job.from_body(body(status="On Hold"), now=NOW)
    assert held.idempotency_key != a.idempotency_key


def test_message_names_field_value_and_rule():
    with pytest.raises(InvalidRecord) as info:
        Job.from_body(body(commit_sha="abc1234"), now=NOW)
    text = str(info.value)
    assert "commit_sha" in text and "'abc1234'" in text and "full" in text
    assert "1 problem" in text


def test_the_model_owns_its_values_and_is_frozen():
    """A Job shares no list with the body it was validated from, and cannot be changed."""
    from pydantic import ValidationError

    data = body(triggered_by="dev@example.com")
    job = Job.from_body(data, now=NOW)
    assert job.model_fields_set == set(data)
    assert job.to_json() == json.dumps(job.to_body(), separators=(",", ":"))
    assert job.model_copy(update={"job_duration": 7}).job_duration == 7
    with pytest.raises(ValidationError):
        job.status = "Failed"  # type: ignore[misc]
    data["optional"][0]["value"].append("changed")
    data["optional"][1]["value"] = 99
    assert job.to_body()["optional"][:2] == SEED["optional"][:2]


def test_a_subclass_validates_through_the_same_rules():
    class Tagged(Job):
        def tag(self) -> str:
            return f"{self.job_id}@{self.service_id}"

    made = Tagged.from_body(body(), now=NOW)
    assert isinstance(made, Tagged) and made.tag() == "1@2"
    with pytest.raises(InvalidRecord) as info:
        Tagged.from_body(body(commit_sha="abc"), now=NOW)
    assert [p.field for p in info.value.problems] == ["commit_sha"]


def test_validation_and_construction_raise_the_same_problems():
    """Job(...), model_validate and from_body are one path: InvalidRecord, every problem."""
    bad = body(job_id="", status="done")
    raised = []
    for build in (
        lambda: Job(**bad),
        lambda: Job.model_validate(bad, context={"now": NOW}),
        lambda: Job.model_validate_json(json.dumps(bad), context={"now": NOW}),
        lambda: Job.from_body(bad, now=NOW),
    ):
        with pytest.raises(InvalidRecord) as info:
            build()
        raised.append([p.field for p in info.value.problems])
    assert raised == [["job_id", "status"]] * 4


def test_an_optional_field_built_alone_is_checked_too():
    from customcd.contract.job import OptionalField
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="base field"):
        OptionalField(key="status", value="x", type="string")
    with pytest.raises(ValidationError, match="boolean"):
        OptionalField(key="n", value=[1, True], type="integer")
    assert OptionalField(key="f", value=[1, 2], type="float").value == [1.0, 2.0]


@pytest.mark.parametrize("kind", ["integer", "duration"])
def test_optional_whole_numbers_fit_in_64_bits(kind):
    top = 2**63 - 1
    assert Job.from_body(body(optional=[{"key": "n", "value": top, "type": kind}]), now=NOW)
    found = problems(body(optional=[{"key": "n", "value": [1, top + 1], "type": kind}]))
    assert "64-bit" in found["optional[0].value"].rule
    assert found["optional[0].value"].value == [1, top + 1]


def test_a_job_takes_its_optional_fields_as_models_or_dicts():
    from customcd.contract.job import OptionalField

    env = OptionalField(key="env", value="prod", type="string")
    job = Job(**body(optional=[env, {"key": "n", "value": [1, 2], "type": "integer"}]))
    assert job.optional == [env, OptionalField(key="n", value=[1, 2], type="integer")]
    assert json.loads(job.to_json())["optional"][0] == {
        "key": "env",
        "value": "prod",
        "type": "string",
    }
    # the entries are still checked with the record: a duplicate key is one problem, named
    with pytest.raises(InvalidRecord) as info:
        Job(**body(optional=[env, {"key": "env", "value": "x", "type": "string"}]))
    assert [p.field for p in info.value.problems] == ["optional"]
    assert "appears twice" in info.value.problems[0].rule
    with pytest.raises(InvalidRecord):
        Job(**body(optional=[{"key": "n", "value": True, "type": "integer"}]))


def test_a_tuple_of_optional_models_is_taken_too():
    from customcd.contract.job import OptionalField

    env = OptionalField(key="env", value="prod", type="string")
    assert Job(**body(optional=(env,))).optional == [env]
