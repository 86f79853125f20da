"""Samples for the Azure DevOps adapter tests: agent environments, contexts, a status helper."""

from __future__ import annotations

from typing import Any

from customcd.contract.status import StatusMapper
from customcd.plugins.draft import CollectContext
from customcd_azure_devops.adapter import AzureDevOpsAdapter

COLLECTION = "https://dev.azure.com/contoso/"
PROJECT_ID = "5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e"
REPO_ID = "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c"
MERGE_SHA = "3f9c2b7e1a4d6f8b0c2e4a6d8f0b2c4e6a8d0f1b"
HEAD_SHA = "9b2e4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b"
#: A made-up token: tests assert it never reaches a message.
SECRET = "s3cr3t-azure-job-token-value-xyz"


def base_env(**extra: str) -> dict[str, str]:
    """The variables an Azure Pipelines agent sets for a YAML job (CI build of main)."""
    env = {
        "TF_BUILD": "True",
        "SYSTEM_COLLECTIONURI": COLLECTION,
        "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": COLLECTION,
        "SYSTEM_TEAMPROJECT": "Fabrikam Web",
        "SYSTEM_TEAMPROJECTID": PROJECT_ID,
        "SYSTEM_HOSTTYPE": "build",
        "SYSTEM_STAGENAME": "Build",
        "SYSTEM_STAGEDISPLAYNAME": "Build",
        "SYSTEM_JOBNAME": "__default",
        "SYSTEM_JOBDISPLAYNAME": "Build and test",
        "SYSTEM_JOBID": "12f1170f-54f2-53f3-20dd-22fc7dff55f9",
        "SYSTEM_JOBATTEMPT": "1",
        "BUILD_BUILDID": "20931",
        "BUILD_BUILDNUMBER": "20251129.1",
        "BUILD_DEFINITIONNAME": "fabrikam-web-ci",
        "BUILD_REASON": "IndividualCI",
        "BUILD_SOURCEBRANCH": "refs/heads/main",
        "BUILD_SOURCEBRANCHNAME": "main",
        "BUILD_SOURCEVERSION": MERGE_SHA,
        "BUILD_REPOSITORY_ID": REPO_ID,
        "BUILD_REPOSITORY_NAME": "fabrikam-web",
        "BUILD_REPOSITORY_PROVIDER": "TfsGit",
        "BUILD_REPOSITORY_URI": "https://contoso@dev.azure.com/contoso/Fabrikam%20Web/_git/fabrikam-web",
        "BUILD_REQUESTEDFOR": "Dana Whitfield",
        "BUILD_REQUESTEDFOREMAIL": "dana.whitfield@contoso.com",
        "AGENT_JOBSTATUS": "Succeeded",
    }
    env.update(extra)
    return env


def context(
    env: dict[str, str], *, options: dict[str, Any] | None = None, **overrides: Any
) -> CollectContext:
    """A collect context with the adapter's options and the user's overrides."""
    return CollectContext(
        env=env,
        overrides=overrides,
        options={"azure-devops": options} if options else {},
        timeout=5.0,
        now=1764410000.0,
    )


def mapped(native: str) -> str | None:
    """The Custom CD status the core maps a native status to (through the adapter's map)."""
    return StatusMapper({}, AzureDevOpsAdapter.status_map, AzureDevOpsAdapter.title).map(native)
