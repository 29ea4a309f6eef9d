"""The control-pilot read (clu_doctor.bus.probes.pilot) against the simulator, virtual clock."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.pilot import read_pilots
from clu_doctor.bus.profile import PilotReading, Timing, load_profile
from clu_doctor.sim import register_url_handler

register_url_handler()

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))


def read(url: str, addresses: range) -> dict[int, PilotReading | None]:
    with Link.open(url, PROFILE.line, PROFILE.framing) as link:
        found = read_pilots(link, PROFILE, addresses, timeout=0.1, first_byte=0.05, force=True)
        assert link.bytes_sent > 0
    return dict(found)


def test_every_pilot_of_a_healthy_site_sits_on_its_states_level() -> None:
    found = read("sim://unpowered-station?clu=0&seed=1", range(1, 9))
    assert found[4] is None  # the unpowered station: no answer, not judged
    readings = {a: r for a, r in found.items() if r is not None}
    assert set(readings) == {1, 2, 3, 5, 6, 7, 8}
    assert not any(r.off_level for r in readings.values())
    levels = {(r.state or "?")[:1]: round(r.cp_plus_v) for r in readings.values()}
    assert levels == {"A": 12, "C": 6}


def test_a_pilot_off_its_level_is_found_at_its_address() -> None:
    found = read(f"sim://{SCENARIOS / 'pilot-off-level.yaml'}?clu=0&seed=1", range(1, 7))
    off = [a for a, r in found.items() if r is not None and r.off_level]
    assert off == [5]


def test_a_profile_without_a_pilot_block_reads_nothing() -> None:
    evcc1 = load_profile("defa-evcc1")
    assert evcc1.pilot is None
    with Link.open("sim://healthy-evcc1-8?clu=0", evcc1.line, evcc1.framing) as link:
        assert read_pilots(link, evcc1, range(1, 9), timeout=0.1, force=True) == {}
        assert link.bytes_sent == 0
