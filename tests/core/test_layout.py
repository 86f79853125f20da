"""The core's layout stays readable (issue 15): no module over 400 lines, no import circle.

Imports are read with :mod:`ast` from the source files, never by importing them, so a circle is
found even when it only closes inside a function (the usual way to hide one). Counted: every
``import`` and ``from ... import`` statement of a core module, at module level or inside a
function, absolute or relative, that names a module of the ``customcd`` package. Not counted:

- imports under ``if TYPE_CHECKING:`` -- they never run; they name a type for the type checker;
- the implicit import of a parent package (importing ``customcd.contract.job`` runs
  ``customcd/__init__.py`` and ``customcd/contract/__init__.py`` first): counting it would make
  every package ``__init__`` that re-exports its children a circle;
- :func:`importlib.import_module` with a computed name (the public API's lazy ``__getattr__``).

``from package import name`` points at the submodule ``package.name`` when there is one, else at
``package`` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "src" / "customcd"
MAX_LINES = 400


def _modules(package_dir: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Every module under ``package_dir``: dotted name -> (file, whether it is a package)."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs, at any depth, skipping ``if TYPE_CHECKING:`` bodies."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse)
        else:
            yield from _imports(ast.iter_child_nodes(node))


def _owner(name: str, modules: dict[str, tuple[Path, bool]]) -> str | None:
    """The module ``name`` is or lives in (``a.b.C`` -> ``a.b``), if it is one of ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (see the module docstring)."""
    modules = _modules(package_dir, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports([tree]):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    parts = here.split(".")
                    base_parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*base_parts, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else base)
            for target in targets:
                if target != package and not target.startswith(package + "."):
                    continue
                owner = _owner(target, modules)
                if owner is not None and owner != name:
                    graph[name].add(owner)
    return graph


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module: ``[a, b, ..., a]``."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for succ in sorted(graph[node] & members):
            if succ == start:
                return [*paths[node], start]
            if succ not in paths:
                paths[succ] = [*paths[node], succ]
                queue.append(succ)
    raise AssertionError(f"{component} is not strongly connected")  # pragma: no cover


def import_circles(graph: dict[str, set[str]]) -> list[str]:
    """One line per circle: ``a -> b -> a`` (and which other modules share its knot)."""
    lines = []
    for component in _strongly_connected(graph):
        cycle = _one_cycle(graph, component)
        line = " -> ".join(cycle)
        others = sorted(set(component) - set(cycle))
        if others:
            line += f" (tangled with {', '.join(others)})"
        lines.append(line)
    return lines


def test_no_core_module_is_over_400_lines() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(CORE.rglob("*.py"))
    }
    assert len(sizes) > 20, "the core package was not found"
    over = [f"{name}: {lines} lines" for name, lines in sizes.items() if lines > MAX_LINES]
    assert not over, (
        f"split these modules (at most {MAX_LINES} lines each, issue 15):\n  " + "\n  ".join(over)
    )


def test_no_import_circle_among_core_modules() -> None:
    graph = import_graph(CORE, "customcd")
    assert graph["customcd.cli.main"], "no imports found: the graph is broken"
    circles = import_circles(graph)
    assert not circles, "import circles among core modules:\n  " + "\n  ".join(circles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_graph_reads_every_kind_of_import(tmp_path: Path) -> None:
    """Relative, absolute, ``from . import``, function-level; TYPE_CHECKING and others skipped."""
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import json\nfrom .b import thing\n",
            "pkg/b.py": "def f():\n    from . import c\n    return c\n",
            "pkg/c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import thing\n"
                "else:\n    import pkg.sub.d\n"
            ),
            "pkg/sub/__init__.py": "from ..c import name\n",
            "pkg/sub/d.py": "import pkg.sub\nfrom pkg import a as _a\nimport pkgother\n",
        },
    )
    assert import_graph(package, "pkg") == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.sub.d"},
        "pkg.sub": {"pkg.c"},
        "pkg.sub.d": {"pkg.sub", "pkg.a"},
    }


def test_a_circle_closed_inside_a_function_is_named(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/job.py": "from .record import Record\n",
            "pkg/record.py": "def job():\n    from .job import Job\n    return Job\n",
            "pkg/fine.py": "from .job import Record\n",
        },
    )
    assert import_circles(import_graph(package, "pkg")) == ["pkg.job -> pkg.record -> pkg.job"]


def test_a_longer_circle_is_named_with_its_knot(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\n",
            "pkg/b.py": "from . import c\nfrom . import d\n",
            "pkg/c.py": "from . import a\n",
            "pkg/d.py": "from . import b\n",
        },
    )
    assert import_circles(import_graph(package, "pkg")) == [
        "pkg.a -> pkg.b -> pkg.c -> pkg.a (tangled with pkg.d)"
    ]
