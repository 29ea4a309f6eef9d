"""The stream decoder both ABL text framings share: a start character, CR LF at the end.

ABL's Modbus ASCII (``:``/``>``, hex, LRC) and the first-generation EVCC protocol (``!``/``>``,
decimal, no checksum) are cut from a byte stream the same way; only what starts a frame, how
long one may be, which address a broken one claims and how a whole one decodes differ.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from clu_doctor.bus.codecs.events import Decoded, DecodeEvent, Garbage, Marks
from clu_doctor.bus.errors import ChecksumError, MalformedFrame
from clu_doctor.bus.frames import Frame

CR, LF, NUL = 0x0D, 0x0A, 0x00


class _Span:
    """The reads that carried one frame or run, as :data:`~.events.Marks`: a byte is added
    with its read's timestamp and the number of bytes after it in that read; the last byte
    from each read makes the read's mark."""

    __slots__ = ("_pending", "count", "marks")

    def __init__(self) -> None:
        self.count = 0
        self.marks: list[tuple[int, float, int]] = []
        self._pending: tuple[int, float, int] | None = None

    def add(self, timestamp: float | None, after: int) -> None:
        if timestamp is not None:
            self._pending = (self.count, timestamp, after)
        self.count += 1

    def end_read(self) -> None:
        if self._pending is not None:
            self.marks.append(self._pending)
            self._pending = None

    def take(self) -> Marks:
        """The marks so far; the span starts again empty."""
        self.end_read()
        marks = tuple(self.marks)
        self.count = 0
        self.marks.clear()
        return marks


class TextStreamDecoder:
    """Cuts a text framing's byte stream into frames. Never raises: every byte ends in a
    :class:`Decoded` frame or a :class:`Garbage` run (``interrupted``, ``overflow``,
    ``truncated``, ``malformed``, ``checksum``, ``noise``); NULs between frames are counted
    into the run that follows (a UART's framing errors)."""

    def __init__(
        self,
        starts: Collection[int],
        max_frame: int,
        decode: Callable[[bytes], Frame],
        claimed_address: Callable[[bytes], int | None],
    ) -> None:
        self._starts = frozenset(starts)
        self._max_frame = max_frame
        self._decode = decode
        self._claimed_address = claimed_address
        self._frame = bytearray()  # the frame being collected, start character included
        self._frame_start: float | None = None
        self._frame_span = _Span()
        self._noise = bytearray()  # bytes between frames that are not ignorable
        #: The NULs and noise between frames, where they lay in the reads (a run's marks).
        self._noise_span = _Span()
        self._noise_start: float | None = None
        #: NULs between frames since the last frame or run: a run that follows includes them.
        self._nul = 0
        self._last_time: float | None = None

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        self._last_time = timestamp
        last = len(data) - 1
        for position, byte in enumerate(data):
            if byte in self._starts:
                if self._frame:
                    events.append(
                        self._garbage(bytes(self._frame), "interrupted", self._frame_start)
                    )
                self._flush_noise(events)
                self._nul = 0
                self._noise_span.take()  # NULs just before a frame: stray
                self._frame = bytearray((byte,))
                self._frame_start = timestamp
                self._frame_span.add(timestamp, last - position)
            elif self._frame:
                self._frame.append(byte)
                self._frame_span.add(timestamp, last - position)
                if byte == LF and len(self._frame) >= 2 and self._frame[-2] == CR:
                    events.append(self._finish(bytes(self._frame), timestamp))
                    self._frame.clear()
                elif len(self._frame) > self._max_frame:
                    events.append(self._garbage(bytes(self._frame), "overflow", self._frame_start))
                    self._frame.clear()
            elif byte == NUL:
                self._nul += 1
                self._noise_span.add(timestamp, last - position)
            elif byte not in (CR, LF):
                if not self._noise:
                    self._noise_start = timestamp
                self._noise.append(byte)
                self._noise_span.add(timestamp, last - position)
        self._frame_span.end_read()
        self._noise_span.end_read()
        return events

    def flush(self) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        if self._frame:
            events.append(self._garbage(bytes(self._frame), "truncated", self._frame_start))
            self._frame.clear()
        self._flush_noise(events)
        self._nul = 0  # NULs before a silence with nothing else: stray
        self._noise_span.take()
        return events

    def _flush_noise(self, events: list[DecodeEvent]) -> None:
        if self._noise:
            events.append(
                Garbage(
                    bytes(self._noise),
                    "noise",
                    None,
                    self._noise_start,
                    self._last_time,
                    self._nul,
                    self._noise_span.take(),
                )
            )
            self._noise.clear()
            self._nul = 0

    def _garbage(self, raw: bytes, reason: str, start: float | None) -> Garbage:
        return Garbage(
            raw,
            reason,
            self._claimed_address(raw),
            start,
            self._last_time,
            raw.count(NUL),
            self._frame_span.take(),
        )

    def _finish(self, raw: bytes, timestamp: float | None) -> DecodeEvent:
        try:
            frame = self._decode(raw)
        except ChecksumError:
            return self._garbage(raw, "checksum", self._frame_start)
        except MalformedFrame:
            return self._garbage(raw, "malformed", self._frame_start)
        return Decoded(frame, raw, self._frame_start, timestamp, self._frame_span.take())
