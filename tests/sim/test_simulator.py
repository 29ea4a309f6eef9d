"""The simulated site driven directly, on a virtual clock: exact and repeatable.

These tests own the clock, so every time below is *simulated* time, computed, never measured.
The endpoint tests (test_sim_endpoints.py, test_sim_scenarios_live.py) cover the same
behaviour through a pty, a socket and the sim:// handler with real clients.
"""

from __future__ import annotations

from collections import Counter

import pytest

from clu_doctor.bus.codecs import Codec, get_codec
from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.frames import Direction, ReadRequest, parse_read_reply
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock
from clu_doctor.sim.scenario import Scenario
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import SimSite

ASCII = get_codec("ascii")
RTU = get_codec("rtu")
STEP = 0.0005


def site_for(
    name: str | Scenario,
    clock: VirtualClock,
    *,
    clu: bool = False,
    seed: int = 0,
    **changes: object,
) -> SimSite:
    scenario = load_scenario(name) if isinstance(name, str) else name
    scenario = scenario.with_changes(clu_present=clu, **changes)  # type: ignore[arg-type]
    return SimSite(scenario, seed=seed, clock=clock)


def listen(
    site: SimSite, clock: VirtualClock, duration: float, settings: LineSettings | None = None
) -> bytes:
    out = bytearray()
    end = clock.now() + duration
    while clock.now() < end:
        clock.advance(STEP)
        out += site.adapter_read(clock.now(), settings)
    return bytes(out)


def exchange(
    site: SimSite,
    clock: VirtualClock,
    data: bytes,
    window: float = 0.06,
    settings: LineSettings | None = None,
) -> bytes:
    site.adapter_write(data, clock.now(), settings)
    return listen(site, clock, window, settings)


def request(address: int, start: int, count: int, codec: Codec = ASCII) -> bytes:
    return codec.encode(ReadRequest(address, start, count).to_frame())


def decode(raw: bytes, codec: Codec = ASCII) -> list[Decoded | Garbage]:
    decoder = codec.decoder()
    return decoder.feed(raw) + decoder.flush()


def replies(raw: bytes, codec: Codec = ASCII) -> list[Decoded]:
    return [
        e
        for e in decode(raw, codec)
        if isinstance(e, Decoded) and e.frame.direction is not Direction.REQUEST
    ]


def answers(site: SimSite, clock: VirtualClock, address: int) -> bool:
    return bool(replies(exchange(site, clock, request(address, 0x0050, 8))))


# --- silence rules and the echo quirk ------------------------------------------------------


def test_a_status_read_is_answered_with_the_echo_quirk(clock: VirtualClock) -> None:
    site = site_for("healthy-16", clock)
    [reply] = replies(exchange(site, clock, request(2, 0x002E, 5)))
    registers = parse_read_reply(ReadRequest(2, 0x002E, 5), reply.frame)
    assert registers == (0x2EC2, 0x910B, 159, 160, 161)  # C2, EV connected, EN1, 16 A
    assert reply.raw.startswith(b">02030A2EC2")


@pytest.mark.parametrize(
    "data",
    [
        b":0103002E0005C8\r\n",  # LRC off by one
        b":0103002E0005c9\r\n"[:-3] + b"\r\n",  # truncated
        request(1, 0x0100, 1),  # unknown register
        request(1, 0x002E, 4),  # wrong count
        request(0, 0x0001, 2),  # broadcast
        ASCII.encode(ReadRequest(1, 0x002E, 5, function=4).to_frame()),  # unsupported function
    ],
)
def test_the_station_stays_silent(clock: VirtualClock, data: bytes) -> None:
    site = site_for("healthy-16", clock)
    assert exchange(site, clock, data) == b""
    assert answers(site, clock, 1)  # and it is alive


def test_a_parity_error_in_the_request_means_silence(clock: VirtualClock) -> None:
    site = site_for("healthy-16", clock)
    # The same bytes sent at 8O1: every character fails the stations' even parity check.
    assert (
        exchange(site, clock, request(1, 0x002E, 5), settings=LineSettings(38400, 8, "O", 1)) == b""
    )


# --- wire time -------------------------------------------------------------------------------


def arrival_of_last_byte(site: SimSite, clock: VirtualClock, data: bytes, expected: int) -> float:
    start = clock.now()
    site.adapter_write(data, clock.now())
    received = b""
    while len(received) < expected:
        clock.advance(0.00005)
        received += site.adapter_read(clock.now())
    return clock.now() - start


