"""Errors a user can cause, each rendered by the CLI as one line (plus an optional hint).

Every layer raises subclasses of :class:`CluDoctorError`; the CLI catches them in one place and
maps them to an exit code. Nothing here knows about terminals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from clu_doctor.exitcodes import ExitCode
from clu_doctor.records import record


class CluDoctorError(Exception):
    """Base class: a message for the user, an optional hint, and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.UNKNOWN

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


def error_line(
    message: str, hint: str | None = None, words: tuple[str, str] = ("error", "hint")
) -> str:
    """The one line a user sees for an error: ``clu-doctor: error: MESSAGE (hint: HINT)``;
    ``words`` are "error" and "hint" in the run's language (the command line's)."""
    error, hint_word = words
    line = f"clu-doctor: {error}: {message}"
    return f"{line} ({hint_word}: {hint})" if hint else line


class UsageError(CluDoctorError):
    """A bad flag value or combination on the command line."""


@record
class Location:
    """A place in a user-supplied or bundled file: ``path:line[:column]``.

    Lines and columns are 1-based, as editors show them. ``line`` 0 means "the whole file".
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        if self.column <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"

    @classmethod
    def of(cls, path: str | Path, line: int = 0, column: int = 0) -> Location:
        return cls(str(path), line, column)


@record
class Problem:
    """One problem found in a file: where, what is wrong, and what was expected."""

    location: Location
    message: str
    expected: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class FileProblemError(CluDoctorError):
    """One or more problems in a file the user gave us (answers, site, rules, profile).

    ``str()`` is the first problem in the ``path:line: message (expected ...)`` form;
    ``problems`` holds all of them for collect-all reporting.
    """

    def __init__(self, problems: Sequence[Problem], hint: str | None = None) -> None:
        if not problems:
            raise ValueError("FileProblemError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = str(self.problems[0])
        more = len(self.problems) - 1
        if more:
            first += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(first, hint)

    @classmethod
    def at(
        cls,
        location: Location,
        message: str,
        expected: str | None = None,
        hint: str | None = None,
    ) -> FileProblemError:
        return cls([Problem(location, message, expected)], hint)


def raise_if_problems(problems: Iterable[Problem], hint: str | None = None) -> None:
    """Raise one :class:`FileProblemError` carrying every problem, if there are any."""
    collected = list(problems)
    if collected:
        raise FileProblemError(collected, hint)
