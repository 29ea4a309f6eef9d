"""Verdicts from listen reports: each finding and its thresholds (the statistics behind the
duplicate test are in tests/bus/test_stats.py)."""

from __future__ import annotations

import json

import pytest

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.listen.detect import CandidateScore, Detection
from clu_doctor.bus.listen.verdicts import Thresholds, Verdict, derive_verdicts
from clu_doctor.bus.stats import binomial_tail
from tests.bus.listen.support import (
    ABL_LINE,
    METER,
    RTU_LINE,
    Chunk,
    Script,
    analyse,
    inject_errors,
)


def keys(verdicts: list[Verdict]) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(v.key, v.value, v.addresses) for v in verdicts]


def healthy(cycles: int = 20, addresses: range = range(1, 17)) -> list[Chunk]:
    script = Script()
    script.cycles(cycles, addresses)
    return script.chunks


# --- healthy --------------------------------------------------------------------------------


def test_a_healthy_bus_gives_no_verdict() -> None:
    report = analyse(healthy())
    assert derive_verdicts(report) == []
    assert derive_verdicts(report, chain=Chain.of(range(1, 17))) == []


def test_a_lost_first_poll_that_a_retry_recovers_is_no_finding() -> None:
    script = Script()
    for address in range(1, 9):
        script.request(address)  # lost
        script.exchange(address)  # the retry 5 ms later is answered
    script.cycles(10, range(1, 9))
    assert derive_verdicts(analyse(script.chunks)) == []


# --- traffic --------------------------------------------------------------------------------


def test_no_byte_at_all_is_no_traffic_with_the_listen_duration() -> None:
    (verdict,) = derive_verdicts(analyse([], end=60.0))
    assert (verdict.key, verdict.value, verdict.severity) == ("bus.polling", "none", "critical")
    assert verdict.data["listened_s"] == 60.0
    assert any("150 s" in line for line in verdict.evidence)


def test_a_listen_shorter_than_the_silence_threshold_says_nothing_about_traffic() -> None:
    assert derive_verdicts(analyse([], end=2.0)) == []
    assert keys(derive_verdicts(analyse([], end=2.0), thresholds=Thresholds(silence_s=1))) == [
        ("bus.polling", "none", ())
    ]


def test_traffic_that_starts_late_stops_or_pauses() -> None:
    late = Script()
    late.wait(20)
    late.cycles(5, range(1, 5))
    (verdict,) = derive_verdicts(analyse(late.chunks))
    assert (verdict.value, verdict.severity) == ("started_late", "info")
    assert verdict.data["silent_s"] == pytest.approx(20, abs=0.1)

    stopped = Script()
    stopped.cycles(5, range(1, 5))
    (verdict,) = derive_verdicts(analyse(stopped.chunks, end=stopped.t + 10))
    assert verdict.value == "stopped"

    gap = Script()
    gap.cycles(3, range(1, 5))
    gap.wait(8)
    gap.cycles(3, range(1, 5))
    (verdict,) = derive_verdicts(analyse(gap.chunks))
    assert (verdict.value, verdict.data["gaps"]) == ("gaps", 1)


# --- undecodable ----------------------------------------------------------------------------


def test_bytes_that_never_decode() -> None:
    junk = [(0.01 * i, bytes([0x5A ^ i, 0x00, 0xFF, 0x13])) for i in range(100)]
    (verdict,) = derive_verdicts(analyse(junk))
    assert (verdict.key, verdict.value) == ("bus.undecodable", "at_this_setting")
    assert "38400 8E1 ascii" in verdict.title


def test_a_few_stray_bytes_are_not_undecodable() -> None:
    assert derive_verdicts(analyse([(0.1, b"\x00\x13junk")], end=1.0)) == []


def test_with_a_sweep_that_decoded_nothing_it_is_every_setting() -> None:
    score = CandidateScore(ABL_LINE, "ascii", 1.0, 500, 0, 0, 0, 9, 400, 0, 0.0, False, False)
    detection = Detection("nothing_decodes", None, None, (score, score), "nothing decodes")
    junk = [(0.01 * i, b"\x00\xf3\x81\x13") for i in range(100)]
    (verdict,) = derive_verdicts(analyse(junk), detection=detection)
    assert (verdict.value, verdict.data["candidates"]) == ("at_every_setting", 2)


