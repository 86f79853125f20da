"""The builder: precedence, routing, status mapping, optional fields, time inputs."""

from __future__ import annotations

from typing import ClassVar

import pytest
from customcd.builder import build_from_draft, build_job_from_environment, parse_optional_args
from customcd.config import Config, Route
from customcd.contract.problems import ConfigurationError, InvalidRecord
from customcd.plugins.adapter import NOT_FINAL, SKIP, Adapter
from customcd.plugins.draft import Draft
from customcd.plugins.hookspecs import hookimpl
from customcd.plugins.manager import get_plugin_manager

NOW = 1_764_400_000.0
SHA = "a2e7da86cc392417b0d9f605b28038aae80b002f"
SHA2 = "b" * 40
BASE = {
    "job_id": "1",
    "commit_sha": SHA,
    "service_id": "2",
    "job_start_time": "2025-11-29T06:56:40Z",
    "status": "succeeded",
    "repo_name": "acme/shop",
}


def build(overrides=None, *, config=None, draft=None, adapter=None, optional=()):
    return build_from_draft(
        draft or Draft(),
        config=config or Config(),
        overrides={**BASE, **(overrides or {})},
        user_optional=list(optional),
        adapter=adapter,
        now=NOW,
    )


def test_lenient_inputs_become_a_strict_job():
    job = build().job
    assert job.service_id == 2
    assert job.status == "Succeeded"
    assert job.job_start_time == 1_764_399_400
    assert job.job_duration == 600  # now - start, rounded down


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("SUCCEEDED", "Succeeded"),
        ("failed", "Failed"),
        ("on hold", "On Hold"),
        ("ON_HOLD", "On Hold"),
    ],
)
def test_status_is_case_insensitive(raw, status):
    assert build({"status": raw}).job.status == status


def test_ms_and_duration_inputs():
    job = build(
        {"job_start_time": None, "start_time_ms": "1764399400123", "duration_ms": 90500}
    ).job
    assert job.job_start_time == 1_764_399_400 and job.job_duration == 90
    assert build({"job_duration": "2m"}).job.job_duration == 120


def test_running_job_duration_is_now_minus_start():
    job = build({"job_start_time": int(NOW) - 59}).job
    assert job.job_duration == 59


def test_errors_are_collected_at_once():
    with pytest.raises(InvalidRecord) as info:
        build(
            {
                "commit_sha": "abc",
                "status": "great",
                "job_start_time": "2024-01-01 10:00:00",
                "service_id": "two",
            }
        )
    fields = {p.field for p in info.value.problems}
    assert {"commit_sha", "status", "job_start_time", "service_id"} <= fields
    naive = next(p for p in info.value.problems if p.field == "job_start_time")
    assert "no time zone" in naive.rule


def test_millisecond_start_time_is_a_clear_error():
    with pytest.raises(InvalidRecord) as info:
        build({"job_start_time": "1764399400123"})
    assert "milliseconds" in str(info.value) and "--start-time-ms" in str(info.value)


def test_missing_service_id_names_the_facts():
    draft = Draft(facts={"job_name": "deploy-prod", "branch": "main"})
    with pytest.raises(InvalidRecord) as info:
        build({"service_id": None}, draft=draft)
    problem = next(p for p in info.value.problems if p.field == "service_id")
    assert "job_name='deploy-prod'" in problem.rule and "branch='main'" in problem.rule
    assert "[[route]]" in problem.rule


ROUTES = (
    Route({"job_name": "deploy-*", "branch": "main"}, 7, "Production Deploy", {"tier": "prod"}, 1),
    Route({"environment": "staging*"}, 8, "Staging Deploy", {}, 2),
    Route({"repo_name": "acme/*"}, 9, None, {}, 3),
)


