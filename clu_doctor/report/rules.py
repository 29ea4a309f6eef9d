"""The rule book as a terminal tree, as a Markdown reference (for the README), or as JSON; and
one finding explained (``clu-doctor explain ID``, ``clu-doctor rules show ID``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from clu_doctor.engine import Finding, Rulebook, Tree
from clu_doctor.engine.model import Target, TargetKind
from clu_doctor.errors import UsageError
from clu_doctor.i18n import _
from clu_doctor.report import envelope, list_grid, to_json
from clu_doctor.report.console import LOOKS, OutputMode, render_to_string
from clu_doctor.report.diagnosis import probe_description
from clu_doctor.report.layout import area_of_layer
from clu_doctor.suggest import did_you_mean

if TYPE_CHECKING:
    from rich.tree import Tree as RichTree  # rich: text output only (JSON runs never load it)


def select_trees(rulebook: Rulebook, ids: list[str] | None) -> list[Tree]:
    """The trees named in ``ids`` (all when empty); unknown ids are a usage error."""
    trees, findings = select(rulebook, ids)
    if findings:
        raise UsageError(
            f"{findings[0].id} is a finding, not a tree",
            hint=f"clu-doctor explain {findings[0].id}",
        )
    return trees


#: What a finding id looks like (``BUS-BREAK-01``), to word the error for a mistyped one.
_FINDING_ID = re.compile(r"^[A-Za-z]+(?:-[A-Za-z]+)*-\d+$")


def select(rulebook: Rulebook, ids: Sequence[str] | None) -> tuple[list[Tree], list[Finding]]:
    """The trees (all when ``ids`` is empty) and the findings ``ids`` name, in their order. A
    finding id may be typed in any case; an unknown name is a usage error (exit 3) that names
    the closest ids."""
    if not ids:
        return list(rulebook.trees), []
    trees = {tree.id: tree for tree in rulebook.trees}
    findings = {fid.upper(): finding for fid, finding in rulebook.findings.items()}
    chosen_trees: list[Tree] = []
    chosen_findings: list[Finding] = []
    for name in ids:
        if name in trees:
            chosen_trees.append(trees[name])
        elif name.upper() in findings:
            chosen_findings.append(rulebook.general(findings[name.upper()]))
        elif _FINDING_ID.match(name):
            raise UsageError(
                f"no finding named {name}{did_you_mean(name.upper(), rulebook.findings)}",
                hint="'clu-doctor rules list' shows every finding id",
            )
        else:
            raise UsageError(
                f"no tree named {name}{did_you_mean(name, trees)}",
                hint="trees: " + ", ".join(trees),
            )
    return chosen_trees, chosen_findings


def select_findings(rulebook: Rulebook, ids: Sequence[str]) -> list[Finding]:
    """The findings ``ids`` name (any case); anything else is a usage error with the closest
    finding ids."""
    known = {fid.upper(): finding for fid, finding in rulebook.findings.items()}
    missing = [name for name in ids if name.upper() not in known]
    if missing:
        name = missing[0]
        raise UsageError(
            f"no finding named {name}{did_you_mean(name.upper(), rulebook.findings)}",
            hint="'clu-doctor rules list' shows every finding id",
        )
    return [rulebook.general(known[name.upper()]) for name in ids]


def _area_name(finding: Finding) -> str:
    return area_of_layer(finding.layer).name


# --- one finding explained ----------------------------------------------------------------


def render_explain_text(rulebook: Rulebook, findings: Sequence[Finding], mode: OutputMode) -> str:
    """Each finding for a person: title, severity and area, cause, numbered steps, the check
    after the fix, when to escalate, the bus check that confirms it, the manual's section."""
    from rich.console import Group  # rich: text output only (JSON runs never load it)
    from rich.padding import Padding  # rich: text output only (JSON runs never load it)
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    questions = {spec.key: spec.question for spec in rulebook.vocabulary}
    blocks: list[Any] = []
    for finding in findings:
        look = LOOKS[finding.severity]
        heading = Text()
        heading.append(finding.id, style="bold")
        heading.append(f"  {' '.join(finding.title.split())}", style="bold")
        about = Text()
        about.append(look.word, style=look.style)
        about.append(
            "  "
            + _("area: {area}  decision tree: {tree} (clu-doctor rules show {tree})").format(
                area=_(_area_name(finding)), tree=finding.tree
            ),
            style="dim",
        )
        lines: list[Any] = [heading, about, Text(""), Text(" ".join(finding.cause.split())), ""]
        if finding.look_at:
            line = Text()
            line.append(_("Look at:") + " ", style="bold")
            line.append(" ".join(questions.get(key, key) for key in finding.look_at))
            lines.append(line)
        lines.append(Text(_("What to do:"), style="bold"))
        steps = [(f"{n}.", " ".join(step.split())) for n, step in enumerate(finding.remedy, 1)]
        lines.append(Padding(list_grid(steps), (0, 0, 0, 2)))
        labelled = (
            (_("Verify:"), finding.verify),
            (_("Escalate:"), finding.escalate),
            (
                _("Bus check that confirms it:"),
                probe_description(finding.confirm_with) if finding.confirm_with else None,
            ),
            (
                _("Graded by:"),
                _("{question} ({severity} when that is not known)").format(
                    question=questions.get(finding.graded_by, finding.graded_by),
                    severity=finding.severity.value,
                )
                if finding.graded_by
                else None,
            ),
            (
                _("Shown under:"),
                _("{ids} when that is found too").format(ids=", ".join(finding.explained_by))
                if finding.explained_by
                else None,
            ),
            (_("Manual:"), finding.manual),
        )
        for label, value in labelled:
            if value:
                line = Text()
                line.append(f"{label} ", style="bold")
                line.append(" ".join(value.split()))
                lines.append(line)
        blocks.append(Group(*lines))
    spaced: list[Any] = []
    for block in blocks:
        spaced += ["", block] if spaced else [block]
    return render_to_string(mode, *spaced)


