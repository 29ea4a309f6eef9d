"""The questionnaire's dialogue, driven line by line in-process."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from clu_doctor.engine import AnswerSource, Observation, load_rulebook
from clu_doctor.ui.questionnaire import Questionnaire, Quit

RULEBOOK = load_rulebook()
#: CLU fine, USB interface both blinking, charging not tried: what a working site shows.
WORKING = ["2", "3", "3", "3", "?"]
SKIP_PORTAL = "2"


def run(
    lines: list[str],
    answers: dict[str, Observation] | None = None,
    before: Mapping[str, Observation] | None = None,
) -> tuple[dict[str, Observation], str]:
    feed: Iterator[str] = iter(lines)
    shown: list[str] = []

    def read_line() -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    answers = {} if answers is None else answers
    Questionnaire(RULEBOOK, read_line, shown.append).run(answers, before=before)
    return answers, "".join(shown)


def flag(key: str, value: str) -> Observation:
    return RULEBOOK.vocabulary.parse(key, value, AnswerSource.FLAG)


def test_numbers_names_aliases_and_dont_know() -> None:
    answers, text = run(["2", "blinking", "3", "off", "10m", "1", "?"])
    assert answers["clu.power_led"].value == "steady"
    assert answers["clu.status_led"].value == "flashing"
    assert answers["usb.red_led"].value == "flashing"
    assert answers["usb.green_led"].value == "off"
    assert answers["clu.uptime_s"].value == 600
    assert answers["cloud.heartbeat_timeout"].value == "unknown"
    assert all(o.source is AnswerSource.QUESTIONNAIRE for o in answers.values())
    assert "[1 of about 5] What does the red LED on the CLU main unit show?" in text
    assert RULEBOOK.next_question(answers) is None
    assert "USB-BUS-01" in RULEBOOK.diagnose(answers).finding_ids


def test_each_question_says_how_many_are_likely_to_come() -> None:
    _, text = run([*WORKING, "1", "2", "2"])
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert [line.partition("]")[0] + "]" for line in lines] == [
        "[1 of about 5]",  # a dark CLU ends it early, a running one asks on
        "[2 of about 5]",
        "[3 of about 6]",  # the CLU runs: the USB interface is asked next
        "[4 of about 7]",
        "[5 of about 7]",  # charging, then up to four portal questions
        "[CloudCharge portal: about 2 questions]",
        "[6 of about 7]",
        "[7 of about 8]",  # meter readings missing would ask on
    ]


def test_the_last_question_is_counted_exactly() -> None:
    given = {"cloud.heartbeat_timeout": flag("cloud.heartbeat_timeout", "yes")}
    _, text = run(["2", "3", "3", "3", "?"], given)
    assert (
        "[5 of 5] With a vehicle connected to a charge point on this CLU, does charging start?"
        in text
    )


def test_back_drops_the_last_answer_and_shows_it_again() -> None:
    answers, text = run(["1", "b", "2", "3", "3", "3", "yes", SKIP_PORTAL])
    assert answers["clu.power_led"].value == "steady"
    assert text.count("What does the red LED on the CLU main unit show?") == 2
    assert "Back one question." in text
    assert "Before: 1 off. Enter keeps it." in text


def test_enter_keeps_the_answer_given_before_going_back() -> None:
    answers, text = run(["2", "3", "b", "", "3", "3", "yes", SKIP_PORTAL])
    assert answers["clu.status_led"].value == "flashing"
    assert answers["clu.status_led"].source is AnswerSource.QUESTIONNAIRE
    assert "Before: 3 flashing. Enter keeps it." in text


def test_back_on_the_first_question_explains() -> None:
    _, text = run(["b", *WORKING, SKIP_PORTAL])
    assert "nothing to go back to" in text


def test_bad_answers_name_what_can_be_typed() -> None:
    answers, text = run(["blue", "", "9", "2", "3", "3", "3", "2", SKIP_PORTAL])
    hint = "Type 1, 2 or 3 (off, steady, flashing), or ? if you don't know."
    assert f"'blue' is not one of the answers. {hint}" in text
    assert "Please answer: type 1, 2 or 3 (off, steady, flashing)" in text
    assert f"There is no answer 9. {hint}" in text
    assert "clu.power_led" not in text  # no internal keys for a person
    assert answers["clu.power_led"].value == "steady"
    assert answers["charging.starts"].value == "no"


def test_a_bad_time_names_what_can_be_typed() -> None:
    _, text = run(["2", "3", "3", "1", "soon", "-5", "90s", SKIP_PORTAL])
    hint = "Type seconds (e.g. 90) or a duration like 5m, 2h or 1h30m, or ? if you don't know."
    assert f"'soon' is not a time. {hint}" in text
    assert f"-5 is less than 0. {hint}" in text


def test_help_shows_what_the_led_is_and_what_to_type() -> None:
    _, text = run(["h", *WORKING, SKIP_PORTAL])
    assert "power indicator" in text
    assert "steady: lit without interruption" in text
    assert (
        "Type 1, 2 or 3 (off, steady, flashing), or ? if you don't know; b = back, q = quit."
        in text
    )


def test_already_given_answers_are_not_asked() -> None:
    given = {
        "clu.power_led": flag("clu.power_led", "off"),
        "clu.status_led": flag("clu.status_led", "off"),
    }
    _, text = run([SKIP_PORTAL], given)
    assert "CLU main unit show" not in text


@pytest.mark.parametrize("word", ["q", "quit", "Q", "exit"])
def test_q_leaves(word: str) -> None:
    with pytest.raises(Quit):
        run(["2", word])


def test_q_leaves_the_portal_offer_too() -> None:
    with pytest.raises(Quit):
        run([*WORKING, "q"])


def test_end_of_input_aborts() -> None:
    with pytest.raises(EOFError):
        run(["2"])


# --- the portal questions: last, and skippable as a group -----------------------------------


def test_portal_questions_come_after_every_other_question() -> None:
    _, text = run([*WORKING, "1", "no", "no"])
    order = [
        text.index("red LED on the CLU main unit"),
        text.index("does charging start"),
        text.index("[CloudCharge portal"),
        text.index("heartbeat timeout"),
        text.index("energy-meter reading"),
    ]
    assert order == sorted(order)


def test_skipping_the_portal_answers_its_questions_with_dont_know() -> None:
    answers, text = run([*WORKING, SKIP_PORTAL])
    assert "heartbeat timeout" not in text
    assert "Skipped: CloudCharge portal is not judged." in text
    skipped = answers["cloud.heartbeat_timeout"]
    assert (skipped.value, skipped.source) == ("unknown", AnswerSource.QUESTIONNAIRE)
    assert "skipped with the CloudCharge portal questions" in str(skipped.detail)
    assert RULEBOOK.next_question(answers) is None
    assert not any(f.startswith("CLOUD-") for f in RULEBOOK.diagnose(answers).finding_ids)


def test_back_from_the_first_portal_question_offers_the_group_again() -> None:
    answers, text = run([*WORKING, "1", "b", "b", "", "", "no", "no"])
    # offered, offered again after "b", and once more after the charging answer was kept
    assert text.count("Can you look at the CloudCharge portal for this CLU now?") == 3
    assert "Before: 1 yes. Enter keeps it." in text
    # back from the offer: the charging question again, its "don't know" kept by Enter
    assert text.count("does charging start?") == 2
    assert "Before: ? don't know. Enter keeps it." in text
    assert answers["cloud.heartbeat_timeout"].value == "no"


#: A group question whose "don't know" leads on to a question outside the group.
GROUPED_VOCABULARY = """\
observations:
  door.open:
    type: choice
    group: back_room
    question: Is the back-room door open?
    help: The door.
    values: {yes: open, no: shut}
  lamp.age_s:
    type: number
    unit: s
    min: 0
    question: How long has the lamp been on?
    help: Seconds.
