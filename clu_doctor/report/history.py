"""``clu-doctor history --site site.yaml``: a site's recorded checks as text or JSON.

Text: one line per check (oldest first), then one line per station with a character per
completed check (``+`` answered, ``-`` silent, blank: not part of that check), then what the
history says (silent since, flapping). JSON: the same rows, versioned (``clu-doctor/history``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clu_doctor.monitoring.history import CheckRow, HistoryFacts, parse_time
from clu_doctor.report import envelope, to_json
from clu_doctor.report.console import LOOKS
from clu_doctor.report.summary import Segment, one_line, render_lines
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.report.console import OutputMode

#: Findings listed per check line before "+N".
_FINDINGS_SHOWN = 3


def _when(iso: str) -> str:
    return parse_time(iso).strftime("%Y-%m-%d %H:%M")


def _check_line(row: CheckRow) -> list[Segment]:
    word = LOOKS[row.status].status
    if row.completed:
        answering = f"{row.stations_answering}/{row.stations_expected}"
        problems = [ref.id for ref in row.findings if ref.severity.rank > Severity.INFO.rank]
        shown = ", ".join(problems[:_FINDINGS_SHOWN])
        if len(problems) > _FINDINGS_SHOWN:
            shown += f" +{len(problems) - _FINDINGS_SHOWN}"
        if row.duplicates:
            shown = f"duplicates {','.join(map(str, row.duplicates))}; {shown}".rstrip("; ")
    else:
        answering = "-"
        shown = f"could not check: {one_line(row.message or '')}"
    return [
        (f"{_when(row.started)}  ", None),
        (f"{word:<8}", LOOKS[row.status].style),
        (f"  {row.exit_code:>4}  {row.duration_s:>7.1f} s  {answering:>9}  {shown}", None),
    ]


def render_history_text(
    rows: Sequence[CheckRow],
    mode: OutputMode,
    *,
    site: str,
    facts: HistoryFacts | None = None,
) -> str:
    """The history for a person (``rows`` oldest first, as :meth:`History.recent` gives)."""
    if not rows:
        return render_lines([[(f"{site}: no checks recorded yet", None)]], mode)
    completed = [row for row in rows if row.completed]
    lines: list[list[Segment]] = [
        [
            (f"{site}: ", "bold"),
            (
                f"{len(rows)} check{'s' if len(rows) != 1 else ''}, "
                f"{_when(rows[0].started)} .. {_when(rows[-1].started)} UTC, oldest first",
                None,
            ),
        ],
        [],
        [
            (
                f"{'started (UTC)':<16}  {'status':<8}  {'exit':>4}  {'duration':>9}  "
                f"{'answering':>9}  findings",
                "bold",
            )
        ],
    ]
    lines += [_check_line(row) for row in rows]
    addresses = sorted({s.address for row in completed for s in row.stations})
    if addresses:
        lines.append([])
        lines.append(
            [
                (
                    "Stations, one column per completed check (+ answered, - silent, "
                    "blank: not in that check):",
                    "bold",
                )
            ]
        )
        for address in addresses:
            label = next(
                (
                    station.label
                    for row in reversed(completed)
                    if (station := row.station(address)) is not None and station.label
                ),
                "",
            )
            marks = []
            missed = 0
            for row in completed:
                station = row.station(address)
                if station is None:
                    marks.append(" ")
                elif station.answering:
                    marks.append("+")
                else:
                    marks.append("-")
                    missed += 1 if station.expected else 0
            planned = any(
                (station := row.station(address)) is not None and station.expected
                for row in completed
            )
            note = "" if planned else "  not planned"
            if missed:
                note += f"  missed {missed} of {len(completed)}"
            lines.append(
                [
                    (f"{address:>4} {label or '-':<9} ", None),
                    ("".join(marks), None),
                    (note, "bold red" if missed else None),
                ]
            )
    if facts is not None and facts.evidence:
        lines.append([])
        lines.append([("What the history says:", "bold")])
        lines += [[(f"  {one_line(line)}", None)] for line in facts.evidence]
    return render_lines(lines, mode)


def render_history_json(
    rows: Sequence[CheckRow], *, site: str, facts: HistoryFacts | None = None
) -> str:
    """The history as a versioned JSON document (``schema: clu-doctor/history``)."""
    return to_json(
        envelope(
            "history",
            {
                "site": site,
                "checks": [row.to_dict() for row in rows],
                "facts": facts.to_dict() if facts is not None else None,
            },
        )
    )
