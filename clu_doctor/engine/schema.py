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
from collections.abc import Sequence
from typing import Any

from clu_doctor.engine.model import Where
from clu_doctor.errors import Location, Problem
from clu_doctor.suggest import did_you_mean
from clu_doctor.yamlio import YamlList, YamlMap, describe_type


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


class Reader:
    """Reads one file's parsed YAML, recording problems against that file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def where(self, node: YamlMap, line: int | None = None) -> Where:
        return where_of(self.path, node, line)

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
