"""The docs' marked snippets, run for real against the local receiver, so the docs cannot rot.

The convention (documented in CONTRIBUTING.md): an HTML comment starting with ``<!-- test``
right before a fenced code block marks that block for testing. Every ``customcd ...`` command in
the block (shell lines, YAML ``script:``/``run:`` items, Jenkins ``sh '...'`` steps) is extracted
and run in-process with the ``customcd_cli`` fixture, pointed at a real local receiver
(``customcd_receiver``/``customcd_env``). The comment's words (shell-quoted) set:

- ``NAME=VALUE``: a variable. It is exported to the command's environment when NAME is an
  environment variable name, and substituted wherever the snippet writes ``$NAME``, ``${NAME}``,
  ``$(NAME)`` or ``${{ NAME }}`` (so ``currentBuild.currentResult=SUCCESS`` or
  ``job.status=success`` work too);
- ``sample=ADAPTER[:N]``: start from the environment of that adapter's N-th demo case (default 0);
- ``exit=N``: every command must exit with N (default 0);
- ``expect=delivered|body|ok``: what a command must achieve (default: ``send --dry-run`` prints a
  valid body, ``send`` delivers one new record to the receiver, anything else exits as expected);
- ``stderr=TEXT`` / ``stdout=TEXT``: the block's output must contain TEXT;
- ``fault=STATUS``: the receiver answers STATUS (e.g. 503) to every request of this block, to
  show what an unavailable or refusing server looks like;
- ``file=NAME``: the block is not run; its text is written to NAME in the page's working folder
  (e.g. a ``customcd.toml`` used by later blocks);
- ``record.FIELD=VALUE``: the record the block delivered last (or the body ``--dry-run`` printed)
  has FIELD equal to VALUE; ``record.optional.KEY=VALUE`` checks an optional field;
- ``env=block``: export the block's own variables too, as the CI would: YAML ``NAME: value``
  entries (``env:``, ``variables:``), Jenkins ``NAME = 'value'`` (``environment {}``),
  ``"NAME=value"`` items (``withEnv([...])``) and shell ``export NAME=value ...`` lines, for
  upper-case NAMEs; their values are expanded like the commands (``${{ secrets.NAME }}`` reads
  NAME);
- ``cassette=SYSTEM/FILE.yaml``: replay the CI's API answers from ``cassettes/SYSTEM/FILE.yaml``
  (vcrpy; the local receiver is not intercepted), for snippets that read the CI's REST API;
- ``log=stderr``: the block is a job log: each of its lines that is not a ``$ ``/``+ `` command
  line must appear in the commands' stderr (``...`` matches anything);
- ``run=COMMAND``: run COMMAND instead of the block's own commands, for a log block that shows
  only the output (e.g. ``run='customcd send --status skipped' log=stderr``);
- ``append=NAME``: like ``file=NAME``, but the block is added to the end of NAME (a module shown
  in several parts, each with its own imports).

A ``console`` block is a terminal transcript: each ``$ `` line is run, and the lines after it,
up to the next ``$ `` line, must be exactly what it printed (stdout, then stderr).

A block marked ``<!-- output -->`` (``<!-- output: stream=stderr -->``, ``stream=stdout``) is not
run: it shows what the test block before it printed, and must match it exactly, line by line
(trailing spaces and surrounding blank lines aside). ``...`` inside a line matches any text; a
line that is only ``...`` matches any number of lines. A ``json`` output block is compared as
data with the JSON the commands printed on stdout (so it may be indented for reading). So no output shown in the docs is typed
by hand: a block of output that is neither checked this way nor a ``log=stderr`` block fails
``test_no_output_is_shown_unchecked``.

Besides ``customcd``, two commands a plugin author types are run as they would be: ``pip install
-e .`` (also ``pip install .``, ``python -m pip``, ``uv pip``) installs the page's folder, i.e.
what earlier ``file=`` blocks wrote there (``pyproject.toml``, ``src/...``), by putting its
package and its entry points on ``sys.path`` for the rest of the page; ``pytest ARGS`` runs
pytest in a subprocess in that folder, with that package importable.

Pages: every ``docs/*.md``, and the README of the repository and of every distribution (they are
the packages' long descriptions).

Commands may be a path ending in ``/customcd`` (a virtual environment's ``bin/customcd``), and a
Groovy string concatenated over lines (``"..." +`` then ``"..."``) is one line.

All marked blocks of one page run in order in one working folder with one receiver and outbox.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from customcd.testing import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_MARKER = re.compile(r"^[ \t]*<!--\s*(?P<kind>test|output)\b(?P<body>.*?)-->[ \t]*\n", re.S | re.M)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n", re.M)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCAL_TOOL = re.compile(r"^\s*(?:(?:python3?\s+-m|uv(?:\s+run)?)\s+)?(?:pip|pytest)\b")
_INVOCATION = re.compile(r"(?<![\w./-])customcd\s+(?=[a-z-])")
_ASSIGNMENTS = re.compile(
    r"(?:(?<=\s)|^)((?:[A-Za-z_][A-Za-z0-9_]*=(?:\"[^\"]*\"|'[^']*'|\S*)\s+)+)$"
)
_EXPANSION = re.compile(
    r"\$\{\{\s*(?P<expr>[^}]+?)\s*\}\}"  # ${{ github.sha }}
    r"|\$\((?P<macro>[^()]+)\)"  # $(Build.SourceVersion) / $(git rev-parse HEAD)
    r"|\$\{(?P<braced>[^}:]+)(?::-(?P<default>[^}]*))?\}"  # ${NAME} / ${NAME:-x}
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"  # $NAME
)
_VENV_CUSTOMCD = re.compile(r"""(["']?)(?:\$\([^)\s]*\)|\$\{?\w+\}?|[\w.~-]|/)*/customcd\1(?=\s)""")
_BLOCK_ENV = re.compile(
    r"^\s*(?:-\s+)?(?P<name>[A-Z][A-Z0-9_]*)\s*(?::|=)\s*(?P<value>.*?)\s*$", re.M
)
_WITH_ENV = re.compile(r"""(["'])(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>[^"']*)\1""")
#: The marker words that are options; any other NAME=VALUE is a variable (or a record.* check).
_OPTIONS = frozenset(
    (
        "sample",
        "exit",
        "expect",
        "stderr",
        "stdout",
        "file",
        "fault",
        "env",
        "cassette",
        "log",
        "run",
        "append",
        "stream",
    )
)
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
#: Substitutions every snippet gets (the marker can override them).
FAKE_SHA = "a2e7da86cc392417b0d9f605b28038aae80b002f"


def _builtin_vars() -> dict[str, str]:
    now = int(time.time())
    return {
        "git rev-parse HEAD": FAKE_SHA,
        "date +%s": str(now - 300),
        "date -u +%Y-%m-%dT%H:%M:%SZ": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 300)),
    }


