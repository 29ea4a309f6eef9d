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

from clu_doctor.severity import Severity
from clu_doctor.yamlio import NOWHERE, Where

END = "end"
FINDING_PREFIX = "finding:"
SEE_PREFIX = "see:"


class Layer(str, Enum):
    """The layers a finding belongs to, in ranking order (root causes are listed in this order).

    ``adapter`` is the technician's own adapter: everything the tool hears goes through it, so
    it comes first. Which layer depends on which (what a fault explains, what an OK claim
    needs) is data: ``rules/layers.yaml``, read into :class:`LayerSpec`.
    """

    ADAPTER = "adapter"
    POWER = "power"
    CLU_BOOT = "clu-boot"
    USB_INTERFACE = "usb-interface"
    BUS = "bus"
    STATION = "station"
    CONFIGURATION = "configuration"
    BACKEND = "backend"

    @property
    def depth(self) -> int:
        """0 for the adapter, 1 for power, growing towards the backend (ranking order)."""
        return _LAYER_DEPTH[self]


_LAYER_DEPTH = {layer: depth for depth, layer in enumerate(Layer)}


class LayerSpec(NamedTuple):
    """One layer as ``rules/layers.yaml`` declares it: a name for people and what it needs.

    ``depends_on`` lists the layers this one works only if they work: a fault there can
    explain a finding here (``explained_by``), and makes an OK claim here unsafe.
    """

    layer: Layer
    title: str
    depends_on: tuple[Layer, ...] = ()
    where: Where = NOWHERE


def dependencies(layers: Mapping[Layer, LayerSpec], layer: Layer) -> frozenset[Layer]:
    """Every layer ``layer`` depends on, directly or through others (not itself)."""
    found: set[Layer] = set()
    todo = list(layers[layer].depends_on) if layer in layers else []
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(layers[current].depends_on if current in layers else ())
    found.discard(layer)
    return frozenset(found)


class TargetKind(str, Enum):
    NODE = "node"
    FINDING = "finding"
    END = "end"
    SEE = "see"


class Target(NamedTuple):
    """Where a branch leads: another node, a finding (a leaf), ``end`` (nothing to report), or
    ``see:ID`` (a leaf: the tree cannot judge here, another tree's finding ``ID`` says why)."""

    kind: TargetKind
    name: str = ""
    where: Where = NOWHERE

    def __str__(self) -> str:
        if self.kind is TargetKind.FINDING:
            return FINDING_PREFIX + self.name
        if self.kind is TargetKind.END:
            return END
        if self.kind is TargetKind.SEE:
            return SEE_PREFIX + self.name
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


class Wait(NamedTuple):
    """A finding that only time can settle: it holds until ``observation`` reaches ``until``
    (e.g. the CLU's uptime reaches 150 s), so the result can change in ``until - value``."""

    observation: str
    until: float
    where: Where = NOWHERE


class Finding(NamedTuple):
    """A leaf's verdict: what is wrong (or fine), why, and the manual's remedy, paraphrased.

    Texts may name facts (``{station}``) that the observations on the way supply; the
    vocabulary declares each fact and the words used when none is known.
    """

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
    #: An OK finding's title for when its claim holds only for what was observed (e.g. the
    #: stations that answered, not every station of the site).
    partial_title: str | None = None
    #: For a finding that only time can settle (severity unknown): until when.
    wait: Wait | None = None
    #: Layers other than its own that reaching this finding shows to work (the USB interface,
    #: when its LEDs show the CLU sending and the fault lies on the bus beyond it): the
    #: summary then says nothing wrong was found there, rather than "not checked".
    clears: tuple[Layer, ...] = ()
    where: Where = NOWHERE

    def texts(self) -> dict[str, str]:
        """Every text of the finding that may name facts, by key (remedy steps as remedy.N)."""
        out = {"title": self.title, "cause": self.cause}
        out.update({f"remedy.{i}": step for i, step in enumerate(self.remedy)})
        for key in ("verify", "escalate", "partial_title"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

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
            "partial_title": self.partial_title,
            "wait": None
            if self.wait is None
            else {"observation": self.wait.observation, "until": _tidy(self.wait.until)},
            "clears": [layer.value for layer in self.clears],
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
