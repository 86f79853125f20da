"""The ``customcd`` command line: the top-level group, its global options and :func:`main`.

Each command (or command group) lives in its own module of this package and is added to
:data:`cli` below; plugins add theirs through the ``customcd_cli`` hook. By default
``customcd send`` never fails a pipeline: it exits 0 with one clear line on stderr saying what
happened. ``--strict`` (``CUSTOMCD_STRICT=1``) turns outcomes into exit codes; ``validate`` and
``--dry-run`` always use them.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from .. import __version__
from ..contract.problems import CustomcdError
from ..report import EXIT
from .options import docs_hint, strict_env

__all__ = ["BUILT_IN", "cli", "main"]

#: The built-in commands: name -> the module of this package that defines it (as a function of
#: the same name). A command's module is imported only when that command runs (or for --help),
#: so ``customcd send`` does not pay for ``backfill``, ``demo`` or the receiver.
BUILT_IN: dict[str, str] = {
    "send": "send",
    "validate": "validate",
    "schema": "schema",
    "receiver": "receiver",
    "plugins": "plugins",
    "outbox": "outbox",
    "demo": "demo",
    "doctor": "doctor",
    "backfill": "backfill",
}


def _setup_logging(verbose: int) -> None:
    from ..delivery.transport import quiet_http_loggers

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("customcd: %(levelname)s: %(message)s"))
    root = logging.getLogger("customcd")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False
    quiet_http_loggers()


class _Group(click.Group):
    """The top-level group: built-in commands loaded on demand, then plugins' commands.

    A built-in command's module is imported when that command is asked for; plugins' commands
    (``customcd_cli`` hook) are added only for a name that is not built in, or for ``--help``.
    """

    _plugins_added = False

    def _built_in(self, name: str) -> click.Command | None:
        """The built-in command ``name``, imported and added on first use."""
        if name not in self.commands and name in BUILT_IN:
            module = importlib.import_module(f"{__package__}.{BUILT_IN[name]}")
            self.add_command(getattr(module, name), name)
        return self.commands.get(name)

    def load_built_ins(self) -> dict[str, click.Command]:
        """Every built-in command, imported: name -> command."""
        return {name: command for name in BUILT_IN if (command := self._built_in(name))}

    def _add_plugin_commands(self) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        self.load_built_ins()  # so that a plugin cannot take a built-in's name
        try:
            from ..plugins.manager import get_plugin_manager

            get_plugin_manager().add_cli(cli=self)
        except CustomcdError as exc:
            click.echo(f"customcd: warning: {exc}", err=True)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Built-in commands first; plugins' only when the name is not built in."""
        command = self._built_in(cmd_name) or super().get_command(ctx, cmd_name)
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
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _print_version(ctx) if value else None,
    help="Show customcd's version and every plugin's distribution and version, and exit.",
)
@click.option("-v", "--verbose", count=True, help="Log what customcd does to stderr (-vv: more).")
def cli(verbose: int) -> None:
    """Report CI/CD jobs (deployments above all) to the Allstacks Custom CD webhook.

    \b
    Quick start:
      customcd demo                     # everything end to end on a local receiver
      customcd send --dry-run --adapter none --job-id 42 --commit-sha "$(git rev-parse HEAD)" \\
          --service-id 2 --repo-name acme/shop --start-time 2024-01-01T10:00:00Z --duration 300 \\
          --status Succeeded

    Docs: https://github.com/customcd/customcd/tree/main/docs
    """
    _setup_logging(verbose)


def _print_version(ctx: click.Context) -> None:
    """``customcd --version``: the core's version, then one line per loaded plugin."""
    if ctx.resilient_parsing:
        return
    click.echo(f"customcd, version {__version__}")
    from ..contract.problems import CustomcdError
    from ..plugins.manager import get_plugin_manager

    try:
        manager = get_plugin_manager()
    except CustomcdError as exc:
        click.echo(f"customcd: plugins could not be loaded: {exc}", err=True)
        ctx.exit(0)
    for name, info in sorted(manager.info.items()):
        origin = f"{info.distribution} {info.version}" if info.distribution else "built in"
        click.echo(f"  plugin {name}: {origin}")
    ctx.exit(0)


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
            and not strict_env()
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
        click.echo(f"customcd: {exc}{docs_hint(exc)}", err=True)
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
        strict = "--strict" in args or "--dry-run" in args or strict_env()
        sys.exit(EXIT["internal"] if strict or _subcommand(args) != "send" else 0)
    sys.exit(0)


def _subcommand(args: list[str]) -> str | None:
    """The command named on the line, after global options such as ``-v``."""
    return next((arg for arg in args if not arg.startswith("-")), None)


if __name__ == "__main__":  # pragma: no cover
    main()