# --- answers --------------------------------------------------------------------------------


def test_polls_but_no_answers_at_all() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=range(1, 9))
    verdicts = derive_verdicts(analyse(script.chunks))
    assert keys(verdicts) == [("bus.no_answers", "silent", tuple(range(1, 9)))]
    assert "red LED" in verdicts[0].evidence[1]


def test_polls_answered_only_with_garbage() -> None:
    script = Script()
    for _ in range(5):
        for address in (1, 2):
            script.request(address)
            script.raw(b">0103??garbled\r\n")
    assert keys(derive_verdicts(analyse(script.chunks))) == [
        ("bus.no_answers", "only_corrupt", (1, 2))
    ]


def test_some_addresses_never_answer() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=(4, 7))
    (verdict,) = derive_verdicts(analyse(script.chunks))
    assert (verdict.key, verdict.value, verdict.addresses) == (
        "bus.silent_addresses",
        "no_chain",
        (4, 7),
    )
    # A polled station that never answers is critical, as diagnose (BUS-MISSING-01) says.
    assert verdict.severity == "critical"


def test_one_poll_without_an_answer_is_not_yet_silence() -> None:
    script = Script()
    script.cycles(3, range(1, 5))
    script.request(9)
    script.exchange(1)
    assert derive_verdicts(analyse(script.chunks)) == []


def test_with_the_chain_the_silent_stations_beyond_one_point() -> None:
    script = Script()
    script.cycles(5, range(1, 13), silent=range(7, 13))
    chain = Chain(
        tuple((a,) for a in range(1, 13)), labels=tuple(f"XAXXY{a:02}" for a in range(1, 13))
    )
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=chain))
    assert (verdict.value, verdict.severity) == ("beyond_point", "critical")
    assert "between XAXXY06 and XAXXY07" in verdict.title
    assert (verdict.data["cut_after_position"], verdict.data["first_silent_position"]) == (6, 7)


def test_with_the_adapter_past_the_point_the_bus_is_intact() -> None:
    """The adapter at the far end still hears the CLU: the cable cannot be cut before it."""
    script = Script()
    script.cycles(5, range(1, 9), silent=(5, 6, 7, 8))
    chain = Chain.of(range(1, 9), adapter_at=8)
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=chain))
    assert (verdict.value, verdict.severity) == ("beyond_point_bus_intact", "critical")
    assert "reach the adapter at the far end" in verdict.title
    assert Chain.of(range(1, 9), adapter_at=4).adapter_at < 5
    (before,) = derive_verdicts(analyse(script.chunks, chain=Chain.of(range(1, 9), adapter_at=4)))
    assert before.value == "beyond_point"


def test_an_adapter_away_from_the_clu_says_what_it_cannot_tell() -> None:
    chain = Chain.of(range(1, 9), adapter_at=8)
    (none,) = derive_verdicts(analyse([], end=30.0, chain=chain))
    assert any("the adapter is at the far end: a cut between" in line for line in none.evidence)
    junk = [(0.01 * i, b"\x00\xf3\x81\x13") for i in range(100)]
    (garbled,) = derive_verdicts(analyse(junk, chain=chain))
    assert any("A/B crossed anywhere between" in line for line in garbled.evidence)
    (at_clu,) = derive_verdicts(analyse([], end=30.0, chain=Chain.of(range(1, 9))))
    assert not any("the adapter is at" in line for line in at_clu.evidence)


def test_with_the_chain_an_isolated_silent_station() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=(4,))
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=Chain.of(range(1, 9))))
    assert (verdict.value, verdict.addresses) == ("isolated", (4,))
    # BUS-STATION-01 in diagnose and the scan's chain verdict: critical, not a warning.
    assert verdict.severity == "critical"


