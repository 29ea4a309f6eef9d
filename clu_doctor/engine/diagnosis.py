"""What a diagnosis returns, and how the findings of one run are reasoned together.

Everything here is plain data with ``to_dict()`` returning JSON types, for the renderers.
The reasoning across findings (documented in ``docs/rules-format.md``) is three pure
functions: :func:`reconcile` (no OK claim stands beside a fault that denies it; a claim that
holds only for what was observed is scoped), :func:`arrange` (a symptom that a found cause
explains, by the rules and by the addresses both are about, is nested under it; roots are
ranked by layer) and :func:`wait_seconds` (how long until waiting findings are settled).

Overall status: ``critical`` if any finding is critical, else ``warning`` if any is a
warning, else ``unknown`` if any finding is of severity unknown (waiting included) *or no
finding at all was produced* (nothing was decided, so nothing can be called fine), else
``info`` if any is info, else ``ok``. Exit codes follow the monitoring-plugin convention:
ok/info → 0, warning → 1, critical → 2, unknown → 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from clu_doctor.engine.model import END, SEE_PREFIX, Finding, Layer, LayerSpec, dependencies
from clu_doctor.engine.observations import UNKNOWN, AnswerSource, Observation, Value
from clu_doctor.exitcodes import ExitCode
from clu_doctor.severity import Severity


class TraceStep(NamedTuple):
    """One question answered during a walk: which value, from where, and where it led."""

    tree: str
    node: str
    key: str
    value: Value
    source: AnswerSource
    detail: str | None
    branch: str
    target: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree,
            "node": self.node,
            "key": self.key,
            "value": self.value,
            "source": self.source.value,
            "detail": self.detail,
            "branch": self.branch,
            "target": self.target,
        }


class TreeTrace(NamedTuple):
    """The path one tree took, and its outcome (``finding:ID``, ``end`` or ``see:ID``)."""

    tree: str
    title: str
    steps: tuple[TraceStep, ...]
    outcome: str
    finding: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree,
            "title": self.title,
            "steps": [step.to_dict() for step in self.steps],
            "outcome": self.outcome,
            "finding": self.finding,
        }


class ReportedFinding(NamedTuple):
    """A finding that some tree reached, with the findings it explains nested under it.

    ``consequence_of`` is the id of the root this one is shown under (``None`` for a root);
    ``reached_by`` lists the trees whose walk ended at it. ``finding`` is the rule's finding as
    this run reports it: its severity graded by the site's thresholds (``graded_by``) and its
    texts with the facts of this run filled in (``{station}`` becomes ``XAXXY09``).

    ``addresses`` are the bus addresses it is about: those of the observations on the paths
    that reached it. ``partial`` marks an OK finding whose claim holds only for what was
    observed (the stations that answered, not every station of the site); :attr:`title` is
    then the finding's scoped ``partial_title``. ``contradicted_by`` names the faults of the
    same run that an OK claim cannot stand beside; such a finding is never in
    :attr:`Diagnosis.findings`, only in :attr:`Diagnosis.withdrawn` (see :func:`reconcile`).
    """

    finding: Finding
    reached_by: tuple[str, ...]
    consequences: tuple[ReportedFinding, ...] = ()
    consequence_of: str | None = None
    #: What the probes saw on the way to this finding (from the observations' evidence).
    evidence: tuple[str, ...] = ()
    addresses: tuple[int, ...] = ()
    partial: bool = False
    contradicted_by: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.finding.id

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def title(self) -> str:
        """The title to show: the finding's own, or its scoped one when the claim is partial."""
        if self.partial and self.finding.partial_title:
            return self.finding.partial_title
        return self.finding.title

    def walk(self) -> Iterator[ReportedFinding]:
        """This finding, then its consequences depth-first, in display order."""
        yield self
        for child in self.consequences:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.finding.to_dict(),
            "title": self.title,
            "own_title": self.finding.title,
            "partial": self.partial,
            "addresses": list(self.addresses),
            "reached_by": list(self.reached_by),
            "consequence_of": self.consequence_of,
            "consequences": [child.to_dict() for child in self.consequences],
            "evidence": list(self.evidence),
            "contradicted_by": list(self.contradicted_by),
        }


