"""Environment mode: a draft from the variables Jenkins gives a build, no credentials needed.

Works in a pipeline ``post { always { ... } }`` step and in a freestyle post-build shell step.
Jenkins has no variable for the start time or the result: users pass them as flags
(``--status "${currentBuild.currentResult}" --start-time-ms "${currentBuild.startTimeInMillis}"``);
the duration is then ``now - start``. A freestyle job stamps its start in a file instead
(:mod:`.startfile`).

Optional fields added when known: ``job_url`` (``BUILD_URL``), ``job_name`` (``JOB_NAME``),
``build_number`` (integer), ``branch`` (``BRANCH_NAME``, else ``GIT_BRANCH`` without ``origin/``),
``node`` (``NODE_NAME``) and ``ci_system`` (``Jenkins``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from customcd.plugins.draft import Draft
from customcd.repourl import redact_url, repo_name_from_url

__all__ = [
    "add_hints",
    "build_number",
    "detect",
    "draft_from_env",
    "job_id",
    "job_name",
    "repo_urls",
]

_REMOTE_N = re.compile(r"^GIT_URL_(\d+)$")
#: Variables other CIs set in every job: with one of them, JENKINS_URL alone is not Jenkins.
_OTHER_CIS = (
    "GITLAB_CI",
    "GITHUB_ACTIONS",
    "TF_BUILD",
    "TEAMCITY_VERSION",
    "CIRCLECI",
    "BUILDKITE",
    "BITBUCKET_BUILD_NUMBER",
    "TRAVIS",
    "DRONE",
    "bamboo_buildNumber",
)


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def detect(env: Mapping[str, str]) -> bool:
    """Tell a Jenkins build: a job name and build number, plus a variable only Jenkins sets.

    ``JENKINS_URL`` alone is not enough (people export it in shells and other CIs to talk to
    Jenkins); a build always has ``JOB_NAME`` and ``BUILD_NUMBER``, and ``JENKINS_URL`` or
    ``BUILD_URL`` (when the root URL is configured), ``BUILD_TAG`` (``jenkins-...``) or
    ``JENKINS_HOME``.
    """
    if not (_get(env, "JOB_NAME") and _get(env, "BUILD_NUMBER")):
        return False
    # set by Jenkins for every build, and by nobody else
    if "/job/" in _get(env, "BUILD_URL") or _get(env, "BUILD_TAG").startswith("jenkins-"):
        return True
    if any(_get(env, name) for name in _OTHER_CIS):
        # another CI's job that exports JENKINS_URL (to trigger Jenkins) and happens to have
        # JOB_NAME/BUILD_NUMBER (compatibility variables many teams set) is not a Jenkins build
        return False
    return bool(_get(env, "JENKINS_URL") or _get(env, "HUDSON_URL") or _get(env, "JENKINS_HOME"))


def job_name(env: Mapping[str, str]) -> str | None:
    """Return ``JOB_NAME`` (folders joined by ``/``, branches URL-encoded) or BUILD_URL's."""
    from .urls import job_name_from_url  # detection in another CI's job does not need it

    return _get(env, "JOB_NAME") or job_name_from_url(_get(env, "BUILD_URL")) or None


def build_number(env: Mapping[str, str]) -> str | None:
    """Return ``BUILD_NUMBER`` (or ``BUILD_ID``, equal since Jenkins 1.597) or BUILD_URL's."""
    number = _get(env, "BUILD_NUMBER") or _get(env, "BUILD_ID")
    if number.isdigit():
        return number
    match = re.search(r"/(\d+)/?$", _get(env, "BUILD_URL"))
    return match[1] if match else None


def job_id(name: str | None, number: str | int | None) -> str | None:
    """Return the record's job id: ``JOB_NAME#BUILD_NUMBER`` (e.g. ``team/app/feature%2Fx#42``).

    Unique per build on one Jenkins controller and the same on every re-send; readable, and
    unlike ``BUILD_TAG`` it does not merge folder names (``a/b-c`` and ``a-b/c``).
    """
    if not name or number in (None, ""):
        return None
    return f"{name}#{number}"


