"""A bus both ABL generations share (CLU manual §9.7), listened to at each one's line settings.

A UART at 38400 8E1 hears the first generation's 8N1 frames as framing errors, one at 8N1 hears
the second generation's with every character whose parity bit is 0 turned into NUL. Neither is
any station's garbage: the CLU polled a station of the other generation. A duplicate address on
either side must still be found. The simulated site runs on a virtual clock (exact, repeatable);
the same bus through a real pty is in tests/live/test_listen_live.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.codecs.events import Decoded
from clu_doctor.bus.frames import Direction, ReadRequest, build_read_reply
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.bus.profile import load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock
from clu_doctor.resources import scenarios_dir
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import SimSite
from tests.bus.listen.support import STATUS, Script, analyse, listen_to, planned_chain, status

SECOND = ("ascii", LineSettings(38400, 8, "E", 1), "defa-erange")
FIRST = ("evcc1", LineSettings(38400, 8, "N", 1), "defa-evcc1")
MIXED = scenarios_dir() / "mixed-generations.yaml"


def listen_at(
    scenario: str | Path,
    side: tuple[str, LineSettings, str],
    *,
    seed: int = 1,
    seconds: float = 8.0,
    step: float = 0.005,
) -> ListenReport:
    """A listen of ``seconds`` at one generation's settings, on a virtual clock."""
    framing, settings, profile = side
    clock = VirtualClock()
    site = SimSite(load_scenario(scenario), seed=seed, clock=clock)
    analyser = TrafficAnalyser(framing, settings, load_profile(profile))
    return listen_to(site, clock, analyser, settings, seconds, step)


def duplicates(report: ListenReport) -> set[int]:
    verdicts = derive_verdicts(report)
    return {a for v in verdicts if v.key == "bus.duplicate_address" for a in v.addresses}


def with_changes(tmp_path: Path, old: str, new: str) -> Path:
    text = MIXED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "site.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("step", [0.001, 0.005])
def test_the_first_generations_polls_are_no_second_answer_at_8e1(seed: int, step: float) -> None:
    """The CLU's 8N1 poll to 5 follows address 4's answer inside 4's answer window: it used to
    be counted as a second, garbled answer ("duplicate address suspected: 4")."""
    report = listen_at(MIXED, SECOND, seed=seed, step=step)
    assert {a.address: a.doubled + a.corrupt for a in report.addresses} == dict.fromkeys(
        (1, 2, 3, 4, 9, 10, 11, 12), 0
    )
    assert all(a.answers == a.polls for a in report.addresses)
    assert report.other_generation > 0 and report.unattributed >= report.other_generation
    assert duplicates(report) == set()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_second_generations_frames_are_no_second_answer_at_8n1(seed: int) -> None:
    """At 8N1 the second generation's '>' survives (its parity bit is 1): its answers look like
    first-generation replies with holes, right after address 8's answer."""
    report = listen_at(MIXED, FIRST, seed=seed)
    assert {a.address: a.doubled + a.corrupt for a in report.addresses} == dict.fromkeys(
        (5, 6, 7, 8), 0
    )
    assert all(a.answers == a.polls and a.generation == 1 for a in report.addresses)
    assert report.other_generation > 0
    assert duplicates(report) == set()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_duplicate_among_the_second_generation_is_still_found(tmp_path: Path, seed: int) -> None:
    site = with_changes(
        tmp_path,
        "{label: XAXXY10, address: 10, serial: DF230110,",
        "{label: XAXXY10, address: 2, serial: DF230110, turnaround_ms: 6, jitter_ms: 3,",
    )
    assert duplicates(listen_at(site, SECOND, seed=seed)) == {2}
    assert duplicates(listen_at(site, FIRST, seed=seed)) == set()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_duplicate_among_the_first_generation_is_still_found(tmp_path: Path, seed: int) -> None:
    site = with_changes(
        tmp_path,
        "{label: XAXXY08, address: 8, kind: evcc1,",
        "{label: XAXXY08, address: 6, turnaround_ms: 6, jitter_ms: 3, kind: evcc1,",
    )
    assert duplicates(listen_at(site, FIRST, seed=seed)) == {6}
    assert duplicates(listen_at(site, SECOND, seed=seed)) == set()


def test_framing_errors_right_after_an_answer_are_still_a_second_answer() -> None:
    """The master's next poll explains garbage only where the master sends it: a second
    controller answers before that, so NULs right behind an answer still count against it."""
    script = Script()
    for _ in range(3):
        for address in (1, 2, 3):
            script.exchange(address)
        script.wait(0.5)
    script.request(4)
    script.reply(4, (0x2EA1, 0x1064, 0x03E8, 0x03E8, 0x03E8))
    script.raw(b"\x00\x00\xe1\x00\x00\x00C\x00\x00\x00", gap=0.0005)  # no gap: a collision
    script.request(1)
    report = analyse(script.chunks, chain=planned_chain("healthy-16"))
    entry = report.address(4)
    assert entry is not None and entry.doubled == 1
    assert report.other_generation == 0


def test_a_bus_of_one_generation_has_no_other_generation_traffic() -> None:
    report = listen_at(scenarios_dir() / "duplicate-address.yaml", SECOND)
    assert report.other_generation == 0
    assert 1 in duplicates(report)


