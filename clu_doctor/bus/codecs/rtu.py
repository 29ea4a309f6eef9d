"""Modbus RTU: binary frames, CRC-16/MODBUS, frames delimited by 3.5 characters of silence.

On a host behind a USB adapter the arrival times of bytes are blurred by the adapter's latency
timer, so silence alone is an unreliable delimiter. The stream decoder therefore cuts frames by
shape and CRC: it knows the lengths a frame of each function code can have (a read reply
carries its byte count, requests have fixed shapes), tries the likeliest first (after a read
request, the reply it asks for), and accepts a cut only when the CRC holds. Bytes that fit no
shape are dropped one at a time until the stream lines up again. Where reliable timestamps and
line settings are given (the simulator, a recording), a silence longer than t3.5 also ends a
frame, which settles truncated or corrupted frames at once.
"""

from __future__ import annotations

from clu_doctor.bus.checksums import crc16, crc16_bytes
from clu_doctor.bus.codecs.events import Decoded, DecodeEvent, Garbage
from clu_doctor.bus.errors import ChecksumError, MalformedFrame
from clu_doctor.bus.frames import (
    MAX_ADDRESS,
    READ_FUNCTIONS,
    Frame,
    data_length_candidates,
    infer_direction,
)
from clu_doctor.bus.settings import LineSettings

MIN_FRAME = 4  # address, function, CRC
MAX_FRAME = 256
_WAIT, _DROP = "wait", "drop"


class RtuCodec:
    """Encoder/decoder for Modbus RTU frames."""

    name = "rtu"

    def encode(self, frame: Frame) -> bytes:
        body = frame.body
        return body + crc16_bytes(body)

    def decode(self, raw: bytes) -> Frame:
        if len(raw) < MIN_FRAME:
            raise MalformedFrame(f"{len(raw)} bytes is too short for an RTU frame", raw=raw)
        if len(raw) > MAX_FRAME:
            raise MalformedFrame(f"{len(raw)} bytes is longer than any RTU frame", raw[0], raw)
        body, check = raw[:-2], raw[-2:]
        if crc16_bytes(body) != check:
            raise ChecksumError(
                f"CRC {check.hex().upper()} does not match the contents", raw[0], raw
            )
        return Frame(body[0], body[1], body[2:], infer_direction(body[1], body[2:]))

    def decoder(self, settings: LineSettings | None = None) -> RtuStreamDecoder:
        return RtuStreamDecoder(settings)


