"""Device profiles: what a device on the bus is, in YAML, with decoders chosen by name.

DEFA publishes neither its bus protocol nor a register map, so what clu-doctor knows about a
device lives in a profile file: framing, line settings, address range, which registers identify
the device and carry its status, the meaning and severity of each state code, and timing.
Bundled profiles ship in ``clu_doctor/bus/profiles/``; a technician can give another file with
``--profile FILE``. Profiles are data, never code: a profile names one of the decoders in the
fixed registries below (:data:`IDENTITY_DECODERS`, :data:`STATUS_DECODERS`), and every problem in
a profile file is reported as ``file:line: message``.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from clu_doctor.bus.codecs import FRAMINGS
from clu_doctor.bus.errors import UnexpectedAnswer
from clu_doctor.bus.frames import MAX_ADDRESS, MAX_READ_COUNT, READ_FUNCTIONS, ReadRequest
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError, Location, UsageError, raise_if_problems
from clu_doctor.records import record
from clu_doctor.resources import profiles_dir
from clu_doctor.severity import GRADES, Severity
from clu_doctor.yamlio import Reader, YamlList, YamlMap, load_yaml_text, read_text

#: The words a profile may give a state code's severity (a state always decides: no unknown).
SEVERITIES = tuple(grade.value for grade in GRADES)
#: ABL: a phase current of 0x03E8 (100.0 A) means "no meter, or state A" (abl-protocol.md §2).
CURRENT_NOT_AVAILABLE = 0x03E8


# --- what decoders produce ---------------------------------------------------------------------


@record
class Identity:
    """Who a device says it is."""

    #: One line for people, e.g. ``2W22M1 00012345``.
    text: str
    device_type: str | None
    serial: str | None
    raw: tuple[int, ...]


@record
class StateInfo:
    """One state code of a profile's state table."""

    code: str
    byte: int
    meaning: str
    severity: Severity


@record
class StationStatus:
    """A charge point's state and phase currents, decoded from its status registers."""

    #: The state code as the controller's display shows it, e.g. ``A1``; ``None`` if unknown.
    state: str | None
    state_byte: int | None
    meaning: str
    severity: Severity
    #: Phase currents in amperes in the controller's order (Ict1..Ict3, read as L1..L3 by
    #: [ABL]; evcc reverses them, see abl-protocol.md §2); ``None`` = not available.
    currents: tuple[float | None, ...] = ()
    #: U_CP <= 10 V: a vehicle is connected. ``None`` where the bit is not valid (E/F states).
    ev_connected: bool | None = None
    #: The maximum-current PWM duty cycle the controller offers, in percent.
    duty_percent: float | None = None
    #: Other flags the registers carry, in words (``EN1 closed``, ...).
    flags: tuple[str, ...] = ()
    raw: tuple[int, ...] = ()
    #: The phase each of ``currents`` most likely is, an inference the decoder names (empty:
    #: none): on ABL's 0x002E block L3, L2, L1, against ABL's own table (field-evidence §4:
    #: evcc reads them so, and a captured single-phase charge draws in the last word).
    likely_phases: tuple[str, ...] = ()

    @property
    def currents_available(self) -> bool:
        return any(current is not None for current in self.currents)


# --- the profile ------------------------------------------------------------------------------


