"""Semantic pass: prove that well-formed trees are also sound.

What is proved, so the walker never has to guess:

* every goto target exists, every node is reachable from the start, and no path loops;
* every asked observation exists, every value of it is handled (or ``otherwise``), and
  "don't know" has a target; number ranges are contiguous and cover ``[min, +inf)``;
* every finding is some leaf's target, finding ids are unique across all trees, ``look_at``
  and ``confirm_with`` name real observations and probes, ``explained_by`` names a finding at
  a layer this one depends on (or at its own layer, without a cycle), and ``wait`` names a
  number observation its tree asks;
* every ``{fact}`` a question or a finding's text names is declared under ``facts:``;
* the layers' dependencies (``layers.yaml``) have no cycle;
* every case observes known keys with valid values and expects findings that exist.

All problems are returned together, sorted by file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from clu_doctor.engine.model import (
    Finding,
    Layer,
    LayerSpec,
    Node,
    Target,
    TargetKind,
    Tree,
    dependencies,
)
from clu_doctor.engine.observations import (
    UNKNOWN,
    AnswerSource,
    ObservationError,
    ObservationSpec,
    ValueKind,
    Vocabulary,
    placeholders,
)
from clu_doctor.errors import Location, Problem
from clu_doctor.severity import GRADES
from clu_doctor.suggest import did_you_mean


def validate(
    vocabulary: Vocabulary,
    trees: Sequence[Tree],
    layers: Mapping[Layer, LayerSpec],
    *,
    across: bool = True,
) -> list[Problem]:
    """Every semantic problem of ``trees`` (already well-formed) against ``vocabulary`` and
    ``layers``.

    ``across=False`` skips the checks that look across files (duplicate ids, ``explained_by``,
    the findings cases expect): the loader turns them off when some file could not be read, so
    that a reference into that file is not reported as dangling.
    """
    problems: list[Problem] = _check_layers(layers) + _check_question_facts(vocabulary)
    for tree in trees:
        problems += _check_graph(tree)
        problems += _check_questions(tree, vocabulary)
        problems += _check_finding_refs(tree, vocabulary)
        problems += _check_case_observations(tree, vocabulary)
    if across:
        problems += _check_across_trees(trees, layers)
    return sorted(problems, key=lambda p: (p.location.path, p.location.line))


# ---------------------------------------------------------------------------- layers, facts


def _check_layers(layers: Mapping[Layer, LayerSpec]) -> list[Problem]:
    """No layer may depend on itself, directly or through others."""
    problems: list[Problem] = []
    for layer, spec in layers.items():
        reached = {needed for other in spec.depends_on for needed in dependencies(layers, other)}
        if layer in reached or layer in spec.depends_on:
            problems.append(
                _problem(
                    spec.where.at("depends_on"),
                    f"layer {layer.value!r} depends on itself through its dependencies",
                    expected="dependencies without a cycle (a layer needs only deeper ones)",
                )
            )
    return problems


def _unknown_facts(text: str, vocabulary: Vocabulary) -> list[str]:
    return [name for name in placeholders(text) if name not in vocabulary.facts]


def _fact_problem(where: Location, what: str, name: str, vocabulary: Vocabulary) -> Problem:
    return _problem(
        where,
        f"{what} names the fact {{{name}}}, which is not declared"
        + did_you_mean(name, vocabulary.facts),
        expected="a fact under 'facts:' in observations.yaml: "
        + (", ".join(vocabulary.facts) or "(no facts declared)"),
    )


def _check_question_facts(vocabulary: Vocabulary) -> list[Problem]:
    return [
        _fact_problem(spec.location, f"the question of {spec.key}", name, vocabulary)
        for spec in vocabulary
        for name in _unknown_facts(spec.question, vocabulary)
    ]


def _problem(where: Location, message: str, expected: str | None = None) -> Problem:
    return Problem(where, message, expected)


# ---------------------------------------------------------------------------- graph


def _check_graph(tree: Tree) -> list[Problem]:
    problems: list[Problem] = []
    if tree.start not in tree.nodes:
        problems.append(
            _problem(
                tree.where.at("start"),
                f"start node {tree.start!r} does not exist{did_you_mean(tree.start, tree.nodes)}",
                expected="one of the nodes: " + ", ".join(tree.nodes),
            )
        )
    used_findings: set[str] = set()
    for node in tree.nodes.values():
        for label, target in node.targets():
            problems += _check_target(tree, node, label, target)
            if target.kind is TargetKind.FINDING:
                used_findings.add(target.name)
    for fid, finding in tree.findings.items():
        if fid not in used_findings:
            problems.append(
                _problem(
                    finding.where.at(),
                    f"finding {fid} is not the target of any branch",
                    expected=f"a branch with 'finding:{fid}'",
                )
            )
    if tree.start in tree.nodes:
        problems += _check_reachable_and_acyclic(tree)
    return problems


def _check_target(tree: Tree, node: Node, label: str, target: Target) -> list[Problem]:
    where = target.where.at()
    if target.kind is TargetKind.NODE and target.name not in tree.nodes:
        return [
            _problem(
                where,
                f"branch {label!r} of node {node.name!r} goes to node {target.name!r}, "
                f"which does not exist{did_you_mean(target.name, tree.nodes)}",
                expected="a node of this tree, 'finding:ID', 'see:ID' or 'end'",
            )
        ]
    if target.kind is TargetKind.FINDING and target.name not in tree.findings:
        return [
            _problem(
                where,
                f"branch {label!r} of node {node.name!r} goes to finding {target.name}, "
                f"which this tree does not declare{did_you_mean(target.name, tree.findings)}",
                expected="a finding declared under 'findings:' in the same file",
            )
        ]
    return []


def _check_reachable_and_acyclic(tree: Tree) -> list[Problem]:
    problems: list[Problem] = []
    state: dict[str, str] = {}  # "open" while on the current path, then "done"

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for _, target in tree.nodes[name].targets():
            if target.kind is not TargetKind.NODE or target.name not in tree.nodes:
                continue
            if state.get(target.name) == "open":
                loop = [*path[path.index(target.name) :], target.name]
                problems.append(
                    _problem(
                        target.where.at(),
                        "the tree loops: " + " → ".join(loop),
                        expected="every path to end at a finding or 'end'",
                    )
                )
            elif target.name not in state:
                visit(target.name, [*path, target.name])
        state[name] = "done"

    visit(tree.start, [tree.start])
    for name, node in tree.nodes.items():
        if name not in state:
            problems.append(
                _problem(
                    node.where.at(),
                    f"node {name!r} is not reachable from the start node {tree.start!r}",
                    expected="a branch leading to it, or remove it",
                )
            )
    return problems


# ---------------------------------------------------------------------------- questions


def _check_questions(tree: Tree, vocabulary: Vocabulary) -> list[Problem]:
    problems: list[Problem] = []
    for node in tree.nodes.values():
        spec = vocabulary.specs.get(node.ask)
        if spec is None:
            problems.append(
                _problem(
                    node.where.at("ask"),
                    f"node {node.name!r} asks {node.ask!r}, which is not in the vocabulary"
                    + did_you_mean(node.ask, vocabulary.specs),
                    expected="an observation declared in observations.yaml",
                )
            )
        elif spec.kind is ValueKind.CHOICE:
            problems += _check_choice_node(node, spec)
        else:
            problems += _check_number_node(node, spec)
    return problems


def _check_choice_node(node: Node, spec: ObservationSpec) -> list[Problem]:
    what = f"node {node.name!r}"
    values = spec.value_names
    if node.ranges:
        return [
            _problem(
                node.where.at("ranges"),
                f"{what} gives 'ranges' but {spec.key} is a choice",
                expected="'branches' with one of: " + ", ".join(values),
            )
        ]
    problems = [
        _problem(
            node.where.at("branches"),
            f"{what} has a branch for {value!r}, which is not a value of {spec.key}"
            + did_you_mean(value, values),
            expected="one of: " + ", ".join(values),
        )
        for value in node.branches
        if value not in values
    ]
    missing = [v for v in values if v not in node.branches]
    if node.otherwise is None:
        problems += [
            _problem(
                node.where.at(),
                f"{what} does not handle {spec.key} = {value}",
                expected="a branch for every value (" + ", ".join(values) + ") or 'otherwise'",
            )
            for value in missing
        ]
        if node.unknown is None:
            problems.append(
                _problem(
                    node.where.at(),
                    f'{what} does not say where {spec.key} = {UNKNOWN} ("don\'t know") goes',
                    expected="an 'unknown:' target or 'otherwise'",
                )
            )
    elif not missing and node.unknown is not None:
        problems.append(
            _problem(
                node.where.at("otherwise"),
                f"'otherwise' of {what} can never be taken: every value and 'unknown' "
                "already have a branch",
                expected="remove 'otherwise'",
            )
        )
    return problems


def _check_number_node(node: Node, spec: ObservationSpec) -> list[Problem]:
    what = f"node {node.name!r}"
    problems: list[Problem] = []
    if node.branches or node.otherwise is not None:
        key = "branches" if node.branches else "otherwise"
        problems.append(
            _problem(
                node.where.at(key),
                f"{what} gives {key!r} but {spec.key} is a number",
                expected="'ranges' covering every value, and 'unknown'",
            )
        )
    if not node.ranges:
        problems.append(
            _problem(node.where.at(), f"{what} has no 'ranges' for the number {spec.key}")
        )
    if node.unknown is None:
        problems.append(
            _problem(
                node.where.at(),
                f'{what} does not say where {spec.key} = {UNKNOWN} ("don\'t know") goes',
                expected="an 'unknown:' target",
            )
        )
    return problems + _check_ranges(node, spec)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-inf"
    return str(int(value)) if value.is_integer() else str(value)


def _check_ranges(node: Node, spec: ObservationSpec) -> list[Problem]:
    """The ranges must tile ``[min, +inf)`` in order: no gap, no overlap, open at the top."""
    problems: list[Problem] = []
    what = f"ranges of node {node.name!r}"
    covered = spec.minimum  # the next value that still needs a range (None = -inf)
    for index, rng in enumerate(node.ranges):
        start = spec.minimum if rng.start is None and index == 0 else rng.start
        where = rng.where.at()
        if index > 0 and covered is None:
            problems.append(
                _problem(
                    where,
                    f"range {index + 1} of node {node.name!r} comes after an open-ended range",
                    expected="only the last range without 'below'",
                )
            )
            break
        if start != covered:
            if start is None or (covered is not None and start > covered):
                gap = f"leave {spec.key} from {_fmt(covered)} to {_fmt(start)} unhandled"
            else:
                gap = f"overlap from {_fmt(start)} to {_fmt(covered)}"
            problems.append(
                _problem(
                    where,
                    f"{what} {gap}",
                    expected=f"range {index + 1} to start with 'from: {_fmt(covered)}'",
                )
            )
        if rng.stop is not None and start is not None and rng.stop <= start:
            problems.append(
                _problem(
                    where,
                    f"range {index + 1} of node {node.name!r} is empty "
                    f"(from {_fmt(start)} below {_fmt(rng.stop)})",
                )
            )
        covered = rng.stop
    if node.ranges and covered is not None:
        problems.append(
            _problem(
                node.ranges[-1].where.at(),
                f"{what} stop at {_fmt(covered)}; larger values of {spec.key} are unhandled",
                expected="the last range without 'below'",
            )
        )
    return problems


# ---------------------------------------------------------------------------- findings and cases


def _check_finding_refs(tree: Tree, vocabulary: Vocabulary) -> list[Problem]:
    problems: list[Problem] = []
    for finding in tree.findings.values():
        for index, key in enumerate(finding.look_at):
            if key not in vocabulary.specs:
                problems.append(
                    _problem(
                        finding.where.at("look_at", index),
                        f"finding {finding.id} looks at {key!r}, which is not in the vocabulary"
                        + did_you_mean(key, vocabulary.specs),
                        expected="an observation declared in observations.yaml",
                    )
                )
        problems += _check_grade(finding, vocabulary)
        problems += _check_wait(tree, finding, vocabulary)
        for key, text in finding.texts().items():
            name, _, item = key.partition(".")
            where = finding.where.at(name, int(item) if item else None)
            what = f"the {name.replace('_', ' ')} of {finding.id}"
            problems += [
                _fact_problem(where, what, fact, vocabulary)
                for fact in _unknown_facts(text, vocabulary)
            ]
        probe = finding.confirm_with
        if probe is not None and probe not in vocabulary.probes:
            problems.append(
                _problem(
                    finding.where.at("confirm_with"),
                    f"finding {finding.id} is confirmed with {probe!r}, which is not a "
                    f"declared probe{did_you_mean(probe, vocabulary.probes)}",
                    expected="one of: " + (", ".join(vocabulary.probes) or "(no probes declared)"),
                )
            )
    return problems


#: What a grading observation's values may be: severities a finding can take.
_GRADES = frozenset(grade.value for grade in GRADES)


def _check_grade(finding: Finding, vocabulary: Vocabulary) -> list[Problem]:
    """``graded_by`` names a choice observation whose every value is a severity."""
    key = finding.graded_by
    if key is None:
        return []
    where = finding.where.at("graded_by")
    if key not in vocabulary.specs:
        return [
            _problem(
                where,
                f"finding {finding.id} is graded by {key!r}, which is not in the vocabulary"
                + did_you_mean(key, vocabulary.specs),
                expected="an observation declared in observations.yaml",
            )
        ]
    spec = vocabulary.spec(key)
    names = [value.name for value in spec.values] if spec.kind is ValueKind.CHOICE else []
    wrong = [name for name in names if name not in _GRADES]
    if spec.kind is not ValueKind.CHOICE or wrong or not names:
        return [
            _problem(
                where,
                f"finding {finding.id} is graded by {key!r}, whose values are not severities"
                + (f" ({', '.join(wrong)})" if wrong else ""),
                expected="a choice observation with values among " + ", ".join(sorted(_GRADES)),
            )
        ]
    return []


def _check_wait(tree: Tree, finding: Finding, vocabulary: Vocabulary) -> list[Problem]:
    """``wait`` names a number observation that the finding's own tree asks."""
    if finding.wait is None:
        return []
    key = finding.wait.observation
    where = finding.wait.where.at("observation")
    spec = vocabulary.specs.get(key)
    if spec is None:
        return [
            _problem(
                where,
                f"finding {finding.id} waits for {key!r}, which is not in the vocabulary"
                + did_you_mean(key, vocabulary.specs),
                expected="a number observation declared in observations.yaml",
            )
        ]
    if spec.kind is not ValueKind.NUMBER:
        return [
            _problem(
                where,
                f"finding {finding.id} waits for {key!r}, which is not a number",
                expected="a number observation, e.g. clu.uptime_s",
            )
        ]
    if all(node.ask != key for node in tree.nodes.values()):
        return [
            _problem(
                where,
                f"finding {finding.id} waits for {key!r}, which its tree never asks",
                expected="an observation a node of the same tree asks",
            )
        ]
    return []


