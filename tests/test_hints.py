"""Every hint and every help text names only what the installed tool has.

A hint is the way out of an error; one that names a command, a flag or a file the user does not
have is worse than none. This collects every hint the package can give (``hint=`` arguments,
the second argument of an error, everything assigned to a name with "hint" in it, wherever it
is built) and every help text and epilog of every command and option, then checks each
``clu-doctor ...`` command line in them against the real command tree, each ``--flag`` against
the options that exist, and each relative file path against the files that ship in the package
(docs are named by ``clu-doctor docs TOPIC``, not by a path in the source tree).
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer

from clu_doctor.cli import app
from clu_doctor.commands.docs import topics

PACKAGE = Path(__file__).resolve().parents[1] / "clu_doctor"


@dataclass(frozen=True)
class Text:
    """A piece of text a user reads, and where it comes from."""

    where: str
    text: str
    #: The command whose help this is (its own flags may be named bare), if any.
    command: tuple[str, ...] | None = None


# --- collecting --------------------------------------------------------------------------------


def _literal(node: ast.AST) -> str | None:
    """The text of a string expression: constants, f-strings (placeholders as ``{}``),
    concatenations and parenthesised implicit joins."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(part) or "{}" for part in node.values)
    if isinstance(node, ast.FormattedValue):
        return "{}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        if left is not None or right is not None:
            return (left or "{}") + (right or "{}")
    return None


def _hints_in(path: Path) -> Iterator[Text]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = str(path.relative_to(PACKAGE.parent))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "hint" and (text := _literal(keyword.value)):
                    yield Text(f"{where}:{node.lineno}", text)
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            is_error = name.endswith(("Error", "CouldNotCheck", "Busy"))
            if is_error and len(node.args) >= 2 and (text := _literal(node.args[1])):
                yield Text(f"{where}:{node.lineno}", text)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [getattr(t, "id", getattr(t, "attr", "")) for t in targets]
            named = any("hint" in name.lower() for name in names)
            if named and node.value is not None and (text := _literal(node.value)):
                yield Text(f"{where}:{node.lineno}", text)


@cache
def hints() -> tuple[Text, ...]:
    found = [text for path in sorted(PACKAGE.rglob("*.py")) for text in _hints_in(path)]
    return tuple(found)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from _commands(child, (*path, name))


@cache
def root() -> Any:
    return typer.main.get_command(app)


@cache
def help_texts() -> tuple[Text, ...]:
    found = []
    for path, command in _commands(root()):
        where = "clu-doctor " + " ".join(path)
        for text in (command.help, command.epilog, command.short_help):
            if text:
                found.append(Text(where, text, path))
        for param in command.params:
            text = getattr(param, "help", None)
            if text:
                found.append(Text(f"{where} {param.opts[0]}", text, path))
    return tuple(found)


# --- judging -----------------------------------------------------------------------------------


def _options(command: Any) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


@cache
def every_option() -> frozenset[str]:
    return frozenset(o for _, command in _commands(root()) for o in _options(command))


_COMMAND_LINE = re.compile(r"(?<![\w/.\\-])clu-doctor((?: [^\s'\"`;,()|>]+)+)")


def command_lines(text: str) -> Iterator[list[str]]:
    """The words after each ``clu-doctor`` in ``text`` (up to a quote, a pipe, a comment)."""
    for line in text.splitlines():
        code = line.split(" #", 1)[0]
        for match in _COMMAND_LINE.finditer(code):
            yield match.group(1).split()


