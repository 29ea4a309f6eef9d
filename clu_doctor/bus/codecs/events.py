"""What a stream decoder yields: a decoded frame, or garbage counted with a reason.

Decoders never raise: every byte ends up in a :class:`Decoded` frame or in a :class:`Garbage`
run, so a noisy bus is measured rather than fatal.
"""

from __future__ import annotations

from dataclasses import field
from typing import Protocol

from clu_doctor.bus.frames import Frame
from clu_doctor.records import record

#: Where a frame or run lay in the reads that carried it, one entry per read: the index of its
#: last byte from that read (NULs counted, in a run), the read's timestamp, and how many bytes
#: followed in the same read. A byte arrived no later than its read's timestamp less the wire
#: time of the bytes after it, so these give each byte its own latest arrival time, where the
#: read's timestamp alone gives every byte in it the same one. (Empty where unknown; not
#: compared: two events are equal by what they hold and when it came.)
Marks = tuple[tuple[int, float, int], ...]


@record
class Decoded:
    """A valid frame cut from the stream, with its raw bytes and arrival times (if known):
    ``start`` and ``end`` are the timestamps of the reads that carried its first and last
    byte, ``marks`` where in each read it lay (the text decoders give them)."""

    frame: Frame
    raw: bytes
    start: float | None = None
    end: float | None = None
    marks: Marks = field(default=(), compare=False)


@record
class Garbage:
    """Bytes that are not a valid frame.

    ``reason`` is one of ``checksum`` (a frame whose checksum fails), ``malformed`` (bad hex,
    bad length, bad terminator), ``interrupted`` (a new frame started before this one ended),
    ``noise`` (bytes between frames), ``overflow`` (longer than any frame) or ``truncated``
    (the stream ended inside a frame). ``address`` is the address the bytes claim, where
    readable: useful to attribute corruption, never proof. ``nul`` counts the NUL characters
    the run held, kept in ``raw`` or (between frames, where the text decoders drop them) not:
    a UART delivers a character with a framing error as NUL (Linux's default), so it tells
    characters of another length (8N1 heard at 8E1) from garbled ones.
    """

    raw: bytes
    reason: str
    address: int | None = None
    start: float | None = None
    end: float | None = None
    nul: int = 0
    marks: Marks = field(default=(), compare=False)


DecodeEvent = Decoded | Garbage


class StreamDecoder(Protocol):
    """Cuts a byte stream into frames. Feed chunks as they arrive; flush at the end or on silence."""

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        """Consume ``data`` (received at ``timestamp``, when known) and return completed events."""
        ...

    def flush(self) -> list[DecodeEvent]:
        """The line went quiet or the stream ended: settle whatever is pending."""
        ...
