"""The layout every text format shares: areas, marks, problems first, the first step, and
evidence made short. Built from fixed findings; the command-line runs are in
test_diagnosis_layout.py."""

from __future__ import annotations

import json
from typing import ClassVar, NamedTuple

from clu_doctor.engine import (
    AnswerSource,
    Diagnosis,
    Finding,
    Layer,
    Observation,
    ReportedFinding,
    Severity,
    load_rulebook,
    parse_assignment,
)
from clu_doctor.report.console import OutputMode
from clu_doctor.report.diagnosis import render_json, render_text, summary_line
from clu_doctor.report.layout import (
    AREAS,
    Mark,
    area_lines,
    area_of_layer,
    first_step,
    in_display_order,
    ranges,
    tidy_evidence,
)
from tests.report.factories import diagnosis, reported

PLAIN = OutputMode(styled=False, width=100)


class Wait(NamedTuple):
    observation: str
    until: float


class WaitingFinding(Finding):
    """A finding whose rule declares a wait (as ``Finding.wait`` does, from the rules)."""

    wait: ClassVar[Wait] = Wait("clu.uptime_s", 150.0)


class Waiting(Diagnosis):
    """A diagnosis that can tell more in 90 s (as ``Diagnosis.wait_s`` will, from the engine)."""

    wait_s = 89.2


def waiting(*roots: ReportedFinding) -> Waiting:
    plain = diagnosis(*roots)
    return Waiting(plain.status, plain.findings, plain.traces, plain.observations)


def wait_finding(severity: Severity = Severity.UNKNOWN) -> ReportedFinding:
    base = reported(
        "USB-WAIT-01", severity, "The CLU is still starting; wait", layer=Layer.CLU_BOOT
    )
    return base._replace(
        finding=WaitingFinding(*base.finding._replace(remedy=("Wait until 150 s have passed.",)))
    )


# --- areas --------------------------------------------------------------------------------


def test_every_layer_belongs_to_exactly_one_area() -> None:
    named = [layer for area in AREAS for layer in area.layers]
    assert len(named) == len(set(named))
    assert {layer.value for layer in Layer} <= set(named)
    assert all(area_of_layer(layer) in AREAS for layer in Layer)
    assert len({area.name for area in AREAS}) == len(AREAS)


def test_problem_areas_come_first_then_fine_then_not_checked() -> None:
    result = diagnosis(
        reported("CLU-RUN-01", Severity.OK, layer=Layer.CLU_BOOT),
        reported("BUS-BREAK-01", Severity.CRITICAL, "The bus is interrupted"),
        reported("STATION-OK-01", Severity.OK, layer=Layer.STATION),
    )
    lines = area_lines(result)
    assert [(line.area.name, line.mark) for line in lines] == [
        ("Bus", Mark.PROBLEM),
        ("CLU", Mark.OK),
        ("Stations", Mark.OK),
        ("USB interface", Mark.NOT_CHECKED),
        ("Configuration", Mark.NOT_CHECKED),
        ("CloudCharge", Mark.NOT_CHECKED),
    ]
    assert lines[0].text == "The bus is interrupted"
    assert lines[3].text.startswith("not checked: ")


def test_a_consequence_marks_its_own_area_and_says_where_its_cause_is() -> None:
    root = reported(
        "CLU-PWR-01",
        Severity.CRITICAL,
        "The CLU has no power",
        layer=Layer.POWER,
        consequences=(
            reported("USB-CLU-01", Severity.CRITICAL, "No bus traffic", layer=Layer.USB_INTERFACE),
        ),
    )
    usb = next(line for line in area_lines(diagnosis(root)) if line.area.name == "USB interface")
    assert usb.mark is Mark.PROBLEM
    assert usb.text == "No bus traffic (follows from: CLU)"


def test_an_area_without_a_finding_is_fine_not_judged_or_not_checked_as_the_engine_says() -> None:
    """The engine decides (``Diagnosis.fine_layers``, ``held_back``); the line says it, and
    names what to deal with first."""
    running = reported("CLU-RUN-01", Severity.OK, layer=Layer.CLU_BOOT)
    silent = reported("USB-BUS-01", Severity.CRITICAL, "No charge point answers", layer=Layer.BUS)

    def line(result: Diagnosis, area: str) -> tuple[Mark, str]:
        found = next(line for line in area_lines(result) if line.area.name == area)
        return found.mark, found.text

    looked = diagnosis(running)._replace(fine_layers=frozenset({Layer.BUS}))
    assert line(looked, "Bus") == (Mark.OK, "nothing wrong found")
    assert line(diagnosis(running), "Bus")[0] is Mark.NOT_CHECKED
    held = diagnosis(running, silent)._replace(
        fine_layers=frozenset({Layer.STATION}), held_back=((Layer.STATION, "USB-BUS-01"),)
    )
    assert line(held, "Stations") == (Mark.NOT_CHECKED, "not judged: Bus first")


