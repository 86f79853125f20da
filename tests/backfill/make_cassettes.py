"""Write the modelled ``backfill_*.yaml`` cassettes of cassettes/<ci>/ used by tests/backfill.

Run: ``uv run python tests/backfill/make_cassettes.py``. MODELLED, not recorded (no CI server was
reachable): the shapes follow the adapters' own history cassettes in the same folders (see each
folder's README.md for their sources); the request URIs are the ones the adapters send with the
settings the tests use (Jenkins pages of 100, GitLab ``per_page=10``, Azure ``$top=100``).
Every ``*_cut.yaml`` is the same history with the server failing part-way (a 502/503 on a later
page): the interrupted run of the resume tests. Credentials appear only as ``REDACTED``.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"


def _iso(epoch: float, fraction: str = "") -> str:
    text = datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + fraction + "Z"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _write(folder: str, name: str, interactions: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump(
        {"interactions": interactions, "version": 1},
        sort_keys=False,
        width=1000,
        allow_unicode=True,
    )
    (CASSETTES / folder / name).write_text(text, encoding="utf-8")


# --- Jenkins: folder "ops" with three jobs (one over 100 builds) ------------------------------


def _generator(folder: str) -> Any:
    """The ``make_cassettes.py`` module of ``cassettes/<folder>/`` (its shapes and helpers)."""
    spec = importlib.util.spec_from_file_location(
        f"{folder}_make_cassettes", CASSETTES / folder / "make_cassettes.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jenkins_helpers() -> Any:
    return _generator("jenkins")


JENKINS_H0 = 1_762_000_000_000  # 2025-11-01T12:26:40Z
JENKINS_JOBS = {"deploy-eu": 130, "deploy-us": 45, "deploy-ap": 20}
#: Folder "rel" of the running-build scenario: rel/api#3 runs in run 1, has finished by run 2.
RELEASE = {"api": 6, "web": 4}


def jenkins_rows(
    m: Any,
    url: str,
    job_index: int,
    count: int,
    building: frozenset[int] | None = None,
    odd: bool = True,
) -> list[dict[str, Any]]:
    """Builds newest first. Per job: ``building`` running (default: #count); with ``odd``, #5
    NOT_BUILT and #7 without a revision."""
    running = frozenset({count}) if building is None else building
    rows = []
    for n in range(count, 0, -1):
        kwargs: dict[str, Any] = {}
        if n in running:
            kwargs["building"] = True
        elif n == 5 and odd:
            kwargs["result"] = "NOT_BUILT"
        elif n % 6 == 0:
            kwargs["result"] = "FAILURE"
        elif n % 17 == 0:
            kwargs["result"] = "ABORTED"
        elif n % 13 == 0:
            kwargs["result"] = "UNSTABLE"
        if n == 7 and odd:
            kwargs["revisions"] = []  # BuildData without a revision: no commit SHA
        row = m.history_row(url, n, **kwargs)
        row["actions"] = [a for a in row["actions"] if a is not None]
        if n != 7 or not odd:
            sha = f"{job_index:02d}{n:04d}" + "c0ffee" * 6 + "ab"
            for action in row["actions"]:
                if action.get("lastBuiltRevision"):
                    action["lastBuiltRevision"]["SHA1"] = sha[:40]
                    action["remoteUrls"] = ["https://github.com/acme/ops-deploy.git"]
        row["timestamp"] = JENKINS_H0 + ((n - 1) * 3 + job_index) * 3600 * 1000
        rows.append(row)
    return rows


def jenkins(
    cut: bool,
    folder: str = "ops",
    jobs: dict[str, int] = JENKINS_JOBS,
    building: dict[str, frozenset[int]] | None = None,
) -> list[dict[str, Any]]:
    """Folder ``folder`` with ``jobs`` (name -> builds); ``building``: running builds per job
    (default: each job's newest, with the odd builds #5 and #7 of :func:`jenkins_rows`)."""
    m = _jenkins_helpers()
    tree = {"tree": "_class,name,fullName,url,jobs[name,url]"}
    top = m.job_url(folder)
    wf = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
    interactions = [
        m.json_interaction(
            f"{top}api/json",
            {
                "_class": "com.cloudbees.hudson.plugins.folder.Folder",
                "fullName": folder,
                "name": folder,
                "url": top,
                "jobs": [
                    {"_class": wf, "name": name, "url": m.job_url(folder, name)} for name in jobs
                ],
            },
            tree,
        )
    ]
    for name in jobs:
        url = m.job_url(folder, name)
        doc = {"_class": wf, "fullName": f"{folder}/{name}", "name": name, "url": url}
        interactions.append(m.json_interaction(f"{url}api/json", doc, tree))
    for index, (name, count) in enumerate(jobs.items()):
        url = m.job_url(folder, name)
        if building is None:
            rows = jenkins_rows(m, url, index, count)
        else:
            rows = jenkins_rows(m, url, index, count, building.get(name, frozenset()), odd=False)
        for start in range(0, count, 100):
            params = {"tree": f"allBuilds[{m.HISTORY_FIELDS}]{{{start},{start + 100}}}"}
            if cut and name == "deploy-ap":
                body = "<html><body><h2>Jenkins is restarting</h2></body></html>"
                failed = m.response(body, "text/html;charset=utf-8", 200)
                failed["status"] = {"code": 503, "message": "Service Unavailable"}
                interactions.append(
                    {"request": m.request(f"{url}api/json", params), "response": failed}
                )
                continue
            page = {"_class": wf, "allBuilds": rows[start : start + 100]}
            interactions.append(m.json_interaction(f"{url}api/json", page, params))
    return interactions


# --- GitLab: project 7, 42 deployments, pages of 10 ---------------------------------------------

GITLAB = "https://gitlab.example.com/api/v4"
GITLAB_SINCE = "2025-11-01T00:00:00Z"
GITLAB_T0 = 1_762_070_400  # 2025-11-02T08:00:00Z
GITLAB_COUNT = 42
GITLAB_PER_PAGE = 10


def gitlab_deployment(i: int) -> dict[str, Any]:
    """Deployment 1000+i. Statuses: failed, canceled, one running (#20), one blocked (#33),
    one without a SHA (#13); even ones to staging, odd ones to production."""
    start = GITLAB_T0 + i * 7200
    status = "success"
    if i % 9 == 4:
        status = "failed"
    elif i % 11 == 6:
        status = "canceled"
    if i == 20:
        status = "running"
    if i == 33:
        status = "blocked"
    finished = status not in {"running", "blocked"}
    updated = start + (200 + i if finished else 1)
    env = ("staging", "staging") if i % 2 == 0 else ("production", "production")
    sha = None if i == 13 else f"{i:02d}" + "5eed" * 9 + "ab"
    user = {"id": 12, "username": "jdoe" if i % 3 else "rsmith", "name": "A User"}
    job_status = {"blocked": "manual"}.get(status, status)
    return {
        "id": 1000 + i,
        "iid": 300 + i,
        "ref": "main",
        "sha": sha,
        "created_at": _iso(start - 60, ".000"),
        "updated_at": _iso(updated, ".500"),
        "finished_at": _iso(updated, ".400") if finished else None,
        "status": status,
        "user": user,
        "environment": {"id": 3 if env[0] == "staging" else 4, "name": env[0], "tier": env[1]},
        "deployable": {
            "id": 20000 + i,
            "status": job_status,
            "stage": "deploy",
            "name": f"deploy-{env[0]}",
            "ref": "main",
            "created_at": _iso(start - 60, ".000"),
            "started_at": None if status == "blocked" else _iso(start, ".000"),
            "finished_at": _iso(updated, ".300") if finished else None,
            "duration": (200 + i) if finished else None,
            "user": user,
            "web_url": f"https://gitlab.example.com/acme/shop/web/-/jobs/{20000 + i}",
            "pipeline": {
                "id": 5000 + i,
                "sha": sha,
                "ref": "main",
                "status": status,
                "source": "push",
                "web_url": f"https://gitlab.example.com/acme/shop/web/-/pipelines/{5000 + i}",
            },
        },
    }


def _gitlab_headers(extra: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    headers = {
        "Cache-Control": ["max-age=0, private, must-revalidate"],
        "Content-Type": ["application/json"],
        "Date": ["Sat, 29 Nov 2025 07:16:40 GMT"],
        "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["SAMEORIGIN"],
    }
    headers.update(extra or {})
    return headers


def _gitlab_request(uri: str) -> dict[str, Any]:
    return {
        "body": None,
        "headers": {
            "Accept": ["*/*"],
            "Accept-Encoding": ["gzip, deflate"],
            "Connection": ["keep-alive"],
            "Content-type": ["application/json"],
            "User-Agent": ["python-gitlab/8.0.0"],
            "PRIVATE-TOKEN": ["REDACTED"],
        },
        "method": "GET",
        "uri": uri,
    }


def _gitlab_interaction(uri: str, doc: Any, status: int = 200, headers: Any = None) -> dict:
    messages = {200: "OK", 429: "Too Many Requests", 502: "Bad Gateway"}
    return {
        "request": _gitlab_request(uri),
        "response": {
            "body": {"string": json.dumps(doc, separators=(",", ":"))},
            "headers": _gitlab_headers(headers),
            "status": {"code": status, "message": messages[status]},
        },
    }


def gitlab_listing(updated_after: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages of one deployments listing, linked with ``Link: rel="next"``."""
    base = f"{GITLAB}/projects/7/deployments"
    common = {"order_by": "updated_at", "sort": "asc", "updated_after": updated_after}
    pages = [items[i : i + GITLAB_PER_PAGE] for i in range(0, len(items), GITLAB_PER_PAGE)]

    def link(n: int) -> str:
        return f"{base}?{urlencode({'id': 7, **common, 'page': n, 'per_page': GITLAB_PER_PAGE})}"

    out = []
    for number, page in enumerate(pages, start=1):
        if number == 1:
            uri = f"{base}?{urlencode({**common, 'per_page': GITLAB_PER_PAGE})}"
        else:
            uri = f"{base}?{urlencode({'id': 7, **common, 'page': number, 'per_page': GITLAB_PER_PAGE})}"
        links = [f'<{link(1)}>; rel="first"', f'<{link(len(pages))}>; rel="last"']
        if number < len(pages):
            links.insert(0, f'<{link(number + 1)}>; rel="next"')
        headers = {
            "Link": [", ".join(links)],
            "X-Next-Page": [str(number + 1) if number < len(pages) else ""],
            "X-Page": [str(number)],
            "X-Per-Page": [str(GITLAB_PER_PAGE)],
            "X-Total": [str(len(items))],
            "X-Total-Pages": [str(len(pages))],
            "RateLimit-Limit": ["2000"],
            "RateLimit-Remaining": [str(1999 - number)],
            "RateLimit-Reset": ["1764400660"],
        }
        out.append(_gitlab_interaction(uri, page, headers=headers))
    return out


def gitlab(kind: str) -> list[dict[str, Any]]:
    project = {
        "id": 7,
        "name": "web",
        "path": "web",
        "path_with_namespace": "acme/shop/web",
        "default_branch": "main",
        "web_url": "https://gitlab.example.com/acme/shop/web",
    }
    deployments = [gitlab_deployment(i) for i in range(GITLAB_COUNT)]
    deployments.sort(key=lambda d: (d["updated_at"], d["id"]))
    interactions = [_gitlab_interaction(f"{GITLAB}/projects/acme%2Fshop%2Fweb", project)]
    full = gitlab_listing(GITLAB_SINCE, deployments)
    if kind == "cut":  # page 4 fails: Bad Gateway
        bad = _gitlab_interaction(full[3]["request"]["uri"], {"message": "502 Bad Gateway"}, 502)
        return interactions + full[:3] + [bad]
    if kind == "rate_limited":  # page 2 first refused with 429 + Retry-After, then served
        limited = _gitlab_interaction(
            full[1]["request"]["uri"],
            {"message": "429 Too Many Requests"},
            429,
            {"Retry-After": ["1"], "RateLimit-Remaining": ["0"], "RateLimit-Reset": ["1764400601"]},
        )
        return [*interactions, full[0], limited, *full[1:]]
    # the full history, and the listing a run cut after page 3 resumes with: its checkpoint
    # stays just before deployment #20, still running (updated_after one second before it)
    running = next(d for d in deployments if d["id"] == 1020)
    resumed_after = _iso(int(_epoch(running["updated_at"])) - 1)
    rest = [d for d in deployments if _epoch(d["updated_at"]) > _epoch(resumed_after)]
    return interactions + full + gitlab_listing(resumed_after, rest)


def gitlab_running(run: int) -> list[dict[str, Any]]:
    """Six deployments; #2 runs in run 1 and has finished by run 2 (its ``updated_at`` moves
    past the others'). Run 2 lists from one second before #2's old ``updated_at``, where the
    checkpoint of run 1 stays."""
    deployments = [gitlab_deployment(i) for i in range(6)]
    first = dict(deployments[2], status="running", finished_at=None)
    first["updated_at"] = _iso(GITLAB_T0 + 2 * 7200 + 1, ".500")
    first["deployable"] = dict(first["deployable"], status="running", finished_at=None)
    first["deployable"]["duration"] = None
    project = _gitlab_interaction(
        f"{GITLAB}/projects/acme%2Fshop%2Fweb", {"id": 7, "path_with_namespace": "acme/shop/web"}
    )
    if run == 1:
        items = [*deployments[:2], first, *deployments[3:]]
        return [project, *gitlab_listing(GITLAB_SINCE, items)]
    done = dict(deployments[2], updated_at=_iso(GITLAB_T0 + 6 * 7200, ".250"))
    resumed_after = _iso(int(_epoch(first["updated_at"])) - 1)
    return [project, *gitlab_listing(resumed_after, [*deployments[3:], done])]


# --- Azure DevOps: 230 builds of definitions 12 and 14, pages of 100 -----------------------------

AZURE = "https://dev.azure.com/contoso/"
AZURE_T0 = 1_762_000_000  # 2025-11-01T12:26:40Z
AZURE_COUNT = 230


def azure_build(i: int) -> dict[str, Any]:
    """Build 30000+i, one an hour. Results: succeeded, partiallySucceeded, failed, canceled;
    #50 still in progress, #120 canceled before it started (no startTime), #77 no sourceVersion."""
    start = AZURE_T0 + i * 3600
    status, result = "completed", "succeeded"
    if i % 7 == 3:
        result = "failed"
    elif i % 19 == 5:
        result = "canceled"
    elif i % 23 == 11:
        result = "partiallySucceeded"
    if i == 50:
        status, result = "inProgress", None
    definition = 12 if i % 3 else 14
    build: dict[str, Any] = {
        "id": 30000 + i,
        "buildNumber": f"202511.{i}",
        "status": status,
        "result": result,
        "queueTime": _iso(start - 9, ".1234567"),
        "startTime": _iso(start, ".5000000"),
        "finishTime": _iso(start + 300 + i, ".2500000") if status == "completed" else None,
        "definition": {"id": definition, "name": f"fabrikam-{definition}", "path": "\\"},
        "project": {"id": "5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e", "name": "Fabrikam Web"},
        "sourceBranch": "refs/heads/main",
        "sourceVersion": None if i == 77 else f"{i:03d}" + "a2b" * 12 + "f",
        "reason": "individualCI",
        "requestedFor": {"displayName": "Dana Whitfield", "uniqueName": "dana@contoso.com"},
        "repository": {
            "id": "0f7a3c9e-2b4d-4e8f-a1c6-9d3b5e7f1a2c",
            "type": "TfsGit",
            "name": "fabrikam-web",
        },
        "_links": {
            "web": {
                "href": f"{AZURE}5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e/_build/results?buildId={30000 + i}"
            }
        },
    }
    if i == 120:
        build.update(startTime=None, finishTime=_iso(start + 5), result="canceled")
    return build


def _azure_interaction(
    params: dict[str, Any],
    doc: Any,
    status: int = 200,
    token: str = "",
    path: str = "_apis/build/builds",
) -> dict:
    uri = f"{AZURE}Fabrikam%20Web/{path}?{urlencode(params)}"
    headers = {
        "Cache-Control": ["no-cache"],
        "Content-Type": ["application/json; charset=utf-8; api-version=7.1"],
        "Date": ["Sat, 29 Nov 2025 09:40:12 GMT"],
        "X-VSS-UserData": ["REDACTED"],
        "ActivityId": ["421479ef-66b1-29cd-d509-e140319b1cda"],
    }
    if token:
        headers["x-ms-continuationtoken"] = [token]
    messages = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}
    return {
        "request": {
            "body": "",
            "headers": {
                "Accept": ["application/json"],
                "Accept-Encoding": ["gzip, deflate"],
                "Authorization": ["REDACTED"],
                "Connection": ["keep-alive"],
                "Host": ["dev.azure.com"],
                "User-Agent": ["customcd-azure-devops"],
            },
            "method": "GET",
            "uri": uri,
        },
        "response": {
            "body": {"string": json.dumps(doc, separators=(",", ":"))},
            "headers": headers,
            "status": {"code": status, "message": messages[status]},
        },
    }


AZURE_SINCE = "2025-11-01T00:00:00Z"
AZURE_UNTIL = "2025-12-01T00:00:00Z"


def azure_listing(min_time: str, builds: list[dict[str, Any]], cut: bool = False) -> list[dict]:
    params = {
        "minTime": min_time,
        "maxTime": AZURE_UNTIL,
        "queryOrder": "startTimeAscending",
        "$top": 100,
        "definitions": "12,14",
        "api-version": "7.1",
    }
    out = []
    token = None
    for start in range(0, len(builds), 100):
        page = builds[start : start + 100]
        query = dict(params, continuationToken=token) if token else params
        more = start + 100 < len(builds)
        if cut and start >= 200:
            doc = {
                "message": "The service is temporarily unavailable.",
                "typeKey": "ServiceUnavailable",
            }
            out.append(_azure_interaction(query, doc, 503))
            break
        nxt = builds[start + 100]["startTime"] if more else ""
        out.append(_azure_interaction(query, {"count": len(page), "value": page}, token=nxt))
        token = nxt
    return out


def azure(cut: bool) -> list[dict[str, Any]]:
    builds = [azure_build(i) for i in range(AZURE_COUNT)]
    full = azure_listing(AZURE_SINCE, builds, cut=cut)
    if cut:
        return full
    # a run cut after page 2 resumes at build #50's start: #50 was still in progress, so the
    # checkpoint stayed just before it
    resume_start = AZURE_T0 + 50 * 3600
    rest = builds[50:]
    return full + azure_listing(_iso(resume_start), rest)


def azure_running(run: int) -> list[dict[str, Any]]:
    """Six builds; #2 is in progress in run 1 and has finished by run 2, which lists from #2's
    start (the checkpoint of run 1 stays just before it)."""
    builds = [azure_build(i) for i in range(6)]
    if run == 1:
        builds[2] = dict(builds[2], status="inProgress", result=None, finishTime=None)
        return azure_listing(AZURE_SINCE, builds)
    return azure_listing(_iso(AZURE_T0 + 2 * 3600), builds[2:])


# --- Azure DevOps: deployment records of environment "production" (id 3) -------------------------

AZURE_PROJECT_ID = "5a8c2d4e-7b1f-4c3a-9e6d-2f0b8a1c4d7e"
AZURE_PREVIEW = "7.1-preview.1"


def azure_record(record_id: int, run: int, start: int, finished: bool = True, **extra: Any) -> dict:
    """An ``EnvironmentDeploymentExecutionRecord`` of run ``run`` (stage Deploy_Prod)."""
    web = f"{AZURE}{AZURE_PROJECT_ID}/_build/results?buildId={run}"
    record = {
        "id": record_id,
        "requestIdentifier": f"{record_id:08x}-24a4-0f3d-a83b-15c818b32e2e",
        "environmentId": 3,
        "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
        "scopeId": AZURE_PROJECT_ID,
        "resourceId": 0,
        "planType": "Build",
        "planId": f"{run:08x}-cfd8-dc6c-4b48-9d4c2fbb694c",
        "stageName": "Deploy_Prod",
        "jobName": "DeployWeb",
        "stageAttempt": 1,
        "jobAttempt": 1,
        "definition": {"_links": {}, "id": 14, "name": "fabrikam-web-deploy"},
        "owner": {"_links": {"web": {"href": web}}, "id": run, "name": f"20251102.{run % 100}"},
        "result": "succeeded" if finished else None,
        "queueTime": _iso(start - 2, ".2933333"),
        "startTime": _iso(start, ".1000000"),
    }
    if finished:
        record["finishTime"] = _iso(start + 240, ".9233333")
    record.update(extra)
    return record


def azure_run(run: int, start: int) -> dict[str, Any]:
    """``GET builds/{run}``: the run behind a deployment record."""
    build = azure_build(run - 20900)
    build.update(id=run, startTime=_iso(start - 300, ".5000000"), status="completed")
    build.update(finishTime=_iso(start + 600, ".2500000"), result="succeeded")
    build["sourceVersion"] = f"{run:05d}" + "d3c0de" * 5 + "beef5"
    return build


def _azure_get(path: str, params: dict[str, Any], doc: Any, status: int = 200, token: str = ""):
    return _azure_interaction(params, doc, status, token, path=path)


#: Deployment jobs of stage Deploy_Prod: YAML name -> (display name, number in its job GUID).
AZURE_JOBS = {"DeployWeb": ("Deploy web app", 1), "DeployApi": ("Deploy API", 2)}


def azure_job_guid(run: int, job: str) -> str:
    """The timeline record id of a deployment job of a run (``System.JobId`` in that job)."""
    return f"{run:08x}-5e1d-4c0b-9a7f-{AZURE_JOBS[job][1]:012x}"


def azure_job_start(record: dict[str, Any]) -> str:
    """When the job of a deployment record started by the run's timeline: 2 s after the record."""
    return _iso(int(_epoch(record["startTime"])) + 2, ".4100000")


def azure_timeline(run: int, records: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET builds/{run}/timeline``: stage Deploy_Prod and, per record, its phase and job."""
    stage_id = f"{run:08x}-5e1d-4c0b-9a7f-000000000000"
    first = min(_epoch(r["startTime"]) for r in records)
    entries: list[dict[str, Any]] = [
        {
            "previousAttempts": [],
            "id": stage_id,
            "parentId": None,
            "type": "Stage",
            "name": "Deploy to production",
            "identifier": "Deploy_Prod",
            "attempt": 1,
            "state": "completed",
            "result": "succeeded",
            "startTime": _iso(int(first) - 5, ".0133333"),
            "order": 2,
        }
    ]
    for record in records:
        job = record["jobName"]
        display, number = AZURE_JOBS[job]
        finished = record.get("result") is not None
        common = {
            "previousAttempts": [],
            "name": display,
            "attempt": record["jobAttempt"],
            "state": "completed" if finished else "inProgress",
            "result": record.get("result"),
            "startTime": azure_job_start(record),
            "finishTime": record.get("finishTime"),
            "order": number,
        }
        phase_id = f"{run:08x}-5e1d-4c0b-9a7f-{number + 100:012x}"
        entries.append(
            {
                **common,
                "id": phase_id,
                "parentId": stage_id,
                "type": "Phase",
                "identifier": f"Deploy_Prod.{job}",
            }
        )
        entries.append(
            {
                **common,
                "id": azure_job_guid(run, job),
                "parentId": phase_id,
                "type": "Job",
                "identifier": f"Deploy_Prod.{job}.{job}",
            }
        )
    return {"records": entries, "id": f"{run:08x}-cfd8-dc6c-4b48-9d4c2fbb694c", "changeId": 12}


def azure_environment(records: list[dict[str, Any]]) -> list[dict]:
    """Environment ``production`` (id 3): its records (newest first), and the run (one GET)
    and timeline (one GET) behind each finished one."""
    preview = {"api-version": AZURE_PREVIEW}
    environments = {"count": 1, "value": [{"id": 3, "name": "production"}]}
    out = [
        _azure_get(
            "_apis/distributedtask/environments", {"name": "production", **preview}, environments
        ),
        _azure_get(
            "_apis/distributedtask/environments/3/environmentdeploymentrecords",
            {"top": 100, **preview},
            {"count": len(records), "value": records},
        ),
    ]
    runs: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        if record.get("result") is not None:
            runs.setdefault(record["owner"]["id"], []).append(record)
    for run, its in runs.items():
        start = int(min(_epoch(r["startTime"]) for r in its))
        out.append(
            _azure_get(f"_apis/build/builds/{run}", {"api-version": "7.1"}, azure_run(run, start))
        )
        out.append(
            _azure_get(
                f"_apis/build/builds/{run}/timeline",
                {"api-version": "7.1"},
                azure_timeline(run, its),
            )
        )
    return out


AZURE_D0 = 1_762_070_400  # 2025-11-02T08:00:00Z


def azure_deployments_running(run: int) -> list[dict[str, Any]]:
    """Records 5003-5005 (runs 20963-20965, one a day). Run 1: 5005, the newest, still runs.
    Run 2: 5005 has finished and 5006 (run 20966) is new."""
    starts = {20960 + n: AZURE_D0 + (n - 3) * 86400 for n in range(3, 7)}
    records = [azure_record(5000 + n, 20960 + n, starts[20960 + n]) for n in (5, 4, 3)]
    if run == 1:
        records[0] = azure_record(5005, 20965, starts[20965], finished=False)
        return azure_environment(records)
    records.insert(0, azure_record(5006, 20966, starts[20966]))
    return azure_environment(records)


AZURE_TWO_JOBS_RUN = 20970


def azure_two_jobs_records() -> list[dict[str, Any]]:
    """Run 20970 deploys to ``production`` with two deployment jobs of stage Deploy_Prod,
    DeployApi (record 5102) and DeployWeb (5101), started within the same second."""
    start = AZURE_D0 + 10 * 86400
    run = AZURE_TWO_JOBS_RUN
    api = azure_record(5102, run, start, jobName="DeployApi", startTime=_iso(start, ".6000000"))
    return [api, azure_record(5101, run, start)]


def azure_two_jobs_step() -> list[dict[str, Any]]:
    """Step mode in run 20970's DeployWeb job reads the run's timeline (the job's start)."""
    run = AZURE_TWO_JOBS_RUN
    timeline = azure_timeline(run, azure_two_jobs_records())
    return [_azure_get(f"_apis/build/builds/{run}/timeline", {"api-version": "7.1"}, timeline)]


def main() -> None:
    _write("jenkins", "backfill_jenkins_ops.yaml", jenkins(cut=False))
    _write("jenkins", "backfill_jenkins_ops_cut.yaml", jenkins(cut=True))
    _write("gitlab", "backfill_gitlab_deployments.yaml", gitlab("full"))
    _write("gitlab", "backfill_gitlab_deployments_cut.yaml", gitlab("cut"))
    _write("gitlab", "backfill_gitlab_rate_limited.yaml", gitlab("rate_limited"))
    _write("azure_devops", "backfill_azure_builds.yaml", azure(cut=False))
    _write("azure_devops", "backfill_azure_builds_cut.yaml", azure(cut=True))
    running = {"api": frozenset({3})}
    _write("jenkins", "backfill_jenkins_running_1.yaml", jenkins(False, "rel", RELEASE, running))
    _write("jenkins", "backfill_jenkins_running_2.yaml", jenkins(False, "rel", RELEASE, {}))
    two_jobs = azure_environment(azure_two_jobs_records())
    _write("azure_devops", "backfill_azure_deployments_two_jobs.yaml", two_jobs)
    _write("azure_devops", "step_azure_deploy_web.yaml", azure_two_jobs_step())
    for run in (1, 2):
        _write("gitlab", f"backfill_gitlab_running_{run}.yaml", gitlab_running(run))
        _write("azure_devops", f"backfill_azure_running_{run}.yaml", azure_running(run))
        _write(
            "azure_devops",
            f"backfill_azure_deployments_running_{run}.yaml",
            azure_deployments_running(run),
        )
    # the bodies above give each scenario's values; the folders' generators put them on the
    # real shapes of each CI's API (see each folder's README.md)
    _generator("azure_devops").reshape_folder()
    _generator("gitlab").reshape_folder()


if __name__ == "__main__":
    main()
