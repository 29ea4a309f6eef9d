"""ABL's first-generation EVCC (V2.x) text protocol: ``!n cc [xxxx]`` requests, ``>n cc [xxxx]``
replies, CR LF, decimal fields, no checksum, 38400 8N1 (field-evidence.md §2.1).

The rest of the bus layer speaks Modbus-shaped :class:`~clu_doctor.bus.frames.Frame` objects, so
this codec carries the text protocol into that shape, one fixed rule per frame kind, and back:

* A **read command** without data (``!1 02``: 01 firmware, 02 state, 04 outputs, 07/08 CP+/CP-
  ADC, 09 CS ADC, 10 inputs, 11 PWM duty, 23 address, 26 Idefault, 29 the bBreakCharge flag) is
  a read (function 0x03) of "register" ``cc``: two registers, five for the firmware text (01).
* Its reply ``>1 02 0005`` is the read reply whose first register echoes the command (as the
  second generation echoes the start register) and whose second carries the decimal value; the
  firmware reply ``>1 01 V2.7`` carries the text, space-padded to eight characters, after the
  echo. A reply without a value (``>1 02``) carries the echo alone.
* Every **other command** (reset, MANUAL, set Icmax, set address...) is a one-register write
  (function 0x10) of register ``cc``: with its decimal value, or with no register at all for a
  command without data. clu-doctor never transmits one (the link sends reads only, and
  :meth:`Evcc1Codec.encode` refuses a read of anything but a read command); a listener still
  has to recognise the CLU's.
* ``ERR`` (a refused command) is an exception reply: function ``0x83`` (``0x90`` for a write
  command, as ABL's second generation answers), data ``04`` and the command number.
* A reply without data (``>1 12``) is the write echo of a command, or an empty read reply.

Addresses are one digit: 1-8 are set with command 22, 0 is the factory default and addresses
every module. Decoding is tolerant of padding spaces (``>8  11   0850  ``); encoding writes the
canonical form (``>8 11 0850``), so what the link transmits is always exactly one frame.

The stream decoder resynchronises on every ``!`` and ``>``, ignores NUL, CR and LF between
frames and never raises: a frame that does not parse is ``malformed`` garbage (there is no
checksum, so a garbled digit is only caught where it breaks the shape).
"""

from __future__ import annotations

from clu_doctor.bus.codecs.text import TextStreamDecoder
from clu_doctor.bus.errors import MalformedFrame
from clu_doctor.bus.frames import (
    EXCEPTION_FLAG,
    READ_HOLDING_REGISTERS,
    WRITE_MULTIPLE_REGISTERS,
    Direction,
    Frame,
)
from clu_doctor.bus.settings import LineSettings

REQUEST_START = 0x21  # '!'
REPLY_START = 0x3E  # '>'
CR, LF, NUL = 0x0D, 0x0A, 0x00
#: Longer than any first-generation frame, padding included.
MAX_FRAME = 64
#: Commands that only read (field-evidence.md §2.1); the only ones clu-doctor may send.
READ_COMMANDS = frozenset({1, 2, 4, 7, 8, 9, 10, 11, 23, 26, 29})
#: Read commands answered with text, not a number: 01 firmware (``V2.7``).
TEXT_COMMANDS = frozenset({1})
#: Registers of a text answer after the echo: eight characters, two per register.
TEXT_REGISTERS = 4
#: Commands that carry a value: 05/06 outputs, 12 Icmax, 15 Idefault, 22 address, 24 reset.
DATA_COMMANDS = frozenset({5, 6, 12, 15, 22, 24})
REFUSED = "ERR"
#: The exception code a refusal becomes (ABL's second generation: "writing failed").
REFUSED_CODE = 0x04
MAX_ADDRESS = 9
_STARTS = {REQUEST_START: Direction.REQUEST, REPLY_START: Direction.REPLY}
_DIGITS = frozenset(b"0123456789")


