"""``clu-doctor diagnose`` as a user runs it: flags, answers files, JSON, text, exit codes."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from clu_doctor.engine import Case, Severity, Tree, load_rulebook
from tests.commands.helpers import invoke

RULEBOOK = load_rulebook()
EXIT = {"ok": 0, "info": 0, "warning": 1, "critical": 2, "unknown": 3}


def observe_args(observations: dict[str, object]) -> list[str]:
    args: list[str] = []
    for key, value in observations.items():
        args += ["--observe", f"{key}={value}"]
    return args


CASES = [
    pytest.param(tree, case, id=f"{tree.id}: {case.name}")
    for tree in RULEBOOK.trees
    for case in tree.cases
]


@pytest.mark.parametrize(("tree", "case"), CASES)
def test_each_rule_case_through_the_cli(tree: Tree, case: Case) -> None:
    result = invoke("diagnose", *observe_args(dict(case.observe)), "--json", "--no-input")
    document = result.json()
    assert result.code == EXIT[case.status.value] == document["exit_code"]
    assert document["status"] == case.status.value
    reported = {}
    for root in document["findings"]:
        stack = [root]
        while stack:
            item = stack.pop()
            reported[item["id"]] = item
            stack.extend(item["consequences"])
    assert sorted(reported) == sorted(case.findings)
    for fid, item in reported.items():
        rule = RULEBOOK.findings[fid]
        grade = case.observe.get(rule.graded_by) if rule.graded_by else None
        assert item["severity"] == (grade or rule.severity.value)
        # no bus and no site: the facts a text names read as their default words
        assert item["remedy"] == [RULEBOOK.vocabulary.fill(step, {}) for step in rule.remedy]
        assert item["remedy"], f"{fid} has no remedy steps"
        assert item["manual"] == rule.manual
    assert result.stderr == ""


def test_json_document_shape() -> None:
    result = invoke(
        "diagnose", "-o", "clu.power_led=off", "-o", "clu.status_led=off", "--json", "--no-input"
    )
    document = result.json()
    assert document["schema"] == "clu-doctor/diagnosis"
    assert document["schema_version"] == 1
    assert document["tool"]["name"] == "clu-doctor"
    assert document["status"] == "critical"
    assert document["summary"].startswith("CRITICAL")
    root = document["findings"][0]
    assert root["id"] == "CLU-PWR-01"
    assert [c["id"] for c in root["consequences"]] == ["USB-CLU-01"]
    assert root["consequences"][0]["consequence_of"] == "CLU-PWR-01"
    sources = {o["key"]: o["source"] for o in document["observations"]}
    assert sources["clu.power_led"] == "flag"
    steps = [step for trace in document["trace"] for step in trace["steps"]]
    assert any(s["key"] == "clu.power_led" and s["source"] == "flag" for s in steps)


def test_text_output_ranks_root_cause_first_with_numbered_steps() -> None:
    result = invoke(
        "diagnose", "-o", "clu.power_led=off", "-o", "clu.status_led=off", "--no-input", "--why"
    )
    assert result.code == 2
    lines = result.stdout.splitlines()
    # a summary first (one line per area, the first thing to do), then the root cause
    assert lines[0] == "Summary"
    assert lines[1].split(None, 2)[:2] == ["✗", "CLU"]
    assert any(line.startswith("First: Check that the 5 V power supply") for line in lines)
    heading = next(line for line in lines if line.startswith("CRITICAL"))
    assert heading.endswith("CLU-PWR-01")
    assert any(line.strip().startswith("1. ") for line in lines)
    assert "Explained by this cause" in result.stdout
    assert "USB-CLU-01" in result.stdout
    assert "Why: the answers that led here" in result.stdout
    assert "clu.power_led = off" in result.stdout
    assert "\x1b[" not in result.stdout, "piped output must carry no colour codes"
    assert all(line == line.rstrip() for line in lines), "no trailing blanks when piped"
    assert lines[-1].startswith("Result: CRITICAL")


def test_text_output_without_why_has_no_trace() -> None:
    result = invoke("diagnose", "-o", "clu.power_led=off", "--no-input")
    assert "Why:" not in result.stdout


def test_nothing_known_is_unknown_and_says_what_to_look_at() -> None:
    result = invoke("diagnose", "--no-input")
    assert result.code == 3
    assert "UNDECIDED" in result.stdout
    assert "Look at:" in result.stdout
    assert "What does the red LED on the CLU main unit show?" in result.stdout


def test_answers_file_yaml_nested_and_flags_win(tmp_path: Path) -> None:
    answers = tmp_path / "visit.yaml"
    answers.write_text("clu:\n  power_led: off\n  status_led: off\n", encoding="utf-8")
    result = invoke("diagnose", "--answers", str(answers), "--json", "--no-input")
    assert result.json()["findings"][0]["id"] == "CLU-PWR-01"
    observed = {o["key"]: o for o in result.json()["observations"]}
    assert observed["clu.power_led"]["source"] == "answers-file"
    corrected = invoke(
        "diagnose", "-a", str(answers), "-o", "clu.power_led=steady", "--json", "--no-input"
    )
    ids = {f["id"] for f in corrected.json()["findings"]}
    assert "CLU-BOOT-02" in ids and "CLU-PWR-01" not in ids


def test_answers_file_json(tmp_path: Path) -> None:
    answers = tmp_path / "visit.json"
    answers.write_text(json.dumps({"clu.power_led": "off", "clu.status_led": "off"}))
    result = invoke("diagnose", "--answers", str(answers), "--json", "--no-input")
    assert result.code == 2


# --- bad input: one line, a location, what was expected, exit 3, no traceback ----------


def assert_one_line_error(result_code: int, stderr: str, *fragments: str) -> None:
    assert result_code == 3
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("clu-doctor: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_unknown_observation_key_suggests_the_close_one() -> None:
    result = invoke("diagnose", "-o", "clu.power_lde=off", "--no-input")
    assert_one_line_error(result.code, result.stderr, "clu.power_lde", "clu.power_led")
    assert result.stdout == ""


def test_unknown_observation_value_lists_the_expected_ones() -> None:
    result = invoke("diagnose", "-o", "clu.power_led=blue", "--no-input")
    assert_one_line_error(result.code, result.stderr, "'blue'", "off, steady, flashing")


def test_observation_without_equals_sign() -> None:
    result = invoke("diagnose", "-o", "clu.power_led", "--no-input")
    assert_one_line_error(result.code, result.stderr, "KEY=VALUE")


def test_malformed_yaml_answers_file(tmp_path: Path) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text("clu.power_led: off\nclu.status_led: [off\n", encoding="utf-8")
    result = invoke("diagnose", "-a", str(answers), "--no-input")
    assert_one_line_error(result.code, result.stderr, f"{answers}:3")


def test_duplicate_key_in_answers_file(tmp_path: Path) -> None:
    answers = tmp_path / "dup.yaml"
    answers.write_text("clu.power_led: off\nclu.power_led: steady\n", encoding="utf-8")
    result = invoke("diagnose", "-a", str(answers), "--no-input")
    assert_one_line_error(result.code, result.stderr, f"{answers}:2", "duplicate key")


def test_answers_file_that_is_neither_yaml_nor_json(tmp_path: Path) -> None:
    answers = tmp_path / "photo.jpg"
    answers.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    result = invoke("diagnose", "-a", str(answers), "--no-input")
    assert_one_line_error(result.code, result.stderr, str(answers), "UTF-8")


def test_answers_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    answers = tmp_path / "list.yaml"
    answers.write_text("- clu.power_led: off\n", encoding="utf-8")
    result = invoke("diagnose", "-a", str(answers), "--no-input")
    assert_one_line_error(result.code, result.stderr, f"{answers}:1", "mapping")


def test_missing_answers_file(tmp_path: Path) -> None:
    result = invoke("diagnose", "-a", str(tmp_path / "nope.yaml"), "--no-input")
    assert_one_line_error(result.code, result.stderr, "nope.yaml", "no such file")


def test_dangling_branch_in_rules_is_located(tmp_path: Path) -> None:
    import shutil

    from clu_doctor.resources import rules_dir

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    tree = rules / "trees" / "10-clu-leds.yaml"
    text = tree.read_text(encoding="utf-8")
    line = 1 + text[: text.index("finding:CLU-PWR-01")].count("\n")
    tree.write_text(text.replace("finding:CLU-PWR-01", "finding:CLU-PWR-99", 1), "utf-8")
    result = invoke("diagnose", "--rules", str(rules), "--no-input")
    assert result.code == 3
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert f"{tree}:{line}" in first and "CLU-PWR-99" in first


def test_usage_error_is_unknown_not_critical() -> None:
    result = invoke("diagnose", "--no-such-flag")
    assert_one_line_error(result.code, result.stderr, "--no-such-flag", "--help")


# --- every LED combination through the CLI ----------------------------------------------

LED_VALUES = ["off", "steady", "flashing", "unknown"]
LED_KEYS = ["clu.power_led", "clu.status_led", "usb.red_led", "usb.green_led"]


@pytest.mark.parametrize("uptime", ["60", "600", "unknown"])
def test_every_led_combination_decides_or_says_what_to_look_at(uptime: str) -> None:
    for values in itertools.product(LED_VALUES, repeat=4):
        args = [f"{k}={v}" for k, v in zip(LED_KEYS, values, strict=True)]
        args.append(f"clu.uptime_s={uptime}")
        result = invoke("diagnose", *[a for x in args for a in ("-o", x)], "--json", "--no-input")
        document = result.json()
        assert document["findings"], (values, uptime)
        assert result.code == document["exit_code"] == EXIT[document["status"]]
        for root in document["findings"]:
            if root["severity"] == Severity.UNKNOWN.value:
                assert root["look_at"], root["id"]
