"""Nagios / Icinga output keeps the Monitoring Plugins development guidelines."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.engine import Severity
from clu_doctor.monitoring.result import CheckResult
from clu_doctor.report.nagios import (
    UNKNOWN_EXIT,
    Perfdata,
    perf_label,
    perf_number,
    perfdata,
    render_nagios,
    render_nagios_unknown,
)
from clu_doctor.site.model import RateThreshold, SilentThreshold, Thresholds
from tests.report.factories import (
    diagnosis,
    every_severity,
    healthy,
    reported,
    silent_station,
    with_status,
)

STATUS_LINE = re.compile(
    r"^CLU-DOCTOR (?P<word>OK|WARNING|CRITICAL|UNKNOWN) - (?P<text>[^|\n]+?)"
    r"(?: \| (?P<perf>[^|\n]+))?$"
)
# 'label'=value[UOM];[warn];[crit];[min];[max] with ranges like 10, 10:, ~:10, 10:20, @10:20
_NUM = r"-?[0-9]+(?:\.[0-9]+)?"
_RANGE = rf"(?:@?(?:~|{_NUM})?:?(?:{_NUM})?)"
PERF_ITEM = re.compile(
    rf"^(?:'[^'=]+'|[^'= ]+)=(?:{_NUM}(?:s|ms|us|%|B|KB|MB|TB|c)?|U)"
    rf"(?:;{_RANGE}(?:;{_RANGE}(?:;(?:{_NUM})?(?:;(?:{_NUM})?)?)?)?)?$"
)
WORDS = {
    Severity.OK: ("OK", 0),
    Severity.INFO: ("OK", 0),
    Severity.WARNING: ("WARNING", 1),
    Severity.CRITICAL: ("CRITICAL", 2),
    Severity.UNKNOWN: ("UNKNOWN", 3),
}
FIXTURES = [healthy(), silent_station(), every_severity()]


def check_guidelines(output: str) -> re.Match[str]:
    """The shape every plugin output must have; returns the status line's match."""
    assert output.endswith("\n")
    lines = output.rstrip("\n").split("\n")
    match = STATUS_LINE.match(lines[0])
    assert match, lines[0]
    assert output.count("|") == (1 if match.group("perf") else 0), "a | outside the perfdata"
    if match.group("perf"):
        for item in match.group("perf").split(" "):
            assert PERF_ITEM.match(item), item
    assert all(line.strip() for line in lines), "no empty long-output lines"
    return match


@pytest.mark.parametrize("result", FIXTURES, ids=["healthy", "silent", "every-severity"])
def test_every_output_keeps_the_guidelines(result: CheckResult) -> None:
    check_guidelines(render_nagios(result, thresholds=Thresholds()))


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_gives_its_status_word_and_exit_code(severity: Severity) -> None:
    result = with_status(healthy(), severity)
    match = check_guidelines(render_nagios(result, thresholds=Thresholds()))
    word, code = WORDS[severity]
    assert match.group("word") == word
    assert result.exit_code == code


def test_a_healthy_site_in_one_line() -> None:
    first = render_nagios(healthy(), thresholds=Thresholds()).split("\n")[0]
    assert first == (
        "CLU-DOCTOR OK - Solsiden garage B: 16/16 stations answering | stations_expected=16;;;0;16 "
        "stations_answering=16;16:;16:;0;16 duplicate_addresses=0;;0;0;16 "
        "corrupt_answers=0%;2;10;0;100 duration=21.5s;;;0"
    )


def test_the_status_line_names_the_silent_station_and_the_worst_finding() -> None:
    first = render_nagios(silent_station(), thresholds=Thresholds()).split("\n")[0]
    assert first.startswith(
        "CLU-DOCTOR CRITICAL - Solsiden garage B: 15/16 stations answering (silent: 7 (XAXXY07)); "
        "BUS-STATION-01 A planned station does not answer (+1 more) | "
    )


def test_long_output_problems_first_with_their_first_step_consequences_indented() -> None:
    lines = render_nagios(silent_station(), thresholds=Thresholds()).rstrip("\n").split("\n")
    assert lines[1:] == [
        "started 2026-11-25T03:15:00Z; listen mode; 15/16 stations answering; silent: 7 (XAXXY07)",
        "[CRITICAL] BUS-STATION-01 A planned station does not answer",
        "    first step: Check that the silent station has power (its breaker and its own display).",
        "    - station 7 (XAXXY07): 40 polls, no answer",
        "    - station 7 (XAXXY07) answered in every check until 03:00 UTC and has been silent "
        "since 03:15 UTC (1 check)",
        "  [WARNING] STATION-LOST-01 Charging at the outlet stops when its session ends "
        "(consequence of BUS-STATION-01)",
        "[OK] CLU-RUN-01 The CLU is polling the bus",
        "ignored until 2026-12-31: BUS-NOISE-01 (warning) at address 9: cable at the ramp is "
        "replaced in December (/etc/clu-doctor/site.yaml:40)",
    ]


