"""Listening through real endpoints: every scenario over a pty and over ``sim://``, and proof that
listening never writes a byte.

Each scenario runs on two simulated sites at once, one behind a real pseudo-terminal (the path a
technician's USB adapter takes, a kernel tty and the simulator's pump thread in between) and one
in-process through the ``sim://`` URL handler, each read by :func:`listen` through a
:class:`Link`. Simulated time runs ``SCALE`` times faster than the clock, so a listen of a second
and a half covers several CLU poll cycles; the verdicts' silence threshold is scaled to match.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import serial

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.bus.errors import PortVanished
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.recording import Recorder, replay
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.verdicts import Thresholds, derive_verdicts
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.endpoints import serve
from clu_doctor.sim.scenario_reader import load_scenario
from tests.bus.conftest import SocatPair
from tests.bus.listen.support import (
    ABL,
    ABL_LINE,
    EXPECTED,
    SILENT_SCENARIOS,
    Script,
    mismatches,
    planned_chain,
    profile_for,
)

register_url_handler()

SCALE = 5
SECONDS = 1.2
#: Silent scenarios listen longer than the (scaled) silence threshold, so "no traffic" can be said.
SILENT_SECONDS = 2.2
#: 10 s of simulated time: a pump stalled by a loaded machine never looks like a silent CLU.
THRESHOLDS = Thresholds(silence_s=10.0 / SCALE)


class CountingSerial:
    """A pyserial port that counts every byte anyone asks it to write."""

    def __init__(self, port: Any) -> None:
        self.port = port
        self.written = 0
        self.write_calls = 0

    @property
    def in_waiting(self) -> int:
        return int(self.port.in_waiting)

    def read(self, size: int = 1) -> bytes:
        return bytes(self.port.read(size))

    def write(self, data: bytes) -> int:
        self.write_calls += 1
        self.written += len(data)
        return int(self.port.write(data))

    def flush(self) -> None:
        self.port.flush()

    def reset_input_buffer(self) -> None:
        self.port.reset_input_buffer()

    def close(self) -> None:
        self.port.close()


def sim_url(scenario: str, at: AdapterAt, seed: int) -> str:
    return f"sim://{scenario}?time_scale={SCALE}&seed={seed}&at={at}"


def open_counting(url: str, scenario: str) -> tuple[Link, CountingSerial]:
    """A link on ``url`` whose serial object counts writes (built the way Link.open builds one)."""
    bus = load_scenario(scenario).bus
    handle = serial.serial_for_url(
        url,
        baudrate=bus.settings.baudrate,
        bytesize=bus.settings.bytesize,
        parity=bus.settings.parity,
        stopbits=int(bus.settings.stopbits),
        timeout=0.02,
    )
    counting = CountingSerial(handle)
    return Link(url, counting, bus.settings, bus.framing), counting


def listen_both(
    scenario: str, at: AdapterAt, seconds: float, seed: int = 3
) -> dict[str, tuple[ListenReport, int]]:
    """Listen to the scenario over a pty and over sim:// at the same time.

    Returns, per path, the report and the bytes the site received from the adapter."""
    bus = load_scenario(scenario).bus
    chain = planned_chain(scenario, at)
    results: dict[str, tuple[ListenReport, int]] = {}
    failures: list[BaseException] = []

    def analyser() -> TrafficAnalyser:
        return TrafficAnalyser(bus.framing, bus.settings, profile_for(scenario), chain)

    def in_process() -> None:
        try:
            link, counting = open_counting(sim_url(scenario, at, seed), scenario)
            with link:
                report = listen(link, seconds, analyser())
            results["sim://"] = (report, counting.written + link.bytes_sent)
        except BaseException as error:  # handed to the main thread
            failures.append(error)

    thread = threading.Thread(target=in_process)
    with serve(scenario, tcp=False, time_scale=SCALE, seed=seed, adapter_at=at) as server:
        thread.start()
        try:
            assert server.pty is not None
            with Link.open(server.pty, bus.settings, bus.framing) as link:
                report = listen(link, seconds, analyser())
            results["pty"] = (report, server.site.adapter.bytes_sent + link.bytes_sent)
        finally:
            thread.join()
    if failures:
        raise failures[0]
    return results


@pytest.mark.parametrize(("scenario", "at"), sorted(EXPECTED))
def test_each_scenario_through_a_pty_and_in_process(scenario: str, at: AdapterAt) -> None:
    silent = (scenario, at) in SILENT_SCENARIOS
    results = listen_both(scenario, at, SILENT_SECONDS if silent else SECONDS)
    for path, (report, written) in results.items():
        assert written == 0, f"{path}: listening wrote {written} bytes"
        problems = mismatches(
            derive_verdicts(report, thresholds=THRESHOLDS), EXPECTED[scenario, at]
        )
        assert problems == [], (path, report.to_dict()["bus"])
        assert report.finished and report.seconds >= (SILENT_SECONDS if silent else SECONDS)
        assert (report.bytes == 0) == silent, path


def test_listening_writes_zero_bytes() -> None:
    """The proof, three ways: the serial object's write is never called, the link counts no
    byte sent, and the simulated bus never hears the adapter transmit."""
    url = "sim://healthy-16?time_scale=5&seed=1"
    link, counting = open_counting(url, "healthy-16")
    site = counting.port.site
    with link:
        report = listen(link, 1.0, TrafficAnalyser("ascii", ABL_LINE, ABL))
    assert report.frames > 0
    assert (counting.write_calls, counting.written, link.bytes_sent) == (0, 0, 0)
    assert site.adapter.bytes_sent == 0


def test_unplugged_while_listening_keeps_what_was_heard(
    socat_pair: SocatPair, tmp_path: Path
) -> None:
    """The adapter vanishes mid-listen: PortVanished propagates, and the analyser's report and
    the recording up to that moment survive (and replay to the same report)."""
    script = Script()
    script.cycles(3, range(1, 5))
    traffic = b"".join(data for _, data in script.chunks)
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    heard: list[bytes] = []
    capture = tmp_path / "capture.cdr"

    with open(socat_pair.b, "wb", buffering=0) as far_end:

        def on_chunk(t: float, data: bytes) -> None:
            heard.append(data)
            if sum(map(len, heard)) >= len(traffic):
                socat_pair.kill()  # pull the plug once everything arrived

        with Link.open(socat_pair.a, ABL_LINE, "ascii") as link:
            far_end.write(traffic)
            recorder = Recorder.create(
                capture,
                port=socat_pair.a,
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