def render_explain_json(findings: Sequence[Finding]) -> str:
    """The findings as JSON, each with the area of the site it is about."""
    return to_json(
        envelope(
            "explain",
            {"findings": [{**f.to_dict(), "area": _area_name(f)} for f in findings]},
        )
    )


def render_explain_markdown(findings: Sequence[Finding]) -> str:
    """The findings as in the Markdown rule reference."""
    out: list[str] = []
    for finding in findings:
        out += _finding_markdown(finding)
    return "\n".join(out).rstrip() + "\n"


def _walk_order(tree: Tree) -> list[str]:
    """Node names in the order a reader meets them from the start node (depth first)."""
    seen: list[str] = []

    def visit(name: str) -> None:
        if name in seen or name not in tree.nodes:
            return
        seen.append(name)
        for _label, target in tree.nodes[name].targets():
            if target.kind is TargetKind.NODE:
                visit(target.name)

    visit(tree.start)
    return seen


# --- terminal ---------------------------------------------------------------------------


def render_tree_text(rulebook: Rulebook, trees: list[Tree], mode: OutputMode) -> str:
    """Each tree as an indented question/branch tree; a node met twice is shown once."""
    from rich.text import Text  # rich: text output only (JSON runs never load it)
    from rich.tree import Tree as RichTree  # rich: text output only (JSON runs never load it)

    blocks = []
    for tree in trees:
        root = RichTree(Text(f"{tree.title} ({tree.id})", style="bold"), guide_style="dim")
        root.add(Text(f"manual: {tree.manual}", style="dim"))
        shown: set[str] = set()
        _add_node(rulebook, tree, tree.start, root, shown)
        blocks.append(root)
    return render_to_string(mode, *blocks)


def _add_node(rulebook: Rulebook, tree: Tree, name: str, parent: RichTree, shown: set[str]) -> None:
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    node = tree.nodes[name]
    if name in shown:
        parent.add(Text(f"(continues at {name}, shown above)", style="dim"))
        return
    shown.add(name)
    branch = parent.add(Text(f"{name}: ask {node.ask}", style="bold"))
    for label, target in node.targets():
        line = Text(f"{label} → ")
        if target.kind is TargetKind.NODE:
            child = branch.add(line)
            _add_node(rulebook, tree, target.name, child, shown)
            continue
        line.append_text(_target_text(rulebook, target))
        branch.add(line)


def _target_text(rulebook: Rulebook, target: Target) -> Any:
    from rich.text import Text  # rich: text output only (JSON runs never load it)

    if target.kind is TargetKind.END:
        return Text(_("nothing to report"), style="dim")
    if target.kind is TargetKind.SEE:
        return Text(_("not judged here: see {finding}").format(finding=target.name), style="dim")
    finding = rulebook.findings[target.name]
    text = Text()
    look = LOOKS[finding.severity]
    text.append(look.label, style=look.style)
    text.append(f" {finding.id}: {rulebook.general(finding).title}")
    return text


