"""Duplicate detection against an independent implementation: two pymodbus serial servers on
one id, joined to the adapter through linked pty pairs (real threads and ptys: the wall clock).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.duplicates import DuplicateResult, describe, find_duplicates
from clu_doctor.bus.profile import RegisterBlock, Timing, load_profile
from clu_doctor.bus.settings import LineSettings
from tests.bus.conftest import LinkedPtys
from tests.live.test_pymodbus_interop import PymodbusRtuServer

LINE = LineSettings.parse("9600 8N1")
#: Device id -> holding registers 0-1 (read as a 32-bit "serial"), per pymodbus server.
SERVER_A = {1: [0x0001, 0x0001], 2: [0x0002, 0x0002]}
SERVER_B = {1: [0x00B1, 0x00B1], 3: [0x0003, 0x0003]}
PYMODBUS_PROFILE = dataclasses.replace(
    load_profile("modbus-meter"),
    identity=RegisterBlock(3, 0, 2, "uint32", "serial"),
    # pymodbus, the pty relays and the wire thread share a loaded CI host: a generous floor keeps a
    # late but whole reply an answer (the test is about garbling, not about timeouts).
    timing=Timing(0.001, 0.005, 0.5),
)


class SharedWire:
    """The adapter's port and two device ports joined as one RS-485 wire.

    What the adapter sends reaches both devices. Each device's reply is laid on a timeline of
    character slots (at 9600 8N1, 1.04 ms each) starting ``delay_s`` after the request (that
    device's turnaround; how long pymodbus took on this host is not bus time); where both
    occupy a slot the wire carries the AND of the two bytes (a driven 0 wins on RS-485),
    elsewhere each byte as it is. The result goes to the adapter once every device serving the
    requested id has sent its whole reply. So replies that overlap arrive garbled, and replies
    further apart than a reply's length arrive one after the other.
    """

    def __init__(
        self, adapter: str, devices: list[str], serves: list[set[int]], delays: list[float]
    ) -> None:
        self.adapter = os.open(adapter, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.devices = [os.open(d, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK) for d in devices]
        self.serves = serves
        self.delays = delays
        self.char_time = LINE.char_time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SharedWire:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for fd in (self.adapter, *self.devices):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _merge(self, replies: dict[int, bytes]) -> bytes:
        slots: dict[int, int] = {}
        for index, reply in replies.items():
            first = round(self.delays[index] / self.char_time)
            for offset, value in enumerate(reply):
                slots[first + offset] = slots.get(first + offset, 0xFF) & value
        return bytes(slots[slot] for slot in sorted(slots))

    def _run(self) -> None:
        waiting: set[int] = set()
        length = 0
        replies: dict[int, bytes] = {}
        while not self._stop.is_set():
            ready = select.select([self.adapter, *self.devices], [], [], 0.005)[0]
            if self.adapter in ready:
                request = os.read(self.adapter, 4096)
                for fd in self.devices:
                    os.write(fd, request)
                # A read request: id, function, start, count; the reply is 5 + 2 x count bytes.
                length = 5 + 2 * int.from_bytes(request[4:6], "big")
                waiting = {i for i, ids in enumerate(self.serves) if request[0] in ids}
                replies = {}
            for index, fd in enumerate(self.devices):
                if fd in ready:
                    replies[index] = replies.get(index, b"") + os.read(fd, 4096)
            if waiting and all(len(replies.get(i, b"")) >= length for i in waiting):
                os.write(self.adapter, self._merge(replies))
                waiting = set()


@pytest.fixture
def shared_wire() -> Iterator[Any]:
    """``shared_wire(delay_b)`` -> the adapter's port of a wire with both pymodbus servers."""
    cleanup: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="clu-doctor-dup-") as directory:

        def make(delay_b: float) -> str:
            pairs = []
            for name in ("adapter", "a", "b"):
                (Path(directory) / name).mkdir()
                pairs.append(LinkedPtys(Path(directory) / name))
            cleanup.extend(pair.kill for pair in pairs)
            for pair, table in zip(pairs[1:], (SERVER_A, SERVER_B), strict=True):
                server = PymodbusRtuServer(
                    pair.b, {i: (regs, regs) for i, regs in table.items()}
                ).start()
                cleanup.append(server.stop)
            ports = [pairs[1].a, pairs[2].a]
            serves = [set(SERVER_A), set(SERVER_B)]
            wire = SharedWire(pairs[0].b, ports, serves, [0.0, delay_b]).start()
            cleanup.append(wire.stop)
            return pairs[0].a

        yield make
        for step in reversed(cleanup):
            step()


def pymodbus_duplicates(port: str) -> DuplicateResult:
    with Link.open(port, LINE, "rtu") as link:
        # The wire hands both replies over in one write: no tail window needed.
        return find_duplicates(link, PYMODBUS_PROFILE, [1, 2, 3], reads=12, force=True, tail_s=0.0)


def test_pymodbus_devices_on_one_id_at_the_same_time_garble_it(shared_wire: Any) -> None:
    result = pymodbus_duplicates(shared_wire(0.0))
    assert result.verdict == "suspected", describe(result)
    one = result.get(1)
    assert one is not None and one.reasons == ("corrupt_rate",)
    # both answer at once: every reply is garbled, so the address is read as often again
    assert one.corrupt == one.reads == 24
    assert one.p_value is not None and one.p_value < 1e-6
    assert result.get(2).verdict == result.get(3).verdict == "none"  # type: ignore[union-attr]


def test_pymodbus_devices_on_one_id_one_slower_give_two_serials(shared_wire: Any) -> None:
    # Device B answers 30 ms later than A: longer than a reply (9 bytes, 9.4 ms), so both
    # replies arrive whole, one after the other.
    result = pymodbus_duplicates(shared_wire(0.030))
    one = result.get(1)
    assert one is not None and one.verdict == "confirmed", describe(result)
    assert {i.identity.text for i in one.identities} == {str(0x00010001), str(0x00B100B1)}
    assert one.doubled > 0
    assert result.get(2).verdict == result.get(3).verdict == "none"  # type: ignore[union-attr]
