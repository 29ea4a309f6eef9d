"""Fixtures for the bus tests: fake buses behind a URL, ptys, linked pty pairs, pty devices."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import threading
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


#: The relay between two ptys, run as a process of its own (as socat is): it makes the pairs,
#: links their slaves at the paths it is given, says "ready", and copies bytes between the two
#: masters until it is killed. Both slaves stay open in it, so a program may open and close its
#: end at any time; killed, its masters close and an open end gets EIO.
_RELAY = """
import os, select, sys, tty
masters = []
for link in sys.argv[1:3]:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line editing: a serial line, not a terminal
    os.symlink(os.ttyname(slave), link)
    masters.append(master)
print("ready", flush=True)
a, b = masters
other = {a: b, b: a}
while True:
    for fd in select.select([a, b], [], [])[0]:
        os.write(other[fd], os.read(fd, 4096))
"""


class LinkedPtys:
    """Two pseudo-terminals joined back to back, made with the standard library: what a
    program writes to one (``a``), a program on the other (``b``) reads, and back, as with
    ``socat pty,raw,echo=0 pty,raw,echo=0`` but without socat.

    ``a`` and ``b`` are symlinks to the ``/dev/pts/N`` slaves (as socat's ``link=``). The relay
    is a separate Python process, as socat is, so it takes no time from the test's own threads
    (a pymodbus server, say). :meth:`kill` pulls the plug: the relay ends, and a program with
    an end open gets EIO, as from a USB adapter pulled out.
    """

    def __init__(self, directory: Path) -> None:
        self.links = [directory / "a", directory / "b"]
        self.a, self.b = (str(path) for path in self.links)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _RELAY, self.a, self.b],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        # A readiness wait: the relay says so once both ptys are linked.
        assert self.process.stdout.readline() == "ready\n", "the pty relay did not start"

    def kill(self) -> None:
        """Pull the plug on both ends (safe to call twice)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        for link in self.links:
            link.unlink(missing_ok=True)


@pytest.fixture
def linked_ptys() -> Iterator[LinkedPtys]:
    with tempfile.TemporaryDirectory(prefix="clu-doctor-ptys-") as directory:
        pair = LinkedPtys(Path(directory))
        yield pair
        pair.kill()
