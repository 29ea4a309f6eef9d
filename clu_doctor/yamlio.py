"""Strict, safe YAML loading with line numbers, shared by every file the tool reads.

* Only the safe constructors: YAML here is data, never code.
* Duplicate keys are an error (plain PyYAML silently keeps the last one).
* Booleans follow YAML 1.2: only ``true``/``false``. Under YAML 1.1 the LED value ``off`` and
  the answer ``no`` would silently become ``False``; here they stay the strings they look like.
* Mappings and sequences come back as :class:`YamlMap` / :class:`YamlList`, plain ``dict`` and
  ``list`` subclasses that remember the line of every key and item, so later validation can
  point at ``file:line``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from clu_doctor.errors import FileProblemError, Location, Problem

_Base: type[yaml.SafeLoader]
try:  # the C parser is several times faster; the constructor and resolver stay the safe Python ones
    _Base = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_BOOL_TAG = "tag:yaml.org,2002:bool"


class YamlMap(dict[Any, Any]):
    """A mapping that knows where it and each of its keys and values start (1-based lines)."""

    line: int = 0
    column: int = 0
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """Line of ``key`` if present, else the line of the mapping itself."""
        return self.key_lines.get(key, self.line)

    def value_line_of(self, key: Any) -> int:
        return self.value_lines.get(key, self.line_of(key))


class YamlList(list[Any]):
    """A sequence that knows where it and each of its items start (1-based lines)."""

    line: int = 0
    column: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class StrictSafeLoader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader that rejects duplicate keys, keeps line numbers and reads only true/false as bool."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> YamlMap:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    "a key must be a plain value, not a list or mapping",
                    key_node.start_mark,
                ) from None
            if key in seen:
                raise _DuplicateKey(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first given on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        self.flatten_mapping(node)
        result = YamlMap()
        result.line = node.start_mark.line + 1
        result.column = node.start_mark.column + 1
        result.key_lines = {}
        result.value_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[key] = key_node.start_mark.line + 1
            result.value_lines[key] = value_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> YamlList:
        if not isinstance(node, yaml.SequenceNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a sequence, found {node.id}", node.start_mark
            )
        result = YamlList(self.construct_object(child, deep=deep) for child in node.value)
        result.line = node.start_mark.line + 1
        result.column = node.start_mark.column + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def _construct_map(self, node: yaml.MappingNode) -> Any:
        # Generator form, as PyYAML's own constructors use, so that recursive structures work.
        data = YamlMap()
        yield data
        built = self.construct_mapping(node)
        data.update(built)
        data.line, data.column = built.line, built.column
        data.key_lines, data.value_lines = built.key_lines, built.value_lines

    def _construct_seq(self, node: yaml.SequenceNode) -> Any:
        data = YamlList()
        yield data
        built = self.construct_sequence(node)
        data.extend(built)
        data.line, data.column = built.line, built.column
        data.item_lines = built.item_lines


StrictSafeLoader.add_constructor("tag:yaml.org,2002:map", StrictSafeLoader._construct_map)
StrictSafeLoader.add_constructor("tag:yaml.org,2002:seq", StrictSafeLoader._construct_seq)
# YAML 1.2 booleans: drop the YAML 1.1 resolver (yes/no/on/off/y/n) and accept only true/false.
StrictSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
StrictSafeLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _problem_from_yaml_error(source: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    column = mark.column + 1 if mark is not None else 0
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if isinstance(error, _DuplicateKey):
        return Problem(Location(source, line, column), problem)
    message = f"not valid YAML: {problem}"
    if context and "duplicate" not in problem:
        message += f" ({context})"
    return Problem(Location(source, line, column), message)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse one YAML document; ``source`` names it in error messages. Empty text gives ``None``."""
    try:
        loader = StrictSafeLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise FileProblemError([_problem_from_yaml_error(source, error)]) from error


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, turning every OS-level failure into one located problem."""
    where = Location.of(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileProblemError.at(where, "no such file") from None
    except IsADirectoryError:
        raise FileProblemError.at(where, "is a directory", expected="a file") from None
    except PermissionError:
        raise FileProblemError.at(
            where, "cannot read: permission denied", hint="check the file's owner and mode"
        ) from None
    except OSError as error:
        raise FileProblemError.at(where, f"cannot read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblemError.at(
            where, f"not UTF-8 text (byte {error.start})", expected="a YAML or JSON text file"
        ) from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file (JSON is accepted too: it is a subset of YAML)."""
    return load_yaml_text(read_text(path), str(path))


def describe_type(value: Any) -> str:
    """A user-facing name for a parsed value's type, for "expected X, found Y" messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