def test_with_the_chain_duo_stations_share_a_point() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=(5, 6, 7, 8))
    chain = Chain.of([(1, 2), (3, 4), (5, 6), (7, 8)])
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=chain))
    assert verdict.value == "beyond_point" and verdict.data["cut_after_position"] == 2


def test_with_the_chain_only_the_last_station_silent() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=(8,))
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=Chain.of(range(1, 9))))
    assert verdict.value == "beyond_point"
    assert any("the last station alone" in line for line in verdict.evidence)


def test_addresses_the_clu_never_polls() -> None:
    script = Script()
    script.cycles(3, (1, 2, 3, 4, 5, 6, 8))
    chain = Chain.of(range(1, 9))
    verdicts = derive_verdicts(analyse(script.chunks, chain=chain))
    assert keys(verdicts) == [("bus.unpolled_addresses", "not_polled", (7,))]
    assert verdicts[0].severity == "critical"  # as BUS-UNPOLLED-01
    # One turn of the CLU's cycle does not tell: 7 may simply not have had its turn yet.
    one_cycle = Script()
    one_cycle.cycles(1, (1, 2, 3, 4, 5, 6, 8))
    (short,) = derive_verdicts(analyse(one_cycle.chunks, chain=chain))
    assert (short.key, short.value, short.addresses) == (
        "bus.unpolled_addresses",
        "listen_too_short",
        (7,),
    )
    assert short.severity == "unknown" and short.title.startswith("not judged")


def test_a_visit_with_an_identity_read_a_write_and_a_status_read_is_one_turn() -> None:
    """The CLU's first contact reads the identity, writes Icmax and reads the status: three
    polls, one visit. A listen of one such turn judges nothing, never "never polled"."""
    script = Script()
    for address in (1, 2, 3):
        script.identity_exchange(address, f"DF2301{address:02d}")
        script.write(address, 0x14, 0x10A)
        script.exchange(address)
    report = analyse(script.chunks, chain=Chain.of(range(1, 5)))
    assert [(e.address, e.polls, e.visits) for e in report.addresses] == [
        (1, 3, 1),
        (2, 3, 1),
        (3, 3, 1),
    ]
    assert [(v.key, v.value, v.addresses) for v in derive_verdicts(report)] == [
        ("bus.unpolled_addresses", "listen_too_short", (4,))
    ]


# --- duplicates -----------------------------------------------------------------------------


def duplicate_bus(cycles: int, garbled_every: int = 1) -> list[Chunk]:
    """Address 1 answered by two controllers: most answers garbled, some doubled."""
    script = Script()
    for cycle in range(cycles):
        for address in range(1, 9):
            if address == 1 and cycle % garbled_every == 0:
                script.request(1)
                script.raw(b">01030A2E\xa1\x00\x81\x0b00A0009F00A196\r\n")
            else:
                script.exchange(address)
    return script.chunks


def test_one_address_far_more_corrupt_than_the_rest_is_a_duplicate() -> None:
    verdicts = derive_verdicts(analyse(duplicate_bus(10)))
    assert keys(verdicts) == [("bus.duplicate_address", "corruption_excess", (1,))]
    # Garbling alone is a suspicion (BUS-DUP-02), a warning as in diagnose and scan.
    assert verdicts[0].severity == "warning"
    assert verdicts[0].title == "duplicate address suspected: 1"
    detail = verdicts[0].data["addresses_detail"]
    assert isinstance(detail, dict) and detail["1"]["anomalies"] == 10


def test_a_small_bus_with_one_address_always_garbled() -> None:
    """Two meters on address 1 of a two-address meter bus: every answer to 1 garbled."""
    script = Script("rtu", RTU_LINE)
    for _ in range(6):
        for _ in range(2):
            script.request(1)
            script.raw(bytes.fromhex("0103108c1f") + b"\x00" * 14)
        script.exchange(2)
    verdicts = derive_verdicts(analyse(script.chunks, "rtu", profile=METER))
    assert keys(verdicts) == [("bus.duplicate_address", "corruption_excess", (1,))]


