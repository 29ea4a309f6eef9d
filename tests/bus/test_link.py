"""The link's request/answer logic, on an in-process fake bus behind a ``fakebus://`` URL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clu_doctor.bus.codecs.ascii import AsciiCodec
from clu_doctor.bus.codecs.rtu import RtuCodec
from clu_doctor.bus.errors import (
    ChecksumError,
    CorruptAnswer,
    DeviceException,
    MalformedFrame,
    NoAnswer,
    PortError,
    PortVanished,
    TransmitRefused,
    UnexpectedAnswer,
)
from clu_doctor.bus.frames import Frame, ReadRequest, build_read_reply
from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from tests.bus.fakes import FakeBus, holding, register_devices

ABL = LineSettings.parse("38400 8E1")
METER = LineSettings.parse("9600 8N1")
SHORT = 0.15  # seconds: every NoAnswer in this file waits this long, no more

FakeBusFactory = Callable[..., FakeBus]

# Status block of an ABL controller at 0x002E: the real capture [E526] (state A1, no currents).
STATUS_A1 = [0x2EA1, 0x1064, 0x03E8, 0x03E8, 0x03E8]


def abl_devices(**kwargs: object) -> Callable[[bytes], bytes | None]:
    return register_devices(
        "ascii",
        {1: holding(0x002E, STATUS_A1), 2: holding(0x002E, [0x2EC2, 0x810B, 160, 159, 161])},
        **kwargs,  # type: ignore[arg-type]
    )


def meter_devices() -> Callable[[bytes], bytes | None]:
    return register_devices(
        "rtu",
        {
            0x11: holding(0x006B, [0xAE41, 0x5652, 0x4340]) | holding(0x0008, [0x000A], 4),
            7: holding(0, [1, 2, 3, 4]),
        },
    )


# --- reading --------------------------------------------------------------------------------


def test_reads_abl_status_registers(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=abl_devices())
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link:
        result = link.read_registers(1, 0x002E, 5)
    assert result.registers == tuple(STATUS_A1)
    # exactly the request of worked example 1a went out, and the [E526] reply came back
    assert bus.written == [b":0103002E0005C9\r\n"]
    assert result.raw == b">01030A2EA1106403E803E803E8EE\r\n"
    assert result.frame.address == 1
    assert result.request == ReadRequest(1, 0x002E, 5)
    assert result.elapsed >= 0
    assert (link.bytes_sent, link.bytes_received) == (17, 31)


def test_reads_rtu_holding_and_input_registers(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices())
    with Link.open(bus.url, METER, "rtu", timeout=SHORT) as link:
        holding_result = link.read_registers(0x11, 0x006B, 3)
        input_result = link.read_registers(0x11, 0x0008, 1, function=4)
    assert holding_result.registers == (0xAE41, 0x5652, 0x4340)
    assert holding_result.raw == bytes.fromhex("11 03 06 AE 41 56 52 43 40 49 AD")
    assert input_result.registers == (0x000A,)
    assert bus.written == [
        bytes.fromhex("11 03 00 6B 00 03 76 87"),
        bytes.fromhex("11 04 00 08 00 01 B2 98"),
    ]


def test_elapsed_runs_from_request_to_reply(fake_bus: FakeBusFactory) -> None:
    # The reply cannot be read before the device's turnaround has passed, so elapsed is at
    # least that long (a bound the fake guarantees, not a measurement of this machine).
    bus = fake_bus(responder=abl_devices(), turnaround=0.03)
    with Link.open(bus.url, ABL, "ascii", timeout=0.5) as link:
        result = link.read_registers(2, 0x002E, 5)
    assert result.elapsed >= 0.03
    assert result.registers[0] == 0x2EC2


def test_reply_split_across_usb_packets_is_one_answer(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices(), split_gap=0.02)
    with Link.open(bus.url, METER, "rtu", timeout=0.5) as link:
        result = link.read_registers(0x11, 0x006B, 3)
    assert result.registers == (0xAE41, 0x5652, 0x4340)
    assert not result.garbage


def test_request_takes_a_read_request_object(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices())
    with Link.open(bus.url, METER, "rtu", timeout=SHORT) as link:
        assert link.request(ReadRequest(7, 0, 4)).registers == (1, 2, 3, 4)


def test_standard_modbus_ascii_reply_with_colon_is_accepted(fake_bus: FakeBusFactory) -> None:
    # A generic Modbus ASCII device answers with ':' instead of ABL's '>'; the shape decides.
    bus = fake_bus(responder=abl_devices(reply_start=b":"))
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link:
        assert link.read_registers(1, 0x002E, 5).registers == tuple(STATUS_A1)


# --- what comes back when it is not an answer -------------------------------------------------


def test_silent_address_is_no_answer(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=abl_devices())
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link, pytest.raises(NoAnswer) as caught:
        link.read_registers(9, 0x002E, 5)
    assert caught.value.address == 9
    assert "address 9: no answer within 150 ms" in str(caught.value)
    assert caught.value.hint and "38400 8E1" in caught.value.hint


def test_exception_reply_is_device_exception(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices())
    with (
        Link.open(bus.url, METER, "rtu", timeout=SHORT) as link,
        pytest.raises(DeviceException) as caught,
    ):
        link.read_registers(7, 100, 2)
    assert (caught.value.address, caught.value.function, caught.value.code) == (7, 3, 2)
    assert "illegal data address" in str(caught.value)


def test_abl_error_reply_is_device_exception(fake_bus: FakeBusFactory) -> None:
    # worked example 3 of abl-protocol.md: '>03900469', ABL's error reply.
    bus = fake_bus(responder=lambda data: b">03900469\r\n")
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link,
        pytest.raises(DeviceException) as caught,
    ):
        link.read_registers(3, 0x0050, 8)
    assert caught.value.code == 4


def test_corrupted_answer_is_checksum_error_with_the_bytes(fake_bus: FakeBusFactory) -> None:
    # The ABL PDF's status reply with its printed (wrong) LRC.
    bad = b">01030A2EC3810A0064006400001F\r\n"
    bus = fake_bus(responder=lambda data: bad)
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link,
        pytest.raises(ChecksumError) as caught,
    ):
        link.read_registers(1, 0x002E, 5)
    assert caught.value.raw == bad
    assert caught.value.address == 1
    assert caught.value.hint and "duplicate address" in caught.value.hint


def test_corrupted_rtu_answer_is_checksum_error(fake_bus: FakeBusFactory) -> None:
    bad = bytes.fromhex("11 03 06 AE 41 56 53 43 40 49 AD")  # one data bit flipped
    bus = fake_bus(responder=lambda data: bad)
    with (
        Link.open(bus.url, METER, "rtu", timeout=SHORT) as link,
        pytest.raises(ChecksumError) as caught,
    ):
        link.read_registers(0x11, 0x006B, 3)
    assert caught.value.raw == bad


def test_truncated_answer_is_corrupt_not_silence(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=lambda data: b">01030A2EA110")
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link,
        pytest.raises(MalformedFrame) as caught,
    ):
        link.read_registers(1, 0x002E, 5)
    assert isinstance(caught.value, CorruptAnswer)
    assert "truncated" in str(caught.value)


def test_answer_from_another_address_is_unexpected(fake_bus: FakeBusFactory) -> None:
    reply = AsciiCodec().encode(build_read_reply(ReadRequest(2, 0x002E, 5), STATUS_A1))
    bus = fake_bus(responder=lambda data: reply)
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link,
        pytest.raises(UnexpectedAnswer) as caught,
    ):
        link.read_registers(1, 0x002E, 5)
    assert "answer from address 2, expected 1" in str(caught.value)
    assert caught.value.raw == reply


def test_answer_of_the_wrong_length_is_unexpected(fake_bus: FakeBusFactory) -> None:
    reply = RtuCodec().encode(build_read_reply(ReadRequest(0x11, 0x006B, 2), [1, 2]))
    bus = fake_bus(responder=lambda data: reply)
    with (
        Link.open(bus.url, METER, "rtu", timeout=SHORT) as link,
        pytest.raises(UnexpectedAnswer, match="expected 7"),
    ):
        link.read_registers(0x11, 0x006B, 3)


def test_noise_before_the_answer_is_reported_but_the_answer_kept(fake_bus: FakeBusFactory) -> None:
    respond = abl_devices()
    bus = fake_bus(responder=lambda data: b"\xff\x13junk" + (respond(data) or b""))
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link:
        result = link.read_registers(1, 0x002E, 5)
    assert result.registers == tuple(STATUS_A1)
    assert [g.raw for g in result.garbage] == [b"\xff\x13junk"]


def test_a_stray_byte_alone_is_still_no_answer(fake_bus: FakeBusFactory) -> None:
    # RS-485 drivers often leave one glitch byte when they switch direction: that is not an
    # answer, and calling it a corrupt one would send the technician after noise.
    bus = fake_bus(responder=lambda data: b"\xff")
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link,
        pytest.raises(NoAnswer, match="1 stray bytes"),
    ):
        link.read_registers(1, 0x002E, 5)


def test_other_traffic_in_the_answer_window_is_named_in_the_hint(fake_bus: FakeBusFactory) -> None:
    # The CLU polls address 2 while we wait for address 5: a second master is on the bus.
    bus = fake_bus(responder=lambda data: b":0203002E0005C8\r\n")
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link, pytest.raises(NoAnswer) as caught:
        link.read_registers(5, 0x002E, 5)
    assert "1 frames of other traffic" in str(caught.value)
    assert caught.value.hint and "another master" in caught.value.hint


def test_line_that_never_goes_quiet_is_refused_without_writing(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus()
    with Link.open(bus.url, ABL, "ascii", timeout=0.05) as link:
        for i in range(1000):  # the CLU chattering for far longer than the link will wait
            bus.inject(b":0103002E0005C9\r\n", after=i * 0.001)
        with pytest.raises(TransmitRefused, match="never went quiet"):
            link.read_registers(1, 0x002E, 5)
    assert bus.written == []


def test_late_answer_from_before_is_discarded_not_taken(fake_bus: FakeBusFactory) -> None:
    # A slow device answers the previous request after its timeout: that answer must not be
    # taken for the answer to the next request.
    bus = fake_bus(responder=meter_devices(), turnaround=5.0)  # far too slow: never arrives
    with Link.open(bus.url, METER, "rtu", timeout=0.05) as link:
        with pytest.raises(NoAnswer):
            link.read_registers(0x11, 0x006B, 3)
        bus.turnaround = 0.0
        bus.responder = register_devices("rtu", {0x11: holding(0x006B, [7, 8, 9])})
        bus.inject(bytes.fromhex("11 03 06 AE 41 56 52 43 40 49 AD"))  # the late answer
        assert link.read_registers(0x11, 0x006B, 3).registers == (7, 8, 9)
        assert link.bytes_discarded == 11


# --- local echo ------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["ascii", "rtu"])
def test_auto_echo_is_detected_and_dropped(fake_bus: FakeBusFactory, framing: str) -> None:
    responder = abl_devices() if framing == "ascii" else meter_devices()
    bus = fake_bus(responder=responder, echo=True, turnaround=0.005)
    address, start, count = (1, 0x002E, 5) if framing == "ascii" else (0x11, 0x006B, 3)
    with Link.open(bus.url, ABL, framing, timeout=SHORT) as link:
        before = link.echo_detected
        result = link.read_registers(address, start, count)
        assert (before, link.echo_detected) == (None, True)
    assert result.echoed
    assert not result.skipped
    assert len(result.registers) == count


def test_auto_echo_learns_that_there_is_none(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=abl_devices())
    with Link.open(bus.url, ABL, "ascii", timeout=SHORT) as link:
        assert not link.read_registers(1, 0x002E, 5).echoed
        assert link.echo_detected is False


def test_echo_off_still_never_takes_the_echo_for_the_answer(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices(), echo=True)
    with Link.open(bus.url, METER, "rtu", timeout=SHORT, echo="off") as link:
        result = link.read_registers(0x11, 0x006B, 3)
    assert result.registers == (0xAE41, 0x5652, 0x4340)
    assert [d.raw for d in result.skipped] == [bytes.fromhex("11 03 00 6B 00 03 76 87")]
    assert not result.echoed


def test_echo_on_without_any_echo_says_the_adapter_may_not_transmit(
    fake_bus: FakeBusFactory,
) -> None:
    bus = fake_bus()
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT, echo="on") as link,
        pytest.raises(NoAnswer) as caught,
    ):
        link.read_registers(1, 0x002E, 5)
    assert caught.value.hint and "adapter's echo" in caught.value.hint


def test_echo_only_and_silent_device_is_no_answer(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(echo=True)
    with (
        Link.open(bus.url, ABL, "ascii", timeout=SHORT, echo="on") as link,
        pytest.raises(NoAnswer) as caught,
    ):
        link.read_registers(4, 0x002E, 5)
    assert "other traffic" not in str(caught.value)


def test_bad_echo_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="echo must be one of"):
        Link.open("loop://", ABL, "ascii", echo="sometimes")


# --- passive receiving, draining, closing ----------------------------------------------------


def test_receive_yields_timestamped_chunks_and_never_transmits(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus()
    bus.inject(b"stale bytes from before the port was opened")
    with Link.open(bus.url, ABL, "ascii") as link:
        bus.inject(b":0103002E0005C9\r\n", after=0.0)
        bus.inject(b">01030A2EA1106403E803E803E8EE\r\n", after=0.03)
        chunks = list(link.receive(0.1))
    assert b"".join(data for _, data in chunks) == (
        b":0103002E0005C9\r\n>01030A2EA1106403E803E803E8EE\r\n"
    )
    times = [when for when, _ in chunks]
    assert times == sorted(times)
    assert bus.written == []
    assert link.bytes_sent == 0
    assert link.bytes_discarded == 43


def test_drain_counts_what_it_throws_away(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus()
    with Link.open(bus.url, ABL, "ascii") as link:
        bus.inject(b"12345")
        assert link.drain() == 5
        assert link.drain() == 0


def test_closed_link_refuses_io_and_closing_twice_is_fine(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=abl_devices())
    link = Link.open(bus.url, ABL, "ascii")
    link.close()
    link.close()
    assert not link.is_open
    with pytest.raises(PortError, match="closed"):
        link.read_registers(1, 0x002E, 5)
    assert bus.written == []
    assert "closed" in repr(link)


def test_vanishing_adapter_is_port_vanished(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus()
    with Link.open(bus.url, ABL, "ascii") as link:
        bus.read_error = (
            "device reports readiness to read but returned no data "
            "(device disconnected or multiple access on port?)"
        )
        with pytest.raises(PortVanished) as caught:
            list(link.receive(1.0))
    assert caught.value.hint and "USB cable" in caught.value.hint


def test_unknown_framing_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown framing"):
        Link.open("loop://", ABL, "binary")


def test_result_frame_is_the_decoded_reply(fake_bus: FakeBusFactory) -> None:
    bus = fake_bus(responder=meter_devices())
    with Link.open(bus.url, METER, "rtu", timeout=SHORT) as link:
        result = link.read_registers(7, 0, 4)
    assert result.frame == Frame(7, 3, bytes.fromhex("080001000200030004"), result.frame.direction)
