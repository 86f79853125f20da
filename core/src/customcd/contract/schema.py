"""The JSON Schema of the Custom CD body, for tools that validate without customcd."""

from __future__ import annotations

from typing import Any

__all__ = ["job_schema"]


def job_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a body: :meth:`Job.model_json_schema` of the model.

    Rules JSON Schema cannot express (future times, unique keys, values that depend on the
    entry's type) are described in the fields' descriptions; ``customcd validate`` checks them.
    """
    from .job import Job

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Job.model_json_schema()}