def _check_case_observations(tree: Tree, vocabulary: Vocabulary) -> list[Problem]:
    problems: list[Problem] = []
    for case in tree.cases:
        for key, raw in case.observe.items():
            try:
                vocabulary.parse(str(key), raw, AnswerSource.ANSWERS_FILE)
            except ObservationError as error:
                where = case.where.at(f"observe:{key}")
                problems.append(_problem(where, f"case {case.name!r}: {error.message}"))
    return problems


def _check_across_trees(trees: Iterable[Tree], layers: Mapping[Layer, LayerSpec]) -> list[Problem]:
    problems: list[Problem] = []
    seen_trees: dict[str, Tree] = {}
    findings: dict[str, Finding] = {}
    for tree in trees:
        if tree.id in seen_trees:
            first = seen_trees[tree.id].where.at("tree")
            problems.append(
                _problem(tree.where.at("tree"), f"tree id {tree.id!r} is already used at {first}")
            )
        seen_trees.setdefault(tree.id, tree)
        for fid, finding in tree.findings.items():
            if fid in findings:
                problems.append(
                    _problem(
                        finding.where.at(),
                        f"finding id {fid} is already declared at {findings[fid].where.at()}",
                        expected="finding ids unique across all trees",
                    )
                )
            else:
                findings[fid] = finding
    for tree in seen_trees.values():
        for finding in tree.findings.values():
            for index, root_id in enumerate(finding.explained_by):
                where = finding.where.at("explained_by", index)
                root = findings.get(root_id)
                if root is None:
                    problems.append(
                        _problem(
                            where,
                            f"finding {finding.id} is explained by {root_id}, which does not "
                            f"exist{did_you_mean(root_id, findings)}",
                        )
                    )
                elif root.layer is not finding.layer and root.layer not in dependencies(
                    layers, finding.layer
                ):
                    needs = sorted(dependencies(layers, finding.layer), key=lambda x: x.depth)
                    problems.append(
                        _problem(
                            where,
                            f"finding {finding.id} (layer {finding.layer.value}) is explained by "
                            f"{root_id} (layer {root.layer.value}), a layer that "
                            f"{finding.layer.value} does not depend on",
                            expected="a root cause at layer "
                            + " or ".join([finding.layer.value, *(x.value for x in needs)])
                            + " (layers.yaml says what each layer depends on)",
                        )
                    )
        problems += _check_see(tree, findings)
        for case in tree.cases:
            for fid in case.findings:
                if fid not in findings:
                    problems.append(
                        _problem(
                            case.where.at(f"expect:{fid}"),
                            f"case {case.name!r} expects finding {fid}, which does not exist"
                            + did_you_mean(fid, findings),
                        )
                    )
    return problems + _check_explained_cycles(findings)


