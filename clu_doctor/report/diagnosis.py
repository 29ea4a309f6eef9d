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
from typing import Any

from clu_doctor.engine import Diagnosis, ReportedFinding, Tree
from clu_doctor.engine.model import SEE_PREFIX
from clu_doctor.i18n import LANGUAGES, N_, _, counted, language
from clu_doctor.report import envelope, to_json
from clu_doctor.report.blocks import (
    Block,
    Column,
    Grid,
    Indent,
    Line,
    Stack,
    TreeBlock,
    list_block,
    render_blocks,
)
from clu_doctor.report.console import LOOKS, OutputMode
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

#: What a ``confirm_with`` probe name means to a technician.
PROBES = {
    "bus.scan": N_("an address scan of the bus"),
    "bus.end_of_bus": N_("an end-of-bus check (adapter at the far end of the chain)"),
    "bus.duplicates": N_("a duplicate-address scan"),
    "bus.listen": N_("passive listening on the bus"),
}


def probe_description(name: str) -> str:
    return _(PROBES[name]) if name in PROBES else name


def render_json(diagnosis: Diagnosis, extra: Mapping[str, Any] | None = None) -> str:
    """The diagnosis as a versioned JSON document (same exit code as the text output); the
    fields are :func:`diagnosis_body`'s, then ``extra``'s."""
    return to_json(envelope("diagnosis", {**diagnosis_body(diagnosis), **(extra or {})}))


