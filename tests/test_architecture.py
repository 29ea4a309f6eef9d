"""The package's layers, read from its import statements: no cycles, no arrow the wrong way.

The graph is built with :mod:`ast` from every ``import`` the code runs - at module level or
inside a function - and leaves out ``if TYPE_CHECKING:`` blocks, which never run. A module
that imports ``clu_doctor.bus.listen.analyser`` depends on that module (not on the packages
above it, whose ``__init__`` files stay thin).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from clu_doctor.cli import _COMMAND_MODULES

PACKAGE = Path(__file__).resolve().parents[1] / "clu_doctor"

#: The command line's commands, and one it has been known to promise without having.
COMMANDS = {*_COMMAND_MODULES, "profiles"}

#: Where a room may not look: (importing room, forbidden room or third-party top-level name).
#: The engine and the bus know no terminal and no command line; the bus knows no rules, site
#: file or simulator; the engine knows no bus; renderers do not reach into the terminal layer;
#: the site description knows nothing of rule results.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "engine": (
        "typer",
        "rich",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
        "clu_doctor.report",
        "clu_doctor.bus",
        "clu_doctor.site",
        "clu_doctor.sim",
        "clu_doctor.probing",
        "clu_doctor.monitoring",
    ),
    "bus": (
        "typer",
        "rich",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
        "clu_doctor.report",
        "clu_doctor.engine",
        "clu_doctor.site",
        "clu_doctor.sim",
        "clu_doctor.probing",
        "clu_doctor.monitoring",
    ),
    "sim": (
        "typer",
        "rich",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
        "clu_doctor.report",
        "clu_doctor.engine",
        "clu_doctor.probing",
        "clu_doctor.monitoring",
    ),
    "site": (
        "typer",
        "rich",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
        "clu_doctor.report",
        "clu_doctor.engine",
        "clu_doctor.probing",
        "clu_doctor.monitoring",
        "clu_doctor.sim",
    ),
    "probing": (
        "typer",
        "rich",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
        "clu_doctor.report",
    ),
    "monitoring": (
        "typer",
        "click",
        "clu_doctor.cli",
        "clu_doctor.commands",
        "clu_doctor.ui",
    ),
    "report": ("typer", "click", "clu_doctor.cli", "clu_doctor.commands", "clu_doctor.ui"),
}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _owner(name: str) -> str:
    """The module of ours that ``name`` lives in (``a.b.func`` -> ``a.b``)."""
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(name: str, path: Path) -> Iterator[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def walk(node: ast.AST) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    yield from walk(other)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, alias.name, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    module = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    module = child.module or ""
                for alias in child.names:
                    full = f"{module}.{alias.name}"
                    yield Import(name, full if full in _modules() else module, child.lineno)
            yield from walk(child)

    yield from walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))


@cache
def _graph() -> dict[str, tuple[Import, ...]]:
    return {name: tuple(_imports_of(name, path)) for name, path in _modules().items()}


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, imports in _graph().items():
        targets = {_owner(i.target) for i in imports if i.target.startswith("clu_doctor")}
        edges[name] = targets - {name, ""}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_package() -> None:
    """Guards the test itself: the walk finds the modules and the arrows it must judge."""
    edges = _edges()
    assert "clu_doctor.cli" in edges and "clu_doctor.engine.walk" in edges
    assert any(t.startswith("clu_doctor.engine") for t in edges["clu_doctor.commands.diagnose"])
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    assert _cycles(_edges()) == []


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_no_arrow_the_wrong_way(room: str) -> None:
    wrong = []
    for name, imports in sorted(_graph().items()):
        if not name.startswith(f"clu_doctor.{room}"):
            continue
        for item in imports:
            target = item.target
            for banned in FORBIDDEN[room]:
                if target == banned or target.startswith(f"{banned}."):
                    path = _modules()[name].relative_to(PACKAGE.parent)
                    wrong.append(f"{path}:{item.line}: {name} imports {target}")
    assert wrong == []


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


@pytest.mark.parametrize("room", ["bus", "engine"])
def test_the_bus_and_the_engine_name_no_command_or_flag(room: str) -> None:
    """Their messages reach people through more than this command line (other tools, the
    library), so a command or flag named there would be wrong somewhere; the command layer
    adds them (``commands/options.py`` ``flag_hints``). The program's own name is fine."""
    named = []
    for name, path in sorted(_modules().items()):
        if not name.startswith(f"clu_doctor.{room}"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            flag = any(part.startswith("--") and part[2:3].isalpha() for part in text.split())
            command = any(word in COMMANDS for word in re.findall(r"clu-doctor ([a-z]+)", text))
            if id(node) not in skip and (flag or command):
                where = path.relative_to(PACKAGE.parent)
                named.append(f"{where}:{node.lineno}: {text[:60]!r}")
    assert named == []


#: Where ``@dataclass`` itself stays: the simulator's line model wants ``slots`` and runs in
#: no command's start-up.
DATACLASS_ALLOWED = {"sim/line.py"}


def test_value_types_are_records_not_dataclasses() -> None:
    """A frozen dataclass compiles six methods at import on Python 3.10-3.12 (~1 ms a class);
    ``@record`` is the same type without that (docs/architecture.md)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for decorator in node.decorator_list:
                called = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(called) in ("dataclass", "dataclasses.dataclass"):
                    found.add(path.relative_to(PACKAGE).as_posix())
    assert found == DATACLASS_ALLOWED, "use clu_doctor.records.record instead of @dataclass"