def test_pipes_and_line_breaks_in_text_never_reach_the_output() -> None:
    output = render_nagios(every_severity(), thresholds=Thresholds())
    check_guidelines(output)
    assert "A critical finding / with a pipe, 'quotes' = signs" in output
    assert "evidence for critical second line" in output  # two lines joined into one


def test_perfdata_ranges_follow_the_site_thresholds() -> None:
    thresholds = Thresholds(SilentThreshold(warning=1, critical=3), RateThreshold(0.01, 0.05))
    items = {p.label: str(p) for p in perfdata(silent_station(), thresholds)}
    assert items["stations_answering"] == "stations_answering=15;16:;14:;0;16"
    assert items["corrupt_answers"] == "corrupt_answers=0.167%;1;5;0;100"
    assert items["duplicate_addresses"] == "duplicate_addresses=0;;0;0;16"
    # A threshold that cannot be reached with so few stations gives no range at all.
    small = dataclasses.replace(healthy(), stations=healthy().stations[:2])
    items = {p.label: str(p) for p in perfdata(small, Thresholds(SilentThreshold(1, 3)))}
    assert items["stations_answering"] == "stations_answering=2;2:;;0;2"


def test_an_unknown_corrupt_rate_is_U() -> None:
    items = {p.label: str(p) for p in perfdata(every_severity(), Thresholds())}
    assert items["corrupt_answers"] == "corrupt_answers=U;2;10;0;100"


def test_could_not_check_is_unknown_never_critical() -> None:
    output = render_nagios_unknown(
        "Solsiden garage B", "port /dev/ttyUSB0 is busy", 0.0123, hint="wait | retry"
    )
    match = check_guidelines(output)
    assert match.group("word") == "UNKNOWN"
    assert output == (
        "CLU-DOCTOR UNKNOWN - Solsiden garage B: could not check: port /dev/ttyUSB0 is busy "
        "| duration=0.012s;;;0\nhint: wait / retry\n"
    )
    assert UNKNOWN_EXIT == 3
    assert render_nagios_unknown(None, "site.yaml:3: unknown key 'x'") == (
        "CLU-DOCTOR UNKNOWN - could not check: site.yaml:3: unknown key 'x'\n"
    )


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("duration", "duration"),
        ("station 7", "'station 7'"),
        ("a=b", "a_b"),
        ("it's", "it_s"),
        ("x|y", "x/y"),
        ("bay 1 = 'visitor'", "'bay 1 _ _visitor_'"),
    ],
)
def test_labels_are_quoted_when_needed_and_never_hold_quotes_or_equals(
    label: str, shown: str
) -> None:
    assert perf_label(label) == shown
    assert PERF_ITEM.match(f"{perf_label(label)}=1")


def test_numbers_are_c_locale_without_needless_zeros() -> None:
    assert [perf_number(v) for v in (16, 21.5, 0.1666666, 0.0, 3.0, 0.0004)] == [
        "16",
        "21.5",
        "0.167",
        "0",
        "3",
        "0",
    ]
    assert str(Perfdata("x", 1)) == "x=1"
    assert str(Perfdata("x", 1, "s", min=0)) == "x=1s;;;0"
    assert str(Perfdata("x", None, crit="0")) == "x=U;;0"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(site=TEXT, title=TEXT, evidence=st.lists(TEXT, max_size=3), message=TEXT)
def test_any_text_keeps_the_guidelines(
    site: str, title: str, evidence: list[str], message: str
) -> None:
    root = reported("TEST-ANY-01", Severity.WARNING, title, evidence=evidence)
    result = dataclasses.replace(healthy(site), diagnosis=diagnosis(root))
    output = render_nagios(result, thresholds=Thresholds())
    check_guidelines(output)
    assert len(output.splitlines()) == len(output.split("\n")) - 1  # no stray line breaks
    unknown = render_nagios_unknown(site, message, 1.0, hint=message)
    check_guidelines(unknown)
    assert len(unknown.splitlines()) == 2
