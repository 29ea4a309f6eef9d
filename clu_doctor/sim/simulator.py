"""The simulated site: a time-driven, seeded, discrete-event model of one RS-485 bus.

:class:`SimSite` puts a :class:`~clu_doctor.sim.scenario.Scenario` on a wire: the CLU master,
every powered controller and any number of technician's adapters are *nodes* at chain
positions, each with a transmitter and a UART (:class:`~clu_doctor.sim.line.Receiver`). All
endpoints (pty, TCP, the ``sim://`` URL handler, tests) use the same small API::

    site = SimSite(scenario, wire_time=True, time_scale=1.0, seed=0, clock=SYSTEM)
    site.adapter_write(data, now, settings)   # bytes the technician's adapter sends from `now`
    site.adapter_read(now, settings) -> bytes # bytes that have fully arrived by `now`
    site.next_arrival() -> float | None       # clock time worth waking up at (next byte or
                                              # next moment the simulation may decide one)

(``site.adapter`` is the :class:`Adapter` behind those; ``site.add_adapter()`` attaches more.)

**Time.** Simulation time starts at 0 when the site is made and follows the injected
:class:`~clu_doctor.clock.Clock` (default: the process's :func:`~clu_doctor.clock.current`):
``sim = (clock.now() - t0) * time_scale + skipped``. The site never sleeps: whoever drives it
(the ``sim://`` port, an endpoint's thread, a test) waits on the same clock. ``time_scale`` compresses everything (wire
times included), e.g. 100 turns the CLU's 150 s boot into 1.5 s. With ``wire_time=False`` the
simulation still works in physical character times internally (so collisions and garbling are
the same), but every exchange the adapter starts is run ahead to its end at once and the jump
is added to ``skipped``: replies arrive as soon as the request is written.

**Stepping.** A reaction (a reply, the CLU's next request) always comes at least ``quantum``
after the frame that caused it (the shortest turnaround or CLU gap). So while anything is on
the wire the site decodes every receiver up to ``time + quantum``, and no reaction can start
inside a step it has already decoded; when the wire is idle it jumps to the next event.
Same scenario + same seed + same calls at the same times = the same bytes.

**Topology.** Two nodes hear each other unless a break lies between their positions; an
unpowered station is simply absent (its terminals pass the bus on). A node's polarity is its own
A/B fault XOR the parity of crossed cable sections between it and the CLU.

**Catching up.** If nobody advanced the site for more than ``MAX_CATCHUP_S`` of simulation time
(a client that did not read, a huge ``time_scale``), the traffic in between is dropped as an
overflowing receive buffer would drop it: the site jumps, keeping only the last stretch.

**One idea, one file.** The event loop of one simulated bus (who transmits when, what each
receiver hears); the line's bit-level physics are in :mod:`.line`, the devices' answers in
:mod:`.devices`, the master's polling in :mod:`.master`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import FrameError
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Clock, current
from clu_doctor.sim.devices import Device, Evcc, Evcc1, Meter
from clu_doctor.sim.line import (
    NO_ERROR,
    Receiver,
    RxChar,
    RxPolicy,
    Transmission,
    Wire,
    byte_error_probability,
)
from clu_doctor.sim.master import CluMaster
from clu_doctor.sim.scenario import (
    MIN_TURNAROUND_S,
    Controller,
    Framing,
    Scenario,
    Station,
)

#: Characters an adapter keeps for a client that is not reading (a kernel tty buffer's size).
ADAPTER_BUFFER = 4096
#: Longest stretch of simulation time simulated in one go before the site jumps instead.
MAX_CATCHUP_S = 3.0
#: How much of a jumped stretch is still simulated, so traffic is flowing when the jump ends.
CATCHUP_KEEP_S = 0.5
#: Longest an exchange started by the adapter is run ahead with ``wire_time=False``.
MAX_SKIP_S = 2.0
#: Upper bound of a simulation step while the wire is busy (keeps wake-ups responsive).
MAX_QUANTUM_S = 0.002

CLU_NODE = 0
_ADAPTER_BASE = 1000


class _DeviceNode:
    """One powered controller (EVCC or meter) on the bus: its UART, framing and turnaround."""

    def __init__(
        self,
        site: SimSite,
        *,
        node: int,
        position: int,
        station: Station,
        controller: Controller,
        receiver: Receiver,
    ) -> None:
        self.site = site
        self.node = node
        self.position = position
        self.station = station
        self.controller = controller
        self.rx = receiver
        self.settings = site.scenario.settings_of(station)
        self.framing = site.scenario.framing_of(station)
        self.codec = get_codec(self.framing)
        #: The character that starts a request in this framing (ASCII ':', first generation '!').
        self._request_start = 0x21 if self.framing == "evcc1" else 0x3A
        self.device: Device
        if station.kind == "meter":
            self.device = Meter(controller)
        elif station.kind == "evcc1":
            self.device = Evcc1(controller)
        else:
            self.device = Evcc(controller, self.settings)
        self._rng = random.Random(f"{site.seed}/turnaround/{node}")
        self._t35 = self.settings.t35
        self.reset()

    def reset(self) -> None:
        self._buffer: bytearray | None = None
        self._bad = False
        self._sources: set[int] = set()
        self._last_end = -math.inf
        self.deadline = math.inf

    # -- receiving --------------------------------------------------------------------------

    def on_chars(self, chars: list[RxChar], step: float) -> None:
        if self.framing in ("ascii", "evcc1"):
            for char in chars:
                self._ascii_char(char, step)
        else:
            for char in chars:
                self._rtu_char(char)

    def _ascii_char(self, char: RxChar, step: float) -> None:
        value = char.value
        if value == self._request_start and char.error == NO_ERROR:  # ':' or '!': a request
            self._buffer, self._bad, self._sources = bytearray((value,)), False, set()
        elif value == 0x3E and char.error == NO_ERROR:  # '>': another device's reply
            self._buffer = None
        elif self._buffer is not None:
            self._buffer.append(value)
            self._bad = self._bad or char.error != NO_ERROR
            if char.source_seq is not None:
                self._sources.add(char.source_seq)
            if value == 0x0A and len(self._buffer) >= 2 and self._buffer[-2] == 0x0D:
                raw, self._buffer = bytes(self._buffer), None
                if not self._bad:
                    self._handle(raw, char.end, step)
            elif len(self._buffer) > 513:
                self._buffer = None

    def _rtu_char(self, char: RxChar) -> None:
        if self._buffer is None or char.start - self._last_end > self._t35:
            self._buffer, self._bad, self._sources = bytearray(), False, set()
        self._buffer.append(char.value)
        self._bad = self._bad or char.error != NO_ERROR
        if char.source_seq is not None:
            self._sources.add(char.source_seq)
        self._last_end = char.end
        self.deadline = char.end + self._t35

    def check_deadline(self, step: float) -> None:
        """RTU: a frame ends after t3.5 of silence; answer it once that silence has passed."""
        if self.deadline > step or self._buffer is None:
            return
        deadline = self.deadline
        self.deadline = math.inf
        if self.site.line_busy(self.rx, self._last_end, deadline):
            # Something is still arriving: the frame goes on (and will fail its CRC).
            self.deadline = deadline + self._t35
            return
        raw, self._buffer = bytes(self._buffer), None
        if not self._bad:
            self._handle(raw, deadline, step)

    def _handle(self, raw: bytes, end: float, step: float) -> None:
        try:
            frame = self.codec.decode(raw)
        except FrameError:
            return  # checksum or shape error: ABL controllers stay silent
        reply = self.device.handle(frame)
        if reply is None:
            return
        if self.controller.reply_address is not None:
            reply = replace(reply, address=self.controller.reply_address)
        spread = self.controller.jitter_s
        turnaround = self.controller.turnaround_s + (
            self._rng.uniform(-spread, spread) if spread else 0.0
        )
        start = max(end + max(MIN_TURNAROUND_S, turnaround), step)
        cause = (
            "adapter"
            if any(self.site.cause_of(s) == "adapter" for s in self._sources)
            else "device"
        )
        self.site.transmit(self.node, self.codec.encode(reply), start, cause)


class Adapter:
    """A technician's USB-RS485 adapter on the bus. Thread-safe through the site's lock.

    ``now`` arguments are clock times (the site's ``clock``); ``settings`` are the line
    settings the client program asked for, ignored if the scenario fixes the adapter's own.
    """

    def __init__(self, site: SimSite, node: int, name: str, position: int, inverted: bool) -> None:
        self.site = site
        self.node = node
        self.name = name
        self.position = position
        self.fixed = site.scenario.adapter.settings
        #: The adapter's latency timer (see :class:`~clu_doctor.sim.scenario.AdapterSpec`).
        self.latency = site.scenario.adapter.latency_s
        self.settings: LineSettings = self.fixed or site.scenario.bus.settings
        self.policy = RxPolicy()
        self.rx = Receiver(
            site.wire,
            node,
            (),
            self.settings,
            inverted=inverted,
            seed=str(site.seed),
            start=site.time,
        )
        self._chars: deque[RxChar] = deque(maxlen=ADAPTER_BUFFER)
        #: Simulation time until which the adapter's transmitter is busy.
        self.busy_until = 0.0
        self.bytes_sent = 0
        self.bytes_received = 0

    def configure(
        self, settings: LineSettings | None = None, policy: RxPolicy | None = None
    ) -> None:
        """Take the client's line settings (unless the scenario fixes them) and error policy."""
        with self.site.lock:
            if settings is not None and self.fixed is None and settings != self.settings:
                self.settings = settings
                self.rx.set_settings(settings)
            if policy is not None:
                self.policy = policy

    def write(
        self, data: bytes, now: float | None = None, settings: LineSettings | None = None
    ) -> float:
        """Transmit ``data`` from ``now`` (after anything still being sent); returns the clock
        time at which its last byte has left the adapter."""
        site = self.site
        with site.lock:
            self.configure(settings)
            sim_now = site.sim_time(now)
            site.advance(sim_now)
            if not data:
                return site.wall_time(max(self.busy_until, site.time))
            start = max(sim_now, site.time, self.busy_until)
            tx = site.transmit(self.node, bytes(data), start, "adapter")
            self.busy_until = tx.end
            self.bytes_sent += len(data)
            if not site.wire_time:
                site.run_exchange(tx, now)
            return site.wall_time(tx.end)

    def read(
        self,
        now: float | None = None,
        settings: LineSettings | None = None,
        policy: RxPolicy | None = None,
    ) -> bytes:
        """Everything that has fully arrived by ``now`` and was not read yet."""
        site = self.site
        with site.lock:
            self.configure(settings, policy)
            site.advance(site.sim_time(now))
            chars, self._chars = list(self._chars), deque(maxlen=ADAPTER_BUFFER)
            data = self.policy.deliver(chars)
            self.bytes_received += len(data)
            return data

    def take(self, chars: list[RxChar]) -> None:
        self._chars.extend(chars)

    @property
    def waiting(self) -> int:
        """Characters received and not read yet (as of the last time the site advanced)."""
        return len(self._chars)

    def next_arrival(self) -> float | None:
        """Clock time of the next moment worth waking at: the last character of the clean run
        this adapter is receiving (or the next character, if garbled), or with a latency
        timer that long after the next character, or the next moment the site may decide a
        new transmission (a reply being scheduled, a CLU timer), whichever is first."""
        site = self.site
        with site.lock:
            if self._chars:
                return site.wall_time(site.time)
            # Wake for the end of the clean run that is arriving (usually a whole frame), as
            # a USB adapter hands over a frame's bytes together; the last byte stays on time.
            peek = self.rx.peek(site.time + 1.0, run=True)
            if peek is not None and self.latency is not None:
                # ... or its latency timer expires first: the bytes come in USB packets
                first = self.rx.peek(site.time + 1.0)
                if first is not None:
                    peek = min(peek, first + self.latency)
            when = min(peek if peek is not None else math.inf, site.next_decision())
            return None if math.isinf(when) else site.wall_time(when)

    def idle_at(self) -> float:
        """Clock time at which everything written so far has left the adapter."""
        with self.site.lock:
            return self.site.wall_time(max(self.busy_until, self.site.time))


class SimSite:
    """One simulated bus; see the module docstring."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        wire_time: bool = True,
        time_scale: float = 1.0,
        seed: int = 0,
        clock: Clock | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, not {time_scale}")
        self.scenario = scenario
        self.wire_time = wire_time
        self.time_scale = time_scale
        self.seed = seed
        self.clock = clock or current()
        self.lock = threading.RLock()
        self.wire = Wire()
        self.time = 0.0
        self._t0 = self.clock.now()
        self._skipped = 0.0
        self._events: list[tuple[float, int, Callable[[float], None]]] = []
        self._event_seq = itertools.count()
        self._causes: dict[int, str] = {}
        self._positions: dict[int, int] = {}
        self._inverted: dict[int, bool] = {}
        self._settings: dict[int, LineSettings] = {}
        self._receivers: dict[int, Receiver] = {}
        bus = scenario.bus
        self._p_error: dict[int, float] = {}
        self._slowest = 0.0
        self._slack_value = 0.0
        self.devices: list[_DeviceNode] = []
        for node, (position, station, controller) in enumerate(scenario.controllers(), start=1):
            if not station.powered:
                continue
            inverted = self._polarity(position, station.ab_swapped)
            settings = scenario.settings_of(station)
            rx = Receiver(self.wire, node, (), settings, inverted=inverted, seed=str(seed))
            self._register(node, position, inverted, settings, rx)
            self.devices.append(
                _DeviceNode(
                    self,
                    node=node,
                    position=position,
                    station=station,
                    controller=controller,
                    receiver=rx,
                )
            )
        self.clu: CluMaster | None = None
        self._clu_rx: Receiver | None = None
        if scenario.clu.present:
            inverted = self._polarity(0, scenario.clu.ab_swapped)
            rx = Receiver(self.wire, CLU_NODE, (), bus.settings, inverted=inverted, seed=str(seed))
            self._register(CLU_NODE, 0, inverted, bus.settings, rx)
            self._clu_rx = rx
            self.clu = CluMaster(
                scenario.clu,
                addresses=scenario.polled_addresses,
                framing=bus.framing,
                settings=bus.settings,
                node=CLU_NODE,
                bus=self,
                speaks=self._generations(),
            )
        self.adapters: list[Adapter] = []
        self.quantum = self._quantum()
        self._topology()
        self.adapter = self.add_adapter("adapter")
        if self.clu is not None:
            self.clu.start(0.0)

    # -- construction helpers ---------------------------------------------------------------

    def _generations(self) -> dict[int, tuple[Framing, LineSettings]]:
        """Framing and settings the CLU uses per address where they differ from the bus's:
        the first-generation stations of a mixed site (the first controller at an address)."""
        scenario, speaks = self.scenario, {}
        for _, station, controller in scenario.controllers():
            framing = scenario.framing_of(station)
            if controller.address not in speaks and framing != scenario.bus.framing:
                speaks[controller.address] = (framing, scenario.settings_of(station))
        return speaks

    def set_settings(self, node: int, settings: LineSettings) -> None:
        """A node switches its UART's settings from now on (the CLU, between stations of the
        two generations)."""
        self._settings[node] = settings
        self._receivers[node].set_settings(settings)

    def _polarity(self, position: int, own_swap: bool) -> bool:
        crossings = sum(1 for c in self.scenario.bus.crossed_after if c < position)
        return own_swap ^ bool(crossings % 2)

    def _register(
        self, node: int, position: int, inverted: bool, settings: LineSettings, rx: Receiver
    ) -> None:
        self._positions[node] = position
        self._inverted[node] = inverted
        self._settings[node] = settings
        self._receivers[node] = rx

    def _audible(self, a: int, b: int) -> bool:
        low, high = sorted((self._positions[a], self._positions[b]))
        return not any(low <= k < high for k in self.scenario.bus.breaks_after)

    def _topology(self) -> None:
        for node, rx in self._receivers.items():
            rx.hears = frozenset(
                other for other in self._positions if other != node and self._audible(node, other)
            )

    def _quantum(self) -> float:
        reactions = [MAX_QUANTUM_S]
        for dev in self.devices:
            c = dev.controller
            reactions.append(max(MIN_TURNAROUND_S, c.turnaround_s - c.jitter_s))
        if self.clu is not None and self.clu.active:
            reactions.append(self.scenario.clu.gap_s)
        return min(reactions)

    def add_adapter(self, name: str = "adapter", at: AdapterAt | None = None) -> Adapter:
        """Attach another technician's adapter (at the scenario's place unless ``at`` says)."""
        with self.lock:
            spec = self.scenario.adapter
            where = at or spec.at
            position = 0 if where == "clu" else self.scenario.far_end
            node = _ADAPTER_BASE + len(self.adapters)
            inverted = self._polarity(position, spec.ab_swapped)
            adapter = Adapter(self, node, name, position, inverted)
            self._register(node, position, inverted, adapter.settings, adapter.rx)
            self.adapters.append(adapter)
            self._topology()
            return adapter

    # -- time ---------------------------------------------------------------------------------

    def sim_time(self, now: float | None = None) -> float:
        """Simulation time for clock time ``now`` (default: the clock's current time)."""
        wall = self.clock.now() if now is None else now
        return (wall - self._t0) * self.time_scale + self._skipped

    def wall_time(self, sim: float) -> float:
        """Clock time at which simulation time ``sim`` is reached."""
        return self._t0 + (sim - self._skipped) / self.time_scale

    # -- what nodes use -------------------------------------------------------------------------

    def transmit(self, node: int, data: bytes, start: float, cause: str) -> Transmission:
        """Put ``data`` on the wire from ``start`` (never before the present)."""
        settings = self._settings[node]
        if node >= _ADAPTER_BASE:
            settings = self.adapters[node - _ADAPTER_BASE].settings
        baud = settings.baudrate
        p_error = self._p_error.get(baud)
        if p_error is None:
            bus = self.scenario.bus
            p_error = byte_error_probability(
                bus.cable_m, bus.termination, baud, bus.extra_byte_error
            )
            self._p_error[baud] = p_error
        tx = Transmission(
            seq=self.wire.next_seq(),
            source=node,
            start=max(start, self.time),
            data=data,
            settings=settings,
            inverted=self._inverted[node],
            p_error=p_error,
            cause=cause,
        )
        self.wire.add(tx)
        self._causes[tx.seq] = cause
        return tx

    def call_at(self, when: float, callback: Callable[[float], None]) -> None:
        heapq.heappush(self._events, (max(when, self.time), next(self._event_seq), callback))

    def cause_of(self, seq: int) -> str | None:
        return self._causes.get(seq)

    def line_busy(self, rx: Receiver, t0: float, t1: float) -> bool:
        """True if a character that ``rx`` hears starts somewhere in (t0, t1)."""
        for tx in self.wire.overlapping(t0, t1):
            if tx.source not in rx.hears:
                continue
            index = max(0, math.floor((t0 - tx.start) / tx.char_time) + 1)
            if index < len(tx.data) and tx.start + index * tx.char_time < t1:
                return True
        return False

    # -- the engine -----------------------------------------------------------------------------

    def _slack(self) -> float:
        """How long after a transmission ends a receiver may still be decoding it."""
        slowest = max(rx.char_time for rx in self._receivers.values())
        if slowest != self._slowest:
            self._slowest = slowest
            self._slack_value = 2 * slowest + self.scenario.bus.settings.t35
        return self._slack_value

    def _active(self) -> bool:
        slack = self._slack()
        return any(tx.end + slack > self.time and tx.start <= self.time for tx in self.wire.txs)

    def _next_deadline(self) -> float:
        return min((dev.deadline for dev in self.devices), default=math.inf)

    def next_decision(self) -> float:
        """Next simulation time at which the site may put something new on the wire."""
        with self.lock:
            when = min(self._events[0][0] if self._events else math.inf, self._next_deadline())
            if self._active():
                when = min(when, self.time + self.quantum)
            else:
                when = min(when, self.wire.first_start_after(self.time))
            return when

    def advance(self, target: float) -> None:
        """Run the simulation up to ``target`` (simulation time)."""
        with self.lock:
            if target - self.time > MAX_CATCHUP_S:
                self._jump(target - CATCHUP_KEEP_S)
            self._run_until(target)

    def _run_until(self, target: float) -> None:
        events = self._events
        while True:
            while events and events[0][0] <= self.time:
                when, _, callback = heapq.heappop(events)
                callback(when)
            if self.time >= target:
                break
            step = target
            if events:
                step = min(step, events[0][0])
            if self._active():
                step = min(step, self.time + self.quantum)
            else:
                step = min(step, self.wire.first_start_after(self.time))
            step = min(step, self._next_deadline())
            step = max(step, self.time)
            self._decode_all(step)
            self.time = step
        self._prune()

    def _decode_all(self, step: float) -> None:
        for dev in self.devices:
            chars = dev.rx.decode_until(step)
            if chars:
                dev.on_chars(chars, step)
            dev.check_deadline(step)
        if self._clu_rx is not None and self.clu is not None:
            chars = self._clu_rx.decode_until(step)
            if chars and self.clu.active:
                self.clu.on_chars(chars)
        for adapter in self.adapters:
            chars = adapter.rx.decode_until(step)
            if chars:
                adapter.take(chars)

    def _prune(self) -> None:
        horizon = self.time - max(0.05, 2 * self._slack())
        if self.wire.txs and self.wire.txs[0].end < horizon:
            self.wire.prune(horizon)
            oldest = min((tx.seq for tx in self.wire.txs), default=self.wire.next_seq())
            self._causes = {s: c for s, c in self._causes.items() if s >= oldest}
            for rx in self._receivers.values():
                rx.forget_before(oldest)

    def _jump(self, new_time: float) -> None:
        """Skip ahead without simulating the traffic in between (see the module docstring)."""
        self.wire.clear()
        self._events.clear()
        self._causes.clear()
        for rx in self._receivers.values():
            rx.reset(new_time)
        for dev in self.devices:
            dev.reset()
        for adapter in self.adapters:
            adapter.busy_until = min(adapter.busy_until, new_time)
        self.time = new_time
        if self.clu is not None:
            self.clu.start(new_time)

    def run_exchange(self, tx: Transmission, now: float | None) -> None:
        """``wire_time=False``: run ahead until ``tx`` and every reply it caused are over."""
        margin = self.scenario.bus.settings.t35 + 2 * self.quantum + self._slack()
        limit = self.time + MAX_SKIP_S
        target = tx.end + margin
        while True:
            self._run_until(min(target, limit))
            pending = [
                t.end for t in self.wire.txs if t.cause == "adapter" and t.end + margin > self.time
            ]
            if not pending or self.time >= limit:
                break
            target = max(pending) + margin
        behind = self.time - self.sim_time(now)
        if behind > 0:
            self._skipped += behind

    # -- the default adapter, as the endpoints use it -------------------------------------------

    def adapter_write(
        self, data: bytes, now: float | None = None, settings: LineSettings | None = None
    ) -> float:
        return self.adapter.write(data, now, settings)

    def adapter_read(self, now: float | None = None, settings: LineSettings | None = None) -> bytes:
        return self.adapter.read(now, settings)

    def next_arrival(self) -> float | None:
        return self.adapter.next_arrival()

    # -- inspection (tests, demos) --------------------------------------------------------------

    def devices_at(self, address: int) -> list[Device]:
        """The emulated devices currently answering ``address`` (several: a duplicate)."""
        return [dev.device for dev in self.devices if dev.device.address == address]

    def evcc(self, label: str) -> Evcc:
        """The EVCC controller with this label."""
        for dev in self.devices:
            if dev.controller.label == label and isinstance(dev.device, Evcc):
                return dev.device
        raise KeyError(label)
