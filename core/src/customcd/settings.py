"""Every setting customcd reads, declared once: flag, environment variable, ``customcd.toml`` key.

The command line, the configuration reader and the generated reference page all come from
:data:`SETTINGS` and :data:`FIELD_INPUTS`, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FIELD_INPUTS", "SETTINGS", "FieldInput", "Setting"]


@dataclass(frozen=True)
class Setting:
    """One run setting (not a record field).

    :param name: the attribute name on :class:`~customcd.config.Config`.
    :param flag: the command-line flag (on ``send``, ``outbox flush``, ``backfill``).
    :param env: the environment variable.
    :param toml: the top-level key in ``customcd.toml`` ("" when it has none).
    :param kind: ``str``, ``int``, ``float``, ``bool`` or ``path``.
    :param default: the default, as text ("" for none).
    :param help: one line for ``--help`` and the reference.
    :param secret: never printed.
    """

    name: str
    flag: str
    env: str
    toml: str
    kind: str
    default: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "url",
        "--url",
        "CUSTOMCD_URL",
        "url",
        "str",
        "",
        "Allstacks server as scheme://server:port (the webhook path is added).",
    ),
    Setting(
        "company_id",
        "--company-id",
        "CUSTOMCD_COMPANY_ID",
        "company_id",
        "str",
        "",
        "Your Allstacks company id (the <company_id> of the webhook path).",
    ),
    Setting(
        "token",
        "",
        "CUSTOMCD_TOKEN",
        "",
        "str",
        "",
        "Personal access token, sent as 'Authorization: Bearer'. Environment only.",
        True,
    ),
    Setting(
        "token_file",
        "--token-file",
        "CUSTOMCD_TOKEN_FILE",
        "token_file",
        "path",
        "",
        "Read the token from this file instead (first line; e.g. a mounted secret).",
    ),
    Setting(
        "strict",
        "--strict",
        "CUSTOMCD_STRICT",
        "strict",
        "bool",
        "false",
        "Exit with a code per outcome (75 kept, 77 auth refused, 65 invalid/rejected, 78 config).",
    ),
    Setting(
        "outbox",
        "--outbox",
        "CUSTOMCD_OUTBOX",
        "outbox",
        "path",
        "",
        "Outbox database (a file, or a directory to hold outbox.sqlite3). "
        "Default: the user's state directory.",
    ),
    Setting(
        "deadline",
        "--deadline",
        "CUSTOMCD_DEADLINE",
        "deadline",
        "float",
        "30",
        "Seconds one run may spend delivering, retries and replays included.",
    ),
    Setting(
        "timeout",
        "--timeout",
        "CUSTOMCD_TIMEOUT",
        "timeout",
        "float",
        "10",
        "Seconds one HTTP attempt (and one call to a CI server) may take.",
    ),
    Setting(
        "ca_bundle",
        "--ca-bundle",
        "CUSTOMCD_CA_BUNDLE",
        "ca_bundle",
        "path",
        "",
        "PEM file of CA certificates to verify the server with (also SSL_CERT_FILE, "
        "REQUESTS_CA_BUNDLE, SSL_CERT_DIR).",
    ),
    Setting(
        "allow_http",
        "--allow-http",
        "CUSTOMCD_ALLOW_HTTP",
        "allow_http",
        "bool",
        "false",
        "Allow a plain http:// URL to a non-loopback host (the token would travel in clear).",
    ),
    Setting(
        "adapter",
        "--adapter",
        "CUSTOMCD_ADAPTER",
        "adapter",
        "str",
        "",
        "Use this adapter instead of detecting the CI ('none' for flags and config only).",
    ),
    Setting(
        "config",
        "--config",
        "CUSTOMCD_CONFIG",
        "",
        "path",
        "customcd.toml",
        "Configuration file (default: ./customcd.toml when it exists).",
    ),
)


@dataclass(frozen=True)
class FieldInput:
    """A record field the user can set by flag and environment variable.

    :param field: the wire field (or pseudo-field, e.g. ``start_time_ms``).
    :param flag: the command-line flag.
    :param env: the environment variable.
    :param help: one line for ``--help`` and the reference.
    """

    field: str
    flag: str
    env: str
    help: str


FIELD_INPUTS: tuple[FieldInput, ...] = (
    FieldInput(
        "job_id", "--job-id", "CUSTOMCD_JOB_ID", "Job id (default: the CI's build identity)."
    ),
    FieldInput(
        "commit_sha",
        "--commit-sha",
        "CUSTOMCD_COMMIT_SHA",
        "Full commit SHA (40 or 64 hex characters).",
    ),
    FieldInput(
        "service_id",
        "--service-id",
        "CUSTOMCD_SERVICE_ID",
        "Custom CD service id (or set by a routing rule).",
    ),
    FieldInput(
        "job_start_time",
        "--start-time",
        "CUSTOMCD_START_TIME",
        "Start: epoch seconds or ISO 8601 with a zone (2024-01-01T10:00:00Z).",
    ),
    FieldInput(
        "start_time_ms",
        "--start-time-ms",
        "CUSTOMCD_START_TIME_MS",
        "Start in epoch milliseconds (Jenkins' currentBuild.startTimeInMillis).",
    ),
    FieldInput(
        "job_duration",
        "--duration",
        "CUSTOMCD_DURATION",
        "Duration in seconds or like 5m30s (default: now - start).",
    ),
    FieldInput(
        "duration_ms",
        "--duration-ms",
        "CUSTOMCD_DURATION_MS",
        "Duration in milliseconds (Jenkins' currentBuild.duration).",
    ),
    FieldInput(
        "end_time",
        "--end-time",
        "CUSTOMCD_END_TIME",
        "End of the job: epoch seconds or ISO 8601 with a zone; duration = end - start. "
        "Capture it first in the reporting step, so installing customcd never counts.",
    ),
    FieldInput(
        "status",
        "--status",
        "CUSTOMCD_STATUS",
        "Succeeded, Failed, On Hold (any case), or the CI's native status.",
    ),
    FieldInput("repo_id", "--repo-id", "CUSTOMCD_REPO_ID", "Repository id."),
    FieldInput("repo_name", "--repo-name", "CUSTOMCD_REPO_NAME", "Repository name (owner/repo)."),
    FieldInput(
        "triggered_by", "--triggered-by", "CUSTOMCD_TRIGGERED_BY", "User email or agent username."
    ),
    FieldInput(
        "job_type", "--job-type", "CUSTOMCD_JOB_TYPE", "Kind of job, e.g. 'Production Deploy'."
    ),
)