def problems_with_command(words: list[str]) -> list[str]:
    """What in ``clu-doctor WORDS`` does not exist."""
    command: Any = root()
    path: list[str] = []
    rest = list(words)
    while rest and not rest[0].startswith("-"):
        children = getattr(command, "commands", None)
        if children is None:
            break
        if rest[0] not in children:
            if rest[0].isupper() or "{}" in rest[0] or rest[0] == "...":
                return []  # a placeholder (COMMAND, TOPIC): nothing to check
            return [f"no command 'clu-doctor {' '.join([*path, rest[0]])}'"]
        path.append(rest.pop(0))
        command = children[path[-1]]
    wrong = []
    options = _options(command) | {"--help", "-h"}
    topic = rest[0] if path == ["docs"] and rest and rest[0].islower() else None
    if topic is not None and not topic.startswith("-") and topic not in topics():
        wrong.append(f"no documentation topic {rest[0]!r} ('clu-doctor docs {rest[0]}')")
    for word in rest:
        flag = word.split("=", 1)[0].rstrip(".:")
        if flag.startswith("-") and len(flag) > 1 and flag not in options:
            wrong.append(f"'clu-doctor {' '.join(path)}' has no option {flag}")
    return wrong


#: ``--flag`` on its own (not another program's ``--collector.textfile.directory``).
_BARE_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w.])")
#: Relative paths into a source tree (docs/x.md, examples/site.yaml); not absolute ones
#: (/etc/clu-doctor/site.yaml), which are the user's own.
_RELATIVE_FILE = re.compile(r"(?<![\w/.~$-])((?:[a-z][\w-]*/)+[\w.-]+\.(?:md|yaml|yml|json|txt))")


def problems_with(text: Text) -> list[str]:
    wrong = []
    for words in command_lines(text.text):
        wrong += problems_with_command(words)
    own = _options(root()) if text.command is None else set()
    if text.command is not None:
        command: Any = root()
        for name in text.command:
            command = command.commands[name]
        own = _options(command)
    bare = _COMMAND_LINE.sub("", text.text)  # command lines are checked above, whole
    for flag in _BARE_FLAG.findall(bare):
        if flag not in own | {"--help"} and flag not in every_option():
            wrong.append(f"no command has the option {flag}")
    written = re.sub(r">\s*\S+", "", text.text)  # "> docs/rules.md": the user's file to write
    for path in _RELATIVE_FILE.findall(written):
        if not (PACKAGE / path).exists():
            wrong.append(f"{path} is not in the installed package")
    return wrong


# --- the tests ---------------------------------------------------------------------------------


def test_the_collection_finds_the_hints_and_the_help() -> None:
    """Guards the test itself."""
    assert len(hints()) > 40
    assert any("'clu-doctor ports'" in h.text for h in hints())
    assert any(t.where == "clu-doctor check --timeout" for t in help_texts())
    assert problems_with(Text("x", "run 'clu-doctor nothing-here'")) == [
        "no command 'clu-doctor nothing-here'"
    ]
    assert problems_with(Text("x", "see docs/monitoring.md")) == [
        "docs/monitoring.md is not in the installed package"
    ]
    assert problems_with(Text("x", "pass --no-such-flag")) == [
        "no command has the option --no-such-flag"
    ]
    assert problems_with(Text("x", "clu-doctor check --nope")) == [
        "'clu-doctor check' has no option --nope"
    ]
    assert problems_with(Text("x", "clu-doctor docs nothing")) == [
        "no documentation topic 'nothing' ('clu-doctor docs nothing')"
    ]
    assert problems_with(Text("x", "clu-doctor history --sim X --history-dir /var/lib/x")) == []


@pytest.mark.parametrize("text", hints(), ids=lambda t: t.where)
def test_every_hint_names_what_exists(text: Text) -> None:
    assert problems_with(text) == [], text.text


@pytest.mark.parametrize("text", help_texts(), ids=lambda t: t.where)
def test_every_help_text_names_what_exists(text: Text) -> None:
    assert problems_with(text) == [], text.text


def test_every_example_in_the_help_runs_as_written_so_far_as_parsing_goes() -> None:
    """Each example command line in an epilog parses (shlex) and names real commands."""
    for text in help_texts():
        if not text.where.count(" ") or "Examples" not in text.text:
            continue
        for raw in text.text.splitlines():
            line = raw.strip().split("  #", 1)[0]
            if line.startswith("clu-doctor "):
                words = shlex.split(line.split(" > ", 1)[0].split(" | ", 1)[0])
                assert problems_with_command(words[1:]) == [], (text.where, line)
