"""Another language as a shell runs it: chosen by the locale, the help, piped text, every
command that shows a diagnosis."""

from __future__ import annotations

import pytest

from clu_doctor.engine import load_rulebook
from tests.commands.helpers import invoke_subprocess

SWEDISH = {"CLU_DOCTOR_LANG": "", "LANG": "sv_SE.UTF-8"}


def test_the_locale_chooses_the_help_language() -> None:
    result = invoke_subprocess("diagnose", "--help", env={**SWEDISH, "COLUMNS": "100"})
    assert result.code == 0
    assert "Diagnostisera" in result.stdout  # the command's own help
    assert "Alternativ" in result.stdout  # the panel typer draws
    assert "--observe" in result.stdout  # flags stay flags


def test_piped_text_in_swedish_with_swedish_answers() -> None:
    result = invoke_subprocess(
        "diagnose",
        "--no-input",
        "-o",
        "clu.power_led=släckt",
        "-o",
        "clu.status_led=släckt",
        env=SWEDISH,
    )
    assert result.code == 2
    assert load_rulebook(language="sv").findings["CLU-PWR-01"].title in result.stdout
    assert "\x1b[" not in result.stdout
    assert "What to do" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("listen", "--sim", "cable-break", "--seconds", "3"),
        ("scan", "--sim", "duplicate-address"),
        ("check", "--sim", "cable-break"),
        ("explain", "BUS-BREAK-01"),
        ("rules", "observations"),
    ],
)
def test_every_command_runs_in_finnish(args: tuple[str, ...]) -> None:
    result = invoke_subprocess("--lang", "fi", *args, timeout=120)
    assert result.code in (0, 1, 2, 3), result.stderr
    assert "Traceback" not in result.stderr
    finnish = load_rulebook(language="fi")
    titles = [finding.title.split("{")[0][:25] for finding in finnish.findings.values()]
    questions = [spec.question[:25] for spec in finnish.vocabulary]
    assert any(text in result.stdout for text in titles + questions), result.stdout


def test_an_output_that_cannot_show_a_letter_shows_a_question_mark_not_an_error() -> None:
    result = invoke_subprocess(
        "--lang",
        "nb",
        "diagnose",
        "--no-input",
        "-o",
        "clu.power_led=av",
        "-o",
        "clu.status_led=av",
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert result.code == 2, result.stderr
    assert "internal error" not in result.stderr
    assert "CLU-en har ikke str?m" in result.stdout


def test_the_shell_completes_the_languages() -> None:
    env = {
        "_CLU_DOCTOR_COMPLETE": "complete_bash",
        "COMP_WORDS": "clu-doctor --lang ",
        "COMP_CWORD": "2",
    }
    assert invoke_subprocess(env=env).stdout.split() == ["en", "nb", "sv", "fi"]
