"""Serial line settings and the wire-time arithmetic that follows from them."""

from __future__ import annotations

import re

from clu_doctor.records import record

PARITIES = ("N", "E", "O")
STOPBITS = (1.0, 1.5, 2.0)
COMMON_BAUDRATES = (9600, 19200, 38400, 57600, 115200, 4800, 2400)

_COMPACT = re.compile(r"^\s*(\d+)\s*[ ,/-]?\s*([5-8])\s*,?\s*([NEOnoe])\s*,?\s*(1|1\.5|2)\s*$")


@record
class LineSettings:
    """Baud rate and character format of an RS-485 line, e.g. ``38400 8E1``."""

    baudrate: int = 38400
    bytesize: int = 8
    parity: str = "E"
    stopbits: float = 1.0

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"baud rate must be positive, not {self.baudrate}")
        if self.bytesize not in (5, 6, 7, 8):
            raise ValueError(f"data bits must be 5-8, not {self.bytesize}")
        if self.parity not in PARITIES:
            raise ValueError(f"parity must be one of N, E, O, not {self.parity!r}")
        if float(self.stopbits) not in STOPBITS:
            raise ValueError(f"stop bits must be 1, 1.5 or 2, not {self.stopbits}")

    @classmethod
    def parse(cls, text: str) -> LineSettings:
        """Parse ``38400 8E1``, ``9600,8,N,1``, ``9600-8N1`` and the like."""
        match = _COMPACT.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a line setting (expected e.g. '38400 8E1')")
        baud, size, parity, stop = match.groups()
        return cls(int(baud), int(size), parity.upper(), float(stop))

    @property
    def bits_per_char(self) -> float:
        """Start bit + data bits + parity bit + stop bits."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + float(self.stopbits)

    @property
    def char_time(self) -> float:
        """Seconds one character occupies on the wire."""
        return self.bits_per_char / self.baudrate

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` characters occupy on the wire, back to back."""
        return nbytes * self.char_time

    @property
    def t15(self) -> float:
        """Modbus RTU inter-character limit: 1.5 characters, fixed at 750 us above 19200 baud."""
        return 0.00075 if self.baudrate > 19200 else 1.5 * self.char_time

    @property
    def t35(self) -> float:
        """Modbus RTU inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 baud."""
        return 0.00175 if self.baudrate > 19200 else 3.5 * self.char_time

    @property
    def stopbits_text(self) -> str:
        return "1.5" if float(self.stopbits) == 1.5 else str(int(self.stopbits))

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits_text}"

    def to_dict(self) -> dict[str, object]:
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": float(self.stopbits),
        }
