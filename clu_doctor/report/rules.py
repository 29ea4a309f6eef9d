"""The rule book as a terminal tree, as a Markdown reference (for the README), or as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clu_doctor.engine import Rulebook, Tree
from clu_doctor.engine.model import Target, TargetKind
from clu_doctor.errors import UsageError
from clu_doctor.report import envelope, to_json
from clu_doctor.report.console import LOOKS, OutputMode, render_to_string
from clu_doctor.report.diagnosis import probe_description

if TYPE_CHECKING:
    from rich.tree import Tree as RichTree  # rich: text output only (JSON runs never load it)


def select_trees(rulebook: Rulebook, ids: list[str] | None) -> list[Tree]:
    """The trees named in ``ids`` (all when empty); unknown ids are a usage error."""
    if not ids:
        return list(rulebook.trees)
    known = {tree.id: tree for tree in rulebook.trees}
    missing = [tree_id for tree_id in ids if tree_id not in known]
    if missing:
        raise UsageError(f"no tree named {', '.join(missing)}", hint="trees: " + ", ".join(known))
    return [known[tree_id] for tree_id in ids]


def _walk_order(tree: Tree) -> list[str]:
    """Node names in the order a reader meets them from the start node (depth first)."""
    seen: list[str] = []

    def visit(name: str) -> None:
        if name in seen or name not in tree.nodes:
            return
        seen.append(name)
        for _, target in tree.nodes[name].targets():
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
        return Text("nothing to report", style="dim")
    finding = rulebook.findings[target.name]
    text = Text()
    look = LOOKS[finding.severity]
    text.append(look.label, style=look.style)
    text.append(f" {finding.id}: {finding.title}")
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
        out.append(f"| `{spec.key}` | {values}, `unknown` | {_cell(spec.question)} |")
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
        for finding in tree.findings.values():
            out.append(
                f"| `{finding.id}` | {finding.severity.value} | {finding.layer.value} "
                f"| {_cell(finding.title)} |"
            )
        out.append("")
        for finding in tree.findings.values():
            out.append(f"#### `{finding.id}` {finding.title}\n")
            out.append(f"*{finding.severity.value}, {finding.layer.value}.* {finding.cause}\n")
            out.extend(f"{index}. {step}" for index, step in enumerate(finding.remedy, 1))
            out.append("")
            if finding.verify:
                out.append(f"After the fix: {finding.verify}\n")
            if finding.escalate:
                out.append(f"If it persists: {finding.escalate}\n")
            if finding.confirm_with:
                out.append(
                    f"Bus check: {probe_description(finding.confirm_with)} "
                    f"(`{finding.confirm_with}`).\n"
                )
            if finding.explained_by:
                roots = ", ".join(f"`{fid}`" for fid in finding.explained_by)
                out.append(f"Shown under {roots} when that is found too.\n")
            out.append(f"Manual: {finding.manual}.\n")
    return "\n".join(out).rstrip() + "\n"


def _target_markdown(target: Target) -> str:
    if target.kind is TargetKind.FINDING:
        return f"`{target.name}`"
    if target.kind is TargetKind.END:
        return "nothing to report"
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
        for f in tree.findings.values()
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
