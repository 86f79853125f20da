"""``customcd doctor``: what a user runs when nothing shows up in Allstacks.

It checks, in the order a record travels: which CI and adapter are detected, where each setting
comes from (secrets masked), whether the URL is usable, resolves, connects and its TLS verifies,
and whether the outbox is healthy — how many records wait or were rejected, and why. Each check
is a :class:`Check` with a verdict; nothing is ever sent to the webhook.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .config import Config, default_outbox_path, load_config
from .contract.problems import CustomcdError
from .printable import network_text
from .settings import SETTINGS

__all__ = ["Check", "Verdict", "diagnose"]

Verdict = Literal["ok", "warn", "fail", "info"]


@dataclass(frozen=True)
class Check:
    """One finding.

    :param area: what was checked (``ci``, ``setting``, ``endpoint``, ``outbox``).
    :param name: the item within the area (a setting's variable, ``dns``, ``tls``, ...).
    :param verdict: ``ok``, ``warn`` (worth a look), ``fail`` (records cannot arrive) or ``info``.
    :param detail: one line for the user (never a secret).
    """

    area: str
    name: str
    verdict: Verdict
    detail: str


def diagnose(
    flags: Mapping[str, Any], env: Mapping[str, str], *, cwd: Path | None = None
) -> Iterator[Check]:
    """Run every check, yielding findings as they are made (the network ones last)."""
    # leniently, as `send` does: each problem is a finding, the rest of the set-up is checked
    config = load_config(flags, env, cwd=cwd, lenient=True)
    yield from _ci(config, env)
    yield from _settings(flags, env, config)
    yield _service(env, config)
    for name, problem in config.problems.items():
        yield Check("setting", name, "fail", str(problem))
    yield from _outbox(config, env)
    yield from _endpoint(config)


def _ci(config: Config | None, env: Mapping[str, str]) -> Iterator[Check]:
    from .builder import choose_adapter
    from .plugins.manager import get_plugin_manager

    try:
        plugins = get_plugin_manager()
        installed = ", ".join(plugins.adapters()) or "none"
        adapter = choose_adapter(plugins, env, config.adapter if config else "")
    except CustomcdError as exc:
        yield Check("ci", "adapter", "fail", str(exc))
        return
    if adapter is None:
        yield Check(
            "ci",
            "adapter",
            "warn",
            f"no CI detected (installed adapters: {installed}); `customcd send` needs every "
            "field by flag, or --adapter NAME",
        )
        return
    chosen = "chosen by --adapter/CUSTOMCD_ADAPTER" if config and config.adapter else "detected"
    yield Check(
        "ci",
        "adapter",
        "ok",
        f"{adapter.name} ({adapter.title}), {chosen}; {plugins.describe_origin(_owner(plugins, adapter.name))}",
    )


def _owner(plugins: Any, adapter_name: str) -> str:
    """The plugin that provides an adapter (its name, for :meth:`describe_origin`)."""
    for impl in plugins.pm.hook.customcd_adapters.get_hookimpls():
        try:
            if any(a.name == adapter_name for a in impl.function() or ()):
                return str(impl.plugin_name)
        except Exception:  # noqa: S112 - a broken plugin is reported by `customcd plugins`
            continue
    return adapter_name


def _settings(
    flags: Mapping[str, Any], env: Mapping[str, str], config: Config | None
) -> Iterator[Check]:
    """Each setting: its value (secrets hidden) and where it comes from."""
    for setting in SETTINGS:
        if setting.name == "config":
            continue
        if flags.get(setting.name) not in (None, "", False):
            source, value = setting.flag, flags[setting.name]
        elif env.get(setting.env, "").strip():
            source, value = setting.env, env[setting.env].strip()
        else:
            value = getattr(config, setting.name, None) if config is not None else None
            path = config.config_path if config is not None else None
            source = f"{path} or the default" if path is not None else "default"
        if setting.name == "ca_bundle" and source == "default" and value:
            source = next((v for v in _CA_VARIABLES if env.get(v, "").strip()), source)
        if setting.name == "outbox" and not value:
            value = default_outbox_path(env)
        if value in (None, "", False):
            needed = _NEEDED.get(setting.name)
            if setting.name == "company_id" and config and "/webhook/company/" in config.url:
                needed = None  # a full webhook URL in CUSTOMCD_URL carries the company id
            yield Check(
                "setting",
                setting.env,
                "fail" if needed else "info",
                f"not set: {needed}" if needed else "not set",
            )
            continue
        shown = "set (hidden)" if setting.secret else network_text(repr(str(value)))
        yield Check("setting", setting.env, "info", f"{shown} (from {source})")


#: Standard variables a CA bundle is read from when --ca-bundle is not given.
_CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _service(env: Mapping[str, str], config: Config) -> Check:
    """The Custom CD service: by variable, by a ``[[route]]``/``[job]``, or not set at all."""
    value = (env.get("CUSTOMCD_SERVICE_ID") or "").strip()
    if value:
        return Check(
            "setting", "CUSTOMCD_SERVICE_ID", "info", f"{value!r} (from CUSTOMCD_SERVICE_ID)"
        )
    if config.routes or "service_id" in config.job_defaults:
        return Check(
            "setting", "CUSTOMCD_SERVICE_ID", "info", "not set: customcd.toml routes records"
        )
    return Check(
        "setting",
        "CUSTOMCD_SERVICE_ID",
        "warn",
        "not set: give --service-id in the step, or a [[route]] in customcd.toml",
    )


#: Settings without which no record arrives, and what happens without them.
_NEEDED = {
    "url": "set it to your Allstacks server as https://server:port",
    "company_id": "set it to your Allstacks company id",
    "token": "records are kept in the outbox until the token is set",
}


def _outbox(config: Config, env: Mapping[str, str]) -> Iterator[Check]:
    from .delivery.outbox import Outbox

    path = config.outbox or default_outbox_path(env)
    if not path.exists():
        yield Check("outbox", "file", "ok", f"{path} (not created yet: nothing was ever kept)")
        return
    try:
        box = Outbox(path)
        try:
            entries = box.entries()
            delivered = box.ledger_size()
        finally:
            box.close()
    except CustomcdError as exc:
        yield Check("outbox", "file", "fail", str(exc))
        return
    yield Check("outbox", "file", "ok", f"{path}; {delivered} delivered record(s) remembered")
    by_state: dict[str, Counter[str]] = {}
    for entry in entries:
        reason = network_text(entry.reason or "no reason recorded", 120)
        by_state.setdefault(entry.state, Counter())[reason] += 1
    for state, reasons in sorted(by_state.items()):
        top = "; ".join(f"{count}x {reason}" for reason, count in reasons.most_common(3))
        action = (
            "quarantined, never sent: `customcd outbox list --json` shows their stored text"
            if state == "unreadable"
            else "`customcd outbox list` shows them, `customcd outbox flush` re-sends them"
        )
        yield Check(
            "outbox", state, "warn", f"{reasons.total()} record(s) {state}: {top} — {action}"
        )


def _endpoint(config: Config) -> Iterator[Check]:
    from .delivery.transport import Endpoint, make_client

    try:
        endpoint = Endpoint.parse(config.url, config.company_id, allow_http=config.allow_http)
    except CustomcdError as exc:
        yield Check("endpoint", "url", "fail", str(exc))
        return
    yield Check("endpoint", "url", "ok", endpoint.job_url)
    parts = urlsplit(endpoint.url)
    name = parts.hostname or ""
    try:
        addresses = sorted(
            {
                str(info[4][0])
                for info in socket.getaddrinfo(
                    name, parts.port or (443 if endpoint.is_https else 80)
                )
            }
        )
    except OSError as exc:
        yield Check("endpoint", "dns", "fail", f"{name} does not resolve: {network_text(exc)}")
        return
    yield Check("endpoint", "dns", "ok", f"{name} resolves to {', '.join(addresses[:4])}")
    try:
        client = make_client(
            endpoint, ca_bundle=config.ca_bundle, ca_dir=config.ca_dir, timeout=config.timeout
        )
    except CustomcdError as exc:
        yield Check("endpoint", "tls", "fail", str(exc))
        return
    import httpx

    try:
        with client:
            response = client.request("GET", endpoint.job_url)
    except httpx.HTTPError as exc:
        what = "TLS handshake or connection" if endpoint.is_https else "connection"
        yield Check("endpoint", "connect", "fail", f"{what} failed: {network_text(exc)}")
        return
    tls = "TLS verified, " if endpoint.is_https else "plain http (loopback), "
    yield Check(
        "endpoint",
        "connect",
        "ok",
        f"{tls}the server answered a GET with {response.status_code} (records are POSTed)",
    )
