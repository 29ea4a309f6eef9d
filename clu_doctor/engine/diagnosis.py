"""What a diagnosis returns: ranked findings with their consequences, a status, and the why.

Everything here is plain data with ``to_dict()`` returning JSON types, for the renderers.

Overall status (documented in ``docs/rules-format.md``): ``critical`` if any finding is
critical, else ``warning`` if any is a warning, else ``unknown`` if any finding is of severity
unknown *or no finding at all was produced* (nothing was decided, so nothing can be called
fine), else ``info`` if any is info, else ``ok``. Exit codes follow the monitoring-plugin
convention: ok/info → 0, warning → 1, critical → 2, unknown → 3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from clu_doctor.engine.model import Finding
from clu_doctor.engine.observations import AnswerSource, Observation, Value
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
    """The path one tree took, and its outcome (``finding:ID`` or ``end``)."""

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
    ``reached_by`` lists the trees whose walk ended at it.
    """

    finding: Finding
    reached_by: tuple[str, ...]
    consequences: tuple[ReportedFinding, ...] = ()
    consequence_of: str | None = None
    #: What the probes saw on the way to this finding (from the observations' evidence).
    evidence: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.finding.id

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    def walk(self) -> Iterator[ReportedFinding]:
        """This finding, then its consequences depth-first, in display order."""
        yield self
        for child in self.consequences:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.finding.to_dict(),
            "reached_by": list(self.reached_by),
            "consequence_of": self.consequence_of,
            "consequences": [child.to_dict() for child in self.consequences],
            "evidence": list(self.evidence),
        }


def overall_status(severities: Sequence[Severity]) -> Severity:
    """The worst severity by :attr:`Severity.rank`; ``unknown`` when nothing was found."""
    return Severity.worst(severities, default=Severity.UNKNOWN)


class Diagnosis(NamedTuple):
    """The result of walking every tree with one set of observations."""

    status: Severity
    findings: tuple[ReportedFinding, ...]
    traces: tuple[TreeTrace, ...]
    observations: tuple[Observation, ...]

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
            "findings": [root.to_dict() for root in self.findings],
            "trace": [trace.to_dict() for trace in self.traces],
            "observations": [o.to_dict() for o in self.observations],
        }


def arrange(
    reached: Mapping[str, tuple[Finding, tuple[str, ...]]],
    order: Mapping[str, int],
    evidence: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[ReportedFinding, ...]:
    """Nest consequences under their roots and rank each level.

    ``reached`` maps finding id → (finding, trees that reached it); ``order`` is each finding's
    position in the rulebook (tree order, then file order), the last tie-breaker. A finding
    whose ``explained_by`` names a reached finding is not a separate fault: it goes under the
    highest-ranked such root. Ranking: physical layer (power first), then severity (worst
    first), then rulebook order.
    """

    def rank(fid: str) -> tuple[int, int, int]:
        finding = reached[fid][0]
        return (finding.layer.depth, -finding.severity.rank, order.get(fid, len(order)))

    parent: dict[str, str | None] = {}
    for fid, (finding, _) in reached.items():
        roots = [r for r in finding.explained_by if r in reached and r != fid]
        parent[fid] = min(roots, key=rank) if roots else None

    def build(fid: str) -> ReportedFinding:
        children = sorted((c for c, p in parent.items() if p == fid), key=rank)
        finding, trees = reached[fid]
        return ReportedFinding(
            finding=finding,
            reached_by=trees,
            consequences=tuple(build(c) for c in children),
            consequence_of=parent[fid],
            evidence=(evidence or {}).get(fid, ()),
        )

    return tuple(build(fid) for fid in sorted(reached, key=rank) if parent[fid] is None)
