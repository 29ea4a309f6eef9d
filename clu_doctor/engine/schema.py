"""Typed, located reading of parsed YAML, collecting every problem instead of stopping at one.

The rule files are read in two passes (the pySigma way): this module turns the YAML structure
into plain Python values while checking shapes, types and allowed keys; :mod:`.validate` then
checks meaning (references, reachability, coverage). Each reader method returns ``None`` when
the value is unusable and records a :class:`~clu_doctor.errors.Problem` with ``file:line``, so a
single pass over a file reports all of its shape problems at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clu_doctor.errors import Location, Problem
from clu_doctor.yamlio import YamlList, YamlMap, describe_type


def close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """Up to three candidates that look like a mistyped ``word`` (for "did you mean" hints)."""
    import difflib  # only on the error path: keeps start-up lean

    pool = list(candidates)
    scored = sorted(
        ((difflib.SequenceMatcher(None, word, c).ratio(), c) for c in pool),
        key=lambda pair: -pair[0],
    )
    best = scored[0][0] if scored else 0.0
    # Only the clear winners: 'LAMP-OK-02' suggests 'LAMP-OK-01', not every LAMP-* id.
    found = [c for ratio, c in scored if ratio >= max(0.6, best - 0.1)]
    found += [c for c in pool if c not in found and c.endswith("." + word)]
    return found[:3]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or an empty string when nothing is close."""
    matches = close_matches(word, candidates)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"


@dataclass(frozen=True)
class Where:
    """Where a parsed object came from: its file, its own line, and the line of each key.

    ``lines`` maps a key to the line it sits on and ``"key.N"`` to the line of the N-th item of
    a list value, so semantic checks can point at the exact entry that is wrong.
    """

    path: str
    line: int = 0
    lines: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, path: str, node: YamlMap, line: int | None = None) -> Where:
        """Record ``node``'s key lines; ``line`` overrides its own (e.g. the line of its name)."""
        lines: dict[str, int] = {}
        for key, value in node.items():
            name = str(key)
            lines[name] = node.line_of(key)
            if isinstance(value, YamlList):
                for index in range(len(value)):
                    lines[f"{name}.{index}"] = value.line_of(index)
        return cls(path, node.line if line is None else line, lines)

    def with_lines(self, extra: Mapping[str, int]) -> Where:
        """A copy that also knows the lines in ``extra`` (e.g. entries of a nested mapping)."""
        return Where(self.path, self.line, {**self.lines, **extra})

    def at(self, key: str | None = None, index: int | None = None) -> Location:
        """Location of the object, of one of its keys, or of one item of a list-valued key."""
        if key is None:
            return Location(self.path, self.line)
        if index is not None and f"{key}.{index}" in self.lines:
            return Location(self.path, self.lines[f"{key}.{index}"])
        return Location(self.path, self.lines.get(key, self.line))


class Reader:
    """Reads one file's parsed YAML, recording problems against that file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def where(self, node: YamlMap, line: int | None = None) -> Where:
        return Where.of(self.path, node, line)

    def report(self, line: int, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(Location(self.path, line), message, expected))

    def mapping(self, value: Any, line: int, what: str) -> YamlMap | None:
        """``value`` if it is a mapping, else a problem naming ``what`` it should have been."""
        if isinstance(value, YamlMap):
            return value
        self.report(line, f"{what} must be a mapping, found {describe_type(value)}")
        return None

    def keys(
        self,
        node: YamlMap,
        what: str,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        line: int | None = None,
    ) -> bool:
        """Check the keys of ``node``: unknown keys and missing required keys are problems.

        Unknown keys are errors (not warnings) so that a typo such as ``remedys:`` cannot make
        a rule silently lose its remedy. Missing keys are reported at ``line`` (default: the
        mapping's first line). Returns True when the keys are acceptable.
        """
        allowed = [*required, *optional]
        ok = True
        for key in node:
            if key not in allowed:
                ok = False
                self.report(
                    node.line_of(key),
                    f"unknown key {key!r} in {what}{did_you_mean(str(key), allowed)}",
                    expected="one of: " + ", ".join(allowed),
                )
        for key in required:
            if key not in node:
                ok = False
                self.report(
                    node.line if line is None else line,
                    f"{what} has no {key!r}",
                    expected=f"a {key!r} key",
                )
        return ok

    def text(self, node: YamlMap, key: str, what: str, *, required: bool = True) -> str | None:
        """A non-empty string value (``None`` if absent and optional, or wrong)."""
        if key not in node:
            return None  # a missing required key is reported by keys()
        value = node[key]
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.report(
            node.value_line_of(key),
            f"{key!r} of {what} must be non-empty text, found {describe_type(value)}",
        )
        return None

    def texts(self, node: YamlMap, key: str, what: str) -> tuple[str, ...] | None:
        """A list of non-empty strings; a single string is accepted as a one-item list."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, str) and value.strip():
            return (value.strip(),)
        if not isinstance(value, YamlList):
            self.report(
                node.value_line_of(key),
                f"{key!r} of {what} must be a list of text, found {describe_type(value)}",
            )
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item.strip())
            else:
                self.report(
                    value.line_of(index),
                    f"item {index + 1} of {key!r} in {what} must be non-empty text, "
                    f"found {describe_type(item)}",
                )
                return None
        return tuple(items)

    def number(self, node: YamlMap, key: str, what: str) -> float | None:
        """A finite number (true/false are not numbers, although Python thinks so; nor is .nan)."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        self.report(
            node.value_line_of(key),
            f"{key!r} of {what} must be a number, found {describe_type(value)}",
        )
        return None

    def name(self, value: Any, line: int, what: str, pattern: re.Pattern[str], shape: str) -> bool:
        """Check an identifier against its pattern; ``shape`` describes it for the user."""
        if isinstance(value, str) and pattern.fullmatch(value):
            return True
        shown = repr(value) if isinstance(value, str) else describe_type(value)
        self.report(line, f"{what} {shown} is not a valid name", expected=shape)
        return False
