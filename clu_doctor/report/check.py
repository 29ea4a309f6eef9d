"""A check result (:class:`~clu_doctor.monitoring.result.CheckResult`) as JSON, as text for a person, and
the one dispatcher over every ``--format`` of ``clu-doctor check``.

Every renderer returns a string and never prints. The exit code is not the renderer's business:
it is ``result.exit_code`` for a check that ran, and 3 (UNKNOWN) for one that could not check,
whatever the format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clu_doctor.engine import ReportedFinding
from clu_doctor.i18n import N_, _
from clu_doctor.monitoring.result import CheckResult
from clu_doctor.report import CheckFormat, envelope, to_json
from clu_doctor.report.console import LOOKS, OutputMode
from clu_doctor.report.layout import (
    Mark,
    first_step,
    in_display_order,
    mark,
    reorder_dicts,
    shared_evidence,
    tidy_evidence,
    title,
)
from clu_doctor.report.summary import (
    Segment,
    ignored_lines,
    one_line,
    render_lines,
    summary,
)
from clu_doctor.severity import Severity
from clu_doctor.site.model import Thresholds


def render_check_json(result: CheckResult, *, extra: Mapping[str, Any] | None = None) -> str:
    """The check as a versioned JSON document (``schema: clu-doctor/check``): findings with
    problems first, as in the text, and the first thing to do."""
    body = result.to_dict()
    body["findings"] = reorder_dicts(result.diagnosis, body["findings"])
    diagnosis = result.diagnosis.to_dict()
    first = first_step(result.diagnosis)
    document = envelope(
        "check",
        {
            "status": body.pop("status"),
            "exit_code": body.pop("exit_code"),
            "completed": True,
            "summary": summary(result),
            "first_step": None if first is None else first.to_dict(),
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
    status: Severity = Severity.UNKNOWN,
    evidence: Sequence[str] = (),
) -> str:
    """ "Could not check" as JSON: status unknown (or critical, for a silent bus that lasted),
    exit code 3 (2), the reason and its evidence."""
    document = envelope(
        "check",
        {
            "status": status.value,
            "exit_code": int(status.exit_code),
            "completed": False,
            "summary": one_line(_not_checked(status, message)),
            "site": site,
            "started": started,
            "duration_s": None if duration_s is None else round(duration_s, 3),
            "message": message,
            "hint": hint,
            "evidence": list(evidence),
        },
    )
    return to_json(document)


def _not_checked(status: Severity, message: str) -> str:
    """The summary of a check that could not check: UNKNOWN says so; a silent bus that
    lasted until it is CRITICAL says what it is."""
    return f"could not check: {message}" if status is Severity.UNKNOWN else message


def _yes_no(flag: bool) -> str:
    return _("yes") if flag else _("NO")


def render_check_text(result: CheckResult, mode: OutputMode) -> str:
    """The check for a person: the status, the stations table, the findings (problems first,
    each with its first step and its evidence, consequences under their cause), and the
    ignores."""
    status = result.status
    lines: list[list[Segment]] = [
        [
            (f"{result.site}: ", "bold"),
            (LOOKS[status].status, LOOKS[status].style),
            (f" (exit {result.exit_code})", "dim"),
        ],
        [(summary(result), None)],
        [
            (
                _("checked {started}, {mode} mode, {seconds} s; corrupt answers: {rate}").format(
                    started=result.started,
                    mode=result.mode,
                    seconds=f"{result.duration_s:.1f}",
                    rate=_percent(result.corrupt_rate),
                ),
                "dim",
            )
        ],
        [],
    ]
    if result.stations:
        lines += _station_rows(result)
        lines.append([])
    lines.append(
        [
            (
                _(
                    "Findings (problems first, each with its first step; consequences under "
                    "their cause):"
                ),
                "bold",
            )
        ]
    )
    shared = shared_evidence(result.diagnosis)
    printed: set[str] = set()  # a line several findings share is shown under the first
    for root in in_display_order(result.diagnosis.findings, result.diagnosis):
        _finding_lines(root, 0, lines, shared, result, printed)
    if not result.diagnosis.findings:
        lines.append([("  " + _("none: nothing could be decided"), None)])
    notes = ignored_lines(result)
    if notes:
        lines.append([])
        lines.append([(_("Ignores from the site file:"), "bold")])
        lines += [[(f"  {note}", None)] for note in notes]
    return render_lines(lines, mode)


#: The stations table's columns: heading, width in English, right-aligned.
_STATION_COLUMNS = (
    (N_("addr"), 4, True),
    (N_("label"), 9, False),
    (N_("planned"), 7, False),
    (N_("answering"), 9, False),
    (N_("polls"), 5, True),
    (N_("answers"), 7, True),
    (N_("corrupt"), 7, True),
    (N_("timeouts"), 8, True),
    (N_("state"), 5, False),
    (N_("response"), 0, False),
)


def _station_rows(result: CheckResult) -> list[list[Segment]]:
    """The stations table: a heading, a row per station; each column as wide as its heading
    in the run's language, or its English width."""
    headings = [_(name) for name, _width, _right in _STATION_COLUMNS]
    widths = [
        max(width, len(heading))
        for (_n, width, _r), heading in zip(_STATION_COLUMNS, headings, strict=True)
    ]

    def cell(index: int, text: str) -> str:
        right = _STATION_COLUMNS[index][2]
        return f"{text:>{widths[index]}}" if right else f"{text:<{widths[index]}}"

    gaps = ("  ", " ", "  ", "  ", "  ", "  ", "  ", "  ", "  ")
    heading = "".join(
        cell(i, h) + (gaps[i] if i < len(gaps) else "") for i, h in enumerate(headings)
    )
    rows: list[list[Segment]] = [[(heading.rstrip(), "bold")]]
    for station in sorted(result.stations, key=lambda s: s.address):
        response = f"{station.response_s * 1000:.0f} ms" if station.response_s is not None else "-"
        answering = _yes_no(station.answering) if station.judged else _("not judged")
        before = [
            str(station.address),
            station.label or "-",
            _("yes") if station.expected else _("no"),
        ]
        after = [
            str(station.polls),
            str(station.answers),
            str(station.corrupt),
            str(station.timeouts),
            station.state or "-",
            response,
        ]
        rows.append(
            [
                ("".join(cell(i, t) + gaps[i] for i, t in enumerate(before)), None),
                (cell(3, answering), None if not station.silent else "bold red"),
                (
                    gaps[3]
                    + "".join(
                        cell(i, t) + (gaps[i] if i < len(gaps) else "")
                        for i, t in enumerate(after, start=4)
                    ),
                    None,
                ),
            ]
        )
    return rows


