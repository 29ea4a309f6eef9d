"""What a person reads first, in every text format: one line per area of the site (in the
manner of ``flutter doctor``), problems before what is fine, the first thing to do, and
evidence made short (runs of addresses as ranges, per-address lines collapsed, no test
statistics).

Presentation only. Every severity was decided before this module sees it (by the rules and the
site's thresholds); here findings are grouped, ordered and shortened, never judged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import NamedTuple, TypeVar

from clu_doctor.engine import UNKNOWN, AnswerSource, Diagnosis, Layer, ReportedFinding, Tree
from clu_doctor.i18n import N_, _
from clu_doctor.severity import Severity

T = TypeVar("T")


class Area(NamedTuple):
    """A part of the site a technician can walk up to, and the layers its findings come from
    (by the layers' names, as the rules write them)."""

    name: str
    layers: tuple[str, ...]
    #: What a diagnosis needs to judge this area, for the "not checked" line.
    needs: str
    #: Whether the summary shows the area when nothing was found or checked there (the
    #: technician's own adapter is worth a line only when there is something to say).
    always: bool = True
    #: What it still needs when the bus was heard in this run (empty: the same as ``needs``).
    needs_heard: str = ""

    @property
    def title(self) -> str:
        """The area's name in the run's language (``name`` is its stable English name)."""
        return _(self.name)


#: The site's areas in the order the summary lists them. Every layer belongs to exactly one
#: (a test checks it), so a finding's area follows from its layer alone.
AREAS: tuple[Area, ...] = (
    Area(N_("Your adapter"), ("adapter",), N_("listen to the bus with it (--port)"), always=False),
    Area(N_("CLU"), ("power", "clu-boot"), N_("answer the questions about the CLU's LEDs")),
    Area(
        N_("USB interface"),
        ("usb-interface",),
        N_("answer the questions about its LEDs, or listen to the bus (--port)"),
        needs_heard=N_("answer the questions about its LEDs"),
    ),
    Area(N_("Bus"), ("bus",), N_("listen to the bus with an adapter (--port)")),
    Area(N_("Stations"), ("station",), N_("listen to the bus with an adapter (--port)")),
    Area(
        N_("Configuration"),
        ("configuration",),
        N_("give the site description (--site) or listen to the bus (--port)"),
        needs_heard=N_("give the site description (--site)"),
    ),
    Area(N_("CloudCharge"), ("backend",), N_("answer the questions about the CloudCharge portal")),
)

_AREA_BY_LAYER: Mapping[str, Area] = {layer: area for area in AREAS for layer in area.layers}


def area_of_layer(layer: Layer) -> Area:
    """The area of ``layer``; a layer no area names (rules newer than this table) is an area
    of its own, so that nothing is ever left out of the summary."""
    found = _AREA_BY_LAYER.get(layer.value)
    if found is not None:
        return found
    name = layer.value.replace("-", " ").capitalize()
    return Area(name, (layer.value,), "", always=False)


def area_of(item: ReportedFinding) -> Area:
    return area_of_layer(item.finding.layer)


class Mark(Enum):
    """How an area or a finding stands, in display order: problems first."""

    PROBLEM = "problem"
    WAIT = "wait"
    UNDECIDED = "undecided"
    OK = "ok"
    NOT_CHECKED = "not checked"

    @property
    def order(self) -> int:
        return _MARK_ORDER[self]


_MARK_ORDER = {mark: n for n, mark in enumerate(Mark)}


class Symbol(NamedTuple):
    """The one-character mark of a summary line, and its colour on a terminal."""

    char: str
    style: str


#: The marks of the summary lines. Piped output has no colour, so each mark is its own glyph.
SYMBOLS: Mapping[Mark | Severity, Symbol] = {
    Severity.CRITICAL: Symbol("✗", "bold red"),
    Severity.WARNING: Symbol("!", "bold yellow"),
    Mark.WAIT: Symbol("…", "bold blue"),
    Mark.UNDECIDED: Symbol("?", "bold magenta"),
    Mark.OK: Symbol("✓", "bold green"),
    Mark.NOT_CHECKED: Symbol("-", "dim"),
}

#: The colour of a waiting run's result word (a wait is not one of the severities).
WAIT_STYLE = "bold blue"


def wait_seconds(diagnosis: Diagnosis) -> float | None:
    """Seconds until the result can change (the CLU still starting), or ``None``.

    Read with a fallback: ``Diagnosis.wait_s`` comes from the engine, and a diagnosis made
    without it (an older engine, a test) simply has no wait.
    """
    value = getattr(diagnosis, "wait_s", None)
    return None if value is None else max(0.0, float(value))


def come_back(seconds: float) -> str:
    """``come back in 90 s`` (whole seconds, rounded up: never too early)."""
    return _("come back in {seconds} s").format(seconds=math.ceil(seconds))


def waits(item: ReportedFinding, diagnosis: Diagnosis) -> bool:
    """Whether ``item`` is the finding that says "wait": the run waits and its rule declares a
    wait (``Finding.wait``, read with a fallback like :func:`wait_seconds`)."""
    return wait_seconds(diagnosis) is not None and getattr(item.finding, "wait", None) is not None


def mark(item: ReportedFinding, diagnosis: Diagnosis) -> Mark:
    """Where ``item`` goes: a problem, the wait, an open question, or fine."""
    if item.severity.rank >= Severity.WARNING.rank:
        return Mark.PROBLEM
    if waits(item, diagnosis):
        return Mark.WAIT
    if item.severity is Severity.UNKNOWN:
        return Mark.UNDECIDED
    return Mark.OK


def symbol(item_mark: Mark, severity: Severity | None) -> Symbol:
    """A problem's symbol tells critical from warning; every other mark has one."""
    if item_mark is Mark.PROBLEM and severity is not None:
        return SYMBOLS[severity]
    return SYMBOLS[item_mark]


def title(item: ReportedFinding) -> str:
    """The title to show: the engine's scoped title when it gives one (``ReportedFinding.title``:
    "The controllers that answered report a normal state"), else the finding's own."""
    shown = getattr(item, "title", None)
    return " ".join(str(shown if shown else item.finding.title).split())


def in_display_order(
    roots: Sequence[ReportedFinding], diagnosis: Diagnosis
) -> list[ReportedFinding]:
    """Problems first, then the wait, open questions, and what is fine; within each, the
    engine's ranking (physical layer, then severity) is kept."""
    return sorted(roots, key=lambda item: mark(item, diagnosis).order)


def reorder_dicts(diagnosis: Diagnosis, dicts: Sequence[T]) -> list[T]:
    """``dicts`` (one per root finding, in the engine's order, e.g. the JSON of each root) in
    display order."""
    by_id = {root.id: d for root, d in zip(diagnosis.findings, dicts, strict=True)}
    return [by_id[root.id] for root in in_display_order(diagnosis.findings, diagnosis)]


class AreaLine(NamedTuple):
    """One line of the summary: an area, how it stands, and the words after it."""

    area: Area
    mark: Mark
    #: The severity of the finding the line names (``None`` when not checked).
    severity: Severity | None
    text: str
    #: The findings of this area, in display order (roots and consequences).
    findings: tuple[ReportedFinding, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "area": self.area.name,
            "area_title": self.area.title,
            "mark": self.mark.value,
            "severity": None if self.severity is None else self.severity.value,
            "text": self.text,
            "findings": [item.id for item in self.findings],
        }


def area_lines(diagnosis: Diagnosis) -> list[AreaLine]:
    """Every area once: problems first, then waiting, open, fine and not checked, each group
    in physical order (an area showing only a consequence after the cause's area). An area's
    line names its most pressing finding; a consequence says which area's fault it follows
    from.

    An area without a finding is one of three (the engine decides which,
    :func:`clu_doctor.engine.diagnosis.judge_layers`): not judged, when a fault it depends on
    or a finding its tree deferred to stands in the way (the line names that finding's area,
    what to deal with first); checked, when a tree looked and found nothing to report ("nothing
    wrong found"); otherwise not checked, with what would check it.
    """
    roots = {item.id: root for root in diagnosis.findings for item in root.walk()}
    areas = {area.name: area for area in AREAS}
    by_area: dict[str, list[ReportedFinding]] = {area.name: [] for area in AREAS}
    for item in diagnosis.all_findings():
        areas.setdefault(area_of(item).name, area_of(item))
        by_area.setdefault(area_of(item).name, []).append(item)
    fine = {layer.value for layer in diagnosis.fine_layers}
    held = {layer.value: reason for layer, reason in diagnosis.held_back}
    by_id = {item.id: item for item in diagnosis.all_findings()}
    heard = bus_was_checked(diagnosis)

    def needs(area: Area) -> str:
        # once the bus was heard, "listen to the bus" is no way to check what is left
        return _((area.needs_heard or area.needs) if heard else area.needs)

    wait = wait_seconds(diagnosis)
    lines = []
    follows: set[str] = set()  # areas whose line names a consequence of another area's fault
    for area in areas.values():
        items = by_area[area.name]
        if not items:
            reasons = [by_id[held[layer]] for layer in area.layers if held.get(layer) in by_id]
            if reasons:
                first = area_of(reasons[0]).title
                text = _("not judged: {area} first").format(area=first)
                lines.append(AreaLine(area, Mark.NOT_CHECKED, None, text, ()))
            elif any(layer in fine for layer in area.layers):
                lines.append(AreaLine(area, Mark.OK, None, _("nothing wrong found"), ()))
            elif area.always:
                lines.append(
                    AreaLine(
                        area,
                        Mark.NOT_CHECKED,
                        None,
                        _("not checked: {what}").format(what=needs(area)),
                        (),
                    )
                )
            continue
        ordered = sorted(
            items, key=lambda i: (mark(i, diagnosis).order, -i.severity.rank, i is not roots[i.id])
        )
        head = ordered[0]
        head_mark = mark(head, diagnosis)
        text = title(head)
        if head_mark is Mark.WAIT and wait is not None:
            text += f" ({come_back(wait)})"
        root = roots[head.id]
        if root is not head and area_of(root) is not area:
            text += " " + _("(follows from: {area})").format(area=area_of(root).title)
            follows.add(area.name)
        more = len([i for i in ordered[1:] if mark(i, diagnosis) is head_mark])
        if more:
            text += " " + _("(+{count} more)").format(count=more)
        lines.append(AreaLine(area, head_mark, head.severity, text, tuple(ordered)))
    order = {name: n for n, name in enumerate(areas)}
    # a cause's area before the areas where its consequences show, so the first line read
    # names what to fix
    return sorted(
        lines,
        key=lambda line: (line.mark.order, line.area.name in follows, order[line.area.name]),
    )


def open_areas(diagnosis: Diagnosis, trees: Iterable[Tree]) -> list[str]:
    """Areas the bus led to but could not judge on its own (``listen``, ``scan``: nobody was
    asked): a tree's walk took a bus reading and then stopped at a person's question, so its
    finding was left out. A quiet bus with the CLU meant to be on it is the common case: the
    bus cannot tell a CLU that is off from one still starting or one whose interface died."""
    findings_of = {tree.id: tree.findings for tree in trees}
    reported = {item.id for item in diagnosis.all_findings()}
    reported |= {item.id for item in diagnosis.withdrawn}
    names: list[str] = []
    for trace in diagnosis.traces:
        if trace.finding is None or trace.finding in reported:
            continue
        led_by_bus = any(
            step.source is AnswerSource.PROBE and step.value != UNKNOWN for step in trace.steps
        )
        finding = findings_of.get(trace.tree, {}).get(trace.finding)
        if led_by_bus and finding is not None:
            name = area_of_layer(finding.layer).name
            if name not in names:
                names.append(name)
    return names


class FirstStep(NamedTuple):
    """The first thing to do: step 1 of the first root cause (or of the wait, or of the first
    open question when nothing is wrong)."""

    finding: ReportedFinding
    step: str

    def to_dict(self) -> dict[str, object]:
        return {"finding": self.finding.id, "title": title(self.finding), "step": self.step}


def first_step(diagnosis: Diagnosis) -> FirstStep | None:
    """``None`` when the first finding in display order is fine: nothing to do."""
    for root in in_display_order(diagnosis.findings, diagnosis):
        if mark(root, diagnosis) is Mark.OK:
            return None
        if root.finding.remedy:
            return FirstStep(root, " ".join(root.finding.remedy[0].split()))
    return None


# --- evidence, made short -------------------------------------------------------------------

#: Evidence lines shown per finding by default (all of them with --why or -v, and in JSON).
SHORT_EVIDENCE = 3

_NUMBER_LIST = re.compile(r"\b\d+(?:, \d+){2,}\b")
#: A line about one address: ``address 7: ...`` or ``station 7 (XAXXY07) ...``.
_ADDRESS_LINE = re.compile(r"^(address|station) (\d+)(?: \([^)]*\))?:? (.+)$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: Where a number stood in a line's template (a character no evidence line holds).
_SLOT = "\x00"
_PLURAL = {"address": "addresses", "station": "stations"}
#: A clause that carries test statistics: a probability in scientific notation, or "chance".
_STATISTICS = re.compile(r"\d(?:\.\d+)?e-\d+|\bchance of\b|\bp-value\b|\bp = ")
_STATISTICS_BRACKET = re.compile(r" ?\([^()]*(?:\d(?:\.\d+)?e-\d+|\bp = |\bp-value\b)[^()]*\)")


def ranges(numbers: Iterable[int]) -> str:
    """``1-6, 8`` for 1, 2, 3, 4, 5, 6, 8 (runs of three or more become a range)."""
    values = sorted(set(numbers))
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{values[start]}-{values[end]}")
        else:
            parts.extend(str(v) for v in values[start : end + 1])
        start = end + 1
    return ", ".join(parts)


def _compress_lists(line: str) -> str:
    return _NUMBER_LIST.sub(lambda m: ranges(int(n) for n in m.group(0).split(", ")), line)


def _without_statistics(line: str) -> str:
    """``line`` without the clauses and brackets that carry test statistics."""
    line = _STATISTICS_BRACKET.sub("", line)
    kept = [part for part in line.split("; ") if not _STATISTICS.search(part)]
    return "; ".join(kept) if kept else line


def _collapse_addresses(lines: Sequence[str]) -> list[str]:
    """Lines about single addresses that say the same, up to their numbers, become one where
    the first of them stood: ``address 7: 29 polls, no answer`` ... ``address 12: 28 polls,
    no answer`` is ``addresses 7-12, each: 28-29 polls, no answer``."""
    groups: dict[tuple[str, str], list[tuple[int, list[str]]]] = {}
    parsed: list[tuple[str, str, int] | None] = []
    for line in lines:
        match = _ADDRESS_LINE.match(line)
        if match is None:
            parsed.append(None)
            continue
        word, address, rest = match.group(1), int(match.group(2)), match.group(3)
        template = _NUMBER.sub(_SLOT, rest)
        groups.setdefault((word, template), []).append((address, _NUMBER.findall(rest)))
        parsed.append((word, template, address))
    out: list[str] = []
    done: set[tuple[str, str]] = set()
    for line, entry in zip(lines, parsed, strict=True):
        if entry is None or len(groups[entry[:2]]) == 1:
            out.append(line)
            continue
        word, template, _members = entry
        if (word, template) in done:
            continue
        done.add((word, template))
        members = groups[(word, template)]
        columns = zip(*(numbers for _, numbers in members), strict=True)
        merged = iter(_span(column) for column in columns)
        rest = template.split(_SLOT)
        text = rest[0] + "".join(next(merged) + part for part in rest[1:])
        out.append(f"{_PLURAL[word]} {ranges(a for a, _line in members)}, each: {text}")
    return out


def _span(values: Sequence[str]) -> str:
    """One number when all agree, else ``low-high``."""
    numbers = sorted({float(v) for v in values})
    if len(numbers) == 1:
        return values[0]
    low, high = (next(v for v in values if float(v) == n) for n in (numbers[0], numbers[-1]))
    return f"{low}-{high}"


def tidy_evidence(lines: Sequence[str], shared: Iterable[str] = ()) -> list[str]:
    """Evidence for the default text: one line each, statistics left out, runs of addresses
    as ranges, per-address lines with the same words collapsed, no repeats; lines that other
    findings of the run show too (the listen's totals) after the ones that are this
    finding's own."""
    common = set(shared)
    own: list[str] = []
    general: list[str] = []
    seen: set[str] = set()
    for raw in lines:
        line = _compress_lists(_without_statistics(" ".join(raw.split())))
        if not line or line in seen:
            continue
        seen.add(line)
        (general if raw in common else own).append(line)
    return _collapse_addresses(own) + _collapse_addresses(general)


def shared_evidence(diagnosis: Diagnosis) -> dict[str, frozenset[str]]:
    """Per finding id, the evidence lines that some other finding of the run shows too."""
    items = diagnosis.all_findings()
    out = {}
    for item in items:
        others = {line for other in items if other is not item for line in other.evidence}
        out[item.id] = frozenset(line for line in item.evidence if line in others)
    return out


def bus_was_checked(diagnosis: Diagnosis) -> bool:
    """Whether a probe answered any bus observation in this run (then "connect an adapter to
    confirm it" is no advice: the bus was heard, or could not be)."""
    return any(
        o.source is AnswerSource.PROBE and o.key.startswith("bus.") for o in diagnosis.observations
    )
