"""Sample Azure Pipelines environments for ``customcd demo`` (valid offline, no credentials)."""

from __future__ import annotations

from customcd.plugins.adapter import DemoCase

__all__ = ["demo_cases"]

_COMMON = {
    "TF_BUILD": "True",
    "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
    "SYSTEM_TEAMPROJECT": "Fabrikam Web",
    "SYSTEM_TEAMPROJECTID": "5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e",
    "BUILD_REPOSITORY_ID": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c",
    "BUILD_REPOSITORY_NAME": "fabrikam-web",
    "BUILD_REPOSITORY_URI": "https://dev.azure.com/contoso/Fabrikam%20Web/_git/fabrikam-web",
    "BUILD_DEFINITIONNAME": "fabrikam-web-ci",
    "BUILD_REQUESTEDFOR": "Dana Whitfield",
    "BUILD_REQUESTEDFOREMAIL": "dana.whitfield@contoso.com",
    "SYSTEM_PIPELINESTARTTIME": "2025-11-29 07:06:40+00:00",
}


def demo_cases() -> list[DemoCase]:
    """Return a YAML build's final step, a deployment job, and a classic release."""
    return [
        DemoCase(
            "YAML pipeline, final step with condition: always(), Succeeded",
            {
                **_COMMON,
                "BUILD_BUILDID": "20931",
                "BUILD_BUILDNUMBER": "20251129.4",
                "BUILD_SOURCEVERSION": "3f9c2b7e1a4d6f8b0c2e4a6d8f0b2c4e6a8d0f1b",
                "BUILD_SOURCEBRANCH": "refs/heads/main",
                "BUILD_REASON": "IndividualCI",
                "SYSTEM_STAGENAME": "Build",
                "SYSTEM_JOBDISPLAYNAME": "Build and test",
                "SYSTEM_JOBID": "3dc8fd7e-4368-5a92-293e-d53cefc8c4b3",
                "AGENT_JOBSTATUS": "Succeeded",
            },
        ),
        DemoCase(
            "deployment job to environment 'production', SucceededWithIssues",
            {
                **_COMMON,
                "BUILD_BUILDID": "20934",
                "BUILD_BUILDNUMBER": "20251129.5",
                "BUILD_SOURCEVERSION": "8e1d4c7a2f5b9e3d6c0a4f8b2e6d0c4a8f2b6e0d",
                "BUILD_SOURCEBRANCH": "refs/heads/main",
                "BUILD_REASON": "IndividualCI",
                "SYSTEM_STAGENAME": "Deploy_Prod",
                "SYSTEM_STAGEDISPLAYNAME": "Deploy to production",
                "SYSTEM_JOBNAME": "DeployWeb",
                "SYSTEM_JOBDISPLAYNAME": "Deploy web app",
                "SYSTEM_JOBATTEMPT": "1",
                "ENVIRONMENT_NAME": "production",
                "AGENT_JOBSTATUS": "SucceededWithIssues",
            },
        ),
        DemoCase(
            "classic release 'Release-42' to stage 'Staging', Failed",
            {
                "TF_BUILD": "True",
                "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
                "SYSTEM_TEAMPROJECT": "Fabrikam Web",
                "RELEASE_RELEASEID": "42",
                "RELEASE_RELEASENAME": "Release-42",
                "RELEASE_DEPLOYMENTID": "97",
                "RELEASE_DEFINITIONNAME": "fabrikam-web-release",
                "RELEASE_ENVIRONMENTNAME": "Staging",
                "RELEASE_REASON": "ContinuousDeployment",
                "RELEASE_RELEASEWEBURL": (
                    "https://dev.azure.com/contoso/Fabrikam%20Web/_release?releaseId=42"
                ),
                "RELEASE_DEPLOYMENT_REQUESTEDFOREMAIL": "sam.okafor@contoso.com",
                "BUILD_BUILDID": "20931",
                "BUILD_SOURCEVERSION": "3f9c2b7e1a4d6f8b0c2e4a6d8f0b2c4e6a8d0f1b",
                "BUILD_REPOSITORY_ID": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c",
                "BUILD_REPOSITORY_NAME": "fabrikam-web",
                "AGENT_JOBSTATUS": "Failed",
            },
            {"job_start_time": 1764400000},
        ),
    ]
