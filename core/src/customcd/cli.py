"""The ``customcd`` command line (click).

By default ``customcd send`` never fails a pipeline: it exits 0 with one clear line on stderr
saying what happened. ``--strict`` (``CUSTOMCD_STRICT=1``) turns outcomes into exit codes;
``validate`` and ``--dry-run`` always use them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .problems import CustomcdError, InvalidRecord
from .report import EXIT, Reporter, exit_code_for
from .settings import FIELD_INPUTS, SETTINGS, Setting

__all__ = ["cli", "main"]

DOCS = "https://github.com/customcd/customcd/tree/main/docs"
log = logging.getLogger("customcd")


def _docs_hint(error: CustomcdError) -> str:
    return f" (see docs/{error.docs})" if error.docs else ""


def _setup_logging(verbose: int) -> None:
    from .transport import quiet_http_loggers

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("customcd: %(levelname)s: %(message)s"))
    root = logging.getLogger("customcd")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False
    quiet_http_loggers()


class _Group(click.Group):
    """Adds plugin subcommands (``customcd_cli`` hook) when the command line is parsed."""

    _plugins_added = False

    def _add_plugin_commands(self) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        try:
            from .plugins import get_plugin_manager

            get_plugin_manager().add_cli(cli=self)
        except CustomcdError as exc:
            click.echo(f"customcd: warning: {exc}", err=True)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Built-in commands first; plugins' only when the name is not built in."""
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._add_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """All commands, plugins' included (for --help)."""
        self._add_plugin_commands()
        return super().list_commands(ctx)


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, "--version", prog_name="customcd")
@click.option("-v", "--verbose", count=True, help="Log what customcd does to stderr (-vv: more).")
def cli(verbose: int) -> None:
    """Report CI/CD jobs (deployments above all) to the Allstacks Custom CD webhook.

    \b
    Quick start:
      customcd demo                     # everything end to end on a local receiver
      customcd send --dry-run --commit-sha $(git rev-parse HEAD) --service-id 2 \\
          --repo-name acme/shop --start-time 2024-01-01T10:00:00Z --duration 300 --status Succeeded

    Docs: https://github.com/customcd/customcd/tree/main/docs
    """
    _setup_logging(verbose)


F = TypeVar("F", bound=Callable[..., Any])


def _setting_option(setting: Setting) -> click.Option:
    """The click option of one run setting (from the settings registry)."""
    help_text = f"{setting.help} [env: {setting.env}]"
    if setting.kind == "bool":
        return click.Option(
            [setting.flag, setting.name], is_flag=True, default=None, help=help_text
        )
    return click.Option(
        [setting.flag, setting.name],
        default=None,
        metavar=_METAVARS.get(setting.kind, "VALUE"),
        help=help_text,
    )


_METAVARS = {"str": "TEXT", "path": "PATH", "float": "SECONDS", "int": "N"}


def _setting_params(names: tuple[str, ...]) -> list[click.Option]:
    """The options of the named settings, in registry order."""
    return [_setting_option(s) for s in SETTINGS if s.name in names and s.flag]


def _setting_options(names: tuple[str, ...]) -> Callable[[F], F]:
    """Decorator adding the run-setting flags named (from the settings registry)."""

    def decorate(func: F) -> F:
        params = getattr(func, "__click_params__", [])
        params.extend(reversed(_setting_params(names)))  # click reverses decorator order
        func.__click_params__ = params  # type: ignore[attr-defined]
        return func

    return decorate


def _field_options(func: F) -> F:
    for item in reversed(FIELD_INPUTS):
        func = click.option(
            item.flag,
            item.field,
            default=None,
            metavar="VALUE",
            help=f"{item.help} [env: {item.env}]",
        )(func)
    return func


#: Settings of every command that delivers (send, outbox flush).
_DELIVERY_SETTINGS = (
    "url",
    "company_id",
    "token_file",
    "strict",
    "outbox",
    "deadline",
    "timeout",
    "ca_bundle",
    "allow_http",
    "config",
)
_SEND_SETTINGS = (*_DELIVERY_SETTINGS, "adapter")


def _strict_from(flags: dict[str, Any]) -> bool:
    if flags.get("strict"):
        return True
    return _strict_env()


