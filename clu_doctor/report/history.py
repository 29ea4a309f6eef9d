"""``clu-doctor history --site site.yaml``: a site's recorded checks as text or JSON.

Text: one line per check (oldest first), then one line per station with a character per
completed check (``+`` answered, ``-`` silent, blank: not part of that check), then what the
history says (silent since, flapping). JSON: the same rows, versioned (``clu-doctor/history``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from clu_doctor.i18n import N_, _, counted
from clu_doctor.monitoring.history import (
    DUMP_CHECK_COLUMNS,
    DUMP_STATION_COLUMNS,
    CheckRow,
    HistoryFacts,
    parse_time,
)
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


#: The check table's columns: heading and its width in English (findings: the rest).
_COLUMNS = (
    (N_("started (UTC)"), 16),
    (N_("status"), 8),
    (N_("exit"), 4),
    (N_("duration"), 9),
    (N_("answering"), 9),
    (N_("findings"), 0),
)


class _Words:
    """The table's headings and widths and the words of its rows, in the run's language:
    looked up once per run, not once per check (a year is 35,000 lines)."""

    def __init__(self) -> None:
        self.headings = [_(name) for name, _width in _COLUMNS]
        self.widths = [
            max(width, len(heading))
            for (_name, width), heading in zip(_COLUMNS, self.headings, strict=True)
        ]
        self.duplicates = _("duplicates")
        self.could_not_check = _("could not check:")

    def heading(self) -> str:
        started, status, code, duration, answering, findings = self.headings
        w = self.widths
        return (
            f"{started:<{w[0]}}  {status:<{w[1]}}  {code:>{w[2]}}  {duration:>{w[3]}}  "
            f"{answering:>{w[4]}}  {findings}"
        )

    def line(self, row: CheckRow) -> list[Segment]:
        word = LOOKS[row.status].status
        w = self.widths
        if row.completed:
            answering = f"{row.stations_answering}/{row.stations_expected}"
            problems = [ref.id for ref in row.findings if ref.severity.rank > Severity.INFO.rank]
            shown = ", ".join(problems[:_FINDINGS_SHOWN])
            if len(problems) > _FINDINGS_SHOWN:
                shown += f" +{len(problems) - _FINDINGS_SHOWN}"
            if row.duplicates:
                doubled = ",".join(map(str, row.duplicates))
                shown = f"{self.duplicates} {doubled}; {shown}".rstrip("; ")
        else:
            answering = "-"
            shown = f"{self.could_not_check} {one_line(row.message or '')}"
        duration = f"{row.duration_s:.1f} s"
        return [
            (f"{_when(row.started):<{w[0]}}  ", None),
            (f"{word:<{w[1]}}", LOOKS[row.status].style),
            (
                f"  {row.exit_code:>{w[2]}}  {duration:>{w[3]}}  {answering:>{w[4]}}  {shown}",
                None,
            ),
        ]


def render_history_text(
    rows: Iterable[CheckRow],
    mode: OutputMode,
    *,
    site: str,
    facts: HistoryFacts | None = None,
) -> str:
    """The history for a person (``rows`` oldest first, as :meth:`History.recent` gives)."""
    return "".join(history_text_chunks(rows, mode, site=site, facts=facts))


#: Check lines rendered together while streaming.
_BATCH = 500


def history_text_chunks(
    rows: Iterable[CheckRow],
    mode: OutputMode,
    *,
    site: str,
    facts: HistoryFacts | None = None,
    span: tuple[int, str | None, str | None] | None = None,
) -> Iterator[str]:
    """:func:`render_history_text` in pieces, the check lines as they come, so that a year of
    checks is written in flat memory (one mark per station and check is all that is kept).
    ``span`` is what the first line says (how many checks, the first and the last start,
    :meth:`History.span`); without it the rows are read into a list first to count them."""
    checks = (
        (row, [(row.id, s.address, s.label, s.expected, s.answering) for s in row.stations])
        for row in rows
    )
    return history_marks_chunks(checks, mode, site=site, facts=facts, span=span)


def history_marks_chunks(
    checks: Iterable[tuple[CheckRow, Sequence[tuple[Any, ...]]]],
    mode: OutputMode,
    *,
    site: str,
    facts: HistoryFacts | None = None,
    span: tuple[int, str | None, str | None] | None = None,
) -> Iterator[str]:
    """:func:`history_text_chunks` from :meth:`History.iter_marks`: each check with its
    stations as plain tuples ``(check id, address, label, expected, answering)``."""
    if span is None:
        checks = list(checks)
        span = (
            (len(checks), checks[0][0].started, checks[-1][0].started)
            if checks
            else (0, None, None)
        )
    count, first, last = span
    if not count or first is None or last is None:
        yield render_lines([[(f"{site}: " + _("no checks recorded yet"), None)]], mode)
        return
    words = _Words()
    yield render_lines(
        [
            [
                (f"{site}: ", "bold"),
                (
                    counted(
                        "{count} check, {first} .. {last} UTC, oldest first",
                        "{count} checks, {first} .. {last} UTC, oldest first",
                        count,
                        first=_when(first),
                        last=_when(last),
                    ),
                    None,
                ),
            ],
            [],
            [(words.heading(), "bold")],
        ],
        mode,
    )
    marks: dict[int, list[str]] = {}
    labels: dict[int, str] = {}
    missed: dict[int, int] = {}
    planned: set[int] = set()
    completed = 0
    batch: list[list[Segment]] = []
    for row, stations in checks:
        batch.append(words.line(row))
        if len(batch) >= _BATCH:
            yield render_lines(batch, mode)
            batch = []
        if not row.completed:
            continue
        here = {station[1]: station for station in stations}
        for address in here.keys() - marks.keys():
            marks[address] = [" "] * completed
            missed[address] = 0
        for address, column in marks.items():
            station = here.get(address)
            if station is None:
                column.append(" ")
                continue
            _check, _address, label, expected, answering = station
            if label:
                labels[address] = label
            if expected:
                planned.add(address)
            if answering:
                column.append("+")
            else:
                column.append("-")
                missed[address] += 1 if expected else 0
        completed += 1
    lines: list[list[Segment]] = batch
    not_planned = _("not planned")
    if marks:
        lines.append([])
        lines.append(
            [
                (
                    _(
                        "Stations, one column per completed check (+ answered, - silent, "
                        "blank: not in that check):"
                    ),
                    "bold",
                )
            ]
        )
        for address in sorted(marks):
            note = "" if address in planned else "  " + not_planned
            if missed[address]:
                note += "  " + _("missed {count} of {checks}").format(
                    count=missed[address], checks=completed
                )
            lines.append(
                [
                    (f"{address:>4} {labels.get(address) or '-':<9} ", None),
                    ("".join(marks[address]), None),
                    (note, "bold red" if missed[address] else None),
                ]
            )
    if facts is not None and facts.evidence:
        lines.append([])
        lines.append([(_("What the history says:"), "bold")])
        lines += [[(f"  {one_line(line)}", None)] for line in facts.evidence]
    yield render_lines(lines, mode)


def render_history_json(
    rows: Iterable[CheckRow], *, site: str, facts: HistoryFacts | None = None
) -> str:
    """The history as a versioned JSON document (``schema: clu-doctor/history``)."""
    return "".join(history_json_chunks(rows, site=site, facts=facts))


def history_json_chunks(
    rows: Iterable[CheckRow], *, site: str, facts: HistoryFacts | None = None
) -> Iterator[str]:
    """:func:`render_history_json` in pieces, one check at a time, so that a year of checks
    is written in flat memory. The text is exactly that of ``json.dumps(document, indent=2,
    ensure_ascii=False)``, written by :func:`pretty_json`, which is several times faster."""
    head = envelope("history", {"site": site})
    yield to_json(head)[:-3]  # the head's fields, without the closing brace
    yield ',\n  "checks": ['
    first = True
    for row in rows:
        yield ("\n    " if first else ",\n    ") + pretty_json(row.to_dict(), 2)
        first = False
    yield "]" if first else "\n  ]"
    tail = facts.to_dict() if facts is not None else None
    yield f',\n  "facts": {pretty_json(tail, 1)}\n}}\n'


def history_dump_chunks(
    checks: Iterable[tuple[tuple[Any, ...], Sequence[tuple[Any, ...]]]],
    *,
    site: str,
    facts: HistoryFacts | None = None,
) -> Iterator[str]:
    """:func:`history_json_chunks` from :meth:`History.iter_dump`: the same text, written from
    the checks' plain tuples and the stations' JSON literals (a year of checks is half a
    million stations: each is one string format, and the check around them a few more)."""
    head = envelope("history", {"site": site})
    yield to_json(head)[:-3]  # the head's fields, without the closing brace
    yield ',\n  "checks": ['
    lists: dict[str, str] = {}  # duplicates and findings as stored -> as written (they repeat)
    separator = "\n    "
    batch: list[str] = []
    for check, stations in checks:
        text = _check_json(check, lists)
        if stations:
            listed = _STATION_SEPARATOR.join(map(_STATION.__mod__, stations))
            if "inf\n" in listed:  # only a number ends a line so: the time, if infinite
                listed = listed.replace(": inf\n", ": Infinity\n").replace(
                    ": -inf\n", ": -Infinity\n"
                )  # the one float str() does not write as json does
            batch.append(f"{separator}{text}[\n        {listed}\n      ]\n    }}")
        else:
            batch.append(f"{separator}{text}[]\n    }}")
        separator = ",\n    "
        if len(batch) >= _DUMP_BATCH:
            yield "".join(batch)
            batch = []
        if len(lists) > 10_000:  # all different: keep memory flat all the same
            lists.clear()
    yield "".join(batch)
    yield "]" if separator == "\n    " else "\n  ]"
    tail = facts.to_dict() if facts is not None else None
    yield f',\n  "facts": {pretty_json(tail, 1)}\n}}\n'


#: Checks of a dump written together.
_DUMP_BATCH = 64


#: A check of a dump, three levels deep, up to its stations (as ``json.dumps(indent=2)``).
_CHECK = (
    "{\n" + "".join(f'      "{name}": %s,\n' for name in DUMP_CHECK_COLUMNS) + '      "stations": '
)


def _check_json(check: tuple[Any, ...], seen: dict[str, str]) -> str:
    """One check of :meth:`History.iter_dump` as :meth:`CheckRow.to_dict` reads in JSON, up
    to its stations' list. ``seen``: the stored duplicates, findings and status already
    written (they repeat from check to check)."""
    (
        check_id,
        started,
        duration,
        status,
        exit_code,
        completed,
        mode,
        expected,
        answering,
        duplicates,
        corrupt_rate,
        findings,
        message,
        reason,
    ) = check
    duplicates_text = seen.get(duplicates)
    if duplicates_text is None:
        duplicates_text = seen[duplicates] = pretty_json(list(json.loads(duplicates)), 3)
    # Keyed apart: stored duplicates start with "[", these with a letter.
    findings_text = seen.get("f" + findings)
    if findings_text is None:
        refs = [
            {"id": item["id"], "severity": Severity(item["severity"]).value}
            for item in json.loads(findings)
        ]
        findings_text = seen["f" + findings] = pretty_json(refs, 3)
    status_text = seen.get("s" + status)
    if status_text is None:
        status_text = seen["s" + status] = _encode_string(Severity(status).value)
    return _CHECK % (
        check_id,
        _encode_string(started),
        _number(duration),
        status_text,
        exit_code,
        "true" if completed else "false",
        _encode_string(mode),
        expected,
        answering,
        duplicates_text,
        "null" if corrupt_rate is None else _number(corrupt_rate),
        findings_text,
        "null" if message is None else _encode_string(message),
        "null" if reason is None else _encode_string(reason),
    )


def _number(value: float) -> str:
    """A float of the history as json writes it."""
    return _float(value) if math.isfinite(value) else json.dumps(value)


#: One station of a dump, four levels deep, as ``json.dumps(indent=2)`` writes it, from a
#: station of :meth:`History.iter_dump` (its check's id first, not written). The keys: the
#: columns, and ``judged`` after ``answering`` (always true: the history keeps no row for a
#: station a check could not judge).
_STATION_KEYS = tuple(
    key
    for name in DUMP_STATION_COLUMNS
    for key in ((name, "judged") if name == "answering" else (name,))
)
_STATION = (
    "%.0s{\n"
    + ",\n".join(
        f'          "{name}": ' + ("true" if name == "judged" else "%s") for name in _STATION_KEYS
    )
    + "\n        }"
)
_STATION_SEPARATOR = ",\n        "
_BOOL = ("false", "true")


_encode_string = json.encoder.encode_basestring  # ensure_ascii=False, in C where available
_float = float.__repr__


def pretty_json(value: Any, level: int = 0) -> str:
    """``value`` as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, nested
    ``level`` deep (json's own indented writer is pure Python; this one leans on ``str.join``
    and the C string encoder)."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return json.dumps(value)
        return _float(value)
    inner = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return (
            "{"
            + inner
            + ("," + inner).join(
                f"{_encode_string(str(key))}: {pretty_json(item, level + 1)}"
                for key, item in value.items()
            )
            + "\n"
            + "  " * level
            + "}"
        )
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return (
            "["
            + inner
            + ("," + inner).join(pretty_json(item, level + 1) for item in value)
            + "\n"
            + "  " * level
            + "]"
        )
    return pretty_json(json.loads(json.dumps(value)), level)  # anything else json accepts
