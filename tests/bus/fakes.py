"""An in-process fake bus behind a pyserial URL (``fakebus://NAME``), for fast link tests.

Registering it goes through pyserial's own mechanism (``serial.protocol_handler_packages``),
the same one the simulator's ``sim://`` uses, so ``Link.open`` is exercised end to end. The fake
records every ``write`` call, so tests can prove what did and did not go on the wire. It keeps
time on the running clock (:func:`clu_doctor.clock.current`): the link's virtual clock in the
tests, so a turnaround or a timeout costs no real time.
"""

from __future__ import annotations

import itertools
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import FrameError
from clu_doctor.bus.frames import (
    READ_FUNCTIONS,
    Direction,
    ReadRequest,
    build_exception,
    build_read_reply,
)
from clu_doctor.bus.link import POLL_INTERVAL, Link
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Timeout, current
from tests.sim.client import open_port

Responder = Callable[[bytes], "bytes | None"]

_names = itertools.count(1)


@dataclass
class FakeBus:
    """What a fake port is attached to: devices that answer, an echo, injected traffic."""

    responder: Responder | None = None
    #: The adapter hands back what it sends (a 2-wire adapter's local echo).
    echo: bool = False
    #: Seconds between the end of a request and its reply becoming readable.
    turnaround: float = 0.0
    #: Deliver each reply in two halves this many seconds apart (USB packet splitting).
    split_gap: float | None = None
    #: Every ``write`` call, in order.
    written: list[bytes] = field(default_factory=list)
    #: Reading fails with this pyserial error (an unplugged adapter) once set.
    read_error: str | None = None
    name: str = field(default_factory=lambda: f"bus{next(_names)}")
    _scheduled: list[tuple[float, bytes]] = field(default_factory=list)
    _inbox: bytearray = field(default_factory=bytearray)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"fakebus://{self.name}"

    def inject(self, data: bytes, after: float = 0.0) -> None:
        """Make ``data`` readable ``after`` seconds from now (noise, other traffic)."""
        with self._lock:
            self._scheduled.append((current().now() + after, data))

    def on_write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        now = current().now()
        with self._lock:
            if self.echo:
                self._inbox.extend(data)
        reply = self.responder(bytes(data)) if self.responder else None
        if reply:
            ready = now + self.turnaround
            if self.split_gap is None:
                self.inject_at(ready, reply)
            else:
                half = len(reply) // 2
                self.inject_at(ready, reply[:half])
                self.inject_at(ready + self.split_gap, reply[half:])

    def inject_at(self, when: float, data: bytes) -> None:
        with self._lock:
            self._scheduled.append((when, data))

    def deliver(self) -> None:
        now = current().now()
        with self._lock:
            due = sorted(item for item in self._scheduled if item[0] <= now)
            self._scheduled = [item for item in self._scheduled if item[0] > now]
            for _, data in due:
                self._inbox.extend(data)

    def take(self, size: int) -> bytes:
        with self._lock:
            data = bytes(self._inbox[:size])
            del self._inbox[:size]
            return data

    def waiting(self) -> int:
        self.deliver()
        with self._lock:
            return len(self._inbox)


class FakeSerial(SerialBase):  # type: ignore[misc]
    """A pyserial port class for ``fakebus://NAME`` URLs."""

    buses: ClassVar[dict[str, FakeBus]] = {}
    is_open: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.bus: FakeBus | None = None
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        name = str(self.port).split("://", 1)[1]
        if name not in self.buses:
            raise SerialException(2, f"could not open port {self.port}: no such fake bus")
        self.bus = self.buses[name]
        self.is_open = True

    def close(self) -> None:
        self.is_open = False
        self.bus = None

    def _reconfigure_port(self) -> None:
        pass

    def _bus(self) -> FakeBus:
        if not self.is_open or self.bus is None:
            raise PortNotOpenError()
        if self.bus.read_error:
            raise SerialException(self.bus.read_error)
        return self.bus

    @property
    def in_waiting(self) -> int:
        return self._bus().waiting()

    def read(self, size: int = 1) -> bytes:
        bus = self._bus()
        timeout = Timeout(self._timeout or 0.0)
        while True:
            if bus.waiting():
                return bus.take(size)
            if timeout.expired():
                return b""
            timeout.clock.sleep(0.0005)
            bus = self._bus()

    def write(self, data: bytes) -> int:
        self._bus().on_write(bytes(data))
        return len(data)

    def flush(self) -> None:
        self._bus()

    def reset_input_buffer(self) -> None:
        bus = self._bus()
        bus.take(bus.waiting())

    def reset_output_buffer(self) -> None:
        pass


