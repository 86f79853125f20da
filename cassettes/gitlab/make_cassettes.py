"""Rebuild the GitLab cassettes of this folder on the real REST v4 shapes.

Run: ``uv run python cassettes/gitlab/make_cassettes.py`` (``tests/backfill/make_cassettes.py``
writes the ``backfill_gitlab_*`` scenarios and then calls :func:`reshape_folder` itself).

Two parts:

* :func:`reshape_folder` re-renders every body and pagination header of every cassette here
  (the scenario's values are kept; the key sets are GitLab's):

  - a deployment has exactly the fields of ``lib/api/entities/deployment.rb`` (``id``, ``iid``,
    ``ref``, ``sha``, ``created_at``, ``updated_at``, ``user``, ``environment``, ``deployable``,
    ``status``; no ``finished_at``), its environment those of
    ``lib/api/entities/environment_basic.rb`` (no ``tier``), its user ``UserBasic``'s; the
    examples of ``doc/api/deployments.md`` (gitlabhq) and python-gitlab's
    ``tests/unit/objects/test_deployments.py``;
  - a job or trigger job: ``lib/api/entities/ci/job_basic.rb`` / ``job.rb`` and the examples of
    ``doc/api/jobs.md`` ("List pipeline jobs", "List pipeline bridges") and python-gitlab's
    ``test_jobs.py`` / ``test_bridges.py`` (``failure_reason`` only on failed jobs);
  - a pipeline: ``doc/api/pipelines.md`` ("Get a single pipeline", "List project pipelines");
  - the offset pagination headers of ``lib/gitlab/pagination/offset_header_builder.rb``:
    ``X-Per-Page``, ``X-Page``, ``X-Next-Page``, ``X-Prev-Page``, ``Link`` (prev/next/first/last),
    ``X-Total``, ``X-Total-Pages``. Link URLs are the request's URL with GitLab's configured
    host and port (``external_url``), and a query of every request parameter, route ones
    included (``id``, ``pipeline_id``), sorted (Rails' ``to_query``), booleans as Grape coerced
    them (``true``/``false``).

* :func:`main` also writes the scenarios added for issue 17: a GitLab whose ``external_url``
  differs from the address used, with a list past 10,000 items (no ``X-Total``/``X-Total-Pages``
  nor ``rel="last"``: ``data_without_counts``) and a deployment created through the Deployments
  API (``deployable: null``, "Create a deployment" in ``doc/api/deployments.md``); a multi-project
  trigger job whose ``downstream_pipeline`` has no ``project_id`` (the documented bridge shape);
  a group's projects with keyset pagination (``pagination=keyset&order_by=id``, the
  ``rest/_index.md`` "Keyset-based pagination" section), and a GitLab that refuses it.

MODELLED, not recorded (no GitLab instance was reachable); README.md names the source of every
body. Credentials appear only as ``REDACTED``.
"""

# ruff: noqa: D103 - a generator script; each function names the document it follows

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import yaml

HERE = Path(__file__).resolve().parent
HOST = "https://gitlab.example.com"
API = f"{HOST}/api/v4"
USER_AGENT = "python-gitlab/8.6.0"

# --- shapes ---------------------------------------------------------------------------------------

#: ``UserBasic`` (deployments' ``user``).
USER_BASIC = ("id", "username", "name", "state", "locked", "avatar_url", "web_url")
#: ``EnvironmentBasic`` (a deployment's ``environment``).
ENVIRONMENT_BASIC = ("id", "name", "slug", "external_url", "created_at", "updated_at")
#: ``Deployment``.
DEPLOYMENT = ("id", "iid", "ref", "sha", "created_at", "updated_at", "user", "environment", "deployable", "status")
#: Premium/Ultimate additions to a deployment created by a user (deployments.md).
DEPLOYMENT_PREMIUM = ("pending_approval_count", "approvals", "approval_summary")
#: ``Ci::Job`` = ``JobBasic`` + artifacts, runner... (failure_reason/erased_at/project as served).
JOB = (
    "id", "status", "stage", "name", "ref", "tag", "coverage", "allow_failure", "created_at",
    "started_at", "finished_at", "erased_at", "duration", "queued_duration", "user", "commit",
    "pipeline", "failure_reason", "web_url", "project", "artifacts_file", "artifacts", "runner",
    "runner_manager", "artifacts_expire_at", "archived", "tag_list",
)
#: ``Ci::Bridge``: ``JobBasic`` + ``downstream_pipeline``.
BRIDGE = (
    "id", "status", "stage", "name", "ref", "tag", "coverage", "allow_failure", "created_at",
    "started_at", "finished_at", "erased_at", "duration", "queued_duration", "user", "commit",
    "pipeline", "failure_reason", "web_url", "project", "downstream_pipeline",
)
#: ``Ci::PipelineBasic`` (a job's ``pipeline``, list items, a bridge's ``downstream_pipeline``).
PIPELINE_BASIC = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")


