"""A simulated site as data: one scenario YAML file -> typed, validated, frozen dataclasses.

A scenario describes what a technician would find on site: the bus (framing, line settings,
cable, termination, breaks and crossed pairs), the chain of stations in BUS IN -> BUS OUT order
with their controllers (address, identity, state, currents, turnaround, faults), the CLU master
(present, booting, polling, USB interface dead) and where the technician's adapter is attached.
Scenarios are data so that a new fault is a new file, not new code, and so that the same site
can be diagnosed through a pty, a socket or in-process.

Files are read with :mod:`clu_doctor.yamlio` (safe, duplicate keys rejected, line numbers kept).
Every problem is collected and raised as one :class:`~clu_doctor.errors.FileProblemError` with
``file:line`` locations; unknown keys are errors (a typo must not silently fall back to a
default, or a "fault" scenario would quietly simulate a healthy site).

YAML layout (every key except ``description`` and ``stations`` is optional)::

    description: one line, shown by `clu-doctor sim --list`
    bus:     {framing: ascii|rtu, line: "38400 8E1", cable_m: 60, termination: both|clu|end|none,
              breaks_after: [k], crossed_after: [k], extra_byte_error: 0.0}
    adapter: {at: clu|end, line: "9600 8N1", ab_swapped: false}
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

Positions: the CLU sits at position 0, station *k* (1-based, chain order) at position *k*, and
the far end of the bus after the last station. ``breaks_after: [k]`` cuts the cable between
station k and k+1 (0 = right at the CLU's terminal block); ``crossed_after: [k]`` swaps A and B
on that cable, so everything beyond it sees the CLU side inverted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError, Location, Problem, UsageError
from clu_doctor.resources import scenarios_dir
from clu_doctor.yamlio import YamlList, YamlMap, describe_type, load_yaml_text, read_text

Framing = Literal["ascii", "rtu"]
Termination = Literal["both", "clu", "end", "none"]
AdapterEnd = Literal["clu", "end"]
Kind = Literal["evcc", "meter"]

FRAMINGS: tuple[Framing, ...] = ("ascii", "rtu")
TERMINATIONS: tuple[Termination, ...] = ("both", "clu", "end", "none")
ADAPTER_ENDS: tuple[AdapterEnd, ...] = ("clu", "end")
KINDS: tuple[Kind, ...] = ("evcc", "meter")

#: ABL's EVCC line settings (abl-protocol.md §1), the default of an ASCII bus.
ABL_LINE = LineSettings(38400, 8, "E", 1)
#: The usual meter-bus settings, the default of an RTU bus.
METER_LINE = LineSettings(9600, 8, "N", 1)

#: Shortest turnaround a controller may have. It bounds the simulator's time step (a reaction
#: can never come sooner than this after the frame that caused it), so it must stay positive.
MIN_TURNAROUND_S = 0.0002

#: ABL state bytes by name (abl-protocol.md §3). F10/F11 are the names ABL's table uses for the
#: bytes FA/FB; both spellings are accepted.
STATE_CODES: dict[str, int] = {
    **{name: int(name, 16) for name in ("A1", "B1", "B2", "C2", "C3", "C4", "E0", "E1", "E2")},
    "E3": 0xE3,
    **{f"F{n}": 0xF0 + n for n in range(1, 10)},
    "FA": 0xFA,
    "FB": 0xFB,
    "F10": 0xFA,
    "F11": 0xFB,
}


def state_name(code: int) -> str:
    """``0xC2`` -> ``"C2"``: the state byte as ABL writes it."""
    return f"{code:02X}"


@dataclass(frozen=True)
class Controller:
    """One bus device with one address: an ABL-style charge controller (EVCC) or a meter.

    A single-outlet station has one controller, a DUO station two (one per outlet, consecutive
    addresses on a correctly configured site).
    """

    address: int
    label: str
    #: EVCC identity as register 0x0050 reports it: 6-character type, 8-character serial.
    type: str = "2W22M1"
    serial: str = "00000000"
    #: ABL state byte (0xA1, 0xC2, 0xF4, ...).
    state: int = 0xA1
    #: Phase currents Ict1..3 in ampere while charging; ``None``: no current meter fitted.
    currents_a: tuple[float, float, float] | None = (0.0, 0.0, 0.0)
    #: Current limit the station starts with (the CLU may write another).
    icmax_a: float = 16.0
    #: Seconds from the end of a request to the start of the reply, and its +/- spread.
    turnaround_s: float = 0.003
    jitter_s: float = 0.001
    #: Fault: replies carry this address instead of the one asked (firmware or config fault).
    reply_address: int | None = None
    #: Meter only: holding/input register values by register number.
    registers: Mapping[int, int] = field(default_factory=dict)
    #: Source line, for messages about this controller.
    line: int = 0


@dataclass(frozen=True)
class Station:
    """One physical box in the daisy chain (BUS IN -> BUS OUT)."""

    label: str
    model: str
    kind: Kind
    controllers: tuple[Controller, ...]
    #: False: the station has no mains power; it is silent but its terminals pass the bus on.
    powered: bool = True
    #: Fault: A and B are crossed at this station's own controller connection (only it is
    #: inverted; the cable beyond is unaffected -- use ``bus.crossed_after`` for that).
    ab_swapped: bool = False
    #: Fault: the station's controllers run other line settings than the bus.
    line_settings: LineSettings | None = None
    line: int = 0


@dataclass(frozen=True)
class BusSpec:
    """The cable and its signalling."""

    framing: Framing = "ascii"
    settings: LineSettings = field(default_factory=lambda: ABL_LINE)
    cable_m: float = 50.0
    termination: Termination = "both"
    breaks_after: tuple[int, ...] = ()
    crossed_after: tuple[int, ...] = ()
    #: Ambient per-byte error probability added to the cable model (EMI from contactors...).
    extra_byte_error: float = 0.0


@dataclass(frozen=True)
class AdapterSpec:
    """Where the technician's USB-RS485 adapter is joined to the bus, and how it is set."""

    at: AdapterEnd = "clu"
    #: Fixed line settings of the adapter; ``None``: it takes what the client program sets
    #: (pty termios, pyserial attributes), or the bus's settings where the endpoint cannot
    #: tell (TCP).
    settings: LineSettings | None = None
    ab_swapped: bool = False


