"""Every EVCC2/3 frame of field-evidence.md §6.1 as a recorded-frame test: captured on real
devices (each commented with where), the request tables integrators wrote, ABL's own examples,
and the three PDF frames whose LRC is wrong (negative tests). Facts carry over; the decoded
values below are worked out from ABL's register map (abl-protocol.md §2), not copied."""

from __future__ import annotations

import pytest

from clu_doctor.bus.codecs.ascii import AsciiCodec
from clu_doctor.bus.errors import ChecksumError, MalformedFrame
from clu_doctor.bus.frames import Direction, ReadRequest, parse_read_reply
from clu_doctor.bus.profile import load_profile

CODEC = AsciiCodec()
ERANGE = load_profile("defa-erange")


def wire(text: str) -> bytes:
    return text.encode("ascii") + b"\r\n"


def registers(request: str, reply: str) -> tuple[int, ...]:
    return parse_read_reply(
        ReadRequest.from_frame(CODEC.decode(wire(request))), CODEC.decode(wire(reply))
    )


# (request, reply, state, duty %, currents): status block 0x002E x5
STATUS_CAPTURES = [
    # evcc issue #526, ser2net log 2021-08-23: A1, EN1 closed, 10 %
    (":0103002E0005C9", ">01030A2EA1106403E803E803E8EE", "A1", 10.0, (None, None, None)),
    # evcc issue #526, andig's comment 2021-10-31: B2, vehicle connected
    (":0103002E0005C9", ">01030A2EB2910B03E803E803E8B5", "B2", 26.7, (None, None, None)),
    # evcc issue #1497: F4, upstream (bus master) timeout
    (":0103002E0005C9", ">01030A2EF4106403E803E803E89B", "F4", 10.0, (None, None, None)),
    # evcc issue #1524 (hex-encoded trace): A1 at 26.7 %, answered on the second request
    (":0103002E0005C9", ">01030A2EA1110B03E803E803E846", "A1", 26.7, (None, None, None)),
    # evcc issue #15559: address 2 on an eMH3
    (":0203002E0005C8", ">02030A2EA1114D03E803E803E803", "A1", 33.3, (None, None, None)),
    # raibisch/ESP32_ABL doc/knowhow.txt: status variants
    (":0103002E0005C9", ">01030A2EB2D06403E803E803E81D", "B2", 10.0, (None, None, None)),
    (":0103002E0005C9", ">01030A2EC3D06403E803E803E80C", "C3", 10.0, (None, None, None)),
    (":0103002E0005C9", ">01030A2EE0106403E803E803E8AF", "E0", 10.0, (None, None, None)),
    # ... C2 with 15.0 A in the LAST word: a single-phase load, so probably L3, L2, L1
    (":0103002E0005C9", ">01030A2EC29100000100010096D9", "C2", 25.6, (0.1, 0.1, 15.0)),
    # raibisch/ESP32_ABL knowhow + src/main.cpp: A1, duty 0x085 = 13.3 % (8 A)
    (":0103002E0005C9", ">01030A2EA1108503E803E803E8CD", "A1", 13.3, (None, None, None)),
    # raibisch/ESP32_ABL src/main.cpp (dump comment): C2 at 26.7 %, no meter
    (":0103002E0005C9", ">01030A2EC2910B03E803E803E8A5", "C2", 26.7, (None, None, None)),
    # OpenEMS ModbusCommunicationTester ("Received"): A1 at 53.3 %
    (":0103002E0005C9", ">01030A2EA1121503E803E803E83B", "A1", 53.3, (None, None, None)),
]


@pytest.mark.parametrize(("request_", "reply", "state", "duty", "currents"), STATUS_CAPTURES)
def test_captured_status_answers_decode_to_the_documented_values(
    request_: str, reply: str, state: str, duty: float, currents: tuple[float | None, ...]
) -> None:
    status = ERANGE.decode_status(registers(request_, reply))
    assert status.state == state
    assert status.duty_percent == duty
    # the raw words in the controller's order (Ict1..Ict3); evcc reads them as L3, L2, L1
    assert status.currents == currents


def test_the_single_phase_capture_keeps_the_raw_words() -> None:
    # raibisch/ESP32_ABL knowhow: 0x0001, 0x0001, 0x0096 - 15.0 A on the last word
    words = registers(":0103002E0005C9", ">01030A2EC29100000100010096D9")
    assert words == (0x2EC2, 0x9100, 0x0001, 0x0001, 0x0096)
    # ... decoded in that order, with the likely phase of each named as an inference: a
    # single-phase car draws on L1, which fits the last word being L1
    status = ERANGE.decode_status(words)
    assert status.currents == (0.1, 0.1, 15.0)
    assert status.likely_phases == ("L3", "L2", "L1")


@pytest.mark.parametrize(
    ("request_", "reply", "state"),
    [
        # evcc issue #526: 0x0004 short state A1
        (":010300040001F7", ">01030204A155", "A1"),
        # evcc issue #1497: 0x0004 short state F4
        (":010300040001F7", ">01030204F402", "F4"),
    ],
)
def test_captured_short_state_answers(request_: str, reply: str, state: str) -> None:
    assert registers(request_, reply)[0] & 0xFF == int(state, 16)