def _finding_lines(
    item: ReportedFinding,
    depth: int,
    lines: list[list[Segment]],
    shared: Mapping[str, frozenset[str]],
    result: CheckResult,
    printed: set[str],
) -> None:
    indent = "  " * (depth + 1)
    explained = (
        " " + _("(explained by {id})").format(id=item.consequence_of) if item.consequence_of else ""
    )
    lines.append(
        [
            (indent, None),
            (f"{LOOKS[item.severity].word:<8}", LOOKS[item.severity].style),
            (f" {item.id}  ", "bold"),
            (title(item) + explained, None),
        ]
    )
    pad = f"{indent}{'':<8}   "
    if depth == 0 and mark(item, result.diagnosis) is not Mark.OK and item.finding.remedy:
        lines.append(
            [
                (pad, None),
                (_("first step:") + " ", "bold"),
                (one_line(item.finding.remedy[0]), None),
            ]
        )
    evidence = [
        line
        for line in tidy_evidence(item.evidence, shared.get(item.id, ()))
        if line not in printed
    ]
    printed.update(evidence)
    lines += [[(f"{pad}- {line}", None)] for line in evidence]
    for child in item.consequences:
        _finding_lines(child, depth + 1, lines, shared, result, printed)


def _percent(rate: float | None) -> str:
    if rate is None:
        return "unknown"
    return f"{_trim(rate * 100, 2)} %"


def _trim(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
        from clu_doctor.report.nagios import render_nagios  # one format per run: only its own

        return render_nagios(result, thresholds=thresholds or Thresholds())
    if fmt is CheckFormat.PROMETHEUS:
        from clu_doctor.report.prometheus import render_prometheus  # one format per run

        return render_prometheus(result, last_success=last_success)
    if fmt is CheckFormat.JSON:
        return render_check_json(result)
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
    status: Severity = Severity.UNKNOWN,
    evidence: Sequence[str] = (),
) -> str:
    """ "Could not check" in ``fmt``. The exit code is 3 (UNKNOWN), unless ``status`` says a
    silent bus lasted until it is CRITICAL (2); ``evidence`` is what the history showed."""
    if fmt is CheckFormat.NAGIOS:
        from clu_doctor.report.nagios import render_nagios_unknown  # one format per run

        return render_nagios_unknown(
            site, message, duration_s, hint=hint, status=status, evidence=evidence
        )
    if fmt is CheckFormat.PROMETHEUS:
        from clu_doctor.report.prometheus import render_prometheus_unknown  # one format per run

        return render_prometheus_unknown(
            site,
            message,
            duration_s,
            last_success=last_success,
            started=started,
            status=status,
        )
    if fmt is CheckFormat.JSON:
        return render_check_unknown_json(
            site,
            message,
            duration_s,
            hint=hint,
            started=started,
            status=status,
            evidence=evidence,
        )
    where = f"{site}: " if site else ""
    text = f"{where}{LOOKS[status].status}: {one_line(_not_checked(status, message))}\n"
    text += "".join(f"  - {one_line(line)}\n" for line in evidence)
    if hint:
        text += f"hint: {one_line(hint)}\n"
    return text
