"""Walking the trees: questionnaire order, ranking and nesting, status, trace, serialisation."""

from __future__ import annotations

import json

import pytest

from clu_doctor.engine import (
    UNKNOWN,
    AnswerSource,
    Diagnosis,
    Observation,
    ObservationError,
    Rulebook,
    Severity,
    TreeTrace,
    load_rulebook,
    parse_assignment,
)
from clu_doctor.engine.diagnosis import overall_status
from clu_doctor.exitcodes import ExitCode
from tests.engine.rulesets import TREE, RulesFactory, edit

RULEBOOK = load_rulebook()


def observe(*assignments: str) -> dict[str, Observation]:
    parsed = [parse_assignment(text, RULEBOOK.vocabulary) for text in assignments]
    return {o.key: o for o in parsed}


def questionnaire(rulebook: Rulebook, answers: dict[str, str]) -> list[str]:
    """Answer every question the way ``answers`` says ('unknown' when absent); the keys asked."""
    given: dict[str, Observation] = {}
    asked: list[str] = []
    while (spec := rulebook.next_question(given)) is not None:
        assert spec.key not in given, f"{spec.key} asked twice"
        asked.append(spec.key)
        raw = answers.get(spec.key, UNKNOWN)
        given[spec.key] = rulebook.vocabulary.parse(spec.key, raw, AnswerSource.QUESTIONNAIRE)
    return asked


HEALTHY = {
    "clu.power_led": "steady",
    "clu.status_led": "flashing",
    "usb.red_led": "flashing",
    "usb.green_led": "flashing",
    "charging.starts": "yes",
    "cloud.heartbeat_timeout": "no",
    "cloud.meter_data_missing": "no",
}


def test_questionnaire_asks_in_tree_order_and_only_what_is_needed() -> None:
    assert questionnaire(RULEBOOK, HEALTHY) == list(HEALTHY)


def test_a_dark_clu_is_not_asked_about_the_usb_interface() -> None:
    dark = {"clu.power_led": "off", "clu.status_led": "off"}
    assert questionnaire(RULEBOOK, dark) == [
        "clu.power_led",
        "clu.status_led",
        "cloud.heartbeat_timeout",
    ]


def test_time_since_power_up_is_asked_only_when_the_pattern_needs_it() -> None:
    red_only = {**HEALTHY, "usb.green_led": "off", "clu.uptime_s": "10m"}
    asked = questionnaire(RULEBOOK, red_only)
    assert asked.index("clu.uptime_s") == asked.index("usb.green_led") + 1
    assert "charging.starts" not in asked


def test_answering_dont_know_to_everything_still_ends() -> None:
    # "?" for the red LED does not stop the questions that can still show the CLU runs.
    asked = questionnaire(RULEBOOK, {})
    assert asked == [
        "clu.power_led",
        "clu.status_led",
        "usb.red_led",
        "charging.starts",
        "cloud.heartbeat_timeout",
    ]


def test_a_blinking_status_led_or_traffic_shows_the_clu_runs_without_the_red_led() -> None:
    for answers in (
        ("clu.power_led=?", "clu.status_led=flashing"),
        ("clu.power_led=?", "clu.status_led=?", "usb.red_led=flashing"),
        ("clu.power_led=?", "clu.status_led=?", "usb.red_led=?", "charging.starts=yes"),
    ):
        diagnosis = RULEBOOK.diagnose(observe(*answers))
        assert "CLU-RUN-02" in diagnosis.finding_ids, answers
        assert "CLU-ASK-01" not in diagnosis.finding_ids, answers


def trace_of(diagnosis: Diagnosis, tree: str) -> TreeTrace:
    return next(trace for trace in diagnosis.traces if trace.tree == tree)


def test_next_question_is_none_once_every_tree_reached_a_leaf() -> None:
    answers = observe(*(f"{k}={v}" for k, v in HEALTHY.items()))
    assert RULEBOOK.next_question(answers) is None
    # Going back: drop the last answer and the same question comes again.
    del answers["cloud.meter_data_missing"]
    spec = RULEBOOK.next_question(answers)
    assert spec is not None and spec.key == "cloud.meter_data_missing"


