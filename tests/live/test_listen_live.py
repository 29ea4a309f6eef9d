"""Listening through real endpoints: a pty, a linked pty pair pulled out mid-listen, and the
line-setting search reopening a pty.

A simulated site behind a real pseudo-terminal is the path a technician's USB adapter takes: a
kernel tty and the simulator's pump thread in between, all on the wall clock. Simulated time
runs ``SCALE`` times faster than the clock, so a listen of a second covers several CLU poll
cycles; the verdicts' silence threshold is scaled to match. Every scenario, and the proof that
listening writes nothing, run through ``sim://`` on the virtual clock in
tests/bus/listen/test_session.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.bus.errors import PortVanished
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.detect import detect_line_settings
from clu_doctor.bus.listen.recording import Recorder, replay
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.verdicts import Thresholds, derive_verdicts
from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.endpoints import serve
from clu_doctor.sim.scenario_reader import load_scenario
from tests.bus.conftest import LinkedPtys
from tests.bus.listen.support import (
    ABL,
    ABL_LINE,
    EXPECTED,
    Script,
    mismatches,
    planned_chain,
    profile_for,
)

SCALE = 5
SECONDS = 1.2
#: 10 s of simulated time: a pump stalled by a loaded machine never looks like a silent CLU.
THRESHOLDS = Thresholds(silence_s=10.0 / SCALE)


def test_a_scenario_through_a_pty() -> None:
    scenario, at, seed = "cable-break", "clu", 3
    bus = load_scenario(scenario).bus
    analyser = TrafficAnalyser(
        bus.framing, bus.settings, profile_for(scenario), planned_chain(scenario, at)
    )
    with serve(scenario, tcp=False, time_scale=SCALE, seed=seed, adapter_at=at) as server:
        assert server.pty is not None
        with Link.open(server.pty, bus.settings, bus.framing) as link:
            report = listen(link, SECONDS, analyser)
        written = server.site.adapter.bytes_sent + link.bytes_sent
    assert written == 0, f"listening wrote {written} bytes"
    problems = mismatches(derive_verdicts(report, thresholds=THRESHOLDS), EXPECTED[scenario, at])
    assert problems == [], report.to_dict()["bus"]
    assert report.finished and report.seconds >= SECONDS
    assert report.bytes > 0


def test_detection_through_a_real_pty() -> None:
    with serve("healthy-16", tcp=False, time_scale=SCALE, seed=5) as server:
        assert server.pty is not None
        port = server.pty

        def open_link(settings: LineSettings, framing: str) -> Link:
            return Link.open(port, settings, framing)

        found = detect_line_settings(open_link, window=0.25)
        sent = server.site.adapter.bytes_sent
    assert (found.settings, found.framing) == (ABL_LINE, "ascii")
    assert len({c.settings for c in found.candidates}) == 7  # 9600 E/N/O, 19200 E/N/O, 38400 E
    assert sent == 0


def test_unplugged_while_listening_keeps_what_was_heard(
    linked_ptys: LinkedPtys, tmp_path: Path
) -> None:
    """The adapter vanishes mid-listen: PortVanished propagates, and the analyser's report and
    the recording up to that moment survive (and replay to the same report)."""
    script = Script()
    script.cycles(3, range(1, 5))
    traffic = b"".join(data for _, data in script.chunks)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    heard: list[bytes] = []
    capture = tmp_path / "capture.cdr"

    with open(linked_ptys.b, "wb", buffering=0) as far_end:

        def on_chunk(t: float, data: bytes) -> None:
            heard.append(data)
            if sum(map(len, heard)) >= len(traffic):
                linked_ptys.kill()  # pull the plug once everything arrived

        with Link.open(linked_ptys.a, ABL_LINE, "ascii") as link:
            far_end.write(traffic)
            recorder = Recorder.create(
                capture,
                port=linked_ptys.a,
                settings=ABL_LINE,
                framing="ascii",
                profile="defa-erange",
            )
            with pytest.raises(PortVanished), recorder:
                listen(link, 30.0, analyser, on_chunk=on_chunk, recorder=recorder)
    report = analyser.snapshot()
    assert report.finished and report.requests == report.replies == 12
    assert all(entry.answers == 3 for entry in report.addresses)
    replayed = replay(capture)
    assert replayed.report.to_dict() == report.to_dict()
    assert replayed.warnings == ()  # the recorder was closed on the way out