@dataclass
class Block:
    """One marked fenced block."""

    page: str
    line: int
    info: str
    text: str
    options: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    kind: str = "test"  # or "output": the block shows what the test block before it printed

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def parse_marker(body: str) -> tuple[dict[str, str], dict[str, str]]:
    """Split a marker's words into options (lower-case keys) and variables."""
    options: dict[str, str] = {}
    variables: dict[str, str] = {}
    body = body.strip()
    if body.startswith(":"):
        body = body[1:]
    for word in shlex.split(body, comments=False, posix=True):
        if "=" not in word:
            raise ValueError(f"marker word {word!r} is not NAME=VALUE")
        name, _, value = word.partition("=")
        if name in _OPTIONS or name.startswith("record."):
            options[name] = value
        else:
            variables[name] = value
    return options, variables


def page_name(page: Path) -> str:
    """The page's path as the messages show it (relative to the repository when inside it)."""
    try:
        return page.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return page.name


def find_blocks(page: Path) -> list[Block]:
    """Every marked block of a page (test and output blocks), in order."""
    text = page.read_text(encoding="utf-8")
    name = page_name(page)
    blocks = []
    for marker in _MARKER.finditer(text):
        line = text.count("\n", 0, marker.start()) + 1
        rest = text[marker.end() :]
        while rest.startswith("\n"):
            rest = rest[1:]
        fence = _FENCE.match(rest)
        if fence is None:
            raise AssertionError(
                f"{name}:{line}: a {marker['kind']} marker must precede a fenced block"
            )
        indent, ticks = fence["indent"], fence["fence"]
        close = re.compile(rf"^{re.escape(indent)}{re.escape(ticks)}[ \t]*$", re.M)
        end = close.search(rest, fence.end())
        if end is None:
            raise AssertionError(f"{name}:{line}: unclosed fenced block")
        body = rest[fence.end() : end.start()]
        lines = [row[len(indent) :] if row.startswith(indent) else row for row in body.splitlines()]
        try:
            options, variables = parse_marker(marker["body"])
        except ValueError as exc:
            raise AssertionError(f"{name}:{line}: {exc}") from None
        if marker["kind"] == "output" and (variables or set(options) - {"stream"}):
            raise AssertionError(f"{name}:{line}: an output marker takes only stream=stdout|stderr")
        blocks.append(
            Block(
                name,
                line,
                fence["info"].strip(),
                "\n".join(lines),
                options,
                variables,
                marker["kind"],
            )
        )
    return blocks