def test_probe_sourced_observations_are_never_asked(make_rules: RulesFactory) -> None:
    text = edit(TREE, "      green: finding:LAMP-OK-01\n", "      green: probed\n")
    text = edit(
        text,
        "findings:\n",
        "  probed:\n    ask: lamp.probed\n    branches:\n      seen: finding:LAMP-OK-01\n"
        "    otherwise: finding:LAMP-ASK-01\nfindings:\n",
    )
    rulebook = load_rulebook(make_rules(tree=text))
    green = {"lamp.colour": Observation("lamp.colour", "green", AnswerSource.FLAG)}
    assert rulebook.next_question(green) is None
    diagnosis = rulebook.diagnose(green)
    step = diagnosis.traces[0].steps[-1]
    assert (step.key, step.value, step.source, step.detail) == (
        "lamp.probed",
        UNKNOWN,
        AnswerSource.DEFAULT,
        "no probe ran",
    )
    assert diagnosis.finding_ids == {"LAMP-ASK-01"}
    seen = {**green, "lamp.probed": Observation("lamp.probed", "seen", AnswerSource.PROBE)}
    assert rulebook.diagnose(seen).finding_ids == {"LAMP-OK-01"}


def test_a_prober_is_handed_probe_observations_where_the_walk_needs_them(
    make_rules: RulesFactory,
) -> None:
    text = edit(TREE, "      green: finding:LAMP-OK-01\n", "      green: probed\n")
    text = edit(
        text,
        "findings:\n",
        "  probed:\n    ask: lamp.probed\n    branches:\n      seen: finding:LAMP-OK-01\n"
        "    otherwise: finding:LAMP-ASK-01\nfindings:\n",
    )
    rulebook = load_rulebook(make_rules(tree=text))
    red = {"lamp.colour": Observation("lamp.colour", "red", AnswerSource.FLAG)}
    assert rulebook.next_question(red, include_probes=True) is not None
    assert rulebook.next_question(red, include_probes=True).key == "lamp.age_s"  # type: ignore[union-attr]
    green = {"lamp.colour": Observation("lamp.colour", "green", AnswerSource.FLAG)}
    spec = rulebook.next_question(green, include_probes=True)
    assert spec is not None and (spec.key, spec.probe) == ("lamp.probed", "lamp.scan")
    evidence = ("address 3: seen twice", "address 4: not seen")
    probed = {
        **green,
        "lamp.probed": Observation("lamp.probed", "seen", AnswerSource.PROBE, "scan", evidence),
    }
    assert rulebook.next_question(probed, include_probes=True) is None
    diagnosis = rulebook.diagnose(probed)
    [finding] = diagnosis.findings
    assert finding.id == "LAMP-OK-01" and finding.evidence == evidence
    assert diagnosis.to_dict()["findings"][0]["evidence"] == list(evidence)


def test_missing_observations_default_to_unknown_in_the_trace() -> None:
    diagnosis = RULEBOOK.diagnose(observe("clu.power_led=steady"))
    # the green LED not known: the USB interface and a vehicle could still tell, not known either
    [bus, first, second, sending, charging] = trace_of(diagnosis, "clu-leds").steps
    assert (bus.key, bus.value, bus.source, bus.detail, bus.target) == (
        "bus.traffic",
        UNKNOWN,
        AnswerSource.DEFAULT,
        "no probe ran",
        "power",
    )
    assert (first.key, first.value, first.source, first.branch, first.target) == (
        "clu.power_led",
        "steady",
        AnswerSource.FLAG,
        "steady",
        "status_with_power_lit",
    )
    assert (second.key, second.value, second.source, second.branch, second.target) == (
        "clu.status_led",
        UNKNOWN,
        AnswerSource.DEFAULT,
        "unknown",
        "usb_sending_power_lit",
    )
    assert (sending.key, sending.branch) == ("usb.red_led", "unknown")
    assert (charging.key, charging.target) == ("charging.starts", "finding:CLU-ASK-02")
    assert trace_of(diagnosis, "clu-leds").outcome == "finding:CLU-ASK-02"
    assert diagnosis.observation("clu.status_led") == Observation(
        "clu.status_led", UNKNOWN, AnswerSource.DEFAULT, "not answered"
    )


