"""The JSON Schema of the Custom CD body, for tools that validate without customcd."""

from __future__ import annotations

from typing import Any

from .wire import body_schema

__all__ = ["job_schema"]


def job_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a body, generated from the contract's own schema.

    Rules JSON Schema cannot express (future times, unique keys, values that depend on the
    entry's type) are described in the fields' descriptions; ``customcd validate`` checks them.
    """
    from pydantic.json_schema import GenerateJsonSchema

    schema = GenerateJsonSchema().generate(body_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Allstacks Custom CD job"
    schema["anyOf"] = [{"required": ["repo_id"]}, {"required": ["repo_name"]}]
    return schema
