"""The address scan and the end-of-bus analysis against every relevant simulated scenario.

The sites run in-process behind ``sim://`` on the test's virtual clock (no wire time: the logic
is the subject here, the timing is benchmarks/scan.py's); the path a real tool takes, behind a
pty, is in tests/live/test_probes_live.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.bus.chain import analyse_chain
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.scan import AddressScan, ScanResult, scan, scan_order
from clu_doctor.bus.profile import DeviceProfile, Timing, load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim import register_url_handler

BUNDLED = load_profile("defa-erange")
# The simulated controllers answer within 3 +/- 1 ms; the bundled 300 ms floor is for real
# hardware and would only make silent addresses slow here.
PROFILE = dataclasses.replace(BUNDLED, timing=Timing(0.001, 0.003, 0.05))
RTU_PROFILE = dataclasses.replace(PROFILE, framing="rtu", line=LineSettings.parse("9600 8N1"))
TWELVE = tuple(range(1, 13))


@pytest.fixture(autouse=True, scope="module")
def _sim_urls() -> None:
    register_url_handler()


@pytest.fixture
def probe() -> Iterator[Any]:
    """``probe(scenario, *addresses, query=..., **scan_options)`` -> ScanResult (CLU unplugged)."""
    links: list[Link] = []

    def run(
        scenario: str,
        addresses: Any = range(1, 17),
        *,
        query: str = "clu=0",
        profile: DeviceProfile = PROFILE,
        **options: Any,
    ) -> ScanResult:
        link = Link.open(f"sim://{scenario}?wire_time=0&{query}", profile.line, profile.framing)
        links.append(link)
        options.setdefault("listen_s", 0.2)
        options.setdefault("listen_max_s", 0.5)
        return scan(link, profile, addresses, **options)

    yield run
    for link in links:
        link.close()


def serials(result: ScanResult) -> dict[int, str | None]:
    return {r.address: r.identity.serial for r in result.results if r.identity}


# --- healthy sites ---------------------------------------------------------------------------------


def test_healthy_16_every_station_answers_with_its_identity_and_state(probe: Any) -> None:
    result = probe("healthy-16", expected=range(1, 17))
    assert result.answered == tuple(range(1, 17))
    assert result.missing == () and result.silent == () and result.unexpected == ()
    assert serials(result) == {a: f"DF2301{a:02d}" for a in range(1, 17)}
    first = result.get(1)
    assert first is not None and first.identity is not None
    assert first.identity.device_type == "2W22M1"
    states = {r.address: r.state for r in result.results}
    assert states[2] == "C2" and states[4] == "B2" and states[1] == "A1"
    assert all(r.errors == dict.fromkeys(r.errors, 0) for r in result.results)
    assert all(len(r.attempts) == 2 for r in result.results)  # identity + status


def test_healthy_duo_8_all_sixteen_controllers_answer(probe: Any) -> None:
    result = probe("healthy-duo-8", expected=range(1, 17))
    assert result.answered == tuple(range(1, 17))
    assert len(set(serials(result).values())) == 16
    identity = result.get(2).identity
    assert identity is not None and identity.device_type == "2W22D1"


def test_the_bundled_profiles_floor_is_only_the_first_guess(probe: Any) -> None:
    """The profile's 300 ms is an assumption for unknown hardware: it sets the wait until
    something has answered. Then the bus's own answers set it."""
    result = probe("healthy-16", [1, 2, 3], profile=BUNDLED, query="clu=0&wire_time=1")
    assert result.answered == (1, 2, 3)
    first, *rest = result.attempts
    assert first.timeout_s == first.first_byte_timeout_s == 0.6  # 2 x the profile's floor
    timeout = result.timeout
    assert timeout["initial_s"] == 0.6 and timeout["floor_s"] < 0.01
    for attempt in rest:
        assert attempt.first_byte_timeout_s is not None and attempt.first_byte_timeout_s < 0.05
        assert attempt.timeout_s < 0.1


def test_the_timeout_adapts_after_the_first_answer(probe: Any) -> None:
    # With wire time, so that a reply takes time (on the virtual clock nothing else does).
    result = probe("unpowered-station", [4, 1, 2], query="clu=0&wire_time=1", timeout=0.2)
    attempts = result.attempts
    assert attempts[0].address == 4 and attempts[0].timeout_s == 0.2  # nothing answered yet
    assert attempts[0].outcome == "no_answer"
    assert attempts[1].timeout_s == 0.2  # address 1's identity: the first to answer
    first = attempts[1].first_byte_s
    assert first is not None and 0 < first < attempts[1].elapsed_s
    # From then on: the reply must begin within the longest first byte seen and a margin
    # (1 ms, a character or a tenth of it; twice that while fewer than eight answers have
    # been seen), and end within 1.5 x the longest reply + 10 ms.
    margin = 2 * max(0.001, PROFILE.line.char_time, 0.1 * first)
    assert attempts[2].first_byte_timeout_s == pytest.approx(first + margin)
    assert attempts[2].timeout_s == pytest.approx(
        max(first + margin, 1.5 * attempts[1].elapsed_s + 0.01)
    )
    assert result.timeout["longest_reply_s"] > 0


