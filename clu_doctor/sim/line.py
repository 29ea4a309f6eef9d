"""The RS-485 line at bit level: transmissions, what each receiver's UART makes of them, noise.

Why bits and not bytes: the faults a technician meets on a bus are physical. A wrong baud rate,
a parity mismatch, A and B swapped, two drivers fighting, reflections on an unterminated cable
all act on the bit stream, and what comes out of a UART is a consequence of where it happens to
sample. Modelling the waveform once and sampling it like a UART gives every such fault its
plausible symptoms without a special rule per fault.

**Waveform.** A transmission drives the bus from its start to its end with back-to-back
characters: start bit (0), data bits LSB first, an optional parity bit, then stop bits (1).
Levels are in *bus polarity*: 1 = mark (idle), 0 = space. An undriven bus idles at mark (the
fail-safe bias). A node whose A/B wires are crossed drives and sees every level inverted
relative to the rest of the bus.

**Collisions (driver fight).** Where two drivers overlap, the bus carries the AND of their
levels: a driver pulling towards space wins over one at mark (the differential voltage of the
space driver dominates, or the fight leaves the receiver below threshold, which reads as
space). Misaligned characters then produce wrong bits, lost start bits and framing errors,
as on a real bus; two bit-identical frames sent in step merge into one clean frame.

**Receiver (UART).** Each receiver hunts for a falling edge (1 -> 0), checks the start bit at
its middle, samples every further bit at its middle with *its own* bit time, and checks parity
and the first stop bit. A 0 stop bit is a framing error; all zeros with a 0 stop bit is a break.
After a framing error it waits for the line to go back to 1 before hunting again. A receiver is
blind while its own node transmits (half-duplex transceivers disable RE with DE). Receivers are
*true fail-safe*, as modern transceivers are: an undriven bus reads as mark whatever their
polarity, so a crossed pair garbles frames but does not hold the line in a break.

Consequences, all emerging from the model rather than coded as rules:

* 8E1 sent, 8N1 read: the parity bit is sampled as the stop bit, so a character whose parity
  bit is 0 (even number of ones) becomes a framing error (delivered as NUL by Linux's tty
  layer) and the others come through intact.
* Baud mismatch: a slower receiver sees fewer, wrong characters (38400 read at 9600: about one
  character per four sent); a faster one sees more, mostly framing errors and 0xFF/0xFE-like
  junk.
* Inverted (A/B swapped): the start bit reads as mark, so the UART starts on a later edge and
  every frame turns into garbage with framing errors; two nodes crossed the same way talk.

**Noise.** Each (receiver, transmission) pair gets an independent, seeded set of corrupted
characters; in a corrupted character one bit cell (start, data, parity or stop) is flipped. The
probability per character comes from :func:`byte_error_probability`.

**Delivery.** :class:`RxPolicy` turns characters with errors into bytes the way the Linux tty
layer does for the termios flags INPCK, IGNPAR, PARMRK, IGNBRK and ISTRIP.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from clu_doctor.bus.settings import LineSettings

# --- noise model ---------------------------------------------------------------------------

#: Per-character error probability of an unterminated bus at the reference point below.
NOISE_P0 = 0.002
#: Reference point: DEFA's maximum cable length (manual §9) at ABL's baud rate.
NOISE_REFERENCE_M = 150.0
NOISE_REFERENCE_BAUD = 38400.0
#: Share of the unterminated reflections left by each termination choice.
TERMINATION_FACTOR = {"none": 1.0, "clu": 0.25, "end": 0.25, "both": 0.0}
NOISE_CAP = 0.5


def byte_error_probability(
    cable_m: float, termination: str, baudrate: float, extra: float = 0.0
) -> float:
    """Probability that one character is corrupted on this cable.

    Model (a demonstration model with the right shape, not a transmission-line solver)::

        x      = (cable_m / 150 m) * (baudrate / 38400 Bd)
        p_char = min(0.5, extra + 0.002 * R * x**4)
        R      = 1 unterminated, 0.25 terminated at one end only, 0 terminated at both ends

    Why this shape: reflections matter in proportion to the round-trip delay over the bit time,
    2 * L * 5 ns/m * baud, which is proportional to x. The ringing left at the sampling point
    grows with it, and the error rate climbs steeply once it nears the decision threshold, so a
    high power of x. A line terminated at both ends has no reflections (R = 0); one terminator
    absorbs the wave after one round trip (R = 1/4). Calibration: an unterminated 150 m bus at
    38400 Bd corrupts 0.2 % of characters, 250 m about 1.5 % (about half of the ABL status
    exchanges fail), 400 m about 10 %; at 9600 Bd the same 250 m is clean (0.006 %).
    ``extra`` adds ambient noise (contactors, a cable run next to mains) on any bus.
    """
    x = (cable_m / NOISE_REFERENCE_M) * (baudrate / NOISE_REFERENCE_BAUD)
    factor = TERMINATION_FACTOR.get(termination, 1.0)
    return min(NOISE_CAP, extra + NOISE_P0 * factor * x**4)


# --- what a receiver delivers ---------------------------------------------------------------

NO_ERROR, PARITY, FRAMING, BREAK = 0, 1, 2, 3
ERROR_NAMES = ("ok", "parity", "framing", "break")


@dataclass(frozen=True, slots=True)
class RxChar:
    """One character as a UART received it."""

    value: int
    error: int
    start: float
    #: When the UART had it: the middle of the first stop bit.
    end: float
    #: The transmission it came from, when it came cleanly from exactly one.
    source_seq: int | None = None


@dataclass(frozen=True)
class RxPolicy:
    """How received characters with errors reach the program (Linux n_tty semantics).

    The default is what pyserial sets on Linux: INPCK off (parity not checked: the byte is
    delivered as sampled), IGNPAR and PARMRK off (framing errors and breaks read as NUL).
    """

    check_parity: bool = False  # INPCK
    ignore_errors: bool = False  # IGNPAR
    mark_errors: bool = False  # PARMRK
    ignore_break: bool = False  # IGNBRK
    strip: bool = False  # ISTRIP

    def deliver(self, chars: Iterable[RxChar]) -> bytes:
        out = bytearray()
        for char in chars:
            if char.error == BREAK:
                if self.ignore_break:
                    continue
                out += b"\xff\x00\x00" if self.mark_errors else b"\x00"
                continue
            if char.error == FRAMING or (char.error == PARITY and self.check_parity):
                if self.ignore_errors:
                    continue
                out += (b"\xff\x00" + bytes((char.value,))) if self.mark_errors else b"\x00"
                continue
            value = char.value & 0x7F if self.strip else char.value
            if value == 0xFF and self.mark_errors and not self.strip:
                out += b"\xff\xff"
            else:
                out.append(value)
        return bytes(out)


# --- transmissions ---------------------------------------------------------------------------


#: Bias (in bit times) that keeps float rounding from moving a boundary into the previous cell.
_EPS = 1e-6


def _parity_bit(value: int, parity: str) -> int:
    ones = bin(value).count("1") & 1
    return ones if parity == "E" else ones ^ 1


@dataclass(eq=False)
class Transmission:
    """Characters one node puts on the bus back to back from ``start``."""

    seq: int
    source: int
    start: float
    data: bytes
    settings: LineSettings
    #: The source's A/B are crossed relative to the bus.
    inverted: bool = False
    #: Per-character corruption probability on this bus at this baud rate.
    p_error: float = 0.0
    #: Who caused it: "adapter", "clu" or "device" (a reply inherits its request's cause).
    cause: str = "device"
    bit: float = field(init=False)
    bits_per_char: float = field(init=False)
    char_time: float = field(init=False)
    end: float = field(init=False)
    #: Bit cells before the stop bits: start + data + parity.
    n_cells: int = field(init=False)
    #: Per character: bit j = level of cell j (start, data LSB first, parity), stop bits not stored.
    patterns: list[int] = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.bit = 1.0 / s.baudrate
        self.bits_per_char = s.bits_per_char
        self.char_time = s.char_time
        self.end = self.start + len(self.data) * self.char_time
        mask = (1 << s.bytesize) - 1
        self.n_cells = 1 + s.bytesize + (0 if s.parity == "N" else 1)
        patterns = []
        for byte in self.data:
            value = byte & mask
            pattern = value << 1
            if s.parity != "N":
                pattern |= _parity_bit(value, s.parity) << (1 + s.bytesize)
            patterns.append(pattern)
        self.patterns = patterns

    def char_start(self, index: int) -> float:
        return self.start + index * self.char_time

    def cell_at(self, t: float) -> tuple[int, int]:
        """(character index, cell index) at time ``t``; cell ``n_cells`` = the stop bits.

        Computed in bit units with a tiny bias, so that a boundary time belongs to the cell it
        starts (float rounding must never put it back into the cell before).
        """
        offset = (t - self.start) / self.bit + _EPS
        index = int(offset // self.bits_per_char)
        cell = min(int(offset - index * self.bits_per_char), self.n_cells)
        return index, cell

    def level(self, t: float, flips: dict[int, int] | None) -> int:
        """Bus level this transmission drives at ``t`` (its own polarity applied)."""
        index, cell = self.cell_at(t)
        if index >= len(self.patterns):
            index, cell = len(self.patterns) - 1, self.n_cells
        value = 1 if cell >= self.n_cells else (self.patterns[index] >> cell) & 1
        if flips and flips.get(index) == cell:
            value ^= 1
        return value ^ 1 if self.inverted else value

    def next_boundary(self, t: float) -> float:
        """The first time after ``t`` at which this transmission's level may change."""
        if t < self.start:
            return self.start
        if t >= self.end:
            return math.inf
        index, cell = self.cell_at(t)
        base = index * self.bits_per_char
        if cell < self.n_cells:
            return self.start + (base + cell + 1) * self.bit
        return self.start + (base + self.bits_per_char) * self.bit


