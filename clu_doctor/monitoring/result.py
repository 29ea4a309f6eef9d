"""The result of one unattended health check, as the renderers and the history see it.

``clu-doctor check`` runs the same probes and rules as ``diagnose`` and condenses them into a
:class:`CheckResult`: the diagnosis plus the per-station figures monitoring systems graph
(answering or not, polls, corrupt answers, state code). Renderers (Nagios, Prometheus, JSON,
text) and the per-site history read only this, so they never need a port or the rule engine.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from clu_doctor.engine import Diagnosis
from clu_doctor.records import record
from clu_doctor.severity import Severity

#: Why a check could not check, as the history records it (``checks.reason``): not a single
#: byte heard on the bus (a CLU without power stops polling; so does one whose adapter came off
#: the bus) ...
SILENT_BUS = "silent_bus"
#: ... stopped by SIGTERM or Ctrl-C ...
INTERRUPTED = "interrupted"
#: ... or anything else (port busy, timeout, invalid file).
OTHER = "other"


@record
class StationHealth:
    """One address of the site in one check."""

    address: int
    #: The outlet label from the site plan (``XAXXY07``), if the plan has the address.
    label: str | None
    #: True when the station gave at least one valid answer during the check.
    answering: bool
    #: Is the address part of the site plan? (Unplanned addresses that answer are listed too.)
    expected: bool = True
    polls: int = 0
    answers: int = 0
    corrupt: int = 0
    timeouts: int = 0
    #: Last state code seen (``A1``, ``F4``), if any.
    state: str | None = None
    #: Median response time in seconds, if any answer was timed.
    response_s: float | None = None
    #: False when the listen ended before the station could be judged (polled too few times,
    #: or not yet): neither answering nor silent, and not recorded in the history.
    judged: bool = True

    @property
    def silent(self) -> bool:
        """Planned, judged, and no valid answer."""
        return self.expected and self.judged and not self.answering

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "label": self.label,
            "answering": self.answering,
            "judged": self.judged,
            "expected": self.expected,
            "polls": self.polls,
            "answers": self.answers,
            "corrupt": self.corrupt,
            "timeouts": self.timeouts,
            "state": self.state,
            "response_s": self.response_s,
        }


@record
class IgnoredFinding:
    """A finding an ``ignore:`` entry of the site file touched in this check.

    Active (``expired`` false): the finding was left out of the status. Expired: the entry's
    date has passed, so the finding counts again and the entry should be renewed or removed.
    """

    id: str
    severity: Severity
    reason: str
    #: The last day the ignore holds, ISO 8601 (``2026-12-31``).
    until: str
    address: int | None = None
    expired: bool = False
    #: ``site.yaml:LINE`` of the ignore entry.
    where: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "address": self.address,
            "reason": self.reason,
            "until": self.until,
            "expired": self.expired,
            "where": self.where,
        }


@record
class CheckResult:
    """One check of one site: what was heard, what the rules made of it, how long it took."""

    site: str
    #: UTC start time, ISO 8601 with ``Z`` (``2026-11-25T03:15:00Z``).
    started: str
    duration_s: float
    #: ``listen`` (passive, the default) or ``scan`` (active probes were allowed and used).
    mode: str
    diagnosis: Diagnosis
    stations: tuple[StationHealth, ...] = ()
    #: Addresses with two devices (confirmed or suspected).
    duplicates: tuple[int, ...] = ()
    #: Corrupt answers / settled polls over the whole bus during the check (0..1), if known.
    corrupt_rate: float | None = None
    #: Raw probe evidence for JSON (listen report, scan, verdicts...).
    evidence: dict[str, Any] = field(default_factory=dict)
    #: Findings the site file's ``ignore:`` entries left out (or, expired, let back in).
    ignored: tuple[IgnoredFinding, ...] = ()

    @property
    def status(self) -> Severity:
        return self.diagnosis.status

    @property
    def exit_code(self) -> int:
        return int(self.diagnosis.exit_code)

    @property
    def stations_expected(self) -> int:
        return sum(1 for s in self.stations if s.expected)

    @property
    def stations_answering(self) -> int:
        return sum(1 for s in self.stations if s.expected and s.answering)

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "mode": self.mode,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "stations_expected": self.stations_expected,
            "stations_answering": self.stations_answering,
            "duplicates": list(self.duplicates),
            "corrupt_rate": self.corrupt_rate,
            "stations": [s.to_dict() for s in self.stations],
            "findings": self.diagnosis.to_dict()["findings"],
            "ignored": [item.to_dict() for item in self.ignored],
            "evidence": self.evidence,
        }
