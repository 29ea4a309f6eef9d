"""A diagnosis as text (styled on a terminal, plain when piped) or as a JSON document.

Text order: root causes by physical layer with their numbered remedy steps, each with the
symptoms it explains nested under it; findings that need more information; what was checked
and found fine; with ``why``, the answers that led there; a one-line result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from clu_doctor.engine import Diagnosis, ReportedFinding
from clu_doctor.report import envelope, list_grid, to_json
from clu_doctor.report.console import LOOKS, OutputMode, render_to_string
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from rich.console import RenderableType  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

#: Evidence lines shown per finding in text (all of them are in the JSON).
MAX_EVIDENCE = 12

#: What a ``confirm_with`` probe name means to a technician, and how to run it.
PROBES = {
    "bus.scan": "an address scan of the bus",
    "bus.end_of_bus": "an end-of-bus check (adapter at the far end of the chain)",
    "bus.duplicates": "a duplicate-address scan",
    "bus.listen": "passive listening on the bus",
}


def probe_description(name: str) -> str:
    return PROBES.get(name, name)


def render_json(diagnosis: Diagnosis, extra: Mapping[str, Any] | None = None) -> str:
    """The diagnosis as a versioned JSON document (same exit code as the text output)."""
    body = diagnosis.to_dict()
    document = envelope(
        "diagnosis",
        {
            "status": body["status"],
            "exit_code": body["exit_code"],
            "summary": summary_line(diagnosis),
            "wait_s": body["wait_s"],
            "findings": body["findings"],
            "withdrawn": body["withdrawn"],
            "trace": body["trace"],
            "observations": body["observations"],
            **(extra or {}),
        },
    )
    return to_json(document)


def summary_line(diagnosis: Diagnosis) -> str:
    """``CRITICAL: 1 fault (1 consequence shown under it)`` and the like."""
    roots = diagnosis.findings
    faults = [r for r in roots if r.severity in (Severity.CRITICAL, Severity.WARNING)]
    undecided = [r for r in roots if r.severity is Severity.UNKNOWN]
    consequences = sum(len(list(r.walk())) - 1 for r in roots)
    parts = []
    if faults:
        parts.append(_count(len(faults), "fault"))
    if consequences:
        parts.append(_count(consequences, "consequence") + " shown under its cause")
    if undecided:
        parts.append(_count(len(undecided), "question") + " left open")
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
    questions: Mapping[str, str] | None = None,
) -> str:
    """The diagnosis for a person. ``questions`` maps observation keys to their question text."""
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    blocks: list[RenderableType] = []
    problems = [r for r in diagnosis.findings if r.severity.rank >= Severity.WARNING.rank]
    undecided = [r for r in diagnosis.findings if r.severity is Severity.UNKNOWN]
    fine = [r for r in diagnosis.findings if r.severity.rank <= Severity.INFO.rank]

    for number, root in enumerate(problems, 1):
        blocks.append(_finding_block(root, number if len(problems) > 1 else None, questions))
    for root in undecided:
        blocks.append(_finding_block(root, None, questions))
    if fine:
        blocks.append(_fine_block(fine))
    if why:
        blocks.append(_why_block(diagnosis))
    result = Text()
    result.append("Result: ", style="bold")
    result.append(summary_line(diagnosis), style=LOOKS[diagnosis.status].style)
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


def _heading(item: ReportedFinding, number: int | None) -> Text:
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    heading = Text()
    if number is not None:
        heading.append(f"{number}. ", style="bold")
    heading.append(f"{LOOKS[item.severity].label:<9}", style=LOOKS[item.severity].style)
    heading.append(f" {item.id}  ", style="bold")
    heading.append(item.finding.title, style="bold")
    return heading


def _finding_block(
    root: ReportedFinding, number: int | None, questions: Mapping[str, str] | None
) -> RenderableType:
    from rich.console import Group  # rich: text output only (JSON runs never load it)
    from rich.padding import Padding  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    finding = root.finding
    lines: list[RenderableType] = [Text(finding.cause)]
    if root.evidence:
        lines.append(Text("Seen:", style="bold"))
        shown = list(root.evidence[:MAX_EVIDENCE])
        if len(root.evidence) > MAX_EVIDENCE:
            shown.append(f"... and {len(root.evidence) - MAX_EVIDENCE} more (see --json)")
        lines.append(Padding(list_grid([("-", item) for item in shown]), (0, 0, 0, 2)))
    if finding.look_at:
        look = Text("Look at: ", style="bold")
        look.append("; ".join((questions or {}).get(key, key) for key in finding.look_at))
        lines.append(look)
    lines.append(Text("What to do:", style="bold"))
    steps = [(f"{index}.", step) for index, step in enumerate(finding.remedy, 1)]
    lines.append(Padding(list_grid(steps), (0, 0, 0, 2)))
    for label, value in (
        ("Verify", finding.verify),
        ("Escalate", finding.escalate),
    ):
        if value:
            line = Text(f"{label}: ", style="bold")
            line.append(value)
            lines.append(line)
    if finding.confirm_with and not root.evidence:
        line = Text("Bus check that would confirm it: ", style="bold")
        line.append(
            f"{probe_description(finding.confirm_with)} ({finding.confirm_with}; "
            "give --port or --sim)"
        )
        lines.append(line)
    source = Text("Manual: ", style="dim")
    source.append(finding.manual, style="dim")
    lines.append(source)
    consequences = list(root.walk())[1:]
    if consequences:
        lines.append(Text("Explained by this cause (not separate faults):", style="bold"))
        for child in consequences:
            child_line = Text("  - ")
            child_line.append(LOOKS[child.severity].label, style=LOOKS[child.severity].style)
            child_line.append(f" {child.id}  {child.finding.title}")
            lines.append(child_line)
    return Group(_heading(root, number), Padding(Group(*lines), (0, 0, 0, 4)))


def _fine_block(fine: list[ReportedFinding]) -> RenderableType:
    from rich.console import Group  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    lines: list[RenderableType] = [Text("Checked and fine:", style="bold")]
    for item in fine:
        for entry in item.walk():
            line = Text("  ")
            line.append(f"{LOOKS[entry.severity].label:<5}", style=LOOKS[entry.severity].style)
            line.append(f" {entry.id}  {entry.finding.title}")
            lines.append(line)
            if entry.severity is Severity.INFO:
                for step in entry.finding.remedy:
                    lines.append(Text(f"          {step}", style="dim"))
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
