"""A check result (:class:`~clu_doctor.health.CheckResult`) as JSON, as text for a person, and
the one dispatcher over every ``--format`` of ``clu-doctor check``.

Every renderer returns a string and never prints. The exit code is not the renderer's business:
it is ``result.exit_code`` for a check that ran, and 3 (UNKNOWN) for one that could not check,
whatever the format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from clu_doctor.engine import ReportedFinding, Severity
from clu_doctor.exitcodes import ExitCode
from clu_doctor.health import CheckResult, StationHealth
from clu_doctor.report import CheckFormat, envelope, to_json

if TYPE_CHECKING:
    from clu_doctor.site import Thresholds
    from clu_doctor.ui.console import OutputMode

#: The status word for each severity, as monitoring systems say it (``info`` is OK).
STATUS_WORD = {
    Severity.OK: "OK",
    Severity.INFO: "OK",
    Severity.WARNING: "WARNING",
    Severity.CRITICAL: "CRITICAL",
    Severity.UNKNOWN: "UNKNOWN",
}
#: A finding's severity in one word, for lists of findings.
SEVERITY_WORD = {
    Severity.OK: "OK",
    Severity.INFO: "INFO",
    Severity.WARNING: "WARNING",
    Severity.CRITICAL: "CRITICAL",
    Severity.UNKNOWN: "UNKNOWN",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.UNKNOWN: "bold magenta",
    Severity.INFO: "bold cyan",
    Severity.OK: "bold green",
}
#: How many silent stations the one-line summary names before it says "+N more".
SUMMARY_NAMES = 4


# --- shared pieces -----------------------------------------------------------------------------


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and runs of blanks become one space."""
    return " ".join(text.split())


def station_name(station: StationHealth) -> str:
    """``7 (XAXXY07)``, or ``12`` when the plan has no label for the address."""
    return f"{station.address} ({station.label})" if station.label else str(station.address)


def silent_stations(result: CheckResult) -> list[StationHealth]:
    """Expected stations that did not answer, by address."""
    return sorted(
        (s for s in result.stations if s.expected and not s.answering), key=lambda s: s.address
    )


def headline_finding(result: CheckResult) -> ReportedFinding | None:
    """The finding the status line names: the first (in display order) of the worst severity,
    if that is worse than info."""
    items = result.diagnosis.all_findings()
    if not items:
        return None
    worst = max(item.severity.rank for item in items)
    if worst <= Severity.INFO.rank:
        return None
    return next(item for item in items if item.severity.rank == worst)


def summary(result: CheckResult) -> str:
    """The result in one line, without the status word: ``15/16 stations answering (silent:
    7 (XAXXY07)); BUS-STATION-01 A planned station does not answer``."""
    text = f"{result.stations_answering}/{result.stations_expected} stations answering"
    silent = silent_stations(result)
    if silent:
        names = ", ".join(station_name(s) for s in silent[:SUMMARY_NAMES])
        if len(silent) > SUMMARY_NAMES:
            names += f" +{len(silent) - SUMMARY_NAMES} more"
        text += f" (silent: {names})"
    if result.duplicates:
        word = "address" if len(result.duplicates) == 1 else "addresses"
        text += f", duplicate {word} {', '.join(str(a) for a in result.duplicates)}"
    headline = headline_finding(result)
    if headline is not None:
        text += f"; {headline.id} {headline.finding.title}"
        others = [
            item
            for item in result.diagnosis.all_findings()
            if item is not headline and item.severity.rank > Severity.INFO.rank
        ]
        if others:
            text += f" (+{len(others)} more)"
    elif not result.diagnosis.findings:
        text += "; nothing could be decided"
    return one_line(text)