def _pick(doc: dict[str, Any], keys: tuple[str, ...], *, drop_absent: bool = True) -> dict[str, Any]:
    return {k: doc.get(k) for k in keys if k in doc or not drop_absent}


def user_basic(user: Any) -> Any:
    if not isinstance(user, dict):
        return user
    shaped = {k: user.get(k) for k in USER_BASIC}
    shaped["locked"] = bool(user.get("locked", False))
    return shaped


def environment_basic(environment: Any) -> Any:
    if not isinstance(environment, dict):
        return environment
    name = str(environment.get("name") or "")
    shaped = {
        "id": environment.get("id"),
        "name": name,
        "slug": environment.get("slug") or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
        "external_url": environment.get("external_url"),
        "created_at": environment.get("created_at") or "2024-02-01T10:00:00.000Z",
        "updated_at": environment.get("updated_at") or "2025-11-24T09:00:00.000Z",
    }
    return shaped


def job_shape(job: Any, keys: tuple[str, ...] = JOB) -> Any:
    if not isinstance(job, dict):
        return job
    shaped: dict[str, Any] = {}
    for key in keys:
        if key == "failure_reason":
            if str(job.get("status")) == "failed":
                shaped[key] = job.get(key) or "script_failure"
            continue
        if key == "artifacts_file":
            if job.get(key):
                shaped[key] = job[key]
            continue
        if key in {"runner_manager"} and key not in job:
            continue
        if key == "project":
            shaped[key] = job.get(key) or {"ci_job_token_scope_enabled": False}
            continue
        if key == "pipeline":
            shaped[key] = _pick(job.get(key) or {}, PIPELINE_BASIC)
            continue
        shaped[key] = job.get(key, [] if key in {"artifacts", "tag_list"} else (False if key in {"tag", "allow_failure", "archived"} else None))
    return shaped


def deployment_shape(deployment: dict[str, Any]) -> dict[str, Any]:
    shaped = {
        "id": deployment.get("id"),
        "iid": deployment.get("iid"),
        "ref": deployment.get("ref"),
        "sha": deployment.get("sha"),
        "created_at": deployment.get("created_at"),
        "updated_at": deployment.get("updated_at"),
        "user": user_basic(deployment.get("user")),
        "environment": environment_basic(deployment.get("environment")),
        "deployable": job_shape(deployment.get("deployable")),
        "status": deployment.get("status"),
    }
    if shaped["iid"] is None:
        shaped["iid"] = int(shaped["id"] or 0) % 1000
    for key in DEPLOYMENT_PREMIUM:
        if key in deployment:
            shaped[key] = deployment[key]
    return shaped


def bridge_shape(bridge: dict[str, Any]) -> dict[str, Any]:
    shaped = job_shape(bridge, BRIDGE)
    downstream = bridge.get("downstream_pipeline")
    shaped["downstream_pipeline"] = (
        {k: downstream.get(k) for k in PIPELINE_BASIC if k in downstream}
        if isinstance(downstream, dict)
        else None
    )
    return shaped


# --- pagination headers (offset_header_builder.rb) -----------------------------------------------

_ROUTES = [
    (re.compile(r"/api/v4/projects/([^/]+)/pipelines/(\d+)/(jobs|bridges)$"), ("id", "pipeline_id")),
    (re.compile(r"/api/v4/projects/([^/?]+)/(deployments|pipelines|environments)$"), ("id",)),
    (re.compile(r"/api/v4/groups/([^/]+)/projects$"), ("id",)),
]


def _route_params(path: str) -> dict[str, str]:
    for pattern, names in _ROUTES:
        match = pattern.search(path)
        if match:
            return {name: match.group(i + 1).replace("%2F", "/") for i, name in enumerate(names)}
    return {}


