"""A simulated site as data: the typed, frozen dataclasses a scenario file becomes.

A scenario describes what a technician would find on site: the bus (framing, line settings,
cable, termination, breaks and crossed pairs), the chain of stations in BUS IN -> BUS OUT order
with their controllers (address, identity, state, currents, turnaround, faults), the CLU master
(present, booting, polling, USB interface dead) and where the technician's adapter is attached.
Scenarios are data so that a new fault is a new file, not new code, and so that the same site
can be diagnosed through a pty, a socket or in-process.

The file format and its reading are in :mod:`.scenario_reader`.

Positions: the CLU sits at position 0, station *k* (1-based, chain order) at position *k*, and
the far end of the bus after the last station. ``breaks_after: [k]`` cuts the cable between
station k and k+1 (0 = right at the CLU's terminal block); ``crossed_after: [k]`` swaps A and B
on that cable, so everything beyond it sees the CLU side inverted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import field
from pathlib import Path
from typing import Literal

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import UsageError
from clu_doctor.records import record
from clu_doctor.resources import scenarios_dir

Framing = Literal["ascii", "rtu", "evcc1"]
Termination = Literal["both", "clu", "end", "none"]
#: ``evcc``: ABL's EVCC2/3 (Modbus ASCII); ``evcc1``: ABL's first-generation EVCC (text
#: protocol); ``meter``: a Modbus RTU meter.
Kind = Literal["evcc", "evcc1", "meter"]

FRAMINGS: tuple[Framing, ...] = ("ascii", "rtu", "evcc1")
TERMINATIONS: tuple[Termination, ...] = ("both", "clu", "end", "none")
KINDS: tuple[Kind, ...] = ("evcc", "evcc1", "meter")

#: ABL's EVCC line settings (abl-protocol.md §1), the default of an ASCII bus.
ABL_LINE = LineSettings(38400, 8, "E", 1)
#: ABL's first-generation EVCC line settings (field-evidence.md §2.1), the default of an
#: ``evcc1`` bus and of a first-generation station on a mixed one.
EVCC1_LINE = LineSettings(38400, 8, "N", 1)
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


@record
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
    #: First generation: the firmware version command 01 answers (its only identity).
    firmware: str = "V2.7"
    #: ABL state byte (0xA1, 0xC2, 0xF4, ...).
    state: int = 0xA1
    #: Phase currents Ict1..3 in ampere while charging; ``None``: no current meter fitted.
    currents_a: tuple[float, float, float] | None = (0.0, 0.0, 0.0)
    #: Current limit the station starts with (the CLU may write another).
    icmax_a: float = 16.0
    #: Fault: the CP+ voltage the 0x0015 block reports whatever the state (a damaged cable or
    #: a wet socket); ``None``: the IEC 61851 level of the state.
    pilot_v: float | None = None
    #: Seconds from the end of a request to the start of the reply, and its +/- spread.
    turnaround_s: float = 0.003
    jitter_s: float = 0.001
    #: Fault: replies carry this address instead of the one asked (firmware or config fault).
    reply_address: int | None = None
    #: Meter only: holding/input register values by register number.
    registers: Mapping[int, int] = field(default_factory=dict)
    #: Source line, for messages about this controller.
    line: int = 0


@record
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


@record
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


@record
class AdapterSpec:
    """Where the technician's USB-RS485 adapter is joined to the bus, and how it is set."""

    at: AdapterAt = "clu"
    #: Fixed line settings of the adapter; ``None``: it takes what the client program sets
    #: (pty termios, pyserial attributes), or the bus's settings where the endpoint cannot
    #: tell (TCP).
    settings: LineSettings | None = None
    ab_swapped: bool = False
    #: How soon received bytes reach the program: at the latest this long after the first of
    #: them arrived (a USB adapter's latency timer: 1 ms for an FTDI chip in low-latency mode,
    #: 16 ms by default), or when the line goes quiet. ``None``: at the end of each frame.
    latency_s: float | None = None


@record
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


@record
class Scenario:
    """A whole simulated site."""

    name: str
    description: str
    bus: BusSpec
    adapter: AdapterSpec
    clu: CluSpec
    stations: tuple[Station, ...]
    source: str = "<memory>"

    def framing_of(self, station: Station) -> Framing:
        """What ``station``'s controllers speak: the bus's framing, or the first generation's
        for a first-generation station on a bus of the second (a mixed site, manual §9.7)."""
        if station.kind == "evcc1":
            return "evcc1"
        if station.kind == "evcc" and self.bus.framing == "evcc1":
            return "ascii"
        return self.bus.framing

    def settings_of(self, station: Station) -> LineSettings:
        """The line settings ``station``'s controllers use: their own, else the bus's where
        they speak its framing, else their generation's (ABL's 8N1 or 8E1 at 38400)."""
        if station.line_settings is not None:
            return station.line_settings
        framing = self.framing_of(station)
        if framing == self.bus.framing:
            return self.bus.settings
        return EVCC1_LINE if framing == "evcc1" else ABL_LINE

    @property
    def mixed(self) -> bool:
        """Both ABL generations share this bus."""
        kinds = {station.kind for station in self.stations}
        return {"evcc", "evcc1"} <= kinds

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
        adapter_at: AdapterAt | None = None,
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
