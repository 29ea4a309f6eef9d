"""What the simulated bus devices answer: ABL-style EVCC charge controllers and Modbus meters.

Both take one decoded, checksum-valid :class:`~clu_doctor.bus.frames.Frame` addressed to them
(or broadcast) and return the reply frame, or ``None`` for silence. Everything about *when* and
*whether the frame arrived intact* lives in :mod:`clu_doctor.sim.simulator`; this module is the
register map.

**EVCC** (abl-protocol.md §1-§3). Reads (function 0x03 only) of exactly these blocks are
answered: 0x0001 x2, 0x0003 x1, 0x0004 x1, 0x0006 x2, 0x000F x5 and 0x0015 x5 (undocumented:
the current-limit and control-pilot blocks, shaped as captured on real controllers,
field-evidence.md §2.2), 0x002E x5, 0x0033 x3, 0x0050 x8, each
with ABL's echo quirk (the high byte of the first word repeats the low byte of the start
register). Writes (0x10) of one register to 0x0005 (state command), 0x0014 (Icmax) and 0x002C
(ID and upstream-timeout setup, only in state E2) are applied and echoed; a value the device
refuses gets ABL's error reply ``0x90 04``. Like the real controller it stays **silent** for an
unknown register, a wrong count, a wrong byte count, any other function code, and any
broadcast (broadcast writes are still applied). Checksum and parity errors never reach this
module: the receiver drops those frames.

**EVCC1** (ABL's first generation, field-evidence.md §2.1), through the ``evcc1`` codec's
register view: a read command ``cc`` (01 firmware, 02 state, 04 outputs, 07/08 CP+/CP- ADC,
09 CS ADC, 10 inputs, 11 duty, 23 address, 26 Idefault, 29 bBreakCharge) is answered with its
value; command 12 (set Icmax: a table index 0000-0010, a duty 0080-0970 or 0999 for "no
charging") is applied and acknowledged (``>n 12``), a value out of range gets ``ERR``. Any other
command, a read with data, and everything sent to address 0 (all modules) get silence here: the
simulated CLU sends none of them, and clu-doctor never does.

**Meter.** A generic Modbus RTU slave over a register table: functions 0x03 and 0x04 read the
same table; a range outside it gets exception 02, a bad count exception 03, any other function
exception 01, writes exception 01 (read-only); broadcasts and malformed frames get silence.
"""

from __future__ import annotations

from clu_doctor.bus.codecs.evcc1 import text_registers
from clu_doctor.bus.errors import MalformedFrame
from clu_doctor.bus.frames import (
    BROADCAST_ADDRESS,
    MAX_READ_COUNT,
    READ_FUNCTIONS,
    READ_HOLDING_REGISTERS,
    WRITE_MULTIPLE_REGISTERS,
    Direction,
    Frame,
    ReadRequest,
    build_exception,
    build_read_reply,
)
from clu_doctor.bus.profile import CP_VOLTS_PER_COUNT
from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.scenario import Controller

#: Blocks an ABL EVCC answers, by (start, count).
EVCC_READ_BLOCKS = frozenset(
    {
        (0x0001, 2),
        (0x0003, 1),
        (0x0004, 1),
        (0x0006, 2),
        (0x000F, 5),
        (0x0015, 5),
        (0x002E, 5),
        (0x0033, 3),
        (0x0050, 8),
    }
)
REG_STATE_COMMAND = 0x0005
REG_ICMAX = 0x0014
REG_SETUP = 0x002C
WRITABLE = frozenset({REG_STATE_COMMAND, REG_ICMAX, REG_SETUP})
ABL_WRITE_FAILED = 0x04
#: Register 0x0001: PCB generation code 1 (160307) and firmware 5.0 with the flag byte of a
#: real trace (0x50BE, abl-protocol.md §2).
PCB_CODE = 1
FIRMWARE_WORD = 0x50BE
#: 0x0014 value for "no current allowed", and the accepted range.
ICMAX_NONE = 0x03E8
ICMAX_MIN = 0x0050
NOT_AVAILABLE = 0x03E8  # 0x002E: meter not available or state A
NOT_AVAILABLE_A = 0x64  # 0x0033: same, in whole ampere
#: 0x0003 baud codes. Only 7 = 38400 is documented (ABL's example 0x0327); the others are
#: assumed to count on from it in the order ABL lists the rates.
BAUD_CODES = {9600: 5, 19200: 6, 38400: 7, 57600: 8}
PARITY_CODES = {"N": 0, "O": 1, "E": 2}
#: 0x000F x5 (captured: ``0F3F 010B 010B 00E9 00E9``): the echo with a low byte every capture
#: shows as 0x3F, the box's own current limit (duty % x 10; 0x010B = 16 A in every capture),
#: the setting, the 0x0014 preset and the effective limit.
LIMIT_ECHO = 0x0F3F
BOX_LIMIT_DUTY = 0x010B
#: 0x0015 x5 (captured: ``15A1 0ADA 0000 0000 0ACB``): the echo with the state, CP+ and CP- as
#: ADC counts of 0.00425 V, PP, and a temperature-like value. The captures are of state A
#: (0x0ADA: 11.8 V); the other pilot levels (9 V with a vehicle, 6 V charging: IEC 61851) are
#: the same scale, and CP- is 0 in every capture, so it is 0 here too.
CP_COUNTS = {
    0xA: 0x0ADA,  # as captured
    0xB: round(9.0 / CP_VOLTS_PER_COUNT),
    0xC: round(6.0 / CP_VOLTS_PER_COUNT),
}
PP_COUNTS = 0x0000
TEMPERATURE_COUNTS = 0x0ACB