@dataclass(frozen=True)
class CluSpec:
    """The CLU as bus master. Its poll schedule is an assumption: DEFA does not publish it.

    Defaults follow the community masters of ABL controllers (abl-protocol.md §4): one status
    read (0x002E x5) per configured address per cycle of about one second, the identity
    (0x0050 x8) once on first contact, and an Icmax write (0x0014) on first contact and then
    every ``icmax_period_s``. Timeout and retries are guesses that keep a 16-address cycle
    inside its period even when many addresses are silent.
    """

    present: bool = True
    #: False: the CLU's USB-RS485 interface is dead or unplugged: nothing is ever sent.
    usb_ok: bool = True
    ab_swapped: bool = False
    #: Seconds since the CLU was powered when the simulation starts.
    uptime_s: float = 3600.0
    #: Seconds from power-up until it starts polling (manual §17: within 150 s).
    boot_s: float = 150.0
    #: Addresses it was configured to poll; ``None``: every controller in the scenario.
    addresses: tuple[int, ...] | None = None
    period_s: float = 1.0
    timeout_s: float = 0.1
    retries: int = 1
    gap_s: float = 0.005
    function: int = 3
    registers: tuple[tuple[int, int], ...] = ((0x002E, 5),)
    identity: tuple[int, int] | None = (0x0050, 8)
    icmax_a: float | None = 16.0
    icmax_period_s: float = 30.0


