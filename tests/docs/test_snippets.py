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
  entries (``env:``, ``variables:``), Jenkins ``NAME = 'value'`` (``environment {}``) and
  ``"NAME=value"`` items (``withEnv([...])``), for upper-case NAMEs; their values are expanded like
  the commands (``${{ secrets.NAME }}`` reads NAME);
- ``cassette=SYSTEM/FILE.yaml``: replay the CI's API answers from ``cassettes/SYSTEM/FILE.yaml``
  (vcrpy; the local receiver is not intercepted), for snippets that read the CI's REST API;
- ``log=stderr``: the block is a job log: each of its lines that is not a ``$ ``/``+ `` command
  line must appear in the commands' stderr (``...`` matches anything);
- ``run=COMMAND``: run COMMAND instead of the block's own commands, for a log block that shows
  only the output (e.g. ``run='customcd send --status skipped' log=stderr``).

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

DOCS = Path(__file__).resolve().parents[2] / "docs"

_MARKER = re.compile(r"^[ \t]*<!--\s*test\b(?P<body>.*?)-->[ \t]*\n", re.S | re.M)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n", re.M)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


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


def find_blocks(page: Path) -> list[Block]:
    """Every marked block of a page, in order."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for marker in _MARKER.finditer(text):
        line = text.count("\n", 0, marker.start()) + 1
        rest = text[marker.end() :]
        while rest.startswith("\n"):
            rest = rest[1:]
        fence = _FENCE.match(rest)
        if fence is None:
            raise AssertionError(
                f"docs/{page.name}:{line}: a test marker must precede a fenced block"
            )
        indent, ticks = fence["indent"], fence["fence"]
        close = re.compile(rf"^{re.escape(indent)}{re.escape(ticks)}[ \t]*$", re.M)
        end = close.search(rest, fence.end())
        if end is None:
            raise AssertionError(f"docs/{page.name}:{line}: unclosed fenced block")
        body = rest[fence.end() : end.start()]
        lines = [row[len(indent) :] if row.startswith(indent) else row for row in body.splitlines()]
        try:
            options, variables = parse_marker(marker["body"])
        except ValueError as exc:
            raise AssertionError(f"docs/{page.name}:{line}: {exc}") from None
        blocks.append(
            Block(page.name, line, fence["info"].strip(), "\n".join(lines), options, variables)
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


@dataclass
class PageRun:
    """Runs one page's blocks in one folder against one receiver."""

    cli: Callable[..., Any]
    receiver: Any
    env: dict[str, str]
    cwd: Path
    log: list[str] = field(default_factory=list)
    last_body: dict[str, Any] | None = None

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
        if "file" in options:
            target = self.cwd / options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text + "\n", encoding="utf-8")
            return
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


def _marked_pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if _MARKER.search(p.read_text(encoding="utf-8")))


PAGES = _marked_pages()


@pytest.mark.parametrize("page", PAGES or [None], ids=[p.name for p in PAGES] or ["no-pages"])
def test_marked_snippets_run_against_the_local_receiver(
    page: Path | None, customcd_cli, customcd_env, customcd_receiver, tmp_path
):
    if page is None:
        pytest.skip("no docs page carries a <!-- test --> marker")
    blocks = find_blocks(page)
    work = tmp_path / "work"
    work.mkdir()
    run = PageRun(customcd_cli, customcd_receiver, customcd_env, work)
    for block in blocks:
        base = dict(customcd_env)
        if "sample" in block.options:
            base = {**base, **_sample_env(block.options["sample"])}
        run.run_block(block, base)


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
        "<!-- test: stderr='delivered job' -->\n```console\n$ customcd send --adapter none --job-id 7 "
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
