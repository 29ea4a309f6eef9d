"""A bus both ABL generations share, heard by an adapter that passes every character through.

pyserial opens a port with INPCK off, and then a real USB-RS485 adapter hands over a character
whose parity or stop bit is wrong as it was sampled (n_tty flags nothing without INPCK; the
8250 driver does not even report the error; a 16550 resynchronises on the next start bit). So a
listener at 38400 8E1 on a mixed site (CLU manual §9.7) receives the first generation's 8N1
text frames intact among the second generation's Modbus ASCII, and one at 8N1 the reverse.

The bytes here are what the simulated CLU and stations put on the wire (a tap on the simulated
bus, on a virtual clock), each frame handed over whole when it has ended, as such an adapter
does when the line goes quiet. The listener must name both generations' addresses, take the
other generation's frames for no station's garbage, and find a fault on each side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.bus.profile import load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock
from clu_doctor.resources import scenarios_dir
from clu_doctor.sim.line import Transmission
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import SimSite

SECOND = ("ascii", LineSettings(38400, 8, "E", 1), "defa-erange")
FIRST = ("evcc1", LineSettings(38400, 8, "N", 1), "defa-evcc1")
MIXED = scenarios_dir() / "mixed-generations.yaml"
FAULTS = scenarios_dir() / "mixed-generations-faults.yaml"


def wire(scenario: Path, seconds: float = 8.0, seed: int = 1) -> list[tuple[float, bytes]]:
    """Every frame the simulated site put on the bus in ``seconds``, as ``(end, bytes)``."""
    clock = VirtualClock()
    site = SimSite(load_scenario(scenario), seed=seed, clock=clock)
    sent: list[Transmission] = []
    transmit = site.transmit

    def tap(node: int, data: bytes, start: float, cause: str) -> Transmission:
        tx = transmit(node, data, start, cause)
        sent.append(tx)
        return tx

    site.transmit = tap  # type: ignore[method-assign]
    step = 0.005
    for tick in range(1, round(seconds / step) + 1):
        site.adapter_read(clock.advance_to(round(tick * step, 6)))
    return sorted((tx.end, tx.data) for tx in sent if tx.end <= seconds)


def heard(scenario: Path, side: tuple[str, LineSettings, str], seed: int = 1) -> ListenReport:
    framing, settings, profile = side
    analyser = TrafficAnalyser(framing, settings, load_profile(profile))
    analyser.start(0.0)
    for end, data in wire(scenario, seed=seed):
        analyser.feed(end, data)
    return analyser.finish(8.0)


@pytest.mark.parametrize("side", [SECOND, FIRST], ids=["at-8E1", "at-8N1"])
def test_both_generations_are_named_at_either_setting(side: tuple[str, LineSettings, str]) -> None:
    report = heard(MIXED, side)
    assert report.generations == {
        **dict.fromkeys((1, 2, 3, 4, 9, 10, 11, 12), 2),
        5: 1,
        6: 1,
        7: 1,
        8: 1,
    }
    states = {a.address: a.state.code for a in report.addresses if a.state is not None}
    assert states == {1: "A1", 2: "C2", 3: "A1", 4: "B2", 5: "A1", 6: "C2", 7: "A1", 8: "B2",
                      9: "A1", 10: "C2", 11: "A1", 12: "A1"}  # fmt: skip
    for entry in report.addresses:
        assert (entry.timeouts, entry.corrupt, entry.doubled, entry.foreign) == (0, 0, 0, 0)
    assert report.garbage_events == 0 and report.unattributed == 0
    assert report.frames == report.requests + report.replies
    assert not [v for v in derive_verdicts(report) if v.severity.value not in ("ok", "info")]


@pytest.mark.parametrize("side", [SECOND, FIRST], ids=["at-8E1", "at-8N1"])
def test_a_fault_on_each_side_is_found(side: tuple[str, LineSettings, str]) -> None:
    report = heard(FAULTS, side)
    seven, eleven = report.address(7), report.address(11)
    assert seven is not None and seven.generation == 1
    assert seven.state is not None and seven.state.code == "F5"
    assert eleven is not None and eleven.polls and not eleven.answers and eleven.timeouts
    verdicts = derive_verdicts(report)
    states = [v for v in verdicts if v.key == "station.state"]
    assert any(7 in v.addresses for v in states)
    silent = [v for v in verdicts if v.key == "bus.silent_addresses"]
    assert [a for v in silent for a in v.addresses] == [11]
    assert not [v for v in verdicts if v.key == "bus.duplicate_address"]


def test_a_duplicate_among_the_first_generation_is_still_found(tmp_path: Path) -> None:
    """Two first-generation controllers at 6: both answer every poll, heard whole at 8E1."""
    text = MIXED.read_text(encoding="utf-8")
    old = "{label: XAXXY07, address: 7,"
    assert old in text
    path = tmp_path / "site.yaml"
    path.write_text(text.replace(old, "{label: XAXXY07, address: 6,"), encoding="utf-8")
    report = heard(path, SECOND)
    duplicates = [v for v in derive_verdicts(report) if v.key == "bus.duplicate_address"]
    assert [a for v in duplicates for a in v.addresses] == [6]
