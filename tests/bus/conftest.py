"""Fixtures for the bus tests: fake buses behind a URL, pty pairs, socat pairs, pty devices."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
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


@dataclass
class SocatPair:
    """Two linked ptys made by socat: what one end writes, the other reads."""

    a: str
    b: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """End socat (both ptys go away), as an adapter pulled from the USB port would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)


def start_socat(directory: Path) -> SocatPair:
    socat = shutil.which("socat")
    assert socat, "socat is required for the bus tests (apt-get install socat)"
    a, b = directory / "a", directory / "b"
    process = subprocess.Popen(
        [socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # socat creates the links once both ptys exist; wait for that (a readiness wait, not a
    # measurement: the loop ends as soon as they are there).
    give_up = time.monotonic() + 10
    while not (a.exists() and b.exists()):
        assert process.poll() is None, (
            f"socat failed: {process.stderr.read() if process.stderr else ''!r}"
        )
        assert time.monotonic() < give_up, "socat did not create its ptys"
        time.sleep(0.01)
    return SocatPair(str(a), str(b), process)


@pytest.fixture
def socat_pair() -> Iterator[SocatPair]:
    with tempfile.TemporaryDirectory(prefix="clu-doctor-socat-") as directory:
        pair = start_socat(Path(directory))
        yield pair
        pair.kill()
        if pair.process.stderr:
            pair.process.stderr.close()
