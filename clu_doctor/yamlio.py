"""Every YAML file the tool reads: strict, safe loading with line numbers, and one located reader.

Loading (:func:`load_yaml_file`, :func:`load_yaml_text`):

* Only the safe constructors: YAML here is data, never code.
* Duplicate keys are an error (plain PyYAML silently keeps the last one).
* Booleans follow YAML 1.2: only ``true``/``false``. Under YAML 1.1 the LED value ``off`` and
  the answer ``no`` would silently become ``False``; here they stay the strings they look like.
* Mappings and sequences come back as :class:`YamlMap` / :class:`YamlList`, plain ``dict`` and
  ``list`` subclasses that remember the line of every key and item, so later validation can
  point at ``file:line``.

Reading (:class:`Reader`): the rules, the site, device profiles and simulator scenarios all turn
that structure into typed values through one :class:`Reader`. Each of its methods returns
``None`` for an unusable value and records a :class:`~clu_doctor.errors.Problem` at the value's
line, so one pass over a file reports every problem in it; unknown keys come with "did you mean".

PyYAML itself is imported on the first parse only: a diagnosis from the cached rulebook reads no
YAML, and importing the library costs about as much as the engine does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from clu_doctor.errors import FileProblemError, Location, Problem
from clu_doctor.suggest import did_you_mean

if TYPE_CHECKING:
    import yaml

T = TypeVar("T")


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


class Where(NamedTuple):
    """Where a parsed object came from: its file, its own line, and the line of each key.

    ``lines`` maps a key to the line it sits on and ``"key.N"`` to the line of the N-th item of
    a list value, so checks made long after reading can point at the exact entry that is wrong.
    """

    path: str
    line: int = 0
    lines: Mapping[str, int] = {}

    def with_lines(self, extra: Mapping[str, int]) -> Where:
        """A copy that also knows the lines in ``extra`` (e.g. entries of a nested mapping)."""
        return self._replace(lines={**self.lines, **extra})

    def at(self, key: str | None = None, index: int | None = None) -> Location:
        """Location of the object, of one of its keys, or of one item of a list-valued key."""
        if key is None:
            return Location(self.path, self.line)
        if index is not None and f"{key}.{index}" in self.lines:
            return Location(self.path, self.lines[f"{key}.{index}"])
        return Location(self.path, self.lines.get(key, self.line))


NOWHERE = Where("")


def where_of(path: str, node: YamlMap, line: int | None = None) -> Where:
    """Record ``node``'s key lines (and list items' lines); ``line`` overrides its own line."""
    lines: dict[str, int] = {}
    for key, value in node.items():
        name = str(key)
        lines[name] = node.line_of(key)
        if isinstance(value, YamlList):
            for index in range(len(value)):
                lines[f"{name}.{index}"] = value.line_of(index)
    return Where(path, node.line if line is None else line, lines)


# --- loading -------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"
_loader: type[yaml.SafeLoader] | None = None


class _DuplicateKeyMark:
    """Marks the loader's duplicate-key error, whose message needs no "not valid YAML" prefix."""