def diagnosis_body(diagnosis: Diagnosis) -> dict[str, Any]:
    """What a diagnosis says, as JSON fields (``diagnose``, and ``listen``/``scan`` beside what
    they heard).

    ``findings`` lists problems first, as the text does (each root keeps its consequences);
    ``areas`` is the summary, ``first_step`` the first thing to do, ``wait_s`` the seconds
    until a waiting run can tell more (``null`` when it does not wait), ``withdrawn`` the
    OK findings a fault of the same run contradicts (never reported as fine)."""
    body = diagnosis.to_dict()
    first = first_step(diagnosis)
    wait = wait_seconds(diagnosis)
    return {
        "status": body["status"],
        "exit_code": body["exit_code"],
        "summary": summary_line(diagnosis),
        "wait_s": None if wait is None else round(wait, 1),
        "first_step": None if first is None else first.to_dict(),
        "areas": [line.to_dict() for line in area_lines(diagnosis)],
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
        parts.append(counted("{count} fault", "{count} faults", len(faults)))
    if consequences:
        parts.append(
            counted(
                "{count} consequence shown under its cause",
                "{count} consequences shown under its cause",
                consequences,
            )
        )
    if undecided:
        parts.append(
            counted("{count} question left open", "{count} questions left open", len(undecided))
        )
    if wait is not None and faults:
        parts.append(_("{come_back} for the rest").format(come_back=come_back(wait)))
    if wait is not None and not faults:
        return ", ".join([f"WAIT: {come_back(wait)}", *parts])
    if not parts:
        parts.append(_("nothing wrong found") if roots else _("nothing could be decided"))
    return f"{LOOKS[diagnosis.status].status}: {', '.join(parts)}"


def render_text(
    diagnosis: Diagnosis,
    mode: OutputMode,
    *,
    why: bool = False,
    verbose: bool = False,
    questions: Mapping[str, str] | None = None,
    trees: Iterable[Tree] = (),
    checked_only: bool = False,
    untranslated: Mapping[str, str] | None = None,
) -> str:
    """The diagnosis for a person. ``questions`` maps observation keys to their question text,
    ``trees`` (the rule book's) tell which areas were checked without a finding;
    ``checked_only`` shows only the areas with a finding in the summary (``listen`` and ``scan``
    judge the bus alone: the LEDs and the portal are not theirs to check, and a tree with
    nothing to say of a silent bus has not found it fine).
    ``why`` adds every evidence line and the answers that led to each finding; ``verbose``
    every evidence line as the probes wrote it (statistics included) and the evidence of
    consequences and of what was fine."""

    trees = tuple(trees)
    style = _Style(diagnosis, why=why, verbose=verbose, questions=questions or {})
    ordered = in_display_order(diagnosis.findings, diagnosis)
    problems = [r for r in ordered if mark(r, diagnosis) is Mark.PROBLEM]
    blocks: list[Block] = [_summary_block(diagnosis, trees, checked_only)]
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
        blocks.append(_why_block(diagnosis, untranslated or {}))
    result = Line()
    result.append(_("Result:") + " ", "bold")
    line = summary_line(diagnosis)
    left_open = open_areas(diagnosis, trees) if checked_only else []
    if left_open and diagnosis.findings:
        line += " " + _("(not judged: {areas})").format(areas=", ".join(map(_, left_open)))
    look = WAIT_STYLE if line.startswith("WAIT") else LOOKS[diagnosis.status].style
    result.append(line, look)
    result.append(f"  (exit {int(diagnosis.exit_code)})", "dim")
    blocks.append(result)
    return render_blocks(mode, _spaced(blocks))


def _spaced(blocks: Iterable[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        if out:
            out.append(Line(""))
        out.append(block)
    return out


def _summary_block(
    diagnosis: Diagnosis, trees: Iterable[Tree], checked_only: bool = False
) -> Block:
    """One line per area, flutter-doctor style, then the first thing to do."""

    grid = Grid([Column(no_wrap=True), Column(no_wrap=True), Column()], gap=2)
    trees = tuple(trees)
    left_open = open_areas(diagnosis, trees) if checked_only else []
    for line in area_lines(diagnosis):
        text = line.text
        if checked_only and line.area.name in left_open and not line.findings:
            # the bus led here but cannot judge it alone: say so, never leave it out as if fine
            text = _("not judged from the bus alone: {what} ('clu-doctor diagnose')").format(
                what=_(line.area.needs)
            )
        elif checked_only and (line.mark is Mark.NOT_CHECKED or not line.findings):
            continue  # the bus alone: only what it found says anything
        mark_symbol = symbol(line.mark, line.severity)
        text_style = "dim" if line.mark is Mark.NOT_CHECKED else ""
        grid.add_row(
            Line(f"  {mark_symbol.char}", mark_symbol.style),
            Line(line.area.title, "bold" if line.mark is Mark.PROBLEM else ""),
            Line(text, text_style),
        )
    if not grid.rows:
        grid.add_row(Line("  ?", WAIT_STYLE), Line(_("Bus")), Line(_("nothing heard to judge")))
    first = first_step(diagnosis)
    do = Grid([Column(no_wrap=True), Column()], gap=1)
    if first is None and not diagnosis.findings and checked_only:
        do.add_row(
            Line(_("Nothing decided:"), "bold"),
            Line(
                _("the bus alone cannot tell; 'clu-doctor diagnose' also asks what the LEDs show.")
            ),
        )
    elif first is None:
        do.add_row(Line(_("Nothing to do:"), "bold"), Line(_("no problem in what was checked.")))
    else:
        do.add_row(Line(_("First:"), "bold"), Line(first.step))
    return Stack([Line(_("Summary"), "bold"), grid, Line(""), do])


def _heading(item: ReportedFinding, number: int | None, item_mark: Mark) -> Line:

    heading = Line()
    if number is not None:
        heading.append(f"{number}. ", "bold")
    if item_mark is Mark.WAIT:
        heading.append(f"{'WAIT':<9}", WAIT_STYLE)
    else:
        heading.append(f"{_(LOOKS[item.severity].label):<9}", LOOKS[item.severity].style)
    heading.append(f" {title(item)}", "bold")
    heading.append(f"  {item.id}", "dim")
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

    def evidence_lines(self, item: ReportedFinding, indent: int) -> list[Block]:

        lines = self.evidence(item)
        if not lines:
            return []
        shown = lines if self.all_evidence else lines[:SHORT_EVIDENCE]
        rows = [("-", line) for line in shown]
        hidden = len(lines) - len(shown)
        if hidden:
            more = counted("{count} more line", "{count} more lines", hidden)
            rows.append(("", _("({more}: --why, -v or --json)").format(more=more)))
        return [Line(_("Seen:"), "bold"), Indent(list_block(rows), indent)]

    def finding_block(self, root: ReportedFinding, number: int | None) -> Block:

        finding = root.finding
        lines: list[Block] = [Line(" ".join(finding.cause.split()))]
        if finding.look_at:
            look = Line()
            look.append(_("Look at:") + " ", "bold")
            look.append(" ".join(self.questions.get(key, key) for key in finding.look_at))
            lines.append(look)
        lines.append(Line(_("What to do:"), "bold"))
        steps = [(f"{index}.", step) for index, step in enumerate(finding.remedy, 1)]
        lines.append(Indent(list_block(steps), 2))
        lines += self.evidence_lines(root, 2)
        for label, value in ((_("Verify:"), finding.verify), (_("Escalate:"), finding.escalate)):
            if value:
                line = Line()
                line.append(f"{label} ", "bold")
                line.append(" ".join(value.split()))
                lines.append(line)
        if finding.confirm_with and not self.bus_checked:
            line = Line()
            line.append(_("Bus check that would confirm it:") + " ", "bold")
            line.append(
                _(
                    "{probe}; connect a USB-RS485 adapter to the bus and run the diagnosis "
                    "with --port"
                ).format(probe=probe_description(finding.confirm_with))
            )
            lines.append(line)
        source = Line(_("Manual:") + f" {finding.manual}", "dim")
        lines.append(source)
        consequences = list(root.walk())[1:]
        if consequences:
            lines.append(Line(_("Explained by this cause (not separate faults):"), "bold"))
            for child in consequences:
                child_line = Line("  - ")
                child_line.append(_(LOOKS[child.severity].label), LOOKS[child.severity].style)
                child_line.append(f" {title(child)}")
                child_line.append(f"  {child.id}", "dim")
                lines.append(child_line)
                if self.all_evidence:
                    lines += [Indent(block, 4) for block in self.evidence_lines(child, 2)]
        heading = _heading(root, number, mark(root, self.diagnosis))
        return Stack([heading, Indent(Stack(lines), 4)])

    def fine_block(self, fine: list[ReportedFinding]) -> Block:

        lines: list[Block] = [Line(_("Checked and fine:"), "bold")]
        for item in fine:
            for entry in item.walk():
                line = Line("  ")
                line.append(f"{_(LOOKS[entry.severity].label):<5}", LOOKS[entry.severity].style)
                line.append(f" {title(entry)}")
                line.append(f"  {entry.id}", "dim")
                lines.append(line)
                if entry.severity is Severity.INFO:
                    for step in entry.finding.remedy:
                        # wrapped lines keep the step's indent (Indent, not leading spaces)
                        lines.append(Indent(Line(" ".join(step.split()), "dim"), 8))
                if self.verbose:
                    lines += [Indent(block, 8) for block in self.evidence_lines(entry, 2)]
        return Stack(lines)


def _withdrawn_block(diagnosis: Diagnosis) -> Block | None:
    """The OK findings a fault of this run contradicts, and which fault (``--why`` only: by
    default they are simply not claimed). Read with a fallback: ``Diagnosis.withdrawn`` comes
    from the engine's reasoning."""

    withdrawn: tuple[ReportedFinding, ...] = tuple(getattr(diagnosis, "withdrawn", ()))
    if not withdrawn:
        return None
    lines: list[Block] = [
        Line(_("Not reported as fine (a fault of this run contradicts it):"), "bold")
    ]
    for item in withdrawn:
        line = Line(f"  {title(item)}")
        line.append(f"  {item.id}", "dim")
        against = tuple(getattr(item, "contradicted_by", ()))
        if against:
            line.append(" " + _("(because of {ids})").format(ids=", ".join(against)))
        lines.append(line)
    return Stack(lines)


#: How a text can stand in a language (see :mod:`clu_doctor.engine.texts`), for the trace.
_STATES = (N_("missing"), N_("stale"), N_("broken"))


def _why_block(diagnosis: Diagnosis, untranslated: Mapping[str, str]) -> Block:
    """The walk of every tree; a finding shown in English in another language says so."""

    tree = TreeBlock(Line(_("Why: the answers that led here"), "bold"), guide_style="dim")
    for trace in diagnosis.traces:
        branch = tree.add(Line(f"{trace.title} ({trace.tree})", "bold"))
        for step in trace.steps:
            line = Line(f"{step.key} = ")
            line.append(str(step.value), "bold")
            source = step.source.value + (f", {step.detail}" if step.detail else "")
            line.append(f"  [{source}]", "dim")
            line.append(f"  → {step.target}")
            branch.add(line)
        if trace.finding is None and trace.outcome.startswith(SEE_PREFIX):
            seen = trace.outcome[len(SEE_PREFIX) :]
            outcome = _("not judged here: see {finding}").format(finding=seen)
        else:
            outcome = trace.finding or _("nothing to report")
        state = untranslated.get(trace.finding or "")
        if state is not None:
            outcome += " " + _("(shown in English: its {language} translation is {state})").format(
                language=LANGUAGES.get(language(), language()), state=_(state)
            )
        branch.add(Line(f"⇒ {outcome}", "bold"))
    return tree