class Wire:
    """Every transmission still of interest to some receiver, sorted by start time."""

    def __init__(self) -> None:
        self.txs: list[Transmission] = []
        self._starts: list[float] = []
        self._seq = 0
        #: Duration of the longest transmission seen: bounds the search for overlaps.
        self._longest = 0.0
        #: Bumped whenever a transmission is added or all are dropped: receivers' cached
        #: judgements ("this character run is clean") hold only while it is unchanged.
        self.version = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, tx: Transmission) -> None:
        self.version += 1
        self._longest = max(self._longest, tx.end - tx.start)
        at = bisect.bisect_right(self._starts, tx.start)
        self._starts.insert(at, tx.start)
        self.txs.insert(at, tx)

    def overlapping(self, t0: float, t1: float) -> list[Transmission]:
        """Transmissions with ``start < t1`` and ``end > t0``."""
        starts = self._starts
        stop = bisect.bisect_left(starts, t1)
        first = bisect.bisect_left(starts, t0 - self._longest, 0, stop)
        return [tx for tx in self.txs[first:stop] if tx.end > t0]

    def first_start_after(self, t: float) -> float:
        at = bisect.bisect_right(self._starts, t)
        return self._starts[at] if at < len(self._starts) else math.inf

    def prune(self, before: float) -> None:
        """Forget transmissions that ended before ``before``."""
        keep = [tx for tx in self.txs if tx.end >= before]
        if len(keep) != len(self.txs):
            self.txs = keep
            self._starts = [tx.start for tx in keep]

    def clear(self) -> None:
        self.version += 1
        self.txs.clear()
        self._starts.clear()


