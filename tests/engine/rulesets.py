"""A small, valid rule set to break on purpose, and helpers to read the problems back.

The loader tests start from these texts, change one thing, and assert the exact ``file:line``
and message the user would see. Lines are found by content (:func:`line_of`), so editing the
fixture does not silently shift what a test points at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.errors import FileProblemError

VOCABULARY = """\
observations:
  lamp.colour:
    type: choice
    question: What colour is the lamp?
    help: The lamp on the front.
    values:
      red: lit red
      green: lit green
    aliases:
      crimson: red
  lamp.age_s:
    type: number
    unit: s
    min: 0
    question: How long has it been on?
    help: Seconds since it came on.
  lamp.probed:
    type: choice
    source: probe
    probe: lamp.scan
    question: Did the probe see the lamp?
    help: Filled in by a probe.
    values:
      seen: the probe saw it
      unseen: the probe did not
probes:
  lamp.scan:
    help: look at the lamp from afar
"""

TREE = """\
tree: lamp
title: Lamp
manual: Lamp manual §1
start: colour
nodes:
  colour:
    ask: lamp.colour
    branches:
      red: age
      green: finding:LAMP-OK-01
    unknown: finding:LAMP-ASK-01
  age:
    ask: lamp.age_s
    ranges:
      - below: 60
        goto: finding:LAMP-OK-01
      - from: 60
        goto: finding:LAMP-OLD-01
    unknown: finding:LAMP-ASK-01
findings:
  LAMP-OK-01:
    severity: ok
    layer: clu-boot
    title: Lamp fine
    cause: It is fine.
    remedy: [Nothing to do.]
    verify: It stays fine.
    manual: Lamp manual §1
  LAMP-OLD-01:
    severity: critical
    layer: bus
    title: Lamp red too long
    cause: Red for a minute or more.
    remedy:
      - Replace the lamp.
    verify: After the fix, expect green.
    confirm_with: lamp.scan
    manual: Lamp manual §2
  LAMP-ASK-01:
    severity: unknown
    layer: power
    title: Lamp not looked at
    cause: Nobody looked.
    remedy: [Look at the lamp.]
    look_at: [lamp.colour]
    manual: Lamp manual §1
cases:
  - name: green lamp
    observe: {lamp.colour: green}
    expect:
      findings: [LAMP-OK-01]
      status: ok
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


def edit(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence of ``old`` (so a fixture change cannot go unnoticed)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


RulesFactory = Callable[..., Path]
"""The ``make_rules`` fixture (conftest.py): writes a rules directory, returns its path."""


def problems_of(path: Path) -> list[str]:
    """Load ``path`` expecting failure; every problem as the user sees it."""
    with pytest.raises(FileProblemError) as caught:
        load_rulebook(path)
    return [str(problem) for problem in caught.value.problems]
