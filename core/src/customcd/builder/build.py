"""The builder's steps, from a CI environment to a validated :class:`Job`.

Choose the adapter, collect a draft, enrich it, apply ``customcd.toml`` and the user's values,
convert them, and validate the body with the model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..contract.fields import BASE_FIELDS
from ..contract.job import Job
from ..contract.problems import MISSING, ConfigurationError, InvalidRecord, Problem
from ..contract.times import TimeError, parse_epoch_ms
from ..plugins.adapter import Adapter
from ..plugins.draft import DRAFT_FIELDS, CollectContext, Draft
from ..plugins.manager import Plugins
from ..settings import FIELD_INPUTS
from .convert import apply_end_time, convert_service, convert_status, convert_text, convert_times
from .optional import (
    OPTIONAL_ENV,
    config_optional,
    merged_optional,
    parse_optional_args,
    with_env_optional,
)
from .provenance import Provenance, explain_choice

__all__ = [
    "Built",
    "build_from_draft",
    "build_job_from_environment",
    "choose_adapter",
    "field_overrides",
]

log = logging.getLogger("customcd")

_FIELD_SET = frozenset(DRAFT_FIELDS)
#: Pseudo-fields accepted as overrides besides the wire fields.
_EXTRA_INPUTS = ("start_time_ms", "duration_ms", "end_time")
#: Inputs in milliseconds and the field each one sets.
_MS_INPUTS = {"start_time_ms": "job_start_time", "duration_ms": "job_duration"}


@dataclass
class Built:
    """The result of building one record.

    :param job: the validated record, or ``None`` when the record is skipped.
    :param draft: the draft it came from (after enrichment and overrides).
    :param skip: why no record is sent (e.g. a skipped job), or ``None``.
    :param adapter: the adapter's name, or ``None``.
    :param notes: messages for the user (``-v``).
    :param warnings: messages the user should always see (e.g. dropped optional fields).
    """

    job: Job | None
    draft: Draft
    skip: str | None = None
    adapter: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def field_overrides(flags: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The user's field values: ``CUSTOMCD_<FIELD>`` variables, overridden by flags."""
    values: dict[str, Any] = {}
    for item in FIELD_INPUTS:
        env_value = env.get(item.env, "").strip()
        if env_value:
            values[item.field] = env_value
    for name, value in flags.items():
        if value is not None and (name in DRAFT_FIELDS or name in _EXTRA_INPUTS):
            values[name] = value
            # a flag in one unit replaces the environment's value in the other unit
            twin = {
                "start_time_ms": "job_start_time",
                "job_start_time": "start_time_ms",
                "duration_ms": "job_duration",
                "job_duration": "duration_ms",
            }.get(name)
            if twin and twin in values and twin not in flags:
                del values[twin]
    return values


def choose_adapter(plugins: Plugins, env: Mapping[str, str], requested: str = "") -> Adapter | None:
    """The adapter for this run: ``requested`` by name, else the one whose detection matches.

    :raises ConfigurationError: unknown name, or several adapters detect the environment.
    """
    adapters = plugins.adapters()
    if requested:
        if requested.lower() == "none":
            return None
        if requested not in adapters:
            known = ", ".join(adapters) or "none installed"
            raise ConfigurationError(
                f"--adapter {requested!r} is not installed (installed: {known}); "
                "see `customcd plugins`",
                docs="plugins.md",
            )
        return adapters[requested]
    matches = []
    for name, adapter in adapters.items():
        try:
            if adapter.detect(env):
                matches.append(name)
        except Exception as exc:  # a broken detector must not break the pipeline
            log.warning("adapter %r failed to detect (%s); ignored", name, exc)
    if len(matches) > 1:
        raise ConfigurationError(
            f"several CI adapters match this environment: {', '.join(matches)}; choose one with "
            f"--adapter {matches[0]} (or CUSTOMCD_ADAPTER)",
            docs="plugins.md",
        )
    return adapters[matches[0]] if matches else None


def _routing_facts(draft: Draft, overrides: Mapping[str, Any]) -> dict[str, str]:
    """What routing rules match on: the draft's fields and facts, then the user's values."""
    facts = {name: str(value) for name, value in draft.fields().items()}
    facts.update(draft.facts)
    facts.update({k: str(v) for k, v in overrides.items() if k in _FIELD_SET and v is not None})
    if draft.adapter:
        facts.setdefault("ci", draft.adapter)
        facts.setdefault("adapter", draft.adapter)
    return facts


def build_from_draft(
    draft: Draft,
    *,
    config: Config,
    overrides: Mapping[str, Any],
    user_optional: Sequence[Mapping[str, Any]] = (),
    adapter: Adapter | None = None,
    now: float,
    problems: Sequence[Problem] = (),
) -> Built:
    """Apply configuration and overrides to an (already enriched) draft and validate it.

    :param user_optional: the user's optional entries ``{key, value, type}`` (later wins by key).
    :param now: the epoch seconds of this run (default durations, future times).
    :param problems: problems found before (e.g. in ``--optional``), reported with the record's.
    :raises InvalidRecord: with every problem of the record.
    """
    found = list(problems)
    built = Built(job=None, draft=draft, adapter=draft.adapter, notes=list(draft.notes))
    route_optional = (
        _apply_config(draft, config, overrides, built)
        if config.job_defaults or config.routes
        else []
    )
    _apply_overrides(draft, overrides, found)
    if draft.skip:
        built.skip = draft.skip
        return built
    body = _raw_body(draft)
    skip = convert_status(body, config, adapter, found)
    if skip:
        built.skip = skip
        return built
    convert_times(body, now, found, built.notes, built.warnings)
    if overrides.get("end_time") is not None:
        apply_end_time(body, overrides, found, built.notes, built.warnings)
    convert_service(body)
    if "service_id" not in body and not any(p.field == "service_id" for p in found):
        found.append(_no_service(draft, overrides))
    convert_text(body)
    if config.optional or route_optional or user_optional or draft.optional:
        optional = merged_optional(
            config, route_optional, user_optional, draft.optional, built.warnings
        )
        if optional:
            body["optional"] = optional
    try:
        built.job = Job.from_body(body, now=now)
    except InvalidRecord as exc:
        known = {p.field for p in found}
        found.extend(p for p in exc.problems if p.field not in known)
    if found:
        raise InvalidRecord(_with_hints(found, draft.hints) if draft.hints else found)
    return built


