"""A diagnosis as text (styled on a terminal, plain when piped) or as a JSON document.

Text order, for a technician in a cold garage: a summary (one line per area of the site, and
the first thing to do); then each problem with its numbered steps before its evidence, the
check after the fix, when to escalate and the manual's section, the symptoms it explains
nested under it; then a wait, the questions left open, what was checked and found fine; with
``why``, the answers that led there; a one-line result. Evidence is short by default (see
:func:`clu_doctor.report.layout.tidy_evidence`); ``why`` and ``verbose`` show all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from clu_doctor.engine import Diagnosis, ReportedFinding, Tree
from clu_doctor.report import envelope, list_grid, to_json
from clu_doctor.report.console import LOOKS, OutputMode, render_to_string
from clu_doctor.report.layout import (
    SHORT_EVIDENCE,
    WAIT_STYLE,
    Mark,
    area_lines,
    bus_was_checked,
    come_back,
    first_step,
    in_display_order,
    mark,
    open_areas,
    reorder_dicts,
    shared_evidence,
    symbol,
    tidy_evidence,
    title,
    wait_seconds,
)
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from rich.console import RenderableType  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

#: What a ``confirm_with`` probe name means to a technician.
PROBES = {
    "bus.scan": "an address scan of the bus",
    "bus.end_of_bus": "an end-of-bus check (adapter at the far end of the chain)",
    "bus.duplicates": "a duplicate-address scan",
    "bus.listen": "passive listening on the bus",
}


def probe_description(name: str) -> str:
    return PROBES.get(name, name)


def render_json(
    diagnosis: Diagnosis, extra: Mapping[str, Any] | None = None, *, trees: Iterable[Tree] = ()
) -> str:
    """The diagnosis as a versioned JSON document (same exit code as the text output); the
    fields are :func:`diagnosis_body`'s, then ``extra``'s."""
    return to_json(envelope("diagnosis", {**diagnosis_body(diagnosis, trees), **(extra or {})}))


def diagnosis_body(diagnosis: Diagnosis, trees: Iterable[Tree] = ()) -> dict[str, Any]:
    """What a diagnosis says, as JSON fields (``diagnose``, and ``listen``/``scan`` beside what
    they heard).

    ``findings`` lists problems first, as the text does (each root keeps its consequences);
    ``areas`` is the summary, ``first_step`` the first thing to do, ``wait_s`` the seconds
    until a waiting run can tell more (``null`` when it does not wait), ``withdrawn`` the
    OK findings a fault of the same run contradicts (never reported as fine). ``trees`` (the rule
    book's) tell which areas were checked without a finding (see :func:`area_lines`)."""
    body = diagnosis.to_dict()
    first = first_step(diagnosis)
    wait = wait_seconds(diagnosis)
    return {
        "status": body["status"],
        "exit_code": body["exit_code"],
        "summary": summary_line(diagnosis),
        "wait_s": None if wait is None else round(wait, 1),
        "first_step": None if first is None else first.to_dict(),
        "areas": [line.to_dict() for line in area_lines(diagnosis, trees)],
        "findings": reorder_dicts(diagnosis, body["findings"]),
        "withdrawn": body.get("withdrawn", []),
        "trace": body["trace"],
        "observations": body["observations"],
    }


def summary_line(diagnosis: Diagnosis) -> str:
    """``CRITICAL: 1 fault (1 consequence shown under it)``, ``WAIT: come back in 90 s`` and
    the like."""
    roots = diagnosis.findings
    faults = [r for r in roots if r.severity in (Severity.CRITICAL, Severity.WARNING)]
    undecided = [r for r in roots if mark(r, diagnosis) is Mark.UNDECIDED]
    consequences = sum(len(list(r.walk())) - 1 for r in roots)
    wait = wait_seconds(diagnosis)
    parts = []
    if faults:
        parts.append(_count(len(faults), "fault"))
    if consequences:
        parts.append(_count(consequences, "consequence") + " shown under its cause")
    if undecided:
        parts.append(_count(len(undecided), "question") + " left open")
    if wait is not None and faults:
        parts.append(f"{come_back(wait)} for the rest")
    if wait is not None and not faults:
        return ", ".join([f"WAIT: {come_back(wait)}", *parts])
    if not parts:
        parts.append("nothing wrong found" if roots else "nothing could be decided")
    return f"{LOOKS[diagnosis.status].status}: {', '.join(parts)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(
    diagnosis: Diagnosis,
    mode: OutputMode,
    *,
    why: bool = False,
    verbose: bool = False,
    questions: Mapping[str, str] | None = None,
    trees: Iterable[Tree] = (),
    checked_only: bool = False,
) -> str:
    """The diagnosis for a person. ``questions`` maps observation keys to their question text,
    ``trees`` (the rule book's) tell which areas were checked without a finding;
    ``checked_only`` shows only the areas with a finding in the summary (``listen`` and ``scan``
    judge the bus alone: the LEDs and the portal are not theirs to check, and a tree with
    nothing to say of a silent bus has not found it fine).
    ``why`` adds every evidence line and the answers that led to each finding; ``verbose``
    every evidence line as the probes wrote it (statistics included) and the evidence of
    consequences and of what was fine."""
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    trees = tuple(trees)
    style = _Style(diagnosis, why=why, verbose=verbose, questions=questions or {})
    ordered = in_display_order(diagnosis.findings, diagnosis)
    problems = [r for r in ordered if mark(r, diagnosis) is Mark.PROBLEM]
    blocks: list[RenderableType] = [_summary_block(diagnosis, trees, checked_only)]
    for number, root in enumerate(problems, 1):
        blocks.append(style.finding_block(root, number if len(problems) > 1 else None))
    for root in ordered:
        if mark(root, diagnosis) in (Mark.WAIT, Mark.UNDECIDED):
            blocks.append(style.finding_block(root, None))
    fine = [r for r in ordered if mark(r, diagnosis) is Mark.OK]
    if fine:
        blocks.append(style.fine_block(fine))
    if why:
        withdrawn = _withdrawn_block(diagnosis)
        if withdrawn is not None:
            blocks.append(withdrawn)
        blocks.append(_why_block(diagnosis))
    result = Text()
    result.append("Result: ", style="bold")
    line = summary_line(diagnosis)
    left_open = open_areas(diagnosis, trees) if checked_only else []
    if left_open and diagnosis.findings:
        line += f" (not judged: {', '.join(left_open)})"
    look = WAIT_STYLE if line.startswith("WAIT") else LOOKS[diagnosis.status].style
    result.append(line, style=look)
    result.append(f"  (exit {int(diagnosis.exit_code)})", style="dim")
    blocks.append(result)
    return render_to_string(mode, *_spaced(blocks))


