"""Helpers for the listening tests: scripted bus traffic, simulated sites, scenario chains."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import PortVanished
from clu_doctor.bus.frames import (
    WRITE_MULTIPLE_REGISTERS,
    Direction,
    Frame,
    ReadRequest,
    build_exception,
    build_read_reply,
)
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.verdicts import Verdict
from clu_doctor.bus.profile import DeviceProfile, load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock

if TYPE_CHECKING:
    from clu_doctor.bus.chain import AdapterAt
    from clu_doctor.sim.simulator import SimSite

ABL_LINE = LineSettings(38400, 8, "E", 1)
RTU_LINE = LineSettings(9600, 8, "N", 1)
ABL = load_profile("defa-erange")
METER = load_profile("modbus-meter")
STATUS, IDENTITY = (0x002E, 5), (0x0050, 8)

Chunk = tuple[float, bytes]


def status(state: int = 0xA1) -> tuple[int, ...]:
    """ABL 0x002E x5 registers: echo + state, flags + 10 % duty, currents not available."""
    return (0x2E00 | state, 0x1064, 0x03E8, 0x03E8, 0x03E8)


def identity(serial: str = "DF230101", kind: str = "2W22M1") -> tuple[int, ...]:
    text = (kind + serial).encode("ascii")
    return (0x5000, *(int.from_bytes(text[i : i + 2], "big") for i in range(0, 14, 2)))


@dataclass
class Script:
    """Bus traffic written exchange by exchange, with wire times: ``chunks`` to feed an analyser.

    Each call puts one frame (or raw bytes) on the line ``gap`` seconds after the previous one
    ended, as one chunk stamped with the time its last byte arrived.
    """

    framing: str = "ascii"
    settings: LineSettings = ABL_LINE
    t: float = 0.0
    chunks: list[Chunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.codec = get_codec(self.framing)

    def raw(self, data: bytes, gap: float = 0.002) -> bytes:
        self.t = round(self.t + gap + self.settings.wire_time(len(data)), 6)
        self.chunks.append((self.t, data))
        return data

    def frame(self, frame: Frame, gap: float = 0.002) -> bytes:
        return self.raw(self.codec.encode(frame), gap)

    def request(self, address: int, block: tuple[int, int] = STATUS, gap: float = 0.005) -> bytes:
        return self.frame(ReadRequest(address, *block).to_frame(), gap)

    def reply(
        self,
        address: int,
        registers: tuple[int, ...],
        block: tuple[int, int] = STATUS,
        gap: float = 0.003,
    ) -> bytes:
        return self.frame(build_read_reply(ReadRequest(address, *block), registers), gap)

    def exchange(self, address: int, state: int = 0xA1, *, answered: bool = True) -> None:
        self.request(address)
        if answered:
            self.reply(address, status(state))

    def identity_exchange(self, address: int, serial: str) -> None:
        self.request(address, IDENTITY)
        self.reply(address, identity(serial), IDENTITY)

    def write(self, address: int, register: int, value: int, *, echo: bool = True) -> None:
        data = register.to_bytes(2, "big") + b"\x00\x01\x02" + value.to_bytes(2, "big")
        self.frame(Frame(address, WRITE_MULTIPLE_REGISTERS, data, Direction.REQUEST))
        if echo and address:
            self.frame(Frame(address, WRITE_MULTIPLE_REGISTERS, data[:4], Direction.REPLY))

    def exception(self, address: int, code: int = 4) -> None:
        self.frame(build_exception(address, 0x10, code))

    def wait(self, seconds: float) -> None:
        self.t = round(self.t + seconds, 6)

    def cycles(
        self,
        count: int,
        addresses: Iterable[int],
        *,
        silent: Iterable[int] = (),
        states: dict[int, int] | None = None,
        period: float = 1.0,
    ) -> None:
        """``count`` poll cycles of the CLU: each address read, silent ones retried once."""
        quiet = set(silent)
        addresses = list(addresses)
        for _ in range(count):
            start = self.t
            for address in addresses:
                if address in quiet:
                    self.request(address)
                    self.wait(0.1)
                    self.request(address)
                    self.wait(0.1)
                else:
                    self.exchange(address, (states or {}).get(address, 0xA1))
            self.t = max(self.t, round(start + period, 6))


def analyse(
    chunks: Iterable[Chunk],
    framing: str = "ascii",
    *,
    settings: LineSettings | None = None,
    profile: DeviceProfile | None = ABL,
    chain: Chain | None = None,
    end: float | None = None,
) -> ListenReport:
    analyser = TrafficAnalyser(
        framing, settings or (ABL_LINE if framing == "ascii" else RTU_LINE), profile, chain
    )
    analyser.start(0.0)
    for t, data in chunks:
        analyser.feed(t, data)
    return analyser.finish(end)


def inject_errors(chunks: Iterable[Chunk], rate: float, seed: int) -> list[Chunk]:
    """Corrupt each byte with probability ``rate`` (one random bit flipped), reproducibly."""
    rng = random.Random(seed)
    damaged = []
    for t, data in chunks:
        out = bytearray(data)
        for i in range(len(out)):
            if rng.random() < rate:
                out[i] ^= 1 << rng.randrange(8)
        damaged.append((t, bytes(out)))
    return damaged


# --- simulated sites ----------------------------------------------------------------------------


class FakeLink:
    """Delivers scripted chunks on a virtual clock: ``receive(d)`` moves the clock by ``d``.

    ``chunks`` are timed from the moment the link is made; ``vanish_at`` makes ``receive``
    raise :class:`PortVanished` once the clock passes it, as an unplugged adapter would."""

    def __init__(
        self, clock: VirtualClock, chunks: list[Chunk], *, vanish_at: float | None = None
    ) -> None:
        self.clock = clock
        self.start = clock.now()
        self.chunks = chunks
        self.vanish_at = vanish_at
        self.closed = False

    def receive(self, duration: float) -> Iterator[tuple[float, bytes]]:
        clock = self.clock
        end = clock.now() + duration
        for t, data in self.chunks:
            when = self.start + t
            if clock.now() <= when < end:
                if self.vanish_at is not None and when >= self.start + self.vanish_at:
                    break
                clock.advance_to(when)
                yield when, data
        if self.vanish_at is not None and end >= self.start + self.vanish_at:
            clock.advance_to(self.start + self.vanish_at)
            raise PortVanished("/dev/ttyUSB0", "the port stopped working while reading")
        clock.advance_to(end)

    def close(self) -> None:
        self.closed = True


def planned_chain(scenario_name: str, at: AdapterAt | None = None) -> Chain:
    """The site plan behind a bundled scenario: stations in chain order, each controller at the
    address its label says (XAXXY09 is planned as 9, whatever the faulty controller answers to)."""
    from clu_doctor.sim.scenario_reader import load_scenario

    scenario = load_scenario(scenario_name)
    points = []
    for station in scenario.stations:
        addresses = []
        for controller in station.controllers:
            match = re.fullmatch(r"XAXXY(\d\d)", controller.label)
            addresses.append(int(match.group(1)) if match else controller.address)
        points.append(tuple(addresses))
    where = at or scenario.adapter.at
    return Chain(
        tuple(points),
        0 if where == "clu" else len(points),
        tuple(station.label for station in scenario.stations),
    )


def profile_for(scenario_name: str) -> DeviceProfile:
    from clu_doctor.sim.scenario_reader import load_scenario

    return ABL if load_scenario(scenario_name).bus.framing == "ascii" else METER


def simulate(
    scenario_name: str,
    seconds: float,
    *,
    at: AdapterAt | None = None,
    seed: int = 1,
    uptime: float | None = None,
    settings: LineSettings | None = None,
    chain: Chain | None = None,
    step: float = 0.005,
) -> ListenReport:
    """Listen to a simulated site on a virtual clock: exact and repeatable, no real time spent."""
    from clu_doctor.sim.scenario_reader import load_scenario
    from clu_doctor.sim.simulator import SimSite

    scenario = load_scenario(scenario_name).with_changes(adapter_at=at, clu_uptime_s=uptime)
    clock = VirtualClock()
    site = SimSite(scenario, seed=seed, clock=clock)
    analyser = TrafficAnalyser(
        scenario.bus.framing,
        settings or scenario.bus.settings,
        profile_for(scenario_name),
        chain,
    )
    return listen_to(site, clock, analyser, settings, seconds, step)


def listen_to(
    site: SimSite,
    clock: VirtualClock,
    analyser: TrafficAnalyser,
    settings: LineSettings | None,
    seconds: float,
    step: float,
) -> ListenReport:
    """``analyser``'s report of what the adapter reads from ``site`` every ``step`` for
    ``seconds`` of the virtual ``clock``."""
    analyser.start(0.0)
    ticks = round(seconds / step)
    for tick in range(1, ticks + 1):
        now = clock.advance_to(round(tick * step, 6))
        data = site.adapter_read(now, settings)
        if data:
            analyser.feed(now, data)
        else:
            analyser.advance(now)
    return analyser.finish(clock.now())


# --- what each bundled scenario should yield --------------------------------------------------

#: (scenario, adapter position) -> {verdict key: (allowed values, addresses or None for any)},
#: for a listen of several CLU cycles with the site's planned chain.
DUPLICATE_VALUES = frozenset({"corruption_excess", "double_answers", "identity_alternates"})
Expected = dict[str, tuple[frozenset[str], tuple[int, ...] | None]]
EXPECTED: dict[tuple[str, AdapterAt], Expected] = {
    ("healthy-16", "clu"): {},
    ("healthy-duo-8", "clu"): {},
    ("duplicate-address", "clu"): {
        "bus.silent_addresses": (frozenset({"isolated"}), (9,)),
        "bus.duplicate_address": (DUPLICATE_VALUES, (1,)),
    },
    ("cable-break", "clu"): {
        "bus.silent_addresses": (frozenset({"beyond_point"}), (7, 8, 9, 10, 11, 12)),
    },
    ("cable-break", "end"): {"bus.polling": (frozenset({"none"}), ())},
    ("unpowered-station", "clu"): {"bus.silent_addresses": (frozenset({"isolated"}), (4,))},
    ("long-unterminated", "clu"): {
        "bus.errors_spread": (frozenset({"spread", "growing_along_chain"}), None),
    },
    ("ab-swapped", "clu"): {
        "bus.silent_addresses": (frozenset({"beyond_point"}), (5, 6, 7, 8)),
    },
    ("ab-swapped", "end"): {"bus.undecodable": (frozenset({"at_this_setting"}), ())},
    ("wrong-adapter-settings", "clu"): {
        "bus.undecodable": (frozenset({"at_this_setting"}), ()),
    },
    ("clu-usb-dead", "clu"): {"bus.polling": (frozenset({"none"}), ())},
    ("clu-booting", "clu"): {"bus.polling": (frozenset({"none"}), ())},
    ("station-f4", "clu"): {"bus.unpolled_addresses": (frozenset({"not_polled"}), (7,))},
    ("meter-bus-duplicate", "clu"): {"bus.duplicate_address": (DUPLICATE_VALUES, (1,))},
    ("healthy-rtu-4", "clu"): {},
}
#: Scenarios in which no CLU traffic reaches the adapter.
SILENT_SCENARIOS = frozenset(
    {("cable-break", "end"), ("clu-usb-dead", "clu"), ("clu-booting", "clu")}
)


def mismatches(verdicts: Iterable[Verdict], expected: Expected) -> list[str]:
    """What differs between the verdicts and the expectation (empty: they match)."""
    found = {verdict.key: verdict for verdict in verdicts}
    problems = []
    for key in sorted(set(found) | set(expected)):
        if key not in expected:
            problems.append(f"unexpected {key}={found[key].value} {found[key].addresses}")
        elif key not in found:
            problems.append(f"missing {key}")
        else:
            values, addresses = expected[key]
            verdict = found[key]
            if verdict.value not in values:
                problems.append(f"{key}={verdict.value}, expected one of {sorted(values)}")
            if addresses is not None and verdict.addresses != addresses:
                problems.append(f"{key} addresses {verdict.addresses}, expected {addresses}")
    return problems