@dataclass(frozen=True)
class Scenario:
    """A whole simulated site."""

    name: str
    description: str
    bus: BusSpec
    adapter: AdapterSpec
    clu: CluSpec
    stations: tuple[Station, ...]
    source: str = "<memory>"

    def controllers(self) -> Iterator[tuple[int, Station, Controller]]:
        """Every controller with its chain position (1-based) and station."""
        for position, station in enumerate(self.stations, start=1):
            for controller in station.controllers:
                yield position, station, controller

    @property
    def addresses(self) -> tuple[int, ...]:
        """Every address some controller answers to (duplicates once), sorted."""
        return tuple(sorted({c.address for _, _, c in self.controllers()}))

    @property
    def polled_addresses(self) -> tuple[int, ...]:
        """The addresses the CLU polls, in poll order."""
        if self.clu.addresses is not None:
            return self.clu.addresses
        return self.addresses

    @property
    def far_end(self) -> int:
        """Chain position of the far end of the bus (after the last station)."""
        return len(self.stations) + 1

    def with_changes(
        self,
        *,
        adapter_at: AdapterEnd | None = None,
        clu_present: bool | None = None,
        cable_m: float | None = None,
        termination: Termination | None = None,
        clu_uptime_s: float | None = None,
    ) -> Scenario:
        """A copy with the knobs tests, demos and URL options turn most often."""
        bus, adapter, clu = self.bus, self.adapter, self.clu
        if cable_m is not None:
            bus = dataclasses.replace(bus, cable_m=cable_m)
        if termination is not None:
            bus = dataclasses.replace(bus, termination=termination)
        if adapter_at is not None:
            adapter = dataclasses.replace(adapter, at=adapter_at)
        if clu_present is not None:
            clu = dataclasses.replace(clu, present=clu_present)
        if clu_uptime_s is not None:
            clu = dataclasses.replace(clu, uptime_s=clu_uptime_s)
        return dataclasses.replace(self, bus=bus, adapter=adapter, clu=clu)


# --- finding scenarios ---------------------------------------------------------------------


class ScenarioNotFound(UsageError):
    """No bundled scenario has that name and no such file exists."""


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every bundled scenario, sorted by name."""
    result = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        result.append((path.stem, load_scenario(path).description))
    return result


def scenario_path(name: str | Path) -> Path:
    """The file behind a bundled scenario name, or ``name`` itself if it is a YAML path."""
    text = str(name)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(text)
    path = scenarios_dir() / f"{text}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in scenarios_dir().glob("*.yaml")))
        raise ScenarioNotFound(
            f"no simulator scenario named {text!r}",
            hint=f"bundled scenarios: {names}; or give the path of a scenario YAML file",
        )
    return path


#: What a user can do about a scenario file that does not load: copy a bundled one.
LAYOUT_HINT = (
    "start from a copy of a bundled scenario: 'clu-doctor sim --list' names them, the files are "
    f"in {scenarios_dir()}; docs/simulator.md describes the simulated site"
)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a bundled scenario by name (``healthy-16``) or any scenario file by path."""
    path = scenario_path(name_or_path)
    return parse_scenario(read_text(path), str(path), name=path.stem)


def parse_scenario(text: str, source: str, name: str | None = None) -> Scenario:
    """Parse scenario YAML ``text``; ``source`` names it in ``file:line`` messages."""
    data = load_yaml_text(text, source)
    reader = _Reader(source)
    scenario = reader.scenario(data, name or Path(source).stem)
    if reader.problems or scenario is None:
        problems = reader.problems or [Problem(Location(source), "not a scenario")]
        raise FileProblemError(problems, hint=LAYOUT_HINT)
    return scenario


# --- reading and validating ----------------------------------------------------------------

