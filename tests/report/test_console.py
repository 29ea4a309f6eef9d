"""The one table of a severity's words and colours that every renderer shares."""

from __future__ import annotations

import io

import pytest

from clu_doctor.report.console import LOOKS, PLAIN_WIDTH, OutputMode, render_to_string
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


def test_piped_output_is_plain_at_a_fixed_width_unless_columns_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipe = io.StringIO()
    monkeypatch.delenv("COLUMNS", raising=False)
    assert OutputMode.for_stream(pipe) == OutputMode(styled=False, width=PLAIN_WIDTH)
    monkeypatch.setenv("COLUMNS", "80")
    assert OutputMode.for_stream(pipe) == OutputMode(styled=False, width=80)
    monkeypatch.setenv("COLUMNS", "9999")
    assert OutputMode.for_stream(pipe).width == 140
    monkeypatch.setenv("COLUMNS", "wide")
    assert OutputMode.for_stream(pipe).width == PLAIN_WIDTH


def test_a_terminal_gets_styles_at_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "120")
    assert OutputMode.for_stream(Terminal()) == OutputMode(styled=True, width=120)
    monkeypatch.setenv("TERM", "dumb")
    assert not OutputMode.for_stream(Terminal()).styled


def test_no_trailing_blanks_even_before_closing_style_codes() -> None:
    from rich.text import Text

    text = render_to_string(OutputMode(styled=True, width=40), Text("short", style="dim"))
    assert text.splitlines()[0] == "\x1b[2mshort\x1b[0m"
