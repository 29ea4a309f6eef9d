"""Golden output of ``clu-doctor diagnose``: the layout a technician reads, on a terminal
(styled) and piped (plain), at 80 and 120 columns, for bundled scenarios and LED-only answers.

Each file is a real run of the command line (in-process, the simulator on the virtual clock).
When the layout changes on purpose, regenerate the files and review the diff::

    CLU_DOCTOR_UPDATE_GOLDEN=1 python -m pytest tests/report/test_golden_diagnosis.py
    git diff tests/report/golden/diagnose/

(``cat`` a ``-styled-`` file in a terminal to see it as the technician does.) A missing golden
file is a failure, never silently created (unless the variable is set).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

import pytest

from clu_doctor.cli import run

GOLDEN = Path(__file__).parent / "golden" / "diagnose"
UPDATE = os.environ.get("CLU_DOCTOR_UPDATE_GOLDEN") == "1"

#: Case name -> the arguments after ``clu-doctor diagnose`` (always with --no-input).
CASES: dict[str, tuple[str, ...]] = {
    "sim-cable-break": ("--sim", "cable-break"),
    "sim-duplicate-address": ("--sim", "duplicate-address"),
    "sim-station-f4": ("--sim", "station-f4"),
    "sim-clu-booting": ("--sim", "clu-booting"),
    "led-no-power": ("-o", "clu.power_led=off", "-o", "clu.status_led=off"),
    "led-usb-no-answers": (
        "-o",
        "clu.power_led=steady",
        "-o",
        "clu.status_led=flashing",
        "-o",
        "usb.red_led=flashing",
        "-o",
        "usb.green_led=off",
        "-o",
        "clu.uptime_s=10m",
    ),
    "led-nothing-known": (),
}
MODES = {"plain": False, "styled": True}
WIDTHS = (80, 120)


class _Stream(io.StringIO):
    """stdout as the command sees it: a terminal or a pipe."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def diagnose(args: tuple[str, ...], *, styled: bool, width: int) -> tuple[int, str]:
    """Run ``clu-doctor diagnose ARGS --no-input`` with stdout a terminal (or a pipe) of
    ``width`` columns; the exit code and what it printed."""
    out = _Stream(styled)
    stdin = sys.stdin
    sys.stdin = _Stream(False)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = run(["diagnose", *args, "--no-input"])
    finally:
        sys.stdin = stdin
    return code, out.getvalue()


@pytest.fixture
def terminal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same colours and widths on every machine: a colour terminal, no NO_COLOR."""
    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "CLU_DOCTOR_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


PARAMS = [(case, mode, width) for case in sorted(CASES) for mode in MODES for width in WIDTHS]


@pytest.mark.usefixtures("terminal_environment")
@pytest.mark.parametrize(("case", "mode", "width"), PARAMS)
def test_diagnose_output_matches_its_golden_file(
    case: str, mode: str, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    _, produced = diagnose(CASES[case], styled=MODES[mode], width=width)
    path = GOLDEN / f"{case}-{mode}-{width}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(produced, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}; set CLU_DOCTOR_UPDATE_GOLDEN=1 to create it"
    assert produced == path.read_text(encoding="utf-8")


def test_every_golden_diagnosis_has_a_case() -> None:
    expected = {f"{case}-{mode}-{width}" for case, mode, width in PARAMS}
    assert {p.stem for p in GOLDEN.glob("*.txt")} == expected


def test_piped_output_is_the_terminal_output_without_styles_and_fits_its_width() -> None:
    for case, _, width in PARAMS:
        plain = (GOLDEN / f"{case}-plain-{width}.txt").read_text(encoding="utf-8")
        styled = (GOLDEN / f"{case}-styled-{width}.txt").read_text(encoding="utf-8")
        assert "\x1b[" not in plain, case
        assert "\x1b[" in styled, case
        assert all(len(line) <= width for line in plain.splitlines()), (case, width)
        assert all(line == line.rstrip() for line in plain.splitlines()), (case, width)
        assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == plain, (case, width)