def _strict_env() -> bool:
    """Whether ``CUSTOMCD_STRICT`` asks for the strict exit codes."""
    return os.environ.get("CUSTOMCD_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


@cli.command()
@_field_options
@click.option(
    "--optional",
    "optional",
    multiple=True,
    metavar="KEY[:TYPE]=VALUE",
    help="An optional field; repeat a key for a list. TYPE: string (default), integer, "
    "float, duration, timestamp. Or a JSON object {key, value, type}. "
    "[env: CUSTOMCD_OPTIONAL, one entry a line; a key given by flag wins]",
)
@click.option(
    "--dry-run", is_flag=True, help="Print exactly the JSON body on stdout; send nothing."
)
@click.option("--no-replay", is_flag=True, help="Do not re-send older kept records first.")
@_setting_options(_SEND_SETTINGS)
def send(optional: tuple[str, ...], dry_run: bool, no_replay: bool, **flags: Any) -> None:
    """Build, validate and deliver the current job's record.

    Detects the CI (or --adapter), collects the fields, applies customcd.toml and your flags
    (flags win), validates against the contract, stores the record in the outbox and posts it.

    \b
    Examples:
      # Jenkins, in post { always { ... } }:
      customcd send --status "${currentBuild.currentResult}" \\
          --start-time-ms "${currentBuild.startTimeInMillis}"
      # GitLab CI, in after_script:
      customcd send
      # anywhere, all by hand:
      customcd send --adapter none --job-id 42 --commit-sha "$(git rev-parse HEAD)" \\
          --service-id 2 --repo-name acme/shop --start-time 1704018030 --duration 300 \\
          --status Succeeded --optional microservice=frontend --optional lead_time:duration=20
    """
    from .config import load_config
    from .pipeline import run_send
    from .plugins import get_plugin_manager

    setting_names = {s.name for s in SETTINGS}
    settings = {k: v for k, v in flags.items() if k in setting_names}
    fields = {k: v for k, v in flags.items() if k not in setting_names}
    strict = _strict_from(settings) or dry_run
    reporter = Reporter()
    try:
        config = load_config(settings, os.environ)
        strict = strict or config.strict  # customcd.toml's `strict = true` too
        plugins = get_plugin_manager()
        if dry_run:
            from .pipeline import prepare_record

            _, record, stopped = prepare_record(
                plugins=plugins,
                config=config,
                env=os.environ,
                flags=fields,
                optional_args=optional,
                reporter=reporter,
                now=time.time(),
            )
            if stopped is None and record is not None:
                click.echo(record.to_json())
            sys.exit(0)
        result = run_send(
            plugins=plugins,
            config=config,
            env=os.environ,
            flags=fields,
            optional_args=optional,
            reporter=reporter,
            replay=not no_replay,
        )
    except CustomcdError as exc:
        reporter.line(f"customcd: {exc}{_docs_hint(exc)}")
        if isinstance(exc, InvalidRecord):
            reporter.line(
                "customcd: nothing was sent; fix the fields above (flags win over "
                "everything) and run again"
            )
        sys.exit(exc.exit_code if strict else 0)
    sys.exit(exit_code_for(result.outcome) if strict else 0)


@cli.command()
@click.argument("source", type=click.File("rb"), metavar="FILE|-")
def validate(source: Any) -> None:
    """Check a JSON body (a file, or - for stdin) against the Custom CD contract.

    Exit 0 when valid, 65 with every problem listed when not.

    \b
    Examples:
      customcd validate body.json
      customcd send --dry-run | customcd validate -
    """
    from .wire import validate_body

    body = _read_json(source.read())
    bodies = body if isinstance(body, list) else [body]
    if not bodies:
        click.echo("customcd: an empty list holds no body to check", err=True)
        sys.exit(EXIT["invalid"])
    failed = 0
    for index, item in enumerate(bodies):
        try:
            validate_body(item)
        except InvalidRecord as exc:
            failed += 1
            prefix = f"body #{index + 1}: " if len(bodies) > 1 else ""
            click.echo(f"customcd: {prefix}{exc}", err=True)
    if failed:
        sys.exit(EXIT["invalid"])
    click.echo("valid" if len(bodies) == 1 else f"{len(bodies)} bodies valid", err=True)


def _read_json(data: bytes) -> Any:
    """Strict JSON from bytes (UTF-8; no NaN/Infinity), or exit 65 with one clear line."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON (use a number or a string)")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        reason = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, RecursionError) as exc:
        reason = f"not usable JSON: {str(exc)[:120] or type(exc).__name__}"
    click.echo(f"customcd: {reason}", err=True)
    sys.exit(EXIT["invalid"])


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the Custom CD body (for other tools to validate with).

    \b
    Example:
      customcd schema > custom-cd-job.schema.json
    """
    from .schema import job_schema

    click.echo(json.dumps(job_schema(), indent=2))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free one).")