def _spaced(blocks: Iterable[RenderableType]) -> list[RenderableType]:
    out: list[RenderableType] = []
    for block in blocks:
        if out:
            out.append("")
        out.append(block)
    return out


def _summary_block(
    diagnosis: Diagnosis, trees: Iterable[Tree], checked_only: bool = False
) -> RenderableType:
    """One line per area, flutter-doctor style, then the first thing to do."""
    from rich.console import Group  # rich: text output only (JSON runs never load it)
    from rich.table import Table  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    trees = tuple(trees)
    left_open = open_areas(diagnosis, trees) if checked_only else []
    for line in area_lines(diagnosis, trees):
        text = line.text
        if checked_only and line.area.name in left_open and not line.findings:
            # the bus led here but cannot judge it alone: say so, never leave it out as if fine
            text = f"not judged from the bus alone: {line.area.needs} ('clu-doctor diagnose')"
        elif checked_only and (line.mark is Mark.NOT_CHECKED or not line.findings):
            continue  # the bus alone: only what it found says anything
        mark_symbol = symbol(line.mark, line.severity)
        text_style = "dim" if line.mark is Mark.NOT_CHECKED else ""
        grid.add_row(
            Text(f"  {mark_symbol.char}", style=mark_symbol.style),
            Text(line.area.name, style="bold" if line.mark is Mark.PROBLEM else ""),
            Text(text, style=text_style),
        )
    if not grid.rows:
        grid.add_row(Text("  ?", style=WAIT_STYLE), Text("Bus"), Text("nothing heard to judge"))
    first = first_step(diagnosis)
    do = Table.grid(padding=(0, 1))
    do.add_column(no_wrap=True)
    do.add_column()
    if first is None and not diagnosis.findings and checked_only:
        do.add_row(
            Text("Nothing decided:", style="bold"),
            Text("the bus alone cannot tell; 'clu-doctor diagnose' also asks what the LEDs show."),
        )
    elif first is None:
        do.add_row(Text("Nothing to do:", style="bold"), Text("no problem in what was checked."))
    else:
        do.add_row(Text("First:", style="bold"), Text(first.step))
    return Group(Text("Summary", style="bold"), grid, Text(""), do)


