"""The questionnaire's dialogue, driven line by line in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clu_doctor.engine import AnswerSource, Observation, load_rulebook
from clu_doctor.ui.questionnaire import Questionnaire

RULEBOOK = load_rulebook()


def run(
    lines: list[str], answers: dict[str, Observation] | None = None
) -> tuple[dict[str, Observation], str]:
    feed: Iterator[str] = iter(lines)
    shown: list[str] = []

    def read_line() -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    answers = {} if answers is None else answers
    Questionnaire(RULEBOOK, read_line, shown.append).run(answers)
    return answers, "".join(shown)


def test_numbers_names_aliases_and_dont_know() -> None:
    answers, text = run(["2", "blinking", "3", "off", "10m", "?", "?"])
    assert answers["clu.power_led"].value == "steady"
    assert answers["clu.status_led"].value == "flashing"
    assert answers["usb.red_led"].value == "flashing"
    assert answers["usb.green_led"].value == "off"
    assert answers["clu.uptime_s"].value == 600
    assert all(o.source is AnswerSource.QUESTIONNAIRE for o in answers.values())
    assert "[1] What does the red LED on the CLU main unit show?" in text
    assert RULEBOOK.next_question(answers) is None
    assert "USB-BUS-01" in RULEBOOK.diagnose(answers).finding_ids


def test_back_drops_the_last_answer_and_asks_again() -> None:
    answers, text = run(["1", "b", "2", "3", "3", "3", "yes", "?", "?"])
    assert answers["clu.power_led"].value == "steady"
    assert text.count("What does the red LED on the CLU main unit show?") == 2
    assert "Back one question." in text


def test_back_on_the_first_question_explains() -> None:
    _, text = run(["b", "2", "3", "3", "3", "yes", "?", "?"])
    assert "nothing to go back to" in text


def test_bad_answer_is_explained_and_asked_again() -> None:
    answers, text = run(["blue", "", "9", "2", "3", "3", "3", "yes", "?", "?"])
    assert "'blue' is not a known value" in text
    assert "Please answer" in text
    assert "'9' is not a known value" in text
    assert answers["clu.power_led"].value == "steady"


def test_help_shows_what_the_led_is() -> None:
    _, text = run(["h", "2", "3", "3", "3", "yes", "?", "?"])
    assert "power indicator" in text
    assert "steady: lit without interruption" in text


def test_already_given_answers_are_not_asked() -> None:
    given = {
        "clu.power_led": RULEBOOK.vocabulary.parse("clu.power_led", "off", AnswerSource.FLAG),
        "clu.status_led": RULEBOOK.vocabulary.parse("clu.status_led", "off", AnswerSource.FLAG),
    }
    _, text = run(["?", "?"], given)
    assert "CLU main unit show" not in text


def test_end_of_input_aborts() -> None:
    with pytest.raises(EOFError):
        run(["2"])