def amps_to_duty(amps: float) -> int:
    """ABL's Icmax duty cycle (% x 10) for a current: A / 0.06, as evcc and esphome use."""
    return max(ICMAX_MIN, min(ICMAX_NONE, round(amps / 0.06)))


def line_code(settings: LineSettings) -> int:
    """Register 0x0003's low byte: stop bits (7..6), parity (5..4), baud code (3..0)."""
    stop = 1 if float(settings.stopbits) >= 2 else 0
    return (stop << 6) | (PARITY_CODES[settings.parity] << 4) | BAUD_CODES.get(settings.baudrate, 0)


def _write_request(frame: Frame) -> tuple[int, int] | None:
    """(register, value) of a one-register 0x10 write, or None for any other shape."""
    data = frame.data
    if len(data) != 7:
        return None
    start = int.from_bytes(data[0:2], "big")
    count = int.from_bytes(data[2:4], "big")
    if count != 1 or data[4] != 2:
        return None
    return start, int.from_bytes(data[5:7], "big")


class Evcc:
    """One ABL-style EVCC controller: its registers and its reaction to a request."""

    def __init__(self, spec: Controller, settings: LineSettings) -> None:
        self.spec = spec
        self.address = spec.address
        self.state = spec.state
        self.icmax_duty = amps_to_duty(spec.icmax_a)
        self.settings = settings
        #: ID written to 0x002C in E2, applied at the next reset (0x0005 = 0x5A5A).
        self.pending_address: int | None = None
        self.upstream_timeout = True
        self.writes: list[tuple[int, int]] = []

    def hears(self, address: int) -> bool:
        return address in (self.address, BROADCAST_ADDRESS)

    def handle(self, frame: Frame) -> Frame | None:
        if not self.hears(frame.address):
            return None
        broadcast = frame.address == BROADCAST_ADDRESS
        if frame.function == READ_HOLDING_REGISTERS:
            if broadcast:
                return None  # broadcasts are never answered
            try:
                request = ReadRequest.from_frame(frame)
            except MalformedFrame:
                return None
            if (request.start, request.count) not in EVCC_READ_BLOCKS:
                return None  # unknown register or wrong count: silence
            return build_read_reply(request, self.registers(request.start))
        if frame.function == WRITE_MULTIPLE_REGISTERS:
            write = _write_request(frame)
            if write is None or write[0] not in WRITABLE:
                return None
            accepted = self.write(*write)
            if broadcast:
                return None
            if not accepted:
                return build_exception(self.address, WRITE_MULTIPLE_REGISTERS, ABL_WRITE_FAILED)
            echo = frame.data[0:4]
            return Frame(self.address, WRITE_MULTIPLE_REGISTERS, echo, Direction.REPLY)
        return None  # any other function: silence

    # -- registers --------------------------------------------------------------------------

    @property
    def charging(self) -> bool:
        return self.state >> 4 == 0xC

    @property
    def ev_connected(self) -> bool:
        return self.state >> 4 in (0xB, 0xC)

    def currents_tenths(self) -> tuple[int, int, int]:
        """Ict1..3 in 0.1 A as 0x002E reports them (0x03E8: not available or state A)."""
        currents = self.spec.currents_a
        if currents is None or self.state >> 4 == 0xA:
            return (NOT_AVAILABLE,) * 3
        if not self.charging:
            return (0, 0, 0)
        a, b, c = (round(x * 10) for x in currents)
        return (a, b, c)

    def pilot_counts(self) -> int:
        """CP+ as 0x0015 reports it: the IEC 61851 pilot level of the state in ADC counts (0 in
        an error or setup state, where the captures say nothing), or the scenario's faulty
        ``pilot_v``."""
        if self.spec.pilot_v is not None:
            return round(self.spec.pilot_v / CP_VOLTS_PER_COUNT)
        return CP_COUNTS.get(self.state >> 4, 0)

    def registers(self, start: int) -> list[int]:
        state = self.state
        if start == 0x0001:
            return [0x0100 | (PCB_CODE << 6) | (self.address & 0x3F), FIRMWARE_WORD]
        if start == 0x0003:
            return [0x0300 | line_code(self.settings)]
        if start == 0x0004:
            return [0x0400 | state]
        if start == 0x0006:
            flags = 0x0200 if state == 0xF4 else 0  # bit 9: upstream communication lost
            return [0x0600 | (state & 0x3F), flags]
        if start == 0x000F:
            effective = 0 if self.icmax_duty >= ICMAX_NONE else min(BOX_LIMIT_DUTY, self.icmax_duty)
            return [LIMIT_ECHO, BOX_LIMIT_DUTY, self.icmax_duty, self.icmax_duty, effective]
        if start == 0x0015:
            return [0x1500 | state, self.pilot_counts(), 0, PP_COUNTS, TEMPERATURE_COUNTS]
        if start == 0x002E:
            word1 = self.icmax_duty & 0x0FFF
            word1 |= 0x1000  # EN1 closed (enabled)
            if self.ev_connected:
                word1 |= 0x8000  # U_CP <= 10 V
            if state in (0xC3, 0xC4):
                word1 |= 0x4000  # duty reduced
            return [0x2E00 | state, word1, *self.currents_tenths()]
        if start == 0x0033:
            amps = [
                NOT_AVAILABLE_A if t == NOT_AVAILABLE else min(0xFF, round(t / 10))
                for t in self.currents_tenths()
            ]
            word0 = 0x3300 | (0x80 if self.ev_connected else 0)
            return [word0, (state << 8) | amps[0], (amps[1] << 8) | amps[2]]
        if start == 0x0050:
            text = (self.spec.type.ljust(6)[:6] + self.spec.serial.ljust(8)[:8]).encode("ascii")
            words = [int.from_bytes(text[i : i + 2], "big") for i in range(0, 14, 2)]
            return [0x5000, *words]
        raise ValueError(f"no register block at 0x{start:04X}")

    def write(self, register: int, value: int) -> bool:
        """Apply a write; False if the controller refuses it (ABL answers 0x90 04)."""
        self.writes.append((register, value))
        if register == REG_ICMAX:
            if not ICMAX_MIN <= value <= ICMAX_NONE:
                return False
            self.icmax_duty = value
            return True
        if register == REG_STATE_COMMAND:
            return self._command(value)
        if register == REG_SETUP:
            if self.state != 0xE2 or not 1 <= (value & 0xFF) <= 16:
                return False
            self.pending_address = value & 0xFF
            bits = value >> 14
            if bits in (1, 2):
                self.upstream_timeout = bits == 2
            return True
        return False

    def _command(self, value: int) -> bool:
        state = self.state
        if value == 0x5A5A:  # reset
            if self.pending_address is not None:
                self.address, self.pending_address = self.pending_address, None
            self.state = 0xA1 if state in (0xE0, 0xE2) or state >> 4 == 0xF else self.spec.state
            return True
        if value == 0xE0E0:
            self.state = 0xE0
            return True
        if value == 0xA1A1 and state in (0xE0, 0xE2):
            self.state = 0xA1
            return True
        if value == 0xE2E2 and state in (0xA1, 0xE0):
            self.state = 0xE2
            return True
        if value == 0xF1F1:
            self.state = 0xF1
            return True
        return value == 0x3838 and state == 0xE2


