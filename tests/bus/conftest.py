"""Fixtures for the bus tests: fake buses behind a URL, ptys, linked pty pairs, pty devices."""

from __future__ import annotations

import contextlib
import os
import select
import tempfile
import threading
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.codecs.events import Decoded
from clu_doctor.bus.frames import Direction, infer_direction
from tests.bus.fakes import FakeBus, attach, detach, register

Responder = Callable[[bytes], "bytes | None"]


@pytest.fixture
def fake_bus() -> Iterator[Callable[..., FakeBus]]:
    """Factory: ``fake_bus(responder=..., echo=..., turnaround=...)`` -> an attached FakeBus."""
    register()
    made: list[FakeBus] = []

    def make(**kwargs: Any) -> FakeBus:
        bus = attach(FakeBus(**kwargs))
        made.append(bus)
        return bus

    yield make
    for bus in made:
        detach(bus)


@dataclass
class PtyPair:
    """A pseudo-terminal: ``port`` is the tty the link opens, ``master`` the far end's fd."""

    master: int
    slave: int
    port: str
    closed: bool = False

    def close_master(self) -> None:
        """Pull the plug: the tty side now gets EIO, as from an unplugged adapter."""
        if not self.closed:
            self.closed = True
            os.close(self.master)

    def read_available(self, wait: float = 0.0) -> bytes:
        data = b""
        while select.select([self.master], [], [], wait)[0]:
            chunk = os.read(self.master, 4096)
            if not chunk:
                break
            data += chunk
            wait = 0.0
        return data


@pytest.fixture
def pty() -> Iterator[PtyPair]:
    master, slave = os.openpty()
    pair = PtyPair(master, slave, os.ttyname(slave))
    yield pair
    pair.close_master()
    os.close(slave)


@dataclass
class PtyDevice:
    """A device on the far end of a pty: answers request frames through ``responder``."""

    pair: PtyPair
    framing: str
    responder: Responder
    echo: bool = False
    requests: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PtyDevice:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        decoder = get_codec(self.framing).decoder()
        master = self.pair.master
        while not self._stop.is_set():
            try:
                ready = select.select([master], [], [], 0.01)[0]
                if not ready:
                    continue
                data = os.read(master, 4096)
            except OSError:
                return  # the master was closed: the test pulled the plug
            if self.echo:
                os.write(master, data)
            for event in decoder.feed(data):
                if not isinstance(event, Decoded):
                    continue
                frame = event.frame
                is_request = frame.direction is Direction.REQUEST or (
                    frame.direction is Direction.UNKNOWN
                    and infer_direction(frame.function, frame.data) is Direction.REQUEST
                )
                if not is_request:
                    continue
                self.requests.append(event.raw)
                reply = self.responder(event.raw)
                if reply:
                    try:
                        os.write(master, reply)
                    except OSError:
                        return


@pytest.fixture
def pty_device(pty: PtyPair) -> Iterator[Callable[..., PtyDevice]]:
    started: list[PtyDevice] = []

    def make(framing: str, responder: Responder, *, echo: bool = False) -> PtyDevice:
        device = PtyDevice(pty, framing, responder, echo).start()
        started.append(device)
        return device

    yield make
    for device in started:
        device.stop()


class LinkedPtys:
    """Two pseudo-terminals joined back to back, made with the standard library: what a
    program writes to one (``a``), a program on the other (``b``) reads, and back, as with
    ``socat pty,raw,echo=0 pty,raw,echo=0`` but without socat.

    ``a`` and ``b`` are symlinks to the ``/dev/pts/N`` slaves (as socat's ``link=``). A relay
    thread moves bytes between the two masters; both slaves stay open here, so a program may
    open and close its end at any time. :meth:`kill` pulls the plug: the masters close and a
    program with an end open gets EIO, as from a USB adapter pulled out.
    """

    def __init__(self, directory: Path) -> None:
        self.masters: list[int] = []
        self.slaves: list[int] = []
        paths = []
        for name in ("a", "b"):
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line editing: a serial line, not a terminal
            os.set_blocking(master, False)
            self.masters.append(master)
            self.slaves.append(slave)
            link = directory / name
            link.symlink_to(os.ttyname(slave))
            paths.append(link)
        self.links = paths
        self.a, self.b = (str(path) for path in paths)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._relay, name="linked-ptys", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        a, b = self.masters
        pending = {a: b"", b: b""}  # bytes waiting to be written to that master
        other = {a: b, b: a}
        while not self._stop.is_set():
            writable = [fd for fd, data in pending.items() if data]
            try:
                readable, ready, _ = select.select([a, b], writable, [], 0.01)
                for fd in readable:
                    with contextlib.suppress(BlockingIOError):
                        pending[other[fd]] += os.read(fd, 4096)
                for fd in ready:
                    with contextlib.suppress(BlockingIOError):
                        written = os.write(fd, pending[fd])
                        pending[fd] = pending[fd][written:]
            except OSError:
                return  # an end was closed under us: kill() is on its way

    def kill(self) -> None:
        """Pull the plug on both ends (safe to call twice)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(5)
        for fd in (*self.masters, *self.slaves):
            with contextlib.suppress(OSError):
                os.close(fd)
        for link in self.links:
            link.unlink(missing_ok=True)


@pytest.fixture
def linked_ptys() -> Iterator[LinkedPtys]:
    with tempfile.TemporaryDirectory(prefix="clu-doctor-ptys-") as directory:
        pair = LinkedPtys(Path(directory))
        yield pair
        pair.kill()
