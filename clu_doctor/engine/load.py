"""Structural pass: rule files (YAML) → typed records, every shape problem collected.

This pass checks what can be checked inside one mapping: allowed and required keys, types,
name patterns, enum values, and per-finding rules (remedy steps present, ``verify`` unless the
severity is ``unknown``, ``look_at`` when it is). Anything that needs to look across mappings
or files (references, reachability, coverage) is :mod:`.validate`'s job.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from clu_doctor.engine.model import (
    END,
    FINDING_PREFIX,
    SEE_PREFIX,
    Case,
    Finding,
    Layer,
    LayerSpec,
    Node,
    NumberRange,
    Target,
    TargetKind,
    Tree,
    Wait,
)
from clu_doctor.engine.observations import (
    DONT_KNOW_WORDS,
    FactSpec,
    GroupSpec,
    ObservationSpec,
    ProbeSpec,
    SpecSource,
    ValueKind,
    ValueSpec,
    Vocabulary,
    normalise_word,
    stray_braces,
)
from clu_doctor.errors import FileProblemError, Problem
from clu_doctor.severity import Severity
from clu_doctor.suggest import did_you_mean
from clu_doctor.yamlio import Reader, Where, YamlList, YamlMap, describe_type, load_yaml_file

FINDING_ID = re.compile(r"[A-Z]+(-[A-Z]+)*-\d{2}")
NODE_NAME = re.compile(r"[a-z][a-z0-9_]*")
TREE_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
OBSERVATION_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
VALUE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
FACT_NAME = re.compile(r"[a-z][a-z0-9_]*")

_KEY_SHAPE = "dotted lower-case words, e.g. clu.power_led"
_VALUE_SHAPE = "lower-case letters, digits and '-', e.g. flashing"
_FINDING_SHAPE = "upper-case words and a two-digit number, e.g. CLU-PWR-01"
_NODE_SHAPE = "lower-case letters, digits and '_', e.g. red_led"
_TARGET_SHAPE = f"a node name, '{FINDING_PREFIX}ID', '{SEE_PREFIX}ID' or '{END}'"
_FACT_SHAPE = "lower-case letters, digits and '_', e.g. station"
_BRACES = "'{name}' for a fact declared under 'facts:' in observations.yaml, and no other braces"


class _RulesReader(Reader):
    """The located reader, plus the identifier shapes only rule files have."""

    def name(self, value: Any, line: int, what: str, pattern: re.Pattern[str], shape: str) -> bool:
        """Check an identifier against its pattern; ``shape`` describes it for the user."""
        if isinstance(value, str) and pattern.fullmatch(value):
            return True
        shown = repr(value) if isinstance(value, str) else describe_type(value)
        self.report(line, f"{what} {shown} is not a valid name", expected=shape)
        return False

    def named(
        self, node: YamlMap, key: str, pattern: re.Pattern[str], shape: str, *, of: str = ""
    ) -> None:
        """Check the identifier under ``key``, if there is one (named ``'key' of OF``)."""
        if key in node:
            what = f"{key!r} of {of}" if of else key
            self.name(node[key], node.value_line_of(key), what, pattern, shape)

    def braces(self, text: str | None, line: int, what: str) -> None:
        """A text may name facts as ``{name}``; any other brace is a slip."""
        if text is not None and stray_braces(text):
            self.report(line, f"{what} has a brace that does not name a fact", expected=_BRACES)


def _choices(enum: type[Severity] | type[Layer] | type[ValueKind] | type[SpecSource]) -> str:
    return "one of: " + ", ".join(member.value for member in enum)


def _read_file(path: Path, reader: _RulesReader) -> YamlMap | None:
    """Parse ``path``; YAML errors become problems, the top level must be a mapping."""
    try:
        data = load_yaml_file(path)
    except FileProblemError as error:
        reader.problems.extend(error.problems)
        return None
    return reader.mapping(data, getattr(data, "line", 0), "the file")


# ---------------------------------------------------------------------------- vocabulary


def read_vocabulary(path: Path) -> tuple[Vocabulary | None, list[Problem]]:
    """Read ``observations.yaml``; the vocabulary is ``None`` when the file has problems."""
    reader = _RulesReader(str(path))
    top = _read_file(path, reader)
    if top is None:
        return None, reader.problems
    reader.keys(
        top,
        "the vocabulary file",
        required=["observations"],
        optional=["probes", "groups", "facts"],
    )
    specs: dict[str, ObservationSpec] = {}
    entries = reader.mapping(top.get("observations"), top.line_of("observations"), "observations")
    for key, body in (entries or {}).items():
        line = entries.line_of(key) if entries is not None else 0
        if not reader.name(key, line, "observation", OBSERVATION_KEY, _KEY_SHAPE):
            continue
        spec = _read_spec(reader, key, body, line)
        if spec is not None:
            specs[key] = spec
    probes: dict[str, ProbeSpec] = {}
    if "probes" in top:
        declared = reader.mapping(top["probes"], top.line_of("probes"), "probes")
        for name, body in (declared or {}).items():
            line = declared.line_of(name) if declared is not None else 0
            entry = reader.mapping(body, line, f"probe {name!r}")
            if not reader.name(name, line, "probe", OBSERVATION_KEY, _KEY_SHAPE) or not entry:
                continue
            reader.keys(entry, f"probe {name!r}", required=["help"], line=line)
            probes[name] = ProbeSpec(name, reader.text(entry, "help", of=f"probe {name!r}") or "")
    groups = _read_groups(reader, top)
    facts = _read_facts(reader, top)
    for spec in specs.values():
        if spec.group is not None and spec.group not in groups:
            reader.report(
                spec.location.line,
                f"observation {spec.key!r} names group {spec.group!r}, which is not declared"
                f"{did_you_mean(spec.group, groups)}",
                expected="a group listed under 'groups:'",
            )
        if spec.probe is not None and spec.probe not in probes:
            reader.report(
                spec.location.line,
                f"observation {spec.key!r} names probe {spec.probe!r}, which is not declared"
                f"{did_you_mean(spec.probe, probes)}",
                expected="a probe listed under 'probes:'",
            )
    if reader.problems:
        return None, reader.problems
    return Vocabulary(specs, probes, groups, facts), []


def _read_groups(reader: _RulesReader, top: YamlMap) -> dict[str, GroupSpec]:
    groups: dict[str, GroupSpec] = {}
    if "groups" not in top:
        return groups
    declared = reader.mapping(top["groups"], top.line_of("groups"), "groups")
    for name, body in (declared or {}).items():
        line = declared.line_of(name) if declared is not None else 0
        what = f"group {name!r}"
        entry = reader.mapping(body, line, what)
        if not reader.name(name, line, "group", NODE_NAME, _NODE_SHAPE) or not entry:
            continue
        reader.keys(entry, what, required=["title", "question", "help"], line=line)
        groups[name] = GroupSpec(
            name,
            reader.text(entry, "title", of=what) or "",
            reader.text(entry, "question", of=what) or "",
            reader.text(entry, "help", of=what) or "",
        )
    return groups


def _read_facts(reader: _RulesReader, top: YamlMap) -> dict[str, FactSpec]:
    """The ``facts:`` texts may name: each with a help and the words used when none is known."""
    facts: dict[str, FactSpec] = {}
    if "facts" not in top:
        return facts
    declared = reader.mapping(top["facts"], top.line_of("facts"), "facts")
    for name, body in (declared or {}).items():
        line = declared.line_of(name) if declared is not None else 0
        what = f"fact {name!r}"
        entry = reader.mapping(body, line, what)
        if not reader.name(name, line, "fact", FACT_NAME, _FACT_SHAPE) or entry is None:
            continue
        reader.keys(entry, what, required=["help", "default"], line=line)
        default = reader.text(entry, "default", of=what)
        reader.braces(default, entry.value_line_of("default"), f"'default' of {what}")
        facts[name] = FactSpec(
            name,
            reader.text(entry, "help", of=what) or "",
            default or "",
            reader.where(entry, line).at(),
        )
    return facts


def _read_spec(reader: _RulesReader, key: str, body: Any, line: int) -> ObservationSpec | None:
    what = f"observation {key!r}"
    node = reader.mapping(body, line, what)
    if node is None:
        return None
    common = ["question", "help"]
    kind_text = node.get("type")
    try:
        kind = ValueKind(kind_text)
    except ValueError:
        reader.report(
            node.value_line_of("type") if "type" in node else line,
            f"{what} has no valid 'type' ({kind_text!r})",
            expected=_choices(ValueKind),
        )
        reader.keys(
            node,
            what,
            optional=[
                *("type", "source", "probe", "group", *common),
                *("values", "aliases", "unit", "min"),
            ],
        )
        return None
    if kind is ValueKind.CHOICE:
        reader.keys(
            node,
            what,
            ["type", *common, "values"],
            ["source", "probe", "group", "aliases"],
            line=line,
        )
    else:
        reader.keys(
            node, what, ["type", *common], ["source", "probe", "group", "unit", "min"], line=line
        )
    sources = [member.value for member in SpecSource]
    written = reader.choice(node, "source", sources, of=what, expected=_choices(SpecSource))
    source = SpecSource(written or SpecSource.ASK)
    question = reader.text(node, "question", of=what)
    reader.braces(question, node.value_line_of("question"), f"the question of {what}")
    help_text = reader.text(node, "help", of=what)
    values = _read_values(reader, node, what) if kind is ValueKind.CHOICE else ()
    aliases = _read_aliases(reader, node, what, values)
    unit = reader.text(node, "unit", of=what)
    minimum = reader.number(node, "min", of=what)
    probe = reader.text(node, "probe", of=what)
    group = reader.text(node, "group", of=what)
    if source is SpecSource.PROBE and group is not None:
        reader.report(
            node.line_of("group"),
            f"{what} comes from a probe, which no person is asked for",
            expected="'group' only on observations with source: ask",
        )
    if source is SpecSource.PROBE and probe is None:
        reader.report(line, f"{what} comes from a probe but names none", expected="probe: NAME")
    elif source is SpecSource.ASK and probe is not None:
        reader.report(
            node.line_of("probe"),
            f"{what} names a probe but its source is 'ask'",
            expected="source: probe, or no 'probe' key",
        )
    return ObservationSpec(
        key=key,
        kind=kind,
        source=source,
        question=question or "",
        help=help_text or "",
        values=values,
        aliases=aliases,
        unit=unit,
        minimum=minimum,
        location=reader.where(node, line).at(),
        probe=probe,
        group=group,
    )


def _read_values(reader: _RulesReader, node: YamlMap, what: str) -> tuple[ValueSpec, ...]:
    if "values" not in node:
        return ()  # reported by keys()
    table = reader.mapping(node["values"], node.value_line_of("values"), f"'values' of {what}")
    if table is None:
        return ()
    if not table:
        reader.report(node.value_line_of("values"), f"{what} declares no values")
    values = []
    for name, help_text in table.items():
        line = table.line_of(name)
        if not reader.name(name, line, f"value of {what}", VALUE_NAME, _VALUE_SHAPE):
            continue
        if name in DONT_KNOW_WORDS:
            reader.report(
                line,
                f"{what} declares {name!r}: 'unknown' is always allowed and must not be declared",
            )
            continue
        if not isinstance(help_text, str) or not help_text.strip():
            reader.report(line, f"value {name!r} of {what} needs a help text")
            continue
        values.append(ValueSpec(name, help_text.strip()))
    return tuple(values)


def _read_aliases(
    reader: _RulesReader, node: YamlMap, what: str, values: tuple[ValueSpec, ...]
) -> dict[str, str]:
    if "aliases" not in node:
        return {}
    table = reader.mapping(node["aliases"], node.value_line_of("aliases"), f"'aliases' of {what}")
    if table is None:
        return {}
    names = [v.name for v in values]
    aliases: dict[str, str] = {}
    for alias, target in table.items():
        line = table.line_of(alias)
        word = normalise_word(str(alias))
        if target not in names:
            reader.report(
                line,
                f"alias {alias!r} of {what} points at {target!r}",
                expected="one of: " + ", ".join(names),
            )
        elif word in names or word in DONT_KNOW_WORDS:
            reader.report(line, f"alias {alias!r} of {what} hides the value {word!r}")
        else:
            aliases[word] = target
    return aliases


# ---------------------------------------------------------------------------- trees


def read_tree(path: Path) -> tuple[Tree | None, list[Problem]]:
    """Read one tree file; the tree is ``None`` when the file has shape problems."""
    reader = _RulesReader(str(path))
    top = _read_file(path, reader)
    if top is None:
        return None, reader.problems
    reader.keys(
        top,
        "the tree file",
        required=["tree", "title", "manual", "start", "nodes", "findings", "cases"],
        optional=["description"],
    )
    tree_id = top.get("tree")
    reader.named(top, "tree", TREE_ID, "lower-case words joined by '-', e.g. usb-leds")
    tree_name = str(tree_id)
    title = reader.text(top, "title", of="the tree")
    manual = reader.text(top, "manual", of="the tree")
    reader.text(top, "description", of="the tree")
    start = top.get("start")
    if "start" in top:
        reader.name(start, top.value_line_of("start"), "start node", NODE_NAME, _NODE_SHAPE)
    nodes = _read_nodes(reader, top)
    findings = _read_findings(reader, top, tree_name)
    cases = _read_cases(reader, top)
    if reader.problems:
        return None, reader.problems
    tree = Tree(
        id=tree_name,
        title=title or "",
        manual=manual or "",
        start=str(start),
        nodes=nodes,
        findings=findings,
        cases=cases,
        where=reader.where(top),
    )
    return tree, []


def _entries(reader: _RulesReader, top: YamlMap, key: str) -> list[tuple[Any, Any, int]]:
    """(name, body, line) for each entry of the mapping under ``key``."""
    if key not in top:
        return []
    table = reader.mapping(top[key], top.line_of(key), repr(key))
    if table is None:
        return []
    if not table:
        reader.report(top.line_of(key), f"{key!r} is empty")
    return [(name, body, table.line_of(name)) for name, body in table.items()]


def _read_nodes(reader: _RulesReader, top: YamlMap) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for name, body, line in _entries(reader, top, "nodes"):
        if not reader.name(name, line, "node", NODE_NAME, _NODE_SHAPE):
            continue
        if name == END:
            reader.report(line, f"{END!r} is reserved and cannot name a node")
            continue
        what = f"node {name!r}"
        node = reader.mapping(body, line, what)
        if node is None:
            continue
        reader.keys(
            node, what, ["ask"], ["branches", "ranges", "otherwise", "unknown", "note"], line=line
        )
        ask = node.get("ask")
        reader.named(node, "ask", OBSERVATION_KEY, _KEY_SHAPE, of=what)
        where = reader.where(node, line)
        if "branches" in node and "ranges" in node:
            reader.report(
                line,
                f"{what} has both 'branches' and 'ranges'",
                expected="'branches' for a choice, 'ranges' for a number",
            )
        elif "branches" not in node and "ranges" not in node and "otherwise" not in node:
            reader.report(line, f"{what} has no 'branches', 'ranges' or 'otherwise'")
        nodes[name] = Node(
            name=name,
            ask=str(ask),
            branches=_read_branches(reader, node, what),
            ranges=_read_ranges(reader, node, what),
            otherwise=_target_at(reader, node, "otherwise", what),
            unknown=_target_at(reader, node, "unknown", what),
            note=reader.text(node, "note", of=what),
            where=where,
        )
    return nodes


def _target(reader: _RulesReader, value: Any, line: int, what: str) -> Target | None:
    where = Where(reader.path, line)
    if isinstance(value, str):
        if value == END:
            return Target(TargetKind.END, where=where)
        for prefix, kind in ((FINDING_PREFIX, TargetKind.FINDING), (SEE_PREFIX, TargetKind.SEE)):
            if value.startswith(prefix):
                finding = value[len(prefix) :].strip()
                if reader.name(finding, line, f"finding in {what}", FINDING_ID, _FINDING_SHAPE):
                    return Target(kind, finding, where)
                return None
        if NODE_NAME.fullmatch(value):
            return Target(TargetKind.NODE, value, where)
    shown = repr(value) if isinstance(value, str) else describe_type(value)
    reader.report(line, f"{what} is {shown}, not a target", expected=_TARGET_SHAPE)
    return None


def _target_at(reader: _RulesReader, node: YamlMap, key: str, what: str) -> Target | None:
    if key not in node:
        return None
    return _target(reader, node[key], node.value_line_of(key), f"{key!r} of {what}")


def _read_branches(reader: _RulesReader, node: YamlMap, what: str) -> dict[str, Target]:
    if "branches" not in node:
        return {}
    table = reader.mapping(
        node["branches"], node.value_line_of("branches"), f"'branches' of {what}"
    )
    branches: dict[str, Target] = {}
    for value, goto in (table or {}).items():
        line = table.line_of(value) if table is not None else 0
        if value in DONT_KNOW_WORDS:
            reader.report(
                line,
                f"{what} lists {value!r} under 'branches'",
                expected="the node's own 'unknown:' key for \"don't know\"",
            )
            continue
        if not reader.name(value, line, f"branch of {what}", VALUE_NAME, _VALUE_SHAPE):
            continue
        target = _target(reader, goto, line, f"branch {value!r} of {what}")
        if target is not None:
            branches[value] = target
    return branches


def _read_ranges(reader: _RulesReader, node: YamlMap, what: str) -> tuple[NumberRange, ...]:
    if "ranges" not in node:
        return ()
    items = node["ranges"]
    if not isinstance(items, YamlList) or not items:
        reader.report(node.value_line_of("ranges"), f"'ranges' of {what} must be a non-empty list")
        return ()
    ranges = []
    for index, item in enumerate(items):
        line = items.line_of(index)
        label = f"range {index + 1} of {what}"
        entry = reader.mapping(item, line, label)
        if entry is None:
            continue
        reader.keys(entry, label, ["goto"], ["from", "below"], line=line)
        target = _target_at(reader, entry, "goto", label)
        if target is not None:
            ranges.append(
                NumberRange(
                    start=reader.number(entry, "from", of=label),
                    stop=reader.number(entry, "below", of=label),
                    target=target,
                    where=reader.where(entry, line),
                )
            )
    return tuple(ranges)


_FINDING_REQUIRED = ["severity", "layer", "title", "cause", "remedy", "manual"]
_FINDING_OPTIONAL = [
    *("verify", "escalate", "confirm_with", "explained_by", "look_at", "graded_by"),
    *("partial_title", "wait", "clears"),
]


def _read_findings(reader: _RulesReader, top: YamlMap, tree: str) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    for fid, body, line in _entries(reader, top, "findings"):
        if not reader.name(fid, line, "finding id", FINDING_ID, _FINDING_SHAPE):
            continue
        what = f"finding {fid}"
        node = reader.mapping(body, line, what)
        if node is None:
            continue
        reader.keys(node, what, _FINDING_REQUIRED, _FINDING_OPTIONAL, line=line)
        severity = _enum(reader, node, "severity", Severity, what)
        layer = _enum(reader, node, "layer", Layer, what)
        remedy = reader.texts(node, "remedy", of=what)
        if remedy == ():
            reader.report(
                node.value_line_of("remedy"),
                f"{what} has no remedy steps",
                expected="at least one step",
            )
        verify = reader.text(node, "verify", of=what)
        look_at = reader.texts(node, "look_at", of=what) or ()
        if severity is Severity.UNKNOWN and not look_at:
            reader.report(
                line,
                f"{what} has severity unknown but no 'look_at'",
                expected="the observations the technician should look at",
            )
        if severity not in (None, Severity.UNKNOWN) and "verify" not in node:
            reader.report(
                line,
                f"{what} has no 'verify'",
                expected="what to expect after the fix ('after the fix, expect ...')",
            )
        confirm = node.get("confirm_with")
        reader.named(node, "confirm_with", OBSERVATION_KEY, "a probe name, e.g. bus.scan", of=what)
        graded = node.get("graded_by")
        shape = "an observation key, e.g. grade.stations_silent"
        reader.named(node, "graded_by", OBSERVATION_KEY, shape, of=what)
        partial = reader.text(node, "partial_title", of=what)
        if partial is not None and severity not in (None, Severity.OK):
            reader.report(
                node.line_of("partial_title"),
                f"{what} has a 'partial_title' but its severity is {severity.value}",
                expected="a partial title only on a finding of severity ok",
            )
        wait = _read_wait(reader, node, what)
        if wait is not None and severity not in (None, Severity.UNKNOWN):
            reader.report(
                node.line_of("wait"),
                f"{what} waits but its severity is {severity.value}",
                expected="severity unknown: waiting is neither fine nor a fault",
            )
        explained = reader.texts(node, "explained_by", of=what) or ()
        for index, root in enumerate(explained):
            reader.name(
                root,
                reader.where(node).at("explained_by", index).line,
                f"'explained_by' of {what}",
                FINDING_ID,
                _FINDING_SHAPE,
            )
        clears = _read_clears(reader, node, what, layer)
        findings[fid] = Finding(
            id=fid,
            tree=tree,
            severity=severity or Severity.UNKNOWN,
            layer=layer or Layer.POWER,
            title=reader.text(node, "title", of=what) or "",
            cause=reader.text(node, "cause", of=what) or "",
            remedy=remedy or (),
            manual=reader.text(node, "manual", of=what) or "",
            verify=verify,
            escalate=reader.text(node, "escalate", of=what),
            confirm_with=str(confirm) if confirm is not None else None,
            explained_by=explained,
            look_at=look_at,
            graded_by=str(graded) if graded is not None else None,
            partial_title=partial,
            wait=wait,
            clears=clears,
            where=reader.where(node, line),
        )
        where = reader.where(node, line)
        for key, text in findings[fid].texts().items():
            name, _, item = key.partition(".")
            at = where.at(name, int(item) if item else None)
            reader.braces(text, at.line, f"the {name.replace('_', ' ')} of {what}")
    return findings


def _read_clears(
    reader: _RulesReader, node: YamlMap, what: str, layer: Layer | None
) -> tuple[Layer, ...]:
    """``clears: [usb-interface]``: the layers a finding shows to work (other than its own)."""
    names = reader.texts(node, "clears", of=what) or ()
    layers: list[Layer] = []
    for index, name in enumerate(names):
        at = reader.where(node).at("clears", index).line
        try:
            cleared = Layer(name)
        except ValueError:
            known = ", ".join(item.value for item in Layer)
            reader.report(at, f"'clears' of {what} names no layer: {name!r}", expected=known)
            continue
        if cleared is layer:
            reader.report(
                at,
                f"'clears' of {what} names its own layer {name!r}",
                expected="another layer, which reaching this finding shows to work",
            )
            continue
        layers.append(cleared)
    return tuple(layers)


def _read_wait(reader: _RulesReader, node: YamlMap, what: str) -> Wait | None:
    """``wait: {observation: KEY, until: NUMBER}``."""
    if "wait" not in node:
        return None
    label = f"'wait' of {what}"
    entry = reader.section(
        node["wait"], node.value_line_of("wait"), label, required=["observation", "until"]
    )
    if entry is None:
        return None
    reader.named(entry, "observation", OBSERVATION_KEY, _KEY_SHAPE, of=label)
    until = reader.number(entry, "until", of=label)
    key = entry.get("observation")
    if until is None or not isinstance(key, str):
        return None
    return Wait(key, until, reader.where(entry, node.value_line_of("wait")))


def _enum(
    reader: _RulesReader, node: YamlMap, key: str, enum: type[Severity] | type[Layer], what: str
) -> Any:
    allowed = [member.value for member in enum]
    value = reader.choice(node, key, allowed, of=what, expected=_choices(enum))
    return None if value is None else enum(value)


def _read_cases(reader: _RulesReader, top: YamlMap) -> tuple[Case, ...]:
    if "cases" not in top:
        return ()
    items = top["cases"]
    if not isinstance(items, YamlList) or not items:
        reader.report(
            top.value_line_of("cases"),
            "'cases' must be a non-empty list",
            expected="at least one test case per tree",
        )
        return ()
    cases = []
    for index, item in enumerate(items):
        line = items.line_of(index)
        entry = reader.mapping(item, line, f"case {index + 1}")
        if entry is None:
            continue
        name = reader.text(entry, "name", of=f"case {index + 1}") or f"case {index + 1}"
        what = f"case {name!r}"
        reader.keys(entry, what, ["name", "observe", "expect"], line=line)
        observe = reader.mapping(
            entry.get("observe", YamlMap()), entry.value_line_of("observe"), f"'observe' of {what}"
        )
        expect = reader.mapping(
            entry.get("expect", YamlMap()), entry.value_line_of("expect"), f"'expect' of {what}"
        )
        if observe is None or expect is None:
            continue
        reader.keys(
            expect, f"'expect' of {what}", ["findings", "status"], line=entry.line_of("expect")
        )
        ids = expect.get("findings")
        if "findings" in expect and not isinstance(ids, YamlList):
            reader.report(
                expect.value_line_of("findings"),
                f"'findings' of {what} must be a list of finding ids",
            )
            ids = YamlList()
        status = _enum(reader, expect, "status", Severity, what)
        lines = {f"observe:{key}": observe.line_of(key) for key in observe}
        if isinstance(ids, YamlList):
            lines.update({f"expect:{fid}": ids.line_of(i) for i, fid in enumerate(ids)})
        where = reader.where(entry, line).with_lines(lines)
        cases.append(
            Case(
                name=name,
                observe=dict(observe),
                findings=tuple(str(i) for i in (ids or ())),
                status=status or Severity.UNKNOWN,
                where=where,
            )
        )
    return tuple(cases)


# ---------------------------------------------------------------------------- layers


def read_layers(path: Path) -> tuple[dict[Layer, LayerSpec] | None, list[Problem]]:
    """Read ``layers.yaml``: every layer once, with a title and the layers it depends on.

    The layers themselves are fixed (:class:`~clu_doctor.engine.model.Layer`: findings name
    them and results are ranked in their order); the file says what each is called and what
    each needs. Cycles are the semantic pass's business (:mod:`.validate`).
    """
    reader = _RulesReader(str(path))
    top = _read_file(path, reader)
    if top is None:
        return None, reader.problems
    reader.keys(top, "the layers file", required=["layers"])
    table = reader.mapping(top.get("layers"), top.line_of("layers"), "layers")
    names = [layer.value for layer in Layer]
    layers: dict[Layer, LayerSpec] = {}
    for name, body in (table or {}).items():
        line = table.line_of(name) if table is not None else 0
        if name not in names:
            reader.report(
                line,
                f"layer {name!r} is not one of the layers{did_you_mean(str(name), names)}",
                expected=_choices(Layer),
            )
            continue
        what = f"layer {name!r}"
        entry = reader.section(body, line, what, ["title", "depends_on"], ["description"])
        if entry is None:
            continue
        reader.text(entry, "description", of=what)
        depends: list[Layer] = []
        wanted = entry.get("depends_on")
        if not isinstance(wanted, YamlList):
            if "depends_on" in entry:
                reader.report(
                    entry.value_line_of("depends_on"),
                    f"'depends_on' of {what} must be a list of layers",
                    expected="e.g. [power], or [] for none",
                )
            wanted = YamlList()
        for index, other in enumerate(wanted):
            if other in names:
                depends.append(Layer(other))
            else:
                shown = repr(other) if isinstance(other, str) else describe_type(other)
                reader.report(
                    wanted.line_of(index),
                    f"{what} depends on {shown}, which is not a layer"
                    + (did_you_mean(other, names) if isinstance(other, str) else ""),
                    expected=_choices(Layer),
                )
        layers[Layer(name)] = LayerSpec(
            Layer(name),
            reader.text(entry, "title", of=what) or "",
            tuple(depends),
            reader.where(entry, line),
        )
    if table is not None:
        missing = [layer.value for layer in Layer if layer not in layers]
        if missing:
            reader.report(
                top.line_of("layers"),
                "layers " + ", ".join(missing) + " are not declared",
                expected="every layer once: " + ", ".join(names),
            )
    if reader.problems:
        return None, reader.problems
    return layers, []