def register_count(command: int) -> int:
    """How many registers the read command ``command`` answers with, the echo included."""
    return 1 + (TEXT_REGISTERS if command in TEXT_COMMANDS else 1)


def claimed_address(raw: bytes) -> int | None:
    """The address digit right after the start character, if there is one."""
    if len(raw) >= 2 and raw[1] in _DIGITS:
        return raw[1] - 0x30
    return None


def _number(token: str, what: str, address: int | None, raw: bytes) -> int:
    if not token.isascii() or not token.isdigit() or len(token) > 5 or int(token) > 0xFFFF:
        raise MalformedFrame(f"{what} {token!r} is not a decimal number", address, raw)
    return int(token)


def _word(value: int) -> bytes:
    return value.to_bytes(2, "big")


class Evcc1Codec:
    """Encoder/decoder for the first-generation EVCC text protocol (see the module docstring)."""

    name = "evcc1"

    def encode(self, frame: Frame) -> bytes:
        if not 0 <= frame.address <= MAX_ADDRESS:
            raise ValueError(f"address {frame.address}: the first generation has addresses 0-9")
        start = "!" if frame.direction is Direction.REQUEST else ">"
        if frame.direction is Direction.UNKNOWN:
            raise ValueError("a first-generation frame is a request or a reply")
        command, value = self._fields(frame)
        text = f"{start}{frame.address} {command:02d}" + (f" {value}" if value else "")
        return text.encode("ascii") + b"\r\n"

    def _fields(self, frame: Frame) -> tuple[int, str]:
        data, request = frame.data, frame.direction is Direction.REQUEST
        if frame.is_exception:
            if request or len(data) != 2 or data[0] != REFUSED_CODE or data[1] > 99:
                raise ValueError("a refusal is a reply with code 04 and the command number")
            return data[1], REFUSED
        if frame.function == READ_HOLDING_REGISTERS:
            if request:
                command = int.from_bytes(data[0:2], "big") if len(data) == 4 else -1
                if command not in READ_COMMANDS:
                    raise ValueError(f"{frame.describe()} is not a first-generation read command")
                if int.from_bytes(data[2:4], "big") != register_count(command):
                    raise ValueError(f"command {command:02d} answers {register_count(command)}")
                return command, ""
            if len(data) < 3 or data[0] != len(data) - 1 or data[0] % 2:
                raise ValueError(f"{frame.describe()} is not a read reply")
            command, payload = int.from_bytes(data[1:3], "big"), data[3:]
            if command not in READ_COMMANDS:
                raise ValueError(f"command {command} is not a first-generation read command")
            if not payload:
                return command, ""
            if command in TEXT_COMMANDS and len(payload) == 2 * TEXT_REGISTERS:
                text = payload.rstrip(b" ").decode("latin-1")
                if text.isascii() and text.isprintable() and not set(text) & set(" !>"):
                    return command, text
            elif command not in TEXT_COMMANDS and len(payload) == 2:
                return command, f"{int.from_bytes(payload, 'big'):04d}"
        if frame.function == WRITE_MULTIPLE_REGISTERS and len(data) >= 4:
            command, count = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
            if command > 99:
                raise ValueError(f"command {command} has more than two digits")
            if request and count == 1 and len(data) == 7 and data[4] == 2:
                return command, f"{int.from_bytes(data[5:7], 'big'):04d}"
            if request and count == 0 and len(data) == 5 and data[4] == 0:
                return command, ""
            if not request and len(data) == 4 and count in (0, 1):
                return command, ""
            if not request and len(data) == 7 and count == 1 and data[4] == 2:
                return command, f"{int.from_bytes(data[5:7], 'big'):04d}"
        raise ValueError(f"{frame.describe()} has no first-generation form")

    def decode(self, raw: bytes) -> Frame:
        if len(raw) < 2 or raw[0] not in _STARTS:
            raise MalformedFrame("does not start with '!' or '>'", raw=raw)
        address = claimed_address(raw)
        if not raw.endswith(b"\r\n"):
            raise MalformedFrame("does not end with CR LF", address, raw)
        body = raw[1:-2]
        if not body.isascii() or not all(0x20 <= b < 0x7F for b in body):
            raise MalformedFrame("not printable text", address, raw)
        tokens = body.decode("ascii").split()
        if len(tokens) not in (2, 3):
            raise MalformedFrame("not 'address command [value]'", address, raw)
        if len(tokens[0]) != 1 or tokens[0] not in "0123456789":
            raise MalformedFrame(f"address {tokens[0]!r} is not one digit", address, raw)
        address = int(tokens[0])
        if len(tokens[1]) > 2:
            raise MalformedFrame(f"command {tokens[1]!r} has more than two digits", address, raw)
        command = _number(tokens[1], "command", address, raw)
        value = tokens[2] if len(tokens) == 3 else None
        if raw[0] == REQUEST_START:
            return self._request(address, command, value, raw)
        return self._reply(address, command, value, raw)

    def _request(self, address: int, command: int, value: str | None, raw: bytes) -> Frame:
        if value is None and command in READ_COMMANDS:
            data = _word(command) + _word(register_count(command))
            return Frame(address, READ_HOLDING_REGISTERS, data, Direction.REQUEST)
        if value is None:
            data = _word(command) + _word(0) + b"\x00"
        else:
            data = (
                _word(command) + _word(1) + b"\x02" + _word(_number(value, "value", address, raw))
            )
        return Frame(address, WRITE_MULTIPLE_REGISTERS, data, Direction.REQUEST)

    def _reply(self, address: int, command: int, value: str | None, raw: bytes) -> Frame:
        read = command in READ_COMMANDS
        if value == REFUSED:
            function = READ_HOLDING_REGISTERS if read else WRITE_MULTIPLE_REGISTERS
            data = bytes((REFUSED_CODE, command))
            return Frame(address, (function | EXCEPTION_FLAG) & 0xFF, data, Direction.REPLY)
        if read and command in TEXT_COMMANDS and value is not None:
            size = 2 * TEXT_REGISTERS
            if len(value) > size:
                raise MalformedFrame(f"text {value!r} longer than {size}", address, raw)
            return _read_reply(address, _word(command) + value.encode("ascii").ljust(size))
        if read and value is not None:
            number = _number(value, "value", address, raw)
            return _read_reply(address, _word(command) + _word(number))
        if read:
            return _read_reply(address, _word(command))
        if value is None:
            count = 1 if command in DATA_COMMANDS else 0
            return Frame(
                address, WRITE_MULTIPLE_REGISTERS, _word(command) + _word(count), Direction.REPLY
            )
        data = _word(command) + _word(1) + b"\x02" + _word(_number(value, "value", address, raw))
        return Frame(address, WRITE_MULTIPLE_REGISTERS, data, Direction.REPLY)

    def decoder(self, settings: LineSettings | None = None) -> Evcc1StreamDecoder:
        return Evcc1StreamDecoder(self)


def _read_reply(address: int, payload: bytes) -> Frame:
    return Frame(address, READ_HOLDING_REGISTERS, bytes((len(payload),)) + payload, Direction.REPLY)


def text_registers(text: str) -> tuple[int, ...]:
    """A text answer (firmware ``V2.7``) as the registers after the echo, space-padded."""
    raw = text.encode("ascii").ljust(2 * TEXT_REGISTERS)[: 2 * TEXT_REGISTERS]
    return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


class Evcc1StreamDecoder(TextStreamDecoder):
    """Cuts a first-generation byte stream into frames; see the module docstring for the rules."""

    def __init__(self, codec: Evcc1Codec | None = None) -> None:
        codec = codec or Evcc1Codec()
        super().__init__(_STARTS, MAX_FRAME, codec.decode, claimed_address)
