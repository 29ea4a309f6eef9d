"""``diagnose --sim`` / ``--port``: every simulated site yields its fault's findings, healthy ones none.

Everything runs in-process on the virtual clock, so a listen of a dozen polling cycles and the
bundled profile's timeouts cost no real time. The same through a real pty is in
tests/live/test_commands_diagnose.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.resources import scenarios_dir
from clu_doctor.sim import load_scenario
from clu_doctor.sim.site_plan import site_for
from clu_doctor.site.model import Site
from tests.commands.helpers import invoke

PROBLEMS = ("critical", "warning")


def all_findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(document["findings"])
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item["consequences"])
    return out


def problems(document: dict[str, Any]) -> set[str]:
    """Problem finding ids, with the two duplicate findings (confirmed, suspected) as one."""
    ids = {f["id"] for f in all_findings(document) if f["severity"] in PROBLEMS}
    return {"BUS-DUP" if i.startswith("BUS-DUP-") else i for i in ids}


LEDS_NORMAL = ["-o", "clu.power_led=steady", "-o", "clu.status_led=flashing"]

# scenario (with sim options) -> (extra arguments, expected problem findings, expected status)
CASES: dict[str, tuple[list[str], set[str], str]] = {
    "healthy-16": ([], set(), "ok"),
    "healthy-duo-8": ([], set(), "ok"),
    "healthy-rtu-4": ([], set(), "ok"),
    # one fault: XAXXY09's controller answers at address 1 (the two findings nest under it)
    "duplicate-address": ([], {"BUS-MISADDR-01", "BUS-DUP", "BUS-STATION-01"}, "critical"),
    "cable-break": ([], {"BUS-BREAK-01"}, "critical"),
    "cable-break?at=end": (LEDS_NORMAL, {"BUS-BREAK-01"}, "critical"),
    "unpowered-station": ([], {"BUS-STATION-01"}, "critical"),
    # 46 % of exchanges fail: above the default critical rate (10 %) of thresholds.corrupt_rate
    "long-unterminated": ([], {"BUS-NOISE-01", "SITE-CABLE-01"}, "critical"),
    "ab-swapped": ([], {"BUS-BREAK-01"}, "critical"),
    "clu-usb-dead": ([*LEDS_NORMAL, "-o", "clu.uptime_s=1h"], {"USB-DARK-01"}, "critical"),
    # waiting is neither fine nor a fault: unknown, with the seconds to wait
    "clu-booting": ([*LEDS_NORMAL, "-o", "clu.uptime_s=60"], set(), "unknown"),
    "station-f4": ([], {"BUS-UNPOLLED-01"}, "critical"),
    # The CLU is off the bus by plan (clu: disconnected): its dark interface is not a fault.
    "station-f4?clu=0": (
        [*LEDS_NORMAL, "-o", "clu.uptime_s=1h"],
        {"STATION-LOST-01"},
        "critical",
    ),
    # meters get meter advice (the profile says what the devices are)
    "meter-bus-duplicate": ([], {"METER-DUP-02"}, "warning"),
}


#: Seconds of listening (on the virtual clock): a dozen of the CLU's polling cycles.
LISTEN = "12"


def diagnose_sim(scenario: str, *extra: str) -> dict[str, Any]:
    args = ["diagnose", "--sim", scenario, "--listen-seconds", LISTEN]
    result = invoke(*args, *extra, "--json", "--no-input")
    assert "Traceback" not in result.stderr
    document: dict[str, Any] = result.json()
    assert result.code == document["exit_code"]
    return document


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_each_scenario_through_the_simulator(scenario: str) -> None:
    extra, expected, status = CASES[scenario]
    document = diagnose_sim(scenario, *extra)
    assert problems(document) == expected
    assert document["status"] == status
    assert document["evidence"]["listen"]["seconds"] > 0


def site_yaml(site: Site) -> str:
    """``site`` written as a site.yaml, as a technician would for that site."""
    lines = [f"name: {site.name}", f"adapter: {site.adapter_at}", f"clu: {site.clu}"]
    if site.line_settings is not None:
        lines.append(f"line: {site.line_settings}")
    if site.framing is not None:
        lines.append(f"framing: {site.framing}")
    if site.cable_m is not None:
        lines.append(f"cable_m: {site.cable_m:g}")
    lines.append("chain:")
    for station in site.chain:
        labels = (
            f"labels: [{', '.join(station.labels)}]"
            if station.model == "DUO"
            else f"label: {station.labels[0]}"
        )
        lines.append(f"  - {{address: {station.address}, model: {station.model}, {labels}}}")
    return "\n".join(lines) + "\n"


def technicians_arguments(scenario: str, tmp_path: Path, listen: str) -> list[str]:
    """``diagnose`` as a technician runs it at that site: a site file written for it (or, on a
    meter bus, the generic meter profile at the bus's line settings), no ``--sim``."""
    extra, _, _ = CASES[scenario]
    name, _, query = scenario.partition("?")
    options = dict(part.split("=") for part in query.split("&") if part)
    at = options.get("at")
    clu = None if "clu" not in options else options["clu"] != "0"
    plan = site_for(load_scenario(name).with_changes(adapter_at=at, clu_present=clu))  # type: ignore[arg-type]
    args = ["diagnose", "--listen-seconds", listen, "--json", "--no-input", *extra]
    if plan is not None:
        path = tmp_path / "site.yaml"
        path.write_text(site_yaml(plan), encoding="utf-8")
        args += ["--site", str(path)]
    else:  # a meter bus: the generic meter profile at the scenario's own line settings
        bus = load_scenario(name).bus
        args += ["--profile", "modbus-meter", "--baud", str(bus.settings.baudrate)]
        args += ["--parity", bus.settings.parity]
    return args


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_each_scenario_as_a_technician_would(scenario: str, tmp_path: Path) -> None:
    """The same sites opened as a port (``sim://``, as any pyserial URL), with a site file
    written for them."""
    _, expected, status = CASES[scenario]
    args = technicians_arguments(scenario, tmp_path, LISTEN)
    result = invoke(*args, "--port", f"sim://{scenario}")
    assert "Traceback" not in result.stderr
    document = result.json()
    assert problems(document) == expected, json.dumps(document["findings"])[:2000]
    assert document["status"] == status


def test_nothing_decodes_when_the_adapter_is_fixed_at_other_settings() -> None:
    """The line-setting search runs (it takes a window per candidate) and finds nothing: the
    bus cannot be judged (unknown), and the adapter is the first thing to look at."""
    document = diagnose_sim("wrong-adapter-settings")
    assert problems(document) == set()
    assert (document["status"], document["exit_code"]) == ("unknown", 3)
    assert document["findings"][0]["id"] == "BUS-GARBLE-01"
    detection = document["evidence"]["detection"]
    assert detection["outcome"] == "nothing_decodes"
    assert len(detection["candidates"]) > 5


def test_findings_carry_the_evidence_and_the_trace_names_the_probe() -> None:
    document = diagnose_sim("cable-break")
    [brk] = [f for f in all_findings(document) if f["id"] == "BUS-BREAK-01"]
    assert any("XAXXY06" in line and "XAXXY07" in line for line in brk["evidence"])
    reach = [s for t in document["trace"] for s in t["steps"] if s["key"] == "bus.reach"]
    assert reach and reach[0]["source"] == "probe" and reach[0]["value"] == "break"


def test_listening_never_transmits_while_the_clu_polls() -> None:
    """Only listen-derived evidence: no scan ran, and the reason is recorded."""
    document = diagnose_sim("healthy-16")
    evidence = document["evidence"]
    assert "scan" not in evidence and "duplicates" not in evidence


def test_quiet_bus_is_probed_actively() -> None:
    document = diagnose_sim("clu-usb-dead", *LEDS_NORMAL)
    scan = document["evidence"]["scan"]
    assert scan["lbt"]["quiet"] is True  # it listened before it talked
    assert sorted(scan["answered"]) == list(range(1, 9))
    assert scan["missing"] == []


# --- noise without a duplicate: a false positive is a bug ---------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_byte_errors_of_one_in_a_thousand_never_look_like_a_duplicate(
    tmp_path: Path, seed: int
) -> None:
    text = (scenarios_dir() / "healthy-16.yaml").read_text(encoding="utf-8")
    text = text.replace("  termination: both\n", "  termination: both\n  extra_byte_error: 0.001\n")
    assert "extra_byte_error" in text
    scenario = tmp_path / "noisy-16.yaml"
    scenario.write_text(text, encoding="utf-8")
    document = diagnose_sim(f"{scenario}?seed={seed}")
    ids = {f["id"] for f in all_findings(document)}
    assert not any(i.startswith("BUS-DUP") for i in ids), ids


# --- with a site file -------------------------------------------------------------------------


def site_file(tmp_path: Path, addresses: range, *, adapter: str = "clu") -> Path:
    lines = ["name: test site", f"adapter: {adapter}", "cable_m: 90", "chain:"]
    lines += [f"  - {{address: {a}, model: UNO, label: XAXXY{a:02d}}}" for a in addresses]
    path = tmp_path / "site.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("scenario", "stations", "expected"),
    [
        ("healthy-16", range(1, 17), set()),
        ("cable-break", range(1, 13), {"BUS-BREAK-01"}),
        ("unpowered-station", range(1, 9), {"BUS-STATION-01"}),
    ],
)
def test_a_port_with_a_site_file(
    tmp_path: Path, scenario: str, stations: range, expected: set[str]
) -> None:
    site = site_file(tmp_path, stations)
    result = invoke(
        "diagnose",
        "--port",
        f"sim://{scenario}",
        "--site",
        str(site),
        "--listen-seconds",
        LISTEN,
        "--json",
        "--no-input",
    )
    document = result.json()
    assert problems(document) == expected, json.dumps(document["findings"])[:2000]
    assert document["evidence"]["site"]["name"] == "test site"