#: IEC 61851-1 control-pilot plateaus by state letter: A no vehicle 12 V, B connected 9 V,
#: C charging 6 V, D charging with ventilation 3 V; a reading more than this far from its
#: state's plateau is off level (the standard's bands are +-1 V).
PILOT_LEVELS_V: Mapping[str, float] = MappingProxyType({"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0})
PILOT_TOLERANCE_V = 1.0


@record
class PilotReading:
    """The control-pilot voltages a controller measures (ABL 0x0015, undocumented: read-only,
    shaped as captured on real EVCC2/3 controllers, field-evidence §5)."""

    #: The state code the block echoes (``A1``), ``None`` if it is not one the profile knows.
    state: str | None
    #: CP+ and CP- in volts (ADC counts x 0.00425 V, as the captures scale them).
    cp_plus_v: float
    cp_minus_v: float
    raw: tuple[int, ...] = ()

    @property
    def expected_v(self) -> float | None:
        """The plateau CP+ should sit on in this state (``None``: E/F/setup, not judged)."""
        return PILOT_LEVELS_V.get(self.state[:1]) if self.state else None

    @property
    def off_level(self) -> bool:
        """CP+ further than the standard's band from its state's plateau."""
        expected = self.expected_v
        return expected is not None and abs(self.cp_plus_v - expected) > PILOT_TOLERANCE_V

    def to_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "cp_plus_v": round(self.cp_plus_v, 2),
            "cp_minus_v": round(self.cp_minus_v, 2),
            "expected_v": self.expected_v,
            "off_level": self.off_level,
            "raw": list(self.raw),
        }


@record
class RegisterBlock:
    """A block of registers to read, and the decoder that reads it."""

    function: int
    start: int
    count: int
    decoder: str
    label: str = ""

    def request(self, address: int) -> ReadRequest:
        return ReadRequest(address, self.start, self.count, self.function)


@record
class Timing:
    """How fast a device answers (seconds)."""

    #: Nothing answers sooner than this after the end of a request.
    turnaround_floor: float
    #: What to expect; the simulator uses it.
    turnaround_typical: float
    #: The answer timeout to start with, before a device of this kind has answered on the
    #: bus (the probes then learn the bus's own; see bus/probes/base.py).
    response_timeout_floor: float
    #: How often the bus master polls each of these devices: a bus silent for a few of these
    #: has no master polling (listen-before-talk). An assumption unless a listen measured it.
    master_period: float = 1.0


DeviceKind = Literal["charge-controller", "energy-meter"]


@record
class DeviceProfile:
    name: str
    title: str
    description: str
    sources: tuple[str, ...]
    framing: str
    line: LineSettings
    addresses: tuple[int, ...]
    identity: RegisterBlock
    status: RegisterBlock | None
    states: Mapping[int, StateInfo]
    timing: Timing
    #: What the devices are: charge controllers (the CLU's charge-point bus) or energy meters
    #: (the meter bus); the advice for a fault differs.
    device: DeviceKind = "charge-controller"
    #: ABL controller generation the profile describes (1: EVCC text protocol, 2: EVCC2/3
    #: Modbus ASCII), ``None`` for other devices.
    generation: int | None = None
    #: The bundled profile of the same devices' other generation (``defa-evcc1`` for
    #: ``defa-erange``): what a listener uses for frames in the other generation's framing.
    other_generation: str | None = None
    #: First generation: the decimal state values and the state code each stands for (the
    #: second generation's code with the same meaning, so both read as the same states).
    state_values: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    #: The control-pilot block (ABL 0x0015 x5), read in active mode only; ``None``: no such read.
    pilot: RegisterBlock | None = None
    #: The file the profile came from.
    path: str = field(default="", compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (a profile read once is kept, see :func:`read_profile`) with its read-only
        tables as dicts: a ``MappingProxyType`` cannot be pickled."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["states"], values["state_values"] = dict(self.states), dict(self.state_values)
        return (_unpickled_profile, (values,))

    def for_framing(self, framing: str) -> DeviceProfile:
        """The profile that reads frames in ``framing``: this one, or its other generation's
        bundled profile when that speaks this framing (a first-generation segment heard with
        the second generation's profile, or the reverse)."""
        if framing == self.framing:
            return self
        other = self.other_generation_profile()
        return other if other is not None and other.framing == framing else self

    def other_generation_profile(self) -> DeviceProfile | None:
        """The bundled profile ``other_generation`` names, if it loads."""
        if not self.other_generation:
            return None
        try:
            return load_profile(self.other_generation)
        except (ProfileNotFound, FileProblemError):
            return None

    def identity_request(self, address: int) -> ReadRequest:
        return self.identity.request(address)

    def decode_identity(self, registers: Sequence[int]) -> Identity:
        """Decode the answer to :meth:`identity_request`; :class:`UnexpectedAnswer` if it is not one."""
        block = self.identity
        values = _checked(block, registers)
        return IDENTITY_DECODERS[block.decoder].decode(block, values)

    def status_request(self, address: int) -> ReadRequest | None:
        """The status read, or ``None`` for a device without a status block (most meters)."""
        return self.status.request(address) if self.status else None

    def decode_status(self, registers: Sequence[int]) -> StationStatus:
        """Decode the answer to :meth:`status_request`; :class:`UnexpectedAnswer` if it is not one."""
        if self.status is None:
            raise ValueError(f"profile {self.name} has no status registers")
        block = self.status
        values = _checked(block, registers)
        decoder = STATUS_DECODERS[block.decoder]
        lookup = self.value_state_info if decoder.by_value else self.state_info
        return decoder.decode(block, values, lookup)

    def decode_pilot(self, registers: Sequence[int]) -> PilotReading:
        """Decode the answer to the pilot block; :class:`UnexpectedAnswer` if it is not one."""
        if self.pilot is None:
            raise ValueError(f"profile {self.name} has no pilot block")
        values = _checked(self.pilot, registers)
        byte = values[0] & 0xFF
        info = self.states.get(byte)
        return PilotReading(
            state=info.code if info is not None else None,
            cp_plus_v=values[1] * CP_VOLTS_PER_COUNT,
            cp_minus_v=values[2] * CP_VOLTS_PER_COUNT,
            raw=tuple(values),
        )

    def value_state_info(self, value: int) -> StateInfo:
        """First generation: the state a decimal state value stands for (``state_values``),
        or an 'unknown state' entry (severity warning) that keeps the number."""
        byte = self.state_values.get(value)
        if byte is not None:
            known = self.state_info(byte)
            return replace(known, meaning=f"{known.meaning} (state {value:04d})")
        return StateInfo(
            f"{value:04d}",
            value,
            f"unknown state {value:04d} (not in profile {self.name})",
            Severity.WARNING,
        )

    def state_info(self, byte: int) -> StateInfo:
        """The state table's entry for ``byte``, or an 'unknown state' entry (severity warning)."""
        known = self.states.get(byte)
        if known is not None:
            return known
        return StateInfo(
            f"{byte:02X}",
            byte,
            f"unknown state code 0x{byte:02X} (not in profile {self.name})",
            Severity.WARNING,
        )


def _checked(block: RegisterBlock, registers: Sequence[int]) -> tuple[int, ...]:
    values = tuple(registers)
    if len(values) != block.count:
        raise UnexpectedAnswer(
            f"{len(values)} registers for a {block.label or 'block'} of {block.count}"
        )
    if any(not 0 <= value <= 0xFFFF for value in values):
        raise ValueError("registers are 16-bit values")
    return values


# --- decoders ---------------------------------------------------------------------------------


def _text_of(registers: Sequence[int]) -> str:
    """Registers as ASCII, two characters each (high byte first), NULs and padding removed."""
    raw = b"".join(value.to_bytes(2, "big") for value in registers)
    text = raw.decode("ascii", errors="replace")
    return "".join(ch if ch.isprintable() else "?" for ch in text.replace("\x00", " ")).strip()


def _abl_echo(block: RegisterBlock, registers: Sequence[int]) -> None:
    """ABL controllers repeat the start register's low byte in the first word's high byte."""
    if registers[0] >> 8 != block.start & 0xFF:
        raise UnexpectedAnswer(
            f"word 0 is 0x{registers[0]:04X}: an ABL controller answering a read of "
            f"0x{block.start:04X} starts with 0x{block.start & 0xFF:02X}, so this is not that "
            "register map (another device type, or the wrong profile)"
        )


def _abl_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    # [CVV-SPL], [ROSCOE]: 6-character type (words 1-3) + 8-character serial (words 4-7).
    _abl_echo(block, registers)
    device_type = _text_of(registers[1:4]) or None
    serial = _text_of(registers[4:8]) or None
    text = " ".join(part for part in (device_type, serial) if part) or "(blank)"
    return Identity(text, device_type, serial, registers)


def _ascii_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    text = _text_of(registers)
    return Identity(text or "(blank)", None, text or None, registers)


def _uint16_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    return Identity(str(registers[0]), None, str(registers[0]), registers)


def _uint32_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    value = registers[0] << 16 | registers[1]
    return Identity(str(value), None, str(value), registers)


def _uint32_swapped_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    value = registers[1] << 16 | registers[0]
    return Identity(str(value), None, str(value), registers)


def _float32_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    (value,) = struct.unpack(">f", struct.pack(">HH", registers[0], registers[1]))
    text = "NaN" if math.isnan(value) else f"{value:g}"
    return Identity(f"{block.label}: {text}" if block.label else text, None, None, registers)


def _hex_identity(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    text = " ".join(f"{value:04X}" for value in registers)
    return Identity(text, None, text, registers)


def _abl_status(
    block: RegisterBlock, registers: tuple[int, ...], state_info: Callable[[int], StateInfo]
) -> StationStatus:
    # [ABL] 0x002E x5: w0 echo + state; w1 flags + Ic duty x10; w2..w4 Ict1..Ict3 in 0.1 A.
    _abl_echo(block, registers)
    info = state_info(registers[0] & 0xFF)
    flags_word = registers[1]
    in_error_state = info.code[:1] in ("E", "F")
    ev_connected = None if in_error_state else bool(flags_word & 0x8000)
    flags = []
    if flags_word & 0x4000:
        flags.append("current reduced")
    if flags_word & 0x2000:
        flags.append("EN2 closed")
    if flags_word & 0x1000:
        flags.append("EN1 closed")
    currents = tuple(
        None if value == CURRENT_NOT_AVAILABLE else value / 10 for value in registers[2:5]
    )
    return StationStatus(
        state=info.code,
        state_byte=info.byte,
        meaning=info.meaning,
        severity=info.severity,
        currents=currents,
        ev_connected=ev_connected,
        duty_percent=(flags_word & 0x0FFF) / 10,
        flags=tuple(flags),
        raw=registers,
        likely_phases=("L3", "L2", "L1"),
    )


def _abl_state(
    block: RegisterBlock, registers: tuple[int, ...], state_info: Callable[[int], StateInfo]
) -> StationStatus:
    # 0x0004 x1: echo 04 + state byte ([EVCC] ablRegStatus; traces in E526/E1497).
    _abl_echo(block, registers)
    info = state_info(registers[0] & 0xFF)
    return StationStatus(info.code, info.byte, info.meaning, info.severity, raw=registers)


def _evcc1_echo(block: RegisterBlock, registers: Sequence[int]) -> None:
    """First generation: the codec puts the command a reply answers in its first register."""
    if registers[0] != block.start:
        raise UnexpectedAnswer(
            f"the answer is to command {registers[0]:02d}, not to command {block.start:02d}"
        )


def _evcc1_firmware(block: RegisterBlock, registers: tuple[int, ...]) -> Identity:
    # Command 01: the firmware version as text, e.g. 'V2.7' (ABL EVCC V2.7 manual).
    _evcc1_echo(block, registers)
    text = _text_of(registers[1:]) or None
    return Identity(f"EVCC {text}" if text else "(blank)", "EVCC", None, registers)


def _evcc1_state(
    block: RegisterBlock, registers: tuple[int, ...], state_info: Callable[[int], StateInfo]
) -> StationStatus:
    # Command 02: the state as a decimal number (0000 = A, 0005 = C, 0033 = E/CS...).
    _evcc1_echo(block, registers)
    info = state_info(registers[1])
    return StationStatus(info.code, info.byte, info.meaning, info.severity, raw=registers)


@record
class IdentityDecoder:
    summary: str
    counts: range
    decode: Callable[[RegisterBlock, tuple[int, ...]], Identity]


@record
class StatusDecoder:
    summary: str
    counts: range
    decode: Callable[[RegisterBlock, tuple[int, ...], Callable[[int], StateInfo]], StationStatus]
    #: The state is a number the profile's ``state_values`` translate (first generation).
    by_value: bool = False


IDENTITY_DECODERS: Mapping[str, IdentityDecoder] = MappingProxyType(
    {
        "abl-identity": IdentityDecoder(
            "ABL 0x0050 block: echo word, 6-character type, 8-character serial",
            range(8, 9),
            _abl_identity,
        ),
        "ascii-string": IdentityDecoder(
            "the registers as ASCII text, two characters each",
            range(1, MAX_READ_COUNT + 1),
            _ascii_identity,
        ),
        "uint16": IdentityDecoder("one register as a number", range(1, 2), _uint16_identity),
        "uint32": IdentityDecoder(
            "two registers as a number, high word first", range(2, 3), _uint32_identity
        ),
        "uint32-swapped": IdentityDecoder(
            "two registers as a number, low word first", range(2, 3), _uint32_swapped_identity
        ),
        "float32": IdentityDecoder(
            "two registers as an IEEE float, high word first", range(2, 3), _float32_identity
        ),
        "hex": IdentityDecoder("the registers in hex", range(1, MAX_READ_COUNT + 1), _hex_identity),
        "evcc1-firmware": IdentityDecoder(
            "first-generation EVCC command 01: echo, firmware text", range(5, 6), _evcc1_firmware
        ),
    }
)

#: Volts per count of the 0x0015 block's CP+ and CP- words (captured: 0x0ADA in state A is
#: 11.8 V; said to be four times the first generation's resolution).
CP_VOLTS_PER_COUNT = 0.00425


class PilotDecoder(NamedTuple):
    description: str
    counts: range


PILOT_DECODERS: Mapping[str, PilotDecoder] = MappingProxyType(
    {
        "abl-pilot": PilotDecoder(
            "ABL 0x0015 block: echo + state, CP+, CP-, PP, temperature", range(5, 6)
        )
    }
)

STATUS_DECODERS: Mapping[str, StatusDecoder] = MappingProxyType(
    {
        "abl-status": StatusDecoder(
            "ABL 0x002E block: echo + state, flags + duty, three phase currents",
            range(5, 6),
            _abl_status,
        ),
        "abl-state": StatusDecoder("ABL 0x0004 register: echo + state", range(1, 2), _abl_state),
        "evcc1-state": StatusDecoder(
            "first-generation EVCC command 02: echo, decimal state value",
            range(2, 3),
            _evcc1_state,
            by_value=True,
        ),
    }
)


# --- loading ----------------------------------------------------------------------------------

_TOP_REQUIRED = (
    *("name", "title", "description", "sources", "framing", "line", "addresses", "identity"),
    "timing",
)
_TOP_OPTIONAL = (
    *("status", "states", "device", "generation", "other_generation", "state_values"),
    "pilot",
)
#: What a profile's devices can be (``device:``; charge controllers when not said).
DEVICE_KINDS: tuple[DeviceKind, ...] = ("charge-controller", "energy-meter")
_BLOCK = ("function", "start", "count", "decoder")
_STATE = ("meaning", "severity")
_TIMING = ("turnaround_floor_ms", "turnaround_typical_ms", "response_timeout_floor_ms")
_MASTER_PERIOD = "master_period_ms"
DEFAULT_MASTER_PERIOD_MS = 1000.0
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_STATE_CODE = re.compile(r"^[0-9A-F]{2}$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


class ProfileNotFound(UsageError):
    """``--profile NAME`` names no bundled profile (and is not a file)."""


def _read_block(
    reader: Reader, top: YamlMap, key: str, registry: Mapping[str, Any]
) -> RegisterBlock | None:
    block = reader.section(top[key], top.value_line_of(key), key, _BLOCK, ("label",))
    if block is None:
        return None
    function = reader.integer(block, "function", "'function'", low=0, high=255)
    if function is not None and function not in READ_FUNCTIONS:
        reader.report(
            block.value_line_of("function"), f"function {function} is not a read", "3 or 4"
        )
        function = None
    start = reader.integer(block, "start", "'start'", low=0, high=0xFFFF)
    count = reader.integer(block, "count", "'count'", low=1, high=MAX_READ_COUNT)
    decoder = reader.text(block, "decoder")
    label = reader.text(block, "label") or ""
    if decoder and decoder not in registry:
        reader.report(
            block.value_line_of("decoder"),
            f"unknown {key} decoder {decoder!r}",
            ", ".join(registry),
        )
        return None
    if decoder and count is not None and count not in registry[decoder].counts:
        counts: range = registry[decoder].counts
        wanted = str(counts.start) if len(counts) == 1 else f"{counts.start}..{counts.stop - 1}"
        reader.report(
            block.value_line_of("count"),
            f"decoder {decoder!r} reads {wanted} registers, not {count}",
        )
        return None
    if start is not None and count is not None and start + count > 0x10000:
        reader.report(block.value_line_of("count"), "the block runs past register 0xFFFF")
        return None
    if function is None or start is None or count is None or not decoder:
        return None
    return RegisterBlock(function, start, count, decoder, label)


def _read_addresses(reader: Reader, top: YamlMap) -> tuple[int, ...]:
    value, line = top["addresses"], top.value_line_of("addresses")
    addresses: list[int] = []
    if isinstance(value, str) and _RANGE.match(value):
        match = _RANGE.match(value)
        assert match
        first, last = int(match.group(1)), int(match.group(2))
        addresses = list(range(first, last + 1))
        if first > last:
            reader.report(line, f"address range {value!r} runs backwards")
    elif isinstance(value, YamlList) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        addresses = list(value)
    else:
        reader.report(
            line, f"addresses is {value!r}", "a range such as 1-16, or a list of addresses"
        )
        return ()
    bad = [a for a in addresses if not 1 <= a <= MAX_ADDRESS]
    if bad:
        reader.report(line, f"address {bad[0]} is outside 1..{MAX_ADDRESS} (0 is broadcast)")
        return ()
    if len(set(addresses)) != len(addresses):
        reader.report(line, "an address is listed twice")
    return tuple(sorted(set(addresses)))


def _read_states(reader: Reader, top: YamlMap) -> dict[int, StateInfo]:
    states: dict[int, StateInfo] = {}
    value = top["states"]
    if not isinstance(value, YamlMap):
        reader.wrong_kind(top.value_line_of("states"), "states", value, "a mapping of state codes")
        return states
    for code, entry in value.items():
        line = value.line_of(code)
        text = str(code)
        if not isinstance(code, str) or not _STATE_CODE.match(text):
            reader.report(line, f"state code {code!r} is not two hex digits", "e.g. A1, F4, FB")
            continue
        item = reader.section(entry, value.value_line_of(code), f"state {text}", _STATE)
        if item is None:
            continue
        meaning = reader.text(item, "meaning")
        severity = reader.text(item, "severity")
        if severity and severity not in SEVERITIES:
            reader.report(
                item.value_line_of("severity"), f"severity {severity!r}", " | ".join(SEVERITIES)
            )
            continue
        if meaning and severity:
            states[int(text, 16)] = StateInfo(text, int(text, 16), meaning, Severity(severity))
    return states


def _read_state_values(
    reader: Reader, top: YamlMap, states: Mapping[int, StateInfo]
) -> dict[int, int]:
    """``state_values``: decimal state value -> a state code of the ``states`` table."""
    found: dict[int, int] = {}
    value = top["state_values"]
    if not isinstance(value, YamlMap):
        reader.wrong_kind(
            top.value_line_of("state_values"), "state_values", value, "a mapping of numbers"
        )
        return found
    for number, code in value.items():
        line = value.line_of(number)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 0xFFFF:
            reader.report(line, f"state value {number!r} is not a number 0..65535")
            continue
        text = str(code)
        if not _STATE_CODE.match(text) or int(text, 16) not in states:
            reader.report(line, f"state value {number} names {text!r}", "a code of 'states'")
            continue
        found[number] = int(text, 16)
    return found


def _read_timing(reader: Reader, top: YamlMap) -> Timing | None:
    timing = reader.section(
        top["timing"], top.value_line_of("timing"), "timing", _TIMING, (_MASTER_PERIOD,)
    )
    if timing is None:
        return None
    floor, typical, timeout = (
        reader.number(timing, key, low=0, expected="a number of milliseconds >= 0")
        for key in _TIMING
    )
    if floor is None or typical is None or timeout is None:
        return None
    if not floor <= typical < timeout:
        reader.report(
            timing.line,
            "timing must satisfy turnaround_floor_ms <= turnaround_typical_ms < response_timeout_floor_ms",
        )
        return None
    period = reader.number(timing, _MASTER_PERIOD, above=0, expected="a number of milliseconds > 0")
    if _MASTER_PERIOD in timing and period is None:
        return None
    return Timing(
        floor / 1000, typical / 1000, timeout / 1000, (period or DEFAULT_MASTER_PERIOD_MS) / 1000
    )


def read_profile(path: str | Path) -> DeviceProfile:
    """Load and check one profile file; every problem is reported with its ``file:line``.

    A profile read once is kept for the next run that reads the same text
    (:func:`clu_doctor.keep.parsed`): every check reads one."""
    from clu_doctor import keep

    source = str(path)
    text = read_text(path)
    return keep.parsed(
        path, text, lambda: _parse_profile(text, source), kind="profile", code=(__file__,)
    )


def _parse_profile(text: str, source: str) -> DeviceProfile:
    data = load_yaml_text(text, source)
    reader = Reader(source)
    if data is None:
        reader.report(1, "the file is empty", "a device profile")
        raise FileProblemError(reader.problems, example_hint())
    top = reader.section(data, 1, "the profile", _TOP_REQUIRED, _TOP_OPTIONAL)
    if top is None:
        raise FileProblemError(reader.problems, example_hint())
    name = reader.text(top, "name") or ""
    if name and not _NAME.match(name):
        reader.report(
            top.value_line_of("name"), f"name {name!r}", "lowercase letters, digits and dashes"
        )
    title = reader.text(top, "title") or ""
    description = reader.text(top, "description") or ""
    sources: tuple[str, ...] = ()
    if "sources" in top:
        raw_sources = top["sources"]
        if (
            isinstance(raw_sources, YamlList)
            and raw_sources
            and all(isinstance(s, str) for s in raw_sources)
        ):
            sources = tuple(s.strip() for s in raw_sources)
        else:
            reader.report(
                top.value_line_of("sources"), "sources must list where the register map comes from"
            )
    framing = reader.text(top, "framing") or ""
    if framing and framing not in FRAMINGS:
        reader.report(top.value_line_of("framing"), f"framing {framing!r}", " | ".join(FRAMINGS))
    line = reader.parsed(top, "line", LineSettings.parse, "e.g. 38400 8E1")
    addresses = _read_addresses(reader, top) if "addresses" in top else ()
    identity = (
        _read_block(reader, top, "identity", IDENTITY_DECODERS) if "identity" in top else None
    )
    status = _read_block(reader, top, "status", STATUS_DECODERS) if "status" in top else None
    pilot = _read_block(reader, top, "pilot", PILOT_DECODERS) if "pilot" in top else None
    states = _read_states(reader, top) if "states" in top else {}
    if status is not None and not states:
        reader.report(top.value_line_of("status"), "a status block needs a states table")
    timing = _read_timing(reader, top) if "timing" in top else None
    written = reader.choice(top, "device", DEVICE_KINDS)
    device: DeviceKind = next((k for k in DEVICE_KINDS if k == written), "charge-controller")
    generation = reader.integer(top, "generation", "'generation'", low=1, high=2)
    other = reader.text(top, "other_generation") if "other_generation" in top else None
    if other and not _NAME.match(other):
        reader.report(top.value_line_of("other_generation"), f"name {other!r}", "a profile name")
    state_values = _read_state_values(reader, top, states) if "state_values" in top else {}
    if status is not None and STATUS_DECODERS[status.decoder].by_value and not state_values:
        reader.report(top.value_line_of("status"), f"decoder {status.decoder!r} needs state_values")
    raise_if_problems(reader.problems, example_hint())
    if line is None or identity is None or timing is None:  # pragma: no cover - reported above
        raise FileProblemError.at(Location(source), "incomplete profile", hint=example_hint())
    return DeviceProfile(
        name=name,
        title=title,
        description=description,
        sources=sources,
        framing=framing,
        line=line,
        addresses=addresses,
        identity=identity,
        status=status,
        states=MappingProxyType(states),
        timing=timing,
        device=device,
        generation=generation,
        other_generation=other or None,
        state_values=MappingProxyType(state_values),
        pilot=pilot,
        path=source,
    )


def _unpickled_profile(values: dict[str, Any]) -> DeviceProfile:
    values["states"] = MappingProxyType(values["states"])
    values["state_values"] = MappingProxyType(values["state_values"])
    return DeviceProfile(**values)


def example_hint() -> str:
    """Where a profile author finds a working example: the bundled files, wherever this
    installation keeps them."""
    names = ", ".join(f"{name}.yaml" for name in bundled_profile_names())
    return f"start from a copy of a bundled profile ({names} in {profiles_dir()})"


def bundled_profile_names() -> list[str]:
    return sorted(path.stem for path in profiles_dir().glob("*.yaml"))


def list_profiles() -> list[DeviceProfile]:
    """Every bundled profile, by name."""
    return [read_profile(profiles_dir() / f"{name}.yaml") for name in bundled_profile_names()]


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """A bundled profile by name (``defa-erange``), or a profile file by path."""
    text = str(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, Path)
        or any(sep in text for sep in ("/", "\\"))
        or text.endswith((".yaml", ".yml"))
    )
    if looks_like_path:
        return read_profile(text)
    bundled = profiles_dir() / f"{text}.yaml"
    if bundled.is_file():
        return read_profile(bundled)
    names = ", ".join(bundled_profile_names())
    raise ProfileNotFound(
        f"unknown device profile {text!r} (bundled: {names})",
        hint="give the name of a bundled profile, or the path of your own profile file",
    )