def _heading(item: ReportedFinding, number: int | None, item_mark: Mark) -> Text:
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    heading = Text()
    if number is not None:
        heading.append(f"{number}. ", style="bold")
    if item_mark is Mark.WAIT:
        heading.append(f"{'WAIT':<9}", style=WAIT_STYLE)
    else:
        heading.append(f"{LOOKS[item.severity].label:<9}", style=LOOKS[item.severity].style)
    heading.append(f" {title(item)}", style="bold")
    heading.append(f"  {item.id}", style="dim")
    return heading


class _Style:
    """How much of each finding to show, and in which words (one run's settings)."""

    def __init__(
        self, diagnosis: Diagnosis, *, why: bool, verbose: bool, questions: Mapping[str, str]
    ) -> None:
        self.diagnosis = diagnosis
        self.all_evidence = why or verbose
        self.verbose = verbose
        self.questions = questions
        self.shared = shared_evidence(diagnosis)
        self.bus_checked = bus_was_checked(diagnosis)

    def evidence(self, item: ReportedFinding) -> list[str]:
        if self.verbose:
            return list(item.evidence)
        return tidy_evidence(item.evidence, self.shared.get(item.id, ()))

    def evidence_lines(self, item: ReportedFinding, indent: int) -> list[RenderableType]:
        from rich.padding import Padding  # rich: text output only (JSON runs never load it)
        from rich.text import Text  # rich: text output only (JSON runs never load it)

        lines = self.evidence(item)
        if not lines:
            return []
        shown = lines if self.all_evidence else lines[:SHORT_EVIDENCE]
        rows = [("-", line) for line in shown]
        hidden = len(lines) - len(shown)
        if hidden:
            rows.append(("", f"({_count(hidden, 'more line')}: --why, -v or --json)"))
        return [Text("Seen:", style="bold"), Padding(list_grid(rows), (0, 0, 0, indent))]

    def finding_block(self, root: ReportedFinding, number: int | None) -> RenderableType:
        from rich.console import Group  # rich: text output only (JSON runs never load it)
        from rich.padding import Padding  # rich: text output only (JSON runs never load it)
        from rich.text import Text  # rich: text output only (JSON runs never load it)

        finding = root.finding
        lines: list[RenderableType] = [Text(" ".join(finding.cause.split()))]
        if finding.look_at:
            look = Text()
            look.append("Look at: ", style="bold")
            look.append(" ".join(self.questions.get(key, key) for key in finding.look_at))
            lines.append(look)
        lines.append(Text("What to do:", style="bold"))
        steps = [(f"{index}.", step) for index, step in enumerate(finding.remedy, 1)]
        lines.append(Padding(list_grid(steps), (0, 0, 0, 2)))
        lines += self.evidence_lines(root, 2)
        for label, value in (("Verify", finding.verify), ("Escalate", finding.escalate)):
            if value:
                line = Text()
                line.append(f"{label}: ", style="bold")
                line.append(" ".join(value.split()))
                lines.append(line)
        if finding.confirm_with and not self.bus_checked:
            line = Text()
            line.append("Bus check that would confirm it: ", style="bold")
            line.append(
                f"{probe_description(finding.confirm_with)}; connect a USB-RS485 adapter to "
                "the bus and run the diagnosis with --port"
            )
            lines.append(line)
        source = Text(f"Manual: {finding.manual}", style="dim")
        lines.append(source)
        consequences = list(root.walk())[1:]
        if consequences:
            lines.append(Text("Explained by this cause (not separate faults):", style="bold"))
            for child in consequences:
                child_line = Text("  - ")
                child_line.append(LOOKS[child.severity].label, style=LOOKS[child.severity].style)
                child_line.append(f" {title(child)}")
                child_line.append(f"  {child.id}", style="dim")
                lines.append(child_line)
                if self.all_evidence:
                    lines += [
                        Padding(block, (0, 0, 0, 4)) for block in self.evidence_lines(child, 2)
                    ]
        heading = _heading(root, number, mark(root, self.diagnosis))
        return Group(heading, Padding(Group(*lines), (0, 0, 0, 4)))

    def fine_block(self, fine: list[ReportedFinding]) -> RenderableType:
        from rich.console import Group  # rich: text output only (JSON runs never load it)
        from rich.padding import Padding  # rich: text output only (JSON runs never load it)
        from rich.text import Text  # rich: text output only (JSON runs never load it)

        lines: list[RenderableType] = [Text("Checked and fine:", style="bold")]
        for item in fine:
            for entry in item.walk():
                line = Text("  ")
                line.append(f"{LOOKS[entry.severity].label:<5}", style=LOOKS[entry.severity].style)
                line.append(f" {title(entry)}")
                line.append(f"  {entry.id}", style="dim")
                lines.append(line)
                if entry.severity is Severity.INFO:
                    for step in entry.finding.remedy:
                        # wrapped lines keep the step's indent (Padding, not leading spaces)
                        step_text = Text(" ".join(step.split()), style="dim")
                        lines.append(Padding(step_text, (0, 0, 0, 8)))
                if self.verbose:
                    lines += [
                        Padding(block, (0, 0, 0, 8)) for block in self.evidence_lines(entry, 2)
                    ]
        return Group(*lines)


