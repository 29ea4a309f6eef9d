"""The link on real OS endpoints: ptys, linked pty pairs, socat's ptys and a TCP socket.

These provoke the failures a technician meets for real: a port that does not exist, one that
is not a serial port, one without permission, one another program holds, an adapter pulled
out in the middle of a read, and a driver without kernel RS-485 support.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from clu_doctor.bus.codecs.events import Decoded
from clu_doctor.bus.codecs.rtu import RtuStreamDecoder
from clu_doctor.bus.errors import (
    NoAnswer,
    PortBusy,
    PortConfigError,
    PortNotFound,
    PortPermissionDenied,
    PortVanished,
)
from clu_doctor.bus.link import Link, is_pseudo_terminal
from clu_doctor.bus.settings import LineSettings
from clu_doctor.commands.options import flag_hints
from tests.bus.conftest import LinkedPtys, PtyDevice, PtyPair
from tests.bus.fakes import holding, register_devices
from tests.peers import peer

ABL = LineSettings.parse("38400 8E1")
METER = LineSettings.parse("9600 8N1")
REPO = Path(__file__).resolve().parents[2]
HANG_GUARD = pytest.mark.timeout(20)  # a hang fails the test instead of blocking the run

PtyDeviceFactory = Callable[..., PtyDevice]

ABL_STATION = register_devices("ascii", {1: holding(0x002E, [0x2EA1, 0x1064, 1000, 1000, 1000])})
METERS = register_devices("rtu", {0x11: holding(0x006B, [0xAE41, 0x5652, 0x4340])})


# --- pyserial's own in-process port -------------------------------------------------------------


def test_loop_url_acts_as_a_perfectly_echoing_adapter() -> None:
    # pyserial's loop:// hands every written byte back: the echo is recognised, and since no
    # device exists the answer is NoAnswer, not our own request read back as an answer. Its
    # reads wait on the OS, so it lives here, on the wall clock.
    with Link.open("loop://", METER, "rtu", timeout=0.15) as link:
        with pytest.raises(NoAnswer):
            link.read_registers(1, 0, 2)
        assert link.echo_detected is True


# --- reading over a pty ------------------------------------------------------------------------


def test_reads_an_abl_station_over_a_pty(pty: PtyPair, pty_device: PtyDeviceFactory) -> None:
    device = pty_device("ascii", ABL_STATION)
    with Link.open(pty.port, ABL, "ascii", timeout=2.0) as link:
        result = link.read_registers(1, 0x002E, 5)
    assert result.registers == (0x2EA1, 0x1064, 1000, 1000, 1000)
    assert device.requests == [b":0103002E0005C9\r\n"]


def test_reads_a_meter_over_a_pty(pty: PtyPair, pty_device: PtyDeviceFactory) -> None:
    pty_device("rtu", METERS)
    with Link.open(pty.port, METER, "rtu", timeout=2.0) as link:
        assert link.read_registers(0x11, 0x006B, 3).registers == (0xAE41, 0x5652, 0x4340)


def test_silent_address_over_a_pty_is_no_answer(pty: PtyPair, pty_device: PtyDeviceFactory) -> None:
    device = pty_device("ascii", ABL_STATION)
    with Link.open(pty.port, ABL, "ascii", timeout=0.2) as link, pytest.raises(NoAnswer):
        link.read_registers(2, 0x002E, 5)
    assert device.requests == [b":0203002E0005C8\r\n"]


def test_echoing_adapter_over_a_pty(pty: PtyPair, pty_device: PtyDeviceFactory) -> None:
    pty_device("rtu", METERS, echo=True)
    with Link.open(pty.port, METER, "rtu", timeout=2.0) as link:
        result = link.read_registers(0x11, 0x006B, 3)
        assert link.echo_detected is True
    assert result.echoed
    assert result.registers == (0xAE41, 0x5652, 0x4340)


def test_receive_over_a_pty_is_passive(pty: PtyPair) -> None:
    with Link.open(pty.port, ABL, "ascii") as link:
        os.write(pty.master, b":0103002E0005C9\r\n")
        received = b"".join(data for _, data in link.receive(0.2))
    assert received == b":0103002E0005C9\r\n"
    assert pty.read_available() == b""  # nothing went the other way


def test_a_pty_can_be_reopened_at_8e1(pty: PtyPair) -> None:
    # Linux 6.x refuses PARENB on a pty (tcsetattr EINVAL), which broke every second open of
    # the simulator's pty at 38400 8E1; a pty has no wire, so the link leaves parity off there.
    for _ in range(3):
        with Link.open(pty.port, ABL, "ascii") as link:
            assert link.settings == ABL


def test_ptys_are_recognised_and_other_paths_are_not(
    pty: PtyPair, linked_ptys: LinkedPtys, tmp_path: Path
) -> None:
    assert is_pseudo_terminal(pty.port)
    assert is_pseudo_terminal(linked_ptys.a)  # a symlink to /dev/pts/N, as socat's link=
    (tmp_path / "file").write_text("")
    assert not is_pseudo_terminal(str(tmp_path / "file"))
    assert not is_pseudo_terminal(str(tmp_path / "missing"))
    assert not is_pseudo_terminal("socket://127.0.0.1:5020")


# --- opening failures ----------------------------------------------------------------------


def test_missing_port_is_port_not_found(tmp_path: Path) -> None:
    with pytest.raises(PortNotFound) as caught, flag_hints():  # the hint as a user reads it
        Link.open(str(tmp_path / "ttyUSB7"), ABL, "ascii")
    assert caught.value.hint and "clu-doctor ports" in caught.value.hint


def test_a_file_is_not_a_serial_port(tmp_path: Path) -> None:
    path = tmp_path / "not-a-port"
    path.write_text("hello")
    with pytest.raises(PortNotFound, match="not a serial port"):
        Link.open(str(path), ABL, "ascii")


def test_second_user_of_a_port_gets_port_busy_at_once(pty: PtyPair) -> None:
    with Link.open(pty.port, ABL, "ascii"):
        with pytest.raises(PortBusy) as caught:
            Link.open(pty.port, ABL, "ascii")
        assert caught.value.hint and "ModemManager" in caught.value.hint
    with Link.open(pty.port, ABL, "ascii") as again:  # free once the first one closed
        assert again.is_open


def test_kernel_rs485_mode_on_a_port_without_it_is_a_config_error(pty: PtyPair) -> None:
    with pytest.raises(PortConfigError) as caught, flag_hints():  # the hint as a user reads it
        Link.open(pty.port, ABL, "ascii", rs485=True)
    assert caught.value.hint and "without --rs485" in caught.value.hint
    with Link.open(pty.port, ABL, "ascii") as link:  # the failed open left nothing locked
        assert link.is_open


_OPEN_AND_REPORT = """
import sys
from clu_doctor.bus.errors import PortError
from clu_doctor.bus.link import Link, is_pseudo_terminal
from clu_doctor.bus.settings import LineSettings
try:
    Link.open(sys.argv[1], LineSettings(), "ascii").close()