def test_one_address_alone_gives_no_comparison() -> None:
    script = Script()
    for _ in range(20):
        script.request(1)
        script.raw(b">01030A2E??\r\n")
    assert "bus.duplicate_address" not in [v.key for v in derive_verdicts(analyse(script.chunks))]


def test_a_handful_of_exchanges_is_not_enough_evidence() -> None:
    assert derive_verdicts(analyse(duplicate_bus(3))) == []


def test_two_different_valid_answers_to_one_request() -> None:
    script = Script()
    script.cycles(2, range(1, 5))
    for _ in range(2):
        script.request(3)
        script.reply(3, (0x2EA1, 0x1064, 1000, 1000, 1000))
        script.reply(3, (0x2EB1, 0x1064, 1000, 1000, 1000), gap=0.001)
        script.exchange(4)
    verdicts = derive_verdicts(analyse(script.chunks))
    assert keys(verdicts) == [("bus.duplicate_address", "double_answers", (3,))]
    assert verdicts[0].severity == "critical"  # proven: BUS-DUP-01
    assert verdicts[0].title == "two devices answer on address 3"


def test_an_address_whose_identity_alternates() -> None:
    script = Script()
    script.cycles(2, range(1, 5))
    script.identity_exchange(2, "DF230102")
    script.cycles(2, range(1, 5))
    script.identity_exchange(2, "AB190042")
    (verdict,) = derive_verdicts(analyse(script.chunks))
    assert (verdict.value, verdict.addresses) == ("identity_alternates", (2,))
    assert verdict.severity == "critical"
    assert verdict.title == "two devices answer on address 2"
    assert any("DF230102 / 2W22M1 AB190042" in line for line in verdict.evidence)


@pytest.mark.parametrize("seed", range(8))
def test_a_character_error_rate_of_1e_3_never_suspects_a_duplicate(seed: int) -> None:
    chunks = inject_errors(healthy(cycles=60), 1e-3, seed)
    verdicts = derive_verdicts(analyse(chunks))
    assert "bus.duplicate_address" not in [v.key for v in verdicts]


@pytest.mark.parametrize("seed", range(8))
def test_1e_3_at_one_address_only_does_not_suspect_a_duplicate_either(seed: int) -> None:
    """The worst case for the test: the noise sits on one address, the rest of the bus is clean."""
    script = Script()
    script.cycles(60, range(1, 17))
    target = b">05"
    chunks = [
        (
            inject_errors([(t, data)], 1e-3, seed * 100000 + i)[0]
            if data.startswith(target)
            else (t, data)
        )
        for i, (t, data) in enumerate(script.chunks)
    ]
    verdicts = derive_verdicts(analyse(chunks))
    assert "bus.duplicate_address" not in [v.key for v in verdicts]


def test_the_false_alarm_bound_holds_against_the_exact_tail() -> None:
    """At p = the 1e-3 floor, the smallest count that fires has a tail below alpha / m."""
    thresholds = Thresholds()
    chars = 17 + 31  # an ABL status exchange
    floor = 1 - (1 - thresholds.duplicate_ber_floor) ** chars
    n, m = 60, 16
    fires = next(
        k for k in range(n + 1) if binomial_tail(k, n, floor) <= thresholds.duplicate_alpha / m
    )
    assert binomial_tail(fires, n, floor) <= thresholds.duplicate_alpha / m
    assert fires / n > 3 * floor  # far beyond what the floor rate produces


# --- errors everywhere ----------------------------------------------------------------------


def test_errors_spread_over_the_bus() -> None:
    chunks = inject_errors(healthy(cycles=20, addresses=range(1, 9)), 0.01, 3)
    verdicts = derive_verdicts(analyse(chunks))
    spread = [v for v in verdicts if v.key == "bus.errors_spread"]
    assert len(spread) == 1 and spread[0].value == "spread"
    assert "bus.duplicate_address" not in [v.key for v in verdicts]
    assert len(spread[0].addresses) >= 3


