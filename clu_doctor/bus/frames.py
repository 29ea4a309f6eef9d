"""Modbus frames independent of their framing (ASCII or RTU), and the read request/reply PDUs.

A :class:`Frame` is what both codecs produce and consume: address, function code and the data
after the function code. The link only ever builds :class:`ReadRequest` frames; the simulator
also builds replies and exceptions, and a passive listener sees whatever the CLU sends.
"""

from __future__ import annotations

from enum import Enum

from clu_doctor.bus.errors import DeviceException, MalformedFrame, UnexpectedAnswer
from clu_doctor.records import record

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_COILS = 0x0F
WRITE_MULTIPLE_REGISTERS = 0x10

#: The only function codes clu-doctor ever transmits.
READ_FUNCTIONS = frozenset({READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS})
BROADCAST_ADDRESS = 0
MAX_ADDRESS = 247
MAX_READ_COUNT = 125
EXCEPTION_FLAG = 0x80


class Direction(Enum):
    """Which way a frame travels, where the framing tells (ABL ASCII: ``:`` out, ``>`` back)."""

    REQUEST = "request"
    REPLY = "reply"
    UNKNOWN = "unknown"


@record
class Frame:
    """One Modbus frame without its checksum: address, function code, data after the function."""

    address: int
    function: int
    data: bytes = b""
    direction: Direction = Direction.UNKNOWN

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFF:
            raise ValueError(f"address {self.address} does not fit in a byte")
        if not 0 <= self.function <= 0xFF:
            raise ValueError(f"function {self.function} does not fit in a byte")

    @property
    def body(self) -> bytes:
        """Address, function and data: what the checksum covers."""
        return bytes((self.address, self.function)) + self.data

    @property
    def is_exception(self) -> bool:
        return bool(self.function & EXCEPTION_FLAG)

    @property
    def base_function(self) -> int:
        """The function code without the exception flag."""
        return self.function & ~EXCEPTION_FLAG & 0xFF

    def describe(self) -> str:
        """A short human description, e.g. ``read 0x002E x5 from 1`` or ``reply from 1: 5 registers``."""
        reads = self.function in READ_FUNCTIONS
        if reads and self.direction is not Direction.REPLY and len(self.data) == 4:
            start = int.from_bytes(self.data[0:2], "big")
            count = int.from_bytes(self.data[2:4], "big")
            return f"read 0x{start:04X} x{count} from {self.address}"
        if self.is_exception:
            code = self.data[0] if self.data else -1
            return f"exception {code} from {self.address} to function 0x{self.base_function:02X}"
        if self.function in READ_FUNCTIONS and self.data and self.data[0] == len(self.data) - 1:
            return f"reply from {self.address}: {self.data[0] // 2} registers"
        return f"function 0x{self.function:02X} at {self.address}, {len(self.data)} data bytes"


@record
class ReadRequest:
    """Read ``count`` 16-bit registers from ``start`` at ``address`` (function 0x03 or 0x04)."""

    address: int
    start: int
    count: int
    function: int = READ_HOLDING_REGISTERS

    def __post_init__(self) -> None:
        if self.function not in READ_FUNCTIONS:
            raise ValueError(f"function 0x{self.function:02X} is not a read function")
        if not 0 <= self.address <= MAX_ADDRESS:
            raise ValueError(f"address {self.address} is outside 0..{MAX_ADDRESS}")
        if not 0 <= self.start <= 0xFFFF:
            raise ValueError(f"register 0x{self.start:X} is outside 0x0000..0xFFFF")
        if not 1 <= self.count <= MAX_READ_COUNT or self.start + self.count > 0x10000:
            raise ValueError(
                f"count {self.count} is outside 1..{MAX_READ_COUNT} or runs past 0xFFFF"
            )

    def to_frame(self) -> Frame:
        data = self.start.to_bytes(2, "big") + self.count.to_bytes(2, "big")
        return Frame(self.address, self.function, data, Direction.REQUEST)

    @classmethod
    def from_frame(cls, frame: Frame) -> ReadRequest:
        """Read a request back from a frame; :class:`MalformedFrame` if it is not a read request."""
        if frame.function not in READ_FUNCTIONS or len(frame.data) != 4:
            raise MalformedFrame(f"not a read request: {frame.describe()}", frame.address)
        start = int.from_bytes(frame.data[0:2], "big")
        count = int.from_bytes(frame.data[2:4], "big")
        try:
            return cls(frame.address, start, count, frame.function)
        except ValueError as error:
            raise MalformedFrame(f"bad read request: {error}", frame.address) from None

    @property
    def reply_data_length(self) -> int:
        """Data bytes after the function code in a normal reply: byte count + registers."""
        return 1 + 2 * self.count