def test_a_station_slower_than_the_deadline_is_read_again_and_learned(tmp_path: Path) -> None:
    """Three fast stations set a tight deadline; address 12 answers ten times slower. Its
    answer comes after the deadline (and collides with the next request, garbled), so the
    silent addresses just before are read again, waiting as long as that answer took: 12 is
    found, and its turnaround learned for the rest of the scan."""
    site = tmp_path / "slow.yaml"
    site.write_text(SLOW_TWELVE)
    link = Link.open(f"sim://{site}?clu=0", PROFILE.line, PROFILE.framing)
    with link:
        result = scan(link, PROFILE, [1, 2, 3, 12, *range(13, 30)], listen_s=0.2)
    assert result.answered == (1, 2, 3, 12)
    twelve = result.get(12)
    assert twelve is not None and twelve.identity is not None
    assert [a.outcome for a in twelve.attempts] == ["no_answer", "ok", "ok"]
    assert result.timeout["late_answers"] == 1
    assert result.timeout["longest_first_byte_s"] > 0.02  # 30 ms turnaround, learned
    # once learned, the deadline covers it
    assert twelve.attempts[-1].first_byte_timeout_s is not None
    assert twelve.attempts[-1].first_byte_timeout_s > result.timeout["longest_first_byte_s"]
    assert all(a.outcome != "wrong_address" for a in result.attempts)


SLOW_TWELVE = """
description: three fast stations and one ten times slower
bus: {framing: ascii, line: 38400 8E1, cable_m: 40, termination: both}
clu: {present: false}
defaults: {model: eRange UNO, type: 2W22M1, turnaround_ms: 3, jitter_ms: 1}
stations:
  - {label: XAXXY01, address: 1, serial: DF230101}
  - {label: XAXXY02, address: 2, serial: DF230102}
  - {label: XAXXY03, address: 3, serial: DF230103}
  - {label: XAXXY12, address: 12, serial: DF230112, turnaround_ms: 30, jitter_ms: 5}
"""


# --- order, retries, early stop, progress ------------------------------------------------------


def test_expected_addresses_come_first_then_the_rest() -> None:
    assert scan_order(range(1, 9), [5, 3]) == (5, 3, 1, 2, 4, 6, 7, 8)
    assert scan_order([2, 2, 1], [9]) == (9, 2, 1)
    with pytest.raises(ValueError):
        scan_order([0])
    with pytest.raises(ValueError):
        scan_order([248])


def test_silent_expected_addresses_are_retried_others_are_not(probe: Any) -> None:
    result = probe("unpowered-station", range(1, 9), expected=[4, 5], retries=2)
    assert result.order[:2] == (4, 5)
    four = result.get(4)
    assert four is not None and not four.answered and four.expected
    assert [a.outcome for a in four.attempts] == ["no_answer"] * 3
    assert four.errors["no_answer"] == 3
    assert result.missing == (4,)
    unpowered = probe("unpowered-station", [4], retries_other=1)
    assert len(unpowered.get(4).attempts) == 2


def test_stop_when_every_expected_station_answered(probe: Any) -> None:
    result = probe("healthy-16", range(1, 248), expected=range(1, 17), stop_when_expected=True)
    assert [r.address for r in result.results] == list(range(1, 17))
    assert result.stopped_early
    assert result.skipped == tuple(range(17, 248))


def test_no_early_stop_while_an_expected_station_is_silent(probe: Any) -> None:
    result = probe(
        "unpowered-station", range(1, 11), expected=range(1, 9), stop_when_expected=True, retries=0
    )
    assert not result.stopped_early
    assert [r.address for r in result.results] == list(range(1, 11))


def test_progress_is_reported_after_every_address(probe: Any) -> None:
    calls: list[tuple[int, int, int]] = []
    probe("healthy-16", range(1, 6), expected=[3], progress=lambda *args: calls.append(args))
    assert calls == [(1, 5, 3), (2, 5, 1), (3, 5, 2), (4, 5, 4), (5, 5, 5)]


def test_bad_arguments(probe: Any) -> None:
    with pytest.raises(ValueError):
        probe("healthy-16", [1], retries=-1)


# --- faults -------------------------------------------------------------------------------------


