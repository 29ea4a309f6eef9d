"""Typed, immutable form of a decision tree: nodes, branch targets, findings and test cases.

These are what the YAML becomes after the structural pass (:mod:`.load`). Each carries its
source location (:class:`~clu_doctor.yamlio.Where`) so that the semantic pass (:mod:`.validate`)
can point at ``file:line``.

Records are :class:`typing.NamedTuple`, not frozen dataclasses: they are just as typed and
immutable, but defining one costs a tenth of the import time, and the engine is on the start-up
path of every ``clu-doctor`` run (the CLI's budget is 1.5x ``import typer, rich``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, NamedTuple

from clu_doctor.exitcodes import ExitCode
from clu_doctor.yamlio import NOWHERE, Where

END = "end"
FINDING_PREFIX = "finding:"


class Severity(str, Enum):
    """How bad a finding is; also the overall status of a diagnosis.

    ``unknown`` means "cannot decide from what is known: look at X"; it maps to the
    monitoring-plugin UNKNOWN exit code, like a check that could not run.
    """

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Urgency for sorting and for the overall status: higher is worse.

        ``unknown`` sits between info and warning: an undecided check outweighs "all fine"
        but not a problem that was actually found.
        """
        return _SEVERITY_RANK[self]

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


_SEVERITY_RANK = {
    Severity.OK: 0,
    Severity.INFO: 1,
    Severity.UNKNOWN: 2,
    Severity.WARNING: 3,
    Severity.CRITICAL: 4,
}
_EXIT_CODES = {
    Severity.OK: ExitCode.OK,
    Severity.INFO: ExitCode.OK,
    Severity.WARNING: ExitCode.WARNING,
    Severity.CRITICAL: ExitCode.CRITICAL,
    Severity.UNKNOWN: ExitCode.UNKNOWN,
}


class Layer(str, Enum):
    """Physical dependency layers, deepest first: a fault low down explains symptoms above."""

    POWER = "power"
    CLU_BOOT = "clu-boot"
    USB_INTERFACE = "usb-interface"
    BUS = "bus"
    STATION = "station"
    CONFIGURATION = "configuration"
    BACKEND = "backend"

    @property
    def depth(self) -> int:
        """0 for power (deepest), growing towards the backend."""
        return _LAYER_DEPTH[self]


_LAYER_DEPTH = {layer: depth for depth, layer in enumerate(Layer)}


class TargetKind(str, Enum):
    NODE = "node"
    FINDING = "finding"
    END = "end"


class Target(NamedTuple):
    """Where a branch leads: another node, a finding (a leaf), or ``end`` (nothing to report)."""

    kind: TargetKind
    name: str = ""
    where: Where = NOWHERE

    def __str__(self) -> str:
        if self.kind is TargetKind.FINDING:
            return FINDING_PREFIX + self.name
        if self.kind is TargetKind.END:
            return END
        return self.name


class NumberRange(NamedTuple):
    """``[start, stop)`` of a number observation; ``None`` is open-ended on that side."""

    start: float | None
    stop: float | None
    target: Target
    where: Where = NOWHERE

    def contains(self, value: float) -> bool:
        return (self.start is None or value >= self.start) and (
            self.stop is None or value < self.stop
        )

    @property
    def label(self) -> str:
        """``"below 150"``, ``"from 150"`` or ``"from 150 below 600"`` as in the YAML."""
        parts = []
        if self.start is not None:
            parts.append(f"from {_tidy(self.start)}")
        if self.stop is not None:
            parts.append(f"below {_tidy(self.stop)}")
        return " ".join(parts) or "any"


def _tidy(value: float) -> int | float:
    return int(value) if value.is_integer() else value


class Node(NamedTuple):
    """A question: ask one observation, go where its value says.

    Choice observations use ``branches`` (value → target) and optionally ``otherwise``;
    number observations use ``ranges``. ``unknown`` is where "don't know" goes (when absent,
    ``otherwise`` takes it).
    """

    name: str
    ask: str
    branches: Mapping[str, Target] = {}
    ranges: tuple[NumberRange, ...] = ()
    otherwise: Target | None = None
    unknown: Target | None = None
    note: str | None = None
    where: Where = NOWHERE

    def targets(self) -> list[tuple[str, Target]]:
        """Every (branch label, target) pair of this node, in file order."""
        pairs = list(self.branches.items())
        pairs += [(r.label, r.target) for r in self.ranges]
        if self.otherwise is not None:
            pairs.append(("otherwise", self.otherwise))
        if self.unknown is not None:
            pairs.append(("unknown", self.unknown))
        return pairs


class Finding(NamedTuple):
    """A leaf's verdict: what is wrong (or fine), why, and the manual's remedy, paraphrased."""

    id: str
    tree: str
    severity: Severity
    layer: Layer
    title: str
    cause: str
    remedy: tuple[str, ...]
    manual: str
    verify: str | None = None
    escalate: str | None = None
    confirm_with: str | None = None
    explained_by: tuple[str, ...] = ()
    look_at: tuple[str, ...] = ()
    #: A choice observation whose value, when known, is this finding's severity (the site's
    #: own thresholds, e.g. how many silent stations make a warning or a critical).
    graded_by: str | None = None
    where: Where = NOWHERE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tree": self.tree,
            "severity": self.severity.value,
            "layer": self.layer.value,
            "title": self.title,
            "cause": self.cause,
            "remedy": list(self.remedy),
            "verify": self.verify,
            "escalate": self.escalate,
            "manual": self.manual,
            "confirm_with": self.confirm_with,
            "explained_by": list(self.explained_by),
            "look_at": list(self.look_at),
            "graded_by": self.graded_by,
        }


class Case(NamedTuple):
    """A tree's own test: raw observations in, the exact finding ids and status expected out."""

    name: str
    observe: Mapping[str, Any]
    findings: tuple[str, ...]
    status: Severity
    where: Where = NOWHERE


class Tree(NamedTuple):
    """One decision tree (one file): its questions, its findings and its test cases."""

    id: str
    title: str
    manual: str
    start: str
    nodes: Mapping[str, Node]
    findings: Mapping[str, Finding]
    cases: tuple[Case, ...]
    where: Where = NOWHERE

    @property
    def path(self) -> str:
        return self.where.path