def _check_see(tree: Tree, findings: Mapping[str, Finding]) -> list[Problem]:
    """``see:ID`` names a finding of another tree: the one that says why this tree cannot
    judge (a finding of the same tree is reached with ``finding:ID``)."""
    problems: list[Problem] = []
    for node in tree.nodes.values():
        for label, target in node.targets():
            if target.kind is not TargetKind.SEE:
                continue
            if target.name in tree.findings:
                problems.append(
                    _problem(
                        target.where.at(),
                        f"branch {label!r} of node {node.name!r} sees {target.name}, a finding "
                        "of this same tree",
                        expected=f"'finding:{target.name}' to report it here",
                    )
                )
            elif target.name not in findings:
                problems.append(
                    _problem(
                        target.where.at(),
                        f"branch {label!r} of node {node.name!r} sees {target.name}, which does "
                        f"not exist{did_you_mean(target.name, findings)}",
                        expected="the id of another tree's finding, the one that says why",
                    )
                )
    return problems


def _check_explained_cycles(findings: Mapping[str, Finding]) -> list[Problem]:
    """Findings of one layer may explain each other, but never round in a circle."""
    problems: list[Problem] = []
    state: dict[str, str] = {}

    def visit(fid: str, path: list[str]) -> None:
        state[fid] = "open"
        for root in findings[fid].explained_by:
            if root not in findings:
                continue
            if state.get(root) == "open":
                loop = [*path[path.index(root) :], root]
                problems.append(
                    _problem(
                        findings[fid].where.at("explained_by"),
                        "findings explain each other in a circle: " + " → ".join(loop),
                        expected="a root cause that is not itself explained by its consequence",
                    )
                )
            elif root not in state:
                visit(root, [*path, root])
        state[fid] = "done"

    for fid in findings:
        if fid not in state:
            visit(fid, [fid])
    return problems