def repo_urls(env: Mapping[str, str]) -> list[str]:
    """Return the job's git remotes: ``GIT_URL``, then ``GIT_URL_1``, ``GIT_URL_2``..."""
    urls = [_get(env, "GIT_URL")] if _get(env, "GIT_URL") else []
    numbered = sorted(
        (int(match[1]), value.strip())
        for key, value in env.items()
        if (match := _REMOTE_N.match(key)) and value and value.strip()
    )
    urls.extend(url for _, url in numbered)
    return list(dict.fromkeys(urls))  # GIT_URL repeats GIT_URL_1 on some git plugin versions


def draft_from_env(env: Mapping[str, str]) -> Draft:
    """Make a draft from the Jenkins environment alone.

    :param env: the build's environment.
    """
    from .builddata import branch_from_ref  # detection in another CI's job does not need it

    draft = Draft()
    name = job_name(env)
    number = build_number(env)
    draft.job_id = job_id(name, number)

    draft.commit_sha = _get(env, "GIT_COMMIT") or None

    remotes = repo_urls(env)
    if remotes:
        draft.repo_name = repo_name_from_url(remotes[0])
        if len(remotes) > 1:
            draft.notes.append(
                f"the job has {len(remotes)} git remotes; repo_name taken from the first "
                f"({redact_url(remotes[0])}); pass --repo-name to choose another"
            )

    draft.triggered_by = _get(env, "BUILD_USER_EMAIL") or _get(env, "BUILD_USER_ID") or None

    branch = _get(env, "BRANCH_NAME") or branch_from_ref(_get(env, "GIT_BRANCH") or None)
    build_url = _get(env, "BUILD_URL")
    draft.add_optional("job_url", redact_url(build_url) if build_url else None)
    draft.add_optional("job_name", name)
    if number:
        draft.add_optional("build_number", int(number), "integer")
    draft.add_optional("branch", branch)
    draft.add_optional("node", _get(env, "NODE_NAME") or None)
    draft.add_optional("ci_system", "Jenkins")

    draft.set_fact("job_name", name)
    draft.set_fact("branch", branch)
    draft.set_fact("repo", draft.repo_name)
    draft.set_fact("pipeline", name)

    return draft


def add_hints(
    draft: Draft,
    env: Mapping[str, str],
    overrides: Mapping[str, Any],
    api_problem: str | None = None,
) -> None:
    """Say, for each field Jenkins did not give, which variable was missing and what to pass.

    The builder adds each hint to the problem it reports for that field (``Draft.hint``).

    :param api_problem: why the Jenkins API could not be read, when it was tried.
    """
    api = f" (the Jenkins API failed: {api_problem})" if api_problem else ""
    if not draft.job_id:
        number = _get(env, "BUILD_NUMBER") or _get(env, "BUILD_ID")
        if number and not number.isdigit():
            draft.hint(
                "job_id",
                f"BUILD_NUMBER is {number!r}, not a build number: Jenkins sets digits, so "
                'something overrides it; give --job-id, e.g. --job-id "$BUILD_TAG"',
            )
        else:
            draft.hint(
                "job_id",
                "JOB_NAME or BUILD_NUMBER is not set, is this a Jenkins build? Give --job-id",
            )
    if not draft.commit_sha:
        draft.hint(
            "commit_sha",
            "GIT_COMMIT is not set: scripted pipelines and jobs without the Git plugin do not set "
            "it; give --commit-sha, export GIT_COMMIT from the map `checkout scm` returns, or "
            f"install customcd-git to read the workspace's checkout{api}",
        )
    if not draft.repo_id and not draft.repo_name:
        draft.hint(
            "repo_name",
            "GIT_URL is not set, the Git plugin sets it; give --repo-name" + api,
        )
    if not draft.status and "status" not in overrides:
        draft.hint(
            "status",
            'Jenkins has no result variable: give --status "${currentBuild.currentResult}" in a '
            "pipeline post {} block, --status SUCCESS/FAILURE in a freestyle post-build step, "
            "or set JENKINS_USER and JENKINS_API_TOKEN so the API gives the result so far" + api,
        )
    elif str(draft.status).upper() == "BUILDING":
        draft.hint(
            "status",
            "the Jenkins API says the build is still running (as it is inside its own post {} "
            'block): give --status "${currentBuild.currentResult}"',
        )
