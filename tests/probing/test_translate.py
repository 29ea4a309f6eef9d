"""The bus's answers as observations: both sides of every translation table, and how
controller states become ``station.state``."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, get_args

import pytest

from clu_doctor.bus.chain import CHAIN_VERDICTS, Chain
from clu_doctor.bus.listen.detect import Detection
from clu_doctor.bus.listen.verdicts import VERDICT_VALUES, Verdict
from clu_doctor.bus.probes.duplicates import DuplicateVerdict
from clu_doctor.bus.profile import load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.engine import UNKNOWN, AnswerSource, load_rulebook
from clu_doctor.probing.prober import PROBES
from clu_doctor.probing.translate import (
    DUPLICATES_FROM_CHECK,
    DUPLICATES_FROM_LISTEN,
    GRADE_OF,
    PRESENCE,
    REACH_FROM_CHAIN,
    REACH_FROM_LISTEN,
    SITE_FACTS,
    SITE_OVERRULED,
    STATE_RANK,
    STATE_VALUES,
    TRAFFIC_EVIDENCE,
    classify_states,
    classify_traffic,
    devices_observation,
    duplicates_from_listen,
    listen_observations,
    named_state,
    produced_values,
    reach_from_listen,
    reach_from_scan,
    states_observation,
)
from clu_doctor.site.facts import FACT_KEYS
from clu_doctor.site.model import FACT_VERDICTS, Severity, Site, Station
from tests.bus.listen.support import Script, analyse

if TYPE_CHECKING:
    from clu_doctor.bus.listen.report import ListenReport

PROFILE = load_profile("defa-erange")
SITE = Site(
    name="t",
    chain=tuple(Station(a, "UNO", (f"XAXXY{a:02d}",), f"Bay {a}") for a in range(1, 5)),
)


@pytest.mark.parametrize(
    ("states", "value"),
    [
        ({1: "A1", 2: "C2", 3: "C3"}, "normal"),  # C3 (reduced current) is info, not a fault
        ({1: "A1", 2: "E1"}, "unusual"),  # production test mode: the profile says warning
        ({1: "E3", 2: "E1"}, "bus-idle"),
        ({1: "E0", 2: "E2"}, "setup"),
        ({1: "E2", 2: "F4"}, "upstream-timeout"),
        ({1: "F4", 2: "F1"}, "fault"),
    ],
)
def test_the_worst_state_counts(states: dict[int, str], value: str) -> None:
    assert classify_states(states, PROFILE, SITE)[0] == value


def test_the_evidence_names_each_station_that_needs_attention() -> None:
    value, lines = classify_states({1: "A1", 2: "E1", 4: "F4"}, PROFILE, SITE)
    assert value == "upstream-timeout"
    assert lines == [
        "address 2 (XAXXY02): state E1, production test mode",
        "address 4 (XAXXY04): state F4, communication timeout to the bus master (the CLU)",
    ]
    assert classify_states({1: "A1", 2: "C2"}, PROFILE, None)[1] == [
        "2 controller(s) report A, B or C states"
    ]


# --- both sides of every table -----------------------------------------------------------------

VOCABULARY = load_rulebook().vocabulary
#: Probes whose observations the prober fills (site.history: monitoring's history).
PROBED = {*PROBES, "site.thresholds"}


def test_every_value_a_listen_verdict_can_take_has_an_observation() -> None:
    assert set(REACH_FROM_LISTEN) == set(VERDICT_VALUES["bus.silent_addresses"] or ())
    assert set(DUPLICATES_FROM_LISTEN) == set(VERDICT_VALUES["bus.duplicate_address"] or ())
    assert set(PRESENCE) | set(TRAFFIC_EVIDENCE) <= set(VERDICT_VALUES)


def test_every_chain_and_duplicate_check_verdict_has_an_observation() -> None:
    assert set(REACH_FROM_CHAIN) == set(CHAIN_VERDICTS)
    assert set(DUPLICATES_FROM_CHECK) == set(get_args(DuplicateVerdict))


def test_every_site_fact_row_names_a_fact_the_site_file_has() -> None:
    named = {row.fact for row in SITE_FACTS.values()} | {f for f, _ in SITE_OVERRULED.values()}
    assert named == set(FACT_KEYS)
    assert set(FACT_VERDICTS) == {"ok", "problem", "unknown"}  # the three a row handles


def test_every_threshold_severity_grades() -> None:
    assert {s for s in Severity if s is not Severity.UNKNOWN} <= set(GRADE_OF)


def test_the_values_given_are_exactly_those_the_rules_declare() -> None:
    """Both ways: a value only the tables give would be rejected by the trees' vocabulary,
    and a declared value no table gives could never reach its branch."""
    produced = produced_values()
    declared = {
        spec.key: frozenset(spec.value_names) for spec in VOCABULARY if spec.probe in PROBED
    }
    assert produced == declared


def test_every_probe_the_rules_name_has_an_answer() -> None:
    probes = set(VOCABULARY.probes)
    assert set(PROBES) <= probes
    assert probes - set(PROBES) == {"site.history", "site.thresholds"}  # not bus probes


def test_state_ranks_hold_every_state_value() -> None:
    assert set(STATE_VALUES.values()) <= set(STATE_RANK)
    assert STATE_RANK[-1] == "normal"


@pytest.mark.parametrize(
    ("code", "named"),
    [
        ("E0", True),
        ("E2", True),
        ("E3", True),
        ("F1", True),
        ("F4", True),
        ("E1", False),
        ("A1", False),
        ("C2", False),
    ],
)
def test_named_states_are_those_with_a_value_of_their_own(code: str, named: bool) -> None:
    assert named_state(code) is named


# --- translating ---------------------------------------------------------------------------------


def verdict(key: str, value: str, title: str = "title", addresses: tuple[int, ...] = ()) -> Verdict:
    return Verdict(key, value, "critical", title, ("seen",), addresses)


@pytest.mark.parametrize(
    ("value", "reach"),
    [
        ("beyond_point", "break"),
        ("beyond_point_bus_intact", "station"),
        ("isolated", "station"),
        ("no_chain", "missing"),
    ],
)
def test_silent_addresses_heard_while_listening_place_the_fault(value: str, reach: str) -> None:
    silent = verdict("bus.silent_addresses", value, addresses=(3,))
    found = reach_from_listen(heard("polling"), [silent], SITE)
    assert set(found) == {"bus.reach", "bus.isolated"}
    observation = found["bus.reach"]
    assert (observation.value, observation.detail) == (reach, "bus.listen")
    assert observation.source is AnswerSource.PROBE
    assert observation.evidence == ("title", "seen")
    # what the value is about, and what texts may say of it
    assert observation.addresses == (3,)
    assert observation.facts == {"silent_station": "XAXXY03", "silent_address": "address 3"}


def test_several_silent_stations_are_named_together() -> None:
    silent = verdict("bus.silent_addresses", "isolated", addresses=(2, 4))
    observation = reach_from_listen(heard("polling"), [silent], SITE)["bus.reach"]
    assert observation.facts == {
        "silent_station": "one of XAXXY02, XAXXY04",
        "silent_address": "address 2 or 4",
    }
    unplanned = reach_from_listen(heard("polling"), [silent], None)["bus.reach"]
    assert unplanned.facts["silent_station"] == (
        "one of the station at address 2, the station at address 4"
    )


def test_nothing_silent_is_all_with_a_site_and_found_without() -> None:
    with_site = reach_from_listen(heard("polling"), [], SITE)["bus.reach"]
    assert with_site.value == "all"
    assert with_site.evidence == ("every polled station of the site answers",)
    assert with_site.addresses == (1, 2, 3) and not with_site.partial
    without = reach_from_listen(heard("polling"), [], None)["bus.reach"]
    assert (without.value, without.evidence) == ("found", ())


def test_every_polled_station_answering_is_partial_when_the_clu_skips_some() -> None:
    unpolled = verdict("bus.unpolled_addresses", "not_polled", addresses=(4,))
    found = reach_from_listen(heard("polling"), [unpolled], SITE)["bus.reach"]
    assert (found.value, found.partial) == ("all", True)
    assert found.evidence == ("every polled station of the site answers; the CLU never polls 4",)


def test_a_scan_without_a_site_only_says_whether_anything_answered() -> None:
    found = reach_from_scan((3, 1, 2), None)["bus.reach"]
    assert (found.value, found.detail) == ("found", "bus.scan")
    assert found.evidence == ("addresses answering: 1-3",)
    assert reach_from_scan((), None)["bus.reach"].value == "none"


@pytest.mark.parametrize(
    ("answered", "reach"),
    [
        ({1, 2, 3, 4}, "all"),
        ({1, 3, 4}, "station"),
        ({1, 2}, "break"),
        ({1, 2, 3}, "station"),
        (set(), "none"),
    ],
)
def test_a_scan_along_the_sites_chain(answered: set[int], reach: str) -> None:
    chain = Chain.attached([(1,), (2,), (3,), (4,)], "clu")
    found = reach_from_scan(answered, chain.analyse(answered), SITE)["bus.reach"]
    assert (found.value, found.detail) == (reach, "bus.end_of_bus")
    assert found.evidence == chain.analyse(answered).evidence
    silent = sorted({1, 2, 3, 4} - answered)
    assert found.addresses == (tuple(silent) if silent else (1, 2, 3, 4))
    if len(silent) == 1:
        assert found.facts["silent_station"] == f"XAXXY{silent[0]:02d}"


@pytest.mark.parametrize(
    ("value", "duplicates"),
    [
        ("identity_alternates", "confirmed"),
        ("double_answers", "confirmed"),
        ("corruption_excess", "suspected"),
    ],
)
def test_duplicates_heard_while_listening(value: str, duplicates: str) -> None:
    found = duplicates_from_listen(verdict("bus.duplicate_address", value))["bus.duplicates"]
    assert found.value == duplicates
    assert duplicates_from_listen(None)["bus.duplicates"].value == "none"


def test_a_verdict_the_bus_never_declared_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared value"):
        verdict("bus.silent_addresses", "somewhere")
    with pytest.raises(ValueError, match="undeclared verdict key"):
        verdict("bus.reach", "break")


def heard(kind: str) -> ListenReport:
    """A listen of ten seconds: ``nothing``, ``stray`` bytes, ``noise``, ``unanswered`` polls
    or ``polling`` with answers."""
    script = Script()
    if kind == "stray":
        script.raw(b"\x00\xff" * 20)
    elif kind == "noise":
        script.raw(b"\x00\xff\x13" * 150)
    elif kind == "unanswered":
        script.cycles(8, range(1, 4), silent=range(1, 4))
    elif kind == "polling":
        script.cycles(8, range(1, 4))
    return analyse(script.chunks, end=10.0)


AT_END = dataclasses.replace(SITE, adapter_at="end")
OFF_BUS = dataclasses.replace(SITE, clu="disconnected")


@pytest.mark.parametrize(
    ("kind", "site", "traffic"),
    [
        ("nothing", None, "silent"),
        ("nothing", SITE, "silent"),
        ("nothing", AT_END, "unheard"),
        ("nothing", OFF_BUS, "off-bus"),
        ("stray", None, "silent"),  # a few stray bytes, nothing decoded
        ("noise", None, "undecodable"),
        ("unanswered", SITE, "unanswered"),
        ("polling", SITE, "polling"),
    ],
)
def test_what_listening_heard(kind: str, site: Site | None, traffic: str) -> None:
    assert classify_traffic(heard(kind), False, site) == traffic


def test_frames_that_do_not_decode_are_undecodable_whatever_polls() -> None:
    assert classify_traffic(heard("polling"), True, None) == "undecodable"


def test_errors_and_unpolled_stations_are_observations_only_once_the_clu_is_heard() -> None:
    report = heard("polling")
    spread = Verdict("bus.errors_spread", "spread", "warning", "errors everywhere", (), (1, 2))
    found = listen_observations(report, [spread], "polling", site_known=True)
    assert {k: o.value for k, o in found.items()} == {
        "bus.traffic": "polling",
        "bus.settings": "match",
        "bus.errors": "spread",
        "bus.unpolled": "none",
    }
    assert found["bus.errors"].evidence == ("errors everywhere",)
    assert found["bus.errors"].addresses == (1, 2)
    assert found["bus.traffic"].evidence[0].startswith("listened 10.0 s at 38400 8E1 (ascii)")
    assert not found["bus.traffic"].partial  # every polled address answered
    no_site = listen_observations(report, [], "polling")
    assert {k: o.value for k, o in no_site.items()} == {
        "bus.traffic": "polling",
        "bus.settings": "match",
        "bus.errors": "low",
    }
    quiet = listen_observations(heard("nothing"), [], "off-bus", site_known=True)
    assert {k: o.value for k, o in quiet.items()} == {
        "bus.traffic": "off-bus",
        "bus.settings": UNKNOWN,
    }
    assert quiet["bus.traffic"].evidence[-1] == (
        "the site file says the CLU is off the bus (clu: disconnected)"
    )


def test_polls_some_addresses_never_answer_make_the_traffic_partial() -> None:
    script = Script()
    script.cycles(8, range(1, 4), silent=[3])
    found = listen_observations(analyse(script.chunks, end=10.0), [], "polling")
    assert found["bus.traffic"].partial


def test_a_bus_found_at_other_settings_names_both() -> None:
    detection = Detection(
        "found", LineSettings.parse("38400 8E1"), "ascii", (), "the bus runs at X"
    )
    found = listen_observations(
        heard("polling"), [], "polling", detection=detection, adapter_line="9600 8N1 (rtu)"
    )["bus.settings"]
    assert found.value == "mismatch"
    assert found.facts == {"bus_line": "38400 8E1 (ascii)", "adapter_line": "9600 8N1 (rtu)"}
    assert found.evidence == ("nothing decodes at 9600 8N1 (rtu); the bus runs at X",)


def test_what_was_tried_when_nothing_decodes_is_said_once() -> None:
    detection = Detection("nothing_decodes", None, None, (), "nothing decodes at any of 21")
    undecodable = verdict("bus.undecodable", "at_every_setting", "nothing decodes, 42 tried")
    found = listen_observations(heard("noise"), [undecodable], "undecodable", detection=detection)
    lines = found["bus.traffic"].evidence
    assert "nothing decodes, 42 tried" in lines
    assert not any("21" in line for line in lines)
    assert found["bus.settings"].value == UNKNOWN


def test_the_profile_says_what_the_devices_are() -> None:
    meters = devices_observation(load_profile("modbus-meter"))["bus.devices"]
    assert (meters.value, meters.detail) == ("energy-meters", "bus.profile")
    assert devices_observation(PROFILE)["bus.devices"].value == "charge-controllers"


def test_a_duplicate_names_its_address() -> None:
    heard_twice = verdict("bus.duplicate_address", "corruption_excess", addresses=(1,))
    found = duplicates_from_listen(heard_twice)["bus.duplicates"]
    assert found.addresses == (1,) and found.facts == {"doubled_address": "address 1"}


def test_normal_states_are_partial_unless_every_planned_controller_was_read() -> None:
    every = states_observation(dict.fromkeys(range(1, 5), "A1"), PROFILE, SITE, "bus.scan")
    assert not every["station.state"].partial
    some = states_observation({1: "A1", 2: "C2"}, PROFILE, SITE, "bus.scan")["station.state"]
    assert some.partial and some.addresses == (1, 2)
    assert states_observation({1: "A1"}, PROFILE, None, "bus.scan")["station.state"].partial
    bad = states_observation({1: "A1", 2: "F4", 3: "E1"}, PROFILE, SITE, "bus.scan")
    assert bad["station.state"].addresses == (2, 3) and not bad["station.state"].partial


def test_unknown_is_not_a_value_any_table_gives() -> None:
    assert all(UNKNOWN not in values for values in produced_values().values())


def test_silent_stations_the_bus_passes_are_named_beside_the_reach() -> None:
    """``bus.isolated``: the stations silent while one beyond answers, whatever the reach; a
    break with such a station before it is two faults (BUS-BREAK-02)."""
    both = Verdict(
        "bus.silent_addresses",
        "beyond_point",
        "critical",
        "title",
        ("seen",),
        (3, 9),
        {"isolated": [3]},
    )
    found = reach_from_listen(heard("polling"), [both], SITE)
    assert (found["bus.reach"].value, found["bus.isolated"].value) == ("break", "some")
    assert found["bus.isolated"].addresses == (3,)
    alone = verdict("bus.silent_addresses", "beyond_point", addresses=(9,))
    assert reach_from_listen(heard("polling"), [alone], SITE)["bus.isolated"].value == "none"
