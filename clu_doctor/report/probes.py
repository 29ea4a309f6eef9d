"""Scan and listen results as tables (styled or plain) and JSON documents.

Both commands print one table of addresses (what was heard or read), then the diagnosis the
rules drew from it, in the words of every other command: finding ids, steps, the result line.
The status is the diagnosis's, so the text, the JSON and the exit code always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from clu_doctor.bus.probes.base import ranges
from clu_doctor.i18n import N_, _
from clu_doctor.probing.translate import traffic_summary
from clu_doctor.report import envelope, to_json
from clu_doctor.report.console import OutputMode, render_to_string
from clu_doctor.report.diagnosis import diagnosis_body, render_text
from clu_doctor.report.layout import open_areas

if TYPE_CHECKING:
    from rich.table import Table  # rich: text output only (JSON runs never load it)

    from clu_doctor.bus.chain import ChainResult
    from clu_doctor.bus.listen.detect import Detection
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.duplicates import DuplicateResult
    from clu_doctor.bus.probes.scan import ScanResult
    from clu_doctor.engine import Diagnosis, Tree
    from clu_doctor.site.model import Site


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f}"


def _table(mode: OutputMode, columns: Sequence[str]) -> Table:
    from rich import box  # rich: text output only (JSON runs never load it)
    from rich.table import Table  # rich: text output only (JSON runs never load it)

    table = Table(box=box.SIMPLE if mode.styled else box.ASCII, show_edge=mode.styled)
    for column in columns:
        table.add_column(_(column), justify="right" if column in _NUMERIC else "left")
    return table


#: An ABL controller generation in words.
GENERATION_WORDS = {1: N_("first-generation"), 2: N_("second-generation")}
_OTHER_GENERATION = N_("other")

#: A failed read's outcome in the words of the table (the JSON keeps the keys).
OUTCOME_WORDS = {
    "no_answer": N_("no answer"),
    "corrupt": N_("garbled"),
    "unexpected": N_("other device"),
    "exception": N_("refused"),
    "wrong_address": N_("other address"),
}

_NUMERIC = {"addr", "polls", "answers", "timeouts", "corrupt", "ms", "tries"}
#: The tables' column headings (English names above; shown through ``_``).
_COLUMNS = (
    N_("addr"),
    N_("label"),
    N_("identity"),
    N_("state"),
    N_("ms"),
    N_("tries"),
    N_("errors"),
    N_("polls"),
    N_("answers"),
    N_("timeouts"),
    N_("corrupt"),
)


# --- scan ---------------------------------------------------------------------------------


def scan_table(scan: ScanResult, mode: OutputMode, site: Site | None = None) -> Table:
    """Per address read: label, identity, state, median reply time, tries, errors. Unused
    addresses (not expected, nothing came back) get no row."""
    table = _table(mode, ["addr", "label", "identity", "state", "ms", "tries", "errors"])
    for entry in sorted(scan.results, key=lambda item: item.address):
        if not entry.answered and not entry.expected and not entry.responded:
            continue  # an unused address: not worth a row
        times = entry.response_times
        median = sorted(times)[len(times) // 2] if times else None
        errors = ", ".join(
            f"{_(OUTCOME_WORDS[k]) if k in OUTCOME_WORDS else k} x{v}"
            for k, v in entry.errors.items()
            if v
        )
        state = ""
        if entry.status is not None and entry.status.state:
            state = f"{entry.status.state} {entry.status.meaning}"
        label = (site.label_of(entry.address) if site else None) or ""
        if entry.identity:
            identity = entry.identity.text
        elif entry.answered:
            identity = "?"
        elif entry.garbled:
            identity = _("garbled every time")
        elif entry.replied_from:
            identity = _("answers as {addresses}").format(
                addresses=", ".join(map(str, entry.replied_from))
            )
        else:
            identity = _("no answer")
        table.add_row(
            str(entry.address),
            label,
            identity,
            state,
            _ms(median),
            str(len(entry.attempts)),
            errors,
        )
    table.caption = scan_summary(scan)
    return table


def scan_summary(scan: ScanResult) -> str:
    """One line: what was read, what answered, how long it took."""
    read = len(scan.results)
    other = scan.other_generation
    answered = len(scan.answered) - (len(other["answered"]) if other is not None else 0)
    text = _(
        "read {count} address(es) at {line} ({framing}) in {seconds} s: {answered} answered"
    ).format(
        count=read,
        line=scan.line,
        framing=scan.framing,
        seconds=f"{scan.duration_s:.1f}",
        answered=answered,
    )
    if scan.garbled:
        text += ", " + _("{count} garbled every time").format(count=len(scan.garbled))
    if scan.skipped:
        text += ", " + _("{count} skipped (every expected station had answered)").format(
            count=len(scan.skipped)
        )
    if other is not None:
        found = ranges(tuple(other["answered"])) or _("none")
        generation = other["generation"]
        text += "; " + _(
            "{addresses} read again at {line} ({framing}) for {generation} controllers: "
            "{found} answered"
        ).format(
            addresses=ranges(tuple(other["read"])),
            line=other["line"],
            framing=other["framing"],
            generation=_(GENERATION_WORDS.get(generation, _OTHER_GENERATION)),
            found=found,
        )
    return text


def render_scan_text(
    scan: ScanResult,
    diagnosis: Diagnosis,
    mode: OutputMode,
    *,
    site: Site | None = None,
    trees: Iterable[Tree] = (),
    questions: Mapping[str, str] | None = None,
) -> str:
    """What the reads found (the table per address), then what it means in the words of
    every other command: the rules' findings with their ids, steps and result line."""
    read = render_to_string(mode, scan_table(scan, mode, site))
    return (
        read
        + "\n"
        + render_text(diagnosis, mode, trees=trees, questions=questions, checked_only=True)
    )