def _strict_loader() -> type[yaml.SafeLoader]:
    """The SafeLoader that rejects duplicate keys, keeps line numbers and reads only true/false
    as bool; built on first use so that start-up does not pay for PyYAML."""
    global _loader  # noqa: PLW0603 - built once, on the first parse
    if _loader is not None:
        return _loader
    import yaml  # only when a file is parsed: see the module docstring

    base: type[yaml.SafeLoader]
    try:  # the C parser is several times faster; the constructor and resolver stay Python's
        base = yaml.CSafeLoader  # type: ignore[assignment]
    except AttributeError:  # pragma: no cover - depends on how PyYAML was built
        base = yaml.SafeLoader

    class DuplicateKey(yaml.MarkedYAMLError, _DuplicateKeyMark):
        pass

    class StrictSafeLoader(base):  # type: ignore[misc,valid-type]
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
                    raise DuplicateKey(
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

        def construct_map(self, node: yaml.MappingNode) -> Any:
            # Generator form, as PyYAML's own constructors use, so that recursive structures work.
            data = YamlMap()
            yield data
            built = self.construct_mapping(node)
            data.update(built)
            data.line, data.column = built.line, built.column
            data.key_lines, data.value_lines = built.key_lines, built.value_lines

        def construct_seq(self, node: yaml.SequenceNode) -> Any:
            data = YamlList()
            yield data
            built = self.construct_sequence(node)
            data.extend(built)
            data.line, data.column = built.line, built.column
            data.item_lines = built.item_lines

    StrictSafeLoader.add_constructor("tag:yaml.org,2002:map", StrictSafeLoader.construct_map)
    StrictSafeLoader.add_constructor("tag:yaml.org,2002:seq", StrictSafeLoader.construct_seq)
    # YAML 1.2 booleans: drop the YAML 1.1 resolver (yes/no/on/off/y/n), accept only true/false.
    StrictSafeLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    StrictSafeLoader.add_implicit_resolver(
        _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _loader = StrictSafeLoader
    return _loader


def _problem_from_yaml_error(source: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    column = mark.column + 1 if mark is not None else 0
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if isinstance(error, _DuplicateKeyMark):
        return Problem(Location(source, line, column), problem)
    message = f"not valid YAML: {problem}"
    if context and "duplicate" not in problem:
        message += f" ({context})"
    return Problem(Location(source, line, column), message)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse one YAML document; ``source`` names it in error messages. Empty text gives ``None``."""
    loader_class = _strict_loader()
    import yaml  # already imported by _strict_loader; named here for its error type

    try:
        loader = loader_class(text)
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


# --- reading -------------------------------------------------------------------------------


def _bounds(low: float | None, high: float | None, above: float | None) -> str:
    """How a range reads after "a number": ``, 1..16``, ``, 0 or more``, `` above 0``."""
    if above is not None:
        return f" above {above:g}"
    if low is not None and high is not None:
        return f", {low:g}..{high:g}"
    if low is not None:
        return f", {low:g} or more"
    if high is not None:
        return f", at most {high:g}"
    return ""


def _span(low: float | None, high: float | None) -> str:
    return f"{-math.inf if low is None else low:g}..{math.inf if high is None else high:g}"


class Reader:
    """Reads one file's parsed YAML into typed values, recording every problem against the file.

    ``what`` names the value in messages (``"meters: present"``); it defaults to the key, and
    ``of=X`` makes it ``'key' of X``. Every problem reads ``WHAT is FOUND (expected ...)``:
    FOUND names the value's kind (``a list``) when the kind is wrong, and quotes text of the
    right kind that is not an allowed value (``'middle'``).

    The hooks :meth:`out_of_range`, :meth:`unknown_key` and :meth:`missing_key` are the only
    wording a file type may change, for messages its users (and tests) already know.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def where(self, node: YamlMap, line: int | None = None) -> Where:
        return where_of(self.path, node, line)

    def report(self, line: int, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(Location(self.path, line), message, expected))

    # -- wording hooks ----------------------------------------------------------------------

    def wrong_kind(self, line: int, what: str, value: Any, expected: str) -> None:
        """A value of the wrong kind, named by its kind: ``port is a whole number``."""
        self.report(line, f"{what} is {describe_type(value)}", expected)

    def invalid(self, line: int, what: str, value: Any, expected: str) -> None:
        """A value that is not one of those allowed: text is quoted, anything else named by its
        kind (``adapter is 'middle'``, ``adapter is a list``)."""
        shown = repr(value) if isinstance(value, str) else describe_type(value)
        self.report(line, f"{what} is {shown}", expected)

    def out_of_range(self, line: int, what: str, value: float, expected: str, span: str) -> None:
        """A number of the right kind beyond its bounds; ``span`` is them alone (``1..16``)."""
        self.report(line, f"{what} is {value}", expected)

    def unknown_key(self, line: int, key: Any, what: str, allowed: Sequence[str]) -> None:
        self.report(
            line,
            f"unknown key {key!r} in {what}{did_you_mean(str(key), allowed)}",
            "one of: " + ", ".join(allowed),
        )

    def missing_key(self, line: int, key: str, what: str) -> None:
        self.report(line, f"{what} has no {key!r}", f"a {key!r} key")

    # -- shapes -----------------------------------------------------------------------------

    def mapping(self, value: Any, line: int, what: str) -> YamlMap | None:
        """``value`` if it is a mapping, else a problem naming ``what`` it should have been."""
        if isinstance(value, YamlMap):
            return value
        self.wrong_kind(line, what, value, "a mapping")
        return None

    def keys(
        self,
        node: YamlMap,
        what: str,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        line: int | None = None,
    ) -> None:
        """Check the keys of ``node``: unknown keys and missing required keys are problems.

        Unknown keys are errors (not warnings) so that a typo such as ``remedys:`` cannot make
        a rule silently lose its remedy, or a scenario quietly simulate a healthy site. Missing
        keys are reported at ``line`` (default: the mapping's first line).
        """
        allowed = [*required, *optional]
        for key in node:
            if key not in allowed:
                self.unknown_key(node.line_of(key), key, what, allowed)
        for key in required:
            if key not in node:
                self.missing_key(node.line if line is None else line, key, what)

    def section(
        self,
        value: Any,
        line: int,
        what: str,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
    ) -> YamlMap | None:
        """A mapping with its keys checked (missing ones reported at ``line``), or ``None``."""
        node = self.mapping(value, line, what)
        if node is not None:
            self.keys(node, what, required, optional, line)
        return node

    # -- values (``None``: absent or unusable; an absent required key is keys()'s problem) ----

    @staticmethod
    def _what(key: str, what: str | None, of: str | None) -> str:
        if what is not None:
            return what
        return f"{key!r} of {of}" if of is not None else key

    def text(
        self, node: YamlMap, key: str, what: str | None = None, *, of: str | None = None
    ) -> str | None:
        """Non-empty text, stripped."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.wrong_kind(node.value_line_of(key), self._what(key, what, of), value, "text")
        return None

    def texts(
        self, node: YamlMap, key: str, what: str | None = None, *, of: str | None = None
    ) -> tuple[str, ...] | None:
        """A list of non-empty texts; a single text is accepted as a one-item list."""
        if key not in node:
            return None
        value = node[key]
        name = self._what(key, what, of)
        if isinstance(value, str) and value.strip():
            return (value.strip(),)
        if not isinstance(value, YamlList):
            self.wrong_kind(node.value_line_of(key), name, value, "a list of text")
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.wrong_kind(value.line_of(index), f"item {index + 1} of {name}", item, "text")
                return None
            items.append(item.strip())
        return tuple(items)

    def number(
        self,
        node: YamlMap,
        key: str,
        what: str | None = None,
        *,
        of: str | None = None,
        low: float | None = None,
        high: float | None = None,
        above: float | None = None,
        expected: str | None = None,
    ) -> float | None:
        """A finite number within ``low``..``high`` (or ``above`` a bound); true/false are not
        numbers, although Python thinks so."""
        if key not in node:
            return None
        value, line, name = node[key], node.value_line_of(key), self._what(key, what, of)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.wrong_kind(line, name, value, expected or "a number")
            return None
        wanted = expected or "a number" + _bounds(low, high, above)
        if (
            math.isinf(value)
            or (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
        ):
            self.out_of_range(line, name, value, wanted, _span(low, high))
            return None
        return float(value)

    def whole(
        self,
        value: Any,
        line: int,
        what: str,
        *,
        low: int | None = None,
        high: int | None = None,
        expected: str | None = None,
    ) -> int | None:
        """``value`` as a whole number within ``low``..``high``."""
        wanted = expected or "a whole number" + _bounds(low, high, None)
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_kind(line, what, value, wanted)
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.out_of_range(line, what, value, wanted, _span(low, high))
            return None
        return value

    def integer(
        self,
        node: YamlMap,
        key: str,
        what: str | None = None,
        *,
        of: str | None = None,
        low: int | None = None,
        high: int | None = None,
        expected: str | None = None,
    ) -> int | None:
        """The whole number under ``key``, within ``low``..``high``."""
        if key not in node:
            return None
        name = self._what(key, what, of)
        return self.whole(
            node[key], node.value_line_of(key), name, low=low, high=high, expected=expected
        )

    def boolean(
        self, node: YamlMap, key: str, what: str | None = None, *, of: str | None = None
    ) -> bool | None:
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, bool):
            return value
        self.wrong_kind(node.value_line_of(key), self._what(key, what, of), value, "true or false")
        return None

    def choice(
        self,
        node: YamlMap,
        key: str,
        allowed: Collection[str],
        what: str | None = None,
        *,
        of: str | None = None,
        expected: str | None = None,
    ) -> str | None:
        """One of ``allowed``, exactly as written."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, str) and value in allowed:
            return value
        wanted = expected or " | ".join(allowed)
        self.invalid(node.value_line_of(key), self._what(key, what, of), value, wanted)
        return None

    def parsed(
        self,
        node: YamlMap,
        key: str,
        parse: Callable[[str], T],
        expected: str,
        what: str | None = None,
    ) -> T | None:
        """Text turned into a value by ``parse``, whose ``ValueError`` is the problem's message."""
        if key not in node:
            return None
        value, line = node[key], node.value_line_of(key)
        if not isinstance(value, str):
            self.wrong_kind(line, self._what(key, what, None), value, expected)
            return None
        try:
            return parse(value)
        except ValueError as error:
            self.report(line, str(error))
            return None