def ignored_lines(result: CheckResult) -> list[str]:
    """One line per ignore note: what was left out, until when, why, and where it is set."""
    lines = []
    for note in result.ignored:
        at = f" at address {note.address}" if note.address is not None else ""
        where = f" ({note.where})" if note.where else ""
        if note.expired:
            lines.append(
                f"expired ignore: {note.id} ({note.severity.value}){at} was ignored until "
                f"{note.until} and counts again{where}"
            )
        else:
            lines.append(
                f"ignored until {note.until}: {note.id} ({note.severity.value}){at}: "
                f"{note.reason}{where}"
            )
    return [one_line(line) for line in lines]


# --- JSON --------------------------------------------------------------------------------------


def render_check_json(result: CheckResult, *, extra: Mapping[str, Any] | None = None) -> str:
    """The check as a versioned JSON document (``schema: clu-doctor/check``)."""
    body = result.to_dict()
    diagnosis = result.diagnosis.to_dict()
    document = envelope(
        "check",
        {
            "status": body.pop("status"),
            "exit_code": body.pop("exit_code"),
            "completed": True,
            "summary": summary(result),
            **body,
            "trace": diagnosis["trace"],
            "observations": diagnosis["observations"],
            **(extra or {}),
        },
    )
    return to_json(document)


def render_check_unknown_json(
    site: str | None,
    message: str,
    duration_s: float | None = None,
    *,
    hint: str | None = None,
    started: str | None = None,
) -> str:
    """ "Could not check" as JSON: status unknown, exit code 3, the reason."""
    document = envelope(
        "check",
        {
            "status": Severity.UNKNOWN.value,
            "exit_code": int(ExitCode.UNKNOWN),
            "completed": False,
            "summary": one_line(f"could not check: {message}"),
            "site": site,
            "started": started,
            "duration_s": None if duration_s is None else round(duration_s, 3),
            "message": message,
            "hint": hint,
        },
    )
    return to_json(document)


# --- text --------------------------------------------------------------------------------------

#: A line of text as (segment, style) pairs; the style is used on a terminal only.
Segment = tuple[str, str | None]


def render_lines(lines: Sequence[Sequence[Segment]], mode: OutputMode) -> str:
    """Plain lines when piped (no rich at all); styled, never wrapped, on a terminal."""
    if not mode.styled:
        return "".join("".join(text for text, _ in line).rstrip() + "\n" for line in lines)
    import io

    from rich.text import Text

    from clu_doctor.ui.console import make_console

    buffer = io.StringIO()
    console = make_console(mode, buffer)
    for line in lines:
        text = Text()
        for segment, style in line:
            text.append(segment, style=style or "")
        text.rstrip()
        console.print(text, soft_wrap=True)  # soft wrap: long lines stay whole
    return buffer.getvalue()


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "NO"


def render_check_text(result: CheckResult, mode: OutputMode) -> str:
    """The check for a person: the status, the stations table, the findings with their
    evidence (consequences under their cause), and the ignores."""
    status = result.status
    lines: list[list[Segment]] = [
        [
            (f"{result.site}: ", "bold"),
            (STATUS_WORD[status], SEVERITY_STYLE[status]),
            (f" (exit {result.exit_code})", "dim"),
        ],
        [(summary(result), None)],
        [
            (
                f"checked {result.started}, {result.mode} mode, {result.duration_s:.1f} s; "
                f"corrupt answers: {_percent(result.corrupt_rate)}",
                "dim",
            )
        ],
        [],
    ]
    if result.stations:
        lines.append(
            [
                (
                    f"{'addr':>4}  {'label':<9} {'planned':<7}  {'answering':<9}  {'polls':>5}  "
                    f"{'answers':>7}  {'corrupt':>7}  {'timeouts':>8}  {'state':<5}  response",
                    "bold",
                )
            ]
        )
        for station in sorted(result.stations, key=lambda s: s.address):
            response = (
                f"{station.response_s * 1000:.0f} ms" if station.response_s is not None else "-"
            )
            answering = _yes_no(station.answering)
            lines.append(
                [
                    (
                        f"{station.address:>4}  {station.label or '-':<9} "
                        f"{'yes' if station.expected else 'no':<7}  ",
                        None,
                    ),
                    (
                        f"{answering:<9}",
                        None if station.answering or not station.expected else "bold red",
                    ),
                    (
                        f"  {station.polls:>5}  {station.answers:>7}  {station.corrupt:>7}  "
                        f"{station.timeouts:>8}  {station.state or '-':<5}  {response}",
                        None,
                    ),
                ]
            )
        lines.append([])
    lines.append([("Findings (root causes first, consequences indented under them):", "bold")])
    for root in result.diagnosis.findings:
        _finding_lines(root, 0, lines)
    if not result.diagnosis.findings:
        lines.append([("  none: nothing could be decided", None)])
    notes = ignored_lines(result)
    if notes:
        lines.append([])
        lines.append([("Ignores from the site file:", "bold")])
        lines += [[(f"  {note}", None)] for note in notes]
    return render_lines(lines, mode)


