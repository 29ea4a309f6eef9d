"""After a check, whatever its outcome: the site's history and the metrics file.

A completed check is appended to the history and written to node_exporter's textfile; a check
that could not check (exit 3) is recorded as such, and the metrics file says so too, so a
dashboard never shows the last good result as current. Problems with the history are warnings
(the result stands and the operator is told); a metrics file that cannot be written makes a
completed check "could not check", because the monitoring would otherwise go stale unseen.

Nothing here prints: warnings are handed back for the command to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from clu_doctor.errors import CluDoctorError
from clu_doctor.monitoring.textfile import TextfileError, textfile_name, write_atomic
from clu_doctor.report import CheckFormat
from clu_doctor.report.check import render_check, render_check_unknown

if TYPE_CHECKING:
    from clu_doctor.monitoring.history import History
    from clu_doctor.monitoring.result import CheckResult


@dataclass
class Published:
    """What the renderers need from the history, and what went wrong on the way."""

    #: When the last completed check ended (seconds since the epoch), for the metrics.
    last_success: float | None = None
    warnings: list[CluDoctorError] = field(default_factory=list)


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
) -> Published:
    """Record a check that could not check, and say so in the metrics file (never raises)."""
    published = Published()
    if history is not None:
        try:
            history.record_failure(started, duration_s, error.message)
            published.last_success = history.last_success()
        except CluDoctorError as history_error:
            published.warnings.append(history_error)
    # A metrics file that could not be written is the failure itself: do not try again.
    if textfile_dir is not None and site is not None and not isinstance(error, TextfileError):
        metrics = render_check_unknown(
            CheckFormat.PROMETHEUS,
            site=site,
            message=error.message,
            duration_s=duration_s,
            hint=error.hint,
            started=started,
            last_success=published.last_success,
        )
        try:
            write_textfile(textfile_dir, site, metrics)
        except CluDoctorError as textfile_error:
            published.warnings.append(textfile_error)
    return published


def write_textfile(directory: Path, site: str, text: str) -> None:
    """The site's metrics file, ``DIR/clu_doctor_<site>.prom``, replaced atomically."""
    write_atomic(directory.expanduser(), textfile_name(site), text)