def test_first_matching_route_wins():
    config = Config(routes=ROUTES)
    draft = Draft(facts={"job_name": "deploy-api", "branch": "main", "environment": "staging-eu"})
    job = build({"service_id": None}, config=config, draft=draft).job
    assert (job.service_id, job.job_type) == (7, "Production Deploy")
    assert {"key": "tier", "value": "prod", "type": "string"} in job.to_body()["optional"]
    draft = Draft(facts={"job_name": "deploy-api", "branch": "dev", "environment": "staging-eu"})
    job = build({"service_id": None}, config=config, draft=draft).job
    assert (job.service_id, job.job_type) == (8, "Staging Deploy")
    job = build({"service_id": None}, config=config, draft=Draft()).job  # repo_name acme/shop
    assert job.service_id == 9 and job.job_type is None


def test_flags_win_over_routes():
    config = Config(routes=ROUTES)
    draft = Draft(facts={"job_name": "deploy-api", "branch": "main"})
    job = build({"service_id": "3", "job_type": "Hotfix"}, config=config, draft=draft).job
    assert (job.service_id, job.job_type) == (3, "Hotfix")


class FakeAdapter(Adapter):
    name = "fake"
    title = "Fake CI"
    status_map: ClassVar = {
        "SUCCESS": "Succeeded",
        "UNSTABLE": "Succeeded",
        "FAILURE": "Failed",
        "NOT_BUILT": SKIP,
        "BUILDING": NOT_FINAL,
        "PAUSED": "On Hold",
    }

    def detect(self, env):
        return env.get("FAKE_CI") == "1"

    def collect(self, context):
        draft = Draft(
            job_id="fake#1",
            commit_sha=context.env.get("FAKE_SHA", SHA),
            job_start_time=int(NOW) - 100,
            status=context.env.get("FAKE_STATUS", "SUCCESS"),
            repo_name="fake/repo",
            job_type="adapter-type",
        )
        draft.add_optional("ci", "fake")
        draft.set_fact("job_name", "deploy-fake")
        return draft


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("SUCCESS", "Succeeded"),
        ("unstable", "Succeeded"),
        ("FAILURE", "Failed"),
        ("PAUSED", "On Hold"),
    ],
)
def test_native_statuses_map_through_the_adapter(native, expected):
    built = build({"status": native}, adapter=FakeAdapter())
    assert built.job.status == expected


def test_skip_and_not_final():
    built = build({"status": "NOT_BUILT"}, adapter=FakeAdapter())
    assert built.job is None and "NOT_BUILT" in built.skip
    with pytest.raises(InvalidRecord) as info:
        build({"status": "BUILDING"}, adapter=FakeAdapter())
    assert "--status" in str(info.value)
    with pytest.raises(InvalidRecord) as info:
        build({"status": "WEIRD"}, adapter=FakeAdapter())
    assert "UNSTABLE" in str(info.value)  # known natives are listed


def test_user_status_map_wins_over_the_adapter():
    config = Config(status_map={"UNSTABLE": "Failed", "SUCCESS": "skip"})
    assert (
        build({"status": "UNSTABLE"}, adapter=FakeAdapter(), config=config).job.status == "Failed"
    )
    assert build({"status": "SUCCESS"}, adapter=FakeAdapter(), config=config).skip


def test_user_optional_fields_win_and_plugin_ones_are_dropped_first():
    draft = Draft()
    for i in range(15):
        draft.add_optional(f"plugin{i}", i, "integer")
    draft.add_optional("shared", "from-plugin")
    user = [{"key": f"user{i}", "value": "u", "type": "string"} for i in range(9)]
    user.append({"key": "shared", "value": "from-user", "type": "string"})
    built = build(draft=draft, optional=user)
    optional = built.job.to_body()["optional"]
    assert len(optional) == 20
    keys = [o["key"] for o in optional]
    assert all(f"user{i}" in keys for i in range(9))
    assert {"key": "shared", "value": "from-user", "type": "string"} in optional
    assert "plugin9" in keys and "plugin10" not in keys
    assert "plugin10" in built.warnings[0] and "plugin14" in built.warnings[0]
    assert "plugin9" not in built.warnings[0]


