"""The first-generation EVCC text codec: the test vectors field-evidence.md §6.2 lists (facts
from evcc's connection tests and ABL's EVCC V2.7 manual, rewritten here), round trips, and a
stream decoder that never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.codecs.evcc1 import (
    DATA_COMMANDS,
    READ_COMMANDS,
    TEXT_COMMANDS,
    Evcc1Codec,
    Evcc1StreamDecoder,
    register_count,
    text_registers,
)
from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.errors import MalformedFrame
from clu_doctor.bus.frames import Direction, ReadRequest, parse_read_reply
from clu_doctor.bus.profile import load_profile

CODEC = Evcc1Codec()
EVCC1 = load_profile("defa-evcc1")


def value_of(raw: bytes) -> tuple[int, ...]:
    """The registers of an answer to the read command it names."""
    frame = CODEC.decode(raw)
    command = int.from_bytes(frame.data[1:3], "big")
    return parse_read_reply(ReadRequest(frame.address, command, register_count(command)), frame)


# --- answers that parse (evcc charger/ablevcc/connection_test.go, as facts) --------------


def test_a_state_answer_carries_address_command_and_decimal_value() -> None:
    # evcc connection test: '>1 02 0005' is address 1, command 2, data "0005"
    assert value_of(b">1 02 0005\r\n") == (2, 5)
    assert EVCC1.decode_status(value_of(b">1 02 0005\r\n")).state == "C2"


def test_an_acknowledgement_without_data_parses() -> None:
    # evcc connection test: '>1 02' (an answer with no data)
    frame = CODEC.decode(b">1 02\r\n")
    assert (frame.address, frame.direction, frame.data) == (1, Direction.REPLY, b"\x02\x00\x02")


def test_padding_spaces_are_tolerated_and_dropped_when_encoding() -> None:
    # evcc connection test: '>8  11   0850  ' (padded with spaces)
    assert value_of(b">8  11   0850  \r\n") == (11, 850)
    assert CODEC.encode(CODEC.decode(b">8  11   0850  \r\n")) == b">8 11 0850\r\n"


def test_the_firmware_answer_is_text_and_the_identity() -> None:
    # evcc connection test: '>1 01 V2.3' (firmware text)
    registers = value_of(b">1 01 V2.3\r\n")
    assert registers == (1, *text_registers("V2.3"))
    assert EVCC1.decode_identity(registers).text == "EVCC V2.3"


def test_err_is_a_refusal_from_that_address() -> None:
    # evcc connection test: '>1 12 ERR' (command rejected)
    frame = CODEC.decode(b">1 12 ERR\r\n")
    assert frame.is_exception and frame.address == 1 and frame.data == bytes((4, 12))
    assert CODEC.encode(frame) == b">1 12 ERR\r\n"


def test_a_number_reads_as_an_integer() -> None:
    # evcc connection test: '>1 26 0267' parses as 267 (Idefault, 26.7 % = 16 A)
    assert value_of(b">1 26 0267\r\n") == (26, 267)


# --- what does not parse (the same test file's parse errors, and wrong shapes) ------------


@pytest.mark.parametrize(
    "raw",
    [
        b">1\r\n",  # no command
        b">1 02 0005 0006\r\n",  # two values
        b">x 02\r\n",  # address not a digit
        b"",  # nothing
        b">12 02 0005\r\n",  # two-digit address: the first generation has 0-9
        b">1 002 0005\r\n",  # three-digit command
        b">1 02 00x5\r\n",  # a state that is not a number
        b">1 02 0005",  # no CR LF
        b":0103002E0005C9\r\n",  # the second generation's request
    ],
)
def test_malformed_frames_are_refused(raw: bytes) -> None:
    with pytest.raises(MalformedFrame):
        CODEC.decode(raw)


def test_a_request_echo_is_a_request_not_an_answer() -> None:
    # evcc refuses '!1 02 0005' as an answer: it is a request (here: a command with data)
    frame = CODEC.decode(b"!1 02 0005\r\n")
    assert frame.direction is Direction.REQUEST and frame.function == 0x10


# --- requests (ABL EVCC V2.7 manual: '!n 02', '!n 12 xxxx', '!n 22 111x', '!n 24 1111') --


def test_read_commands_are_reads_and_encode_canonically() -> None:
    frame = CODEC.decode(b"!3 02\r\n")
    assert ReadRequest.from_frame(frame) == ReadRequest(3, 2, 2)
    assert CODEC.encode(ReadRequest(3, 2, 2).to_frame()) == b"!3 02\r\n"
    assert CODEC.encode(ReadRequest(5, 1, 5).to_frame()) == b"!5 01\r\n"


@pytest.mark.parametrize(
    ("raw", "command", "value"),
    [(b"!1 12 0010\r\n", 12, 10), (b"!1 22 1113\r\n", 22, 1113), (b"!1 24 1111\r\n", 24, 1111)],
)
def test_commands_that_change_something_are_writes_never_reads(
    raw: bytes, command: int, value: int
) -> None:
    frame = CODEC.decode(raw)
    assert frame.function == 0x10 and frame.direction is Direction.REQUEST
    assert frame.data == command.to_bytes(2, "big") + b"\x00\x01\x02" + value.to_bytes(2, "big")
    assert CODEC.encode(frame) == raw


@pytest.mark.parametrize("command", [0, 3, 5, 6, 12, 13, 14, 15, 22, 24, 25, 27, 28, 30, 31])
def test_the_encoder_refuses_to_read_with_a_command_that_acts(command: int) -> None:
    # 00 reset, 03 to MANUAL, 24 factory reset...: only reads are ever sent
    with pytest.raises(ValueError):
        CODEC.encode(ReadRequest(1, command, 2).to_frame())


def test_the_encoder_refuses_addresses_the_first_generation_has_not() -> None:
    with pytest.raises(ValueError):
        CODEC.encode(ReadRequest(10, 2, 2).to_frame())


def test_get_codec_knows_the_first_generation() -> None:
    assert isinstance(get_codec("evcc1"), Evcc1Codec)


# --- the state table: both generations read as the same station.state values -------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        *[(0, "A1"), (17, "A1"), (12, "B1"), (4, "B2"), (9, "B2"), (5, "C2"), (6, "C2")],
        *[(33, "F6"), (35, "F8"), (37, "F5"), (39, "F7"), (255, "E2")],
    ],
)
def test_first_generation_states_map_onto_second_generation_codes(value: int, code: str) -> None:
    status = EVCC1.decode_status((2, value))
    assert status.state == code and f"{value:04d}" in status.meaning


def test_an_unknown_state_keeps_its_number_and_needs_attention() -> None:
    status = EVCC1.decode_status((2, 200))
    assert status.state == "0200" and "unknown" in status.meaning


# --- round trips and the stream decoder (hypothesis) ----------------------------------------

addresses = st.integers(0, 9)
numbers = st.integers(0, 0xFFFF)
# firmware text: printable, without the two start characters (they would cut the frame)
text = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="!>"),
    min_size=1,
    max_size=8,
)


@st.composite
def frames_on_the_wire(draw: st.DrawFn) -> bytes:
    """Canonical first-generation frames of every kind."""
    address = draw(addresses)
    kind = draw(st.sampled_from(["read", "command", "answer", "ack", "err"]))
    if kind == "read":
        return f"!{address} {draw(st.sampled_from(sorted(READ_COMMANDS))):02d}\r\n".encode()
    if kind == "command":
        command = draw(st.integers(0, 99).filter(lambda c: c not in READ_COMMANDS))
        value = draw(st.none() | st.integers(0, 9999))
        tail = "" if value is None else f" {value:04d}"
        return f"!{address} {command:02d}{tail}\r\n".encode()
    if kind == "answer":
        command = draw(st.sampled_from(sorted(READ_COMMANDS)))
        value = draw(text.filter(lambda t: t != "ERR")) if command in TEXT_COMMANDS else None
        shown = value if value is not None else f"{draw(numbers):04d}"
        return f">{address} {command:02d} {shown}\r\n".encode()
    if kind == "ack":
        return f">{address} {draw(st.integers(0, 99)):02d}\r\n".encode()
    return f">{address} {draw(st.integers(0, 99)):02d} ERR\r\n".encode()


@given(frames_on_the_wire())
def test_every_canonical_frame_round_trips(raw: bytes) -> None:
    assert CODEC.encode(CODEC.decode(raw)) == raw


@given(addresses.filter(bool), st.sampled_from(sorted(READ_COMMANDS)), numbers, text)
def test_answers_built_as_registers_round_trip(
    address: int, command: int, number: int, word: str
) -> None:
    registers = (command, *(text_registers(word) if command in TEXT_COMMANDS else (number,)))
    request = ReadRequest(address, command, register_count(command))
    from clu_doctor.bus.frames import build_read_reply

    frame = build_read_reply(request, registers)
    assert parse_read_reply(request, CODEC.decode(CODEC.encode(frame))) == registers


@given(st.lists(frames_on_the_wire(), min_size=1, max_size=6), st.binary(max_size=12))
def test_the_stream_decoder_finds_every_frame_after_noise(
    frames: list[bytes], noise: bytes
) -> None:
    noise = bytes(b for b in noise if b not in b"!>")
    decoder = Evcc1StreamDecoder()
    stream = noise + b"".join(frames)
    events = [e for chunk in (stream[:7], stream[7:]) for e in decoder.feed(chunk)]
    events += decoder.flush()
    assert [e.raw for e in events if isinstance(e, Decoded)] == frames


@given(st.binary(max_size=200), st.integers(1, 17))
def test_the_stream_decoder_never_raises_and_keeps_every_start(data: bytes, step: int) -> None:
    decoder = Evcc1StreamDecoder()
    events = []
    for i in range(0, len(data), step):
        events += decoder.feed(data[i : i + step], float(i))
    events += decoder.flush()
    assert all(isinstance(e, Decoded | Garbage) for e in events)
    starts = sum(data.count(c) for c in b"!>")
    assert sum(1 for e in events if e.raw[:1] in (b"!", b">")) == starts


def test_data_commands_acknowledge_with_one_register() -> None:
    for command in DATA_COMMANDS:
        frame = CODEC.decode(f">1 {command:02d}\r\n".encode())
        assert frame.data[2:4] == b"\x00\x01"
