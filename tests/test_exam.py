"""The exam: composite situations through the command line, judged by their conclusion.

Each case is what a technician might face - a bundled scenario, a scenario with answers, the
LEDs alone, two faults at once, a fault with the symptom it explains, the technician's own
mistake - and what the tool must conclude: the first root cause it shows, that cause's
severity, the exit code, and the claims it must NOT make as "fine". Then a property over every
bundled scenario and a set of answers: no "fine" line contradicts a problem of the same run,
and every problem has steps to take.

All runs are in-process on the virtual clock (tests/conftest.py), so a 10-second listen costs
no wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.engine.model import Layer
from clu_doctor.sim.scenario_reader import list_scenarios
from tests.commands.helpers import invoke

RULEBOOK = load_rulebook()
PROBLEMS = ("critical", "warning")

LEDS_NORMAL = ("clu.power_led=steady", "clu.status_led=flashing")
USB_DARK = ("usb.red_led=off", "usb.green_led=off")


@dataclass(frozen=True)
class Case:
    """What a technician faces, and what the tool must conclude from it."""

    name: str
    #: ``--sim`` scenario (with options), or None for the LEDs alone.
    sim: str | None
    observe: tuple[str, ...]
    #: The first root cause shown, its severity, and the exit code.
    first: str
    severity: str
    exit_code: int
    #: Finding ids that must not be shown as fine (an OK finding with that id), or
    #: (id, title) pairs: that id may be fine only with another, scoped title.
    not_fine: tuple[str | tuple[str, str], ...] = ()
    #: Ids that must be shown nested under the first root cause, not as faults of their own.
    nested: tuple[str, ...] = ()
    #: Words that must not appear anywhere in the text output.
    never_said: tuple[str, ...] = ()


CASES = [
    # --- one fault, every bundled scenario --------------------------------------------------
    Case("healthy site", "healthy-16", (), "CLU-RUN-01", "ok", 0),
    Case("healthy DUO site", "healthy-duo-8", (), "CLU-RUN-01", "ok", 0),
    Case("healthy RTU site", "healthy-rtu-4", (), "CLU-RUN-01", "ok", 0),
    Case("healthy first-generation site", "healthy-evcc1-8", (), "CLU-RUN-01", "ok", 0),
    Case(
        "both ABL generations on one bus",
        "mixed-generations",
        (),
        "CLU-RUN-01",
        "ok",
        0,
        never_said=("BUS-UNPOLLED-01", "BUS-DUP-02"),
    ),
    Case(
        "a mixed site with a fault on each side",
        "mixed-generations-faults",
        (),
        "BUS-STATION-01",
        "critical",
        2,
        not_fine=("BUS-OK-01", ("STATION-OK-01", "Every controller reports a normal state")),
        never_said=("BUS-UNPOLLED-01", "BUS-MISADDR-01"),
    ),
    Case(
        "cable cut between stations 6 and 7",
        "cable-break",
        (),
        "BUS-BREAK-01",
        "critical",
        2,
        not_fine=(
            "BUS-OK-01",
            ("USB-OK-01", "The CLU polls the bus and gets answers"),
            ("STATION-OK-01", "Every controller reports a normal state"),
        ),
    ),
    Case(
        "cable cut, seen from the far end (the adapter at the end of the bus)",
        "cable-break?at=end",
        LEDS_NORMAL,
        "BUS-BREAK-01",
        "critical",
        2,
        not_fine=("BUS-OK-01",),
    ),
    Case(
        "one unpowered station",
        "unpowered-station",
        (),
        "BUS-STATION-01",
        "critical",
        2,
        not_fine=("BUS-OK-01", ("STATION-OK-01", "Every controller reports a normal state")),
    ),
    Case(
        "A/B crossed at one station",
        "ab-swapped",
        (),
        "BUS-BREAK-01",
        "critical",
        2,
        not_fine=("BUS-OK-01",),
    ),
    Case(
        "long unterminated bus",
        "long-unterminated",
        (),
        "BUS-NOISE-01",
        "critical",
        2,
        not_fine=("STATION-OK-01",),
    ),
    Case(
        "the CLU's USB interface is dead",
        "clu-usb-dead",
        (*LEDS_NORMAL, "clu.uptime_s=1h"),
        "USB-DARK-01",
        "critical",
        2,
        not_fine=("USB-OK-01",),
    ),
    Case(
        "the CLU never polls address 7, whose controller shows F4",
        "station-f4",
        (),
        "BUS-UNPOLLED-01",
        "critical",
        2,
        not_fine=(
            ("BUS-OK-01", "Every station of the site answers on the bus"),
            ("STATION-OK-01", "Every controller reports a normal state"),
        ),
    ),
    Case(
        "the CLU off the bus by plan, a controller in F4",
        "station-f4?clu=0",
        (*LEDS_NORMAL, "clu.uptime_s=1h"),
        "STATION-LOST-01",
        "critical",
        2,
        not_fine=("STATION-OK-01",),
    ),
    # --- two faults that are one --------------------------------------------------------------
    Case(
        "a replaced controller kept the factory address 1: silent 9 and doubled 1 are one fault",
        "duplicate-address",
        (),
        "BUS-MISADDR-01",
        "critical",
        2,
        not_fine=("BUS-OK-01",),
        nested=("BUS-STATION-01", "BUS-DUP-02"),
        never_said=("Switch off half",),
    ),
    # --- a fault and a symptom it explains -----------------------------------------------------
    Case(
        "a vehicle does not charge beyond a cable break",
        "cable-break",
        ("charging.starts=no",),
        "BUS-BREAK-01",
        "critical",
        2,
        not_fine=("BUS-OK-01",),
        nested=("USB-ADDR-02",),
    ),
    Case(
        "the CLU does not start, and the portal was answered as online",
        None,
        (
            "clu.power_led=steady",
            "clu.status_led=steady",
            "cloud.heartbeat_timeout=no",
        ),
        "CLU-BOOT-01",
        "critical",
        2,
        not_fine=("CLOUD-OK-01", "USB-OK-01"),
    ),
    Case(
        "no power at all",
        None,
        ("clu.power_led=off", "clu.status_led=off"),
        "CLU-PWR-01",
        "critical",
        2,
        not_fine=("CLU-OK-01", "USB-OK-01", "CLOUD-OK-01"),
    ),
    # --- waiting is not OK ------------------------------------------------------------------
    Case(
        "the CLU was powered a minute ago and the bus is still silent",
        "clu-booting",
        (*LEDS_NORMAL, *USB_DARK, "clu.uptime_s=60"),
        "USB-WAIT-01",
        "unknown",
        3,
        not_fine=("USB-OK-01",),
    ),
    Case(
        "the LEDs alone, a minute after power-up",
        None,
        (*LEDS_NORMAL, *USB_DARK, "clu.uptime_s=60"),
        "USB-WAIT-01",
        "unknown",
        3,
        not_fine=("USB-OK-01",),
    ),
    # --- what the answers prove ----------------------------------------------------------------
    Case(
        "the red LED unknown, but the interface blinks both ways and a vehicle charges",
        None,
        (
            "clu.power_led=?",
            "usb.red_led=flashing",
            "usb.green_led=flashing",
            "charging.starts=yes",
        ),
        "CLU-RUN-02",
        "ok",
        0,
    ),
    # --- the technician's own tools ------------------------------------------------------------
    Case(
        "the technician's adapter is fixed at other line settings",
        "wrong-adapter-settings",
        (),
        "BUS-GARBLE-01",
        "unknown",
        3,
    ),
    Case(
        "the technician set the wrong baud rate by hand",
        "healthy-16",
        (),
        "BUS-SETTINGS-01",
        "unknown",
        3,
        never_said=("CRITICAL",),
    ),
    # --- the device that is there ------------------------------------------------------------
    Case(
        "two energy meters on one address get meter advice",
        "meter-bus-duplicate",
        (),
        "METER-DUP-02",
        "warning",
        1,
        never_said=("charge controller", "DUO", "0x0050", "§12"),
    ),
]

EXTRA_ARGS = {"the technician set the wrong baud rate by hand": ("--baud", "9600")}


def run(case: Case, *, json_output: bool) -> Any:
    args = ["diagnose", "--no-input"]
    if case.sim is not None:
        args += ["--sim", case.sim]
    for item in case.observe:
        args += ["-o", item]
    args += list(EXTRA_ARGS.get(case.name, ()))
    if json_output:
        args.append("--json")
    result = invoke(*args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def walk(findings: list[dict[str, Any]], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    for item in findings:
        yield depth, item
        yield from walk(item["consequences"], depth + 1)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_first_root_cause_and_what_is_not_called_fine(case: Case) -> None:
    result = run(case, json_output=True)
    document = result.json()
    first = document["findings"][0]
    assert (first["id"], first["severity"]) == (case.first, case.severity), [
        (f["id"], f["severity"]) for f in document["findings"]
    ]
    assert result.code == document["exit_code"] == case.exit_code
    fine = {item["id"]: item for _, item in walk(document["findings"]) if item["severity"] == "ok"}
    for claim in case.not_fine:
        if isinstance(claim, str):
            assert claim not in fine, f"{claim} shown as fine: {fine[claim]['title']}"
        else:
            fid, unscoped = claim
            if fid in fine:
                assert fine[fid]["title"] != unscoped, f"{fid} claims '{unscoped}'"
    nested = {item["id"] for depth, item in walk(first["consequences"], 1)}
    for fid in case.nested:
        assert fid in nested, f"{fid} is not shown under {case.first}"
        assert fid not in {item["id"] for item in document["findings"]}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_text_leads_with_what_to_do(case: Case) -> None:
    text = run(case, json_output=False).stdout
    assert text.startswith("Summary"), text[:200]
    if case.severity in PROBLEMS:
        head = text.split("\n\n")[:3]
        assert any(part.lstrip().startswith("First:") for part in head), head
    for words in case.never_said:
        assert words not in text, f"{words!r} in the output"


def test_the_exam_covers_every_bundled_scenario() -> None:
    examined = {case.sim.partition("?")[0] for case in CASES if case.sim is not None}
    assert examined == {name for name, _ in list_scenarios()}


# --- the property: no fine claim contradicts a problem; every problem has steps -------------
#
# A claim of "fine" about a layer holds only while the layers it needs work (rules/layers.yaml):
# a fault at such a layer contradicts it, unless the fault is about some stations and the claim
# is scoped to the others. Faults at the claim's own layer may stand beside it when both are
# true ("every station answers" beside "corrupted frames"); the table above pins the cases where
# they may not.

ANSWERS: dict[str, tuple[str, ...]] = {
    "no answers": (),
    "normal LEDs, powered an hour ago": (*LEDS_NORMAL, "clu.uptime_s=1h"),
    "USB interface dark, an hour after power-up": (*LEDS_NORMAL, *USB_DARK, "clu.uptime_s=1h"),
    "a vehicle does not charge, portal offline": (
        "charging.starts=no",
        "cloud.heartbeat_timeout=yes",
    ),
}


def _needs(layer: str) -> set[str]:
    """Every layer ``layer`` needs, directly or through others (rules/layers.yaml)."""
    found: set[str] = set()
    todo = [Layer(layer)]
    while todo:
        for needed in RULEBOOK.layers[todo.pop()].depends_on:
            if needed.value not in found:
                found.add(needed.value)
                todo.append(needed)
    return found


@pytest.mark.parametrize("answers", sorted(ANSWERS))
@pytest.mark.parametrize("scenario", sorted(name for name, _ in list_scenarios()))
def test_no_fine_claim_contradicts_a_problem_and_every_problem_has_steps(
    scenario: str, answers: str
) -> None:
    args = ["diagnose", "--sim", scenario, "--no-input", "--json", "--listen-seconds", "5"]
    for item in ANSWERS[answers]:
        args += ["-o", item]
    result = invoke(*args)
    assert "Traceback" not in result.stderr, result.stderr
    document = result.json()
    items = [item for _, item in walk(document["findings"])]
    problems = [item for item in items if item["severity"] in PROBLEMS]
    for problem in problems:
        assert problem["remedy"], f"{problem['id']} has no steps"
    for fine in (item for item in items if item["severity"] == "ok"):
        needs = _needs(fine["layer"])
        for problem in problems:
            if problem["layer"] not in needs:
                continue
            # A fault about some stations leaves room for a claim about the others, scoped.
            assert problem["addresses"] and fine["title"] != fine["own_title"], (
                f"{fine['id']} ({fine['title']}) shown as fine beside {problem['id']}"
            )
