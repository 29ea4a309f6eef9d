"""A minimal bus client for the simulator tests: pyserial plus the bus codecs, nothing else.

The tests drive the simulator through the ``sim://`` handler (in-process, on the test's virtual
clock) and through real endpoints (a pty, a TCP socket: tests/live, on the wall clock) with this
client, so they exercise the same path a real tool takes without depending on the link layer.
Its waits run on the running clock (:func:`clu_doctor.clock.current`), as the link's do.
"""

from __future__ import annotations

import errno
from collections import Counter
from dataclasses import dataclass
from typing import Any

import serial

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.codecs.events import Decoded, DecodeEvent, Garbage
from clu_doctor.bus.frames import Direction, Frame, ReadRequest, parse_read_reply
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Timeout, current

ABL = LineSettings(38400, 8, "E", 1)
METER = LineSettings(9600, 8, "N", 1)


def open_port(port: str, settings: LineSettings = ABL, timeout: float = 0.02) -> Any:
    """Open ``port`` (device path or URL) with ``settings``.

    A Linux pty drops PARENB, and a recent kernel then rejects a tcsetattr that changes
    nothing else with EINVAL. The pty endpoint re-arms a marker flag after each client (see
    ``PtyEndpoint._mark``); a test that reopens within a few milliseconds may beat it, so
    EINVAL is retried after a short pause.
    """
    for attempt in range(5):
        try:
            return serial.serial_for_url(
                port,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=settings.parity,
                stopbits=int(settings.stopbits),
                timeout=timeout,
            )
        except serial.SerialException as error:
            if attempt == 4 or getattr(error, "errno", None) != errno.EINVAL:
                raise
            current().sleep(0.02)
    raise AssertionError("unreachable")


@dataclass
class Exchange:
    """What came back after one request: the raw bytes and what they decode to."""

    raw: bytes
    events: list[DecodeEvent]

    @property
    def frames(self) -> list[Frame]:
        return [e.frame for e in self.events if isinstance(e, Decoded)]

    @property
    def replies(self) -> list[Frame]:
        return [f for f in self.frames if f.direction is not Direction.REQUEST]

    @property
    def garbage(self) -> list[Garbage]:
        return [e for e in self.events if isinstance(e, Garbage)]


class Client:
    """Writes requests and collects whatever arrives until the line settles."""

    def __init__(
        self,
        port: str,
        framing: str = "ascii",
        settings: LineSettings = ABL,
    ) -> None:
        self.serial = open_port(port, settings)
        self.codec = get_codec(framing)
        self.settings = settings

    def close(self) -> None:
        self.serial.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def collect(self, duration: float) -> bytes:
        """Everything that arrives within ``duration`` seconds."""
        window = Timeout(duration)
        data = bytearray()
        while not window.expired():
            data += self.serial.read(4096)
        return bytes(data)

    def drain(self) -> None:
        self.serial.reset_input_buffer()

    def exchange(
        self, data: bytes, *, wait: float = 0.3, settle: float = 0.05, first_reply: bool = False
    ) -> Exchange:
        """Send ``data``; wait up to ``wait`` seconds for the first byte, then collect until
        ``settle`` seconds pass with nothing new (or, with ``first_reply``, until a reply
        frame has decoded). ``wait`` is also how long silence must last to count as silence:
        generous, because a loaded machine may delay the endpoint's thread."""
        self.drain()
        self.serial.write(data)
        self.serial.flush()
        received = bytearray()
        clock = current()
        start = clock.now()
        last: float | None = None
        while True:
            chunk = self.serial.read(4096)
            now = clock.now()
            if chunk:
                received += chunk
                last = now
                if first_reply and Exchange(b"", self.decode(bytes(received))).replies:
                    break
            elif (last is None and now - start >= wait) or (
                last is not None and now - last >= settle
            ):
                break
        return Exchange(bytes(received), self.decode(bytes(received)))

    def decode(self, raw: bytes) -> list[DecodeEvent]:
        decoder = self.codec.decoder()
        return decoder.feed(raw) + decoder.flush()

    def request(self, address: int, start: int, count: int, **kwargs: Any) -> Exchange:
        frame = ReadRequest(address, start, count).to_frame()
        return self.exchange(self.codec.encode(frame), **kwargs)

    def read(self, address: int, start: int, count: int, **kwargs: Any) -> tuple[int, ...] | None:
        """The registers of the first valid reply, or None if none came within ``settle``."""
        request = ReadRequest(address, start, count)
        kwargs.setdefault("first_reply", True)
        for frame in self.request(address, start, count, **kwargs).replies:
            return parse_read_reply(request, frame)
        return None


def identity(registers: tuple[int, ...]) -> str:
    """The 14 characters of a 0x0050 x8 read: type and serial."""
    return b"".join(word.to_bytes(2, "big") for word in registers[1:]).decode("ascii")


def probe(client: Client, addresses: range | list[int]) -> dict[int, str | None]:
    """Each address's identity (type + serial), or None if it did not answer."""
    found: dict[int, str | None] = {}
    for address in addresses:
        registers = client.read(address, 0x0050, 8)
        found[address] = identity(registers) if registers else None
    return found


def collisions(client: Client, address: int, reads: int = 20) -> Counter[str]:
    """How ``reads`` status reads of ``address`` came back on a bus where two controllers share
    it: ``two clean replies``, ``garbled`` or ``one reply``."""
    outcomes: Counter[str] = Counter()
    for _ in range(reads):
        exchange = client.request(address, 0x002E, 5, wait=2.0)  # something always comes back
        if len(exchange.replies) == 2 and not exchange.garbage:
            outcomes["two clean replies"] += 1
        elif exchange.garbage:
            outcomes["garbled"] += 1
        else:
            outcomes["one reply"] += 1
    return outcomes
