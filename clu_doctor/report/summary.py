"""The lines every check renderer shares: the one-line summary, the silent stations, the
acknowledged findings, and styled segments for a terminal. (A severity's words and colours are
in :data:`clu_doctor.report.console.LOOKS`.)
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from clu_doctor.engine import ReportedFinding
from clu_doctor.monitoring.result import CheckResult, StationHealth
from clu_doctor.report.console import OutputMode, make_console
from clu_doctor.report.layout import title
from clu_doctor.severity import Severity

#: How many silent stations the one-line summary names before it says "+N more".
SUMMARY_NAMES = 4


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and runs of blanks become one space."""
    return " ".join(text.split())


def station_name(station: StationHealth) -> str:
    """``7 (XAXXY07)``, or ``12`` when the plan has no label for the address."""
    return f"{station.address} ({station.label})" if station.label else str(station.address)


def silent_stations(result: CheckResult) -> list[StationHealth]:
    """Expected stations that did not answer, by address."""
    return sorted((s for s in result.stations if s.silent), key=lambda s: s.address)


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
    unjudged = [s for s in result.stations if s.expected and not s.judged]
    if unjudged:
        names = ", ".join(station_name(s) for s in unjudged[:SUMMARY_NAMES])
        if len(unjudged) > SUMMARY_NAMES:
            names += f" +{len(unjudged) - SUMMARY_NAMES} more"
        text += f" (not judged, listen longer: {names})"
    if result.duplicates:
        word = "address" if len(result.duplicates) == 1 else "addresses"
        text += f", duplicate {word} {', '.join(str(a) for a in result.duplicates)}"
    headline = headline_finding(result)
    if headline is not None:
        text += f"; {headline.id} {title(headline)}"
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


#: A line of text as (segment, style) pairs; the style is used on a terminal only.
Segment = tuple[str, str | None]


def render_lines(lines: Sequence[Sequence[Segment]], mode: OutputMode) -> str:
    """Plain lines when piped (no rich at all); styled, never wrapped, on a terminal."""
    if not mode.styled:
        return "".join("".join(text for text, _ in line).rstrip() + "\n" for line in lines)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    buffer = io.StringIO()
    console = make_console(mode, buffer)
    for line in lines:
        text = Text()
        for segment, style in line:
            text.append(segment, style=style or "")
        text.rstrip()
        console.print(text, soft_wrap=True)  # soft wrap: long lines stay whole
    return buffer.getvalue()
