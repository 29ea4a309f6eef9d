"""One probing session on a simulated site, in-process: what runs, on which chain, how often.

The sites run behind the simulator's in-process port without wire time, opened from a scenario
read once (as ``--sim`` does); the controllers answer within a few ms, so the profile's timing
is shortened to match.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.listen.detect import DETECT_WINDOW_S
from clu_doctor.bus.profile import Timing, load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.engine import load_rulebook
from clu_doctor.probing import BusPlan, BusProber, resolve_observations
from clu_doctor.probing import prober as prober_module
from clu_doctor.sim.protocol_sim import parse_options, simulated_port
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.site_plan import site_for

PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))


def plan(scenario: str, query: str, **changes: Any) -> BusPlan:
    options = parse_options(scenario, query)
    read = load_scenario(scenario).with_changes(adapter_at=options.at, clu_present=options.clu)
    return BusPlan(
        **{
            "port": options.url,
            "profile": PROFILE,
            "site": site_for(read),
            "listen_s": 0.5,
            "opener": lambda: simulated_port(read, options),
            **changes,
        }
    )


def test_one_chain_serves_the_listen_and_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Chain | None] = []
    real = prober_module.site_chain

    def counting(site: Any) -> Chain | None:
        built.append(real(site))
        return built[-1]

    monkeypatch.setattr(prober_module, "site_chain", counting)
    with BusProber(plan("cable-break", "wire_time=0&clu=0")) as prober:
        assert prober.traffic() == "off-bus"  # the site file says the CLU is disconnected
        observations = prober.resolve(load_rulebook().vocabulary.spec("bus.reach"))
        listened = prober.listened
        scanned = prober.scan_result
    assert len(built) == 1 and built[0] is prober.chain
    assert listened is not None and listened.report.chain is prober.chain
    assert scanned is not None and set(scanned.missing) == set(range(7, 13))
    reach = observations["bus.reach"]
    assert (reach.value, reach.detail) == ("break", "bus.end_of_bus")
    chain = prober.chain_result(scanned)
    assert chain is not None and chain.evidence == reach.evidence


def test_every_opening_starts_from_the_scenario_already_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import clu_doctor.sim.scenario_reader as scenario_module

    read: list[str] = []
    parse = scenario_module.parse_scenario

    def counting(text: str, source: str, name: str | None = None) -> Any:
        read.append(source)
        return parse(text, source, name)

    the_plan = plan("healthy-16", "wire_time=0&clu=0", site=None)
    opened: list[object] = []
    opener: Callable[[], Any] | None = the_plan.opener
    assert opener is not None

    def counting_opener() -> Any:
        opened.append(opener())
        return opened[-1]

    monkeypatch.setattr(scenario_module, "parse_scenario", counting)
    with BusProber(dataclasses.replace(the_plan, opener=counting_opener)) as prober:
        prober.listen()
        result = prober.read_addresses((1, 2, 3))
    assert result.answered == (1, 2, 3)
    assert len(opened) == 1 and read == []


def test_the_active_probes_wait_for_a_quiet_bus() -> None:
    with BusProber(plan("healthy-16", "wire_time=0")) as prober:
        assert prober.traffic() == "polling"
        allowed, why = prober.may_transmit()
        assert not allowed and "listen-before-talk" in why
        assert prober.scan() is None and prober.duplicates() is None
        assert prober.evidence()["active_probes"] == why


def test_a_walk_of_the_trees_gets_every_bus_answer_it_needs() -> None:
    rulebook = load_rulebook()
    observations: dict[str, Any] = {}
    # twenty simulated seconds of polls in one real second: enough for silence to count
    with BusProber(plan("cable-break", "wire_time=0&time_scale=20", listen_s=1.0)) as prober:
        resolve_observations(rulebook, observations, prober.resolve)
    assert observations["bus.traffic"].value == "polling"
    assert observations["bus.reach"].value == "break"
    assert observations["bus.reach"].detail == "bus.listen"
    assert "BUS-BREAK-01" in {f.id for f in rulebook.diagnose(observations).all_findings()}


AT_9600 = dataclasses.replace(PROFILE, line=LineSettings.parse("9600 8E1"))


def test_a_bus_at_other_settings_is_found_and_listened_to_again_for_a_diagnosis() -> None:
    with BusProber(plan("healthy-16", "wire_time=0", profile=AT_9600)) as prober:
        listened = prober.listen()
        found = prober.resolve(load_rulebook().vocabulary.spec("bus.settings"))
    assert listened.detection is not None and listened.detection.found
    assert str(listened.settings) == "38400 8E1"  # listened to again where the bus runs
    assert found["bus.traffic"].value == "polling"
    settings = found["bus.settings"]
    assert settings.value == "mismatch"
    assert settings.facts == {"bus_line": "38400 8E1 (ascii)", "adapter_line": "9600 8E1 (ascii)"}


def test_without_listening_again_the_adapters_settings_are_the_answer() -> None:
    """What an unattended check does: it reports the settings and stops."""
    the_plan = plan("healthy-16", "wire_time=0", profile=AT_9600, relisten=False)
    with BusProber(the_plan) as prober:
        listened = prober.listen()
        found = prober.resolve(load_rulebook().vocabulary.spec("bus.settings"))
        assert not prober.heard_frames()
    assert listened.detection is not None and listened.detection.found
    assert str(listened.settings) == "9600 8E1"
    assert (found["bus.traffic"].value, found["bus.settings"].value) == ("undecodable", "mismatch")


def test_the_line_setting_search_keeps_to_its_budget() -> None:
    """A budget of two windows: the search stops before the bus's own setting is reached."""
    the_plan = plan(
        "healthy-16", "wire_time=0", profile=AT_9600, relisten=False, detect_s=2 * DETECT_WINDOW_S
    )
    with BusProber(the_plan) as prober:
        listened = prober.listen()
    detection = listened.detection
    assert detection is not None and not detection.found
    # the profile's own window, then the first generation's (38400 8N1): no third window
    assert {str(score.settings) for score in detection.candidates} <= {"9600 8E1", "38400 8N1"}


def test_a_session_that_listened_to_a_quiet_bus_talks_without_listening_again() -> None:
    """The session's own listen, silent for longer than two of the CLU's polling periods, is
    the listen-before-talk: the scan starts at once."""
    with BusProber(plan("clu-usb-dead", "wire_time=0", listen_s=3.0)) as prober:
        assert prober.traffic() == "silent"
        clock = prober.link().clock
        before = clock.now()
        result = prober.read_addresses((1, 2, 3))
        spent = clock.now() - before
    assert result.answered == tuple(range(1, 9))  # the site's stations come first
    assert result.lbt is not None and result.lbt.quiet and result.lbt.listened_s >= 3.0
    assert spent == pytest.approx(result.duration_s)  # nothing but the reads


def test_a_listen_too_short_to_prove_quiet_is_followed_by_a_listen_before_talk() -> None:
    with BusProber(plan("clu-usb-dead", "wire_time=0", listen_s=0.5)) as prober:
        assert prober.traffic() == "silent"
        result = prober.read_addresses((1, 2, 3))
    assert result.answered == tuple(range(1, 9))
    assert result.lbt is not None and result.lbt.quiet
    # two of the profile's 1 s polling periods (and a margin), after the session's 0.5 s
    assert result.lbt.idle_s == pytest.approx(2.1) and result.lbt.listened_s >= 2.1