def _finding_lines(item: ReportedFinding, depth: int, lines: list[list[Segment]]) -> None:
    indent = "  " * (depth + 1)
    explained = f" (explained by {item.consequence_of})" if item.consequence_of else ""
    lines.append(
        [
            (indent, None),
            (f"{SEVERITY_WORD[item.severity]:<8}", SEVERITY_STYLE[item.severity]),
            (f" {item.id}  ", "bold"),
            (one_line(item.finding.title) + explained, None),
        ]
    )
    lines += [[(f"{indent}{'':<8}   - {one_line(line)}", None)] for line in item.evidence]
    for child in item.consequences:
        _finding_lines(child, depth + 1, lines)


def _percent(rate: float | None) -> str:
    if rate is None:
        return "unknown"
    return f"{_trim(rate * 100, 2)} %"


def _trim(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- one entry point for every format ----------------------------------------------------------


def render_check(
    result: CheckResult,
    fmt: CheckFormat,
    *,
    thresholds: Thresholds | None = None,
    last_success: float | None = None,
    mode: OutputMode | None = None,
) -> str:
    """``result`` in ``fmt``. ``thresholds`` feed the Nagios performance data (defaults when
    ``None``), ``last_success`` the Prometheus last-success metric, ``mode`` the text."""
    if fmt is CheckFormat.NAGIOS:
        from clu_doctor.report.nagios import render_nagios
        from clu_doctor.site import Thresholds

        return render_nagios(result, thresholds=thresholds or Thresholds())
    if fmt is CheckFormat.PROMETHEUS:
        from clu_doctor.report.prometheus import render_prometheus

        return render_prometheus(result, last_success=last_success)
    if fmt is CheckFormat.JSON:
        return render_check_json(result)
    from clu_doctor.ui.console import OutputMode

    return render_check_text(result, mode or OutputMode(styled=False, width=100))


def render_check_unknown(
    fmt: CheckFormat,
    *,
    site: str | None,
    message: str,
    duration_s: float | None = None,
    hint: str | None = None,
    started: str | None = None,
    last_success: float | None = None,
) -> str:
    """ "Could not check" in ``fmt``; the exit code is always 3 (UNKNOWN)."""
    if fmt is CheckFormat.NAGIOS:
        from clu_doctor.report.nagios import render_nagios_unknown

        return render_nagios_unknown(site, message, duration_s, hint=hint)
    if fmt is CheckFormat.PROMETHEUS:
        from clu_doctor.report.prometheus import render_prometheus_unknown

        return render_prometheus_unknown(
            site, message, duration_s, last_success=last_success, started=started
        )
    if fmt is CheckFormat.JSON:
        return render_check_unknown_json(site, message, duration_s, hint=hint, started=started)
    text = f"{site + ': ' if site else ''}UNKNOWN: could not check: {one_line(message)}\n"
    if hint:
        text += f"hint: {one_line(hint)}\n"
    return text