def _logical_lines(text: str) -> list[str]:
    """Join continued lines (backslash, PowerShell backtick, cmd caret)."""
    lines: list[str] = []
    pending = ""
    concatenated = ""  # the quote a Groovy "..." + continuation reopens on the next line
    for raw in text.splitlines():
        if concatenated and raw.lstrip().startswith(concatenated):
            raw = raw.lstrip()[1:]
        concatenated = ""
        stripped = raw.rstrip()
        groovy = re.search(r"""(["'])\s*\+$""", stripped)
        if groovy:
            pending += stripped[: groovy.start()]
            concatenated = groovy[1]
            continue
        if stripped.endswith(("\\", "`", "^")) and not stripped.endswith("\\\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def expand(text: str, variables: dict[str, str], env: dict[str, str], where: str) -> str:
    """Substitute the snippet's variables like the CI and the shell would."""

    def lookup(match: re.Match[str]) -> str:
        name = (match["expr"] or match["macro"] or match["braced"] or match["plain"]).strip()
        candidates = [name]
        if match["expr"]:
            head, _, tail = name.partition(".")
            if head == "github":
                candidates.append("GITHUB_" + tail.upper())
            if head in {"env", "secrets"}:
                candidates.append(tail)
        if match["macro"]:
            candidates.append(name.upper().replace(".", "_"))
        for candidate in candidates:
            if candidate in variables:
                return variables[candidate]
            if candidate in env:
                return env[candidate]
        if match["default"] is not None:
            return match["default"]
        raise AssertionError(
            f"{where}: the snippet uses {match[0]!r}, which has no value; add "
            f"{shlex.quote(name + '=VALUE')} to its <!-- test ... --> marker"
        )

    return _EXPANSION.sub(lookup, text)


def _cli_commands() -> set[str]:
    import click
    from customcd.cli.main import cli

    with click.Context(cli) as ctx:
        return set(cli.list_commands(ctx))


def _starts_command(rest: str) -> bool:
    """Whether the words after ``customcd`` start a command (not ``pip install customcd x``)."""
    word = rest.split(maxsplit=1)[0] if rest.split() else ""
    return word.startswith("-") or word in _cli_commands()


def extract_commands(
    block: Block, variables: dict[str, str], env: dict[str, str]
) -> list[list[str]]:
    """The customcd command lines of a block, each a pipeline of argument lists."""
    found: list[list[str]] = []
    for line in _logical_lines(block.text):
        stripped = line.lstrip()
        if stripped.startswith(("#", "//")):
            continue
        line = _VENV_CUSTOMCD.sub("customcd", line)
        if _LOCAL_TOOL.match(line):  # pip install -e . / pytest: run as well (see PageRun)
            tool = shlex.shlex(expand(line, variables, env, block.where), posix=True)
            tool.whitespace_split, tool.commenters = True, "#"
            words = list(tool)
            if local_install(words) or pytest_args(words) is not None:
                found.append(words)
                continue
        hit = next(
            (h for h in _INVOCATION.finditer(line) if _starts_command(line[h.end() :])), None
        )
        if hit is None:
            continue
        start = hit.start()
        before = line[:start]
        quote = before[-1:] if before[-1:] in {"'", '"'} else ""
        command = line[start:]
        if quote:
            command = command[: command.rfind(quote)] if quote in command else command
            if quote == '"':
                command = command.replace('\\"', '"')
            before = before[:-1]
        prefix = _ASSIGNMENTS.search(before.rstrip() + " ")
        if prefix:
            command = prefix.group(1) + command
        command = re.sub(r"\s\d?>&\d", " ", command)
        command = expand(command, variables, env, block.where)
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        found.append(tokens)
    return found


def block_env(block: Block, variables: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """The variables the block itself sets (``env=block``), expanded."""
    found: dict[str, str] = {}
    for raw in block.text.splitlines():
        line = re.sub(r"\s(#|//).*$", "", raw)
        if _INVOCATION.search(line):
            continue
        if line.startswith("export "):  # a shell's `export NAME=value NAME=value`
            for word in shlex.split(line[len("export ") :]):
                name, _, value = word.partition("=")
                found[name] = expand(value, variables, {**env, **found}, block.where)
            continue
        items = [(m["name"], m["value"]) for m in _WITH_ENV.finditer(line)]
        match = _BLOCK_ENV.match(line)
        if not items and match and match["value"]:
            value = match["value"]
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            items = [(match["name"], value)]
        for name, value in items:
            found[name] = expand(value, variables, {**env, **found}, block.where)
    return found


def _segments(tokens: list[str]) -> list[tuple[list[list[str]], str | None]]:
    """Split on ;/&&/&, stop at ||, and group | stages; keep a > redirection target."""
    commands: list[tuple[list[list[str]], str | None]] = []
    stages: list[list[str]] = [[]]
    redirect: str | None = None
    iterator = iter(tokens)
    for token in iterator:
        if token in {";", "&&", "&"}:
            commands.append((stages, redirect))
            stages, redirect = [[]], None
        elif token == "||":
            break
        elif token == "|":
            stages.append([])
        elif token in {">", ">>"}:
            redirect = next(iterator, None)
        else:
            stages[-1].append(token)
    commands.append((stages, redirect))
    return [(s, r) for s, r in commands if s and s[0]]


def _is_customcd(argv: list[str]) -> bool:
    while argv and _ENV_NAME.match(argv[0].partition("=")[0]) and "=" in argv[0]:
        argv = argv[1:]
    return bool(argv) and argv[0] == "customcd"


def _toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def _words(stage: list[str]) -> list[str]:
    """The command's words, after leading ``NAME=value`` assignments."""
    words = list(stage)
    while words and "=" in words[0] and _ENV_NAME.match(words[0].partition("=")[0]):
        words = words[1:]
    return words


def local_install(stage: list[str]) -> bool:
    """Whether the command installs the current folder: ``pip install -e .`` and its forms."""
    words = _words(stage)
    if words[:2] in (["python", "-m"], ["python3", "-m"]) or words[:1] == ["uv"]:
        words = words[2:] if words[0] != "uv" else words[1:]
    if words[:2] != ["pip", "install"]:
        return False
    rest = words[2:]
    return "." in rest and set(rest) <= {".", "-e", "--editable", "-q", "--quiet"}


def pytest_args(stage: list[str]) -> list[str] | None:
    """The arguments of a ``pytest`` command (``python -m pytest``, ``uv run pytest``), or None."""
    words = _words(stage)
    for prefix in (["pytest"], ["python", "-m", "pytest"], ["python3", "-m", "pytest"]):
        if words[: len(prefix)] == prefix:
            return words[len(prefix) :]
    if words[:3] == ["uv", "run", "pytest"]:
        return words[3:]
    return None


def console_steps(text: str) -> list[tuple[int, str, str]]:
    """(line offset, command, output shown) for each ``$ `` command of a transcript."""
    steps: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("$ "):
            assert not steps, f"console output before any $ command: {lines[index]!r}"
            index += 1
            continue
        start = index
        command = lines[index][2:]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + " " + lines[index].strip()
        index += 1
        shown = []
        while index < len(lines) and not lines[index].startswith("$ "):
            shown.append(lines[index])
            index += 1
        steps.append((start + 1, command, "\n".join(shown)))
    return steps


def output_matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` is ``shown``, line by line; ``...`` elides text, a ``...`` line lines."""
    pattern = ""
    for line in shown.strip("\n").splitlines():
        line = line.rstrip()
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    text = "".join(line.rstrip() + "\n" for line in printed.strip("\n").splitlines())
    return re.fullmatch(pattern, text) is not None


@dataclass
class PageRun:
    """Runs one page's blocks in one folder against one receiver."""

    cli: Callable[..., Any]
    receiver: Any
    env: dict[str, str]
    cwd: Path
    log: list[str] = field(default_factory=list)
    last_body: dict[str, Any] | None = None
    #: puts paths first on sys.path for the rest of the page (``pip install -e .``)
    installer: Callable[[list[str]], None] | None = None
    #: what ``pip install -e .`` put on sys.path (given to ``pytest`` as PYTHONPATH)
    installed: list[str] = field(default_factory=list)
    #: (stdout, stderr) of each command of the last test block, for an output block
    outputs: list[tuple[str, str]] = field(default_factory=list)

    def _argv(self, stage: list[str]) -> tuple[dict[str, str], list[str]]:
        env: dict[str, str] = {}
        argv = list(stage)
        while argv and argv[0] != "customcd" and "=" in argv[0]:
            name, _, value = argv.pop(0).partition("=")
            env[name] = value
        argv = argv[1:]
        fixed: list[str] = []
        iterator = iter(argv)
        for arg in iterator:
            flag, eq, inline = arg.partition("=")
            if flag in {"--url", "--company-id", "--token-file", "--outbox"}:
                value = inline if eq else next(iterator, "")
                if flag == "--url":
                    value = self.receiver.url
                elif flag == "--company-id":
                    value = "1"
                elif flag == "--token-file":
                    token_file = self.cwd / "token.txt"
                    token_file.write_text(TEST_TOKEN + "\n", encoding="utf-8")
                    value = str(token_file)
                elif Path(value).is_absolute():
                    value = str(self.cwd / "outbox" / Path(value).name)
                fixed += [flag, value]
            else:
                fixed.append(arg)
        env["CUSTOMCD_URL"] = self.receiver.url
        env["CUSTOMCD_COMPANY_ID"] = "1"
        if env.get("CUSTOMCD_OUTBOX", "").startswith("/"):
            env["CUSTOMCD_OUTBOX"] = str(self.cwd / "outbox" / Path(env["CUSTOMCD_OUTBOX"]).name)
        return env, fixed

    def run_block(self, block: Block, base_env: dict[str, str]) -> None:
        options = block.options
        if block.kind == "output":
            self._check_output(block)
            return
        if "file" in options or "append" in options:
            target = self.cwd / options.get("file", options.get("append", ""))
            target.parent.mkdir(parents=True, exist_ok=True)
            before = target.read_text(encoding="utf-8") + "\n\n" if "append" in options else ""
            if "append" in options:
                assert before.strip(), f"{block.where}: append={target.name}, but nothing wrote it"
            target.write_text(before + block.text + "\n", encoding="utf-8")
            return
        if block.info == "console":
            self._run_console(block, base_env)
            return
        self.outputs = []
        variables = {**_builtin_vars(), **block.variables}
        env = {**base_env, **{k: v for k, v in block.variables.items() if _ENV_NAME.match(k)}}
        if options.get("env") == "block":
            env.update(block_env(block, variables, env))
        elif "env" in options:
            raise AssertionError(f"{block.where}: unknown env={options['env']!r} (block)")
        expected_exit = int(options.get("exit", "0"))
        source = Block(block.page, block.line, "sh", options["run"]) if "run" in options else block
        commands = extract_commands(source, variables, env)
        self.receiver.faults.clear()
        if "fault" in options:
            from customcd.receiver import Fault

            self.receiver.inject(*[Fault(status=int(options["fault"]))] * 100)
        try:
            with self._cassette(block):
                self._run_commands(block, commands, env, expected_exit)
        finally:
            self.receiver.faults.clear()

    def _cassette(self, block: Block) -> Any:
        import contextlib

        name = block.options.get("cassette")
        if not name:
            return contextlib.nullcontext()
        path = CASSETTES / name
        assert path.is_file(), f"{block.where}: no cassette {path}"
        import vcr

        return vcr.VCR(
            record_mode="none",
            ignore_localhost=True,  # the local receiver is real
            decode_compressed_response=True,
        ).use_cassette(str(path), allow_playback_repeats=True)

    def _check_log(self, block: Block, stderr: str) -> None:
        """Each output line of a ``log=stderr`` block appears in ``stderr``."""
        if block.options["log"] != "stderr":
            raise AssertionError(f"{block.where}: unknown log={block.options['log']!r} (stderr)")
        expected = [
            row.strip()
            for row in block.text.splitlines()
            if row.strip() and not row.lstrip().startswith(("$ ", "+ "))
        ]
        assert expected, f"{block.where}: log=stderr, but the block shows no output line"
        for row in expected:
            pattern = ".*".join(re.escape(part) for part in row.split("..."))
            assert re.search(pattern, stderr), (
                f"{block.where}: the log line\n  {row}\nis not in what customcd printed:\n{stderr}"
            )

    def _check_record(self, block: Block) -> None:
        checks = {
            k[len("record.") :]: v for k, v in block.options.items() if k.startswith("record.")
        }
        if not checks:
            return
        body = self.last_body
        assert body is not None, (
            f"{block.where}: record.* checks, but no record was sent or printed"
        )
        optional = {o.get("key"): o.get("value") for o in body.get("optional") or []}
        for name, want in checks.items():
            if name.startswith("optional."):
                key = name[len("optional.") :]
                got = optional.get(key, "<missing>")
            else:
                got = body.get(name, "<missing>")
            assert str(got) == want, (
                f"{block.where}: the record's {name} is {got!r}, expected {want!r}\n"
                f"record: {json.dumps(body)}"
            )

    def _run_commands(
        self, block: Block, commands: list[list[str]], env: dict[str, str], expected_exit: int
    ) -> None:
        options = block.options
        ran = 0
        out_all, err_all = [], []
        for tokens in commands:
            for stages, redirect in _segments(tokens):
                stdin_text: str | None = None
                for stage in stages:
                    if local_install(stage):
                        self._install(block)
                        ran += 1
                        continue
                    if pytest_args(stage) is not None:
                        self._pytest(block, stage, env, expected_exit)
                        ran += 1
                        continue
                    if not _is_customcd(stage):
                        continue  # jq, tee, a deploy script...: only customcd is run
                    extra_env, argv = self._argv(stage)
                    if argv[:1] == ["receiver"]:
                        continue  # the test's own receiver stands in for it
                    if stdin_text is not None and "-" in argv:
                        piped = self.cwd / "stdin.json"
                        piped.write_text(stdin_text, encoding="utf-8")
                        argv[argv.index("-")] = str(piped)
                    before = len(self.receiver.accepted)
                    result = self.cli(argv, env={**env, **extra_env}, cwd=self.cwd)
                    ran += 1
                    shown = f"{block.where}: customcd {shlex.join(argv)}"
                    self.log.append(f"{shown}\n-> exit {result.exit_code}\n{result.stderr}")
                    out_all.append(result.stdout)
                    err_all.append(result.stderr)
                    self.outputs.append((result.stdout, result.stderr))
                    stdin_text = result.stdout
                    if redirect:
                        (self.cwd / redirect).write_text(result.stdout, encoding="utf-8")
                    assert result.exit_code == expected_exit, (
                        f"{shown}\nexited {result.exit_code}, expected {expected_exit}\n"
                        f"stderr:\n{result.stderr}\nstdout:\n{result.stdout}"
                    )
                    self._check(block, argv, result, before, shown)
                    if isinstance(result.body, dict):
                        self.last_body = result.body
                    elif len(self.receiver.accepted) > before:
                        self.last_body = self.receiver.accepted[-1]
        assert ran, (
            f"{block.where}: the block is marked for testing but has no customcd command to run "
            "(mark a customcd.toml block with file=customcd.toml instead)"
        )
        for name, where in (("stderr", err_all), ("stdout", out_all)):
            if name in options:
                text = "".join(where)
                assert options[name] in text, (
                    f"{block.where}: expected {name} to contain {options[name]!r}; got:\n{text}"
                )
        if "log" in options:
            self._check_log(block, "".join(err_all))
        self._check_record(block)

    def _run_console(self, block: Block, base_env: dict[str, str]) -> None:
        """A transcript: run each ``$ `` command; the lines after it are exactly its output."""
        steps = console_steps(block.text)
        assert steps, f"{block.where}: a console block needs a `$ customcd ...` line"
        for offset, command, shown in steps:
            step = Block(
                block.page, block.line + offset, "sh", command, block.options, block.variables
            )
            self.run_block(step, base_env)
            expected = Block(block.page, block.line + offset, "text", shown, kind="output")
            self._check_output(expected)

    def _check_output(self, block: Block) -> None:
        """The block is exactly what the previous test block printed (``...`` elides)."""
        stream = block.options.get("stream", "both")
        assert stream in {"both", "stdout", "stderr"}, f"{block.where}: stream={stream}?"
        assert self.outputs, f"{block.where}: an output block must follow a test block that ran"
        printed = "".join(
            (out if stream != "stderr" else "") + (err if stream != "stdout" else "")
            for out, err in self.outputs
        )
        if block.info == "json":  # shown indented for reading: the same JSON, as data
            shown = json.loads(block.text)
            assert [json.loads(out) for out, _ in self.outputs if out.strip()] == [shown], (
                f"{block.where}: the JSON shown is not what the commands printed:\n{printed}"
            )
            return
        assert output_matches(block.text, printed), (
            f"{block.where}: the output shown is not what the commands printed "
            f"({stream}). Shown:\n{block.text}\n--- printed:\n{printed}"
        )

    def _install(self, block: Block) -> None:
        """``pip install -e .``: the folder's distribution, importable with its entry points."""
        pyproject = self.cwd / "pyproject.toml"
        assert pyproject.is_file(), (
            f"{block.where}: `pip install -e .` needs a pyproject.toml (a file= block) first"
        )
        assert self.installer is not None, f"{block.where}: this run cannot install packages"
        project = _toml(pyproject.read_text(encoding="utf-8"))["project"]
        name, version = project["name"], project.get("version", "0")
        site = self.cwd / ".site"
        info = site / f"{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        groups = project.get("entry-points", {})
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
                for group, points in groups.items()
            ),
            encoding="utf-8",
        )
        source = self.cwd / "src" if (self.cwd / "src").is_dir() else self.cwd
        self.installed = [str(site), str(source)]
        self.installer(self.installed)

    def _pytest(
        self, block: Block, stage: list[str], env: dict[str, str], expected_exit: int
    ) -> None:
        """``pytest ARGS`` in the page's folder, in a fresh interpreter."""
        import os
        import subprocess
        import sys

        args = pytest_args(stage) or []
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMCD_")}
        environ["PYTHONPATH"] = os.pathsep.join(
            [*self.installed, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *args],
            cwd=self.cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.outputs.append((result.stdout, result.stderr))
        assert result.returncode == expected_exit, (
            f"{block.where}: pytest {shlex.join(args)} exited {result.returncode}, expected "
            f"{expected_exit}\n{result.stdout}\n{result.stderr}"
        )

    def _check(self, block: Block, argv: list[str], result: Any, before: int, shown: str) -> None:
        expect = block.options.get("expect")
        command = next((a for a in argv if not a.startswith("-")), "")
        if expect is None:
            if int(block.options.get("exit", "0")) != 0 or command != "send":
                expect = "ok"
            else:
                expect = "body" if "--dry-run" in argv else "delivered"
        if expect == "body":
            from customcd.contract.job import Job

            body = result.body
            assert isinstance(body, dict), f"{shown}\nprinted no JSON body:\n{result.stdout}"
            Job.from_body(body)
        elif expect == "delivered":
            assert len(self.receiver.accepted) > before, (
                f"{shown}\ndelivered nothing new to the receiver\nstderr:\n{result.stderr}"
            )
            assert "delivered" in result.stderr, result.stderr
        elif expect != "ok":
            raise AssertionError(f"{block.where}: unknown expect={expect!r} (delivered, body, ok)")


def _sample_env(spec: str) -> dict[str, str]:
    from customcd.plugins.manager import get_plugin_manager

    name, _, index = spec.partition(":")
    adapters = get_plugin_manager().adapters()
    if name not in adapters:
        pytest.skip(f"adapter {name!r} is not installed")
    cases = list(adapters[name].demo_cases())
    assert cases, f"adapter {name!r} has no demo cases to take a sample environment from"
    return dict(cases[int(index or 0)].env)


def all_pages() -> list[Path]:
    """The docs pages and the READMEs (the distributions' long descriptions)."""
    readmes = [ROOT / "README.md", ROOT / "core" / "README.md"]
    readmes += sorted(ROOT.glob("adapters/*/README.md")) + sorted(ROOT.glob("plugins/*/README.md"))
    return sorted(DOCS.glob("*.md")) + readmes


def _marked_pages() -> list[Path]:
    return [p for p in all_pages() if _MARKER.search(p.read_text(encoding="utf-8"))]


PAGES = _marked_pages()


@pytest.mark.parametrize("page", PAGES or [None], ids=[page_name(p) for p in PAGES] or ["no-pages"])
def test_marked_snippets_run_against_the_local_receiver(
    page: Path | None, customcd_cli, customcd_env, customcd_receiver, tmp_path, monkeypatch
):
    if page is None:
        pytest.skip("no docs page carries a <!-- test --> marker")
    blocks = find_blocks(page)
    work = tmp_path / "work"
    work.mkdir()

    def install(paths: list[str]) -> None:
        from customcd.cli.main import cli

        for path in reversed(paths):
            monkeypatch.syspath_prepend(path)
        # customcd adds plugins' commands once per process: let it add the new plugin's, and
        # take them away again after the page
        monkeypatch.setattr(cli, "commands", dict(cli.commands))
        monkeypatch.setattr(cli, "_plugins_added", False)

    run = PageRun(customcd_cli, customcd_receiver, customcd_env, work, installer=install)
    try:
        for block in blocks:
            base = dict(customcd_env)
            if "sample" in block.options:
                base = {**base, **_sample_env(block.options["sample"])}
            run.run_block(block, base)
    finally:
        forget_installed(run.installed)


def forget_installed(paths: list[str]) -> None:
    """Unload the modules a page installed, so no other test sees its plugin."""
    import sys

    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or ""
        if any(where.startswith(path) for path in paths):
            del sys.modules[name]


# -- the convention itself ----------------------------------------------------------------------


def test_extraction_understands_the_ci_syntaxes(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "\n".join(
            [
                "<!-- test: currentBuild.currentResult=SUCCESS job.status=success STAGE=prod -->",
                "```yaml",
                "script:",
                "  - ./deploy.sh",
                '  - customcd send --job-type "$STAGE" \\',
                "      --commit-sha $(git rev-parse HEAD)   # a comment",
                "  - sh 'customcd send --status \"${currentBuild.currentResult}\"'",
                "  - run: CUSTOMCD_STRICT=1 customcd send --status ${{ job.status }} || true",
                "  - customcd send --dry-run | customcd validate -",
                "  - pip install customcd",
                "```",
            ]
        ),
        encoding="utf-8",
    )
    (block,) = find_blocks(page)
    assert block.line == 1 and block.info == "yaml"
    variables = {**_builtin_vars(), **block.variables}
    commands = extract_commands(block, variables, {})
    assert commands[0] == ["customcd", "send", "--job-type", "prod", "--commit-sha", FAKE_SHA]
    assert commands[1] == ["customcd", "send", "--status", "SUCCESS"]
    assert commands[2] == [
        "CUSTOMCD_STRICT=1",
        "customcd",
        "send",
        "--status",
        "success",
        "||",
        "true",
    ]
    assert _segments(commands[2]) == [
        ([["CUSTOMCD_STRICT=1", "customcd", "send", "--status", "success"]], None)
    ]
    assert _segments(commands[3]) == [
        ([["customcd", "send", "--dry-run"], ["customcd", "validate", "-"]], None)
    ]
    assert len(commands) == 4


