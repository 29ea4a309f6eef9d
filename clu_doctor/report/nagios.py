"""A check result as monitoring-plugin output: Nagios, Icinga 2, Naemon, Sensu, Shinken.

Per the Monitoring Plugins development guidelines:

* The first line is the status line, ``CLU-DOCTOR <STATUS> - <site>: <summary>``, then ``|``
  and the performance data; the lines after it are the long output (one finding per line).
* The long output lists problems first, each with the first step of its remedy, then what
  was found fine (consequences stay under their cause).
* Performance data: space-separated ``'label'=value[UOM];[warn];[crit];[min];[max]``, in the
  C locale (``.`` as the decimal point); labels are quoted only when they need it and never
  contain ``'`` or ``=``; ``U`` is a value that could not be determined; warn and crit are
  threshold ranges (``16:`` is "alert below 16", ``2`` is "alert above 2").
* No ``|`` anywhere but the one before the performance data (it would start performance data
  inside the text): text from findings, site names and evidence has it replaced by ``/``.
* The exit code is the status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. It is
  ``result.exit_code`` for a check that ran; :func:`render_nagios_unknown` (could not check:
  no port, port busy, invalid site or rules file, timeout before any frame) always means 3,
  never 2: a check that could not run says nothing about the site.

Performance data: ``stations_expected``, ``stations_answering`` (with ranges from the site's
``thresholds.stations_silent``), ``duplicate_addresses`` (critical above 0),
``corrupt_answers`` (percent, ranges from ``thresholds.corrupt_rate``), ``duration`` (s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from clu_doctor.engine import ReportedFinding
from clu_doctor.exitcodes import ExitCode
from clu_doctor.monitoring.result import CheckResult
from clu_doctor.records import record
from clu_doctor.report.console import LOOKS
from clu_doctor.report.layout import (
    Mark,
    in_display_order,
    mark,
    shared_evidence,
    tidy_evidence,
    title,
)
from clu_doctor.report.summary import (
    ignored_lines,
    one_line,
    silent_stations,
    station_name,
    summary,
)
from clu_doctor.severity import Severity
from clu_doctor.site.model import LAST_ADDRESS

if TYPE_CHECKING:
    from clu_doctor.site.model import Thresholds

PREFIX = "CLU-DOCTOR"
#: The exit code of :func:`render_nagios_unknown`'s output.
UNKNOWN_EXIT = ExitCode.UNKNOWN
_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9_.:/-]+$")


def clean(text: str) -> str:
    """Text that is safe anywhere in plugin output: one line, no ``|``."""
    return one_line(text.replace("|", "/"))


def perf_label(label: str) -> str:
    """A performance-data label: ``'`` and ``=`` (never allowed) become ``_``; quoted in
    single quotes when it holds anything but letters, digits and ``_.:/-``."""
    safe = one_line(label.replace("'", "_").replace("=", "_").replace("|", "/"))
    return safe if _PLAIN_LABEL.match(safe) else f"'{safe}'"


def perf_number(value: float, places: int = 3) -> str:
    """A number in the C locale, without needless zeros: ``12``, ``0.167``, ``21.5``."""
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


@record
class Perfdata:
    """One ``'label'=value[UOM];[warn];[crit];[min];[max]`` item; ``value`` ``None`` is ``U``."""

    label: str
    value: float | None
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: float | None = None
    max: float | None = None

    def __str__(self) -> str:
        value = "U" if self.value is None else perf_number(self.value) + self.uom
        fields = [
            value,
            self.warn,
            self.crit,
            "" if self.min is None else perf_number(self.min),
            "" if self.max is None else perf_number(self.max),
        ]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        return f"{perf_label(self.label)}={';'.join(fields)}"


def _at_least(expected: int, silent_threshold: int) -> str:
    """The range "alert when fewer than ``expected - silent_threshold + 1`` answer", or ""
    when the threshold cannot be reached with this many stations."""
    least = expected - silent_threshold + 1
    return f"{least}:" if least > 0 else ""


def perfdata(result: CheckResult, thresholds: Thresholds) -> list[Perfdata]:
    """The performance data of a check that ran."""
    expected = result.stations_expected
    silent = thresholds.stations_silent
    rate = thresholds.corrupt_rate
    return [
        Perfdata("stations_expected", expected, min=0, max=LAST_ADDRESS),
        Perfdata(
            "stations_answering",
            result.stations_answering,
            warn=_at_least(expected, silent.warning),
            crit=_at_least(expected, silent.critical),
            min=0,
            max=expected,
        ),
        Perfdata("duplicate_addresses", len(result.duplicates), crit="0", min=0, max=LAST_ADDRESS),
        Perfdata(
            "corrupt_answers",
            None if result.corrupt_rate is None else round(result.corrupt_rate * 100, 3),
            "%",
            warn=perf_number(rate.warning * 100),
            crit=perf_number(rate.critical * 100),
            min=0,
            max=100,
        ),
        Perfdata("duration", round(result.duration_s, 3), "s", min=0),
    ]


def _finding_lines(
    item: ReportedFinding,
    depth: int,
    result: CheckResult,
    shared: Mapping[str, frozenset[str]],
    printed: set[str],
) -> list[str]:
    indent = "  " * depth
    tail = f" (consequence of {item.consequence_of})" if item.consequence_of else ""
    lines = [f"{indent}[{LOOKS[item.severity].word}] {item.id} {clean(title(item))}{tail}"]
    if depth == 0 and mark(item, result.diagnosis) is not Mark.OK and item.finding.remedy:
        lines.append(f"{indent}    first step: {clean(item.finding.remedy[0])}")
    evidence = [
        line
        for line in tidy_evidence(item.evidence, shared.get(item.id, ()))
        if line not in printed
    ]
    printed.update(evidence)
    lines += [f"{indent}    - {clean(line)}" for line in evidence if clean(line)]
    for child in item.consequences:
        lines += _finding_lines(child, depth + 1, result, shared, printed)
    return lines


def render_nagios(result: CheckResult, *, thresholds: Thresholds) -> str:
    """The status line with performance data, then the long output; exit with
    ``result.exit_code``."""
    word = LOOKS[result.status].status
    status = f"{PREFIX} {word} - {clean(result.site)}: {clean(summary(result))}"
    perf = " ".join(str(item) for item in perfdata(result, thresholds))
    lines = [f"{status} | {perf}"]
    silent = silent_stations(result)
    details = [
        f"started {result.started}",
        f"{result.mode} mode",
        f"{result.stations_answering}/{result.stations_expected} stations answering",
    ]
    if silent:
        details.append("silent: " + ", ".join(station_name(s) for s in silent))
    unplanned = sorted(s.address for s in result.stations if not s.expected and s.answering)
    if unplanned:
        details.append("answering but not planned: " + ", ".join(str(a) for a in unplanned))
    if result.duplicates:
        details.append("duplicates: " + ", ".join(str(a) for a in result.duplicates))
    lines.append(clean("; ".join(details)))
    shared = shared_evidence(result.diagnosis)
    printed: set[str] = set()  # a line several findings share is shown under the first
    for root in in_display_order(result.diagnosis.findings, result.diagnosis):
        lines += _finding_lines(root, 0, result, shared, printed)
    lines += [clean(line) for line in ignored_lines(result)]
    return "\n".join(lines) + "\n"


def render_nagios_unknown(
    site: str | None,
    message: str,
    duration_s: float | None = None,
    *,
    hint: str | None = None,
    status: Severity = Severity.UNKNOWN,
    evidence: Sequence[str] = (),
) -> str:
    """ "Could not check" (no port, port busy, invalid site or rules file, timeout before any
    frame): ``CLU-DOCTOR UNKNOWN - <site>: could not check: <message>``; exit 3. A silent bus
    that lasted ``thresholds.silent_bus.critical`` checks is ``CLU-DOCTOR CRITICAL - <site>:
    <message>`` (exit 2), with the history's ``evidence`` in the long output."""
    where = f"{clean(site)}: " if site else ""
    said = f"could not check: {message}" if status is Severity.UNKNOWN else message
    line = f"{PREFIX} {LOOKS[status].status} - {where}{clean(said)}"
    if duration_s is not None:
        line += f" | {Perfdata('duration', round(duration_s, 3), 's', min=0)}"
    lines = [line, *(f"    - {clean(item)}" for item in evidence)]
    if hint:
        lines.append(f"hint: {clean(hint)}")
    return "\n".join(lines) + "\n"
