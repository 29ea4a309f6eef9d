"""After a check, whatever its outcome: the site's history and the metrics file.

A completed check is appended to the history and written to node_exporter's textfile; a check
that could not check (exit 3) is recorded as such, and the metrics file says so too, so a
dashboard never shows the last good result as current. Problems with the history are warnings
(the result stands and the operator is told); a metrics file that cannot be written makes a
completed check "could not check", because the monitoring would otherwise go stale unseen.

A check that heard not a single byte is UNKNOWN: once, it says nothing about the site. When it
has lasted ``thresholds.silent_bus.critical`` checks in a row, the history turns it into
CRITICAL with the checks as evidence ("no frame heard in the last 4 checks, since 03:15 UTC"):
a CLU without power stops polling, the manual's commonest fault, and must page someone.

Nothing here prints: warnings are handed back for the command to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from clu_doctor.errors import CluDoctorError
from clu_doctor.monitoring.result import OTHER, SILENT_BUS
from clu_doctor.monitoring.textfile import TextfileError, textfile_name, write_atomic
from clu_doctor.records import record
from clu_doctor.report import CheckFormat
from clu_doctor.report.check import render_check, render_check_unknown
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.monitoring.history import History
    from clu_doctor.monitoring.result import CheckResult


@record(frozen=False)
class Published:
    """What the renderers need from the history, and what went wrong on the way."""

    #: When the last completed check ended (seconds since the epoch), for the metrics.
    last_success: float | None = None
    warnings: list[CluDoctorError] = field(default_factory=list)
    #: A check that could not check: UNKNOWN, or CRITICAL for a silent bus that lasted ...
    status: Severity = Severity.UNKNOWN
    #: ... what it says (the error's message, or the lasting silence) ...
    message: str = ""
    #: ... and what the history showed.
    evidence: tuple[str, ...] = ()


def publish_result(
    result: CheckResult, history: History | None, textfile_dir: Path | None
) -> Published:
    """Record a completed check; write its metrics file. Raises :class:`TextfileError`."""
    published = Published()
    if history is not None:
        try:
            history.record(result)
            published.last_success = history.last_success()
        except CluDoctorError as error:
            published.warnings.append(error)
    if textfile_dir is not None:
        metrics = render_check(result, CheckFormat.PROMETHEUS, last_success=published.last_success)
        write_textfile(textfile_dir, result.site, metrics)
    return published


def publish_failure(
    error: CluDoctorError,
    *,
    site: str | None,
    history: History | None,
    textfile_dir: Path | None,
    started: str,
    duration_s: float,
    silent_bus_critical: int | None = None,
) -> Published:
    """Record a check that could not check, and say so in the metrics file (never raises).

    A silent bus (``error.reason``) that has lasted ``silent_bus_critical`` checks, this one
    included, is CRITICAL (``published.status``), with the history's checks as evidence.
    """
    reason = str(getattr(error, "reason", OTHER))
    published = Published(message=error.message)
    if history is not None:
        try:
            if reason == SILENT_BUS and silent_bus_critical:
                _weigh_silence(published, history.silent_bus_run(), started, silent_bus_critical)
            history.record_failure(
                started, duration_s, published.message, reason=reason, status=published.status
            )
            published.last_success = history.last_success()
        except CluDoctorError as history_error:
            published.warnings.append(history_error)
    # A metrics file that could not be written is the failure itself: do not try again.
    if textfile_dir is not None and site is not None and not isinstance(error, TextfileError):
        metrics = render_check_unknown(
            CheckFormat.PROMETHEUS,
            site=site,
            message=published.message,
            duration_s=duration_s,
            hint=error.hint,
            started=started,
            last_success=published.last_success,
            status=published.status,
        )
        try:
            write_textfile(textfile_dir, site, metrics)
        except CluDoctorError as textfile_error:
            published.warnings.append(textfile_error)
    return published


def _weigh_silence(
    published: Published, earlier: Sequence[str], started: str, critical: int
) -> None:
    """This silent check and the ``earlier`` ones of the same run (start times): CRITICAL
    from ``critical`` checks on; below that still UNKNOWN, with the count as evidence."""
    from clu_doctor.monitoring.history import check_times  # only for a silent bus

    run = (*earlier, started)
    times = check_times(run)
    count = len(run)
    if count >= critical:
        published.status = Severity.CRITICAL
        published.evidence = (
            f"this check: {published.message}",
            f"checks without a frame: {_listed(times)}",
        )
        published.message = (
            f"no frame heard in the last {count} checks, since {times[0]}: the CLU does not "
            "poll (no power?) or the adapter is off the bus"
        )
    else:
        so_far = "this check" if count == 1 else f"{count} checks in a row, since {times[0]}"
        published.evidence = (
            f"no frame heard in {so_far}; CRITICAL from {critical} in a row "
            "(thresholds: silent_bus: critical)",
        )


def _listed(times: Sequence[str]) -> str:
    """``03:15, 03:30 and 03:45 UTC`` (the zone once; the middle of a long run left out)."""
    zone = times[-1].rpartition(" ")[2]
    shown = [t.removesuffix(f" {zone}") for t in times]
    if len(shown) > 6:
        shown = [*shown[:2], "...", *shown[-3:]]
    if len(shown) == 1:
        return f"{shown[0]} {zone}"
    return f"{', '.join(shown[:-1])} and {shown[-1]} {zone}"


def write_textfile(directory: Path, site: str, text: str) -> None:
    """The site's metrics file, ``DIR/clu_doctor_<site>.prom``, replaced atomically."""
    write_atomic(directory.expanduser(), textfile_name(site), text)