# --- order and the first step -------------------------------------------------------------


def test_problems_come_before_open_questions_and_what_is_fine() -> None:
    ok = reported("CLU-RUN-01", Severity.OK, layer=Layer.CLU_BOOT)
    ask = reported("CLOUD-ASK-01", Severity.UNKNOWN, layer=Layer.BACKEND)
    warning = reported("BUS-NOISE-01", Severity.WARNING)
    critical = reported("SITE-ADDR-01", Severity.CRITICAL, layer=Layer.CONFIGURATION)
    result = diagnosis(ok, ask, warning, critical)
    ordered = [item.id for item in in_display_order(result.findings, result)]
    # the engine's ranking (physical layer) is kept among the problems
    assert ordered == ["BUS-NOISE-01", "SITE-ADDR-01", "CLOUD-ASK-01", "CLU-RUN-01"]
    first = first_step(result)
    assert first is not None and (first.finding.id, first.step) == (
        "BUS-NOISE-01",
        "Fix BUS-NOISE-01.",
    )


def test_nothing_to_do_when_everything_checked_is_fine() -> None:
    assert first_step(diagnosis(reported("CLU-RUN-01", Severity.OK))) is None
    text = render_text(diagnosis(reported("CLU-RUN-01", Severity.OK)), PLAIN)
    assert "Nothing to do: no problem in what was checked." in text


# --- waiting ------------------------------------------------------------------------------


def test_a_waiting_run_is_its_own_result_not_ok() -> None:
    result = waiting(wait_finding(), reported("CLU-OK-01", Severity.OK, layer=Layer.CLU_BOOT))
    assert summary_line(result) == "WAIT: come back in 90 s"
    text = render_text(result, PLAIN)
    lines = text.splitlines()
    assert lines[-1] == "Result: WAIT: come back in 90 s  (exit 3)"
    assert "  …  CLU            The CLU is still starting; wait (come back in 90 s)" in lines
    assert "First: Wait until 150 s have passed." in lines
    assert any(line.startswith("WAIT      The CLU is still starting; wait") for line in lines)
    assert "Checked and fine:" in text and "nothing wrong found" not in lines[-1]
    document = json.loads(render_json(result))
    assert document["wait_s"] == 89.2
    assert document["summary"] == "WAIT: come back in 90 s"
    assert document["areas"][0]["mark"] == "wait"


def test_a_fault_outranks_the_wait_and_the_wait_is_still_named() -> None:
    result = waiting(wait_finding(), reported("SITE-ADDR-01", Severity.CRITICAL))
    assert summary_line(result) == "CRITICAL: 1 fault, come back in 90 s for the rest"


# --- evidence -----------------------------------------------------------------------------


def test_ranges_of_addresses() -> None:
    assert ranges([1, 2, 3, 4, 5, 6, 8]) == "1-6, 8"
    assert ranges([7, 9]) == "7, 9"
    assert ranges([3, 1, 2, 2]) == "1-3"
    assert ranges([]) == ""


def test_per_address_lines_collapse_into_one_with_their_numbers_spanned() -> None:
    lines = [
        "no station beyond XAXXY06 answers",
        "address 7: 29 polls (14 retries), no answer",
        "address 8: 28 polls (14 retries), no answer",
        "address 9: 28 polls (14 retries), no answer",
        "address 11: exception 2 (illegal data address)",
    ]
    assert tidy_evidence(lines) == [
        "no station beyond XAXXY06 answers",
        "addresses 7-9, each: 28-29 polls (14 retries), no answer",
        "address 11: exception 2 (illegal data address)",
    ]
    stations = [
        f"station {a} (XAXXY{a:02d}) did not answer in the first check (02:05 UTC)"
        for a in (7, 8, 9)
    ]
    assert tidy_evidence(stations) == [
        "stations 7-9, each: did not answer in the first check (02:05 UTC)"
    ]


