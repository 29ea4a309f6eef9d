"""Reading scenario files: YAML -> the typed, validated :class:`~.scenario.Scenario`.

Files are read with :mod:`clu_doctor.yamlio` (safe, duplicate keys rejected, line numbers kept)
and its shared :class:`~clu_doctor.yamlio.Reader`. Every problem is collected and raised as one
:class:`~clu_doctor.errors.FileProblemError` with ``file:line`` locations; unknown keys are
errors (a typo must not silently fall back to a default, or a "fault" scenario would quietly
simulate a healthy site).

YAML layout (every key except ``description`` and ``stations`` is optional)::

    description: one line, shown by `clu-doctor sim --list`
    bus:     {framing: ascii|rtu, line: "38400 8E1", cable_m: 60, termination: both|clu|end|none,
              breaks_after: [k], crossed_after: [k], extra_byte_error: 0.0}
    adapter: {at: clu|end, line: "9600 8N1", ab_swapped: false, latency_ms: 1}
    clu:     {present, usb: ok|dead, ab_swapped, uptime_s, boot_s, addresses: "1-16",
              period_s, timeout_s, retries, gap_ms, function, registers: [[0x2E, 5]],
              identity: [0x50, 8] | null, icmax_a: 16 | null, icmax_period_s}
    defaults: {model, type, state, currents, icmax_a, turnaround_ms, jitter_ms, ...}
    stations:
      - {label: XAXXY01, address: 1, serial: DF100001, state: C2, currents: [16, 16, 16]}
      - label: DUO-2
        model: eRange DUO
        outlets: [{address: 3, serial: ...}, {address: 4, serial: ...}]
      - {label: M1, kind: meter, address: 1, registers: {0: [2301, 2298]}}
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, TypeVar, cast

from clu_doctor.bus.chain import ADAPTER_POSITIONS, AdapterAt
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError, Location, Problem
from clu_doctor.resources import scenarios_dir
from clu_doctor.sim.devices import EVCC1_STATES
from clu_doctor.sim.scenario import (
    ABL_LINE,
    EVCC1_LINE,
    FRAMINGS,
    KINDS,
    METER_LINE,
    MIN_TURNAROUND_S,
    STATE_CODES,
    TERMINATIONS,
    AdapterSpec,
    BusSpec,
    CluSpec,
    Controller,
    Framing,
    Kind,
    Scenario,
    Station,
    Termination,
    scenario_path,
)
from clu_doctor.yamlio import Reader, YamlList, YamlMap, load_yaml_text, read_text

T = TypeVar("T")

#: What a user can do about a scenario file that does not load: copy a bundled one.
LAYOUT_HINT = (
    "start from a copy of a bundled scenario: 'clu-doctor sim --list' names them, the files are "
    f"in {scenarios_dir()}; 'clu-doctor docs simulator' describes the simulated site"
)


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every bundled scenario, sorted by name."""
    result = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        result.append((path.stem, load_scenario(path).description))
    return result


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a bundled scenario by name (``healthy-16``) or any scenario file by path."""
    path = scenario_path(name_or_path)
    return parse_scenario(read_text(path), str(path), name=path.stem)


def parse_scenario(text: str, source: str, name: str | None = None) -> Scenario:
    """Parse scenario YAML ``text``; ``source`` names it in ``file:line`` messages."""
    data = load_yaml_text(text, source)
    reader = ScenarioReader(source)
    scenario = reader.scenario(data, name or Path(source).stem)
    if reader.problems or scenario is None:
        problems = reader.problems or [Problem(Location(source), "not a scenario")]
        raise FileProblemError(problems, hint=LAYOUT_HINT)
    return scenario


_BUS_KEYS = (
    *("framing", "line", "cable_m", "termination", "breaks_after", "crossed_after"),
    "extra_byte_error",
)
_ADAPTER_KEYS = ("at", "line", "ab_swapped", "latency_ms")
_CLU_KEYS = (
    *("present", "usb", "ab_swapped", "uptime_s", "boot_s", "addresses", "period_s"),
    *("timeout_s", "retries", "gap_ms", "function", "registers", "identity", "icmax_a"),
    "icmax_period_s",
)
#: Keys that belong to one controller (outlet); in a single-outlet station they sit on the
#: station itself, in a DUO inside ``outlets``, and any of them may be given in ``defaults``.
_OUTLET_KEYS = (
    *("address", "label", "type", "serial", "firmware", "state", "currents", "icmax_a"),
    *("turnaround_ms", "pilot_v"),
    *("jitter_ms", "reply_address", "registers"),
)
_STATION_ONLY_KEYS = ("label", "model", "kind", "powered", "ab_swapped", "line", "outlets")
_STATION_KEYS = tuple(dict.fromkeys(_STATION_ONLY_KEYS + _OUTLET_KEYS))
_DEFAULT_KEYS = tuple(k for k in _OUTLET_KEYS if k not in ("address", "label", "reply_address"))
_DEFAULT_KEYS += ("model", "kind", "powered", "line")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


def _or(value: T | None, default: T) -> T:
    """A scenario falls back to the default where a value is absent or unusable (and reported)."""
    return default if value is None else value


class ScenarioReader(Reader):
    """Turns parsed YAML into the scenario's dataclasses, recording every problem with its line."""

    def out_of_range(self, line: int, what: str, value: float, expected: str, span: str) -> None:
        # Scenario files have always said "cable_m is -1, out of range (expected 0..5000)".
        self.report(line, f"{what} is {value}, out of range", span)

    # -- helpers this file type needs -----------------------------------------------------

    def line_text(self, node: YamlMap, key: str, max_length: int = 200) -> str | None:
        """One line of text; a number counts as text (``serial: 12345``), and may be empty."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.wrong_kind(node.value_line_of(key), key, value, "text")
            return None
        if len(value) > max_length or "\n" in value:
            self.report(
                node.value_line_of(key),
                f"{key} is too long or spans lines",
                expected=f"one line of at most {max_length} characters",
            )
            return None
        return value

    def line_settings(self, node: YamlMap, key: str) -> LineSettings | None:
        return self.parsed(node, key, LineSettings.parse, "text such as '38400 8E1'")

    def positions(self, node: YamlMap, key: str, last: int) -> tuple[int, ...]:
        if key not in node:
            return ()
        value = node[key]
        if not isinstance(value, YamlList):
            self.report(
                node.value_line_of(key), f"{key} must be a list of station numbers, e.g. [6]"
            )
            return ()
        found = [
            self.whole(item, value.line_of(index), f"{key} item", low=0, high=last)
            for index, item in enumerate(value)
        ]
        return tuple(sorted({position for position in found if position is not None}))

    def block(self, value: Any, line: int, what: str) -> tuple[int, int] | None:
        """``[start, count]`` of a register block."""
        if not isinstance(value, YamlList) or len(value) != 2:
            self.report(line, f"{what} must be [start, count], e.g. [0x2E, 5]")
            return None
        start = self.whole(value[0], line, f"{what} start", low=0, high=0xFFFF)
        count = self.whole(value[1], line, f"{what} count", low=1, high=125)
        if start is None or count is None:
            return None
        return start, count

    # -- sections ---------------------------------------------------------------------------

    def scenario(self, data: Any, name: str) -> Scenario | None:
        root = self.mapping(data, 1, "a scenario file")
        if root is None:
            return None
        optional = ("bus", "adapter", "clu", "defaults")
        self.keys(root, "the scenario", ("description", "stations"), optional)
        description = self.line_text(root, "description") or ""
        stations_value = root.get("stations")
        if "stations" in root and (not isinstance(stations_value, YamlList) or not stations_value):
            self.report(
                root.value_line_of("stations"),
                "stations must be a non-empty list",
                expected="the chain in BUS IN -> BUS OUT order",
            )
        if not isinstance(stations_value, YamlList):
            stations_value = YamlList()
        bus = self.bus(root, len(stations_value))
        adapter = self.adapter(root)
        defaults = YamlMap()
        if "defaults" in root:
            given = root["defaults"]
            defaults = (
                self.section(given, root.value_line_of("defaults"), "defaults", (), _DEFAULT_KEYS)
                or defaults
            )
        stations = []
        # On a first-generation bus the stations are first-generation unless they say.
        default_kind = str(defaults.get("kind", "evcc1" if bus.framing == "evcc1" else "evcc"))
        for index, item in enumerate(stations_value):
            station = self.station(item, stations_value.line_of(index), defaults, default_kind)
            if station is not None:
                stations.append(station)
        meters_only = bool(stations) and all(st.kind == "meter" for st in stations)
        scenario = Scenario(
            name=name,
            description=description,
            bus=bus,
            adapter=adapter,
            clu=self.clu(root, meters_only),
            stations=tuple(stations),
            source=self.path,
        )
        self.check_whole(scenario, root)
        return scenario

    def bus(self, root: YamlMap, n_stations: int) -> BusSpec:
        if "bus" not in root:
            return BusSpec()
        node = self.section(root["bus"], root.value_line_of("bus"), "bus", (), _BUS_KEYS)
        if node is None:
            return BusSpec()
        framing = cast(Framing, _or(self.choice(node, "framing", FRAMINGS), "ascii"))
        termination = _or(self.choice(node, "termination", TERMINATIONS), "both")
        return BusSpec(
            framing=framing,
            settings=_or(
                self.line_settings(node, "line"),
                {"ascii": ABL_LINE, "evcc1": EVCC1_LINE}.get(framing, METER_LINE),
            ),
            cable_m=_or(self.number(node, "cable_m", low=0.0, high=5000.0), 50.0),
            termination=cast(Termination, termination),
            breaks_after=self.positions(node, "breaks_after", n_stations),
            crossed_after=self.positions(node, "crossed_after", n_stations),
            extra_byte_error=_or(self.number(node, "extra_byte_error", low=0.0, high=0.5), 0.0),
        )

    def adapter(self, root: YamlMap) -> AdapterSpec:
        if "adapter" not in root:
            return AdapterSpec()
        node = self.section(
            root["adapter"], root.value_line_of("adapter"), "adapter", (), _ADAPTER_KEYS
        )
        if node is None:
            return AdapterSpec()
        latency = self.number(node, "latency_ms", low=0, high=1000)
        return AdapterSpec(
            at=cast(AdapterAt, _or(self.choice(node, "at", ADAPTER_POSITIONS), "clu")),
            settings=self.line_settings(node, "line"),
            ab_swapped=_or(self.boolean(node, "ab_swapped"), False),
            latency_s=None if latency is None else latency / 1000,
        )

    def clu(self, root: YamlMap, meters_only: bool) -> CluSpec:
        """The CLU; on a bus of meters only it reads no EVCC identity and writes no Icmax."""
        base = (
            CluSpec(identity=None, icmax_a=None, registers=((0, 2),)) if meters_only else CluSpec()
        )
        if "clu" not in root:
            return base
        node = self.section(root["clu"], root.value_line_of("clu"), "clu", (), _CLU_KEYS)
        if node is None:
            return base
        registers = base.registers
        if "registers" in node:
            items = node["registers"]
            if not isinstance(items, YamlList) or not items:
                self.report(
                    node.value_line_of("registers"), "registers must be a list of [start, count]"
                )
            else:
                blocks = [
                    self.block(b, items.line_of(i), "register block") for i, b in enumerate(items)
                ]
                registers = tuple(b for b in blocks if b is not None)
        identity = base.identity
        if "identity" in node:
            identity = (
                None
                if node["identity"] is None
                else self.block(node["identity"], node.value_line_of("identity"), "identity")
            )
        icmax: float | None = base.icmax_a
        if "icmax_a" in node:
            icmax = (
                None
                if node["icmax_a"] is None
                else _or(self.number(node, "icmax_a", low=6.0, high=80.0), 16.0)
            )
        gap_ms = self.number(node, "gap_ms", low=0.5, high=10000.0)
        return CluSpec(
            present=_or(self.boolean(node, "present"), True),
            usb_ok=self.choice(node, "usb", ("ok", "dead")) != "dead",
            ab_swapped=_or(self.boolean(node, "ab_swapped"), False),
            uptime_s=_or(self.number(node, "uptime_s", low=0.0), base.uptime_s),
            boot_s=_or(self.number(node, "boot_s", low=0.0, high=3600.0), base.boot_s),
            addresses=self.address_list(node, "addresses"),
            period_s=_or(self.number(node, "period_s", low=0.01, high=3600.0), base.period_s),
            timeout_s=_or(self.number(node, "timeout_s", low=0.001, high=10.0), base.timeout_s),
            retries=_or(self.integer(node, "retries", low=0, high=10), base.retries),
            gap_s=base.gap_s if gap_ms is None else gap_ms / 1000,
            function=_or(self.integer(node, "function", low=3, high=4), base.function),
            registers=registers,
            identity=identity,
            icmax_a=icmax,
            icmax_period_s=_or(self.number(node, "icmax_period_s", low=0.1), base.icmax_period_s),
        )

    def address_list(self, node: YamlMap, key: str) -> tuple[int, ...] | None:
        """``"1-8,10"``, ``[1, 2, 3]`` or ``5``: the CLU's configured addresses."""
        if key not in node:
            return None
        value = node[key]
        line = node.value_line_of(key)
        items: list[Any]
        if isinstance(value, str):
            items = []
            for part in value.split(","):
                match = _RANGE.match(part)
                if not match:
                    self.report(
                        line,
                        f"{key}: {part.strip()!r} is not an address or range",
                        expected="e.g. '1-8,10'",
                    )
                    return None
                low, high = int(match.group(1)), int(match.group(2) or match.group(1))
                items.extend(range(low, high + 1))
        elif isinstance(value, YamlList):
            items = list(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [value]
        else:
            self.report(line, f"{key} must be a list or a range such as '1-16'")
            return None
        result = [self.whole(a, line, f"{key} item", low=1, high=247) for a in items]
        if any(a is None for a in result):
            return None
        return tuple(dict.fromkeys(a for a in result if a is not None))

    def station(
        self, value: Any, line: int, defaults: YamlMap, default_kind: str = "evcc"
    ) -> Station | None:
        node = self.mapping(value, line, "a station")
        if node is None:
            return None
        has_outlets = "outlets" in node
        if has_outlets:
            self.keys(node, "a station with outlets", optional=_STATION_ONLY_KEYS)
        else:
            self.keys(node, "a station", optional=_STATION_KEYS)
        kind = cast(Kind, _or(self.choice(node, "kind", KINDS), default_kind))
        label = _or(self.line_text(node, "label", max_length=40), f"station-{line}")
        model_default = str(
            defaults.get("model", "energy meter" if kind == "meter" else "eRange UNO")
        )
        model = _or(self.line_text(node, "model", max_length=60), model_default)
        line_settings = self.line_settings(node, "line") or self.line_settings(defaults, "line")
        powered = _or(self.boolean(node, "powered"), _or(self.boolean(defaults, "powered"), True))
        controllers: list[Controller] = []
        if has_outlets:
            outlets = node["outlets"]
            if not isinstance(outlets, YamlList) or not 1 <= len(outlets) <= 2:
                self.report(
                    node.value_line_of("outlets"),
                    "outlets must be a list of one or two outlets",
                    expected="a DUO has two",
                )
                return None
            for index, item in enumerate(outlets):
                at = outlets.line_of(index)
                outlet = self.section(item, at, "an outlet", (), _OUTLET_KEYS)
                if outlet is not None:
                    controller = self.controller(
                        [outlet, defaults], kind, f"{label}/{index + 1}", at
                    )
                    controllers += [controller] if controller is not None else []
        else:
            controller = self.controller([node, defaults], kind, label, line)
            controllers += [controller] if controller is not None else []
        if not controllers:
            return None
        return Station(
            label=label,
            model=model,
            kind=kind,
            controllers=tuple(controllers),
            powered=powered,
            ab_swapped=_or(self.boolean(node, "ab_swapped"), False),
            line_settings=line_settings,
            line=line,
        )

    def controller(
        self, layers: list[YamlMap], kind: Kind, label: str, line: int
    ) -> Controller | None:
        """One controller from its own mapping, falling back to ``defaults`` key by key."""

        def pick(key: str) -> YamlMap | None:
            for layer in layers:
                if key in layer:
                    return layer
            return None

        where = pick("address")
        if where is None:
            self.report(line, "missing key 'address'", expected="the bus address, 1..247")
            return None
        # 0x0001 carries an EVCC's ID in 6 bits; the first generation's is one digit
        high = {"evcc": 63, "evcc1": 9}.get(kind, 247)
        address = self.integer(where, "address", low=1, high=high)
        base = Controller(address=address or 1, label=label)
        own = layers[0]
        values: dict[str, Any] = {
            "label": _or(self.line_text(own, "label", 40), label),
            "line": line,
        }
        # Keep checking the other keys after a bad address: collect every problem.
        if (m := pick("type")) is not None:
            values["type"] = self.identity_text(m, "type", 6)
        if (m := pick("serial")) is not None:
            values["serial"] = self.identity_text(m, "serial", 8)
        if (m := pick("firmware")) is not None:
            values["firmware"] = self.identity_text(m, "firmware", 8) or base.firmware
        if (m := pick("state")) is not None:
            values["state"] = self.state(m, "state")
            if kind == "evcc1" and values["state"] not in EVCC1_STATES:
                names = ", ".join(f"{code:02X}" for code in EVCC1_STATES)
                self.report(
                    m.value_line_of("state"),
                    f"a first-generation controller has no state {values['state']:02X}",
                    expected=f"one of {names}",
                )
        if (m := pick("currents")) is not None:
            values["currents_a"] = self.currents(m, "currents")
        if (m := pick("icmax_a")) is not None:
            values["icmax_a"] = _or(self.number(m, "icmax_a", low=6.0, high=80.0), base.icmax_a)
        if (m := pick("pilot_v")) is not None:
            values["pilot_v"] = self.number(m, "pilot_v", low=0.0, high=13.0)
        if (m := pick("turnaround_ms")) is not None:
            low = MIN_TURNAROUND_S * 1000
            turnaround = self.number(m, "turnaround_ms", low=low, high=10000.0)
            values["turnaround_s"] = base.turnaround_s if turnaround is None else turnaround / 1000
        if (m := pick("jitter_ms")) is not None:
            jitter = self.number(m, "jitter_ms", low=0.0, high=10000.0)
            values["jitter_s"] = base.jitter_s if jitter is None else jitter / 1000
        if "reply_address" in own:
            reply = self.integer(own, "reply_address", low=0, high=247)
            values["reply_address"] = _or(reply, base.address)
        if (m := pick("registers")) is not None:
            if kind != "meter":
                self.report(m.line_of("registers"), "registers is only for meters (kind: meter)")
            else:
                values["registers"] = self.register_map(m, "registers")
        elif kind == "meter":
            self.report(line, "a meter needs 'registers'", expected="e.g. {0: [2301, 2298]}")
        return dataclasses.replace(base, **values) if address is not None else None

    def identity_text(self, node: YamlMap, key: str, length: int) -> str:
        value = self.line_text(node, key, max_length=length) or ""
        if not _PRINTABLE.match(value):
            self.report(node.value_line_of(key), f"{key} must be printable ASCII")
            return ""
        return value

    def state(self, node: YamlMap, key: str) -> int:
        value = node[key]
        if isinstance(value, str) and value.upper() in STATE_CODES:
            return STATE_CODES[value.upper()]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF:
            return value
        self.report(
            node.value_line_of(key),
            f"state {value!r} is not an ABL state",
            expected="one of " + ", ".join(n for n in STATE_CODES if n not in ("F10", "F11")),
        )
        return 0xA1

    def currents(self, node: YamlMap, key: str) -> tuple[float, float, float] | None:
        value = node[key]
        if value is None:
            return None
        if (
            not isinstance(value, YamlList)
            or len(value) != 3
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 80
                for v in value
            )
        ):
            self.report(
                node.value_line_of(key),
                f"{key} must be three currents in ampere (0..80), or null for no meter",
            )
            return (0.0, 0.0, 0.0)
        return (float(value[0]), float(value[1]), float(value[2]))

    def register_map(self, node: YamlMap, key: str) -> dict[int, int]:
        value = self.mapping(node[key], node.value_line_of(key), key)
        result: dict[int, int] = {}
        for start, words in (value or {}).items():
            line = value.line_of(start) if value is not None else 0
            first = self.whole(start, line, "register number", low=0, high=0xFFFF)
            if first is None:
                continue
            items = list(words) if isinstance(words, YamlList) else [words]
            for offset, word in enumerate(items):
                number = first + offset
                what = f"register {number} value"
                result[number] = _or(self.whole(word, line, what, low=0, high=0xFFFF), 0)
        return result

    # -- whole-scenario checks --------------------------------------------------------------

    def check_whole(self, scenario: Scenario, root: YamlMap) -> None:
        kinds = {s.kind for s in scenario.stations}
        if scenario.bus.framing == "evcc1" and "meter" in kinds:
            self.report(
                root.line_of("stations"),
                "meters speak Modbus RTU, but the bus framing is evcc1",
                expected="bus: {framing: rtu}",
            )
        if scenario.bus.framing == "rtu" and "evcc1" in kinds:
            self.report(
                root.line_of("stations"),
                "first-generation controllers speak their text protocol, not Modbus RTU",
                expected="bus: {framing: evcc1}, or framing ascii for a mixed site",
            )
        if scenario.bus.framing == "ascii" and "meter" in kinds:
            self.report(
                root.line_of("stations"),
                "meters speak Modbus RTU, but the bus framing is ascii",
                expected="bus: {framing: rtu}",
            )
