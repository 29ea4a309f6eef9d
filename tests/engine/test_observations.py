"""Answers as a technician or the support desk types them: values, aliases, durations, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clu_doctor.engine import (
    UNKNOWN,
    AnswerSource,
    ObservationError,
    Vocabulary,
    load_answers,
    load_rulebook,
    parse_assignment,
    parse_duration,
)
from clu_doctor.errors import FileProblemError, UsageError


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return load_rulebook().vocabulary


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("off", "off"),
        ("FLASHING", "flashing"),
        ("  Steady ", "steady"),
        ("dark", "off"),
        ("lit", "steady"),
        ("on", "steady"),
        ("Blinking", "flashing"),
        ("unknown", UNKNOWN),
        ("?", UNKNOWN),
        ("dont-know", UNKNOWN),
        ("don't know", UNKNOWN),
        ("Don\u2019t know", UNKNOWN),
        ("dont_know", UNKNOWN),
    ],
)
def test_led_values_and_aliases(vocabulary: Vocabulary, raw: str, value: str) -> None:
    observation = vocabulary.parse("clu.power_led", raw, AnswerSource.QUESTIONNAIRE)
    assert observation.value == value
    assert observation.source is AnswerSource.QUESTIONNAIRE


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("5m", 300),
        ("5min", 300),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1h 30m 5s", 5405),
        ("2d", 172800),
        ("1.5m", 90),
        ("0.5", 0.5),
        (600, 600),
        (12.5, 12.5),
    ],
)
def test_uptime_durations(vocabulary: Vocabulary, raw: object, seconds: float) -> None:
    observation = vocabulary.parse("clu.uptime_s", raw, AnswerSource.FLAG)
    assert observation.value == seconds
    assert type(observation.value) is type(seconds)  # whole seconds stay ints in JSON


@pytest.mark.parametrize("raw", ["", "soon", "5 minutes ago", "m", "1x", "h1"])
def test_not_durations(raw: str) -> None:
    assert parse_duration(raw) is None


def test_bad_value_names_key_and_expected_values(vocabulary: Vocabulary) -> None:
    with pytest.raises(ObservationError) as caught:
        vocabulary.parse("clu.power_led", "blue", AnswerSource.FLAG)
    assert str(caught.value) == (
        "clu.power_led: 'blue' is not a known value "
        "(expected one of: off, steady, flashing, unknown)"
    )
    assert caught.value.hint is not None and "dark" in caught.value.hint
    assert isinstance(caught.value, UsageError)  # exit 3 in the CLI, never 2 (CRITICAL)


def test_empty_answer_is_not_dont_know(vocabulary: Vocabulary) -> None:
    # An empty answer is more likely a slip than a decision: say so instead of guessing.
    with pytest.raises(ObservationError, match=r"^clu.power_led: no value given \(expected one"):
        vocabulary.parse("clu.power_led", "  ", AnswerSource.QUESTIONNAIRE)


def test_bad_and_negative_numbers(vocabulary: Vocabulary) -> None:
    with pytest.raises(ObservationError, match=r"clu.uptime_s: 'soon' is not understood \("):
        vocabulary.parse("clu.uptime_s", "soon", AnswerSource.FLAG)
    with pytest.raises(ObservationError, match=r"'-5' is below the minimum 0"):
        vocabulary.parse("clu.uptime_s", "-5", AnswerSource.FLAG)
    with pytest.raises(ObservationError, match="is not understood"):
        vocabulary.parse("clu.uptime_s", True, AnswerSource.FLAG)


def test_unknown_key_suggests_close_matches(vocabulary: Vocabulary) -> None:
    with pytest.raises(ObservationError) as caught:
        vocabulary.parse("clu.power_lde", "off", AnswerSource.FLAG)
    assert str(caught.value) == "unknown observation 'clu.power_lde'; did you mean 'clu.power_led'?"
    assert caught.value.key == "clu.power_lde"
    with pytest.raises(ObservationError, match=r"did you mean 'clu\.power_led'"):
        vocabulary.parse("power_led", "off", AnswerSource.FLAG)


def test_parse_assignment(vocabulary: Vocabulary) -> None:
    observation = parse_assignment("clu.power_led=off", vocabulary)
    assert (observation.key, observation.value, observation.source) == (
        "clu.power_led",
        "off",
        AnswerSource.FLAG,
    )
    assert parse_assignment(" clu.uptime_s = 1h30m ", vocabulary).value == 5400
    assert parse_assignment("charging.starts=don't know", vocabulary).value == UNKNOWN


def test_the_bundled_vocabulary_understands_plain_words(tmp_path: Path) -> None:
    bundled = load_rulebook().vocabulary
    assert parse_assignment("usb.green_led=lit", bundled).value == "steady"
    path = tmp_path / "answers.yaml"
    path.write_text("usb: {green_led: blinking}\n", encoding="utf-8")
    assert load_answers(path, bundled)["usb.green_led"].value == "flashing"


def test_parse_assignment_without_equals(vocabulary: Vocabulary) -> None:
    with pytest.raises(ObservationError) as caught:
        parse_assignment("clu.power_led off", vocabulary)
    assert str(caught.value) == (
        "'clu.power_led off' is not an assignment (expected KEY=VALUE, e.g. clu.power_led=off)"
    )


def test_answers_file_yaml_with_nesting(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "clu:\n  power_led: off\n  status_led: dark\n  uptime_s: 10m\n"
        "usb.red_led: blinking\ncharging.starts: no\n",
        encoding="utf-8",
    )
    answers = load_answers(path, vocabulary)
    assert {key: o.value for key, o in answers.items()} == {
        "clu.power_led": "off",
        "clu.status_led": "off",
        "clu.uptime_s": 600,
        "usb.red_led": "flashing",
        "charging.starts": "no",
    }
    assert answers["clu.status_led"].source is AnswerSource.ANSWERS_FILE
    assert answers["clu.status_led"].detail == f"{path}:3"


def test_answers_file_json(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps({"clu": {"power_led": "steady"}, "charging.starts": False, "clu.uptime_s": 90}),
        encoding="utf-8",
    )
    answers = load_answers(path, vocabulary)
    assert answers["clu.power_led"].value == "steady"
    assert answers["charging.starts"].value == "no"
    assert answers["clu.uptime_s"].value == 90


def test_answers_file_reports_every_bad_entry(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "clu.power_led: blue\nclu.powr_led: off\nclu:\n  power_led: off\nclu.uptime_s:\n",
        encoding="utf-8",
    )
    with pytest.raises(FileProblemError) as caught:
        load_answers(path, vocabulary)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: clu.power_led: 'blue' is not a known value "
        "(expected one of: off, steady, flashing, unknown)",
        f"{path}:2: unknown observation 'clu.powr_led'; did you mean 'clu.power_led'?",
        f"{path}:4: 'clu.power_led' is given twice (first on line 1)",
        f"{path}:5: clu.uptime_s: no value given (expected a number of seconds ≥ 0, "
        "or a duration like 90s, 5m, 2h, 1h30m, or unknown)",
    ]


def test_answers_file_that_is_neither_yaml_nor_json(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("clu.power_led: [off\n", encoding="utf-8")
    with pytest.raises(FileProblemError) as caught:
        load_answers(path, vocabulary)
    [problem] = caught.value.problems
    assert problem.location.path == str(path) and problem.location.line >= 1
    assert problem.message.startswith("not valid YAML")
    assert "a YAML or JSON mapping" in str(problem)


@pytest.mark.parametrize(("text", "found"), [("- off\n- on\n", "a list"), ("off\n", "text")])
def test_answers_file_that_is_not_a_mapping(
    vocabulary: Vocabulary, tmp_path: Path, text: str, found: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileProblemError) as caught:
        load_answers(path, vocabulary)
    assert len(caught.value.problems) == 1
    assert str(caught.value).startswith(f"{path}")
    assert f"the answers must be a mapping, found {found}" in str(caught.value)


def test_answers_file_unreadable(vocabulary: Vocabulary, tmp_path: Path) -> None:
    with pytest.raises(FileProblemError, match="no such file"):
        load_answers(tmp_path / "missing.yaml", vocabulary)
    with pytest.raises(FileProblemError, match="is a directory"):
        load_answers(tmp_path, vocabulary)
    binary = tmp_path / "answers.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FileProblemError, match="not UTF-8 text"):
        load_answers(binary, vocabulary)


def test_check_rejects_non_canonical_values(vocabulary: Vocabulary) -> None:
    from clu_doctor.engine import Observation

    vocabulary.check(Observation("clu.power_led", "off", AnswerSource.FLAG))
    with pytest.raises(ObservationError, match="not a canonical value"):
        vocabulary.check(Observation("clu.power_led", "dark", AnswerSource.FLAG))
