"""One record for the current build: environment mode, upgraded by API mode when possible."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from customcd.plugins.draft import CollectContext, Draft

from . import env as jenv
from .api import BuildTarget, collect_from_api
from .budget import Budget
from .client import TOKEN_VARIABLE, USER_VARIABLE, connect, credentials_from, explain
from .startfile import DEFAULT_NAME, read_start_file, report_time_fallback
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


_START_OVERRIDES = ("job_start_time", "start_time_ms")


def collect(context: CollectContext, name: str) -> Draft:
    """Collect the current build: the environment, then the API when credentials allow.

    An API failure (unreachable, 401/403/404, timeout) is one warning naming the URL and the
    cause; the record is then made from the environment, the user's flags and, for the start, the
    build's stamped start file or, last, the time of the report (:mod:`.startfile`). A build is
    never left unreported because the API could not be read.
    """
    env = context.env
    options = context.adapter_options(name)
    draft = jenv.draft_from_env(env)
    credentials = credentials_from(env)
    target = api_target(env, options)
    api_wanted = options.get("api", True) is not False
    api_problem: str | None = None

    if api_wanted and credentials and target:
        try:
            budget = Budget(context.timeout)  # one budget for every request of this collect
            jenkins = connect(target.root, credentials, context.timeout)
            api_draft = collect_from_api(
                jenkins, target, repo_urls=_repo_urls(env, options), log=context.log, budget=budget
            )
        except Exception as exc:  # every failure of the API means: environment mode
            api_problem = explain(exc, target.build_url, credentials, context.timeout)
            context.log.warning("%s; using the environment only", api_problem)
            draft.notes.append(f"Jenkins API not used ({api_problem}); environment mode")
        else:
            draft = merge(api_draft, draft)
            draft.notes.append(f"read build {target.job_name}#{target.number} from the Jenkins API")
    elif api_wanted and target and bool(env.get(USER_VARIABLE)) != bool(env.get(TOKEN_VARIABLE)):
        draft.notes.append(
            f"API mode needs both {USER_VARIABLE} and {TOKEN_VARIABLE}; only one is set, so the "
            "environment alone was used"
        )
    _fill_start(draft, context, options, api_problem)
    jenv.add_hints(draft, env, context.overrides, api_problem)
    return draft


def _fill_start(
    draft: Draft, context: CollectContext, options: Mapping[str, Any], api_problem: str | None
) -> None:
    """The start when the flags and the API gave none: the stamped start file, else the report."""
    if draft.job_start_time is not None or any(
        context.overrides.get(key) not in (None, "") for key in _START_OVERRIDES
    ):
        return
    found = read_start_file(context.env, options)
    if found.start is not None:
        draft.job_start_time = found.start
        draft.notes.append(f"job_start_time from the start file {found.path} (this build's stamp)")
        return
    if found.problem and not found.problem.startswith("there is no start file"):
        context.log.warning("%s", found.problem)
    why = "Jenkins gives no start time" + (
        f" and its API failed ({api_problem})" if api_problem else ""
    )
    context.log.warning(
        "%s, and %s: the build is reported with the time of this report as its start and a "
        'duration of 0; pass --start-time-ms "${currentBuild.startTimeInMillis}" (pipelines), '
        'write the start file with echo "$BUILD_TAG $(date +%%s)" > "$WORKSPACE/%s" in the '
        "first build step (freestyle), or set JENKINS_USER and JENKINS_API_TOKEN",
        why,
        found.problem,
        DEFAULT_NAME,
    )
    report_time_fallback(draft, context.now or time.time(), f"{why}, and {found.problem}")


def _repo_urls(env: Mapping[str, str], options: Mapping[str, Any]) -> list[str]:
    configured = options.get("repo_url")
    urls = [str(configured)] if configured else []
    return urls + jenv.repo_urls(env)