def render_scan_json(
    scan: ScanResult,
    diagnosis: Diagnosis,
    *,
    site: Site | None = None,
    chain: ChainResult | None = None,
    duplicates: DuplicateResult | None = None,
    trees: Iterable[Tree] = (),
) -> str:
    """The diagnosis's fields (status, findings, areas...), then what the reads found: the
    scan per address, the chain read from it, the duplicate check and the site."""
    body: dict[str, Any] = {
        **diagnosis_body(diagnosis),
        "not_judged": open_areas(diagnosis, trees),
        "scan": scan.to_dict(),
        "chain": chain.to_dict() if chain else None,
        "duplicates": duplicates.to_dict() if duplicates else None,
        "site": site.to_dict() if site else None,
    }
    return to_json(envelope("scan", body))


# --- listen -------------------------------------------------------------------------------


def _chain_label(report: ListenReport, address: int) -> str:
    """The label of ``address`` from the report's own chain (a replayed recording's header
    carries the site's chain): the station's label, and which outlet of a DUO it is."""
    chain = report.chain
    if chain is None or not chain.labels:
        return ""
    position = chain.position(address)
    if position is None:
        return ""
    label = chain.labels[position - 1]
    outlet = chain.stations[position - 1].index(address)
    return (
        label
        if outlet == 0
        else _("{label} outlet {number}").format(label=label, number=outlet + 1)
    )


def listen_table(report: ListenReport, mode: OutputMode, site: Site | None = None) -> Table:
    """Per address: polls, answers, timeouts, corrupt answers, last state, response time.

    Labels come from ``site``, or without one from the report's chain (a replay)."""
    table = _table(
        mode, ["addr", "label", "polls", "answers", "timeouts", "corrupt", "state", "ms"]
    )
    for entry in report.addresses:
        if site is not None:
            label = site.label_of(entry.address) or ""
        else:
            label = _chain_label(report, entry.address)
        state = f"{entry.state.code} {entry.state.meaning}" if entry.state else ""
        median = entry.response.median if entry.response else None
        table.add_row(
            str(entry.address),
            label,
            str(entry.polls),
            str(entry.answers),
            str(entry.timeouts),
            str(entry.corrupt),
            state,
            _ms(median),
        )
    table.caption = traffic_summary(report)
    return table


def render_listen_text(
    report: ListenReport,
    diagnosis: Diagnosis,
    mode: OutputMode,
    *,
    site: Site | None = None,
    detection: Detection | None = None,
    notes: Sequence[str] = (),
    trees: Iterable[Tree] = (),
    questions: Mapping[str, str] | None = None,
) -> str:
    """What was heard (the table per address), then what it means, in the words of every
    other command: the rules' findings with their ids, steps and result line."""
    parts: list[Any] = [listen_table(report, mode, site)]
    parts += [_("Note:") + f" {note}" for note in notes]
    if detection is not None:
        parts.append(_("Line settings:") + f" {detection.message}")
    if report.bytes == 0:
        heard_nothing = _("Not a byte heard in {seconds} s").format(seconds=f"{report.seconds:.1f}")
        parts.append(f"{heard_nothing}{_too_short(report.seconds)}.")
    heard = render_to_string(mode, *parts)
    return (
        heard
        + "\n"
        + render_text(diagnosis, mode, trees=trees, questions=questions, checked_only=True)
    )


#: Below this much listening, silence says nothing yet: the CLU polls about once a second.
SHORT_SILENCE_S = 5.0


def _too_short(seconds: float) -> str:
    if seconds >= SHORT_SILENCE_S:
        return ""
    return ": " + _(
        "too short to tell a quiet bus from a dead one (listen at least {seconds} s)"
    ).format(seconds=f"{SHORT_SILENCE_S:g}")


def render_listen_json(
    report: ListenReport,
    diagnosis: Diagnosis,
    verdicts: Sequence[Verdict],
    *,
    detection: Detection | None = None,
    notes: Sequence[str] = (),
    warnings: Sequence[str] = (),
    trees: Iterable[Tree] = (),
) -> str:
    """The diagnosis's fields (status, findings, areas...), then what was heard: the listen's
    own verdicts (the evidence the findings rest on), the line-setting search, the report."""
    body = {
        **diagnosis_body(diagnosis),
        "not_judged": open_areas(diagnosis, trees),
        "notes": list(notes),
        "warnings": list(warnings),
        "verdicts": [v.to_dict() for v in verdicts],
        "detection": detection.to_dict() if detection else None,
        "report": report.to_dict(),
    }
    return to_json(envelope("listen", body))