_MISSING = object()
_TOP_KEYS = ("description", "bus", "adapter", "clu", "defaults", "stations")
_BUS_KEYS = (
    "framing",
    "line",
    "cable_m",
    "termination",
    "breaks_after",
    "crossed_after",
    "extra_byte_error",
)
_ADAPTER_KEYS = ("at", "line", "ab_swapped")
_CLU_KEYS = (
    "present",
    "usb",
    "ab_swapped",
    "uptime_s",
    "boot_s",
    "addresses",
    "period_s",
    "timeout_s",
    "retries",
    "gap_ms",
    "function",
    "registers",
    "identity",
    "icmax_a",
    "icmax_period_s",
)
#: Keys that belong to one controller (outlet); in a single-outlet station they sit on the
#: station itself, in a DUO inside ``outlets``, and any of them may be given in ``defaults``.
_OUTLET_KEYS = (
    "address",
    "label",
    "type",
    "serial",
    "state",
    "currents",
    "icmax_a",
    "turnaround_ms",
    "jitter_ms",
    "reply_address",
    "registers",
)
_STATION_ONLY_KEYS = ("label", "model", "kind", "powered", "ab_swapped", "line", "outlets")
_DEFAULT_KEYS = tuple(k for k in _OUTLET_KEYS if k not in ("address", "label", "reply_address"))
_DEFAULT_KEYS += ("model", "kind", "powered", "line")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


