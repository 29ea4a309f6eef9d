"""Both ABL text framings on one byte stream: a mixed site heard by an adapter that passes the
other generation's characters through unchanged.

A real USB-RS485 adapter opened by pyserial (INPCK off) hands over a character whose parity or
stop bit is wrong as it was sampled: the 8250 and FTDI drivers flag neither error unless INPCK
is set, and n_tty passes unflagged characters on. So a listener at 38400 8E1 on a bus both ABL
generations share (manual §9.7) most likely receives the first generation's 8N1 text frames
(``!5 02``, ``>5 02 0000``) intact among the second generation's Modbus ASCII, and one at 8N1
the reverse. Both framings end in CR LF and tell themselves apart by their first characters:
``:`` starts a Modbus ASCII request, ``!`` a first-generation request, and ``>`` a reply of
either: a first-generation reply has one address digit and a space after it (``>5 02``), where
Modbus ASCII has only hex digits (``>0503``).

:class:`MixedTextDecoder` cuts such a stream with both framings' start characters and decodes
each frame with the codec its shape names (:func:`is_evcc1`); everything else is garbage as in
either framing alone.
"""

from __future__ import annotations

from clu_doctor.bus.codecs import ascii as ascii_codec
from clu_doctor.bus.codecs import evcc1
from clu_doctor.bus.codecs.text import TextStreamDecoder
from clu_doctor.bus.frames import Frame

_DIGITS = frozenset(b"0123456789")
_SPACE = 0x20


def is_evcc1(raw: bytes) -> bool:
    """Is ``raw`` shaped as a first-generation frame (``!`` anything, or ``>`` digit space)?"""
    if not raw:
        return False
    if raw[0] == evcc1.REQUEST_START:
        return True
    return raw[0] == evcc1.REPLY_START and len(raw) >= 3 and raw[1] in _DIGITS and raw[2] == _SPACE


class MixedTextDecoder(TextStreamDecoder):
    """Cuts a stream of ABL Modbus ASCII and first-generation text frames (module docstring)."""

    def __init__(self) -> None:
        self._ascii = ascii_codec.AsciiCodec()
        self._evcc1 = evcc1.Evcc1Codec()
        starts = {ascii_codec.REQUEST_START, ascii_codec.REPLY_START, evcc1.REQUEST_START}
        max_frame = max(ascii_codec.MAX_FRAME, evcc1.MAX_FRAME)
        super().__init__(starts, max_frame, self._decode_either, self._claimed)

    def _decode_either(self, raw: bytes) -> Frame:
        return self._evcc1.decode(raw) if is_evcc1(raw) else self._ascii.decode(raw)

    @staticmethod
    def _claimed(raw: bytes) -> int | None:
        if is_evcc1(raw):
            return evcc1.claimed_address(raw)
        return ascii_codec.claimed_address(raw)
