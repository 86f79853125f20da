"""One record for the current build: environment mode, upgraded by API mode when possible."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customcd.plugins.adapter import AdapterError
from customcd.plugins.draft import CollectContext, Draft

from . import env as jenv
from .api import BuildTarget, collect_from_api
from .budget import Budget
from .client import TOKEN_VARIABLE, USER_VARIABLE, connect, credentials_from, explain
from .urls import build_url_for, job_url_for, job_url_of_build, root_of, with_slash

__all__ = ["api_target", "collect", "merge"]

DOCS = "jenkins.md"


def api_target(env: Mapping[str, str], options: Mapping[str, Any]) -> BuildTarget | None:
    """Find the build to read: ``BUILD_URL``, or ``JENKINS_URL`` with the job name and number.

    ``url`` in ``[adapters.jenkins]`` replaces the root when agents reach Jenkins by another name.
    """
    build_url = (env.get("BUILD_URL") or "").strip()
    name = jenv.job_name(env)
    number = jenv.build_number(env)
    configured = str(options.get("url") or "").strip()
    root = configured or (env.get("JENKINS_URL") or "").strip() or (root_of(build_url) or "")
    if not root or not name or not number:
        return None
    if configured or not build_url:
        build_url = build_url_for(root, name, number)
    build_url = with_slash(build_url)
    job_url = job_url_of_build(build_url) or job_url_for(root, name)
    return BuildTarget(
        root=with_slash(root),
        job_url=job_url,
        build_url=build_url,
        job_name=name,
        number=int(number),
    )


def merge(primary: Draft, secondary: Draft) -> Draft:
    """Complete ``primary`` with what it lacks from ``secondary`` (fields, optional, facts)."""
    primary.fill(**secondary.fields())
    keys = {item["key"] for item in primary.optional}
    primary.optional.extend(item for item in secondary.optional if item["key"] not in keys)
    for name, value in secondary.facts.items():
        primary.facts.setdefault(name, value)
    primary.notes.extend(n for n in secondary.notes if n not in primary.notes)
    return primary


def _unmet(overrides: Mapping[str, Any]) -> list[str]:
    """List the flags environment mode needs that the user did not give."""
    missing = []
    if "status" not in overrides:
        missing.append('--status "${currentBuild.currentResult}"')
    if not {"job_start_time", "start_time_ms"} & set(overrides):
        missing.append('--start-time-ms "${currentBuild.startTimeInMillis}"')
    return missing


def collect(context: CollectContext, name: str) -> Draft:
    """Collect the current build: the environment, then the API when credentials allow.

    API failures (unreachable, 401/403/404, timeout) fall back to the environment with a warning
    when the user's flags give what only the API could; otherwise they are an
    :class:`~customcd.plugins.adapter.AdapterError` saying both what failed and what to pass.
    """
    env = context.env
    options = context.adapter_options(name)
    draft = jenv.draft_from_env(env)
    credentials = credentials_from(env)
    target = api_target(env, options)
    api_wanted = options.get("api", True) is not False

    if api_wanted and credentials and target:
        try:
            budget = Budget(context.timeout)  # one budget for every request of this collect
            jenkins = connect(target.root, credentials, context.timeout)
            api_draft = collect_from_api(
                jenkins, target, repo_urls=_repo_urls(env, options), log=context.log, budget=budget
            )
        except Exception as exc:  # every failure of the API means: environment mode
            message = explain(exc, target.build_url, credentials, context.timeout)
            missing = _unmet(context.overrides)
            if missing:
                raise AdapterError(
                    f"{message}; without the API the record needs {' and '.join(missing)}",
                    docs=DOCS,
                ) from None
            context.log.warning("%s; using the environment only", message)
            draft.notes.append(f"Jenkins API not used ({message}); environment mode")
        else:
            draft = merge(api_draft, draft)
            draft.notes.append(f"read build {target.job_name}#{target.number} from the Jenkins API")
    elif api_wanted and target and bool(env.get(USER_VARIABLE)) != bool(env.get(TOKEN_VARIABLE)):
        draft.notes.append(
            f"API mode needs both {USER_VARIABLE} and {TOKEN_VARIABLE}; only one is set, so the "
            "environment alone was used"
        )
    draft.notes.extend(jenv.missing_hints(draft, context.overrides))
    return draft


def _repo_urls(env: Mapping[str, str], options: Mapping[str, Any]) -> list[str]:
    configured = options.get("repo_url")
    urls = [str(configured)] if configured else []
    return urls + jenv.repo_urls(env)