except PortError as error:
    print(type(error).__name__)
    print(error.hint)
else:
    print("opened")
"""


def test_port_without_permission_is_permission_denied(pty: PtyPair) -> None:
    if os.geteuid() == 0:
        # root opens anything, so ask a real unprivileged process: uid/gid 65534 (nobody),
        # no supplementary groups, trying the pty that root owns.
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test permissions when run as root"
        done = subprocess.run(
            [
                setpriv,
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-c",
                _OPEN_AND_REPORT,
                pty.port,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env={"PYTHONPATH": str(REPO), "PATH": os.environ.get("PATH", "")},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        name, hint = done.stdout.splitlines()
        assert name == "PortPermissionDenied"
        assert "sudo usermod -aG dialout $USER" in hint
    else:
        os.chmod(pty.port, 0)
        with pytest.raises(PortPermissionDenied) as caught:
            Link.open(pty.port, ABL, "ascii")
        assert caught.value.hint and "dialout" in caught.value.hint


# --- the adapter vanishes mid-read -----------------------------------------------------------------


@HANG_GUARD
def test_unplugged_while_waiting_for_an_answer_is_port_vanished(pty: PtyPair) -> None:
    with Link.open(pty.port, ABL, "ascii", timeout=10.0) as link:
        unplug = threading.Timer(0.1, pty.close_master)
        unplug.start()
        try:
            with pytest.raises(PortVanished) as caught:
                link.read_registers(1, 0x002E, 5)
        finally:
            unplug.join()
    assert caught.value.hint and "USB cable" in caught.value.hint


@HANG_GUARD
def test_unplugged_while_listening_is_port_vanished(linked_ptys: LinkedPtys) -> None:
    with Link.open(linked_ptys.a, ABL, "ascii") as link:
        killer = threading.Timer(0.1, linked_ptys.kill)
        killer.start()
        try:
            with pytest.raises(PortVanished):
                for _ in link.receive(10.0):
                    pass
        finally:
            killer.join()


def test_transmitting_after_unplug_is_port_vanished(pty: PtyPair) -> None:
    with Link.open(pty.port, ABL, "ascii", timeout=0.2) as link:
        pty.close_master()
        with pytest.raises(PortVanished):
            link.read_registers(1, 0x002E, 5)
    assert not link.is_open


# --- linked ptys, socat and socket:// -----------------------------------------------------------


def test_reads_across_linked_ptys(linked_ptys: LinkedPtys) -> None:
    # The far end of the pair acts as the station, through pyserial like any program would.
    read_across(linked_ptys.a, linked_ptys.b)


@pytest.mark.peer
def test_reads_across_a_socat_pair(tmp_path: Path) -> None:
    """socat's pty pair, as technicians use it to put a program between two ports: its
    ``link=`` symlinks are recognised as ptys, and a read goes across."""
    socat = peer("socat")
    a, b = tmp_path / "a", tmp_path / "b"
    process = subprocess.Popen(
        [socat, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # socat makes the links once both ptys exist: a readiness wait that ends as soon as
        # they are there, not a measurement.
        give_up = time.monotonic() + 10
        while not (a.exists() and b.exists()):
            assert process.poll() is None, "socat ended before making its ptys"
            assert time.monotonic() < give_up, "socat did not make its ptys"
            time.sleep(0.01)
        assert is_pseudo_terminal(str(a))
        read_across(str(a), str(b))
    finally:
        process.kill()
        process.wait(5)


def read_across(port: str, far_end: str) -> None:
    """The link on ``port`` reads a station's status through pyserial on ``far_end``."""
    with serial.Serial(far_end, timeout=2) as station:
        station.reset_input_buffer()

        def answer() -> None:
            request = station.read(17)
            if request == b":0103002E0005C9\r\n":
                station.write(b">01030A2EA1106403E803E803E8EE\r\n")

        thread = threading.Thread(target=answer)
        thread.start()
        with Link.open(port, ABL, "ascii", timeout=2.0) as link:
            result = link.read_registers(1, 0x002E, 5)
        thread.join()
    assert result.raw == b">01030A2EA1106403E803E803E8EE\r\n"


