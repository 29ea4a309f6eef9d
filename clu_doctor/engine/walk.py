"""Walking the trees: pure functions, no I/O.

One walker serves both uses. :func:`next_question` walks until it meets an observation a
person could answer but nobody has yet, which drives a questionnaire that asks only what the
trees need, in the order they need it. :func:`diagnose` walks to the end, treating every
missing observation as ``unknown`` (source ``default``); the validator has proved that every
``unknown`` has somewhere to go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clu_doctor.engine.diagnosis import (
    Diagnosis,
    ReportedFinding,
    TraceStep,
    TreeTrace,
    arrange,
    judge_layers,
    overall_status,
    reconcile,
    wait_seconds,
)
from clu_doctor.engine.model import Finding, Layer, LayerSpec, Node, Target, TargetKind, Tree
from clu_doctor.engine.observations import (
    UNKNOWN,
    AnswerSource,
    Observation,
    ObservationError,
    ObservationSpec,
    SpecSource,
    ValueKind,
    Vocabulary,
    known_facts,
)
from clu_doctor.severity import Severity

Observations = Mapping[str, Observation]


def choose(node: Node, spec: ObservationSpec, value: object) -> tuple[str, Target]:
    """The branch a node takes for ``value``: (branch label, target)."""
    if value == UNKNOWN:
        if node.unknown is not None:
            return "unknown", node.unknown
    elif spec.kind is ValueKind.CHOICE:
        if isinstance(value, str) and value in node.branches:
            return value, node.branches[value]
    elif isinstance(value, (int, float)):
        for rng in node.ranges:
            if rng.contains(value):
                return rng.label, rng.target
    if node.otherwise is not None:
        return "otherwise", node.otherwise
    # Unreachable for a validated rulebook: the validator proves every value has a branch.
    raise ValueError(f"node {node.name!r} has no branch for {spec.key} = {value!r}")


def _default(spec: ObservationSpec) -> Observation:
    why = "no probe ran" if spec.source is SpecSource.PROBE else "not answered"
    return Observation(spec.key, UNKNOWN, AnswerSource.DEFAULT, why)


def walk_tree(
    tree: Tree,
    vocabulary: Vocabulary,
    observations: Observations,
    *,
    ask: bool,
    include_probes: bool = False,
) -> TreeTrace | ObservationSpec:
    """Walk ``tree`` from its start to a leaf.

    With ``ask=True`` the walk stops at the first missing observation a person can answer
    (and, with ``include_probes``, one a probe can supply) and returns its spec; other missing
    observations default to ``unknown``. With ``ask=False`` every missing observation defaults
    to ``unknown`` and the walk always ends in a :class:`TreeTrace`.
    """
    wanted = {SpecSource.ASK, SpecSource.PROBE} if include_probes else {SpecSource.ASK}
    steps: list[TraceStep] = []
    name = tree.start
    while True:
        node = tree.nodes[name]
        spec = vocabulary.specs[node.ask]
        observation = observations.get(node.ask)
        if observation is None:
            if ask and spec.source in wanted:
                return spec
            observation = _default(spec)
        branch, target = choose(node, spec, observation.value)
        steps.append(
            TraceStep(
                tree=tree.id,
                node=node.name,
                key=node.ask,
                value=observation.value,
                source=observation.source,
                detail=observation.detail,
                branch=branch,
                target=str(target),
            )
        )
        if target.kind is not TargetKind.NODE:  # a leaf: a finding, end, or see:ID
            finding = target.name if target.kind is TargetKind.FINDING else None
            return TreeTrace(tree.id, tree.title, tuple(steps), str(target), finding)
        name = target.name


def trace_tree(tree: Tree, vocabulary: Vocabulary, observations: Observations) -> TreeTrace:
    """Walk ``tree`` to its leaf, missing observations taken as ``unknown``."""
    result = walk_tree(tree, vocabulary, observations, ask=False)
    assert isinstance(result, TreeTrace)  # without asking, every walk reaches a leaf
    return result


def next_question(
    trees: Sequence[Tree],
    vocabulary: Vocabulary,
    observations: Observations,
    *,
    include_probes: bool = False,
) -> ObservationSpec | None:
    """The first observation the walk (trees in order) needs and does not have, else None.

    Probe-sourced observations are included only with ``include_probes``: a caller with a bus
    to probe resolves them when the walk reaches them, so probes run only where a tree needs
    their answer. A question of a group waits until no tree needs a question outside one: a
    tree that has reached a grouped question is set aside while the others go on.
    """
    waiting: ObservationSpec | None = None
    for tree in trees:
        result = walk_tree(tree, vocabulary, observations, ask=True, include_probes=include_probes)
        if isinstance(result, ObservationSpec):
            if result.group is None:
                return result
            waiting = waiting or result
    return waiting


def diagnose(
    trees: Sequence[Tree],
    vocabulary: Vocabulary,
    findings: Mapping[str, Finding],
    observations: Observations,
    layers: Mapping[Layer, LayerSpec],
    *,
    asked: bool = True,
) -> Diagnosis:
    """Walk every tree, report each finding reached as this run's evidence makes it, reason the
    findings together (:func:`~clu_doctor.engine.diagnosis.reconcile`,
    :func:`~clu_doctor.engine.diagnosis.arrange`) and rate the whole.

    ``asked=False`` is a run in which nobody was asked anything (``listen`` and ``scan``: the bus
    alone): an open question (a finding of unknown severity) whose path went through a
    person's question left unanswered is then not "undecided" but outside the run, and is left
    out, so the bus's own findings decide the status. A decided finding stays: its tree
    concludes it without that answer."""
    for key, observation in observations.items():
        if key != observation.key:
            raise ObservationError(
                key, f"observation filed under {key!r} is for {observation.key!r}"
            )
        vocabulary.check(observation)
    traces = tuple(trace_tree(tree, vocabulary, observations) for tree in trees)
    used: dict[str, Observation] = dict(observations)
    for trace in traces:
        for step in trace.steps:
            if step.key not in used:
                used[step.key] = Observation(step.key, step.value, step.source, step.detail)
    facts = known_facts(used.values(), vocabulary)
    paths: dict[str, list[TraceStep]] = {}
    trees_of: dict[str, tuple[str, ...]] = {}
    for trace in traces:
        if trace.finding is not None and (
            asked
            or findings[trace.finding].severity is not Severity.UNKNOWN
            or not _unasked(trace.steps, vocabulary)
        ):
            paths.setdefault(trace.finding, []).extend(trace.steps)
            trees_of[trace.finding] = (*trees_of.get(trace.finding, ()), trace.tree)
    reported = [
        _reported(findings[fid], trees_of[fid], steps, used, facts, vocabulary)
        for fid, steps in paths.items()
    ]
    kept, withdrawn = reconcile(reported, layers)
    fine, held = judge_layers(
        traces,
        {tree.id: frozenset(f.layer for f in tree.findings.values()) for tree in trees},
        kept,
        layers,
    )
    order = {fid: index for index, fid in enumerate(findings)}
    keys = list(vocabulary.specs)
    roots = arrange(kept, order)
    return Diagnosis(
        status=overall_status([item.severity for item in kept]),
        findings=roots,
        traces=traces,
        observations=tuple(sorted(used.values(), key=lambda o: keys.index(o.key))),
        wait_s=wait_seconds(kept, used),
        withdrawn=tuple(withdrawn),
        fine_layers=fine,
        held_back=held,
    )


def _unasked(steps: Sequence[TraceStep], vocabulary: Vocabulary) -> bool:
    """Did this path pass a person's question that nobody answered?"""
    return any(
        step.source is AnswerSource.DEFAULT
        and vocabulary.spec(step.key).source is not SpecSource.PROBE
        for step in steps
    )


