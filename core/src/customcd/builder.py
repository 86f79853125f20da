"""From the CI environment, plugins, configuration and flags to one validated :class:`Job`.

Precedence, lowest first: defaults < adapter < enrich hooks < ``customcd.toml`` (``[job]``, then
the first matching ``[[route]]``) < ``CUSTOMCD_*`` field variables < flags. Every problem is
collected and reported at once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import Config
from .contract.problems import MISSING, ConfigurationError, InvalidRecord, Problem
from .contract.record import Record
from .contract.status import StatusMapper, canonical_status
from .contract.times import (
    MS_THRESHOLD,
    TOO_LARGE,
    TimeError,
    parse_duration,
    parse_epoch_ms,
    to_epoch,
)
from .contract.wire import (
    BASE_FIELDS,
    EARLIEST_START,
    MAX_OPTIONAL_FIELDS,
    OPTIONAL_TYPES,
    validate_body,
)
from .plugins.adapter import NOT_FINAL, SKIP, Adapter
from .plugins.draft import DRAFT_FIELDS, CollectContext, Draft
from .plugins.manager import Plugins
from .settings import FIELD_INPUTS

if TYPE_CHECKING:
    from .contract.job import Job

__all__ = [
    "LONG_DEFAULT_DURATION",
    "OPTIONAL_ENV",
    "Built",
    "build_from_draft",
    "build_job_from_environment",
    "choose_adapter",
    "field_overrides",
    "parse_optional_args",
]

log = logging.getLogger("customcd")

_FIELD_SET = frozenset(DRAFT_FIELDS)
#: Pseudo-fields accepted as overrides besides the wire fields.
_EXTRA_INPUTS = ("start_time_ms", "duration_ms", "end_time")


@dataclass
class Built:
    """The result of building one record.

    :param record: the validated record, or ``None`` when the record is skipped.
    :param draft: the draft it came from (after enrichment and overrides).
    :param skip: why no record is sent (e.g. a skipped job), or ``None``.
    :param adapter: the adapter's name, or ``None``.
    :param notes: messages for the user (``-v``).
    :param warnings: messages the user should always see (e.g. dropped optional fields).
    """

    record: Record | None
    draft: Draft
    skip: str | None = None
    adapter: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def job(self) -> Job | None:
        """The record as the :class:`~customcd.contract.job.Job` pydantic model (built on first use)."""
        return self.record.job if self.record is not None else None


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


_OPTIONAL_ARG = re.compile(r"^(?P<key>[^=:]+?)(?::(?P<type>[a-z]+))?=(?P<value>.*)$", re.S)


def _convert_optional(key: str, kind: str, text: Any) -> Any:
    if not isinstance(text, str):
        return text
    if kind == "integer":
        return int(text.strip())
    if kind == "float":
        return float(text.strip())
    if kind == "duration":
        return parse_duration(text)
    if kind == "timestamp":
        return to_epoch(text)
    return text


def parse_optional_args(args: Sequence[str]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Parse ``--optional`` values: ``key=value``, ``key:type=value`` or a JSON object.

    Repeating a key makes a list of values. Returns the entries and the problems found.
    """
    entries: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for raw in args:
        text = raw.strip()
        if text.startswith("{"):
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append(Problem("--optional", raw, f"is not valid JSON ({exc.msg})"))
                continue
            if not isinstance(item, dict) or set(item) != {"key", "value", "type"}:
                problems.append(
                    Problem("--optional", raw, "a JSON entry needs exactly key, value, type")
                )
                continue
            if str(item["key"]) in entries:
                problems.append(Problem("--optional", raw, f"key {item['key']!r} is given twice"))
                continue
            entries[str(item["key"])] = item
            continue
        match = _OPTIONAL_ARG.match(text)
        if not match:
            problems.append(
                Problem("--optional", raw, "use key=value, key:type=value or a JSON object")
            )
            continue
        key, kind, value = match["key"].strip(), match["type"] or "string", match["value"]
        if kind not in OPTIONAL_TYPES:
            problems.append(
                Problem(f"optional.{key}.type", kind, f"must be one of {', '.join(OPTIONAL_TYPES)}")
            )
            continue
        try:
            converted = _convert_optional(key, kind, value)
        except (ValueError, TimeError) as exc:
            problems.append(
                Problem(f"optional.{key}.value", value, f"is not a valid {kind} ({exc})")
            )
            continue
        if key not in entries:
            entries[key] = {"key": key, "value": converted, "type": kind}
        elif entries[key]["type"] == kind:
            existing = entries[key]["value"]
            values = existing if isinstance(existing, list) else [existing]
            entries[key]["value"] = [*values, converted]
        else:
            problems.append(
                Problem(
                    "--optional",
                    raw,
                    f"key {key!r} is given as both "
                    f"{entries[key]['type']} and {kind}; give one type",
                )
            )
    return list(entries.values()), problems


