"""Run configuration: flags > ``CUSTOMCD_*`` environment > ``customcd.toml`` > defaults.

``customcd.toml`` (in the working directory, or ``--config``/``CUSTOMCD_CONFIG``) holds settings,
field defaults, a status map, routing rules and adapter options::

    url = "https://allstacks.example.com:443"
    company_id = "1234"

    [job]                    # field defaults (below adapters' own values? no: above them)
    job_type = "Deploy"

    [optional]               # optional fields added to every record
    team = "payments"

    [status_map]             # native status -> Succeeded / Failed / On Hold / skip
    UNSTABLE = "Failed"

    [[route]]                # first match wins; globs on record facts and fields
    match = { job_name = "deploy-*", branch = "main" }
    service_id = 7
    job_type = "Production Deploy"
    optional = { tier = "production" }

    [adapters.gitlab]        # options for one adapter
    job_type_from = "environment"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .contract.problems import ConfigurationError
from .secret import SecretLike
from .settings import SETTINGS, Setting
from .tokenfile import resolve_token, token_file_setting

__all__ = ["Config", "Route", "default_outbox_path", "load_config"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_TOML_SECTIONS = {"job", "optional", "status_map", "route", "adapters"}
_JOB_KEYS = {"job_id", "service_id", "job_type", "triggered_by", "repo_id", "repo_name"}


@dataclass(frozen=True)
class Route:
    """A routing rule: when every pattern in ``match`` matches the record, set its values.

    :param match: fact or field name -> glob pattern (``*``, ``?``, ``[...]``; case-sensitive).
    :param service_id: the Custom CD service for matching records.
    :param job_type: the job type for matching records.
    :param optional: optional fields (key -> value) added to matching records.
    :param index: the rule's position in the file (for messages).
    """

    match: Mapping[str, str]
    service_id: int | None = None
    job_type: str | None = None
    optional: Mapping[str, Any] = field(default_factory=dict)
    index: int = 0

    def matches(self, facts: Mapping[str, str]) -> bool:
        """Whether every pattern matches the corresponding fact (a missing fact never matches)."""
        for name, pattern in self.match.items():
            value = facts.get(name)
            if value is None or not fnmatchcase(value, pattern):
                return False
        return True


@dataclass(frozen=True)
class Config:
    """Everything a run needs besides the record itself."""

    url: str = ""
    company_id: str = ""
    token: SecretLike | None = None
    strict: bool = False
    outbox: Path | None = None
    deadline: float = 30.0
    timeout: float = 10.0
    ca_bundle: str | None = None
    ca_dir: str | None = None
    allow_http: bool = False
    adapter: str = ""
    config_path: Path | None = None
    job_defaults: Mapping[str, Any] = field(default_factory=dict)
    optional: Mapping[str, Any] = field(default_factory=dict)
    status_map: Mapping[str, str] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    adapter_options: Mapping[str, Any] = field(default_factory=dict)
    #: what was wrong (only when read leniently): part (a setting's name, ``config``,
    #: ``customcd.toml``, ``job``, ``route #2``...) -> the problem; those parts were left out
    problems: Mapping[str, ConfigurationError] = field(default_factory=dict)

    @property
    def outbox_path(self) -> Path:
        """Where the outbox database lives."""
        return self.outbox or default_outbox_path()

    def route_for(self, facts: Mapping[str, str]) -> Route | None:
        """The first routing rule matching ``facts``, if any."""
        for route in self.routes:
            if route.matches(facts):
                return route
        return None


def default_outbox_path(env: Mapping[str, str] | None = None) -> Path:
    """The default outbox file, in the user's state directory.

    ``$XDG_STATE_HOME/customcd`` (``~/.local/state/customcd``) on Linux, ``%LOCALAPPDATA%`` on
    Windows, ``~/Library/Application Support/customcd`` on macOS.
    """
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "customcd" / "outbox.sqlite3"


def _as_bool(setting: Setting, value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{where}: {value!r} is not a yes/no value (use true or false)")


def _convert(setting: Setting, value: Any, where: str) -> Any:
    if setting.kind == "bool":
        return _as_bool(setting, value, where)
    if setting.kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{where}: {value!r} is not a number of seconds") from None
        if not 0 < number <= 86_400:  # also refuses NaN and infinity: a run must end
            raise ConfigurationError(
                f"{where}: {value!r} must be more than 0 and at most 86400 seconds"
            )
        return number
    if isinstance(value, (dict, list)):
        raise ConfigurationError(f"{where}: expected a single value, got {type(value).__name__}")
    return str(value).strip()


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the configuration file {path}: {exc.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not valid TOML: {exc}", docs="configuration.md"
        ) from None


class _Problems:
    """Problems met while reading the configuration: the first raised, or all collected.

    :param lenient: collect instead of raising (``customcd send`` keeps its record whatever is
        wrong with the configuration); each problem leaves out only its own part.
    """

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.found: dict[str, ConfigurationError] = {}

    def add(self, part: str, error: ConfigurationError) -> None:
        """Raise ``error``, or note it under ``part`` (the first one of a part is kept)."""
        if not self.lenient:
            raise error
        self.found.setdefault(part, error)


def _route(table: Any, where: str, index: int) -> Route:
    """One ``[[route]]`` table as a :class:`Route`.

    :raises ConfigurationError: naming the rule and what is wrong with it.
    """
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where} must be a table")
    unknown = set(table) - {"match", "service_id", "job_type", "optional"}
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown keys {sorted(unknown)} "
            "(allowed: match, service_id, job_type, optional)"
        )
    match = table.get("match", {})
    if not isinstance(match, dict) or not all(isinstance(v, str) for v in match.values()):
        raise ConfigurationError(f"{where}: match must be a table of glob patterns (strings)")
    service_id = table.get("service_id")
    if service_id is not None and (
        isinstance(service_id, bool) or not isinstance(service_id, int) or service_id <= 0
    ):
        raise ConfigurationError(f"{where}: service_id {service_id!r} must be a positive integer")
    job_type = table.get("job_type")
    if job_type is not None and not isinstance(job_type, str):
        raise ConfigurationError(f"{where}: job_type must be a string")
    optional = table.get("optional", {})
    if not isinstance(optional, dict):
        raise ConfigurationError(f"{where}: optional must be a table of key = value")
    return Route(match, service_id, job_type, optional, index)


def _routes(raw: Any, path: Path, problems: _Problems) -> tuple[Route, ...]:
    """The routing rules; a broken rule is a problem (left out when lenient)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add("route", ConfigurationError(f"{path}: [[route]] must be an array of tables"))
        return ()
    routes = []
    for index, table in enumerate(raw, start=1):
        try:
            routes.append(_route(table, f"{path}: route #{index}", index))
        except ConfigurationError as exc:
            problems.add(f"route #{index}", exc)
    return tuple(routes)