#: A first-generation controller's decimal state for each state code a scenario may give it:
#: the inverse of profile defa-evcc1's ``state_values`` (its main value for each code).
EVCC1_STATES = {
    0xA1: 0,
    0xB1: 2,
    0xB2: 4,
    0xC2: 5,
    0xE2: 255,
    0xF5: 37,
    0xF6: 33,
    0xF7: 39,
    0xF8: 35,
}
EVCC1_ICMAX = 12
#: Command 12's table indices 0-9 (field-evidence.md §2.1), in ampere; 10 selects Idefault.
EVCC1_ICMAX_TABLE = (6, 10, 13, 16, 20, 30, 32, 63, 70, 80)
EVCC1_NO_CHARGING = 999
#: CP+ ADC counts (x 0.017 V) at the pilot's plateau in states A (12 V), B (9 V), C (6 V).
EVCC1_CP_VOLTS = {0xA: 12.0, 0xB: 9.0, 0xC: 6.0}
EVCC1_ADC_STEP_V = 0.017


class Evcc1:
    """One first-generation EVCC controller (see the module docstring)."""

    def __init__(self, spec: Controller) -> None:
        self.spec = spec
        self.address = spec.address
        self.state = spec.state
        self.duty = amps_to_duty(spec.icmax_a)
        self.writes: list[tuple[int, int]] = []

    def hears(self, address: int) -> bool:
        return address in (self.address, BROADCAST_ADDRESS)

    @property
    def state_value(self) -> int:
        return EVCC1_STATES.get(self.state, 0)

    def handle(self, frame: Frame) -> Frame | None:
        if frame.address != self.address:
            return None  # another module's, or address 0 (all modules): nothing to answer
        if frame.function == READ_HOLDING_REGISTERS and len(frame.data) == 4:
            command = int.from_bytes(frame.data[0:2], "big")
            value = self.read(command)
            if value is None:
                return None
            registers = (command, *value)
            request = ReadRequest(self.address, command, len(registers))
            return build_read_reply(request, registers)
        if frame.function == WRITE_MULTIPLE_REGISTERS:
            write = _write_request(frame)
            if write is None or write[0] != EVCC1_ICMAX:
                return None
            if not self.set_icmax(write[1]):
                return Frame(
                    self.address, WRITE_MULTIPLE_REGISTERS | 0x80, bytes((4, EVCC1_ICMAX)),
                    Direction.REPLY,
                )  # fmt: skip
            return Frame(self.address, WRITE_MULTIPLE_REGISTERS, frame.data[0:4], Direction.REPLY)
        return None

    def read(self, command: int) -> tuple[int, ...] | None:
        """The value(s) command ``command`` answers with, ``None`` for no answer."""
        family = self.state >> 4
        if command == 1:
            return text_registers(self.spec.firmware)
        if command == 2:
            return (self.state_value,)
        if command == 7:
            return (round(EVCC1_CP_VOLTS.get(family, 12.0) / EVCC1_ADC_STEP_V),)
        if command == 8:
            return (round(12.0 / EVCC1_ADC_STEP_V),)  # CP- plateau: -12 V, as a magnitude
        if command == 11:
            return (self.duty if family in (0xB, 0xC) else 1000,)
        if command == 23:
            return (self.address,)
        if command == 26:
            return (amps_to_duty(self.spec.icmax_a),)
        if command in (4, 9, 10, 29):
            return (0,)
        return None

    def set_icmax(self, value: int) -> bool:
        self.writes.append((EVCC1_ICMAX, value))
        if 0 <= value < len(EVCC1_ICMAX_TABLE):
            self.duty = amps_to_duty(EVCC1_ICMAX_TABLE[value])
        elif value == 10:
            self.duty = amps_to_duty(self.spec.icmax_a)
        elif 80 <= value <= 970 or value == EVCC1_NO_CHARGING:
            self.duty = value
        else:
            return False
        return True