def test_parse_optional_args():
    entries, problems = parse_optional_args(
        [
            "microservice=frontend",
            "microservice=backend",
            "lead_time:duration=5m",
            "ratio:float=0.5",
            "approved:timestamp=2023-12-31T10:20:30Z",
            "n:integer=3",
            '{"key": "j", "value": [1, 2], "type": "integer"}',
            "eq=a=b",
        ]
    )
    assert not problems
    by_key = {e["key"]: e for e in entries}
    assert by_key["microservice"]["value"] == ["frontend", "backend"]
    assert by_key["lead_time"]["value"] == 300
    assert by_key["ratio"]["value"] == 0.5
    assert by_key["approved"]["value"] == 1704018030
    assert by_key["n"]["value"] == 3
    assert by_key["j"]["value"] == [1, 2]
    assert by_key["eq"]["value"] == "a=b"
    _, problems = parse_optional_args(["novalue", "n:integer=x", "t:bogus=1", "{bad json"])
    assert [p.field for p in problems] == [
        "--optional",
        "optional.n.value",
        "optional.t.type",
        "--optional",
    ]


def test_optional_numbers_follow_the_one_digit_rule():
    """ASCII digits only, as for every integer input; a whole number must fit in 64 bits."""
    arabic_12 = "\u0661\u0662"
    entries, problems = parse_optional_args(
        [
            f"a:integer={arabic_12}",
            "b:integer=1_000",
            f"c:float={arabic_12}.5",
            "d:float=1_0.5",
            f"e:duration={arabic_12}",
            "f:integer= -7 ",
            "g:float=2.5e3",
        ]
    )
    assert [p.field for p in problems] == [f"optional.{k}.value" for k in "abcde"]
    assert "digits 0-9" in problems[0].rule
    assert entries == [
        {"key": "f", "value": -7, "type": "integer"},
        {"key": "g", "value": 2500.0, "type": "float"},
    ]
    entries, problems = parse_optional_args([f"big:integer={2**63}"])
    assert not problems
    with pytest.raises(InvalidRecord) as info:
        build(optional=entries)
    assert [p.field for p in info.value.problems] == ["optional[0].value"]
    assert "64-bit" in info.value.problems[0].rule


class Enricher:
    @hookimpl
    def customcd_enrich(self, draft, context):
        draft.job_type = "enriched-type"
        draft.triggered_by = "enricher@example.com"
        draft.add_optional("enriched", "yes")


def test_precedence_flags_env_enrich_adapter_defaults():
    plugins = get_plugin_manager(
        {}, entry_points=[], extra=[("fake", FakeAdapterPlugin()), ("enricher", Enricher())]
    )
    env = {
        "FAKE_CI": "1",
        "CUSTOMCD_SERVICE_ID": "4",
        "CUSTOMCD_TRIGGERED_BY": "env@example.com",
        "CUSTOMCD_REPO_NAME": "env/repo",
    }
    config = Config(job_defaults={"job_type": "config-type"})
    built = build_job_from_environment(
        plugins=plugins, config=config, env=env, flags={"repo_name": "flag/repo"}, now=NOW
    )
    job = built.job
    assert job.job_id == "fake#1"  # adapter
    assert job.job_type == "config-type"  # customcd.toml over enrich over adapter
    assert job.triggered_by == "env@example.com"  # env over enrich
    assert job.repo_name == "flag/repo"  # flag over env
    assert job.service_id == 4
    keys = {o.key for o in job.optional}
    assert keys == {"ci", "enriched"}
    built = build_job_from_environment(plugins=plugins, config=Config(), env=env, flags={}, now=NOW)
    assert built.job.job_type == "enriched-type"  # enrich over adapter
    assert built.adapter == "fake"


class FakeAdapterPlugin:
    @hookimpl
    def customcd_adapters(self):
        return [FakeAdapter()]


class OtherFake(FakeAdapter):
    name = "other"


class OtherPlugin:
    @hookimpl
    def customcd_adapters(self):
        return [OtherFake()]


def test_detection_ambiguity_and_override():
    plugins = get_plugin_manager(
        {}, entry_points=[], extra=[("fake", FakeAdapterPlugin()), ("other", OtherPlugin())]
    )
    env = {"FAKE_CI": "1", "CUSTOMCD_SERVICE_ID": "4"}
    with pytest.raises(ConfigurationError) as info:
        build_job_from_environment(plugins=plugins, config=Config(), env=env, flags={}, now=NOW)
    assert (
        "fake" in str(info.value) and "other" in str(info.value) and "--adapter" in str(info.value)
    )
    built = build_job_from_environment(
        plugins=plugins, config=Config(adapter="other"), env=env, flags={}, now=NOW
    )
    assert built.adapter == "other"
    with pytest.raises(ConfigurationError) as info:
        build_job_from_environment(
            plugins=plugins, config=Config(adapter="nope"), env=env, flags={}, now=NOW
        )
    assert "not installed" in str(info.value)