class SpySerial:
    """Wraps a pyserial object (a ``sim://`` port, say) and records every ``write`` call, so a
    test proves on the near side what a link did and did not send."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    @property
    def in_waiting(self) -> int:
        return int(self.inner.in_waiting)

    def read(self, size: int = 1) -> bytes:
        return bytes(self.inner.read(size))

    def write(self, data: bytes) -> int | None:
        self.writes.append(bytes(data))
        return int(self.inner.write(data))

    def flush(self) -> None:
        self.inner.flush()

    def reset_input_buffer(self) -> None:
        self.inner.reset_input_buffer()

    def close(self) -> None:
        self.inner.close()


def spied_link(url: str, settings: LineSettings, framing: str) -> tuple[Link, SpySerial]:
    """A link on ``url`` whose serial object records every write (opened the way
    ``Link.open`` opens one, with the spy in between)."""
    spy = SpySerial(open_port(url, settings, POLL_INTERVAL))
    return Link(url, spy, settings, framing), spy


_PACKAGE = "clu_doctor_test_urls"


def register() -> None:
    """Make ``fakebus://`` known to pyserial (idempotent)."""
    if f"{_PACKAGE}.protocol_fakebus" not in sys.modules:
        package = types.ModuleType(_PACKAGE)
        package.__path__ = []
        module = types.ModuleType(f"{_PACKAGE}.protocol_fakebus")
        module.Serial = FakeSerial  # type: ignore[attr-defined]
        sys.modules[_PACKAGE] = package
        sys.modules[module.__name__] = module
    if _PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(_PACKAGE)


def attach(bus: FakeBus) -> FakeBus:
    FakeSerial.buses[bus.name] = bus
    return bus


def detach(bus: FakeBus) -> None:
    FakeSerial.buses.pop(bus.name, None)


def register_devices(
    framing: str,
    devices: dict[int, dict[tuple[int, int], int]],
    *,
    reply_start: bytes | None = None,
) -> Responder:
    """A responder for devices at ``devices`` addresses: ``{(function, register): value}``.

    Answers a read of registers it has; answers exception 2 (illegal data address) otherwise;
    stays silent for other addresses, broadcasts and anything that is not a read request.
    ``reply_start`` overrides the ASCII reply start character (b":" for standard Modbus ASCII).
    """
    codec = get_codec(framing)

    def respond(data: bytes) -> bytes | None:
        try:
            frame = codec.decode(data)
        except FrameError:
            return None
        if frame.function not in READ_FUNCTIONS or frame.direction is Direction.REPLY:
            return None
        try:
            request = ReadRequest.from_frame(frame)
        except FrameError:
            return None
        table = devices.get(request.address)
        if table is None:
            return None
        keys = [(request.function, request.start + i) for i in range(request.count)]
        if all(key in table for key in keys):
            reply = codec.encode(build_read_reply(request, [table[key] for key in keys]))
        else:
            reply = codec.encode(build_exception(request.address, request.function, 2))
        if reply_start is not None and framing == "ascii":
            reply = reply_start + reply[1:]
        return reply

    return respond


def holding(start: int, values: list[int], function: int = 3) -> dict[tuple[int, int], int]:
    return {(function, start + i): value for i, value in enumerate(values)}
