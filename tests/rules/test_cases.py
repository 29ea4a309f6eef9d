"""Every case of every bundled tree is a named test; meta-tests keep the rulebook complete."""

from __future__ import annotations

import re

import pytest

from clu_doctor.engine import Case, Severity, Tree, load_rulebook

RULEBOOK = load_rulebook()
CASES = [
    pytest.param(tree, case, id=f"{tree.id}: {case.name}")
    for tree in RULEBOOK.trees
    for case in tree.cases
]


@pytest.mark.parametrize(("tree", "case"), CASES)
def test_case(tree: Tree, case: Case) -> None:
    diagnosis = RULEBOOK.run_case(case)
    assert sorted(diagnosis.finding_ids) == sorted(case.findings), tree.path
    assert diagnosis.status is case.status
    for reported in diagnosis.all_findings():
        assert reported.finding.remedy, f"{reported.id} has no remedy steps"


def test_every_tree_has_cases() -> None:
    assert RULEBOOK.trees
    assert all(tree.cases for tree in RULEBOOK.trees)


def test_every_finding_is_expected_by_some_case() -> None:
    expected = {fid for tree in RULEBOOK.trees for case in tree.cases for fid in case.findings}
    assert set(RULEBOOK.findings) - expected == set()


def test_every_finding_has_remedy_and_manual_reference() -> None:
    for finding in RULEBOOK.findings.values():
        assert finding.remedy and all(step.strip() for step in finding.remedy), finding.id
        assert re.search(r"§\d+", finding.manual), f"{finding.id} cites no manual section"


def test_every_unknown_finding_says_what_to_look_at() -> None:
    for finding in RULEBOOK.findings.values():
        if finding.severity is Severity.UNKNOWN:
            assert finding.look_at, finding.id
            assert all(key in RULEBOOK.vocabulary for key in finding.look_at)


def test_every_fault_says_how_to_verify_the_fix() -> None:
    for finding in RULEBOOK.findings.values():
        if finding.severity in (Severity.WARNING, Severity.CRITICAL):
            assert finding.verify and finding.escalate, finding.id


def test_each_status_is_exercised_by_some_case() -> None:
    statuses = {case.status for tree in RULEBOOK.trees for case in tree.cases}
    assert statuses == set(Severity)


def test_every_branch_is_taken_by_some_case() -> None:
    """Every branch of every node (values, ranges, ``otherwise``, ``unknown``) is walked by
    at least one case of the rulebook, so no branch's target goes untested."""
    taken = {
        (trace.tree, step.node, step.branch)
        for tree in RULEBOOK.trees
        for case in tree.cases
        for trace in RULEBOOK.run_case(case).traces
        for step in trace.steps
    }
    untaken = [
        f"{tree.path}: node {node.name!r}, branch {label!r}"
        for tree in RULEBOOK.trees
        for node in tree.nodes.values()
        for label, _ in node.targets()
        if (tree.id, node.name, label) not in taken
    ]
    assert untaken == []