def test_no_adapter_falls_back_to_flags_only():
    plugins = get_plugin_manager({}, entry_points=[], extra=[("fake", FakeAdapterPlugin())])
    built = build_job_from_environment(
        plugins=plugins, config=Config(), env={}, flags=dict(BASE), now=NOW
    )
    assert built.adapter is None and built.job.job_id == "1"


def test_end_time_gives_end_minus_start_and_drops_the_now_minus_start_note():
    built = build({"end_time": "2025-11-29T06:57:10Z"})
    assert built.job.job_duration == 30
    assert "job_duration computed as end_time - start" in built.notes
    assert "job_duration computed as now - start" not in built.notes


def test_end_time_replaces_an_adapter_duration_but_not_the_users():
    draft = Draft(job_duration=999)
    assert build({"end_time": 1_764_399_460}, draft=draft).job.job_duration == 60
    assert build({"end_time": 1_764_399_460, "job_duration": "5"}).job.job_duration == 5


@pytest.mark.parametrize(
    ("end", "rule"),
    [("yesterday", "not a"), ("2025-11-29T06:50:00Z", "is before job_start_time")],
)
def test_bad_end_time_is_a_problem_naming_end_time(end, rule):
    with pytest.raises(InvalidRecord) as info:
        build({"end_time": end})
    (problem,) = [p for p in info.value.problems if p.field == "end_time"]
    assert problem.value == end and rule in problem.rule


def test_a_default_duration_of_over_seven_days_warns_naming_the_flags():
    built = build({"job_start_time": int(NOW) - 8 * 86400})
    assert built.job.job_duration == 8 * 86400
    (warning,) = built.warnings
    assert "--duration" in warning and "--end-time" in warning
    assert not build({"job_start_time": int(NOW) - 6 * 86400}).warnings
    assert not build({"job_start_time": int(NOW) - 8 * 86400, "end_time": int(NOW)}).warnings


def test_optional_fields_from_the_environment_one_a_line_flags_win(customcd_plugins):
    env = {"CUSTOMCD_OPTIONAL": "team=payments\n\nlead_time:duration=5m\nregion=eu\n"}
    built = build_job_from_environment(
        plugins=customcd_plugins(),
        config=Config(adapter="none"),
        env=env,
        flags=dict(BASE),
        optional_args=["region=us"],
        now=NOW,
    )
    optional = {item.key: (item.value, item.type) for item in built.job.optional}
    assert optional == {
        "team": ("payments", "string"),
        "lead_time": (300, "duration"),
        "region": ("us", "string"),
    }


def test_a_bad_environment_optional_entry_names_the_variable(customcd_plugins):
    env = {"CUSTOMCD_OPTIONAL": "no equals sign"}
    with pytest.raises(InvalidRecord) as info:
        build_job_from_environment(
            plugins=customcd_plugins(),
            config=Config(adapter="none"),
            env=env,
            flags=dict(BASE),
            now=NOW,
        )
    assert any(p.field == "CUSTOMCD_OPTIONAL" for p in info.value.problems)


def test_an_adapter_hint_is_added_to_the_problem_of_its_field():
    draft = Draft()
    draft.hint("repo_name", "GIT_URL is not set; give --repo-name")
    draft.hint("commit_sha", "GIT_COMMIT is not set; give --commit-sha")
    with pytest.raises(InvalidRecord) as info:
        build({"repo_name": None, "commit_sha": "abc"}, draft=draft)
    text = str(info.value)
    assert "GIT_URL is not set; give --repo-name" in text
    assert "GIT_COMMIT is not set; give --commit-sha" in text
    with pytest.raises(TypeError):
        draft.hint("nope", "x")
