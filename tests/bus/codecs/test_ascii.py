"""ABL-style Modbus ASCII: recorded frames, round trips, stream cutting and resynchronisation.

Every recorded frame comes from ``abl-protocol.md`` (the project's research notes); the source key
after each frame names where that document took it from.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.bus.codecs.ascii import AsciiCodec, AsciiStreamDecoder
from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.errors import ChecksumError, DeviceException, FrameError, MalformedFrame
from clu_doctor.bus.frames import (
    Direction,
    Frame,
    ReadRequest,
    build_exception,
    build_read_reply,
    parse_read_reply,
)
from tests.bus.strategies import frames, garbage_without_starts, read_exchanges, read_requests

CODEC = AsciiCodec()


def wire(text: str) -> bytes:
    """A recorded frame as written in the notes (CR LF omitted there) plus its CR LF."""
    return text.encode("ascii") + b"\r\n"


# (frame text, address, function, data hex, direction) - one recorded frame per line.
RECORDED = [
    # abl-protocol.md worked example 1a: read status (0x002E x5) from ID 1; also the real
    # request of [E1524] (evcc issue 1524), which got no reply the first time.
    (":0103002E0005C9", 1, 0x03, "002E0005", Direction.REQUEST),
    # worked example 1b: constructed reply, state C2, 16 A duty, currents 16.0/15.9/16.1 A.
    (">01030A2EC2810B00A0009F00A196", 1, 0x03, "0A2EC2810B00A0009F00A1", Direction.REPLY),
    # worked example 2a: read identity (0x0050 x8) from ID 3.
    (":030300500008A2", 3, 0x03, "00500008", Direction.REQUEST),
    # worked example 2b: constructed identity reply, type "2W22M1", serial "00012345".
    (
        ">0303105000325732324D313030303132333435A0",
        3,
        0x03,
        "105000325732324D313030303132333435",
        Direction.REPLY,
    ),
    # worked example 3: exception reply 0x90 code 04 from ID 3 ([ABL] §1.4.3).
    (">03900469", 3, 0x90, "04", Direction.REPLY),
    # worked example 4a: write Icmax 0x010A to ID 3 (clu-doctor must never send this).
    (":03100014000102010ACB", 3, 0x10, "0014000102010A", Direction.REQUEST),
    # worked example 4b: the write's echo reply.
    (">031000140001D8", 3, 0x10, "00140001", Direction.REPLY),
    # worked example 5: broadcast "go to E2" and broadcast "set ID 3" (never answered).
    (":00100005000102E2E224", 0, 0x10, "0005000102E2E2", Direction.REQUEST),
    (":0010002C000102F003CE", 0, 0x10, "002C000102F003", Direction.REQUEST),
    # worked example 6: short state read 0x0004 from ID 3 and its reply (state C2).
    (":030300040001F5", 3, 0x03, "00040001", Direction.REQUEST),
    (">03030204C232", 3, 0x03, "0204C2", Direction.REPLY),
    # real capture [E526] (evcc issue 526): status reply, state A1, EN1 closed, 10 % duty.
    (">01030A2EA1106403E803E803E8EE", 1, 0x03, "0A2EA1106403E803E803E8", Direction.REPLY),
    # real capture [E526]: reply to a 0x0001 x2 read, PCB 160307, ID 1, firmware 5.0.
    (">010304014150BEA8", 1, 0x03, "04014150BE", Direction.REPLY),
    # real capture [E526], andig's comment: state B2, EV connected.
    (">01030A2EB2910B03E803E803E8B5", 1, 0x03, "0A2EB2910B03E803E803E8", Direction.REPLY),
    # real capture [E1497] (evcc issue 1497): state F4 (upstream communication timeout).
    (">01030A2EF4106403E803E803E89B", 1, 0x03, "0A2EF4106403E803E803E8", Direction.REPLY),
    # real capture [E1497]: short state read 0x0004 reply, state F4.
    (">01030204F402", 1, 0x03, "0204F4", Direction.REPLY),
    # real capture [E15559] (evcc issue 15559): status request to address 2 on an eMH3 ...
    (":0203002E0005C8", 2, 0x03, "002E0005", Direction.REQUEST),
    # ... and its reply, state A1.
    (">02030A2EA1114D03E803E803E803", 2, 0x03, "0A2EA1114D03E803E803E8", Direction.REPLY),
]

# The three example frames of the ABL PDF whose LRC is wrong (abl-protocol.md, "Caution"), each
# with the LRC the notes computed for it.
PDF_WRONG_LRC = [
    # [ABL] p. 3 status reply example: printed LRC 1F, correct AE.
    (">01030A2EC3810A0064006400001F", "AE"),
    # [ABL] 0x0033 block reply example: printed LRC EC, correct 6C.
    (">0103063380C30A0A00EC", "6C"),
    # [ABL] write-echo example: printed LRC D8, correct DB.
    (">011000130001D8", "DB"),
]


@pytest.mark.parametrize(("text", "address", "function", "data", "direction"), RECORDED)
def test_recorded_frames_decode(
    text: str, address: int, function: int, data: str, direction: Direction
) -> None:
    frame = CODEC.decode(wire(text))
    assert frame == Frame(address, function, bytes.fromhex(data), direction)


@pytest.mark.parametrize(("text", "address", "function", "data", "direction"), RECORDED)
def test_recorded_frames_encode_byte_for_byte(
    text: str, address: int, function: int, data: str, direction: Direction
) -> None:
    assert CODEC.encode(Frame(address, function, bytes.fromhex(data), direction)) == wire(text)


def test_request_bytes_are_exactly_the_documented_breakdown() -> None:
    # abl-protocol.md, byte-by-byte breakdown of worked example 1a.
    expected = bytes.fromhex("3A 3031 3033 30303245 30303035 4339 0D0A")
    assert CODEC.encode(ReadRequest(1, 0x002E, 5).to_frame()) == expected


def test_recorded_status_reply_parses_as_answer_to_its_request() -> None:
    # [E15559]: request to address 2 and the reply that followed it on the wire.
    request = ReadRequest.from_frame(CODEC.decode(wire(":0203002E0005C8")))
    reply = CODEC.decode(wire(">02030A2EA1114D03E803E803E803"))
    assert parse_read_reply(request, reply) == (0x2EA1, 0x114D, 0x03E8, 0x03E8, 0x03E8)


def test_recorded_exception_reply_raises_device_exception() -> None:
    # worked example 3: ABL's error reply 0x90 code 04 from ID 3. ABL uses 0x90 for errors
    # (abl-protocol.md §1), so it counts as the device's exception even to a read.
    with pytest.raises(DeviceException) as caught:
        parse_read_reply(ReadRequest(3, 0x0050, 8), CODEC.decode(wire(">03900469")))
    assert (caught.value.address, caught.value.function, caught.value.code) == (3, 0x10, 4)
    assert "device failure" in str(caught.value)


@pytest.mark.parametrize(("text", "correct_lrc"), PDF_WRONG_LRC)
def test_pdf_frames_with_wrong_lrc_are_rejected_and_corrected_ones_accepted(
    text: str, correct_lrc: str
) -> None:
    with pytest.raises(ChecksumError) as caught:
        CODEC.decode(wire(text))
    assert caught.value.address == 1
    assert f"({correct_lrc})" in str(caught.value)
    fixed = CODEC.decode(wire(text[:-2] + correct_lrc))
    assert fixed.address == 1


def test_lowercase_hex_is_accepted_on_decode() -> None:
    # Every implementation emits uppercase (abl-protocol.md §1); accept lowercase anyway.
    assert CODEC.decode(wire(">03030204c232")) == CODEC.decode(wire(">03030204C232"))


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "does not start"),
        (b"0103002E0005C9\r\n", "does not start"),
        (b":0103002E0005C9", "CR LF"),
        (b":0103002E0005C9\n", "CR LF"),
        (b":0103002E0005C\r\n", "even run"),
        (b":01030G2E0005C9\r\n", "even run"),
        (b":01FE\r\n", "too short"),
        (b":\r\n", "too short"),
    ],
)
def test_malformed_frames_say_why(raw: bytes, why: str) -> None:
    with pytest.raises(MalformedFrame, match=why):
        CODEC.decode(raw)


# --- properties ---------------------------------------------------------------------------


@given(frames())
def test_every_frame_round_trips(frame: Frame) -> None:
    direction = frame.direction if frame.direction is not Direction.UNKNOWN else Direction.REQUEST
    frame = Frame(frame.address, frame.function, frame.data, direction)
    assert CODEC.decode(CODEC.encode(frame)) == frame


@given(read_requests(address=st.integers(0, 247)))
def test_every_read_request_round_trips(request: ReadRequest) -> None:
    assert ReadRequest.from_frame(CODEC.decode(CODEC.encode(request.to_frame()))) == request


@given(read_exchanges())
def test_every_reply_round_trips(exchange: tuple[ReadRequest, tuple[int, ...]]) -> None:
    request, registers = exchange
    reply = CODEC.decode(CODEC.encode(build_read_reply(request, registers)))
    assert reply.direction is Direction.REPLY
    assert parse_read_reply(request, reply) == registers


@given(st.integers(1, 247), st.sampled_from([3, 4]), st.integers(1, 11))
def test_every_exception_round_trips(address: int, function: int, code: int) -> None:
    frame = build_exception(address, function, code)
    assert CODEC.decode(CODEC.encode(frame)) == frame


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at, i = [], 0, 0
    while at < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        out.append(data[at : at + size])
        at += size
        i += 1
    return out


def _decoded(events: list[Decoded | Garbage]) -> list[Frame]:
    return [event.frame for event in events if isinstance(event, Decoded)]


@given(
    st.lists(read_exchanges(), min_size=1, max_size=6),
    st.lists(st.integers(1, 40), max_size=8),
)
def test_stream_of_back_to_back_exchanges_in_any_chunks_yields_exactly_those_frames(
    exchanges: list[tuple[ReadRequest, tuple[int, ...]]], sizes: list[int]
) -> None:
    expected: list[Frame] = []
    for request, registers in exchanges:
        expected += [request.to_frame(), build_read_reply(request, registers)]
    stream = b"".join(CODEC.encode(frame) for frame in expected)
    decoder = AsciiStreamDecoder()
    events = []
    for chunk in _chunks(stream, sizes):
        events += decoder.feed(chunk)
    events += decoder.flush()
    assert _decoded(events) == expected
    assert not [event for event in events if isinstance(event, Garbage)]


@given(garbage_without_starts(), st.lists(frames(), min_size=1, max_size=4), st.integers(1, 9))
def test_resynchronises_after_garbage_without_start_characters(
    garbage: bytes, sent: list[Frame], size: int
) -> None:
    sent = [
        Frame(f.address, f.function, f.data, Direction.REPLY if i % 2 else Direction.REQUEST)
        for i, f in enumerate(sent)
    ]
    stream = garbage + b"".join(CODEC.encode(frame) for frame in sent)
    decoder = AsciiStreamDecoder()
    events = []
    for chunk in _chunks(stream, [size]):
        events += decoder.feed(chunk)
    events += decoder.flush()
    assert _decoded(events) == sent
    noise = b"".join(e.raw for e in events if isinstance(e, Garbage))
    assert noise == bytes(b for b in garbage if b not in b"\x00\r\n")


@given(st.binary(max_size=80), st.lists(frames(), min_size=1, max_size=4))
def test_resynchronises_after_any_garbage(garbage: bytes, sent: list[Frame]) -> None:
    # Any garbage at all, start characters included: a start character always begins a new
    # frame, so the frames after the garbage are always recovered. Extra frames can only come
    # from a valid frame hidden inside the garbage itself.
    sent = [Frame(f.address, f.function, f.data, Direction.REPLY) for f in sent]
    stream = garbage + b"".join(CODEC.encode(frame) for frame in sent)
    decoder = AsciiStreamDecoder()
    events = decoder.feed(stream) + decoder.flush()
    got = [event for event in events if isinstance(event, Decoded)]
    assert [event.frame for event in got[-len(sent) :]] == sent
    for extra in got[: -len(sent)]:
        assert extra.raw in garbage


def test_interrupted_frame_is_reported_and_the_next_one_kept() -> None:
    # A reply cut short by the next request (a collision or a dropped byte), then the request.
    decoder = AsciiStreamDecoder()
    events = decoder.feed(b">01030A2EA110" + wire(":0203002E0005C8"), timestamp=1.0)
    assert isinstance(events[0], Garbage)
    assert events[0].reason == "interrupted"
    assert events[0].address == 1
    assert isinstance(events[1], Decoded)
    assert events[1].frame.address == 2


def test_stray_nul_and_line_ends_between_frames_are_ignored() -> None:
    # [ROSCOE]'s scope table shows a NUL after CR LF (abl-protocol.md §5).
    decoder = AsciiStreamDecoder()
    stream = b"\x00" + wire(">01030204F402") + b"\x00\r\n\x00" + wire(">03030204C232")
    events = decoder.feed(stream) + decoder.flush()
    assert [type(e) for e in events] == [Decoded, Decoded]


def test_checksum_failure_in_stream_names_the_claimed_address() -> None:
    decoder = AsciiStreamDecoder()
    events = decoder.feed(wire(">0103063380C30A0A00EC"), timestamp=2.0)
    assert events == [Garbage(wire(">0103063380C30A0A00EC"), "checksum", 1, 2.0, 2.0)]


def test_truncated_frame_is_reported_on_flush_and_overflow_while_feeding() -> None:
    decoder = AsciiStreamDecoder()
    assert decoder.feed(b">0103") == []
    assert [(e.reason, e.address) for e in decoder.flush() if isinstance(e, Garbage)] == [
        ("truncated", 1)
    ]
    events = decoder.feed(b":" + b"0" * 600)
    assert [e.reason for e in events if isinstance(e, Garbage)] == ["overflow"]


def test_decoded_events_carry_start_and_end_times() -> None:
    decoder = AsciiStreamDecoder()
    assert decoder.feed(b">0303", timestamp=1.0) == []
    (event,) = decoder.feed(b"0204C232\r\n", timestamp=1.5)
    assert isinstance(event, Decoded)
    assert (event.start, event.end) == (1.0, 1.5)
    assert event.raw == wire(">03030204C232")


def test_a_frame_carries_where_it_lay_in_each_read() -> None:
    """Per read: the index of the frame's last byte from it, the read's time, and the bytes
    that followed in that read (here the start of the next request)."""
    decoder = AsciiStreamDecoder()
    assert decoder.feed(b"\r\n>0303", timestamp=1.0) == []
    assert decoder.feed(b"0204C2", timestamp=1.5) == []
    (event,) = decoder.feed(b"32\r\n:0103", timestamp=2.0)
    assert isinstance(event, Decoded)
    assert event.marks == ((4, 1.0, 0), (10, 1.5, 0), (14, 2.0, 5))


def test_a_run_between_frames_is_marked_from_its_first_nul() -> None:
    """NULs a UART made of framing errors belong to the run they lead (8N1 heard at 8E1):
    the run's first byte is the first NUL, in the read before its first other character."""
    decoder = AsciiStreamDecoder()
    decoder.feed(wire(">03030204C232") + b"\x00\x00", timestamp=1.0)
    assert decoder.feed(b"\xe1\x00C", timestamp=1.5) == []
    (run, frame) = decoder.feed(wire(":0103002E0005C9"), timestamp=2.0)
    assert isinstance(run, Garbage) and isinstance(frame, Decoded)
    assert (run.reason, run.nul, run.start) == ("noise", 3, 1.5)
    assert run.marks == ((1, 1.0, 0), (4, 1.5, 0))
    assert frame.marks == ((16, 2.0, 0),)