def build_read_reply(request: ReadRequest, registers: tuple[int, ...] | list[int]) -> Frame:
    """The normal reply to ``request`` carrying ``registers`` (each 0..0xFFFF)."""
    if len(registers) != request.count:
        raise ValueError(f"{len(registers)} registers given for a read of {request.count}")
    payload = b"".join((value & 0xFFFF).to_bytes(2, "big") for value in registers)
    return Frame(
        request.address, request.function, bytes((len(payload),)) + payload, Direction.REPLY
    )


def build_exception(address: int, function: int, code: int) -> Frame:
    """A Modbus exception reply (function code with the high bit set, one code byte)."""
    return Frame(
        address, (function | EXCEPTION_FLAG) & 0xFF, bytes((code & 0xFF,)), Direction.REPLY
    )


def parse_read_reply(request: ReadRequest, frame: Frame) -> tuple[int, ...]:
    """The registers ``frame`` carries in answer to ``request``.

    Raises :class:`DeviceException` for an exception reply from the addressed device and
    :class:`UnexpectedAnswer` for a well-formed frame that does not answer this request.
    """
    if frame.address != request.address:
        raise UnexpectedAnswer(
            f"answer from address {frame.address}, expected {request.address}", request.address
        )
    if frame.is_exception and len(frame.data) == 1:
        # The addressed device reports an error. Normally the function echoes ours with the
        # high bit set; ABL controllers use 0x90 for every error (abl-protocol.md §1), so any
        # exception from the right address counts as the device's answer.
        raise DeviceException(request.address, frame.base_function, frame.data[0])
    if frame.function != request.function:
        raise UnexpectedAnswer(
            f"answer with function 0x{frame.function:02X}, expected 0x{request.function:02X}",
            request.address,
        )
    expected = request.reply_data_length
    if len(frame.data) != expected or frame.data[0] != 2 * request.count:
        raise UnexpectedAnswer(
            f"answer of {len(frame.data)} data bytes, expected {expected}", request.address
        )
    payload = frame.data[1:]
    return tuple(int.from_bytes(payload[i : i + 2], "big") for i in range(0, len(payload), 2))


def infer_direction(function: int, data: bytes) -> Direction:
    """Which way a frame of this shape travels, for framings whose start does not say (RTU)."""
    if function & EXCEPTION_FLAG:
        return Direction.REPLY
    if function in READ_FUNCTIONS or function in (READ_COILS, READ_DISCRETE_INPUTS):
        if len(data) == 4:
            return Direction.REQUEST
        if data and data[0] == len(data) - 1:
            return Direction.REPLY
    if function in (WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS):
        if len(data) == 4:
            return Direction.REPLY
        if len(data) >= 5 and data[4] == len(data) - 5:
            return Direction.REQUEST
    return Direction.UNKNOWN


def data_length_candidates(function: int, data: bytes) -> tuple[int, ...]:
    """Plausible lengths of the data that follows ``function``, given the first data bytes seen.

    Used where no delimiter marks the frame's end (RTU without reliable timing). A reply to a
    read carries its byte count first; requests have fixed shapes. The most common shape on a
    charge-point bus comes first. Returns ``()`` for a function code no Modbus device uses.
    """
    if function & EXCEPTION_FLAG:
        return (1,) if (function & 0x7F) in _KNOWN_FUNCTIONS else ()
    if function in (READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS):
        candidates = [4]  # request: start, count
        if data:
            candidates.append(1 + data[0])  # reply: byte count, bytes
        return tuple(candidates)
    if function in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER):
        return (4,)  # request and echo look alike
    if function in (WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS):
        candidates = [4]  # reply: start, count
        if len(data) >= 5:
            candidates.append(5 + data[4])  # request: start, count, byte count, bytes
        return tuple(candidates)
    return ()


_KNOWN_FUNCTIONS = frozenset(
    {
        READ_COILS,
        READ_DISCRETE_INPUTS,
        READ_HOLDING_REGISTERS,
        READ_INPUT_REGISTERS,
        WRITE_SINGLE_COIL,
        WRITE_SINGLE_REGISTER,
        WRITE_MULTIPLE_COILS,
        WRITE_MULTIPLE_REGISTERS,
    }
)
