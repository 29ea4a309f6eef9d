"""The ``sim://`` URL handler: the simulated site in-process, on the test's virtual clock."""

from __future__ import annotations

import termios
from pathlib import Path

import pytest
import serial

from clu_doctor.bus.link import Link
from clu_doctor.clock import Timeout
from clu_doctor.sim.protocol_sim import parse_url
from clu_doctor.sim.ptyport import settings_from_termios
from tests.sim.client import ABL, Client, identity


def test_termios_parity_is_read_where_the_os_keeps_it() -> None:
    attrs = [0, 0, termios.CS7 | termios.PARENB | termios.PARODD, 0, termios.B9600, termios.B9600]
    settings, _ = settings_from_termios(attrs, ABL, pty_drops_parity=False)
    assert str(settings) == "9600 7O1"
    # On Linux the pty drops PARENB: INPCK (libmodbus sets it with parity) still tells.
    attrs = [termios.INPCK, 0, termios.CS8, 0, termios.B9600, termios.B9600]
    settings, policy = settings_from_termios(attrs, ABL, pty_drops_parity=True)
    assert str(settings) == "9600 8E1" and policy.check_parity


def test_the_url_handler_sees_a_parity_mismatch() -> None:
    # 8E1 traffic read at 8N1: characters with even parity arrive as NUL (framing error),
    # the others intact. The CLU polls 1..16, so the adapter hears plenty.
    port = serial.serial_for_url(
        "sim://healthy-16?seed=1", baudrate=38400, parity="N", timeout=0.05
    )
    try:
        heard = bytearray()
        window = Timeout(0.6)
        while not window.expired():
            heard += port.read(4096)
    finally:
        port.close()
    assert heard.count(0) > 10
    assert all(b == 0 or bin(b).count("1") % 2 for b in heard)


def test_the_url_handler_answers_at_matching_settings() -> None:
    with Client("sim://healthy-duo-8?clu=0&wire_time=0") as client:
        registers = client.read(6, 0x0050, 8)
    assert registers is not None and identity(registers) == "2W22D1DF240206"


def test_the_link_opens_a_simulated_site_by_url() -> None:
    with Link.open("sim://healthy-16?clu=0&wire_time=0", ABL, "ascii", timeout=0.5) as link:
        result = link.read_registers(12, 0x002E, 5)
    assert result.registers[0] == 0x2EA1


def test_a_scenario_file_opens_by_path(tmp_path: Path) -> None:
    site = tmp_path / "tiny.yaml"
    site.write_text(
        "description: tiny\nstations:\n  - {label: A, address: 7, serial: X1}\n", "utf-8"
    )
    with Client(f"sim://{site}?clu=0&wire_time=0") as client:
        registers = client.read(7, 0x0050, 8)
    assert registers is not None and identity(registers).endswith("X1      ")


def test_url_options_are_parsed_and_checked() -> None:
    url = parse_url("sim://healthy-16?wire_time=0&time_scale=10&seed=3&at=end&clu=0&uptime=5")
    assert (url.scenario, url.wire_time, url.time_scale, url.seed) == ("healthy-16", False, 10.0, 3)
    assert (url.at, url.clu, url.uptime) == ("end", False, 5.0)
    with pytest.raises(ValueError, match="unknown option"):
        parse_url("sim://healthy-16?speed=fast")
    with pytest.raises(ValueError, match="time_scale"):
        parse_url("sim://healthy-16?time_scale=0")
    with pytest.raises(serial.SerialException, match="no simulator scenario"):
        serial.serial_for_url("sim://no-such-site")