# --- Markdown ---------------------------------------------------------------------------


def render_markdown(rulebook: Rulebook, trees: list[Tree]) -> str:
    """A rule reference: observations, then per tree its decision flow and its findings."""
    out: list[str] = []
    out.append("### Observations\n")
    out.append("| key | values | question |")
    out.append("|---|---|---|")
    for spec in rulebook.vocabulary:
        values = ", ".join(f"`{name}`" for name in spec.value_names) or f"number ({spec.unit})"
        question = rulebook.vocabulary.fill(spec.question, {})
        out.append(f"| `{spec.key}` | {values}, `unknown` | {_cell(question)} |")
    out.append("")
    for tree in trees:
        out.append(f"### {tree.title} (`{tree.id}`)\n")
        out.append(f"Source: {tree.manual}.\n")
        out.append("Decision flow:\n")
        for name in _walk_order(tree):
            node = tree.nodes[name]
            branches = "; ".join(
                f"{label} → {_target_markdown(target)}" for label, target in node.targets()
            )
            out.append(f"- **{name}** asks `{node.ask}`: {branches}")
        out.append("")
        out.append("| id | severity | layer | title |")
        out.append("|---|---|---|---|")
        general = [rulebook.general(finding) for finding in tree.findings.values()]
        for finding in general:
            out.append(
                f"| `{finding.id}` | {finding.severity.value} | {finding.layer.value} "
                f"| {_cell(finding.title)} |"
            )
        out.append("")
        for finding in general:
            out += _finding_markdown(finding)
    return "\n".join(out).rstrip() + "\n"


def _finding_markdown(finding: Finding) -> list[str]:
    out = [f"#### `{finding.id}` {finding.title}\n"]
    out.append(f"*{finding.severity.value}, {finding.layer.value}.* {finding.cause}\n")
    out.extend(f"{index}. {step}" for index, step in enumerate(finding.remedy, 1))
    out.append("")
    if finding.verify:
        out.append(f"After the fix: {finding.verify}\n")
    if finding.escalate:
        out.append(f"If it persists: {finding.escalate}\n")
    if finding.confirm_with:
        out.append(
            f"Bus check: {probe_description(finding.confirm_with)} (`{finding.confirm_with}`).\n"
        )
    if finding.explained_by:
        roots = ", ".join(f"`{fid}`" for fid in finding.explained_by)
        out.append(f"Shown under {roots} when that is found too.\n")
    out.append(f"Manual: {finding.manual}.\n")
    return out


def _target_markdown(target: Target) -> str:
    if target.kind is TargetKind.FINDING:
        return f"`{target.name}`"
    if target.kind is TargetKind.END:
        return "nothing to report"
    if target.kind is TargetKind.SEE:
        return f"not judged here, see `{target.name}`"
    return f"**{target.name}**"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


# --- JSON -------------------------------------------------------------------------------


def render_json(rulebook: Rulebook, trees: list[Tree]) -> str:
    """Observations and, per tree, its findings (the data a UI or a translator needs)."""
    return to_json(
        envelope(
            "rules",
            {
                "observations": [spec.to_dict() for spec in rulebook.vocabulary],
                "trees": [
                    {
                        "id": tree.id,
                        "title": tree.title,
                        "manual": tree.manual,
                        "start": tree.start,
                        "findings": [f.to_dict() for f in tree.findings.values()],
                    }
                    for tree in trees
                ],
            },
        )
    )


# --- the list of finding ids ------------------------------------------------------------


def render_findings_list(rulebook: Rulebook) -> str:
    """One line per finding: id, severity, layer, tree and title (plain, fixed columns; the ids
    are what ``ignore:`` entries in site.yaml name)."""
    rows = [
        (f.id, f.severity.value, f.layer.value, f.tree, " ".join(f.title.split()))
        for tree in rulebook.trees
        for f in map(rulebook.general, tree.findings.values())
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("id", "severity", "layer", "tree", "title")
    widths = [max(w, len(h)) for w, h in zip(widths, header[:4], strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return (
            "  ".join(c.ljust(w) for c, w in zip(cells[:4], widths, strict=True)) + "  " + cells[4]
        )

    return "\n".join([line(header), *(line(row) for row in rows)]) + "\n"


def render_findings_json(rulebook: Rulebook) -> str:
    return to_json(
        envelope(
            "findings",
            {"findings": [f.to_dict() for tree in rulebook.trees for f in tree.findings.values()]},
        )
    )