class _Reader:
    """Turns parsed YAML into dataclasses, recording every problem with its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def report(self, line: int, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(Location(self.source, line), message, expected))

    # -- generic helpers ------------------------------------------------------------------

    def mapping(self, value: Any, line: int, what: str) -> YamlMap | None:
        if isinstance(value, YamlMap):
            return value
        self.report(line, f"{what} must be a mapping, found {describe_type(value)}")
        return None

    def only_keys(self, node: YamlMap, allowed: tuple[str, ...], what: str) -> None:
        for key in node:
            if key not in allowed:
                self.report(
                    node.line_of(key),
                    f"unknown key {key!r} in {what}",
                    expected="one of " + ", ".join(allowed),
                )

    def number(
        self,
        node: YamlMap,
        key: str,
        default: float,
        *,
        low: float | None = None,
        high: float | None = None,
        what: str = "",
    ) -> float:
        if key not in node:
            return default
        value = node[key]
        line = node.value_line_of(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.report(line, f"{what}{key} must be a number, found {describe_type(value)}")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
            self.report(line, f"{what}{key} is {value}, out of range", expected=bounds)
            return default
        return float(value)

    def integer(
        self, node: YamlMap, key: str, default: int, *, low: int, high: int, what: str = ""
    ) -> int:
        if key not in node:
            return default
        return self.int_value(
            node[key], node.value_line_of(key), f"{what}{key}", low=low, high=high, default=default
        )

    def int_value(
        self, value: Any, line: int, what: str, *, low: int, high: int, default: int
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(line, f"{what} must be a whole number, found {describe_type(value)}")
            return default
        if not low <= value <= high:
            self.report(line, f"{what} is {value}, out of range", expected=f"{low}..{high}")
            return default
        return value

    def boolean(self, node: YamlMap, key: str, default: bool, what: str = "") -> bool:
        if key not in node:
            return default
        value = node[key]
        if not isinstance(value, bool):
            self.report(
                node.value_line_of(key),
                f"{what}{key} must be true or false, found {describe_type(value)}",
            )
            return default
        return value

    def choice(self, node: YamlMap, key: str, choices: tuple[str, ...], default: str) -> str:
        if key not in node:
            return default
        value = node[key]
        if value not in choices:
            self.report(
                node.value_line_of(key),
                f"{key} is {value!r}",
                expected="one of " + ", ".join(choices),
            )
            return default
        return cast(str, value)

    def text(self, node: YamlMap, key: str, default: str, max_length: int = 200) -> str:
        if key not in node:
            return default
        value = node[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # serial: 12345 is meant as text
        if not isinstance(value, str):
            self.report(
                node.value_line_of(key), f"{key} must be text, found {describe_type(value)}"
            )
            return default
        if len(value) > max_length or "\n" in value:
            self.report(
                node.value_line_of(key),
                f"{key} is too long or spans lines",
                expected=f"one line of at most {max_length} characters",
            )
            return default
        return value

    def line_settings(self, node: YamlMap, key: str) -> LineSettings | None:
        if key not in node:
            return None
        value = node[key]
        if not isinstance(value, str):
            self.report(
                node.value_line_of(key),
                f"{key} must be text such as '38400 8E1', found {describe_type(value)}",
            )
            return None
        try:
            return LineSettings.parse(value)
        except ValueError as error:
            self.report(node.value_line_of(key), str(error))
            return None

    def positions(self, node: YamlMap, key: str, last: int) -> tuple[int, ...]:
        if key not in node:
            return ()
        value = node[key]
        line = node.value_line_of(key)
        if not isinstance(value, YamlList):
            self.report(line, f"{key} must be a list of station numbers, e.g. [6]")
            return ()
        result = []
        for index, item in enumerate(value):
            result.append(
                self.int_value(
                    item, value.line_of(index), f"{key} item", low=0, high=last, default=0
                )
            )
        return tuple(sorted(set(result)))

    def block(self, value: Any, line: int, what: str) -> tuple[int, int] | None:
        """``[start, count]`` of a register block."""
        if not isinstance(value, YamlList) or len(value) != 2:
            self.report(line, f"{what} must be [start, count], e.g. [0x2E, 5]")
            return None
        start = self.int_value(value[0], line, f"{what} start", low=0, high=0xFFFF, default=-1)
        count = self.int_value(value[1], line, f"{what} count", low=1, high=125, default=-1)
        if start < 0 or count < 0:
            return None
        return start, count

    # -- sections ---------------------------------------------------------------------------

    def scenario(self, data: Any, name: str) -> Scenario | None:
        root = self.mapping(data, 1, "a scenario file")
        if root is None:
            return None
        self.only_keys(root, _TOP_KEYS, "the scenario")
        description = ""
        if "description" not in root:
            self.report(root.line, "missing key 'description'", expected="one line of text")
        else:
            description = self.text(root, "description", "")
        stations_value = root.get("stations", _MISSING)
        if stations_value is _MISSING:
            self.report(root.line, "missing key 'stations'", expected="a list of stations")
            stations_value = YamlList()
        if not isinstance(stations_value, YamlList) or not stations_value:
            self.report(
                root.value_line_of("stations"),
                "stations must be a non-empty list",
                expected="the chain in BUS IN -> BUS OUT order",
            )
            stations_value = YamlList()
        n_stations = len(stations_value)
        bus = self.bus(root.get("bus", YamlMap()), root.value_line_of("bus"), n_stations)
        adapter = self.adapter(root.get("adapter", YamlMap()), root.value_line_of("adapter"))
        defaults = self.mapping(
            root.get("defaults", YamlMap()), root.value_line_of("defaults"), "defaults"
        )
        if defaults is not None:
            self.only_keys(defaults, _DEFAULT_KEYS, "defaults")
        stations = []
        for index, item in enumerate(stations_value):
            station = self.station(item, stations_value.line_of(index), defaults or YamlMap())
            if station is not None:
                stations.append(station)
        meters_only = bool(stations) and all(st.kind == "meter" for st in stations)
        clu = self.clu(root.get("clu", YamlMap()), root.value_line_of("clu"), meters_only)
        scenario = Scenario(
            name=name,
            description=description,
            bus=bus,
            adapter=adapter,
            clu=clu,
            stations=tuple(stations),
            source=self.source,
        )
        self.check_whole(scenario, root)
        return scenario

    def bus(self, value: Any, line: int, n_stations: int) -> BusSpec:
        node = self.mapping(value, line, "bus")
        if node is None:
            return BusSpec()
        self.only_keys(node, _BUS_KEYS, "bus")
        framing = cast(Framing, self.choice(node, "framing", FRAMINGS, "ascii"))
        default_line = ABL_LINE if framing == "ascii" else METER_LINE
        return BusSpec(
            framing=framing,
            settings=self.line_settings(node, "line") or default_line,
            cable_m=self.number(node, "cable_m", 50.0, low=0.0, high=5000.0),
            termination=cast(Termination, self.choice(node, "termination", TERMINATIONS, "both")),
            breaks_after=self.positions(node, "breaks_after", n_stations),
            crossed_after=self.positions(node, "crossed_after", n_stations),
            extra_byte_error=self.number(node, "extra_byte_error", 0.0, low=0.0, high=0.5),
        )

    def adapter(self, value: Any, line: int) -> AdapterSpec:
        node = self.mapping(value, line, "adapter")
        if node is None:
            return AdapterSpec()
        self.only_keys(node, _ADAPTER_KEYS, "adapter")
        return AdapterSpec(
            at=cast(AdapterEnd, self.choice(node, "at", ADAPTER_ENDS, "clu")),
            settings=self.line_settings(node, "line"),
            ab_swapped=self.boolean(node, "ab_swapped", False),
        )

    def clu(self, value: Any, line: int, meters_only: bool) -> CluSpec:
        """The CLU; on a bus of meters only it reads no EVCC identity and writes no Icmax."""
        base = (
            CluSpec(identity=None, icmax_a=None, registers=((0, 2),)) if meters_only else CluSpec()
        )
        node = self.mapping(value, line, "clu")
        if node is None:
            return base
        self.only_keys(node, _CLU_KEYS, "clu")
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
                else self.number(node, "icmax_a", 16.0, low=6.0, high=80.0)
            )
        return CluSpec(
            present=self.boolean(node, "present", True),
            usb_ok=self.choice(node, "usb", ("ok", "dead"), "ok") == "ok",
            ab_swapped=self.boolean(node, "ab_swapped", False),
            uptime_s=self.number(node, "uptime_s", base.uptime_s, low=0.0),
            boot_s=self.number(node, "boot_s", base.boot_s, low=0.0, high=3600.0),
            addresses=self.address_list(node, "addresses"),
            period_s=self.number(node, "period_s", base.period_s, low=0.01, high=3600.0),
            timeout_s=self.number(node, "timeout_s", base.timeout_s, low=0.001, high=10.0),
            retries=self.integer(node, "retries", base.retries, low=0, high=10),
            gap_s=self.number(node, "gap_ms", base.gap_s * 1000, low=0.5, high=10000.0) / 1000,
            function=self.integer(node, "function", base.function, low=3, high=4),
            registers=registers,
            identity=identity,
            icmax_a=icmax,
            icmax_period_s=self.number(node, "icmax_period_s", base.icmax_period_s, low=0.1),
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
        result = [
            self.int_value(a, line, f"{key} item", low=1, high=247, default=-1) for a in items
        ]
        if any(a < 0 for a in result):
            return None
        return tuple(dict.fromkeys(result))

    def station(self, value: Any, line: int, defaults: YamlMap) -> Station | None:
        node = self.mapping(value, line, "a station")
        if node is None:
            return None
        has_outlets = "outlets" in node
        allowed = (
            _STATION_ONLY_KEYS
            if has_outlets
            else tuple(dict.fromkeys(_STATION_ONLY_KEYS + _OUTLET_KEYS))
        )
        self.only_keys(node, allowed, "a station" if not has_outlets else "a station with outlets")
        kind = cast(Kind, self.choice(node, "kind", KINDS, str(defaults.get("kind", "evcc"))))
        label = self.text(node, "label", f"station-{line}", max_length=40)
        model_default = "energy meter" if kind == "meter" else "eRange UNO"
        model = self.text(node, "model", str(defaults.get("model", model_default)), max_length=60)
        line_settings = self.line_settings(node, "line") or self.line_settings(defaults, "line")
        powered = self.boolean(node, "powered", self.boolean(defaults, "powered", True))
        controllers: list[Controller] = []
        if has_outlets:
            outlets = node["outlets"]
            oline = node.value_line_of("outlets")
            if not isinstance(outlets, YamlList) or not 1 <= len(outlets) <= 2:
                self.report(
                    oline, "outlets must be a list of one or two outlets", expected="a DUO has two"
                )
                return None
            for index, item in enumerate(outlets):
                outlet = self.mapping(item, outlets.line_of(index), "an outlet")
                if outlet is None:
                    continue
                self.only_keys(outlet, _OUTLET_KEYS, "an outlet")
                controller = self.controller(
                    [outlet, defaults], kind, f"{label}/{index + 1}", outlets.line_of(index)
                )
                if controller is not None:
                    controllers.append(controller)
        else:
            controller = self.controller([node, defaults], kind, label, line)
            if controller is not None:
                controllers.append(controller)
        if not controllers:
            return None
        return Station(
            label=label,
            model=model,
            kind=kind,
            controllers=tuple(controllers),
            powered=powered,
            ab_swapped=self.boolean(node, "ab_swapped", False),
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
        high = 63 if kind == "evcc" else 247  # 0x0001 carries an EVCC's ID in 6 bits
        address = self.integer(where, "address", -1, low=1, high=high)
        valid = address > 0
        address = max(address, 1)  # keep checking the other keys: collect every problem
        base = Controller(address=address, label=label)
        own = layers[0]
        values: dict[str, Any] = {
            "address": address,
            "label": self.text(own, "label", label, 40),
            "line": line,
        }
        if (m := pick("type")) is not None:
            values["type"] = self.identity_text(m, "type", 6)
        if (m := pick("serial")) is not None:
            values["serial"] = self.identity_text(m, "serial", 8)
        if (m := pick("state")) is not None:
            values["state"] = self.state(m, "state")
        if (m := pick("currents")) is not None:
            values["currents_a"] = self.currents(m, "currents")
        if (m := pick("icmax_a")) is not None:
            values["icmax_a"] = self.number(m, "icmax_a", base.icmax_a, low=6.0, high=80.0)
        turnaround = base.turnaround_s * 1000
        if (m := pick("turnaround_ms")) is not None:
            turnaround = self.number(
                m, "turnaround_ms", turnaround, low=MIN_TURNAROUND_S * 1000, high=10000.0
            )
        values["turnaround_s"] = turnaround / 1000
        if (m := pick("jitter_ms")) is not None:
            values["jitter_s"] = (
                self.number(m, "jitter_ms", base.jitter_s * 1000, low=0.0, high=10000.0) / 1000
            )
        if "reply_address" in own:
            values["reply_address"] = self.integer(own, "reply_address", address, low=0, high=247)
        if (m := pick("registers")) is not None:
            if kind != "meter":
                self.report(m.line_of("registers"), "registers is only for meters (kind: meter)")
            else:
                values["registers"] = self.register_map(m, "registers")
        elif kind == "meter":
            self.report(line, "a meter needs 'registers'", expected="e.g. {0: [2301, 2298]}")
        return dataclasses.replace(base, **values) if valid else None

    def identity_text(self, node: YamlMap, key: str, length: int) -> str:
        value = self.text(node, key, "", max_length=length)
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
        line = node.value_line_of(key)
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
                line, f"{key} must be three currents in ampere (0..80), or null for no meter"
            )
            return (0.0, 0.0, 0.0)
        return (float(value[0]), float(value[1]), float(value[2]))

    def register_map(self, node: YamlMap, key: str) -> dict[int, int]:
        value = self.mapping(node[key], node.value_line_of(key), key)
        result: dict[int, int] = {}
        if value is None:
            return result
        for start, words in value.items():
            line = value.line_of(start)
            first = self.int_value(start, line, "register number", low=0, high=0xFFFF, default=-1)
            if first < 0:
                continue
            items = list(words) if isinstance(words, YamlList) else [words]
            for offset, word in enumerate(items):
                number = first + offset
                result[number] = self.int_value(
                    word, line, f"register {number} value", low=0, high=0xFFFF, default=0
                )
        return result

    # -- whole-scenario checks --------------------------------------------------------------

    def check_whole(self, scenario: Scenario, root: YamlMap) -> None:
        kinds = {s.kind for s in scenario.stations}
        if scenario.bus.framing == "ascii" and "meter" in kinds:
            self.report(
                root.line_of("stations"),
                "meters speak Modbus RTU, but the bus framing is ascii",
                expected="bus: {framing: rtu}",
            )
