"""The README keeps its promises: the two commands up front, and a current rule reference."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def _options_of(words: list[str]) -> set[str] | None:
    """The option names of the ``clu-doctor`` (sub)command that ``words`` name first (``None``
    when they name only a group)."""
    import typer

    from clu_doctor.cli import app

    command: Any = typer.main.get_command(app)
    for word in words:
        children = getattr(command, "commands", None)
        if children is None or word not in children:
            break
        command = children[word]
    if getattr(command, "commands", None) is not None:
        return None
    return {name for param in command.params for name in param.opts + param.secondary_opts}


def test_every_command_line_in_the_readme_uses_real_options() -> None:
    checked = 0
    for block in re.findall(r"```[a-z0-9]*\n(.*?)```", README, re.S):
        for line in block.splitlines():
            code = line.split(" #", 1)[0]
            for part in re.split(r"[|;&>]", code):
                if "clu-doctor " not in part:
                    continue
                tokens = part.split("clu-doctor ")[-1].split()
                words = [t for t in tokens if not t.startswith("-")]
                options = _options_of(words)
                if options is None:
                    continue
                used = {t.split("=")[0] for t in tokens if t.startswith("-")}
                assert used <= options | {"--help"}, (line, used - options)
                checked += 1
    assert checked >= 20