@pytest.fixture
def rtu_tcp_station() -> Iterator[tuple[str, threading.Event]]:
    """A TCP server speaking RTU frames (like ser2net or the simulator's socket endpoint).

    Set the returned event to make it hang up on the next request instead of answering.
    """
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    hang_up = threading.Event()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(0.05)
                decoder = RtuStreamDecoder()
                while not stop.is_set():
                    try:
                        data = connection.recv(256)
                    except TimeoutError:
                        continue
                    if not data:
                        break
                    for event in decoder.feed(data):
                        if not isinstance(event, Decoded):
                            continue
                        if hang_up.is_set():
                            return
                        reply = METERS(event.raw)
                        if reply:
                            connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"socket://127.0.0.1:{port}", hang_up
    stop.set()
    thread.join(5)
    server.close()


def test_reads_through_a_socket_url(rtu_tcp_station: tuple[str, threading.Event]) -> None:
    url, _ = rtu_tcp_station
    with Link.open(url, METER, "rtu", timeout=2.0) as link:
        assert link.read_registers(0x11, 0x006B, 3).registers == (0xAE41, 0x5652, 0x4340)


@HANG_GUARD
def test_socket_peer_hanging_up_is_port_vanished(
    rtu_tcp_station: tuple[str, threading.Event],
) -> None:
    url, hang_up = rtu_tcp_station
    hang_up.set()
    with Link.open(url, METER, "rtu", timeout=10.0) as link, pytest.raises(PortVanished):
        link.read_registers(0x11, 0x006B, 3)


def test_socket_url_with_nothing_listening_is_port_not_found() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with pytest.raises(PortNotFound) as caught:
        Link.open(f"socket://127.0.0.1:{free}", METER, "rtu")
    assert caught.value.hint and "simulator" in caught.value.hint
