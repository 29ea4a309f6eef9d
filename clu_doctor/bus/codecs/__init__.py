"""What every framing codec offers, and the events a stream decoder produces.

A codec turns one :class:`~clu_doctor.bus.frames.Frame` into bytes and back
(:meth:`Codec.encode`, :meth:`Codec.decode`) and makes stream decoders that cut an endless byte
stream (garbage, partial and back-to-back frames included) into :class:`Decoded` frames and
:class:`Garbage` runs. Decoders never raise on bad input: garbage is an event, counted by the
passive listener and the probes.
"""

from __future__ import annotations

from typing import Protocol

from clu_doctor.bus.codecs.ascii import AsciiCodec
from clu_doctor.bus.codecs.events import StreamDecoder
from clu_doctor.bus.codecs.rtu import RtuCodec
from clu_doctor.bus.frames import Frame
from clu_doctor.bus.settings import LineSettings

FRAMINGS = ("ascii", "rtu")


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
        return AsciiCodec()
    if framing == "rtu":
        return RtuCodec()
    raise ValueError(f"unknown framing {framing!r} (expected one of: {', '.join(FRAMINGS)})")
