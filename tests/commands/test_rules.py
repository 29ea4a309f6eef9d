"""``clu-doctor rules check|show|list|observations``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.resources import rules_dir
from tests.commands.helpers import invoke


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(rules_dir(), copy)
    return copy


def test_bundled_rules_check_ok() -> None:
    result = invoke("rules", "check")
    assert result.code == 0
    rulebook = load_rulebook()
    assert f"{len(rulebook.trees)} trees" in result.stdout
    assert "cases pass" in result.stdout


def test_check_reports_every_problem_in_every_file(rules_copy: Path) -> None:
    usb = rules_copy / "trees" / "20-usb-leds.yaml"
    usb.write_text(usb.read_text("utf-8").replace("remedy:", "remedys:", 1), "utf-8")
    cloud = rules_copy / "trees" / "30-cloud.yaml"
    cloud.write_text(cloud.read_text("utf-8") + "\ntree: again\n", "utf-8")
    result = invoke("rules", "check", str(rules_copy))
    assert result.code == 3
    assert f"{usb}:" in result.stdout and "remedys" in result.stdout
    assert f"{cloud}:" in result.stdout and "duplicate key 'tree'" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith(f"in {rules_copy}")


def test_check_runs_the_trees_own_cases(rules_copy: Path) -> None:
    clu = rules_copy / "trees" / "10-clu-leds.yaml"
    text = clu.read_text("utf-8")
    # Make one case expect the wrong status: the rules stay valid, the case fails.
    marker = "status: critical"
    assert marker in text
    clu.write_text(text.replace(marker, "status: warning", 1), "utf-8")
    result = invoke("rules", "check", str(rules_copy), "--json")
    assert result.code == 3
    document = result.json()
    assert document["valid"] is False
    problem = document["problems"][0]
    assert problem["path"] == str(clu) and problem["line"] > 0
    assert "gives" in problem["message"] and "(warning)" in problem["expected"]


def test_check_a_missing_path() -> None:
    result = invoke("rules", "check", "/nonexistent/rules")
    assert result.code == 3
    assert "/nonexistent/rules" in result.stdout


def test_show_text_markdown_and_json() -> None:
    text = invoke("rules", "show")
    assert text.code == 0 and "ask clu.power_led" in text.stdout and "CLU-PWR-01" in text.stdout
    markdown = invoke("rules", "show", "--format", "markdown")
    assert "### Observations" in markdown.stdout
    assert "#### `CLU-PWR-01`" in markdown.stdout
    document = invoke("rules", "show", "--json").json()
    assert document["schema"] == "clu-doctor/rules"
    assert {t["id"] for t in document["trees"]} == {t.id for t in load_rulebook().trees}


def test_show_one_tree_and_an_unknown_one() -> None:
    one = invoke("rules", "show", "usb-leds")
    assert "USB-BUS-01" in one.stdout and "CLU-PWR-01 " not in one.stdout
    bad = invoke("rules", "show", "usb-ledz")
    assert bad.code == 3
    assert "no tree named usb-ledz" in bad.stderr and "usb-leds" in bad.stderr


def test_observations_list() -> None:
    result = invoke("rules", "observations")
    assert "clu.power_led" in result.stdout and "off | steady | flashing | unknown" in result.stdout
    keys = [o["key"] for o in invoke("rules", "observations", "--json").json()["observations"]]
    assert "clu.uptime_s" in keys


def test_list_names_every_finding_an_ignore_may_name() -> None:
    rulebook = load_rulebook()
    result = invoke("rules", "list")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "severity", "layer", "tree", "title"]
    assert [line.split()[0] for line in lines[1:]] == list(rulebook.findings)
    row = next(line for line in lines if line.startswith("BUS-STATION-01 "))
    assert row.split()[1:4] == ["critical", "station", "bus-reach"]
    found = invoke("rules", "list", "--json").json()["findings"]
    assert [f["id"] for f in found] == list(rulebook.findings)
    assert next(f for f in found if f["id"] == "BUS-STATION-01")["graded_by"] == (
        "grade.stations_silent"
    )


@pytest.mark.parametrize(
    ("command", "example"),
    [
        (("rules",), "clu-doctor rules observations"),
        (("rules", "observations"), "clu-doctor diagnose --observe usb.red_led=flashing"),
        (("rules", "check"), "clu-doctor rules check my-rules/"),
        (("rules", "show"), "clu-doctor rules show usb-leds"),
        (("rules", "list"), "clu-doctor rules list | grep BUS-"),
    ],
)
def test_every_rules_help_ends_with_examples(command: tuple[str, ...], example: str) -> None:
    result = invoke(*command, "--help")
    assert result.code == 0
    examples = result.stdout[result.stdout.index("Examples:") :]
    assert example in " ".join(examples.split())


def test_every_command_of_the_tool_has_examples() -> None:
    """Walk the whole command tree: a command without an examples epilog is an oversight."""
    import typer.main

    from clu_doctor.cli import app

    def missing(command: Any, path: str) -> list[str]:
        found = [] if (command.epilog or "").startswith("Examples:") else [path]
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            found += missing(sub, f"{path} {name}")
        return found

    assert missing(typer.main.get_command(app), "clu-doctor") == []


def test_the_answers_template_is_a_file_diagnose_reads(tmp_path: Path) -> None:
    template = invoke("rules", "observations", "--template")
    assert template.code == 0
    asked = [spec.key for spec in load_rulebook().vocabulary if spec.source.value == "ask"]
    assert asked and all(f"\n{key}: unknown\n" in template.stdout for key in asked)
    assert "bus.reach" not in template.stdout  # the bus answers those, not a person
    answers = tmp_path / "site-visit.yaml"
    answers.write_text(
        template.stdout.replace("clu.power_led: unknown", "clu.power_led: off").replace(
            "clu.status_led: unknown", "clu.status_led: off"
        ),
        encoding="utf-8",
    )
    result = invoke("diagnose", "--answers", str(answers), "--no-input", "--json")
    assert result.code == 2, result.stderr
    assert "CLU-PWR-01" in {f["id"] for f in result.json()["findings"]}