def _withdrawn_block(diagnosis: Diagnosis) -> RenderableType | None:
    """The OK findings a fault of this run contradicts, and which fault (``--why`` only: by
    default they are simply not claimed). Read with a fallback: ``Diagnosis.withdrawn`` comes
    from the engine's reasoning."""
    from rich.console import Group  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    withdrawn: tuple[ReportedFinding, ...] = tuple(getattr(diagnosis, "withdrawn", ()))
    if not withdrawn:
        return None
    lines: list[RenderableType] = [
        Text("Not reported as fine (a fault of this run contradicts it):", style="bold")
    ]
    for item in withdrawn:
        line = Text(f"  {title(item)}")
        line.append(f"  {item.id}", style="dim")
        against = tuple(getattr(item, "contradicted_by", ()))
        if against:
            line.append(f" (because of {', '.join(against)})")
        lines.append(line)
    return Group(*lines)


def _why_block(diagnosis: Diagnosis) -> RenderableType:
    from rich.text import Text  # rich: text output only (JSON runs never load it)
    from rich.tree import Tree  # rich: text output only (JSON runs never load it)

    tree = Tree(Text("Why: the answers that led here", style="bold"), guide_style="dim")
    for trace in diagnosis.traces:
        branch = tree.add(Text(f"{trace.title} ({trace.tree})", style="bold"))
        for step in trace.steps:
            line = Text(f"{step.key} = ")
            line.append(str(step.value), style="bold")
            source = step.source.value + (f", {step.detail}" if step.detail else "")
            line.append(f"  [{source}]", style="dim")
            line.append(f"  → {step.target}")
            branch.add(line)
        outcome = trace.finding or "nothing to report"
        branch.add(Text(f"⇒ {outcome}", style="bold"))
    return tree
