"""Interoperability: the link reads real Modbus RTU devices served by pymodbus.

pymodbus's serial RTU server runs on one end of a linked pty pair, serving several device ids;
the link opens the other end like a technician's adapter. pymodbus is an independent Modbus
implementation, so this checks our framing, CRC, request shape and answer parsing against
someone else's reading of the spec. Written for pymodbus 3.16 (``SimDevice``/``SimData``).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymodbus import FramerType
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simcore import SimCore

from clu_doctor.bus.errors import DeviceException, NoAnswer
from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from tests.bus.conftest import LinkedPtys

LINE = LineSettings.parse("9600 8N1")

#: device id -> (holding registers from 0, input registers from 0)
DEVICES = {
    1: ([100, 101, 102, 103, 104, 105], [1000, 1001, 1002]),
    2: ([200, 201, 202, 203], [0x2EC2, 0x810B, 160, 159, 161]),
    5: ([0xAE41, 0x5652, 0x4340], [7]),
}
ABSENT = 7


def sim_device(device_id: int, holding: list[int], inputs: list[int]) -> SimDevice:
    return SimDevice(
        id=device_id,
        simdata=(
            [SimData(0, values=False, datatype=DataType.BITS)],
            [SimData(0, values=False, datatype=DataType.BITS)],
            [SimData(0, values=holding, datatype=DataType.REGISTERS)],
            [SimData(0, values=inputs, datatype=DataType.REGISTERS)],
        ),
    )


class SimCoreWithAbsentIds(SimCore):
    """pymodbus 3.16's SimCore raises KeyError for a device id it does not serve, which the
    request handler turns into exception 04 even with ``ignore_missing_devices=True``. Raise
    the NoSuchIdException the handler checks for, so absent ids stay silent as on a real bus.
    """

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> Any:
        if device_id not in self.devices and 0 not in self.devices:
            raise NoSuchIdException(f"device id {device_id} is not on this bus")
        return await super().async_getValues(device_id, func_code, address, count)


class PymodbusRtuServer:
    """pymodbus's serial RTU server on ``port``, in a thread with its own event loop, serving
    ``devices`` (id -> holding and input registers; default :data:`DEVICES`)."""

    def __init__(
        self, port: str, devices: dict[int, tuple[list[int], list[int]]] | None = None
    ) -> None:
        self.port = port
        self.devices = DEVICES if devices is None else devices
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.server: ModbusSerialServer | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PymodbusRtuServer:
        self.thread.start()
        assert self.ready.wait(20), "pymodbus server did not start"
        if self.failed:
            raise self.failed
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # surface start-up failures in the test
            self.failed = error
            self.ready.set()

    async def _serve(self) -> None:
        devices = [sim_device(i, h, r) for i, (h, r) in self.devices.items()]
        self.server = ModbusSerialServer(
            devices,
            framer=FramerType.RTU,
            port=self.port,
            baudrate=LINE.baudrate,
            bytesize=LINE.bytesize,
            parity=LINE.parity,
            stopbits=int(LINE.stopbits),
            ignore_missing_devices=True,  # absent ids must stay silent, as on a real bus
        )
        self.server.context = SimCoreWithAbsentIds(devices)
        await self.server.serve_forever(background=True)
        self.ready.set()
        await self.server.serving

    def stop(self) -> None:
        if self.server is not None and self.loop.is_running():
            shutdown = self.server.shutdown()  # type: ignore[no-untyped-call]
            asyncio.run_coroutine_threadsafe(shutdown, self.loop).result(10)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def pymodbus_port() -> Iterator[str]:
    """The link's end of a pty pair whose other end pymodbus serves."""
    with tempfile.TemporaryDirectory(prefix="clu-doctor-pymodbus-") as directory:
        pair = LinkedPtys(Path(directory))
        server = PymodbusRtuServer(pair.b).start()
        try:
            yield pair.a
        finally:
            server.stop()
            pair.kill()


@pytest.fixture
def link(pymodbus_port: str) -> Iterator[Link]:
    with Link.open(pymodbus_port, LINE, "rtu", timeout=1.0) as opened:
        yield opened


@pytest.mark.parametrize("device_id", sorted(DEVICES))
def test_reads_holding_registers_of_every_device(link: Link, device_id: int) -> None:
    holding, _ = DEVICES[device_id]
    result = link.read_registers(device_id, 0, len(holding))
    assert result.registers == tuple(holding)
    assert result.frame.address == device_id


@pytest.mark.parametrize("device_id", sorted(DEVICES))
def test_reads_input_registers_of_every_device(link: Link, device_id: int) -> None:
    _, inputs = DEVICES[device_id]
    assert link.read_registers(device_id, 0, len(inputs), function=4).registers == tuple(inputs)


def test_reads_a_block_from_the_middle(link: Link) -> None:
    assert link.read_registers(1, 2, 3).registers == (102, 103, 104)


def test_register_past_the_end_is_a_device_exception(link: Link) -> None:
    with pytest.raises(DeviceException) as caught:
        link.read_registers(5, 0, 10)
    assert (caught.value.address, caught.value.function, caught.value.code) == (5, 3, 2)


def test_absent_device_id_stays_silent(link: Link) -> None:
    with pytest.raises(NoAnswer) as caught:
        link.read_registers(ABSENT, 0, 1, timeout=0.3)
    assert caught.value.address == ABSENT


def test_silence_does_not_disturb_the_next_read(link: Link) -> None:
    with pytest.raises(NoAnswer):
        link.read_registers(ABSENT, 0, 1, timeout=0.3)
    assert link.read_registers(2, 0, 4).registers == (200, 201, 202, 203)


def test_a_scan_of_addresses_finds_exactly_the_served_ids(link: Link) -> None:
    found = []
    for address in range(1, 9):
        try:
            link.read_registers(address, 0, 1, timeout=0.2)
        except NoAnswer:
            continue
        found.append(address)
    assert found == sorted(DEVICES)
