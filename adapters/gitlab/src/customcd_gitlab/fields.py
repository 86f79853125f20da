"""Pieces of a draft every GitLab mode fills the same way: commit, job type, optional fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customcd.plugins.draft import Draft

from .options import GitLabOptions

__all__ = ["CI_SYSTEM", "add_common_optionals", "choose_commit", "derive_job_type"]

#: The value of the ``ci_system`` optional field.
CI_SYSTEM = "gitlab"


def choose_commit(env: Mapping[str, str], options: GitLabOptions, draft: Draft, sha: Any) -> Any:
    """Pick the commit: ``sha`` (the pipeline's ``CI_COMMIT_SHA``), or the MR source head.

    In a merged-results pipeline ``CI_COMMIT_SHA`` is a merge commit GitLab made on a temporary
    ref (``refs/merge-requests/N/merge``); it is on no branch. With ``commit = "source"`` the
    source branch head (``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA``) is reported instead.
    """
    source = (env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or "").strip()
    if not source:
        return sha
    if options.commit == "source":
        draft.notes.append(
            "merged-results pipeline: reporting the merge request's source head "
            f'{source[:12]} (commit = "source") instead of the merge commit'
        )
        draft.add_optional("merge_commit_sha", sha)
        return source
    draft.notes.append(
        "merged-results pipeline: reporting the merge commit CI_COMMIT_SHA (on no branch); set "
        '[adapters.gitlab] commit = "source" to report the source branch head instead'
    )
    draft.add_optional("source_commit_sha", source)
    return sha


def derive_job_type(
    options: GitLabOptions, environment: str | None, tier: str | None
) -> str | None:
    """``job_type`` from the options: fixed, or the environment's name or tier."""
    if options.job_type_from == "environment" and environment:
        return environment
    if options.job_type_from == "tier" and tier:
        return tier
    return options.job_type


def add_common_optionals(
    draft: Draft,
    *,
    environment: str | None = None,
    tier: str | None = None,
    pipeline_id: Any = None,
    pipeline_url: str | None = None,
    job_url: str | None = None,
    ref: str | None = None,
    pipeline_source: str | None = None,
    merge_request_iid: Any = None,
) -> None:
    """Add the optional fields documented in ``docs/gitlab.md`` (empty ones are left out)."""
    draft.add_optional("environment", environment)
    draft.add_optional("environment_tier", tier)
    if pipeline_id is not None and str(pipeline_id).strip().isdigit():
        draft.add_optional("pipeline_id", int(str(pipeline_id).strip()), "integer")
    draft.add_optional("pipeline_url", pipeline_url)
    draft.add_optional("job_url", job_url)
    draft.add_optional("ref", ref)
    draft.add_optional("pipeline_source", pipeline_source)
    if merge_request_iid is not None and str(merge_request_iid).strip().isdigit():
        draft.add_optional("merge_request_iid", int(str(merge_request_iid).strip()), "integer")
    draft.add_optional("ci_system", CI_SYSTEM)
