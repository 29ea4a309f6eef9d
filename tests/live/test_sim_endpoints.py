"""The endpoints with real clients: a pty, a TCP socket, serve(). The in-process ``sim://``
handler is tested on the virtual clock in tests/sim/test_protocol_sim.py."""

from __future__ import annotations

import socket
import sys
import termios
import time
from collections.abc import Callable

import pytest
import serial

from clu_doctor.bus.codecs.events import Decoded
from clu_doctor.bus.errors import PortBusy
from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.endpoints import SimServer
from clu_doctor.sim.ptyport import PtyEndpoint, settings_from_termios
from tests.commands.helpers import invoke_subprocess, one_line_error
from tests.sim.client import ABL, Client, identity, open_port

Served = Callable[..., SimServer]


def test_serve_returns_a_pty_and_a_localhost_socket(served: Served) -> None:
    server = served("healthy-16", clu=False)
    assert set(server.addresses) == {"pty", "tcp"}
    assert server.addresses["pty"].startswith("/dev/")
    assert server.addresses["tcp"].startswith("socket://127.0.0.1:")


def test_an_identity_read_through_the_pty(served: Served) -> None:
    server = served("healthy-16", clu=False)
    with Client(server.addresses["pty"]) as client:
        registers = client.read(3, 0x0050, 8)
    assert registers is not None and identity(registers) == "2W22M1DF230103"


def test_an_identity_read_through_the_socket(served: Served) -> None:
    server = served("healthy-16", clu=False)
    with Client(server.addresses["tcp"]) as client:
        registers = client.read(16, 0x0050, 8)
    assert registers is not None and identity(registers) == "2W22M1DF230116"


def test_the_echo_quirk_reaches_the_client(served: Served) -> None:
    server = served("healthy-16", clu=False)
    with Client(server.addresses["pty"]) as client:
        for start, count in ((0x0001, 2), (0x0003, 1), (0x0004, 1), (0x002E, 5), (0x0050, 8)):
            [reply] = client.request(1, start, count).replies
            echo = 0x50 if start == 0x50 else start
            assert reply.data[1] == echo, f"0x{start:04X}"


@pytest.mark.parametrize(
    "data",
    [
        b":0103002E0005C8\r\n",  # checksum error
        b":010301000001FA\r\n",  # unknown register
        b":000300010002FA\r\n",  # broadcast
    ],
    ids=["checksum", "unknown-register", "broadcast"],
)
def test_silence_rules_through_the_pty(served: Served, data: bytes) -> None:
    server = served("healthy-16", clu=False)
    with Client(server.addresses["pty"]) as client:
        assert client.exchange(data, wait=0.5).raw == b""


def connect(host: str, port: int, patience: float) -> socket.socket | None:
    """A connection the endpoint took as its client, or None if it was reset or closed at
    once (the port is busy). Taken means: still open after ``patience`` seconds."""
    try:
        conn = socket.create_connection((host, port), timeout=patience)
    except ConnectionResetError:
        return None  # the reset overtook the end of connect()
    try:
        if conn.recv(16) == b"":
            conn.close()
            return None
    except ConnectionResetError:
        conn.close()
        return None
    except TimeoutError:
        return conn
    raise AssertionError("unexpected bytes from an idle simulated bus")


def test_a_second_tcp_client_is_turned_away_at_once(served: Served) -> None:
    server = served("healthy-16", clu=False, pty=False)
    host, port = server.addresses["tcp"].removeprefix("socket://").split(":")
    with Client(server.addresses["tcp"]) as first:
        assert first.read(1, 0x0004, 1) is not None
        assert connect(host, int(port), patience=5.0) is None
        assert first.read(2, 0x0004, 1) is not None  # the first client is unaffected
    # Once the endpoint has seen the first client go, the port takes a new one.
    deadline = time.monotonic() + 10
    third = None
    while third is None and time.monotonic() < deadline:
        third = connect(host, int(port), patience=0.3)
    assert third is not None
    with third:
        third.settimeout(5)
        third.sendall(b":030300040001F5\r\n")  # abl-protocol.md example 6
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += third.recv(64)
    assert reply == b">03030204A153\r\n"  # state A1; 03+03+02+04+A1 = 0xAD


def test_a_second_listen_on_the_socket_is_told_the_port_is_busy(served: Served) -> None:
    """As with a real port that another program holds: "in use", and the hint says who
    holds a network port, not "check the adapter is plugged in"."""
    server = served("healthy-16", clu=False, pty=False)
    url = server.addresses["tcp"]
    with Client(url) as first:
        assert first.read(1, 0x0004, 1) is not None
        for _ in range(3):  # whether the reset comes during connect or at the first read
            with pytest.raises(PortBusy) as caught, Link.open(url, ABL, "ascii") as link:
                for _ in link.receive(2.0):
                    pass
            assert "in use by another program" in caught.value.message
            assert caught.value.hint and "one client at a time" in caught.value.hint
        result = invoke_subprocess("listen", "--port", url, "--seconds", "2")
    line = one_line_error(result, url, "in use by another program", "one client at a time")
    assert "plugged in" not in line


def test_a_client_at_the_wrong_baud_rate_gets_junk_through_the_pty(served: Served) -> None:
    server = served("healthy-16", clu=True, tcp=False)
    with Client(server.addresses["pty"], settings=LineSettings(9600, 8, "N", 1)) as client:
        heard = client.collect(1.2)
        assert heard, "the CLU's traffic arrives, garbled"
        assert not any(isinstance(e, Decoded) for e in client.decode(heard))
        # About one character per four sent, mostly framing errors (NUL).
        assert heard.count(0) > len(heard) // 4


def test_the_pty_reports_the_clients_speed_and_stop_bits(served: Served) -> None:
    server = served("healthy-16", clu=False, tcp=False)
    endpoint = server.endpoints[0]
    port = open_port(server.addresses["pty"], LineSettings(19200, 8, "N", 2))
    try:
        settings, policy = settings_from_termios(termios.tcgetattr(port.fd), ABL)
    finally:
        port.close()
    assert settings is not None
    assert (settings.baudrate, settings.stopbits) == (19200, 2.0)
    assert not policy.check_parity  # pyserial never sets INPCK
    assert endpoint.running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's pty driver")
def test_a_linux_pty_hides_a_clients_parity_from_the_simulator(served: Served) -> None:
    """Why a client that only listens hears a mixed bus through a pty at the bus's own
    setting (docs/simulator.md): the termios the endpoint reads on its master side is the same
    whether the client opened the pty at 8E1 or at 8N1, so which parity it listens at cannot
    be known there. Should a kernel ever keep PARENB, this fails, and the endpoint can use it."""
    server = served("healthy-16", clu=False, tcp=False)
    endpoint = server.endpoints[0]
    assert isinstance(endpoint, PtyEndpoint)
    seen = []
    for parity in ("E", "N"):
        port = open_port(server.addresses["pty"], LineSettings(38400, 8, parity, 1))
        try:
            _, _, cflag, _, ispeed, ospeed, _ = termios.tcgetattr(endpoint.master)
            seen.append((cflag, ispeed, ospeed))
        finally:
            port.close()
    assert seen[0] == seen[1]
    assert not seen[0][0] & termios.PARENB


def test_stop_ends_the_threads_and_frees_the_port(served: Served) -> None:
    server = served("healthy-16", clu=False)
    url = server.addresses["tcp"]
    server.stop()
    server.stop()  # twice is fine
    assert not server.running
    with pytest.raises(serial.SerialException):
        serial.serial_for_url(url, timeout=0.1)
