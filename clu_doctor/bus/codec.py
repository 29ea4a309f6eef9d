"""What every framing codec offers, and the events a stream decoder produces.

A codec turns one :class:`~clu_doctor.bus.frames.Frame` into bytes and back
(:meth:`Codec.encode`, :meth:`Codec.decode`) and makes stream decoders that cut an endless byte
stream (garbage, partial and back-to-back frames included) into :class:`Decoded` frames and
:class:`Garbage` runs. Decoders never raise on bad input: garbage is an event, counted by the
passive listener and the probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from clu_doctor.bus.errors import FrameError
from clu_doctor.bus.frames import Frame
from clu_doctor.bus.settings import LineSettings

FRAMINGS = ("ascii", "rtu")


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
    readable: useful to attribute corruption, never proof.
    """

    raw: bytes
    reason: str
    address: int | None = None
    start: float | None = None
    end: float | None = None


DecodeEvent = Decoded | Garbage


class StreamDecoder(Protocol):
    """Cuts a byte stream into frames. Feed chunks as they arrive; flush at the end or on silence."""

    def feed(self, data: bytes, timestamp: float | None = None) -> list[DecodeEvent]:
        """Consume ``data`` (received at ``timestamp``, when known) and return completed events."""
        ...

    def flush(self) -> list[DecodeEvent]:
        """The line went quiet or the stream ended: settle whatever is pending."""
        ...


class Codec(Protocol):
    """A framing: ABL-style Modbus ASCII or Modbus RTU."""

    name: str

    def encode(self, frame: Frame) -> bytes:
        """The bytes that carry ``frame`` on the wire, checksum and delimiters included."""
        ...

    def decode(self, raw: bytes) -> Frame:
        """Exactly one frame from ``raw``; raises only :class:`~clu_doctor.bus.errors.FrameError`."""
        ...

    def decoder(self, settings: LineSettings | None = None) -> StreamDecoder:
        """A fresh stream decoder; ``settings`` enables timing-based frame boundaries (RTU)."""
        ...


def get_codec(framing: str) -> Codec:
    """The codec for ``ascii`` (ABL-style, ``>`` replies) or ``rtu``."""
    if framing == "ascii":
        from clu_doctor.bus.ascii import AsciiCodec

        return AsciiCodec()
    if framing == "rtu":
        from clu_doctor.bus.rtu import RtuCodec

        return RtuCodec()
    raise ValueError(f"unknown framing {framing!r} (expected one of: {', '.join(FRAMINGS)})")


def decode_or_none(codec: Codec, raw: bytes) -> Frame | None:
    """``codec.decode(raw)``, or ``None`` when the bytes are not a valid frame."""
    try:
        return codec.decode(raw)
    except FrameError:
        return None
