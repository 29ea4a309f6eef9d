"""What a stream decoder yields: a decoded frame, or garbage counted with a reason.

Decoders never raise: every byte ends up in a :class:`Decoded` frame or in a :class:`Garbage`
run, so a noisy bus is measured rather than fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from clu_doctor.bus.frames import Frame


@dataclass(frozen=True)
class Decoded:
    """A valid frame cut from the stream, with its raw bytes and arrival times (if known)."""

    frame: Frame
    raw: bytes
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
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


DecodeEvent = Decoded | Garbage


class StreamDecoder(Protocol):
    """Cuts a byte stream into frames. Feed chunks as they arrive; flush at the end or on silence."""

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        """Consume ``data`` (received at ``timestamp``, when known) and return completed events."""
        ...

    def flush(self) -> list[DecodeEvent]:
        """The line went quiet or the stream ended: settle whatever is pending."""
        ...
