"""Optional fields from every source, merged by key within the contract's limit of 20.

The sources: ``--optional``, ``CUSTOMCD_OPTIONAL``, ``customcd.toml``, routing rules (the user's,
later wins) and adapters/plugins (dropped first when there are too many).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Config
from ..contract.fields import MAX_OPTIONAL_FIELDS, OPTIONAL_TYPES
from ..contract.problems import Problem
from ..contract.times import TimeError, parse_duration, parse_integer, to_epoch

__all__ = [
    "OPTIONAL_ENV",
    "config_optional",
    "merged_optional",
    "parse_optional_args",
    "with_env_optional",
]

#: Optional fields by environment variable: one ``KEY[:TYPE]=VALUE`` (or JSON object) a line.
OPTIONAL_ENV = "CUSTOMCD_OPTIONAL"

_OPTIONAL_ARG = re.compile(r"^(?P<key>[^=:]+?)(?::(?P<type>[a-z]+))?=(?P<value>.*)$", re.S)


def _convert(kind: str, text: Any) -> Any:
    """The value of ``key:kind=text`` (numbers in ASCII digits, as every integer input)."""
    if not isinstance(text, str):
        return text
    if kind == "integer":
        return parse_integer(text)
    if kind == "float":
        stripped = text.strip()
        if not stripped.isascii() or "_" in stripped:
            raise ValueError("give a number in the digits 0-9")
        return float(stripped)
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
            converted = _convert(kind, value)
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


def with_env_optional(
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


def config_optional(table: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def _merge(
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


def merged_optional(
    config: Config,
    route_optional: list[dict[str, Any]],
    user_optional: Sequence[Mapping[str, Any]],
    plugin_optional: list[dict[str, Any]],
    warnings: list[str],
) -> list[dict[str, Any]]:
    """The user's optional fields (config, route, flags; later wins by key), then plugins'.

    :param plugin_optional: the entries adapters and enrich hooks put in the draft.
    :param warnings: where to say which plugin entries were dropped (over the limit of 20).
    """
    items = (*config_optional(config.optional), *route_optional, *user_optional)
    merged = {str(item.get("key")): dict(item) for item in items}  # a later entry wins by key
    return _merge(list(merged.values()), plugin_optional, warnings)