def _no_service(draft: Draft, overrides: Mapping[str, Any]) -> Problem:
    """The problem of a record with no service id: what to give, and the facts a route sees."""
    facts = ", ".join(
        f"{k}={v!r}"
        for k, v in sorted(_routing_facts(draft, overrides).items())
        if k != "service_id"
    )
    return Problem(
        "service_id",
        MISSING,
        "is not set: give --service-id (or CUSTOMCD_SERVICE_ID), or add a [[route]] to "
        f"customcd.toml that matches this record ({facts or 'no facts known'})",
    )


def _with_hints(problems: Sequence[Problem], hints: Mapping[str, str]) -> list[Problem]:
    """Add the adapter's hint (what to set) to the problem of each field it speaks of."""
    result = []
    for problem in problems:
        base = problem.field.split("/")[0]
        hint = hints.get(base) or (
            hints.get("repo_name") or hints.get("repo_id") if "repo_" in problem.field else None
        )
        result.append(
            Problem(problem.field, problem.value, f"{problem.rule} ({hint})")
            if hint and hint not in problem.rule
            else problem
        )
    return result


def _apply_config(
    draft: Draft, config: Config, overrides: Mapping[str, Any], built: Built
) -> list[dict[str, Any]]:
    """``[job]`` values, then the first matching ``[[route]]``; returns the route's optionals."""
    for name, value in config.job_defaults.items():
        setattr(draft, name, value)
    if not config.routes:
        return []
    route = config.route_for(_routing_facts(draft, overrides))
    if route is None:
        return []
    built.notes.append(f"routing rule #{route.index} matched ({dict(route.match)})")
    if route.service_id is not None:
        draft.service_id = route.service_id
    if route.job_type is not None:
        draft.job_type = route.job_type
    return config_optional(route.optional)


def _apply_overrides(draft: Draft, overrides: Mapping[str, Any], found: list[Problem]) -> None:
    """``CUSTOMCD_*`` variables and flags win over everything (``*_ms`` inputs converted)."""
    fields = vars(draft)  # a plain dataclass: setting its __dict__ is setting its attributes
    ms_inputs = False
    for name, value in overrides.items():
        if value is not None:
            if name in _FIELD_SET:
                fields[name] = value
            elif name in _MS_INPUTS:
                ms_inputs = True
    if not ms_inputs:
        return
    for pseudo, name in _MS_INPUTS.items():
        raw = overrides.get(pseudo)
        if raw is None:
            continue
        try:
            fields[name] = parse_epoch_ms(raw)
        except TimeError as exc:
            found.append(Problem(name, raw, f"(ms) {exc}"))
            fields[name] = MISSING


def _raw_body(draft: Draft) -> dict[str, Any]:
    """The draft's base fields that are set (blank text counts as unset)."""
    fields = vars(draft)
    return {  # contract order
        name: value
        for name in BASE_FIELDS
        if (value := fields[name]) is not None
        and value is not MISSING
        and (type(value) is not str or value.strip())
    }


def build_job_from_environment(
    *,
    plugins: Plugins,
    config: Config,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    optional_args: Sequence[str] = (),
    now: float,
) -> Built:
    """The whole ``send`` pipeline up to a validated job: detect, collect, enrich, override.

    :param flags: field values given on the command line, by field name (``None`` = not given).
    :raises InvalidRecord: every problem of the record.
    :raises ConfigurationError: adapter choice or configuration problems.
    """
    overrides = field_overrides(flags, env)
    user_optional, problems = parse_optional_args(optional_args)
    if env.get(OPTIONAL_ENV, "").strip():
        user_optional, problems = with_env_optional(env[OPTIONAL_ENV], user_optional, problems)
    adapter = choose_adapter(plugins, env, config.adapter)
    log.info("%s", explain_choice(adapter, env, config.adapter))
    provenance = Provenance()
    context = CollectContext(
        env=env,
        overrides=overrides,
        options=config.adapter_options,
        timeout=config.timeout,
        now=now,
        log=log,
    )
    if adapter is not None:
        draft = adapter.collect(context)
        draft.adapter = adapter.name
        provenance.after(draft, f"adapter {adapter.name}")
    else:
        draft = Draft()
    plugins.enrich(draft=draft, context=context)
    provenance.after(draft, "an enrich hook")
    try:
        built = build_from_draft(
            draft,
            config=config,
            overrides=overrides,
            user_optional=user_optional,
            adapter=adapter,
            now=now,
            problems=problems,
        )
    except InvalidRecord as exc:
        if adapter is None and config.adapter.lower() != "none":
            installed = ", ".join(plugins.adapters()) or "none"
            raise InvalidRecord(
                exc.problems,
                hint=f"no CI was detected (installed adapters: {installed}); give the fields by "
                "flag, or choose an adapter with --adapter NAME",
            ) from None
        raise
    if built.job is not None and log.isEnabledFor(logging.INFO):
        provenance.after_user_values(built.draft, overrides, flags)
        provenance.log(built.job.to_body(), log, built.notes)
    return built
