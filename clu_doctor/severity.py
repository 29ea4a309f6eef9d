"""How bad something is: one type for every layer that says so.

The rules' findings, the bus's listen verdicts, a device profile's state codes, the site's
thresholds and the overall status of a run all speak in :class:`Severity`. It lives here, at the
top of the package and importing nothing but the exit codes, so that the bus (which knows no
rules) and the engine (which knows no bus) share it without depending on each other.

Files keep their words (``severity: warning`` in a profile or a tree, ``"severity": "warning"``
in JSON): a reader turns the word into the enum once, a writer uses :attr:`Severity.value`.
How a severity *looks* (its words and colours on a terminal) is the report's business, in
:mod:`clu_doctor.report.console`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from clu_doctor.exitcodes import ExitCode


class Severity(str, Enum):
    """How bad a finding or a verdict is; also the overall status of a diagnosis or a check.

    ``unknown`` means "cannot decide from what is known: look at X"; it maps to the
    monitoring-plugin UNKNOWN exit code, like a check that could not run. Only a whole result
    or a rule's finding is ever unknown: a profile's state code or a site's threshold always
    decides (see :data:`GRADES`).
    """

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Urgency for sorting and for the overall status: higher is worse.

        ``unknown`` sits between info and warning: an undecided check outweighs "all fine"
        but not a problem that was actually found.
        """
        return _RANK[self]

    @property
    def exit_code(self) -> ExitCode:
        """The monitoring-plugin exit code of a result of this severity (``info`` is OK)."""
        return _EXIT_CODES[self]

    @classmethod
    def worst(cls, severities: Iterable[Severity], default: Severity | None = None) -> Severity:
        """The highest-ranked of ``severities``; ``default`` when there are none.

        Without a default, an empty input is a :class:`ValueError`: what "nothing found" means
        (all fine, or nothing could be decided) is the caller's decision, not this type's.
        """
        found = max(severities, key=lambda severity: severity.rank, default=None)
        if found is not None:
            return found
        if default is None:
            raise ValueError("worst() of no severities needs a default")
        return default


_RANK = {
    Severity.OK: 0,
    Severity.INFO: 1,
    Severity.UNKNOWN: 2,
    Severity.WARNING: 3,
    Severity.CRITICAL: 4,
}
_EXIT_CODES = {
    Severity.OK: ExitCode.OK,
    Severity.INFO: ExitCode.OK,
    Severity.WARNING: ExitCode.WARNING,
    Severity.CRITICAL: ExitCode.CRITICAL,
    Severity.UNKNOWN: ExitCode.UNKNOWN,
}

#: The severities that decide something, least urgent first: what a device profile may give a
#: state code, and what a grading observation (the site's thresholds) may say of a finding.
GRADES: tuple[Severity, ...] = (Severity.OK, Severity.INFO, Severity.WARNING, Severity.CRITICAL)