def test_stray_nuls_before_a_frame_leave_no_marks_behind() -> None:
    decoder = AsciiStreamDecoder()
    decoder.feed(b"\x00\x00", timestamp=1.0)
    decoder.feed(wire(":0103002E0005C9"), timestamp=2.0)
    (run,) = decoder.feed(b"\x00C", timestamp=3.0) + decoder.flush()
    assert isinstance(run, Garbage)
    assert run.marks == ((1, 3.0, 0),)


@given(st.binary(max_size=600))
def test_decode_of_random_bytes_raises_only_frame_errors(raw: bytes) -> None:
    with contextlib.suppress(FrameError):
        CODEC.decode(raw)


@given(st.lists(st.binary(max_size=64), max_size=12))
def test_stream_decoder_never_raises_on_random_bytes(chunks: list[bytes]) -> None:
    decoder = AsciiStreamDecoder()
    events = []
    for i, chunk in enumerate(chunks):
        events += decoder.feed(chunk, timestamp=float(i))
    events += decoder.flush()
    for event in events:  # each mark within the event, one per read, in order
        indices = [j for j, _, _ in event.marks]
        assert indices == sorted(set(indices))
        assert [t for _, t, _ in event.marks] == sorted({t for _, t, _ in event.marks})
        length = len(event.raw) + (event.nul if isinstance(event, Garbage) else 0)
        assert all(0 <= j < length and k >= 0 for j, _, k in event.marks)