def test_an_ascii_identity_read_takes_its_physical_time(clock: VirtualClock) -> None:
    site = site_for("healthy-16", clock)
    settings = site.scenario.bus.settings
    elapsed = arrival_of_last_byte(site, clock, request(1, 0x0050, 8), 43)
    # 17 + 43 characters of 11 bits at 38400 Bd, plus 3 +/- 1 ms of turnaround; the last
    # byte counts as arrived in the middle of its stop bit.
    wire = settings.wire_time(17 + 43) - 0.5 / 38400
    assert wire + 0.002 - 0.0001 <= elapsed <= wire + 0.004 + 0.0001


def test_an_rtu_reply_waits_for_the_t35_silence(clock: VirtualClock) -> None:
    site = site_for("healthy-rtu-4", clock)
    settings = site.scenario.bus.settings
    elapsed = arrival_of_last_byte(site, clock, request(1, 0x0050, 8, RTU), 21)
    wire = settings.wire_time(8 + 21) - 0.5 / 9600
    assert wire + settings.t35 + 0.002 - 0.0001 <= elapsed <= wire + settings.t35 + 0.004 + 0.0001


def test_without_wire_time_the_reply_is_there_at_once(clock: VirtualClock) -> None:
    scenario = load_scenario("healthy-16").with_changes(clu_present=False)
    site = SimSite(scenario, wire_time=False, clock=clock)
    site.adapter_write(request(4, 0x0050, 8), clock.now())
    assert len(replies(site.adapter_read(clock.now()))) == 1


def test_time_scale_compresses_simulated_time(clock: VirtualClock) -> None:
    site = SimSite(load_scenario("healthy-16"), time_scale=100, clock=clock)
    clock.advance(1.5)
    assert site.sim_time(clock.now()) == pytest.approx(150.0)
    assert site.wall_time(150.0) == pytest.approx(clock.now())


# --- topology --------------------------------------------------------------------------------


def test_a_cable_break_hides_the_far_side_from_an_adapter_at_the_clu_end(
    clock: VirtualClock,
) -> None:
    site = site_for("cable-break", clock)
    assert [answers(site, clock, a) for a in range(1, 13)] == [True] * 6 + [False] * 6


def test_a_cable_break_hides_the_near_side_from_an_adapter_at_the_far_end(
    clock: VirtualClock,
) -> None:
    site = site_for("cable-break", clock, adapter_at="end")
    assert [answers(site, clock, a) for a in range(1, 13)] == [False] * 6 + [True] * 6


def test_the_clu_is_heard_only_on_its_side_of_a_break(clock: VirtualClock) -> None:
    near = site_for("cable-break", clock, clu=True)
    heard = decode(listen(near, clock, 2.5))
    polled = {
        e.frame.address
        for e in heard
        if isinstance(e, Decoded) and e.frame.direction is Direction.REQUEST
    }
    answered = {
        e.frame.address
        for e in heard
        if isinstance(e, Decoded) and e.frame.direction is Direction.REPLY
    }
    assert polled >= set(range(1, 13)) and answered == set(range(1, 7))
    far = site_for("cable-break", VirtualClock(), clu=True, adapter_at="end")
    assert listen(far, VirtualClock(), 0.3) == b""


def test_an_unpowered_station_is_silent_but_passes_the_bus_on(clock: VirtualClock) -> None:
    site = site_for("unpowered-station", clock)
    assert [answers(site, clock, a) for a in range(1, 9)] == [True] * 3 + [False] + [True] * 4


def test_crossed_wires_split_the_bus_by_polarity(clock: VirtualClock) -> None:
    near = site_for("ab-swapped", clock)
    assert [answers(near, clock, a) for a in range(1, 9)] == [True] * 4 + [False] * 4
    far_clock = VirtualClock()
    far = site_for("ab-swapped", far_clock, adapter_at="end")
    assert [answers(far, far_clock, a) for a in range(1, 9)] == [False] * 4 + [True] * 4


def test_the_far_end_of_a_crossed_bus_hears_the_clu_as_garbage(clock: VirtualClock) -> None:
    site = site_for("ab-swapped", clock, clu=True, adapter_at="end")
    heard = decode(listen(site, clock, 0.3))
    assert heard and not any(
        isinstance(e, Decoded) and e.frame.direction is Direction.REQUEST for e in heard
    )
    # ... while the stations beyond the crossing, on the adapter's polarity, never answer it.
    assert site.clu is not None and site.clu.stats["answered:5"] == 0


