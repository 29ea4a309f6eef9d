"""Interoperability: mbpoll (libmodbus), an independent Modbus RTU master, against the pty.

These tests are the evidence that the simulator speaks Modbus RTU the way third-party tools
expect (framing, CRC, t3.5 silences, termios handling) and not only the way our own codecs do.
Without mbpoll they are skipped with the command that installs it; CI installs it and sets
CLU_DOCTOR_REQUIRE_PEERS=1, under which a missing mbpoll is a failure (tests/peers.py).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest

from clu_doctor.sim.endpoints import SimServer
from tests.peers import peer

pytestmark = pytest.mark.peer

Served = Callable[..., SimServer]
_VALUE = re.compile(r"^\[(\d+)\]:\s+(\S+)\s*$", re.MULTILINE)


def mbpoll(port: str, *args: str, timeout: str = "2") -> subprocess.CompletedProcess[str]:
    """One poll (``-1``) at 9600 8N1 RTU with 0-based register numbers (``-0``)."""
    binary = peer("mbpoll")
    command = [binary, "-m", "rtu", "-b", "9600", "-P", "none", "-1", "-0", "-o", timeout]
    command += [*args, port]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def values(output: str) -> dict[int, str]:
    return {int(ref): value for ref, value in _VALUE.findall(output)}


def test_mbpoll_reads_a_meter_on_the_meter_bus(served: Served) -> None:
    server = served("meter-bus-duplicate", clu=False, tcp=False)
    result = mbpoll(server.addresses["pty"], "-a", "2", "-r", "0", "-c", "8")
    assert result.returncode == 0, result.stdout + result.stderr
    # M2's table: voltages L1-L3 (0.1 V), currents L1-L3 (0.01 A), energy Wh (high, low).
    assert values(result.stdout) == {
        0: "2299", 1: "2302", 2: "2300", 3: "0", 4: "0", 5: "0", 6: "15", 7: "4614"
    }  # fmt: skip


def test_mbpoll_reads_input_registers_and_gets_an_exception_outside_the_table(
    served: Served,
) -> None:
    server = served("meter-bus-duplicate", clu=False, tcp=False)
    result = mbpoll(server.addresses["pty"], "-a", "2", "-t", "3:hex", "-r", "16", "-c", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    serial = "".join(values(result.stdout)[n][2:] for n in range(16, 20))
    assert bytes.fromhex(serial) == b"EM100002"
    missing = mbpoll(server.addresses["pty"], "-a", "2", "-r", "100", "-c", "1")
    assert missing.returncode != 0
    assert "Illegal data address" in missing.stdout + missing.stderr


def test_mbpoll_on_the_duplicate_address_sees_the_collision(served: Served) -> None:
    # With seed 0 the first poll of address 1 overlaps M1's and M3's replies: a CRC error.
    server = served("meter-bus-duplicate", clu=False, tcp=False, seed=0)
    result = mbpoll(server.addresses["pty"], "-a", "1", "-r", "0", "-c", "8")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Invalid CRC" in output or "Connection timed out" in output


def test_mbpoll_reads_a_stations_identity_and_status_over_rtu(served: Served) -> None:
    server = served("healthy-rtu-4", clu=False, tcp=False)
    identity = mbpoll(server.addresses["pty"], "-a", "3", "-t", "4:hex", "-r", "80", "-c", "8")
    assert identity.returncode == 0, identity.stdout + identity.stderr
    words = values(identity.stdout)
    assert words[80] == "0x5000"  # the ABL echo quirk: 0x50 repeats the start register
    text = bytes.fromhex("".join(words[n][2:] for n in range(81, 88)))
    assert text == b"2W22M1DF230103"
    status = mbpoll(server.addresses["pty"], "-a", "2", "-t", "4:hex", "-r", "46", "-c", "5")
    assert status.returncode == 0, status.stdout + status.stderr
    assert values(status.stdout)[46] == "0x2EC2"


def test_mbpoll_gets_silence_for_a_register_the_station_does_not_have(served: Served) -> None:
    # An ABL controller answers an unknown register with silence, not an exception.
    server = served("healthy-rtu-4", clu=False, tcp=False)
    result = mbpoll(server.addresses["pty"], "-a", "1", "-r", "256", "-c", "1", timeout="0.5")
    assert result.returncode != 0
    assert "timed out" in (result.stdout + result.stderr).lower()
