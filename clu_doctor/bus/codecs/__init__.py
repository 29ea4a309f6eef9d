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
from clu_doctor.bus.codecs.evcc1 import Evcc1Codec
from clu_doctor.bus.codecs.events import StreamDecoder
from clu_doctor.bus.codecs.rtu import RtuCodec
from clu_doctor.bus.frames import Frame
from clu_doctor.bus.settings import LineSettings

#: ``ascii``: ABL's EVCC2/3 Modbus ASCII; ``rtu``: Modbus RTU (meters); ``evcc1``: ABL's first-
#: generation EVCC text protocol (``!n cc``).
FRAMINGS = ("ascii", "rtu", "evcc1")


class Codec(Protocol):
    """A framing: ABL-style Modbus ASCII, Modbus RTU or the first-generation EVCC text."""

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
    """The codec for ``ascii`` (ABL-style, ``>`` replies), ``rtu`` or ``evcc1``."""
    if framing == "ascii":
        return AsciiCodec()
    if framing == "evcc1":
        return Evcc1Codec()
    if framing == "rtu":
        return RtuCodec()
    raise ValueError(f"unknown framing {framing!r} (expected one of: {', '.join(FRAMINGS)})")
