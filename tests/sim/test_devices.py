"""The emulated devices' register maps and silence rules, frame in, frame out."""

from __future__ import annotations

import pytest

from clu_doctor.bus.codecs.ascii import AsciiCodec
from clu_doctor.bus.frames import Direction, Frame, ReadRequest
from clu_doctor.sim.devices import EVCC_READ_BLOCKS, Evcc, Meter, amps_to_duty, line_code
from clu_doctor.sim.master import write_frame
from clu_doctor.sim.scenario import ABL_LINE, Controller

CODEC = AsciiCodec()


def evcc(**fields: object) -> Evcc:
    spec = Controller(address=3, label="XAXXY03", type="2W22M1", serial="00012345", **fields)  # type: ignore[arg-type]
    return Evcc(spec, ABL_LINE)


def read(
    device: Evcc | Meter, start: int, count: int, address: int = 3, function: int = 3
) -> Frame | None:
    return device.handle(ReadRequest(address, start, count, function).to_frame())


@pytest.mark.parametrize(("start", "count"), sorted(EVCC_READ_BLOCKS))
def test_every_block_echoes_its_start_register_in_the_first_byte(start: int, count: int) -> None:
    reply = read(evcc(), start, count)
    assert reply is not None and reply.direction is Direction.REPLY
    assert reply.data[0] == 2 * count
    echo = 0x50 if start == 0x0050 else start & 0xFF
    assert reply.data[1] == echo


def test_identity_reply_matches_the_worked_example() -> None:
    # abl-protocol.md example 2b: type "2W22M1", serial "00012345", ID 3.
    reply = read(evcc(), 0x0050, 8)
    assert reply is not None
    assert CODEC.encode(reply) == b">0303105000325732324D313030303132333435A0\r\n"


def test_status_block_carries_state_duty_and_currents() -> None:
    device = evcc(state=0xC2, currents_a=(16.0, 15.9, 16.1), icmax_a=16.0)
    reply = read(device, 0x002E, 5)
    assert reply is not None
    words = [int.from_bytes(reply.data[1 + 2 * i : 3 + 2 * i], "big") for i in range(5)]
    assert words[0] == 0x2EC2
    assert words[1] == 0x8000 | 0x1000 | 267  # EV connected, EN1 closed, 26.7 % duty
    assert words[2:] == [160, 159, 161]


def test_state_a_reports_currents_as_not_available() -> None:
    reply = read(evcc(state=0xA1), 0x002E, 5)
    assert reply is not None
    assert reply.data[-6:] == bytes.fromhex("03E803E803E8")


def test_f4_shows_in_the_short_state_read_and_the_flag_register() -> None:
    device = evcc(state=0xF4)
    short = read(device, 0x0004, 1)
    flags = read(device, 0x0006, 2)
    assert (
        short is not None and CODEC.encode(short) == b">03030204F400\r\n"
    )  # 03+03+02+04+F4 = 0x100
    assert flags is not None and flags.data[3:5] == b"\x02\x00"  # bit 9: upstream lost


def test_line_settings_register_reports_38400_8e1_as_0x27() -> None:
    assert line_code(ABL_LINE) == 0x27
    reply = read(evcc(), 0x0003, 1)
    assert reply is not None and reply.data == b"\x02\x03\x27"


@pytest.mark.parametrize(
    "frame",
    [
        ReadRequest(3, 0x0014, 1).to_frame(),  # write-only register [E526]
        ReadRequest(3, 0x002E, 3).to_frame(),  # wrong count
        ReadRequest(3, 0x0100, 1).to_frame(),  # unknown register
        ReadRequest(3, 0x002E, 5, function=4).to_frame(),  # function ABL does not support
        ReadRequest(0, 0x0001, 2).to_frame(),  # broadcast read
        Frame(3, 0x06, bytes.fromhex("00140100"), Direction.REQUEST),  # write single register
        Frame(3, 0x10, bytes.fromhex("001400020401000100"), Direction.REQUEST),  # two registers
        Frame(3, 0x10, bytes.fromhex("00300001020001"), Direction.REQUEST),  # not writable
        ReadRequest(4, 0x002E, 5).to_frame(),  # another address
    ],
)
def test_the_controller_stays_silent(frame: Frame) -> None:
    assert evcc().handle(frame) is None


