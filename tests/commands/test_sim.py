"""``clu-doctor sim`` and ``clu-doctor ports`` as a user runs them."""

from __future__ import annotations

from clu_doctor.sim import list_scenarios
from tests.commands.helpers import invoke


def test_list_names_every_bundled_scenario_with_a_description() -> None:
    result = invoke("sim", "--list")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [name for name, _ in list_scenarios()]
    assert all(len(line.split(None, 1)) == 2 for line in lines)
    document = invoke("sim", "--list", "--json").json()
    assert {s["name"] for s in document["scenarios"]} >= {"healthy-16", "cable-break"}


def test_unknown_scenario_is_one_line_with_the_choices() -> None:
    result = invoke("sim", "no-such-site")
    assert result.code == 3
    line = result.stderr.strip()
    assert "\n" not in line and "no-such-site" in line and "healthy-16" in line


def test_no_scenario_is_a_usage_error() -> None:
    result = invoke("sim")
    assert result.code == 3
    assert "--list" in result.stderr


def test_ports_lists_as_text_and_json() -> None:
    text = invoke("ports")
    assert text.code == 0
    document = invoke("ports", "--json").json()
    assert document["schema"] == "clu-doctor/ports"
    assert isinstance(document["ports"], list)
    for port in document["ports"]:
        assert port["device"] in text.stdout