class Meter:
    """A generic read-only Modbus meter over a register table."""

    def __init__(self, spec: Controller) -> None:
        self.spec = spec
        self.address = spec.address
        self.table = dict(spec.registers)

    def hears(self, address: int) -> bool:
        return address in (self.address, BROADCAST_ADDRESS)

    def handle(self, frame: Frame) -> Frame | None:
        if frame.address != self.address or frame.is_exception:
            return None  # not ours, a broadcast (never answered), or another meter's exception
        if frame.function in READ_FUNCTIONS:
            if len(frame.data) != 4:
                return None  # malformed (or another device's reply): ignore
            start = int.from_bytes(frame.data[0:2], "big")
            count = int.from_bytes(frame.data[2:4], "big")
            if not 1 <= count <= MAX_READ_COUNT:
                return build_exception(self.address, frame.function, 3)
            if any(start + i not in self.table for i in range(count)):
                return build_exception(self.address, frame.function, 2)
            request = ReadRequest(self.address, start, count, frame.function)
            return build_read_reply(request, [self.table[start + i] for i in range(count)])
        if frame.function == WRITE_MULTIPLE_REGISTERS and len(frame.data) == 4:
            return None  # another meter's write echo
        return build_exception(self.address, frame.function, 1)


Device = Evcc | Evcc1 | Meter