#: Optional fields by environment variable: one ``KEY[:TYPE]=VALUE`` (or JSON object) a line.
OPTIONAL_ENV = "CUSTOMCD_OPTIONAL"


def _with_env_optional(
    text: str, flag_entries: list[dict[str, Any]], flag_problems: list[Problem]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Add ``CUSTOMCD_OPTIONAL``'s entries to the flags' ones; a key given by flag wins."""
    entries, problems = parse_optional_args([line for line in text.splitlines() if line.strip()])
    problems = [
        Problem(OPTIONAL_ENV, p.value, p.rule) if p.field == "--optional" else p for p in problems
    ]
    flag_keys = {str(item.get("key")) for item in flag_entries}
    kept = [item for item in entries if str(item.get("key")) not in flag_keys]
    return [*kept, *flag_entries], [*problems, *flag_problems]


def _infer_type(value: Any) -> str:
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(sample, bool):
        return "string"
    if isinstance(sample, int):
        return "integer"
    if isinstance(sample, float):
        return "float"
    return "string"


def _config_optional(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[optional]`` / route ``optional`` tables: ``key = value`` or ``key = {value, type}``."""
    entries = []
    for key, value in table.items():
        if isinstance(value, dict):
            entries.append(
                {
                    "key": key,
                    "value": value.get("value"),
                    "type": value.get("type") or _infer_type(value.get("value")),
                }
            )
        else:
            entries.append({"key": key, "value": value, "type": _infer_type(value)})
    return entries


def _merge_optional(
    user: list[dict[str, Any]], plugin: list[dict[str, Any]], warnings: list[str]
) -> list[dict[str, Any]]:
    """User entries win by key; plugin entries beyond the limit of 20 are dropped, named."""
    if not plugin:
        return user
    user_keys = {str(item.get("key")) for item in user}
    kept_plugin = [item for item in plugin if str(item.get("key")) not in user_keys]
    room = max(MAX_OPTIONAL_FIELDS - len(user), 0)
    if len(kept_plugin) > room:
        dropped = kept_plugin[room:]
        kept_plugin = kept_plugin[:room]
        names = ", ".join(str(item.get("key")) for item in dropped)
        warnings.append(
            f"optional fields dropped to stay within the limit of {MAX_OPTIONAL_FIELDS}: {names} "
            "(added by adapters/plugins; your own optional fields are kept)"
        )
    return [*user, *kept_plugin]


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
    user_optional: Sequence[dict[str, Any]] = (),
    adapter: Adapter | None = None,
    now: float,
    problems: Sequence[Problem] = (),
) -> Built:
    """Apply configuration and overrides to an (already enriched) draft and validate it.

    :raises InvalidRecord: with every problem of the record.
    """
    found = list(problems)
    built = Built(record=None, draft=draft, adapter=draft.adapter, notes=list(draft.notes))
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
    skip = _convert_status(body, config, adapter, found)
    if skip:
        built.skip = skip
        return built
    _convert_times(body, now, found, built)
    if overrides.get("end_time") is not None:
        _apply_end_time(body, overrides, found, built)
    _convert_service(body, draft, overrides, found)
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if type(value) is int:  # not bool: a boolean stays and is reported by the contract
            body[name] = str(value)  # CIs give project ids as numbers; the wire wants text
    optional = (
        _optional_fields(config, route_optional, user_optional, draft, built.warnings)
        if config.optional or route_optional or user_optional or draft.optional
        else None
    )
    if optional:
        body["optional"] = optional
    try:
        built.record = Record(validate_body(body, now=now))
    except InvalidRecord as exc:
        known = {p.field for p in found}
        found.extend(p for p in exc.problems if p.field not in known)
    if found:
        raise InvalidRecord(_with_hints(found, draft.hints) if draft.hints else found)
    return built


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


#: Inputs in milliseconds and the field each one sets.
_MS_INPUTS = {"start_time_ms": "job_start_time", "duration_ms": "job_duration"}

#: Fields sent as text that CIs sometimes give as numbers.
_TEXT_FIELDS = ("job_id", "repo_id", "repo_name", "triggered_by", "job_type")


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
    return _config_optional(route.optional)


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


def _convert_status(
    body: dict[str, Any], config: Config, adapter: Adapter | None, found: list[Problem]
) -> str | None:
    """Map the status in place; return a skip reason when the status produces no record."""
    if "status" not in body:
        return None
    raw = str(body["status"])
    native = adapter.status_map if adapter else {}
    if not config.status_map and not native:
        mapped = canonical_status(raw)  # no maps: the common library case, decided at once
        mapper = None
    else:
        mapper = StatusMapper(config.status_map, native)
        mapped = mapper.map(raw)
    if mapped == SKIP:
        return f"status {raw!r} produces no record"
    if mapped == NOT_FINAL:
        found.append(Problem("status", raw, _NOT_FINAL_RULE))
    elif mapped is None:
        known = ", ".join((mapper or StatusMapper({}, {})).known())
        found.append(Problem("status", raw, f"is not a known status (known: {known})"))
    else:
        body["status"] = mapped
    return None


