"""Reading Azure Pipelines variables from the environment mapping.

Azure exposes ``Build.BuildId`` as ``BUILD_BUILDID`` (upper case, dots to underscores). A variable
used in YAML but not defined reaches scripts as the literal macro text ``$(Name)``: such values are
treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["first", "is_azure", "is_classic_release", "project_of"]


def first(env: Mapping[str, str], *names: str) -> str | None:
    """Return the first of ``names`` that holds a real value (stripped), or ``None``."""
    for name in names:
        value = (env.get(name) or "").strip()
        if value and not (value.startswith("$(") and value.endswith(")")):
            return value
    return None


def is_azure(env: Mapping[str, str]) -> bool:
    """Tell whether this is an Azure Pipelines agent: ``TF_BUILD=True`` (any case)."""
    return (env.get("TF_BUILD") or "").strip().lower() == "true"


def is_classic_release(env: Mapping[str, str]) -> bool:
    """Tell whether this is a classic release job (``RELEASE_RELEASEID`` is set)."""
    return first(env, "RELEASE_RELEASEID") is not None


def project_of(env: Mapping[str, str]) -> str | None:
    """Return the project for REST calls: its id when known (survives renames), else its name."""
    return first(env, "SYSTEM_TEAMPROJECTID", "SYSTEM_TEAMPROJECT")