#: Branches taken for want of a value of their own: the observation did not decide them.
_FALLBACK_BRANCHES = ("otherwise", "unknown")


def _reported(
    finding: Finding,
    trees: tuple[str, ...],
    steps: Sequence[TraceStep],
    observations: Mapping[str, Observation],
    run_facts: Mapping[str, str],
    vocabulary: Vocabulary,
) -> ReportedFinding:
    """``finding`` as this run reports it: from the observations whose values decided its path
    (a branch named by the value, not ``otherwise`` or ``unknown``) come its evidence, the
    addresses it is about, the facts its texts name and whether its claim is partial; the
    site's grading sets its severity."""
    deciding: list[Observation] = []
    for step in steps:
        seen = observations[step.key]
        if step.branch not in _FALLBACK_BRANCHES and seen not in deciding:
            deciding.append(seen)
    evidence: list[str] = []
    addresses: set[int] = set()
    facts: dict[str, str] = dict(run_facts)
    # The observation nearest the leaf decided this finding rather than another: what it saw
    # is read first (the silence along the chain before "no traffic" for a break heard from
    # the far end).
    for seen in reversed(deciding):
        evidence.extend(line for line in seen.evidence if line not in evidence)
        addresses.update(seen.addresses)
    for seen in reversed(deciding):  # the observation nearest the leaf names a fact first
        facts.update(seen.facts)
    graded = _graded(finding, observations)
    if graded is not None:
        grade = observations[str(finding.graded_by)]
        evidence.extend(line for line in grade.evidence if line not in evidence)
        finding = graded
    return ReportedFinding(
        finding=_filled(finding, facts, vocabulary),
        reached_by=trees,
        evidence=tuple(evidence),
        addresses=tuple(sorted(addresses)),
        partial=finding.partial_title is not None and any(seen.partial for seen in deciding),
    )


def _filled(finding: Finding, facts: Mapping[str, str], vocabulary: Vocabulary) -> Finding:
    """``finding`` with the facts its texts name filled in (defaults where none is known)."""

    def fill(text: str | None) -> str | None:
        return None if text is None else vocabulary.fill(text, facts)

    return finding._replace(
        title=vocabulary.fill(finding.title, facts),
        cause=vocabulary.fill(finding.cause, facts),
        remedy=tuple(vocabulary.fill(step, facts) for step in finding.remedy),
        verify=fill(finding.verify),
        escalate=fill(finding.escalate),
        partial_title=fill(finding.partial_title),
    )


def _graded(finding: Finding, observations: Mapping[str, Observation]) -> Finding | None:
    """``finding`` at the severity its grading observation gives, if that one is known."""
    if finding.graded_by is None:
        return None
    grade = observations.get(finding.graded_by)
    if grade is None or grade.value == UNKNOWN:
        return None
    return finding._replace(severity=Severity(grade.value))