def test_number_ranges_in_the_trace() -> None:
    diagnosis = RULEBOOK.diagnose(
        observe(
            "clu.power_led=steady",
            "clu.status_led=flashing",
            "usb.red_led=flashing",
            "usb.green_led=off",
            "clu.uptime_s=2m30s",
        )
    )
    last = trace_of(diagnosis, "usb-leds").steps[-1]
    assert (last.key, last.value, last.branch, last.target) == (
        "clu.uptime_s",
        150,
        "from 150",
        "finding:USB-BUS-01",
    )


def test_findings_ranked_by_layer_then_severity() -> None:
    diagnosis = RULEBOOK.diagnose(
        observe(
            "cloud.heartbeat_timeout=yes",
            "clu.power_led=steady",
            "clu.status_led=flashing",
            "usb.red_led=flashing",
            "usb.green_led=off",
            "clu.uptime_s=1h",
        )
    )
    assert [f.id for f in diagnosis.findings] == ["CLU-OK-01", "USB-BUS-01", "CLOUD-HB-01"]
    assert diagnosis.status is Severity.CRITICAL
    assert diagnosis.exit_code is ExitCode.CRITICAL


def test_consequences_are_nested_under_their_root() -> None:
    diagnosis = RULEBOOK.diagnose(
        observe("clu.power_led=off", "clu.status_led=off", "cloud.heartbeat_timeout=yes")
    )
    [root] = diagnosis.findings
    assert root.id == "CLU-PWR-01" and root.consequence_of is None
    assert [(c.id, c.consequence_of) for c in root.consequences] == [
        ("USB-CLU-01", "CLU-PWR-01"),
        ("CLOUD-HB-01", "CLU-PWR-01"),
    ]
    assert [f.id for f in diagnosis.all_findings()] == ["CLU-PWR-01", "USB-CLU-01", "CLOUD-HB-01"]


def test_a_consequence_without_its_root_stands_alone() -> None:
    diagnosis = RULEBOOK.diagnose(observe(*(f"{k}={v}" for k, v in HEALTHY.items())))
    assert diagnosis.status is Severity.OK
    diagnosis = RULEBOOK.diagnose(
        observe(*(f"{k}={v}" for k, v in {**HEALTHY, "cloud.heartbeat_timeout": "yes"}.items()))
    )
    hb = next(f for f in diagnosis.findings if f.id == "CLOUD-HB-01")
    assert hb.consequence_of is None
    assert diagnosis.status is Severity.WARNING
    assert diagnosis.exit_code is ExitCode.WARNING


def test_a_grading_observation_sets_the_severity_and_adds_its_evidence() -> None:
    silent = ("bus.traffic=polling", "bus.reach=station")
    assert RULEBOOK.diagnose(observe(*silent)).status is Severity.CRITICAL
    observations = observe(*silent)
    observations["grade.stations_silent"] = Observation(
        "grade.stations_silent",
        "warning",
        AnswerSource.PROBE,
        "site.thresholds",
        ("1 planned station silent: a warning from 1, critical from 3",),
    )
    diagnosis = RULEBOOK.diagnose(observations)
    station = next(f for f in diagnosis.all_findings() if f.id == "BUS-STATION-01")
    assert station.severity is Severity.WARNING
    assert station.to_dict()["graded_by"] == "grade.stations_silent"
    assert "1 planned station silent: a warning from 1, critical from 3" in station.evidence
    assert diagnosis.status is Severity.WARNING
    observations["grade.stations_silent"] = Observation(
        "grade.stations_silent", UNKNOWN, AnswerSource.DEFAULT
    )
    assert RULEBOOK.diagnose(observations).status is Severity.CRITICAL


