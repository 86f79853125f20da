"""Write the modelled Jenkins cassettes of this folder (run: uv run python cassettes/jenkins/make_cassettes.py).

The cassettes are MODELLED, not recorded: no Jenkins server was reachable when they were written.
Each response follows the shape Jenkins 2.4xx serves (see README.md for the sources). Request URIs
are exactly those jenkinsapi 0.3.23 and customcd-jenkins send. Re-recording against a real Jenkins
replaces these files (README.md says how); this script is then no longer needed.
"""

# ruff: noqa: D103, E731 - a one-off generator script; each function names the document it models

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

HERE = Path(__file__).resolve().parent
ROOT = "https://jenkins.example.com/"
JENKINS_VERSION = "2.479.3"

APP_REMOTE = "https://github.com/acme/payments-api.git"
LIB_REMOTE = "https://github.com/acme/jenkins-shared-lib.git"
STORE_REMOTE = "https://github.com/acme/storefront.git"


# --- serialisation ------------------------------------------------------------------------------


def python_api(value: Any) -> str:
    """Jenkins' ``api/python`` flavour: JSON syntax with Python's True/False/None."""
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return "None"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{python_api(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(python_api(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def request(uri: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    if params:
        uri = f"{uri}?{urlencode(params)}"
    return {
        "body": None,
        "headers": {
            "Accept": ["*/*"],
            "Accept-Encoding": ["gzip, deflate"],
            "Authorization": ["REDACTED"],
            "Connection": ["keep-alive"],
            "User-Agent": ["python-requests/2.32.3"],
        },
        "method": "GET",
        "uri": uri,
    }


def response(body: str, content_type: str, status: int = 200, extra: dict | None = None) -> dict:
    messages = {
        200: "OK",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
        503: "Service Unavailable",
    }
    headers = {
        "Cache-Control": ["no-cache, no-store, must-revalidate"],
        "Content-Type": [content_type],
        "Date": ["Sat, 29 Nov 2025 07:10:00 GMT"],
        "Server": ["Jetty(12.0.16)"],
        "X-Content-Type-Options": ["nosniff"],
        "X-Jenkins": [JENKINS_VERSION],
        "X-Jenkins-Session": ["5c2b9f0e"],
    }
    headers.update(extra or {})
    return {
        "body": {"string": body},
        "headers": headers,
        "status": {"code": status, "message": messages[status]},
    }


def py_interaction(uri: str, doc: Any, params: dict[str, str] | None = None) -> dict:
    return {
        "request": request(uri, params),
        "response": response(python_api(doc), "text/x-python;charset=utf-8"),
    }


def json_interaction(uri: str, doc: Any, params: dict[str, str] | None = None) -> dict:
    return {
        "request": request(uri, params),
        "response": response(json.dumps(doc, ensure_ascii=False), "application/json;charset=utf-8"),
    }


def write(name: str, interactions: list[dict]) -> None:
    text = yaml.safe_dump(
        {"interactions": interactions, "version": 1},
        sort_keys=False,
        width=1000,
        allow_unicode=True,
    )
    (HERE / name).write_text(text, encoding="utf-8")


# --- documents ------------------------------------------------------------------------------------


def job_url(*names: str) -> str:
    from urllib.parse import quote

    return ROOT + "".join(f"job/{quote(n, safe='')}/" for n in names)


def workflow_job(url: str, name: str, full_name: str, last: int) -> dict:
    """``<JOB_URL>api/python`` of a Pipeline job (no tree: what jenkinsapi's Job polls)."""
    builds = [
        {
            "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
            "number": n,
            "url": f"{url}{n}/",
        }
        for n in range(last, max(last - 5, 0), -1)
    ]
    ref = lambda n: {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": n,
        "url": f"{url}{n}/",
    }
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "actions": [
            {},
            {},
            {"_class": "org.jenkinsci.plugins.displayurlapi.actions.JobDisplayAction"},
            {"_class": "com.cloudbees.plugins.credentials.ViewCredentialsAction"},
        ],
        "description": "",
        "displayName": name,
        "displayNameOrNull": None,
        "fullDisplayName": full_name.replace("/", " » "),
        "fullName": full_name,
        "name": name,
        "url": url,
        "buildable": True,
        "builds": builds,
        "color": "blue",
        "firstBuild": ref(1),
        "healthReport": [
            {
                "description": "Build stability: No recent builds failed.",
                "iconClassName": "icon-health-80plus",
                "iconUrl": "health-80plus.png",
                "score": 100,
            }
        ],
        "inQueue": False,
        "keepDependencies": False,
        "lastBuild": ref(last),
        "lastCompletedBuild": ref(last - 1),
        "lastFailedBuild": None,
        "lastStableBuild": ref(last - 1),
        "lastSuccessfulBuild": ref(last - 1),
        "lastUnstableBuild": None,
        "lastUnsuccessfulBuild": None,
        "nextBuildNumber": last + 1,
        "property": [
            {
                "_class": "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty"
            }
        ],
        "queueItem": None,
        "concurrentBuild": False,
        "resumeBlocked": False,
    }


def cause_action(*causes: dict) -> dict:
    return {"_class": "hudson.model.CauseAction", "causes": list(causes)}


def build_data(
    sha: str, remote: str, branch: str = "refs/remotes/origin/main", number: int = 1
) -> dict:
    return {
        "_class": "hudson.plugins.git.util.BuildData",
        "buildsByBranchName": {
            branch: {
                "_class": "hudson.plugins.git.util.Build",
                "buildNumber": number,
                "buildResult": None,
                "marked": {"SHA1": sha, "branch": [{"SHA1": sha, "name": branch}]},
                "revision": {"SHA1": sha, "branch": [{"SHA1": sha, "name": branch}]},
            }
        },
        "lastBuiltRevision": {"SHA1": sha, "branch": [{"SHA1": sha, "name": branch}]},
        "remoteUrls": [remote],
        "scmName": "",
    }


SCM_CAUSE = {
    "_class": "com.cloudbees.jenkins.GitHubPushCause",
    "shortDescription": "Started by GitHub push by octocat",
}
TIMER_CAUSE = {
    "_class": "hudson.triggers.TimerTrigger$TimerTriggerCause",
    "shortDescription": "Started by timer",
}
INDEXING_CAUSE = {
    "_class": "jenkins.branch.BranchIndexingCause",
    "shortDescription": "Branch indexing",
}
BRANCH_EVENT_CAUSE = {
    "_class": "jenkins.branch.BranchEventCause",
    "shortDescription": "Push event to branch feature/login",
}
USER_CAUSE = {
    "_class": "hudson.model.Cause$UserIdCause",
    "shortDescription": "Started by user Jane Doe",
    "userId": "jdoe",
    "userName": "Jane Doe",
}
UPSTREAM_CAUSE = {
    "_class": "hudson.model.Cause$UpstreamCause",
    "shortDescription": 'Started by upstream project "payments/build" build number 311',
    "upstreamBuild": 311,
    "upstreamProject": "payments/build",
    "upstreamUrl": "job/payments/job/build/",
}


def workflow_run(
    url: str,
    number: int,
    full_name: str,
    *,
    result: str | None,
    timestamp: int,
    duration: int,
    causes: list[dict],
    revisions: list[dict],
    building: bool = False,
) -> dict:
    """``<BUILD_URL>api/json?depth=0`` of a Pipeline run."""
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "actions": [
            cause_action(*causes),
            {},
            *revisions,
            {"_class": "hudson.plugins.git.GitTagAction"},
            {},
            {"_class": "org.jenkinsci.plugins.workflow.cps.EnvActionImpl"},
            {},
            {
                "_class": "org.jenkinsci.plugins.pipeline.modeldefinition.actions.RestartDeclarativePipelineAction"
            },
            {},
            {"_class": "org.jenkinsci.plugins.workflow.job.views.FlowGraphAction"},
            {},
            {},
        ],
        "artifacts": [],
        "building": building,
        "description": None,
        "displayName": f"#{number}",
        "duration": duration,
        "estimatedDuration": 301877,
        "executor": {"_class": "hudson.model.OneOffExecutor"} if building else None,
        "fullDisplayName": f"{full_name.replace('/', ' » ')} #{number}",
        "id": str(number),
        "keepLog": False,
        "number": number,
        "queueId": 90000 + number,
        "result": result,
        "timestamp": timestamp,
        "url": f"{url}{number}/",
        "changeSets": [],
        "culprits": [],
        "inProgress": building,
        "nextBuild": None,
        "previousBuild": {"number": number - 1, "url": f"{url}{number - 1}/"},
    }


def wfapi_describe(url: str, number: int, status: str, start: int, duration: int) -> dict:
    base = url[len(ROOT) - 1 :]
    stages = [
        {"name": "Build", "status": "SUCCESS"},
        {"name": "Test", "status": "SUCCESS"},
        {"name": "Deploy", "status": status},
    ]
    return {
        "_links": {
            "self": {"href": f"{base}{number}/wfapi/describe"},
            **(
                {"pendingInputActions": {"href": f"{base}{number}/wfapi/pendingInputActions"}}
                if status == "PAUSED_PENDING_INPUT"
                else {}
            ),
        },
        "id": str(number),
        "name": f"#{number}",
        "status": status,
        "startTimeMillis": start + 41,
        "endTimeMillis": start + duration,
        "durationMillis": duration,
        "queueDurationMillis": 41,
        "pauseDurationMillis": 120000 if status == "PAUSED_PENDING_INPUT" else 0,
        "stages": [
            {
                "_links": {
                    "self": {"href": f"{base}{number}/execution/node/{6 + i * 7}/wfapi/describe"}
                },
                "id": str(6 + i * 7),
                "name": s["name"],
                "execNode": "",
                "status": s["status"],
                "startTimeMillis": start + 500 + i * 60000,
                "durationMillis": 58000,
                "pauseDurationMillis": 0,
            }
            for i, s in enumerate(stages)
        ],
    }


def user_doc(user_id: str, full_name: str, address: str | None) -> dict:
    props: list[dict] = [
        {"_class": "jenkins.security.ApiTokenProperty"},
        {"_class": "hudson.model.MyViewsProperty"},
    ]
    if address is not None:
        props.append({"_class": "hudson.tasks.Mailer$UserProperty", "address": address})
    props.append({"_class": "hudson.model.TimeZoneProperty"})
    # the request's tree=property[address] keeps only the address fields (and _class)
    return {
        "_class": "hudson.model.User",
        "property": [{k: v for k, v in p.items() if k in {"_class", "address"}} for p in props],
    }


# --- scenarios ------------------------------------------------------------------------------------

API_JOB = job_url("payments", "api")
T0 = 1764400000123  # 2025-11-29T07:06:40.123Z, epoch ms


def api_build(
    name: str,
    number: int,
    *,
    result,
    duration,
    causes,
    revisions=None,
    building=False,
    wfapi=None,
    users=(),
) -> None:
    interactions = [
        json_interaction(
            f"{API_JOB}{number}/api/json",
            workflow_run(
                API_JOB,
                number,
                "payments/api",
                result=result,
                timestamp=T0,
                duration=duration,
                causes=causes,
                building=building,
                revisions=revisions
                if revisions is not None
                else [
                    build_data(
                        "4c1e2a9f0b3d5e7f9a1c3e5f7b9d1f3a5c7e9b0d", APP_REMOTE, number=number
                    )
                ],
            ),
            {"depth": "0"},
        ),
    ]
    if wfapi:
        interactions.append(
            json_interaction(
                f"{API_JOB}{number}/wfapi/describe",
                wfapi_describe(API_JOB, number, wfapi, T0, 185000),
            )
        )
    for user_id, full, address in users:
        interactions.append(
            json_interaction(
                f"{ROOT}user/{user_id}/api/json",
                user_doc(user_id, full, address),
                {"tree": "property[address]"},
            )
        )
    write(name, interactions)


def error_cassette(name: str, status: int, body: str, extra: dict) -> None:
    write(
        name,
        [
            {
                "request": request(f"{API_JOB}42/api/json", {"depth": "0"}),
                "response": response(body, "text/html;charset=utf-8", status, extra),
            }
        ],
    )


def multibranch() -> None:
    branch_url = job_url("web", "storefront", "feature%2Flogin")
    sha = "9b2d4f6a8c0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a"
    run = workflow_run(
        branch_url,
        7,
        "web/storefront/feature%2Flogin",
        result="SUCCESS",
        timestamp=T0,
        duration=98234,
        causes=[BRANCH_EVENT_CAUSE],
        revisions=[build_data(sha, STORE_REMOTE, "feature/login", 7)],
    )
    run["fullDisplayName"] = "web » storefront » feature/login #7"
    write(
        "api_multibranch_encoded_branch.yaml",
        [
            json_interaction(f"{branch_url}7/api/json", run, {"depth": "0"}),
        ],
    )


HISTORY_FIELDS = (
    "_class,number,url,timestamp,duration,result,building,builtOn,"
    "actions[causes[userId,userName,upstreamProject,upstreamBuild,upstreamUrl,shortDescription],"
    "lastBuiltRevision[SHA1,branch[name]],remoteUrls]"
)
H0 = 1763000000000  # 2025-11-13T02:13:20Z, build #1; builds every 3 hours


def history_row(
    url: str, number: int, *, result="SUCCESS", building=False, causes=None, revisions=None
) -> dict:
    sha = f"{number:04d}" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"[:36]
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "actions": [
            {"_class": "hudson.model.CauseAction", "causes": causes or [SCM_CAUSE]},
            {"_class": "hudson.plugins.git.util.BuildData"} if revisions == [] else None,
            *(
                revisions
                if revisions is not None
                else [
                    {
                        "_class": "hudson.plugins.git.util.BuildData",
                        "lastBuiltRevision": {
                            "SHA1": sha,
                            "branch": [{"name": "refs/remotes/origin/main"}],
                        },
                        "remoteUrls": [APP_REMOTE],
                    }
                ]
            ),
            {"_class": "org.jenkinsci.plugins.workflow.job.views.FlowGraphAction"},
        ],
        "building": building,
        "duration": 0 if building else 240000 + number * 1000,
        "number": number,
        "result": None if building else result,
        "timestamp": H0 + (number - 1) * 3 * 3600 * 1000,
        "url": f"{url}{number}/",
    }


def history_over_100() -> None:
    rows = []
    for n in range(130, 0, -1):
        kwargs: dict[str, Any] = {}
        if n == 130:
            kwargs["building"] = True
        elif n == 77:
            kwargs["result"] = "NOT_BUILT"
        elif n % 10 == 3:
            kwargs["result"] = "FAILURE"
        elif n == 64:
            kwargs["result"] = "ABORTED"
        elif n == 88:
            kwargs["result"] = "UNSTABLE"
        if n in (21, 99):
            kwargs["causes"] = [USER_CAUSE]
        if n == 120:
            kwargs["causes"] = [UPSTREAM_CAUSE]
        if n == 110:  # a shared library checked out before the application
            lib = {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {
                    "SHA1": "1111111111111111111111111111111111111111",
                    "branch": [{"name": "refs/remotes/origin/main"}],
                },
                "remoteUrls": [LIB_REMOTE],
            }
            app = {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {
                    "SHA1": "0110a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8",
                    "branch": [{"name": "refs/remotes/origin/main"}],
                },
                "remoteUrls": [APP_REMOTE],
            }
            kwargs["revisions"] = [lib, app]
        row = history_row(API_JOB, n, **kwargs)
        row["actions"] = [a for a in row["actions"] if a is not None]
        rows.append(row)
    job_doc = {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "fullName": "payments/api",
        "name": "api",
        "url": API_JOB,
    }
    interactions = [
        json_interaction(
            f"{API_JOB}api/json", job_doc, {"tree": "_class,name,fullName,url,jobs[name,url]"}
        ),
        json_interaction(
            f"{API_JOB}api/json",
            {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "allBuilds": rows[0:100]},
            {"tree": f"allBuilds[{HISTORY_FIELDS}]{{0,100}}"},
        ),
        json_interaction(
            f"{API_JOB}api/json",
            {
                "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                "allBuilds": rows[100:130],
            },
            {"tree": f"allBuilds[{HISTORY_FIELDS}]{{100,200}}"},
        ),
        json_interaction(
            f"{ROOT}user/jdoe/api/json",
            user_doc("jdoe", "Jane Doe", "jane.doe@example.com"),
            {"tree": "property[address]"},
        ),
        json_interaction(
            f"{API_JOB}130/wfapi/describe",
            wfapi_describe(
                API_JOB, 130, "PAUSED_PENDING_INPUT", H0 + 129 * 3 * 3600 * 1000, 600000
            ),
        ),
    ]
    write("history_over_100_builds.yaml", interactions)


def history_folder() -> None:
    tree = {"tree": "_class,name,fullName,url,jobs[name,url]"}
    web = job_url("web")
    store = job_url("web", "storefront")
    main = job_url("web", "storefront", "main")
    feature = job_url("web", "storefront", "feature%2Flogin")
    docs = job_url("web", "docs-site")
    leaf = lambda url, full, name: {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "fullName": full,
        "name": name,
        "url": url,
    }
    interactions = [
        json_interaction(
            f"{web}api/json",
            {
                "_class": "com.cloudbees.hudson.plugins.folder.Folder",
                "fullName": "web",
                "name": "web",
                "url": web,
                "jobs": [
                    {
                        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                        "name": "docs-site",
                        "url": docs,
                    },
                    {
                        "_class": "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
                        "name": "storefront",
                        "url": store,
                    },
                ],
            },
            tree,
        ),
        json_interaction(f"{docs}api/json", leaf(docs, "web/docs-site", "docs-site"), tree),
        json_interaction(
            f"{store}api/json",
            {
                "_class": "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
                "fullName": "web/storefront",
                "name": "storefront",
                "url": store,
                "jobs": [
                    {
                        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                        "name": "feature%2Flogin",
                        "url": feature,
                    },
                    {
                        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                        "name": "main",
                        "url": main,
                    },
                ],
            },
            tree,
        ),
        json_interaction(
            f"{feature}api/json",
            leaf(feature, "web/storefront/feature%2Flogin", "feature%2Flogin"),
            tree,
        ),
        json_interaction(f"{main}api/json", leaf(main, "web/storefront/main", "main"), tree),
    ]
    for url, count in ((docs, 2), (feature, 3), (main, 2)):
        rows = []
        for n in range(count, 0, -1):
            row = history_row(
                url,
                n,
                causes=[INDEXING_CAUSE] if n == 1 else [BRANCH_EVENT_CAUSE],
                revisions=[
                    {
                        "_class": "hudson.plugins.git.util.BuildData",
                        "lastBuiltRevision": {
                            "SHA1": f"{n:02d}" + "f" * 38,
                            "branch": [{"name": url.rstrip("/").rsplit("/", 1)[-1]}],
                        },
                        "remoteUrls": [STORE_REMOTE],
                    }
                ],
            )
            row["timestamp"] = 1764000000000 + n * 3600 * 1000
            row["actions"] = [a for a in row["actions"] if a is not None]
            rows.append(row)
        interactions.append(
            json_interaction(
                f"{url}api/json",
                {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "allBuilds": rows},
                {"tree": f"allBuilds[{HISTORY_FIELDS}]{{0,100}}"},
            )
        )
    write("history_folder_multibranch.yaml", interactions)


def rate_limited() -> None:
    """A backfill behind a rate-limiting proxy: 429 with Retry-After, then 503 without it."""
    tree = {"tree": "_class,name,fullName,url,jobs[name,url]"}
    job_doc = {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "fullName": "payments/api",
        "name": "api",
        "url": API_JOB,
    }
    rows = [history_row(API_JOB, n) for n in range(3, 0, -1)]
    page = {"tree": f"allBuilds[{HISTORY_FIELDS}]{{0,100}}"}
    proxy = {"Server": ["nginx"], "Content-Type": ["text/html"]}
    limited = response(
        "<html><body><h1>429 Too Many Requests</h1></body></html>",
        "text/html",
        429,
        {**proxy, "Retry-After": ["7"]},
    )
    unavailable = response(
        "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
        "text/html",
        503,
        proxy,
    )
    write(
        "history_rate_limited.yaml",
        [
            {"request": request(f"{API_JOB}api/json", tree), "response": limited},
            json_interaction(f"{API_JOB}api/json", job_doc, tree),
            {"request": request(f"{API_JOB}api/json", page), "response": unavailable},
            json_interaction(
                f"{API_JOB}api/json", {"_class": job_doc["_class"], "allBuilds": rows}, page
            ),
        ],
    )
    too_long = response(
        "<html><body><h1>429 Too Many Requests</h1></body></html>",
        "text/html",
        429,
        {**proxy, "Retry-After": ["3600"]},
    )
    write(
        "history_rate_limited_too_long.yaml",
        [
            {"request": request(f"{API_JOB}api/json", tree), "response": too_long},
        ],
    )


def literal_words() -> None:
    """Strings holding ``True``/``False``/``None``: what jenkinsapi's api/python parsing rewrites."""
    run = workflow_run(
        API_JOB,
        52,
        "payments/api",
        result="SUCCESS",
        timestamp=T0,
        duration=61000,
        causes=[SCM_CAUSE],
        revisions=[
            build_data(
                "5e2d4f6a8c0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a",
                "https://github.com/acme/TrueNorth.git",
                "refs/remotes/origin/fix/None-check",
                52,
            )
        ],
    )
    run["builtOn"] = "FalseBay-agent"
    write(
        "api_literal_words.yaml", [json_interaction(f"{API_JOB}52/api/json", run, {"depth": "0"})]
    )


def history_other_root() -> None:
    """Jenkins' configured root URL names another host than the server the backfill reaches."""
    other = "http://jenkins.internal:8080/"
    tree = {"tree": "_class,name,fullName,url,jobs[name,url]"}
    web, leaf = job_url("web"), job_url("web", "docs-site")
    folder = {
        "_class": "com.cloudbees.hudson.plugins.folder.Folder",
        "fullName": "web",
        "name": "web",
        "url": web.replace(ROOT, other),
        "jobs": [
            {
                "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                "name": "docs-site",
                "url": leaf.replace(ROOT, other),
            }
        ],
    }
    job = {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "fullName": "web/docs-site",
        "name": "docs-site",
        "url": leaf.replace(ROOT, other),
    }
    rows = [history_row(leaf.replace(ROOT, other), n) for n in range(2, 0, -1)]
    page = {"tree": f"allBuilds[{HISTORY_FIELDS}]{{0,100}}"}
    write(
        "history_other_root_url.yaml",
        [
            json_interaction(f"{web}api/json", folder, tree),
            json_interaction(f"{leaf}api/json", job, tree),
            json_interaction(f"{leaf}api/json", {"_class": job["_class"], "allBuilds": rows}, page),
        ],
    )


FREESTYLE_JOB = job_url("deploy-prod")
DEPLOY_REMOTE = "https://git.example.com/scm/ops/deploy-config.git"


def freestyle_build(number: int, *, result: str | None, timestamp: int, sha: str) -> dict:
    """``<BUILD_URL>api/json?depth=0`` of a freestyle build, in the shape of jenkinsapi's
    ``BUILD_SCM_DATA`` (``jenkinsapi_tests/unittests/configs.py``): causes and git BuildData as
    untyped actions among empty ones, ``changeSet`` (singular) of kind ``git``. Read from a
    post-build step, the build is still ``building`` with its result already set."""
    return {
        "_class": "hudson.model.FreeStyleBuild",
        "actions": [
            {"causes": [{**USER_CAUSE, "_class": "hudson.model.Cause$UserIdCause"}]},
            {},
            {
                "buildsByBranchName": {
                    "origin/release/2025.11": {
                        "buildNumber": number,
                        "buildResult": None,
                        "revision": {
                            "SHA1": sha,
                            "branch": [{"SHA1": sha, "name": "origin/release/2025.11"}],
                        },
                    }
                },
                "lastBuiltRevision": {
                    "SHA1": sha,
                    "branch": [{"SHA1": sha, "name": "origin/release/2025.11"}],
                },
                "remoteUrls": [DEPLOY_REMOTE],
                "scmName": "",
            },
            {},
            {},
        ],
        "artifacts": [],
        "building": True,
        "builtOn": "deployer",
        "changeSet": {"items": [], "kind": "git"},
        "culprits": [],
        "description": None,
        "duration": 0,
        "estimatedDuration": 96500,
        "executor": {"_class": "hudson.model.Executor"},
        "fullDisplayName": f"deploy-prod #{number}",
        "id": str(number),
        "keepLog": False,
        "number": number,
        "queueId": 81312,
        "result": result,
        "timestamp": timestamp,
        "url": f"{FREESTYLE_JOB}{number}/",
    }


def freestyle() -> None:
    """deploy-prod#312 failed in its first build step, before any start file was written."""
    write(
        "api_freestyle_failed_early.yaml",
        [
            json_interaction(
                f"{FREESTYLE_JOB}312/api/json",
                freestyle_build(
                    312,
                    result="FAILURE",
                    timestamp=1764400180407,
                    sha="c0ffee0123456789abcdef0123456789abcdef01",
                ),
                {"depth": "0"},
            ),
            json_interaction(
                f"{ROOT}user/jdoe/api/json",
                user_doc("jdoe", "Jane Doe", "jane.doe@example.com"),
                {"tree": "property[address]"},
            ),
        ],
    )


def main() -> None:
    app = lambda sha: [build_data(sha, APP_REMOTE, number=42)]
    api_build("api_success.yaml", 42, result="SUCCESS", duration=312456, causes=[SCM_CAUSE])
    api_build("api_failure.yaml", 43, result="FAILURE", duration=75012, causes=[TIMER_CAUSE])
    api_build("api_aborted.yaml", 44, result="ABORTED", duration=15999, causes=[INDEXING_CAUSE])
    api_build("api_unstable.yaml", 45, result="UNSTABLE", duration=401200, causes=[SCM_CAUSE])
    api_build(
        "api_running.yaml",
        46,
        result=None,
        duration=0,
        causes=[SCM_CAUSE],
        building=True,
        wfapi="IN_PROGRESS",
    )
    api_build(
        "api_paused_for_input.yaml",
        47,
        result=None,
        duration=0,
        causes=[SCM_CAUSE],
        building=True,
        wfapi="PAUSED_PENDING_INPUT",
    )
    api_build(
        "api_shared_library_first.yaml",
        48,
        result="SUCCESS",
        duration=200000,
        causes=[SCM_CAUSE],
        revisions=[
            build_data("1111111111111111111111111111111111111111", LIB_REMOTE, number=12),
            *app("0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"),
        ],
    )
    api_build(
        "api_user_triggered.yaml",
        49,
        result="SUCCESS",
        duration=120000,
        causes=[USER_CAUSE],
        users=[("jdoe", "Jane Doe", "jane.doe@example.com")],
    )
    api_build(
        "api_user_without_email.yaml",
        50,
        result="SUCCESS",
        duration=120000,
        causes=[
            {
                **USER_CAUSE,
                "userId": "ci-bot",
                "userName": "CI Bot",
                "shortDescription": "Started by user CI Bot",
            }
        ],
        users=[("ci-bot", "CI Bot", None)],
    )
    api_build(
        "api_upstream_triggered.yaml", 51, result="SUCCESS", duration=99000, causes=[UPSTREAM_CAUSE]
    )
    multibranch()
    error_cassette(
        "api_unauthorized.yaml",
        401,
        "<html><head><title>Error 401 Unauthorized</title></head><body><h2>HTTP ERROR 401 Unauthorized</h2>"
        "<table><tr><th>URI:</th><td>/job/payments/job/api/42/api/json</td></tr><tr><th>STATUS:</th><td>401</td></tr>"
        "<tr><th>MESSAGE:</th><td>Unauthorized</td></tr></table></body></html>",
        {"WWW-Authenticate": ['Basic realm="Jenkins"']},
    )
    error_cassette(
        "api_forbidden.yaml",
        403,
        "<html><head><title>Error 403 Forbidden</title></head><body><h2>HTTP ERROR 403 "
        "jdoe is missing the Overall/Read permission</h2></body></html>",
        {
            "X-You-Are-Authenticated-As": ["jdoe"],
            "X-Required-Permission": ["hudson.model.Hudson.Read"],
        },
    )
    history_over_100()
    history_folder()
    rate_limited()
    literal_words()
    history_other_root()
    freestyle()


if __name__ == "__main__":
    main()
