"""ABL-style Modbus ASCII: ``:`` requests, ``>`` replies, hex pairs, LRC, CR LF.

ABL's EVCC2/3 controllers (the best public evidence for what DEFA stations use, see
``abl-protocol.md`` §1) answer with ``>`` instead of the standard ``:``. Both start characters
are accepted when decoding; a ``:`` frame is read as a request, a ``>`` frame as a reply.
The stream decoder resynchronises on every start character, drops a frame that a new start
character interrupts, and ignores stray NUL bytes and line ends between frames.
"""

from __future__ import annotations

from clu_doctor.bus.checksums import lrc
from clu_doctor.bus.codecs.text import TextStreamDecoder
from clu_doctor.bus.errors import ChecksumError, MalformedFrame
from clu_doctor.bus.frames import Direction, Frame
from clu_doctor.bus.settings import LineSettings

REQUEST_START = 0x3A  # ':'
REPLY_START = 0x3E  # '>'
CR, LF, NUL = 0x0D, 0x0A, 0x00
#: Longest legal Modbus ASCII frame: start, 2 x 252 hex characters of body and LRC, CR LF.
MAX_FRAME = 513
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_STARTS = {REQUEST_START: Direction.REQUEST, REPLY_START: Direction.REPLY}


def claimed_address(raw: bytes) -> int | None:
    """The address the first two hex characters after the start character spell, if they do."""
    if len(raw) >= 3 and raw[1] in _HEX and raw[2] in _HEX:
        return int(raw[1:3], 16)
    return None


class AsciiCodec:
    """Encoder/decoder for ABL-style Modbus ASCII frames."""

    name = "ascii"

    def __init__(self, reply_start: int = REPLY_START) -> None:
        if reply_start not in _STARTS:
            raise ValueError("reply start must be ':' or '>'")
        self.reply_start = reply_start

    def encode(self, frame: Frame) -> bytes:
        start = self.reply_start if frame.direction is Direction.REPLY else REQUEST_START
        body = frame.body
        text = (body + bytes((lrc(body),))).hex().upper().encode("ascii")
        return bytes((start,)) + text + b"\r\n"

    def decode(self, raw: bytes) -> Frame:
        if len(raw) < 2 or raw[0] not in _STARTS:
            raise MalformedFrame("does not start with ':' or '>'", raw=raw)
        address = claimed_address(raw)
        if not raw.endswith(b"\r\n"):
            raise MalformedFrame("does not end with CR LF", address, raw)
        text = raw[1:-2]
        if len(text) % 2 or not all(char in _HEX for char in text):
            raise MalformedFrame("not an even run of hex characters", address, raw)
        binary = bytes.fromhex(text.decode("ascii"))
        if len(binary) < 3:
            raise MalformedFrame("too short for address, function and LRC", address, raw)
        body, check = binary[:-1], binary[-1]
        if lrc(body) != check:
            raise ChecksumError(
                f"LRC {check:02X} does not match the contents ({lrc(body):02X})", body[0], raw
            )
        return Frame(body[0], body[1], body[2:], _STARTS[raw[0]])

    def decoder(self, settings: LineSettings | None = None) -> AsciiStreamDecoder:
        return AsciiStreamDecoder(self)


class AsciiStreamDecoder(TextStreamDecoder):
    """Cuts an ASCII byte stream into frames; see the module docstring for the rules."""

    def __init__(self, codec: AsciiCodec | None = None) -> None:
        codec = codec or AsciiCodec()
        super().__init__(_STARTS, MAX_FRAME, codec.decode, claimed_address)
