"""Broken rule sets must fail with every problem, each at the right ``file:line``, said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.errors import FileProblemError
from tests.engine.rulesets import TREE, VOCABULARY, RulesFactory, edit, line_of, problems_of


def tree_path(root: Path) -> Path:
    return root / "trees" / "10-lamp.yaml"


def test_the_fixture_itself_is_valid(make_rules: RulesFactory) -> None:
    rulebook = load_rulebook(make_rules())
    assert [tree.id for tree in rulebook.trees] == ["lamp"]
    assert list(rulebook.findings) == ["LAMP-OK-01", "LAMP-OLD-01", "LAMP-ASK-01"]


def test_malformed_yaml_is_located(make_rules: RulesFactory) -> None:
    text = edit(TREE, "start: colour", "start: [colour")
    root = make_rules(tree=text)
    [problem] = problems_of(root)
    assert problem.startswith(f"{tree_path(root)}:{line_of(text, 'nodes:')}:")
    assert "not valid YAML" in problem


def test_duplicate_key_names_both_lines(make_rules: RulesFactory) -> None:
    text = edit(
        TREE,
        "    unknown: finding:LAMP-ASK-01\n  age:",
        "    unknown: finding:LAMP-ASK-01\n  colour:",
    )
    root = make_rules(tree=text)
    [problem] = problems_of(root)
    first, second = line_of(text, "  colour:"), line_of(text, "  colour:", 2)
    assert problem == (
        f"{tree_path(root)}:{second}:3: duplicate key 'colour' (first given on line {first})"
    )


def test_dangling_goto_suggests_the_node(make_rules: RulesFactory) -> None:
    text = edit(TREE, "red: age", "red: agee")
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'red: agee')}: branch 'red' of node 'colour' goes to node "
        "'agee', which does not exist; did you mean 'age'? "
        "(expected a node of this tree, 'finding:ID', 'see:ID' or 'end')",
        f"{path}:{line_of(text, '  age:')}: node 'age' is not reachable from the start node "
        "'colour' (expected a branch leading to it, or remove it)",
    ]


def test_goto_to_an_undeclared_finding(make_rules: RulesFactory) -> None:
    text = edit(TREE, "green: finding:LAMP-OK-01", "green: finding:LAMP-OK-02")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'LAMP-OK-02')}: branch 'green' of node 'colour' goes "
        "to finding LAMP-OK-02, which this tree does not declare; did you mean 'LAMP-OK-01'? "
        "(expected a finding declared under 'findings:' in the same file)"
    ]


def test_unreachable_node(make_rules: RulesFactory) -> None:
    text = edit(
        TREE, "findings:\n", "  spare:\n    ask: lamp.colour\n    otherwise: end\nfindings:\n"
    )
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'spare:')}: node 'spare' is not reachable from the "
        "start node 'colour' (expected a branch leading to it, or remove it)"
    ]


def test_a_loop_is_rejected(make_rules: RulesFactory) -> None:
    text = edit(TREE, "goto: finding:LAMP-OLD-01", "goto: colour")
    text = edit(text, "  LAMP-OLD-01:", "  LAMP-OLD-01:")  # still declared, now unused
    root = make_rules(tree=text)
    problems = problems_of(root)
    assert (
        f"{tree_path(root)}:{line_of(text, 'goto: colour')}: the tree loops: colour → age → "
        "colour (expected every path to end at a finding or 'end')"
    ) in problems
    assert any("finding LAMP-OLD-01 is not the target of any branch" in p for p in problems)


def test_unhandled_value(make_rules: RulesFactory) -> None:
    text = edit(TREE, "      green: finding:LAMP-OK-01\n", "")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, '  colour:')}: node 'colour' does not handle "
        "lamp.colour = green (expected a branch for every value (red, green) or 'otherwise')"
    ]


def test_unhandled_unknown(make_rules: RulesFactory) -> None:
    text = edit(TREE, "    unknown: finding:LAMP-ASK-01\n  age:", "  age:")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, '  colour:')}: node 'colour' does not say where "
        "lamp.colour = unknown (\"don't know\") goes (expected an 'unknown:' target or "
        "'otherwise')"
    ]


def test_otherwise_covers_values_and_unknown(make_rules: RulesFactory) -> None:
    text = edit(
        TREE,
        "      green: finding:LAMP-OK-01\n    unknown: finding:LAMP-ASK-01\n",
        "    otherwise: finding:LAMP-ASK-01\n",
    )
    text = edit(text, "goto: finding:LAMP-OK-01", "goto: finding:LAMP-OK-01")
    assert load_rulebook(make_rules(tree=text)).trees[0].nodes["colour"].otherwise is not None


def test_a_branch_for_a_value_that_does_not_exist(make_rules: RulesFactory) -> None:
    text = edit(
        TREE,
        "      green: finding:LAMP-OK-01\n",
        "      green: finding:LAMP-OK-01\n      blue: finding:LAMP-OK-01\n",
    )
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'branches:')}: node 'colour' has a branch for "
        "'blue', which is not a value of lamp.colour (expected one of: red, green)"
    ]


def test_ranges_with_a_gap(make_rules: RulesFactory) -> None:
    text = edit(TREE, "- from: 60", "- from: 90")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'from: 90')}: ranges of node 'age' leave lamp.age_s "
        "from 60 to 90 unhandled (expected range 2 to start with 'from: 60')"
    ]


def test_ranges_that_overlap(make_rules: RulesFactory) -> None:
    text = edit(TREE, "- from: 60", "- from: 30")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'from: 30')}: ranges of node 'age' overlap from 30 "
        "to 60 (expected range 2 to start with 'from: 60')"
    ]


def test_ranges_must_be_open_at_the_top(make_rules: RulesFactory) -> None:
    text = edit(TREE, "      - from: 60\n", "      - from: 60\n        below: 600\n")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'from: 60')}: ranges of node 'age' stop at 600; "
        "larger values of lamp.age_s are unhandled (expected the last range without 'below')"
    ]


def test_ranges_must_start_at_the_minimum(make_rules: RulesFactory) -> None:
    text = edit(TREE, "      - below: 60\n", "      - from: 10\n        below: 60\n")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'from: 10')}: ranges of node 'age' leave lamp.age_s "
        "from 0 to 10 unhandled (expected range 1 to start with 'from: 0')"
    ]


def test_branches_on_a_number(make_rules: RulesFactory) -> None:
    text = edit(TREE, "    ask: lamp.colour\n", "    ask: lamp.age_s\n")
    root = make_rules(tree=text)
    # Problems come sorted by line: the node's own line before its 'branches:' line.
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, '  colour:')}: node 'colour' has no 'ranges' for "
        "the number lamp.age_s",
        f"{tree_path(root)}:{line_of(text, 'branches:')}: node 'colour' gives 'branches' but "
        "lamp.age_s is a number (expected 'ranges' covering every value, and 'unknown')",
    ]


def test_unknown_observation(make_rules: RulesFactory) -> None:
    text = edit(TREE, "ask: lamp.colour", "ask: lamp.color")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'ask: lamp.color')}: node 'colour' asks "
        "'lamp.color', which is not in the vocabulary; did you mean 'lamp.colour'? "
        "(expected an observation declared in observations.yaml)"
    ]


def test_unknown_key_typo_is_an_error_naming_allowed_keys(make_rules: RulesFactory) -> None:
    text = edit(
        TREE, "    remedy:\n      - Replace the lamp.", "    remedys:\n      - Replace the lamp."
    )
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'remedys:')}: unknown key 'remedys' in finding LAMP-OLD-01; "
        "did you mean 'remedy'? (expected one of: severity, layer, title, cause, remedy, "
        "manual, verify, escalate, confirm_with, explained_by, look_at, graded_by, "
        "partial_title, wait, clears)",
        f"{path}:{line_of(text, 'LAMP-OLD-01:')}: finding LAMP-OLD-01 has no 'remedy' "
        "(expected a 'remedy' key)",
    ]


def test_unknown_top_level_key(make_rules: RulesFactory) -> None:
    text = edit(TREE, "title: Lamp\n", "title: Lamp\ntitel: Lamp\n")
    root = make_rules(tree=text)
    [problem] = problems_of(root)
    assert problem.startswith(
        f"{tree_path(root)}:{line_of(text, 'titel:')}: unknown key 'titel' in the tree file; "
        "did you mean 'title'? (expected one of: tree, title, manual, start, nodes, findings,"
    )


def test_duplicate_finding_id_across_files(make_rules: RulesFactory) -> None:
    other = edit(TREE, "tree: lamp", "tree: lamp-two")
    root = make_rules(extra={"20-other.yaml": other})
    path, other_path = tree_path(root), root / "trees" / "20-other.yaml"
    problems = problems_of(root)
    for fid in ["LAMP-OK-01", "LAMP-OLD-01", "LAMP-ASK-01"]:
        line = line_of(TREE, f"  {fid}:")
        assert (
            f"{other_path}:{line}: finding id {fid} is already declared at {path}:{line} "
            "(expected finding ids unique across all trees)"
        ) in problems
    assert len(problems) == 3


def test_duplicate_tree_id(make_rules: RulesFactory) -> None:
    other = TREE.replace("LAMP-", "LIGHT-")
    root = make_rules(extra={"20-other.yaml": other})
    assert problems_of(root) == [
        f"{root / 'trees' / '20-other.yaml'}:1: tree id 'lamp' is already used at "
        f"{tree_path(root)}:1"
    ]


def test_missing_remedy_steps(make_rules: RulesFactory) -> None:
    text = edit(TREE, "remedy: [Nothing to do.]", "remedy: []")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'remedy: []')}: finding LAMP-OK-01 has no remedy "
        "steps (expected at least one step)"
    ]


def test_missing_verify_and_look_at(make_rules: RulesFactory) -> None:
    text = edit(TREE, "    verify: After the fix, expect green.\n", "")
    text = edit(text, "    look_at: [lamp.colour]\n", "")
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'LAMP-OLD-01:')}: finding LAMP-OLD-01 has no 'verify' "
        "(expected what to expect after the fix ('after the fix, expect ...'))",
        f"{path}:{line_of(text, 'LAMP-ASK-01:')}: finding LAMP-ASK-01 has severity unknown but "
        "no 'look_at' (expected the observations the technician should look at)",
    ]


def test_bad_severity_and_layer_list_the_choices(make_rules: RulesFactory) -> None:
    text = edit(TREE, "severity: critical", "severity: fatal")
    text = edit(text, "layer: bus", "layer: wires")
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'fatal')}: 'severity' of finding LAMP-OLD-01 is 'fatal' "
        "(expected one of: ok, info, warning, critical, unknown)",
        f"{path}:{line_of(text, 'wires')}: 'layer' of finding LAMP-OLD-01 is 'wires' "
        "(expected one of: adapter, power, clu-boot, usb-interface, bus, station, "
        "configuration, backend)",
    ]


def test_bad_finding_id_shape(make_rules: RulesFactory) -> None:
    text = edit(TREE, "  LAMP-OK-01:\n", "  Lamp-ok-1:\n")
    root = make_rules(tree=text)
    assert (
        f"{tree_path(root)}:{line_of(text, 'Lamp-ok-1:')}: finding id 'Lamp-ok-1' is not a "
        "valid name (expected upper-case words and a two-digit number, e.g. CLU-PWR-01)"
    ) in problems_of(root)


def test_tree_without_cases(make_rules: RulesFactory) -> None:
    text = TREE[: TREE.index("cases:")] + "cases: []\n"
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'cases:')}: 'cases' must be a non-empty list "
        "(expected at least one test case per tree)"
    ]


def test_explained_by_must_point_at_a_layer_it_depends_on(make_rules: RulesFactory) -> None:
    # LAMP-ASK-01 sits at 'power', which depends on nothing (layers.yaml); LAMP-OK-01 at
    # 'clu-boot' depends on power, not the other way round, so it cannot explain it.
    text = edit(
        TREE,
        "    look_at: [lamp.colour]\n",
        "    look_at: [lamp.colour]\n    explained_by: [LAMP-OK-01, WIRE-CUT-01]\n",
    )
    root = make_rules(tree=text)
    line = line_of(text, "explained_by")
    assert problems_of(root) == [
        f"{tree_path(root)}:{line}: finding LAMP-ASK-01 (layer power) is explained by "
        "LAMP-OK-01 (layer clu-boot), a layer that power does not depend on (expected a root "
        "cause at layer power (layers.yaml says what each layer depends on))",
        f"{tree_path(root)}:{line}: finding LAMP-ASK-01 is explained by WIRE-CUT-01, which "
        "does not exist",
    ]


def test_unknown_probe_and_look_at(make_rules: RulesFactory) -> None:
    text = edit(TREE, "confirm_with: lamp.scan", "confirm_with: lamp.scna")
    text = edit(text, "look_at: [lamp.colour]", "look_at: [lamp.color]")
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'lamp.scna')}: finding LAMP-OLD-01 is confirmed with "
        "'lamp.scna', which is not a declared probe; did you mean 'lamp.scan'? "
        "(expected one of: lamp.scan)",
        f"{path}:{line_of(text, 'look_at')}: finding LAMP-ASK-01 looks at 'lamp.color', which "
        "is not in the vocabulary; did you mean 'lamp.colour'? "
        "(expected an observation declared in observations.yaml)",
    ]


def test_graded_by_must_name_an_observation_whose_values_are_severities(
    make_rules: RulesFactory,
) -> None:
    text = edit(TREE, "    confirm_with: lamp.scan\n", "    graded_by: lamp.colour\n")
    text = edit(
        text,
        "    look_at: [lamp.colour]\n",
        "    look_at: [lamp.colour]\n    graded_by: wire.rating\n",
    )
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'graded_by: lamp.colour')}: finding LAMP-OLD-01 is graded by "
        "'lamp.colour', whose values are not severities (red, green) (expected a choice "
        "observation with values among critical, info, ok, warning)",
        f"{path}:{line_of(text, 'graded_by: wire.rating')}: finding LAMP-ASK-01 is graded by "
        "'wire.rating', which is not in the vocabulary (expected an observation declared in "
        "observations.yaml)",
    ]


def test_case_with_unknown_key_value_and_finding(make_rules: RulesFactory) -> None:
    text = edit(
        TREE,
        "    observe: {lamp.colour: green}\n",
        "    observe:\n      lamp.colour: blue\n      lamp.colur: red\n",
    )
    text = edit(text, "findings: [LAMP-OK-01]", "findings: [LAMP-OK-10]")
    root = make_rules(tree=text)
    path = tree_path(root)
    assert problems_of(root) == [
        f"{path}:{line_of(text, 'lamp.colour: blue')}: case 'green lamp': lamp.colour: 'blue' "
        "is not a known value (expected one of: red, green, unknown)",
        f"{path}:{line_of(text, 'lamp.colur')}: case 'green lamp': unknown observation "
        "'lamp.colur'; did you mean 'lamp.colour'?",
        f"{path}:{line_of(text, 'LAMP-OK-10')}: case 'green lamp' expects finding LAMP-OK-10, "
        "which does not exist; did you mean 'LAMP-OK-01'?",
    ]


def test_finding_that_no_branch_reaches(make_rules: RulesFactory) -> None:
    text = edit(TREE, "goto: finding:LAMP-OLD-01", "goto: finding:LAMP-OK-01")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'LAMP-OLD-01:')}: finding LAMP-OLD-01 is not the "
        "target of any branch (expected a branch with 'finding:LAMP-OLD-01')"
    ]


def test_bad_target_syntax(make_rules: RulesFactory) -> None:
    text = edit(TREE, "green: finding:LAMP-OK-01", "green: Finding LAMP-OK-01")
    root = make_rules(tree=text)
    assert problems_of(root) == [
        f"{tree_path(root)}:{line_of(text, 'green: Finding')}: branch 'green' of node 'colour' "
        "is 'Finding LAMP-OK-01', not a target (expected a node name, 'finding:ID', 'see:ID' or 'end')"
    ]


def test_vocabulary_problems_are_located(make_rules: RulesFactory) -> None:
    vocabulary = edit(VOCABULARY, "      crimson: red", "      crimson: scarlet")
    vocabulary = edit(vocabulary, "    unit: s\n", "    unit: s\n    values: {a: b}\n")
    root = make_rules(vocabulary=vocabulary)
    path = root / "observations.yaml"
    assert problems_of(root) == [
        f"{path}:{line_of(vocabulary, 'crimson')}: alias 'crimson' of observation 'lamp.colour' "
        "points at 'scarlet' (expected one of: red, green)",
        f"{path}:{line_of(vocabulary, 'values: {a: b}')}: unknown key 'values' in observation "
        "'lamp.age_s' (expected one of: type, question, help, source, probe, group, unit, min)",
    ]


def test_a_probe_observation_must_name_a_declared_probe(make_rules: RulesFactory) -> None:
    vocabulary = edit(VOCABULARY, "    probe: lamp.scan\n", "    probe: lamp.scna\n")
    root = make_rules(vocabulary=vocabulary)
    path = root / "observations.yaml"
    assert problems_of(root) == [
        f"{path}:{line_of(vocabulary, 'lamp.probed:')}: observation 'lamp.probed' names probe "
        "'lamp.scna', which is not declared; did you mean 'lamp.scan'? "
        "(expected a probe listed under 'probes:')",
    ]


def test_an_asked_observation_cannot_name_a_probe(make_rules: RulesFactory) -> None:
    vocabulary = edit(VOCABULARY, "    unit: s\n", "    unit: s\n    probe: lamp.scan\n")
    root = make_rules(vocabulary=vocabulary)
    path = root / "observations.yaml"
    assert problems_of(root) == [
        f"{path}:{line_of(vocabulary, 'probe: lamp.scan')}: observation 'lamp.age_s' names a "
        "probe but its source is 'ask' (expected source: probe, or no 'probe' key)",
    ]


def test_collect_all_reports_every_broken_file(make_rules: RulesFactory) -> None:
    broken_one = edit(TREE, "red: age", "red: agee")
    broken_two = edit(TREE.replace("LAMP-", "LIGHT-"), "tree: lamp", "tree: light")
    broken_two = edit(broken_two, "remedy: [Nothing to do.]", "remedies: [Nothing to do.]")
    root = make_rules(tree=broken_one, extra={"20-light.yaml": broken_two})
    with pytest.raises(FileProblemError) as caught:
        load_rulebook(root)
    files = {Path(p.location.path).name for p in caught.value.problems}
    assert files == {"10-lamp.yaml", "20-light.yaml"}
    # str() is the first problem and says how many more there are: one line for the CLI.
    assert str(caught.value).endswith(f"(and {len(caught.value.problems) - 1} more problems)")


def test_missing_vocabulary_and_trees(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [
        f"{tmp_path}: no observations.yaml in the rules directory "
        "(expected the observation vocabulary)",
        f"{tmp_path / 'trees'}: no tree files (*.yaml) (expected at least one decision tree)",
    ]


def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}: no such file or directory (expected a rules directory or tree file)"
    ]


def test_a_single_tree_file_is_checked_against_the_bundled_vocabulary(tmp_path: Path) -> None:
    text = (
        "tree: extra\ntitle: Extra\nmanual: CLU MK1 manual §17\nstart: look\nnodes:\n"
        "  look:\n    ask: clu.power_led\n    otherwise: finding:EXTRA-ONE-01\n"
        "findings:\n  EXTRA-ONE-01:\n    severity: info\n    layer: power\n    title: T\n"
        "    cause: C\n    remedy: [R]\n    verify: V\n    manual: M\n"
        "cases:\n  - name: any\n    observe: {clu.power_led: lit}\n"
        "    expect: {findings: [EXTRA-ONE-01], status: info}\n"
    )
    path = tmp_path / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    rulebook = load_rulebook(path)
    assert [tree.id for tree in rulebook.trees] == ["extra"]
    assert "usb.red_led" in rulebook.vocabulary
    broken = path.with_name("broken.yaml")
    broken.write_text(text.replace("clu.power_led", "clu.power"), encoding="utf-8")
    [ask_problem, case_problem] = problems_of(broken)
    assert ask_problem.startswith(f"{broken}:7: node 'look' asks 'clu.power', which is not")
    assert case_problem.startswith(f"{broken}:20: case 'any': unknown observation 'clu.power'")


def test_clears_names_other_layers_only(make_rules: RulesFactory) -> None:
    anchor = "  LAMP-OLD-01:\n    severity: critical\n    layer: bus\n"
    text = edit(TREE, anchor, anchor + "    clears: [usb-interface, cable, bus]\n")
    root = make_rules(tree=text)
    line = line_of(text, "clears:")
    assert problems_of(root) == [
        f"{tree_path(root)}:{line}: 'clears' of finding LAMP-OLD-01 names no layer: 'cable' "
        "(expected adapter, power, clu-boot, usb-interface, bus, station, configuration, "
        "backend)",
        f"{tree_path(root)}:{line}: 'clears' of finding LAMP-OLD-01 names its own layer 'bus' "
        "(expected another layer, which reaching this finding shows to work)",
    ]