@click.option("--company-id", default="1", show_default=True, help="Company id it serves.")
@click.option(
    "--token-env",
    default="CUSTOMCD_TOKEN",
    show_default=True,
    help="Accept only the token in this variable (any Bearer token when it is unset).",
)
@click.option(
    "--record",
    "record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append accepted bodies to this JSON-lines file.",
)
def receiver(host: str, port: int, company_id: str, token_env: str, record: Path | None) -> None:
    """Run the local Custom CD receiver in the foreground (for pipeline testing).

    It validates every body against the contract and prints what it accepted.

    \b
    Example:
      customcd receiver --port 8765 --record accepted.jsonl &
      CUSTOMCD_URL=http://127.0.0.1:8765 CUSTOMCD_COMPANY_ID=1 CUSTOMCD_TOKEN=t customcd send ...
    """
    from .receiver import Receiver

    token = os.environ.get(token_env) or None
    server = Receiver(host=host, port=port, company_id=company_id, token=token, record_path=record)
    click.echo(
        f"customcd receiver listening on {server.endpoint} "
        f"({'token from ' + token_env if token else 'any Bearer token'}); Ctrl-C stops",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo(f"customcd receiver: accepted {len(server.accepted)} record(s)", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, their distributions, adapters and hooks.

    \b
    Examples:
      customcd plugins
      CUSTOMCD_DISABLE_PLUGINS=git customcd plugins --json
    """
    from .plugins import get_plugin_manager

    try:
        manager = get_plugin_manager()
        adapters = manager.adapters()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}", err=True)
        sys.exit(exc.exit_code)
    owner: dict[str, list[str]] = {}
    for impl in manager.pm.hook.customcd_adapters.get_hookimpls():
        try:
            found: Any = impl.function()
            names = [a.name for a in found or ()]
        except Exception:
            names = []
        owner[impl.plugin_name] = [n for n in names if n in adapters]
    rows: list[dict[str, Any]] = []
    for name, info in sorted(manager.info.items()):
        rows.append(
            {
                "name": name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "adapters": owner.get(name, []),
                "hooks": manager.hooks_of(name),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no plugins installed (pip install 'customcd[all]')")
        return
    from .table import render_table

    click.echo(
        render_table(
            ["plugin", "distribution", "version", "adapters", "hooks"],
            [
                [
                    r["name"],
                    r["distribution"],
                    r["version"],
                    ", ".join(r["adapters"]) or "-",
                    ", ".join(h.removeprefix("customcd_") for h in r["hooks"]),
                ]
                for r in rows
            ],
        )
    )


@cli.group()
def outbox() -> None:
    """Inspect and re-send kept records (pending and rejected).

    \b
    Examples:
      customcd outbox list
      customcd outbox flush
      customcd outbox prune --older-than 400
    """


@outbox.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_setting_options(("outbox", "config"))
def outbox_list(as_json: bool, **settings: Any) -> None:
    """List kept records.

    \b
    Examples:
      customcd outbox list
      customcd outbox list --json | jq '.[] | select(.state == "rejected")'
    """
    from .config import load_config
    from .outbox import Outbox

    try:
        config = load_config(settings, os.environ)
        box = Outbox(config.outbox_path)
        entries = box.entries()
        delivered = box.ledger_size()
        box.close()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{_docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "key": e.key,
                        "state": e.state,
                        "job_id": e.body.get("job_id"),
                        "attempts": e.attempts,
                        "last_status": e.last_status,
                        "reason": e.reason,
                        "created": e.created,
                        "updated": e.updated,
                        "body": e.body,
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    from .table import render_table

    click.echo(f"outbox {config.outbox_path}: {len(entries)} kept, {delivered} delivered (ledger)")
    if entries:
        click.echo(
            render_table(
                ["state", "job_id", "status", "attempts", "last", "reason", "stored"],
                [
                    [
                        e.state,
                        str(e.body.get("job_id", "")),
                        str(e.body.get("status", "")),
                        str(e.attempts),
                        str(e.last_status or "-"),
                        e.reason[:60],
                        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.created)),
                    ]
                    for e in entries
                ],
            )
        )


@outbox.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, None),
    default=365,
    show_default=True,
    metavar="DAYS",
    help="Forget records delivered more than DAYS days ago.",
)
@_setting_options(("outbox", "config"))
def outbox_prune(days: int, **settings: Any) -> None:
    """Shrink the ledger of delivered records (kept records are never touched).

    A record the ledger has forgotten would be sent again by a backfill of its time window (with
    the same Idempotency-Key), so keep at least as many days as you may backfill.

    \b
    Example:
      customcd outbox prune --older-than 400
    """
    from .config import load_config
    from .outbox import Outbox

    try:
        config = load_config(settings, os.environ)
        box = Outbox(config.outbox_path)
        removed = box.prune_ledger(days * 86_400)
        left = box.ledger_size()
        box.close()
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{_docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    click.echo(
        f"customcd: forgot {removed} delivered record(s) older than {days} days; "
        f"{left} remain in the ledger",
        err=True,
    )


@outbox.command("flush")
@click.option("--rejected", is_flag=True, help="Also retry records the server rejected before.")
@_setting_options(_DELIVERY_SETTINGS)
def outbox_flush(rejected: bool, **settings: Any) -> None:
    """Re-send pending records (oldest first) within the deadline.

    \b
    Examples:
      customcd outbox flush
      customcd outbox flush --rejected --deadline 120    # after fixing the token
    """
    from .config import load_config
    from .delivery import Dispatcher, Sender
    from .outbox import Outbox
    from .plugins import get_plugin_manager
    from .retry import RetryPolicy
    from .transport import Endpoint

    strict = _strict_from(settings)
    reporter = Reporter()
    try:
        config = load_config(settings, os.environ)
        strict = strict or config.strict
        endpoint = Endpoint.parse(config.url, config.company_id, allow_http=config.allow_http)
        if config.token is None:
            from .problems import ConfigurationError

            raise ConfigurationError("no token: set CUSTOMCD_TOKEN (or --token-file)")
        box = Outbox(config.outbox_path)
        manager = get_plugin_manager()
    except CustomcdError as exc:
        reporter.line(f"customcd: {exc}{_docs_hint(exc)}")
        sys.exit(exc.exit_code if strict else 0)
    if rejected:
        box.requeue_rejected()
    sender = Sender(
        endpoint,
        config.token,
        policy=RetryPolicy(config.deadline, config.timeout),
        ca_bundle=config.ca_bundle,
        ca_dir=config.ca_dir,
    )
    dispatcher = Dispatcher(sender, box, on_outcome=lambda o: manager.outcome(outcome=o))
    codes = [0]
    count = 0
    for result in dispatcher.flush():
        count += 1
        reporter.outcome(result, replay=True)
        codes.append(exit_code_for(result))
    left = len(box.entries("pending"))
    sender.close()
    box.close()
    reporter.line(f"customcd: flushed {count} record(s); {left} still pending")
    sys.exit(max(codes) if strict else 0)


@cli.command()
@click.option(
    "--keep",
    "keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's outbox and accepted records in this folder.",
)
def demo(keep: Path | None) -> None:
    """Run the main job end to end on the embedded local receiver.

    Starts the receiver on a free loopback port, runs every installed adapter on a bundled
    sample of its CI's environment, sends the contract's own sample, and shows what arrived.

    \b
    Example:
      customcd demo
    """
    from .demo import run_demo

    sys.exit(run_demo(keep))


#: Backfill is run by people and batch jobs, not a pipeline step: it always uses the exit codes.
_BACKFILL_SETTINGS = tuple(name for name in _DELIVERY_SETTINGS if name != "strict")


class _BackfillGroup(click.Group):
    """One subcommand per installed adapter that can list history."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Adapter names (those that implement history)."""
        from .adapter import Adapter
        from .plugins import get_plugin_manager

        try:
            adapters = get_plugin_manager().adapters()
        except CustomcdError:
            return []
        return [n for n, a in adapters.items() if type(a).history is not Adapter.history]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The backfill command of one adapter: common options plus its selection flags."""
        from .plugins import get_plugin_manager

        try:
            adapter = get_plugin_manager().adapters().get(cmd_name)
        except CustomcdError as exc:
            raise click.ClickException(str(exc)) from None
        if adapter is None:
            return None
        params = [*_backfill_params(), *adapter.backfill_params()]

        def callback(**values: Any) -> None:
            _run_backfill(cmd_name, values)

        return click.Command(
            cmd_name,
            params=params,
            callback=callback,
            help=f"Import {adapter.title} history into Allstacks (see docs/backfill.md).\n\n"
            f"Example: customcd backfill {cmd_name} --since 2024-01-01 --service-id 2 "
            "--dry-run --output history.jsonl",
        )


def _backfill_params() -> list[click.Parameter]:
    params: list[click.Parameter] = [
        click.Option(
            ["--since"],
            required=True,
            metavar="DATE",
            help="Start of the window: 2024-01-01, ISO 8601 with zone, epoch s, or 90d.",
        ),
        click.Option(
            ["--until"], default=None, metavar="DATE", help="End of the window (default: now)."
        ),
        click.Option(
            ["--server"],
            default=None,
            metavar="URL",
            help="The CI server (default: the CI's usual variable, e.g. JENKINS_URL).",
        ),
        click.Option(
            ["--concurrency"],
            default=8,
            show_default=True,
            type=click.IntRange(1, 64),
            help="Records in flight at once.",
        ),
        click.Option(
            ["--dry-run"], is_flag=True, help="Write the bodies as JSON lines; send nothing."
        ),
        click.Option(
            ["--output"],
            type=click.File("w", encoding="utf-8"),
            default=None,
            help="With --dry-run: the JSON-lines file (default: stdout).",
        ),
        click.Option(
            ["--include-on-hold"],
            is_flag=True,
            help="Also send items waiting for a person (approval, manual job) as On Hold.",
        ),
        click.Option(["--restart"], is_flag=True, help="Ignore the saved checkpoint; start over."),
        click.Option(["--service-id"], default=None, help="Custom CD service (or routing rules)."),
        click.Option(["--job-type"], default=None, help="Job type for every record."),
        click.Option(
            ["--optional"],
            multiple=True,
            metavar="KEY[:TYPE]=VALUE",
            help="An optional field for every record; repeatable.",
        ),
    ]
    params.extend(_setting_params(_BACKFILL_SETTINGS))
    return params


def _is_relative(text: str) -> bool:
    """Whether a window edge is relative to now (``90d``, ``12h``, ``2w``)."""
    import re

    return re.fullmatch(r"\s*\d+[hdw]\s*", text) is not None


def _window_edge(text: str, flag: str) -> int:
    """A window edge: ``YYYY-MM-DD`` (UTC), ISO 8601 with a zone, epoch seconds, or ``90d``."""
    import re

    from .problems import UsageError
    from .times import TimeError, to_epoch

    value = text.strip()
    relative = re.fullmatch(r"(\d+)([hdw])", value)
    if relative:
        unit = {"h": 3600, "d": 86400, "w": 7 * 86400}[relative[2]]
        return int(time.time()) - int(relative[1]) * unit
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00Z"
    try:
        return to_epoch(value)
    except TimeError as exc:
        raise UsageError(f"{flag} {text!r} {exc}") from None


def _run_backfill(adapter_name: str, values: dict[str, Any]) -> None:
    from .adapter import HistoryQuery
    from .backfill import exit_code, run_backfill, summary
    from .builder import field_overrides
    from .config import load_config
    from .plugins import get_plugin_manager
    from .transport import warn_if_cleartext

    setting_names = {s.name for s in SETTINGS}
    settings = {k: values.pop(k) for k in list(values) if k in setting_names}
    common_names = (
        "since",
        "until",
        "server",
        "concurrency",
        "dry_run",
        "output",
        "include_on_hold",
        "restart",
        "optional",
    )
    common = {k: values.pop(k) for k in common_names}
    fields = {k: values.pop(k) for k in ("service_id", "job_type")}
    selection = values
    try:
        config = load_config(settings, os.environ)
        plugins = get_plugin_manager()
        adapter = plugins.adapters()[adapter_name]
        since = _window_edge(common["since"], "--since")
        until = _window_edge(common["until"], "--until") if common["until"] else None
        server = common["server"] or (os.environ.get(adapter.server_variable() or "") or None)
        if server:
            warn_if_cleartext(server, os.environ)
        query = HistoryQuery(
            since=since,
            until=until,
            selection=selection,
            server=server,
            env=os.environ,
            options=config.adapter_options.get(adapter_name, {}),
            include_on_hold=common["include_on_hold"],
            timeout=config.timeout,
            log=log,
        )
        stats = run_backfill(
            plugins=plugins,
            adapter=adapter,
            config=config,
            query=query,
            overrides=field_overrides(fields, os.environ),
            optional_args=common["optional"],
            concurrency=common["concurrency"],
            dry_run=common["dry_run"],
            output=common["output"],
            restart=common["restart"],
            # a relative --since (90d) moves every run: keep the checkpoint by what was typed
            window_key=common["since"].strip() if _is_relative(common["since"]) else None,
        )
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{_docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    click.echo(summary(stats, dry_run=common["dry_run"]), err=True)
    if stats.aborted:
        click.echo(f"customcd: the CI stopped the history early: {stats.aborted}", err=True)
        if stats.read:
            click.echo(
                "customcd: run the same command again to resume after the last record "
                "done (--restart starts over)",
                err=True,
            )
    sys.exit(exit_code(stats))


@cli.group(cls=_BackfillGroup)
def backfill() -> None:
    """Import deployment history from a CI server (one subcommand per adapter).

    Credentials come only from the environment (JENKINS_USER + JENKINS_API_TOKEN;
    CUSTOMCD_GITLAB_TOKEN or GITLAB_TOKEN; AZURE_DEVOPS_PAT or SYSTEM_ACCESSTOKEN). Records go
    through the same pipeline as `send`: routing, validation, outbox and ledger, so re-running a
    window sends nothing twice; an interrupted run resumes from its checkpoint. Exit codes: 0 all
    done, 75 some kept for retry, 77 auth refused, 65 rejected, 78 configuration.

    \b
    Examples:
      customcd backfill jenkins --job team/app --since 2024-01-01 --service-id 2
      customcd backfill gitlab --project acme/shop --since 90d --dry-run --output h.jsonl
      customcd backfill azure-devops --project Fabrikam --definition 12 --since 2024-06-01
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; turn usage errors into the documented codes."""
    args = sys.argv[1:] if argv is None else argv
    # customcd's models need no pydantic plugins; skipping their discovery saves an
    # entry-point scan of every installed distribution (issue 9)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli.main(args=args, prog_name="customcd", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("customcd: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        lenient = (
            _subcommand(args) == "send"
            and "--strict" not in args
            and "--dry-run" not in args
            and not _strict_env()
        )
        if lenient:
            click.echo(
                "customcd: nothing was sent (usage error); exiting 0 so the pipeline goes "
                "on — pass --strict to fail instead",
                err=True,
            )
            sys.exit(0)
        sys.exit(EXIT["usage"] if isinstance(exc, click.UsageError) else 1)
    except CustomcdError as exc:
        click.echo(f"customcd: {exc}{_docs_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: a metrics step never breaks a deploy
        if os.environ.get("CUSTOMCD_DEBUG"):
            raise
        click.echo(
            f"customcd: internal error: {type(exc).__name__}: {exc} "
            "(please report it; CUSTOMCD_DEBUG=1 shows the traceback)",
            err=True,
        )
        strict = "--strict" in args or "--dry-run" in args or _strict_env()
        sys.exit(EXIT["internal"] if strict or _subcommand(args) != "send" else 0)
    sys.exit(0)


def _subcommand(args: list[str]) -> str | None:
    """The command named on the line, after global options such as ``-v``."""
    return next((arg for arg in args if not arg.startswith("-")), None)


if __name__ == "__main__":  # pragma: no cover
    main()
