"""The library API: build and send records from Python without the command line."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .builder import build_from_draft
from .config import Config, load_config
from .contract.job import Job
from .contract.problems import MISSING, InvalidRecord, Problem
from .delivery.outcome import Outcome
from .pipeline import run_send
from .plugins.draft import Draft
from .plugins.manager import get_plugin_manager
from .report import Reporter

__all__ = ["build_job", "send"]


def build_job(
    *,
    now: float | None = None,
    optional: Iterable[Mapping[str, Any]] = (),
    config: Config | None = None,
    **fields: Any,
) -> Job:
    """Build a validated :class:`Job` from lenient field values (no CI detection).

    Accepts what the command line accepts: status in any case, times as ISO text or epoch
    seconds, ``start_time_ms``, durations like ``"5m"``; routing rules of ``config`` apply.

    :raises InvalidRecord: with every problem at once.
    """
    built = build_from_draft(
        Draft(),
        config=_DEFAULTS if config is None else config,
        overrides=fields,
        user_optional=list(optional),
        now=time.time() if now is None else now,
    )
    if built.job is None:
        raise InvalidRecord(
            [Problem("status", fields.get("status", MISSING), built.skip or "no record")]
        )
    return built.job


#: The configuration of a library call that gives none: no routes, no defaults.
_DEFAULTS = Config()


def send(
    *,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    optional: Sequence[str] = (),
    config: Config | None = None,
    reporter: Reporter | None = None,
) -> Outcome:
    """Run the whole ``customcd send`` pipeline in-process and return the outcome.

    :param env: the environment (default ``os.environ``): CI variables and ``CUSTOMCD_*``.
    :param flags: field values as the flags would give them (``status``, ``service_id``...).
    :param optional: ``--optional`` strings.
    :raises InvalidRecord: the record breaks the contract.
    :raises ConfigurationError: configuration is missing or wrong.
    """
    env = os.environ if env is None else env
    config = config or load_config({}, env)
    result = run_send(
        plugins=get_plugin_manager(env),
        config=config,
        env=env,
        flags=dict(flags or {}),
        optional_args=optional,
        reporter=reporter or Reporter(),
    )
    return result.outcome
