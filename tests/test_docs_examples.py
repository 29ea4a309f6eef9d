"""Every output example in the README and docs/ is what the tool prints, from a real run.

An example is a fenced ``text`` block right after a marker naming the commands that make it::

    <!-- output of: clu-doctor check --sim unpowered-station --site docs/examples/garage-b.yaml -->

Commands joined by `` && `` run in order, in one fresh state directory (a history example
records its checks first); the block is the last command's standard output. They run in this
process on the virtual clock, from the repository root, piped (plain text) at 100 columns, as
`clu-doctor` would with a simulated site. What differs from run to run (the wall-clock time of
a check) is compared masked. ``CLU_DOCTOR_UPDATE_GOLDEN=1`` rewrites the blocks from the runs,
as the golden-file tests do.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands.helpers import invoke

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
UPDATE = bool(os.environ.get("CLU_DOCTOR_UPDATE_GOLDEN"))

MARKER = re.compile(
    r"^<!-- output of: (?P<commands>.+?) -->\n```text\n(?P<body>.*?)^```$", re.M | re.S
)
#: Wall-clock times of the run: ISO stamps, "2026-11-25 03:15" and "03:15 UTC".
WALL_CLOCK = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?Z?|\b\d\d:\d\d(?= UTC)")


@dataclass(frozen=True)
class Example:
    document: Path
    commands: tuple[tuple[str, ...], ...]
    body: str

    @property
    def name(self) -> str:
        return f"{self.document.name}: {' && '.join(' '.join(c) for c in self.commands)}"


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        for match in MARKER.finditer(document.read_text(encoding="utf-8")):
            commands = tuple(tuple(shlex.split(part)) for part in match["commands"].split(" && "))
            found.append(Example(document, commands, match["body"]))
    return found


EXAMPLES = examples()


def masked(text: str) -> str:
    return WALL_CLOCK.sub("<time>", text)


def run(example: Example, state: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", str(state))
    output = ""
    for command in example.commands:
        assert command[0] == "clu-doctor", f"{example.name}: an example runs clu-doctor"
        output = invoke(*command[1:]).stdout
    return output


def test_the_documents_have_examples() -> None:
    # the monitoring guide shows a Nagios check and a history; the README a diagnosis
    assert {e.document.name for e in EXAMPLES} >= {"README.md", "monitoring.md"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_the_example_is_what_the_commands_print(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    produced = run(example, tmp_path, monkeypatch)
    assert produced.strip(), f"{example.name} printed nothing"
    if UPDATE:
        text = example.document.read_text(encoding="utf-8")
        text = text.replace(f"```text\n{example.body}```", f"```text\n{produced}```", 1)
        example.document.write_text(text, encoding="utf-8")
        return
    assert masked(produced) == masked(example.body)