# --- collisions ------------------------------------------------------------------------------


def collision_outcomes(seed: int, reads: int = 30) -> Counter[str]:
    clock = VirtualClock()
    site = site_for("duplicate-address", clock, seed=seed)
    outcomes: Counter[str] = Counter()
    for _ in range(reads):
        events = decode(exchange(site, clock, request(1, 0x0050, 8)))
        good = [e for e in events if isinstance(e, Decoded)]
        bad = [e for e in events if isinstance(e, Garbage)]
        serials = {bytes(e.frame.data[-8:]) for e in good}
        if len(good) == 2 and len(serials) == 2 and not bad:
            outcomes["doubled"] += 1
        elif bad:
            outcomes["garbled"] += 1
        else:
            outcomes["other"] += 1
    return outcomes


def test_two_stations_on_one_address_collide_in_both_ways() -> None:
    outcomes = collision_outcomes(seed=3)
    # The turnarounds (2 +/- 0.5 ms and 10 +/- 6 ms) against a 12.3 ms reply: mostly the second
    # reply starts while the first is on the wire and both are garbled; sometimes it starts
    # after the first ended and two clean replies with different serials arrive.
    assert outcomes["garbled"] > outcomes["doubled"] > 0
    assert outcomes["other"] == 0
    assert collision_outcomes(seed=3) == outcomes


def test_doubled_clean_replies_show_two_different_serials(clock: VirtualClock) -> None:
    # A status read (8.9 ms) is shorter than the turnaround spread: some replies come twice,
    # both clean, from two controllers in different states.
    site = site_for("duplicate-address", clock, seed=5)
    states: Counter[tuple[int, ...]] = Counter()
    for _ in range(40):
        found = replies(exchange(site, clock, request(1, 0x002E, 5), window=0.04))
        if len(found) == 2:
            states[tuple(r.frame.data[2] for r in found)] += 1
    assert states[(0xA1, 0xB1)] > 0  # XAXXY01 (A1) first, the replacement (B1) second


def test_the_adapter_and_the_clu_collide_when_they_talk_at_once(clock: VirtualClock) -> None:
    site = site_for("healthy-16", clock, clu=True)
    # The CLU's first request (identity of address 1) starts at t=0 and takes 4.9 ms.
    clock.advance(0.001)
    site.adapter_write(request(1, 0x0050, 8), clock.now())
    heard = listen(site, clock, 0.2)
    assert site.clu is not None and site.clu.stats["timeout:1"] >= 1
    first_reply = next(e for e in decode(heard) if isinstance(e, Decoded))
    assert first_reply.frame.direction is Direction.REQUEST  # the CLU's retry, no reply before it


# --- noise -------------------------------------------------------------------------------------


def failed_exchanges(cable_m: float, reads: int = 80) -> int:
    clock = VirtualClock()
    scenario = load_scenario("long-unterminated").with_changes(cable_m=cable_m)
    site = site_for(scenario, clock, seed=11)
    expected = ReadRequest(1, 0x002E, 5)
    failed = 0
    for _ in range(reads):
        found = replies(exchange(site, clock, request(1, 0x002E, 5), window=0.03))
        ok = any(r.frame.address == 1 and len(r.frame.data) == 11 for r in found)
        if ok:
            parse_read_reply(expected, found[0].frame)
        failed += not ok
    return failed


def test_the_failure_rate_grows_with_cable_length() -> None:
    short, nominal, long = failed_exchanges(60), failed_exchanges(250), failed_exchanges(400)
    assert short == 0  # p = 0.002 * (0.4 ** 4): about 1e-4 per character
    assert 0 < nominal < long


def test_a_terminated_long_cable_is_clean() -> None:
    clock = VirtualClock()
    scenario = load_scenario("long-unterminated").with_changes(termination="both")
    site = site_for(scenario, clock, seed=11)
    assert all(answers(site, clock, 1) for _ in range(10))


# --- the CLU -----------------------------------------------------------------------------------


def test_the_clus_traffic_pairs_request_and_reply(clock: VirtualClock) -> None:
    site = site_for("healthy-16", clock, clu=True)
    events = [e for e in decode(listen(site, clock, 1.2)) if isinstance(e, Decoded)]
    assert events
    pairs = list(zip(events[::2], events[1::2], strict=False))
    for request_event, reply_event in pairs:
        assert request_event.frame.direction is Direction.REQUEST
        assert reply_event.frame.direction is Direction.REPLY
        assert reply_event.frame.address == request_event.frame.address
    polled = [(r.frame.address, r.frame.function, r.frame.data[:2]) for r, _ in pairs]
    # First cycle: identity, status, Icmax write for 1, then the same for 2, ...
    assert polled[:3] == [(1, 3, b"\x00\x50"), (1, 3, b"\x00\x2e"), (1, 0x10, b"\x00\x14")]
    assert {a for a, _, _ in polled} == set(range(1, 17))