# --- the master's pause when the host's reads hide it -----------------------------------------


Chunk = tuple[float, bytes]


def sim_reads(
    scenario: str | Path, side: tuple[str, LineSettings, str], *, seed: int = 1
) -> list[Chunk]:
    """What a host reading every millisecond gets from the site at one generation's settings."""
    _, settings, _ = side
    clock = VirtualClock()
    site = SimSite(load_scenario(scenario), seed=seed, clock=clock)
    reads = []
    for tick in range(1, 8001):
        now = clock.advance_to(round(tick * 0.001, 6))
        data = site.adapter_read(now, settings)
        if data:
            reads.append((now, data))
    return reads


def answer_ends(reads: list[Chunk], address: int) -> list[int]:
    """The reads that carried the last byte of the last answer from ``address`` in each of
    the CLU's visits to it (identity, write and status on the first), in order."""
    decoder = get_codec("ascii").decoder()
    found: list[int] = []
    visiting = False
    for index, (t, data) in enumerate(reads):
        for event in decoder.feed(data, t):
            if not isinstance(event, Decoded):
                continue
            if event.frame.address != address:
                visiting = False
            elif event.frame.direction is Direction.REPLY:
                if visiting:
                    found.pop()
                found.append(index)
                visiting = True
    return found


def read_late(reads: list[Chunk], at: list[int], delay: float) -> list[Chunk]:
    """The same bytes as a host gets them that, after each read in ``at``, reads again only
    ``delay`` later: what arrived meanwhile comes in that read, stamped when it was made."""
    late = []
    index = 0
    while index < len(reads):
        t, data = reads[index]
        index += 1
        if index - 1 in at:
            until = t + delay
            while index < len(reads) and reads[index][0] <= until:
                data += reads[index][1]
                index += 1
            t = until
        late.append((t, data))
    return late


def analyse_at(reads: list[Chunk], side: tuple[str, LineSettings, str]) -> ListenReport:
    framing, settings, profile = side
    analyser = TrafficAnalyser(framing, settings, load_profile(profile))
    analyser.start(0.0)
    for t, data in reads:
        analyser.feed(t, data)
    return analyser.finish(8.0)


@pytest.mark.parametrize(
    ("turns", "why"),
    [
        (slice(0, 1), "the first turn, as when the port was opened before the reads began"),
        (slice(0, None, 2), "every other turn, a host busy elsewhere"),
        (slice(1, -1), "every turn but the first and the last"),
    ],
)
def test_a_read_that_holds_an_answers_end_and_the_next_poll_is_no_second_answer(
    turns: slice, why: str
) -> None:
    """An adapter's packet, or a host that read late, hands over address 4's answer and the
    CLU's 8N1 poll to 5 after it in one read: the CLU's pause between them does not show. In
    the turns where it did, the first generation's traffic followed 4's answer after that
    pause, as every turn of the CLU's cycle: so it did here too."""
    reads = sim_reads(MIXED, SECOND)
    ends = answer_ends(reads, 4)
    assert len(ends) == 8
    late = read_late(reads, ends[turns], 0.03)
    assert len(late) < len(reads)
    report = analyse_at(late, SECOND)
    assert {a.address: a.doubled + a.corrupt for a in report.addresses} == dict.fromkeys(
        (1, 2, 3, 4, 9, 10, 11, 12), 0
    ), why
    assert report.other_generation > 0
    assert duplicates(report) == set()


def test_a_late_read_of_an_answers_last_bytes_still_shows_the_masters_pause() -> None:
    """In every turn the host reads the end of 4's answer 4 ms late, before the CLU's 5 ms
    pause is over: the read's own time makes the pause look 1 ms long, sooner than the CLU
    ever polls again. The answer's earlier reads, a frame's bytes being back to back, show
    when it really ended."""
    reads = sim_reads(MIXED, SECOND)
    ends = answer_ends(reads, 4)
    late = [
        (t + 0.004, data) if index in ends else (t, data) for index, (t, data) in enumerate(reads)
    ]
    assert [t for t, _ in late] == sorted(t for t, _ in late)
    report = analyse_at(late, SECOND)
    entry = report.address(4)
    assert entry is not None and entry.answers == entry.polls and entry.doubled == 0
    assert duplicates(report) == set()


def test_garbage_one_read_hides_is_a_second_answer_where_no_turn_showed_a_pause() -> None:
    """The other side of it: where, after an address's answer, the master's pause never showed
    before such garbage (a second controller answering right behind the first, in the same
    read), the garbage is a second answer, turn after turn."""
    script = Script()
    for _ in range(6):
        for address in (1, 2, 3):
            script.exchange(address)
        script.request(4)
        reply = script.codec.encode(build_read_reply(ReadRequest(4, *STATUS), status()))
        script.raw(reply + b"\x00\x00\xe1\x00\x00\x00C\x00\x00\x00")  # one read holds both
        script.wait(0.5)
    script.request(1)
    report = analyse(script.chunks, chain=planned_chain("healthy-16"))
    entry = report.address(4)
    assert entry is not None and entry.doubled == 6
    assert report.other_generation == 0
    assert 4 in duplicates(report)