groups:
  back_room:
    title: Back room
    question: Can you go to the back room now?
    help: The back room's questions.
"""
GROUPED_TREE = """\
tree: door
title: Door
manual: Door manual §1
start: door
nodes:
  door:
    ask: door.open
    branches: {yes: finding:DOOR-OK-01, no: finding:DOOR-OK-01}
    unknown: age
  age:
    ask: lamp.age_s
    ranges:
      - {below: 60, goto: finding:DOOR-OK-01}
      - {from: 60, goto: finding:DOOR-OK-01}
    unknown: finding:DOOR-OK-01
findings:
  DOOR-OK-01:
    severity: ok
    layer: backend
    title: Door looked at
    cause: Someone looked.
    remedy: [Nothing to do.]
    verify: It stays so.
    manual: Door manual §1
cases:
  - name: door open
    observe: {door.open: yes}
    expect: {findings: [DOOR-OK-01], status: ok}
"""


def test_going_back_over_a_skipped_group_undoes_the_skip(tmp_path: Path) -> None:
    (tmp_path / "trees").mkdir()
    (tmp_path / "observations.yaml").write_text(GROUPED_VOCABULARY, encoding="utf-8")
    (tmp_path / "trees" / "10-door.yaml").write_text(GROUPED_TREE, encoding="utf-8")
    rulebook = load_rulebook(tmp_path)
    feed = iter(["2", "b", "", "b", "1", "yes"])
    shown: list[str] = []
    answers: dict[str, Observation] = {}
    Questionnaire(rulebook, lambda: next(feed), shown.append).run(answers)
    text = "".join(shown)
    # skipped: the door counts as don't know, so the lamp's age is asked; back, Enter keeps
    # the skip, back again, and this time the door is asked
    assert text.count("[Back room: 1 question] Can you go to the back room now?") == 3
    assert "Before: 2 skip. Enter keeps it." in text
    assert text.count("How long has the lamp been on?") == 2
    assert answers == {
        "door.open": Observation("door.open", "yes", AnswerSource.QUESTIONNAIRE),
    }


def test_a_portal_answer_given_by_flag_is_not_offered_again() -> None:
    given = {"cloud.heartbeat_timeout": flag("cloud.heartbeat_timeout", "yes")}
    answers, text = run(WORKING, given)
    assert "CloudCharge portal" not in text
    assert answers["cloud.heartbeat_timeout"].source is AnswerSource.FLAG


# --- asked again after waiting ----------------------------------------------------------------


def test_earlier_answers_are_shown_and_enter_keeps_them() -> None:
    before = {
        "clu.power_led": flag("clu.power_led", "steady"),
        "clu.status_led": flag("clu.status_led", "flashing"),
        "usb.red_led": flag("usb.red_led", "off"),
        "usb.green_led": flag("usb.green_led", "off"),
    }
    answers, text = run(["", "", "3", "3", "yes", SKIP_PORTAL], before=before)
    assert text.startswith("Look again. Enter keeps what you answered before")
    assert "Before: 2 steady. Enter keeps it." in text
    assert "Before: 1 off. Enter keeps it." in text
    assert answers["clu.power_led"].value == "steady"
    assert answers["clu.power_led"].source is AnswerSource.QUESTIONNAIRE
    assert answers["usb.red_led"].value == "flashing"