def _table(data: Mapping[str, Any], name: str, path: Path | None, problems: _Problems) -> Any:
    """The ``[name]`` table of ``customcd.toml`` ({} when absent, or broken and lenient)."""
    table = data.get(name, {})
    if isinstance(table, dict):
        return table
    problems.add(
        name, ConfigurationError(f"{path}: [{name}] must be a table", docs="configuration.md")
    )
    return {}


def _config_file(
    flags: Mapping[str, Any], env: Mapping[str, str], cwd: Path | None, problems: _Problems
) -> tuple[Path | None, dict[str, Any]]:
    """The configuration file and its content (``{}`` when there is none or it is unusable)."""
    config_flag = flags.get("config") or env.get("CUSTOMCD_CONFIG", "").strip()
    if not config_flag:
        candidate = (cwd or Path.cwd()) / "customcd.toml"
        path = candidate if candidate.is_file() else None
    else:
        path = Path(str(config_flag)).expanduser()
        if not path.is_file():
            problems.add(
                "config",
                ConfigurationError(
                    f"configuration file {path} does not exist", docs="configuration.md"
                ),
            )
            return path, {}
    if path is None:
        return None, {}
    try:
        return path, _read_toml(path)
    except ConfigurationError as exc:
        problems.add("config", exc)
        return path, {}


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    lenient: bool = False,
) -> Config:
    """Merge flags > environment > ``customcd.toml`` > defaults into a :class:`Config`.

    :param flags: setting values given on the command line, by setting name (``None`` = not given).
    :param env: the environment (default ``os.environ``).
    :param cwd: where ``customcd.toml`` is looked for (default: the working directory).
    :param lenient: do not stop at a problem: collect every one in :attr:`Config.problems` and
        leave out only the broken part (a bad setting takes its default, an unknown key or a
        broken table or routing rule is ignored, an unreadable file is not used).
    :raises ConfigurationError: (unless lenient) one clear message naming the setting and value.
    """
    problems = _Problems(lenient)
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    path, data = _config_file(flags, env, cwd, problems)

    known = {s.toml for s in SETTINGS if s.toml} | _TOML_SECTIONS
    unknown = sorted(set(data) - known)
    if unknown:
        problems.add(
            "customcd.toml",
            ConfigurationError(
                f"{path}: unknown key(s) {', '.join(unknown)}; known keys: "
                f"{', '.join(sorted(known))}",
                docs="configuration.md",
            ),
        )

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in ("token", "config"):
            continue
        if setting.name in flags:
            raw, where = flags[setting.name], setting.flag
        elif env.get(setting.env, "").strip():
            raw, where = env[setting.env], setting.env
        elif setting.toml and setting.toml in data:
            raw, where = data[setting.toml], f"{path}: {setting.toml}"
        elif setting.default:
            raw, where = setting.default, "default"
        else:
            continue
        try:
            values[setting.name] = _convert(setting, raw, where)
        except ConfigurationError as exc:
            problems.add(setting.name, exc)
            if setting.default:
                values[setting.name] = _convert(setting, setting.default, "default")

    job_defaults = _table(data, "job", path, problems)
    if set(job_defaults) - _JOB_KEYS:
        problems.add(
            "job",
            ConfigurationError(
                f"{path}: [job] may set {', '.join(sorted(_JOB_KEYS))}", docs="configuration.md"
            ),
        )
        job_defaults = {k: v for k, v in job_defaults.items() if k in _JOB_KEYS}
    status_map = _table(data, "status_map", path, problems)

    ca_bundle = values.get("ca_bundle") or next(
        (env[v] for v in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE") if env.get(v, "").strip()), None
    )
    outbox = values.get("outbox")
    outbox_path = None
    if outbox:
        outbox_path = Path(outbox).expanduser()
        if outbox_path.is_dir() or outbox.endswith(("/", os.sep)):
            outbox_path = outbox_path / "outbox.sqlite3"
    token = None
    try:
        token = resolve_token(env, token_file_setting(flags, env, data))
    except ConfigurationError as exc:
        problems.add("token", exc)

    return Config(
        url=values.get("url", ""),
        company_id=values.get("company_id", ""),
        token=token,
        strict=values.get("strict", False),
        outbox=outbox_path,
        deadline=values.get("deadline", 30.0),
        timeout=values.get("timeout", 10.0),
        ca_bundle=ca_bundle,
        ca_dir=env.get("SSL_CERT_DIR") or None,
        allow_http=values.get("allow_http", False),
        adapter=values.get("adapter", ""),
        config_path=path,
        job_defaults=job_defaults,
        optional=_table(data, "optional", path, problems),
        status_map={str(k): str(v) for k, v in status_map.items()},
        routes=_routes(data.get("route"), path, problems) if path else (),
        adapter_options=_table(data, "adapters", path, problems),
        problems=dict(problems.found),
    )