def overall_status(severities: Sequence[Severity]) -> Severity:
    """The worst severity by :attr:`Severity.rank`; ``unknown`` when nothing was found."""
    return Severity.worst(severities, default=Severity.UNKNOWN)


class Diagnosis(NamedTuple):
    """The result of walking every tree with one set of observations.

    ``wait_s`` is how many seconds until the result can change by itself (the CLU is still
    starting: 150 s after power-up less its uptime), ``None`` when nothing is waited for. A
    run that only waits is ``unknown``: not fine, not a fault. ``withdrawn`` holds the OK
    findings a fault of the same run contradicts: reached by a tree, but never reported as
    fine (JSON and ``--why`` show them with the faults that withdrew them).
    """

    status: Severity
    findings: tuple[ReportedFinding, ...]
    traces: tuple[TreeTrace, ...]
    observations: tuple[Observation, ...]
    wait_s: float | None = None
    withdrawn: tuple[ReportedFinding, ...] = ()
    #: Layers a tree looked at and found nothing wrong with (see :func:`judge_layers`).
    fine_layers: frozenset[Layer] = frozenset()
    #: Layers this run cannot judge, each with the id of the finding that says why.
    held_back: tuple[tuple[Layer, str], ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        return self.status.exit_code

    def all_findings(self) -> tuple[ReportedFinding, ...]:
        """Roots and consequences, flattened in display order."""
        return tuple(item for root in self.findings for item in root.walk())

    @property
    def finding_ids(self) -> frozenset[str]:
        return frozenset(item.id for item in self.all_findings())

    def observation(self, key: str) -> Observation | None:
        return self._by_key().get(key)

    def _by_key(self) -> Mapping[str, Observation]:
        return {o.key: o for o in self.observations}

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "exit_code": int(self.exit_code),
            "wait_s": None if self.wait_s is None else round(self.wait_s, 1),
            "findings": [root.to_dict() for root in self.findings],
            "withdrawn": [item.to_dict() for item in self.withdrawn],
            "trace": [trace.to_dict() for trace in self.traces],
            "observations": [o.to_dict() for o in self.observations],
        }


# --- reasoning across the findings of one run ------------------------------------------------

#: Severities that say something is wrong: they explain symptoms and deny OK claims.
FAULTS = frozenset({Severity.WARNING, Severity.CRITICAL})


def reconcile(
    reached: Sequence[ReportedFinding], layers: Mapping[Layer, LayerSpec]
) -> tuple[list[ReportedFinding], list[ReportedFinding]]:
    """Which OK findings may stand beside the faults of the same run, and how.

    An OK finding makes a claim about its layer, which holds only if the layers it depends on
    (``layers.yaml``) work. A fault (warning or critical) at such a layer withdraws it,
    unless the fault is about some stations only (it has addresses) and the OK finding has a
    ``partial_title``: then the claim is kept, scoped to what was observed. Faults at the OK
    finding's own layer do not withdraw it (a noisy bus does not make "every station answers"
    false), and ``unknown`` findings deny nothing. Returns (kept, withdrawn).
    """
    faults = [item for item in reached if item.severity in FAULTS]
    kept: list[ReportedFinding] = []
    withdrawn: list[ReportedFinding] = []
    for item in reached:
        if item.severity is not Severity.OK:
            kept.append(item)
            continue
        needs = dependencies(layers, item.finding.layer)
        against = [f for f in faults if f.finding.layer in needs]
        if not against:
            kept.append(item)
        elif item.finding.partial_title and all(f.addresses for f in against):
            kept.append(item._replace(partial=True))
        else:
            withdrawn.append(item._replace(contradicted_by=tuple(f.id for f in against)))
    return kept, withdrawn


