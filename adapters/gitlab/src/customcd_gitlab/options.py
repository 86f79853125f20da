"""The ``[adapters.gitlab]`` options of ``customcd.toml`` and their environment variables.

Every option can be given in ``customcd.toml``; the ones a pipeline most often changes per job can
also be given as ``CUSTOMCD_GITLAB_*`` variables, which win over the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from customcd.plugins.adapter import AdapterError

__all__ = ["DOCS", "GitLabOptions"]

#: The docs page that explains every option.
DOCS = "gitlab.md"

_MODES = ("job", "pipeline")
_JOB_TYPE_FROM = ("environment", "tier")
_COMMITS = ("merge", "source")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _names(value: Any) -> tuple[str, ...]:
    """Read a list option given as a TOML list or as comma-separated text."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _choice(
    name: str, value: str | None, allowed: tuple[str, ...], default: str | None
) -> str | None:
    if value is None:
        return default
    lowered = value.lower()
    if lowered not in allowed:
        raise AdapterError(
            f"[adapters.gitlab] {name} = {value!r} is not one of {', '.join(allowed)}", docs=DOCS
        )
    return lowered


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class GitLabOptions:
    """The GitLab adapter's settings.

    :param mode: ``job`` (report the job customcd runs in, from its variables) or ``pipeline``
        (report the pipeline, or its deploy jobs, from the GitLab API).
    :param job_type: a fixed ``job_type`` for every record.
    :param job_type_from: ``environment`` or ``tier``: take ``job_type`` from the job's
        environment name or tier (``CI_ENVIRONMENT_NAME`` / ``CI_ENVIRONMENT_TIER``).
    :param commit: ``merge`` (``CI_COMMIT_SHA``, the merge commit in merged-results pipelines) or
        ``source`` (the merge request's source branch head, ``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA``).
    :param stages: pipeline mode: report only jobs of these stages (glob patterns).
    :param jobs: pipeline mode: report only jobs with these names (glob patterns).
    :param environments: pipeline mode: report only jobs deploying to these environments (globs).
    :param downstream: pipeline mode: follow trigger jobs into child/multi-project pipelines.
    :param url: the GitLab URL (default ``CI_SERVER_URL``, then ``https://gitlab.com``).
    :param ca_bundle: a CA bundle for the GitLab API (self-managed GitLab with a private CA).
    :param per_page: page size of history listings (1-100).
    """

    mode: str = "job"
    job_type: str | None = None
    job_type_from: str | None = None
    commit: str = "merge"
    stages: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    downstream: bool = True
    url: str | None = None
    ca_bundle: str | None = None
    per_page: int = 100

    @property
    def selects_jobs(self) -> bool:
        """Whether pipeline mode reports selected deploy jobs rather than the whole pipeline."""
        return bool(self.stages or self.jobs or self.environments)

    @classmethod
    def load(cls, options: Mapping[str, Any], env: Mapping[str, str]) -> GitLabOptions:
        """Read the options; ``CUSTOMCD_GITLAB_*`` variables win over ``customcd.toml``.

        :raises AdapterError: for a value that is not allowed.
        """

        def pick(key: str) -> Any:
            from_env = _text(env.get(f"CUSTOMCD_GITLAB_{key.upper()}"))
            return from_env if from_env is not None else options.get(key)

        per_page_raw = pick("per_page")
        try:
            per_page = int(per_page_raw) if per_page_raw is not None else 100
        except (TypeError, ValueError):
            raise AdapterError(
                f"[adapters.gitlab] per_page = {per_page_raw!r} is not a whole number", docs=DOCS
            ) from None
        return cls(
            mode=_choice("mode", _text(pick("mode")), _MODES, "job") or "job",
            job_type=_text(pick("job_type")),
            job_type_from=_choice(
                "job_type_from", _text(pick("job_type_from")), _JOB_TYPE_FROM, None
            ),
            commit=_choice("commit", _text(pick("commit")), _COMMITS, "merge") or "merge",
            stages=_names(pick("stages")),
            jobs=_names(pick("jobs")),
            environments=_names(pick("environments")),
            downstream=_flag(pick("downstream"), True),
            url=_text(pick("url")),
            ca_bundle=_text(pick("ca_bundle")),
            per_page=min(max(per_page, 1), 100),
        )
