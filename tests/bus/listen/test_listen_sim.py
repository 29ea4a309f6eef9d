"""Every bundled scenario, listened to on a virtual clock: the verdicts a technician would get.

The simulated site is driven directly (no endpoint, no thread) with a clock the test owns, so
these runs are exact and repeatable, and cover several seeds and whole CLU boots cheaply. The
same scenarios through a real pty and ``sim://`` are in ``test_listen_live.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.resources import scenarios_dir
from tests.bus.listen.support import EXPECTED, SILENT_SCENARIOS, mismatches, planned_chain, simulate

CASES = sorted(EXPECTED)
SCENARIOS = scenarios_dir()
SECONDS = 8.0


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("scenario", "at"), CASES)
def test_each_scenario_yields_its_verdicts(scenario: str, at: AdapterAt, seed: int) -> None:
    chain = planned_chain(scenario, at)
    report = simulate(scenario, SECONDS, at=at, seed=seed, chain=chain)
    problems = mismatches(derive_verdicts(report), EXPECTED[scenario, at])
    assert problems == [], report.to_dict()["bus"]
    if (scenario, at) not in SILENT_SCENARIOS:
        assert report.bytes > 0


@pytest.mark.parametrize(("scenario", "at"), [("healthy-16", "clu"), ("cable-break", "clu")])
def test_without_the_chain_the_verdicts_do_not_place_stations(scenario: str, at: AdapterAt) -> None:
    verdicts = derive_verdicts(simulate(scenario, SECONDS, at=at))
    assert all(v.value in ("no_chain",) for v in verdicts if v.key == "bus.silent_addresses")
    assert [v.key for v in verdicts if v.key == "bus.unpolled_addresses"] == []


def test_the_station_the_clu_never_polls_is_found_only_with_the_site() -> None:
    assert derive_verdicts(simulate("station-f4", SECONDS)) == []


def test_a_booting_clu_is_silent_for_150_s_then_polls() -> None:
    report = simulate("clu-booting", 160.0, step=0.01)
    (verdict,) = derive_verdicts(report)
    assert (verdict.key, verdict.value) == ("bus.polling", "started_late")
    assert verdict.data["silent_s"] == pytest.approx(150.0, abs=0.1)
    assert report.requests > 0 and report.writes_seen > 0  # identity reads, Icmax writes
    assert all(entry.identity for entry in report.addresses)


def test_the_same_seed_gives_the_same_report() -> None:
    first = simulate("duplicate-address", 4.0, seed=7)
    again = simulate("duplicate-address", 4.0, seed=7)
    assert first.to_dict() == again.to_dict()


def test_the_duplicate_site_shows_the_second_controller() -> None:
    report = simulate("duplicate-address", SECONDS, chain=planned_chain("duplicate-address"))
    one = report.address(1)
    assert one is not None and one.anomalies >= one.answers
    silent = next(v for v in derive_verdicts(report) if v.key == "bus.silent_addresses")
    assert any("may be set to that address" in line for line in silent.evidence)


def test_a_listener_at_the_wrong_settings_hears_only_garbage() -> None:
    from clu_doctor.bus.settings import LineSettings

    report = simulate("healthy-16", 4.0, settings=LineSettings(19200, 8, "N", 1))
    (verdict,) = derive_verdicts(report)
    assert (verdict.key, verdict.value) == ("bus.undecodable", "at_this_setting")


def test_state_codes_the_clu_reads_from_its_stations(tmp_path: Path) -> None:
    """A site where the CLU does poll a station in F4 and one left in setup mode (E2)."""
    text = SCENARIOS.joinpath("station-f4.yaml").read_text(encoding="utf-8")
    text = text.replace("  addresses: 1-6,8\n", "")
    text = text.replace("serial: DF230103, state: A1", "serial: DF230103, state: E2")
    path = tmp_path / "states.yaml"
    path.write_text(text, encoding="utf-8")
    report = simulate(str(path), SECONDS)
    found = [(v.key, v.value, v.addresses) for v in derive_verdicts(report)]
    assert found == [("station.state", "F4", (7,)), ("station.state", "E2", (3,))]


def test_stations_silent_beyond_a_point_while_the_bus_reaches_the_far_end(tmp_path: Path) -> None:
    """Stations 4-8 without power, the adapter at the far end: it hears the CLU clearly."""
    text = SCENARIOS.joinpath("unpowered-station.yaml").read_text(encoding="utf-8")
    for label in ("XAXXY05", "XAXXY06", "XAXXY07", "XAXXY08"):
        text = text.replace(f"{{label: {label}, ", f"{{label: {label}, powered: false, ")
    path = tmp_path / "breaker.yaml"
    path.write_text(text, encoding="utf-8")
    chain = planned_chain(str(path), "end")
    report = simulate(str(path), SECONDS, at="end", chain=chain)
    silent = next(v for v in derive_verdicts(report) if v.key == "bus.silent_addresses")
    assert (silent.value, silent.addresses) == ("beyond_point_bus_intact", (4, 5, 6, 7, 8))


def test_from_the_far_end_a_cut_cannot_be_told_from_a_silent_clu() -> None:
    chain = planned_chain("cable-break", "end")
    (verdict,) = derive_verdicts(simulate("cable-break", SECONDS, at="end", chain=chain))
    assert verdict.value == "none"
    assert any("listen at the CLU end" in line for line in verdict.evidence)