def _grape(value: str) -> str:
    """A parameter as Grape coerced it (python-gitlab sends Python's ``True``/``False``)."""
    return {"True": "true", "False": "false"}.get(value, value)


def page_href(request_uri: str, page: int, external: str = HOST, extra: dict[str, str] | None = None) -> str:
    """The URL of ``page``: the request's path on the configured host, every parameter sorted."""
    parts = urlsplit(request_uri)
    params = {k: _grape(v) for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    params.update(_route_params(parts.path))
    params.pop("page", None)
    params["page"] = str(page)
    params.update(extra or {})
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))
    return f"{external}{parts.path}?{query}"


def offset_headers(
    request_uri: str,
    *,
    page: int,
    per_page: int,
    total: int | None,
    pages: int | None = None,
    external: str = HOST,
) -> dict[str, list[str]]:
    """GitLab's offset pagination headers for ``page`` of ``pages``.

    ``total=None`` is a list past 10,000 items (``data_without_counts``): no ``X-Total``,
    ``X-Total-Pages`` nor ``rel="last"``; ``pages`` then says whether there is a next page.
    """
    if pages is None:
        pages = max(1, -(-(total or 0) // per_page))
    next_page = page + 1 if page < pages else None
    prev_page = page - 1 if page > 1 else None
    links = []
    if prev_page:
        links.append(f'<{page_href(request_uri, prev_page, external)}>; rel="prev"')
    if next_page:
        links.append(f'<{page_href(request_uri, next_page, external)}>; rel="next"')
    links.append(f'<{page_href(request_uri, 1, external)}>; rel="first"')
    if total is not None:
        links.append(f'<{page_href(request_uri, pages, external)}>; rel="last"')
    headers = {
        "X-Per-Page": [str(per_page)],
        "X-Page": [str(page)],
        "X-Next-Page": [str(next_page or "")],
        "X-Prev-Page": [str(prev_page or "")],
        "Link": [", ".join(links)],
    }
    if total is not None:
        headers["X-Total"] = [str(total)]
        headers["X-Total-Pages"] = [str(pages)]
    return headers


_PAGINATION = {"x-per-page", "x-page", "x-next-page", "x-prev-page", "link", "x-total", "x-total-pages"}


def _repaginate(interaction: dict[str, Any]) -> None:
    headers = interaction["response"]["headers"]
    found = {k.lower(): k for k in headers}
    if "x-page" not in found or "x-per-page" not in found:
        return
    page = int(headers[found["x-page"]][0])
    per_page = int(headers[found["x-per-page"]][0])
    total = int(headers[found["x-total"]][0]) if "x-total" in found else None
    if "x-total-pages" in found:
        pages = int(headers[found["x-total-pages"]][0])
    else:
        more = "x-next-page" in found and headers[found["x-next-page"]][0]
        pages = page + 1 if more else page
    external = HOST
    if "link" in found:
        hosts = re.findall(r"<(https?://[^/]+)", headers[found["link"]][0])
        external = hosts[0] if hosts else HOST
    for key in [k for k in headers if k.lower() in _PAGINATION]:
        del headers[key]
    headers.update(
        offset_headers(
            interaction["request"]["uri"],
            page=page,
            per_page=per_page,
            total=total,
            pages=pages,
            external=external,
        )
    )


# --- the reshape of the existing cassettes -------------------------------------------------------


def _dump(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def reshape_interaction(interaction: dict[str, Any]) -> None:
    request, response = interaction["request"], interaction["response"]
    path = urlsplit(request["uri"]).path
    if response["status"]["code"] == 200:
        text = response.get("body", {}).get("string") or ""
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        if doc is not None:
            if re.search(r"/deployments$", path) and isinstance(doc, list):
                doc = [deployment_shape(d) for d in doc]
            elif re.search(r"/deployments/\d+$", path) and isinstance(doc, dict):
                doc = deployment_shape(doc)
            elif path.endswith("/jobs") and isinstance(doc, list):
                doc = [job_shape(j) for j in doc]
            elif path.endswith("/bridges") and isinstance(doc, list):
                doc = [bridge_shape(b) for b in doc]
            response["body"]["string"] = _dump(doc)
            _set_length(response)
        _repaginate(interaction)
    request["headers"]["User-Agent"] = [USER_AGENT]


def _set_length(response: dict[str, Any]) -> None:
    for key in list(response.get("headers", {})):
        if key.lower() == "content-length":
            response["headers"][key] = [str(len(response["body"]["string"].encode("utf-8")))]


def _tiers(interactions: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Environment URL -> (name, tier) for the environments of deployments that named a tier.

    A deployment's environment has no tier in GitLab's API (``EnvironmentBasic``); history reads
    it from ``GET /projects/:id/environments/:environment_id``, which the cassette then holds.
    """
    found: dict[str, tuple[str, str]] = {}
    for interaction in interactions:
        parts = urlsplit(interaction["request"]["uri"])
        match = re.search(r"^(.*/api/v4/projects/[^/]+)/deployments$", parts.path)
        if not match or interaction["response"]["status"]["code"] != 200:
            continue
        try:
            doc = json.loads(interaction["response"]["body"]["string"])
        except ValueError:
            continue
        for deployment in doc if isinstance(doc, list) else []:
            environment = deployment.get("environment") or {}
            if environment.get("tier") and environment.get("id") is not None:
                url = f"{parts.scheme}://{parts.netloc}{match[1]}/environments/{environment['id']}"
                found[url] = (environment.get("name"), environment["tier"])
    return found


def reshape_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    comments = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    data = yaml.safe_load(text)
    tiers = _tiers(data["interactions"])
    for interaction in data["interactions"]:
        reshape_interaction(interaction)
    present = {i["request"]["uri"] for i in data["interactions"]}
    for url, (name, tier) in sorted(tiers.items()):
        if url not in present:
            env_id = int(url.rsplit("/", 1)[1])
            asked = request(url)
            if path.name.startswith("jobtoken_"):  # the job token, sent as JOB-TOKEN
                asked["headers"]["JOB-TOKEN"] = asked["headers"].pop("PRIVATE-TOKEN")
            data["interactions"].append({"request": asked, "response": response(environment_full(env_id, name, tier))})
    body = yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)
    path.write_text(comments + body, encoding="utf-8")


def reshape_folder(folder: Path = HERE) -> None:
    """Rewrite every cassette of the folder on GitLab's shapes (idempotent)."""
    for path in sorted(folder.glob("*.yaml")):
        reshape_file(path)


# --- new scenarios --------------------------------------------------------------------------------

SHA = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
JDOE = {"id": 12, "username": "jdoe", "name": "Jane Doe", "state": "active", "locked": False, "avatar_url": "https://secure.gravatar.com/avatar/3f1b1e2b0c?s=80&d=identicon", "web_url": f"{HOST}/jdoe"}
DEPLOY_BOT = {"id": 31, "username": "project_7_bot_3f2a", "name": "argo-deployer", "state": "active", "locked": False, "avatar_url": "https://secure.gravatar.com/avatar/9a8b7c?s=80&d=identicon", "web_url": f"{HOST}/project_7_bot_3f2a"}


def request(uri: str) -> dict[str, Any]:
    return {
        "body": None,
        "headers": {
            "Accept": ["*/*"],
            "Accept-Encoding": ["gzip, deflate"],
            "Connection": ["keep-alive"],
            "Content-type": ["application/json"],
            "User-Agent": [USER_AGENT],
            "PRIVATE-TOKEN": ["REDACTED"],
        },
        "method": "GET",
        "uri": uri,
    }


def response(doc: Any, status: int = 200, headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body = _dump(doc)
    base = {
        "Cache-Control": ["max-age=0, private, must-revalidate"],
        "Content-Type": ["application/json"],
        "Content-Length": [str(len(body.encode("utf-8")))],
        "Date": ["Sat, 29 Nov 2025 07:16:40 GMT"],
        "Vary": ["Origin, Accept-Encoding"],
        "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["SAMEORIGIN"],
        "X-Gitlab-Meta": ['{"correlation_id":"01JDQ7X3Z8K2M4N6P8R0T2V4W6","version":"1"}'],
        "X-Request-Id": ["01JDQ7X3Z8K2M4N6P8R0T2V4W6"],
        "X-Runtime": ["0.084213"],
        "RateLimit-Limit": ["2000"],
        "RateLimit-Observed": ["3"],
        "RateLimit-Remaining": ["1997"],
        "RateLimit-Reset": ["1764400660"],
        "RateLimit-ResetTime": ["Sat, 29 Nov 2025 07:17:40 GMT"],
    }
    base.update(headers or {})
    messages = {200: "OK", 405: "Method Not Allowed"}
    return {"body": {"string": body}, "headers": base, "status": {"code": status, "message": messages[status]}}


def write(name: str, interactions: list[dict[str, Any]], comment: str) -> None:
    body = yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False, width=1000, allow_unicode=True)
    lines = "".join(f"# {line}\n" for line in comment.strip().splitlines())
    (HERE / name).write_text(lines + body, encoding="utf-8")


def project_doc(project_id: int, path: str, host: str = HOST) -> dict[str, Any]:
    """``GET /projects/:id`` (doc/api/projects.md "Get a single project", shortened)."""
    namespace, _, name = path.rpartition("/")
    return {
        "id": project_id,
        "description": None,
        "name": name,
        "name_with_namespace": " / ".join(path.split("/")),
        "path": name,
        "path_with_namespace": path,
        "created_at": "2024-02-01T09:58:12.330Z",
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@{host.split('//')[1]}:{path}.git",
        "http_url_to_repo": f"{host}/{path}.git",
        "web_url": f"{host}/{path}",
        "readme_url": None,
        "forks_count": 0,
        "avatar_url": None,
        "star_count": 0,
        "last_activity_at": "2025-11-28T17:02:11.120Z",
        "visibility": "private",
        "namespace": {"id": 5, "name": namespace.rsplit("/", 1)[-1], "path": namespace.rsplit("/", 1)[-1], "kind": "group", "full_path": namespace, "parent_id": 2, "avatar_url": None, "web_url": f"{host}/groups/{namespace}"},
    }


def job_doc(job_id: int, name: str, *, status: str, created: str, started: str | None, finished: str | None, pipeline: int, host: str = HOST, stage: str = "deploy", user: dict[str, Any] = JDOE) -> dict[str, Any]:
    """A job (doc/api/jobs.md), as a deployment's ``deployable``."""
    def seconds(a: str | None, b: str | None) -> float | None:
        if not a or not b:
            return None
        from datetime import datetime

        fa = datetime.fromisoformat(a.replace("Z", "+00:00"))
        fb = datetime.fromisoformat(b.replace("Z", "+00:00"))
        return round((fb - fa).total_seconds(), 3)

    return job_shape(
        {
            "id": job_id,
            "status": status,
            "stage": stage,
            "name": name,
            "ref": "main",
            "tag": False,
            "coverage": None,
            "allow_failure": False,
            "created_at": created,
            "started_at": started,
            "finished_at": finished,
            "erased_at": None,
            "duration": seconds(started, finished),
            "queued_duration": seconds(created, started),
            "user": {**user, "created_at": "2021-03-02T09:14:11.402Z", "bio": "", "location": "", "public_email": None, "linkedin": "", "twitter": "", "discord": "", "website_url": "", "organization": "", "job_title": "", "pronouns": None, "bot": False, "work_information": None, "local_time": None},
            "commit": {"id": SHA, "short_id": SHA[:8], "created_at": "2025-11-24T15:59:41.000+01:00", "parent_ids": ["e83c5163316f89bfbde7d9ab23ca2e25604af290"], "title": "Merge branch 'cart-totals' into 'main'", "message": "Merge branch 'cart-totals' into 'main'", "author_name": "Jane Doe", "author_email": "jane.doe@example.com", "authored_date": "2025-11-24T15:59:41.000+01:00", "committer_name": "Jane Doe", "committer_email": "jane.doe@example.com", "committed_date": "2025-11-24T15:59:41.000+01:00", "trailers": {}, "extended_trailers": {}, "web_url": f"{host}/acme/shop/web/-/commit/{SHA}"},
            "pipeline": {"id": pipeline, "iid": pipeline - 1100, "project_id": 7, "sha": SHA, "ref": "main", "status": status, "source": "push", "created_at": created, "updated_at": finished or created, "web_url": f"{host}/acme/shop/web/-/pipelines/{pipeline}"},
            "web_url": f"{host}/acme/shop/web/-/jobs/{job_id}",
            "project": {"ci_job_token_scope_enabled": False},
            "artifacts": [],
            "runner": None,
            "artifacts_expire_at": None,
            "archived": False,
            "tag_list": ["docker"],
        }
    )


def environment_full(env_id: int, name: str, tier: str, host: str = HOST) -> dict[str, Any]:
    """``GET /projects/:id/environments/:environment_id`` (doc/api/environments.md)."""
    return {
        "id": env_id,
        "name": name,
        "slug": name,
        "description": None,
        "external_url": f"https://{name}.shop.example.com",
        "state": "available",
        "tier": tier,
        "created_at": "2024-02-01T10:00:00.000Z",
        "updated_at": "2025-11-24T09:00:00.000Z",
        "enable_advanced_logs_querying": False,
        "logs_api_path": f"/acme/shop/web/-/logs/k8s.json?environment_name={name}",
        "auto_stop_at": None,
        "kubernetes_namespace": None,
        "flux_resource_path": None,
        "auto_stop_setting": "always",
        "last_deployment": None,
    }


INTERNAL = "https://gitlab-internal.example.net:8443"
EXTERNAL = "https://gitlab.example.com"


def external_url_history() -> list[dict[str, Any]]:
    """Deployments of project 7 read through an internal address.

    ``--server https://gitlab-internal.example.net:8443`` on a GitLab whose ``external_url`` is https://gitlab.example.com and which has more than
    10,000 deployments: its ``Link`` headers name gitlab.example.com, and carry no totals.
    """
    envs = {3: ("staging", "staging"), 4: ("production", "production")}

    def deployment(dep_id: int, env: int, status: str, created: str, updated: str, job: dict[str, Any] | None, user: dict[str, Any] = JDOE) -> dict[str, Any]:
        name, _tier = envs[env]
        return deployment_shape(
            {
                "id": dep_id,
                "iid": dep_id - 10700,
                "ref": "main",
                "sha": SHA,
                "created_at": created,
                "updated_at": updated,
                "user": user,
                "environment": {"id": env, "name": name, "external_url": f"https://{name}.shop.example.com"},
                "deployable": job,
                "status": status,
            }
        )

    pages = [
        [
            deployment(10901, 3, "success", "2025-11-25T09:04:09.900Z", "2025-11-25T09:06:40.901Z", job_doc(11501, "deploy-staging", status="success", created="2025-11-25T09:00:01.001Z", started="2025-11-25T09:04:10.250Z", finished="2025-11-25T09:06:40.750Z", pipeline=1150, host=EXTERNAL)),
            # created through the Deployments API by an external tool: no job, its own times
            deployment(10902, 4, "success", "2025-11-25T10:00:00.000Z", "2025-11-25T10:07:30.500Z", None, DEPLOY_BOT),
        ],
        [
            deployment(10903, 4, "failed", "2025-11-26T14:00:02.000Z", "2025-11-26T14:03:12.250Z", job_doc(11611, "deploy-production", status="failed", created="2025-11-26T14:00:01.000Z", started="2025-11-26T14:00:03.125Z", finished="2025-11-26T14:03:12.100Z", pipeline=1161, host=EXTERNAL)),
            # waiting for an approval since 2025-11-27: blocked, its job never started
            deployment(10904, 4, "blocked", "2025-11-27T08:00:00.000Z", "2025-11-27T08:00:01.000Z", job_doc(11720, "deploy-production", status="manual", created="2025-11-27T07:59:58.000Z", started=None, finished=None, pipeline=1172, host=EXTERNAL)),
        ],
        [
            deployment(10905, 3, "success", "2025-11-28T09:00:00.000Z", "2025-11-28T09:02:00.000Z", None, DEPLOY_BOT),
        ],
    ]
    base = f"{INTERNAL}/api/v4/projects/7/deployments"
    first = f"{base}?order_by=updated_at&sort=asc&updated_after=2025-11-24T16%3A00%3A00Z&per_page=2"
    out = [
        {"request": request(f"{INTERNAL}/api/v4/projects/acme%2Fshop%2Fweb"), "response": response(project_doc(7, "acme/shop/web", EXTERNAL))},
    ]
    uri = first
    for number, page in enumerate(pages, start=1):
        headers = offset_headers(uri, page=number, per_page=2, total=None, pages=len(pages), external=EXTERNAL)
        out.append({"request": request(uri), "response": response(page, headers=headers)})
        # python-gitlab follows the Link (on gitlab.example.com); keep_base_url puts it back here
        uri = page_href(uri, number + 1, INTERNAL)
    for env_id, (name, tier) in envs.items():
        out.append({"request": request(f"{INTERNAL}/api/v4/projects/7/environments/{env_id}"), "response": response(environment_full(env_id, name, tier, EXTERNAL))})
    return out


def multi_project_bridge() -> list[dict[str, Any]]:
    """A multi-project trigger job whose downstream pipeline has no ``project_id``.

    Pipeline 1209's trigger job ``deploy-infra`` started pipeline 1300 of project
    acme/shop/deploy-tools; its ``downstream_pipeline`` is the documented one (no
    ``project_id``), so the project is known from its ``web_url`` only.
    """
    pipeline = {
        "id": 1209, "iid": 96, "project_id": 7, "name": None, "sha": SHA, "ref": "main", "status": "success", "source": "push",
        "created_at": "2025-11-29T07:00:02.118Z", "updated_at": "2025-11-29T07:15:40.004Z", "web_url": f"{HOST}/acme/shop/web/-/pipelines/1209",
        "before_sha": "e83c5163316f89bfbde7d9ab23ca2e25604af290", "tag": False, "yaml_errors": None, "user": JDOE,
        "started_at": "2025-11-29T07:00:05.240Z", "finished_at": None, "committed_at": None, "duration": None, "queued_duration": 3,
        "coverage": None, "detailed_status": {"icon": "status_running", "text": "Running", "label": "running", "group": "running", "tooltip": "running", "has_details": True, "details_path": "/acme/shop/web/-/pipelines/1209", "illustration": None, "favicon": "/assets/ci_favicons/favicon_status_running.png"},
        "archived": False,
    }
    build = job_doc(12091, "build", status="success", created="2025-11-29T07:00:02.118Z", started="2025-11-29T07:00:06.112Z", finished="2025-11-29T07:03:41.876Z", pipeline=1209, stage="build")
    report = job_doc(12099, "customcd-report", status="running", created="2025-11-29T07:00:02.118Z", started="2025-11-29T07:16:20.301Z", finished=None, pipeline=1209, stage=".post")
    bridge = bridge_shape(
        {
            **job_doc(12092, "deploy-infra", status="success", created="2025-11-29T07:00:02.118Z", started="2025-11-29T07:03:45.000Z", finished="2025-11-29T07:12:40.500Z", pipeline=1209),
            "downstream_pipeline": {"id": 1300, "sha": "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd", "ref": "main", "status": "success", "created_at": "2025-11-29T07:03:45.200Z", "updated_at": "2025-11-29T07:12:40.400Z", "web_url": f"{HOST}/acme/shop/deploy-tools/-/pipelines/1300"},
        }
    )
    infra_jobs = [
        job_doc(13001, "terraform-apply", status="success", created="2025-11-29T07:03:45.200Z", started="2025-11-29T07:03:50.000Z", finished="2025-11-29T07:10:01.000Z", pipeline=1300),
        job_doc(13002, "smoke-infra", status="success", created="2025-11-29T07:03:45.200Z", started="2025-11-29T07:10:05.000Z", finished="2025-11-29T07:12:38.000Z", pipeline=1300),
    ]
    jobs_uri = f"{API}/projects/7/pipelines/1209/jobs?per_page=100"
    bridges_uri = f"{API}/projects/7/pipelines/1209/bridges?per_page=100"
    infra_uri = f"{API}/projects/acme%2Fshop%2Fdeploy-tools/pipelines/1300/jobs?per_page=100"
    infra_bridges_uri = f"{API}/projects/acme%2Fshop%2Fdeploy-tools/pipelines/1300/bridges?per_page=100"

    def page(uri: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"request": request(uri), "response": response(items, headers=offset_headers(uri, page=1, per_page=100, total=len(items)))}

    return [
        {"request": request(f"{API}/projects/7/pipelines/1209"), "response": response(pipeline)},
        page(jobs_uri, [report, build]),
        page(bridges_uri, [bridge]),
        page(infra_uri, infra_jobs),
        page(infra_bridges_uri, []),
    ]


def _as_python_gitlab_sends(uri: str) -> str:
    """A next-page URL as python-gitlab requests it: its own ``list()`` arguments re-sent.

    python-gitlab follows the ``Link`` URL but passes its keyword arguments again, so the
    booleans GitLab wrote as ``true``/``false`` go out as Python's ``True``/``False``.
    """
    return uri.replace("include_subgroups=true", "include_subgroups=True").replace(
        "with_shared=false", "with_shared=False"
    )


def group_keyset(refused: bool = False) -> list[dict[str, Any]]:
    """The projects of group acme/shop (subgroups included) two per page, keyset-paginated.

    Keyset-paginated by id (``id_after``); with ``refused``, a GitLab that does not offer keyset pagination there
    answers 405, and the listing uses offset pages.
    """
    projects = [project_doc(7, "acme/shop/web"), project_doc(9, "acme/shop/backend/api"), project_doc(12, "acme/shop/backend/worker")]
    base = f"{API}/groups/acme%2Fshop/projects"
    common = "include_subgroups=True&with_shared=False&order_by=id&sort=asc"
    out = []
    if refused:
        uri = f"{base}?{common}&pagination=keyset&per_page=2"
        out.append({"request": request(uri), "response": response({"error": "Keyset pagination is not yet available for this type of request"}, 405)})
        uri = f"{base}?{common}&per_page=2"
        for number, page in enumerate([projects[:2], projects[2:]], start=1):
            out.append({"request": request(uri), "response": response(page, headers=offset_headers(uri, page=number, per_page=2, total=3))})
            uri = _as_python_gitlab_sends(page_href(uri, number + 1))
        for project in projects:  # no deployment in the window
            listing = f"{API}/projects/{project['id']}/deployments?order_by=updated_at&sort=asc&updated_after=2025-11-01T00%3A00%3A00Z&per_page=2"
            out.append({"request": request(listing), "response": response([], headers=offset_headers(listing, page=1, per_page=2, total=0))})
        return out
    uri = f"{base}?{common}&pagination=keyset&per_page=2"
    for number, page in enumerate([projects[:2], projects[2:]], start=1):
        headers: dict[str, list[str]] = {}
        if number == 1:
            parts = urlsplit(uri)
            params = {k: _grape(v) for k, v in parse_qsl(parts.query)}
            params.update(_route_params(parts.path), id_after=str(page[-1]["id"]))
            query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))
            nxt = f"{HOST}{parts.path}?{query}"
            headers["Link"] = [f'<{nxt}>; rel="next"']
        out.append({"request": request(uri), "response": response(page, headers=headers)})
        if number == 1:
            uri = _as_python_gitlab_sends(nxt)
    return out


def _group_backfill() -> None:
    """backfill_gitlab_group.yaml lists the group's projects with keyset pagination."""
    path = HERE / "backfill_gitlab_group.yaml"
    text = path.read_text(encoding="utf-8")
    comments = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    data = yaml.safe_load(text)
    rest = [i for i in data["interactions"] if "/groups/" not in i["request"]["uri"]]
    data["interactions"] = group_keyset() + rest
    body = yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)
    path.write_text(comments + body, encoding="utf-8")


def main() -> None:
    reshape_folder()
    _group_backfill()
    write(
        "history_external_url.yaml",
        external_url_history(),
        "backfill gitlab --server https://gitlab-internal.example.net:8443 on a GitLab whose external_url is\n"
        "https://gitlab.example.com, with more than 10,000 deployments: Link/X-Next-Page name the external host\n"
        "and there is no X-Total, X-Total-Pages nor rel=last. Deployments 10902 and 10905 were created\n"
        "through the Deployments API (deployable: null); 10904 waits for an approval.",
    )
    write(
        "pipeline_multi_project.yaml",
        multi_project_bridge(),
        "Pipeline 1209 of acme/shop/web: trigger job deploy-infra started pipeline 1300 of\n"
        "acme/shop/deploy-tools; its downstream_pipeline has no project_id (the documented shape).",
    )
    write(
        "group_projects_keyset.yaml",
        group_keyset(),
        "The projects of group acme/shop with keyset pagination (pagination=keyset, order_by=id, id_after).",
    )
    write(
        "group_projects_keyset_refused.yaml",
        group_keyset(refused=True),
        "The same on a GitLab that does not offer keyset pagination there (405): offset pages.",
    )


if __name__ == "__main__":
    main()