_NOT_FINAL_RULE = (
    "means the job has not finished; pass the final status with --status (GitLab: run customcd "
    "in after_script; Azure DevOps: a step with condition: always(); GitHub Actions: "
    "if: always() with --status ${{ job.status }})"
)


def _convert_times(body: dict[str, Any], now: float, found: list[Problem], built: Built) -> None:
    """Start time to epoch seconds; duration to whole seconds, or now - start when not given."""
    start: int | None = None
    raw_start = body.get("job_start_time")
    if type(raw_start) is int and EARLIEST_START <= raw_start < MS_THRESHOLD:
        start = raw_start  # epoch seconds already: the common library and CI case
    elif raw_start is not None:
        try:
            start = body["job_start_time"] = to_epoch(raw_start)
        except TimeError as exc:
            found.append(Problem("job_start_time", body["job_start_time"], str(exc)))
    raw_duration = body.get("job_duration")
    if type(raw_duration) is int and -TOO_LARGE < raw_duration < TOO_LARGE:
        pass  # whole seconds already; the contract checks the range
    elif raw_duration is not None:
        try:
            body["job_duration"] = parse_duration(body["job_duration"])
        except TimeError as exc:
            found.append(Problem("job_duration", body["job_duration"], str(exc)))
    elif start is not None:
        body["job_duration"] = max(int(now - start), 0)
        built.notes.append("job_duration computed as now - start")
        if body["job_duration"] > LONG_DEFAULT_DURATION:
            built.warnings.append(
                f"job_duration defaults to now - start = {body['job_duration']} s (over "
                f"{LONG_DEFAULT_DURATION // 86400} days): is the start time right? Give "
                "--duration or --end-time (CUSTOMCD_END_TIME) for the job's real duration"
            )


#: A default duration (now - start) above this many seconds is warned about.
LONG_DEFAULT_DURATION = 7 * 86400


def _apply_end_time(
    body: dict[str, Any], overrides: Mapping[str, Any], found: list[Problem], built: Built
) -> None:
    """``--end-time``: the duration is end - start, unless the user gave a duration too."""
    raw = overrides["end_time"]
    try:
        end = to_epoch(raw)
    except TimeError as exc:
        found.append(Problem("end_time", raw, str(exc)))
        return
    if "job_duration" in overrides or "duration_ms" in overrides:
        return  # an explicit duration wins over the end time
    start = body.get("job_start_time")
    if type(start) is not int:
        return  # no usable start: the contract reports job_start_time
    if end < start:
        found.append(
            Problem("end_time", raw, f"is before job_start_time ({start}); give the job's end")
        )
        return
    body["job_duration"] = end - start
    built.notes = [n for n in built.notes if n != "job_duration computed as now - start"]
    built.warnings = [w for w in built.warnings if not w.startswith("job_duration defaults")]
    built.notes.append("job_duration computed as end_time - start")


def _convert_service(
    body: dict[str, Any], draft: Draft, overrides: Mapping[str, Any], found: list[Problem]
) -> None:
    """Digits become the integer service id; a missing one is a problem naming the facts."""
    value = body.get("service_id")
    digits = value.strip() if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        body["service_id"] = int(digits)
    elif value is None and not any(p.field == "service_id" for p in found):
        facts = ", ".join(
            f"{k}={v!r}"
            for k, v in sorted(_routing_facts(draft, overrides).items())
            if k != "service_id"
        )
        found.append(
            Problem(
                "service_id",
                MISSING,
                "is not set: give --service-id (or CUSTOMCD_SERVICE_ID), or add a [[route]] to "
                f"customcd.toml that matches this record ({facts or 'no facts known'})",
            )
        )


def _optional_fields(
    config: Config,
    route_optional: list[dict[str, Any]],
    user_optional: Sequence[dict[str, Any]],
    draft: Draft,
    warnings: list[str],
) -> list[dict[str, Any]]:
    """The user's optional fields (config, route, flags; later wins by key), then plugins'."""
    if not (config.optional or route_optional or user_optional or draft.optional):
        return []
    items = (*_config_optional(config.optional), *route_optional, *user_optional)
    merged = {str(item.get("key")): item for item in items}  # a later entry wins by key
    return _merge_optional(list(merged.values()), draft.optional, warnings)


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
        user_optional, problems = _with_env_optional(env[OPTIONAL_ENV], user_optional, problems)
    adapter = choose_adapter(plugins, env, config.adapter)
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
    else:
        draft = Draft()
    plugins.enrich(draft=draft, context=context)
    try:
        return build_from_draft(
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
