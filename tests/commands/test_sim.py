"""``clu-doctor sim`` and ``clu-doctor ports`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.resources import scenarios_dir
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


def test_list_says_where_the_scenario_files_are() -> None:
    result = invoke("sim", "--list")
    assert f"the scenario files are in {scenarios_dir()}" in result.stderr
    assert "'clu-doctor sim show NAME' prints one" in result.stderr
    document = invoke("sim", "--list", "--json").json()
    assert document["directory"] == str(scenarios_dir())
    for scenario in document["scenarios"]:
        assert Path(scenario["path"]).is_file()


def test_show_prints_a_scenario_to_start_ones_own_from(tmp_path: Path) -> None:
    shown = invoke("sim", "show", "cable-break")
    assert shown.code == 0
    path = scenarios_dir() / "cable-break.yaml"
    assert shown.stdout == path.read_text(encoding="utf-8")
    assert str(path) in shown.stderr
    copy = tmp_path / "my-site.yaml"
    copy.write_text(shown.stdout, encoding="utf-8")
    assert invoke("sim", "show", str(copy)).stdout == shown.stdout
    assert invoke("sim", "show").code == 3
    missing = invoke("sim", "show", "no-such-site")
    assert missing.code == 3 and "healthy-16" in missing.stderr
    extra = invoke("sim", "healthy-16", "extra")
    assert extra.code == 3 and "unexpected argument 'extra'" in extra.stderr


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


def test_ports_says_plainly_when_no_adapter_is_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    from serial.tools import list_ports
    from serial.tools.list_ports_common import ListPortInfo

    fake = [ListPortInfo("/dev/ttyS0", skip_link_detection=True)]
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: fake)
    text = invoke("ports")
    assert text.code == 0
    assert "/dev/ttyS0" in text.stdout and "not a USB device" in text.stdout
    assert "No known USB-RS485 adapter is connected: plug the adapter in" in text.stdout
    document = invoke("ports", "--json").json()
    assert document["adapter_found"] is False
    assert document["advice"].startswith("no known USB-RS485 adapter is connected")
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: [])
    assert "No serial ports found, so no USB-RS485 adapter: plug" in invoke("ports").stdout