def test_duplicate_address_1_does_not_read_cleanly_and_9_is_silent(probe: Any) -> None:
    result = probe("duplicate-address", expected=range(1, 17), retries=0)
    assert 9 in result.missing and 9 in result.silent
    assert set(result.missing) <= {1, 9}
    one = result.get(1)
    assert one is not None and one.responded  # two replies at once: something came back
    assert set(result.answered) >= set(range(2, 17)) - {9}


@pytest.mark.parametrize(
    ("adapter_at", "answered"), [("clu", tuple(range(1, 7))), ("end", tuple(range(7, 13)))]
)
def test_cable_break_is_localised_from_both_ends(
    probe: Any, adapter_at: str, answered: tuple[int, ...]
) -> None:
    result = probe(
        "cable-break", TWELVE, expected=TWELVE, retries=0, query=f"clu=0&at={adapter_at}"
    )
    assert result.answered == answered
    chain = analyse_chain(TWELVE, adapter_at, set(result.answered))
    assert chain.verdict == "break"
    assert chain.segment == (6, 7)  # between XAXXY06's BUS OUT and XAXXY07's BUS IN
    assert chain.segment_addresses == ((6,), (7,))


def test_unpowered_station_is_one_silent_station_with_its_neighbours_fine(probe: Any) -> None:
    chain_addresses = tuple(range(1, 9))
    result = probe("unpowered-station", chain_addresses, expected=chain_addresses, retries=1)
    assert result.missing == (4,)
    chain = analyse_chain(chain_addresses, "clu", set(result.answered))
    assert chain.verdict == "station"
    assert chain.isolated == (4,)
    from_end = probe("unpowered-station", chain_addresses, query="clu=0&at=end", retries=0)
    assert analyse_chain(chain_addresses, "end", set(from_end.answered)).verdict == "station"


def test_clu_usb_dead_the_bus_is_quiet_and_every_station_answers(probe: Any) -> None:
    result = probe("clu-usb-dead", range(1, 9), query="")  # the CLU is on the bus, but mute
    assert result.lbt is not None and result.lbt.quiet
    assert result.answered == tuple(range(1, 9))
    assert analyse_chain(range(1, 9), "clu", set(result.answered)).verdict == "ok"


def test_a_station_in_f4_reports_its_state(probe: Any) -> None:
    result = probe("station-f4", [7])
    seven = result.get(7)
    assert seven is not None and seven.status is not None
    assert seven.state == "F4"
    assert seven.status.severity == "critical"


def test_rtu_stations_are_scanned_in_rtu(probe: Any) -> None:
    result = probe("healthy-rtu-4", range(1, 9), profile=RTU_PROFILE)
    assert result.framing == "rtu"
    assert result.answered == (1, 2, 3, 4)
    assert result.get(2).state == "C2"


def test_a_device_of_another_type_answers_but_is_not_identified(probe: Any) -> None:
    meter = dataclasses.replace(load_profile("modbus-meter"), timing=PROFILE.timing)
    # The meter profile reads input registers 0-1; the ABL station emulation does not have them
    # and stays silent, as an ABL controller does.
    result = probe("healthy-rtu-4", [1], profile=meter)
    assert result.answered == ()
    # The other way round: the station profile's identity read to an energy meter gets an
    # exception ("illegal data address"): a device is there, just not a charge controller.
    stations = dataclasses.replace(RTU_PROFILE, status=None)
    result = probe("meter-bus-duplicate", [2], profile=stations)
    two = result.get(2)
    assert two is not None and two.answered and two.identity is None
    assert two.errors["exception"] == 1
    assert two.attempts[0].exception_code == 2


# --- evidence -------------------------------------------------------------------------------------


def test_to_dict_carries_the_raw_evidence(probe: Any) -> None:
    result = probe("unpowered-station", [3, 4], expected=[3, 4], retries=0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["answered"] == [3] and data["missing"] == [4]
    three = data["addresses"][0]
    assert three["identity"]["serial"] == "DF230103"
    assert three["status"]["state"] == "A1"
    first = three["attempts"][0]
    assert first["request"] == ":030300500008A2\\r\\n"  # abl-protocol.md example 2a
    assert first["reply"].startswith(">03031050")
    assert first["outcome"] == "ok"
    four = data["addresses"][1]
    assert four["errors"] == {
        "no_answer": 1,
        "corrupt": 0,
        "unexpected": 0,
        "exception": 0,
        "wrong_address": 0,
    }
    assert four["attempts"][0]["error"].startswith("address 4: no answer")
    assert data["lbt"]["verdict"] == "quiet"


def test_address_scan_properties() -> None:
    empty = AddressScan(5, False, False, None, None, ())
    assert not empty.responded and empty.state is None and empty.response_times == ()
