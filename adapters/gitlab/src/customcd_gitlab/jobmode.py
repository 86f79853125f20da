"""Job mode: the record of the job customcd runs in, from GitLab's predefined variables.

Run ``customcd send`` in the deploying job's ``after_script``: there ``CI_JOB_STATUS`` holds the
job's result (``success``, ``failed``, or ``canceled`` when GitLab 17+ runs ``after_script`` for a
canceled job). Inside ``script`` it is ``running``: the builder then asks for ``--status``.
"""

from __future__ import annotations

from customcd.plugins.draft import CollectContext, Draft

from .fields import CI_SYSTEM, add_common_optionals, choose_commit, derive_job_type
from .options import GitLabOptions

__all__ = ["add_hints", "collect_job", "set_facts"]


def _get(context: CollectContext, name: str) -> str | None:
    value = context.env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def collect_job(context: CollectContext, options: GitLabOptions) -> Draft:
    """Draft the current job from ``CI_*`` variables (no API call, no heavy import)."""
    env = context.env
    draft = Draft(adapter="gitlab")
    status = _get(context, "CI_JOB_STATUS")
    start = _get(context, "CI_JOB_STARTED_AT")
    if start is None and _get(context, "CI_PIPELINE_CREATED_AT"):
        start = _get(context, "CI_PIPELINE_CREATED_AT")
        draft.notes.append("CI_JOB_STARTED_AT is not set: using the pipeline's creation time")
    environment = _get(context, "CI_ENVIRONMENT_NAME")
    tier = _get(context, "CI_ENVIRONMENT_TIER")
    draft.fill(
        job_id=_get(context, "CI_JOB_ID"),
        commit_sha=choose_commit(env, options, draft, _get(context, "CI_COMMIT_SHA")),
        job_start_time=start,
        status=status,
        repo_id=_get(context, "CI_PROJECT_ID"),
        repo_name=_get(context, "CI_PROJECT_PATH"),
        triggered_by=_get(context, "GITLAB_USER_EMAIL") or _get(context, "GITLAB_USER_LOGIN"),
        job_type=derive_job_type(options, environment, tier),
    )
    # duration stays None: the builder uses now - start (the job is still in its after_script).
    if status is None:
        draft.notes.append(
            "CI_JOB_STATUS is not set (GitLab Runner older than 13.5?): pass --status"
        )
    elif status.lower() == "running":
        draft.notes.append(
            "CI_JOB_STATUS is 'running': customcd runs inside `script`, where the job has no "
            "result yet; pass --status (e.g. --status success), or run customcd in after_script"
        )
    if options.job_type_from and not draft.job_type:
        draft.notes.append(
            f"job_type_from = {options.job_type_from!r} but the job has no environment "
            f"{'name' if options.job_type_from == 'environment' else 'tier'}: job_type left unset"
        )
    add_hints(draft)
    add_common_optionals(
        draft,
        environment=environment,
        tier=tier,
        pipeline_id=_get(context, "CI_PIPELINE_ID"),
        pipeline_url=_get(context, "CI_PIPELINE_URL"),
        job_url=_get(context, "CI_JOB_URL"),
        ref=_get(context, "CI_COMMIT_REF_NAME"),
        pipeline_source=_get(context, "CI_PIPELINE_SOURCE"),
        merge_request_iid=_get(context, "CI_MERGE_REQUEST_IID"),
    )
    set_facts(context, draft)
    return draft


def add_hints(draft: Draft) -> None:
    """Say which GitLab variable was missing, and what to set, for each field left empty.

    The builder adds the hint to the problem it reports for that field (``Draft.hint``).
    """
    if not draft.job_id:
        draft.hint("job_id", "CI_JOB_ID is not set, is this a GitLab CI job? Give --job-id")
    if not draft.commit_sha:
        draft.hint(
            "commit_sha",
            "CI_COMMIT_SHA is not set; give --commit-sha, or install "
            "customcd-git to read the checkout",
        )
    if not draft.repo_id and not draft.repo_name:
        draft.hint(
            "repo_name",
            "CI_PROJECT_PATH and CI_PROJECT_ID are not set; give --repo-name",
        )
    if not draft.job_start_time:
        draft.hint(
            "job_start_time",
            "CI_JOB_STARTED_AT and CI_PIPELINE_CREATED_AT are not set, GitLab Runner 13.10 or "
            "later sets them; give --start-time",
        )
    if not draft.status:
        draft.hint(
            "status",
            "CI_JOB_STATUS is not set, GitLab Runner 13.5 or later sets it in after_script; "
            "give --status",
        )


def set_facts(context: CollectContext, draft: Draft) -> None:
    """Routing facts for ``customcd.toml`` rules (not sent)."""
    env = context.env
    draft.set_fact("ci", CI_SYSTEM)
    draft.set_fact("job_name", env.get("CI_JOB_NAME"))
    draft.set_fact("stage", env.get("CI_JOB_STAGE"))
    draft.set_fact(
        "branch",
        env.get("CI_COMMIT_BRANCH")
        or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or env.get("CI_COMMIT_REF_NAME"),
    )
    draft.set_fact("environment", env.get("CI_ENVIRONMENT_NAME"))
    draft.set_fact("repo", env.get("CI_PROJECT_PATH"))
    draft.set_fact("pipeline", env.get("CI_PIPELINE_NAME") or env.get("CI_PIPELINE_ID"))