class RtuStreamDecoder:
    """Cuts an RTU byte stream into frames by shape and CRC (and by silence, when timed)."""

    def __init__(self, settings: LineSettings | None = None) -> None:
        self._settings = settings
        self._buffer = bytearray()
        self._buffer_start: float | None = None
        self._last_time: float | None = None
        self._junk = bytearray()
        self._junk_start: float | None = None
        # After a read request, the (address, function, data length) of the reply it asks for.
        self._expected: tuple[int, int, int] | None = None

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        if self._is_gap_before(data, timestamp):
            events.extend(self._settle(final=True))
        if not self._buffer:
            self._buffer_start = timestamp
        self._buffer.extend(data)
        self._last_time = timestamp
        events.extend(self._settle(final=False))
        return events

    def flush(self) -> list[DecodeEvent]:
        return self._settle(final=True)

    def _is_gap_before(self, data: bytes, timestamp: float | None) -> bool:
        """True if the line was silent for more than t3.5 before ``data`` started."""
        if self._settings is None or timestamp is None or self._last_time is None:
            return False
        if not self._buffer:
            return False
        first_byte_time = timestamp - self._settings.wire_time(len(data))
        return first_byte_time - self._last_time > self._settings.t35

    def _candidates(self, buffer: bytearray) -> list[int]:
        """Whole-frame lengths this buffer's frame could have, likeliest first."""
        address, function = buffer[0], buffer[1]
        if address > MAX_ADDRESS:
            return []
        lengths = [2 + n + 2 for n in data_length_candidates(function, bytes(buffer[2:]))]
        expected = self._expected
        if expected and expected[:2] == (address, function):
            reply_length = 2 + expected[2] + 2
            if reply_length in lengths:
                lengths.remove(reply_length)
            lengths.insert(0, reply_length)
        return [n for n in lengths if MIN_FRAME <= n <= MAX_FRAME]

    def _settle(self, *, final: bool) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        buffer = self._buffer
        while buffer:
            if len(buffer) < MIN_FRAME:
                if final:
                    self._drop(len(buffer))
                break
            outcome = self._cut_front(final)
            if outcome == _WAIT:
                break
            if outcome == _DROP:
                self._drop(1)
                continue
            if isinstance(outcome, Garbage):
                self._emit_junk(events)
                events.append(outcome)
                buffer.clear()
                break
            if isinstance(outcome, bytes):
                self._emit_junk(events)
                events.append(self._take(outcome))
        if final:
            self._emit_junk(events)
        return events

    def _cut_front(self, final: bool) -> bytes | Garbage | str:
        """Try to cut a frame at the front: its raw bytes, a checksum Garbage, "wait" or "drop"."""
        buffer = self._buffer
        candidates = self._candidates(buffer)
        waiting = False
        for rank, length in enumerate(candidates):
            if len(buffer) < length:
                if rank == 0 and not final:
                    return (
                        "wait"  # the likeliest shape is still arriving: do not guess a shorter one
                    )
                waiting = True
                continue
            raw = bytes(buffer[:length])
            if crc16(raw[:-2]) == int.from_bytes(raw[-2:], "little"):
                return raw
        if waiting and not final:
            return _WAIT
        if not final and self._settings is not None and len(buffer) in candidates:
            # Timed: a whole, correctly shaped run whose CRC fails. If silence follows, it is a
            # corrupted frame (reported as such when the silence shows); more bytes mean junk.
            return _WAIT
        if final and len(buffer) in candidates and not self._frame_ahead():
            # A whole, correctly shaped frame ended by silence: its checksum failed. (Unless a
            # valid frame starts further on: then the front is junk, not a corrupted frame.)
            return Garbage(
                bytes(buffer), "checksum", buffer[0], self._buffer_start, self._last_time
            )
        return _DROP

    def _frame_ahead(self) -> bool:
        """True if a frame with a valid CRC can be cut somewhere after the buffer's first byte."""
        buffer = self._buffer
        for offset in range(1, len(buffer) - MIN_FRAME + 1):
            rest = buffer[offset:]
            for length in self._candidates(rest):
                if length <= len(rest) and crc16(bytes(rest[: length - 2])) == int.from_bytes(
                    rest[length - 2 : length], "little"
                ):
                    return True
        return False

    def _take(self, raw: bytes) -> Decoded:
        """Consume one valid frame from the front of the buffer and remember what it asks for."""
        del self._buffer[: len(raw)]
        frame = Frame(raw[0], raw[1], raw[2:-2], infer_direction(raw[1], raw[2:-2]))
        start = self._buffer_start
        self._buffer_start = self._last_time if self._buffer else None
        if frame.function in READ_FUNCTIONS and len(frame.data) == 4:  # a read request
            count = int.from_bytes(frame.data[2:4], "big")
            self._expected = (frame.address, frame.function, 1 + 2 * count)
        else:
            self._expected = None
        return Decoded(frame, raw, start, self._last_time)

    def _drop(self, count: int) -> None:
        if not self._junk:
            self._junk_start = self._buffer_start
        self._junk.extend(self._buffer[:count])
        del self._buffer[:count]
        self._expected = None

    def _emit_junk(self, events: list[DecodeEvent]) -> None:
        if self._junk:
            raw = bytes(self._junk)
            address = raw[0] if raw[0] <= MAX_ADDRESS else None
            reason = "noise" if len(raw) < MIN_FRAME else "malformed"
            events.append(Garbage(raw, reason, address, self._junk_start, self._last_time))
            self._junk.clear()