def test_an_icmax_write_is_applied_and_echoed() -> None:
    device = evcc()
    reply = device.handle(write_frame(3, 0x0014, 0x010A))
    assert reply is not None and CODEC.encode(reply) == b">031000140001D8\r\n"  # example 4b
    assert device.icmax_duty == 0x010A


def test_a_refused_write_gets_the_abl_error_reply() -> None:
    reply = evcc().handle(write_frame(3, 0x0014, 0x0010))  # below 8 % duty
    assert reply is not None and CODEC.encode(reply) == b">03900469\r\n"  # example 3


def test_a_broadcast_write_is_applied_but_never_answered() -> None:
    device = evcc()
    assert device.handle(write_frame(0, 0x0005, 0xE0E0)) is None
    assert device.state == 0xE0


def test_the_id_changes_only_through_setup_mode_and_a_reset() -> None:
    device = evcc()
    refused = device.handle(write_frame(3, 0x002C, 0xF005))
    assert refused is not None and refused.function == 0x90
    for register, value in ((0x0005, 0xE2E2), (0x002C, 0xF005), (0x0005, 0x5A5A)):
        device.handle(write_frame(0, register, value))
    assert device.address == 5 and device.state == 0xA1


def test_amps_to_duty_follows_abl_community_conversion() -> None:
    assert amps_to_duty(16) == 267
    assert amps_to_duty(6) == 100
    assert amps_to_duty(1) == 0x50  # clamped to the register's range


def meter() -> Meter:
    return Meter(Controller(address=1, label="M1", registers={0: 2301, 1: 2298, 2: 2305}))


def test_a_meter_reads_its_table_with_either_read_function() -> None:
    for function in (3, 4):
        reply = read(meter(), 0, 2, address=1, function=function)
        assert reply is not None and reply.data == bytes.fromhex("0408FD08FA")


def test_a_meter_answers_modbus_exceptions_like_a_standard_slave() -> None:
    out_of_table = read(meter(), 2, 2, address=1)
    assert out_of_table is not None and out_of_table.data == b"\x02"
    write = meter().handle(write_frame(1, 0, 1))
    assert write is not None and write.function == 0x90 and write.data == b"\x01"


def test_a_meter_ignores_broadcasts_and_other_replies() -> None:
    assert read(meter(), 0, 2, address=0) is None
    exception_from_another = Frame(1, 0x83, b"\x02", Direction.REPLY)
    assert meter().handle(exception_from_another) is None


# --- the undocumented blocks the captures show (field-evidence.md §2.2, §6.1) ----------------


def words_of(reply: Frame | None) -> list[int]:
    assert reply is not None
    return [int.from_bytes(reply.data[1 + 2 * i : 3 + 2 * i], "big") for i in range(5)]


def test_the_limit_block_is_shaped_as_captured() -> None:
    # captured on a real box (raibisch/ESP32_ABL doc/knowhow.txt): >01030A0F3F010B010B00E900E9BA
    device = evcc(state=0xC2, currents_a=(16.0, 16.0, 16.0), icmax_a=14.0)
    words = words_of(read(device, 0x000F, 5))
    duty = words[2]
    assert words[0] == 0x0F3F and words[1] == 0x010B  # echo, the box's 16 A limit
    assert words[2:] == [duty, duty, min(duty, 0x010B)]


def test_the_pilot_block_reads_the_iec_levels_of_the_state() -> None:
    # captured in state A (same source): >01030A15A10ADA000000000ACB83, CP+ 0x0ADA = 11.8 V
    volts = {}
    for state in (0xA1, 0xB2, 0xC2):
        words = words_of(read(evcc(state=state), 0x0015, 5))
        assert words[0] == 0x1500 | state and words[2] == 0
        volts[state] = round(words[1] * 0.00425, 1)
    assert volts == {0xA1: 11.8, 0xB2: 9.0, 0xC2: 6.0}
    assert words_of(read(evcc(state=0xA1), 0x0015, 5))[1] == 0x0ADA


@pytest.mark.parametrize(("start", "count"), [(0x000F, 1), (0x0015, 4), (0x0010, 5), (0x0015, 6)])
def test_a_read_of_another_count_or_start_is_silent(start: int, count: int) -> None:
    # a 1-register read of 0x000F got no reply on a real box (knowhow.txt)
    assert read(evcc(), start, count) is None
