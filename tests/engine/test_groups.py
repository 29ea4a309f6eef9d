"""Question groups: declared in the vocabulary, asked after every other question."""

from __future__ import annotations

from clu_doctor.engine import AnswerSource, load_rulebook
from tests.engine.rulesets import VOCABULARY, RulesFactory, edit, line_of, problems_of

GROUPS = """\
groups:
  later:
    title: The back room
    question: Can you go to the back room now?
    help: The questions about what the back room shows.
"""

#: A second tree, walked after the lamp's, whose one question belongs to no group.
LATE_TREE = """\
tree: door
title: Door
manual: Door manual §1
start: door
nodes:
  door:
    ask: door.open
    branches:
      yes: finding:DOOR-OK-01
      no: finding:DOOR-OK-01
    unknown: end
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
    expect:
      findings: [DOOR-OK-01, LAMP-ASK-01]
      status: unknown
"""

DOOR = """\
  door.open:
    type: choice
    question: Is the door open?
    help: The door.
    values:
      yes: it is open
      no: it is shut
"""


def grouped_vocabulary() -> str:
    text = edit(
        VOCABULARY,
        "    question: What colour is the lamp?\n",
        "    group: later\n    question: What colour is the lamp?\n",
    )
    text = edit(text, "probes:\n", DOOR + "probes:\n")
    return text + GROUPS


def test_a_grouped_question_waits_until_nothing_else_is_left(make_rules: RulesFactory) -> None:
    rulebook = load_rulebook(
        make_rules(vocabulary=grouped_vocabulary(), extra={"20-door.yaml": LATE_TREE})
    )
    assert rulebook.vocabulary.groups["later"].title == "The back room"
    assert rulebook.vocabulary.spec("lamp.colour").group == "later"
    # tree order would ask the lamp first; its group puts it after the door
    first = rulebook.next_question({})
    assert first is not None and first.key == "door.open"
    answers = {"door.open": rulebook.vocabulary.parse("door.open", "no", AnswerSource.FLAG)}
    second = rulebook.next_question(answers)
    assert second is not None and second.key == "lamp.colour"


def test_an_undeclared_group_is_located(make_rules: RulesFactory) -> None:
    vocabulary = grouped_vocabulary().replace("group: later", "group: latr")
    root = make_rules(vocabulary=vocabulary)
    assert problems_of(root) == [
        f"{root / 'observations.yaml'}:{line_of(vocabulary, 'lamp.colour:')}: observation "
        "'lamp.colour' names group 'latr', which is not declared; did you mean 'later'? "
        "(expected a group listed under 'groups:')",
    ]


def test_a_probe_observation_has_no_group(make_rules: RulesFactory) -> None:
    vocabulary = edit(
        grouped_vocabulary(), "    probe: lamp.scan\n", "    probe: lamp.scan\n    group: later\n"
    )
    root = make_rules(vocabulary=vocabulary)
    assert problems_of(root) == [
        f"{root / 'observations.yaml'}:{line_of(vocabulary, 'group: later', 2)}: observation "
        "'lamp.probed' comes from a probe, which no person is asked for "
        "(expected 'group' only on observations with source: ask)",
    ]


def test_a_group_needs_its_question(make_rules: RulesFactory) -> None:
    vocabulary = edit(grouped_vocabulary(), "    question: Can you go to the back room now?\n", "")
    root = make_rules(vocabulary=vocabulary)
    [problem] = problems_of(root)
    assert f"observations.yaml:{line_of(vocabulary, '  later:')}:" in problem
    assert "'question'" in problem and "group 'later'" in problem


def test_the_bundled_portal_questions_are_one_group() -> None:
    rulebook = load_rulebook()
    portal = {spec.key for spec in rulebook.vocabulary if spec.group == "portal"}
    assert portal == {
        "cloud.heartbeat_timeout",
        "cloud.meter_data_missing",
        "cloud.vehicle_charging",
        "site.energy_meters",
    }
    assert "CloudCharge portal" in rulebook.vocabulary.groups["portal"].question


def test_the_cached_rulebook_keeps_the_groups() -> None:
    from clu_doctor import resources
    from clu_doctor.engine.rulebook import _load_cached

    first = _load_cached(resources.rules_dir())  # written to the cache (or read from it)
    again = _load_cached(resources.rules_dir())  # read from the cache
    assert again.vocabulary.groups == first.vocabulary.groups
    assert again.vocabulary.spec("cloud.heartbeat_timeout").group == "portal"
