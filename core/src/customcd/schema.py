"""The JSON Schema of the Custom CD body, for tools that validate without customcd."""

from __future__ import annotations

from typing import Any

from .job import MAX_OPTIONAL_FIELDS, MAX_OPTIONAL_VALUES, Job

__all__ = ["job_schema"]


def job_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a body, with the contract's rules that JSON Schema can say.

    Rules it cannot express (milliseconds, future times, unique keys, type-dependent values) are
    described in the fields' descriptions; ``customcd validate`` checks them all.
    """
    schema = Job.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Allstacks Custom CD job"
    props = schema["properties"]
    props["commit_sha"]["pattern"] = "^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$"
    props["job_id"]["minLength"] = 1
    props["service_id"]["minimum"] = 1
    props["job_start_time"]["minimum"] = 946684800
    props["job_start_time"]["maximum"] = 10**12 - 1
    props["job_duration"]["minimum"] = 0
    schema["anyOf"] = [{"required": ["repo_id"]}, {"required": ["repo_name"]}]
    optional = props["optional"]
    for branch in optional.get("anyOf", []):
        if branch.get("type") == "array":
            branch["maxItems"] = MAX_OPTIONAL_FIELDS
    defs = schema.get("$defs", {})
    entry = defs.get("OptionalField")
    if entry:
        for branch in entry["properties"]["value"].get("anyOf", []):
            if branch.get("type") == "array":
                branch["maxItems"] = MAX_OPTIONAL_VALUES
                branch["minItems"] = 1
        entry["properties"]["key"]["minLength"] = 1
    return schema
