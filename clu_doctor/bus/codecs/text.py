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
        #: Where the frame being collected lay in the reads so far (see :data:`~.events.Marks`).
        self._frame_marks: list[tuple[int, float, int]] = []
        self._noise = bytearray()  # bytes between frames that are not ignorable
        #: Where the run between frames (its NULs and noise) lay in the reads so far.
        self._run_marks: list[tuple[int, float, int]] = []
        self._noise_start: float | None = None
        #: NULs between frames since the last frame or run: a run that follows includes them.
        self._nul = 0
        self._last_time: float | None = None

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        self._last_time = timestamp
        last = len(data) - 1
        run_last = -1  # where in this read the run between frames had its last byte so far
        for position, byte in enumerate(data):
            if byte in self._starts:
                if self._frame:
                    self._mark_frame(timestamp, last - position + 1, position > 0)
                    events.append(
                        self._garbage(bytes(self._frame), "interrupted", self._frame_start)
                    )
                if run_last >= 0:
                    self._mark_run(timestamp, last - run_last)
                    run_last = -1
                self._flush_noise(events)
                self._nul = 0
                self._run_marks.clear()  # NULs just before a frame: stray
                self._frame = bytearray((byte,))
                self._frame_start = timestamp
            elif self._frame:
                self._frame.append(byte)
                if byte == LF and len(self._frame) >= 2 and self._frame[-2] == CR:
                    self._mark_frame(timestamp, last - position)
                    events.append(self._finish(bytes(self._frame), timestamp))
                    self._frame.clear()
                elif len(self._frame) > self._max_frame:
                    self._mark_frame(timestamp, last - position)
                    events.append(self._garbage(bytes(self._frame), "overflow", self._frame_start))
                    self._frame.clear()
            elif byte == NUL:
                self._nul += 1
                run_last = position
            elif byte not in (CR, LF):
                if not self._noise:
                    self._noise_start = timestamp
                self._noise.append(byte)
                run_last = position
        if self._frame and data:
            self._mark_frame(timestamp, 0)  # the read ended inside the frame
        if run_last >= 0:
            self._mark_run(timestamp, last - run_last)
        return events

    def _mark_frame(self, timestamp: float | None, after: int, here: bool = True) -> None:
        """The frame's last byte so far came in the read stamped ``timestamp``, with ``after``
        bytes after it there (``here`` false: it came in an earlier read, already marked)."""
        if timestamp is not None and here:
            self._frame_marks.append((len(self._frame) - 1, timestamp, after))

    def _mark_run(self, timestamp: float | None, after: int) -> None:
        if timestamp is not None:
            self._run_marks.append((self._nul + len(self._noise) - 1, timestamp, after))

    @staticmethod
    def _take(marks: list[tuple[int, float, int]]) -> Marks:
        """The marks of a frame or run that is complete; the list starts again empty."""
        taken = tuple(marks)
        marks.clear()
        return taken

    def flush(self) -> list[DecodeEvent]:
        events: list[DecodeEvent] = []
        if self._frame:
            events.append(self._garbage(bytes(self._frame), "truncated", self._frame_start))
            self._frame.clear()
        self._flush_noise(events)
        self._nul = 0  # NULs before a silence with nothing else: stray
        self._run_marks.clear()
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
                    self._take(self._run_marks),
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
            self._take(self._frame_marks),
        )

    def _finish(self, raw: bytes, timestamp: float | None) -> DecodeEvent:
        try:
            frame = self._decode(raw)
        except ChecksumError:
            return self._garbage(raw, "checksum", self._frame_start)
        except MalformedFrame:
            return self._garbage(raw, "malformed", self._frame_start)
        return Decoded(frame, raw, self._frame_start, timestamp, self._take(self._frame_marks))
