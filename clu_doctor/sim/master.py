"""The simulated CLU: the bus master whose traffic a passive listener hears.

DEFA does not publish the CLU's poll schedule (abl-protocol.md §6 question 1), so this is a
plausible master built from what community masters of ABL controllers do, with every number a
scenario setting (:class:`~clu_doctor.sim.scenario.CluSpec`):

* silent for ``boot_s`` (150 s) after power-up (manual §17), and never transmitting at all with
  a dead USB interface;
* then cycles through its configured addresses in order, one request outstanding at a time:
  on first contact the identity (0x0050 x8), then each status block (0x002E x5 by default),
  then, if due, an Icmax write (0x0014, on first contact and every ``icmax_period_s``);
* waits ``timeout_s`` after the end of a request for the answer, retries ``retries`` times,
  keeps ``gap_s`` of silence between transactions, and starts the next cycle ``period_s``
  after the previous one started (or at once, if the cycle overran);
* forgets an address that stops answering, so its identity is read again when it returns.

On a mixed site (manual §9.7; first-generation stations on the same bus, see
docs/simulator.md) the CLU speaks each station's generation: for a first-generation address it
switches its UART to that generation's settings (38400 8N1) and reads command 01 (firmware)
once and command 02 (state) every cycle, and sets the current with command 12; then it switches
back. A Linux UART changes parity between two frames without a glitch on the line.

The master decodes what it receives with the bus layer's stream decoders, so a garbled or
doubled reply (duplicate address) counts as a failed transaction exactly when the real
frame would not decode.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Mapping
from typing import Protocol

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.codecs.events import Decoded
from clu_doctor.bus.frames import (
    WRITE_MULTIPLE_REGISTERS,
    Direction,
    Frame,
    ReadRequest,
    infer_direction,
)
from clu_doctor.bus.settings import LineSettings
from clu_doctor.records import record
from clu_doctor.sim.devices import EVCC1_ICMAX, REG_ICMAX, amps_to_duty
from clu_doctor.sim.line import NO_ERROR, RxChar, Transmission
from clu_doctor.sim.scenario import CluSpec, Framing

#: What the CLU reads from a first-generation station: command 01 (firmware) once, command 02
#: (state) every cycle, as (command, registers) in the evcc1 codec's register view.
EVCC1_IDENTITY = (1, 5)
EVCC1_STATUS = ((2, 2),)


class BusAccess(Protocol):
    """What the master needs from the site: put bytes on the wire, and a timer."""

    def transmit(self, node: int, data: bytes, start: float, cause: str) -> Transmission: ...

    def call_at(self, when: float, callback: Callable[[float], None]) -> None: ...

    def set_settings(self, node: int, settings: LineSettings) -> None: ...


@record
class _Send:
    frame: Frame


@record
class _Sleep:
    until: float


_Action = _Send | _Sleep
_Program = Generator[_Action, "Frame | None", None]


def write_frame(address: int, register: int, value: int) -> Frame:
    """A one-register 0x10 write request, the only write shape ABL masters use."""
    data = register.to_bytes(2, "big") + (1).to_bytes(2, "big") + b"\x02" + value.to_bytes(2, "big")
    return Frame(address, WRITE_MULTIPLE_REGISTERS, data, Direction.REQUEST)


class CluMaster:
    """The polling master. Driven by the site's clock through :class:`BusAccess` callbacks."""

    def __init__(
        self,
        spec: CluSpec,
        *,
        addresses: tuple[int, ...],
        framing: Framing,
        settings: LineSettings,
        node: int,
        bus: BusAccess,
        speaks: Mapping[int, tuple[Framing, LineSettings]] | None = None,
    ) -> None:
        self.spec = spec
        self.addresses = addresses
        self.framing = framing
        self.settings = settings
        self.bus_settings = settings
        self.node = node
        self.bus = bus
        #: Addresses that speak another framing than the bus's, with their settings.
        self.speaks = dict(speaks or {})
        self.codec = get_codec(framing)
        self._decoder = self.codec.decoder(settings)
        self._token = 0
        self._program: _Program | None = None
        self._awaiting: Frame | None = None
        self.now = 0.0
        self.known: set[int] = set()
        self.icmax_due: dict[int, float] = {}
        #: Counts for tests and demos: "sent", "answered", "timeout", per address too.
        self.stats: Counter[str] = Counter()
        self.identities: dict[int, Frame] = {}

    @property
    def active(self) -> bool:
        """False if this CLU never transmits (absent, or its USB interface is dead)."""
        return self.spec.present and self.spec.usb_ok

    @property
    def starts_at(self) -> float:
        """Simulation time of its first poll: the rest of its boot time (sim starts at 0)."""
        return max(0.0, self.spec.boot_s - self.spec.uptime_s)

    def start(self, now: float) -> None:
        """(Re)start the program at ``now``: after a boot if still booting, else a new cycle."""
        self._token += 1
        self._awaiting = None
        self._switch(self.framing, self.bus_settings)
        if not self.active:
            return
        token = self._token
        self.bus.call_at(max(now, self.starts_at), lambda t: self._begin(t, token))

    def _begin(self, now: float, token: int) -> None:
        if token != self._token:
            return
        self._program = self._run()
        self._resume(now, None)

    # -- the program ------------------------------------------------------------------------

    def _run(self) -> _Program:
        spec = self.spec
        while True:
            cycle_start = self.now
            for address in self.addresses:
                first_generation = self._framing_of(address) == "evcc1"
                identity = EVCC1_IDENTITY if first_generation else spec.identity
                blocks = EVCC1_STATUS if first_generation else spec.registers
                if spec.identity is not None and identity is not None and address not in self.known:
                    start, count = identity
                    reply = yield from self._transact(self._read(address, start, count))
                    if reply is None:
                        continue
                    self.identities[address] = reply
                    self.known.add(address)
                    self.icmax_due[address] = self.now
                answered = True
                for start, count in blocks:
                    reply = yield from self._transact(self._read(address, start, count))
                    if reply is None:
                        answered = False
                        break
                if not answered:
                    self.known.discard(address)
                    continue
                self.known.add(address)
                if spec.icmax_a is not None and self.now >= self.icmax_due.get(address, 0.0):
                    duty = amps_to_duty(spec.icmax_a)
                    register = EVCC1_ICMAX if first_generation else REG_ICMAX
                    yield from self._transact(write_frame(address, register, duty))
                    self.icmax_due[address] = self.now + spec.icmax_period_s
            yield _Sleep(max(cycle_start + spec.period_s, self.now + spec.gap_s))

    def _read(self, address: int, start: int, count: int) -> Frame:
        function = 3 if self._framing_of(address) == "evcc1" else self.spec.function
        return ReadRequest(address, start, count, function).to_frame()

    def _framing_of(self, address: int) -> str:
        return self.speaks[address][0] if address in self.speaks else self.framing

    def _switch(self, framing: str, settings: LineSettings) -> None:
        """Speak ``framing`` at ``settings`` from now on (a fresh decoder: the UART changed)."""
        if framing != self.codec.name:
            self.codec = get_codec(framing)
        if settings != self.settings:
            self.settings = settings
            self.bus.set_settings(self.node, settings)
        self._decoder = self.codec.decoder(settings)

    def _transact(self, frame: Frame) -> Generator[_Action, Frame | None, Frame | None]:
        for _ in range(1 + self.spec.retries):
            reply = yield _Send(frame)
            if reply is not None:
                return reply
        return None

    # -- driving it -------------------------------------------------------------------------

    def _resume(self, now: float, value: Frame | None) -> None:
        if self._program is None:
            return
        self.now = now
        try:
            action = self._program.send(value)
        except StopIteration:  # pragma: no cover - the program loops forever
            self._program = None
            return
        token = self._token
        if isinstance(action, _Sleep):
            self.bus.call_at(action.until, lambda t: self._wake(t, token))
            return
        frame = action.frame
        framing, settings = self.speaks.get(frame.address, (self.framing, self.bus_settings))
        if framing != self.codec.name or settings != self.settings:
            self._switch(framing, settings)
        tx = self.bus.transmit(self.node, self.codec.encode(frame), now, "clu")
        self._awaiting = frame
        self.stats["sent"] += 1
        self.stats[f"sent:{frame.address}"] += 1
        self.bus.call_at(tx.end + self.spec.timeout_s, lambda t: self._timeout(t, token))

    def _wake(self, now: float, token: int) -> None:
        if token == self._token:
            self._resume(now, None)

    def _timeout(self, now: float, token: int) -> None:
        if token != self._token or self._awaiting is None:
            return
        self.stats["timeout"] += 1
        self.stats[f"timeout:{self._awaiting.address}"] += 1
        self._awaiting = None
        self._token += 1
        self._resume(now, None)

    def on_chars(self, chars: list[RxChar]) -> None:
        """Characters its receiver decoded; a matching reply completes the transaction."""
        for char in chars:
            # A character with a framing error still reaches the decoder as the UART
            # delivers it (NUL), so the LRC/CRC check sees the corruption.
            value = char.value if char.error == NO_ERROR else 0
            for event in self._decoder.feed(bytes((value,)), char.end):
                if isinstance(event, Decoded):
                    self._consider(event, char.end)

    def _consider(self, event: Decoded, now: float) -> None:
        awaiting = self._awaiting
        frame = event.frame
        if awaiting is None or frame.address != awaiting.address:
            return
        direction = frame.direction
        if direction is Direction.UNKNOWN:
            direction = infer_direction(frame.function, frame.data)
        if direction is not Direction.REPLY:
            return
        if frame.base_function != awaiting.function:
            return
        self.stats["answered"] += 1
        self.stats[f"answered:{frame.address}"] += 1
        self._awaiting = None
        self._token += 1
        token = self._token
        self.bus.call_at(now + self.spec.gap_s, lambda t: self._wake_with(t, token, frame))

    def _wake_with(self, now: float, token: int, frame: Frame) -> None:
        if token == self._token:
            self._resume(now, frame)