def test_lists_become_ranges_statistics_are_left_out_and_shared_lines_go_last() -> None:
    lines = [
        "listened 10.0 s at 38400 8E1",
        "CLU polls 1, 2, 3, 4, 5, 6, 7; 6, 7 never answer",
        "address 1: 19 of 19 garbled (100 %); chance of that from line noise < 2.9e-24, from "
        "the bus's own error rate 3.3e-26",
        "CLU polls 1, 2, 3, 4, 5, 6, 7; 6, 7 never answer",
        "12 of 12 replies at address 1 were corrupt (100%), against 0 of 168 (0.0%) at the "
        "other addresses (Fisher exact test p = 6.0e-19)",
    ]
    assert tidy_evidence(lines, shared={"listened 10.0 s at 38400 8E1"}) == [
        "CLU polls 1-7; 6, 7 never answer",
        "address 1: 19 of 19 garbled (100 %)",
        "12 of 12 replies at address 1 were corrupt (100%), against 0 of 168 (0.0%) at the "
        "other addresses",
        "listened 10.0 s at 38400 8E1",
    ]


def test_default_text_shows_three_evidence_lines_why_and_verbose_show_all() -> None:
    evidence = (
        *(f"line {n} of what was seen" for n in range(1, 6)),
        "address 1: 19 of 19 garbled; chance of that < 2.9e-24",
    )
    result = diagnosis(reported("BUS-NOISE-01", Severity.WARNING, evidence=evidence))
    short = render_text(result, PLAIN)
    assert "line 3 of what was seen" in short and "line 4 of what was seen" not in short
    assert "(3 more lines: --why, -v or --json)" in short
    why = render_text(result, PLAIN, why=True)
    assert "line 5 of what was seen" in why and "address 1: 19 of 19 garbled" in why
    assert "2.9e-24" not in why
    verbose = render_text(result, PLAIN, verbose=True)
    assert "chance of that < 2.9e-24" in verbose
    # and the JSON keeps every line as the probes wrote it
    assert json.loads(render_json(result))["findings"][0]["evidence"] == list(evidence)


def test_steps_come_before_the_evidence_and_the_manual_after_them() -> None:
    text = render_text(
        diagnosis(reported("BUS-NOISE-01", Severity.WARNING, evidence=("seen on the bus",))),
        PLAIN,
    )
    order = [text.index(word) for word in ("What to do:", "Seen:", "Manual:")]
    assert order == sorted(order)


def test_the_bus_check_hint_names_no_simulator_and_goes_once_the_bus_was_heard() -> None:
    base = reported("USB-BUS-01", Severity.CRITICAL, layer=Layer.BUS)
    confirm = base._replace(finding=base.finding._replace(confirm_with="bus.end_of_bus"))
    led_only = render_text(diagnosis(confirm), PLAIN)
    assert "Bus check that would confirm it: an end-of-bus check" in led_only
    assert "--sim" not in led_only and "bus.end_of_bus" not in led_only
    heard = diagnosis(confirm)._replace(
        observations=(Observation("bus.traffic", "polling", AnswerSource.PROBE, "bus.listen"),)
    )
    assert "Bus check that would confirm it" not in render_text(heard, PLAIN)


def test_json_keeps_its_keys_and_adds_the_summary_areas() -> None:
    rulebook = load_rulebook()
    observations = {
        o.key: o
        for o in (
            parse_assignment("clu.power_led=off", rulebook.vocabulary),
            parse_assignment("clu.status_led=off", rulebook.vocabulary),
        )
    }
    document = json.loads(render_json(rulebook.diagnose(observations)))
    assert list(document)[:6] == [
        "schema",
        "schema_version",
        "tool",
        "language",
        "status",
        "exit_code",
    ]
    for key in ("summary", "findings", "trace", "observations", "areas", "first_step", "wait_s"):
        assert key in document
    assert document["first_step"]["finding"] == "CLU-PWR-01"
    assert document["areas"][0] == {
        "area": "CLU",
        "area_title": "CLU",
        "mark": "problem",
        "severity": "critical",
        "text": "The CLU has no power",
        "findings": ["CLU-PWR-01"],
    }
    assert document["wait_s"] is None


class Reconciled(Diagnosis):
    """A diagnosis whose engine withdrew an OK claim (as ``Diagnosis.withdrawn`` will)."""

    withdrawn = (
        reported("BUS-OK-01", Severity.OK, "Every station of the site answers")._replace(
            contradicted_by=("BUS-BREAK-01",)
        )
        if "contradicted_by" in ReportedFinding._fields
        else reported("BUS-OK-01", Severity.OK, "Every station of the site answers"),
    )


def test_why_names_the_ok_claims_a_fault_withdrew_and_the_default_text_does_not() -> None:
    plain = diagnosis(reported("BUS-BREAK-01", Severity.CRITICAL, "The bus is interrupted"))
    result = Reconciled(plain.status, plain.findings, plain.traces, plain.observations)
    assert "Every station of the site answers" not in render_text(result, PLAIN)
    why = render_text(result, PLAIN, why=True)
    assert "Not reported as fine (a fault of this run contradicts it):" in why
    assert "  Every station of the site answers  BUS-OK-01" in why
