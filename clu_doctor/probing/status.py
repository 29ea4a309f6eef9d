"""The status of ``clu-doctor scan`` and ``clu-doctor listen``, and the exit code it maps to.

The status is policy, not presentation: the text and the JSON renderers both show it, and
the command exits with its code, so all three always agree.

These commands show the bus's own verdicts without the decision trees, so the status comes
from those verdicts: missing stations, a break and a confirmed duplicate are critical; a
suspected duplicate or a noisy bus is a warning. ``diagnose`` and ``check`` grade the same
facts with the site's thresholds and the rules instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.chain import ChainResult
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.duplicates import DuplicateResult, DuplicateVerdict
    from clu_doctor.bus.probes.scan import ScanResult

#: Below this much listening, a line without a single byte says nothing yet (the listen
#: verdicts call silence only from 5 s on: the CLU polls about once a second).
SHORT_SILENCE_S = 5.0


def chain_severity(chain: ChainResult) -> Severity:
    """A scan's chain analysis: anything but every station answering is critical."""
    return Severity.OK if chain.verdict == "ok" else Severity.CRITICAL


#: A duplicate scan's bus-wide verdict as a severity: proven is critical, a suspicion (or a bus
#: too noisy to tell) a warning.
DUPLICATES_SEVERITY: Mapping[DuplicateVerdict, Severity] = {
    "none": Severity.OK,
    "noisy": Severity.WARNING,
    "suspected": Severity.WARNING,
    "confirmed": Severity.CRITICAL,
}


def scan_status(
    scan: ScanResult, chain: ChainResult | None, duplicates: DuplicateResult | None
) -> tuple[Severity, str]:
    """(severity, summary) of a scan: missing stations and confirmed duplicates are critical."""
    problems = []
    severity = Severity.OK
    if not scan.answered:
        return Severity.CRITICAL, "no address answered"
    if chain is not None and chain.verdict != "ok":
        severity = chain_severity(chain)
        problems.append(f"chain: {chain.verdict} ({', '.join(map(str, chain.silent)) or '-'})")
    elif scan.missing:
        severity = Severity.CRITICAL
        problems.append(f"missing: {', '.join(map(str, scan.missing))}")
    if duplicates is not None and duplicates.verdict != "none":
        severity = Severity.worst([severity, DUPLICATES_SEVERITY[duplicates.verdict]])
        if duplicates.verdict == "confirmed":
            problems.append(f"duplicate address: {', '.join(map(str, duplicates.confirmed))}")
        else:
            problems.append(f"duplicates {duplicates.verdict}")
    found = f"{len(scan.answered)} address(es) answered"
    return severity, "; ".join([found, *problems])


def listen_status(
    verdicts: Sequence[Verdict], report: ListenReport | None = None
) -> tuple[Severity, str]:
    """(severity, summary) of a listen: its worst verdict, or unknown for a silence too short
    to tell a quiet bus from a dead one."""
    if (
        not verdicts
        and report is not None
        and report.bytes == 0
        and report.seconds < SHORT_SILENCE_S
    ):
        return Severity.UNKNOWN, (
            f"not a byte in {report.seconds:.1f} s: too short to tell a quiet bus from a "
            f"dead one (listen at least {SHORT_SILENCE_S:g} s)"
        )
    if not verdicts:
        return Severity.OK, "nothing wrong heard"
    severity = Severity.worst(v.severity for v in verdicts)
    return severity, "; ".join(v.title for v in verdicts[:3]) + (
        f" (+{len(verdicts) - 3} more)" if len(verdicts) > 3 else ""
    )
