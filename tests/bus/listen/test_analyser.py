"""The traffic analyser on scripted traffic: pairing, retries, attribution, writes, the report."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import PortVanished
from clu_doctor.bus.frames import Frame, ReadRequest, build_read_reply
from clu_doctor.bus.listen.analyser import SAMPLE_FIRST, SAMPLE_RECENT, WRITES_KEPT, TrafficAnalyser
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock
from tests.bus.listen.support import (
    ABL,
    ABL_LINE,
    METER,
    RTU_LINE,
    STATUS,
    Chunk,
    FakeLink,
    Script,
    analyse,
    status,
)

#: A 0x002E answer whose first word does not echo 0x2E (ABL controllers always do).
WRONG_ECHO = (0x50A1, 0x1064, 0x03E8, 0x03E8, 0x03E8)


def test_a_healthy_cycle_is_paired_answer_by_answer() -> None:
    script = Script()
    script.cycles(3, range(1, 5), states={2: 0xC2})
    report = analyse(script.chunks)
    assert report.requests == report.replies == 12
    assert report.polled == (1, 2, 3, 4)
    for entry in report.addresses:
        assert (entry.polls, entry.answers, entry.timeouts, entry.corrupt) == (3, 3, 0, 0)
        assert entry.response is not None and entry.response.count == 3
        assert entry.response.minimum <= entry.response.median <= entry.response.maximum
    two = report.address(2)
    assert two is not None and two.state is not None
    assert (two.state.code, two.state.severity) == ("C2", "ok")
    assert dict(two.states) == {"C2": 3}
    assert report.garbage_events == 0 and report.unpaired_replies == 0


def test_the_response_time_runs_from_the_end_of_the_request_to_the_end_of_the_answer() -> None:
    script = Script()
    script.request(1)
    request_end = script.t
    script.reply(1, status(), gap=0.004)
    report = analyse(script.chunks)
    entry = report.address(1)
    assert entry is not None and entry.response is not None
    assert entry.response.median == pytest.approx(script.t - request_end)


def test_an_unanswered_poll_is_a_timeout_once_the_next_request_comes() -> None:
    script = Script()
    script.request(5)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    analyser.start(0.0)
    for t, data in script.chunks:
        analyser.feed(t, data)
    pending = analyser.snapshot().address(5)
    assert pending is not None and (pending.pending, pending.timeouts) == (1, 0)
    script.exchange(6)
    for t, data in script.chunks[1:]:
        analyser.feed(t, data)
    five = analyser.finish().address(5)
    assert five is not None and (five.polls, five.timeouts, five.pending) == (1, 1, 0)


def test_at_the_end_a_young_request_is_left_pending_and_an_old_one_timed_out() -> None:
    script = Script()
    script.request(3)
    young = analyse(script.chunks, end=script.t + 0.01).address(3)
    old = analyse(script.chunks, end=script.t + 1.0).address(3)
    assert young is not None and (young.polls, young.timeouts, young.pending) == (1, 0, 1)
    assert old is not None and (old.polls, old.timeouts) == (1, 1)


def test_a_retry_is_counted_and_an_answered_retry_recovers_the_exchange() -> None:
    script = Script()
    script.request(1)  # the first request after idle, lost
    script.request(1, gap=0.012)  # the master resends 12 ms later
    script.reply(1, status())
    report = analyse(script.chunks)
    entry = report.address(1)
    assert entry is not None
    assert (entry.polls, entry.timeouts, entry.retries, entry.recovered, entry.answers) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert entry.lost == 0


def test_an_identical_request_after_an_answer_is_not_a_retry() -> None:
    script = Script()
    script.exchange(1)
    script.exchange(1)
    entry = analyse(script.chunks).address(1)
    assert entry is not None and (entry.retries, entry.answers) == (0, 2)


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (build_read_reply(ReadRequest(2, 0x2E, 5), status()), "another address"),
        (build_read_reply(ReadRequest(1, 0x2E, 4), status()[:4]), "wrong byte count"),
        (build_read_reply(ReadRequest(1, 0x2E, 5), WRONG_ECHO), "wrong echo"),
    ],
)
def test_a_frame_that_does_not_answer_the_request_is_not_an_answer(reply: Frame, why: str) -> None:
    script = Script()
    script.request(1)
    script.frame(reply)
    report = analyse(script.chunks, end=script.t + 1)
    entry = report.address(1)
    assert entry is not None and entry.answers == 0, why
    if why == "another address":
        assert entry.timeouts == 1 and report.unpaired_replies == 1
        stray = report.address(2)
        assert stray is not None and stray.unsolicited == 1
    else:
        assert entry.corrupt == 1 and entry.mismatched == 1


def test_the_echo_check_follows_the_profile() -> None:
    script = Script()
    script.request(1)
    script.frame(build_read_reply(ReadRequest(1, 0x2E, 5), WRONG_ECHO))
    with_profile = analyse(script.chunks, profile=ABL, end=script.t + 1).address(1)
    assert with_profile is not None and with_profile.answers == 0
    without_profile = analyse(script.chunks, profile=None).address(1)
    assert without_profile is not None and without_profile.answers == 1


def test_an_exception_answers_the_request() -> None:
    script = Script()
    script.write(3, 0x0014, 0x010A, echo=False)
    script.exception(3)
    entry = analyse(script.chunks).address(3)
    assert entry is not None and (entry.answers, entry.exceptions, entry.writes) == (1, 1, 1)


def test_writes_and_broadcasts_are_recorded_and_broadcasts_expect_no_answer() -> None:
    script = Script()
    script.write(0, 0x0005, 0xE2E2)  # broadcast: go to E2
    script.write(0, 0x002C, 0xF003)  # broadcast: set ID 3
    script.write(3, 0x0014, 0x010A)  # unicast Icmax, echoed
    report = analyse(script.chunks, end=script.t + 1)
    assert report.broadcasts == 2 and report.writes_seen == 3
    assert [(w.address, w.register, w.values) for w in report.writes] == [
        (0, 0x0005, (0xE2E2,)),
        (0, 0x002C, (0xF003,)),
        (3, 0x0014, (0x010A,)),
    ]
    assert report.address(0) is None  # a broadcast is not a poll of address 0
    three = report.address(3)
    assert three is not None and (three.polls, three.writes, three.answers) == (1, 1, 1)


def test_identity_reads_are_decoded_and_a_second_identity_is_kept() -> None:
    script = Script()
    script.identity_exchange(1, "DF230101")
    script.identity_exchange(1, "AB190042")
    script.identity_exchange(1, "DF230101")
    entry = analyse(script.chunks).address(1)
    assert entry is not None
    assert entry.identity == "2W22M1 DF230101"
    assert entry.identities == ("2W22M1 DF230101", "2W22M1 AB190042")


def test_garbage_is_charged_to_the_outstanding_request() -> None:
    script = Script()
    script.request(4)
    reply = get_codec("ascii").encode(build_read_reply(ReadRequest(4, *STATUS), status()))
    script.raw(reply[:10] + b"FF" + reply[12:])  # two hex digits changed: the LRC fails
    script.exchange(5)
    report = analyse(script.chunks)
    four, five = report.address(4), report.address(5)
    assert four is not None and (four.corrupt, four.timeouts, four.answers) == (1, 0, 0)
    assert five is not None and (five.corrupt, five.answers) == (0, 1)
    assert report.garbage["checksum"].count == 1


def test_garbage_after_a_valid_answer_marks_the_exchange_doubled() -> None:
    script = Script()
    script.exchange(1)
    script.raw(b">01030A2EA1??garbled\r\n")
    script.reply(1, status(0xB1))  # and a second, different valid answer
    script.exchange(2)
    entry = analyse(script.chunks).address(1)
    assert entry is not None
    assert (entry.answers, entry.doubled, entry.differing, entry.corrupt) == (1, 1, 1, 0)


def test_a_garbled_request_is_counted_bus_wide_and_its_answer_charged_to_no_one() -> None:
    script = Script()
    script.exchange(1)
    script.raw(b":0203002E0005ZZ\r\n")  # the CLU's request to 2, unreadable here
    script.reply(2, status())  # station 2 read it fine
    script.exchange(3)
    report = analyse(script.chunks)
    assert report.corrupt_requests == 1 and report.unpaired_replies == 1
    two = report.address(2)
    assert two is None or two.unsolicited == 0
    one = report.address(1)
    assert one is not None and (one.answers, one.corrupt, one.doubled) == (1, 0, 0)


def test_a_reply_whose_start_character_was_damaged_is_a_corrupt_answer() -> None:
    """':' (0x3A) and '>' (0x3E) differ in one bit: a valid frame may arrive with the wrong one."""
    script = Script()
    script.request(1)
    reply = get_codec("ascii").encode(build_read_reply(ReadRequest(1, *STATUS), status()))
    script.raw(b":" + reply[1:])
    script.request(2)
    script.raw(b">" + script.chunks[-1][1][1:])  # the next answer's request, its ':' a '>'
    script.request(3)
    script.reply(3, status())
    report = analyse(script.chunks)
    one = report.address(1)
    assert one is not None and (one.polls, one.corrupt, one.answers) == (1, 1, 0)
    assert report.requests == 3 and report.replies == 1 and report.corrupt_requests == 1
    assert report.garbage["malformed"].count == 2
    three = report.address(3)
    assert three is not None and three.answers == 1


def test_the_bytes_cut_off_by_the_end_of_listening_are_charged_to_no_one() -> None:
    script = Script()
    script.request(1)
    script.raw(b">01030A2EA1")  # the answer is still arriving when listening stops
    report = analyse(script.chunks, end=script.t)
    entry = report.address(1)
    assert entry is not None and (entry.corrupt, entry.timeouts, entry.pending) == (0, 0, 1)
    assert report.garbage["truncated"].count == 1


def test_silences_are_reported_with_the_start_and_the_end() -> None:
    script = Script()
    script.wait(3.0)
    script.exchange(1)
    script.wait(2.0)
    script.exchange(1)
    report = analyse(script.chunks, end=script.t + 4.0)
    spans = [(round(s.start, 1), round(s.end, 1), s.ongoing) for s in report.silences]
    assert spans[0][:2] == (0.0, 3.0)
    assert spans[1][2] is False and spans[1][1] - spans[1][0] == pytest.approx(2.0, abs=0.05)
    assert spans[2][2] is True and spans[2][1] == pytest.approx(report.seconds, abs=0.05)
    assert report.first_byte == pytest.approx(3.0, abs=0.01)


def test_a_report_on_a_silent_line() -> None:
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    analyser.start(10.0)
    analyser.advance(12.5)
    report = analyser.finish(20.0)
    assert (report.seconds, report.bytes, report.first_byte) == (10.0, 0, None)
    assert [(s.start, s.end, s.ongoing) for s in report.silences] == [(0.0, 10.0, True)]


def test_rtu_traffic_is_paired_too() -> None:
    script = Script("rtu", RTU_LINE)
    script.cycles(2, (1, 2), silent=(2,))
    report = analyse(script.chunks, "rtu", profile=METER, end=script.t + 1)
    one, two = report.address(1), report.address(2)
    assert one is not None and (one.polls, one.answers) == (2, 2)
    assert two is not None and (two.polls, two.timeouts, two.retries) == (4, 4, 2)


def test_snapshots_are_consistent_at_every_step_and_the_counts_add_up() -> None:
    script = Script()
    script.cycles(2, range(1, 4), silent=(2,))
    script.raw(b"noise!")
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    analyser.start(0.0)
    previous = analyser.snapshot()
    for t, data in script.chunks:
        analyser.feed(t, data)
        report = analyser.snapshot()
        assert report.bytes >= previous.bytes and report.seconds >= previous.seconds
        for entry in report.addresses:
            assert entry.polls == entry.answers + entry.corrupt + entry.timeouts + entry.pending
        previous = report
    assert analyser.finish() == analyser.snapshot()


def test_an_unchanged_address_is_reused_between_snapshots() -> None:
    script = Script()
    script.exchange(1)
    script.exchange(2)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    for t, data in script.chunks:
        analyser.feed(t, data)
    first = analyser.snapshot()
    second = analyser.snapshot()
    assert first.addresses[0] is second.addresses[0]


def test_the_evidence_is_bounded() -> None:
    script = Script()
    for _ in range(40):
        script.write(1, 0x0014, 0x010A)
        script.raw(b"junk")
    script.cycles(20, range(1, 17))
    report = analyse(script.chunks)
    assert report.writes_seen == 40 and len(report.writes) == min(40, WRITES_KEPT)
    assert len(report.samples) <= 2 * SAMPLE_FIRST + SAMPLE_RECENT
    assert report.samples[0].kind == "request"
    assert any(sample.kind == "garbage" for sample in report.samples)


def test_to_dict_is_json_with_the_raw_evidence() -> None:
    script = Script()
    script.cycles(2, (1, 2), silent=(2,))
    chain = Chain.of([1, 2])
    report = analyse(script.chunks, chain=chain)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema"] == 1 and data["settings"] == "38400 8E1" and data["framing"] == "ascii"
    assert data["bus"]["requests"] == 6
    one = data["addresses"][0]
    assert one["address"] == 1 and one["state"]["code"] == "A1"
    assert set(one["response"]) == {"count", "min_ms", "median_ms", "max_ms"}
    assert data["samples"][0]["hex"] == script.chunks[0][1].hex()
    assert data["state_table"]["A1"]["severity"] == "ok"
    assert data["chain"] == {"stations": [[1], [2]], "adapter_at": 0, "labels": []}


def test_after_finish_the_analyser_refuses_more_data() -> None:
    analyser = TrafficAnalyser("ascii", ABL_LINE)
    analyser.finish(1.0)
    with pytest.raises(RuntimeError):
        analyser.feed(2.0, b":")


def test_a_chain_knows_positions_and_labels() -> None:
    chain = Chain.of([1, 2, (3, 4), 5], adapter_at=4)
    assert [chain.position(a) for a in (1, 3, 4, 5, 9)] == [1, 3, 3, 4, None]
    assert chain.label(3) == "station 3 (address 3, 4)"
    assert chain.addresses == (1, 2, 3, 4, 5)
    with pytest.raises(ValueError):
        Chain.of([1, 2], adapter_at=3)
    with pytest.raises(ValueError):
        Chain(((1,), (2,)), labels=("only one",))


def test_an_unknown_framing_is_refused() -> None:
    with pytest.raises(ValueError, match="framing"):
        TrafficAnalyser("binary", ABL_LINE)


# --- never raises --------------------------------------------------------------------------

_chunks = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=0.5, allow_nan=False),
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from(
                [
                    b":0103002E0005C9\r\n",
                    b">01030A2EC2810B00A0009F00A196\r\n",
                    b">03900469\r\n",
                    b":00100005000102E2E224\r\n",
                    b"\x01\x03\x00\x2e\x00\x05\xe5\xc0",
                ]
            ),
        ),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(chunks=_chunks, framing=st.sampled_from(["ascii", "rtu"]), profile=st.booleans())
def test_the_analyser_never_raises_on_arbitrary_bytes(
    chunks: list[tuple[float, bytes]], framing: str, profile: bool
) -> None:
    line = ABL_LINE if framing == "ascii" else RTU_LINE
    analyser = TrafficAnalyser(
        framing, line, (ABL if framing == "ascii" else METER) if profile else None
    )
    t = 0.0
    for gap, data in chunks:
        t += gap
        analyser.feed(t, data)
        analyser.snapshot()
    report = analyser.finish(t + 1)
    json.dumps(report.to_dict())
    assert report.bytes == sum(len(data) for _, data in chunks)
    for entry in report.addresses:
        assert entry.polls == entry.answers + entry.corrupt + entry.timeouts + entry.pending


@given(data=st.binary(max_size=200), times=st.lists(st.floats(allow_nan=True), max_size=5))
def test_odd_timestamps_do_not_break_it(data: bytes, times: list[float]) -> None:
    analyser = TrafficAnalyser("ascii", LineSettings(9600, 8, "N", 1), ABL)
    for t in times or [0.0]:
        analyser.feed(t, data)
    analyser.finish()


# --- the listen session ---------------------------------------------------------------------


def session(chunks: list[Chunk], vanish_at: float | None = None) -> FakeLink:
    clock = VirtualClock(start=1000.0)  # monotonic time is not 0 when listening starts
    return FakeLink(clock, chunks, vanish_at=vanish_at)


def test_listen_feeds_the_analyser_with_times_since_it_began() -> None:
    script = Script()
    script.cycles(3, range(1, 5))
    link = session(script.chunks)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    report = listen(link, 5.0, analyser)
    assert report.finished and report.seconds == 5.0
    assert report.to_dict() == analyse(script.chunks, end=5.0).to_dict()


def test_listen_ticks_on_a_silent_line_and_hands_over_every_chunk() -> None:
    script = Script()
    script.wait(1.0)
    script.exchange(1)
    link = session(script.chunks)
    ticks: list[float] = []
    chunks: list[tuple[float, bytes]] = []
    listen(
        link,
        2.0,
        TrafficAnalyser("ascii", ABL_LINE),
        on_tick=ticks.append,
        on_chunk=lambda t, data: chunks.append((t, data)),
        tick=0.25,
    )
    assert ticks == [0.25 * i for i in range(1, 9)]
    assert chunks == script.chunks


def test_listen_stops_when_asked() -> None:
    script = Script()
    script.cycles(5, range(1, 5))
    link = session(script.chunks)
    seen: list[float] = []
    report = listen(
        link,
        60.0,
        TrafficAnalyser("ascii", ABL_LINE),
        on_chunk=lambda t, data: seen.append(t),
        stop=lambda: len(seen) >= 5,
    )
    assert len(seen) == 5 and report.frames == 5 and report.finished
    assert report.seconds == seen[-1]


class Sink:
    def __init__(self) -> None:
        self.records: list[tuple[float, bytes]] = []
        self.ticks: list[float] = []

    def record(self, timestamp: float, data: bytes) -> None:
        self.records.append((timestamp, data))

    def tick(self, timestamp: float) -> None:
        self.ticks.append(timestamp)


def test_when_the_port_vanishes_the_analyser_is_finished_and_the_error_propagates() -> None:
    script = Script()
    script.cycles(5, range(1, 5))
    link = session(script.chunks, vanish_at=2.5)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    sink = Sink()
    with pytest.raises(PortVanished):
        listen(link, 60.0, analyser, recorder=sink)
    report = analyser.snapshot()
    assert report.finished and report.seconds == 2.5
    assert report.frames == sum(1 for t, _ in script.chunks if t < 2.5) > 0
    assert sink.records == [(t, data) for t, data in script.chunks if t < 2.5]
    assert sink.ticks[-1] == 2.5


def test_listen_refuses_a_negative_duration() -> None:
    link = session([])
    with pytest.raises(ValueError):
        listen(link, -1.0, TrafficAnalyser("ascii", ABL_LINE))