@pytest.mark.parametrize(
    ("severities", "status"),
    [
        ([], Severity.UNKNOWN),
        ([Severity.OK], Severity.OK),
        ([Severity.OK, Severity.INFO], Severity.INFO),
        ([Severity.INFO, Severity.UNKNOWN], Severity.UNKNOWN),
        ([Severity.UNKNOWN, Severity.WARNING], Severity.WARNING),
        ([Severity.WARNING, Severity.CRITICAL, Severity.OK], Severity.CRITICAL),
    ],
)
def test_overall_status(severities: list[Severity], status: Severity) -> None:
    assert overall_status(severities) is status


def test_a_tree_that_ends_without_a_finding_leaves_the_status_unknown(
    make_rules: RulesFactory,
) -> None:
    text = edit(TREE, "green: finding:LAMP-OK-01", "green: end")
    text = edit(text, "findings: [LAMP-OK-01]", "findings: []")
    text = edit(text, "status: ok", "status: unknown")
    rulebook = load_rulebook(make_rules(tree=text))
    diagnosis = rulebook.run_case(rulebook.trees[0].cases[0])
    assert diagnosis.findings == ()
    assert diagnosis.traces[0].outcome == "end" and diagnosis.traces[0].finding is None
    assert diagnosis.status is Severity.UNKNOWN
    assert diagnosis.exit_code is ExitCode.UNKNOWN


def test_diagnose_rejects_values_outside_the_vocabulary() -> None:
    with pytest.raises(ObservationError, match="'blue' is not a known value"):
        RULEBOOK.diagnose(
            {"clu.power_led": Observation("clu.power_led", "blue", AnswerSource.FLAG)}
        )
    with pytest.raises(ObservationError, match="not a canonical value"):
        RULEBOOK.diagnose({"clu.power_led": Observation("clu.power_led", "lit", AnswerSource.FLAG)})
    with pytest.raises(ObservationError, match="unknown observation"):
        RULEBOOK.diagnose({"clu.mood": Observation("clu.mood", "happy", AnswerSource.FLAG)})


def test_to_dict_is_plain_json() -> None:
    diagnosis = RULEBOOK.diagnose(
        observe("clu.power_led=off", "clu.status_led=off", "cloud.heartbeat_timeout=yes")
    )
    data = json.loads(json.dumps(diagnosis.to_dict()))
    assert data["status"] == "critical" and data["exit_code"] == 2
    root = data["findings"][0]
    assert root["id"] == "CLU-PWR-01" and root["layer"] == "power"
    assert root["remedy"] and root["manual"].startswith("CLU MK1 manual §17")
    assert [c["id"] for c in root["consequences"]] == ["USB-CLU-01", "CLOUD-HB-01"]
    assert root["consequences"][0]["consequence_of"] == "CLU-PWR-01"
    assert [t["tree"] for t in data["trace"]] == [t.id for t in RULEBOOK.trees]
    [clu] = [t for t in data["trace"] if t["tree"] == "clu-leds"]
    assert clu["steps"][0]["key"] == "bus.traffic"  # no bus: the LEDs are asked
    step = clu["steps"][1]
    assert step == {
        "tree": "clu-leds",
        "node": "power",
        "key": "clu.power_led",
        "value": "off",
        "source": "flag",
        "detail": "clu.power_led=off",
        "branch": "off",
        "target": "status_with_power_dark",
    }
    given = [o["key"] for o in data["observations"] if o["source"] == "flag"]
    assert given == ["clu.power_led", "clu.status_led", "cloud.heartbeat_timeout"]


def test_vocabulary_spec_to_dict() -> None:
    spec = RULEBOOK.vocabulary.spec("clu.uptime_s").to_dict()
    assert (spec["type"], spec["unit"], spec["min"], spec["source"]) == ("number", "s", 0, "ask")
    led = RULEBOOK.vocabulary.spec("usb.red_led").to_dict()
    assert [v["name"] for v in led["values"]] == ["off", "steady", "flashing"]
    assert led["aliases"]["blinking"] == "flashing"


def test_bundled_rules_load_from_an_explicit_directory() -> None:
    from clu_doctor.resources import rules_dir

    assert load_rulebook(rules_dir()).findings.keys() == RULEBOOK.findings.keys()