def test_a_booting_clu_is_silent_for_150_seconds(clock: VirtualClock) -> None:
    scenario = load_scenario("clu-booting")
    site = SimSite(scenario, time_scale=100, clock=clock)
    heard = listen(site, clock, 1.49)  # 149 s simulated
    assert heard == b""
    heard = listen(site, clock, 0.02)  # 2 s more
    first = next(e for e in decode(heard) if isinstance(e, Decoded))
    assert first.frame.describe() == "read 0x0050 x8 from 1"


def test_a_dead_usb_interface_means_no_traffic_but_stations_answer(clock: VirtualClock) -> None:
    site = site_for("clu-usb-dead", clock, clu=True)
    assert listen(site, clock, 2.0) == b""
    assert answers(site, clock, 8)


def test_the_clu_skips_an_address_it_was_not_configured_with(clock: VirtualClock) -> None:
    site = site_for("station-f4", clock, clu=True)
    listen(site, clock, 2.5)
    assert site.clu is not None
    assert site.clu.stats["sent:7"] == 0 and site.clu.stats["answered:8"] >= 2
    site = site_for("station-f4", clock)
    [reply] = replies(exchange(site, clock, request(7, 0x0004, 1)))
    assert reply.raw == b">07030204F4FC\r\n"  # 07+03+02+04+F4 = 0x104


# --- determinism ---------------------------------------------------------------------------------


def run_duplicate_site(seed: int) -> bytes:
    clock = VirtualClock()
    site = site_for("duplicate-address", clock, clu=True, seed=seed)
    out = listen(site, clock, 0.4)
    for address in (1, 9, 1):
        out += exchange(site, clock, request(address, 0x0050, 8))
    return out


def test_the_same_seed_gives_the_same_bytes() -> None:
    assert run_duplicate_site(7) == run_duplicate_site(7)


def test_another_seed_gives_other_collisions() -> None:
    assert run_duplicate_site(7) != run_duplicate_site(8)


# --- per-station faults ------------------------------------------------------------------------

FAULTY = """\
description: per-station faults
clu: {present: false}
stations:
  - {label: S1, address: 1, serial: S0000001}
  - {label: S2, address: 2, serial: S0000002, reply_address: 12}
  - {label: S3, address: 3, serial: S0000003, ab_swapped: true}
  - {label: S4, address: 4, serial: S0000004, line: 9600 8N1}
  - {label: S5, address: 5, serial: S0000005}
"""


def faulty_site(clock: VirtualClock) -> SimSite:
    from clu_doctor.sim.scenario_reader import parse_scenario

    return SimSite(parse_scenario(FAULTY, "faulty.yaml"), clock=clock)


def test_a_station_answering_with_the_wrong_address(clock: VirtualClock) -> None:
    [reply] = replies(exchange(faulty_site(clock), clock, request(2, 0x0004, 1)))
    assert reply.frame.address == 12  # a valid frame, but not from the address asked


def test_a_station_with_its_own_wires_crossed_is_deaf_and_mute(clock: VirtualClock) -> None:
    site = faulty_site(clock)
    assert not answers(site, clock, 3)
    assert answers(site, clock, 5)  # only its own connection is crossed: the bus beyond is fine


def test_a_station_at_other_line_settings_hears_only_garbage(clock: VirtualClock) -> None:
    site = faulty_site(clock)
    assert not answers(site, clock, 4)
    # An adapter switched to the station's own 9600 8N1 gets its answer.
    nine = LineSettings(9600, 8, "N", 1)
    [reply] = replies(exchange(site, clock, request(4, 0x0004, 1), window=0.1, settings=nine))
    assert reply.frame.address == 4


def test_the_clu_retries_then_moves_on(clock: VirtualClock) -> None:
    site = site_for("unpowered-station", clock, clu=True)
    listen(site, clock, 0.9)
    assert site.clu is not None
    stats = site.clu.stats
    # Identity read of the unpowered address 4: one try plus one retry, then the next address.
    assert stats["sent:4"] == 2 and stats["timeout:4"] == 2
    assert stats["answered:5"] >= 2
