"""The status of ``clu-doctor scan`` and ``clu-doctor listen``, and the exit code it maps to.

The status is policy, not presentation: the text and the JSON renderers both show it, and
the command exits with its code, so all three always agree.

These commands show the bus's own verdicts without the decision trees, so the status comes
from those verdicts: missing stations, a break and a confirmed duplicate are critical; a
suspected duplicate or a noisy bus is a warning. ``diagnose`` and ``check`` grade the same
facts with the site's thresholds and the rules instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clu_doctor.engine import Severity
from clu_doctor.exitcodes import ExitCode

if TYPE_CHECKING:
    from clu_doctor.bus.chain import ChainResult
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.duplicates import DuplicateResult
    from clu_doctor.bus.probes.scan import ScanResult

#: Below this much listening, a line without a single byte says nothing yet (the listen
#: verdicts call silence only from 5 s on: the CLU polls about once a second).
SHORT_SILENCE_S = 5.0


def exit_code(status: str) -> ExitCode:
    """The exit code of a status (``ok``, ``info``, ``warning``, ``critical``, ``unknown``)."""
    return Severity(status).exit_code


def _worst(severities: Sequence[str]) -> str:
    order = ["ok", "info", "warning", "critical"]
    return max(severities, key=lambda s: order.index(s) if s in order else 0, default="ok")


def scan_status(
    scan: ScanResult, chain: ChainResult | None, duplicates: DuplicateResult | None
) -> tuple[str, str]:
    """(status, summary) of a scan: missing stations and confirmed duplicates are critical."""
    problems = []
    severity = "ok"
    if not scan.answered:
        return "critical", "no address answered"
    if chain is not None and chain.verdict != "ok":
        severity = "critical"
        problems.append(f"chain: {chain.verdict} ({', '.join(map(str, chain.silent)) or '-'})")
    elif scan.missing:
        severity = "critical"
        problems.append(f"missing: {', '.join(map(str, scan.missing))}")
    if duplicates is not None and duplicates.verdict == "confirmed":
        severity = "critical"
        problems.append(f"duplicate address: {', '.join(map(str, duplicates.confirmed))}")
    elif duplicates is not None and duplicates.verdict in ("suspected", "noisy"):
        severity = _worst([severity, "warning"])
        problems.append(f"duplicates {duplicates.verdict}")
    found = f"{len(scan.answered)} address(es) answered"
    return severity, "; ".join([found, *problems])


def listen_status(
    verdicts: Sequence[Verdict], report: ListenReport | None = None
) -> tuple[str, str]:
    """(status, summary) of a listen: its worst verdict, or ``unknown`` for a silence too
    short to tell a quiet bus from a dead one."""
    if (
        not verdicts
        and report is not None
        and report.bytes == 0
        and report.seconds < SHORT_SILENCE_S
    ):
        return "unknown", (
            f"not a byte in {report.seconds:.1f} s: too short to tell a quiet bus from a "
            f"dead one (listen at least {SHORT_SILENCE_S:g} s)"
        )
    if not verdicts:
        return "ok", "nothing wrong heard"
    severity = _worst([v.severity for v in verdicts])
    return severity, "; ".join(v.title for v in verdicts[:3]) + (
        f" (+{len(verdicts) - 3} more)" if len(verdicts) > 3 else ""
    )