@pytest.mark.parametrize(
    ("request_", "reply", "words"),
    [
        # evcc issue #526 and raibisch knowhow: ID 1, PCB 160307, FW 5.0
        (":010300010002F9", ">010304014150BEA8", (0x0141, 0x50BE)),
        # evcc issue #17940 (hex trace): ID 2, FW 4.1
        (":020300010002F8", ">020304014241BEB5", (0x0142, 0x41BE)),
        # OpenEMS ModbusCommunicationTester: FW 4.1
        (":010300010002F9", ">010304014141363F", (0x0141, 0x4136)),
        # ABL doc 05 0015 20 Rev. B example
        (":010300010002F9", ">01030401011237AD", (0x0101, 0x1237)),
    ],
)
def test_captured_firmware_blocks(request_: str, reply: str, words: tuple[int, int]) -> None:
    found = registers(request_, reply)
    assert found == words
    address = int(request_[1:3], 16)
    assert found[0] & 0x3F == address  # bits 21..16: the device ID
    assert found[0] >> 8 == 0x01  # ABL's echo of the start register


def test_captured_line_settings_block_says_8e1_at_38400() -> None:
    # OpenEMS tester and ABL's example: 0x0003 = 0x0327 (stop 1, even parity, baud code 7)
    code = registers(":010300030001F8", ">0103020327D0")[0]
    assert code == 0x0327 and (code >> 4) & 0x3 == 2 and code & 0xF == 7


def test_captured_short_read_of_0x0033() -> None:
    # OpenEMS tester and ABL's example: short read in A1, 0x64 = current not available
    words = registers(":010300330003C6", ">0103063300A1646464F6")
    assert words == (0x3300, 0xA164, 0x6464)


@pytest.mark.parametrize(
    "reply",
    [
        # raibisch/ESP32_ABL knowhow: the 0x000F limit block (PWM x 10 words)
        ">01030A0F3F010B00850085008509",
        ">01030A0F3F010B0064008500644B",
        ">01030A0F3F010B010B00E900E9BA",
        ">01030A0F3F010B010B00E90000A3",
    ],
)
def test_captured_limit_blocks(reply: str) -> None:
    words = registers(":0103000F0005E8", reply)
    assert words[0] >> 8 == 0x0F and words[1] == 0x010B  # 26.7 %: the box's 16 A limit


@pytest.mark.parametrize(
    ("reply", "cp_plus"),
    [
        # raibisch/ESP32_ABL knowhow: 0x0015 CP block; the request's LRC was computed there
        (">01030A15A10ADA000000000ACB83", 0x0ADA),
        (">01030A15A00ADF000000000ACD7D", 0x0ADF),
    ],
)
def test_captured_pilot_blocks_read_about_twelve_volts_in_state_a(reply: str, cp_plus: int) -> None:
    words = registers(":010300150005E2", reply)
    assert words[1] == cp_plus
    assert 11.5 < words[1] * 0.00425 < 12.5  # CP+ counts x 0.00425 V: the 12 V of state A


@pytest.mark.parametrize(
    ("request_", "echo"),
    [
        # evcc issue #526: set Icmax = 100 % (no current), echoed
        (":0110001400010203E8ED", ">011000140001DA"),
        # ABL's example and raibisch src/main.cpp: set Icmax 10 A, echoed
        (":0110001400010200A632", ">011000140001DA"),
    ],
)
def test_captured_writes_and_their_echoes(request_: str, echo: str) -> None:
    request, reply = CODEC.decode(wire(request_)), CODEC.decode(wire(echo))
    assert request.direction is Direction.REQUEST and reply.direction is Direction.REPLY
    assert reply.data == request.data[:4]


@pytest.mark.parametrize(
    "frame",
    [
        # raibisch/ESP32_ABL two-wallbox sketch (ABL_TX_MSG): polls and set-current frames
        ":01100014000102006474",
        ":0110001400010200A632",
        ":0110001400010200A731",
        ":01100014000102010BCC",
        ":0110001400010203E8ED",
        ":0203002E0005C8",
        ":0210001400010203E8EC",
        # evcc #526: the write-only register read that got no answer
        ":010300140001E7",
        # raibisch knowhow: the write echo for 0x0005
        ">011000050001E9",
        # ABL's failed-write example
        ">0190046B",
    ],
)
def test_request_tables_written_by_others_are_valid_encoder_vectors(frame: str) -> None:
    assert CODEC.encode(CODEC.decode(wire(frame))) == wire(frame)


def test_a_frame_without_its_start_character_is_refused() -> None:
    # raibisch knowhow lists one entry without its colon
    with pytest.raises(MalformedFrame):
        CODEC.decode(wire("0110001400010200D9FF"))
    assert CODEC.decode(wire(":0110001400010200D9FF")).address == 1  # with it, it is valid


@pytest.mark.parametrize(
    ("wrong", "right_lrc"),
    [
        # ABL doc 05 0015 20 Rev. B: three examples whose LRC is wrong
        (">01030A2EC3810A0064006400001F", "AE"),
        (">0103063380C30A0A00EC", "6C"),
        (">011000130001D8", "DB"),
    ],
)
def test_the_pdf_frames_with_a_wrong_lrc_are_refused(wrong: str, right_lrc: str) -> None:
    with pytest.raises(ChecksumError):
        CODEC.decode(wire(wrong))
    assert CODEC.decode(wire(wrong[:-2] + right_lrc)).address == 1


def test_the_captured_pilot_block_reads_as_a_pilot_on_its_level() -> None:
    # raibisch/ESP32_ABL knowhow: 0x0015 x5 in state A, CP+ 0x0ADA = 11.8 V, CP- 0
    words = registers(":010300150005E2", ">01030A15A10ADA000000000ACB83")
    pilot = ERANGE.decode_pilot(words)
    assert pilot.state == "A1" and round(pilot.cp_plus_v, 1) == 11.8 and pilot.cp_minus_v == 0
    assert pilot.expected_v == 12.0 and not pilot.off_level
