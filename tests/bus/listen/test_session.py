"""Listening through a :class:`Link` on ``sim://``: every scenario, and proof that listening
never writes a byte.

Each scenario is opened in-process through the ``sim://`` URL handler and read by
:func:`listen` through a :class:`Link`, on the test's virtual clock: a listen of several CLU poll
cycles costs only the CPU it takes. tests/live/test_listen_live.py does the same through a real
pseudo-terminal.
"""

from __future__ import annotations

import pytest

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.verdicts import Thresholds, derive_verdicts
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.scenario_reader import load_scenario
from tests.bus.fakes import SpySerial, spied_link
from tests.bus.listen.support import (
    ABL,
    ABL_LINE,
    EXPECTED,
    SILENT_SCENARIOS,
    mismatches,
    planned_chain,
    profile_for,
)

register_url_handler()

SECONDS = 6.0
#: Silent scenarios listen longer than the silence threshold, so "no traffic" can be said.
SILENT_SECONDS = 11.0
THRESHOLDS = Thresholds(silence_s=10.0)


def open_counting(url: str, scenario: str) -> tuple[Link, SpySerial]:
    """A link on ``url`` at the scenario's line settings whose serial object records writes."""
    bus = load_scenario(scenario).bus
    return spied_link(url, bus.settings, bus.framing)


@pytest.mark.parametrize(("scenario", "at"), sorted(EXPECTED))
def test_each_scenario_through_sim_urls(scenario: str, at: AdapterAt) -> None:
    silent = (scenario, at) in SILENT_SCENARIOS
    seconds = SILENT_SECONDS if silent else SECONDS
    bus = load_scenario(scenario).bus
    analyser = TrafficAnalyser(
        bus.framing, bus.settings, profile_for(scenario), planned_chain(scenario, at)
    )
    link, counting = open_counting(f"sim://{scenario}?seed=3&at={at}", scenario)
    with link:
        report = listen(link, seconds, analyser)
    written = sum(map(len, counting.writes)) + link.bytes_sent
    assert written == 0, f"listening wrote {written} bytes"
    problems = mismatches(derive_verdicts(report, thresholds=THRESHOLDS), EXPECTED[scenario, at])
    assert problems == [], report.to_dict()["bus"]
    assert report.finished and report.seconds >= seconds
    assert (report.bytes == 0) == silent


def test_listening_writes_zero_bytes() -> None:
    """The proof, three ways: the serial object's write is never called, the link counts no
    byte sent, and the simulated bus never hears the adapter transmit."""
    url = "sim://healthy-16?seed=1"
    link, counting = open_counting(url, "healthy-16")
    site = counting.inner.site
    with link:
        report = listen(link, 5.0, TrafficAnalyser("ascii", ABL_LINE, ABL))
    assert report.frames > 0
    assert (len(counting.writes), sum(map(len, counting.writes)), link.bytes_sent) == (0, 0, 0)
    assert site.adapter.bytes_sent == 0
