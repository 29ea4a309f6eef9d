"""``diagnose`` reasons across the evidence: the examples of issue 10, through the command line.

Each test runs ``clu-doctor diagnose`` in-process (the simulator on the virtual clock) and reads
the JSON a user or a script would get. What is checked is what a technician would see: the
first root cause and its steps, which findings sit under it, which OK claims are made and how
far they go, and the exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.resources import scenarios_dir
from tests.commands.helpers import invoke

LISTEN = "12"
LEDS_NORMAL = ("-o", "clu.power_led=steady", "-o", "clu.status_led=flashing")


def diagnose(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("diagnose", *args, "--json", "--no-input")
    assert "Traceback" not in result.stderr
    document: dict[str, Any] = result.json()
    assert result.code == document["exit_code"]
    return result.code, document


def sim(scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    return diagnose("--sim", scenario, "--listen-seconds", LISTEN, *extra)


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item["consequences"])


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in walk(document["findings"])}


def fine(document: dict[str, Any]) -> dict[str, str]:
    """The OK findings as shown: id -> the title the user reads."""
    return {i: f["title"] for i, f in by_id(document).items() if f["severity"] == "ok"}


def first_root(document: dict[str, Any]) -> dict[str, Any]:
    """The first root cause a technician would act on: the first non-OK root."""
    return next(f for f in document["findings"] if f["severity"] not in ("ok", "info"))


# --- no OK finding contradicts a fault of the same run -------------------------------------------


def test_a_station_the_clu_never_polls_is_not_called_answering_or_normal() -> None:
    code, document = sim("station-f4")
    assert code == 2
    assert first_root(document)["id"] == "BUS-UNPOLLED-01"
    assert first_root(document)["addresses"] == [7]
    shown = fine(document)
    assert shown["BUS-OK-01"] == "Every station the CLU polls answers on the bus"
    assert shown["STATION-OK-01"] == "The controllers that answered report a normal state"
    assert "Every station of the site answers on the bus" not in shown.values()
    assert "Every controller reports a normal state" not in shown.values()


def test_a_break_leaves_only_scoped_claims_about_the_stations() -> None:
    code, document = sim("cable-break")
    assert code == 2
    assert first_root(document)["id"] == "BUS-BREAK-01"
    assert first_root(document)["addresses"] == [7, 8, 9, 10, 11, 12]
    shown = fine(document)
    assert shown["USB-OK-01"] == (
        "The CLU polls the bus and gets answers, though not from every address"
    )
    assert shown["STATION-OK-01"] == "The controllers that answered report a normal state"
    ok = by_id(document)["STATION-OK-01"]
    assert ok["partial"] and ok["addresses"] == [1, 2, 3, 4, 5, 6]


def test_a_healthy_site_keeps_its_full_claims() -> None:
    code, document = sim("healthy-16")
    assert code == 0
    assert fine(document) == {
        "CLU-RUN-01": "The CLU is running (it polls the bus)",
        "USB-OK-01": "The CLU polls the bus and gets answers",
        "BUS-OK-01": "Every station of the site answers on the bus",
        "STATION-OK-01": "Every controller reports a normal state",
    }
    assert document["withdrawn"] == []


def test_a_clu_that_does_not_start_withdraws_the_portals_ok() -> None:
    code, document = diagnose(
        *("-o", "clu.power_led=steady", "-o", "clu.status_led=steady"),
        *("-o", "cloud.heartbeat_timeout=no", "-o", "cloud.meter_data_missing=no"),
    )
    assert code == 2
    assert first_root(document)["id"] == "CLU-BOOT-01"
    assert "CLOUD-OK-01" not in by_id(document)
    [withdrawn] = document["withdrawn"]
    assert withdrawn["id"] == "CLOUD-OK-01"
    assert withdrawn["contradicted_by"] == ["CLU-BOOT-01"]


# --- one fault, not two: the misaddressed controller ---------------------------------------------


def test_a_silent_station_and_a_doubled_address_are_one_fault() -> None:
    code, document = sim("duplicate-address")
    assert code == 2
    root = first_root(document)
    assert root["id"] == "BUS-MISADDR-01"
    assert root["title"] == "The controller of XAXXY09 answers at address 1, not at address 9"
    assert root["addresses"] == [1, 9]
    assert root["remedy"][0].startswith(
        "At XAXXY09, set the controller's address to address 9, the one its outlet label "
        "carries (manual §11, §12)."
    )
    assert {c["id"] for c in root["consequences"]} == {"BUS-STATION-01", "BUS-DUP-02"}
    roots = [f["id"] for f in document["findings"] if f["severity"] not in ("ok", "info")]
    assert roots == ["BUS-MISADDR-01"], "the symptoms are not separate faults"
    steps = " ".join(root["remedy"])
    assert "has power" not in steps and "half" not in steps
    assert not any("next step" in line for line in root["evidence"])


def test_the_misaddressed_controller_is_named_by_its_serial_when_identities_were_read(
    tmp_path: Path,
) -> None:
    """With the CLU off the bus the tool reads the identities itself; a replacement that
    answers a little later than the original lets both be read cleanly."""
    text = (scenarios_dir() / "duplicate-address.yaml").read_text(encoding="utf-8")
    slow = text.replace("turnaround_ms: 10, jitter_ms: 6}", "turnaround_ms: 18, jitter_ms: 1}")
    assert slow != text
    scenario = tmp_path / "replaced-controller.yaml"
    scenario.write_text(slow, encoding="utf-8")
    code, document = sim(f"{scenario}?clu=0", *LEDS_NORMAL, "-o", "clu.uptime_s=1h")
    assert code == 2
    root = first_root(document)
    assert root["id"] == "BUS-MISADDR-01"
    assert "serial AB190042" in root["remedy"][0] and "serial DF230101" in root["remedy"][0]
    assert {c["id"] for c in root["consequences"]} == {"BUS-STATION-01", "BUS-DUP-01"}


# --- waiting is its own outcome ------------------------------------------------------------------


def test_a_booting_clu_heard_on_the_bus_is_come_back_later_not_ok() -> None:
    code, document = sim("clu-booting", *LEDS_NORMAL, "-o", "clu.uptime_s=60")
    assert code == 3
    assert (document["status"], document["wait_s"]) == ("unknown", 90.0)
    wait = by_id(document)["USB-WAIT-01"]
    assert wait["severity"] == "unknown"
    assert wait["wait"] == {"observation": "clu.uptime_s", "until": 150}


def test_dark_usb_leds_a_minute_after_power_up_are_a_wait_from_the_leds_alone() -> None:
    code, document = diagnose(
        *LEDS_NORMAL,
        *("-o", "usb.red_led=off", "-o", "usb.green_led=off", "-o", "clu.uptime_s=1m"),
    )
    assert (code, document["status"], document["wait_s"]) == (3, "unknown", 90.0)
    assert not any(f["severity"] in ("critical", "warning") for f in walk(document["findings"]))


def test_after_150_s_the_same_leds_are_a_fault_and_nothing_is_waited_for() -> None:
    code, document = diagnose(
        *LEDS_NORMAL,
        *("-o", "usb.red_led=off", "-o", "usb.green_led=off", "-o", "clu.uptime_s=3m"),
    )
    assert (code, document["wait_s"]) == (2, None)
    assert first_root(document)["id"] == "USB-DARK-01"


# --- what the answers prove ----------------------------------------------------------------------


def test_usb_traffic_and_a_charging_vehicle_decide_without_the_red_led() -> None:
    code, document = diagnose(
        *("-o", "clu.power_led=?", "-o", "usb.red_led=flashing", "-o", "usb.green_led=flashing"),
        *("-o", "charging.starts=yes"),
    )
    assert code == 0
    ids = by_id(document)
    assert "CLU-ASK-01" not in ids
    assert ids["CLU-RUN-02"]["title"] == "The CLU has power and runs, as the other answers show"


def test_a_vehicle_that_does_not_charge_beyond_a_break_is_explained_by_it() -> None:
    code, document = sim("cable-break", "-o", "charging.starts=no")
    assert code == 2
    root = first_root(document)
    assert root["id"] == "BUS-BREAK-01"
    assert [c["id"] for c in root["consequences"]] == ["USB-ADDR-02"]
    assert [f["id"] for f in document["findings"] if f["severity"] == "warning"] == []


# --- the technician's own adapter is never the site's fault --------------------------------------


def test_an_adapter_fixed_at_other_settings_leaves_the_bus_unjudged() -> None:
    code, document = sim("wrong-adapter-settings")
    assert (code, document["status"]) == (3, "unknown")
    root = document["findings"][0]
    assert root["id"] == "BUS-GARBLE-01" and root["layer"] == "adapter"
    lines = [line for item in walk(document["findings"]) for line in item["evidence"]]
    tried = [line for line in lines if "tried" in line]
    assert len(tried) == 1, tried  # one consistent count, said once


def test_an_adapter_at_the_wrong_settings_names_both_and_is_unknown() -> None:
    code, document = sim("healthy-16", "--baud", "9600")
    assert (code, document["status"]) == (3, "unknown")
    root = document["findings"][0]
    assert root["id"] == "BUS-SETTINGS-01"
    assert root["title"] == (
        "Your adapter listens at 9600 8E1 (ascii), but the bus runs at 38400 8E1 (ascii)"
    )
    assert root["remedy"][0].startswith("Set the adapter to 38400 8E1 (ascii)")
    # the bus itself was judged at the settings found
    assert fine(document)["BUS-OK-01"] == "Every station of the site answers on the bus"


# --- advice that fits the device -----------------------------------------------------------------


@pytest.mark.parametrize("word", ["controller", "DUO", "0x0050", "§12", "label"])
def test_the_meter_bus_gets_meter_advice(word: str) -> None:
    code, document = sim("meter-bus-duplicate")
    assert code == 1
    root = first_root(document)
    assert root["id"] == "METER-DUP-02"
    assert root["title"] == "Two energy meters on one address are suspected"
    said = " ".join([root["title"], root["cause"], *root["remedy"], *root["evidence"]])
    assert word not in said
    assert "meter" in said


def test_charge_points_keep_controller_advice() -> None:
    _, document = sim("duplicate-address")
    dup = by_id(document)["BUS-DUP-02"]
    assert "controllers" in dup["cause"]


def test_a_usb_interface_whose_leds_show_the_traffic_is_not_called_unchecked() -> None:
    """Red blinking, green dark, after start-up: the fault lies beyond the interface. The
    summary must not ask again for the LEDs the technician just described."""
    result = invoke(
        "diagnose",
        "--no-input",
        "-o",
        "clu.power_led=steady",
        "-o",
        "clu.status_led=flashing",
        "-o",
        "usb.red_led=flashing",
        "-o",
        "usb.green_led=off",
        "-o",
        "clu.uptime_s=5m",
    )
    assert result.code == 2
    usb = next(line for line in result.stdout.splitlines() if "USB interface" in line)
    assert "nothing wrong found" in usb
    assert "not checked" not in usb
    # without the USB LEDs, it is still not checked
    unseen = invoke("diagnose", "--no-input", "-o", "clu.power_led=steady")
    usb = next(line for line in unseen.stdout.splitlines() if "USB interface" in line)
    assert "not checked" in usb


def areas(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {line["area"]: (line["mark"], line["text"]) for line in document["areas"]}


def test_what_the_adapter_cannot_decode_is_not_called_fine() -> None:
    """The technician's adapter at the wrong line setting: bytes, nothing decodes. The bus and
    its charge points were never heard, so they are not judged, and the summary says the
    adapter comes first."""
    code, document = sim("wrong-adapter-settings")
    assert code == 3
    shown = areas(document)
    assert shown["Bus"] == ("not checked", "not judged: Your adapter first")
    assert shown["Stations"] == ("not checked", "not judged: Your adapter first")
    assert shown["Your adapter"][0] == "undecided"
    assert document["first_step"]["finding"] == "BUS-GARBLE-01"


def test_no_charge_point_is_fine_while_none_answers() -> None:
    """The CLU polls, nothing answers: the fault is the bus's, and the stations are not
    judged until it is fixed, rather than "nothing wrong found"."""
    code, document = diagnose(
        "-o", "bus.traffic=unanswered", "-o", "clu.power_led=steady", "-o", "clu.status_led=steady"
    )
    assert code == 2
    shown = areas(document)
    assert shown["Bus"][0] == "problem"
    assert shown["Stations"] == ("not checked", "not judged: Bus first")