def judge_layers(
    traces: Sequence[TreeTrace],
    layers_of_tree: Mapping[str, frozenset[Layer]],
    reported: Sequence[ReportedFinding],
    layers: Mapping[Layer, LayerSpec],
) -> tuple[frozenset[Layer], tuple[tuple[Layer, str], ...]]:
    """Which layers without a finding of their own this run may call fine, and which it
    cannot judge, each with the finding that says why.

    A tree that walked to ``end`` on an answer other than "don't know" looked at its layers
    (those of the findings it can report) and found nothing to report there; a finding's
    ``clears`` shows other layers to work. Neither holds for a layer held back:

    * one that depends (``layers.yaml``) on a layer with a fault in this run, the rule
      :func:`reconcile` applies to an OK finding: no charge point is "fine" while no charge
      point answers;
    * one whose tree ended on ``see:ID`` with finding ``ID`` reported: that finding says why
      the tree could not judge (bytes that do not decode are the adapter's finding, and say
      nothing of the bus).

    A layer held back names its first reason: the fault at the lowest layer it depends on,
    else the finding its tree deferred to.
    """
    ids = {item.id for item in reported}
    looked: set[Layer] = {layer for item in reported for layer in item.finding.clears}
    deferred: dict[Layer, str] = {}
    for trace in traces:
        if trace.outcome == END and trace.steps and trace.steps[-1].value != UNKNOWN:
            looked |= layers_of_tree.get(trace.tree, frozenset())
        elif trace.outcome.startswith(SEE_PREFIX) and trace.outcome[len(SEE_PREFIX) :] in ids:
            for layer in layers_of_tree.get(trace.tree, frozenset()):
                deferred.setdefault(layer, trace.outcome[len(SEE_PREFIX) :])
    faults = sorted(
        (item for item in reported if item.severity in FAULTS),
        key=lambda item: (item.finding.layer.depth, -item.severity.rank),
    )
    held: dict[Layer, str] = {}
    for layer in Layer:
        needs = dependencies(layers, layer)
        against = next((item.id for item in faults if item.finding.layer in needs), None)
        reason = against or deferred.get(layer)
        if reason is not None:
            held[layer] = reason
    fine = frozenset(layer for layer in looked if layer not in held)
    return fine, tuple(sorted(held.items(), key=lambda pair: pair[0].depth))


def explains(cause: ReportedFinding, symptom: ReportedFinding) -> bool:
    """Does ``cause`` explain ``symptom`` in this run?

    The rule says what can explain what (``explained_by``: the manual's chain, e.g. a broken
    cable can silence a station); the evidence decides whether it does here: when both are
    about stations, every station the symptom is about must be one the cause is about (the
    silent station lies beyond the break, the doubled address is the one the misaddressed
    controller answers at). A symptom that names no station (a vehicle that does not charge,
    somewhere on the site) cannot be told apart, so the cause is taken to explain it.
    """
    if cause.id == symptom.id or cause.id not in symptom.finding.explained_by:
        return False
    if cause.addresses and symptom.addresses:
        return set(symptom.addresses) <= set(cause.addresses)
    return True


def arrange(
    reached: Sequence[ReportedFinding], order: Mapping[str, int]
) -> tuple[ReportedFinding, ...]:
    """Nest consequences under their roots and rank each level.

    ``reached`` holds one flat entry per finding reached; ``order`` is each finding's position
    in the rulebook (tree order, then file order), the last tie-breaker. A finding that a
    reached finding explains (:func:`explains`) is not a separate fault: it goes under the
    highest-ranked such root. Ranking: layer (``Layer`` order, the adapter and power first),
    then severity (worst first), then rulebook order.
    """
    by_id = {item.id: item for item in reached}

    def rank(fid: str) -> tuple[int, int, int]:
        finding = by_id[fid].finding
        return (finding.layer.depth, -finding.severity.rank, order.get(fid, len(order)))

    parent: dict[str, str | None] = {}
    for item in reached:
        roots = [cause.id for cause in reached if explains(cause, item)]
        parent[item.id] = min(roots, key=rank) if roots else None

    def build(fid: str) -> ReportedFinding:
        children = sorted((c for c, p in parent.items() if p == fid), key=rank)
        return by_id[fid]._replace(
            consequences=tuple(build(c) for c in children), consequence_of=parent[fid]
        )

    return tuple(build(fid) for fid in sorted(by_id, key=rank) if parent[fid] is None)


def wait_seconds(
    findings: Iterable[ReportedFinding], observations: Mapping[str, Observation]
) -> float | None:
    """Seconds until the longest wait of ``findings`` is over (``None``: nothing to wait for,
    or the observation it waits on is not known as a number)."""
    left: list[float] = []
    for item in findings:
        wait = item.finding.wait
        if wait is None:
            continue
        seen = observations.get(wait.observation)
        if seen is not None and isinstance(seen.value, (int, float)):
            left.append(max(0.0, wait.until - float(seen.value)))
    return max(left) if left else None