def test_an_unknown_variable_names_the_marker_to_fix(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- test -->\n```sh\ncustomcd send --status $NOPE\n```\n", encoding="utf-8")
    (block,) = find_blocks(page)
    with pytest.raises(AssertionError, match="NOPE=VALUE"):
        extract_commands(block, {}, {})


def test_azure_macros_and_github_contexts_read_the_environment(tmp_path):
    block = Block(
        "p.md",
        1,
        "yaml",
        "- script: customcd send --status $(Agent.JobStatus) --commit-sha ${{ github.sha }}",
    )
    env = {"AGENT_JOBSTATUS": "Succeeded", "GITHUB_SHA": FAKE_SHA}
    assert extract_commands(block, {}, env) == [
        ["customcd", "send", "--status", "Succeeded", "--commit-sha", FAKE_SHA]
    ]


def test_a_marked_block_runs_and_the_receiver_gets_the_record(
    customcd_cli, customcd_env, customcd_receiver, tmp_path
):
    page = tmp_path / "page.md"
    page.write_text(
        '<!-- test: file=customcd.toml -->\n```toml\n[job]\njob_type = "Deploy"\n```\n\n'
        "<!-- test: stderr='delivered job' -->\n```sh\ncustomcd send --adapter none --job-id 7 "
        '--commit-sha "$(git rev-parse HEAD)" --service-id 2 --repo-name acme/shop '
        '--start-time "$(date +%s)" --status Succeeded --url https://allstacks.example.com\n```\n',
        encoding="utf-8",
    )
    run = PageRun(customcd_cli, customcd_receiver, customcd_env, tmp_path)
    for block in find_blocks(page):
        run.run_block(block, dict(customcd_env))
    assert customcd_receiver.accepted[-1]["job_type"] == "Deploy"
    assert json.dumps(customcd_receiver.accepted[-1]).count(FAKE_SHA) == 1


def test_venv_paths_groovy_concatenation_and_the_blocks_own_variables(tmp_path):
    block = Block(
        "p.md",
        1,
        "groovy",
        "\n".join(
            [
                "environment {",
                "  CUSTOMCD_SERVICE_ID = '42'   // the service",
                "}",
                'withEnv(["GIT_COMMIT=${scmVars.GIT_COMMIT}", "GIT_URL=x"]) {',
                "  sh \"customcd send --status '${currentBuild.currentResult}' \" +",
                "     \"--start-time-ms '${currentBuild.startTimeInMillis}'\"",
                "}",
                'steps: [{env: {GITHUB_TOKEN: "${{ github.token }}"}}]',
                "env:",
                "  CUSTOMCD_TOKEN: ${{ secrets.CUSTOMCD_TOKEN }}   # the PAT",
                'python3 -m venv "$RUNNER_TEMP/customcd"',
                '"$RUNNER_TEMP/customcd/bin/pip" install customcd-github-actions',
                '"$(Agent.TempDirectory)/customcd/bin/customcd" send --dry-run',
            ]
        ),
    )
    variables = {
        "scmVars.GIT_COMMIT": FAKE_SHA,
        "currentBuild.currentResult": "SUCCESS",
        "currentBuild.startTimeInMillis": "1764400000123",
    }
    env = {"CUSTOMCD_TOKEN": "t0ken"}
    assert block_env(block, variables, env) == {
        "CUSTOMCD_SERVICE_ID": "42",
        "GIT_COMMIT": FAKE_SHA,
        "GIT_URL": "x",
        "CUSTOMCD_TOKEN": "t0ken",
    }
    assert extract_commands(block, variables, env) == [
        ["customcd", "send", "--status", "SUCCESS", "--start-time-ms", "1764400000123"],
        ["customcd", "send", "--dry-run"],
    ]


def test_record_checks_log_lines_and_run(customcd_cli, customcd_env, customcd_receiver, tmp_path):
    send = (
        "customcd send --adapter none --job-id 9 --commit-sha $(git rev-parse HEAD) "
        "--service-id 2 --repo-name acme/shop --start-time 1704103200 --status Succeeded"
    )
    page = tmp_path / "page.md"
    page.write_text(
        f"<!-- test: record.job_id=9 record.status=Succeeded -->\n```sh\n{send}\n```\n\n"
        f"<!-- test: run='{send} --dry-run' log=stderr expect=ok -->\n"
        "```\ncustomcd: ... valid ...\n```\n",
        encoding="utf-8",
    )
    first, second = find_blocks(page)
    run = PageRun(customcd_cli, customcd_receiver, customcd_env, tmp_path)
    run.run_block(first, dict(customcd_env))
    assert run.last_body is not None and run.last_body["job_id"] == "9"
    checks = {"record.status": "Failed", "expect": "ok"}  # sent again: "delivered before"
    wrong = Block(first.page, first.line, first.info, send + " --dry-run", checks)
    with pytest.raises(AssertionError, match="the record's status is 'Succeeded'"):
        run.run_block(wrong, dict(customcd_env))
    with pytest.raises(AssertionError, match="is not in what customcd printed"):
        run.run_block(second, dict(customcd_env))


# -- no output is shown unchecked ---------------------------------------------------------------

#: A line customcd prints (``customcd: ...``, ``customcd receiver: ...``) or a summary table row.
_OUTPUT_LINE = re.compile(
    r"^\s*(?:customcd(?: [a-z-]+)?: \S|(?:read|delivered)\s{2,}\d+\s*$)", re.M
)
_ANY_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
_ANY_COMMENT = re.compile(r"<!--\s*(?P<kind>[a-z]+)\b(?P<body>.*?)-->\s*$", re.S)
#: Pages other branches own right now: their output blocks are marked when those branches merge.
PENDING: dict[str, str] = {}  # none left: every page is checked strictly


def unchecked_output(page: Path) -> list[str]:
    """Blocks that show customcd's output but are neither an output block nor a checked log."""
    text = page.read_text(encoding="utf-8")
    found = []
    previous_kind = ""
    for fence in _ANY_FENCE.finditer(text):
        before = text[: fence.start()].rstrip()
        comment = (
            _ANY_COMMENT.match(before[before.rfind("<!--") :]) if before.endswith("-->") else None
        )
        kind = comment["kind"] if comment else ""
        options = parse_marker(comment["body"])[0] if comment and kind in {"test", "output"} else {}
        checked = (
            kind == "output"
            or (kind == "test" and ("log" in options or fence["info"].strip() == "console"))
            or kind == "integration"
            # docs/install.md: tests/packaging/test_install_page.py checks these in order
            or (kind == "sh" and "log=stderr" in comment["body"] if comment else False)
        )
        shows_output = bool(_OUTPUT_LINE.search(fence["body"])) or (
            fence["info"].strip() == "json" and previous_kind == "test" and not kind
        )
        if shows_output and not checked:
            line = text.count("\n", 0, fence.start()) + 1
            first = fence["body"].strip().splitlines()[0][:70]
            found.append(f"{page_name(page)}:{line}: {first}")
        previous_kind = kind
    return found


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.xfail(reason=PENDING[page_name(p)], strict=True))
        if page_name(p) in PENDING
        else p
        for p in all_pages()
    ],
    ids=[page_name(p) for p in all_pages()],
)
def test_no_output_is_shown_unchecked(page):
    found = unchecked_output(page)
    assert not found, (
        "these blocks show customcd's output without a check: mark the block with "
        "<!-- output --> right after the <!-- test --> block that prints it (or make it a "
        "console transcript, or a log=stderr block):\n  " + "\n  ".join(found)
    )
