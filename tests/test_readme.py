"""The README keeps its promises: the two commands up front, and a current rule reference."""

from __future__ import annotations

import re
from pathlib import Path

from clu_doctor.engine import load_rulebook
from clu_doctor.report.rules import render_markdown

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None and README.index("```sh") < README.index("## ")
    lines = block.group(1).splitlines()
    assert lines[0].startswith("# run the main job")
    assert "pip install" in lines[1] and "clu-doctor " in lines[1]
    assert lines[2] == "# run the tests"
    assert "pip install" in lines[3] and "pytest" in lines[3]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "# run the tests" in ci and "eval" in ci


def test_rule_reference_is_current() -> None:
    rulebook = load_rulebook()
    expected = render_markdown(rulebook, list(rulebook.trees))
    begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
    current = README[README.index(begin) + len(begin) : README.index(end)]
    assert current == expected, "README rule reference is stale: run scripts/update-readme"