# --- the UART ---------------------------------------------------------------------------------

_WAIT = None


def _start_of(tx: Transmission) -> float:
    return tx.start


#: :meth:`Receiver._fast`: nothing more before the bound (a clean character still arriving,
#: or an idle line).
_LATER: list[RxChar] = []


class Receiver:
    """One node's UART on the bus: decodes the waveform it hears into :class:`RxChar`.

    ``hears`` holds the node ids whose transmissions reach this receiver (topology: breaks);
    ``node`` is its own id (blind while it transmits). ``decode_until(bound)`` returns every
    character whose samples all lie before ``bound``; the caller guarantees that every
    transmission starting before ``bound`` is already on the wire.
    """

    def __init__(
        self,
        wire: Wire,
        node: int,
        hears: Iterable[int],
        settings: LineSettings,
        *,
        inverted: bool = False,
        seed: str = "",
        start: float = 0.0,
    ) -> None:
        self.wire = wire
        self.node = node
        self.hears = frozenset(hears)
        self.inverted = inverted
        self.seed = seed
        self._flips: dict[int, dict[int, int]] = {}
        self.settings = settings
        self._configure(settings)
        self.reset(start)

    def _configure(self, settings: LineSettings) -> None:
        self.settings = settings
        self.bit = 1.0 / settings.baudrate
        self.n_data = settings.bytesize
        self.n_cells = 1 + settings.bytesize + (0 if settings.parity == "N" else 1)
        self.char_time = settings.char_time
        #: From a character's start to the middle of its first stop bit.
        self._sample = (self.n_cells + 0.5) * self.bit
        self._plan: tuple[Transmission, int, int, float] | None = None

    def set_settings(self, settings: LineSettings) -> None:
        """Change the UART's settings from now on (characters already decoded stay)."""
        if settings != self.settings:
            self._configure(settings)

    def reset(self, t: float) -> None:
        """Start hunting afresh at ``t`` (after a jump in time)."""
        self.cursor = t
        self.prev_level = 1
        self._plan = None
        self._flips.clear()

    def forget_before(self, seq: int) -> None:
        """Drop noise draws of transmissions older than ``seq`` (pruned from the wire)."""
        for old in [s for s in self._flips if s < seq]:
            del self._flips[old]

    def peek(self, bound: float, *, run: bool = False) -> float | None:
        """When the next character will be complete, judging by the wire as it is now.

        With ``run``, when the last character of the clean run it starts will be (a whole
        frame, usually): the moment worth waking a client for.
        """
        cursor, previous, plan = self.cursor, self.prev_level, self._plan
        try:
            chars = self._fast(bound)
            if chars:
                return chars[-1].end if run else chars[0].end
            char = self._generic(bound)
            return None if char is None else char.end
        finally:
            self.cursor, self.prev_level, self._plan = cursor, previous, plan

    # -- waveform as this receiver sees it ------------------------------------------------

    def _relevant(self, t0: float, t1: float) -> list[Transmission]:
        hears, me = self.hears, self.node
        return [tx for tx in self.wire.overlapping(t0, t1) if tx.source in hears or tx.source == me]

    def _flips_for(self, tx: Transmission) -> dict[int, int]:
        flips = self._flips.get(tx.seq)
        if flips is None:
            flips = {}
            p = min(tx.p_error, NOISE_CAP)
            if p > 0:
                # Independent per (seed, receiver, transmission), so the draws do not depend
                # on the order or the steps in which receivers decode. The gap to the next
                # corrupted character is geometric: one draw per hit, not one per character.
                rng = random.Random(f"{self.seed}/{self.node}/{tx.seq}")
                log_q = math.log1p(-p)
                index = -1
                while True:
                    index += 1 + int(math.log(1.0 - rng.random()) / log_q)
                    if index >= len(tx.data):
                        break
                    flips[index] = rng.randrange(tx.n_cells + 1)
            self._flips[tx.seq] = flips
        return flips

    def level(self, t: float, relevant: Sequence[Transmission]) -> int:
        driven = -1
        for tx in relevant:
            if tx.start <= t < tx.end:
                if tx.source == self.node:
                    return 1  # own transmission: receiver disabled, RX pin idles high
                value = tx.level(t, self._flips_for(tx))
                driven = value if driven < 0 else driven & value
        if driven < 0:
            return 1  # undriven: true fail-safe reads mark, whatever the polarity
        return driven ^ 1 if self.inverted else driven

    # -- decoding ---------------------------------------------------------------------------

    def decode_until(self, bound: float) -> list[RxChar]:
        out: list[RxChar] = []
        while True:
            run = self._fast(bound)
            if run is _LATER:
                return out
            if run:
                out.extend(run)
                if self._plan is not None:
                    return out  # the run goes on past the bound
                continue
            char = self._generic(bound)
            if char is None:
                return out
            out.append(char)

    def _fast(self, bound: float) -> list[RxChar] | None:
        """The next characters, if they are clean copies of one transmission's characters.

        Gives exactly what :meth:`_generic` would give in that case, only cheaper: the common
        case on a healthy bus. ``None``: not such a case; ``_LATER``: nothing more before
        ``bound`` (a clean character still arriving, or an idle line).

        The judgement "characters ``index`` to ``last`` of this transmission reach me
        untouched" is kept in ``_plan`` while the wire is unchanged, so a receiver decoded in
        many small steps does not re-examine the wire at every step.
        """
        t = self.cursor
        if self.prev_level != 1:
            return None
        plan = self._plan
        if plan is not None and plan[2] == self.wire.version and plan[3] == t:
            tx, last = plan[0], plan[1]
            index = 0 if t <= tx.start else round((t - tx.start - self._sample) / tx.char_time) + 1
        else:
            self._plan = None
            upcoming = self._relevant(t, bound)
            if not upcoming:
                self.cursor = bound  # idle up to the bound: the line reads mark (fail-safe)
                return _LATER
            tx = min(upcoming, key=_start_of)
            if tx.source == self.node or tx.inverted != self.inverted:
                return None
            if tx.settings is not self.settings and tx.settings != self.settings:
                return None
            if t <= tx.start:
                index = 0
            else:
                index, cell = tx.cell_at(t)
                if cell < tx.n_cells:
                    return None
                index += 1
            if index >= len(tx.data):
                return None
            # Nothing else may touch the line from the cursor to the end of this
            # transmission; failing that, to the end of the next character.
            if len(self._relevant(t, tx.end)) == 1:
                last = len(tx.data)
            elif len(self._relevant(t, tx.start + (index + 1) * tx.char_time)) == 1:
                last = index + 1
            else:
                return None
            flips = self._flips_for(tx)
            if flips:
                last = min([last, *(i for i in flips if i >= index)])
            if index >= last:
                return None
        char_time, sample = tx.char_time, self._sample
        mask = (1 << self.n_data) - 1
        data, seq, start0 = tx.data, tx.seq, tx.start
        out: list[RxChar] = []
        while index < last:
            start = start0 + index * char_time
            end = start + sample
            if end >= bound:
                break
            out.append(RxChar(data[index] & mask, NO_ERROR, start, end, seq))
            index += 1
        if out:
            self.cursor = out[-1].end
        self._plan = (tx, last, self.wire.version, self.cursor) if index < last else None
        return out or _LATER

    def _generic(self, bound: float) -> RxChar | None:
        """Hunt for a start bit edge and sample one character, bit by bit."""
        while True:
            t = self.cursor
            relevant = self._relevant(t, bound)
            if not relevant:
                # Nothing drives the line up to ``bound``: it idles at mark (fail-safe).
                self.cursor = bound
                self.prev_level = 1
                return _WAIT
            edge = self._find_edge(t, bound, relevant)
            if edge is None:
                return _WAIT
            bit = self.bit
            last_sample = edge + (self.n_cells + 0.5) * bit
            if last_sample >= bound:
                self.cursor, self.prev_level = edge, 1  # re-find this edge next time
                return _WAIT
            window = self._relevant(edge, last_sample + bit)
            if self.level(edge + 0.5 * bit, window) != 0:
                # A glitch, not a start bit: keep hunting after it.
                self.cursor, self.prev_level = edge + 0.5 * bit, 1
                continue
            value = 0
            for j in range(self.n_data):
                value |= self.level(edge + (1.5 + j) * bit, window) << j
            error = NO_ERROR
            any_mark = value != 0
            if self.settings.parity != "N":
                parity = self.level(edge + (1.5 + self.n_data) * bit, window)
                any_mark = any_mark or parity == 1
                if parity != _parity_bit(value, self.settings.parity):
                    error = PARITY
            stop = self.level(last_sample, window)
            if stop == 0:
                # Low from start bit to stop bit: a break; otherwise a framing error.
                error = FRAMING if any_mark else BREAK
            self.cursor = last_sample
            self.prev_level = stop
            source = None
            if error == NO_ERROR:
                drivers = [tx for tx in window if tx.start < last_sample and tx.end > edge]
                if len(drivers) == 1 and drivers[0].source != self.node:
                    source = drivers[0].seq
            return RxChar(value, error, edge, last_sample, source)

    def _boundary(self, tx: Transmission, t: float) -> float:
        """Next time after ``t`` the level may change because of ``tx``. While its own node
        transmits the receiver is blind, so only the start and end of its own frames count."""
        if tx.source != self.node:
            return tx.next_boundary(t)
        if t < tx.start:
            return tx.start
        return tx.end if t < tx.end else math.inf

    def _find_edge(self, t: float, bound: float, relevant: list[Transmission]) -> float | None:
        """The first 1 -> 0 transition at or after ``t`` and before ``bound``, or None."""
        previous = self.prev_level
        tau = t
        while tau < bound:
            current = self.level(tau, relevant)
            if previous == 1 and current == 0:
                return tau
            previous = current
            nxt = min((self._boundary(tx, tau) for tx in relevant), default=math.inf)
            if nxt <= tau:  # guard against rounding: step past
                nxt = tau + self.bit / 16
            tau = nxt
        # The level is constant from the last boundary to ``bound``: resume from there.
        self.cursor = bound
        self.prev_level = previous
        return None