def test_errors_growing_along_the_chain() -> None:
    script = Script()
    script.cycles(40, range(1, 9))
    chunks = []
    for i, (t, data) in enumerate(script.chunks):
        address = int(data[1:3], 16)
        chunks.append(inject_errors([(t, data)], 0.003 * address, i)[0])
    verdicts = derive_verdicts(analyse(chunks, chain=Chain.of(range(1, 9))))
    spread = [v for v in verdicts if v.key == "bus.errors_spread"]
    assert [v.value for v in spread] == ["growing_along_chain"]
    assert isinstance(spread[0].data["trend_z"], float) and spread[0].data["trend_z"] >= 3


def test_a_few_errors_are_not_a_finding() -> None:
    script = Script()
    script.cycles(20, range(1, 9))
    script.request(3)
    script.raw(b">0303??\r\n")
    script.exchange(4)
    assert derive_verdicts(analyse(script.chunks)) == []


# --- station states -------------------------------------------------------------------------


def test_station_state_codes_that_need_attention() -> None:
    script = Script()
    script.cycles(3, range(1, 9), states={3: 0xF4, 5: 0xE2, 6: 0xF4, 7: 0xC3, 8: 0xE0})
    verdicts = derive_verdicts(analyse(script.chunks))
    assert keys(verdicts) == [
        ("station.state", "F4", (3, 6)),
        ("station.state", "E0", (8,)),
        ("station.state", "E2", (5,)),
    ]
    f4 = verdicts[0]
    assert f4.severity == "critical" and "master" in f4.title
    assert f4.data["current"] == {"3": "F4", "6": "F4"}
    quiet = Thresholds(ignore_states=frozenset({"E0", "E2"}))
    assert [v.value for v in derive_verdicts(analyse(script.chunks), thresholds=quiet)] == ["F4"]


def test_an_f4_episode_that_ended_is_still_reported() -> None:
    script = Script()
    script.cycles(2, range(1, 4), states={2: 0xF4})
    script.cycles(2, range(1, 4))
    (verdict,) = derive_verdicts(analyse(script.chunks))
    assert verdict.value == "F4" and verdict.data["current"] == {"2": "A1"}


# --- the shape ------------------------------------------------------------------------------


def test_a_deeper_cause_hides_what_it_explains() -> None:
    script = Script()
    script.cycles(5, range(1, 5), silent=range(1, 5))
    chain = Chain.of(range(1, 6))
    found = keys(derive_verdicts(analyse(script.chunks, chain=chain)))
    assert found == [
        ("bus.no_answers", "silent", (1, 2, 3, 4)),
        ("bus.unpolled_addresses", "not_polled", (5,)),
    ]


def test_verdicts_are_json() -> None:
    script = Script()
    script.cycles(5, range(1, 9), silent=(4,), states={2: 0xF4})
    for verdict in derive_verdicts(analyse(duplicate_bus(10))) + derive_verdicts(
        analyse(script.chunks, chain=Chain.of(range(1, 9)))
    ):
        data = json.loads(json.dumps(verdict.to_dict()))
        assert set(data) == {"key", "value", "severity", "title", "evidence", "addresses", "data"}
        assert data["evidence"] and data["title"]


def test_a_cut_and_a_silent_station_before_it_are_two_faults() -> None:
    """3 silent with 4-8 answering (the bus passes it), 9-12 silent beyond 8 (a cut): the
    verdict is the cut, and says the station before it is silent too."""
    script = Script()
    script.cycles(5, range(1, 13), silent=(3, 9, 10, 11, 12))
    chain = Chain(
        tuple((a,) for a in range(1, 13)), labels=tuple(f"XAXXY{a:02}" for a in range(1, 13))
    )
    (verdict,) = derive_verdicts(analyse(script.chunks, chain=chain))
    assert verdict.value == "beyond_point"
    assert "between XAXXY08 and XAXXY09" in verdict.title
    assert "address 3 is silent too" in verdict.title
    assert verdict.data["isolated"] == [3]
    assert (verdict.data["cut_after_position"], verdict.data["first_silent_position"]) == (8, 9)
    assert verdict.addresses == (3, 9, 10, 11, 12)
