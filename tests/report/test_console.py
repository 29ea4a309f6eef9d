"""The one table of a severity's words and colours that every renderer shares."""

from __future__ import annotations

from clu_doctor.report.console import LOOKS
from clu_doctor.severity import Severity


def test_every_severity_has_a_look() -> None:
    assert set(LOOKS) == set(Severity)


def test_the_status_word_is_the_monitoring_name_of_the_exit_code() -> None:
    # "CLU-DOCTOR WARNING - ..." and "(exit 1)" must never disagree.
    for severity, look in LOOKS.items():
        assert look.status == severity.exit_code.name


def test_a_finding_is_named_by_its_own_severity() -> None:
    for severity, look in LOOKS.items():
        assert look.word == severity.value.upper()
        # In a diagnosis an unknown finding is undecided (look at X), not "could not check".
        expected = "UNDECIDED" if severity is Severity.UNKNOWN else look.word
        assert look.label == expected


def test_each_severity_has_its_own_colour_and_headings_are_bold() -> None:
    assert len({look.colour for look in LOOKS.values()}) == len(LOOKS)
    assert all(look.style == f"bold {look.colour}" for look in LOOKS.values())
