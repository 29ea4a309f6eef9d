"""The options bus commands share: ``--at``, ``--sim`` read once, flag names in hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import clu_doctor.sim.scenario_reader as scenario_module
from clu_doctor.bus.chain import ADAPTER_POSITIONS
from clu_doctor.bus.errors import PortConfigError
from clu_doctor.bus.link import HINT_RS485
from clu_doctor.commands.options import (
    RS485_HINT,
    AdapterEnd,
    flag_hints,
    read_simulation,
    resolve_target,
)
from clu_doctor.errors import UsageError
from clu_doctor.resources import scenarios_dir
from tests.commands.helpers import invoke


def test_the_at_choices_are_the_adapter_positions() -> None:
    assert tuple(choice.value for choice in AdapterEnd) == ADAPTER_POSITIONS
    assert tuple(choice.position for choice in AdapterEnd) == ADAPTER_POSITIONS


def test_sim_options_are_read_with_the_scenario() -> None:
    simulation = read_simulation("cable-break?clu=off&at=end&seed=3")
    assert (simulation.name, simulation.options.seed) == ("cable-break", 3)
    assert simulation.url == "sim://cable-break?seed=3&at=end&clu=0"
    assert simulation.scenario.adapter.at == "end" and not simulation.scenario.clu.present
    site = simulation.site()
    assert site is not None and (site.adapter_at, site.clu) == ("end", "disconnected")


def test_a_scenario_file_is_named_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine").mkdir()
    copy = tmp_path / "mine" / "site.yaml"
    copy.write_text((scenarios_dir() / "healthy-16.yaml").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    simulation = read_simulation("mine/site.yaml?time_scale=2.5")
    assert simulation.url == f"sim://{copy.resolve()}?time_scale=2.5"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("healthy-16?at=middle", "--sim option at='middle': expected clu or end"),
        ("healthy-16?speed=fast", "--sim option speed='fast': unknown option"),
        ("healthy-16?clu=maybe", "expected 0 or 1"),
    ],
)
def test_a_bad_sim_option_is_a_usage_error(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        read_simulation(text)


def test_at_moves_the_adapter_of_the_simulation_and_its_site() -> None:
    target = resolve_target(None, "cable-break", None, None, AdapterEnd.END)
    assert target is not None and target.simulation is not None
    assert target.port == "sim://cable-break?at=end"
    assert target.simulation.scenario.adapter.at == "end"
    assert target.site is not None and target.site.adapter_at == "end"
    assert target.opener is not None and target.opener().port == target.port


def test_a_port_by_name_has_no_opener() -> None:
    target = resolve_target("loop://", None, None, None, None)
    assert target is not None and target.opener is None and target.simulation is None


@pytest.fixture
def scenario_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scenario files parsed from now on."""
    read: list[str] = []
    parse = scenario_module.parse_scenario

    def counting(text: str, source: str, name: str | None = None) -> Any:
        read.append(source)
        return parse(text, source, name)

    monkeypatch.setattr(scenario_module, "parse_scenario", counting)
    return read


@pytest.mark.parametrize(
    "args",
    [
        # (listens of two of the CLU's 1 s polling cycles at least: a shorter one judges less)
        ("diagnose", "--sim", "cable-break?wire_time=0", "--listen-seconds", "2.5", "--no-input"),
        ("listen", "--sim", "healthy-16?wire_time=0", "--seconds", "2.5"),
        ("scan", "--sim", "healthy-16?wire_time=0&clu=0", "--addresses", "1", "--no-duplicates"),
        (
            "check",
            "--sim",
            "unpowered-station?wire_time=0",
            "--listen-seconds",
            "2.5",
            "--no-history",
        ),
    ],
)
def test_a_sim_run_reads_its_scenario_once(
    scenario_reads: list[str], args: tuple[str, ...]
) -> None:
    """Also when a check works out its site from the scenario first."""
    result = invoke(*args, "--json")
    assert result.code in (0, 1, 2), result.stderr
    assert len(scenario_reads) == 1, scenario_reads


def test_the_rs485_hint_names_the_flag_only_at_the_command_line() -> None:
    error = PortConfigError("PORT", "cannot use kernel RS-485 mode", HINT_RS485)
    assert "--rs485" not in HINT_RS485
    with pytest.raises(PortConfigError) as told, flag_hints():
        raise error
    assert told.value.hint == RS485_HINT and "without --rs485" in RS485_HINT
    other = UsageError("something else", hint="a hint")
    with pytest.raises(UsageError) as kept, flag_hints():
        raise other
    assert kept.value.hint == "a hint"
