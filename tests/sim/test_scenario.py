"""Scenario files: every bundled one loads, and mistakes are reported at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.errors import FileProblemError
from clu_doctor.resources import scenarios_dir
from clu_doctor.sim.scenario import ScenarioNotFound
from clu_doctor.sim.scenario_reader import list_scenarios, load_scenario, parse_scenario

BUNDLED = sorted(p.stem for p in scenarios_dir().glob("*.yaml"))

REQUIRED = {
    "healthy-16",
    "healthy-duo-8",
    "duplicate-address",
    "cable-break",
    "unpowered-station",
    "long-unterminated",
    "ab-swapped",
    "wrong-adapter-settings",
    "clu-usb-dead",
    "clu-booting",
    "station-f4",
    "meter-bus-duplicate",
}


def test_the_required_scenarios_are_bundled() -> None:
    assert set(BUNDLED) >= REQUIRED


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description and "\n" not in scenario.description
    assert scenario.stations


def test_list_scenarios_gives_names_and_one_line_descriptions() -> None:
    listed = dict(list_scenarios())
    assert set(listed) == set(BUNDLED)
    assert listed["healthy-16"].startswith("Healthy site")


def test_healthy_16_is_sixteen_single_outlet_stations() -> None:
    scenario = load_scenario("healthy-16")
    assert len(scenario.stations) == 16
    assert scenario.addresses == tuple(range(1, 17))
    assert all(len(s.controllers) == 1 for s in scenario.stations)
    assert str(scenario.bus.settings) == "38400 8E1"
    assert scenario.clu.boot_s == 150


def test_duo_stations_have_two_controllers_on_consecutive_addresses() -> None:
    scenario = load_scenario("healthy-duo-8")
    assert len(scenario.stations) == 8
    for number, station in enumerate(scenario.stations, start=1):
        assert [c.address for c in station.controllers] == [2 * number - 1, 2 * number]
        assert station.model == "eRange DUO"


def test_the_duplicate_scenario_has_two_controllers_on_address_one() -> None:
    scenario = load_scenario("duplicate-address")
    on_one = [c.label for _, _, c in scenario.controllers() if c.address == 1]
    assert on_one == ["XAXXY01", "XAXXY09"]
    assert 9 in scenario.polled_addresses and 9 not in scenario.addresses


def test_defaults_apply_unless_a_station_overrides_them() -> None:
    scenario = load_scenario("duplicate-address")
    by_label = {c.label: c for _, _, c in scenario.controllers()}
    assert by_label["XAXXY02"].turnaround_s == pytest.approx(0.003)
    assert by_label["XAXXY09"].turnaround_s == pytest.approx(0.010)
    assert by_label["XAXXY09"].type == "2W22M1"


def test_a_file_path_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("description: mine\nstations:\n  - {label: A, address: 3}\n", "utf-8")
    scenario = load_scenario(path)
    assert scenario.name == "mine" and scenario.addresses == (3,)


def test_an_unknown_name_is_a_usage_error_listing_the_bundled_ones() -> None:
    with pytest.raises(ScenarioNotFound) as caught:
        load_scenario("no-such-site")
    assert "healthy-16" in (caught.value.hint or "")


def problems(text: str) -> list[str]:
    with pytest.raises(FileProblemError) as caught:
        parse_scenario(text, "site.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_broken_scenario_points_at_the_bundled_ones_not_the_source() -> None:
    with pytest.raises(FileProblemError) as caught:
        parse_scenario("bus: 5\n", "site.yaml")
    hint = caught.value.hint or ""
    assert "'clu-doctor sim --list'" in hint and "'clu-doctor docs simulator'" in hint
    assert str(scenarios_dir()) in hint  # where the templates are
    assert ".py" not in hint  # no source files for users


def test_unknown_keys_are_rejected_with_their_line() -> None:
    found = problems(
        "description: x\n"
        "bus:\n"
        "  framing: ascii\n"
        "  cabel_m: 40\n"
        "stations:\n"
        "  - {label: A, address: 1, colour: red}\n"
    )
    assert any(p.startswith("site.yaml:4: unknown key 'cabel_m' in bus") for p in found)
    assert any(p.startswith("site.yaml:6: unknown key 'colour'") for p in found)


def test_every_problem_is_collected_with_file_and_line() -> None:
    found = problems(
        "description: x\n"
        "bus:\n"
        "  line: 38400 8X1\n"
        "  termination: half\n"
        "clu:\n"
        "  addresses: 1-x\n"
        "stations:\n"
        "  - {label: A, address: 99, state: Z9}\n"
        "  - {label: B}\n"
    )
    text = "\n".join(found)
    assert "site.yaml:3:" in text and "not a line setting" in text
    assert "site.yaml:4: termination is 'half'" in text
    assert "site.yaml:6: addresses" in text
    assert "site.yaml:8: address is 99, out of range (expected 1..63)" in text
    assert "site.yaml:8: state 'Z9' is not an ABL state" in text
    assert "site.yaml:9: missing key 'address'" in text


def test_meters_need_rtu_and_registers() -> None:
    found = problems("description: x\nstations:\n  - {label: M, kind: meter, address: 1}\n")
    text = "\n".join(found)
    assert "a meter needs 'registers'" in text
    assert "meters speak Modbus RTU" in text


def test_duplicate_keys_are_reported_by_the_yaml_loader() -> None:
    found = problems("description: x\ndescription: y\nstations: []\n")
    assert found[0].startswith("site.yaml:2:") and "duplicate key" in found[0]


def test_a_duo_has_at_most_two_outlets() -> None:
    found = problems(
        "description: x\n"
        "stations:\n"
        "  - label: D\n"
        "    outlets: [{address: 1}, {address: 2}, {address: 3}]\n"
    )
    assert found == [
        "site.yaml:4: outlets must be a list of one or two outlets (expected a DUO has two)"
    ]


def test_breaks_must_lie_inside_the_chain() -> None:
    found = problems(
        "description: x\nbus: {breaks_after: [5]}\nstations:\n  - {label: A, address: 1}\n"
    )
    assert found == ["site.yaml:2: breaks_after item is 5, out of range (expected 0..1)"]


def test_with_changes_touches_only_what_it_is_given() -> None:
    scenario = load_scenario("cable-break")
    moved = scenario.with_changes(adapter_at="end", clu_present=False)
    assert moved.adapter.at == "end" and not moved.clu.present
    assert moved.bus == scenario.bus and moved.stations == scenario.stations


def test_a_mistyped_key_suggests_the_one_meant() -> None:
    found = problems("description: x\nbus: {cabel_m: 40}\nstations:\n  - {label: A, adress: 1}\n")
    assert (
        "site.yaml:2: unknown key 'cabel_m' in bus; did you mean 'cable_m'? (expected one of: "
        in found[0]
    )
    assert any("unknown key 'adress' in a station; did you mean 'address'?" in p for p in found)
